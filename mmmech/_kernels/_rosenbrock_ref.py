"""NumPy reference of the linearly implicit (Rosenbrock) course kernel ``_rosenbrock.pyx``.

The logic ODE (``docs/semantics.md``) ``dy_i/dt = free_i (ymax_i F_i(y) - y_i) / tau_i`` is
integrated through K consecutive intervals of length `dt` with piecewise-constant held inputs:
in interval k the nodes ``cols`` are held at ``values[:, k]`` (every regimen holds them: they must
be fixed). This is what :mod:`mmmech.dynamics` needs for a regimen in time (one interval per time
step of piecewise-constant drug occupancies), in one call instead of one call per step.

Method
------
RODAS4, the 6-stage, order-4, L-stable and stiffly accurate Rosenbrock method of Hairer & Wanner
(Solving ODEs II, 2nd ed. 1996, IV.7) with an embedded order-3 estimate (coefficients as read in
the generic KPP form of FATODE, ``FWD/ROS/ROS_f90_Integrator.F90``, subroutine ``Rodas4``; on the
myeloma model under VRd it needed fewer than half the steps of the 4-stage order-3 RODAS3 of the
same file for a 7x smaller error, measured)::

    W = I / (h gamma) - J(y)
    U_i = y + sum_j A_ij K_j;   W K_i = f(U_i) + sum_j (C_ij / h) K_j
    y_new = y + sum_j M_j K_j;  err = sum_j E_j K_j

with the **exact analytic Jacobian** ``J`` of the logic ODE: the rules are products of literals
(``AND``: ``a b``; ``OR``: ``1 - (1 - a)(1 - b)``; ``NOT``: ``1 - a``), each literal occurring once,
so ``dF_i/dliteral`` follows from one reverse pass over the rule program, and the normalized Hill
literal ``h = w B x^n / (K^n + x^n)`` has ``dh/dx = w B n x^(n-1) K^n / (K^n + x^n)^2`` (0 where the
source activity lies outside [0, 1], where the literal clips it). Error control as the
Dormand-Prince kernels (``_logic_ref``): ``sqrt(mean_i (err_i / (atol + rtol max(|y_i|,
|y_new,i|)))^2) <= 1`` over all N nodes; step factor ``clip(0.9 err^(-1/4), 0.2, 5)``, no increase
right after a rejection; an accepted state is clipped to [0, 1]. The step is carried over from
one interval to the next (capped at the interval's end only for that step). No stability cap:
the method is L-stable, so a settled network takes one step per interval.

This reference solves each W densely (``numpy.linalg.solve``); the Cython kernel factors it
sparsely in a fixed order (strongly connected components in topological order, then a symbolic
LU without pivoting, :func:`structure`), and rejects and halves a step whose pivot vanishes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._bytecode import OP_AND, OP_CONST, OP_LIT, OP_NOT, OP_OR, hill_coefficients

__all__ = [
    "ROS_GAMMA",
    "ROS_A",
    "ROS_C",
    "ROS_M",
    "ROS_E",
    "ROS_NEWF",
    "ROS_ELO",
    "JUMP_Q",
    "EXP_C",
    "EXP_A",
    "EXP_E",
    "EXP_ELO",
    "EXP_JUMP_Q",
    "METHODS",
    "structure",
    "jacobian",
    "course",
    "course_arrays",
]

# RODAS4 of Hairer & Wanner (KPP generic form; row i holds A_ij / C_ij for j < i), as read in
# FATODE's ROS_f90_Integrator.F90, subroutine Rodas4
_A51, _A52, _A53, _A54 = 1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895
ROS_GAMMA = 0.25
ROS_A = [
    [],
    [1.544],
    [0.9466785280815826, 0.2557011698983284],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817],
    [_A51, _A52, _A53, _A54],
    [_A51, _A52, _A53, _A54, 1.0],
]
ROS_C = [
    [],
    [-5.6688],
    [-2.430093356833875, -0.2063599157091915],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
    [
        8.083246795921522,
        -7.981132988064893,
        -31.52159432874371,
        16.31930543123136,
        -6.058818238834054,
    ],
]
ROS_M = [_A51, _A52, _A53, _A54, 1.0, 1.0]
ROS_E = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
ROS_NEWF = [True] * 6
#: order of the error estimate + 1 (the step factor is err**(-1/ROS_ELO))
ROS_ELO = 4.0
#: step-size factor bounds and safety (as the Dormand-Prince kernels)
FAC_MIN, FAC_MAX, FAC_SAFE = 0.2, 5.0, 0.9
#: the exponent of the local error in h assumed for the first step after the held inputs jump
#: (``jump_step``): on the myeloma model under VRd the first step's error estimate grew like
#: h^1.5-1.6 (measured: 2.3 -> 1.6 -> 1.3 model units gave 2.8 -> 1.6 -> 1.0), not h^4, so the
#: usual factor err^(-1/4) needed about 1.5 rejected attempts per jump
JUMP_Q = 1.5
#: a pivot smaller than this (or not finite) rejects the step and halves it (kernel only)
PIVOT_TINY = 1e-300

#: the course methods: RODAS4 above, or ``expdp5``: the Dormand-Prince 5(4) pair (Dormand &
#: Prince 1980, DOI:10.1016/0771-050X(80)90013-3; coefficients as in SciPy's ``RK45``, with the
#: FSAL row and the error weights of the order-4 companion) applied in Lawson's integrating-factor
#: form to ``dy/dt = -L (y - g) + (N(y) - N(y_n))`` with ``L = free / tau`` (diagonal),
#: ``N(y) = free ymax F(y) / tau`` and ``g = N(y_n) / L`` frozen at the step's start
#: (:func:`course_arrays`, `method`): explicit, no Jacobian, no LU, exact for constant ``F``
METHODS = ("rodas4", "expdp5")
EXP_C = [0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0]
EXP_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
]
#: error weights (order 5 minus order 4; the last one multiplies the FSAL stage)
EXP_E = [-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40]
EXP_ELO = 5.0
#: ``jump_step``'s exponent for ``expdp5`` (chosen on 16 VRd patients x 12 cycles among 1.5-4:
#: 3.51 attempts per 4-h interval at rtol 6e-5, readouts 1.3e-5 from an rtol 1e-8 run; 1.5: 4.15,
#: 1.8e-5; benchmarks/proto_course_methods.py)
EXP_JUMP_Q = 4.0


def _tarjan(n: int, succ: list[list[int]]) -> list[list[int]]:
    """Strongly connected components of a graph on 0..n-1 (iterative Tarjan), in reverse
    topological order (a component comes before every component that reaches it)."""
    index = [-1] * n
    low = [0] * n
    on = [False] * n
    stack: list[int] = []
    comps: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = True
        while work:
            v, i = work[-1]
            if i < len(succ[v]):
                work[-1] = (v, i + 1)
                w = succ[v][i]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on[w] = True
                    work.append((w, 0))
                elif on[w]:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on[w] = False
                        comp.append(w)
                        if w == v:
                            break
                    comps.append(sorted(comp))
    return comps


def structure(cm: Any) -> dict[str, Any]:
    """The model's rule trees and the sparse LU program of ``W = I/(h gamma) - J``.

    Returns a dict of int arrays: ``arg1``/``arg2`` (operands of each program op, -1 if none),
    ``op_node`` (node of each op), ``root`` (last op of each rule node, -1), ``perm`` (rule
    nodes in elimination order: strongly connected components in topological order, so that
    ``W`` is block lower triangular and fill stays inside the components), ``local`` (node ->
    position in `perm`, -1), ``nnz``, ``diag_pos`` (m,), ``lit_pos`` (per op: the entry of W the
    literal's Jacobian term goes to, -1 for non-literals and literals whose source has no rule),
    and the LU program: per pivot k, ``l_ptr``/``l_pos``/``l_row`` (entries below the pivot),
    ``u_ptr``/``u_pos``/``u_col`` (entries right of it), ``upd_ptr``/``upd_dst``/``upd_l``/
    ``upd_u`` (``a[dst] -= a[l] * a[u]``).
    """
    ptr = np.asarray(cm.prog_ptr, dtype=np.int64)
    ops = np.asarray(cm.prog_op, dtype=np.int64)
    args = np.asarray(cm.prog_arg, dtype=np.int64)
    src = np.asarray(cm.edge_src, dtype=np.int64)
    N = ptr.size - 1
    n_ops = ops.size
    has_rule = np.diff(ptr) > 0
    arg1 = np.full(n_ops, -1, dtype=np.int64)
    arg2 = np.full(n_ops, -1, dtype=np.int64)
    op_node = np.full(n_ops, -1, dtype=np.int64)
    root = np.full(N, -1, dtype=np.int64)
    for i in range(N):
        st: list[int] = []
        for a in range(int(ptr[i]), int(ptr[i + 1])):
            op_node[a] = i
            o = int(ops[a])
            if o in (OP_LIT, OP_CONST):
                st.append(a)
            elif o == OP_NOT:
                arg1[a] = st.pop()
                st.append(a)
            elif o in (OP_AND, OP_OR):
                arg2[a] = st.pop()
                arg1[a] = st.pop()
                st.append(a)
            else:  # pragma: no cover - compiled models hold only these opcodes
                raise ValueError(f"_rosenbrock structure: unknown opcode {o}")
        if ptr[i + 1] > ptr[i]:
            if len(st) != 1:
                raise ValueError(f"_rosenbrock structure: rule of node {i} leaves {len(st)} values")
            root[i] = st[0]
    rules = np.nonzero(has_rule)[0]
    m = rules.size
    rloc = np.full(N, -1, dtype=np.int64)
    rloc[rules] = np.arange(m)
    succ: list[list[int]] = [[] for _ in range(m)]
    lit_entries = []  # (op, row local, col local) in rule-node numbering
    for a in np.nonzero(ops == OP_LIT)[0].tolist():
        s = int(src[args[a]])
        i = int(op_node[a])
        if has_rule[s]:
            lit_entries.append((int(a), int(rloc[i]), int(rloc[s])))
            if rloc[s] != rloc[i]:
                succ[int(rloc[s])].append(int(rloc[i]))
    comps = _tarjan(m, succ)
    order = [v for comp in reversed(comps) for v in comp]
    perm = rules[np.asarray(order, dtype=np.int64)] if m else np.zeros(0, dtype=np.int64)
    pos_of = np.empty(m, dtype=np.int64)
    pos_of[np.asarray(order, dtype=np.int64)] = np.arange(m)
    P = np.eye(m, dtype=bool)
    for _, ri, ci in lit_entries:
        P[pos_of[ri], pos_of[ci]] = True
    for k in range(m):
        rows = np.nonzero(P[k + 1 :, k])[0] + k + 1
        cols = np.nonzero(P[k, k + 1 :])[0] + k + 1
        if rows.size and cols.size:
            P[np.ix_(rows, cols)] = True
    pos = np.full((m, m), -1, dtype=np.int64)
    pos[P] = np.arange(int(P.sum()))
    local = np.full(N, -1, dtype=np.int64)
    local[perm] = np.arange(m)
    lit_pos = np.full(n_ops, -1, dtype=np.int64)
    for a, ri, ci in lit_entries:
        lit_pos[a] = pos[pos_of[ri], pos_of[ci]]
    l_ptr, l_pos, l_row = [0], [], []
    u_ptr, u_pos, u_col = [0], [], []
    upd_ptr, upd_dst, upd_l, upd_u = [0], [], [], []
    for k in range(m):
        rows = np.nonzero(P[k + 1 :, k])[0] + k + 1
        cols = np.nonzero(P[k, k + 1 :])[0] + k + 1
        l_pos += [int(pos[i, k]) for i in rows]
        l_row += [int(i) for i in rows]
        u_pos += [int(pos[k, j]) for j in cols]
        u_col += [int(j) for j in cols]
        for i in rows.tolist():
            for j in cols.tolist():
                upd_dst.append(int(pos[i, j]))
                upd_l.append(int(pos[i, k]))
                upd_u.append(int(pos[k, j]))
        l_ptr.append(len(l_pos))
        u_ptr.append(len(u_pos))
        upd_ptr.append(len(upd_dst))

    def i64(x: Any) -> NDArray[np.int64]:
        return np.ascontiguousarray(np.asarray(x, dtype=np.int64))

    return {
        "arg1": arg1,
        "arg2": arg2,
        "op_node": op_node,
        "root": root,
        "perm": i64(perm),
        "local": local,
        "nnz": int(P.sum()),
        "diag_pos": i64([pos[k, k] for k in range(m)]),
        "lit_pos": lit_pos,
        "l_ptr": i64(l_ptr),
        "l_pos": i64(l_pos),
        "l_row": i64(l_row),
        "u_ptr": i64(u_ptr),
        "u_pos": i64(u_pos),
        "u_col": i64(u_col),
        "upd_ptr": i64(upd_ptr),
        "upd_dst": i64(upd_dst),
        "upd_l": i64(upd_l),
        "upd_u": i64(upd_u),
    }


class _Model:
    """Per-regimen parameters (R, E) / (R, N) and the rule trees."""

    def __init__(self, cm: Any, reg: Any, st: dict[str, Any]):
        p = reg.params
        pi = np.asarray(reg.param_index, dtype=np.int64)
        B, Kn, lin = hill_coefficients(p.n, p.ec50)
        self.w, self.n = np.asarray(p.w)[pi], np.asarray(p.n)[pi]
        self.B, self.Kn, self.lin = B[pi], Kn[pi], lin[pi]
        self.tau, self.ymax = np.asarray(p.tau)[pi], np.asarray(p.ymax)[pi]
        self.src = np.asarray(cm.edge_src, dtype=np.int64)
        self.ptr = np.asarray(cm.prog_ptr, dtype=np.int64)
        self.ops = np.asarray(cm.prog_op, dtype=np.int64)
        self.args = np.asarray(cm.prog_arg, dtype=np.int64)
        self.has_rule = np.diff(self.ptr) > 0
        self.free = self.has_rule[None, :] & ~np.asarray(reg.fixed_mask, dtype=bool)
        self.st = st

    def literal(self, y: NDArray[np.float64], e: int) -> tuple[NDArray[np.float64], ...]:
        """(h, dh/dx) of edge e at the source activity (clipped to [0, 1])."""
        raw = y[:, self.src[e]]
        x = np.clip(raw, 0.0, 1.0)
        n, B, Kn, w = self.n[:, e], self.B[:, e], self.Kn[:, e], self.w[:, e]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            xn = x**n
            h = np.where(self.lin[:, e], x, B * xn / (Kn + xn))
            d = np.where(
                x > 0,
                B * n * xn * Kn / (x * (Kn + xn) ** 2),
                np.where(n == 1.0, B / Kn, 0.0),
            )
            d = np.where(self.lin[:, e], 1.0, d)
        d = np.where((raw < 0.0) | (raw > 1.0), 0.0, d)
        return w * h, w * d

    def values(self, y: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        """Per-op values (R, n_ops), literal derivatives (R, n_ops) and dy/dt (R, N)."""
        R, N = y.shape
        v = np.zeros((R, self.ops.size))
        dl = np.zeros((R, self.ops.size))
        a1, a2 = self.st["arg1"], self.st["arg2"]
        for a, o in enumerate(self.ops):
            if o == OP_LIT:
                v[:, a], dl[:, a] = self.literal(y, int(self.args[a]))
            elif o == OP_CONST:
                v[:, a] = float(self.args[a])
            elif o == OP_NOT:
                v[:, a] = 1.0 - v[:, a1[a]]
            elif o == OP_AND:
                v[:, a] = v[:, a1[a]] * v[:, a2[a]]
            elif o == OP_OR:
                v[:, a] = 1.0 - (1.0 - v[:, a1[a]]) * (1.0 - v[:, a2[a]])
        F = np.zeros((R, N))
        rt = self.st["root"]
        has = rt >= 0
        F[:, has] = v[:, rt[has]]
        dy = np.where(self.free, (self.ymax * F - y) / self.tau, 0.0)
        return v, dl, dy

    def deriv(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.values(y)[2]

    def jacobian(self, y: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        """(J (R, N, N), dy/dt (R, N)): the exact Jacobian by one reverse pass per rule."""
        v, dl, dy = self.values(y)
        R, N = y.shape
        J = np.zeros((R, N, N))
        a1, a2, rt = self.st["arg1"], self.st["arg2"], self.st["root"]
        adj = np.zeros_like(v)
        for i in np.nonzero(self.has_rule)[0]:
            adj[:, rt[i]] = 1.0
            for a in range(int(self.ptr[i + 1]) - 1, int(self.ptr[i]) - 1, -1):
                o = self.ops[a]
                if o == OP_NOT:
                    adj[:, a1[a]] = -adj[:, a]
                elif o == OP_AND:
                    adj[:, a1[a]] = adj[:, a] * v[:, a2[a]]
                    adj[:, a2[a]] = adj[:, a] * v[:, a1[a]]
                elif o == OP_OR:
                    adj[:, a1[a]] = adj[:, a] * (1.0 - v[:, a2[a]])
                    adj[:, a2[a]] = adj[:, a] * (1.0 - v[:, a1[a]])
                elif o == OP_LIT:
                    s = int(self.src[self.args[a]])
                    if self.has_rule[s]:
                        J[:, i, s] += self.ymax[:, i] / self.tau[:, i] * adj[:, a] * dl[:, a]
            J[:, i, i] -= 1.0 / self.tau[:, i]
        J *= self.free[:, :, None]
        return J, dy


def jacobian(cm: Any, reg: Any, y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact Jacobian d(dy/dt)/dy (R, N, N) of the logic ODE at states `y` (R, N).

    Columns of nodes without a rule are zero: those nodes are constant (dy/dt = 0), so their
    column never multiplies a change; rows of held (fixed) nodes are zero."""
    return _Model(cm, reg, structure(cm)).jacobian(np.asarray(y, dtype=float))[0]


def course(
    cm: Any,
    reg: Any,
    cols: Any,
    values: Any,
    dt: float,
    out_nodes: Any,
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int = 0,
    h0: float = 0.05,
    fixed_steps: int = 0,
    stretch: float = 1.0,
    jump_step: bool = False,
    norm_n: int = 0,
    method: str = "rodas4",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    """Kernel signature (``reg``: :class:`mmmech.simulation.propagate.Regimens`); see
    :func:`course_arrays`. `num_threads` is accepted and ignored."""
    return course_arrays(
        cm,
        reg,
        cols,
        values,
        dt,
        out_nodes,
        rtol,
        atol,
        max_steps,
        h0,
        fixed_steps,
        stretch,
        jump_step,
        norm_n,
        method,
    )


def course_arrays(
    cm: Any,
    reg: Any,
    cols: Any,
    values: Any,
    dt: float,
    out_nodes: Any,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100000,
    h0: float = 0.05,
    fixed_steps: int = 0,
    stretch: float = 1.0,
    jump_step: bool = False,
    norm_n: int = 0,
    method: str = "rodas4",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    """Integrate R regimens through K intervals of length `dt`.

    Parameters
    ----------
    cols : (C,) int
        Nodes held at ``values[:, k, c]`` in interval k (fixed in every regimen).
    values : (R, K, C) float
    out_nodes : (M,) int
        Nodes reported at the interval ends.
    fixed_steps : int
        0 (default): adaptive steps with error control. n > 0: exactly n steps of ``dt / n``
        per interval, every step accepted (no error control; a step whose pivot vanishes in the
        kernel is still halved); its accuracy is the caller's to test.
    stretch : float in [1, 1.1]
        A step that would leave less than ``(stretch - 1) h`` of the interval is stretched to
        its end (1: today's rule, the step is only shortened to meet the end; 1.1 saves the
        sliver step that often follows, as Hairer's codes stretch by 1%). At most 1 / FAC_SAFE:
        a rejected step shrinks to <= 0.9 of itself, so a larger stretch could retry the same
        stretched step until `max_steps`.
    jump_step : bool
        False: the step carried over from the previous interval is tried first after the held
        inputs jump. True (adaptive steps only): each interval's first step is predicted from
        the previous interval's, ``h = h_j (nf_j / nf)^(1 / JUMP_Q)`` where ``nf = sqrt(mean_i
        (f_i(y) / (atol + rtol |y_i|))^2)`` is the size of the derivative right after the jump
        and ``h_j = h1 clip(0.9 err1^(-1 / JUMP_Q), 0.2, 5)`` comes from the previous
        interval's first accepted step ``h1`` (error ``err1``) at its ``nf_j`` (tried only if
        smaller than the carried step); a rejected first step shrinks by ``clip(0.9
        err^(-1 / JUMP_Q), 0.2, 5)``. Error control is unchanged: only the attempts differ.
        (``expdp5``: ``EXP_JUMP_Q`` instead of ``JUMP_Q``.)
    method : {"rodas4", "expdp5"}
        ``rodas4``: above. ``expdp5``: explicit; each step from ``y_n`` writes the ODE as
        ``dy/dt = -L (y - g) + (N(y) - N(y_n))`` (``L = free / tau``, ``N(y) = free ymax F(y) /
        tau``, ``g = N(y_n) / L`` where ``L > 0``, else 0) and applies the Dormand-Prince 5(4)
        pair (``EXP_*``) to ``u = exp(L t) (y - g)`` (Lawson's integrating factor):
        ``X_s = g + exp(-L c_s h) (z + h sum_j a_sj exp(L c_j h) R_j)``, ``z = y_n - g``,
        ``R_j = N(X_j) - N(y_n)`` (so ``R_0 = 0``); the last stage is the candidate (FSAL: its
        ``N`` starts the next step unless the accepted state was clipped) and the error is
        ``h exp(-L h) sum_j e_j exp(L c_j h) R_j``; step factor ``err^(-1/5)``. A constant ``F``
        (a settled network, or any held node's relaxation) is integrated exactly, so a quiet
        interval takes one step; no Jacobian, LU or solve. Same error norm and step rules as
        RODAS4.

    Returns
    -------
    out : (R, K + 1, M)
        ``y[out_nodes]`` at the start and at the end of each interval.
    y : (R, N)
        State at the end.
    ok : (R,) bool
        False where an interval ran out of `max_steps` attempts (the state is then carried on
        from where it stopped).
    steps : (R,) int64
        Step attempts in all.
    """
    if not 1.0 <= stretch <= 1.1:
        raise ValueError(f"course_arrays(): stretch must be in [1, 1.1], got {stretch!r}")
    if method not in METHODS:
        raise ValueError(f"course_arrays(): method must be one of {METHODS}, got {method!r}")
    if method == "expdp5":
        return _course_exp(
            cm, reg, cols, values, dt, out_nodes, rtol, atol, max_steps, h0, fixed_steps,
            stretch, jump_step, norm_n,
        )  # fmt: skip
    st = structure(cm)
    mdl = _Model(cm, reg, st)
    cols = np.asarray(cols, dtype=np.int64)
    vals = np.asarray(values, dtype=float)
    outn = np.asarray(out_nodes, dtype=np.int64)
    R, K, _ = vals.shape
    y = np.where(
        np.asarray(reg.fixed_mask, dtype=bool), np.asarray(reg.fixed_value), np.asarray(reg.y0)
    ).astype(float)
    N = y.shape[1]
    NN = max(int(norm_n), N)
    rules = np.nonzero(mdl.has_rule)[0]
    out = np.empty((R, K + 1, outn.size))
    out[:, 0] = y[:, outn]
    ok = np.ones(R, dtype=bool)
    steps = np.zeros(R, dtype=np.int64)
    fixed = int(fixed_steps) if fixed_steps and fixed_steps > 0 else 0
    jump = bool(jump_step) and not fixed
    h = np.full(R, float(dt) / fixed if fixed else float(h0))
    hj = np.zeros(R)  # predicted first step of the next interval (0: none yet)
    nfj = np.zeros(R)  # the derivative's size where hj was learned
    nf = np.zeros(R)
    S = len(ROS_M)
    eye = np.eye(rules.size)
    for k in range(K):
        y[:, cols] = vals[:, k]
        t = np.zeros(R)
        tries = np.zeros(R, dtype=np.int64)
        rejected = np.zeros(R, dtype=bool)
        first = np.ones(R, dtype=bool)  # no step accepted yet in this interval
        while True:
            active = (t < dt * (1.0 - 1e-12)) & (tries < max_steps)
            if not active.any():
                break
            J, F0 = mdl.jacobian(y)
            if jump:
                start = active & (tries == 0)
                with np.errstate(all="ignore"):
                    nf = np.where(
                        start,
                        np.sqrt(np.sum((F0 / (atol + rtol * np.abs(y))) ** 2, axis=1) / NN),
                        nf,
                    )
                    use = start & (hj > 0.0) & (nfj > 0.0) & (nf > 0.0)
                    hp = np.where(use, hj * (nfj / np.where(use, nf, 1.0)) ** (1.0 / JUMP_Q), h)
                h = np.where(use & (hp < h), hp, h)
            rem = dt - t
            hh = np.where(active, np.where(rem <= stretch * h, rem, h), 1.0)
            Jr = J[:, rules][:, :, rules]
            W = eye[None] / (ROS_GAMMA * hh)[:, None, None] - Jr
            Ks: list[NDArray[np.float64]] = []
            F = F0
            for s in range(S):
                if s > 0 and ROS_NEWF[s]:
                    U = y.copy()
                    for j in range(s):
                        if ROS_A[s][j] != 0.0:
                            U = U + ROS_A[s][j] * Ks[j]
                    F = mdl.deriv(U)
                rhs = F.copy()
                for j in range(s):
                    if ROS_C[s][j] != 0.0:
                        rhs = rhs + (ROS_C[s][j] / hh)[:, None] * Ks[j]
                Kfull = np.zeros((R, N))
                with np.errstate(all="ignore"):
                    Kfull[:, rules] = np.linalg.solve(W, rhs[:, rules, None])[:, :, 0]
                Ks.append(Kfull)
            ynew = y.copy()
            err = np.zeros((R, N))
            for j in range(S):
                if ROS_M[j] != 0.0:
                    ynew = ynew + ROS_M[j] * Ks[j]
                if ROS_E[j] != 0.0:
                    err = err + ROS_E[j] * Ks[j]
            scale = atol + rtol * np.maximum(np.abs(y), np.abs(ynew))
            with np.errstate(all="ignore"):
                en = np.sqrt(np.sum((err / scale) ** 2, axis=1) / NN)
                fac = np.clip(
                    FAC_SAFE * np.maximum(en, 1e-10) ** (-1.0 / ROS_ELO), FAC_MIN, FAC_MAX
                )
                facj = np.clip(
                    FAC_SAFE * np.maximum(en, 1e-10) ** (-1.0 / JUMP_Q), FAC_MIN, FAC_MAX
                )
            good = np.isfinite(en)
            acc = active & good & ((en <= 1.0) | bool(fixed))
            if jump:
                fac = np.where(first & ~acc, facj, fac)
                learn = acc & first
                hj = np.where(learn, hh * facj, hj)
                nfj = np.where(learn, nf, nfj)
                first = first & ~acc
            fac = np.where(good, fac, FAC_MIN)
            if fixed:
                fac = np.where(good, 1.0, fac)
            fac = np.where(acc & rejected, np.minimum(fac, 1.0), fac)
            y = np.where(acc[:, None], np.clip(ynew, 0.0, 1.0), y)
            # a step shortened to meet the interval's end does not shrink the next one
            capped = acc & (hh < h)
            h = np.where(active & ~capped, np.maximum(hh * fac, 1e-10), h)
            h = np.where(capped, np.maximum(h, hh * fac), h)
            if fixed:
                h = np.where(acc, float(dt) / fixed, h)
            t = np.where(acc, np.where(dt - (t + hh) <= 1e-12 * dt, dt, t + hh), t)
            rejected = np.where(active, ~acc, rejected)
            tries += active
            steps += active
        ok &= tries < max_steps
        out[:, k + 1] = y[:, outn]
    return out, y, ok, steps


def _course_exp(
    cm: Any,
    reg: Any,
    cols: Any,
    values: Any,
    dt: float,
    out_nodes: Any,
    rtol: float,
    atol: float,
    max_steps: int,
    h0: float,
    fixed_steps: int,
    stretch: float,
    jump_step: bool,
    norm_n: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    """:func:`course_arrays` with ``method="expdp5"`` (the same bookkeeping as RODAS4)."""
    mdl = _Model(cm, reg, structure(cm))
    cols = np.asarray(cols, dtype=np.int64)
    vals = np.asarray(values, dtype=float)
    outn = np.asarray(out_nodes, dtype=np.int64)
    R, K, _ = vals.shape
    y = np.where(
        np.asarray(reg.fixed_mask, dtype=bool), np.asarray(reg.fixed_value), np.asarray(reg.y0)
    ).astype(float)
    N = y.shape[1]
    NN = max(int(norm_n), N)
    lam = np.where(mdl.free, 1.0 / mdl.tau, 0.0)
    pos = lam > 0.0
    inv_lam = np.where(pos, 1.0 / np.where(pos, lam, 1.0), 0.0)
    out = np.empty((R, K + 1, outn.size))
    out[:, 0] = y[:, outn]
    ok = np.ones(R, dtype=bool)
    steps = np.zeros(R, dtype=np.int64)
    fixed = int(fixed_steps) if fixed_steps and fixed_steps > 0 else 0
    jump = bool(jump_step) and not fixed
    h = np.full(R, float(dt) / fixed if fixed else float(h0))
    hj = np.zeros(R)
    nfj = np.zeros(R)
    S = len(EXP_C)
    c = np.asarray(EXP_C)
    for k in range(K):
        y[:, cols] = vals[:, k]
        t = np.zeros(R)
        tries = np.zeros(R, dtype=np.int64)
        rejected = np.zeros(R, dtype=bool)
        first = np.ones(R, dtype=bool)
        f0 = mdl.deriv(y)
        N0 = f0 + lam * y
        with np.errstate(all="ignore"):
            nf = np.sqrt(np.sum((f0 / (atol + rtol * np.abs(y))) ** 2, axis=1) / NN)
        if jump:
            use = (hj > 0.0) & (nfj > 0.0) & (nf > 0.0)
            with np.errstate(all="ignore"):
                hp = np.where(use, hj * (nfj / np.where(use, nf, 1.0)) ** (1.0 / EXP_JUMP_Q), h)
            h = np.where(use & (hp < h), hp, h)
        while True:
            active = (t < dt * (1.0 - 1e-12)) & (tries < max_steps)
            if not active.any():
                break
            rem = dt - t
            hh = np.where(active, np.where(rem <= stretch * h, rem, h), 1.0)
            al = np.exp(-lam[:, None, :] * c[None, :, None] * hh[:, None, None])  # (R, S, N)
            g = N0 * inv_lam
            z = y - g
            Rt = [np.zeros((R, N))]
            X = y
            for s in range(1, S):
                acc = np.zeros((R, N))
                for j in range(s):
                    if EXP_A[s][j] != 0.0:
                        acc = acc + EXP_A[s][j] * Rt[j]
                X = g + al[:, s] * (z + hh[:, None] * acc)
                Nx = mdl.deriv(X) + lam * X
                Rt.append((Nx - N0) / al[:, s])
            ynew = X
            acc = np.zeros((R, N))
            for j in range(S):
                if EXP_E[j] != 0.0:
                    acc = acc + EXP_E[j] * Rt[j]
            err = hh[:, None] * al[:, S - 1] * acc
            scale = atol + rtol * np.maximum(np.abs(y), np.abs(ynew))
            with np.errstate(all="ignore"):
                en = np.sqrt(np.sum((err / scale) ** 2, axis=1) / NN)
                fac = np.clip(
                    FAC_SAFE * np.maximum(en, 1e-10) ** (-1.0 / EXP_ELO), FAC_MIN, FAC_MAX
                )
                facj = np.clip(
                    FAC_SAFE * np.maximum(en, 1e-10) ** (-1.0 / EXP_JUMP_Q), FAC_MIN, FAC_MAX
                )
            good = np.isfinite(en)
            acc_ = active & good & ((en <= 1.0) | bool(fixed))
            if jump:
                fac = np.where(first & ~acc_, facj, fac)
                learn = acc_ & first
                hj = np.where(learn, hh * facj, hj)
                nfj = np.where(learn, nf, nfj)
                first = first & ~acc_
            fac = np.where(good, fac, FAC_MIN)
            if fixed:
                fac = np.where(good, 1.0, fac)
            fac = np.where(acc_ & rejected, np.minimum(fac, 1.0), fac)
            yc = np.clip(ynew, 0.0, 1.0)
            y = np.where(acc_[:, None], yc, y)
            # FSAL: the last stage's N starts the next step (recomputed where the state clipped)
            N0 = np.where(acc_[:, None], Nx, N0)
            redo = acc_ & np.any(yc != ynew, axis=1)
            if redo.any():
                N0 = np.where(redo[:, None], mdl.deriv(y) + lam * y, N0)
            capped = acc_ & (hh < h)
            h = np.where(active & ~capped, np.maximum(hh * fac, 1e-10), h)
            h = np.where(capped, np.maximum(h, hh * fac), h)
            if fixed:
                h = np.where(acc_, float(dt) / fixed, h)
            t = np.where(acc_, np.where(dt - (t + hh) <= 1e-12 * dt, dt, t + hh), t)
            rejected = np.where(active, ~acc_, rejected)
            tries += active
            steps += active
        ok &= tries < max_steps
        out[:, k + 1] = y[:, outn]
    return out, y, ok, steps


def relax_course(
    eq: NDArray[np.float64],
    decay: NDArray[np.float64],
    mean_w: NDArray[np.float64],
    theta0: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The exact interval recursion of first-order relaxation (binding kinetics,
    :func:`mmmech.dynamics.kinetics.occupancy_course`): for each row and interval i,
    ``mean_i = eq_i + (theta - eq_i) mean_w_i`` and ``theta <- eq_i + (theta - eq_i) decay_i``.

    eq, decay, mean_w : (R, T); theta0 : (R,). Returns ``(end, mean)``, both (R, T)."""
    R, T = eq.shape
    end = np.empty_like(eq)
    mean = np.empty_like(eq)
    th = np.array(theta0, dtype=float, copy=True)
    for i in range(T):
        e = eq[:, i]
        d = th - e
        mean[:, i] = e + d * mean_w[:, i]
        th = e + d * decay[:, i]
        end[:, i] = th
    return end, mean
