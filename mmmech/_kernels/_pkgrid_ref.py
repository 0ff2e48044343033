"""NumPy reference of the compiled kernel ``_pkgrid.pyx`` (same arguments, same operations in
the same order, vectorised over the rows; NumPy's ``exp`` may round an ulp away from libm's)."""

from __future__ import annotations

import numpy as np


def modal_courses(
    out: np.ndarray,
    coef: np.ndarray,
    x: np.ndarray,
    shift: np.ndarray,
    amount: np.ndarray,
    block: int,
    num_threads: int = 1,
) -> None:
    """``out[p, k] += sum_m coef[p, m] sum_{d: shift[d] <= k} amount[p, d] exp(-x[p, m] (k -
    shift[d]))`` in place, carried block by block as the kernel does (`num_threads` unused)."""
    T, M = out.shape[1], coef.shape[1]
    q_all = shift.tolist()
    tab = [
        np.exp(-(x[:, m][:, None] * np.arange(block + 1, dtype=float)[None, :])) for m in range(M)
    ]
    carry = [np.zeros(out.shape[0]) for _ in range(M)]
    d0 = 0
    for k0 in range(0, T, block):
        k1 = min(k0 + block, T)
        d1 = d0
        while d1 < len(q_all) and q_all[d1] < k1:
            d1 += 1
        for m in range(M):
            ca = coef[:, m] * carry[m]
            out[:, k0:k1] += ca[:, None] * tab[m][:, : k1 - k0]
            for d in range(d0, d1):
                q = q_all[d]
                ca = coef[:, m] * amount[:, d]
                out[:, q:k1] += ca[:, None] * tab[m][:, : k1 - q]
            ca = carry[m] * tab[m][:, block]
            for d in range(d0, d1):
                ca = ca + amount[:, d] * tab[m][:, k0 + block - q_all[d]]
            carry[m] = ca
        d0 = d1


def _gamma(lam: np.ndarray, ka: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``(exp(-lam s) - exp(-ka s)) / (ka - lam)``, cancellation-free (broadcast)."""
    lo, hi = np.minimum(lam, ka), np.maximum(lam, ka)
    x = (hi - lo) * s
    with np.errstate(all="ignore"):
        phi = np.where(x > 1e-12, -np.expm1(-x) / np.where(x > 0, x, 1.0), 1.0)
    return np.exp(-lo * s) * s * phi


def absorbed_courses(
    out: np.ndarray,
    lam: np.ndarray,
    ka: np.ndarray,
    wg: np.ndarray,
    we: np.ndarray,
    shift: np.ndarray,
    amount: np.ndarray,
    h: float,
    c: float,
    block: int,
    num_threads: int = 1,
) -> None:
    """``out[p, k] += wg[p, i] G_i(k) + we[p, i] E(k)`` for first-order absorbed doses, carried
    block by block as the kernel does (`num_threads` unused; see ``_pkgrid.pyx``)."""
    T, M = out.shape[1], lam.shape[1]
    q_all = shift.tolist()
    js = np.arange(block + 1, dtype=float)
    kc = ka[:, None]
    tabs = []
    for i in range(M):
        lc = lam[:, i][:, None]
        tabs.append(
            (
                np.exp(-(lc * (js * h))),
                _gamma(lc, kc, js * h),
                np.exp(-(kc * (js * h))),
                _gamma(lc, kc, js * h + c),
                np.exp(-(kc * (js * h + c))),
            )
        )
    gcs = [np.zeros(out.shape[0]) for _ in range(M)]
    ecs = [np.zeros(out.shape[0]) for _ in range(M)]
    d0 = 0
    for k0 in range(0, T, block):
        k1 = min(k0 + block, T)
        d1 = d0
        while d1 < len(q_all) and q_all[d1] < k1:
            d1 += 1
        for i in range(M):
            pr, pg, pe, tg, te = tabs[i]
            gc, ec = gcs[i], ecs[i]
            x = (wg[:, i] * gc)[:, None]
            y = (wg[:, i] * ec)[:, None]
            z = (we[:, i] * ec)[:, None]
            L = k1 - k0
            out[:, k0:k1] += x * pr[:, :L] + y * pg[:, :L] + z * pe[:, :L]
            for d in range(d0, d1):
                q = q_all[d]
                x = (wg[:, i] * amount[:, d])[:, None]
                z = (we[:, i] * amount[:, d])[:, None]
                out[:, q:k1] += x * tg[:, : k1 - q] + z * te[:, : k1 - q]
            g2 = pr[:, block] * gc + pg[:, block] * ec
            e2 = pe[:, block] * ec
            for d in range(d0, d1):
                j = k0 + block - q_all[d]
                g2 = g2 + amount[:, d] * tg[:, j]
                e2 = e2 + amount[:, d] * te[:, j]
            gcs[i], ecs[i] = g2, e2
        d0 = d1
