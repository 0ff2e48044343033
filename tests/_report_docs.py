"""Helpers of the report tests (tests/reports/): result documents they build and the check
that every figure of a page was drawn."""

import itertools
import os
import shutil

import numpy as np

CHROMIUM = os.environ.get("MMMECH_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_missing():
    """Why the browser tests cannot run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        return (
            f"Chromium not found at {CHROMIUM} (which chromium: {found}); apt-get install chromium"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def trial_document():
    """A two-arm trial in the JSON shape of issue 17 (built here: `mmmech trial` is another
    change); the Kaplan-Meier records are computed from the event times below by hand."""

    def km(times, events, n):
        days, surv, risk = [], [], []
        s, at = 1.0, n
        for t in sorted(set(times)):
            d = sum(1 for x, e in zip(times, events, strict=True) if x == t and e)
            c = sum(1 for x, e in zip(times, events, strict=True) if x == t and not e)
            if d:
                s *= 1 - d / at
                days.append(float(t))
                surv.append(s)
                risk.append(at)
            at -= d + c
        return {"days": days, "survival": surv, "at_risk": risk}

    a_t = [60, 120, 200, 300, 420, 500, 610, 700, 800, 900]
    a_e = [1, 1, 0, 1, 1, 0, 1, 1, 0, 0]
    b_t = [30, 45, 90, 150, 180, 240, 330, 400, 450, 520]
    b_e = [1, 1, 1, 1, 0, 1, 1, 1, 1, 0]
    return {
        "population": "ndmm",
        "patients": 10,
        "seed": 7,
        "arms": [
            {
                "name": "vrd",
                "orr": 0.8,
                "vgpr_or_better": 0.5,
                "cr_or_better": 0.2,
                "median_pfs_months": 23.0,
                "intervals": {"orr": [0.7, 0.9], "median_pfs_months": [18.0, 29.5]},
                "km": km(a_t, a_e, 10),
                "responses": {"CR": 2, "VGPR": 3, "PR": 3, "SD": 1, "PD": 1},
            },
            {
                "name": "rd",
                "orr": 0.6,
                "vgpr_or_better": 0.3,
                "cr_or_better": 0.1,
                "median_pfs_months": 11.5,
                "km": km(b_t, b_e, 10),
                "responses": {"CR": 1, "VGPR": 2, "PR": 3, "MR": 1, "SD": 2, "PD": 1},
            },
        ],
        "hazard_ratios": [{"arm": "vrd", "versus": "rd", "value": 0.55, "low": 0.31, "high": 0.97}],
        "notes": ["constructed for the report tests"],
    }


def screen_frame(n_rows=500, contexts=("cell_line", "marrow"), seed=0):
    """A screen table of `n_rows` pair rows in the columns of ``mmmech screen`` with an
    ensemble (random scores: for size and speed only)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    per = n_rows // len(contexts)
    n_drugs = 2
    while n_drugs * (n_drugs - 1) // 2 < per:
        n_drugs += 1
    drugs = [f"drug{i:02d}" for i in range(n_drugs)]
    pairs = list(itertools.combinations(drugs, 2))[:per]
    rows = []
    for ctx in contexts:
        for rank, (a, b) in enumerate(pairs, 1):
            row = {
                "context": ctx,
                "rank": rank,
                "combination": f"{a} + {b}",
                "size": 2,
                "drug_1": a,
                "drug_2": b,
            }
            for m in ("bliss", "hsa", "loewe", "zip"):
                v = float(rng.normal(0, 5))
                row.update({m: v, f"{m}_mean": v, f"{m}_low": v - 1.5, f"{m}_high": v + 1.5})
            row.update(
                effect_combination=float(rng.uniform()),
                effect_best_single=0.5,
                doses_nM=f"{a}=1,10,100; {b}=1,10,100",
                members=8,
                converged=True,
                notes="",
            )
            rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs.update(
        rank_by="bliss_mean",
        config={"ensemble": 8, "seed": 3, "model": "myeloma"},
        notes=["synthetic table"],
    )
    return df


#: JavaScript: for each figure div, whether it was drawn with a non-empty SVG or canvas
PLOTS_DRAWN = """() => Array.from(document.querySelectorAll('.mmmech-plot')).map(d => {
  const canv = Array.from(d.querySelectorAll('canvas')).some(c => c.width > 0 && c.height > 0);
  const svg = d.querySelectorAll(
    'svg.main-svg .trace, svg.main-svg image, svg.main-svg .bars path').length;
  return [d.id, d.getAttribute('data-rendered') === '1', canv, svg];
})"""


def assert_plots_drawn(opened, at_least=1):
    rows = opened.js(PLOTS_DRAWN)
    assert len(rows) >= at_least, rows
    for div_id, rendered, canvas, svg in rows:
        assert rendered, f"{div_id} was not drawn"
        assert canvas or svg > 0, f"{div_id} is empty (no canvas, no SVG trace)"
