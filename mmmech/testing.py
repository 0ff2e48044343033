"""Seeded random inputs for tests and benchmarks of the kernels.

Nothing here is science: these are synthetic networks with the *shape* of real ones (input
nodes that drugs act on, rules with nested AND/OR/NOT, feedback loops, negative edges), used
to compare the Cython kernels with their references and to time them.

Examples
--------
>>> cm = random_logic_model(20, seed=1)
>>> cm.n_nodes, bool(cm.has_rule[4:].all()), bool(cm.has_rule[:4].any())
(20, True, False)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._typing import SeedLike
from .exceptions import InvalidInputError
from .simulation.compiled import CompiledModel, ParamSet, compile_rules
from .utils import check_random_state

__all__ = ["random_logic_model", "random_param_sets", "random_regimens", "random_signed_graph"]


def _random_tree(names, rng, p_not, p_const):
    """Random parse tree over the literals `names` (each used once), nested AND/OR/NOT."""
    if len(names) == 1:
        node = ("var", names[0])
        if rng.random() < p_const:
            const = ("const", float(rng.integers(0, 2)))
            node = ("or" if const[1] == 0.0 else "and", (node, const))
        return ("not", node) if rng.random() < p_not else node
    cut = int(rng.integers(1, len(names)))
    left = _random_tree(names[:cut], rng, p_not, p_const)
    right = _random_tree(names[cut:], rng, p_not, p_const)
    node = ("and" if rng.random() < 0.5 else "or", (left, right))
    return ("not", node) if rng.random() < p_not / 2 else node


def random_logic_model(
    n_nodes: int = 30,
    n_inputs: int = 4,
    max_in: int = 4,
    p_not: float = 0.3,
    p_const: float = 0.05,
    p_linear: float = 0.1,
    p_back: float = 0.15,
    seed: SeedLike = None,
) -> CompiledModel:
    """A random compiled logic model (feedback loops, nested AND/OR/NOT, random parameters).

    Parameters
    ----------
    n_nodes : int
        Total nodes N; the first `n_inputs` (``I0, I1, ...``) have no rule, the rest
        (``X0, X1, ...``) each read 1..`max_in` distinct nodes: with probability `p_back`
        each among all nodes (so cycles and self-loops occur), otherwise among the nodes
        before it (a feed-forward backbone, as in signalling cascades).
    n_inputs : int
    max_in : int
        Largest in-degree of a rule.
    p_not, p_const : float
        Probability of a negation above a literal (half that above a subexpression) and of a
        constant 0/1 joined to a literal.
    p_linear : float
        Fraction of edges with the identity transfer (n = 1, EC50 = 0.5).
    p_back : float
        Probability that a rule reads from anywhere (feedback) rather than upstream.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    CompiledModel
        Edge weights w in [0.5, 1], Hill exponents n in [1, 3], EC50 in [0.2, 0.95 * 0.5**(1/n)],
        tau in [0.3, 3] (model time), ymax in [0.6, 1], y0 uniform in [0, 1].
    """
    rng = check_random_state(seed)
    n_nodes, n_inputs, max_in = int(n_nodes), int(n_inputs), int(max_in)
    if n_nodes < 1 or not 0 <= n_inputs <= n_nodes or max_in < 1:
        raise InvalidInputError(
            f"random_logic_model(): need n_nodes >= 1, 0 <= n_inputs <= "
            f"n_nodes and max_in >= 1, got {n_nodes}, {n_inputs}, {max_in}"
        )
    nodes = [f"I{i}" for i in range(n_inputs)] + [f"X{i}" for i in range(n_nodes - n_inputs)]
    rules, edge_params = {}, {}
    for pos in range(n_inputs, n_nodes):
        name = nodes[pos]
        pool = n_nodes if (pos == 0 or rng.random() < p_back) else pos
        k = int(rng.integers(1, min(max_in, pool) + 1))
        srcs = [nodes[j] for j in rng.choice(pool, size=k, replace=False)]
        rules[name] = _random_tree(srcs, rng, p_not, p_const)
        for s in srcs:
            if rng.random() < p_linear:
                edge_params[(s, name)] = {"w": float(rng.uniform(0.5, 1.0)), "n": 1.0, "ec50": 0.5}
            else:
                n = float(rng.uniform(1.0, 3.0))
                hi = 0.95 * 0.5 ** (1.0 / n)
                edge_params[(s, name)] = {
                    "w": float(rng.uniform(0.5, 1.0)),
                    "n": n,
                    "ec50": float(rng.uniform(0.2, hi)),
                }
    tau = {n: float(rng.uniform(0.3, 3.0)) for n in nodes}
    ymax = {n: float(rng.uniform(0.6, 1.0)) for n in nodes}
    y0 = {n: float(rng.uniform(0.0, 1.0)) for n in nodes}
    return compile_rules(nodes, rules, edge_params=edge_params, tau=tau, ymax=ymax, y0=y0)


def random_param_sets(
    cm: CompiledModel, n_sets: int, spread: float = 0.3, seed: SeedLike = None
) -> ParamSet:
    """`n_sets` parameter sets scattered around the model's own (a toy ensemble).

    Each value is multiplied by ``exp(spread * z)``, z standard normal, then pulled back into
    the valid ranges (w, ymax in [0, 1]; EC50**n < 0.5 keeps a margin). Identity edges stay
    identity edges.

    Returns
    -------
    ParamSet with P = `n_sets`.
    """
    rng = check_random_state(seed)
    base = cm.params
    P = int(n_sets)

    def jitter(a):
        return a[0][None, :] * np.exp(spread * rng.standard_normal((P, a.shape[1])))

    lin = (base.n[0] == 1.0) & (base.ec50[0] == 0.5)
    w = np.clip(jitter(base.w), 0.0, 1.0)
    n = np.where(lin, 1.0, np.clip(jitter(base.n), 0.5, 5.0))
    ec50 = np.where(lin, 0.5, np.minimum(jitter(base.ec50), 0.95 * 0.5 ** (1.0 / n)))
    tau = jitter(base.tau)
    ymax = np.clip(jitter(base.ymax), 0.0, 1.0)
    return ParamSet(w=w, n=n, ec50=ec50, tau=tau, ymax=ymax).validate(
        cm.n_nodes, cm.n_edges, "random_param_sets"
    )


def random_regimens(
    cm: CompiledModel,
    n_regimens: int,
    p_fixed: float = 0.1,
    inputs_only: bool = False,
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Random (fixed_mask, fixed_value) of shape (R, N): each node fixed with `p_fixed`.

    With `inputs_only`, only nodes without a rule (drug-like inputs) are fixed.
    """
    rng = check_random_state(seed)
    R, N = int(n_regimens), cm.n_nodes
    mask = rng.random((R, N)) < p_fixed
    if inputs_only:
        mask &= ~cm.has_rule[None, :]
    value = np.where(mask, rng.random((R, N)), 0.0)
    return mask.astype(np.uint8), value


def random_signed_graph(
    n_nodes: int,
    n_edges: int,
    frac_negative: float = 0.3,
    p_sink: float = 0.05,
    seed: SeedLike = None,
    weighted: bool = True,
) -> sp.csr_array:
    """A random directed signed graph as a ``scipy.sparse.csr_array`` (row = source).

    Out-degrees are heavy-tailed (a few hubs, as in signalling networks); a fraction
    `p_sink` of nodes have no out-edges (dangling nodes). No duplicate edges.

    Returns
    -------
    scipy.sparse.csr_array, shape (N, N)
        ``A[u, v]`` is the signed weight of u -> v: magnitude in [0.5, 1] (1 when not
        `weighted`), negative with probability `frac_negative`.
    """
    rng = check_random_state(seed)
    N, E = int(n_nodes), int(n_edges)
    if N < 1 or E < 0 or E > N * N:
        raise InvalidInputError(
            f"random_signed_graph(): need 1 <= n_nodes and 0 <= n_edges <= n_nodes**2, got {N}, {E}"
        )
    has_out = rng.random(N) >= p_sink
    if not has_out.any():
        has_out[0] = True
    if E > 0.5 * has_out.sum() * N:
        raise InvalidInputError(
            f"random_signed_graph(): {E} edges is too dense for {N} nodes "
            f"(at most half of all possible edges)"
        )
    weight = np.where(has_out, rng.pareto(1.5, N) + 1.0, 0.0)
    prob = weight / weight.sum()
    keys = np.empty(0, dtype=np.int64)
    while keys.size < E:
        need = E - keys.size
        src = rng.choice(N, size=2 * need + 16, p=prob)
        dst = rng.integers(0, N, size=src.size)
        keys = np.unique(np.concatenate([keys, src.astype(np.int64) * N + dst]))
        if keys.size > E:
            keys = rng.choice(keys, size=E, replace=False)
    src, dst = np.divmod(np.sort(keys), N)
    mag = rng.uniform(0.5, 1.0, src.size) if weighted else np.ones(src.size)
    sign = np.where(rng.random(src.size) < frac_negative, -1.0, 1.0)
    return sp.csr_array((mag * sign, (src, dst)), shape=(N, N))
