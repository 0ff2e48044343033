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
    T = out.shape[1]
    q_all = shift.tolist()
    for m in range(coef.shape[1]):
        c = coef[:, m]
        tab = np.exp(-(x[:, m][:, None] * np.arange(block + 1, dtype=float)[None, :]))
        carry = np.zeros(out.shape[0])
        d0 = 0
        for k0 in range(0, T, block):
            k1 = min(k0 + block, T)
            ca = c * carry
            out[:, k0:k1] += ca[:, None] * tab[:, : k1 - k0]
            d1 = d0
            while d1 < len(q_all) and q_all[d1] < k1:
                q = q_all[d1]
                ca = c * amount[:, d1]
                out[:, q:k1] += ca[:, None] * tab[:, : k1 - q]
                d1 += 1
            carry = carry * tab[:, block]
            for d in range(d0, d1):
                carry = carry + amount[:, d] * tab[:, k0 + block - q_all[d]]
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
    T = out.shape[1]
    q_all = shift.tolist()
    js = np.arange(block + 1, dtype=float)
    for i in range(lam.shape[1]):
        lc, kc = lam[:, i][:, None], ka[:, None]
        pr = np.exp(-(lc * (js * h)))
        pg = _gamma(lc, kc, js * h)
        pe = np.exp(-(kc * (js * h)))
        tg = _gamma(lc, kc, js * h + c)
        te = np.exp(-(kc * (js * h + c)))
        gc = np.zeros(out.shape[0])
        ec = np.zeros(out.shape[0])
        d0 = 0
        for k0 in range(0, T, block):
            k1 = min(k0 + block, T)
            x = (wg[:, i] * gc)[:, None]
            y = (wg[:, i] * ec)[:, None]
            z = (we[:, i] * ec)[:, None]
            L = k1 - k0
            out[:, k0:k1] += x * pr[:, :L] + y * pg[:, :L] + z * pe[:, :L]
            d1 = d0
            while d1 < len(q_all) and q_all[d1] < k1:
                q = q_all[d1]
                x = (wg[:, i] * amount[:, d1])[:, None]
                z = (we[:, i] * amount[:, d1])[:, None]
                out[:, q:k1] += x * tg[:, : k1 - q] + z * te[:, : k1 - q]
                d1 += 1
            g2 = pr[:, block] * gc + pg[:, block] * ec
            e2 = pe[:, block] * ec
            for d in range(d0, d1):
                j = k0 + block - q_all[d]
                g2 = g2 + amount[:, d] * tg[:, j]
                e2 = e2 + amount[:, d] * te[:, j]
            gc, ec = g2, e2
            d0 = d1
