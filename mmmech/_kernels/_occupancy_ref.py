"""NumPy reference of the occupancy kernel ``_occupancy.pyx`` (same signature, same result).

``theta = c**h / (c**h + K**h)`` is computed as ``ch / (1 + ch)`` with ``ch = (c / K)**h``
while ``c / K`` is a normal double and ``ch`` is finite (the common case, the same bits as the
textbook formula). Otherwise, where that formula overflows to NaN or loses precision (c = 1e308,
K = 1e-308, h = 50), it is the logistic function of ``z = h * log(c / K)``:
``1 / (1 + exp(-z))`` for z >= 0 and ``exp(z) / (1 + exp(z))`` for z < 0, with
``log(c) - log(K)`` where ``c / K`` is not a normal double. The result is in [0, 1], never NaN.
c = 0 gives 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["occupancy"]

_TINY = np.finfo(np.float64).tiny
_HUGE = np.finfo(np.float64).max


def occupancy(
    conc: NDArray[np.float64],
    k: ArrayLike,
    h: ArrayLike,
    out: NDArray[np.float64],
    num_threads: int = 0,
) -> NDArray[np.float64]:
    """Fill ``out[r, d]`` with the occupancy of drug d in regimen r and return `out`.

    conc (R, D) finite >= 0, k (D,) finite > 0, h (D,) finite > 0 (checked by the caller,
    :func:`mmmech.simulation.occupancy.occupancy`); `num_threads` is accepted for the kernel's
    signature and ignored.
    """
    conc = np.asarray(conc, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    with np.errstate(all="ignore"):
        pos = conc > 0.0
        c = np.where(pos, conc, 1.0)
        r = c / k
        normal = (r >= _TINY) & (r <= _HUGE)
        ch = np.where(normal, r, 1.0) ** h
        plain = normal & (ch <= _HUGE)
        lr = np.where(normal, np.log(np.where(normal, r, 1.0)), np.log(c) - np.log(k))
        z = h * lr
        ez = np.exp(-np.abs(z))
        theta = np.where(
            plain, ch / (1.0 + ch), np.where(z >= 0.0, 1.0 / (1.0 + ez), ez / (1.0 + ez))
        )
    out[...] = np.where(pos, theta, 0.0)
    return out
