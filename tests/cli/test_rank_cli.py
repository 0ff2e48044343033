"""`mmmech rank` and `regimen simulate --toxicity`: JSON shape, text, one-line errors."""

import json
import subprocess
import sys

import pytest
from _helpers import NEUTRAL_CWD, assert_one_line_error

from mmmech import ranking
from mmmech.cli import _rank, main

FAST = ["--cycles", "1", "--ensemble", "2", "--step-hours", "12"]


def _run(*argv):
    return subprocess.run(
        [sys.executable, "-m", "mmmech", *argv],
        cwd=NEUTRAL_CWD,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_rank_json_shape(capsys):
    assert main(["rank", "--patient", "example", "--regimens", "rd", "kd", *FAST, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= {"patient", "regimens", "notes"}
    assert [r["rank"] for r in d["regimens"]] == [1, 2]
    for r in d["regimens"]:
        assert set(r) >= {"name", "rank", "best_response", "pfs_months", "toxicity", "drivers"}
    assert any("research use only" in n for n in d["notes"])
    assert main(["rank", "--patient", "example", "--regimens", "rd", *FAST]) == 0
    text = capsys.readouterr().out
    assert "research use only" in text and "rd" in text


def test_cli_defaults_agree_with_the_library():
    assert _rank.DEFAULT_CYCLES == ranking.DEFAULT_CYCLES
    assert _rank.DEFAULT_ENSEMBLE == ranking.DEFAULT_ENSEMBLE
    assert _rank.DEFAULT_STEP_HOURS == ranking.DEFAULT_STEP_HOURS


def test_rank_bad_patient_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nage = 67\nweight_kg = "heavy"\n', encoding="utf-8")
    assert_one_line_error(_run("rank", "--patient", str(bad), "--regimens", "rd"), "line 3")
    assert_one_line_error(_run("rank", "--patient", "exampel"), "example")
    assert_one_line_error(
        _run("rank", "--patient", "example", "--regimens", "rdd"), "did you mean 'rd'"
    )
    assert_one_line_error(_run("rank", "--patient", "example", "--report", "x.md"), "--report")


def test_rank_report_option_writes_a_rank_report(tmp_path, capsys):
    out = tmp_path / "rank.html"
    argv = ["rank", "--patient", "example", "--regimens", "rd", *FAST, "--report", str(out)]
    assert main([*argv, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    html = out.read_text(encoding="utf-8")
    assert '<meta name="mmmech-report-kind" content="rank">' in html
    assert "Research use only, not for clinical decisions" in html
    assert f"data-value='{float(d['regimens'][0]['pfs_months'])!r}'" in html


def test_regimen_simulate_toxicity_json(capsys):
    argv = ["regimen", "simulate", "rd", "--cycles", "2", "--step-hours", "12"]
    assert main([*argv, "--patient", "example", "--toxicity", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    t = d["toxicity"]
    assert len(t["cycles"]) == 2
    assert t["renal"]["label_dose_mg"] == 10.0  # example patient: CrCl 45 mL/min
    assert t["anc"]["nadir_10e9_L"] <= t["anc"]["baseline_10e9_L"]
    assert set(t) >= {"dose_reductions", "holds", "discontinued", "actions"}
    assert main([*argv, "--json"]) == 0
    assert "toxicity" not in json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_rank_example_default_from_the_command_line():
    """The issue's command with its defaults (about 30 s on a loaded 2-core machine)."""
    p = _run("rank", "--patient", "example", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert len(d["regimens"]) >= 10
    assert all(r["drivers"] for r in d["regimens"][:3])
