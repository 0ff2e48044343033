"""The screen report: a sortable, filterable ranking with intervals, a heat map of pair scores
per context, and a link from each row to its detail panel.

A screen table (``mmmech screen --out FILE``) holds one row per combination and context, not
the dose-response surfaces; each row's link opens its detail panel (every column of the row,
the doses and notes). ``mmmech score DRUG DRUG --report`` draws one combination's surface.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

from ..exceptions import InvalidInputError
from ._common import esc, figure_html, fmt, notes_html

__all__ = ["screen_document", "screen_sections", "read_screen_table"]

METRICS = ("bliss", "hsa", "loewe", "zip")


def _plain_rows(df: Any) -> list[dict[str, Any]]:
    rows = []
    for r in df.to_dict(orient="records"):
        out = {}
        for k, v in r.items():
            item = getattr(v, "item", None)
            v = item() if callable(item) else v
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            out[str(k)] = v
        rows.append(out)
    return rows


def screen_document(df: Any, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The report document of a screen table (a DataFrame from :func:`mmmech.screen`, with its
    ``attrs`` or the Parquet file's ``mmmech`` metadata as `meta`)."""
    at = dict(meta if meta is not None else getattr(df, "attrs", {}) or {})
    cfg = at.get("config") or {}
    return {
        "kind": "screen",
        "rows": _plain_rows(df),
        "columns": [str(c) for c in df.columns],
        "rank_by": at.get("rank_by"),
        "config": cfg,
        "notes": list(at.get("notes") or []),
        "seed": cfg.get("seed"),
        "ensemble": cfg.get("ensemble"),
    }


def read_screen_table(path: str, func: str = "report") -> dict[str, Any]:
    """A screen table file (.parquet, .pq or .csv) as a report document."""
    # deferred: pandas loads only when a table is read
    import pandas as pd

    ext = os.path.splitext(path)[1].lower()
    label = func if " " in func else f"{func}()"
    meta: dict[str, Any] = {}
    try:
        if ext in (".parquet", ".pq"):
            import pyarrow.parquet as pq  # deferred: as above

            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(b"mmmech")
            if raw:
                meta = json.loads(raw.decode("utf-8"))
            df = table.to_pandas()
        else:
            df = pd.read_csv(path, float_precision="round_trip")  # every bit written
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise InvalidInputError(f"{label}: cannot read the table {path!r}: {exc}") from None
    missing = [c for c in ("context", "rank", "combination") if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"{label}: {path!r} is not a screen table (mmmech screen --out): it has no "
            f"column(s) {', '.join(missing)}; columns: {list(df.columns)[:8]}"
        )
    if "notes" in df.columns:
        df["notes"] = df["notes"].fillna("")
    return screen_document(df, meta)


def _rank_col(doc: Mapping[str, Any]) -> str:
    rc = doc.get("rank_by")
    cols = doc.get("columns") or list((doc.get("rows") or [{}])[0])
    if rc in cols:
        return str(rc)
    for m in METRICS:
        if f"{m}_mean" in cols:
            return f"{m}_mean"
    for m in METRICS:
        if m in cols:
            return m
    raise InvalidInputError("report(): the screen table has no metric column (bliss, hsa, ...)")


def _num_cell(v: Any, key: str) -> str:
    val = "" if v is None else repr(float(v)) if isinstance(v, (int, float)) else esc(v)
    return f"<td class='num' data-key='{key}' data-value='{val}'>{fmt(v)}</td>"


def _table_html(doc: Mapping[str, Any]) -> str:
    rows = doc["rows"]
    cols = doc.get("columns") or list(rows[0])
    metrics = [m for m in METRICS if m in cols]
    ens = any(f"{m}_mean" in cols for m in metrics)
    head = ["rank", "context", "combination", "size"]
    for m in metrics:
        head += [m] + ([f"{m} mean", f"{m} interval"] if ens else [])
    head += ["effect", "best single", "converged", "detail"]
    contexts = list(dict.fromkeys(str(r.get("context")) for r in rows))
    out = [
        "<div class='controls'>filter: <input type='search' data-filter='ranking' "
        "placeholder='drug, context ...' aria-label='filter rows'>"
        "context: <select data-filter='ranking' data-attr='data-context' "
        "aria-label='context'><option value=''>all</option>"
        + "".join(f"<option>{esc(c)}</option>" for c in contexts)
        + "</select><span data-count='ranking'></span> "
        "<span class='small'>(click a column header to sort)</span></div>",
        "<table class='tbl sortable' id='ranking'><thead><tr>",
    ]
    out += [
        f"<th data-col='{esc(h)}'"
        + (" data-first='ascending'" if h in ("rank", "context", "combination", "size") else "")
        + f">{esc(h)}</th>"
        for h in head
    ]
    out.append("</tr></thead><tbody>")
    for i, r in enumerate(rows):
        cells = [
            f"<td class='num' data-key='rank' data-value='{esc(r.get('rank'))}'>"
            f"{esc(r.get('rank'))}</td>",
            f"<td>{esc(r.get('context'))}</td>",
            f"<td>{esc(r.get('combination'))}</td>",
            f"<td class='num' data-value='{r.get('size')}'>{esc(r.get('size'))}</td>",
        ]
        for m in metrics:
            cells.append(_num_cell(r.get(m), m))
            if ens:
                lo, hi = r.get(f"{m}_low"), r.get(f"{m}_high")
                cells.append(_num_cell(r.get(f"{m}_mean"), f"{m}_mean"))
                cells.append(
                    f"<td class='num' data-key='{m}_interval' "
                    f"data-value='{'' if lo is None else repr(float(lo))}'>"
                    f"[{fmt(lo)}, {fmt(hi)}]</td>"
                )
        cells.append(_num_cell(r.get("effect_combination"), "effect_combination"))
        cells.append(_num_cell(r.get("effect_best_single"), "effect_best_single"))
        conv = r.get("converged")
        cells.append(f"<td>{'yes' if conv in (True, None) else 'no'}</td>")
        cells.append(f"<td><a href='#row-{i}'>row {i + 1}</a></td>")
        out.append(
            f"<tr id='tr-{i}' data-row='{i}' data-context='{esc(r.get('context'))}'>"
            + "".join(cells)
            + "</tr>"
        )
    out.append("</tbody></table>")
    if ens:
        out.append(
            "<p class='small'>mean and interval: ensemble mean and central percentile interval "
            "over the model variants (set 0 = the curated model); the metric column is the "
            "curated model's score. Rows are ranked by the ensemble mean.</p>"
        )
    out.append(
        "<p class='small'>Scores: percent inhibition, observed minus expected (SynergyFinder "
        "conventions), positive = synergy. Effect: fractional inhibition of viability at the "
        "highest doses.</p>"
    )
    return "".join(out)


def _details_html(doc: Mapping[str, Any]) -> str:
    out = [
        "<p class='small'>The table holds no dose-response surfaces; each row's link opens its "
        "panel here. Draw one combination's surface with <code>mmmech score DRUG DRUG "
        "--context C --report FILE.html</code>.</p>"
    ]
    for i, r in enumerate(doc["rows"]):
        items = "".join(
            f"<tr><th>{esc(k)}</th><td>{esc(fmt(v, 4) if isinstance(v, float) else v)}</td></tr>"
            for k, v in r.items()
        )
        out.append(
            f"<div class='detail' id='row-{i}'><h3>row {i + 1}: {esc(r.get('combination'))} "
            f"({esc(r.get('context'))}), rank {esc(r.get('rank'))}</h3>"
            f"<table class='tbl'><tbody>{items}</tbody></table>"
            "<p><a href='#ranking'>back to the ranking</a></p></div>"
        )
    return "".join(out)


def _heatmaps_html(doc: Mapping[str, Any], rank_col: str) -> str:
    import numpy as np  # deferred: only for the heat map

    # deferred: plotly is only needed once a report is written
    import plotly.graph_objects as go

    pairs = [r for r in doc["rows"] if r.get("size") == 2 and r.get("drug_1") and r.get("drug_2")]
    if not pairs:
        return "<p>No drug pairs in this screen (only combinations of three or more drugs).</p>"
    out = []
    for n, ctx in enumerate(dict.fromkeys(r["context"] for r in pairs)):
        rows = [r for r in pairs if r["context"] == ctx]
        names = list(dict.fromkeys([r["drug_1"] for r in rows] + [r["drug_2"] for r in rows]))
        ix = {d: i for i, d in enumerate(names)}
        z = np.full((len(names), len(names)), np.nan)
        for r in rows:
            v = r.get(rank_col)
            v = np.nan if v is None else float(v)
            z[ix[r["drug_1"]], ix[r["drug_2"]]] = z[ix[r["drug_2"]], ix[r["drug_1"]]] = v
        lim = max(1.0, float(np.nanmax(np.abs(z)))) if np.isfinite(z).any() else 1.0
        fig = go.Figure(
            go.Heatmap(
                z=z,
                x=names,
                y=names,
                colorscale="RdBu_r",
                zmin=-lim,
                zmax=lim,
                texttemplate="%{z:.1f}",
                colorbar={"title": rank_col},
                hovertemplate="%{x} + %{y}<br>" + rank_col + " %{z:.2f}<extra></extra>",
                hoverongaps=False,
            )
        )
        fig.update_layout(title=f"{ctx}: pair {rank_col}", yaxis={"autorange": "reversed"})
        side = 320 + 28 * len(names)
        out.append(f"<div>{figure_html(fig, f'heat-{n}', height=min(side, 900))}</div>")
    return "<div class='grid'>" + "".join(out) + "</div>"


def screen_sections(doc: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(title, sections, drugs) of a screen document."""
    rows = doc.get("rows")
    if not isinstance(rows, list) or not rows:
        raise InvalidInputError("report(): the screen document holds no rows")
    rank_col = _rank_col(doc)
    drugs = list(
        dict.fromkeys(
            str(r[k]) for r in rows for k in ("drug_1", "drug_2", "drug_3", "drug_4") if r.get(k)
        )
    )
    ctxs = list(dict.fromkeys(str(r.get("context")) for r in rows))
    cfg = doc.get("config") or {}
    summary = (
        f"<p>{len(rows)} rows: {len(drugs)} drugs, contexts {esc(', '.join(ctxs))}; ranked "
        f"within each context by <b>{esc(rank_col)}</b>"
        + (
            f"; ensemble of {esc(cfg.get('ensemble'))} model variants"
            if cfg.get("ensemble")
            else ""
        )
        + ".</p>"
    )
    sections = [
        {"id": "ranking-section", "title": "Ranking", "html": summary + _table_html(doc)},
        {
            "id": "heatmaps",
            "title": "Pair scores per context",
            "html": _heatmaps_html(doc, rank_col),
        },
        {"id": "details", "title": "Row details", "html": _details_html(doc)},
        {"id": "notes", "title": "Notes", "html": notes_html(doc.get("notes") or [])},
    ]
    return f"Screen report: {len(rows)} combinations", sections, drugs
