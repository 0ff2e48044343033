"""The trial report: Kaplan-Meier curves with numbers at risk, response categories per arm,
hazard ratios with their intervals.

Fields read (the JSON of ``mmmech trial --json``, issue 17)::

    {"population", "patients", "seed",
     "arms": [{"name", "orr", "vgpr_or_better", "cr_or_better", "median_pfs_months",
               "km": {"days": [...], "survival": [...], "at_risk": [...]},
               "responses": {"CR": n, "VGPR": n, ...},
               "intervals": {KEY: [low, high]}            (optional; or KEY_low / KEY_high)}],
     "hazard_ratios": [{"arm", "versus", "value", "low", "high"}],
     "notes": [...]}

Rates (``orr`` ...) are fractions in [0, 1] (shown as percent) or percentages (> 1, shown as
they are). ``km.at_risk[i]`` is the number still at risk just before ``km.days[i]``; the number
at risk at a time t is ``at_risk`` at the first ``days >= t`` (0 after the last time).
Everything else in the document is kept (embedded) but not drawn.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

from ..exceptions import InvalidInputError
from ._common import esc, figure_html, fmt, notes_html

__all__ = ["trial_sections", "RATE_KEYS", "DAYS_PER_MONTH"]

RATE_KEYS = ("orr", "vgpr_or_better", "cr_or_better")
DAYS_PER_MONTH = 365.25 / 12
RESPONSE_ORDER = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD")


def _interval(arm: Mapping[str, Any], key: str) -> tuple[Any, Any] | None:
    iv = (arm.get("intervals") or {}).get(key)
    if isinstance(iv, (list, tuple)) and len(iv) == 2:
        return iv[0], iv[1]
    if f"{key}_low" in arm and f"{key}_high" in arm:
        return arm[f"{key}_low"], arm[f"{key}_high"]
    return None


def _rate(v: Any) -> str:
    if v is None:
        return "n/a"
    v = float(v)
    return f"{100 * v:.1f}%" if v <= 1 else f"{v:.1f}%"


def at_risk(km: Mapping[str, Any], t_days: float) -> int:
    """Patients at risk at `t_days` from a Kaplan-Meier record (see the module docstring)."""
    days, risk = list(km.get("days") or []), list(km.get("at_risk") or [])
    i = bisect.bisect_left(days, t_days)
    return int(risk[i]) if i < len(risk) else 0


def _km_html(arms: list[Mapping[str, Any]]) -> str:
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    fig = go.Figure()
    horizon = 0.0
    for arm in arms:
        km = arm.get("km") or {}
        days, surv = list(km.get("days") or []), list(km.get("survival") or [])
        if not days:
            continue
        horizon = max(horizon, float(days[-1]))
        x = [0.0] + [d / DAYS_PER_MONTH for d in days]
        y = [1.0] + [float(s) for s in surv]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line_shape="hv",
                name=str(arm.get("name")),
                hovertemplate="%{x:.1f} months: %{y:.3f}<extra>"
                + esc(arm.get("name"))
                + "</extra>",
            )
        )
    if not fig.data:
        return "<p>No Kaplan-Meier curves in this document (arms without 'km').</p>"
    fig.update_xaxes(title_text="months", rangemode="tozero")
    fig.update_yaxes(title_text="progression-free survival", range=[0, 1.02])
    fig.update_layout(title="Kaplan-Meier progression-free survival")
    months = horizon / DAYS_PER_MONTH
    step = 3 if months <= 36 else 6 if months <= 72 else 12
    ticks = [m for m in range(0, int(months) + 1, step)]
    head = "".join(f"<th>{m}</th>" for m in ticks)
    body = "".join(
        f"<tr><th>{esc(a.get('name'))}</th>"
        + "".join(
            f"<td class='num'>{at_risk(a.get('km') or {}, m * DAYS_PER_MONTH)}</td>" for m in ticks
        )
        + "</tr>"
        for a in arms
        if a.get("km")
    )
    table = (
        "<h3>Numbers at risk</h3><table class='tbl' id='at-risk'><thead><tr><th>months</th>"
        f"{head}</tr></thead><tbody>{body}</tbody></table>"
    )
    return figure_html(fig, "km", height=460) + table


def _responses_html(arms: list[Mapping[str, Any]]) -> str:
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    cats: list[str] = []
    for a in arms:
        for c in a.get("responses") or {}:
            if c not in cats:
                cats.append(c)
    if not cats:
        return "<p>No response counts in this document (arms without 'responses').</p>"
    cats.sort(key=lambda c: RESPONSE_ORDER.index(c) if c in RESPONSE_ORDER else len(RESPONSE_ORDER))
    fig = go.Figure()
    names = [str(a.get("name")) for a in arms]
    for c in cats:
        fig.add_trace(
            go.Bar(
                x=names,
                y=[(a.get("responses") or {}).get(c, 0) for a in arms],
                name=c,
                hovertemplate="%{x}: %{y} patients " + esc(c) + "<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", title="Best response (IMWG) per arm", yaxis_title="patients")
    return figure_html(fig, "responses", height=420)


def _hr_html(hrs: list[Mapping[str, Any]]) -> str:
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    if not hrs:
        return "<p>No hazard ratios in this document.</p>"
    labels = [f"{h.get('arm')} vs {h.get('versus')}" for h in hrs]
    vals = [h.get("value") for h in hrs]
    lo = [h.get("low") for h in hrs]
    hi = [h.get("high") for h in hrs]
    fig = go.Figure(
        go.Scatter(
            x=vals,
            y=labels,
            mode="markers",
            marker={"size": 11, "symbol": "square"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [
                    None if h is None or v is None else h - v for v, h in zip(vals, hi, strict=True)
                ],
                "arrayminus": [
                    None if low is None or v is None else v - low
                    for v, low in zip(vals, lo, strict=True)
                ],
            },
            hovertemplate="%{y}: HR %{x:.2f}<extra></extra>",
            name="hazard ratio",
        )
    )
    fig.add_vline(x=1.0, line={"dash": "dash", "color": "grey"})
    fig.update_xaxes(
        type="log", title_text="hazard ratio for progression (log scale; < 1 favours the arm)"
    )
    fig.update_layout(title="Hazard ratios with confidence intervals")
    rows = "".join(
        f"<tr><td>{esc(h.get('arm'))}</td><td>{esc(h.get('versus'))}</td>"
        f"<td class='num' data-key='hr' data-value='{h.get('value')}'>{fmt(h.get('value'))}</td>"
        f"<td class='num'>[{fmt(h.get('low'))}, {fmt(h.get('high'))}]</td></tr>"
        for h in hrs
    )
    table = (
        "<table class='tbl' id='hazard-ratios'><thead><tr><th>arm</th><th>versus</th>"
        f"<th>hazard ratio</th><th>interval</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return figure_html(fig, "hazard", height=200 + 50 * len(hrs)) + table


def _arms_html(doc: Mapping[str, Any], arms: list[Mapping[str, Any]]) -> str:
    head = (
        "<th>arm</th><th>ORR (&ge;PR)</th><th>&ge;VGPR</th><th>CR or better</th>"
        "<th>median PFS (months)</th>"
    )
    rows = []
    for a in arms:
        cells = [f"<td>{esc(a.get('name'))}</td>"]
        for k in (*RATE_KEYS, "median_pfs_months"):
            v = a.get(k)
            text = _rate(v) if k in RATE_KEYS else ("not reached" if v is None else fmt(v, 1))
            iv = _interval(a, k)
            if iv:
                text += (
                    f" [{_rate(iv[0])}, {_rate(iv[1])}]"
                    if k in RATE_KEYS
                    else f" [{fmt(iv[0], 1)}, {fmt(iv[1], 1)}]"
                )
            cells.append(
                f"<td class='num' data-key='{k}' data-value='{'' if v is None else v}'>{text}</td>"
            )
        rows.append(f"<tr data-arm='{esc(a.get('name'))}'>" + "".join(cells) + "</tr>")
    intro = (
        f"<p>Population <b>{esc(doc.get('population'))}</b>, {esc(doc.get('patients'))} virtual "
        f"patients per arm (the same patients in every arm), seed {esc(doc.get('seed'))}.</p>"
    )
    return (
        intro
        + f"<table class='tbl' id='arms'><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><p class='small'>[low, high]: the interval the document gives "
        "(parameter ensemble), where it gives one.</p>"
    )


def trial_sections(doc: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(title, sections, regimen names) of a trial document."""
    arms = doc.get("arms")
    if not isinstance(arms, list) or not arms or not all(isinstance(a, Mapping) for a in arms):
        raise InvalidInputError("report(): the trial document needs a non-empty list 'arms'")
    hrs = [h for h in (doc.get("hazard_ratios") or []) if isinstance(h, Mapping)]
    sections = [
        {"id": "arms-section", "title": "Arms", "html": _arms_html(doc, arms)},
        {"id": "km-section", "title": "Progression-free survival", "html": _km_html(arms)},
        {"id": "responses-section", "title": "Responses", "html": _responses_html(arms)},
        {"id": "hr-section", "title": "Hazard ratios", "html": _hr_html(hrs)},
        {"id": "notes", "title": "Notes", "html": notes_html(doc.get("notes") or [])},
    ]
    names = [str(a.get("name")) for a in arms]
    return f"Virtual trial report: {' vs '.join(names)}", sections, names
