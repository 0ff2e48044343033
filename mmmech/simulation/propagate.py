"""Batched propagation of perturbations through a compiled pathway model.

Public wrappers around the kernels: they check every input (shapes, finiteness, index bounds,
ranges) before any kernel runs, then dispatch to the Cython kernel or the NumPy reference
(``backend="auto"|"cython"|"python"``). The semantics are those of
:mod:`mmmech.simulation.compiled`.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from .. import _kernels
from .._guards import check_backend
from .._kernels import _logic_ref
from .._typing import ProgressCallback
from ..exceptions import ConvergenceError, InvalidInputError
from .compiled import OP_AND, OP_CONST, OP_LIT, OP_NOT, OP_OR, CompiledModel, ParamSet

__all__ = [
    "SteadyState",
    "steady_state",
    "time_course",
    "integrate_fixed",
    "Regimens",
    "check_model",
    "stderr_progress",
    "WORK_LIMIT",
]


@dataclass(frozen=True)
class SteadyState:
    """Result of :func:`steady_state`.

    Attributes
    ----------
    y : ndarray (R, N)
        Node activities at steady state.
    converged : ndarray (R,) of bool
        False where ``max_i max(|dy_i/dt|, tau_i |dy_i/dt|)`` (rate and distance to the
        node's target) did not fall below `tol` within `max_steps`.
    steps : ndarray (R,) of int
        Accepted integration steps.
    t : ndarray (R,)
        Model time reached.
    """

    y: np.ndarray
    converged: np.ndarray
    steps: np.ndarray
    t: np.ndarray


@dataclass(frozen=True)
class Regimens:
    """Checked per-regimen inputs: fixed masks/values, initial state and parameter choice."""

    fixed_mask: np.ndarray  # (R, N) uint8
    fixed_value: np.ndarray  # (R, N) float64
    y0: np.ndarray  # (R, N) float64
    params: ParamSet
    param_index: np.ndarray  # (R,) int64


def _check_backend(backend, func, kernel="_logic"):
    check_backend(backend, func)
    if backend == "python":
        return "python"
    if backend == "cython" and not _kernels.available(kernel):
        _kernels.load(kernel)  # raises the ImportError with the build hint
    return "cython" if _kernels.available(kernel) else "python"


def _int_array(x, name, func, shape=None):
    try:
        a = np.asarray(x)
    except Exception as exc:  # noqa: BLE001 - anything unreadable is bad input
        raise InvalidInputError(f"{func}(): model.{name} is not an array") from exc
    if a.dtype.kind not in "iub" and a.size:
        raise InvalidInputError(f"{func}(): model.{name} must hold integers, got dtype {a.dtype}")
    if a.ndim != 1 or (shape is not None and a.shape != shape):
        want = f"shape {shape}" if shape is not None else "a 1-D array"
        raise InvalidInputError(f"{func}(): model.{name} must be {want}, got shape {a.shape}")
    return a.astype(np.int64)


def check_model(cm: CompiledModel, func: str = "check_model") -> CompiledModel:
    """Check that a :class:`CompiledModel` is safe to hand to a kernel.

    Verifies what a hand-built or corrupted model could get wrong and a kernel without bounds
    checks would turn into a crash: array shapes and dtypes, ``prog_ptr`` spanning the
    program, opcodes, literal edge indices in ``[0, E)``, edge sources in ``[0, N)``,
    constants 0/1, every program leaving exactly one value without stack underflow and never
    deeper than ``max_stack``, and ``y0`` finite in [0, 1].

    Raises
    ------
    InvalidInputError
        Naming `func`, the offending field and what was found.
    """
    if not isinstance(cm, CompiledModel):
        raise InvalidInputError(
            f"{func}(): model must be a CompiledModel (see "
            f"mmmech.simulation.compiled.compile_model), got "
            f"{type(cm).__name__}"
        )
    N = len(cm.nodes)
    if N < 1:
        raise InvalidInputError(f"{func}(): the model has no nodes")
    ptr = _int_array(cm.prog_ptr, "prog_ptr", func, (N + 1,))
    ops = _int_array(cm.prog_op, "prog_op", func)
    args = _int_array(cm.prog_arg, "prog_arg", func, ops.shape)
    src = _int_array(cm.edge_src, "edge_src", func)
    E = src.shape[0]
    _int_array(cm.edge_dst, "edge_dst", func, (E,))
    L = ops.shape[0]
    if ptr[0] != 0 or ptr[-1] != L or np.any(np.diff(ptr) < 0):
        raise InvalidInputError(
            f"{func}(): model.prog_ptr must rise from 0 to len(prog_op)={L}, "
            f"got {ptr[:3].tolist()}...{ptr[-2:].tolist()}"
        )
    for name, idx, hi in (("edge_src", src, N), ("edge_dst", np.asarray(cm.edge_dst), N)):
        if idx.size and (idx.min() < 0 or idx.max() >= hi):
            raise InvalidInputError(
                f"{func}(): model.{name} must lie in [0, {hi - 1}] (node "
                f"indices), got values {idx.min()}..{idx.max()}"
            )
    if L:
        bad = ~np.isin(ops, (OP_LIT, OP_NOT, OP_AND, OP_OR, OP_CONST))
        if bad.any():
            raise InvalidInputError(
                f"{func}(): model.prog_op holds unknown opcode "
                f"{ops[bad][0]} at position {np.argmax(bad)}"
            )
        lit = ops == OP_LIT
        if lit.any() and (args[lit].min() < 0 or args[lit].max() >= E):
            raise InvalidInputError(
                f"{func}(): a literal of the rule program reads edge "
                f"{args[lit][(args[lit] < 0) | (args[lit] >= E)][0]}; the "
                f"model has {E} edges (valid: 0..{E - 1})"
            )
        const = ops == OP_CONST
        if const.any() and not np.all(np.isin(args[const], (0, 1))):
            raise InvalidInputError(f"{func}(): constants in rule programs must be 0 or 1")
        delta = np.where(lit | const, 1, np.where(ops == OP_NOT, 0, -1))
        csum = np.concatenate(([0], np.cumsum(delta)))
        owner = np.repeat(np.arange(N), np.diff(ptr))
        depth = csum[1:] - csum[ptr[owner]]
        ends = ptr[1:][np.diff(ptr) > 0] - 1
        if depth.min() < 1 or np.any(depth[ends] != 1):
            node = (
                owner[np.argmax(depth < 1)]
                if depth.min() < 1
                else owner[ends[np.argmax(depth[ends] != 1)]]
            )
            raise InvalidInputError(
                f"{func}(): the rule program of node {cm.nodes[node]!r} is "
                f"malformed (stack underflow or not exactly one result)"
            )
    # max_stack sizes a kernel allocation: bounded from above too (no program can need more
    # than one slot per instruction), so an absurd value is refused here, not wrapped in C.
    try:
        max_stack = int(cm.max_stack)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(
            f"{func}(): model.max_stack must be an integer, got {cm.max_stack!r:.40}"
        ) from None
    if L and depth.max() > max_stack:
        raise InvalidInputError(
            f"{func}(): rule programs need a stack of {depth.max()} "
            f"values but model.max_stack is {max_stack}"
        )
    if not 1 <= max_stack <= max(1, L):
        raise InvalidInputError(
            f"{func}(): model.max_stack must lie in [1, {max(1, L)}] (at "
            f"most one slot per rule instruction), got {max_stack}"
        )
    y0 = np.asarray(cm.y0, dtype=np.float64)
    if y0.shape != (N,) or not np.all(np.isfinite(y0)) or np.any((y0 < 0) | (y0 > 1)):
        raise InvalidInputError(f"{func}(): model.y0 must be {N} finite values in [0, 1]")
    return cm


def _prepare(cm, fixed_mask, fixed_value, y0, params, param_index, n_regimens, func):
    check_model(cm, func)
    N = cm.n_nodes
    R = None
    for arr in (fixed_mask, fixed_value, y0):
        if arr is not None:
            R = np.shape(arr)[0] if np.ndim(arr) == 2 else R
    if R is None:
        R = 1 if n_regimens is None else int(n_regimens)
    if R < 1:
        raise InvalidInputError(f"{func}(): need at least one regimen, got {R}")
    _check_memory(func, 8.0 * 4 * R * N, "use fewer regimens")

    def mat(x, name, default, dtype=np.float64):
        if x is None:
            return np.broadcast_to(np.asarray(default, dtype=dtype), (R, N)).copy()
        try:
            a = np.ascontiguousarray(x, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{func}(): {name} must be numeric") from exc
        if a.shape != (R, N):
            raise InvalidInputError(
                f"{func}(): {name} must have shape ({R}, {N}) (regimens, nodes), got {a.shape}"
            )
        return a

    mask = mat(fixed_mask, "fixed_mask", 0, np.float64)
    if not np.all(np.isin(mask, (0, 1))):
        raise InvalidInputError(f"{func}(): fixed_mask must hold only 0/1 (or booleans)")
    mask = mask.astype(np.uint8)
    value = mat(fixed_value, "fixed_value", 0.0)
    start = mat(y0, "y0", cm.y0)
    for name, a in (("fixed_value", value), ("y0", start)):
        if not np.all(np.isfinite(a)):
            raise InvalidInputError(f"{func}(): {name} must be finite")
        if np.any((a < 0) | (a > 1)):
            bad = a[(a < 0) | (a > 1)][:3].tolist()
            raise InvalidInputError(f"{func}(): {name} must lie in [0, 1], got {bad}")
    params = cm.params if params is None else params
    if not isinstance(params, ParamSet):
        raise InvalidInputError(f"{func}(): params must be a ParamSet, got {type(params).__name__}")
    params = ParamSet(
        *(
            np.ascontiguousarray(getattr(params, f), dtype=np.float64)
            for f in ("w", "n", "ec50", "tau", "ymax")
        )
    )
    params.validate(N, cm.n_edges, func)
    if param_index is None:
        pidx = np.zeros(R, dtype=np.int64)
    else:
        raw = np.asarray(param_index)
        if raw.dtype.kind not in "iu" and not (
            raw.dtype.kind == "f"
            and raw.size
            and np.all(np.isfinite(raw))
            and np.all(raw == np.round(raw))
        ):
            raise InvalidInputError(
                f"{func}(): param_index must hold integers, got {raw.ravel()[:3].tolist()}"
            )
        pidx = np.ascontiguousarray(raw, dtype=np.int64)
        if pidx.shape != (R,):
            raise InvalidInputError(
                f"{func}(): param_index must have shape ({R},), got {pidx.shape}"
            )
        if pidx.min() < 0 or pidx.max() >= params.size:
            raise InvalidInputError(
                f"{func}(): param_index must lie in [0, {params.size - 1}], "
                f"got values {pidx.min()}..{pidx.max()}"
            )
    return Regimens(mask, value, start, params, pidx)


def _pseudo_time(reg: Regimens, tau_floor, func: str) -> Regimens:
    """`reg` with every time constant raised to at least `tau_floor` (None: the median)."""
    tau = reg.params.tau
    if tau_floor is None:
        floor = float(np.median(tau))
    else:
        try:
            floor = float(tau_floor)
        except (TypeError, ValueError):
            floor = float("nan")
        if not (np.isfinite(floor) and floor >= 0):
            raise InvalidInputError(
                f"{func}(): tau_floor must be a number >= 0 (0: the true time constants), "
                f"got {tau_floor!r}"
            )
    if not np.any(tau < floor):
        return reg
    return replace(reg, params=replace(reg.params, tau=np.maximum(tau, floor)))


def _positive(x, name, func, integer=False):
    try:
        v = int(x) if integer else float(x)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(f"{func}(): {name} must be a positive number, got {x!r}") from None
    if (integer and not 0 < v < 2**62) or (not integer and not (np.isfinite(v) and v > 0)):
        raise InvalidInputError(
            f"{func}(): {name} must be a positive number"
            f"{' below 2**62' if integer else ''}, got {x!r}"
        )
    return v


def _threads(x, func):
    """OpenMP thread count: 0 (OpenMP's default) or a positive int."""
    try:
        v = int(x)
    except (TypeError, ValueError, OverflowError):
        v = -1
    if v < 0 or v > 4096 or (isinstance(x, float) and x != v):
        raise InvalidInputError(
            f"{func}(): num_threads must be 0 (OpenMP's default) or a positive integer, got {x!r}"
        )
    return v


#: Largest work a kernel call may need, in node-and-edge evaluations summed over all
#: Runge-Kutta stages and regimens (regimens rounded up to the kernel's 16 lanes), counted
#: optimistically: a steady state takes at least min(max_steps, 50) steps (the bundled model
#: settles from random starts in about 53 accepted steps), a time course at least
#: t_end / min(tau) steps (the step cap), RK4 exactly n_steps. At the kernel's speed on one
#: core (measured 2.6e8 evaluations per second on the bundled model, 1,600 regimens from
#: random starts, load 3 on 2 cores) the limit is about a day; larger calls are refused up
#: front, since no amount of waiting gives their answer.
WORK_LIMIT = 2.5e13
_WORK_RATE = 3e8
_SETTLE_STEPS = 50

#: Progress callback used when a call passes ``progress=None``: None (silent) or a callable
#: ``f(done, total, steps)``. The CLI can set it, e.g. to :func:`stderr_progress`.
progress_hook = None


def stderr_progress(label: str = "mmmech") -> ProgressCallback:
    """A progress callback that prints one line to stderr per report, e.g.
    ``mmmech: steady state: 3 of 120 regimens done, 4,200 steps, 12 s``."""
    start = time.monotonic()

    def report(done: int, total: int, steps: int) -> None:
        print(
            f"{label}: {done} of {total} regimens done, {steps:,} steps, "
            f"{time.monotonic() - start:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    return report


def _progress(progress, func):
    progress = progress_hook if progress is None else progress
    if progress is not None and not callable(progress):
        raise InvalidInputError(
            f"{func}(): progress must be a callable f(done, total, steps) "
            f"or None, got {type(progress).__name__}"
        )
    return progress


def _check_size(func, reg, cm, steps, evals, knob, out_values, num_threads):
    """Refuse, before anything is allocated, a call that needs at least WORK_LIMIT
    evaluations (`steps`: a lower bound of the steps per regimen) or more memory than the
    machine has (one line: the size and how to reduce it)."""
    R, N, E = reg.y0.shape[0], cm.n_nodes, cm.n_edges
    lanes = -(-R // 16) * 16
    work = float(lanes) * (N + E) * evals * steps
    if work > WORK_LIMIT:
        hours = work / _WORK_RATE / 3600
        raise InvalidInputError(
            f"{func}(): refused: needs at least {work:.2g} evaluations ({R} regimens x "
            f"({N} nodes + {E} edges) x {steps:.3g} steps x {evals} stages), about "
            f"{hours:,.0f} h on one core (limit {WORK_LIMIT:.2g}); reduce {knob}, the "
            f"regimens or the model"
        )
    threads = num_threads or (os.cpu_count() or 1)
    need = 8.0 * (out_values + min(threads, -(-R // 16)) * 16 * (13 * N + 8 * E + cm.max_stack))
    _check_memory(
        func, need, "use fewer regimens" + (" or time points" if out_values > 2 * R * N else "")
    )


def _check_memory(func, need, advice):
    """Refuse `need` bytes when the machine does not have that much memory."""
    try:
        have = float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        have = 2.0**40
    if need > have:
        raise InvalidInputError(
            f"{func}(): refused: needs {need / 2**30:,.1f} GiB of memory, "
            f"the machine has {have / 2**30:,.1f} GiB; {advice}"
        )


def steady_state(
    cm: CompiledModel,
    fixed_mask: npt.ArrayLike | None = None,
    fixed_value: npt.ArrayLike | None = None,
    y0: npt.ArrayLike | None = None,
    params: ParamSet | None = None,
    param_index: npt.ArrayLike | None = None,
    tol: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 20000,
    backend: str = "auto",
    num_threads: int = 0,
    n_regimens: int | None = None,
    progress: ProgressCallback | None = None,
    tau_floor: float | None = None,
) -> SteadyState:
    """Integrate R regimens to steady state.

    Parameters
    ----------
    cm : CompiledModel
    fixed_mask : array_like (R, N) of bool, optional
        Nodes held at `fixed_value` in each regimen (knockouts, settings, drug occupancies).
    fixed_value : array_like (R, N), optional
        Values in [0, 1] for the fixed nodes.
    y0 : array_like (R, N), optional
        Initial activities (default: the model's y0 for every regimen).
    params : ParamSet, optional
        P parameter sets (default: the model's own, P = 1).
    param_index : array_like (R,) of int, optional
        Parameter set of each regimen (default 0).
    tol : float
        Steady state where ``max_i max(|dy_i/dt|, tau_i |dy_i/dt|) < tol``: both the rate and
        the distance to each node's target are below `tol`, so slow nodes (large tau) are not
        taken as settled at their start.
    rtol, atol : float
        Step error control of the Dormand-Prince 5(4) integrator.
    max_steps : int
        Step attempts per regimen before giving up (then ``converged`` is False).
    backend : {"auto", "cython", "python"}
    num_threads : int
        OpenMP threads for the Cython backend (0: OpenMP's default).
    progress : callable, optional
        ``progress(done, total, steps)``, called about every second of a long Cython run
        (default: the module's ``progress_hook``). Ctrl-C stops a run promptly with
        KeyboardInterrupt.
    tau_floor : float, optional
        Settling runs in pseudo-time: every time constant below `tau_floor` is raised to it
        (default None: the median time constant of the parameter sets; 0: the true ones). A
        steady state ``y = ymax * B(y)`` does not depend on tau, and the convergence test is
        the distance ``|ymax * B(y) - y|`` for those nodes, so only the path changes: an
        explicit integrator's step is bounded by the smallest tau, and the bundled model's
        1-minute proteasome-activity nodes would otherwise cost about 60 times the steps of
        its 1-hour nodes. A model with two stable states can settle in a different one from
        the same start; pass ``tau_floor=0`` to follow the true time constants.

    Returns
    -------
    SteadyState

    Raises
    ------
    InvalidInputError
        Also when even the least work the call can need (``min(max_steps, 50)`` steps for
        every regimen) exceeds :data:`WORK_LIMIT`, or the memory exceeds the machine's. A call
        that may take long but could also finish soon is not refused: it can be interrupted
        (Ctrl-C) and reports progress (``progress=`` or :data:`progress_hook`).
    """
    func = "steady_state"
    reg = _prepare(cm, fixed_mask, fixed_value, y0, params, param_index, n_regimens, func)
    num_threads = _threads(num_threads, func)
    tol, rtol, atol = (
        _positive(v, n, func) for v, n in ((tol, "tol"), (rtol, "rtol"), (atol, "atol"))
    )
    max_steps = int(_positive(max_steps, "max_steps", func, integer=True))
    progress = _progress(progress, func)
    reg = _pseudo_time(reg, tau_floor, func)
    _check_size(
        func, reg, cm, min(max_steps, _SETTLE_STEPS), 8, "max_steps", 2 * reg.y0.size, num_threads
    )
    if _check_backend(backend, func) == "cython":
        kern = _kernels.load("_logic")
        y, conv, steps, t = kern.steady_state(
            cm, reg, tol, rtol, atol, max_steps, num_threads, progress=progress
        )
    else:
        y, conv, steps, t = _logic_ref.steady_state(
            cm, reg, tol, rtol, atol, max_steps, num_threads, progress=progress
        )
    return SteadyState(y=y, converged=np.asarray(conv, dtype=bool), steps=np.asarray(steps), t=t)


def time_course(
    cm: CompiledModel,
    times: npt.ArrayLike,
    fixed_mask: npt.ArrayLike | None = None,
    fixed_value: npt.ArrayLike | None = None,
    y0: npt.ArrayLike | None = None,
    params: ParamSet | None = None,
    param_index: npt.ArrayLike | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100000,
    backend: str = "auto",
    num_threads: int = 0,
    n_regimens: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Activities at `times` (T,), increasing and >= 0; returns ``(y (R, T, N), ok (R,))``.

    `progress` and the up-front size check as in :func:`steady_state`."""
    func = "time_course"
    reg = _prepare(cm, fixed_mask, fixed_value, y0, params, param_index, n_regimens, func)
    num_threads = _threads(num_threads, func)
    try:
        tarr = np.ascontiguousarray(times, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): times must be numeric, got {times!r:.60}") from None
    if (
        tarr.ndim != 1
        or tarr.size == 0
        or not np.all(np.isfinite(tarr))
        or np.any(tarr < 0)
        or np.any(np.diff(tarr) <= 0)
    ):
        raise InvalidInputError(
            f"{func}(): times must be a non-empty 1-D array of finite, "
            f"strictly increasing values >= 0, got {tarr.tolist()[:5]}"
        )
    rtol, atol = (_positive(v, n, func) for v, n in ((rtol, "rtol"), (atol, "atol")))
    max_steps = int(_positive(max_steps, "max_steps", func, integer=True))
    progress = _progress(progress, func)
    least = min(max_steps, float(tarr[-1]) / float(reg.params.tau.min(axis=1).max()))
    _check_size(
        func,
        reg,
        cm,
        least,
        8,
        "max_steps or the end time",
        float(reg.y0.size) * tarr.size,
        num_threads,
    )
    if _check_backend(backend, func) == "cython":
        kern = _kernels.load("_logic")
        return kern.time_course(
            cm, reg, tarr, rtol, atol, max_steps, num_threads, progress=progress
        )
    return _logic_ref.time_course(
        cm, reg, tarr, rtol, atol, max_steps, num_threads, progress=progress
    )


#: end of classical RK4's stability interval on the negative real axis (|1 + z + z^2/2 + z^3/6
#: + z^4/24| = 1 at z = -2.7853)
_RK4_STABLE = 2.785


def integrate_fixed(
    cm: CompiledModel,
    dt: float,
    n_steps: int,
    fixed_mask: npt.ArrayLike | None = None,
    fixed_value: npt.ArrayLike | None = None,
    y0: npt.ArrayLike | None = None,
    params: ParamSet | None = None,
    param_index: npt.ArrayLike | None = None,
    backend: str = "auto",
    num_threads: int = 0,
    n_regimens: int | None = None,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Classical RK4 with a fixed step: `n_steps` steps of size `dt`; returns y (R, N).

    `progress` and the up-front size check as in :func:`steady_state`."""
    func = "integrate_fixed"
    reg = _prepare(cm, fixed_mask, fixed_value, y0, params, param_index, n_regimens, func)
    num_threads = _threads(num_threads, func)
    dt = _positive(dt, "dt", func)
    n_steps = int(_positive(n_steps, "n_steps", func, integer=True))
    progress = _progress(progress, func)
    _check_size(func, reg, cm, n_steps, 4, "n_steps", reg.y0.size, num_threads)
    # RK4's stability interval on the negative real axis ends near -2.785: a node relaxing with
    # time constant tau is stable only for dt <= 2.785 tau (necessary; coupling can need less).
    # Above it the course grows without bound, finite for many steps, so the finiteness check
    # below would not always see it (the bundled model's proteasome-activity nodes: tau 1 min)
    tau_min = float(reg.params.tau.min())
    if dt > _RK4_STABLE * tau_min:
        raise ConvergenceError(
            f"{func}(): dt={dt:g} is above fixed-step RK4's stability limit "
            f"{_RK4_STABLE * tau_min:.4g} for the smallest time constant tau={tau_min:g}; "
            f"use a smaller dt, or time_course()/steady_state() (adaptive)"
        )
    if _check_backend(backend, func) == "cython":
        kern = _kernels.load("_logic")
        y = kern.rk4_fixed(cm, reg, dt, n_steps, num_threads, progress=progress)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            y = _logic_ref.rk4_fixed(cm, reg, dt, n_steps, num_threads, progress=progress)
    if not np.all(np.isfinite(y)):
        bad = np.nonzero(~np.all(np.isfinite(y), axis=1))[0]
        raise ConvergenceError(
            f"{func}(): fixed-step RK4 diverged in {bad.size} regimen(s) "
            f"(first: {bad[0]}); dt={dt:g} is too large for the smallest "
            f"time constant tau={float(reg.params.tau.min()):g}"
        )
    return y
