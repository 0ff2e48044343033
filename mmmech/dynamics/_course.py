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


def unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(a, axis=0, return_index=True, return_inverse=True)`` of a 2-D array of
    bools or integers, by sorting each row's bytes as one item (memcmp) instead of as a record
    of one field per column (which took most of ``_frozen``'s time; round 11). For bools and
    unsigned integers the order of the unique rows is the same; for other types the rows
    are grouped alike (only the order of the groups may differ). Returns the unique rows,
    each one's first row and every row's index among them (1-D)."""
    x = np.ascontiguousarray(a)
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    if x.dtype.kind == "u" and x.dtype.itemsize > 1:
        x = x.astype(x.dtype.newbyteorder(">"))  # big-endian: byte order is value order
    R = x.shape[0]
    if R == 0 or x.shape[1] == 0:
        inv = np.zeros(R, dtype=np.int64)
        return np.asarray(a)[:1], np.zeros(min(R, 1), dtype=np.int64), inv
    v = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
    _, first, inv = np.unique(v, return_index=True, return_inverse=True)
    return np.asarray(a)[first], first.astype(np.int64), inv.ravel().astype(np.int64)


def _closure(start: np.ndarray, free: np.ndarray, adj: np.ndarray) -> np.ndarray:
    """The nodes (R, N) bool reached from `start` along the rules' literals (`adj` (N, N)
    source -> reader) through each regimen's `free` nodes; computed on the distinct (free,
    start) rows only (a cohort's rows are mostly equal; the product on all R rows also woke
    BLAS threads whose spinning cost about 6% of the network stage's CPU, docs/dynamics.md,
    Speed, round 9)."""
    N = free.shape[1]
    key, _, inv = unique_rows(np.concatenate([free, start], axis=1))
    fr_u, seen_u = key[:, :N], key[:, N:]
    while True:
        nxt = seen_u | (((seen_u.astype(np.float64) @ adj) > 0.0) & fr_u)
        if np.array_equal(nxt, seen_u):
            break
        seen_u = nxt
    return seen_u[inv]


def _literal_graph(cm: Any) -> tuple[np.ndarray, ...]:
    """The rules' literal graph of a compiled model, as :func:`_frozen` and :func:`_frozen_ref`
    read it: ``(has_rule (N,), literal ops, each op's owner node, edge sources, op arguments,
    adj (N, N))`` with ``adj[a, b] = 1`` when node b's rule reads node a."""
    ptr = np.asarray(cm.prog_ptr, dtype=np.int64)
    args = np.asarray(cm.prog_arg, dtype=np.int64)
    src = np.asarray(cm.edge_src, dtype=np.int64)
    N = ptr.size - 1
    lit = np.nonzero(np.asarray(cm.prog_op) == 0)[0]
    owner = np.repeat(np.arange(N), np.diff(ptr))
    adj = np.zeros((N, N))
    adj[src[args[lit]], owner[lit]] = 1.0
    return np.diff(ptr) > 0, lit, owner, src, args, adj


def _frozen(cm: Any, reg: Any, cols: np.ndarray, atol: float) -> np.ndarray:
    """Rule nodes whose activity cannot change in the course, per regimen (R, N) bool: not
    reached from the held inputs `cols` nor from a rule node off its fixed point (``|dy/dt| >
    FREEZE_RATE * atol`` at the start) along the rules' literals through the regimen's free
    nodes. Each regimen's row depends on that regimen alone (results do not depend on the
    batch).

    The same as :func:`_frozen_ref` (tested), with the rates computed only where they decide:
    a free node reached from `cols` is not frozen whatever its rate, so only the other free
    nodes' rates are needed, and those depend only on the start values of these nodes and of
    their rules' sources (none of which a held input reaches), on the node's free flag and on
    the regimen's parameters: they are computed once per distinct such row (a cohort's
    patients mostly share them) instead of for every node of every regimen (round 11).
    """
    has_rule, lit, owner, src, args, adj = _literal_graph(cm)
    fixed = reg.fixed_mask.astype(bool)
    free = has_rule[None, :] & ~fixed
    start = np.zeros_like(free)
    start[:, np.asarray(cols, dtype=np.int64)] = True
    reach = _closure(start, free, adj)
    cand = free & ~reach  # the free nodes whose own rate decides
    nodes = np.flatnonzero(cand.any(axis=0))
    if nodes.size == 0:
        return has_rule[None, :] & ~reach
    lit_n = lit[np.isin(owner[lit], nodes)]
    ycols = np.union1d(nodes, src[args[lit_n]])
    y = np.where(fixed, reg.fixed_value, reg.y0)
    key = np.concatenate(
        [
            np.ascontiguousarray(y[:, ycols], dtype=np.float64).view(np.uint64),
            np.asarray(reg.param_index, dtype=np.int64).reshape(-1, 1).view(np.uint64),
            free[:, nodes].astype(np.uint64),
        ],
        axis=1,
    )
    _, first, inv = unique_rows(key)
    sub = dataclasses.replace(
        reg,
        fixed_mask=reg.fixed_mask[first],
        fixed_value=reg.fixed_value[first],
        y0=reg.y0[first],
        param_index=np.asarray(reg.param_index)[first],
    )
    mdl = _rosenbrock_ref._Model(cm, sub, _rosenbrock_ref.structure(cm))
    with np.errstate(all="ignore"):
        rate = np.abs(mdl.deriv(np.ascontiguousarray(y[first], dtype=np.float64)))
    moving = cand & ~(rate[inv] <= FREEZE_RATE * atol)  # NaN counts as moving
    return has_rule[None, :] & ~_closure(reach | moving, free, adj)


def _frozen_ref(cm: Any, reg: Any, cols: np.ndarray, atol: float) -> np.ndarray:
    """The reference of :func:`_frozen` (rates of every node of every regimen; before round
    11). Rule nodes whose activity cannot change in the course, per regimen (R, N) bool: not
    reached from the held inputs `cols` nor from a rule node off its fixed point (``|dy/dt| >
    FREEZE_RATE * atol`` at the start) along the rules' literals through the regimen's free
    nodes. Each regimen's row depends on that regimen alone (results do not depend on the
    batch)."""
    has_rule, _, _, _, _, adj = _literal_graph(cm)
    N = has_rule.size
    fixed = reg.fixed_mask.astype(bool)
    y = np.where(fixed, reg.fixed_value, reg.y0)
    mdl = _rosenbrock_ref._Model(cm, reg, _rosenbrock_ref.structure(cm))
    with np.errstate(all="ignore"):
        rate = np.abs(mdl.deriv(np.ascontiguousarray(y, dtype=np.float64)))
    free = has_rule[None, :] & ~fixed
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
            rows, _, inv = unique_rows(frozen)
            groups = [(np.nonzero(inv == g)[0], rows[g]) for g in range(rows.shape[0])]

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


#: lanes whose reuse is decided at a time (bounds the gathered (lanes, L, C) input arrays)
_DECIDE_BLOCK = 512


def _within(
    vals: np.ndarray,
    y: np.ndarray,
    src_y0: np.ndarray,
    src_start: np.ndarray,
    lanes: np.ndarray,
    a: int,
    L: int,
    tol: float,
) -> np.ndarray:
    """For each lane of `lanes` (bool, as `lanes`): are its held inputs over intervals ``a ..
    a + L`` within `tol` (max abs) of those over the ``L`` intervals from ``src_start`` and is
    its start state `y` within `tol` of ``src_y0``? The decision of the per-lane loop before
    round 11 (``np.abs(...).max()`` per lane, NaN: not within), for all lanes at once: the
    start states first (small), then the inputs of the lanes whose start is within, grouped by
    their source segment (mostly one), by slices where a group is every lane (no gathered
    copies), in blocks of ``_DECIDE_BLOCK`` lanes otherwise."""
    R = vals.shape[0]
    ok = np.abs(y[lanes] - src_y0[lanes]).max(axis=1, initial=0.0) <= tol
    for sa in np.unique(src_start[ok]).tolist():
        sel = np.flatnonzero(ok & (src_start == sa))
        ln = lanes[sel]
        if ln.size == R:  # every lane (lanes are increasing and distinct)
            d_in = np.abs(vals[:, a : a + L] - vals[:, sa : sa + L]).max(axis=(1, 2), initial=0.0)
            ok[sel] = d_in <= tol
            continue
        for k in range(0, ln.size, _DECIDE_BLOCK):
            b = ln[k : k + _DECIDE_BLOCK]
            d_in = np.abs(vals[b, a : a + L] - vals[b, sa : sa + L]).max(axis=(1, 2), initial=0.0)
            ok[sel[k : k + _DECIDE_BLOCK]] = d_in <= tol
    return ok


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
    prev_y = y
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
            reuse[same] = _within(
                vals, y, src_y0, st[src[same]], np.nonzero(same)[0], a, L, reuse_tol
            )
        prev_y = y
        run = np.nonzero(~reuse)[0]
        y_end = y.copy()
        kept = np.nonzero(reuse)[0]
        if kept.size:
            # each reused lane's outputs copied from its source segment's, the lanes of one
            # source segment at once
            ks = st[src[kept]]
            for sa in np.unique(ks).tolist():
                k_ = kept[ks == sa]
                if k_.size == R:
                    out[:, a + 1 : b + 1] = out[:, sa + 1 : sa + L + 1]
                else:
                    out[k_, a + 1 : b + 1] = out[k_, sa + 1 : sa + L + 1]
            y_end[kept] = src_y1[kept]
        if run.size:
            whole = run.size == R  # no lane reused: the arrays themselves, not copies
            m_run = mask if whole else mask[run]
            y_run = y if whole else y[run]
            res = network_course(
                cm,
                np.ascontiguousarray(m_run),
                np.ascontiguousarray(
                    np.where(m_run.astype(bool), fval if whole else fval[run], y_run)
                ),
                np.ascontiguousarray(y_run),
                cols,
                np.ascontiguousarray(vals[run, a:b] if not whole else vals[:, a:b]),
                dt,
                o,
                **kwargs,
            )
            if whole:
                out[:, a + 1 : b + 1] = res[0][:, 1:]
            else:
                out[run, a + 1 : b + 1] = res[0][:, 1:]
            y_end[run] = res[1]
            ok[run] &= np.asarray(res[2], dtype=bool)
            steps[run] += np.asarray(res[3], dtype=np.int64)
            src[run] = j
            src_y0[run] = y_run
            src_y1[run] = res[1]
        if stats is not None:
            stats["reused"][:, j] = reuse
        y = y_end
    return out, y, ok, steps
