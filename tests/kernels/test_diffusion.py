"""Linear signed propagation: networkx PageRank agreement, closed forms, Cython vs scipy.sparse
reference, Hypothesis invariants, the real OmniPath network, and bad input."""

import csv
import dataclasses

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmmech import _kernels
from mmmech.exceptions import ConvergenceError, InvalidInputError, UnknownNodeError
from mmmech.simulation.diffusion import (
    DiffusionOperator,
    adjacency_from_edges,
    diffuse,
    diffusion_operator,
    signed_adjacency,
)
from mmmech.testing import random_signed_graph

pytestmark = pytest.mark.skipif(
    not _kernels.available("_linear"), reason="the _linear kernel was not built"
)
BACKENDS = ("cython", "python")


def _weighted_digraph(seed, n=60, m=240):
    rng = np.random.default_rng(seed)
    G = nx.gnm_random_graph(n, m, directed=True, seed=seed)
    for u, v in G.edges:
        G[u][v]["weight"] = float(rng.uniform(0.2, 2.0))
    return G, rng


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_networkx_personalized_pagerank(seed, backend):
    G, rng = _weighted_digraph(seed)
    assert any(G.out_degree(n) == 0 for n in G) or seed != 1  # dangling nodes occur
    restart = [0.15, 0.3, 0.5][seed]
    P = np.zeros((3, G.number_of_nodes()))
    for r in range(3):
        p = rng.random(G.number_of_nodes())
        p[rng.random(p.size) < 0.7] = 0.0
        P[r] = p / p.sum()
    x = diffuse(G, P, restart=restart, tol=1e-14, n_iter=10000, backend=backend)
    for r in range(3):
        ref = nx.pagerank(
            G,
            alpha=1 - restart,
            personalization=dict(zip(G, P[r], strict=False)),
            tol=1e-15,
            max_iter=10000,
        )
        np.testing.assert_allclose(x[r], [ref[n] for n in G], rtol=0, atol=1e-10)
        assert x[r].sum() == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_equals_networkx_on_undirected_graph(backend):
    G = nx.karate_club_graph()  # Zachary's karate club, weighted, undirected
    p = {n: (1.0 if n in (0, 33) else 0.0) for n in G}
    ref = nx.pagerank(G, alpha=0.85, personalization=p, tol=1e-15, max_iter=10000)
    x = diffuse(G, p, restart=0.15, tol=1e-14, n_iter=10000, backend=backend)
    np.testing.assert_allclose(x / 2.0, [ref[n] for n in G], atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_closed_forms_on_a_two_node_chain(backend):
    r = 0.3
    A = sp.csr_array(np.array([[0.0, -2.0], [0.0, 0.0]]))  # A -| B (weight magnitude 2)
    # absorb: x_A = r, x_B = (1 - r) * x_A * (-1)
    x = diffuse(A, [1.0, 0.0], restart=r, dangling="absorb", backend=backend)
    np.testing.assert_allclose(x, [r, -(1 - r) * r], atol=1e-12)
    # restart: B is dangling; its value returns to A: x_A = r + (1 - r) x_B, x_B = -(1 - r) x_A
    x = diffuse(A, [1.0, 0.0], restart=r, dangling="restart", backend=backend, tol=1e-15)
    xa = r / (1 + (1 - r) ** 2)
    np.testing.assert_allclose(x, [xa, -(1 - r) * xa], atol=1e-12)
    # restart = 1 returns the seeds after one iteration
    x, info = diffuse(A, [[0.5, -0.25]], restart=1.0, backend=backend, return_info=True)
    np.testing.assert_array_equal(x, [[0.5, -0.25]])
    assert info.iterations.tolist() == [1]


@pytest.mark.parametrize("seed", [0, 1])
def test_cython_equals_reference(seed):
    A = random_signed_graph(800, 6000, frac_negative=0.4, seed=seed)
    rng = np.random.default_rng(seed)
    S = np.where(rng.random((37, 800)) < 0.01, rng.normal(size=(37, 800)), 0.0)
    S[5] = 0.0  # a regimen without seeds
    op = diffusion_operator(A)
    for dangling in ("restart", "absorb"):
        # the same fixed number of iterations: the same arithmetic
        a = diffuse(op, S, n_iter=25, tol=0, dangling=dangling, backend="cython")
        b = diffuse(op, S, n_iter=25, tol=0, dangling=dangling, backend="python")
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
        # to convergence: the same stopping iteration per regimen
        a, ia = diffuse(op, S, restart=0.2, dangling=dangling, backend="cython", return_info=True)
        b, ib = diffuse(op, S, restart=0.2, dangling=dangling, backend="python", return_info=True)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(ia.iterations, ib.iterations)
        assert ia.converged.all() and ia.iterations[5] == 0 and not a[5].any()


def test_input_forms_agree():
    rng = np.random.default_rng(3)
    G = nx.DiGraph()
    edges = [
        ("EGFR", "GRB2", 1),
        ("GRB2", "SOS1", 1),
        ("PTEN", "AKT1", -1),
        ("AKT1", "FOXO1", -1),
        ("SOS1", "EGFR", -1),
        ("AKT1", "MTOR", 1),
    ]
    for u, v, s in edges:
        G.add_edge(u, v, sign=s, weight=float(rng.uniform(0.5, 1.5)))
    nodes = tuple(G)
    A, names = signed_adjacency(G)
    assert names == nodes
    seeds = {"EGFR": -0.8, "PTEN": 0.5}
    x_graph = diffuse(G, seeds)
    x_sparse = diffuse(A, seeds, nodes=nodes)
    x_triple = diffuse((A.indptr, A.indices, A.data), seeds, nodes=nodes)
    x_op = diffuse(diffusion_operator(G), [seeds])
    np.testing.assert_allclose(x_graph, x_sparse, atol=1e-15)
    np.testing.assert_allclose(x_graph, x_triple, atol=1e-15)
    np.testing.assert_allclose(x_op[0], x_graph, atol=1e-15)
    # signs: inhibiting EGFR lowers GRB2; PTEN up pushes AKT1 down and FOXO1 up
    i = {n: k for k, n in enumerate(nodes)}
    assert x_graph[i["GRB2"]] < 0 and x_graph[i["AKT1"]] < 0 and x_graph[i["FOXO1"]] > 0
    # the same edges from plain lists (OmniPath's columns)
    B, names2 = adjacency_from_edges(
        [u for u, _, _ in edges], [v for _, v, _ in edges], [s for _, _, s in edges]
    )
    x_lists = diffuse(B, seeds, nodes=names2)
    unweighted = diffuse(G, seeds, weight=None)
    np.testing.assert_allclose([x_lists[names2.index(n)] for n in nodes], unweighted, atol=1e-15)


# ---------------------------------------------------------------- invariants (Hypothesis)

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _graph_and_seeds(seed, n, R, positive=False):
    A = random_signed_graph(n, 4 * n, frac_negative=0.0 if positive else 0.35, seed=seed)
    rng = np.random.default_rng(seed)
    S = np.where(rng.random((R, n)) < 0.1, rng.uniform(-1, 1, (R, n)), 0.0)
    return A, (np.abs(S) if positive else S)


@_SETTINGS
@given(seed=st.integers(0, 10_000), a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_absorbing_diffusion_is_linear(seed, a, b):
    A, S = _graph_and_seeds(seed, 40, 2)
    kw = dict(dangling="absorb", tol=0, n_iter=200, backend="cython")
    lhs = diffuse(A, a * S[0] + b * S[1], **kw)
    rhs = a * diffuse(A, S[0], **kw) + b * diffuse(A, S[1], **kw)
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-11)


@_SETTINGS
@given(seed=st.integers(0, 10_000), c=st.floats(0.01, 100), restart=st.floats(0.05, 1.0))
def test_sign_flip_and_scale(seed, c, restart):
    A, S = _graph_and_seeds(seed, 40, 1)
    kw = dict(restart=restart, tol=0, n_iter=150, backend="cython")
    x = diffuse(A, S, **kw)
    np.testing.assert_array_equal(diffuse(A, -S, **kw), -x)
    np.testing.assert_allclose(diffuse(A, c * S, **kw), c * x, rtol=1e-12, atol=1e-14)


@_SETTINGS
@given(seed=st.integers(0, 10_000), restart=st.floats(0.05, 0.95))
def test_positive_graph_keeps_mass_and_sign(seed, restart):
    A, S = _graph_and_seeds(seed, 50, 3, positive=True)
    x = diffuse(A, S, restart=restart, tol=1e-13, n_iter=5000, backend="cython")
    assert np.all(x >= 0)
    np.testing.assert_allclose(x.sum(axis=1), S.sum(axis=1), rtol=1e-9, atol=1e-12)


@_SETTINGS
@given(seed=st.integers(0, 10_000), R=st.integers(1, 40), data=st.data())
def test_independent_of_threads_and_batching(seed, R, data):
    A, S = _graph_and_seeds(seed, 60, R)
    op = diffusion_operator(A)
    kw = dict(restart=0.25, tol=1e-9, backend="cython", return_info=True)
    whole, info = diffuse(op, S, num_threads=1, **kw)
    threads = data.draw(st.integers(2, 4), label="threads")
    again, info2 = diffuse(op, S, num_threads=threads, **kw)
    np.testing.assert_array_equal(whole, again)
    np.testing.assert_array_equal(info.iterations, info2.iterations)
    order = np.array(data.draw(st.permutations(range(R)), label="order"))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, R - 1)), max_size=3), label="cuts"))
    for part in np.split(order, [c for c in cuts if c < R]):
        if part.size:
            got, _ = diffuse(op, S[part], num_threads=threads, **kw)
            np.testing.assert_array_equal(got, whole[part])


# ---------------------------------------------------------------- real network


def _omnipath(shared_data):
    path = shared_data / "networks" / "omnipath_signed_directed.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return adjacency_from_edges(
        [r["source"] for r in rows],
        [r["target"] for r in rows],
        [float(r["interaction"]) for r in rows],
    )


def test_omnipath_cython_equals_reference_and_networkx(shared_data):
    A, nodes = _omnipath(shared_data)
    assert A.shape[0] > 1000 and A.nnz > 15000
    op = diffusion_operator(A, nodes=nodes)
    seeds = [{"PSMB5": -1.0}, {"BCL2": -1.0}, {"NR3C1": 1.0}, {"CRBN": 1.0, "IKZF1": -0.5}]
    seeds = [{k: v for k, v in s.items() if k in nodes} for s in seeds]
    seeds = [s for s in seeds if s]
    assert seeds, "none of the seed genes is in the OmniPath file"
    a, ia = diffuse(op, seeds, restart=0.3, backend="cython", return_info=True)
    b, ib = diffuse(op, seeds, restart=0.3, backend="python", return_info=True)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ia.iterations, ib.iterations)
    # unsigned version, positive seeds: personalized PageRank of networkx
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    coo = A.tocoo()
    G.add_weighted_edges_from(
        (nodes[i], nodes[j], abs(w)) for i, j, w in zip(coo.row, coo.col, coo.data, strict=False)
    )
    pers = {k: abs(v) for k, v in seeds[0].items()}
    total = sum(pers.values())
    ref = nx.pagerank(G, alpha=0.7, personalization=pers, tol=1e-14, max_iter=5000)
    x = diffuse(
        abs(A), {k: v / total for k, v in pers.items()}, nodes=nodes, restart=0.3, tol=1e-13
    )
    np.testing.assert_allclose(x, [ref[n] for n in nodes], rtol=0, atol=1e-9)


# ---------------------------------------------------------------- bad input

_GOOD = sp.csr_array(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]))


@pytest.mark.parametrize(
    "graph, needle",
    [
        ((np.array([0, 1, 2, 3]), np.array([1, 2, 99]), np.ones(3)), "indices"),
        ((np.array([0, 1, 2, 3]), np.array([1, -2, 0]), np.ones(3)), "indices"),
        ((np.array([0, 2, 1, 3]), np.array([1, 2, 0]), np.ones(3)), "indptr"),
        ((np.array([0, 1, 2, 7]), np.array([1, 2, 0]), np.ones(3)), "indptr"),
        ((np.array([0, 1, 2, 3]), np.array([1, 2, 0]), np.ones(2)), "indptr"),
        ((np.array([0, 1, 2, 3]), np.array([1, 2, 0]), np.array([1.0, np.nan, 1.0])), "finite"),
        ((np.array([0, 1, 2, 3]), np.array([1.5, 2, 0]), np.ones(3)), "integer"),
        ((np.array([0]), np.array([], dtype=int), np.array([])), "N \\+ 1 >= 2"),
        ((np.array([0, 1]), np.array([0])), "indptr, indices, data"),
        (sp.csr_array(np.ones((2, 3))), "square"),
        (sp.csr_array(np.ones((2, 2), dtype=complex)), "real"),
        ("not a graph", "graph must be"),
    ],
)
def test_bad_graphs(graph, needle):
    for backend in BACKENDS:
        with pytest.raises(InvalidInputError, match=needle):
            diffuse(graph, np.ones(3), backend=backend)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(seeds=np.ones(4)), "shape"),
        (dict(seeds=np.ones((0, 3))), "shape"),
        (dict(seeds=[[1.0, np.nan, 0.0]]), "finite"),
        (dict(seeds=[[1e308, 1e308, 1e308]]), "too large"),
        (dict(seeds=[["a", 1, 1]]), "numeric"),
        (dict(seeds={"PSMB55": 1.0}, nodes=("PSMB5", "CRBN", "BCL2")), "did you mean 'PSMB5'"),
        (dict(seeds={"PSMB5": "much"}, nodes=("PSMB5", "CRBN", "BCL2")), "number"),
        (dict(restart=0.0), "restart"),
        (dict(restart=1.5), "restart"),
        (dict(restart=np.nan), "restart"),
        (dict(n_iter=0), "n_iter"),
        (dict(n_iter=2.5), "n_iter"),
        (dict(n_iter=2**70), "n_iter"),
        (dict(tol=-1.0), "tol"),
        (dict(backend="gpu"), "backend"),
        (dict(dangling="teleport"), "dangling"),
        (dict(num_threads=-1), "num_threads"),
        (dict(nodes=("a", "b")), "nodes"),
        (dict(nodes=("a", "a", "b")), "duplicate"),
    ],
)
def test_bad_arguments(kwargs, needle):
    kwargs = {"seeds": np.ones(3), **kwargs}
    seeds = kwargs.pop("seeds")
    error = UnknownNodeError if "did you mean" in needle else InvalidInputError
    with pytest.raises(error, match=needle):
        diffuse(_GOOD, seeds, **kwargs)


def test_hand_altered_operator_is_rechecked():
    op = diffusion_operator(_GOOD)
    for change in (
        dict(indices=np.array([0, 1, 5], dtype=np.int32)),
        dict(dangling=np.array([7], dtype=np.int32)),
        dict(indptr=np.array([0, 1, 3, 2])),
        dict(data=np.array([1.0, np.inf, 1.0])),
        dict(nodes=("x",)),
    ):
        bad = dataclasses.replace(op, **change)
        with pytest.raises(InvalidInputError):
            diffuse(bad, np.ones(3), backend="cython")
    assert isinstance(op, DiffusionOperator) and op.n_nodes == 3 and op.n_edges == 3


def test_non_convergence_is_raised_or_reported():
    A = random_signed_graph(200, 1000, seed=4)
    S = np.ones((3, 200))
    with pytest.raises(ConvergenceError, match="n_iter"):
        diffuse(A, S, restart=0.05, n_iter=5, tol=1e-12)
    x, info = diffuse(A, S, restart=0.05, n_iter=5, tol=1e-12, return_info=True)
    assert not info.converged.any() and info.iterations.tolist() == [5, 5, 5]
    assert np.all(np.isfinite(x))
    # tol = 0: a truncated walk by request, never an error
    assert diffuse(A, S, restart=0.05, n_iter=5, tol=0).shape == (3, 200)
