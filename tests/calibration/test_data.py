"""The calibration and validation data: provenance, ranges, and the single-agent rule."""

import math

import pytest
import tomllib
from hypothesis import given
from hypothesis import strategies as st

from mmmech import calibration, regimens
from mmmech.calibration import data as cdata
from mmmech.exceptions import ModelFileError, UnknownNameError

ARMS = calibration.load_single_agent()
TRIALS = calibration.load_combination_trials()


def _ranges(values):
    for key in (*cdata.RATE_KEYS, *cdata.TIME_KEYS):
        v = values.get(key)
        lo, hi = values.get(f"{key}_low"), values.get(f"{key}_high")
        yield key, v, lo, hi


@pytest.mark.parametrize("arm", ARMS, ids=lambda a: a.id)
def test_every_arm_has_a_source_and_sane_numbers(arm):
    assert arm.sources or (arm.refs and not arm.verified)
    assert all(calibration.is_source_id(s) for s in arm.sources)
    for key, v, lo, hi in _ranges(arm.values):
        if v is None:
            continue
        if key in cdata.RATE_KEYS:
            assert 0.0 <= v <= 1.0
        else:
            assert v > 0
        assert (lo is None or lo <= v) and (hi is None or v <= hi)
    assert any(arm.value(k) is not None for k in (*cdata.RATE_KEYS, *cdata.TIME_KEYS))


@pytest.mark.parametrize("trial", TRIALS, ids=lambda t: t.id)
def test_every_trial_has_a_source_and_sane_numbers(trial):
    assert trial.sources or (trial.refs and not trial.verified)
    assert trial.setting in cdata.SETTINGS
    assert {a.role for a in trial.arms} == {"experimental", "control"}
    for arm in trial.arms:
        for key, v, lo, hi in _ranges(arm.values):
            if v is None:
                continue
            if key in cdata.RATE_KEYS:
                assert 0.0 <= v <= 1.0
            assert (lo is None or lo <= v) and (hi is None or v <= hi)
        if arm.regimen is not None:
            regimens.load(arm.regimen)  # names a bundled regimen
    if "hr" in trial.hr:
        assert trial.hr.get("hr_low", 0) <= trial.hr["hr"] <= trial.hr.get("hr_high", math.inf)


def test_the_issue_trials_are_all_recorded():
    ids = {t.id for t in TRIALS}
    for need in ("maia", "candor", "ikema", "boston", "bellini", "bellini_t11_14", "endurance",
                 "perseus", "tourmaline_mm2", "eloquent1"):  # fmt: skip
        assert need in ids


@pytest.mark.parametrize("arm", ARMS, ids=lambda a: a.id)
def test_calibration_data_contain_no_combination(arm):
    """One agent (or dexamethasone alone) in the record and in the simulated arm."""
    assert calibration.is_single_agent(arm.agents)
    spec = arm.regimen_spec()
    if spec is None:
        return
    reg = regimens.load(spec["regimen"])
    given = [d for d in reg.drugs if d not in spec.get("drop", [])]
    assert given == list(arm.agents)


def test_no_combination_trial_arm_is_calibration_data():
    """The validation trials' regimens never appear as calibration arms (no overlap by name)."""
    cal = {
        a.virtual_arm["regimen"] for a in ARMS if a.virtual_arm and not a.virtual_arm.get("drop")
    }
    combos = {a.regimen for t in TRIALS for a in t.arms if a.regimen}
    # a bundled regimen used whole for calibration must itself be single-agent
    for name in cal:
        assert len(regimens.load(name).drugs) == 1
    assert not (cal & combos)


@given(st.lists(st.sampled_from(["bortezomib", "dexamethasone", "lenalidomide", "daratumumab"]),
                min_size=1, max_size=4))  # fmt: skip
def test_single_agent_rule(agents):
    assert calibration.is_single_agent(agents) == (len(agents) == 1)


def _write(tmp_path, text, name="x.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = """
version = "1"
[[arm]]
id = "a"
trial = "T"
agents = ["bortezomib"]
setting = "rrmm"
orr = 0.3
sources = ["PMID:15958804"]
verified = true
"""


def test_a_user_file_loads(tmp_path):
    (arm,) = calibration.load_single_agent(_write(tmp_path, GOOD))
    assert arm.value("orr") == 0.3 and arm.regimen_spec() is None


@pytest.mark.parametrize(
    "change, needle",
    [
        (('agents = ["bortezomib"]', 'agents = ["lenalidomide", "dexamethasone"]'), "combination"),
        (("orr = 0.3", "orr = 30"), "fraction in [0, 1]"),
        (("orr = 0.3", "orr = 0.3\norr_low = 0.4"), "orr_low <= orr"),
        (('sources = ["PMID:15958804"]', 'sources = ["PubMed 15958804"]'), "not an identifier"),
        (('sources = ["PMID:15958804"]', "sources = []"), "needs a source"),
        (('setting = "rrmm"', 'setting = "rrm"'), "did you mean 'rrmm'"),
        (("orr = 0.3", "orrr = 0.3"), "unknown key 'orrr'"),
        (
            ("verified = true", 'verified = true\n[arm.virtual_arm]\nregimen = "vd"'),
            "not the arm's single",
        ),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, change, needle):
    p = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ModelFileError) as e:
        calibration.load_single_agent(p)
    msg = str(e.value)
    assert needle in msg and "\n" not in msg and str(p) in msg


def test_bad_toml_names_file_and_line(tmp_path):
    p = _write(tmp_path, GOOD.replace("orr = 0.3", "orr = = 0.3"))
    with pytest.raises(ModelFileError, match=r"x\.toml: not valid TOML.*line"):
        calibration.load_single_agent(p)


def test_combination_file_is_refused_as_calibration_data():
    path = cdata.data_path("trials", "combination_trials.toml")
    with pytest.raises(ModelFileError, match="validation only, never calibration data"):
        calibration.load_single_agent(str(path))


def test_unknown_bundled_name_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'single_agent'"):
        calibration.load_single_agent("single_agnt")


def test_bundled_files_are_valid_toml_with_versions():
    for folder, name in (
        ("calibration", "single_agent.toml"),
        ("trials", "combination_trials.toml"),
    ):
        doc = tomllib.loads(cdata.data_path(folder, name).read_text(encoding="utf-8"))
        assert doc["version"]
