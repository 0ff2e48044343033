"""Reference of the nonlinear-PK kernel (``_pkode.pyx``): the same arrays, the same segments
and sampling rules, each segment integrated by :func:`scipy.integrate.solve_ivp` (LSODA by
default), as :func:`mmmech.pk.engine.ode_concentrations` does (which it equals bit for bit: the
same right-hand side in the same order)."""

from __future__ import annotations

import math

import numpy as np

NPAR = 21
P_NC, P_K, P_V1, P_CL, P_VMAX, P_KM, P_KDES, P_CLM, P_KCL, P_GCL, P_ND, P_KA = (
    0,
    1,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
)


def openmp_enabled() -> bool:
    return False


def npar() -> int:
    return NPAR


def _rhs_factory(p: np.ndarray):
    nc, nd = int(p[P_NC]), int(p[P_ND])
    k = p[P_K : P_K + 9].reshape(3, 3)[:nc, :nc]
    ka = p[P_KA : P_KA + nd]
    size = nc + nd
    v1, cl, vmax, km, kdes = p[P_V1], p[P_CL], p[P_VMAX], p[P_KM], p[P_KDES]
    clm, kcl, gcl = p[P_CLM], p[P_KCL], p[P_GCL]

    def rhs(t, y, rate):
        dy = np.zeros(size)
        dy[:nc] = k @ y[:nc]
        if nd:
            dep = y[nc:]
            dy[nc:] = -ka * dep
            dy[0] += float(ka @ dep)
        dy[0] += rate
        if vmax > 0:
            c = y[0] / v1
            dy[0] -= vmax * math.exp(-kdes * t) * c / (km + c)
        if clm != 0:
            x = (max(t, 0.0) / kcl) ** gcl
            dy[0] -= cl * (math.exp(clm * (1.0 - x / (1.0 + x))) - 1.0) * y[0] / v1
        return dy

    return rhs, size


def solve(
    par,
    brk_ptr,
    brk_t,
    jmp_ptr,
    jmp_t,
    jmp_idx,
    jmp_amt,
    inf_ptr,
    inf_s,
    inf_e,
    inf_r,
    times,
    out,
    status,
    counts,
    rtol,
    atol,
    max_steps,
    num_threads=1,
):
    """As the kernel's ``solve``, each segment by LSODA (`num_threads` is ignored, `max_steps`
    too: LSODA's own step limit applies)."""
    from scipy.integrate import solve_ivp  # deferred: scipy.integrate costs ~0.2 s at import

    times = np.asarray(times, dtype=float)
    for pb in range(par.shape[0]):
        p = np.asarray(par[pb])
        rhs, size = _rhs_factory(p)
        v1 = p[P_V1]
        brk = brk_t[brk_ptr[pb] : brk_ptr[pb + 1]]
        js = range(jmp_ptr[pb], jmp_ptr[pb + 1])
        ins = range(inf_ptr[pb], inf_ptr[pb + 1])
        y = np.zeros(size)
        o = np.zeros(times.size)
        last = len(brk) - 2
        status[pb] = 0
        counts[pb, 0] = counts[pb, 1] = 0
        for i in range(len(brk) - 1):
            t_a, t_b = brk[i], brk[i + 1]
            for j in js:
                if jmp_t[j] == t_a:
                    y[jmp_idx[j]] += jmp_amt[j]
            rate = sum(inf_r[j] for j in ins if inf_s[j] <= t_a < inf_e[j])
            mask = (times >= t_a) & ((times < t_b) | ((i == last) & (times <= t_b)))
            if t_b <= t_a:
                o[mask] = y[0] / v1
                continue
            t_eval = np.unique(np.concatenate([times[mask], [t_b]]))
            sol = solve_ivp(
                rhs,
                (t_a, t_b),
                y,
                method="LSODA",
                t_eval=t_eval,
                rtol=rtol,
                atol=atol,
                args=(rate,),
            )
            counts[pb, 1] += sol.nfev
            if not sol.success:
                status[pb] = 1
                break
            if mask.any():
                o[mask] = sol.y[0, np.searchsorted(sol.t, times[mask])] / v1
            y = np.maximum(sol.y[:, -1], 0.0)
        out[pb] = np.maximum(o, 0.0)
