"""A virtual trial under a calibrated parameter file (run_trial(..., cohort_kwargs=...),
``mmmech trial --parameters NAME|FILE``): each patient's course equals a direct simulate_arm run
with the file's keywords, the file moves a patient's response the same way ``regimen simulate
--parameters`` moves it, the JSON and the journal fingerprint record it, errors are one line."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from _helpers import NEUTRAL_CWD

import mmmech
from mmmech import trials
from mmmech.calibration import cohort_kwargs, load_parameters
from mmmech.exceptions import InvalidInputError
from mmmech.trials import run as trial_run

NAME = "single_agent_fit"
KW = dict(
    population="ndmm", patients=2, seed=3, cycles=1, step_hours=12.0, toxicity=False,
    pk_variability=False, progress=False,
)  # fmt: skip


@pytest.fixture(scope="module")
def runs():
    ps = load_parameters(NAME)
    info = {"name": ps.name, "file": ps.origin, "version": ps.meta["version"]}
    fitted = trials.run_trial(["Rd"], cohort_kwargs=cohort_kwargs(ps), parameter_file=info, **KW)
    plain = trials.run_trial(["Rd"], **KW)
    return ps, fitted, plain


def test_each_course_equals_simulate_arm_with_the_files_keywords(runs):
    ps, fitted, _ = runs
    enrolled, _ = trials.enrol("ndmm", 2, 3)
    arm = fitted.arms[0]
    direct = trials.simulate_arm(
        "Rd",
        enrolled,
        cycles=arm.cycles,
        follow_up_days=fitted.follow_up_days,
        step_hours=12.0,
        **cohort_kwargs(ps),
    )
    np.testing.assert_allclose(arm.max_reduction, direct.max_reduction, rtol=1e-12)
    np.testing.assert_array_equal(arm.best_response, direct.best_response)
    np.testing.assert_allclose(arm.pfs_days, direct.pfs_days, rtol=1e-12)


def test_file_moves_each_patient_as_regimen_simulate_does(runs):
    """Differential: per patient, (file - defaults) of the deepest M-protein reduction in the
    trial equals that of simulate_regimen(patient=...) with the file's keywords. The regimen
    course is given the file's tumour with the patient's isotype and M-protein (a trial keeps
    them per patient; simulate_regimen's tumour= replaces them, its note says so)."""
    ps, fitted, plain = runs
    d_trial = fitted.arms[0].max_reduction - plain.arms[0].max_reduction
    assert np.all(np.abs(d_trial) > 1e-3), d_trial  # the file changes every course
    kw = cohort_kwargs(ps)
    enrolled, _ = trials.enrol("ndmm", 2, 3)
    for j, p in enumerate(enrolled):
        base = mmmech.simulate_regimen("Rd", cycles=1, patient=p, step_hours=12.0)
        tumour = dataclasses.replace(kw["tumour"], isotype=p.isotype, m0_g_per_dL=p.m_protein_g_dL)
        moved = mmmech.simulate_regimen(
            "Rd", cycles=1, patient=p, step_hours=12.0, **{**kw, "tumour": tumour}
        )
        d_reg = moved.response.max_reduction - base.response.max_reduction
        assert d_reg == pytest.approx(d_trial[j], abs=1e-9), (p.id, d_reg, d_trial[j])
        assert moved.best_response == fitted.arms[0].best_response[j]


def test_json_records_the_file_and_defaults_do_not(runs):
    ps, fitted, plain = runs
    d = fitted.to_dict()
    assert d["parameter_files"] == [{"name": NAME, "file": ps.origin, "version": "1"}]
    assert d["settings"]["parameters"] == d["parameter_files"][0]
    assert any(NAME in n and "version 1" in n for n in d["notes"])
    p = plain.to_dict()
    assert "parameter_files" not in p and p["settings"]["parameters"] is None
    assert not any(NAME in n for n in p["notes"])


def test_fingerprint_includes_the_file():
    spec = trial_run._TrialSpec(
        arms=("Rd",), names=("Rd",), population=mmmech.populations.load("ndmm"), seed=0,
        cycles=(1,), follow_up_days=28.0, context="marrow", model="myeloma", step_hours=12.0,
        backend="auto",
    )  # fmt: skip
    fp, _ = trial_run._fingerprint(spec, [0, 1])
    ck = tuple(sorted(cohort_kwargs(NAME).items()))
    info = {"name": NAME, "file": "calibration/single_agent_fit.toml", "version": "1"}
    fp2, config = trial_run._cohort_fingerprint(fp, {}, ck, info)
    assert fp2 != fp and config["parameter_file"] == info
    fp3, _ = trial_run._cohort_fingerprint(fp, {}, ck, {**info, "version": "2"})
    assert fp3 != fp2


def test_errors_are_one_line():
    with pytest.raises(InvalidInputError, match="cohort_kwargs: unknown keyword 'tumor'"):
        trials.run_trial(["Rd"], cohort_kwargs={"tumor": None}, **KW)
    with pytest.raises(InvalidInputError, match="cannot be combined"):
        trials.run_trial(["Rd"], cohort_kwargs=cohort_kwargs(NAME), ensemble=2, **KW)
    with pytest.raises(InvalidInputError, match="parameter_file needs cohort_kwargs"):
        trials.run_trial(["Rd"], parameter_file={"name": "x"}, **KW)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "mmmech", "trial", *args],
        capture_output=True, text=True, cwd=NEUTRAL_CWD, timeout=300,
    )  # fmt: skip


def test_cli_unknown_name_suggests_close_matches():
    proc = _cli("Rd", "--patients", "1", "--cycles", "1", "--parameters", "single_agent_fitt")
    assert proc.returncode != 0
    lines = [x for x in proc.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1, proc.stderr
    assert "single_agent_fitt" in lines[0] and "'single_agent_fit'" in lines[0]
    proc = _cli("Rd", "--ensemble", "2", "--parameters", NAME)
    assert proc.returncode != 0 and "--ensemble" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_parameters_recorded_in_json(tmp_path):
    out = tmp_path / "t.json"
    proc = _cli(
        "Rd", "--patients", "1", "--cycles", "1", "--seed", "3", "--no-toxicity",
        "--no-pk-variability", "--parameters", NAME, "--out", str(out), "--json", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    d = json.loads(out.read_text())
    assert d["parameter_files"][0]["name"] == NAME
    assert d["parameter_files"][0]["file"] == "calibration/single_agent_fit.toml"
    assert d["settings"]["parameters"]["version"] == "1"
