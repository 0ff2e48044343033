"""Compiled models and the NumPy reference semantics: known answers and LSODA agreement."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from mmmech.exceptions import InvalidInputError, UnknownNodeError
from mmmech.simulation import propagate
from mmmech.simulation.compiled import (
    OP_AND,
    OP_LIT,
    OP_NOT,
    ParamSet,
    compile_rules,
    hill_coefficients,
)


def test_hill_is_normalized():
    for n, ec50 in [(1.4, 0.5), (2.0, 0.3), (3.0, 0.7), (1.0, 0.2)]:
        B, Kn, lin = hill_coefficients(n, ec50)

        def f(x, B=B, n=n, Kn=Kn):
            return B * x**n / (Kn + x**n)

        assert not lin
        assert f(0.0) == 0.0 and f(1.0) == pytest.approx(1.0) and f(ec50) == pytest.approx(0.5)
    assert hill_coefficients(1.0, 0.5)[2]


def test_program_layout():
    cm = compile_rules(["A", "B", "C"], {"C": "A AND NOT B"})
    assert cm.prog_ptr.tolist() == [0, 0, 0, 4]
    assert cm.prog_op.tolist() == [OP_LIT, OP_LIT, OP_NOT, OP_AND]
    assert cm.edge_sign.tolist() == [1, -1]
    assert cm.has_rule.tolist() == [False, False, True]


def test_unknown_nodes_are_named():
    with pytest.raises(UnknownNodeError, match="'AA'.*did you mean 'A'"):
        compile_rules(["A", "B"], {"B": "AA"})
    with pytest.raises(UnknownNodeError, match="readout"):
        compile_rules(["A"], {}, readouts={"viability": "Viabilty"})


def test_invalid_hill_parameters():
    with pytest.raises(InvalidInputError, match="EC50"):
        compile_rules(["A", "B"], {"B": "A"}, edge_params={("A", "B"): {"ec50": 0.9}})


def test_single_activation_steady_state_known_answer():
    # B = ymax * w * f(A): with identity edge and A fixed at 0.3 the steady state is 0.8*0.6*0.3
    cm = compile_rules(
        ["A", "B"],
        {"B": "A"},
        edge_params={("A", "B"): {"w": 0.6, "n": 1.0, "ec50": 0.5}},
        ymax={"B": 0.8},
    )
    ss = propagate.steady_state(cm, [[1, 0]], [[0.3, 0]], backend="python", tol=1e-10)
    assert ss.converged.all()
    assert ss.y[0, 1] == pytest.approx(0.8 * 0.6 * 0.3, abs=1e-8)


def test_and_or_not_operators():
    cm = compile_rules(
        ["A", "B", "AND", "OR", "NOT"],
        {"AND": "A AND B", "OR": "A OR B", "NOT": "NOT A"},
        edge_params={
            (s, d): {"n": 1.0, "ec50": 0.5}
            for s, d in [("A", "AND"), ("B", "AND"), ("A", "OR"), ("B", "OR"), ("A", "NOT")]
        },
    )
    a, b = 0.3, 0.6
    ss = propagate.steady_state(
        cm, [[1, 1, 0, 0, 0]], [[a, b, 0, 0, 0]], backend="python", tol=1e-11
    )
    np.testing.assert_allclose(ss.y[0, 2:], [a * b, 1 - (1 - a) * (1 - b), 1 - a], atol=1e-9)


def _random_model(seed, N=12):
    rng = np.random.default_rng(seed)
    names = [f"N{i}" for i in range(N)]
    rules = {}
    for i in range(2, N):
        srcs = rng.choice(N, size=rng.integers(1, 4), replace=False)
        lits = [("NOT " if rng.random() < 0.35 else "") + names[s] for s in srcs]
        op = " AND " if rng.random() < 0.5 else " OR "
        rules[names[i]] = op.join(lits)
    return compile_rules(
        names,
        rules,
        y0={names[0]: 1.0, names[1]: 0.5},
        tau={n: float(rng.uniform(0.3, 3)) for n in names},
    )


@pytest.mark.parametrize("seed", range(5))
def test_reference_steady_state_agrees_with_lsoda(seed):
    cm = _random_model(seed)
    R, N = 3, cm.n_nodes
    mask = np.zeros((R, N), dtype=np.uint8)
    val = np.zeros((R, N))
    mask[:, 0] = 1
    val[:, 0] = [0.0, 0.4, 1.0]
    ss = propagate.steady_state(cm, mask, val, backend="python", tol=1e-9, max_steps=50000)
    if not ss.converged.all():
        pytest.skip("oscillating random network (reported as not converged)")
    from mmmech._kernels._logic_ref import _Batch, derivative

    reg = propagate._prepare(cm, mask, val, None, None, None, None, "t")
    batch = _Batch(cm, reg.params, reg.param_index, reg.fixed_mask, reg.fixed_value)
    y0 = np.where(mask > 0, val, cm.y0)
    sol = solve_ivp(
        lambda t, y: derivative(batch, y.reshape(R, N)).ravel(),
        (0, 2000),
        y0.ravel(),
        method="LSODA",
        rtol=1e-10,
        atol=1e-12,
    )
    np.testing.assert_allclose(ss.y, sol.y[:, -1].reshape(R, N), atol=1e-4)


def test_fixed_step_rk4_approaches_steady_state():
    cm = _random_model(1)
    ss = propagate.steady_state(cm, backend="python", tol=1e-10, max_steps=50000)
    y = propagate.integrate_fixed(cm, 0.05, 8000, backend="python")
    if ss.converged.all():
        np.testing.assert_allclose(y, ss.y, atol=1e-5)


def test_non_convergence_is_reported():
    # a negative feedback oscillator with steep Hill edges does not settle in 5 steps
    cm = compile_rules(["A"], {"A": "NOT A"}, edge_params={("A", "A"): {"n": 4.0, "ec50": 0.5}})
    ss = propagate.steady_state(cm, backend="python", max_steps=5)
    assert not ss.converged.any()


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(fixed_mask=[[2, 0]]), "0/1"),
        (dict(fixed_value=[[np.nan, 0]]), "finite"),
        (dict(fixed_value=[[1.5, 0]]), r"\[0, 1\]"),
        (dict(y0=[[0.0]]), "shape"),
        (dict(param_index=[3]), "param_index"),
        (dict(tol=-1), "tol"),
        (dict(backend="fortran"), "backend"),
    ],
)
def test_bad_input(kwargs, needle):
    cm = compile_rules(["A", "B"], {"B": "A"})
    with pytest.raises(InvalidInputError, match=needle):
        propagate.steady_state(cm, **kwargs)


def test_params_validation():
    cm = compile_rules(["A", "B"], {"B": "A"})
    bad = ParamSet(
        w=np.array([[1.5]]),
        n=cm.params.n,
        ec50=cm.params.ec50,
        tau=cm.params.tau,
        ymax=cm.params.ymax,
    )
    with pytest.raises(InvalidInputError, match="w"):
        propagate.steady_state(cm, params=bad)
