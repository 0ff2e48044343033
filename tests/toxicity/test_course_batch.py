"""apply_dose_modifications_batch: several patients integrated together give what each patient
gives alone (differential), whatever the batch, with per-patient rules (holds, reductions)."""

import json

import numpy as np
import pytest

from mmmech import pk
from mmmech.exceptions import InvalidInputError
from mmmech.toxicity import apply_dose_modifications, apply_dose_modifications_batch

#: varied patients: renal tiers (lenalidomide starting dose), baselines, sensitivities, etas
PATIENTS = [
    {"body": {"bsa_m2": 1.9, "weight_kg": 80.0}, "health": {"crcl_ml_min": 90.0}, "sens": 1.0},
    {
        "body": {"bsa_m2": 1.6, "weight_kg": 60.0},
        "health": {"crcl_ml_min": 25.0, "anc_10e9_L": 2.0, "platelets_10e9_L": 120.0},
        "sens": 2.5,
    },
    {
        "body": {"bsa_m2": 2.1, "weight_kg": 95.0},
        "health": {"crcl_ml_min": 45.0, "neuropathy_grade": 1},
        "sens": 0.6,
    },
    {"body": {"bsa_m2": 1.75, "weight_kg": 70.0}, "health": {"anc_10e9_L": 1.6}, "sens": 4.0},
]


def _kw(j, drugs):
    p = PATIENTS[j]
    return {
        "neutrophil_sensitivity": p["sens"],
        "pk_etas": pk.patient_etas("ndmm", j, 7, drugs),
        "platelet_eta": [-1.5, 0.3, 2.0, -0.4][j],
        "platelet_sensitivity": [1.0, 3.0, 0.5, 1.7][j],
        "neuropathy_z": [0.0, -1.2, 0.8, -2.0][j],
    }


def _batch(reg, cycles, idx, drugs, **extra):
    kws = [_kw(j, drugs) for j in idx]
    return apply_dose_modifications_batch(
        reg,
        cycles,
        [PATIENTS[j]["body"] for j in idx],
        [PATIENTS[j]["health"] for j in idx],
        **{k: [kw[k] for kw in kws] for k in kws[0]},
        **extra,
    )


@pytest.mark.parametrize("reg", ["vrd", "rd"])
def test_batch_equals_each_patient_alone(reg):
    from mmmech import regimens

    drugs = regimens.load(reg).drugs
    idx = list(range(len(PATIENTS)))
    batch = _batch(reg, 5, idx, drugs)
    fired = 0
    for j, (given, course) in zip(idx, batch, strict=True):
        g1, c1 = apply_dose_modifications(
            reg, 5, PATIENTS[j]["body"], PATIENTS[j]["health"], **_kw(j, drugs)
        )
        assert given == g1  # the doses actually given, event by event
        np.testing.assert_allclose(course.anc, c1.anc, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(course.platelets, c1.platelets, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(course.times_day, c1.times_day)
        d, d1 = course.to_dict(), c1.to_dict()
        for k in ("anc_10e9_L", "platelets_10e9_L"):
            d.pop(k), d1.pop(k)  # rounded copies of the arrays compared above
        assert json.dumps(d, sort_keys=True) == json.dumps(d1, sort_keys=True)
        fired += len(c1.actions)
    assert fired > 0  # the rules acted for some patient: the per-patient state is exercised


def test_batch_does_not_depend_on_its_other_patients():
    from mmmech import regimens

    drugs = regimens.load("rd").drugs
    whole = _batch("rd", 4, [0, 1, 2, 3], drugs)
    parts = _batch("rd", 4, [2], drugs) + _batch("rd", 4, [3, 0], drugs)
    for (g, c), (g2, c2) in zip([whole[2], whole[3], whole[0]], parts, strict=True):
        assert g == g2
        np.testing.assert_array_equal(c.anc, c2.anc)
        np.testing.assert_array_equal(c.platelets, c2.platelets)
        assert c.actions == c2.actions


def test_without_renal_details_the_doses_are_the_same():
    from mmmech import regimens

    drugs = regimens.load("rd").drugs
    full = _batch("rd", 3, [1, 2], drugs)
    lean = _batch("rd", 3, [1, 2], drugs, renal_details=False)
    for (g, c), (g2, c2) in zip(full, lean, strict=True):
        assert g == g2 and c.actions == c2.actions
        assert c.renal is not None and c2.renal is None
    # patient 1 (CrCl 25) starts on the label's renal dose: 15 mg every other day
    first = full[0][0]["lenalidomide"][0]
    assert first.amount == 15.0


def test_errors_are_one_line():
    with pytest.raises(InvalidInputError, match="one entry per patient"):
        apply_dose_modifications_batch("rd", 2, [None, None], [None, None], neuropathy_z=[0.0])
    with pytest.raises(InvalidInputError, match="one entry per body"):
        apply_dose_modifications_batch("rd", 2, [None], [])
    with pytest.raises(InvalidInputError, match="neutrophil_sensitivity"):
        apply_dose_modifications_batch("rd", 2, [None], [None], neutrophil_sensitivity=[-1.0])
    assert apply_dose_modifications_batch("rd", 2, [], []) == []
