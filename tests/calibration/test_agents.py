"""Per-agent in-vivo factors: the dynamics keywords, the parameter file, the agent fit."""

import dataclasses
import math

import numpy as np
import pytest

from mmmech import calibration, simulate_regimen
from mmmech.calibration import agents as cagents
from mmmech.calibration import fit as cfit
from mmmech.dynamics import classify, simulate_cohort
from mmmech.exceptions import InvalidInputError, ModelFileError
from mmmech.trials import enrol

ARMS = {a.id: a for a in calibration.load_single_agent()}
BTZ = {"regimen": "vd", "drop": ["dexamethasone"]}


@pytest.fixture(scope="module")
def bodies():
    pts, _ = enrol("rrmm", 2, 1)
    return [p.regimen_body() for p in pts]


def _run(spec, bodies, **kw):
    return simulate_cohort(spec, bodies, cycles=1, step_hours=12, **kw)


def test_default_keywords_are_bit_identical(bodies):
    """None, {} and factors of 1 (and drugs not in the regimen) change nothing, bit for bit."""
    ref = _run(BTZ, bodies)
    for kw in (
        {"exposure_scale": None, "efficacy_scale": None},
        {"exposure_scale": {}, "efficacy_scale": {}},
        {"exposure_scale": {"bortezomib": 1.0}, "efficacy_scale": {"bortezomib": 1}},
        {"exposure_scale": {"daratumumab": 5.0}, "efficacy_scale": {"teclistamab": 0.1}},
    ):
        res = _run(BTZ, bodies, **kw)
        assert np.array_equal(res.m_protein, ref.m_protein)
        assert np.array_equal(res.tumour_burden, ref.tumour_burden)
    a = simulate_regimen("vd", cycles=1)
    b = simulate_regimen("vd", cycles=1, exposure_scale={"bortezomib": 1.0}, efficacy_scale={})
    assert a.timecourse.equals(b.timecourse)


def test_exposure_scale_is_monotone_and_matches_simulate_regimen(bodies):
    """More bortezomib at its targets never raises the M-protein (a proteasome inhibitor only
    kills here), and the cohort path and the single-regimen path agree on the factor."""
    ms = [_run(BTZ, bodies, exposure_scale={"bortezomib": f}).m_protein for f in (0.1, 1, 10)]
    assert np.all(ms[0] >= ms[1] - 1e-9) and np.all(ms[1] >= ms[2] - 1e-9)
    assert ms[2][:, -1].max() < ms[1][:, -1].min()  # a factor of 10 moves the course
    one = simulate_regimen(BTZ["regimen"], drop=BTZ["drop"], cycles=1, step_hours=12,
                           exposure_scale={"bortezomib": 10.0})  # fmt: skip
    ref = simulate_regimen(BTZ["regimen"], drop=BTZ["drop"], cycles=1, step_hours=12)
    coh = simulate_cohort(BTZ, [None], cycles=1, step_hours=12, exposure_scale={"bortezomib": 10})
    m_one = one.timecourse["m_protein_g_per_dL"].to_numpy()
    np.testing.assert_allclose(m_one, coh.m_protein[0], rtol=1e-6)
    assert m_one[-1] < ref.timecourse["m_protein_g_per_dL"].to_numpy()[-1]


def test_efficacy_scale_towards_zero_is_the_drug_left_out(bodies):
    """Occupancies x ~0 are the drug's absence: the untreated tumour, which grows with the
    sourced net doubling time (known answer), the same as concentrations x ~0."""
    from mmmech.dynamics.tumour import UNTREATED_DOUBLING_DAYS

    tiny = _run(BTZ, bodies, efficacy_scale={"bortezomib": 1e-12})
    days = tiny.hours / 24.0
    expect = np.exp(math.log(2) / UNTREATED_DOUBLING_DAYS.value * days)
    want = np.broadcast_to(expect, tiny.tumour_burden.shape)
    np.testing.assert_allclose(tiny.tumour_burden, want, rtol=1e-6)
    no_conc = _run(BTZ, bodies, exposure_scale={"bortezomib": 1e-12})
    np.testing.assert_allclose(tiny.tumour_burden, no_conc.tumour_burden, rtol=1e-6)
    full = _run(BTZ, bodies)
    capped = _run(BTZ, bodies, efficacy_scale={"bortezomib": 1e6})  # capped at occupancy 1
    assert np.all(capped.m_protein <= full.m_protein + 1e-9)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"exposure_scale": {"bortezomibb": 2.0}}, "unknown drug"),
        ({"exposure_scale": {"bortezomib": 0.0}}, "must be a number > 0"),
        ({"efficacy_scale": [("bortezomib", 2.0)]}, "must be a mapping"),
    ],
)
def test_bad_factors_one_line_errors(bodies, kw, match):
    with pytest.raises(InvalidInputError, match=match) as e:
        _run(BTZ, bodies, **kw)
    assert "\n" not in str(e.value)


def test_classify_rows_equals_classify():
    """The vectorised IMWG classification equals dynamics.classify row by row."""
    rng = np.random.default_rng(3)
    day = np.arange(60) * 0.5
    M = np.exp(np.cumsum(rng.normal(0, 0.2, (500, 60)), axis=1)) * rng.uniform(0.3, 9, (500, 1))
    best, ttp = cfit.classify_rows(day, M)
    for r in range(M.shape[0]):
        c = classify(day, M[r])
        assert best[r] == c.best
        assert ttp[r] == (c.progression_day if c.progression_day is not None else math.inf)


def test_parameter_file_round_trip_with_factors(tmp_path):
    """Factors written by write_parameters load back and become the dynamics keywords."""
    path = tmp_path / "fit.toml"
    meta = {"name": "fit", "version": "1", "date": "2026-12-01"}
    params = [
        {"name": "death_scale", "value": 0.8, "low": 0.7, "high": 0.9},
        {"name": "exposure_scale.bortezomib", "value": 12.5, "low": 4.0, "high": 40.0},
        {"name": "efficacy_scale.teclistamab", "value": 0.25, "low": 0.1, "high": 0.5},
    ]
    calibration.write_parameters(path, meta, params)
    ps = calibration.load_parameters(path)
    assert ps.values["exposure_scale.bortezomib"] == 12.5
    assert ps.intervals["efficacy_scale.teclistamab"] == (0.1, 0.5)
    kw = calibration.cohort_kwargs(path)
    assert kw["exposure_scale"] == {"bortezomib": 12.5}
    assert kw["efficacy_scale"] == {"teclistamab": 0.25}
    assert kw["tumour"].death_scale == 0.8
    bad = path.read_text().replace("exposure_scale.bortezomib", "exposure_scale.bortezomibb")
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ModelFileError, match="unknown name") as e:
        calibration.load_parameters(tmp_path / "bad.toml")
    assert "\n" not in str(e.value)
    too_big = path.read_text().replace("value = 12.5", "value = 1000.0")
    (tmp_path / "big.toml").write_text(too_big)
    with pytest.raises(ModelFileError, match="must be a number in"):
        calibration.load_parameters(tmp_path / "big.toml")


def test_agent_parameter_kinds():
    assert calibration.agent_parameter("bortezomib") == "exposure_scale.bortezomib"
    assert calibration.agent_parameter("teclistamab") == "efficacy_scale.teclistamab"
    assert calibration.agent_parameter("daratumumab") == "efficacy_scale.daratumumab"
    assert calibration.agent_parameter("lenalidomide") == "exposure_scale.lenalidomide"


def test_resampled_multipliers_keyed_and_own_first():
    pts, _ = enrol("rrmm", 3, 4)
    g, s = cagents.resampled_multipliers("rrmm", pts, 4, 50)
    assert g.shape == (3, 50)
    assert [p.tumour_scale("growth") for p in pts] == g[:, 0].tolist()
    g2, s2 = cagents.resampled_multipliers("rrmm", pts[1:], 4, 50)  # keyed: per patient
    assert np.array_equal(g2, g[1:]) and np.array_equal(s2, s[1:])
    # lognormal, median 1, CV 0.59 in rrmm: the log-SD is sqrt(ln(1 + 0.59^2))
    assert abs(np.std(np.log(g)) - math.sqrt(math.log(1 + 0.59**2))) < 0.12


@pytest.mark.slow
def test_agent_fit_recovers_a_known_factor():
    """Data made by the model itself with teclistamab's efficacy factor 0.3: the agent fit
    (shared constants held at the defaults) finds 0.3 inside its 95% interval, and the
    defaults (factor 1) outside it."""
    arm0 = ARMS["majestec1_teclistamab"]
    pts, _ = enrol("rrmm", 2, 1)
    G, S = cagents.resampled_multipliers("rrmm", pts, 1, 16)
    (c,) = calibration.simulate_courses(
        [arm0], pts, follow_up_days=60, step_hours=12, pk_population="rrmm", pk_seed=1,
        efficacy_scale={"teclistamab": 0.3},
        subgroups=cfit.subgroup_cohorts([arm0], "rrmm", 2, 1),  # its enrolled mix
    )  # fmt: skip
    pr = calibration.predict(cagents._expand(c, G, S), 1.0, 46.8)
    vals = {k: pr[k] for k in ("orr", "vgpr_or_better", "cr_or_better")}
    assert 0 < vals["orr"] < 1  # informative synthetic data
    arm = dataclasses.replace(arm0, values=vals, n=3000, id="synthetic_teclistamab")
    res = calibration.calibrate_agents(
        [arm], patients=2, seed=1, draws=16, follow_up_days=60, grid=(0.1, 0.3, 1.0),
        shared=False,
    )  # fmt: skip
    f = res.values["efficacy_scale.teclistamab"]
    lo, hi = res.intervals["efficacy_scale.teclistamab"]
    assert lo <= 0.3 <= hi
    assert hi < 1.0
    assert abs(math.log(f / 0.3)) < math.log(1.5)


def test_calibrate_agents_argument_errors():
    with pytest.raises(InvalidInputError, match="grid must contain 1") as e:
        calibration.calibrate_agents(grid=(0.1, 10.0))
    assert "\n" not in str(e.value)
    with pytest.raises(InvalidInputError, match="draws must be an integer"):
        calibration.calibrate_agents(draws=0)


@pytest.mark.slow
def test_validate_trials_with_a_parameter_file(tmp_path):
    """validate_trials / trial --validate --parameters: every arm runs under the file's
    keywords (a changed lenalidomide exposure moves MAIA's Rd arm), and the result says so."""
    import json
    import subprocess
    import sys

    from _helpers import NEUTRAL_CWD

    from mmmech.trials.validation import validate_trials

    path = tmp_path / "fit.toml"
    meta = {"name": "fit", "version": "1", "date": "2026-12-01"}
    calibration.write_parameters(
        path, meta, [{"name": "exposure_scale.lenalidomide", "value": 0.01}]
    )
    kw = dict(ids=["maia"], patients=2, seed=1, cycles=1, step_hours=12.0, toxicity=False)
    plain = validate_trials(**kw)
    info = {"name": "fit", "file": str(path), "version": "1"}
    fitted = validate_trials(
        **kw, cohort_kwargs=calibration.cohort_kwargs(path), parameter_file=info
    )
    assert plain.parameters is None and fitted.parameters == info
    assert fitted.to_dict()["parameters"] == info
    p0, p1 = plain.rows[0].predicted, fitted.rows[0].predicted
    assert p0 != p1
    out = subprocess.run(
        [sys.executable, "-m", "mmmech", "trial", "--validate", "--only", "maia", "--patients",
         "1", "--cycles", "1", "--parameters", str(path), "--json"],
        cwd=NEUTRAL_CWD, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["parameters"]["file"] == str(path)
