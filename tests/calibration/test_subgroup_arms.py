"""Single-agent arms of a cytogenetic subgroup (M13-367's t(11;14) patients) run on the same
patients with that context forced, not on the whole population."""

import pytest

from mmmech import calibration, trials
from mmmech.calibration.fit import simulate_courses, subgroup_cohorts
from mmmech.exceptions import InvalidInputError


def _arm(arm_id):
    (arm,) = [a for a in calibration.load_single_agent() if a.id == arm_id]
    return arm


def test_subgroup_cohort_forces_the_context_and_keeps_the_patients():
    arm = _arm("kumar2017_venetoclax_t11_14")
    assert arm.subgroup == "t11_14"
    base, _ = trials.enrol("rrmm", 12, 1)
    sub = subgroup_cohorts([arm, _arm("kumar2017_venetoclax_all")], "rrmm", 12, 1)
    # the "all" arm has its own cohort too: its enrolled t(11;14) share (population_mix)
    assert set(sub) == {"t11_14", "mix:kumar2017_venetoclax_all"}
    forced = sub["t11_14"]
    assert [p.index for p in forced] == [p.index for p in base]
    assert all("t11_14" in p.contexts for p in forced)
    assert any("t11_14" not in p.contexts for p in base)  # the population is not all t(11;14)
    for p, q in zip(base, forced, strict=True):  # every other draw kept
        assert (p.isotype, p.m_protein_g_dL, p.tumour) == (q.isotype, q.m_protein_g_dL, q.tumour)


def test_a_subgroup_arm_needs_its_cohort():
    arm = _arm("kumar2017_venetoclax_t11_14")
    base, _ = trials.enrol("rrmm", 2, 1)
    with pytest.raises(InvalidInputError, match=r"t11_14.*subgroup_cohorts") as info:
        simulate_courses([arm], base, follow_up_days=21.0, step_hours=12.0)
    assert "\n" not in str(info.value)
