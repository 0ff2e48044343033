"""NumPy reference of the occupancy kernel ``_occupancy.pyx`` (same signature, same result).

``theta = c**h / (c**h + K**h)`` is computed as the logistic function of
``z = h * log(c / K)``: ``1 / (1 + exp(-z))`` for z >= 0 and ``exp(z) / (1 + exp(z))`` for
z < 0, so that no power overflows and extreme but finite inputs (c = 1e308, K = 1e-308,
h = 50) give a value in [0, 1], never NaN. ``log(c / K)`` is used while the ratio is a normal
double (most accurate), ``log(c) - log(K)`` where it would overflow or underflow. c = 0 gives 0.
"""
import numpy as np

__all__ = ["occupancy"]

_TINY = np.finfo(np.float64).tiny
_HUGE = np.finfo(np.float64).max


def occupancy(conc, k, h, out, num_threads=0):
    """Fill ``out[r, d]`` with the occupancy of drug d in regimen r and return `out`.

    conc (R, D) finite >= 0, k (D,) finite > 0, h (D,) finite > 0 (checked by the caller,
    :func:`mmmech.simulation.occupancy.occupancy`); `num_threads` is accepted for the kernel's signature
    and ignored.
    """
    conc = np.asarray(conc, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    with np.errstate(all="ignore"):
        pos = conc > 0.0
        c = np.where(pos, conc, 1.0)
        r = c / k
        normal = (r >= _TINY) & (r <= _HUGE)
        lr = np.where(normal, np.log(np.where(normal, r, 1.0)), np.log(c) - np.log(k))
        z = h * lr
        ez = np.exp(-np.abs(z))
        theta = np.where(z >= 0.0, 1.0 / (1.0 + ez), ez / (1.0 + ez))
    out[...] = np.where(pos, theta, 0.0)
    return out
