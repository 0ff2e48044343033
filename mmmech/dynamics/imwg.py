"""IMWG response categories and progression on a serum M-protein course.

The International Myeloma Working Group criteria (Kumar et al., Lancet Oncol 2016;17:e328,
DOI:10.1016/S1470-2045(16)30206-6; table read in a reproduction, PMC:PMC9954856, and in the
2006 uniform criteria, PMC:PMC2627786), applied to the serum M-protein only:

- PR: >= 50% reduction from baseline; VGPR: >= 90%; MR: 25-49%;
- CR needs negative immunofixation and < 5% marrow plasma cells, which the model does not
  see. **Approximation**: CR when the M-protein falls by >= `cr_reduction` (default 99%, a
  modelling convention, not a sourced limit);
- PD: an increase of 25% from the lowest value with an absolute increase >= 0.5 g/dL
  (>= 1 g/dL when the lowest value was >= 5 g/dL); the lowest value is the running minimum
  of the course (baseline included), every sample counts as an assessment (no confirmation of
  two consecutive assessments and no minimum duration);
- SD: none of these.

The best response is the deepest category reached before progression; a course that progresses
without reaching MR is PD.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _kernels
from ..exceptions import InvalidInputError

__all__ = ["CATEGORIES", "IMWG_SOURCE", "Response", "Responses", "classify", "classify_many"]

#: response categories, best first
CATEGORIES = ("CR", "VGPR", "PR", "MR", "SD", "PD")
IMWG_SOURCE = "DOI:10.1016/S1470-2045(16)30206-6"


@dataclass(frozen=True)
class Response:
    """``best`` category, ``progression_day`` (None when none), ``nadir_g_per_dL``,
    ``max_reduction`` (fraction of baseline)."""

    best: str
    progression_day: float | None
    nadir_g_per_dL: float
    max_reduction: float


def _category(reduction: float, cr_reduction: float) -> str:
    if reduction >= cr_reduction:
        return "CR"
    if reduction >= 0.90:
        return "VGPR"
    if reduction >= 0.50:
        return "PR"
    if reduction >= 0.25:
        return "MR"
    return "SD"


def classify(
    days: Sequence[float] | np.ndarray,
    m_protein: Sequence[float] | np.ndarray,
    baseline: float | None = None,
    cr_reduction: float = 0.99,
) -> Response:
    """IMWG best response and day of progression of one serum M-protein course (g/dL).

    Parameters
    ----------
    days, m_protein : 1-D sequences of the same length (days increasing)
    baseline : float, optional
        M-protein before treatment (default: the first value).
    cr_reduction : float
        Reduction taken as CR (see the module text).

    Examples
    --------
    >>> classify([0, 30, 60], [4.0, 1.8, 1.5]).best
    'PR'
    >>> classify([0, 30, 60, 90], [4.0, 1.0, 1.2, 1.6]).progression_day
    90.0
    """
    d = np.asarray(days, dtype=float)
    m = np.asarray(m_protein, dtype=float)
    if d.ndim != 1 or m.shape != d.shape or d.size < 1:
        raise InvalidInputError(
            f"classify(): days and m_protein must be 1-D of the same length, got {d.shape} "
            f"and {m.shape}"
        )
    if not (np.all(np.isfinite(m)) and np.all(m >= 0) and np.all(np.isfinite(d))):
        raise InvalidInputError("classify(): m_protein must be finite and >= 0 g/dL")
    if np.any(np.diff(d) <= 0):
        raise InvalidInputError("classify(): days must be strictly increasing")
    if not (0 < cr_reduction <= 1):
        raise InvalidInputError(f"classify(): cr_reduction must be in (0, 1], got {cr_reduction}")
    m0 = float(m[0]) if baseline is None else float(baseline)
    if not m0 > 0:
        raise InvalidInputError(f"classify(): baseline M-protein must be > 0 g/dL, got {m0!r}")
    nadir = np.minimum.accumulate(np.concatenate([[m0], m]))[:-1]  # lowest before each sample
    rise = m - nadir
    need = np.where(nadir >= 5.0, 1.0, 0.5)
    prog = (m >= 1.25 * nadir) & (rise >= need - 1e-12)
    idx = np.flatnonzero(prog)
    end = int(idx[0]) if idx.size else m.size
    upto = m[: end + 1] if idx.size else m
    low = float(upto.min()) if upto.size else m0
    reduction = max(0.0, 1.0 - low / m0)
    best = _category(reduction, cr_reduction)
    if idx.size and best == "SD":
        best = "PD"
    return Response(
        best=best,
        progression_day=float(d[end]) if idx.size else None,
        nadir_g_per_dL=low,
        max_reduction=reduction,
    )


@dataclass(frozen=True)
class Responses:
    """:class:`Response` of many courses as arrays (P,): ``best`` (str), ``progression_day``
    (NaN when none), ``nadir_g_per_dL``, ``max_reduction``."""

    best: np.ndarray
    progression_day: np.ndarray
    nadir_g_per_dL: np.ndarray
    max_reduction: np.ndarray


def classify_many(
    days: Sequence[float] | np.ndarray,
    m_protein: np.ndarray,
    cr_reduction: float = 0.99,
    *,
    num_threads: int = 1,
    backend: str = "auto",
) -> Responses:
    """:func:`classify` of every row of `m_protein` (P, T) on the common `days` (T,), each
    against its own first value, all rows at once (the same numbers as row by row).

    The rows are classified by the compiled kernel (``mmmech._kernels._tumour.classify``, one
    pass per row, `num_threads` OpenMP threads, 0: one per CPU; round 11) or, with
    ``backend="python"`` or without the compiled kernels, by the NumPy reference
    :func:`_classify_rows_ref`: the same results (tested).

    Examples
    --------
    >>> classify_many([0, 30, 60, 90], [[4.0, 1.0, 1.2, 1.6], [4.0, 1.8, 1.5, 1.4]]).best.tolist()
    ['PR', 'PR']
    """
    d = np.asarray(days, dtype=float)
    m = np.asarray(m_protein, dtype=float)
    if d.ndim != 1 or m.ndim != 2 or m.shape[1] != d.size or d.size < 1:
        raise InvalidInputError(
            f"classify_many(): days must be 1-D (T,) and m_protein 2-D (P, T), got {d.shape} "
            f"and {m.shape}"
        )
    if not (np.all(np.isfinite(m)) and np.all(m >= 0) and np.all(np.isfinite(d))):
        raise InvalidInputError("classify_many(): m_protein must be finite and >= 0 g/dL")
    if np.any(np.diff(d) <= 0):
        raise InvalidInputError("classify_many(): days must be strictly increasing")
    if not (0 < cr_reduction <= 1):
        raise InvalidInputError(
            f"classify_many(): cr_reduction must be in (0, 1], got {cr_reduction}"
        )
    P, T = m.shape
    m0 = m[:, 0]
    if P and not np.all(m0 > 0):
        bad = float(m0[~(m0 > 0)][0])
        raise InvalidInputError(
            f"classify_many(): baseline M-protein must be > 0 g/dL, got {bad!r}"
        )
    if backend != "python" and _kernels.available("_tumour"):
        mc = np.ascontiguousarray(m)
        cat = np.empty(P, dtype=np.int8)
        end = np.empty(P, dtype=np.int64)
        low = np.empty(P)
        reduction = np.empty(P)
        kern = _kernels.load("_tumour")
        nt = int(num_threads) if int(num_threads) > 0 else (os.cpu_count() or 1)
        kern.classify(mc, float(cr_reduction), cat, end, low, reduction, nt)
        has = end >= 0
        best = np.asarray(CATEGORIES, dtype=object)[cat].astype(str)  # as the reference
        end = np.where(has, end, T - 1)
    else:
        best, has, end, low, reduction = _classify_rows_ref(m, cr_reduction)
        best = best.astype(str)
    return Responses(
        best=best,
        progression_day=np.where(has, d[end], np.nan),
        nadir_g_per_dL=low,
        max_reduction=reduction,
    )


def _classify_rows_ref(m: np.ndarray, cr_reduction: float) -> tuple[Any, ...]:
    """The NumPy path of :func:`classify_many` (before round 11; the kernel's reference):
    best (object), progressed, the progression (or last) sample, lowest value and reduction."""
    P, T = m.shape
    m0 = m[:, 0]
    # the lowest value before each sample (baseline first), as classify does per course
    nadir = np.minimum.accumulate(np.concatenate([m0[:, None], m], axis=1), axis=1)[:, :-1]
    rise = m - nadir
    need = np.where(nadir >= 5.0, 1.0, 0.5)
    prog = (m >= 1.25 * nadir) & (rise >= need - 1e-12)
    has = prog.any(axis=1)
    end = np.where(has, np.argmax(prog, axis=1), T - 1)
    low = np.where(np.arange(T)[None, :] <= end[:, None], m, np.inf).min(axis=1)
    reduction = np.maximum(0.0, 1.0 - low / m0)
    best = np.full(P, "SD", dtype=object)
    for cut, name in ((0.25, "MR"), (0.50, "PR"), (0.90, "VGPR"), (cr_reduction, "CR")):
        best[reduction >= cut] = name
    best[has & (best == "SD")] = "PD"
    return best, has, end, low, reduction
