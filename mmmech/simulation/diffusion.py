"""Linear signed propagation of perturbations on genome-scale networks.

Where the logic-ODE model (:mod:`mmmech.propagate`) needs curated rules, a signed directed
interaction network (OmniPath-sized: tens of thousands of nodes, hundreds of thousands of
edges) can still say how far, and with which sign, a drug's perturbation of its targets
spreads. :func:`diffuse` runs a signed random walk with restart (personalized PageRank with
signs) from each regimen's seed vector, many regimens per call.

Normalization
-------------
``W[u, v]`` is the signed weight of the edge u -> v (weight times sign). Each node passes its
value on in proportion to the *absolute* weights of its out-edges, keeping their signs:
``T[u, v] = W[u, v] / sum_v' |W[u, v']|`` (row-normalized ``|W|`` with signs kept; its transpose
``M = T.T`` is column-normalized and is the operator actually applied, ``x <- M @ x``).
For a regimen with seed vector ``s`` (signed: -occupancy for an inhibited target, +... for an
activated one)::

    x_0 = s
    x_{k+1} = restart * s + (1 - restart) * (M @ x_k + d(x_k) * |s| / ||s||_1)

``d(x) = sum of x over dangling nodes`` (nodes without out-edges) with ``dangling="restart"``:
what reaches a sink jumps, keeping its sign, to the seed nodes in proportion to their weight
``|s_i|``, as PageRank's random surfer does; ``dangling="absorb"`` drops it (``d = 0``; then the
result is linear in ``s``). Either way the result is odd and homogeneous in the seeds
(``x(c s) = c x(s)`` for any real c). The iteration is a contraction of
factor ``1 - restart`` in the l1 norm, so it converges for every graph and seed; it stops per
regimen once ``||x_{k+1} - x_k||_1 <= tol * ||s||_1`` (then the distance to the fixed point is
at most ``(1 - restart) / restart`` times that).

On an unsigned graph (all weights >= 0) with seeds >= 0 summing to 1 and
``dangling="restart"``, the fixed point is ``networkx.pagerank(G, alpha=1 - restart,
personalization=s)``: the tests check that. With signs, positive values mean "pushed up",
negative "pushed down".

Backends: ``"cython"`` (:mod:`mmmech._kernels._linear`, parallel over blocks of regimens),
``"python"`` (:mod:`mmmech._kernels._linear_ref`, scipy.sparse), ``"auto"``.
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .. import _kernels
from .._guards import check_backend
from .._kernels import _linear_ref
from ..exceptions import ConvergenceError, InvalidInputError, UnknownNodeError
from ..utils import did_you_mean

__all__ = [
    "diffuse",
    "DiffusionInfo",
    "DiffusionOperator",
    "diffusion_operator",
    "signed_adjacency",
    "adjacency_from_edges",
]

_DANGLING = {"absorb": 0, "restart": 1}


@dataclass(frozen=True)
class DiffusionOperator:
    """The normalized operator ``M`` in CSR form (row = target), ready for :func:`diffuse`.

    Attributes
    ----------
    indptr : ndarray (N + 1,) int64
    indices : ndarray (nnz,) int32
        Source node of each entry.
    data : ndarray (nnz,) float64
        ``W[u, v] / sum_v' |W[u, v']|`` (signed).
    dangling : ndarray (n_dangling,) int32
        Nodes without out-edges (or only zero-weight ones).
    nodes : tuple, length N
        Node names (``range(N)`` when none were given).
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    dangling: np.ndarray
    nodes: tuple[Hashable, ...]

    @property
    def n_nodes(self) -> int:
        return self.indptr.shape[0] - 1

    @property
    def n_edges(self) -> int:
        return int(self.indices.shape[0])


@dataclass(frozen=True)
class DiffusionInfo:
    """Per-regimen diagnostics of :func:`diffuse`.

    Attributes
    ----------
    nodes : tuple, length N
    iterations : ndarray (R,) int
        Iterations done (0 for an all-zero seed vector).
    converged : ndarray (R,) bool
        ``||x_k - x_{k-1}||_1 <= tol * ||s||_1`` was reached (True for an all-zero seed).
    delta : ndarray (R,)
        The last ``||x_k - x_{k-1}||_1``.
    """

    nodes: tuple[Hashable, ...]
    iterations: np.ndarray
    converged: np.ndarray
    delta: np.ndarray


def _check_nodes(nodes, N, func):
    if nodes is None:
        return tuple(range(N))
    nodes = tuple(nodes)
    if len(nodes) != N:
        raise InvalidInputError(
            f"{func}(): nodes must name the {N} nodes of the graph, got {len(nodes)} names"
        )
    if len(set(nodes)) != N:
        dup = sorted({str(n) for n in nodes if nodes.count(n) > 1})[:5]
        raise InvalidInputError(f"{func}(): duplicate node names {dup}")
    return nodes


def _from_networkx(G, nodes, weight, sign, func):
    order = list(G) if nodes is None else list(nodes)
    if len(order) != G.number_of_nodes() or set(order) != set(G):
        missing = [n for n in order if n not in G][:3]
        extra = [n for n in G if n not in set(order)][:3]
        raise InvalidInputError(
            f"{func}(): nodes must list every node of the graph exactly once"
            f" (unknown: {missing}, not listed: {extra})"
        )
    index = {n: i for i, n in enumerate(order)}
    src, dst, val = [], [], []
    for u, v, d in G.edges(data=True):
        try:
            w = 1.0 if weight is None else float(d.get(weight, 1.0))
            w *= 1.0 if sign is None else float(d.get(sign, 1.0))
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{func}(): edge {u!r} -> {v!r} has a non-numeric {weight!r} or {sign!r} attribute"
            ) from None
        src.append(index[u])
        dst.append(index[v])
        val.append(w)
        if not G.is_directed() and u != v:
            src.append(index[v])
            dst.append(index[u])
            val.append(w)
    N = len(order)
    A = sp.csr_array(
        (
            np.asarray(val, dtype=np.float64),
            (np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)),
        ),
        shape=(N, N),
    )
    return A, _check_nodes(order, N, func)


def _from_csr_triple(triple, func):
    if len(triple) != 3:
        raise InvalidInputError(
            f"{func}(): a CSR graph is (indptr, indices, data), got {len(triple)} items"
        )
    try:
        indptr, indices, data = (np.asarray(a) for a in triple)
    except Exception as exc:  # noqa: BLE001 - anything unreadable is bad input
        raise InvalidInputError(f"{func}(): (indptr, indices, data) must be arrays") from exc
    for name, a in (("indptr", indptr), ("indices", indices)):
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise InvalidInputError(
                f"{func}(): {name} must be a 1-D integer array, got "
                f"shape {a.shape}, dtype {a.dtype}"
            )
    if data.ndim != 1 or (data.size and data.dtype.kind not in "iuf"):
        raise InvalidInputError(
            f"{func}(): data must be a 1-D numeric array, got shape "
            f"{data.shape}, dtype {data.dtype}"
        )
    if indptr.size < 2:
        raise InvalidInputError(f"{func}(): indptr must have N + 1 >= 2 entries, got {indptr.size}")
    N = indptr.size - 1
    nnz = indices.size
    if indptr[0] != 0 or indptr[-1] != nnz or data.size != nnz or np.any(np.diff(indptr) < 0):
        raise InvalidInputError(
            f"{func}(): indptr must rise from 0 to len(indices) = "
            f"len(data); got indptr {indptr[0]}..{indptr[-1]}, "
            f"{nnz} indices, {data.size} data"
        )
    if nnz and (indices.min() < 0 or indices.max() >= N):
        raise InvalidInputError(
            f"{func}(): indices must lie in [0, {N - 1}] (a square "
            f"{N} x {N} matrix), got {indices.min()}..{indices.max()}"
        )
    return sp.csr_array(
        (data.astype(np.float64), indices.astype(np.int64), indptr.astype(np.int64)),
        shape=(N, N),
        copy=True,
    )


def signed_adjacency(
    graph: Any,
    nodes: Sequence[Hashable] | None = None,
    weight: str | None = "weight",
    sign: str | None = "sign",
    func: str = "signed_adjacency",
) -> tuple[sp.csr_array, tuple[Hashable, ...]]:
    """The signed adjacency ``W`` (row = source) of a graph given in any accepted form.

    Parameters
    ----------
    graph : networkx graph, scipy.sparse matrix/array (N, N), or (indptr, indices, data)
        A networkx graph contributes ``edge[weight] * edge[sign]`` per edge (each 1 when
        absent; both directions for an undirected graph; parallel edges add up). A sparse
        matrix or CSR triple is read as ``W[u, v]`` = weight of u -> v.
    nodes : sequence of N names, optional
        Names (and, for a networkx graph, the order) of the nodes; default ``list(G)`` for a
        graph and ``range(N)`` otherwise.
    weight, sign : str or None
        Edge attributes of a networkx graph.

    Returns
    -------
    (scipy.sparse.csr_array (N, N) float64, tuple of N node names)
    """
    if hasattr(graph, "adj") and hasattr(graph, "is_directed"):
        A, names = _from_networkx(graph, nodes, weight, sign, func)
    elif sp.issparse(graph):
        if graph.ndim != 2 or graph.shape[0] != graph.shape[1]:
            raise InvalidInputError(
                f"{func}(): the adjacency matrix must be square, got shape {graph.shape}"
            )
        if graph.dtype.kind not in "biuf":
            raise InvalidInputError(
                f"{func}(): the adjacency matrix must be real, got dtype {graph.dtype}"
            )
        A = sp.csr_array(graph, dtype=np.float64, copy=True)
        names = None
    elif isinstance(graph, (tuple, list)):
        A = _from_csr_triple(graph, func)
        names = None
    else:
        raise InvalidInputError(
            f"{func}(): graph must be a networkx graph, a scipy.sparse "
            f"matrix or a CSR triple (indptr, indices, data), got "
            f"{type(graph).__name__}"
        )
    N = A.shape[0]
    if N < 1:
        raise InvalidInputError(f"{func}(): the graph has no nodes")
    if N >= 2**31 - 1:
        raise InvalidInputError(f"{func}(): at most 2**31 - 2 nodes are supported, got {N}")
    if not np.all(np.isfinite(A.data)):
        raise InvalidInputError(f"{func}(): edge weights must be finite")
    A.sum_duplicates()
    A.eliminate_zeros()
    if names is None:
        names = _check_nodes(nodes, N, func)
    return A, names


def adjacency_from_edges(
    sources: Sequence[Hashable],
    targets: Sequence[Hashable],
    weights: npt.ArrayLike | None = None,
    nodes: Sequence[Hashable] | None = None,
) -> tuple[sp.csr_array, tuple[Hashable, ...]]:
    """Signed adjacency from edge lists (e.g. OmniPath's source, interaction, target columns).

    Parameters
    ----------
    sources, targets : sequence of node names, length E
    weights : sequence of float, length E, optional
        Signed weights (+1/-1 for a signed network); default 1.
    nodes : sequence of names, optional
        Node order; default: sorted names of every node that appears.

    Returns
    -------
    (scipy.sparse.csr_array (N, N), tuple of node names)

    Examples
    --------
    >>> A, nodes = adjacency_from_edges(["EGFR", "GRB2"], ["GRB2", "SOS1"], [1, 1])
    >>> nodes, A.toarray().tolist()
    (('EGFR', 'GRB2', 'SOS1'), [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    """
    func = "adjacency_from_edges"
    sources, targets = list(sources), list(targets)
    if len(sources) != len(targets):
        raise InvalidInputError(
            f"{func}(): sources and targets must have the same length, got "
            f"{len(sources)} and {len(targets)}"
        )
    if weights is None:
        w = np.ones(len(sources))
    else:
        try:
            w = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{func}(): weights must be numeric") from None
        if w.shape != (len(sources),) or not np.all(np.isfinite(w)):
            raise InvalidInputError(f"{func}(): weights must be {len(sources)} finite numbers")
    if nodes is None:
        nodes = tuple(sorted(set(sources) | set(targets), key=str))
    names = _check_nodes(nodes, len(tuple(nodes)), func)
    index = {n: i for i, n in enumerate(names)}
    for n in (*sources, *targets):
        if n not in index:
            raise UnknownNodeError(
                f"{func}(): edge endpoint {n!r} is not in nodes{did_you_mean(n, names)}"
            )
    N = len(names)
    A = sp.csr_array(
        (
            w,
            (
                np.array([index[s] for s in sources], dtype=np.int64),
                np.array([index[t] for t in targets], dtype=np.int64),
            ),
        ),
        shape=(N, N),
    )
    A.sum_duplicates()
    return A, names


def diffusion_operator(
    graph: Any,
    nodes: Sequence[Hashable] | None = None,
    weight: str | None = "weight",
    sign: str | None = "sign",
) -> DiffusionOperator:
    """Build the normalized operator of `graph` once (for repeated :func:`diffuse` calls).

    See :func:`signed_adjacency` for the accepted graphs; the normalization is in the module
    docstring.

    Returns
    -------
    DiffusionOperator
    """
    if isinstance(graph, DiffusionOperator):
        return graph
    A, names = signed_adjacency(graph, nodes, weight, sign, func="diffusion_operator")
    out = np.asarray(abs(A).sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        scale = np.where(out > 0, 1.0 / np.where(out > 0, out, 1.0), 0.0)
    if not np.all(np.isfinite(scale)):
        raise InvalidInputError("diffusion_operator(): edge weights too small to normalize")
    T = sp.diags_array(scale) @ A
    M = sp.csr_array(T.T)
    M.sum_duplicates()
    M.sort_indices()
    return DiffusionOperator(
        indptr=np.ascontiguousarray(M.indptr, dtype=np.int64),
        indices=np.ascontiguousarray(M.indices, dtype=np.int32),
        data=np.ascontiguousarray(M.data, dtype=np.float64),
        dangling=np.ascontiguousarray(np.nonzero(out == 0)[0], dtype=np.int32),
        nodes=names,
    )


def _seed_matrix(seeds, nodes, func):
    """(R, N) float64 seeds and whether the caller gave a single vector."""
    N = len(nodes)
    index = {}

    def from_mapping(m):
        if not index:
            index.update((n, i) for i, n in enumerate(nodes))
        vec = np.zeros(N)
        for k, v in m.items():
            if k not in index:
                raise UnknownNodeError(
                    f"{func}(): seed node {k!r} is not in the graph"
                    f"{did_you_mean(k, [str(n) for n in nodes])}"
                )
            vec[index[k]] = _finite(v, f"seed of {k!r}", func)
        return vec

    if isinstance(seeds, Mapping):
        return from_mapping(seeds)[None, :], True
    if isinstance(seeds, (list, tuple)) and seeds and all(isinstance(m, Mapping) for m in seeds):
        return np.array([from_mapping(m) for m in seeds]), False
    try:
        S = np.array(seeds, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{func}(): seeds must be numeric (R, N), a mapping node -> "
            f"value or a list of mappings; got "
            f"{type(seeds).__name__}"
        ) from None
    single = S.ndim == 1
    if single:
        S = S[None, :]
    if S.ndim != 2 or S.shape[1] != N or S.shape[0] < 1:
        raise InvalidInputError(
            f"{func}(): seeds must have shape (R, {N}) (regimens, nodes) "
            f"or ({N},), got {np.shape(seeds)}"
        )
    if not np.all(np.isfinite(S)):
        raise InvalidInputError(
            f"{func}(): seeds must be finite, got {S[~np.isfinite(S)][:3].tolist()}"
        )
    return np.ascontiguousarray(S), single


def _finite(v, what, func):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): {what} must be a number, got {v!r}") from None
    if not np.isfinite(f):
        raise InvalidInputError(f"{func}(): {what} must be finite, got {v!r}")
    return f


def diffuse(
    graph: Any,
    seeds: npt.ArrayLike | Mapping[Hashable, float] | Sequence[Mapping[Hashable, float]],
    restart: float = 0.5,
    n_iter: int = 1000,
    tol: float = 1e-10,
    backend: str = "auto",
    num_threads: int = 0,
    nodes: Sequence[Hashable] | None = None,
    weight: str | None = "weight",
    sign: str | None = "sign",
    dangling: str = "restart",
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, DiffusionInfo]:
    """Signed random walk with restart from each regimen's seeds (see the module docstring).

    Parameters
    ----------
    graph : networkx graph, scipy.sparse (N, N), (indptr, indices, data) or DiffusionOperator
        Signed directed network; a sparse matrix is read as ``W[u, v]`` = weight of u -> v.
    seeds : array_like (R, N) or (N,), mapping node -> value, or list of R mappings
        Signed perturbation of each node per regimen (e.g. ``-occupancy`` at inhibited
        targets). A single vector gives a single (N,) result.
    restart : float in (0, 1]
        Restart probability (``1 - alpha`` of PageRank); 1 returns the seeds.
    n_iter : int >= 1
        Iteration budget per regimen.
    tol : float >= 0
        Stop a regimen once ``||x_{k+1} - x_k||_1 <= tol * ||s||_1``; 0 runs exactly `n_iter`
        iterations (a truncated walk, never an error).
    backend : {"auto", "cython", "python"}
    num_threads : int
        OpenMP threads of the Cython backend (0: OpenMP's default).
    nodes : sequence, optional
        Node names (see :func:`signed_adjacency`).
    weight, sign : str or None
        Edge attributes of a networkx graph.
    dangling : {"restart", "absorb"}
        What happens to the value reaching a node without out-edges.
    return_info : bool
        Also return a :class:`DiffusionInfo`; then non-convergence is reported there instead
        of raised.

    Returns
    -------
    x : ndarray (R, N) (or (N,) for a single seed vector)
        Propagated signed activity change per node.
    info : DiffusionInfo
        Only with ``return_info=True``.

    Raises
    ------
    ConvergenceError
        When ``tol > 0`` and a regimen did not converge within `n_iter` (only without
        `return_info`).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_array(np.array([[0.0, -1.0], [0.0, 0.0]]))   # A -| B
    >>> x = diffuse(A, [1.0, 0.0], restart=0.5, dangling="absorb")
    >>> np.round(x, 6).tolist()
    [0.5, -0.25]
    """
    func = "diffuse"
    check_backend(backend, func)
    if dangling not in _DANGLING:
        raise InvalidInputError(
            f"{func}(): dangling must be one of {tuple(_DANGLING)}, got {dangling!r}"
        )
    restart = _finite(restart, "restart", func)
    if not 0.0 < restart <= 1.0:
        raise InvalidInputError(f"{func}(): restart must lie in (0, 1], got {restart}")
    tol = _finite(tol, "tol", func)
    if tol < 0:
        raise InvalidInputError(f"{func}(): tol must be >= 0, got {tol}")
    try:
        n_iter_i = int(n_iter)
    except (TypeError, ValueError, OverflowError):
        n_iter_i = -1
    if n_iter_i < 1 or n_iter_i >= 2**62 or n_iter_i != n_iter:
        raise InvalidInputError(f"{func}(): n_iter must be a positive integer, got {n_iter!r}")
    try:
        nt = int(num_threads)
    except (TypeError, ValueError, OverflowError):
        nt = -1
    if nt < 0 or nt > 4096 or nt != num_threads:
        raise InvalidInputError(
            f"{func}(): num_threads must be 0 (OpenMP's default) or a "
            f"positive integer, got {num_threads!r}"
        )
    if isinstance(graph, DiffusionOperator):
        if nodes is not None and tuple(nodes) != graph.nodes:
            raise InvalidInputError(f"{func}(): nodes differ from the operator's nodes")
        op = _check_operator(graph, func)
    else:
        op = diffusion_operator(graph, nodes=nodes, weight=weight, sign=sign)
    S, single = _seed_matrix(seeds, op.nodes, func)
    with np.errstate(over="ignore"):
        seed_mass = np.abs(S).sum(axis=1)
    if not np.all(np.isfinite(seed_mass)):
        raise InvalidInputError(f"{func}(): seeds are too large (their sum overflows)")
    mode = _DANGLING[dangling]
    use = backend
    if backend == "cython" and not _kernels.available("_linear"):
        _kernels.load("_linear")  # raises KernelUnavailableError with the build hint
    if backend == "auto":
        use = "cython" if _kernels.available("_linear") else "python"
    if use == "cython":
        run = _kernels.load("_linear").diffuse
    else:
        run = _linear_ref.diffuse
    x, iters, conv, delta = run(
        op.indptr, op.indices, op.data, op.dangling, S, restart, n_iter_i, tol, mode, nt
    )
    if not np.all(np.isfinite(x)):  # cannot happen for a contraction; never hand out NaN
        raise ConvergenceError(f"{func}(): the propagation produced non-finite values")
    info = DiffusionInfo(
        nodes=op.nodes,
        iterations=np.asarray(iters),
        converged=np.asarray(conv, dtype=bool),
        delta=np.asarray(delta),
    )
    if tol > 0 and not return_info and not info.converged.all():
        bad = np.nonzero(~info.converged)[0]
        raise ConvergenceError(
            f"{func}(): {bad.size} of {len(S)} regimens did not converge within n_iter="
            f"{n_iter_i} iterations (first: regimen {bad[0]}, last change "
            f"{info.delta[bad[0]]:.3g} > tol * ||s||_1); raise n_iter or tol, or pass "
            f"return_info=True to get the last iterate with per-regimen flags"
        )
    out = x[0] if single else x
    return (out, info) if return_info else out


def _check_operator(op, func):
    """Re-check a DiffusionOperator (it may have been built or altered by hand)."""
    indptr = np.asarray(op.indptr)
    indices = np.asarray(op.indices)
    data = np.asarray(op.data)
    dangling = np.asarray(op.dangling)
    A = _from_csr_triple((indptr, indices, data), func)
    N = A.shape[0]
    if not np.all(np.isfinite(A.data)):
        raise InvalidInputError(f"{func}(): operator data must be finite")
    if dangling.ndim != 1 or (
        dangling.size
        and (dangling.dtype.kind not in "iu" or dangling.min() < 0 or dangling.max() >= N)
    ):
        raise InvalidInputError(f"{func}(): operator.dangling must be node indices in [0, {N - 1}]")
    nodes = _check_nodes(op.nodes, N, func)
    return DiffusionOperator(
        indptr=np.ascontiguousarray(indptr, dtype=np.int64),
        indices=np.ascontiguousarray(indices, dtype=np.int32),
        data=np.ascontiguousarray(data, dtype=np.float64),
        dangling=np.ascontiguousarray(dangling, dtype=np.int32),
        nodes=nodes,
    )
