"""apply_dose_modifications: a patient's course through the regimen file's rules."""

import json

import pytest

from mmmech.exceptions import InvalidInputError
from mmmech.regimens import expand, load
from mmmech.toxicity import Health, apply_dose_modifications


def test_unmodified_course_gives_the_regimen_doses():
    """A patient with normal counts and renal function gets exactly the regimen's doses
    (differential check against regimens.expand)."""
    doses, course = apply_dose_modifications("rd", 2, crcl_ml_min=95, anc_10e9_L=5.0)
    planned = [e for e in expand(load("rd"), cycles=2) if e.drug == "lenalidomide"]
    assert [(e.day, e.amount) for e in doses["lenalidomide"]] == [
        (e.day, e.amount) for e in planned
    ]
    assert course.actions == () and course.worst_grade("anc") < 3
    assert len(course.times_day) == len(course.anc) and course.times_day[0] == 1.0
    assert course.anc[0] == pytest.approx(5.0)


def test_low_baseline_anc_is_held_then_reduced_as_the_label_says():
    """REVLIMID Table 1: ANC < 1.0 -> interrupt; first recovery with neutropenia alone ->
    the starting dose; each subsequent event -> the next lower dose (15 mg)."""
    doses, course = apply_dose_modifications("rd", 4, anc_10e9_L=2.5, crcl_ml_min=90)
    kinds = [(a["cycle"], a["action"]) for a in course.actions]
    assert kinds[:4] == [(1, "hold"), (2, "resume"), (2, "hold"), (3, "resume_lower")]
    by_cycle = {c["cycle"]: c["doses_mg"]["lenalidomide"] for c in course.cycles}
    assert by_cycle[1] == by_cycle[2] == 25 * 21
    assert by_cycle[3] == 15 * 21
    assert course.cycles[2]["anc_nadir"] > course.cycles[1]["anc_nadir"]
    assert course.dose_reductions >= 1
    assert {e.amount for e in doses["lenalidomide"] if e.day > 56} == {15.0}


def test_poor_renal_function_starts_at_the_label_dose():
    doses, course = apply_dose_modifications("rd", 1, crcl_ml_min=22)
    lena = doses["lenalidomide"]
    assert [e.day for e in lena] == list(range(1, 22, 2))
    assert {e.amount for e in lena} == {15.0}
    assert course.renal is not None and course.renal["every_days"] == 2
    assert course.renal["auc_ratio_unadjusted"] > 2
    _, unadjusted = apply_dose_modifications("rd", 1, crcl_ml_min=22, renal_adjust=False)
    # 25 mg daily at CrCl 22 suppresses neutrophils more than the adjusted dose
    assert unadjusted.cycles[0]["anc_nadir"] < course.cycles[0]["anc_nadir"]


def test_bortezomib_neuropathy_rules_reduce_then_hold():
    """vd (IV), a sensitive patient (thresholds one SD low: z = -1) with pre-existing grade 1
    neuropathy: grade 2 in cycle 2 -> 1.0 mg/m2 (PMC:PMC1936263), grade 3 in cycle 3 -> held
    for the rest of the course. (Before round 5 every patient climbed the same staircase.)"""
    doses, course = apply_dose_modifications(
        "vd", 8, {"bsa_m2": 1.8}, neuropathy_grade=1, neuropathy_z=-1.0
    )
    acts = [(a["cycle"], a["action"]) for a in course.actions if a["drug"] == "bortezomib"]
    assert acts[0] == (2, "reduce")
    assert course.cycles[2]["doses_mg"]["bortezomib"] == pytest.approx(4 * 1.0 * 1.8)
    assert ("hold" in [a for _, a in acts]) and course.worst_grade("neuropathy") >= 3
    held = [c["cycle"] for c in course.cycles if "bortezomib" in c["held"]]
    assert held and all(c > acts[0][0] for c in held)


def test_health_from_a_patient_mapping_and_json_output():
    patient = {
        "name": "example",
        "age": 71,
        "crcl_ml_min": 48,
        "health": {"ecog": 1, "frailty": "intermediate", "anc_10e9_L": 3.2, "neuropathy_grade": 0},
    }
    h = Health.of(patient)
    assert (h.age, h.crcl_ml_min, h.ecog, h.anc_10e9_L) == (71, 48, 1, 3.2)
    _, course = apply_dose_modifications("rd", 1, health=patient)
    out = json.loads(json.dumps(course.to_dict()))
    assert out["renal"]["label_dose_mg"] == 10.0
    assert any("recorded" in n for n in out["notes"])
    assert out["incidence"][0]["basis"] == "label_incidence"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cycles": 0}, "cycles"),
        ({"cycles": 1, "crcl": 30}, "unknown field 'crcl'"),
        ({"cycles": 1, "neuropathy_grade": 7}, "neuropathy_grade"),
        ({"cycles": 1, "anc_10e9_L": -1.0}, "anc_10e9_L"),
    ],
)
def test_bad_arguments_are_one_line(kwargs, match):
    with pytest.raises(InvalidInputError, match=match) as err:
        apply_dose_modifications("rd", **kwargs)
    assert "\n" not in str(err.value)


def test_per_m2_regimen_without_body_is_refused():
    with pytest.raises(InvalidInputError, match="bsa_m2"):
        apply_dose_modifications("vd", 1)


def test_neutrophil_sensitivity_and_summary():
    _, none = apply_dose_modifications("rd", 1, anc_10e9_L=4.0, neutrophil_sensitivity=0.0)
    assert none.anc.min() == pytest.approx(4.0)
    _, typical = apply_dose_modifications("rd", 1, anc_10e9_L=4.0)
    _, sensitive = apply_dose_modifications("rd", 1, anc_10e9_L=4.0, neutrophil_sensitivity=2.0)
    assert sensitive.anc.min() < typical.anc.min() < 4.0
    s = sensitive.summary()
    assert s["grade3_neutropenia"] and not s["grade2_neuropathy"]
    assert set(s) == {
        "grade3_neutropenia",
        "grade3_thrombocytopenia",
        "grade2_neuropathy",
        "dose_reduced",
        "discontinued",
        "held_cycles",
    }
    with pytest.raises(InvalidInputError, match="neutrophil_sensitivity"):
        apply_dose_modifications("rd", 1, neutrophil_sensitivity=-1)
