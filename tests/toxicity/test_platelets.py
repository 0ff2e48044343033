"""Platelet model (Srimani 2022 system, DOI:10.1002/psp4.12815): single-agent facts and the
integrator against solve_ivp."""

import numpy as np
import pytest

from mmmech.exceptions import InvalidInputError, UnknownNameError
from mmmech.toxicity import apply_dose_modifications, toxicity_data
from mmmech.toxicity import myelosuppression as ms
from mmmech.toxicity import platelets as plt

BSA = 1.8


def _bortezomib(cycles: int, route: str = "iv_bolus"):
    return ms.schedule_doses(1.3 * BSA, [1, 4, 8, 11], 21, cycles, route)


def test_derived_bortezomib_slope_is_reproduced():
    """The curated slope is the one at which the typical patient's cycle-1 platelet nadir on
    single-agent 1.3 mg/m2 IV is 40% of baseline: 'the mean platelet count decreased by
    approximately 60% during treatment' (Lonial 2005, DOI:10.1182/blood-2005-03-1173)."""
    curated = plt.platelet_effect("bortezomib").slope
    assert plt.derive_slope("bortezomib") == pytest.approx(curated, rel=1e-3)
    t, c = plt.platelet_course({"bortezomib": _bortezomib(1)}, 21 * 24.0, baseline=200.0)
    assert c.min() == pytest.approx(0.40 * 200.0, rel=0.01)


def test_bortezomib_nadir_late_in_the_dosing_period_and_recovery_in_the_rest_period():
    """Lonial 2005: cyclic thrombocytopenia, 'recovered rapidly between treatments in a cyclic
    fashion'; APEX hematologic profile (Blood 2005;106:3474 abstract): 'recovery toward baseline
    during the rest period of each cycle'. Nadir after the last dose (day 11), within days
    11-15, of every cycle; by day 22 the count rises toward baseline (here: 40% of its fall
    recovered; the model recovers slower than reported, see the strict xfail below)."""
    t, c = plt.platelet_course({"bortezomib": _bortezomib(3)}, 63 * 24.0, baseline=200.0)
    day = t / 24.0 + 1.0
    for k in range(3):
        m = (day >= 1 + 21 * k) & (day <= 22 + 21 * k)
        nadir_day = day[m][np.argmin(c[m])] - 21 * k
        assert 11.0 <= nadir_day <= 15.0
        fall = 200.0 - c[m].min()
        assert c[m][-1] - c[m].min() > 0.4 * fall
    # cyclic, not cumulative: cycle 3 nadir within 5% of cycle 1
    m1, m3 = day <= 22, day >= 43
    assert c[m3].min() == pytest.approx(c[m1].min(), rel=0.05)


@pytest.mark.xfail(strict=True, reason="model recovers ~46% of the fall by day 22 (docs)")
def test_bortezomib_platelets_recover_most_of_the_fall_before_the_next_cycle():
    """Lonial 2005: counts 'recovered rapidly between treatments'. Known disagreement: the
    Srimani system (fitted to weekly counts on lenalidomide-dex) is too slow after a
    bortezomib fall, so less than three quarters of the fall is recovered by day 22."""
    t, c = plt.platelet_course({"bortezomib": _bortezomib(1)}, 21 * 24.0, baseline=200.0)
    assert c[-1] - c.min() > 0.75 * (200.0 - c.min())


def test_fall_is_independent_of_baseline():
    """Lonial 2005: 'The mean percent reduction in platelets was independent of baseline
    platelet count' - the model's fall is proportional (a normalised system)."""
    lows = []
    for b in (100.0, 200.0, 400.0):
        _, c = plt.platelet_course({"bortezomib": _bortezomib(1)}, 21 * 24.0, baseline=b)
        lows.append(c.min() / b)
    assert max(lows) - min(lows) < 1e-9


def test_lenalidomide_dex_dip_matches_the_published_model():
    """Srimani 2022 (placebo-Rd arm): the LenDex effect alone gives a within-cycle dip of about
    25% (nlmixr2lib encoding's check against the paper's Supplementary Figure S14); ixazomib
    adds a deeper, slowly growing fall (cumulative AUC term)."""
    le = ms.schedule_doses(25.0, list(range(1, 22)), 28, 3, "oral")
    ix = ms.schedule_doses(4.0, [1, 8, 15], 28, 3, "oral")
    _, rd = plt.platelet_course({"lenalidomide": le}, 84 * 24.0, baseline=1.0)
    _, ird = plt.platelet_course({"lenalidomide": le, "ixazomib": ix}, 84 * 24.0, baseline=1.0)
    assert 1.0 - rd.min() == pytest.approx(0.25, abs=0.03)
    assert ird.min() < rd.min()
    # the ixazomib cycle nadirs deepen from cycle to cycle (the AUC term)
    n = len(ird) // 3
    assert ird[2 * n :].min() < ird[:n].min()


def test_integrator_matches_solve_ivp():
    """The fixed-step scheme against LSODA (rtol 1e-9): within 2% of baseline for bortezomib
    boluses (sharp loss peaks) and 0.2% for ixazomib + lenalidomide."""
    drv = plt.drivers({"bortezomib": _bortezomib(2)})
    t, c, _ = plt.simulate(drv, 0.0, 42 * 24.0)
    ref = plt.simulate_reference(drv, 0.0, 42 * 24.0, t, max_step_h=0.1)
    assert np.max(np.abs(c - ref)) < 0.02
    le = ms.schedule_doses(25.0, list(range(1, 22)), 28, 1, "oral")
    ix = ms.schedule_doses(4.0, [1, 8, 15], 28, 1, "oral")
    drv = plt.drivers({"lenalidomide": le, "ixazomib": ix})
    t, c, _ = plt.simulate(drv, 0.0, 28 * 24.0)
    ref = plt.simulate_reference(drv, 0.0, 28 * 24.0, t)
    assert np.max(np.abs(c - ref)) < 0.002


def test_vectorised_patients_match_single_runs_and_state_carries():
    drv = plt.drivers({"bortezomib": _bortezomib(1)})
    scales = np.array([0.5, 1.0, 2.0])
    _, many, _ = plt.simulate(drv, 0.0, 21 * 24.0, scale=scales)
    for j, s in enumerate(scales):
        _, one, _ = plt.simulate(drv, 0.0, 21 * 24.0, scale=float(s))
        assert np.allclose(many[:, j], one)
    assert np.all(np.diff(many.min(axis=0)) < 0)  # more sensitive, lower nadir
    # two half-intervals with the state carried = one interval
    _, whole, _ = plt.simulate(drv, 0.0, 21 * 24.0)
    _, a, ya = plt.simulate(drv, 0.0, 10 * 24.0)
    _, b, _ = plt.simulate(drv, 10 * 24.0, 21 * 24.0, state=ya)
    assert np.allclose(np.concatenate([a, b[1:]]), whole)
    # no drug: the steady state stays
    _, flat, _ = plt.simulate(None, 0.0, 100.0)
    assert np.allclose(flat, 1.0)


def test_individual_baseline_follows_equation_19():
    s = toxicity_data().platelet_system
    assert plt.individual_baseline() == pytest.approx(203.0)
    assert plt.individual_baseline(197.0) == pytest.approx(203.0)
    assert plt.individual_baseline(97.0) == pytest.approx(203.0 - 0.837 * 100.0)
    assert plt.individual_baseline(eta=1.0) == pytest.approx(203.0 + s.baseline_sd)
    assert s.baseline_sd == pytest.approx(42.95, abs=0.01)
    with pytest.raises(InvalidInputError, match="observed"):
        plt.individual_baseline(-5.0)
    with pytest.raises(UnknownNameError, match="bortezomib"):
        plt.platelet_effect("bortezomb")


def test_course_grades_platelets_and_the_lenalidomide_rule_fires():
    """vrd with a low platelet baseline (60 x 10^9/L observed): bortezomib + lenalidomide push
    the count below 50 (grade 3), so the REVLIMID rule (platelets grade >= 3 -> hold) fires;
    no note says platelet rules never fire."""
    _, c = apply_dose_modifications("vrd", 3, {"bsa_m2": BSA}, platelets_10e9_L=60.0)
    assert c.worst_grade("platelets") >= 3
    assert any(a["trigger"].startswith("platelets") for a in c.actions)
    assert not any("never fire" in n for n in c.notes)
    d = c.to_dict()
    assert d["worst_platelet_grade"] == c.worst_grade("platelets")
    assert len(d["platelets_10e9_L"]) == len(d["platelet_times_day"]) > 0
    # a typical patient on rd alone stays above grade 2 (dip ~25%)
    _, rd = apply_dose_modifications("rd", 2, platelets_10e9_L=200.0)
    assert rd.worst_grade("platelets") == 0
    with pytest.raises(InvalidInputError, match="platelet_sensitivity"):
        apply_dose_modifications("rd", 1, platelet_sensitivity=-1.0)
