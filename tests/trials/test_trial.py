"""Virtual trials: determinism, batching, journal and resume, the removal invariant, errors."""

import json
import math

import numpy as np
import pytest

import mmmech
from mmmech import populations, trials
from mmmech.dynamics import simulate_cohort
from mmmech.exceptions import InvalidInputError, MmmechError, UnknownNameError
from mmmech.screening import JournalWarning
from mmmech.trials import run as trial_run

ORDER = {c: k for k, c in enumerate(trials.RESPONSE_ORDER)}  # 0 = best


def _dump(res):
    return json.dumps(res.to_dict(), sort_keys=True)


@pytest.fixture(scope="module")
def small():
    """A two-arm trial small enough for tests: 5 patients, 1 cycle."""
    return trials.run_trial(["VRd", "Rd"], "ndmm", patients=5, seed=3, cycles=1)


def test_shape_and_same_patients(small):
    d = small.to_dict()
    assert {"population", "patients", "seed", "arms", "hazard_ratios", "notes"} <= set(d)
    assert (d["population"], d["patients"], d["seed"]) == ("ndmm", 5, 3)
    for a in d["arms"]:
        assert {"name", "orr", "vgpr_or_better", "cr_or_better", "median_pfs_months"} <= set(a)
        assert a["cr_or_better"] <= a["vgpr_or_better"] <= a["orr"] <= 1
        assert sum(a["responses"].values()) == 5
    assert [a["name"] for a in d["arms"]] == ["VRd", "Rd"]
    assert set(d["hazard_ratios"][0]) >= {"arm", "versus", "value", "low", "high"}
    a, b = small.arms
    assert a.patient_ids == b.patient_ids  # the same patients in every arm
    assert any("death is not modelled" in n for n in d["notes"])


@pytest.mark.slow
def test_same_seed_identical_and_batching_does_not_matter(small):
    ref = _dump(small)
    for batch in (1, 7, 10):
        again = trials.run_trial(
            ["VRd", "Rd"], "ndmm", patients=5, seed=3, cycles=1, batch_size=batch
        )
        assert _dump(again) == ref


def test_enrolment_is_keyed_and_skips_nonsecretory():
    pts, skipped = trials.enrol("ndmm", 40, seed=1)
    assert all(p.m_protein_g_dL > 0 for p in pts)
    sample = populations.sample("ndmm", pts[-1].index + 1, 1)
    # passed over: the population's eligibility (round 7: measurable disease by isotype, which
    # includes nonsecretory disease, docs/populations.md "Eligibility")
    pop = populations.load("ndmm")
    assert skipped == sum(populations.eligibility_reason(pop, p) is not None for p in sample)
    assert skipped >= sum(p.isotype == "nonsecretory" for p in sample)
    assert pts[:10] == trials.enrol("ndmm", 10, seed=1)[0]


@pytest.mark.slow
def test_removing_a_drug_never_helps_per_patient():
    pts, _ = trials.enrol("ndmm", 6, seed=5)
    full = trials.simulate_arm("vrd", pts, cycles=3)
    for drop in ("bortezomib", "lenalidomide"):
        less = trials.simulate_arm({"regimen": "vrd", "drop": [drop]}, pts, cycles=3)
        assert less.patient_ids == full.patient_ids
        worse_or_equal = [
            ORDER[x] >= ORDER[y]
            for x, y in zip(less.best_response, full.best_response, strict=True)
        ]
        assert all(worse_or_equal), (drop, less.best_response, full.best_response)
        assert np.all(less.max_reduction <= full.max_reduction + 1e-9), drop
        assert np.all(less.pfs_days <= full.pfs_days), drop
        assert less.rate("PR") <= full.rate("PR") and less.rate("VGPR") <= full.rate("VGPR")


def test_journal_resume_loses_no_patient(tmp_path, monkeypatch):
    out = tmp_path / "t.json"
    ref = trials.run_trial(["rd", "vd"], "ndmm", patients=2, seed=2, cycles=1, batch_size=3)
    calls = {"n": 0}
    real = trial_run._run_batch

    def flaky(spec, pairs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(spec, pairs)

    monkeypatch.setattr(trial_run, "_run_batch", flaky)
    with pytest.raises(KeyboardInterrupt):
        trials.run_trial(
            ["rd", "vd"],
            "ndmm",
            patients=2,
            seed=2,
            cycles=1,
            batch_size=3,
            out=out,
            progress=False,
        )
    journal = tmp_path / "t.json.partial"
    assert journal.exists() and not out.exists()
    kept = len(journal.read_text().splitlines()) - 1  # header + the rows of the first batch
    assert 1 <= kept < 4
    # an edited row fails its checksum: computed again, with a warning
    lines = journal.read_text().splitlines()
    lines[1] = lines[1].replace('"pfs_days": ', '"pfs_days": 1', 1)
    journal.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(trial_run, "_run_batch", real)
    with pytest.warns(JournalWarning, match="trial"):
        res = trials.run_trial(
            ["rd", "vd"],
            "ndmm",
            patients=2,
            seed=2,
            cycles=1,
            batch_size=3,
            out=out,
            progress=False,
        )
    assert res.timings["resumed"] == kept - 1
    assert _dump(res) == _dump(ref)
    assert json.loads(out.read_text())["arms"][0]["name"] == "rd"
    assert not journal.exists()
    # a journal of another trial is never mixed in
    journal.write_text(json.dumps({"mmmech_screen_journal": 2, "fingerprint": "x"}) + "\n")
    with pytest.raises(InvalidInputError, match="different trial"):
        trials.run_trial(["rd"], "ndmm", patients=2, seed=2, cycles=1, out=out)


def test_errors_are_one_line(tmp_path):
    with pytest.raises(InvalidInputError, match="patients"):
        mmmech.trial(["rd"], "ndmm", patients=0)
    with pytest.raises(UnknownNameError, match="did you mean 'vrd'"):
        mmmech.trial(["vrdd"], "ndmm", patients=1)
    with pytest.raises(UnknownNameError, match="population"):
        mmmech.trial(["rd"], "nmdd", patients=1)
    bad = tmp_path / "bad.toml"
    bad.write_text("[regimen]\nname = 'x'\n")
    with pytest.raises(MmmechError, match="bad.toml"):
        mmmech.trial([str(bad)], "ndmm", patients=1)
    badpop = tmp_path / "badpop.toml"
    badpop.write_text("[population]\nname = 'x'\n")
    with pytest.raises(MmmechError, match="badpop.toml"):
        mmmech.trial(["rd"], str(badpop), patients=1)
    with pytest.raises(InvalidInputError, match="arms"):
        mmmech.trial("rd", "ndmm", patients=1)
    with pytest.raises(InvalidInputError, match="out must end in .json"):
        mmmech.trial(["rd"], "ndmm", patients=1, out=tmp_path / "x.csv")


def test_cohort_per_patient_m_protein_scales_the_course():
    bodies = [None, None]
    ref = simulate_cohort("rd", bodies, cycles=1)
    same = simulate_cohort("rd", bodies, cycles=1, isotypes=["IgG", "IgG"], m_protein=[3.0, 6.0])
    np.testing.assert_allclose(same.m_protein[0], ref.m_protein[0], rtol=1e-12)
    np.testing.assert_allclose(same.m_protein[1], 2 * ref.m_protein[1], rtol=1e-12)
    iga = simulate_cohort("rd", [None], cycles=1, isotypes=["IgA"], m_protein=[3.0])
    assert iga.m_protein[0, -1] != ref.m_protein[0, -1]  # a shorter half-life
    longer = simulate_cohort("rd", [None], cycles=1, follow_up_days=40)
    assert longer.hours[-1] / 24 == 40 and ref.hours[-1] / 24 == 28
    with pytest.raises(InvalidInputError, match="isotypes"):
        simulate_cohort("rd", [None], cycles=1, isotypes=["IgZ"])
    with pytest.raises(InvalidInputError, match="m_protein"):
        simulate_cohort("rd", [None], cycles=1, m_protein=[0.0])


@pytest.mark.slow
def test_dask_workers_give_identical_json(small):
    res = trials.run_trial(
        ["VRd", "Rd"], "ndmm", patients=5, seed=3, cycles=1, workers=2, batch_size=3
    )
    assert _dump(res) == _dump(small)


def test_batches_are_whole_arms_split_at_the_size():
    pts, _ = trials.enrol("ndmm", 60, seed=4)
    ctx = {p.index: tuple(p.contexts) for p in pts}
    pairs = [(a, p.index) for a in range(2) for p in pts]
    for size in (None, 1, 7):
        batches = trial_run._batches(pairs, ctx, size)
        flat = [x for b in batches for x in b]
        assert sorted(flat) == sorted(pairs)  # every pair exactly once
        for b in batches:
            assert len({a for a, _ in b}) == 1  # one arm
            assert size is None or len(b) <= size
        # within an arm the patients come ordered by context combination
        for a in range(2):
            keys = [ctx[i] for b, i in flat if b == a]
            assert keys == sorted(keys)
    whole = trial_run._batches(pairs, ctx, None)
    assert len(whole) == 2  # one simulate_cohort call per arm


def test_until_progression_arm_is_treated_to_the_end_of_follow_up():
    from mmmech.trials.arms import arm_cycles, arm_cycles_through, arm_horizon_days

    follow = max(arm_horizon_days(a, 12) for a in ("vrd", "rd"))
    assert follow == 12 * 28  # Rd: twelve 28-day cycles
    # VRd (SWOG S0777): 8 x 21 days of induction, then Rd maintenance until progression
    assert arm_horizon_days("vrd", 12) == 8 * 21 + 4 * 28
    n = arm_cycles_through("vrd", arm_cycles("vrd", 12), follow)
    assert n == 14 and arm_horizon_days("vrd", n) == 8 * 21 + 6 * 28 == follow
    # never past the follow-up: one more whole cycle would end after it
    assert arm_cycles_through("vrd", 1, 28) == 1
    assert arm_cycles_through("rd", 12, follow + 27) == 12
    assert arm_cycles_through("rd", 12, follow + 28) == 13
    # a fixed-duration regimen keeps its own length
    assert arm_cycles_through("vmp", arm_cycles("vmp", 12), 10_000) == arm_cycles("vmp", 12)


def test_follow_up_months_extends_the_trial_and_treats_until_progression_arms():
    # Rd is given until progression; VMP has a fixed length (9 cycles of 42 days)
    res = trials.run_trial(
        ["rd", "vmp"],
        "ndmm",
        patients=1,
        seed=3,
        cycles=1,
        follow_up_months=24,
        step_hours=24.0,
        toxicity=False,
    )
    d = res.to_dict()
    assert res.follow_up_days == math.ceil(24 * 365.25 / 12) == 731
    assert d["follow_up_months"] == pytest.approx(731 * 12 / 365.25)
    # Rd: every whole 28-day cycle that ends within 731 days (26 cycles = 728 days)
    assert res.arm("rd").cycles == 26
    # VMP keeps the one cycle asked (a fixed regimen is not prolonged), then is followed
    assert res.arm("vmp").cycles == 1
    # a follow-up shorter than the arms' own span changes nothing
    short = trials.run_trial(
        ["rd"],
        "ndmm",
        patients=1,
        seed=3,
        cycles=2,
        follow_up_months=0.5,
        step_hours=24.0,
        toxicity=False,
    )
    assert short.follow_up_days == 56 and short.arm("rd").cycles == 2


@pytest.mark.parametrize("bad", [0, -1, 241, float("nan"), True, "12"])
def test_bad_follow_up_months_is_one_line(bad):
    with pytest.raises(InvalidInputError, match="follow_up_months must be a number") as e:
        trials.run_trial(["rd"], "ndmm", patients=1, follow_up_months=bad)
    assert "\n" not in str(e.value)
