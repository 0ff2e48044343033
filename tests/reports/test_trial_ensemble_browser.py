"""The trial report of a real tiny trial with a parameter ensemble (``mmmech report
RESULT.json``) in headless Chromium: the arm table's point estimates, intervals and ensemble
5th-95th percentiles, the hazard-ratio forest plot's ensemble band and table, the toxicity rates
(platelet model), the exposure settings and the ensemble's parameter table in the provenance
section equal the JSON. Skips without Chromium or playwright (conftest)."""

import json
import subprocess
import sys

import pytest
from _helpers import NEUTRAL_CWD
from _report_docs import assert_plots_drawn, trial_document

import mmmech.reports as rp
from mmmech.reports._trial import RATE_KEYS, TOX_KEYS
from mmmech.trials import run_trial

#: rrmm, 3 cycles: melphalan-prednisone and dexamethasone alone both progress (an estimable HR);
#: bortezomib-dexamethasone has the platelet model's thrombocytopenia rate
ARMS = ["mp", "d", "vd"]
KW = dict(population="rrmm", patients=5, seed=0, cycles=3, step_hours=12.0, ensemble=3)


@pytest.fixture(scope="module")
def trial_json(tmp_path_factory):
    d = run_trial(ARMS, progress=False, **KW).to_dict()
    path = tmp_path_factory.mktemp("trial") / "trial.json"
    path.write_text(json.dumps(d))
    return path, json.loads(path.read_text())


def _num(x):
    return None if x in ("", None) else float(x)


def test_tiny_ensemble_trial_report_shows_the_json(trial_json, tmp_path, open_report):
    src, doc = trial_json
    html = tmp_path / "trial.html"
    proc = subprocess.run(
        [sys.executable, "-m", "mmmech", "report", str(src), "--out", str(html)],
        capture_output=True, text=True, cwd=NEUTRAL_CWD, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    o = open_report(html)
    assert o.errors == []
    assert [u for u in o.requests if not u.startswith(("file:", "data:", "blob:"))] == []
    assert_plots_drawn(o, at_least=3)

    # arm table: point estimate, then the ensemble's 5th-95th percentile, per arm and metric
    for arm in doc["arms"]:
        for k in (*RATE_KEYS, "median_pfs_months"):
            sel = f"#arms tr[data-arm='{arm['name']}'] [data-key={k}]"
            assert _num(o.js(f'() => document.querySelector("{sel}").dataset.value')) == (
                pytest.approx(arm[k])
            )
            got = o.js(
                f'() => {{ const s = document.querySelector("{sel} [data-key={k}-ensemble]");'
                " return [s.dataset.low, s.dataset.high]; }"
            )
            assert [_num(g) for g in got] == pytest.approx(arm["ensemble"][k]), (arm["name"], k)
    # median PFS: its 95% CI beside the estimate where the arm reached a median
    for arm in doc["arms"]:
        if arm["median_pfs_months"] is not None:
            text = o.js(
                f"() => document.querySelector(\"#arms tr[data-arm='{arm['name']}'] "
                '[data-key=median_pfs_months]").textContent'
            )
            assert text.startswith(f"{arm['median_pfs_months']:.1f} [")

    # hazard ratios: point and CI trace, the ensemble band as a second trace, the table
    hrs = doc["hazard_ratios"]
    estimable = [h for h in hrs if h["ensemble"]["value"][0] is not None]
    assert estimable, "the tiny trial must have an estimable hazard ratio"
    names = o.js("() => document.getElementById('hazard').data.map(t => t.name)")
    assert names == ["parameter ensemble (5th-95th percentile)", "hazard ratio (95% CI)"]
    band = o.js(
        "() => { const t = document.getElementById('hazard').data[0];"
        " return [Array.from(t.x), Array.from(t.y)]; }"
    )
    want_x, want_y = [], []
    for h in estimable:
        want_x += [*h["ensemble"]["value"], None]
        want_y += [f"{h['arm']} vs {h['versus']}"] * 2 + [None]
    assert band[0] == pytest.approx(want_x) and band[1] == want_y
    point = o.js("() => Array.from(document.getElementById('hazard').data[1].x)")
    assert point == pytest.approx([h["value"] for h in hrs])
    cells = o.js(
        "() => Array.from(document.querySelectorAll('#hazard-ratios [data-key^=hr-ensemble]'))"
        ".map(td => [td.dataset.key, td.dataset.low, td.dataset.high])"
    )
    want = []
    for h in hrs:
        want += [
            ["hr-ensemble-pct", *h["ensemble"]["value"]],
            ["hr-ensemble-range", *h["ensemble"]["value_range"]],
        ]
    assert [[k, _num(lo), _num(hi)] for k, lo, hi in cells] == want  # the JSON's floats

    # toxicity table: every rate, thrombocytopenia from the platelet model for Vd
    vd = next(a for a in doc["arms"] if a["name"] == "vd")
    assert vd["toxicity"]["thrombocytopenia_drugs"] == ["bortezomib"]
    for arm in doc["arms"]:
        for k, _ in TOX_KEYS:
            v = o.js(
                f"() => document.querySelector(\"#toxicity tr[data-arm='{arm['name']}'] "
                f'[data-key={k}]").dataset.value'
            )
            assert _num(v) == pytest.approx(arm["toxicity"][k]), (arm["name"], k)

    # the exposure settings and the notes (PK variability, toxicity feedback)
    settings = dict(
        o.js(
            "() => Array.from(document.querySelectorAll('#settings li[data-value]'))"
            ".map(li => [li.dataset.setting, li.dataset.value])"
        )
    )
    assert settings == {"pk_variability": "True", "toxicity_feedback": "False"}
    notes = o.page.inner_text("#notes")
    assert "between-patient PK variability" in notes and "toxicity does not change" in notes

    # provenance: the ensemble's parameter table, each set's value
    rows = o.js(
        "() => Array.from(document.querySelectorAll('#provenance #ensemble-parameters tbody tr'))"
        ".map(r => [r.dataset.parameter, Array.from(r.querySelectorAll('[data-key=value]'))"
        ".map(td => td.dataset.value)])"
    )
    params = doc["ensemble"]["parameters"]
    assert [r[0] for r in rows] == [p["name"] for p in params]
    for (_, vals), p in zip(rows, params, strict=True):
        assert [float(v) for v in vals] == pytest.approx(p["values"])
        assert len(vals) == doc["ensemble"]["members"] == KW["ensemble"]
    shown = o.js(
        "() => Array.from(document.querySelectorAll('#provenance #ensemble-parameters tbody tr'))"
        ".map(r => Array.from(r.querySelectorAll('td')).slice(1, 4).map(td => td.textContent))"
    )
    for cells, p in zip(shown, params, strict=True):  # low, high, default as the JSON's (3 s.f.)
        assert [float(c) for c in cells] == pytest.approx(
            [p["low"], p["high"], p["default"]], rel=5e-3, abs=1e-12
        ), p["name"]
    links = o.js(
        "() => Array.from(document.querySelectorAll('#ensemble-parameters a')).map(a => a.href)"
    )
    assert any("doi.org/10.1111/j.1365-2184.1987.tb01313.x" in u for u in links)
    # the network's named parameters are sampled too, each with all its sources linked
    net = [p for p in params if p.get("kind") == "network"]
    assert any(p["name"] == "dex_nk_weight" for p in net)
    for p in net:
        srcs = o.js(
            f"() => Array.from(document.querySelectorAll("
            f"\"#ensemble-parameters tr[data-parameter='{p['name']}'] a\")).map(a => a.textContent)"
        )
        assert srcs == [*p["sources"], *p["contradicts"]], p["name"]


def test_report_without_ensemble_has_no_band_or_parameter_table():
    """The documented JSON (no ensemble, no settings): the report keeps its old shape."""
    text = rp.render_report(trial_document())
    assert "ensemble-parameters" not in text
    assert "parameter ensemble (5th-95th percentile)" not in text
    assert "hr-ensemble" not in text and "id='settings'" not in text
