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

from . import _rosenbrock_ref

__all__ = ["occupancy", "occupancy_step_mean", "occupancy_step_mean_dt", "binding_step_mean"]

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


def occupancy_step_mean(
    conc: NDArray[np.float64],
    sel: NDArray[np.int64],
    cdrug: NDArray[np.int64],
    k: NDArray[np.float64],
    h: NDArray[np.float64],
    out: NDArray[np.float64],
    dest: NDArray[np.int64],
    ocol: NDArray[np.int64],
    substeps: int,
    num_threads: int = 1,
) -> int:
    """``out[dest[i], s, ocol[j]]`` = the mean over the `substeps` substeps of step s of the
    occupancy of column j at ``conc[sel[i], s * substeps + u, cdrug[j]]`` (potency ``k[j]``,
    Hill ``h[j]``): :func:`occupancy` on the gathered columns, then the sum over the substeps
    in substep order divided by their number. Returns the number of concentrations that are not
    finite or < 0 (the output is not to be used then). `num_threads` is ignored."""
    P, T, _ = conc.shape
    S = int(substeps)
    K = T // S
    c = conc[np.asarray(sel)][:, :, np.asarray(cdrug)]  # (n, T, J)
    bad = int(np.count_nonzero(~((c >= 0.0) & (c <= _HUGE))))
    n, J = c.shape[0], c.shape[2]
    o = occupancy(
        np.where(np.isfinite(c) & (c >= 0.0), c, 0.0).reshape(-1, J), k, h, np.empty((n * T, J))
    ).reshape(n, K, S, J)
    acc = np.zeros((n, K, J))
    for u in range(S):
        acc = acc + o[:, :, u, :]
    for j, oc in enumerate(np.asarray(ocol).tolist()):
        out[np.asarray(dest), :, oc] = acc[:, :, j] / S
    return bad


def occupancy_step_mean_dt(
    conc: NDArray[np.float64],
    sel: NDArray[np.int64],
    cdrug: NDArray[np.int64],
    k: NDArray[np.float64],
    h: NDArray[np.float64],
    out: NDArray[np.float64],
    dest: NDArray[np.int64],
    ocol: NDArray[np.int64],
    substeps: int,
    num_threads: int = 1,
) -> int:
    """:func:`occupancy_step_mean` of concentrations laid out drug by drug,
    ``conc[p, d, t]`` (the same result)."""
    return occupancy_step_mean(
        np.ascontiguousarray(np.swapaxes(np.asarray(conc), 1, 2)),
        sel, cdrug, k, h, out, dest, ocol, substeps, num_threads,
    )  # fmt: skip


def binding_step_mean(
    fine: NDArray[np.float64],
    scale: float,
    k: NDArray[np.float64],
    h: NDArray[np.float64],
    k_off: NDArray[np.float64],
    dt: float,
    out: NDArray[np.float64],
    dest: NDArray[np.int64],
    ocol: NDArray[np.int64],
    nf: int,
    num_threads: int = 1,
) -> int:
    """Binding kinetics from occupancy 0 on the fine grid, averaged over each step: for each
    column j the elementwise terms of :func:`mmmech.dynamics.kinetics.occupancy_course` on
    ``c = fine * scale`` (``u = (max(c, 0) / k[j])**h[j]``, ``eq = u / (1 + u)``,
    ``x = k_off[j] (1 + u) dt``, decay ``exp(-x)``, mean weight ``-expm1(-x) / x``), the
    interval recursion (``_rosenbrock_ref.relax_course``), then ``out[dest, :, ocol[j]]`` =
    the interval means' ``.mean`` over each step's `nf` intervals. Returns the number of
    concentrations that are NaN or +inf (the output is not to be used then). `num_threads`
    is ignored."""
    c = np.asarray(fine, dtype=np.float64) * float(scale)
    n, T = c.shape
    bad = int(np.count_nonzero(~(c <= _HUGE)))
    dest = np.asarray(dest)
    for j, oc in enumerate(np.asarray(ocol).tolist()):
        with np.errstate(all="ignore"):
            u = (np.maximum(c, 0.0) / float(k[j])) ** float(h[j])
            eq = u / (1.0 + u)
            x = float(k_off[j]) * (1.0 + u) * float(dt)
            _, mean = _rosenbrock_ref.relax_course(eq, np.exp(-x), -np.expm1(-x) / x, np.zeros(n))
        out[dest, :, oc] = mean.reshape(n, T // int(nf), int(nf)).mean(axis=2)
    return bad
