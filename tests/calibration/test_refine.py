"""calibrate --agents, round 7: factors between grid nodes, the teclistamab path, the per-arm
diagnosis, the saturated-exposure switch and the vectorised M-protein integration."""

import dataclasses
import math
from importlib import resources

import numpy as np
import pytest
import tomllib

from mmmech import calibration
from mmmech.calibration import agents as cagents
from mmmech.calibration import fit as cfit
from mmmech.dynamics.tumour import HALF_LIVES, integrate
from mmmech.exceptions import ModelFileError
from mmmech.trials import enrol

ARMS = {a.id: a for a in calibration.load_single_agent()}
KW = dict(patients=2, seed=1, draws=16, follow_up_days=90, step_hours=12.0)


def _synthetic(arm_id: str, kind: str, drug: str, factor: float, n: int = 150):
    """`arm_id` with its rates replaced by what the model itself gives at `factor` (the
    defaults otherwise), on the patients and multiplier draws calibrate_agents uses."""
    arm0 = ARMS[arm_id]
    pts, _ = enrol("rrmm", KW["patients"], KW["seed"])
    G, S = cagents.resampled_multipliers("rrmm", pts, KW["seed"], KW["draws"])
    # the arm's own cohort (its enrolled mix, if any), as calibrate_agents runs it
    subs = cfit.subgroup_cohorts([arm0], "rrmm", KW["patients"], KW["seed"])
    (c,) = calibration.simulate_courses(
        [arm0], pts, follow_up_days=KW["follow_up_days"], step_hours=KW["step_hours"],
        pk_population="rrmm", pk_seed=KW["seed"], subgroups=subs, **{kind: {drug: factor}},
    )  # fmt: skip
    pr = calibration.predict(cagents._expand(c, G, S), 1.0, 46.8)
    vals = {k: pr[k] for k in ("orr", "vgpr_or_better", "cr_or_better")}
    assert 0.05 < vals["orr"] < 0.95  # informative: neither none nor all respond
    return dataclasses.replace(arm0, values=vals, n=n, id=f"synthetic_{drug}")


def test_integrate_m_equals_dynamics_integrate():
    """The vectorised M-protein equals dynamics.tumour.integrate (the step-by-step exact
    solution) for every isotype's clearance, including rows where rate = -clearance and the
    light chains' fast clearance (blocks keep e^-j finite)."""
    rng = np.random.default_rng(7)
    r = rng.normal(0.0, 0.05, (40, 700))
    for name, hl in HALF_LIVES.items():
        k = math.log(2) / hl.value
        rr = r.copy()
        rr[:3] = -k
        _, ref = integrate(rr, 0.5, k, 1.0)
        got = cfit.integrate_m(rr, 0.5, k)
        assert np.all(np.isfinite(got)), name
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-300, err_msg=name)
    ks = np.array([math.log(2) / HALF_LIVES[n].value for n in ("IgG", "IgA")] * 20)
    got = cfit.integrate_m(r, 0.5, ks)
    for i in (0, 1):
        _, ref = integrate(r[i : i + 1], 0.5, float(ks[i]), 1.0)
        np.testing.assert_allclose(got[i : i + 1], ref, rtol=1e-9)


def test_teclistamab_factor_reaches_its_arm():
    """teclistamab's efficacy factor changes its arm (the factor stayed at 1.0 in the round-6
    fit): a lower factor kills less at every step and leaves fewer, shallower responses."""
    pts, _ = enrol("rrmm", 2, 1)
    arm = ARMS["majestec1_teclistamab"]
    out = {}
    subs = cfit.subgroup_cohorts([arm], "rrmm", 2, 1)  # its enrolled T-cell count
    for f in (0.15, 0.5, 1.0):
        kw = {} if f == 1.0 else {"efficacy_scale": {"teclistamab": f}}
        (c,) = calibration.simulate_courses(
            [arm], pts, follow_up_days=90, step_hours=12, subgroups=subs, **kw
        )
        out[f] = (c, calibration.predict(c, 1.0, 46.8))
    b = {f: out[f][0].b for f in out}
    assert np.all(b[0.15] <= b[0.5] + 1e-12) and np.all(b[0.5] <= b[1.0] + 1e-12)
    assert b[0.15].mean() < 0.5 * b[1.0].mean()
    np.testing.assert_allclose(out[0.15][0].a, out[1.0][0].a, rtol=1e-9)  # an engager only kills
    assert out[0.15][1]["cr_or_better"] < out[1.0][1]["cr_or_better"]


@pytest.mark.slow
def test_agent_fit_recovers_known_factors_between_grid_nodes():
    """Known answer: data made by the model itself with lenalidomide's exposure factor 0.5 and
    teclistamab's efficacy factor 0.15, neither a grid node. The refined fit finds both
    within x1.25 and inside their 95% intervals (the defaults outside); the grid-node fit
    (refine_rounds=0, the round-6 search) can only return nodes and is further from both."""
    truth = {"lenalidomide": 0.5, "teclistamab": 0.15}
    arms = [
        _synthetic("richardson2009_lenalidomide", "exposure_scale", "lenalidomide", 0.5),
        _synthetic("majestec1_teclistamab", "efficacy_scale", "teclistamab", 0.15),
    ]
    grid = (0.1, 0.3, 1.0, 3.0)
    res = calibration.calibrate_agents(arms, **KW, grid=grid, shared=False)
    old = calibration.calibrate_agents(arms, **KW, grid=grid, shared=False, refine_rounds=0)
    for drug, f0 in truth.items():
        name = calibration.agent_parameter(drug)
        f, (lo, hi) = res.values[name], res.intervals[name]
        assert abs(math.log(f / f0)) < math.log(1.25), (name, f)
        assert lo <= f0 <= hi and not lo <= 1.0 <= hi, (name, lo, hi)
        assert old.values[name] in grid
        assert abs(math.log(f / f0)) < abs(math.log(old.values[name] / f0))
    for row in res.arms:
        assert row["fits"] and row["diagnosis"] == "within"
        assert 0.0 <= row["fit_p_value"] <= 1.0 and row["deviance_terms"] == 3
        assert row["alone_deviance"] <= row["deviance"] + 1e-9


@pytest.mark.slow
def test_saturated_exposure_becomes_an_efficacy_factor():
    """venetoclax's BCL2 occupancy is saturated at every exposure of the grid (Ki < 0.01 nM),
    so its exposure factor cannot move its arm: the fit says so and fits the efficacy factor,
    which does move it."""
    arm = ARMS["kumar2017_venetoclax_t11_14"]
    res = calibration.calibrate_agents(
        [arm], **KW, grid=(0.01, 0.3, 1.0, 100.0), shared=False, refine_rounds=0,
        interval_bisections=0,
    )  # fmt: skip
    assert "efficacy_scale.venetoclax" in res.values
    assert "exposure_scale.venetoclax" not in res.values
    assert any("exposure_scale.venetoclax moves" in n for n in res.notes)
    prof = dict(res.profile["efficacy_scale.venetoclax"])
    assert max(prof.values()) - min(prof.values()) > cfit.CHI2_95


def test_fit_report_of_the_bundled_file():
    """The docs' tables come from the parameter file: every arm and parameter appears, the
    count of arms within is the count of rows whose `fits` is true, and a diagnosis is given."""
    text = calibration.fit_report("single_agent_fit")
    doc = tomllib.loads(
        (resources.files("mmmech._data.calibration") / "single_agent_fit.toml").read_text()
    )
    for r in doc["fit"]:
        assert f"| {r['arm']} |" in text
        assert r["diagnosis"] in ("within", "tension", "structural")
        assert r["fits"] == (r["diagnosis"] == "within")
    for p in doc["parameter"]:
        assert f"`{p['name']}`" in text
    n = sum(1 for r in doc["fit"] if r["fits"])
    assert f"Arms within their uncertainty: {n} of {len(doc['fit'])}" in text
    with pytest.raises(ModelFileError, match="no parameter file") as e:
        calibration.fit_report("single_agent_fitt")
    assert "\n" not in str(e.value)
