"""VRd against Rd (SWOG S0777) on the model: what decides the direction (docs/trials.md,
"VRd vs Rd (SWOG S0777)").

SWOG S0777 found VRd better than Rd (PFS HR 0.742, 96% CI 0.594-0.928, PMID:32393732):
validation only, no number of the model was set from it. The diagnosis these tests hold:

- the lenalidomide random effects (CL eta from 35.5% CV, structures/pk.toml) do not turn the
  direction: in the plain marrow, a patient with a two-and-a-half-fold lenalidomide clearance
  still does better on VRd than on Rd at the end of induction (passes);
- in the `gain1q` context (MCL1Basal 1.4) dexamethasone and bortezomib add little, so VRd's
  lenalidomide on 14 of 21 days loses to Rd's 21 of 28: a model limitation, recorded as a strict
  xfail so that a fix shows;
- at the low end of `dex_stromal_il6_weight`'s sourced range dexamethasone alone is worse than
  no treatment, so parameter-ensemble sets drawn there turn VRd against Rd (strict xfail).
"""

from pathlib import Path

import numpy as np
import pytest

from mmmech import dynamics
from mmmech.resources import tomllib

STEP = 6.0
DAY_INDUCTION_END = 168.0  # eight 21-day VRd cycles; six 28-day Rd cycles


def _cohort_at(regimen, cycles, pk_etas, contexts, day, params=None):
    res = dynamics.simulate_cohort(
        regimen,
        [None] * len(pk_etas),
        cycles=cycles,
        contexts=contexts,
        step_hours=STEP,
        pk_etas=pk_etas,
        params=params,
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
    "lenalidomide on 14 of 21 days loses to Rd's 21 of 28 (typical patient, 6-h steps: "
    "0.60 vs 0.55 g/dL at day 168)",
)
def test_vrd_not_worse_than_rd_with_gain1q():
    vrd, rd = dynamics.simulate_regimens(
        ["vrd", "rd"], cycles=8, context=["marrow", "gain1q"], step_hours=STEP
    )
    tc_v, tc_r = vrd.timecourse, rd.timecourse
    kv = int(np.argmin(np.abs(tc_v["day"].to_numpy() - DAY_INDUCTION_END)))
    kr = int(np.argmin(np.abs(tc_r["day"].to_numpy() - DAY_INDUCTION_END)))
    assert tc_v["m_protein_g_per_dL"].iloc[kv] <= tc_r["m_protein_g_per_dL"].iloc[kr]


@pytest.mark.xfail(
    strict=True,
    reason="model limitation (docs/trials.md, 'VRd vs Rd (SWOG S0777)'): at the low end of "
    "dex_stromal_il6_weight's sourced range single-agent dexamethasone is worse than no "
    "treatment (5.27 vs 5.09 g/dL at day 168), which the single-agent facts exclude (APEX "
    "dexamethasone arm, ORR 18%, PMID:15958804); the parameter ensemble draws such sets, and "
    "in them VRd (dexamethasone on 8 of 21 days) loses to Rd",
)
def test_dexamethasone_alone_helps_across_the_stromal_il6_range():
    path = Path(__file__).resolve().parents[2] / "pathways" / "myeloma.toml"
    low = tomllib.loads(path.read_text())["parameters"]["dex_stromal_il6_weight"]["low"]
    (untreated,) = dynamics.simulate_regimens(
        [{"regimen": "d", "dose_scale": {"dexamethasone": 1e-9}}], cycles=6, step_hours=STEP
    )
    k = int(np.argmin(np.abs(untreated.timecourse["day"].to_numpy() - DAY_INDUCTION_END)))
    m_untreated = float(untreated.timecourse["m_protein_g_per_dL"].iloc[k])
    dex = _cohort_at(
        "d", 6, [None], [["marrow"]], DAY_INDUCTION_END, {"dex_stromal_il6_weight": low}
    )
    assert dex[0] < m_untreated
