"""Thalidomide, selinexor and talquetamab (round 6): the arithmetic their records rest on.

Known answers come from the sources named in structures/pk.toml: Chen 1989 (PMID:2571480) for
thalidomide, the XPOVIO label's single-dose exposures for selinexor (derived record), Gong 2025
(PMID:40704375) half-lives for talquetamab (derived record). The published-exposure rows
themselves are asserted by test_published_exposure.py.
"""

import math

import pytest

from mmmech import dynamics, pk
from mmmech.exceptions import MmmechError
from mmmech.pk.library import Check


def test_thalidomide_auc_is_dose_over_the_published_clearance():
    # Chen 1989: CL/F 10.41 L/h; AUC(0-inf) of 200 mg = 200/10.41 mg*h/L (closed form)
    doses = pk.schedule("200 mg", "oral", [1])
    auc = pk.auc("thalidomide", doses, 0.0, 24.0 * 60)
    assert auc == pytest.approx(200 / 10.41, rel=1e-6)
    # one compartment: the terminal half-life is ln2 V/CL = 8.0 h (abstract mean of fits 8.70)
    (t_half,) = pk.half_lives("thalidomide")
    assert t_half == pytest.approx(math.log(2) * 120.69 / 10.41, rel=1e-9)


def test_thalidomide_is_used_by_the_td_regimen():
    res = dynamics.simulate_regimen("td", cycles=1, step_hours=12.0)
    assert res.pk["thalidomide"]["cmax_nM"] > 0
    assert not any("thalidomide" in n and "no PK model" in n for n in res.notes)


def test_selinexor_label_clearance_and_volume_contradict_its_own_exposures():
    # the label's CL/F 17.9 L/h and V/F 125 L: one compartment, t1/2 4.8 h (label 6-8 h) ...
    assert math.log(2) * 125 / 17.9 < 6.0
    # ... and the AUC's CL/F (80 mg / 5386 ng*h/mL) with t1/2 >= 6 h needs V/F >= 128 L, so even
    # instant absorption peaks at D/V < 680 ng/mL (the label Cmax): one compartment cannot do it
    cl = 80 / 5.386
    assert 80 / (cl * 6.0 / math.log(2)) * 1000 < 680
    # the derived two-compartment record reproduces all three numbers
    doses = pk.schedule("80 mg", "oral", [1])
    e = pk.exposure("selinexor", doses, 0.0, 96.0, unit="ng/mL")
    assert e["cmax"] == pytest.approx(680, rel=0.01)
    assert e["tmax"] <= 4.0
    assert pk.auc("selinexor", doses, 0.0, 24.0 * 28) == pytest.approx(5.386, rel=1e-3)  # mg*h/L
    assert 6.0 <= pk.half_lives("selinexor")[-1] <= 8.0


def test_talquetamab_clearance_decays_from_the_initial_to_the_steady_state_half_life():
    m = pk.model("talquetamab")
    d = m.disposition
    day = 24.0
    # Gong 2025: t1/2 7.56 d at initial treatment, 12.2 d at steady state
    cl0 = d.cl + d.vmax / d.km  # linear-regime clearance at t = 0 (Km >> C)
    assert math.log(2) * d.v1 / cl0 / day == pytest.approx(7.56, rel=1e-3)
    assert pk.half_lives(m)[-1] / day == pytest.approx(12.2, rel=1e-3)


def test_talquetamab_per_kg_dosing_gives_weight_independent_concentrations():
    doses_60 = pk.schedule("0.4 mg/kg", "sc", [1, 8], 14, weight_kg=60.0)
    doses_90 = pk.schedule("0.4 mg/kg", "sc", [1, 8], 14, weight_kg=90.0)
    c60 = pk.exposure(pk.model("talquetamab", weight_kg=60.0), doses_60, 168.0, 336.0)
    c90 = pk.exposure(pk.model("talquetamab", weight_kg=90.0), doses_90, 168.0, 336.0)
    assert c60["cmax"] == pytest.approx(c90["cmax"], rel=1e-6)
    assert c60["auc"] == pytest.approx(c90["auc"], rel=1e-6)


def _check(schedule):
    return Check(
        metric="auc",
        unit="mg*h/L",
        schedule=schedule,
        window_h=(0.0, 2000.0),
        source="PMID:2571480",
        verified=True,
        value=1.0,
        cv_percent=None,
        sd=None,
        low=None,
        high=None,
        tolerance_percent=10.0,
        expect="agree",
        text="test",
        covariates={},
    )


def test_step_up_doses_of_a_check_add_to_its_schedule():
    # superposition: the AUC of step-ups + schedule = the sum of their AUCs (linear thalidomide)
    base = {"dose": "100 mg", "route": "oral", "days": [5]}
    with_steps = {**base, "step_up": [{"day": 1, "dose": "10 mg"}, {"day": 3, "dose": "20 mg"}]}
    a_base = pk.predict_check("thalidomide", _check(base))
    a_steps = pk.predict_check("thalidomide", _check(with_steps))
    assert a_steps == pytest.approx(a_base * 130 / 100, rel=1e-6)


def test_a_malformed_step_up_is_one_clear_error():
    bad = {"dose": "100 mg", "route": "oral", "days": [5], "step_up": [{"day": 1}]}
    with pytest.raises(MmmechError, match="step_up entries must be"):
        pk.predict_check("thalidomide", _check(bad))
