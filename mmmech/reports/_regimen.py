"""The regimen report: plasma concentrations, key node activities and M-protein over time, with
the dosing days marked; the IMWG best response, time to progression and first-cycle exposure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..exceptions import InvalidInputError
from ._common import esc, figure_html, fmt, notes_html, table_html

__all__ = ["regimen_document", "regimen_sections"]


def regimen_document(result: Any) -> dict[str, Any]:
    """The full document of a :class:`mmmech.dynamics.RegimenResult`: ``regimen simulate
    --json``'s keys plus ``nodes`` ({"day": [...], NODE: [...]}, the key node activities and
    readouts), ``dosing_days`` ({drug: [day, ...]}, 1 = the first day) and ``drugs``."""
    doc = dict(result.to_dict())
    tc = result.timecourse
    nodes: dict[str, Any] = {"day": tc["day"].tolist()}
    for col in tc.columns:
        if col.startswith("node_"):
            nodes[col[5:]] = tc[col].tolist()
    for col in ("viability", "apoptosis", "proliferation", "immune_killing"):
        if col in tc.columns:
            nodes[col] = tc[col].tolist()
    doc["nodes"] = nodes
    doc["dosing_days"] = {d: [int(x) for x in v] for d, v in result.dosing_days.items()}
    doc["drugs"] = list(result.drugs)
    return doc


def _figure(doc: Mapping[str, Any]) -> str:
    # deferred: plotly is only needed once a report is written
    import plotly.graph_objects as go  # deferred: as above
    from plotly.subplots import make_subplots

    conc = doc.get("concentrations") or {}
    nodes = doc.get("nodes") or {}
    dosing = doc.get("dosing_days") or {}
    mp = doc.get("m_protein") or {}
    rows = 4 if dosing else 3
    heights = [0.32, 0.28, 0.28, 0.12][:rows]
    titles = ["plasma concentration (nM)", "key node activities", "M-protein (g/dL)", "dosing days"]
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        row_heights=heights,
        vertical_spacing=0.05,
        subplot_titles=titles[:rows],
    )
    for d, v in conc.items():
        days = [h / 24.0 for h in v.get("hour", [])]
        y = [max(float(c), 1e-3) if c is not None else None for c in v.get("nM", [])]
        fig.add_trace(
            go.Scatter(x=days, y=y, name=d, mode="lines", legendgroup="conc"), row=1, col=1
        )
    fig.update_yaxes(type="log", title_text="nM", row=1, col=1)
    day = nodes.get("day")
    if day:
        for k, v in nodes.items():
            if k == "day":
                continue
            fig.add_trace(
                go.Scatter(x=day, y=v, name=k, mode="lines", legendgroup="nodes"), row=2, col=1
            )
    else:
        fig.add_annotation(
            text="no node activities in this document",
            showarrow=False,
            xref="x2 domain",
            yref="y2 domain",
            x=0.5,
            y=0.5,
        )
    fig.update_yaxes(title_text="activity", range=[-0.02, 1.02], row=2, col=1)
    fig.add_trace(
        go.Scatter(
            x=mp.get("day", []),
            y=mp.get("g_per_dL", []),
            name="M-protein",
            mode="lines",
            line={"color": "black", "width": 2},
        ),
        row=3,
        col=1,
    )
    fig.update_yaxes(title_text="g/dL", row=3, col=1)
    for i, (d, days) in enumerate(dosing.items()):
        x = [dd - 1 for dd in days]  # day 1 = time 0
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[d] * len(x),
                mode="markers",
                marker={"symbol": "triangle-up", "size": 9},
                name=f"{d} doses",
                legendgroup="doses",
                hovertemplate=f"{d}: dose on day %{{customdata}}<extra></extra>",
                customdata=days,
            ),
            row=4,
            col=1,
        )
        for xx in x:  # a faint line through the M-protein panel at each dose
            fig.add_vline(
                x=xx,
                line={"width": 0.5, "color": f"rgba(80,80,160,{0.15 + 0.05 * i})"},
                row=3,
                col=1,
            )
    fig.update_xaxes(title_text="day", row=rows, col=1)
    fig.update_layout(title=f"{doc.get('regimen')}: {doc.get('cycles')} cycle(s)")
    return figure_html(fig, "regimen-course", height=900)


def regimen_sections(doc: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(title, sections, drugs) of a regimen document."""
    for key in ("regimen", "m_protein"):
        if key not in doc:
            raise InvalidInputError(f"report(): the regimen document has no {key!r}")
    mp = doc.get("m_protein") or {}
    g = [x for x in mp.get("g_per_dL", []) if x is not None]
    days = mp.get("day", [])
    ttp = doc.get("time_to_progression_days")
    rows = [
        ("best response (IMWG, serum M-protein)", doc.get("best_response")),
        ("time to progression", "none within the course" if ttp is None else f"{fmt(ttp, 0)} days"),
        ("cycles", doc.get("cycles")),
    ]
    if g:
        i = g.index(min(g))
        rows += [
            ("M-protein at the start (g/dL)", fmt(g[0])),
            (
                "M-protein nadir (g/dL)",
                f"{fmt(g[i])} on day {fmt(days[i], 0) if i < len(days) else '?'}",
            ),
            ("M-protein at the end (g/dL)", fmt(g[-1])),
        ]
    summary = table_html(["", "value"], rows)
    pk = doc.get("pk") or {}
    if pk:
        summary += "<h3>First-cycle exposure</h3>" + table_html(
            ["drug", "Cmax (nM)", "trough (nM)", "AUC (nM h)"],
            [
                (d, fmt(v.get("cmax_nM"), 4), fmt(v.get("trough_nM"), 4), fmt(v.get("auc_nM_h"), 1))
                for d, v in pk.items()
            ],
        )
    missing = [k for k in ("nodes", "dosing_days") if k not in doc]
    if missing:
        summary += (
            "<p class='warn'>This document has no "
            + esc(" or ".join(missing))
            + " (the JSON of <code>regimen simulate --json</code> leaves them out); "
            "<code>--report</code> at run time draws them.</p>"
        )
    sections = [
        {"id": "summary", "title": "Summary", "html": summary},
        {"id": "course", "title": "Course over time", "html": _figure(doc)},
        {"id": "notes", "title": "Notes", "html": notes_html(doc.get("notes") or [])},
    ]
    drugs = list(doc.get("drugs") or (doc.get("concentrations") or {}).keys())
    return f"Regimen report: {doc.get('regimen')}", sections, drugs
