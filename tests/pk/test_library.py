"""structures/pk.toml: every model is complete and sourced; the loader refuses bad entries with
one-line errors naming the drug; covariates apply as the sources state."""

import math

import pytest

from mmmech import pk
from mmmech.exceptions import ModelFileError, UnknownDrugError
from mmmech.sources import is_source

BASE = """
[[drug]]
name = "x"
compartments = 1
routes = ["iv_bolus"]
population = "p"
disease = "d"
n_subjects = 1
source = "PMID:1"
verified = true
[drug.parameters]
cl = { value = 1.0, unit = "L/h" }
v1 = { value = 10.0, unit = "L" }
"""


def test_bundled_models_are_sourced_and_complete():
    names = pk.names()
    assert {"lenalidomide", "ixazomib", "pomalidomide", "daratumumab"} <= set(names)
    for name in names:
        m = pk.model(name)
        assert is_source(m.source), name
        assert isinstance(m.verified, bool)
        assert m.population and m.disease
        # n_subjects = 0 only where the source read gives no n, said in the population text
        assert m.n_subjects > 0 or "unknown" in m.population, name
        assert m.compartments == m.disposition.n_compartments
        if not m.verified:
            assert m.note, f"{name}: unverified numbers need a note naming where they were read"
        for c in m.checks:
            assert is_source(c.source)
            lo, hi = c.band()
            assert lo < hi


def test_model_is_case_insensitive_and_unknown_drugs_suggest_close_matches():
    assert pk.model("Ixazomib") is pk.model("ixazomib")
    with pytest.raises(UnknownDrugError, match="did you mean 'lenalidomide'") as info:
        pk.model("lenalidomid")
    assert "\n" not in str(info.value)
    assert "model()" in str(info.value)
    with pytest.raises(UnknownDrugError, match="drug must be"):
        pk.model("")


def test_units_are_converted_to_canonical():
    m = pk.model("ixazomib")
    assert m.absorption["oral"].tlag == pytest.approx(13 / 60)  # printed in min
    assert pk.model("daratumumab").disposition.km == pytest.approx(0.93)  # ug/mL = mg/L
    ven = pk.model("venetoclax")  # printed per day
    assert ven.disposition.cl == pytest.approx(449 / 24)
    assert ven.absorption["oral"].ka == pytest.approx(3.83 / 24)
    assert ven.absorption["oral"].tlag == pytest.approx(0.04 * 24)
    assert ven.parameters["cl"].printed == "449 L/day"


def test_numeric_covariates_apply_and_notes_do_not():
    base = pk.model("ixazomib")
    big = pk.model("ixazomib", bsa_m2=2.25)
    assert big.disposition.vp[1] == pytest.approx(205.0 * (2.25 / 1.87) ** 2.06)
    assert big.disposition.cl == base.disposition.cl
    assert base.covariate_values == {}
    assert big.covariate_values == {"bsa_m2": 2.25}
    # daratumumab: one covariate acting on two parameters
    d = pk.model("daratumumab", weight_kg=60.0)
    assert d.disposition.cl == pytest.approx(0.00485 * (60 / 78.6) ** 0.451)
    assert d.disposition.v1 == pytest.approx(4.09 * (60 / 78.6) ** 0.375)
    p = pk.model("pomalidomide", total_protein_g_l=90.0)
    assert p.disposition.v1 == pytest.approx(69.96 * (1 + 0.00609 * 17.0))
    with pytest.raises(ModelFileError, match="no numeric effect.*available: bsa_m2"):
        pk.model("ixazomib", renal_hepatic=1.0)
    with pytest.raises(ModelFileError, match="must be a number > 0"):
        pk.model("ixazomib", bsa_m2=-1)


@pytest.mark.parametrize(
    "edit, match",
    [
        (("compartments = 1", "compartments = 4"), "compartments must be 1, 2 or 3"),
        (('routes = ["iv_bolus"]', 'routes = ["im"]'), "routes must be among"),
        (('source = "PMID:1"', 'source = "Smith 2020"'), "not a source identifier"),
        (("verified = true", "verified = 1"), "verified = true|false"),
        (('unit = "L/h"', 'unit = "L/week"'), "has unit 'L/week'"),
        (("cl = {", "kl = {"), "unknown parameter 'kl'"),
        (('v1 = { value = 10.0, unit = "L" }', ""), "missing v1"),
        (('routes = ["iv_bolus"]', 'routes = ["oral"]'), "needs an \\[drug.absorption.oral\\]"),
    ],
)
def test_bad_entries_are_one_line_errors_naming_the_drug(edit, match):
    text = BASE.replace(*edit)
    with pytest.raises(ModelFileError, match=match) as info:
        pk.read_models(text, "user.toml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("user.toml")


def test_apparent_models_refuse_iv_routes_and_f():
    text = BASE.replace("verified = true", "verified = true\napparent = true")
    with pytest.raises(ModelFileError, match="apparent .* cannot list IV routes"):
        pk.read_models(text)
    oral = (
        BASE.replace('routes = ["iv_bolus"]', 'routes = ["oral"]\napparent = true')
        + '[drug.absorption.oral]\nka = { value = 1.0, unit = "1/h" }\n'
        + 'f = { value = 0.5, unit = "1" }\n'
    )
    with pytest.raises(ModelFileError, match="F folded in"):
        pk.read_models(oral)


def test_duplicate_drugs_and_bad_checks_are_refused():
    with pytest.raises(ModelFileError, match="listed twice"):
        pk.read_models(BASE + BASE)
    check = (
        '[[drug.check]]\nmetric = "cmax"\nunit = "ng/mL"\nvalue = 1.0\nsource = "PMID:2"\n'
        "window_h = [0.0, 1.0]\n"
    )
    with pytest.raises(ModelFileError, match="give low and high, or value with sd"):
        pk.read_models(BASE + check)
    with pytest.raises(ModelFileError, match="tolerance_percent needs a text"):
        pk.read_models(BASE + check + "tolerance_percent = 10.0\n")
    ok = pk.read_models(BASE + check + "sd = 0.5\n")
    assert ok["x"].checks[0].band() == (0.5, 1.5)


def test_half_lives_follow_the_parameters():
    m = pk.model("lenalidomide")
    assert pk.half_lives(m) == pytest.approx((math.log(2) * 50.64 / 7.25,))
    ixa = pk.half_lives("ixazomib")
    assert list(ixa) == sorted(ixa) and len(ixa) == 3


def test_checks_apply_their_covariates():
    btz = pk.model("bortezomib")
    check = btz.checks[0]
    assert dict(check.covariates) == {"bsa_m2": 1.8}
    adult = pk.predict_check(btz, check)
    child_size = pk.predict_check(btz, type(check)(**{**check.__dict__, "covariates": {}}))
    assert adult != pytest.approx(child_size)
