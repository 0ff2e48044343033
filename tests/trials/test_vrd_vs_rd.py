"""VRd against Rd (SWOG S0777) on the model: what decides the direction (docs/trials.md,
"VRd vs Rd (SWOG S0777)").

SWOG S0777 found VRd better than Rd (PFS HR 0.742, 96% CI 0.594-0.928, PMID:32393732):
validation only, no number of the model was set from it. The diagnosis these tests hold:

- the lenalidomide random effects (CL eta from 35.5% CV, structures/pk.toml) do not turn the
  direction: in the plain marrow, a patient with a two-and-a-half-fold lenalidomide clearance
  still does better on VRd than on Rd at the end of induction (passes);
- in the `gain1q` context (MCL1Basal 1.4) dexamethasone and bortezomib add little, so VRd's
  lenalidomide on 14 of 21 days loses to Rd's 21 of 28: a model limitation, recorded as a strict
  xfail so that a fix shows.
"""

import numpy as np
import pytest

from mmmech import dynamics

STEP = 6.0
DAY_INDUCTION_END = 168.0  # eight 21-day VRd cycles; six 28-day Rd cycles


def _cohort_at(regimen, cycles, pk_etas, contexts, day):
    res = dynamics.simulate_cohort(
        regimen,
        [None] * len(pk_etas),
        cycles=cycles,
        contexts=contexts,
        step_hours=STEP,
        pk_etas=pk_etas,
    )
    k = int(np.argmin(np.abs(res.hours / 24.0 - day)))
    return np.asarray(res.m_protein)[:, k]


def test_lenalidomide_clearance_does_not_turn_vrd_against_rd():
    # etas on lenalidomide CL only (the same patient in both arms): -1, 0, +0.93 (the largest
    # among the progressors of the 300-patient run in docs/trials.md)
    etas = [{"lenalidomide": {"cl": e}} for e in (-1.0, 0.0, 0.93)]
    ctx = [["marrow"]] * len(etas)
    vrd = _cohort_at("vrd", 8, etas, ctx, DAY_INDUCTION_END)
    rd = _cohort_at("rd", 6, etas, ctx, DAY_INDUCTION_END)
    assert np.all(vrd < rd), (vrd, rd)
    # and a faster lenalidomide clearance leaves more M-protein on both arms
    assert np.all(np.diff(vrd) > 0) and np.all(np.diff(rd) > 0)


@pytest.mark.xfail(
    strict=True,
    reason="model limitation (docs/trials.md, 'VRd vs Rd (SWOG S0777)'): with 1q gain "
    "(MCL1Basal 1.4) dexamethasone and bortezomib pulses add little apoptosis, so VRd's "
    "lenalidomide on 14 of 21 days loses to Rd's 21 of 28 (typical patient: 0.610 vs 0.558 g/dL "
    "at day 168)",
)
def test_vrd_not_worse_than_rd_with_gain1q():
    vrd, rd = dynamics.simulate_regimens(
        ["vrd", "rd"], cycles=8, context=["marrow", "gain1q"], step_hours=STEP
    )
    tc_v, tc_r = vrd.timecourse, rd.timecourse
    kv = int(np.argmin(np.abs(tc_v["day"].to_numpy() - DAY_INDUCTION_END)))
    kr = int(np.argmin(np.abs(tc_r["day"].to_numpy() - DAY_INDUCTION_END)))
    assert tc_v["m_protein_g_per_dL"].iloc[kv] <= tc_r["m_protein_g_per_dL"].iloc[kr]
