"""Trials with per-patient tumour kinetics: graded responses within an arm, and each patient's
multipliers reach the simulation (the same patient without them is the typical patient)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mmmech._readonly import ReadOnlyDict
from mmmech.trials import enrol, simulate_arm

ORDER = {"PD": 0, "SD": 1, "MR": 2, "PR": 3, "VGPR": 4, "CR": 5}


def test_graded_response_and_multipliers_reach_the_arm():
    patients, _ = enrol("ndmm", 16, seed=1)
    arm = simulate_arm("Rd", patients, cycles=2, step_hours=8)
    best = np.array([ORDER[b] for b in arm.best_response])
    orr = float(np.mean(best >= ORDER["PR"]))
    # graded: responders and non-responders in one arm of one regimen
    assert 0.0 < orr < 1.0, list(arm.best_response)
    assert len(set(best.tolist())) >= 2
    # the same patients with their multipliers removed (typical kinetics): a patient more
    # sensitive and not faster-growing than typical is never worse off, and vice versa
    typical = [replace(p, tumour=ReadOnlyDict({})) for p in patients]
    base = simulate_arm("Rd", typical, cycles=2, step_hours=8)
    for i, p in enumerate(patients):
        if p.tumour["sensitivity"] >= 1.0 and p.tumour["growth"] <= 1.0:
            assert arm.max_reduction[i] >= base.max_reduction[i] - 1e-12
        if p.tumour["sensitivity"] <= 1.0 and p.tumour["growth"] >= 1.0:
            assert arm.max_reduction[i] <= base.max_reduction[i] + 1e-12
    assert not np.allclose(arm.max_reduction, base.max_reduction)
