"""NumPy reference of the curve-fit kernel ``_synergy_lm.pyx`` (same signature, same algorithm).

Bounded Levenberg-Marquardt refinement of B four-parameter log-logistic curves,
``y = E0 + (Einf - E0) * expit(h * (u - c))`` with parameters ``p = (E0, Einf, c, log h)`` and
``u = log(dose / scale)``. Every step below mirrors the kernel, vectorized over the curves
(the kernel fits one curve per ``prange`` iteration):

1. Normal equations over the points with weight > 0: ``g = J^T W r``, ``A = J^T W J``.
2. A parameter is free unless fixed by the caller or sitting on a bound with the gradient
   pointing outwards (then held for this step).
3. Damping: free diagonal ``d + lam * (d + 1e-9 * dmax + 1e-12)`` (dmax: largest free
   diagonal), held parameters get a unit row with zero gradient.
4. Step by Cholesky (4x4, the kernel's loop order); a matrix that is not positive definite
   gives a zero step. The candidate is clipped into the bounds.
5. Accept when the weighted SSE drops (then ``lam *= 0.3``, else ``lam *= 8``); stop when an
   accepted step gains at most ``ftol * sse + 1e-18`` or moves the fit by at most
   ``xtol * span``, or when ``lam > 1e12`` or ``sse <= 1e-24``, or after `max_iter`
   iterations. A start with a non-finite SSE is not refined (sse = inf, iters = 0).

Sums run in NumPy's order, not the kernel's sequential one, so results agree to rounding
(differential tests: tests/test_kernel_refs.py).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["lm_fit"]

NP = 4


def _expit(t):
    e = np.exp(-np.abs(t))
    return np.where(t >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _eval(u, q, with_jac=True):
    """Model values f (B, N) and the Jacobian (B, N, 4) at parameters q (B, 4)."""
    h = np.exp(q[:, 3])[:, None]
    amp = (q[:, 1] - q[:, 0])[:, None]
    du = u - q[:, 2][:, None]
    s = _expit(h * du)
    f = q[:, 0][:, None] + amp * s
    if not with_jac:
        return f, None
    ds = s * (1.0 - s)
    jac = np.stack([1.0 - s, s, -amp * h * ds, amp * du * ds * h], axis=2)
    return f, jac


def _cholesky_solve(a, rhs):
    """Solve a x = rhs for B symmetric 4x4 matrices (the kernel's loop order); returns
    (x, ok) with ok False (and x zero) where a is not positive definite."""
    a = a.copy()
    B = a.shape[0]
    ok = np.ones(B, dtype=bool)
    for j in range(NP):
        s = a[:, j, j].copy()
        for k in range(j):
            s -= a[:, j, k] * a[:, j, k]
        ok &= s > 0.0
        a[:, j, j] = np.sqrt(np.where(s > 0.0, s, 1.0))
        for i in range(j + 1, NP):
            t = a[:, i, j].copy()
            for k in range(j):
                t -= a[:, i, k] * a[:, j, k]
            a[:, i, j] = t / a[:, j, j]
    x = np.zeros((B, NP))
    for i in range(NP):
        t = rhs[:, i].copy()
        for k in range(i):
            t -= a[:, i, k] * x[:, k]
        x[:, i] = t / a[:, i, i]
    for i in range(NP - 1, -1, -1):
        t = x[:, i].copy()
        for k in range(i + 1, NP):
            t -= a[:, k, i] * x[:, k]
        x[:, i] = t / a[:, i, i]
    return np.where(ok[:, None], x, 0.0), ok


def lm_fit(
    u: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    p: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    free: NDArray[np.uint8],
    span: NDArray[np.float64],
    max_iter: int,
    ftol: float,
    xtol: float,
    sse: NDArray[np.float64],
    iters: NDArray[np.int32],
    num_threads: int = 0,
) -> None:
    """Refine p[b] (B, 4) in place for every curve b; fill sse[b] and iters[b].

    Same arguments as the kernel (shapes (B, N), (B, 4), (B,), inputs checked by
    mmmech.synergy._fit.fit_batch); `num_threads` is accepted and ignored.
    """
    u, y, w = (np.asarray(a, dtype=np.float64) for a in (u, y, w))
    lo, hi, span = (np.asarray(a, dtype=np.float64) for a in (lo, hi, span))
    free = np.asarray(free).astype(bool)
    B = u.shape[0]
    if B == 0:
        return
    used = w != 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        q = np.array(p, dtype=np.float64)
        f, jac = _eval(u, q)
        cur = np.sum(w * (y - f) ** 2, axis=1)
        start_ok = np.isfinite(cur)
        cur = np.where(start_ok, cur, np.inf)
        lam = np.full(B, 1e-3)
        it = np.zeros(B, dtype=np.int64)
        active = start_ok & (max_iter > 0)
        while active.any():
            ia = np.nonzero(active)[0]
            it[ia] += 1
            qa, fa, ja, wa, ua = q[ia], f[ia], jac[ia], w[ia], used[ia]
            r = np.where(ua, wa * (y[ia] - fa), 0.0)
            g = np.einsum("bij,bi->bj", np.where(ua[:, :, None], ja, 0.0), r)
            wj = np.where(ua[:, :, None], wa[:, :, None] * ja, 0.0)
            a = np.einsum("bij,bik->bjk", wj, np.where(ua[:, :, None], ja, 0.0))
            fr = free[ia] & ~(((qa <= lo[ia]) & (g < 0.0)) | ((qa >= hi[ia]) & (g > 0.0)))
            d = np.diagonal(a, axis1=1, axis2=2)
            dmax = np.max(np.where(fr, d, 0.0), axis=1, initial=0.0)
            both = fr[:, :, None] & fr[:, None, :]
            m = np.where(both, a, 0.0)
            tiny = lam[ia] * (1e-9 * dmax + 1e-12)
            diag = np.where(
                fr, d + lam[ia, None] * (d + 1e-9 * dmax[:, None] + 1e-12), 1.0 + tiny[:, None]
            )
            idx = np.arange(NP)
            m[:, idx, idx] = diag
            g = np.where(fr, g, 0.0)
            step, _ = _cholesky_solve(m, g)
            qn = np.minimum(np.maximum(qa + step, lo[ia]), hi[ia])
            fn, _ = _eval(u[ia], qn, with_jac=False)
            ssen = np.sum(w[ia] * (y[ia] - fn) ** 2, axis=1)
            dfit = np.max(np.where(wa > 0.0, np.abs(fn - fa), 0.0), axis=1, initial=0.0)
            acc = np.isfinite(ssen) & (ssen < cur[ia])
            gain = np.where(acc, cur[ia] - ssen, 0.0)
            conv = (
                (acc & ((gain <= ftol * cur[ia] + 1e-18) | (dfit <= xtol * span[ia])))
                | (lam[ia] > 1e12)
                | (cur[ia] <= 1e-24)
            )
            ib = ia[acc]
            if ib.size:
                q[ib] = qn[acc]
                cur[ib] = ssen[acc]
                f[ib], jac[ib] = _eval(u[ib], q[ib])
            lam[ia] = np.where(acc, lam[ia] * 0.3, lam[ia] * 8.0)
            active[ia[conv | (it[ia] >= max_iter)]] = False
    p[start_ok] = q[start_ok]
    sse[:] = cur
    iters[:] = np.where(start_ok, it, 0)
