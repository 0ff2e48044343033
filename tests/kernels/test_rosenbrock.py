"""The Rosenbrock course kernel (_rosenbrock.pyx) against its NumPy reference, the exact
Jacobian against finite differences, and both against scipy's LSODA / Radau on time courses with
dosing events (piecewise-constant held inputs).

Tolerances stated here:
- Cython vs NumPy reference: same method, same step decisions; 1e-9 absolute (measured 4e-16 on
  the myeloma model: only the sparse-vs-dense solve rounds differently).
- analytic Jacobian vs central differences (step 1e-6): 1e-6 absolute.
- kernel (rtol r, atol r/1000) vs Radau at rtol 1e-10: |difference| <= 20 r at interval ends
  (local error control, accumulated over the intervals; measured below 3 r).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from mmmech import _kernels
from mmmech._kernels import _rosenbrock_ref as ref
from mmmech._kernels._logic_ref import _Batch, derivative
from mmmech.dynamics._course import network_course
from mmmech.exceptions import InvalidInputError
from mmmech.simulation import propagate
from mmmech.testing import random_logic_model

needs_kernel = pytest.mark.skipif(not _kernels.available("_rosenbrock"), reason="kernels not built")


def _regimens(cm, R, seed, n_held=None):
    """Random regimens holding the model's input nodes (no rule) fixed, with random
    piecewise-constant values per interval (jumps as at dosing events)."""
    rng = np.random.default_rng(seed)
    N = cm.n_nodes
    inputs = np.nonzero(~cm.has_rule)[0]
    cols = inputs if n_held is None else inputs[:n_held]
    mask = np.zeros((R, N))
    mask[:, cols] = 1
    value = np.zeros((R, N))
    value[:, cols] = rng.uniform(0, 1, (R, cols.size))
    y0 = np.tile(np.asarray(cm.y0, dtype=float), (R, 1))
    y0[:, cm.has_rule] = rng.uniform(0, 1, (R, int(cm.has_rule.sum())))
    return mask, value, y0, cols


def _reg(cm, mask, value, y0):
    return propagate._prepare(cm, mask, value, y0, None, None, None, "test")


def _lsoda_course(cm, mask, value, y0, cols, vals, dt, method="Radau", rtol=1e-10):
    """Per regimen, solve_ivp restarted at each interval on the reference derivative."""
    R, K, _ = vals.shape
    out = np.empty((R, K + 1, cm.n_nodes))
    for r in range(R):
        reg = _reg(cm, mask[r : r + 1], value[r : r + 1], y0[r : r + 1])
        batch = _Batch(cm, reg.params, reg.param_index, reg.fixed_mask, reg.fixed_value)
        y = np.where(mask[r] > 0, value[r], y0[r])
        out[r, 0] = y
        for k in range(K):
            y = y.copy()
            y[cols] = vals[r, k]

            sol = solve_ivp(
                lambda t, z, b=batch: derivative(b, z[None, :])[0],
                (0.0, dt),
                y,
                method=method,
                rtol=rtol,
                atol=rtol * 1e-3,
            )
            assert sol.success
            y = sol.y[:, -1]
            out[r, k + 1] = y
    return out


# ------------------------------------------------------------------ the method (known answers)


def test_rodas4_is_fourth_order_and_l_stable_on_the_linear_test_equation():
    """One step of the tableau on y' = lam y (J = lam exactly): the local error falls as h^5
    (order 4) and the stability function vanishes at infinity (L-stable); the embedded
    estimate is one order lower (h^4)."""

    def step(z):
        # K_i (1/gamma - z) = z (y + sum A K) + sum C K   with h = 1, y = 1
        K = []
        for s in range(len(ref.ROS_M)):
            u = 1.0 + sum(ref.ROS_A[s][j] * K[j] for j in range(s))
            rhs = z * u + sum(ref.ROS_C[s][j] * K[j] for j in range(s))
            K.append(rhs / (1.0 / ref.ROS_GAMMA - z))
        y1 = 1.0 + sum(m * k for m, k in zip(ref.ROS_M, K, strict=True))
        return y1, sum(e * k for e, k in zip(ref.ROS_E, K, strict=True))

    errs = [abs(step(-h)[0] - np.exp(-h)) for h in (0.1, 0.05, 0.025)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(orders > ref.ROS_ELO + 0.8) and np.all(orders < ref.ROS_ELO + 1.2)
    est = [abs(step(-h)[1]) for h in (0.1, 0.05, 0.025)]
    est_orders = np.log2(np.array(est[:-1]) / np.array(est[1:]))
    assert np.all(est_orders > ref.ROS_ELO - 0.2) and np.all(est_orders < ref.ROS_ELO + 0.2)
    assert abs(step(-1e12)[0]) < 1e-9


# ------------------------------------------------------------------ Jacobian


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_analytic_jacobian_equals_central_differences(seed):
    cm = random_logic_model(12, n_inputs=3, seed=seed)
    mask, value, y0, _ = _regimens(cm, 2, seed)
    reg = _reg(cm, mask, value, y0)
    rng = np.random.default_rng(seed)
    y = np.where(mask > 0, value, rng.uniform(0.02, 0.98, y0.shape))
    J = ref.jacobian(cm, reg, y)
    batch = _Batch(cm, reg.params, reg.param_index, reg.fixed_mask, reg.fixed_value)
    eps = 1e-6
    # columns of nodes with a rule (nodes without one are constant: their columns stay zero)
    assert not J[:, :, ~cm.has_rule].any()
    for j in np.nonzero(cm.has_rule)[0]:
        up, dn = y.copy(), y.copy()
        up[:, j] += eps
        dn[:, j] -= eps
        fd = (derivative(batch, up) - derivative(batch, dn)) / (2 * eps)
        np.testing.assert_allclose(J[:, :, j], fd, atol=1e-6, rtol=1e-5)


def test_structure_is_a_valid_elimination_order():
    """Rule nodes appear once; the fill-in program covers every Jacobian entry."""
    cm = random_logic_model(40, n_inputs=4, seed=3)
    s = ref.structure(cm)
    assert sorted(s["perm"].tolist()) == np.nonzero(cm.has_rule)[0].tolist()
    assert s["diag_pos"].size == s["perm"].size
    lits = s["lit_pos"][s["lit_pos"] >= 0]
    assert lits.max() < s["nnz"]


# ------------------------------------------------------------------ courses with dosing events


@needs_kernel
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), R=st.integers(1, 18), K=st.integers(1, 4))
def test_kernel_equals_reference_on_random_networks(seed, R, K):
    kern = _kernels.load("_rosenbrock")
    cm = random_logic_model(14, n_inputs=3, seed=seed)
    mask, value, y0, cols = _regimens(cm, R, seed)
    vals = np.random.default_rng(seed + 1).uniform(0, 1, (R, K, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    a = kern.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000, 2)
    b = ref.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(a[1], b[1], atol=1e-9, rtol=0)
    assert a[2].tolist() == b[2].tolist()
    assert a[3].tolist() == b[3].tolist()
    # fixed steps as well
    a = kern.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000, 1, 0.05, 3)
    b = ref.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000, 0, 0.05, 3)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    assert a[3].tolist() == b[3].tolist() == [3 * K] * R


@needs_kernel
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), R=st.integers(1, 18), stretch=st.sampled_from([1.05, 1.1]))
def test_stretched_steps_kernel_equals_reference(seed, R, stretch):
    """`stretch` > 1 (a step leaving a sliver of the interval runs to its end): the kernel takes
    the reference's steps and lands on its values; stretch 1 is the default rule."""
    kern = _kernels.load("_rosenbrock")
    cm = random_logic_model(14, n_inputs=3, seed=seed)
    mask, value, y0, cols = _regimens(cm, R, seed)
    vals = np.random.default_rng(seed + 1).uniform(0, 1, (R, 3, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    args = (cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000)
    a = kern.course(*args, 2, 0.05, 0, stretch)
    b = ref.course(*args, 0, 0.05, 0, stretch)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    assert a[3].tolist() == b[3].tolist()
    one = kern.course(*args, 1)
    assert one[3].tolist() == kern.course(*args, 1, 0.05, 0, 1.0)[3].tolist()
    # both stay within their tolerance of each other
    np.testing.assert_allclose(a[0], one[0], atol=1e-4, rtol=0)


@needs_kernel
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), R=st.integers(1, 18), K=st.integers(2, 5))
def test_jump_step_kernel_equals_reference(seed, R, K):
    """`jump_step` (each interval's first step predicted from the previous interval's): the
    kernel takes the reference's steps and lands on its values, and both stay within the
    tolerance's order of the run without it; ignored with fixed steps."""
    kern = _kernels.load("_rosenbrock")
    cm = random_logic_model(14, n_inputs=3, seed=seed)
    mask, value, y0, cols = _regimens(cm, R, seed)
    vals = np.random.default_rng(seed + 1).uniform(0, 1, (R, K, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    args = (cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000)
    a = kern.course(*args, 2, 0.05, 0, 1.1, True)
    b = ref.course(*args, 0, 0.05, 0, 1.1, True)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    assert a[3].tolist() == b[3].tolist()
    plain = kern.course(*args, 1, 0.05, 0, 1.1, False)
    np.testing.assert_allclose(a[0], plain[0], atol=1e-4, rtol=0)
    fa = kern.course(*args, 1, 0.05, 3, 1.0, True)
    fb = kern.course(*args, 1, 0.05, 3, 1.0, False)
    np.testing.assert_array_equal(fa[0], fb[0])


@pytest.mark.parametrize("seed", [1, 4, 5, 6])
@pytest.mark.parametrize("backend", ["python", "auto"])
def test_frozen_nodes_are_held_not_integrated(seed, backend):
    """`freeze`: from a steady state with one input held and jumping, the rule nodes it does
    not reach (and that start within FREEZE_RATE * atol = 1e-9 per unit time of their fixed
    point) are held, dropped from the integrated system with the edges only they read; the
    outputs and the end state equal the full integration's within that drift, and a node
    that starts off its fixed point is never frozen."""
    from mmmech.dynamics import _course

    cm = random_logic_model(18, n_inputs=5, seed=seed)
    mask, value, _, cols = _regimens(cm, 3, seed, n_held=1)
    y0 = np.asarray(propagate.steady_state(cm, mask, value, max_steps=100000).y)
    vals = np.random.default_rng(seed).uniform(0, 1, (3, 4, cols.size))
    outn = np.arange(cm.n_nodes)
    frozen = _course._frozen(cm, _reg(cm, mask, value, y0), cols, 1e-6)
    assert frozen.shape == (3, cm.n_nodes) and frozen.any()
    kw = dict(rtol=1e-3, atol=1e-6, backend=backend)
    a = network_course(cm, mask, value, y0, cols, vals, 2.0, outn, **kw)
    b = network_course(cm, mask, value, y0, cols, vals, 2.0, outn, freeze=False, **kw)
    np.testing.assert_allclose(a[0], b[0], atol=1e-8, rtol=0)
    np.testing.assert_allclose(a[1], b[1], atol=1e-8, rtol=0)
    # the frozen nodes barely moved in the full integration either
    np.testing.assert_allclose(b[1][frozen], y0[frozen], atol=1e-8, rtol=0)
    # off its fixed point: the same node moves, so it is integrated
    y1 = np.clip(y0 + 0.01 * cm.has_rule, 0, 1)
    assert not (_course._frozen(cm, _reg(cm, mask, value, y1), cols, 1e-6) & frozen).any()
    # a regimen's frozen nodes and numbers do not depend on the other regimens of the batch:
    # mixed with a regimen off its fixed point (nothing frozen there), and alone
    yy = np.concatenate([y0, y1[:1]])
    mm, vv = np.concatenate([mask, mask[:1]]), np.concatenate([value, value[:1]])
    mixed = network_course(cm, mm, vv, yy, cols, np.concatenate([vals, vals[:1]]), 2.0, outn, **kw)
    np.testing.assert_array_equal(mixed[0][:3], a[0])
    alone = network_course(cm, mask[1:2], value[1:2], y0[1:2], cols, vals[1:2], 2.0, outn, **kw)
    np.testing.assert_array_equal(alone[0][0], a[0][1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pruned_nodes_do_not_change_the_outputs_beyond_the_tolerance(seed):
    """`prune`: the rule nodes no output depends on are not integrated; the outputs stay
    within the tolerance's order of the full integration (the error control no longer covers
    the pruned nodes), those nodes keep their start values in y, and with every node an
    output nothing is pruned."""
    from mmmech.dynamics import _course

    cm = random_logic_model(20, n_inputs=3, seed=seed)
    mask, value, y0, cols = _regimens(cm, 4, seed)
    vals = np.random.default_rng(seed).uniform(0, 1, (4, 3, cols.size))
    rules = np.nonzero(cm.has_rule)[0]
    outn = rules[:2]
    unread = _course._unread(cm, outn)
    kw = dict(rtol=1e-6, atol=1e-9, freeze=False)
    a = network_course(cm, mask, value, y0, cols, vals, 2.0, outn, prune=True, **kw)
    b = network_course(cm, mask, value, y0, cols, vals, 2.0, outn, **kw)
    np.testing.assert_allclose(a[0], b[0], atol=1e-4, rtol=0)
    np.testing.assert_array_equal(a[1][:, unread], y0[:, unread])
    assert not _course._unread(cm, np.arange(cm.n_nodes)).any()
    # an output's rule reads only nodes that are not pruned
    for i in outn:
        lo, hi = int(cm.prog_ptr[i]), int(cm.prog_ptr[i + 1])
        lits = [cm.edge_src[cm.prog_arg[q]] for q in range(lo, hi) if cm.prog_op[q] == 0]
        assert not unread[lits].any()


def test_network_course_rejects_a_bad_stretch():
    cm = random_logic_model(8, n_inputs=2, seed=1)
    mask, value, y0, cols = _regimens(cm, 1, 1)
    vals = np.zeros((1, 2, cols.size))
    with pytest.raises(InvalidInputError, match="stretch"):
        network_course(cm, mask, value, y0, cols, vals, 1.0, np.arange(2), stretch=0.5)
    with pytest.raises(InvalidInputError, match="stretch"):
        network_course(cm, mask, value, y0, cols, vals, 1.0, np.arange(2), stretch=1.5)


@pytest.fixture(scope="module")
def radau_case():
    """A random network, 2 regimens x 4 intervals of 3 time units with jumping held inputs, and
    its Radau (rtol 1e-10) solution; LSODA (rtol 1e-8) checked against it once."""
    cm = random_logic_model(16, n_inputs=3, seed=11)
    R, K, dt = 2, 4, 3.0
    mask, value, y0, cols = _regimens(cm, R, 5)
    vals = np.random.default_rng(7).uniform(0, 1, (R, K, cols.size))
    want = _lsoda_course(cm, mask, value, y0, cols, vals, dt, "Radau")
    lsoda = _lsoda_course(cm, mask, value, y0, cols, vals, dt, "LSODA", rtol=1e-8)
    assert np.abs(lsoda - want).max() < 1e-6  # the two anchors agree with each other
    return cm, mask, value, y0, cols, vals, dt, want


@pytest.mark.parametrize("rtol", [1e-4, 1e-6])
@pytest.mark.parametrize("backend", ["python", "cython"])
def test_course_agrees_with_radau_and_lsoda(radau_case, rtol, backend):
    if backend == "cython" and not _kernels.available("_rosenbrock"):
        pytest.skip("kernels not built")
    cm, mask, value, y0, cols, vals, dt, want = radau_case
    outn = np.arange(cm.n_nodes)
    out, y, ok, steps = network_course(
        cm, mask, value, y0, cols, vals, dt, outn, rtol=rtol, atol=rtol * 1e-3, backend=backend
    )
    assert ok.all() and (steps >= vals.shape[1]).all()
    assert np.abs(out - want).max() <= 20 * rtol
    np.testing.assert_allclose(y, want[:, -1], atol=20 * rtol)


@needs_kernel
def test_kernel_on_the_myeloma_model_with_vrd_inputs():
    """Two days of VRd (12 intervals of 4 h, doses at 0 h and 24 h): Cython == reference,
    both within the tolerance of Radau and of the former step-by-step Dormand-Prince path."""
    from mmmech.dynamics import regimen as rg
    from mmmech.simulation.simulator import Simulator

    it = rg._item("vrd", "t")
    drugs = list(it.regimen.drugs)
    sim = Simulator("myeloma", drugs, context="marrow")
    cm = sim.compiled
    K, S = 12, 4
    sub = (np.arange(K)[:, None] + (np.arange(S)[None, :] + 0.5) / S) * 4.0
    body = rg._body({"weight_kg": 80.0, "bsa_m2": 1.95}, "t")
    ev = rg._doses(it, 1, body)
    conc = np.stack(
        [rg._conc_matrix(d, ev, sub.ravel(), "reference", dict(body.known), []) for d in drugs],
        axis=1,
    )
    mask, value = sim.fixed_arrays(conc)
    value = value.reshape(K, S, cm.n_nodes).mean(axis=1)
    zm, zv = sim.fixed_arrays(np.zeros((1, len(drugs))))
    y0 = np.asarray(propagate.steady_state(cm, zm, zv, max_steps=100000).y)
    cols = sim._col_node[sim._col_free]
    outn = np.array([cm.readouts[k] for k in ("proliferation", "apoptosis", "immune_killing")])
    vals = value[None, :, cols]
    kw = dict(rtol=1e-4, atol=1e-7)
    a = network_course(cm, mask[:1], value[:1], y0, cols, vals, 4.0, outn, backend="cython", **kw)
    b = network_course(cm, mask[:1], value[:1], y0, cols, vals, 4.0, outn, backend="python", **kw)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    # the predicted first step after each jump (the default) saves attempts, not accuracy
    c = network_course(cm, mask[:1], value[:1], y0, cols, vals, 4.0, outn, jump_step=False, **kw)
    assert a[3][0] < c[3][0]
    assert np.abs(a[0] - c[0]).max() < 5e-5
    # the nodes no drug reaches are held (freeze, the default): same numbers to rounding
    f = network_course(cm, mask[:1], value[:1], y0, cols, vals, 4.0, outn, freeze=False, **kw)
    np.testing.assert_allclose(a[0], f[0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(a[1], f[1], atol=1e-9, rtol=0)
    # the former path: one Dormand-Prince call per step at rtol 1e-6
    y = y0.copy()
    old = [y[:, outn]]
    for k in range(K):
        o, _ = propagate.time_course(cm, [4.0], mask[:1], value[k : k + 1], y0=y)
        y = np.ascontiguousarray(o[:, -1])
        old.append(y[:, outn])
    old = np.stack(old, axis=1)
    assert np.abs(a[0] - old).max() < 2e-4
    assert np.abs(a[0] - old).max() > 0  # a different integrator, not the same numbers


@needs_kernel
def test_results_do_not_depend_on_threads_or_batching():
    kern = _kernels.load("_rosenbrock")
    cm = random_logic_model(20, n_inputs=3, seed=2)
    mask, value, y0, cols = _regimens(cm, 37, 9)
    vals = np.random.default_rng(3).uniform(0, 1, (37, 4, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    one = kern.course(cm, reg, cols, vals, 2.0, outn, 1e-5, 1e-8, 10000, 1)
    two = kern.course(cm, reg, cols, vals, 2.0, outn, 1e-5, 1e-8, 10000, 2)
    np.testing.assert_array_equal(one[0], two[0])
    sub = _reg(cm, mask[5:6], value[5:6], y0[5:6])
    alone = kern.course(cm, sub, cols, vals[5:6], 2.0, outn, 1e-5, 1e-8, 10000, 1)
    np.testing.assert_array_equal(alone[0][0], one[0][5])


def test_max_steps_is_reported_not_silent():
    cm = random_logic_model(12, n_inputs=3, seed=4)
    mask, value, y0, cols = _regimens(cm, 2, 1)
    vals = np.random.default_rng(0).uniform(0, 1, (2, 3, cols.size))
    out, _, ok, steps = network_course(
        cm,
        mask,
        value,
        y0,
        cols,
        vals,
        5.0,
        [0],
        rtol=1e-10,
        atol=1e-13,
        max_steps=2,
        backend="python",
    )
    assert not ok.any() and out.shape == (2, 4, 1)


def test_bad_input_is_one_line():
    cm = random_logic_model(10, n_inputs=2, seed=1)
    mask, value, y0, cols = _regimens(cm, 2, 1)
    vals = np.zeros((2, 3, cols.size))
    with pytest.raises(InvalidInputError, match=r"network_course\(\): values must have shape"):
        network_course(cm, mask, value, y0, cols, vals[:, :, :1], 1.0, [0])
    with pytest.raises(InvalidInputError, match="every node of cols must be fixed"):
        network_course(cm, np.zeros_like(mask), value, y0, cols, vals, 1.0, [0])
    with pytest.raises(InvalidInputError, match=r"values must be finite and lie in \[0, 1\]"):
        network_course(cm, mask, value, y0, cols, vals + 2, 1.0, [0])
    with pytest.raises(InvalidInputError, match="dt must be > 0"):
        network_course(cm, mask, value, y0, cols, vals, 0.0, [0])
    with pytest.raises(InvalidInputError, match="out_nodes must index"):
        network_course(cm, mask, value, y0, cols, vals, 1.0, [99])


@needs_kernel
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), R=st.integers(0, 5), T=st.integers(0, 50))
def test_relax_course_kernel_equals_reference(seed, R, T):
    """The binding-kinetics interval recursion: compiled == NumPy reference (same arithmetic)."""
    kern = _kernels.load("_rosenbrock")
    rng = np.random.default_rng(seed)
    eq, decay, w = (rng.uniform(0, 1, (R, T)) for _ in range(3))
    th0 = rng.uniform(0, 1, R)
    a = kern.relax_course(eq, decay, w, th0)
    b = ref.relax_course(eq, decay, w, th0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@needs_kernel
@pytest.mark.parametrize("rule", ["A AND (A OR B)", "(A OR NOT A) AND B", "A AND NOT (B AND A)"])
def test_a_rule_reading_the_same_edge_twice_equals_the_reference(rule):
    # the course kernel keeps one value per literal; a rule reading one edge twice (a model
    # edited by a context or a subclone can produce one) is split into copies of the edge,
    # which must leave the course unchanged (CI, round 7: `mmmech rank --patient example`)
    from mmmech.simulation.compiled import compile_rules

    kern = _kernels.load("_rosenbrock")
    cm = compile_rules(
        ["A", "B", "C", "D"],
        {"C": rule, "D": "C OR NOT D"},
        edge_params={("A", "C"): {"n": 2.0, "ec50": 0.3}},
        tau={"C": 2.0},
    )
    R, K = 3, 4
    mask, value, y0, cols = _regimens(cm, R, 7)
    vals = np.random.default_rng(8).uniform(0, 1, (R, K, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    a = kern.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000, 1)
    b = ref.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    assert a[2].tolist() == b[2].tolist() == [1] * R
    # and both follow an independent stiff solver on the same derivative
    c = _lsoda_course(cm, mask, value, y0, cols, vals, 2.0)
    np.testing.assert_allclose(a[0], c, atol=2e-5, rtol=0)


# ------------------------------------------------------------------ expdp5 (explicit, Lawson form)


def _expdp5_step(y, h, lam, N):
    """One expdp5 step of the scalar y' = -lam y + N(y) written from the reference's tableau
    (``ref.EXP_*``, the formulas of ``course_arrays(method="expdp5")``): (y_new, error)."""
    c, A, E = ref.EXP_C, ref.EXP_A, ref.EXP_E
    n0 = N(y)
    g = n0 / lam
    z = y - g
    al = [np.exp(-lam * cs * h) for cs in c]
    Rt = [0.0]
    x = y
    for s in range(1, len(c)):
        x = g + al[s] * (z + h * sum(A[s][j] * Rt[j] for j in range(s)))
        Rt.append((N(x) - n0) / al[s])
    return x, h * al[-1] * sum(e * r for e, r in zip(E, Rt, strict=True))


def test_expdp5_is_fifth_order_and_exact_for_a_constant_right_hand_side():
    """On y' = -y + y^2/2 (exact: y = 1 / (1/2 + (1/y0 - 1/2) e^t)) the local error falls as
    h^6 and the embedded estimate as h^5; with N constant (a settled network's relaxation) one
    step of any size is exact, where an explicit pair would be unstable (h = 50)."""

    def exact(y0, t):
        return 1.0 / (0.5 + (1.0 / y0 - 0.5) * np.exp(t))

    hs = (0.2, 0.1, 0.05)
    err = [abs(_expdp5_step(0.8, h, 1.0, lambda v: 0.5 * v * v)[0] - exact(0.8, h)) for h in hs]
    est = [abs(_expdp5_step(0.8, h, 1.0, lambda v: 0.5 * v * v)[1]) for h in hs]
    orders = np.log2(np.array(err[:-1]) / np.array(err[1:]))
    est_orders = np.log2(np.array(est[:-1]) / np.array(est[1:]))
    assert np.all(orders > ref.EXP_ELO + 0.6) and np.all(orders < ref.EXP_ELO + 1.4)
    assert np.all(est_orders > ref.EXP_ELO - 0.5) and np.all(est_orders < ref.EXP_ELO + 0.3)
    for h in (0.5, 4.0, 50.0):
        y1, e = _expdp5_step(0.9, h, 2.0, lambda v: 0.3)
        assert abs(y1 - (0.15 + (0.9 - 0.15) * np.exp(-2.0 * h))) < 1e-15 and abs(e) < 1e-15


@needs_kernel
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    R=st.integers(1, 18),
    K=st.integers(1, 4),
    jump=st.booleans(),
    stretch=st.sampled_from([1.0, 1.1]),
)
def test_expdp5_kernel_equals_reference_on_random_networks(seed, R, K, jump, stretch):
    kern = _kernels.load("_rosenbrock")
    cm = random_logic_model(14, n_inputs=3, seed=seed)
    mask, value, y0, cols = _regimens(cm, R, seed)
    vals = np.random.default_rng(seed + 1).uniform(0, 1, (R, K, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    args = (cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000)
    kw = dict(stretch=stretch, jump_step=jump, method="expdp5")
    a = kern.course(*args, 2, **kw)
    b = ref.course(*args, **kw)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(a[1], b[1], atol=1e-9, rtol=0)
    assert a[2].tolist() == b[2].tolist()
    assert a[3].tolist() == b[3].tolist()
    # within the tolerance's order of RODAS4
    r4 = kern.course(*args, 1, stretch=stretch, jump_step=jump)
    np.testing.assert_allclose(a[0], r4[0], atol=1e-4, rtol=0)
    # fixed steps as well
    a = kern.course(*args, 1, 0.05, 3, method="expdp5")
    b = ref.course(*args, 0, 0.05, 3, method="expdp5")
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    assert a[3].tolist() == b[3].tolist() == [3 * K] * R


@pytest.mark.parametrize("rtol", [1e-4, 1e-6])
@pytest.mark.parametrize("backend", ["python", "cython"])
def test_expdp5_course_agrees_with_radau_and_lsoda(radau_case, rtol, backend):
    if backend == "cython" and not _kernels.available("_rosenbrock"):
        pytest.skip("kernels not built")
    cm, mask, value, y0, cols, vals, dt, want = radau_case
    outn = np.arange(cm.n_nodes)
    out, y, ok, steps = network_course(
        cm, mask, value, y0, cols, vals, dt, outn, rtol=rtol, atol=rtol * 1e-3, backend=backend,
        method="expdp5",
    )  # fmt: skip
    assert ok.all() and (steps >= vals.shape[1]).all()
    assert np.abs(out - want).max() <= 20 * rtol
    np.testing.assert_allclose(y, want[:, -1], atol=20 * rtol)


@needs_kernel
def test_expdp5_results_do_not_depend_on_threads_or_batching():
    kern = _kernels.load("_rosenbrock")
    cm = random_logic_model(20, n_inputs=3, seed=2)
    mask, value, y0, cols = _regimens(cm, 37, 9)
    vals = np.random.default_rng(3).uniform(0, 1, (37, 4, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    args = (cm, reg, cols, vals, 2.0, outn, 1e-5, 1e-8, 10000)
    one = kern.course(*args, 1, jump_step=True, method="expdp5")
    two = kern.course(*args, 2, jump_step=True, method="expdp5")
    np.testing.assert_array_equal(one[0], two[0])
    sub = _reg(cm, mask[5:6], value[5:6], y0[5:6])
    alone = kern.course(
        cm, sub, cols, vals[5:6], 2.0, outn, 1e-5, 1e-8, 10000, 1, jump_step=True, method="expdp5"
    )
    np.testing.assert_array_equal(alone[0][0], one[0][5])


def test_expdp5_takes_one_step_per_quiet_interval():
    """At the fixed point with constant inputs the right-hand side is constant along the
    solution, which the Lawson form integrates exactly: one step per interval, whatever its
    length (an explicit pair would need several for stability)."""
    cm = random_logic_model(12, n_inputs=3, seed=3)
    mask, value, y0, cols = _regimens(cm, 2, 4)
    y_ss = np.asarray(propagate.steady_state(cm, mask, value, max_steps=100000).y)
    for backend in ("python", "auto"):
        steps = {}
        for K in (3, 6):
            vals = np.repeat(value[:, None, cols], K, axis=1)
            out, y, ok, steps[K] = network_course(
                cm, mask, value, y_ss, cols, vals, 20.0, np.arange(cm.n_nodes), rtol=1e-6,
                atol=1e-9, backend=backend, method="expdp5", freeze=False,
            )  # fmt: skip
            assert ok.all()
            np.testing.assert_allclose(y, y_ss, atol=1e-5)  # steady_state's own tolerance
        # the first interval grows the step from h0; every later one takes a single step
        assert (steps[6] - steps[3]).tolist() == [3, 3]


def test_an_unknown_method_is_one_line():
    cm = random_logic_model(10, n_inputs=2, seed=1)
    mask, value, y0, cols = _regimens(cm, 2, 1)
    vals = np.zeros((2, 3, cols.size))
    with pytest.raises(InvalidInputError, match=r"network_course\(\): method must be one of.*"):
        network_course(cm, mask, value, y0, cols, vals, 1.0, [0], method="expdp")


@needs_kernel
@pytest.mark.parametrize("rule", ["A AND (A OR B)", "A AND NOT (B AND A)"])
def test_expdp5_with_a_rule_reading_the_same_edge_twice(rule):
    # shared literals (copies of the edge inside the kernel) and a node with tau = 2 (the
    # stage factors exp(-c h / tau) differ between nodes of one lane)
    from mmmech.simulation.compiled import compile_rules

    kern = _kernels.load("_rosenbrock")
    cm = compile_rules(
        ["A", "B", "C", "D"],
        {"C": rule, "D": "C OR NOT D"},
        edge_params={("A", "C"): {"n": 2.0, "ec50": 0.3}},
        tau={"C": 2.0},
    )
    R, K = 3, 4
    mask, value, y0, cols = _regimens(cm, R, 7)
    vals = np.random.default_rng(8).uniform(0, 1, (R, K, cols.size))
    reg = _reg(cm, mask, value, y0)
    outn = np.arange(cm.n_nodes)
    a = kern.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000, 1, method="expdp5")
    b = ref.course(cm, reg, cols, vals, 2.0, outn, 1e-6, 1e-9, 10000, method="expdp5")
    np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
    assert a[3].tolist() == b[3].tolist()
    c = _lsoda_course(cm, mask, value, y0, cols, vals, 2.0)
    np.testing.assert_allclose(a[0], c, atol=2e-5, rtol=0)


@pytest.mark.parametrize("seed", [1, 5])
def test_frozen_rows_are_each_rows_own(seed):
    """`_frozen` closes only the distinct (free, start) rows and maps them back (round 9): each
    row of a batch with repeated and differing rows equals that row computed alone."""
    from mmmech.dynamics import _course

    cm = random_logic_model(18, n_inputs=5, seed=seed)
    mask, value, _, cols = _regimens(cm, 3, seed, n_held=1)
    y0 = np.asarray(propagate.steady_state(cm, mask, value, max_steps=100000).y)
    y1 = np.clip(y0 + 0.01 * cm.has_rule, 0, 1)
    pick = [0, 1, 0, 2, 1, 0]
    mm, vv = mask[pick], value[pick]
    yy = np.concatenate([y0[pick[:3]], y1[pick[3:]]])
    batch = _course._frozen(cm, _reg(cm, mm, vv, yy), cols, 1e-6)
    alone = np.concatenate(
        [_course._frozen(cm, _reg(cm, mm[i : i + 1], vv[i : i + 1], yy[i : i + 1]), cols, 1e-6)
         for i in range(len(pick))]
    )  # fmt: skip
    np.testing.assert_array_equal(batch, alone)
    assert batch[:3].any() and not np.array_equal(batch[0], batch[3])
