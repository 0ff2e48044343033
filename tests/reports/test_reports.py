"""Reports without a browser: kinds told from documents, one-line errors, atomic writes, the
page self-contained, saved results re-rendered, the numbers at risk of a Kaplan-Meier record."""

import json
import os
import re
import subprocess
import sys

import pytest
from _helpers import NEUTRAL_CWD, assert_one_line_error
from _report_docs import browser_missing, screen_frame, trial_document

import mmmech
import mmmech.reports as rp
from mmmech.exceptions import InvalidInputError
from mmmech.reports._common import source_link
from mmmech.reports._trial import at_risk


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "mmmech", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=NEUTRAL_CWD,
        timeout=300,
    )


def _embedded(html):
    m = re.search(
        r'<script type="application/json" id="mmmech-document">(.*?)</script>', html, re.S
    )
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def pair():
    return mmmech.score(["bortezomib", "lenalidomide"], context="cell_line", points=3)


def test_kinds_are_told_from_the_documents(pair):
    assert rp.detect_kind(pair.to_dict()) == "score"
    assert rp.detect_kind([{"block_id": 1, "drugs": ["a", "b"], "scores": {}}]) == "score"
    assert rp.detect_kind(trial_document()) == "trial"
    assert rp.detect_kind({"regimen": "vrd", "m_protein": {}, "cycles": 1}) == "regimen"
    assert rp.detect_kind(rp.document(screen_frame(4))) == "screen"
    with pytest.raises(InvalidInputError, match="cannot tell what kind") as exc:
        rp.detect_kind({"rows": 3})
    assert "\n" not in str(exc.value)


def test_unknown_and_unreadable_results_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert_one_line_error(_cli("report", bad, "--out", tmp_path / "r.html"), "cannot tell")
    broken = tmp_path / "broken.json"
    broken.write_text('{"arms": [\n 1,,]}')
    assert_one_line_error(_cli("report", broken, "--out", tmp_path / "r.html"), "line 2")
    assert_one_line_error(_cli("report", bad, "--out", tmp_path / "r.png"), ".html")
    txt = tmp_path / "x.txt"
    txt.write_text("x")
    assert_one_line_error(_cli("report", txt, "--out", tmp_path / "r.html"), ".json")
    assert not (tmp_path / "r.html").exists()


def test_report_path_is_checked_before_the_work(tmp_path):
    proc = _cli("score", "bortezomib", "lenalidomide", "--report", tmp_path / "no" / "x.html")
    assert_one_line_error(proc, "does not exist")
    os.mkfifo(tmp_path / "fifo.html")
    proc = _cli("regimen", "simulate", "vrd", "--cycles", "1", "--report", tmp_path / "fifo.html")
    assert_one_line_error(proc, "named pipe")


def test_written_atomically_and_self_contained(tmp_path, pair):
    path = tmp_path / "r.html"
    path.write_text("old report")
    with pytest.raises(InvalidInputError):
        rp.write_report({"arms": []}, path)  # refused while rendering: the old file stays
    assert path.read_text() == "old report"
    rp.write_report(pair, path)
    assert sorted(os.listdir(tmp_path)) == ["r.html"]  # no temporary file left behind
    html = path.read_text(encoding="utf-8")
    # nothing fetched from the network: no external script, style sheet or font
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']https?:", html)
    from plotly.offline import get_plotlyjs

    assert html.count(get_plotlyjs()[:2000]) == 1  # plotly.js embedded once
    doc = _embedded(html)
    assert doc["kind"] == "score"
    assert doc["document"]["scores"] == pytest.approx(pair.scores)


def test_a_saved_full_document_gives_the_same_report(tmp_path, pair):
    saved = tmp_path / "vr.json"
    saved.write_text(json.dumps(rp.score_document(pair)))
    out = tmp_path / "vr.html"
    proc = _cli("report", saved, "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"out": str(out), "kind": "score", "result": str(saved)}
    html = out.read_text(encoding="utf-8")
    assert html.count('class="mmmech-plot"') == 2 + len(pair.scores)  # curves, surface, maps
    assert f"mmmech report {saved} --out {out}" in html


def test_plain_score_json_reports_what_it_holds(tmp_path, pair):
    html = rp.render_report(pair.to_dict())  # `mmmech score --json`: no grids
    assert "holds no dose-response grid" in html
    for v in pair.scores.values():
        assert f">{v:.2f}</td>" in html


def test_screen_json_finds_its_table(tmp_path):
    table = tmp_path / "s.parquet"
    df = screen_frame(6)
    df.to_parquet(table)
    saved = tmp_path / "s.json"
    top = df.head(2).to_dict(orient="records")
    saved.write_text(json.dumps({"out": str(table), "rank_by": "bliss_mean", "top": top}))
    assert len(rp.load_result(saved)["rows"]) == 6  # the whole table, not the top rows
    table.unlink()
    doc = rp.load_result(saved)
    assert len(doc["rows"]) == 2 and "was not found" in doc["notes"][-1]


def test_screen_table_without_screen_columns_is_refused(tmp_path):
    import pandas as pd

    p = tmp_path / "x.csv"
    pd.DataFrame({"a": [1]}).to_csv(p, index=False)
    with pytest.raises(InvalidInputError, match="not a screen table"):
        rp.load_result(p)


def test_numbers_at_risk_from_a_kaplan_meier_record():
    km = trial_document()["arms"][0]["km"]  # events on days 60, 120, 300, 420, 610, 700
    assert at_risk(km, 0) == 10
    assert at_risk(km, 100) == 9  # the day-60 event has left
    assert at_risk(km, 250) == 7  # and the day-120 event and the day-200 censoring
    assert at_risk(km, 700) == 3


def test_trial_report_lists_regimen_sources(tmp_path):
    html = rp.render_report(trial_document())
    vrd = mmmech.regimens.load("vrd")
    for s in vrd.sources:
        if s.startswith("PMID:"):
            assert source_link(s)["url"] in html
    assert "Numbers at risk" in html


def test_source_links():
    assert source_link("PMID:24292625")["url"] == "https://pubmed.ncbi.nlm.nih.gov/24292625/"
    assert source_link("DOI:10.1186/1752-0509-4-157")["url"].startswith("https://doi.org/10.1186")
    assert source_link("NCT02252172")["url"] == "https://clinicaltrials.gov/study/NCT02252172"
    assert source_link("a note")["url"] is None


def test_ci_has_the_browser():
    """In CI (.ci/run sets MMMECH_REQUIRE_BROWSER=1) Chromium and playwright must be there."""
    if os.environ.get("MMMECH_REQUIRE_BROWSER") != "1":
        pytest.skip("not in CI (MMMECH_REQUIRE_BROWSER is not 1)")
    assert browser_missing() is None, browser_missing()
