"""The rank report (``mmmech rank --report``, ``mmmech report rank.json``) without a browser:
the kind told from the document, the numbers in the page equal the JSON, the research-use
statement first, provenance from the regimens, one-line errors."""

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from _helpers import NEUTRAL_CWD, assert_one_line_error

import mmmech
import mmmech.reports as rp
from mmmech.exceptions import InvalidInputError
from mmmech.reports._common import fmt
from mmmech.reports._rank import RESPONSE_DEPTH

#: a small real run: 2 regimens, 2 cycle equivalents, 3 members, coarse steps (a few seconds)
SMALL = {"cycles": 2, "ensemble": 3, "step_hours": 12.0, "top": 2, "seed": 1}


@pytest.fixture(scope="module")
def rank_doc():
    return mmmech.rank("example", ["rd", "kd"], **SMALL).to_dict()


class _Cells(HTMLParser):
    """``{(regimen, data-key): (data-value, text)}`` of the ranking table's cells."""

    def __init__(self):
        super().__init__()
        self.cells, self._reg, self._key, self._val, self._text = {}, None, None, None, []
        self._in_ranking = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._in_ranking = a.get("id") == "ranking"
        elif tag == "tr" and self._in_ranking:
            self._reg = a.get("data-regimen")
        elif tag == "td" and self._in_ranking and self._reg and "data-key" in a:
            self._key, self._val, self._text = a["data-key"], a.get("data-value"), []

    def handle_data(self, data):
        if self._key:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._key:
            self.cells[(self._reg, self._key)] = (self._val, "".join(self._text).strip())
            self._key = None
        elif tag == "table":
            self._in_ranking = False


def _embedded(html):
    m = re.search(
        r'<script type="application/json" id="mmmech-document">(.*?)</script>', html, re.S
    )
    return json.loads(m.group(1))


def test_the_kind_is_told_from_a_rank_document(rank_doc):
    assert rp.detect_kind(rank_doc) == "rank"
    assert "rank" in rp.KINDS
    # a patient without ranked regimens is not a rank document
    with pytest.raises(InvalidInputError, match="cannot tell what kind") as exc:
        rp.detect_kind({"patient": {}, "regimens": [{"name": "rd"}]})
    assert "\n" not in str(exc.value) and "rank (patient, regimens)" in str(exc.value)
    with pytest.raises(InvalidInputError, match="rank document"):
        rp.render_report({"arms": []}, kind="rank")


def test_numbers_in_the_page_equal_the_json(rank_doc):
    html = rp.render_report(rank_doc, command=["rank", "--patient", "example"])
    assert _embedded(html) == {"kind": "rank", "document": json.loads(json.dumps(rank_doc))}
    parser = _Cells()
    parser.feed(html)
    cells = parser.cells
    assert {reg for reg, _ in cells} == {r["name"] for r in rank_doc["regimens"]}
    for r in rank_doc["regimens"]:
        n, tox = r["name"], r["toxicity"]
        assert cells[(n, "rank")] == (repr(float(r["rank"])), str(r["rank"]))
        val, text = cells[(n, "pfs_months")]
        assert float(val) == r["pfs_months"]
        assert text == fmt(r["pfs_months"]) + ("+" if r["pfs_censored"] else "")
        val, text = cells[(n, "m_protein_reduction")]
        assert float(val) == r["m_protein_reduction"]
        assert text == f"{100 * r['m_protein_reduction']:.1f}%"
        lo, hi = r["m_protein_reduction_interval"]
        assert cells[(n, "m_protein_reduction_interval")][1] == (
            f"[{100 * lo:.1f}%, {100 * hi:.1f}%]"
        )
        lo, hi = r["pfs_months_interval"]
        assert cells[(n, "pfs_months_interval")][1] == f"[{fmt(lo)}, {fmt(hi)}]"
        assert cells[(n, "best_response")] == (
            str(RESPONSE_DEPTH[r["best_response"]]),
            r["best_response"],
        )
        for k in ("burden", "p_grade3_neutropenia", "p_grade2_neuropathy", "p_discontinuation"):
            val, text = cells[(n, k)]
            assert float(val) == tox[k] and text == fmt(tox[k], 3)
    # the page order: research use first, then the patient, the ranking, plots, drivers
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids[:3] == ["research-use-section", "patient-section", "ranking-section"]
    assert "Research use only, not for clinical decisions" in html
    assert "research use only" in html.split("<main>")[0].lower()  # in the title too
    # the patient's contexts, CrCl and health are shown
    p = rank_doc["patient"]
    assert f"<td data-key='crcl_ml_min'>{p['body']['crcl_ml_min']:.0f}</td>" in html
    assert f"<td data-key='contexts'>{', '.join(p['contexts'])}</td>" in html
    for k, v in p["health"].items():
        assert f"<td data-key='health.{k}'>{v}</td>" in html
    # one drivers chart per explained regimen, with its drop-one-drug deltas
    explained = [r for r in rank_doc["regimens"] if r["drivers"]]
    assert len(explained) == SMALL["top"]
    for r in explained:
        assert f'id="drivers-{r["rank"]}"' in html and f'id="nodes-{r["rank"]}"' in html
        spec = re.search(rf'data-for="drivers-{r["rank"]}">(.*?)</script>', html, re.S).group(1)
        bars = json.loads(spec)["data"][0]
        deltas = [d for d in r["drivers"] if d["kind"] in ("drug", "context")]
        assert bars["x"] == pytest.approx([100 * d["delta_m_protein_reduction"] for d in deltas])
    # provenance: the regimens' drugs and sources, the seed of the run, the command
    assert '<td id="meta-seed">1</td>' in html
    assert "mmmech rank --patient example" in html
    for drug in ("lenalidomide", "carfilzomib", "dexamethasone"):
        assert f"<tr><td>{drug}</td>" in html


def test_report_command_and_rank_report_option(tmp_path, rank_doc):
    saved = tmp_path / "rank.json"
    saved.write_text(json.dumps(rank_doc), encoding="utf-8")
    out = tmp_path / "rank.html"
    proc = subprocess.run(
        [sys.executable, "-m", "mmmech", "report", str(saved), "--out", str(out), "--json"],
        capture_output=True, text=True, cwd=NEUTRAL_CWD, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["kind"] == "rank"
    assert _embedded(out.read_text(encoding="utf-8"))["document"] == rank_doc
    bad = tmp_path / "bad.json"
    bad.write_text('{"patient": {"name": "x"}, "regimens": 3}', encoding="utf-8")
    assert_one_line_error(
        subprocess.run(
            [sys.executable, "-m", "mmmech", "report", str(bad), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=NEUTRAL_CWD,
            timeout=300,
        ),  # fmt: skip
        "cannot tell",
    )
