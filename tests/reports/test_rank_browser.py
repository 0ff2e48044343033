"""The rank report in headless Chromium (tests/reports/test_browser.py's checks for the other
kinds): no console errors, no network request, every figure drawn, the ranking table sorts on
a header click, and the numbers shown equal the JSON of a small real `mmmech rank` run."""

import json
import subprocess
import sys

import pytest
from _helpers import NEUTRAL_CWD
from _report_docs import assert_plots_drawn

#: a small real run: 2 regimens, 2 cycle equivalents, 3 members, coarse steps (a few seconds)
FAST = ["--cycles", "2", "--ensemble", "3", "--step-hours", "12", "--top", "2", "--seed", "1"]


def _cells(opened, key):
    return opened.js(
        "(k) => Array.from(document.querySelectorAll('#ranking tbody [data-key=' + k + ']'))"
        ".map(td => [td.getAttribute('data-value'), td.textContent.trim()])",
        key,
    )


def test_rank_report_in_the_browser(tmp_path, open_report):
    out = tmp_path / "rank.html"
    proc = subprocess.run(
        [sys.executable, "-m", "mmmech", "rank", "--patient", "example", "--regimens", "rd",
         "kd", *FAST, "--json", "--report", str(out)],
        capture_output=True, text=True, cwd=NEUTRAL_CWD, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    regs = doc["regimens"]
    o = open_report(out)
    assert o.errors == []
    outside = [u for u in o.requests if not u.startswith(("file:", "data:", "blob:"))]
    assert outside == []
    # PFS, reduction, toxicity, and a deltas and a nodes chart per explained regimen
    assert_plots_drawn(o, at_least=3 + 2 * 2)
    assert o.document()["document"] == doc
    # the research-use statement is visible at the top of the page
    assert o.page.is_visible("#research-use")
    assert "Research use only" in o.page.inner_text("#research-use")
    # the numbers shown are the JSON's, in rank order
    shown = _cells(o, "pfs_months")
    assert [float(v) for v, _ in shown] == [r["pfs_months"] for r in regs]
    shown = _cells(o, "m_protein_reduction")
    assert [float(v) for v, _ in shown] == [r["m_protein_reduction"] for r in regs]
    assert [t for _, t in shown] == [f"{100 * r['m_protein_reduction']:.1f}%" for r in regs]
    burden = [r["toxicity"]["burden"] for r in regs]
    assert [float(v) for v, _ in _cells(o, "burden")] == burden
    # the bars are the JSON's numbers
    bars = o.js("() => Array.from(document.getElementById('reduction').data[0].y)")
    assert bars == pytest.approx([100 * r["m_protein_reduction"] for r in regs])
    # a header click sorts (descending first for the reduction), a second click reverses
    o.page.click("#ranking th[data-col='M-protein reduction']")
    vals = [float(v) for v, _ in _cells(o, "m_protein_reduction")]
    assert vals == sorted((r["m_protein_reduction"] for r in regs), reverse=True)
    o.page.click("#ranking th[data-col='M-protein reduction']")
    vals = [float(v) for v, _ in _cells(o, "m_protein_reduction")]
    assert vals == sorted(r["m_protein_reduction"] for r in regs)
    # lower burden first on the first click, then the ranks back in order
    o.page.click("#ranking th[data-col='toxicity burden']")
    assert [float(v) for v, _ in _cells(o, "burden")] == sorted(burden)
    o.page.click("#ranking th[data-col='rank']")
    assert [int(float(v)) for v, _ in _cells(o, "rank")] == [1, 2]
    # the filter keeps the matching regimen only
    o.page.fill("input[data-filter=ranking]", "kd")
    visible = o.js(
        "() => Array.from(document.querySelectorAll('#ranking tbody tr'))"
        ".filter(r => r.style.display !== 'none').map(r => r.getAttribute('data-regimen'))"
    )
    assert visible == ["kd"]
