"""The trial report: Kaplan-Meier curves with numbers at risk, response categories per arm,
hazard ratios with their intervals.

Fields read (the JSON of ``mmmech trial --json``, issue 17)::

    {"population", "patients", "seed",
     "arms": [{"name", "orr", "vgpr_or_better", "cr_or_better", "median_pfs_months",
               "km": {"days" | "months": [...], "survival": [...], "at_risk": [...]},
               "responses": {"CR": n, "VGPR": n, ...},
               "intervals": {KEY: [low, high]}            (optional; or KEY_low / KEY_high;
                                                           median_pfs_low / median_pfs_high)
               "ensemble": {KEY: [p5, p95], KEY_range: [min, max], "members"}  (optional)
               "toxicity": {"grade3_neutropenia", "grade3_thrombocytopenia", ...} (optional)}],
     "hazard_ratios": [{"arm", "versus", "value", "low", "high",
                        "ensemble": {"value": [p5, p95], "value_range": [min, max]} (optional)}],
     "ensemble": {"members", "parameters": [{"name", "low", "high", "default", "source",
                                            "values", "sources", "contradicts"}],
                  "held_at_defaults", "fixed_network_parameters"}     (optional; the last
                  and "sources"/"contradicts" for the network's named parameters),
     "settings": {"pk_variability", "toxicity_feedback", "parameters", ...}  (optional),
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
from ._common import esc, figure_html, fmt, notes_html, source_link

__all__ = ["trial_sections", "ensemble_table_html", "RATE_KEYS", "DAYS_PER_MONTH"]

RATE_KEYS = ("orr", "vgpr_or_better", "cr_or_better")
DAYS_PER_MONTH = 365.25 / 12
RESPONSE_ORDER = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD")


def _pair(iv: Any) -> tuple[Any, Any] | None:
    if isinstance(iv, (list, tuple)) and len(iv) == 2:
        return iv[0], iv[1]
    return None


def _interval(arm: Mapping[str, Any], key: str) -> tuple[Any, Any] | None:
    iv = _pair((arm.get("intervals") or {}).get(key))
    if iv:
        return iv
    for lo, hi in (
        (f"{key}_low", f"{key}_high"),
        (f"{key[: -len('_months')]}_low", f"{key[: -len('_months')]}_high"),
    ):
        if lo in arm and hi in arm and not (arm[lo] is None and arm[hi] is None):
            return arm[lo], arm[hi]
    return None


def _ensemble(arm: Mapping[str, Any], key: str) -> tuple[Any, Any] | None:
    """The 5th-95th percentile of `key` across an arm's parameter ensemble (None: none)."""
    e = arm.get("ensemble")
    return _pair(e.get(key)) if isinstance(e, Mapping) else None


def _months_text(v: Any) -> str:
    return "not reached" if v is None else fmt(v, 1)


def _km_months(km: Mapping[str, Any]) -> list[float]:
    """Event times in months (``months`` as ``mmmech trial`` writes, or ``days``)."""
    if km.get("months") is not None:
        return [float(m) for m in km["months"]]
    return [float(d) / DAYS_PER_MONTH for d in km.get("days") or []]


def _rate(v: Any) -> str:
    if v is None:
        return "n/a"
    v = float(v)
    return f"{100 * v:.1f}%" if v <= 1 else f"{v:.1f}%"


def at_risk(km: Mapping[str, Any], t_days: float) -> int:
    """Patients at risk at `t_days` from a Kaplan-Meier record (see the module docstring)."""
    months, risk = _km_months(km), list(km.get("at_risk") or [])
    i = bisect.bisect_left(months, t_days / DAYS_PER_MONTH - 1e-12)
    return int(risk[i]) if i < len(risk) else 0


def _km_html(arms: list[Mapping[str, Any]]) -> str:
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    fig = go.Figure()
    horizon = 0.0
    for arm in arms:
        km = arm.get("km") or {}
        times, surv = _km_months(km), list(km.get("survival") or [])
        if not times:
            continue
        horizon = max(horizon, times[-1] * DAYS_PER_MONTH)
        x = [0.0] + times
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
    fig = go.Figure()
    ens = [h.get("ensemble") if isinstance(h.get("ensemble"), Mapping) else None for h in hrs]
    # the parameter ensemble's 5th-95th percentile: a wide pale band behind the estimate
    ex: list[float | None] = []
    ey: list[str | None] = []
    for label, e in zip(labels, ens, strict=True):
        band = _pair(e.get("value")) if e else None
        if band and None not in band:
            ex += [float(band[0]), float(band[1]), None]
            ey += [label, label, None]
    if ex:
        fig.add_trace(
            go.Scatter(
                x=ex,
                y=ey,
                mode="lines",
                line={"width": 14, "color": "rgba(255, 127, 14, 0.35)"},
                name="parameter ensemble (5th-95th percentile)",
                hovertemplate="%{y}: ensemble %{x:.2f}<extra></extra>",
            )
        )
    fig.add_trace(
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
            name="hazard ratio (95% CI)",
        )
    )
    fig.add_vline(x=1.0, line={"dash": "dash", "color": "grey"})
    fig.update_xaxes(
        type="log", title_text="hazard ratio for progression (log scale; < 1 favours the arm)"
    )
    fig.update_layout(
        title="Hazard ratios with confidence intervals"
        + (" and the parameter ensemble's range" if ex else "")
    )
    rows = []
    for h, e in zip(hrs, ens, strict=True):
        cells = (
            f"<td>{esc(h.get('arm'))}</td><td>{esc(h.get('versus'))}</td>"
            f"<td class='num' data-key='hr' data-value='{_val(h.get('value'))}'>"
            f"{fmt(h.get('value'))}</td>"
            f"<td class='num'>[{fmt(h.get('low'))}, {fmt(h.get('high'))}]</td>"
        )
        if any(ens):
            cells += _hr_ensemble_cells(e)
        rows.append(f"<tr>{cells}</tr>")
    ehead = "<th>ensemble 5th-95th percentile</th><th>ensemble range</th>" if any(ens) else ""
    table = (
        "<table class='tbl' id='hazard-ratios'><thead><tr><th>arm</th><th>versus</th>"
        f"<th>hazard ratio</th><th>interval</th>{ehead}</tr></thead><tbody>{''.join(rows)}"
        "</tbody></table>"
    )
    return figure_html(fig, "hazard", height=200 + 50 * len(hrs)) + table


def _val(v: Any) -> str:
    return "" if v is None else esc(v)


def _hr_ensemble_cells(e: Mapping[str, Any] | None) -> str:
    if not e:
        return "<td>n/a</td><td>n/a</td>"
    out = ""
    for key in ("value", "value_range"):
        iv = _pair(e.get(key)) or (None, None)
        out += (
            f"<td class='num' data-key='hr-ensemble-{'range' if key.endswith('range') else 'pct'}'"
            f" data-low='{_val(iv[0])}' data-high='{_val(iv[1])}'>"
            f"[{fmt(iv[0])}, {fmt(iv[1])}]</td>"
        )
    if e.get("not_estimable"):
        out = out[:-5] + f" ({esc(e['not_estimable'])} not estimable)</td>"
    return out


def _arms_html(doc: Mapping[str, Any], arms: list[Mapping[str, Any]]) -> str:
    head = (
        "<th>arm</th><th>ORR (&ge;PR)</th><th>&ge;VGPR</th><th>CR or better</th>"
        "<th>median PFS (months)</th>"
    )
    members = None
    rows = []
    for a in arms:
        cells = [f"<td>{esc(a.get('name'))}</td>"]
        for k in (*RATE_KEYS, "median_pfs_months"):
            v = a.get(k)
            show = _rate if k in RATE_KEYS else _months_text
            text = show(v)
            iv = _interval(a, k)
            if iv:
                text += f" [{show(iv[0])}, {show(iv[1])}]"
            ev = _ensemble(a, k)
            if ev:
                members = (a.get("ensemble") or {}).get("members", members)
                text += (
                    f"<br><span class='small ens' data-key='{k}-ensemble' "
                    f"data-low='{_val(ev[0])}' data-high='{_val(ev[1])}'>ensemble "
                    f"{show(ev[0])} to {show(ev[1])}</span>"
                )
            cells.append(f"<td class='num' data-key='{k}' data-value='{_val(v)}'>{text}</td>")
        rows.append(f"<tr data-arm='{esc(a.get('name'))}'>" + "".join(cells) + "</tr>")
    intro = (
        f"<p>Population <b>{esc(doc.get('population'))}</b>, {esc(doc.get('patients'))} virtual "
        f"patients per arm (the same patients in every arm), seed {esc(doc.get('seed'))}.</p>"
    )
    legend = "[low, high]: the interval the document gives (median PFS: its 95% CI)"
    if members is not None:
        legend += (
            f"; 'ensemble': the 5th to 95th percentile across the {esc(members)} model-parameter "
            "sets of the parameter ensemble (same patients; parameter table under 'How this was "
            "made')"
        )
    return (
        intro
        + _settings_html(doc)
        + f"<table class='tbl' id='arms'><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows)
        + f"</tbody></table><p class='small'>{legend}.</p>"
    )


def _settings_html(doc: Mapping[str, Any]) -> str:
    """The exposure switches of the run (``settings``), where the document records them."""
    st = doc.get("settings")
    if not isinstance(st, Mapping):
        return ""

    def on(key: str, yes: str, no: str) -> str | None:
        if key not in st:
            return None
        text = yes if st[key] else no
        return f"<li data-setting='{esc(key)}' data-value='{esc(st[key])}'>{text}</li>"

    items = [
        on(
            "pk_variability",
            "between-patient PK variability: on (each patient's own random effects)",
            "between-patient PK variability: off (typical PK of each body size)",
        ),
        on(
            "toxicity_feedback",
            "toxicity feedback: on (efficacy on the doses actually given)",
            "toxicity feedback: off (efficacy on the planned doses)",
        ),
    ]
    pf = st.get("parameters")
    if isinstance(pf, Mapping):
        ver = f" version {esc(pf.get('version'))}" if pf.get("version") else ""
        items.append(
            f"<li data-setting='parameters'>model parameters: {esc(pf.get('name'))} "
            f"({esc(pf.get('file'))}{ver})</li>"
        )
    elif "parameters" in st:
        items.append("<li data-setting='parameters'>model parameters: the defaults</li>")
    ens = doc.get("ensemble")
    if isinstance(ens, Mapping) and ens.get("members"):
        items.append(
            f"<li data-setting='ensemble'>parameter ensemble: {esc(ens['members'])} sets</li>"
        )
    got = [i for i in items if i]
    return f"<ul class='settings' id='settings'>{''.join(got)}</ul>" if got else ""


#: (key, heading) of the per-arm toxicity table (rates, fractions in [0, 1])
TOX_KEYS = (
    ("grade3_neutropenia", "G&ge;3 neutropenia"),
    ("grade3_thrombocytopenia", "G&ge;3 thrombocytopenia"),
    ("grade2_neuropathy", "PN G&ge;2"),
    ("grade3_neuropathy", "PN G&ge;3"),
    ("dose_reduced", "dose reduced"),
    ("held", "held"),
    ("discontinued", "discontinued"),
)


def _tox_html(arms: list[Mapping[str, Any]]) -> str:
    tox: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = [
        (a, a["toxicity"]) for a in arms if isinstance(a.get("toxicity"), Mapping)
    ]
    if not tox:
        return "<p>No toxicity rates in this document (computed with toxicity on).</p>"
    head = "<th>arm</th>" + "".join(f"<th>{h}</th>" for _, h in TOX_KEYS)
    rows = []
    for a, t in tox:
        cells = [f"<td>{esc(a.get('name'))}</td>"]
        for k, _ in TOX_KEYS:
            v = t.get(k)
            what = k.split("_", 1)[1] if k.startswith("grade3_") else None
            drugs = t.get(f"{what}_drugs") if what in ("neutropenia", "thrombocytopenia") else None
            text = _rate(v)
            if v is None or (drugs is not None and not drugs):
                text = "not modelled" if v is None else f"{_rate(v)} (no modelled drug)"
            label = t.get(f"{k}_label")
            if isinstance(label, Mapping) and label.get("rate") is not None:
                srcs = ", ".join(str(x) for x in label.get("sources") or [])
                text += f"<br><span class='small'>label {_rate(label['rate'])} ({esc(srcs)})</span>"
            basis = ""
            if drugs:
                basis = f"<br><span class='small'>model: {esc(', '.join(map(str, drugs)))}</span>"
            cells.append(
                f"<td class='num' data-key='{k}' data-value='{_val(v)}'>{text}{basis}</td>"
            )
        rows.append(f"<tr data-arm='{esc(a.get('name'))}'>" + "".join(cells) + "</tr>")
    return (
        f"<table class='tbl' id='toxicity'><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><p class='small'>Fractions of the arm's patients (each patient's "
        "course through the regimen's dose-modification rules; thrombocytopenia from the "
        "platelet model where a modelled drug is in the arm, the label incidence otherwise; "
        "docs/trials.md, 'Toxicity per arm').</p>"
    )


def _source_html(src: Any) -> str:
    link = source_link(str(src))
    if link.get("url"):
        return f"<a href='{esc(link['url'])}'>{esc(link['id'])}</a>"
    return esc(link["id"])


def ensemble_table_html(doc: Mapping[str, Any]) -> str | None:
    """The parameter ensemble's table (name, range, default, source, each set's value) for the
    provenance block (None: the document has no ensemble)."""
    ens = doc.get("ensemble")
    if not isinstance(ens, Mapping) or not ens.get("parameters"):
        return None
    members = int(ens.get("members") or 0)
    head = (
        "<th>parameter</th><th>low</th><th>high</th><th>default (set 0)</th><th>source</th>"
        + "".join(f"<th>set {m}</th>" for m in range(members))
    )
    rows = []
    for p in ens["parameters"]:
        if not isinstance(p, Mapping):
            continue
        # a network parameter lists every source (and those against); a tumour constant one
        given, against_given = p.get("sources"), p.get("contradicts")
        srcs: list[Any] = given if isinstance(given, list) else [p.get("source")]
        against: list[Any] = against_given if isinstance(against_given, list) else []
        src_html = ", ".join(_source_html(x) for x in srcs if x) or "none recorded"
        if against:
            src_html += "; against: " + ", ".join(_source_html(x) for x in against if x)
        vals = list(p.get("values") or [])
        rows.append(
            f"<tr data-parameter='{esc(p.get('name'))}'><td>{esc(p.get('name'))}</td>"
            f"<td class='num'>{fmt(p.get('low'), 3)}</td><td class='num'>{fmt(p.get('high'), 3)}"
            f"</td><td class='num'>{fmt(p.get('default'), 3)}</td><td>{src_html}</td>"
            + "".join(
                f"<td class='num' data-key='value' data-value='{_val(v)}'>{fmt(v, 3)}</td>"
                for v in vals
            )
            + "</tr>"
        )
    held = ", ".join(str(x) for x in ens.get("held_at_defaults") or [])
    fixed = [
        f"{f.get('name')} ({f.get('reason')})"
        for f in ens.get("fixed_network_parameters") or []
        if isinstance(f, Mapping) and str(f.get("reason", "")).startswith("no sourced")
    ]
    if fixed:
        held += ("; " if held else "") + "network parameters without a sourced range: "
        held += ", ".join(fixed)
    return (
        f"<p>{esc(members)} parameter sets: {esc(ens.get('method') or '')}.</p>"
        f"<table class='tbl' id='ensemble-parameters'><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + (f"<p class='small'>Held at their defaults: {esc(held)}.</p>" if held else "")
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
        {"id": "toxicity-section", "title": "Toxicity", "html": _tox_html(arms)},
        {"id": "notes", "title": "Notes", "html": notes_html(doc.get("notes") or [])},
    ]
    names = [str(a.get("name")) for a in arms]
    return f"Virtual trial report: {' vs '.join(names)}", sections, names
