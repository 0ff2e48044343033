"""Round 9 (issue 16, pkfacts): the prednisone -> prednisolone model (Bouazza 2025) against the
source's own equations and its stated prediction, and `unbound` facts checks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import pk
from mmmech.exceptions import ModelFileError

MW_PREDNISONE = 358.43  # g/mol, the source's dose unit is nmol of prednisone
FU = 0.24  # the record's fraction unbound (= the drug library's fu)


def _bouazza_unbound_ng_ml(dose_mg, weight_kg, t_h):
    """Unbound prednisolone (ng/mL, prednisone-mass equivalents) from the source's own
    parameters (Bouazza 2025 Table 2 as encoded by nlmixr2lib), written out independently:
    one compartment, first-order absorption after a lag, F = (dose/80,000 nmol)^-0.28."""
    f = (dose_mg * 1e6 / MW_PREDNISONE / 80_000.0) ** -0.28
    clu = 54.3 * (weight_kg / 70.0) ** 0.75
    vu = 235.0 * (weight_kg / 70.0)
    ka, tlag = 1.19, 0.17
    k = clu / vu
    d = np.maximum(np.asarray(t_h, dtype=float) - tlag, 0.0)
    c_mg_l = f * dose_mg * ka / (vu * (ka - k)) * (np.exp(-k * d) - np.exp(-ka * d))
    return 1000.0 * c_mg_l


@settings(max_examples=25, deadline=None)
@given(dose=st.floats(30.0, 200.0), weight=st.floats(40.0, 110.0))
def test_unbound_prednisolone_is_the_sources_model_at_any_dose_and_weight(dose, weight):
    m = pk.model("prednisone", weight_kg=weight, prednisone_dose_mg=dose)
    t = np.array([0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
    df = pk.simulate(m, [(0.0, dose, "oral")], times=t)
    np.testing.assert_allclose(
        df["unbound_concentration"].to_numpy(), _bouazza_unbound_ng_ml(dose, weight, t), rtol=1e-3
    )
    assert m.fraction_unbound == FU


def test_the_sources_stated_prediction_75_l_per_h_at_63_5_mg_and_80_kg():
    """Bouazza 2025 Discussion (via the nlmixr2lib vignette): a typical 80-kg patient given
    63.5 mg prednisone has an apparent unbound clearance of 75 L/h."""
    m = pk.model("prednisone", weight_kg=80.0, prednisone_dose_mg=63.5)
    e = pk.exposure(m, [(0.0, 63.5, "oral")], 0.0, 400.0, unit="mg/L", unbound=True)
    assert 63.5 / e["auc"] == pytest.approx(75.0, rel=0.01)


def test_bioavailability_falls_with_dose_as_the_source_says():
    """AUC per mg scales as dose^-0.28: a doubled dose gives 2^0.72 = 1.65 x the exposure."""
    auc = {
        d: pk.exposure(
            pk.model("prednisone", prednisone_dose_mg=d), [(0.0, d, "oral")], 0.0, 400.0,
            unbound=True,
        )["auc"]
        for d in (54.0, 108.0)
    }  # fmt: skip
    assert auc[108.0] / auc[54.0] == pytest.approx(2**0.72, rel=1e-6)
    # the record's typical values are those at the labelled MP dose (60 mg/m2 x 1.8 m2)
    base = pk.exposure("prednisone", [(0.0, 108.0, "oral")], 0.0, 400.0, unbound=True)["auc"]
    assert base == pytest.approx(auc[108.0], rel=1e-9)
    assert pk.half_lives("prednisone")[-1] == pytest.approx(math.log(2) * 235 / 54.3, rel=1e-3)


_FILE = """
[[drug]]
name = "x"
compartments = 1
apparent = true
routes = ["oral"]
population = "p"
disease = "d"
n_subjects = 1
source = "PMID:1"
verified = true
[drug.parameters]
cl = { value = 10, unit = "L/h" }
v1 = { value = 50, unit = "L" }
[drug.absorption.oral]
ka = { value = 1, unit = "1/h" }
FU
[[drug.check]]
metric = "auc"
UNBOUND
unit = "ng*h/mL"
schedule = { dose = "100 mg", route = "oral", days = [1] }
window_h = [0.0, 400.0]
value = 2500
cv_percent = 10
source = "PMID:1"
"""


def test_an_unbound_check_reports_the_unbound_exposure():
    text = _FILE.replace("FU", '[drug.fraction_unbound]\nvalue = 0.25\nsource = "PMID:1"')
    (m,) = pk.read_models(text.replace("UNBOUND", "unbound = true"), "my.toml").values()
    (c,) = m.checks
    assert c.unbound
    assert pk.predict_check(m, c) == pytest.approx(0.25 * 100 / 10 * 1000, rel=1e-6)


@pytest.mark.parametrize(
    "fu, unbound, message",
    [("", "unbound = true", "fraction_unbound"), ("", 'unbound = "yes"', "true or false")],
)
def test_bad_unbound_checks_give_one_line_errors(fu, unbound, message):
    with pytest.raises(ModelFileError, match=message) as err:
        pk.read_models(_FILE.replace("FU", fu).replace("UNBOUND", unbound), "my.toml")
    assert "my.toml" in str(err.value) and "\n" not in str(err.value)
