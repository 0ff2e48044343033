"""The network through a whole regimen in one kernel call (the dynamics' network step).

:func:`network_course` integrates R regimens of a compiled model through K consecutive
intervals of ``dt`` model-time units with piecewise-constant held inputs (the drug-target
occupancy nodes ``cols`` take ``values[:, k]`` in interval k) and returns the chosen nodes at the
interval ends. It checks every input, then runs the Rosenbrock course kernel
(``mmmech._kernels._rosenbrock``, Cython, OpenMP over regimens) or its NumPy reference
(``_rosenbrock_ref``): RODAS4 with the exact analytic Jacobian of the logic ODE (default), or the
explicit ``expdp5`` (opt-in, ``method="expdp5"``; measured in docs/dynamics.md, Speed, round 8).

Integration settings used by :func:`mmmech.dynamics.simulate_regimens` and
:func:`mmmech.dynamics.cohort.simulate_cohort` are the module constants below; their accuracy
against the former step-by-step Dormand-Prince path (rtol 1e-6) is measured in
``tests/dynamics/test_course.py`` and ``docs/dynamics.md``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _kernels
from .._guards import check_backend
from .._kernels import _rosenbrock_ref
from ..exceptions import InvalidInputError
from ..simulation import propagate
from ..utils import did_you_mean

__all__ = [
    "network_course",
    "COURSE_RTOL",
    "COURSE_ATOL",
    "COURSE_MAX_STEPS",
    "COURSE_STRETCH",
    "COURSE_JUMP_STEP",
    "COURSE_METHOD",
    "COURSE_METHOD_RTOL",
    "COURSE_REUSE_TOL",
    "periodic_course",
]

#: relative / absolute local error tolerance of the network course (see docs/dynamics.md)
COURSE_RTOL = 3e-4
COURSE_ATOL = 3e-7
#: the integration method (``_rosenbrock_ref.METHODS``) and each method's default tolerances.
#: ``expdp5`` (explicit, opt-in) needs rtol 1e-5 to stay within 2.3e-4 g/dL M-protein of RODAS4
#: on every bundled regimen (at 6e-5, where it matches RODAS4's readout error on VRd and uses 18%
#: fewer attempts, daratumumab alone and Vd move by 1.5e-3 g/dL); at 1e-5 it costs more CPU than
#: RODAS4 on VRd, so RODAS4 stays the default (docs/dynamics.md, Speed, round 8)
COURSE_METHOD = "rodas4"
COURSE_METHOD_RTOL = {"rodas4": (COURSE_RTOL, COURSE_ATOL), "expdp5": (1e-5, 1e-8)}
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
#: cycle periodicity (:func:`periodic_course`): a patient's cycle is copied from the last
#: integrated cycle of the same schedule when its held inputs and its start state are both
#: within this tolerance of that cycle's (max abs); None / 0 turns the reuse off
#: (docs/dynamics.md, Speed, rounds 10-11). 3e-4, the course's own relative tolerance
#: (round 11; 1e-5 before): M-protein within the integrator's own error against rtol 1e-8
COURSE_REUSE_TOL = 3e-4
#: rule nodes that no held input reaches and that are at their fixed point within
#: ``FREEZE_RATE * atol`` per model time unit are held instead of integrated (``freeze``)
FREEZE_RATE = 1e-3


def _frozen(cm: Any, reg: Any, cols: np.ndarray, atol: float) -> np.ndarray:
    """Rule nodes whose activity cannot change in the course, per regimen (R, N) bool: not
    reached from the held inputs `cols` nor from a rule node off its fixed point (``|dy/dt| >
    FREEZE_RATE * atol`` at the start) along the rules' literals through the regimen's free
    nodes. Each regimen's row depends on that regimen alone (results do not depend on the
    batch)."""
    ptr = np.asarray(cm.prog_ptr, dtype=np.int64)
    ops = np.asarray(cm.prog_op)
    args = np.asarray(cm.prog_arg, dtype=np.int64)
    src = np.asarray(cm.edge_src, dtype=np.int64)
    N = ptr.size - 1
    has_rule = np.diff(ptr) > 0
    fixed = reg.fixed_mask.astype(bool)
    y = np.where(fixed, reg.fixed_value, reg.y0)
    mdl = _rosenbrock_ref._Model(cm, reg, _rosenbrock_ref.structure(cm))
    with np.errstate(all="ignore"):
        rate = np.abs(mdl.deriv(np.ascontiguousarray(y, dtype=np.float64)))
    free = has_rule[None, :] & ~fixed
    lit = np.nonzero(ops == 0)[0]
    owner = np.repeat(np.arange(N), np.diff(ptr))
    adj = np.zeros((N, N))
    adj[src[args[lit]], owner[lit]] = 1.0
    seen = free & ~(rate <= FREEZE_RATE * atol)  # NaN counts as moving
    seen[:, np.asarray(cols, dtype=np.int64)] = True
    # the closure on the distinct (free, start) rows only (a cohort's rows are mostly equal;
    # the product on all R rows also woke BLAS threads whose spinning cost about 6% of the
    # network stage's CPU, docs/dynamics.md, Speed, round 9)
    key, inv = np.unique(np.concatenate([free, seen], axis=1), axis=0, return_inverse=True)
    fr_u, seen_u = key[:, :N], key[:, N:]
    while True:
        nxt = seen_u | (((seen_u.astype(np.float64) @ adj) > 0.0) & fr_u)
        if np.array_equal(nxt, seen_u):
            break
        seen_u = nxt
    return has_rule[None, :] & ~seen_u[inv.ravel()]


def _unread(cm: Any, out_nodes: np.ndarray) -> np.ndarray:
    """Rule nodes (N,) bool that no node of `out_nodes` depends on along the rules' literals."""
    ptr = np.asarray(cm.prog_ptr, dtype=np.int64)
    ops = np.asarray(cm.prog_op)
    args = np.asarray(cm.prog_arg, dtype=np.int64)
    src = np.asarray(cm.edge_src, dtype=np.int64)
    N = ptr.size - 1
    seen = np.zeros(N, dtype=bool)
    stack = [int(i) for i in out_nodes]
    seen[stack] = True
    while stack:
        i = stack.pop()
        for a in range(int(ptr[i]), int(ptr[i + 1])):
            if ops[a] == 0:
                j = int(src[args[a]])
                if not seen[j]:
                    seen[j] = True
                    stack.append(j)
    return (np.diff(ptr) > 0) & ~seen


def _reduced(
    cm: Any, reg: Any, frozen: np.ndarray, keep: np.ndarray
) -> tuple[Any, Any, np.ndarray]:
    """The model on the nodes it needs: the rule nodes not `frozen`, the sources their rules
    read and the nodes in `keep` (held inputs, outputs), in their order; the edges no kept rule
    reads dropped. Returns the model, the regimens and the kept nodes' indices."""
    ptr = np.asarray(cm.prog_ptr, dtype=np.int64)
    ops = np.asarray(cm.prog_op)
    args = np.asarray(cm.prog_arg)
    src = np.asarray(cm.edge_src, dtype=np.int64)
    has_rule = np.diff(ptr) > 0
    live = has_rule & ~frozen
    lit = np.repeat(live, np.diff(ptr)) & (ops == 0)
    used = np.zeros(cm.n_edges, dtype=bool)
    used[args[lit]] = True
    need = live | keep
    need[src[used]] = True
    nodes = np.nonzero(need)[0]
    node_map = np.full(need.size, -1, dtype=np.int64)
    node_map[nodes] = np.arange(nodes.size)
    edge_map = np.full(cm.n_edges, -1, dtype=np.int64)
    edge_map[used] = np.arange(int(used.sum()))
    lens = np.where(live, np.diff(ptr), 0)[nodes]
    # ops of the kept rules, node by node in the new order (the old order: nodes are sorted)
    sel = np.repeat(live, np.diff(ptr))
    new_ops = ops[sel]
    new_args = np.array(args[sel], copy=True)
    is_lit = new_ops == 0
    new_args[is_lit] = edge_map[new_args[is_lit]]

    def edges(p: Any) -> Any:
        return dataclasses.replace(
            p,
            w=p.w[:, used],
            n=p.n[:, used],
            ec50=p.ec50[:, used],
            tau=p.tau[:, nodes],
            ymax=p.ymax[:, nodes],
        )

    cm2 = dataclasses.replace(
        cm,
        nodes=tuple(cm.nodes[i] for i in nodes),
        prog_ptr=np.concatenate([[0], np.cumsum(lens)]).astype(ptr.dtype),
        prog_op=new_ops.astype(ops.dtype),
        prog_arg=new_args.astype(args.dtype),
        edge_src=node_map[src[used]].astype(np.asarray(cm.edge_src).dtype),
        edge_dst=node_map[np.asarray(cm.edge_dst)[used]].astype(np.asarray(cm.edge_dst).dtype),
        edge_sign=np.asarray(cm.edge_sign)[used],
        params=edges(cm.params),
        y0=np.asarray(cm.y0)[nodes],
        readouts={k: int(node_map[v]) for k, v in cm.readouts.items() if node_map[v] >= 0},
    )
    reg2 = dataclasses.replace(
        reg,
        params=edges(reg.params),
        fixed_mask=np.ascontiguousarray(reg.fixed_mask[:, nodes]),
        fixed_value=np.ascontiguousarray(reg.fixed_value[:, nodes]),
        y0=np.ascontiguousarray(reg.y0[:, nodes]),
    )
    return cm2, reg2, nodes


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
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = COURSE_MAX_STEPS,
    fixed_steps: int = 0,
    backend: str = "auto",
    num_threads: int = 0,
    stretch: float = COURSE_STRETCH,
    jump_step: bool = COURSE_JUMP_STEP,
    freeze: bool = True,
    prune: bool = False,
    method: str | None = None,
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
    rtol, atol, max_steps : error control (per step) and attempts per interval (rtol, atol:
        None gives the method's default, ``COURSE_METHOD_RTOL``)
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
    freeze : bool
        Hold the rule nodes that cannot change (no held input reaches them and they start at
        their fixed point within ``FREEZE_RATE * atol`` per unit time) instead of integrating
        them: the LU and the stages run on the nodes that move (VRd in ``marrow``: 64 of 75
        rule nodes); the error norm still averages over all N nodes.
    prune : bool
        Nor integrate the rule nodes that no node of `out_nodes` depends on (VRd in
        ``marrow`` with the three readouts: 6 more): the error control then covers only what
        the outputs depend on (readouts of VRd x 12 cycles within 2.6e-5 of a run at rtol 1e-8
        instead of 2.1e-5, 5% fewer attempts, 12% less CPU; docs/dynamics.md). Their entries
        of `y` keep their start values. Off by default: the results would then depend on which
        outputs are asked for (simulate_regimens, with its key nodes, and simulate_cohort
        would differ by 2e-6 g/dL M-protein).
    method : {"rodas4", "expdp5"} or None
        None: ``COURSE_METHOD``. ``rodas4``: RODAS4 with the exact Jacobian (linearly
        implicit); ``expdp5``: the explicit Dormand-Prince 5(4) pair in Lawson form about the
        step's start (no Jacobian, no LU; ``_rosenbrock_ref``, docs/dynamics.md).

    Returns
    -------
    out : (R, K + 1, M)
        ``y[out_nodes]`` at the start and at each interval's end.
    y : (R, N)
        The state at the end (held and frozen nodes: their start values; with `prune`, also
        the nodes no output depends on).
    ok : (R,) bool
        False where an interval ran out of `max_steps` attempts.
    steps : (R,) int64
        Step attempts in all.
    """
    func = "network_course"
    if method is None:
        method = COURSE_METHOD
    if method not in _rosenbrock_ref.METHODS:
        hint = did_you_mean(str(method), _rosenbrock_ref.METHODS)
        raise InvalidInputError(
            f"{func}(): method must be one of {', '.join(_rosenbrock_ref.METHODS)}, got "
            f"{method!r}{hint}"
        )
    if rtol is None:
        rtol = COURSE_METHOD_RTOL[method][0]
    if atol is None:
        atol = COURSE_METHOD_RTOL[method][1]
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
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    if (freeze or prune) and fixed_steps == 0:
        frozen = np.zeros((R, N), dtype=bool)
        if freeze:
            frozen |= _frozen(cm, reg, c, float(atol))
        if prune:
            frozen |= _unread(cm, o)[None, :]
        if frozen.any():
            # regimens with the same frozen nodes share one kernel call
            rows, inv = np.unique(frozen, axis=0, return_inverse=True)
            groups = [(np.nonzero(inv.ravel() == g)[0], rows[g]) for g in range(rows.shape[0])]

    def run(
        cm_: Any, reg_: Any, cols_: Any, vals_: np.ndarray, out_: Any, norm_n: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # one kernel call with this course's settings
        settings = (rtol, atol, max_steps, num_threads, fixed_steps, stretch, jump_step, use_c)
        return _call(cm_, reg_, cols_, vals_, dt, out_, *settings, norm_n, method)

    if not groups:
        return run(cm, reg, c, vals, o)
    out = np.empty((R, vals.shape[1] + 1, o.size))
    y = np.empty((R, N))
    ok = np.empty(R, dtype=bool)
    steps = np.empty(R, dtype=np.int64)
    for idx, fz in groups:
        whole = idx.size == R
        sub = (
            reg
            if whole
            else dataclasses.replace(
                reg,
                fixed_mask=reg.fixed_mask[idx],
                fixed_value=reg.fixed_value[idx],
                y0=reg.y0[idx],
                param_index=reg.param_index[idx],
            )
        )
        vg = vals if whole else np.ascontiguousarray(vals[idx])
        start = np.where(sub.fixed_mask.astype(bool), sub.fixed_value, sub.y0)
        if fz.any():
            keep = np.zeros(N, dtype=bool)
            keep[c] = True
            keep[o] = True
            cm_g, reg_g, kept = _reduced(cm, sub, fz, keep)
            where = np.full(N, -1, dtype=np.int64)
            where[kept] = np.arange(kept.size)
            res = run(cm_g, reg_g, where[c], vg, where[o], N)
            yg = np.array(start, dtype=np.float64, copy=True)  # frozen nodes end as they start
            yg[:, kept] = res[1]
        else:
            res = run(cm, sub, c, vg, o)
            yg = res[1]
        out[idx], y[idx], ok[idx], steps[idx] = res[0], yg, res[2], res[3]
    return out, y, ok, steps


def _call(
    cm: Any,
    reg: Any,
    cols: Any,
    vals: np.ndarray,
    dt: float,
    out_nodes: Any,
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int,
    fixed_steps: int,
    stretch: float,
    jump_step: bool,
    use_c: bool,
    norm_n: int = 0,
    method: str = "rodas4",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One call of the kernel (or the reference) with checked inputs."""
    args = (
        cm,
        reg,
        np.ascontiguousarray(cols, dtype=np.int64),
        vals,
        float(dt),
        np.ascontiguousarray(out_nodes, dtype=np.int64),
        float(rtol),
        float(atol),
        int(max_steps),
        int(num_threads),
        0.05,
        int(fixed_steps),
        float(stretch),
        bool(jump_step),
        int(norm_n),
        str(method),
    )
    if use_c:
        return tuple(_kernels.load("_rosenbrock").course(*args))  # type: ignore[return-value]
    with np.errstate(all="ignore"):
        return _rosenbrock_ref.course(*args)


def periodic_course(
    cm: Any,
    fixed_mask: npt.ArrayLike,
    fixed_value: npt.ArrayLike,
    y0: npt.ArrayLike,
    cols: npt.ArrayLike,
    values: npt.ArrayLike,
    dt: float,
    out_nodes: npt.ArrayLike,
    starts: npt.ArrayLike,
    keys: npt.ArrayLike,
    *,
    reuse_tol: float = COURSE_REUSE_TOL,
    stats: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`network_course` segment by segment (a regimen's cycles), copying a segment's course
    from the last integrated one of the same schedule where nothing would change it.

    The course of a segment depends only on the state at its start and on the held inputs over
    it. Segment j of regimen r is not integrated but copied from the segment s it was last
    integrated in (its outputs, and its end state as segment j's end state) when

    - ``keys[r, j] == keys[r, s] >= 0`` (the same schedule: the caller's key, e.g. the phase and
      the doses relative to the cycle's day 1; a negative key never reuses nor serves),
    - the segments have the same number of intervals,
    - ``max |values[r, j] - values[r, s]| <= reuse_tol`` over all intervals and inputs, and
    - ``max |y_start(j) - y_start(s)| <= reuse_tol`` over all nodes.

    The comparisons are against the segment that is copied (not the previous one), so slowly
    drifting inputs cannot accumulate into a larger difference. The decision is per regimen
    (lane): the results do not depend on which other regimens are in the call.

    Parameters
    ----------
    starts : (S + 1,) int
        Interval indices of the segments' boundaries: ``0 = starts[0] < ... < starts[S] = K``.
    keys : (R, S) int
        Schedule key of each regimen's segment (equal keys: the same doses relative to the
        segment's start; < 0: never reused).
    reuse_tol : float >= 0
        0: every segment is integrated (segment by segment: the step-size controller restarts
        at each boundary, so the results differ from one :func:`network_course` call at the
        level of the error control).
    stats : dict, optional
        Filled with ``reused`` (R, S) bool, ``d_input`` and ``d_state`` (R, S): each segment's
        largest differences from the previous segment (NaN for the first and after a change of
        length), for measurement.
    kwargs
        As :func:`network_course`.

    Returns
    -------
    As :func:`network_course` (``steps``: attempts of the integrated segments only).
    """
    func = "periodic_course"
    vals = np.ascontiguousarray(values, dtype=np.float64)
    st = np.asarray(starts)
    if vals.ndim != 3:
        raise InvalidInputError(f"{func}(): values must have shape (regimens, intervals, inputs)")
    R, K = vals.shape[:2]
    if (
        st.ndim != 1
        or st.dtype.kind not in "iu"
        or st.size < 2
        or st[0] != 0
        or st[-1] != K
        or np.any(np.diff(st) < 1)
    ):
        raise InvalidInputError(
            f"{func}(): starts must be increasing interval indices from 0 to {K}, got {st!r}"
        )
    S = st.size - 1
    ky = np.asarray(keys)
    if ky.shape != (R, S) or ky.dtype.kind not in "iu":
        raise InvalidInputError(f"{func}(): keys must be integers of shape ({R}, {S})")
    if not (isinstance(reuse_tol, (int, float)) and np.isfinite(reuse_tol) and reuse_tol >= 0):
        raise InvalidInputError(f"{func}(): reuse_tol must be a number >= 0, got {reuse_tol!r}")
    mask = np.asarray(fixed_mask)
    fval = np.asarray(fixed_value, dtype=np.float64)
    y = np.where(mask.astype(bool), fval, np.asarray(y0, dtype=np.float64))
    if y.shape[0] != R:
        raise InvalidInputError(f"{func}(): values has {R} regimens, the masks {y.shape[0]}")
    o = np.asarray(out_nodes)
    out = np.empty((R, K + 1, o.size))
    out[:, 0] = y[:, o] if o.size else 0.0
    ok = np.ones(R, dtype=bool)
    steps = np.zeros(R, dtype=np.int64)
    # per lane: the segment last integrated (-1: none), its start and end states
    src = np.full(R, -1, dtype=np.int64)
    src_y0 = np.zeros_like(y)
    src_y1 = np.zeros_like(y)
    if stats is not None:
        stats["reused"] = np.zeros((R, S), dtype=bool)
        stats["d_input"] = np.full((R, S), np.nan)
        stats["d_state"] = np.full((R, S), np.nan)
    prev_y = y.copy()
    lane = np.arange(R)
    for j in range(S):
        a, b = int(st[j]), int(st[j + 1])
        L = b - a
        if stats is not None and j > 0 and int(st[j]) - int(st[j - 1]) == L:
            pa = int(st[j - 1])
            stats["d_input"][:, j] = np.abs(vals[:, a:b] - vals[:, pa:a]).max(axis=(1, 2))
            stats["d_state"][:, j] = np.abs(y - prev_y).max(axis=1)
        reuse = np.zeros(R, dtype=bool)
        if reuse_tol > 0:
            has = src >= 0
            srcs = np.where(has, src, 0)
            same = has & (ky[lane, j] >= 0) & (ky[lane, srcs] == ky[lane, j])
            same &= (st[srcs + 1] - st[srcs]) == L
            for r in np.nonzero(same)[0]:
                sa = int(st[src[r]])
                d_in = np.abs(vals[r, a:b] - vals[r, sa : sa + L]).max()
                d_y = np.abs(y[r] - src_y0[r]).max()
                reuse[r] = bool(d_in <= reuse_tol and d_y <= reuse_tol)
        prev_y = y.copy()
        run = np.nonzero(~reuse)[0]
        y_end = y.copy()
        for r in np.nonzero(reuse)[0]:
            sa = int(st[src[r]])
            out[r, a + 1 : b + 1] = out[r, sa + 1 : sa + L + 1]
            y_end[r] = src_y1[r]
        if run.size:
            res = network_course(
                cm,
                np.ascontiguousarray(mask[run]),
                np.ascontiguousarray(np.where(mask[run].astype(bool), fval[run], y[run])),
                np.ascontiguousarray(y[run]),
                cols,
                np.ascontiguousarray(vals[run, a:b]),
                dt,
                o,
                **kwargs,
            )
            out[run, a + 1 : b + 1] = res[0][:, 1:]
            y_end[run] = res[1]
            ok[run] &= np.asarray(res[2], dtype=bool)
            steps[run] += np.asarray(res[3], dtype=np.int64)
            src[run] = j
            src_y0[run] = y[run]
            src_y1[run] = res[1]
        if stats is not None:
            stats["reused"][:, j] = reuse
        y = y_end
    return out, y, ok, steps
