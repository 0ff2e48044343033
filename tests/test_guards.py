"""Shared input guards (mmmech._guards) and the resource limits of score and screen."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mmmech
from mmmech import _guards
from mmmech.exceptions import InvalidInputError
from mmmech.model import Simulator, sample_params
from mmmech.scoring import ensemble_summary, score
from mmmech.screening import ensemble_params, plan, screen
from mmmech.screening import planning as screening

PAIR = ["bortezomib", "lenalidomide"]


@pytest.fixture(scope="module")
def sim():
    return Simulator("myeloma", PAIR)


# ---------------------------------------------------------------------- one rule everywhere
_ENSEMBLE_CALLS = {
    "score": lambda v: score(PAIR, ensemble=v),
    "screen": lambda v: screen(PAIR, size=2, ensemble=v, progress=False),
    "plan": lambda v: plan(PAIR, size=2, ensemble=v),
}


@pytest.mark.parametrize("where", sorted(_ENSEMBLE_CALLS))
@pytest.mark.parametrize("bad", [2.5, "3", True, -1, float("nan"), None, [3]])
def test_ensemble_size_is_checked_the_same_everywhere(where, bad):
    with pytest.raises(InvalidInputError) as info:
        _ENSEMBLE_CALLS[where](bad)
    msg = str(info.value)
    assert type(info.value) is InvalidInputError
    assert msg.startswith(
        f"{where if where != 'plan' else 'screen'}(): ensemble must be an integer >= 0, got "
    ), msg


@pytest.mark.parametrize("bad", [2.5, 0, "4", True])
def test_sampler_size_is_checked_by_the_same_guard(sim, bad):
    for f, name in (
        (lambda M: sample_params(sim, M), "sample_params"),
        (lambda M: ensemble_params(sim, M), "ensemble_params"),
    ):
        with pytest.raises(InvalidInputError, match=r"M must be a positive integer") as info:
            f(bad)
        assert str(info.value).startswith(f"{name}()") or "sample_params()" in str(info.value)


def test_integral_float_ensemble_is_the_integer():
    a = plan(PAIR, size=2, ensemble=3.0)
    b = plan(PAIR, size=2, ensemble=3)
    assert a.spec.ensemble == 3 and a.fingerprint == b.fingerprint


@pytest.mark.parametrize("where", ["score", "screen"])
@pytest.mark.parametrize("bad", ["wide", None, [0.9], float("nan"), 0.0, 1.0, True])
def test_interval_is_mmmech_error(where, bad):
    f = (
        (lambda: score(PAIR, ensemble=3, interval=bad))
        if where == "score"
        else (lambda: screen(PAIR, size=2, ensemble=3, interval=bad, progress=False))
    )
    with pytest.raises(InvalidInputError, match=rf"^{where}\(\): interval must "):
        f()


def test_seed_and_spread_and_backend_guards(sim):
    with pytest.raises(InvalidInputError, match=r"^screen\(\): seed must be a non-negative"):
        plan(PAIR, size=2, seed=1.5)
    with pytest.raises(InvalidInputError, match=r"^screen\(\): spread must "):
        plan(PAIR, size=2, spread="x")
    with pytest.raises(InvalidInputError, match=r"^sample_params\(\): spread must lie in"):
        sample_params(sim, 3, seed=1, spread=1.0)
    with pytest.raises(InvalidInputError, match=r"^sample_params\(\): seed must be None, a "):
        sample_params(sim, 3, seed=-2)
    with pytest.raises(InvalidInputError, match="did you mean 'python'"):
        plan(PAIR, size=2, backend="pyhton")
    # a Generator and None stay valid seeds of the sampler
    g = sample_params(sim, 3, seed=np.random.default_rng(1))
    assert g.w.shape[0] == 3


@given(st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3) | st.none())
def test_check_fraction_accepts_exactly_the_open_interval(x):
    inside = isinstance(x, float) and 0.0 < x < 1.0
    if inside:
        assert _guards.check_fraction(x, "f", "p") == x
    else:
        with pytest.raises(InvalidInputError, match=r"^f\(\): p must "):
            _guards.check_fraction(x, "f", "p")


def test_check_dose_list():
    np.testing.assert_array_equal(_guards.check_dose_list("d", [3, 1, 2, 2], "f"), [0, 1, 2, 3])
    for bad, needle in (
        ([1, 2], "three"),
        ([1, -2, 3], ">= 0"),
        ("1,2,3", "numbers"),
        ([1, float("inf"), 3, 4], "finite"),
        ([], "empty"),
        (["a", "b", "c"], "numbers"),
    ):
        with pytest.raises(InvalidInputError, match=needle):
            _guards.check_dose_list("d", bad, "f")


# ---------------------------------------------------------------------- the ensemble summary
def test_ensemble_summary_known_answer_and_undefined_members():
    s, note = ensemble_summary([4.0, 0.0, 2.0, 6.0], 0.5, "zip")
    assert (s["mean"], s["low"], s["high"]) == (3.0, 1.5, 4.5) and note is None
    assert s["members"] == 4 and s["undefined"] == 0
    s, note = ensemble_summary([1.0, np.inf, np.nan, 3.0], 0.9, "loewe")
    assert s["mean"] == 2.0 and s["undefined"] == 2 and "loewe is undefined for 2 of 4" in note
    s, note = ensemble_summary([np.nan, np.nan], 0.9, "hsa")
    assert all(math.isnan(s[k]) for k in ("mean", "low", "high")) and note


@given(
    st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=1, max_size=30),
    st.floats(0.01, 0.99),
)
def test_ensemble_summary_invariants(values, interval):
    s, note = ensemble_summary(values, interval, "bliss")
    ok = np.array([v for v in values if math.isfinite(v)])
    assert s["members"] == len(values) and s["undefined"] == len(values) - ok.size
    assert (note is None) == (ok.size == len(values))
    if ok.size:
        tol = 1e-9 * (1 + np.abs(ok).max())
        med = float(np.median(ok))
        assert ok.min() - tol <= s["low"] <= med + tol <= s["high"] + 2 * tol
        assert s["high"] <= ok.max() + tol
        assert s["mean"] == pytest.approx(ok.mean(), abs=tol)


# ---------------------------------------------------------------------- resource limits
def test_score_refuses_an_oversized_grid_before_simulating(monkeypatch):
    """8 drugs at the default 6 doses (1.7 M simulations) and 27 drugs: one line naming the size
    and the way out, before any simulator is built (the simulator is never reached)."""
    import mmmech.model as model

    monkeypatch.setattr(model, "Simulator", None)  # would fail if anything were built
    lib = [d for d in mmmech.drugs.library()]
    for drugs in (
        [
            "bortezomib",
            "carfilzomib",
            "ixazomib",
            "thalidomide",
            "lenalidomide",
            "pomalidomide",
            "dexamethasone",
            "daratumumab",
        ],
        lib,
    ):
        with pytest.raises(InvalidInputError) as info:
            score(drugs)
        msg = str(info.value)
        n = len(drugs)
        assert msg.startswith("score(): ") and "\n" not in msg
        assert f"{n} drugs x 6 doses each = {6**n:,} grid points" in msg
        assert "fewer drugs" in msg and "--points" in msg and "ensemble" in msg


def test_score_and_screen_refuse_a_huge_ensemble(tmp_path):
    for f in (
        lambda: score(PAIR, ensemble=10**12),
        lambda: screen(PAIR, size=2, ensemble=10**12, out=tmp_path / "s.csv"),
    ):
        with pytest.raises(
            InvalidInputError,
            match=r"36 grid points x 1,000,000,000,000 "
            r"parameter sets",
        ) as info:
            f()
        assert "smaller" in str(info.value) and "ensemble" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no journal left behind
    with pytest.raises(InvalidInputError, match="parameter sets need about"):
        sample_params(Simulator("myeloma", PAIR), 10**12)


def test_limit_is_exact_and_points_reduce_the_grid(monkeypatch):
    """The limit counts grid points x members exactly: at the limit a score runs, one member
    more is refused; --points shrinks the default grid."""
    monkeypatch.setattr(_guards, "MAX_SIMULATIONS", 2 * 36)
    r = score(PAIR, metrics="bliss", ensemble=2, seed=1)
    assert r.ensemble["bliss"]["members"] == 2
    with pytest.raises(
        InvalidInputError,
        match=r"3 parameter sets = 108 simulations.*limit "
        r"of 72",
    ):
        score(PAIR, metrics="bliss", ensemble=3)
    r = score(PAIR, metrics="bliss", ensemble=4, points=3)  # 4 x 4 grid x 4 = 64
    assert [len(d) for d in r.doses] == [4, 4]
    with pytest.raises(InvalidInputError, match="limit of 72"):
        plan(PAIR + ["dexamethasone"], size=3, ensemble=0)  # 216 per triplet


def test_screen_refuses_too_many_rows_before_enumerating(monkeypatch):
    monkeypatch.setattr(_guards, "MAX_TASKS", 5)
    with pytest.raises(
        InvalidInputError,
        match=r"^screen\(\): 6 rows \(combinations x "
        r"contexts\) is more than the limit of 5",
    ):
        plan(PAIR + ["dexamethasone"], size=2, contexts=["cell_line", "marrow"])
    assert plan(PAIR + ["dexamethasone"], size=2).n_tasks == 3


def test_cli_refusal_is_one_line(run_cli):
    from _helpers import assert_one_line_error

    assert_one_line_error(
        run_cli("score", "bortezomib", "lenalidomide", "--ensemble", "1000000000000"),
        "parameter sets",
    )
    assert_one_line_error(
        run_cli(
            "screen",
            "bortezomib",
            "lenalidomide",
            "--size",
            "2",
            "--ensemble",
            "1000000000000",
            "--out",
            "x.csv",
            "--quiet",
        ),
        "parameter sets",
    )


def test_screen_module_uses_the_shared_guards():
    """One implementation: scoring and screening call the guards of mmmech._guards."""
    import mmmech.scoring as scoring

    assert screening.check_ensemble is _guards.check_ensemble is scoring.check_ensemble
    assert screening.check_dose_list is _guards.check_dose_list is scoring.check_dose_list
