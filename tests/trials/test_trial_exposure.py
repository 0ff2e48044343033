"""Per-patient exposure in virtual trials: PK variability and toxicity fed back into efficacy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmmech import populations, regimens, trials
from mmmech.cli import main
from mmmech.dynamics import simulate_cohort
from mmmech.trials.arms import simulate_arm
from mmmech.trials.run import _arm_exposure, _TrialSpec
from mmmech.trials.tox import patient_course

POP = populations.load("ndmm")


def _spec(**kw):
    base = dict(
        arms=("Rd", "VRd"),
        names=("Rd", "VRd"),
        population=POP,
        seed=1,
        cycles=(2, 2),
        follow_up_days=56.0,
        context="marrow",
        model="myeloma",
        step_hours=12.0,
        backend="auto",
        toxicity=False,
    )
    base.update(kw)
    return _TrialSpec(**base)


def test_a_patients_etas_are_the_same_in_every_arm_and_batch():
    pats = [populations.patient(POP, i, 1) for i in range(6)]
    rd, _ = _arm_exposure(_spec(), 0, pats)
    vrd, _ = _arm_exposure(_spec(), 1, pats)
    alone, _ = _arm_exposure(_spec(), 0, pats[3:4])
    for i in range(6):
        assert rd["pk_etas"][i]["lenalidomide"] == vrd["pk_etas"][i]["lenalidomide"]
        assert rd["pk_etas"][i]["dexamethasone"] == vrd["pk_etas"][i]["dexamethasone"]
        assert "bortezomib" in vrd["pk_etas"][i]
    assert alone["pk_etas"][0] == rd["pk_etas"][3]
    assert rd["pk_etas"][0] != rd["pk_etas"][1]
    off, _ = _arm_exposure(_spec(pk_variability=False), 0, pats)
    assert off == {}


def test_without_variability_the_trial_is_todays():
    """pk_variability=False runs the shared (typical-PK) path: the arm equals simulate_arm on
    the same patients without any per-patient PK."""
    res = trials.run_trial(
        ["Rd"], "ndmm", 5, 2, cycles=2, step_hours=12.0, toxicity=False, pk_variability=False
    )
    enrolled, _ = trials.enrol("ndmm", 5, 2)
    ref = simulate_arm("Rd", enrolled, cycles=2, follow_up_days=56.0, step_hours=12.0)
    a = res.arms[0]
    assert list(a.best_response) == list(ref.best_response)
    assert np.array_equal(a.pfs_days, ref.pfs_days)
    assert np.array_equal(a.max_reduction, ref.max_reduction)
    assert any("no between-patient PK variability" in n for n in res.notes)
    on = trials.run_trial(["Rd"], "ndmm", 5, 2, cycles=2, step_hours=12.0, toxicity=False)
    assert not np.array_equal(on.arms[0].max_reduction, a.max_reduction)
    assert any("between-patient PK variability: each patient" in n for n in on.notes)


def test_held_lenalidomide_raises_m_protein_and_unmodified_patient_is_unchanged():
    """ndmm seed 1: patient 7 (CrCl 75 mL/min) has grade 3 neutropenia on Rd and its
    lenalidomide held; patient 1 (CrCl 90) has no modification. Efficacy on the doses actually
    given: patient 7 keeps more M-protein, patient 1 is unchanged."""
    held_p, plain_p = populations.patient(POP, 7, 1), populations.patient(POP, 1, 1)
    ev_h, rec_h = patient_course("Rd", held_p, 3, "ndmm", 1)
    ev_p, rec_p = patient_course("Rd", plain_p, 3, "ndmm", 1)
    assert rec_h["holds"] > 0 and rec_p["holds"] == rec_p["reductions"] == 0
    bodies = [held_p.regimen_body(), plain_p.regimen_body()]
    plan = simulate_cohort("rd", bodies, cycles=3, step_hours=12.0)
    given = simulate_cohort("rd", bodies, cycles=3, step_hours=12.0, doses=[ev_h, ev_p])
    expand = regimens.expand(regimens.load("rd"), body=bodies[1], cycles=3)
    assert sorted(ev_p) == sorted(expand)  # the doses given are the planned ones
    assert np.array_equal(given.m_protein[1], plan.m_protein[1])
    assert np.all(given.m_protein[0] >= plan.m_protein[0] - 1e-12)
    assert given.m_protein[0, -1] > plan.m_protein[0, -1]


def test_feedback_runs_toxicity_first_and_says_so():
    kw = dict(cycles=2, step_hours=12.0, pk_variability=False)
    fb = trials.run_trial(["Rd"], "ndmm", 4, 1, toxicity_feedback=True, **kw)
    assert any("toxicity fed back into efficacy" in n for n in fb.notes)
    assert fb.to_dict()["arms"][0]["toxicity"]["patients"] == 4
    with pytest.raises(Exception, match="toxicity_feedback=True needs toxicity=True"):
        trials.run_trial(["Rd"], "ndmm", 1, cycles=1, toxicity=False, toxicity_feedback=True)
    with pytest.raises(Exception, match="pk_variability must be True or False"):
        trials.run_trial(["Rd"], "ndmm", 1, cycles=1, pk_variability="no")


def test_cli_switches_reach_the_trial(capsys):
    argv = ["trial", "Rd", "--patients", "1", "--seed", "1", "--cycles", "1", "--quiet"]
    assert main([*argv, "--no-pk-variability", "--toxicity-feedback", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("no between-patient PK variability" in n for n in notes)
    assert any("toxicity fed back into efficacy" in n for n in notes)
    assert main([*argv, "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("between-patient PK variability: each patient" in n for n in notes)
    assert any("toxicity_feedback=False" in n for n in notes)
