"""Parameter ensembles of a virtual trial (run_trial(..., ensemble=K), mmmech trial --ensemble K):
the point estimate is set 0 and is not perturbed, each drawn set equals a direct simulate_arm run
with that tumour model and those named network parameters, the Latin hypercube's strata,
determinism, batching, resume, errors."""

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import network, pk, regimens, trials
from mmmech.dynamics import tumour_model
from mmmech.dynamics.tumour import BIRTH_DOUBLING_DAYS
from mmmech.exceptions import InvalidInputError
from mmmech.trials import ensemble as tens
from mmmech.trials import run as trial_run

KW = dict(population="ndmm", patients=3, seed=4, cycles=2, step_hours=12.0)
ARMS = ["Rd", "Vd"]
METRICS = ("orr", "vgpr_or_better", "cr_or_better", "median_pfs_months")


def _dump(d):
    return json.dumps(d, sort_keys=True)


def _without_ensemble(d):
    """The trial JSON minus everything the ensemble adds (its entries and its note)."""
    d = json.loads(json.dumps(d))
    d.pop("ensemble", None)
    for a in d["arms"]:
        a["ensemble"] = None
    for h in d["hazard_ratios"]:
        h.pop("ensemble", None)
    d["notes"] = [n for n in d["notes"] if "ensemble" not in n]
    return d


@pytest.fixture(scope="module")
def plain():
    return trials.run_trial(ARMS, **KW)


@pytest.fixture(scope="module")
def ens():
    return trials.run_trial(ARMS, ensemble=3, **KW)


def test_ensemble_zero_is_the_plain_trial(plain):
    again = trials.run_trial(ARMS, ensemble=0, **KW).to_dict()
    assert _dump(again) == _dump(plain.to_dict())
    assert "ensemble" not in again
    assert all(a["ensemble"] is None for a in again["arms"])
    assert all("ensemble" not in h for h in again["hazard_ratios"])


def test_point_estimate_is_set_zero_and_unchanged(plain, ens):
    d = ens.to_dict()
    assert _dump(_without_ensemble(d)) == _dump(_without_ensemble(plain.to_dict()))
    assert ens.ensemble.members == 3 and len(ens.ensemble.arms) == 3
    # set 0: the tumour constant's default and every sampled network parameter's default
    params = network.load("myeloma").parameters
    assert ens.ensemble.values[0] == {
        "birth_doubling_days": BIRTH_DOUBLING_DAYS.value,
        **{n: p.default for n, p in params.items() if p.low < p.high},
    }
    for a in d["arms"]:
        e = a["ensemble"]
        assert e["members"] == 3 and e["percentiles"] == [5.0, 95.0]
        for m in METRICS:
            assert len(e["values"][m]) == 3
            assert e["values"][m][0] == a[m]  # set 0 is the point estimate
            lo, hi = e[f"{m}_range"]
            if m == "median_pfs_months":
                inf = math.inf
                lo, hi = (inf if lo is None else lo), (inf if hi is None else hi)
                p = inf if a[m] is None else a[m]
                assert lo <= p <= hi
            else:
                assert lo <= e[m][0] <= e[m][1] <= hi
                assert lo <= a[m] <= hi  # the point estimate lies inside the ensemble's range


def test_each_drawn_set_is_simulate_arm_with_that_tumour_model(ens):
    """Differential: set m of the trial equals a direct simulate_arm run of the same patients
    with TumourModel(birth_rate = ln 2 / Tb_m) and the set's named network parameters,
    response for response and day for day."""
    pts, _ = trials.enrol("ndmm", KW["patients"], seed=KW["seed"])
    follow = ens.follow_up_days
    params = network.load("myeloma").parameters
    for m in (1, 2):
        values = ens.ensemble.values[m]
        tb = values["birth_doubling_days"]
        assert 15.0 <= tb <= 75.4
        net = {n: v for n, v in values.items() if n in params}
        assert set(net) == {n for n, p in params.items() if p.low < p.high}
        assert all(params[n].low <= v <= params[n].high for n, v in net.items())
        tm = tumour_model(birth_rate=math.log(2) / tb)
        for j, arm in enumerate(ARMS):
            drugs = regimens.load(arm).drugs
            direct = trials.simulate_arm(
                arm,
                pts,
                cycles=KW["cycles"],
                follow_up_days=follow,
                step_hours=KW["step_hours"],
                tumour=tm,
                params=net,
                # the trial's default between-patient PK variability: each patient's own etas
                pk_etas=[pk.patient_etas("ndmm", p.index, KW["seed"], drugs) for p in pts],
            )
            got = ens.ensemble.arms[m][j]
            assert list(got.best_response) == list(direct.best_response)
            np.testing.assert_allclose(got.pfs_days, direct.pfs_days, rtol=1e-9)
            np.testing.assert_allclose(
                got.max_reduction, direct.max_reduction, rtol=1e-9, atol=1e-12
            )
    # the sets differ from the point estimate (the ensemble varies something)
    red0 = ens.arms[0].max_reduction
    assert any(not np.array_equal(ens.ensemble.arms[m][0].max_reduction, red0) for m in (1, 2))


def _with_defaults(model, values):
    """`model` whose named parameters default to `values` (an independent route to the same
    weights: the compiled model resolves a parameter without override to its default)."""
    pars = {
        n: dataclasses.replace(p, default=values.get(n, p.default))
        for n, p in model.parameters.items()
    }
    return dataclasses.replace(model, parameters=pars)


def test_network_parameters_are_applied_as_the_model_applies_them():
    """Differential: an ensemble of the named network parameters only (the tumour at its
    defaults) gives, per set, what simulate_arm gives on a model whose parameter defaults are
    the set's values; the dexamethasone weights move lenalidomide-dexamethasone's depth of response
    (the network parameters reach the patients)."""
    rng = {"dex_nk_weight": (0.0, 0.5), "dex_stromal_il6_weight": (0.3, 0.9)}
    kw = dict(KW, patients=2)
    res = trials.run_trial(["rd"], ensemble=2, ensemble_ranges=rng, **kw)
    values = res.ensemble.values[1]
    assert set(values) == set(rng)
    assert res.ensemble.values[0] == {"dex_nk_weight": 0.1, "dex_stromal_il6_weight": 0.8}
    pts, _ = trials.enrol("ndmm", kw["patients"], seed=kw["seed"])
    drugs = regimens.load("rd").drugs
    direct = trials.simulate_arm(
        "rd",
        pts,
        cycles=kw["cycles"],
        follow_up_days=res.follow_up_days,
        step_hours=kw["step_hours"],
        model=_with_defaults(network.load("myeloma"), values),
        pk_etas=[pk.patient_etas("ndmm", p.index, kw["seed"], drugs) for p in pts],
    )
    got = res.ensemble.arms[1][0]
    assert list(got.best_response) == list(direct.best_response)
    np.testing.assert_allclose(got.max_reduction, direct.max_reduction, rtol=1e-9, atol=1e-12)
    assert not np.allclose(got.max_reduction, res.arms[0].max_reduction, rtol=1e-6, atol=0)
    top = res.to_dict()["ensemble"]
    assert [p["name"] for p in top["parameters"]] == sorted(rng)
    nk = next(p for p in top["parameters"] if p["name"] == "dex_nk_weight")
    mp = network.load("myeloma").parameters["dex_nk_weight"]
    assert nk["kind"] == "network" and (nk["low"], nk["high"], nk["default"]) == (0.0, 0.5, 0.1)
    assert nk["sources"] == list(mp.supports) and nk["contradicts"] == list(mp.contradicts)
    assert nk["source"] == mp.supports[0]
    # every other named parameter is held, with why
    fixed = {f["name"]: f for f in top["fixed_network_parameters"]}
    assert set(fixed) == set(network.load("myeloma").parameters) - set(rng)
    assert fixed["adcc_killing_weight"]["reason"] == "not in the ensemble's ranges"


def test_parameters_without_a_sourced_range_are_not_sampled():
    """A named parameter with low == high, or with no source, is held at its default and
    listed as fixed; one with both is sampled."""
    P = network.Parameter
    pars = {
        "a": P("a", 0.5, 0.2, 0.8, supports=("PMID:1",)),
        "b": P("b", 0.5, 0.5, 0.5, supports=("PMID:2",)),
        "c": P("c", 0.5, 0.2, 0.8),
        "d": P("d", 0.5, 0.2, 0.8, contradicts=("DOI:10.1/x",)),
    }
    assert tens.network_ranges(pars) == {"a": (0.2, 0.8), "d": (0.2, 0.8)}
    assert tens.unsourced_parameters(pars) == ["b", "c"]
    r = tens.check_ranges(None, "t", pars)
    assert set(r) == {"birth_doubling_days", "a", "d"}
    e = tens.Ensemble(ranges=r, values=[tens.set_defaults(list(r), pars)], network=pars)
    fixed = e.to_dict()["fixed_network_parameters"]
    assert [f["name"] for f in fixed] == ["b", "c"]
    assert all(f["reason"].startswith("no sourced range") for f in fixed)
    assert tens.member_cohort({"a": 0.3, "birth_doubling_days": 30.0})["params"] == {"a": 0.3}


def test_same_seed_same_intervals_any_batching(ens):
    again = trials.run_trial(ARMS, ensemble=3, batch_size=2, **KW)
    assert _dump(again.to_dict()) == _dump(ens.to_dict())
    other = tens.draw_members(3, KW["seed"] + 1, tens.default_ranges("myeloma"))
    assert other != ens.ensemble.values[1:]


def test_hazard_ratio_ensemble_shape(ens):
    h = ens.to_dict()["hazard_ratios"][0]["ensemble"]
    assert h["members"] == 3 and len(h["values"]) == 3
    assert 0 <= h["not_estimable"] <= 3
    assert h["values"][0] == ens.to_dict()["hazard_ratios"][0]["value"]
    top = ens.to_dict()["ensemble"]
    assert top["parameters"][0]["name"] == "birth_doubling_days"
    assert top["parameters"][0]["source"] == BIRTH_DOUBLING_DAYS.source
    assert top["parameters"][0]["values"][1:] == [
        v["birth_doubling_days"] for v in ens.ensemble.values[1:]
    ]


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(2, 60),
    seed=st.integers(0, 2**32 - 1),
    lo=st.floats(1.0, 50.0),
    width=st.floats(0.0, 100.0),
)
def test_latin_hypercube_one_draw_per_stratum(k, seed, lo, width):
    hi = lo + width
    ranges = {"birth_doubling_days": (lo, hi), "death_scale": (0.5, 1.5)}
    sets = tens.draw_members(k, seed, ranges)
    assert sets == tens.draw_members(k, seed, ranges)  # reproducible
    assert len(sets) == k - 1
    for name, (a, b) in ranges.items():
        x = np.array([s[name] for s in sets])
        assert np.all((x >= a) & (x <= b))
        if b > a:
            strata = np.minimum(((x - a) / (b - a) * (k - 1)).astype(int), k - 2)
            assert sorted(strata) == list(range(k - 1))
    # a parameter's draws do not depend on which other parameters are varied
    alone = tens.draw_members(k, seed, {"death_scale": (0.5, 1.5)})
    assert [s["death_scale"] for s in alone] == [s["death_scale"] for s in sets]


def test_interval_percentiles_and_not_reached():
    s = tens._summary([1.0, 2.0, 3.0, 4.0, 5.0], "x")
    assert s["x"] == pytest.approx([1.2, 4.8]) and s["x_range"] == [1.0, 5.0]
    assert s["x"] == pytest.approx(list(np.percentile([1, 2, 3, 4, 5], [5, 95])))
    t = tens._summary([1.0, None, 3.0], "m")  # None: median not reached within follow-up
    assert t["m_range"] == [1.0, None] and t["m"][1] is None and t["m"][0] == pytest.approx(1.2)


def test_interrupted_ensemble_resumes(tmp_path, monkeypatch):
    kw = dict(population="ndmm", patients=2, seed=2, cycles=1, step_hours=12.0, ensemble=2)
    ref = trials.run_trial(["rd"], **kw)
    out = tmp_path / "t.json"
    real = trial_run._run_batch
    calls = {"n": 0}

    def flaky(spec, pairs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(spec, pairs)

    monkeypatch.setattr(trial_run, "_run_batch", flaky)
    with pytest.raises(KeyboardInterrupt):
        trials.run_trial(["rd"], out=out, progress=False, batch_size=1, **kw)
    assert (tmp_path / "t.json.partial").exists() and not out.exists()
    monkeypatch.setattr(trial_run, "_run_batch", real)
    res = trials.run_trial(["rd"], out=out, progress=False, **kw)
    assert res.timings["resumed"] == 1
    assert _dump(res.to_dict()) == _dump(ref.to_dict())
    # a journal of the same trial without the ensemble is not mixed in
    monkeypatch.setattr(trial_run, "_run_batch", flaky)
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        trials.run_trial(["rd"], out=out, progress=False, batch_size=1, **kw)
    monkeypatch.setattr(trial_run, "_run_batch", real)
    kw0 = {**kw, "ensemble": 0}
    with pytest.raises(InvalidInputError, match="different trial"):
        trials.run_trial(["rd"], out=out, progress=False, **kw0)


def test_journal_of_other_network_ranges_is_not_resumed(tmp_path, monkeypatch):
    """The journal's fingerprint covers the network parameters' ranges and drawn values: an
    interrupted ensemble over one range of dex_nk_weight is not resumed under another."""
    kw = dict(population="ndmm", patients=2, seed=2, cycles=1, step_hours=12.0, ensemble=2)
    out = tmp_path / "t.json"
    real = trial_run._run_batch
    calls = {"n": 0}

    def flaky(spec, pairs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(spec, pairs)

    monkeypatch.setattr(trial_run, "_run_batch", flaky)
    with pytest.raises(KeyboardInterrupt):
        trials.run_trial(
            ["rd"], out=out, progress=False, batch_size=1,
            ensemble_ranges={"dex_nk_weight": (0.0, 0.5)}, **kw,
        )  # fmt: skip
    monkeypatch.setattr(trial_run, "_run_batch", real)
    with pytest.raises(InvalidInputError, match="different trial"):
        trials.run_trial(
            ["rd"], out=out, progress=False, ensemble_ranges={"dex_nk_weight": (0.0, 0.4)}, **kw
        )


@pytest.mark.parametrize("bad", [-1, 1, 1001, True, 2.5, "3", None])
def test_bad_ensemble_is_one_line(bad):
    with pytest.raises(InvalidInputError, match=r"ensemble must be 0 \(off\)") as e:
        trials.run_trial(["rd"], "ndmm", patients=1, ensemble=bad)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "ranges, needle",
    [
        ({"birth_doubling_day": (20, 30)}, "did you mean 'birth_doubling_days'"),
        ({"death_scale": (1.2, 0.8)}, "low <= high"),
        ({"death_scale": (0.8, float("nan"))}, "low <= high"),
        ({"birth_doubling_days": (20, 200)}, "shorter than every untreated"),
        ({}, "must map parameter names"),
        ({"dex_nk_weigth": (0, 0.5)}, "did you mean 'dex_nk_weight'"),
        ({"dex_nk_weight": (0.2, 1.5)}, "low <= high <= 1"),
    ],
)
def test_bad_ensemble_ranges_are_one_line(ranges, needle):
    with pytest.raises(InvalidInputError, match=needle) as e:
        trials.run_trial(["rd"], "ndmm", patients=1, ensemble=2, ensemble_ranges=ranges)
    assert "\n" not in str(e.value)


def test_cli_bad_ensemble_is_one_line(run_cli):
    r = run_cli("trial", "rd", "--patients", "1", "--ensemble", "1")
    assert r.returncode != 0
    err = r.stderr.strip()
    assert "ensemble must be 0 (off)" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_dask_workers_give_identical_ensemble(ens):
    res = trials.run_trial(ARMS, ensemble=3, workers=2, batch_size=2, **KW)
    assert _dump(res.to_dict()) == _dump(ens.to_dict())
