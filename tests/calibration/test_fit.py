"""The calibration fit: exact rate split, deviance terms, parameter files, CLI wiring."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from _helpers import NEUTRAL_CWD, assert_one_line_error
from scipy import stats

from mmmech import calibration, pk
from mmmech.calibration import fit as cfit
from mmmech.dynamics import tumour_model
from mmmech.exceptions import ModelFileError, UnknownNameError
from mmmech.trials import enrol, simulate_arm

ARMS = {a.id: a for a in calibration.load_single_agent()}


@pytest.fixture(scope="module")
def dex_course():
    pts, _ = enrol("rrmm", 3, 2)
    (course,) = calibration.simulate_courses(
        [ARMS["apex_dexamethasone"]], pts, follow_up_days=45, step_hours=12
    )
    return course, pts


@pytest.mark.slow
@pytest.mark.parametrize("s, tb", [(1.0, 46.8), (0.7, 30.0), (1.2, 70.0)])
def test_rate_split_reproduces_simulate_arm(dex_course, s, tb):
    """predict() at any (death_scale, Tb) equals a fresh simulate_arm run with that tumour
    model: the split of the growth rate into proliferation and death parts is exact."""
    course, pts = dex_course
    spec = course.arm.regimen_spec()
    pr = calibration.predict(course, s, tb)
    ar = simulate_arm(
        spec,
        pts,
        cycles=cfit._cycles_for(spec, 45),
        follow_up_days=45,
        step_hours=12,
        tumour=tumour_model(death_scale=s, birth_rate=math.log(2) / tb),
    )
    assert list(pr["best_response"]) == list(ar.best_response)
    ttp = np.where(np.isfinite(pr["ttp_days"]), pr["ttp_days"], ar.horizon_days)
    np.testing.assert_allclose(ttp, ar.pfs_days, rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def dex_course_pk():
    pts, _ = enrol("rrmm", 3, 2)
    (course,) = calibration.simulate_courses(
        [ARMS["apex_dexamethasone"]], pts, follow_up_days=45, step_hours=12,
        pk_population="rrmm", pk_seed=2,
    )  # fmt: skip
    return course, pts


@pytest.mark.slow
@pytest.mark.parametrize("s, tb", [(1.0, 46.8), (0.7, 30.0)])
def test_rate_split_with_pk_etas_reproduces_a_trial_arm(dex_course_pk, s, tb):
    """With each patient's PK etas (as a trial with pk_variability=True gives them: same
    keyed streams) the split still reproduces simulate_arm run with those etas."""
    course, pts = dex_course_pk
    spec = course.arm.regimen_spec()
    etas = [pk.patient_etas("rrmm", p.index, 2, ["dexamethasone"]) for p in pts]
    assert all(e for e in etas)  # dexamethasone has reported between-patient variability
    pr = calibration.predict(course, s, tb)
    ar = simulate_arm(
        spec,
        pts,
        cycles=cfit._cycles_for(spec, 45),
        follow_up_days=45,
        step_hours=12,
        tumour=tumour_model(death_scale=s, birth_rate=math.log(2) / tb),
        pk_etas=etas,
    )
    assert list(pr["best_response"]) == list(ar.best_response)
    ttp = np.where(np.isfinite(pr["ttp_days"]), pr["ttp_days"], ar.horizon_days)
    np.testing.assert_allclose(ttp, ar.pfs_days, rtol=0, atol=1e-9)


@pytest.mark.slow
def test_pk_etas_change_the_courses(dex_course, dex_course_pk):
    """The etas reach the network: the split rates differ from the typical-PK courses (the
    untreated first step, before any dose acts, is the same)."""
    typ, pkv = dex_course[0], dex_course_pk[0]
    assert not np.allclose(typ.a, pkv.a) or not np.allclose(typ.b, pkv.b)
    np.testing.assert_allclose(typ.a[:, 0], pkv.a[:, 0], rtol=1e-9)


@pytest.mark.slow
def test_default_parameters_keep_the_untreated_balance(dex_course):
    """At death_scale 1 the death part is the untreated balance: a - b at rest = net rate."""
    course, _ = dex_course
    # first step of the course starts from the untreated steady state
    beta0 = math.log(2) / 46.8
    assert np.all(course.a[:, 0] > 0) and np.all(course.b[:, 0] > 0)
    assert np.all(course.a[:, 0] <= beta0 * 1.5)


def _arm(**values):
    base = dict(id="x", trial="T", agents=("bortezomib",), setting="rrmm", sources=("PMID:1",),
                refs=(), verified=True)  # fmt: skip
    n = values.pop("n", None)
    return calibration.SingleAgentArm(values=values, n=n, **base)


def _pred(orr, med=None, n=40):
    return {
        "orr": orr,
        "vgpr_or_better": 0.0,
        "cr_or_better": 0.0,
        "median_ttp_months": med,
        "n": n,
    }


def test_rate_term_is_the_binomial_deviance():
    """2 n KL(o || p) equals twice the binomial log-likelihood ratio (scipy), known answer."""
    arm = _arm(orr=0.3, n=40)
    t = calibration.arm_deviance(arm, _pred(0.5), 300)["orr"]
    k = 12
    ref = 2 * (stats.binom.logpmf(k, 40, 0.3) - stats.binom.logpmf(k, 40, 0.5))
    assert t == pytest.approx(ref, rel=1e-12)
    assert calibration.arm_deviance(arm, _pred(0.3), 300)["orr"] == pytest.approx(0, abs=1e-12)


def test_median_terms_use_the_ci_and_censoring():
    arm = _arm(median_ttp_months=6.0, median_ttp_months_low=4.0, median_ttp_months_high=9.0)
    sd = (math.log(9) - math.log(4)) / (2 * 1.959963984540054)
    t = calibration.arm_deviance(arm, _pred(0.2, 3.0), 300)["median_ttp_months"]
    assert t == pytest.approx((math.log(0.5) / sd) ** 2)
    # not reached within 3 months of follow-up while 6 months observed: no evidence against
    assert calibration.arm_deviance(arm, _pred(0.2, None), 90)["median_ttp_months"] == 0
    # not reached within 6.6 months: the model's median exceeds the observed 6: penalised
    assert calibration.arm_deviance(arm, _pred(0.2, None), 200)["median_ttp_months"] > 0


def test_n_implied_by_a_confidence_interval():
    arm = _arm(orr=0.292, orr_low=0.208, orr_high=0.389)
    n, how = cfit._n_eff(arm, "orr")
    assert 90 < n < 125 and "CI" in how  # SIRIUS: n = 106


def test_no_n_implied_by_a_rounding_range():
    """APEX's dexamethasone CR "less than 1 percent" is recorded as 0.005 in [0, 0.01]: a
    rounding range, not a CI (an exact 95% CI of a positive count never starts at 0). Read as
    a CI it implied n = 765, more than the 669 patients of both APEX arms together."""
    arm = _arm(cr_or_better=0.005, cr_or_better_low=0.0, cr_or_better_high=0.01)
    n, how = cfit._n_eff(arm, "cr_or_better")
    assert n == cfit.DEFAULT_N and "default" in how
    # the range itself still bounds what counts as reproduced
    assert cfit.uncertainty(arm, "cr_or_better") == (0.0, 0.01)


def test_parameter_file_round_trip(tmp_path):
    out = tmp_path / "p.toml"
    calibration.write_parameters(
        out,
        {"name": "p", "version": "1", "date": "2026-12-01", "objective": 3.5},
        [
            {"name": "death_scale", "value": 0.9, "low": 0.8, "high": 1.0},
            {"name": "birth_doubling_days", "value": 30.0, "low": 20.0, "high": 40.0},
        ],
        [{"arm": "apex_bortezomib", "orr_observed": 0.38, "fits": False}],
    )
    ps = calibration.load_parameters(str(out))
    assert ps.values == {"death_scale": 0.9, "birth_doubling_days": 30.0}
    kw = calibration.cohort_kwargs(ps)
    assert kw["tumour"].death_scale == 0.9
    assert kw["tumour"].birth_rate == pytest.approx(math.log(2) / 30.0)
    assert calibration.cohort_kwargs(None) == {}


@pytest.mark.parametrize(
    "text, needle",
    [
        ('[calibration]\nname="p"\nversion="1"\ndate="d"\n', "needs [[parameter]]"),
        (
            '[calibration]\nname="p"\nversion="1"\ndate="d"\n[[parameter]]\nname="deth_scale"\nvalue=1.0\n',
            "did you mean 'death_scale'",
        ),  # fmt: skip
        (
            '[calibration]\nname="p"\nversion="1"\ndate="d"\n[[parameter]]\nname="death_scale"\nvalue=9.0\n',
            "value must be a number in",
        ),  # fmt: skip
        ("x = 1\n", "not a parameter file"),
    ],
)
def test_bad_parameter_files(tmp_path, text, needle):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ModelFileError) as e:
        calibration.load_parameters(str(p))
    assert needle in str(e.value) and "bad.toml" in str(e.value)


def test_unknown_parameter_name():
    with pytest.raises(UnknownNameError, match="no parameter file"):
        calibration.load_parameters("no_such_fit")


def test_calibrate_refuses_combination_data():
    from mmmech.calibration.data import data_path

    with pytest.raises(ModelFileError, match="never calibration data"):
        calibration.calibrate(str(data_path("trials", "combination_trials.toml")))


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "mmmech", *args], cwd=NEUTRAL_CWD, capture_output=True, text=True
    )


def test_cli_errors_are_one_line():
    assert_one_line_error(_cli("calibrate", "--patients", "0"), "--patients")
    assert_one_line_error(
        _cli("regimen", "simulate", "d", "--cycles", "1", "--parameters", "no_such_fit"),
        "no parameter file",
    )


@pytest.mark.slow
def test_regimen_simulate_loads_a_parameter_file(tmp_path):
    """A faster-killing calibration changes the simulated course (the file is really used)."""
    out = tmp_path / "fast.toml"
    calibration.write_parameters(
        out,
        {"name": "fast", "version": "1", "date": "2026-12-01"},
        [{"name": "birth_doubling_days", "value": 15.0}, {"name": "death_scale", "value": 1.05}],
    )
    base = _cli("regimen", "simulate", "d", "--cycles", "1", "--step-hours", "12", "--json")
    cal = _cli("regimen", "simulate", "d", "--cycles", "1", "--step-hours", "12", "--json",
               "--parameters", str(out))  # fmt: skip
    assert base.returncode == 0 and cal.returncode == 0, cal.stderr
    a, b = json.loads(base.stdout), json.loads(cal.stdout)
    assert a != b


def test_bundled_fit_loads_by_name_and_used_single_agent_data_only():
    assert "single_agent_fit" in calibration.available_parameters()
    ps = calibration.load_parameters("single_agent_fit")
    for name, v in ps.values.items():
        lo, hi = ps.intervals[name]
        assert (lo is None or lo <= v) and (hi is None or v <= hi)
    assert set(ps.meta["arms"]) <= set(ARMS)  # only arms of the single-agent file
    assert all(calibration.is_single_agent(ARMS[a].agents) for a in ps.meta["arms"])
    assert ps.meta["sources"] and all(calibration.is_source_id(s) for s in ps.meta["sources"])
    assert ps.meta["command"].startswith("mmmech calibrate")
    kw = calibration.cohort_kwargs("single_agent_fit")
    assert kw["tumour"].death_scale == ps.values["death_scale"]
