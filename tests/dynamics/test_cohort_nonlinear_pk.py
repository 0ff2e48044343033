"""Nonlinear PK (daratumumab's target-mediated elimination, elotuzumab's saturable one,
isatuximab's time-varying clearance) in the cohort path: the PK engine's own course, never a
superposition of scaled single-dose courses (a 1-mg daratumumab dose is almost all taken by the
target sink, so that superposition left daratumumab and isatuximab nearly absent from every
virtual trial before round 8)."""

import numpy as np
import pytest

from mmmech import dynamics, pk
from mmmech.dynamics.cohort import simulate_cohort

BODIES = [{"weight_kg": 55.0, "bsa_m2": 1.55}, {"weight_kg": 90.0, "bsa_m2": 2.05}]
KW = {"cycles": 2, "step_hours": 12.0}


@pytest.mark.parametrize("regimen, drug", [("dara_rd", "daratumumab"), ("isa_pd", "isatuximab"),
                                           ("elo_rd", "elotuzumab")])  # fmt: skip
def test_cohort_equals_simulate_regimens_for_nonlinear_pk(regimen, drug):
    assert not pk.model(drug).linear
    want = dynamics.simulate_regimens([{"regimen": regimen, "body": b} for b in BODIES], **KW)
    # one network call as simulate_regimens makes (reuse_tol=None: no cycle periodicity, whose
    # per-cycle calls restart the step controller, ~1e-7 relative; tests/dynamics/
    # test_periodic_course.py covers that path)
    got = simulate_cohort(regimen, BODIES, reuse_tol=None, **KW)
    for r, res in enumerate(want):
        np.testing.assert_allclose(
            got.m_protein[r], res.timecourse["m_protein_g_per_dL"].to_numpy(), rtol=1e-8,
            atol=1e-10,
        )  # fmt: skip
        assert got.best_response[r] == res.best_response
    # with zero etas every patient takes the own-model path (FFT superposition for linear
    # drugs): the nonlinear drug must still be the engine's course, the same numbers
    zero = [{d: {"cl": 0.0} for d in (drug,)} for _ in BODIES]
    own = simulate_cohort(regimen, BODIES, pk_etas=zero, reuse_tol=None, **KW)
    np.testing.assert_allclose(own.m_protein, got.m_protein, rtol=1e-9, atol=1e-12)


def test_daratumumab_matters_in_the_cohort():
    rd = simulate_cohort("rd", BODIES, **KW)
    drd = simulate_cohort("dara_rd", BODIES, **KW)
    # DRd clearly ahead of Rd after two cycles (it was within 0.5 g/dL with the unit courses)
    assert np.all(drd.m_protein[:, -1] < rd.m_protein[:, -1] - 0.3)
