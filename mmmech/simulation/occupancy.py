"""Target occupancy from drug concentration (the first layer of every simulation).

A drug at concentration c (nM) occupies its target with potency K (nM) and Hill slope h:
``theta = c**h / (c**h + K**h)``, 0 at c = 0 and 0.5 at c = K. A target mutation that makes a
drug weaker multiplies K by its fold change before this step.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .. import _kernels
from .._guards import check_backend
from .._kernels import _occupancy_ref
from ..exceptions import InvalidInputError
from ..utils import check_finite_array

__all__ = ["occupancy", "occupancy_reference"]


def occupancy_reference(conc: npt.ArrayLike, k: npt.ArrayLike, h: npt.ArrayLike) -> np.ndarray:
    """NumPy reference of :func:`occupancy` (same arguments, same result; computed stably
    by :mod:`mmmech._kernels._occupancy_ref`)."""
    conc = np.asarray(conc, dtype=float)
    shape = np.broadcast_shapes(conc.shape, np.shape(k), np.shape(h))
    return _occupancy_ref.occupancy(conc, k, h, np.empty(shape))


def occupancy(
    conc: npt.ArrayLike,
    k: npt.ArrayLike,
    h: npt.ArrayLike | None = None,
    backend: str = "auto",
    num_threads: int = 0,
) -> np.ndarray:
    """Occupancy of D targets in R regimens.

    Parameters
    ----------
    conc : array_like, shape (R, D), nM
        Concentrations, finite and >= 0.
    k : array_like, shape (D,), nM
        Potencies (IC50, Kd or EC50 at the target), finite and > 0.
    h : array_like, shape (D,), optional
        Hill slopes, finite and > 0 (default 1).
    backend : {"auto", "cython", "python"}
    num_threads : int
        0 lets OpenMP decide.

    Returns
    -------
    ndarray, shape (R, D)
        Occupancy in [0, 1].

    Examples
    --------
    >>> occupancy([[0.0, 10.0]], [10.0, 10.0]).round(3).tolist()
    [[0.0, 0.5]]
    """
    func = "occupancy"
    c = check_finite_array(conc, "conc", func, ndim=2, min_value=0.0)
    kk = check_finite_array(k, "k", func, ndim=1)
    if np.any(kk <= 0):
        raise InvalidInputError(f"{func}(): k must be > 0 nM, got {kk[kk <= 0][:3].tolist()}")
    hh = np.ones_like(kk) if h is None else check_finite_array(h, "h", func, ndim=1)
    if np.any(hh <= 0):
        raise InvalidInputError(f"{func}(): h must be > 0, got {hh[hh <= 0][:3].tolist()}")
    if not (c.shape[1] == kk.shape[0] == hh.shape[0]):
        raise InvalidInputError(
            f"{func}(): conc has {c.shape[1]} columns but k has "
            f"{kk.shape[0]} and h {hh.shape[0]} entries; they must match"
        )
    check_backend(backend, func)
    if backend == "python" or (backend == "auto" and not _kernels.available("_occupancy")):
        return occupancy_reference(c, kk, hh)
    out = np.empty_like(c)
    _kernels.load("_occupancy").occupancy(c, kk, hh, out, int(num_threads))
    return out
