"""CRS, infections and cardiac failure per trial arm: label incidences, not modelled.

The expected numbers are the ones read in the sources named in structures/toxicity.toml:
MajesTEC-1 (teclistamab: CRS 119/165 = 72.1% any grade, a single grade 3 case = 1/165, grade 3/4
infections 91/165 = 55.2%; PMID:36991547, PMID:37960969) and the pooled carfilzomib trials
(grade >= 3 cardiac failure 4.4%; PMID:29991494).
"""

import pytest

from mmmech import trials
from mmmech.exceptions import ModelFileError
from mmmech.toxicity import read_toxicity, toxicity_data
from mmmech.trials import tox

FIELDS = ("crs_any", "crs_grade3", "infection_grade3", "cardiac_failure")


def _arm(regimen):
    pts, _ = trials.enrol("ndmm", 2, seed=5)
    return tox.arm_toxicity(regimen, [tox.patient_toxicity(regimen, p, 1, "ndmm", 5) for p in pts])


def test_teclistamab_arm_reports_its_crs_and_infections_as_label_incidences():
    t = _arm("teclistamab")
    crs = t["crs_any"]
    assert crs["rate"] == pytest.approx(119 / 165, abs=5e-4)
    assert crs["sources"] == ["PMID:36991547"] and crs["verified"] is True
    assert crs["drugs"] == ["teclistamab"] and crs["basis"] == "label_incidence"
    assert "not modelled" in crs["note"]
    assert t["crs_grade3"]["rate"] == pytest.approx(1 / 165, abs=5e-4)
    inf = t["infection_grade3"]
    assert inf["rate"] == pytest.approx(91 / 165, abs=5e-4)
    assert inf["sources"] == ["PMID:37960969"]
    assert inf["range"] == [0.448, 0.552]  # 14.1 vs 22.8 months of follow-up
    assert crs["range"] is None
    assert t["cardiac_failure"] is None  # teclistamab has no cardiac failure figure
    # every figure is also in the arm's list of fallbacks, with its unit
    listed = {(d["toxicity"], d["grade_at_least"]) for d in t["label_incidence"]}
    assert {("crs", 1), ("crs", 3), ("infection", 3)} <= listed
    assert {d["dose_unit"] for d in t["label_incidence"]} == {"mg/kg"}


def test_kd_arm_reports_carfilzomib_cardiac_failure_only():
    t = _arm("kd")
    cf = t["cardiac_failure"]
    assert cf["rate"] == pytest.approx(0.044) and cf["drugs"] == ["carfilzomib"]
    assert cf["sources"] == ["PMID:29991494"]
    assert "not a prediction for this arm" in cf["note"]
    assert t["crs_any"] is None and t["crs_grade3"] is None and t["infection_grade3"] is None


@pytest.mark.parametrize("regimen", ["rd", "vd"])
def test_arms_without_such_drugs_have_none(regimen):
    t = _arm(regimen)
    assert all(t[k] is None for k in FIELDS)


def test_only_drugs_with_a_read_figure_have_one():
    """A drug whose figure was not read stays without one (docs/toxicity.md)."""
    d = toxicity_data()
    have = {(i.drug, i.toxicity, i.grade) for i in d.incidences}
    assert ("talquetamab", "crs", 1) in have and ("talquetamab", "crs", 3) not in have
    for car_t in ("idecabtagene vicleucel", "ciltacabtagene autoleucel"):
        assert (car_t, "crs", 1) in have and (car_t, "crs", 3) in have
        assert (car_t, "infection", 3) not in have  # no total grade >= 3 figure was read
    assert not any(
        i.toxicity == "cardiac_failure" and i.drug != "carfilzomib" for i in d.incidences
    )
    for i in d.incidences:
        assert 0.0 <= i.incidence <= 1.0 and i.source and i.population
        if not i.verified:
            assert "read" in i.note  # says where the number was read


def test_ide_cel_arm_reports_the_disagreeing_sources_as_a_range():
    t = _arm("ide_cel")
    assert t["crs_any"]["rate"] == pytest.approx(0.84)
    g3 = t["crs_grade3"]
    assert g3["rate"] == pytest.approx(0.05) and g3["range"] == [0.05, 0.09]
    assert g3["verified"] is False


def test_range_must_bracket_the_incidence():
    text = (
        '[[incidence]]\ndrug = "x"\ntoxicity = "crs"\ngrade = 3\nbasis = "label_incidence"\n'
        'dose_mg = 1\nschedule = "s"\nincidence = 0.2\nincidence_low = 0.3\n'
        'incidence_high = 0.4\nsource = "PMID:1"\npopulation = "p"\nnote = "n"\n'
    )
    with pytest.raises(ModelFileError, match="line 1.*incidence_low <= incidence"):
        read_toxicity(text, "x.toml")


def test_incidence_without_source_is_one_line_naming_file_and_line():
    text = (
        "# a comment\n\n"
        '[[incidence]]\ndrug = "teclistamab"\ntoxicity = "crs"\ngrade = 1\n'
        'basis = "label_incidence"\ndose_mg = 1.5\ndose_unit = "mg/kg"\nschedule = "s"\n'
        'incidence = 0.7\npopulation = "p"\nnote = "n"\n'
    )
    with pytest.raises(ModelFileError) as exc:
        read_toxicity(text, "x/toxicity.toml")
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("x/toxicity.toml: ")
    assert "line 3" in msg and "'source'" in msg and "'teclistamab'" in msg


def test_cli_line_names_the_label_incidences():
    from mmmech.cli._trial import _tox_line

    arm = {"name": "Tec", "toxicity": _arm("teclistamab")}
    out = _tox_line(arm)
    assert "label incidence, not modelled" in out
    assert "CRS any grade 72.1% (teclistamab; PMID:36991547)" in out
    assert "cardiac failure" not in out
    assert "label incidence" not in _tox_line({"name": "Rd", "toxicity": _arm("rd")})
