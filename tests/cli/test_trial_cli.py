"""`mmmech trial`: the JSON shape of issue 17, text, plot, journaled output, one-line errors."""

import json
import subprocess
import sys

from _helpers import NEUTRAL_CWD, assert_one_line_error

from mmmech.cli import main


def test_trial_json_text_plot_and_out(capsys, tmp_path):
    pic, out = tmp_path / "t.png", tmp_path / "t.json"
    argv = ["trial", "VRd", "Rd", "--population", "ndmm", "--patients", "2", "--seed", "1"]
    argv += ["--cycles", "1", "--plot", str(pic), "--out", str(out), "--quiet"]
    assert main([*argv, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert list(d)[:3] == ["population", "patients", "seed"]
    assert (d["population"], d["patients"], d["seed"]) == ("ndmm", 2, 1)
    assert [a["name"] for a in d["arms"]] == ["VRd", "Rd"]
    for a in d["arms"]:
        for k in ("orr", "vgpr_or_better", "cr_or_better", "median_pfs_months", "km"):
            assert k in a
    h = d["hazard_ratios"][0]
    assert (h["arm"], h["versus"]) == ("VRd", "Rd") and {"value", "low", "high"} <= set(h)
    assert isinstance(d["notes"], list) and d["notes"]
    assert pic.stat().st_size > 0
    assert json.loads(out.read_text()) == d
    assert not (tmp_path / "t.json.partial").exists()
    assert main(["trial", "Rd", "VRd", "--patients", "1", "--cycles", "1"]) == 0
    text = capsys.readouterr().out
    assert "ORR" in text and "HR Rd vs VRd" in text and "note: PFS" in text


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "mmmech", "trial", *args],
        capture_output=True,
        text=True,
        cwd=NEUTRAL_CWD,
        timeout=300,
    )


def test_trial_errors_are_one_line(tmp_path):
    assert_one_line_error(_cli("VRd", "Rd", "--patients", "0"), "patients")
    assert_one_line_error(_cli("VRdd", "Rd", "--patients", "1"), "unknown regimen", "vrd")
    assert_one_line_error(_cli("Rd", "--population", "ndm", "--patients", "1"), "ndmm")
    bad = tmp_path / "bad.toml"
    bad.write_text("[regimen]\nname = 'bad'\n")
    assert_one_line_error(_cli(str(bad), "--patients", "1"), "bad.toml")


def test_trial_report_embeds_the_json_result(capsys, tmp_path):
    import html
    import re

    page = tmp_path / "trial.html"
    argv = ["trial", "VRd", "Rd", "--patients", "2", "--seed", "3", "--cycles", "1"]
    assert main([*argv, "--report", str(page), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    text = page.read_text(encoding="utf-8")
    m = re.search(
        r'<script type="application/json" id="mmmech-document">(.*?)</script>', text, re.S
    )
    assert m is not None
    wrapped = json.loads(html.unescape(m.group(1)) if "&quot;" in m.group(1) else m.group(1))
    assert wrapped["kind"] == "trial"
    doc = wrapped["document"]
    assert [a["name"] for a in doc["arms"]] == [a["name"] for a in d["arms"]]
    assert [a["orr"] for a in doc["arms"]] == [a["orr"] for a in d["arms"]]
    assert not re.search(r"<script[^>]+src=", text)  # self-contained: no external scripts


def test_trial_follow_up_months_flag(capsys):
    argv = ["trial", "Rd", "--patients", "1", "--seed", "2", "--cycles", "1", "--quiet"]
    assert main([*argv, "--follow-up-months", "3", "--no-toxicity", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    # 3 months = 92 days: Rd (until progression) is given 3 whole 28-day cycles
    assert d["arms"][0]["cycles"] == 3
    assert d["follow_up_months"] == 92 * 12 / 365.25
    bad = _cli("Rd", "--patients", "1", "--follow-up-months", "0")
    assert_one_line_error(bad, "follow_up_months")
