"""NumPy reference of the compiled kernel ``_tumour.pyx`` (same signatures, same results): the
net rates from the network readouts, the exact integration of tumour burden and M-protein, and
the IMWG classification of each row. The operations are those of
:func:`mmmech.dynamics._tumour_course.readout_course_ref` and
:func:`mmmech.dynamics.imwg._classify_rows_ref`, in the same order."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["rates", "integrate", "classify"]

F = NDArray[np.float64]


def rates(
    out: F, g: F, d: F, r0: F, growth: F, sens: F, scaled: bool, r0_res: F, lost: F,
    resist: bool, rate: F, num_threads: int = 1,
) -> None:  # fmt: skip
    """rate (R, K), in place: g * 0.5 * (P[j + 1] + P[j]) - d * 0.5 * (A[j + 1] + A[j]) (P =
    out[..., 0], A = the sum of out[..., 1:]), then the tumour scales and the resistance."""
    P, A = out[:, :, 0], out[:, :, 1:].sum(axis=2)
    x = g[:, None] * 0.5 * (P[:, 1:] + P[:, :-1]) - d[:, None] * 0.5 * (A[:, 1:] + A[:, :-1])
    if scaled:
        x = (
            x
            + (growth[:, None] - 1.0) * np.maximum(r0[:, None], 0.0)
            - (sens[:, None] - 1.0) * np.maximum(r0[:, None] - x, 0.0)
        )
    if resist:
        x = x + lost * np.maximum(r0_res[:, None] - x, 0.0)
    rate[...] = x


def integrate(
    rate: F, er: F, dt: float, k: F, ek: F, s: F, m_start: F, post: F, N: F, Mp: F,
    num_threads: int = 1,
) -> None:  # fmt: skip
    """Burden N and M-protein Mp (R, K + 1), in place (see the kernel)."""
    R, K = rate.shape
    denom = rate + k[:, None]
    small = np.abs(denom) < 1e-12
    frac = np.where(small, dt * ek[:, None], (er - ek[:, None]) / np.where(small, 1.0, denom))
    N[:, 0] = 1.0
    N[:, 1:] = er
    np.multiply.accumulate(N, axis=1, out=N)
    made = s[:, None] * N[:, :-1] * frac
    m = np.array(m_start, dtype=np.float64)
    Mp[:, 0] = m * post
    for j in range(K):
        m = m * ek + made[:, j]
        Mp[:, j + 1] = m * post


def classify(
    m: F, cr_reduction: float, cat: NDArray[np.int8], end: NDArray[np.int64], low: F,
    reduction: F, num_threads: int = 1,
) -> None:  # fmt: skip
    """IMWG per row (see the kernel), in place."""
    P, T = m.shape
    m0 = m[:, 0]
    nadir = np.minimum.accumulate(np.concatenate([m0[:, None], m], axis=1), axis=1)[:, :-1]
    need = np.where(nadir >= 5.0, 1.0, 0.5)
    prog = (m >= 1.25 * nadir) & (m - nadir >= need - 1e-12)
    has = prog.any(axis=1)
    stop = np.where(has, np.argmax(prog, axis=1), T - 1)
    low[:] = np.where(np.arange(T)[None, :] <= stop[:, None], m, np.inf).min(axis=1)
    reduction[:] = np.maximum(0.0, 1.0 - low / m0)
    c = np.full(P, 4, dtype=np.int8)
    c[has] = 5
    for cut, code in ((0.25, 3), (0.50, 2), (0.90, 1), (cr_reduction, 0)):
        c[reduction >= cut] = code
    cat[:] = c
    end[:] = np.where(has, stop, -1)
