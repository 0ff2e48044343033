"""Synergy scores on surfaces: null surfaces, signs, invariants, and the `synergy` package.

Known answers from outside the project: Bliss and HSA against the `synergy` package (GPL,
test-only) to 1e-9 after the scale change (it works on fractional viability E = 1 - I/100
and reports expected minus observed E: our score = 100 x its score); ZIP and Loewe against it
on noise-free surfaces where both definitions coincide (see docs/synergy.md).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech.exceptions import InvalidInputError
from mmmech.synergy import METRICS, most_synergistic_area, score_surface

D1 = np.array([0.0, 1.0, 3.0, 10.0, 30.0, 100.0])
D2 = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0])
D3 = np.array([0.0, 2.0, 8.0, 32.0])


def hill(x, top, ec50, h, bottom=0.0):
    x = np.asarray(x, dtype=float)
    return bottom + (top - bottom) * x**h / (x**h + ec50**h)


def bliss_combine(*ys):
    prod = 1.0
    for k, y in enumerate(ys):
        shape = [1] * len(ys)
        shape[k] = len(y)
        prod = prod * (1 - np.reshape(y, shape) / 100)
    return 100 * (1 - prod)


Y1 = hill(D1, 90, 10, 1.2)
Y2 = hill(D2, 80, 1, 1.5)
Y3 = hill(D3, 70, 10, 1.0)
BLISS = bliss_combine(Y1, Y2)


def potentiated(strength):
    """Drug 2 shifts drug 1's EC50 by 1 + strength * occupancy (synergy if > 0)."""
    occ = D2 / (D2 + 1.0)
    y = np.array([[hill(a, 90, 10 / (1 + strength * o), 1.2) for o in occ] for a in D1])
    return 100 * (1 - (1 - y / 100) * (1 - Y2[None, :] / 100))


def antagonistic(factor=0.6):
    """Combination wells at a fraction of the stronger single agent (antagonism for all)."""
    R = np.maximum(Y1[:, None], Y2[None, :])
    R[1:, 1:] *= factor
    return R


# --------------------------------------------------------------------------- null surfaces


def test_bliss_independent_surface_scores_zero_bliss_and_zip():
    # exact-fit property of mmmech's robust fits (SynergyFinder's BFGS stops at reltol 1e-7)
    r = score_surface([D1, D2], BLISS, fit="robust")
    assert np.abs(r.matrices["bliss"]).max() < 1e-12
    assert abs(r.scores["bliss"]) < 1e-12
    # ZIP: every row and column of a Bliss surface is a log-logistic curve -> fits are exact
    assert np.abs(r.matrices["zip"]).max() < 1e-5
    assert abs(r.scores["zip"]) < 1e-6


def test_drug_combined_with_itself_scores_zero_loewe():
    d = np.array([0.0, 1.0, 3.0, 10.0, 30.0, 100.0])
    sham = hill(d[:, None] + d[None, :], 90, 10, 1.2)
    r = score_surface([d, d], sham, fit="robust")
    assert np.abs(r.matrices["loewe"]).max() < 1e-5
    assert abs(r.scores["loewe"]) < 1e-6
    assert not any("loewe" in n for n in r.notes)
    # a drug with itself is not Bliss-independent: Bliss sees synergy for a Hill slope > 1
    assert r.scores["bliss"] != pytest.approx(0, abs=0.1)


def test_three_drug_sham_and_bliss_null():
    d = np.array([0.0, 1.0, 4.0, 16.0])
    sham = hill(d[:, None, None] + d[None, :, None] + d[None, None, :], 95, 8, 1.5)
    r = score_surface([d, d, d], sham, fit="robust")
    assert np.abs(r.matrices["loewe"]).max() < 1e-5
    b = bliss_combine(Y1[:4], Y2[:4], Y3)
    r = score_surface([D1[:4], D2[:4], D3], b, fit="robust")
    assert np.abs(r.matrices["bliss"]).max() < 1e-12
    assert abs(r.scores["zip"]) < 1e-5


def test_hsa_null_is_the_stronger_drug():
    surface = np.maximum(Y1[:, None], Y2[None, :])
    r = score_surface([D1, D2], surface, metrics="hsa")
    assert np.abs(r.matrices["hsa"]).max() == 0.0
    assert list(r.scores) == ["hsa"]


def test_scores_are_zero_where_at_most_one_drug_is_present():
    rng = np.random.default_rng(3)
    R = rng.uniform(-10, 100, (6, 6))
    r = score_surface([D1, D2], R)
    for m in METRICS:
        assert np.all(r.matrices[m][0, :] == 0) and np.all(r.matrices[m][:, 0] == 0)
        assert np.allclose(r.references[m][0, :], R[0, :])


# --------------------------------------------------------------------------- signs


@pytest.mark.parametrize(
    "surface, sign",
    [(potentiated(4.0), 1), (antagonistic(), -1)],
    ids=["potentiation", "antagonism"],
)
def test_synergy_and_antagonism_get_the_right_sign(surface, sign):
    r = score_surface([D1, D2], surface)
    for m in METRICS:
        assert np.sign(r.scores[m]) == sign, (m, r.scores)
        assert np.sign(r.most_synergistic_area[m]["score"]) == sign


def test_viability_is_converted_explicitly():
    a = score_surface([D1, D2], potentiated(4.0), fit="robust")
    b = score_surface([D1, D2], 100 - potentiated(4.0), response_kind="viability", fit="robust")
    for m in METRICS:
        assert a.scores[m] == pytest.approx(b.scores[m], abs=1e-9)
    # reading viability as inhibition flips the picture: the kind is never guessed
    c = score_surface([D1, D2], 100 - potentiated(4.0))
    assert c.scores["bliss"] < 0


# --------------------------------------------------------------------------- invariants

surfaces = st.builds(
    lambda seed, noise: np.clip(
        BLISS + np.random.default_rng(seed).normal(0, noise, BLISS.shape), -20, 110
    ),
    st.integers(0, 10_000),
    st.floats(0.5, 15),
)


@settings(max_examples=25, deadline=None)
@given(surfaces)
def test_swapping_the_drugs_changes_no_score(R):
    a = score_surface([D1, D2], R)
    b = score_surface([D2, D1], R.T)
    for m in METRICS:
        assert a.scores[m] == pytest.approx(b.scores[m], abs=1e-6), m
        assert np.allclose(a.matrices[m], b.matrices[m].T, atol=1e-5), m


@settings(max_examples=25, deadline=None)
@given(surfaces, st.floats(-30, 30))
def test_a_shift_of_the_combination_wells_moves_bliss_and_hsa_by_it(R, c):
    shifted = R.copy()
    shifted[1:, 1:] += c
    a = score_surface([D1, D2], R, metrics=("bliss", "hsa"))
    b = score_surface([D1, D2], shifted, metrics=("bliss", "hsa"))
    for m in ("bliss", "hsa"):
        assert b.scores[m] - a.scores[m] == pytest.approx(c, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(surfaces, st.sampled_from([1e-3, 7.0, 1e4]))
def test_dose_units_do_not_matter(R, factor):
    a = score_surface([D1, D2], R)
    b = score_surface([D1 * factor, D2], R)
    for m in ("bliss", "hsa"):
        assert a.scores[m] == pytest.approx(b.scores[m], abs=1e-9), m
    # fits work in log-dose relative to the tested range: the same up to where a fit stops
    # in a flat valley (a step-like curve with its Hill slope on the bound); over 900 random
    # surfaces x unit factors the largest ZIP difference was 3.2e-4 percentage points
    assert a.scores["zip"] == pytest.approx(b.scores["zip"], abs=2e-3)
    if not any("summed dose" in n for n in a.notes + b.notes):
        assert a.scores["loewe"] == pytest.approx(b.scores["loewe"], abs=1e-4)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_hsa_expectation_never_exceeds_bliss_for_effects_in_0_100(seed):
    rng = np.random.default_rng(seed)
    R = rng.uniform(0, 100, (6, 6))
    r = score_surface([D1, D2], R, metrics=("bliss", "hsa"))
    assert np.all(r.references["hsa"] <= r.references["bliss"] + 1e-12)
    assert r.scores["hsa"] >= r.scores["bliss"] - 1e-12


def test_summary_is_the_mean_over_wells_with_every_drug():
    rng = np.random.default_rng(1)
    R = rng.uniform(0, 100, (6, 6, 4))
    r = score_surface([D1, D2, D3], R, metrics=("bliss",))
    assert r.scores["bliss"] == pytest.approx(r.matrices["bliss"][1:, 1:, 1:].mean(), abs=1e-12)


# --------------------------------------------------------------------------- `synergy` package


def _package(model_cls, R, d1=D1, d2=D2, **kw):
    """Scores of the `synergy` package on percent-inhibition matrix R, on our scale."""
    x1, x2 = np.meshgrid(d1, d2, indexing="ij")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = model_cls(**kw)
        s = model.fit(x1.ravel(), x2.ravel(), 1 - R.ravel() / 100)
    return 100 * np.asarray(s, dtype=float).reshape(R.shape)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_bliss_and_hsa_agree_with_the_synergy_package(seed):
    syn = pytest.importorskip("synergy.combination")
    rng = np.random.default_rng(seed)
    R = rng.uniform(-20, 105, (6, 6))
    r = score_surface([D1, D2], R, metrics=("bliss", "hsa"))
    assert np.abs(r.matrices["bliss"] - _package(syn.Bliss, R)).max() < 1e-9
    assert np.abs(r.matrices["hsa"] - _package(syn.HSA, R)).max() < 1e-9


@pytest.mark.parametrize("strength", [0.0, 4.0, -0.8])
def test_zip_agrees_with_the_synergy_package_on_noise_free_surfaces(strength):
    syn = pytest.importorskip("synergy.combination")
    R = potentiated(strength)
    ours = score_surface([D1, D2], R, metrics="zip")
    theirs = _package(syn.ZIP, R)
    # on noise-free data fitted and observed monotherapies coincide, so SynergyFinder 3's
    # anchor (observed) and the package's (fitted) give the same delta score
    assert np.abs(ours.matrices["zip"] - theirs).max() < 1e-3
    assert ours.scores["zip"] == pytest.approx(theirs[1:, 1:].mean(), abs=1e-4)


def test_loewe_agrees_with_the_synergy_package_inside_both_ranges():
    syn = pytest.importorskip("synergy.combination")
    R = bliss_combine(hill(D1, 100, 10, 1.2), hill(D2, 100, 1, 1.5))
    ours = score_surface([D1, D2], R, metrics="loewe", fit="robust")
    theirs = _package(syn.Loewe, R, mode="delta_hsa")
    # equal maxima: no effect beyond a drug's range, where the conventions differ
    assert np.abs(ours.matrices["loewe"] - theirs).max() < 1e-3  # its bounded minimiser
    assert not ours.notes


# --------------------------------------------------------------------------- area and result


def test_most_synergistic_area_finds_a_planted_window():
    delta = np.zeros((6, 6))
    delta[2:5, 1:4] = 10.0
    delta[5, 5] = 50.0  # one strong well (window mean 70/9) does not beat the window
    score, start = most_synergistic_area(delta)
    assert start == (2, 1) and score == pytest.approx(10.0)
    R = BLISS.copy()
    R[2:5, 1:4] += 10.0
    r = score_surface([D1, D2], R, metrics="bliss")
    a = r.most_synergistic_area["bliss"]
    assert a["rows"] == D1[2:5].tolist() and a["cols"] == D2[1:4].tolist()
    assert a["score"] == pytest.approx(10.0, abs=1e-9)
    assert a["doses"] == {"drug1": D1[2:5].tolist(), "drug2": D2[1:4].tolist()}


def test_area_on_small_grids_uses_the_whole_axis():
    score, start = most_synergistic_area(np.array([[0.0, 0.0], [0.0, 4.0]]))
    assert score == 1.0 and start == (0, 0)


def test_result_to_dict_is_json_ready():
    import json

    r = score_surface([D1, D2], potentiated(4.0), drugs=("bortezomib", "lenalidomide"))
    d = json.loads(json.dumps(r.to_dict(matrices=True)))
    assert d["drugs"] == ["bortezomib", "lenalidomide"]
    assert set(d["scores"]) == set(METRICS)
    assert d["response_kind"] == "inhibition"
    assert len(d["matrices"]["zip"]) == 6 and d["fits"]["bortezomib"]["ok"] is True
    assert d["fits"]["bortezomib"]["ec50"] == pytest.approx(10.0, rel=1e-3)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "doses, response, needle",
    [
        ([D1], Y1, "at least two drugs"),
        ([D1, -D2], BLISS, ">= 0"),
        ([D1, D2[::-1]], BLISS, "first dose"),
        ([D1, np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0])], BLISS, "strictly increasing"),
        ([D1, D2], BLISS[:, :5], "shape"),
        ([D1, D2], np.where(np.eye(6, dtype=bool), np.nan, BLISS), "finite"),
        ([D1, ["a"] * 6], BLISS, "numeric"),
    ],
)
def test_bad_surfaces_are_rejected(doses, response, needle):
    with pytest.raises(InvalidInputError, match=needle) as exc:
        score_surface(doses, response)
    assert "score_surface()" in str(exc.value)


def test_bad_options_are_rejected_with_suggestions():
    with pytest.raises(InvalidInputError, match="did you mean 'bliss'"):
        score_surface([D1, D2], BLISS, metrics=("blis",))
    with pytest.raises(InvalidInputError, match="viability"):
        score_surface([D1, D2], BLISS, response_kind="viabilty")
    with pytest.raises(InvalidInputError, match="appears twice"):
        score_surface([D1, D2], BLISS, drugs=("a", "A"))
