"""NumPy reference of the toxicity kernel ``_toxicity.pyx`` (same signatures, same results to
rounding: about 1e-13 relative).

Where the kernel carries each PK exponential as a state on the fine grid (re-anchored every
``m`` points and where doses enter), this reference sums every dose's closed form at every
grid point directly (a bolus ``a_i amt exp(-lam_i d)``, an absorbed dose
``f amt ka a_i (exp(-lam_i d) - exp(-ka d)) / (ka - lam_i)``), with ``d`` the time since the
dose after its lag: ``(k - shift) step - tlag`` when the dose lies on the grid (the shifted
unit course of :mod:`mmmech.toxicity.myelosuppression`), else ``t_k - (t_dose + tlag)``. The
stage means and the integration steps are those of
:func:`mmmech.toxicity.myelosuppression.simulate` and :func:`mmmech.toxicity.platelets.simulate`
for one patient, on Python floats. Column layout of a term's parameter row and the term kinds:
see the kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["openmp_enabled", "friberg_cycle", "platelet_cycle"]

_MAXE = 4
_SINCE, _COEF, _NEXP, _LAM, _A, _KA, _F, _TLAG = 0, 1, 2, 3, 7, 11, 14, 17
_CONC, _CONC_AUC, _KPD = 0, 1, 2


def openmp_enabled() -> bool:
    """The reference runs serial."""
    return False


def _term_conc(
    T: int,
    m: int,
    c0: float,
    hm: float,
    step: float,
    dt: NDArray[np.float64],
    dmg: NDArray[np.float64],
    drt: NDArray[np.intp],
    par: NDArray[np.float64],
) -> NDArray[np.float64]:
    """One term's concentration at the T fine points (direct superposition)."""
    nexp = int(par[_NEXP])
    lam = par[_LAM : _LAM + nexp]
    a = par[_A : _A + nexp]
    k = np.arange(T)
    fine = c0 + k * hm
    out = np.zeros(T)
    for td, amt, r in zip(dt.tolist(), dmg.tolist(), drt.tolist(), strict=True):
        if not td >= par[_SINCE]:
            continue
        tl = float(par[_TLAG + r])
        q = (td - c0) / step
        whole = float(np.rint(q))
        if abs(q - whole) <= 1e-6:
            d = (k - int(whole)) * step - tl
        else:
            d = fine - (td + tl)
        on = d >= 0
        dd = np.where(on, d, 0.0)
        ka = float(par[_KA + r])
        c = np.zeros(T)
        for lam_i, a_i in zip(lam.tolist(), a.tolist(), strict=True):
            if ka > 0.0:
                f = float(par[_F + r])
                c += f * amt * (ka * a_i / (ka - lam_i)) * (np.exp(-lam_i * dd) - np.exp(-ka * dd))
            else:
                c += amt * a_i * np.exp(-lam_i * dd)
        out += np.where(on, c, 0.0)
    return out


def _effects(
    pt: int,
    channels: int,
    T: int,
    m: int,
    c0: float,
    hm: float,
    step: float,
    dose_t: NDArray[np.float64],
    dose_mg: NDArray[np.float64],
    dose_route: NDArray[np.intp],
    term_ptr: NDArray[np.intp],
    term_idx: NDArray[np.intp],
    term_par: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    e0 = np.zeros(T)
    e1 = np.zeros(T)
    for t in range(int(term_ptr[pt]), int(term_ptr[pt + 1])):
        d0, d1, kind = (int(x) for x in term_idx[t])
        coef = float(term_par[t, _COEF])
        c = _term_conc(
            T, m, c0, hm, step, dose_t[d0:d1], dose_mg[d0:d1], dose_route[d0:d1], term_par[t]
        )
        if kind == _CONC_AUC and channels == 2:
            cng = 1000.0 * c
            e1 = e1 + cng
            e0 = e0 + coef * cng
        else:
            e0 = e0 + coef * c
    return e0, e1


def _stage_means(
    e: NDArray[np.float64], n: int, m: int, h: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """As :func:`mmmech.toxicity.myelosuppression.stage_means`."""
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (e[1:] + e[:-1]))]) * (h / m)
    a, b = m // 6, 5 * m // 6
    base = np.arange(n) * m
    return (
        (cum[base + a] - cum[base]) / (a * h / m),
        (cum[base + b] - cum[base + a]) / ((b - a) * h / m),
        (cum[base + m] - cum[base + b]) / ((m - b) * h / m),
    )


def _check_m(func: str, m: int) -> None:
    if m < 6 or m > 64 or m % 6 != 0:
        raise ValueError(f"{func}(): m must be a multiple of 6 in [6, 64], got {m}")


def friberg_cycle(
    c0: float,
    h: float,
    n: int,
    m: int,
    step: float,
    dose_t: NDArray[np.float64],
    dose_mg: NDArray[np.float64],
    dose_route: NDArray[np.intp],
    term_ptr: NDArray[np.intp],
    term_idx: NDArray[np.intp],
    term_par: NDArray[np.float64],
    scale: NDArray[np.float64],
    ktr: float,
    gamma: float,
    baseline: NDArray[np.float64],
    state: NDArray[np.float64],
    out: NDArray[np.float64],
    num_threads: int = 1,
) -> None:
    """See ``_toxicity.pyx``: the Friberg model over one cycle for every patient (row) of
    `state`; fills `out` and updates `state` in place. `num_threads` is ignored."""
    _check_m("friberg_cycle", m)
    T = n * m + 1
    hm = h / m
    hh, h6 = 0.5 * h, h / 6.0
    for pt in range(state.shape[0]):
        e, _ = _effects(
            pt, 1, T, m, c0, hm, step, dose_t, dose_mg, dose_route, term_ptr, term_idx, term_par
        )
        e = np.minimum(e * float(scale[pt]), 1.0)
        es, em, ee = (x.tolist() for x in _stage_means(e, n, m, h))
        base = float(baseline[pt])
        y = [float(v) for v in state[pt]]
        out[pt, 0] = y[4]
        for i in range(n):
            k1 = _friberg_rhs(y, es[i], ktr, gamma, base)
            k2 = _friberg_rhs(
                [a + hh * b for a, b in zip(y, k1, strict=True)], em[i], ktr, gamma, base
            )
            k3 = _friberg_rhs(
                [a + hh * b for a, b in zip(y, k2, strict=True)], em[i], ktr, gamma, base
            )
            k4 = _friberg_rhs(
                [a + h * b for a, b in zip(y, k3, strict=True)], ee[i], ktr, gamma, base
            )
            y = [
                a + h6 * (b1 + 2 * b2 + 2 * b3 + b4)
                for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4, strict=True)
            ]
            out[pt, i + 1] = y[4]
        state[pt] = y


def _friberg_rhs(y: list[float], e: float, ktr: float, gamma: float, base: float) -> list[float]:
    """The Friberg right-hand side (myelosuppression._rhs) for one patient."""
    fb = (base / max(y[4], 1e-12)) ** gamma
    return [
        ktr * y[0] * (1.0 - e) * fb - ktr * y[0],
        ktr * (y[0] - y[1]),
        ktr * (y[1] - y[2]),
        ktr * (y[2] - y[3]),
        ktr * (y[3] - y[4]),
    ]


def platelet_cycle(
    c0: float,
    h: float,
    n: int,
    m: int,
    step: float,
    dose_t: NDArray[np.float64],
    dose_mg: NDArray[np.float64],
    dose_route: NDArray[np.intp],
    term_ptr: NDArray[np.intp],
    term_idx: NDArray[np.intp],
    term_par: NDArray[np.float64],
    scale: NDArray[np.float64],
    auc_coef: NDArray[np.float64],
    kprp: float,
    kin: float,
    state: NDArray[np.float64],
    out: NDArray[np.float64],
    num_threads: int = 1,
) -> None:
    """See ``_toxicity.pyx``: the platelet model over one cycle for every patient (row) of
    `state`; fills `out` and updates `state` in place. `num_threads` is ignored."""
    _check_m("platelet_cycle", m)
    T = n * m + 1
    hm = h / m
    hh, h6 = 0.5 * h, h / 6.0
    for pt in range(state.shape[0]):
        e0, e1 = _effects(
            pt, 2, T, m, c0, hm, step, dose_t, dose_mg, dose_route, term_ptr, term_idx, term_par
        )
        s0, s1, s2 = (x.tolist() for x in _stage_means(e0, n, m, h))
        t0, t1, t2 = (x.tolist() for x in _stage_means(e1, n, m, h))
        sc, ac = float(scale[pt]), float(auc_coef[pt])
        prol, z1, z2, z3, auc = (float(v) for v in state[pt])
        out[pt, 0] = z3

        def chain(p: float, x1: float, x2: float, x3: float) -> tuple[float, float, float]:
            return kprp * (p - x1), kprp * (x1 - x2), kprp * x2 - kin * x3

        for i in range(n):
            mean0 = (s0[i] + 4.0 * s1[i] + s2[i]) / 6.0
            mean1 = (t0[i] + 4.0 * t1[i] + t2[i]) / 6.0
            auc_new = auc + h * mean1
            a = kprp + sc * (mean0 + ac * 0.5 * (auc + auc_new))
            eq = kin / a
            prol_new = eq + (prol - eq) * math.exp(-a * h)
            p_mid = 0.5 * (prol + prol_new)
            k1 = chain(prol, z1, z2, z3)
            k2 = chain(p_mid, z1 + hh * k1[0], z2 + hh * k1[1], z3 + hh * k1[2])
            k3 = chain(p_mid, z1 + hh * k2[0], z2 + hh * k2[1], z3 + hh * k2[2])
            k4 = chain(prol_new, z1 + h * k3[0], z2 + h * k3[1], z3 + h * k3[2])
            z1 = z1 + h6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            z2 = z2 + h6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
            z3 = z3 + h6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
            prol, auc = prol_new, auc_new
            out[pt, i + 1] = z3
        state[pt] = (prol, z1, z2, z3, auc)
