"""Courses the cohort's PK cache does not keep (doses of different amounts: carfilzomib's
20 mg/m2 step-up doses before the full dose) are superposed from single-dose courses with each
dose's own amount (round 11): the same course as the PK engine on all doses, to rounding."""

import numpy as np
import pytest

from mmmech.dynamics import cohort
from mmmech.dynamics import regimen as rg
from mmmech.regimens import Body

BODY = Body(weight_kg=80.0, bsa_m2=1.95)


def _events(name, cycles):
    return rg._doses(rg._item(name, "t"), cycles, BODY)


@pytest.mark.parametrize("name", ["krd", "kd"])
def test_step_up_doses_superposed_equal_the_engine(name, monkeypatch):
    ev = _events(name, 3)
    mine = [e for e in ev if e.drug == "carfilzomib"]
    assert len({e.amount for e in mine}) > 1  # the step-up: the cache would not keep it
    cov = dict(BODY.known)
    edges = np.arange(3 * 28 * 24 * 4 + 1) * 0.25  # the 15-min grid of 3 cycles
    want = rg._conc_intervals("carfilzomib", ev, edges, "reference", cov)
    sub = (np.arange(3 * 28 * 24) + 0.5) * 1.0
    want_sub = rg._conc_matrix("carfilzomib", ev, sub, "reference", cov, [])
    # the superposed path, not the engine on all doses: every engine call sees one dose
    seen = []
    real = cohort._conc_intervals

    def spy(drug, events, *a, **k):
        seen.append(len([e for e in events if e.drug == drug]))
        return real(drug, events, *a, **k)

    monkeypatch.setattr(cohort, "_conc_intervals", spy)
    got = cohort._fine_direct("carfilzomib", ev, edges, "reference", cov)
    assert seen and set(seen) == {1}
    got_sub = cohort._sub_direct("carfilzomib", ev, sub, "reference", cov, 1.0)
    assert np.max(np.abs(got - want)) <= 5e-12 * np.max(np.abs(want))
    assert np.max(np.abs(got_sub - want_sub)) <= 5e-12 * np.max(np.abs(want_sub))
    assert np.max(want) > 0


def test_off_grid_doses_fall_back_to_the_engine():
    """On a 7-min grid the day boundaries (dose times) are off the grid: the engine itself."""
    ev = _events("krd", 1)
    cov = dict(BODY.known)
    g7 = np.arange(28 * 24 * 60 // 7 + 1) * (7.0 / 60.0)
    np.testing.assert_array_equal(
        cohort._fine_direct("carfilzomib", ev, g7, "reference", cov),
        rg._conc_intervals("carfilzomib", ev, g7, "reference", cov),
    )
