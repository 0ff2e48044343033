"""Parameter ensembles keep only sets consistent with single-agent data: a drawn set in which a
drug of the arms, given alone on its arm's schedule, leaves the typical patient with more
M-protein than no treatment is rejected and redrawn (docs/trials.md, "Parameter ensembles")."""

import pytest

from mmmech.exceptions import InvalidInputError
from mmmech.trials import ensemble, run_trial


def test_defaults_pass_and_the_low_end_of_the_stromal_il6_weight_fails_for_dexamethasone():
    # at dex_stromal_il6_weight 0.3 (the low end of its sourced range) dexamethasone alone does
    # worse than no treatment in the marrow (docs/trials.md, "VRd vs Rd (SWOG S0777)")
    assert ensemble.single_agent_failures({}, ["vrd"]) == []
    bad = ensemble.single_agent_failures({"dex_stromal_il6_weight": 0.3}, ["vrd"])
    assert bad == ["dexamethasone"]
    # a single-drug arm is its own single agent
    assert ensemble.single_agent_failures({"dex_stromal_il6_weight": 0.3}, ["d"]) == [
        "dexamethasone"
    ]


def test_accepted_members_keep_round_zero_when_everything_passes():
    ranges = {"birth_doubling_days": (15.0, 75.4), "dex_nk_weight": (0.0, 0.5)}
    plain = ensemble.draw_members(6, 3, ranges)
    kept, rejected = ensemble.draw_accepted_members(6, 3, ranges, lambda v: True)
    assert kept == plain and rejected == 0


def test_rejected_sets_are_redrawn_deterministically():
    ranges = {"dex_nk_weight": (0.0, 0.5)}

    def accept(v):
        return v["dex_nk_weight"] < 0.25

    kept, rejected = ensemble.draw_accepted_members(9, 2, ranges, accept)
    assert len(kept) == 8 and all(accept(v) for v in kept)
    assert rejected > 0
    assert ensemble.draw_accepted_members(9, 2, ranges, accept) == (kept, rejected)
    # the accepted sets of round 0 come first, in their order
    first = [v for v in ensemble.draw_members(9, 2, ranges) if accept(v)]
    assert kept[: len(first)] == first


def test_an_impossible_check_is_one_line():
    with pytest.raises(InvalidInputError, match=r"passed the single-agent check") as info:
        ensemble.draw_accepted_members(4, 0, {"dex_nk_weight": (0.0, 0.5)}, lambda v: False)
    assert "\n" not in str(info.value)


def test_drugs_already_failing_at_the_defaults_are_left_out_of_the_check():
    # melphalan and prednisone alone end above the untreated course at the defaults (a model
    # fault, docs/trials.md): the check cannot ask a drawn set to fix it, so it leaves them out
    assert ensemble.single_agent_failures({}, ["mp"], cycles=2) == ["melphalan", "prednisone"]
    res = run_trial(
        ["mp", "d"],
        "rrmm",
        patients=2,
        seed=0,
        cycles=2,
        step_hours=12.0,
        ensemble=3,
        toxicity=False,
        progress=False,
    )
    d = res.to_dict()
    assert d["ensemble"]["single_agent_unchecked"] == ["melphalan", "prednisone"]
    assert d["ensemble"]["members"] == 3
    assert any("not checked" in n and "melphalan, prednisone" in n for n in d["notes"])
