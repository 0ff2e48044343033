"""simulate_cohort with per-patient exposure: PK etas, the doses actually given, renal CL."""

from __future__ import annotations

import numpy as np
import pytest

from mmmech import pk, regimens
from mmmech.dynamics import simulate_cohort
from mmmech.dynamics._exposure import _own_fine, _own_sub
from mmmech.dynamics.kinetics import interval_means
from mmmech.dynamics.regimen import _pk_doses
from mmmech.exceptions import MmmechError

BODIES = [{"weight_kg": 60.0, "bsa_m2": 1.6}, {"weight_kg": 85.0, "bsa_m2": 2.0}]
KW = {"cycles": 1, "step_hours": 12.0}


def _plan(reg: str, body: dict, cycles: int) -> list:
    return regimens.expand(regimens.load(reg), body=regimens.Body(**body), cycles=cycles)


def test_zero_etas_equal_the_shared_path():
    """Differential: the per-patient path (own model, FFT superposition; bortezomib's binding
    kinetics on the fine grid) with all etas 0 gives the shared cached path's courses."""
    drugs = ("lenalidomide", "bortezomib", "dexamethasone")
    zero = [{d: dict.fromkeys(pk.omegas(d), 0.0) for d in drugs} for _ in BODIES]
    a = simulate_cohort("vrd", BODIES, **KW)
    b = simulate_cohort("vrd", BODIES, pk_etas=zero, **KW)
    np.testing.assert_allclose(b.m_protein, a.m_protein, rtol=1e-9, atol=0)
    assert list(a.best_response) == list(b.best_response)


def test_own_courses_equal_the_pk_engine():
    """The FFT superposition of a patient's single-dose course equals the PK engine on all
    doses (concentrations on the substep grid and interval means on the fine grid)."""
    ev = [e for e in _plan("vrd", BODIES[0], 1)]
    cov = {"weight_kg": 60.0, "bsa_m2": 1.6}
    grid_h = 3.0
    times = (np.arange(8 * 28) + 0.5) * grid_h
    edges = np.arange(28 * 24 * 4 + 1) * 0.25
    for drug, etas in (("lenalidomide", {"cl": 0.7, "v1": -0.4}), ("bortezomib", {"cl": -0.5})):
        m = pk.with_etas(pk.model(drug, **({"bsa_m2": 1.6} if drug == "bortezomib" else {})), etas)
        mine = [e for e in ev if e.drug == drug]
        got = _own_sub(drug, [ev], [cov], [etas], times, grid_h, "reference", [])[0]
        ref = pk.concentration(m, _pk_doses(m, mine), times, unit="nM")
        np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-9 * ref.max())
        fine = _own_fine(drug, [ev], [cov], [etas], edges, "reference")[0]
        ref_f = interval_means(m, _pk_doses(m, mine), edges)
        np.testing.assert_allclose(fine, ref_f, rtol=1e-7, atol=1e-9 * ref_f.max())


def test_planned_doses_given_explicitly_change_nothing():
    given = [_plan("rd", b, 1) for b in BODIES]
    a = simulate_cohort("rd", BODIES, **KW)
    b = simulate_cohort("rd", BODIES, doses=[given[0], None], **KW)
    assert np.array_equal(a.m_protein, b.m_protein)


def test_held_lenalidomide_leaves_more_m_protein():
    """Patient 0's lenalidomide held in cycle 2 (days 29-49): its M-protein is the same up to
    the hold and higher after; patient 1 (planned doses) is unchanged."""
    kw = {"cycles": 2, "step_hours": 12.0}
    plan = _plan("rd", BODIES[0], 2)
    held = [e for e in plan if not (e.drug == "lenalidomide" and e.day > 28)]
    a = simulate_cohort("rd", BODIES, **kw)
    b = simulate_cohort("rd", BODIES, doses=[held, None], **kw)
    assert np.array_equal(a.m_protein[1], b.m_protein[1])
    day = a.hours / 24.0
    before = day <= 28.0
    assert np.array_equal(a.m_protein[0, before], b.m_protein[0, before])
    assert np.all(b.m_protein[0] >= a.m_protein[0] - 1e-12)
    assert b.m_protein[0, -1] > a.m_protein[0, -1]


def test_higher_clearance_leaves_more_m_protein():
    etas = [{"lenalidomide": {"cl": -0.8}}, {"lenalidomide": {"cl": 0.8}}]
    same = [BODIES[0], BODIES[0]]
    r = simulate_cohort("rd", same, pk_etas=etas, **KW)
    assert r.m_protein[1, -1] > r.m_protein[0, -1]


def test_renal_clearance_raises_lenalidomide_effect():
    """A low CrCl lowers lenalidomide clearance (toxicity.renal): more effect at one dose."""
    r = simulate_cohort("rd", [BODIES[0]] * 2, renal_crcl=[None, 20.0], **KW)
    assert r.m_protein[1, -1] < r.m_protein[0, -1]


def test_bad_arguments_are_one_line():
    with pytest.raises(MmmechError, match=r"pk_etas must be a sequence of one mapping"):
        simulate_cohort("rd", BODIES, pk_etas=[{}], **KW)
    with pytest.raises(MmmechError, match=r"renal_crcl must hold numbers > 0"):
        simulate_cohort("rd", BODIES, renal_crcl=[-1.0, None], **KW)
    with pytest.raises(MmmechError, match=r"doses names 'bortezomib', not a drug of"):
        bad = [regimens.DoseEvent(1, "bortezomib", 2.0, "mg", "sc")]
        simulate_cohort("rd", BODIES, doses=[bad, None], **KW)
    with pytest.raises(MmmechError, match="has no parameter 'zz'"):
        simulate_cohort("rd", BODIES, pk_etas=[{"lenalidomide": {"zz": 1.0}}, None], **KW)


def test_chunking_does_not_change_per_patient_courses():
    """Own courses are indexed within each chunk: one patient per chunk gives the same."""
    drugs = ["lenalidomide", "bortezomib", "dexamethasone"]
    etas = [pk.patient_etas("ndmm", i, 1, drugs) for i in range(3)]
    bodies = [*BODIES, BODIES[0]]
    held = [e for e in _plan("vrd", BODIES[0], 1) if not (e.drug == "bortezomib" and e.day > 4)]
    a = simulate_cohort("vrd", bodies, pk_etas=etas, doses=[None, None, held], **KW)
    b = simulate_cohort("vrd", bodies, pk_etas=etas, doses=[None, None, held], chunk=1, **KW)
    assert np.array_equal(a.m_protein, b.m_protein)
