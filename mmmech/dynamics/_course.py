"""The network through a whole regimen in one kernel call (the dynamics' network step).

:func:`network_course` integrates R regimens of a compiled model through K consecutive
intervals of ``dt`` model-time units with piecewise-constant held inputs (the drug-target
occupancy nodes ``cols`` take ``values[:, k]`` in interval k) and returns the chosen nodes at the
interval ends. It checks every input, then runs the Rosenbrock course kernel
(``mmmech._kernels._rosenbrock``, Cython, OpenMP over regimens) or its NumPy reference
(``_rosenbrock_ref``): RODAS4 with the exact analytic Jacobian of the logic ODE.

Integration settings used by :func:`mmmech.dynamics.simulate_regimens` and
:func:`mmmech.dynamics.cohort.simulate_cohort` are the module constants below; their accuracy
against the former step-by-step Dormand-Prince path (rtol 1e-6) is measured in
``tests/dynamics/test_course.py`` and ``docs/dynamics.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _kernels
from .._guards import check_backend
from .._kernels import _rosenbrock_ref
from ..exceptions import InvalidInputError
from ..simulation import propagate

__all__ = [
    "network_course",
    "COURSE_RTOL",
    "COURSE_ATOL",
    "COURSE_MAX_STEPS",
    "COURSE_STRETCH",
    "COURSE_JUMP_STEP",
]

#: relative / absolute local error tolerance of the network course (see docs/dynamics.md)
COURSE_RTOL = 3e-4
COURSE_ATOL = 3e-7
#: step attempts allowed per interval
COURSE_MAX_STEPS = 100000
#: a step that would leave less than 10% of itself before the interval's end is stretched to the
#: end (saves the sliver step that followed about every second 4-h interval of VRd; see
#: docs/dynamics.md)
COURSE_STRETCH = 1.1
#: each interval's first step (right after the held inputs jump) predicted from the previous
#: interval's first step and the size of f there (``_rosenbrock_ref.course_arrays``,
#: ``jump_step``): 1.51 -> 0.21 rejected attempts per 4-h interval of VRd (docs/dynamics.md)
COURSE_JUMP_STEP = True


def network_course(
    cm: Any,
    fixed_mask: npt.ArrayLike,
    fixed_value: npt.ArrayLike,
    y0: npt.ArrayLike,
    cols: npt.ArrayLike,
    values: npt.ArrayLike,
    dt: float,
    out_nodes: npt.ArrayLike,
    *,
    rtol: float = COURSE_RTOL,
    atol: float = COURSE_ATOL,
    max_steps: int = COURSE_MAX_STEPS,
    fixed_steps: int = 0,
    backend: str = "auto",
    num_threads: int = 0,
    stretch: float = COURSE_STRETCH,
    jump_step: bool = COURSE_JUMP_STEP,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """R regimens through K intervals of `dt` (model time) with held inputs per interval.

    Parameters
    ----------
    cm : CompiledModel
    fixed_mask, fixed_value, y0 : (R, N)
        As :func:`mmmech.simulation.propagate.time_course`; every node of `cols` must be fixed.
    cols : (C,) int
        Held nodes whose values change from interval to interval.
    values : (R, K, C) float in [0, 1]
    dt : float > 0
    out_nodes : (M,) int
        Nodes returned at the interval ends.
    rtol, atol, max_steps : error control (per step) and attempts per interval
    fixed_steps : int
        0: adaptive; n > 0: n steps of ``dt / n`` per interval without error control.
    backend : {"auto", "cython", "python"}
    num_threads : int
        OpenMP threads (0: OpenMP's default).
    stretch : float in [1, 1.1]
        A step that would leave less than ``(stretch - 1)`` of its size before an interval's
        end is stretched to the end (1: only shortened to meet it).
    jump_step : bool
        Predict each interval's first step from the previous interval's (adaptive steps only;
        False: the carried step is tried first). Error control is the same either way.

    Returns
    -------
    out : (R, K + 1, M)
        ``y[out_nodes]`` at the start and at each interval's end.
    y : (R, N)
        The state at the end.
    ok : (R,) bool
        False where an interval ran out of `max_steps` attempts.
    steps : (R,) int64
        Step attempts in all.
    """
    func = "network_course"
    vals = np.ascontiguousarray(values, dtype=np.float64)
    c = np.asarray(cols)
    o = np.asarray(out_nodes)
    N = cm.n_nodes
    for name, arr in (("cols", c), ("out_nodes", o)):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise InvalidInputError(f"{func}(): {name} must be a 1-D integer array")
        if arr.size and (arr.min() < 0 or arr.max() >= N):
            raise InvalidInputError(f"{func}(): {name} must index the {N} nodes")
    if vals.ndim != 3 or vals.shape[2] != c.size or vals.shape[1] < 1:
        raise InvalidInputError(
            f"{func}(): values must have shape (regimens, intervals >= 1, {c.size}), got "
            f"{vals.shape}"
        )
    if not np.all(np.isfinite(vals)) or np.any((vals < 0) | (vals > 1)):
        raise InvalidInputError(f"{func}(): values must be finite and lie in [0, 1]")
    if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
        raise InvalidInputError(f"{func}(): dt must be > 0, got {dt!r}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise InvalidInputError(f"{func}(): {name} must be > 0, got {v!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InvalidInputError(f"{func}(): max_steps must be an integer >= 1, got {max_steps!r}")
    # at most 1.1: a rejected step shrinks to <= 0.9 of itself (FAC_SAFE), so a larger stretch
    # could retry the same stretched step until max_steps
    if not (isinstance(stretch, (int, float)) and 1.0 <= stretch <= 1.1):
        raise InvalidInputError(f"{func}(): stretch must be in [1, 1.1], got {stretch!r}")
    if isinstance(fixed_steps, bool) or not isinstance(fixed_steps, int) or fixed_steps < 0:
        raise InvalidInputError(
            f"{func}(): fixed_steps must be an integer >= 0, got {fixed_steps!r}"
        )
    reg = propagate._prepare(cm, fixed_mask, fixed_value, y0, None, None, None, func)
    R = reg.y0.shape[0]
    if vals.shape[0] != R:
        raise InvalidInputError(f"{func}(): values has {vals.shape[0]} regimens, the masks {R}")
    if c.size and not np.all(reg.fixed_mask[:, c]):
        raise InvalidInputError(f"{func}(): every node of cols must be fixed in every regimen")
    num_threads = propagate._threads(num_threads, func)
    check_backend(backend, func)
    use_c = backend == "cython" or (backend == "auto" and _kernels.available("_rosenbrock"))
    cols64 = np.ascontiguousarray(c, dtype=np.int64)
    out64 = np.ascontiguousarray(o, dtype=np.int64)
    args = (
        cm,
        reg,
        cols64,
        vals,
        float(dt),
        out64,
        float(rtol),
        float(atol),
        int(max_steps),
        int(num_threads),
        0.05,
        int(fixed_steps),
        float(stretch),
        bool(jump_step),
    )
    if use_c:
        return tuple(_kernels.load("_rosenbrock").course(*args))  # type: ignore[return-value]
    with np.errstate(all="ignore"):
        return _rosenbrock_ref.course(*args)
