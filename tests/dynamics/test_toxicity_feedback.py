"""Toxicity fed back into efficacy: simulate_regimen(toxicity=True) and explicit dose events."""

from __future__ import annotations

import numpy as np
import pytest

from mmmech import regimens, toxicity
from mmmech.dynamics import simulate_regimen, simulate_regimens
from mmmech.exceptions import InvalidInputError

STEP = 12.0


def _patient(tmp_path, name, crcl, anc):
    text = f"""name = "{name}"
age = 66
weight_kg = 75.0
height_cm = 170.0
crcl_ml_min = {crcl}
isotype = "IgG"
m_protein_g_dL = 3.0

[health]
anc_10e9_L = {anc}
neuropathy_grade = 0
"""
    p = tmp_path / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_explicit_doses_equal_the_expanded_schedule():
    """Differential: the expanded schedule given as `doses` reproduces the default run."""
    body = regimens.Body(weight_kg=70.0, bsa_m2=1.8)
    ev = regimens.expand("vd", body=body, cycles=1)
    a, b = simulate_regimens(
        ["vd", {"regimen": "vd", "doses": ev}], cycles=1, body=body, step_hours=STEP
    )
    np.testing.assert_allclose(
        a.timecourse["m_protein_g_per_dL"], b.timecourse["m_protein_g_per_dL"], rtol=1e-12
    )
    assert a.pk == b.pk


def test_doses_key_is_checked():
    with pytest.raises(InvalidInputError, match="not a drug of rd"):
        simulate_regimens(
            [{"regimen": "rd", "doses": [regimens.DoseEvent(1, "bortezomib", 1.0, "mg", "sc")]}],
            cycles=1,
        )
    with pytest.raises(InvalidInputError, match="dose day"):
        simulate_regimens(
            [{"regimen": "rd", "doses": [regimens.DoseEvent(0, "lenalidomide", 1.0, "mg", "po")]}],
            cycles=1,
        )


def test_reduced_lenalidomide_lowers_exposure_and_never_improves_the_course(tmp_path):
    """ANC 3.0, CrCl 90: rd's label rules hold lenalidomide and resume it one level lower
    (apply_dose_modifications); the course from the doses given is never better."""
    pat = _patient(tmp_path, "reduced", 90.0, 3.0)
    full = simulate_regimen("rd", cycles=4, patient=pat, step_hours=STEP)
    tox = simulate_regimen("rd", cycles=4, patient=pat, step_hours=STEP, toxicity=True)
    course = tox.toxicity
    assert course.dose_reductions >= 1
    given = sum(c["doses_mg"].get("lenalidomide", 0.0) for c in course.cycles)
    assert given < 4 * 21 * 25.0
    # exposure: the cumulative lenalidomide concentration over the course is lower
    conc_full = full.timecourse["conc_lenalidomide_nM"].sum()
    conc_tox = tox.timecourse["conc_lenalidomide_nM"].sum()
    assert conc_tox < conc_full
    m_full = full.timecourse["m_protein_g_per_dL"].to_numpy()
    m_tox = tox.timecourse["m_protein_g_per_dL"].to_numpy()
    assert np.all(m_tox >= m_full - 1e-9)
    d = tox.to_dict()["toxicity"]
    assert d["dose_reductions"] == course.dose_reductions
    assert d["anc"]["worst_grade"] == course.worst_grade("anc")
    assert len(d["cycles"]) == 4
    assert "toxicity" not in full.to_dict()
    assert any("toxicity fed back" in n for n in tox.notes)


def test_renal_patient_gets_the_label_dose_and_lower_than_unadjusted_exposure(tmp_path):
    """CrCl 25 (no dialysis): label 15 mg every other day. With linear PK the first-cycle AUC
    at the label dose is (11 x 15 mg) / (21 x 25 mg) of 25 mg daily at the same clearance."""
    pat = _patient(tmp_path, "renal", 25.0, 6.0)
    tox = simulate_regimen("rd", cycles=1, patient=pat, step_hours=STEP, toxicity=True)
    tier = toxicity.renal_adjustment(25.0).tier
    assert (tier.dose_mg, tier.every_days) == (15.0, 2)
    c1 = tox.toxicity.cycles[0]["doses_mg"]["lenalidomide"]
    assert c1 == pytest.approx(11 * 15.0)
    # 25 mg daily at the same (renal) clearance: the unadjusted exposure
    unadj = simulate_regimens(
        [{"regimen": "rd", "renal_pk": True}],
        cycles=1,
        patient=pat,
        step_hours=STEP,
    )[0]
    auc_tox = tox.pk["lenalidomide"]["auc_nM_h"]
    auc_unadj = unadj.pk["lenalidomide"]["auc_nM_h"]
    assert auc_tox < auc_unadj
    assert auc_tox / auc_unadj == pytest.approx(11 * 15.0 / (21 * 25.0), rel=0.02)
    # the renal clearance raises exposure per mg over the model without CrCl effect
    normal = simulate_regimen("rd", cycles=1, patient=pat, step_hours=STEP)
    assert auc_unadj > normal.pk["lenalidomide"]["auc_nM_h"]
    assert tox.to_dict()["toxicity"]["renal"]["label_dose_mg"] == 15.0


def test_toxicity_without_patient_uses_defaults():
    res = simulate_regimen("vd", cycles=1, step_hours=STEP, toxicity=True)
    assert res.toxicity is not None
    assert any("toxicity without a patient" in n for n in res.notes)
    with pytest.raises(InvalidInputError, match="toxicity must be True or False"):
        simulate_regimen("vd", cycles=1, toxicity="yes")
