"""A pathway model compiled into flat arrays: the only thing the kernels see.

Semantics (logic-based ODEs in the Netflux tradition, Kraeutler et al., BMC Syst Biol 2010;
4:157, DOI:10.1186/1752-0509-4-157). Every node ``i`` has an activity ``y_i`` in [0, 1]:

* a node **with a rule** follows ``dy_i/dt = (ymax_i * F_i(y) - y_i) / tau_i``;
* a node **without a rule** holds its initial value (an input);
* a **fixed** node (per regimen: a knockout, a ``--set`` value, a drug's occupancy) holds its
  fixed value whatever its rule says.

``F_i`` evaluates the node's Boolean rule with continuous operators. Each occurrence of an
input ``j`` goes through the edge ``e = (j -> i)``: ``h_e(y_j) = w_e * f(y_j; n_e, EC50_e)``
with the normalized Hill function ``f(x) = B x^n / (K^n + x^n)``, ``B = (EC50^n - 1) /
(2 EC50^n - 1)``, ``K^n = B - 1`` (so ``f(0) = 0``, ``f(EC50) = 1/2``, ``f(1) = 1``), and
``f(x) = x`` exactly when ``n = 1`` and ``EC50 = 0.5`` (the limit of the formula, used for drug
occupancy edges). Then ``NOT a = 1 - a``, ``a AND b = a * b``, ``a OR b = 1 - (1 - a)(1 - b)``
(both associative, so n-ary forms are chains of binary ones), constants ``0`` and ``1``.
Inputs are clipped to [0, 1] before the Hill function. Parameters must satisfy ``w`` in
[0, 1], ``n > 0``, ``0 < EC50`` and ``EC50^n < 1/2`` (else ``B`` is not positive).

Rules are stored as postfix programs, one per node, in CSR layout:
``prog_op[prog_ptr[i]:prog_ptr[i+1]]`` with arguments in ``prog_arg``. Opcodes:

=========  ===  ==========================================================
OP_LIT      0   push ``h_e(y[edge_src[e]])`` with ``e = arg``
OP_NOT      1   pop ``a``; push ``1 - a``
OP_AND      2   pop ``b``, pop ``a``; push ``a * b``
OP_OR       3   pop ``b``, pop ``a``; push ``1 - (1 - a) * (1 - b)``
OP_CONST    4   push ``float(arg)`` (0 or 1)
=========  ===  ==========================================================

An empty program means "no rule". ``max_stack`` bounds the evaluation stack depth.

Parameters may vary per regimen (ensembles): a :class:`ParamSet` holds ``P`` sets
(``w, n, ec50`` of shape (P, E); ``tau, ymax`` of shape (P, N)) and each regimen picks one
through ``param_index`` (R,).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._kernels._bytecode import OP_AND, OP_CONST, OP_LIT, OP_NOT, OP_OR, hill_coefficients
from ..exceptions import InvalidInputError, UnknownNodeError
from ..network.logic import literals, parse_rule
from ..network.model import PathwayModel
from ..utils import did_you_mean

__all__ = [
    "OP_LIT",
    "OP_NOT",
    "OP_AND",
    "OP_OR",
    "OP_CONST",
    "CompiledModel",
    "ParamSet",
    "compile_rules",
    "compile_model",
    "hill_coefficients",
    "DEFAULT_W",
    "DEFAULT_N",
    "DEFAULT_EC50",
]

DEFAULT_W, DEFAULT_N, DEFAULT_EC50 = 1.0, 1.4, 0.5


@dataclass(frozen=True)
class ParamSet:
    """P parameter sets: ``w, n, ec50`` (P, E) per edge; ``tau, ymax`` (P, N) per node."""

    w: np.ndarray
    n: np.ndarray
    ec50: np.ndarray
    tau: np.ndarray
    ymax: np.ndarray

    @property
    def size(self) -> int:
        return self.w.shape[0]

    def validate(self, n_nodes: int, n_edges: int, func: str = "ParamSet") -> ParamSet:
        """Check shapes, finiteness and the ranges the semantics need; return self."""
        P = self.w.shape[0] if self.w.ndim == 2 else -1
        for name, arr, width in (
            ("w", self.w, n_edges),
            ("n", self.n, n_edges),
            ("ec50", self.ec50, n_edges),
            ("tau", self.tau, n_nodes),
            ("ymax", self.ymax, n_nodes),
        ):
            if arr.ndim != 2 or arr.shape != (P, width) or P < 1:
                raise InvalidInputError(
                    f"{func}(): params.{name} must have shape ({P}, {width}), got {arr.shape}"
                )
            if not np.all(np.isfinite(arr)):
                raise InvalidInputError(f"{func}(): params.{name} must be finite")
        if np.any((self.w < 0) | (self.w > 1)):
            raise InvalidInputError(f"{func}(): edge weights w must lie in [0, 1]")
        if np.any(self.n <= 0):
            raise InvalidInputError(f"{func}(): Hill exponents n must be > 0")
        if np.any(self.ec50 <= 0) or np.any(self.ec50**self.n >= 0.5 + 1e-12):
            bad = np.argwhere((self.ec50 <= 0) | (self.ec50**self.n >= 0.5 + 1e-12))[0]
            raise InvalidInputError(
                f"{func}(): edge {bad[1]} has EC50={self.ec50[tuple(bad)]:.3g}, "
                f"n={self.n[tuple(bad)]:.3g}; the normalized Hill function needs "
                f"0 < EC50 and EC50**n < 0.5 (or exactly n=1, EC50=0.5 for the identity)"
            )
        if np.any(self.tau <= 0):
            raise InvalidInputError(f"{func}(): time constants tau must be > 0")
        if np.any((self.ymax < 0) | (self.ymax > 1)):
            raise InvalidInputError(f"{func}(): ymax must lie in [0, 1]")
        return self


@dataclass(frozen=True)
class CompiledModel:
    """Flat-array form of a pathway model (see the module docstring for the semantics).

    Attributes
    ----------
    nodes : tuple of str, length N
    prog_ptr : ndarray of int64, shape (N + 1,)
    prog_op, prog_arg : ndarray of int32, shape (L,)
    edge_src, edge_dst : ndarray of int32, shape (E,)
        Edge ``e`` carries ``edge_src[e]`` into the rule of ``edge_dst[e]``.
    edge_sign : ndarray of int8, shape (E,)
        +1 activating, -1 inhibiting, 0 both (the literal appears under both parities).
    params : ParamSet with P = 1
        The model's own parameters.
    y0 : ndarray, shape (N,)
        Initial activities (and the held value of nodes without a rule).
    max_stack : int
    readouts : dict str -> int
        Readout names (viability, apoptosis, ...) to node indices.
    """

    nodes: tuple
    prog_ptr: np.ndarray
    prog_op: np.ndarray
    prog_arg: np.ndarray
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_sign: np.ndarray
    params: ParamSet
    y0: np.ndarray
    max_stack: int
    readouts: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return int(self.edge_src.shape[0])

    @property
    def has_rule(self) -> np.ndarray:
        """Boolean mask (N,): nodes whose activity follows a rule."""
        return np.diff(self.prog_ptr) > 0

    def index(self, name: str) -> int:
        """Index of node `name`; UnknownNodeError with close matches otherwise."""
        try:
            return self._index[name]
        except KeyError:
            raise UnknownNodeError(
                f"unknown node {name!r}{did_you_mean(name, self.nodes)}"
            ) from None

    @property
    def _index(self):
        cache = self.__dict__.get("_index_cache")
        if cache is None:
            cache = {n: i for i, n in enumerate(self.nodes)}
            object.__setattr__(self, "_index_cache", cache)
        return cache

    def edge_index(self, src: str, dst: str) -> int:
        """Index of the edge src -> dst (UnknownNodeError if absent)."""
        s, d = self.index(src), self.index(dst)
        hit = np.nonzero((self.edge_src == s) & (self.edge_dst == d))[0]
        if not hit.size:
            raise UnknownNodeError(f"no edge {src!r} -> {dst!r} in the model")
        return int(hit[0])


def _emit(tree, dst, edges, edge_of, ops, args, depth=0):
    """Append the postfix program of `tree` for node `dst`; return the max stack depth used."""
    kind = tree[0]
    if kind == "var":
        key = (tree[1], dst)
        if key not in edge_of:
            edge_of[key] = len(edges)
            edges.append(key)
        ops.append(OP_LIT)
        args.append(edge_of[key])
        return depth + 1
    if kind == "const":
        ops.append(OP_CONST)
        args.append(int(tree[1]))
        return depth + 1
    if kind == "not":
        d = _emit(tree[1], dst, edges, edge_of, ops, args, depth)
        ops.append(OP_NOT)
        args.append(-1)
        return d
    op = OP_AND if kind == "and" else OP_OR
    best = _emit(tree[1][0], dst, edges, edge_of, ops, args, depth)
    for child in tree[1][1:]:
        best = max(best, _emit(child, dst, edges, edge_of, ops, args, depth + 1))
        ops.append(op)
        args.append(-1)
    return best


def compile_rules(
    nodes: Sequence[str],
    rules: Mapping[str, str],
    edge_params: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
    tau: Mapping[str, float] | None = None,
    ymax: Mapping[str, float] | None = None,
    y0: Mapping[str, float] | None = None,
    readouts: Mapping[str, str] | None = None,
) -> CompiledModel:
    """Compile rules into a :class:`CompiledModel`.

    Parameters
    ----------
    nodes : sequence of str
        Every node, in the order of the arrays.
    rules : mapping str -> str or parsed tree
        Rule of each node that has one (nodes absent here hold their value).
    edge_params : mapping (src, dst) -> dict with any of ``w``, ``n``, ``ec50``, optional
        Per-edge parameters (defaults w=1, n=1.4, EC50=0.5).
    tau, ymax, y0 : mapping str -> float, optional
        Per-node time constant (default 1), maximal activity (default 1) and initial activity
        (default 0).
    readouts : mapping str -> str, optional
        Readout name -> node name.

    Examples
    --------
    >>> cm = compile_rules(["A", "B", "C"], {"C": "A AND NOT B"})
    >>> cm.prog_op.tolist(), cm.n_edges
    ([0, 0, 1, 2], 2)
    """
    nodes = tuple(nodes)
    if len(set(nodes)) != len(nodes):
        dup = sorted({n for n in nodes if nodes.count(n) > 1})
        raise InvalidInputError(f"compile_rules(): duplicate node names {dup}")
    index = {n: i for i, n in enumerate(nodes)}
    edge_params = dict(edge_params or {})
    edges: list[tuple[str, str]] = []
    edge_of: dict[tuple[str, str], int] = {}
    ops: list[int] = []
    args: list[int] = []
    ptr = [0]
    max_stack = 1
    signs = {}
    for name in nodes:
        rule = (rules or {}).get(name)
        if rule is not None:
            tree = parse_rule(rule) if isinstance(rule, str) else rule
            for var in literals(tree):
                if var not in index:
                    raise UnknownNodeError(
                        f"the rule of {name!r} reads unknown node {var!r}{did_you_mean(var, nodes)}"
                    )
            for var, s in literals(tree).items():
                signs[(var, name)] = s
            max_stack = max(max_stack, _emit(tree, name, edges, edge_of, ops, args))
        ptr.append(len(ops))
    for name in rules or {}:
        if name not in index:
            raise UnknownNodeError(
                f"rule given for unknown node {name!r}{did_you_mean(name, nodes)}"
            )
    E, N = len(edges), len(nodes)
    w = np.full(E, DEFAULT_W)
    n = np.full(E, DEFAULT_N)
    ec50 = np.full(E, DEFAULT_EC50)
    for (src, dst), p in edge_params.items():
        if (src, dst) not in edge_of:
            continue  # parameters of an edge the rules do not use
        e = edge_of[(src, dst)]
        w[e] = p.get("w", w[e])
        n[e] = p.get("n", n[e])
        ec50[e] = p.get("ec50", ec50[e])

    def per_node(values, default, what):
        arr = np.full(N, float(default))
        for k, v in (values or {}).items():
            if k not in index:
                raise UnknownNodeError(
                    f"{what} given for unknown node {k!r}{did_you_mean(k, nodes)}"
                )
            arr[index[k]] = float(v)
        return arr

    params = ParamSet(
        w=w[None, :].copy(),
        n=n[None, :].copy(),
        ec50=ec50[None, :].copy(),
        tau=per_node(tau, 1.0, "tau")[None, :],
        ymax=per_node(ymax, 1.0, "ymax")[None, :],
    ).validate(N, E, "compile_rules")
    y0_arr = per_node(y0, 0.0, "y0")
    if np.any((y0_arr < 0) | (y0_arr > 1)):
        raise InvalidInputError("compile_rules(): initial activities y0 must lie in [0, 1]")
    ro = {}
    for key, node in (readouts or {}).items():
        if node not in index:
            raise UnknownNodeError(
                f"readout {key!r} names unknown node {node!r}{did_you_mean(node, nodes)}"
            )
        ro[key] = index[node]
    return CompiledModel(
        nodes=nodes,
        prog_ptr=np.asarray(ptr, dtype=np.int64),
        prog_op=np.asarray(ops, dtype=np.int32),
        prog_arg=np.asarray(args, dtype=np.int32),
        edge_src=np.asarray([index[s] for s, _ in edges], dtype=np.int32),
        edge_dst=np.asarray([index[d] for _, d in edges], dtype=np.int32),
        edge_sign=np.asarray([signs[k] for k in edges], dtype=np.int8),
        params=params,
        y0=y0_arr,
        max_stack=int(max_stack),
        readouts=ro,
    )


def compile_model(
    model: PathwayModel,
    extra_nodes: Sequence[str] = (),
    rules: Mapping[str, str] | None = None,
    edge_params: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
    y0: Mapping[str, float] | None = None,
    ymax: Mapping[str, float] | None = None,
    tau: Mapping[str, float] | None = None,
    parameter_values: Mapping[str, float] | None = None,
) -> CompiledModel:
    """Compile a pathway model into a :class:`~mmmech.simulation.compiled.CompiledModel`.

    Parameters
    ----------
    extra_nodes : sequence of str
        Nodes added after the model's own (drug inputs, implicit basal inputs).
    rules : mapping str -> str, optional
        Rules replacing the model's (for nodes drugs attach to).
    edge_params : mapping (src, dst) -> dict, optional
        Extra or overriding edge parameters (drug identity edges).
    y0, ymax, tau : mapping str -> float, optional
        Overrides of node values.
    parameter_values : mapping str -> float, optional
        Values of named parameters (default: their curated defaults).
    """
    names = list(model.nodes) + [n for n in extra_nodes if n not in model.nodes]
    all_rules = model.rules
    all_rules.update(rules or {})
    ep: dict[tuple[str, str], Mapping[str, float]] = {}
    ep.update(model.edge_params(parameter_values))
    ep.update(edge_params or {})
    y0s = {n.name: n.y0 for n in model.nodes.values()}
    y0s.update(y0 or {})
    ymaxs = {n.name: n.ymax for n in model.nodes.values()}
    ymaxs.update(ymax or {})
    taus = {n.name: n.tau for n in model.nodes.values()}
    taus.update(tau or {})
    return compile_rules(
        names, all_rules, ep, tau=taus, ymax=ymaxs, y0=y0s, readouts=model.readouts
    )
