"""The rank report: one patient, many regimens (``mmmech rank --json``, docs/ranking.md).

Sections: the research-use-only statement; the patient (contexts, features, body, CrCl,
health); a sortable ranking table with intervals (the screen table's sorting script); per
regimen the progression-free time and M-protein reduction with their ensemble intervals;
toxicity probabilities per regimen; the drivers of the explained (top) regimens as bar charts
(drop-one-drug and patient-context deltas of the M-protein reduction, key-node changes); the
ordering rule, settings and notes. Fields read::

    {"patient": {id, name, description, contexts, features, body: {weight_kg, height_cm,
                 bsa_m2, crcl_ml_min}, isotype, m_protein_g_dL, age, health, notes, origin},
     "regimens": [{name, rank, title, best_response, best_response_interval, pfs_months,
                   pfs_months_interval, pfs_censored, m_protein_reduction,
                   m_protein_reduction_interval, cycles, toxicity: {...}, drivers: [...]}],
     "notes": [...], "ordering": str, "settings": {...}}

Cells that hold a number carry it unrounded in ``data-value`` (the table sorts on it; a
best-response cell carries its depth, PD 0 ... CR 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import InvalidInputError
from ._common import esc, figure_html, fmt, notes_html

__all__ = ["rank_sections", "is_rank_document", "RESPONSE_DEPTH", "RESEARCH_USE"]

#: depth of an IMWG best response (the ranking's first key: deeper first)
RESPONSE_DEPTH = {"PD": 0, "SD": 1, "MR": 2, "PR": 3, "VGPR": 4, "CR": 5, "sCR": 6}
RESEARCH_USE = (
    "Research use only, not for clinical decisions: a model's prediction for a hypothetical "
    "patient file, with intervals that cover patient kinetics only (docs/ranking.md)."
)
_TOX_KEYS = (
    ("p_grade3_neutropenia", "P(grade \u2265 3 neutropenia)"),
    ("p_grade2_neuropathy", "P(grade \u2265 2 neuropathy)"),
    ("p_discontinuation", "P(a drug discontinued)"),
)


def is_rank_document(doc: Any) -> bool:
    """A ``mmmech rank --json`` document: a patient and a list of ranked regimens."""
    if not isinstance(doc, Mapping) or not {"patient", "regimens"} <= set(doc):
        return False
    regs = doc.get("regimens")
    return (
        isinstance(doc.get("patient"), Mapping)
        and isinstance(regs, list)
        and all(isinstance(r, Mapping) and "rank" in r for r in regs)
    )


def _num(v: Any) -> str:
    """A number for ``data-value`` (unrounded; empty for missing)."""
    if v is None or isinstance(v, bool):
        return ""
    try:
        return repr(float(v))
    except (TypeError, ValueError):
        return esc(v)


def _interval(r: Mapping[str, Any], key: str) -> tuple[Any, Any]:
    iv = r.get(f"{key}_interval")
    if isinstance(iv, Sequence) and not isinstance(iv, str) and len(iv) == 2:
        return iv[0], iv[1]
    return None, None


def _pct(v: Any, digits: int = 1) -> str:
    return "n/a" if v is None else f"{100 * float(v):.{digits}f}%"


def _banner() -> str:
    return f"<div class='ruo' id='research-use' role='note'><b>{esc(RESEARCH_USE)}</b></div>"


def _patient_html(p: Mapping[str, Any]) -> str:
    body = p.get("body") or {}
    health = p.get("health") or {}
    rows: list[tuple[str, str, str]] = [
        ("patient", "id", f"{p.get('name') or p.get('id')} ({p.get('id')})"),
        ("description", "description", str(p.get("description") or "")),
        ("model contexts", "contexts", ", ".join(map(str, p.get("contexts") or [])) or "none"),
        ("features", "features", ", ".join(map(str, p.get("features") or [])) or "none"),
        ("age (years)", "age", fmt(p.get("age"), 0)),
        ("isotype", "isotype", str(p.get("isotype") or "n/a")),
        ("baseline M-protein (g/dL)", "m_protein_g_dL", fmt(p.get("m_protein_g_dL"), 2)),
        ("weight (kg)", "weight_kg", fmt(body.get("weight_kg"), 1)),
        ("height (cm)", "height_cm", fmt(body.get("height_cm"), 0)),
        ("body-surface area (m\u00b2)", "bsa_m2", fmt(body.get("bsa_m2"), 2)),
        ("creatinine clearance (mL/min)", "crcl_ml_min", fmt(body.get("crcl_ml_min"), 0)),
    ]
    rows += [(f"health: {k}", f"health.{k}", str(v)) for k, v in health.items()]
    levels = p.get("levels") or {}
    if levels:
        rows.append(("node levels", "levels", ", ".join(f"{k} {v}" for k, v in levels.items())))
    cells = "".join(
        f"<tr><th>{esc(label)}</th><td data-key='{esc(key)}'>{esc(text)}</td></tr>"
        for label, key, text in rows
    )
    notes = p.get("notes") or []
    origin = p.get("origin")
    return (
        f"<table class='tbl' id='patient'><tbody>{cells}</tbody></table>"
        + (f"<p class='small'>patient file: <code>{esc(origin)}</code></p>" if origin else "")
        + (notes_html(notes) if notes else "")
    )


def _table_html(regs: list[Mapping[str, Any]]) -> str:
    head = [
        ("rank", "ascending"),
        ("regimen", "ascending"),
        ("best response", ""),
        ("best response interval", ""),
        ("PFS (months)", ""),
        ("PFS interval", ""),
        ("PFS censored", ""),
        ("M-protein reduction", ""),
        ("reduction interval", ""),
        ("toxicity burden", "ascending"),
        *[(label, "ascending") for _, label in _TOX_KEYS],
        ("dose reductions", "ascending"),
        ("cycles", ""),
    ]
    out = [
        "<div class='controls'>filter: <input type='search' data-filter='ranking' "
        "placeholder='regimen, response ...' aria-label='filter rows'>"
        "<span data-count='ranking'></span> "
        "<span class='small'>(click a column header to sort)</span></div>",
        "<table class='tbl sortable' id='ranking'><thead><tr>",
    ]
    out += [
        f"<th data-col='{esc(h)}'" + (f" data-first='{d}'" if d else "") + f">{esc(h)}</th>"
        for h, d in head
    ]
    out.append("</tr></thead><tbody>")
    for r in regs:
        tox = r.get("toxicity") or {}
        best = str(r.get("best_response"))
        blo, bhi = _interval(r, "best_response")
        plo, phi = _interval(r, "pfs_months")
        rlo, rhi = _interval(r, "m_protein_reduction")
        censored = r.get("pfs_censored")
        cells = [
            f"<td class='num' data-key='rank' data-value='{_num(r.get('rank'))}'>"
            f"{esc(r.get('rank'))}</td>",
            f"<td data-key='name' title='{esc(r.get('title') or '')}'>{esc(r.get('name'))}</td>",
            f"<td data-key='best_response' data-value='{RESPONSE_DEPTH.get(best, '')}'>"
            f"{esc(best)}</td>",
            f"<td data-key='best_response_interval' "
            f"data-value='{RESPONSE_DEPTH.get(str(blo), '')}'>[{esc(blo)}, {esc(bhi)}]</td>",
            f"<td class='num' data-key='pfs_months' data-value='{_num(r.get('pfs_months'))}'>"
            f"{fmt(r.get('pfs_months'), 2)}{'+' if censored else ''}</td>",
            f"<td class='num' data-key='pfs_months_interval' data-value='{_num(plo)}'>"
            f"[{fmt(plo, 2)}, {fmt(phi, 2)}]</td>",
            f"<td data-key='pfs_censored' data-value='{_num(r.get('pfs_censored_fraction'))}'>"
            f"{'yes' if censored else 'no'}</td>",
            f"<td class='num' data-key='m_protein_reduction' "
            f"data-value='{_num(r.get('m_protein_reduction'))}'>"
            f"{_pct(r.get('m_protein_reduction'))}</td>",
            f"<td class='num' data-key='m_protein_reduction_interval' data-value='{_num(rlo)}'>"
            f"[{_pct(rlo)}, {_pct(rhi)}]</td>",
            f"<td class='num' data-key='burden' data-value='{_num(tox.get('burden'))}'>"
            f"{fmt(tox.get('burden'), 3)}</td>",
        ]
        cells += [
            f"<td class='num' data-key='{k}' data-value='{_num(tox.get(k))}'>"
            f"{fmt(tox.get(k), 3)}</td>"
            for k, _ in _TOX_KEYS
        ]
        cells.append(
            f"<td class='num' data-key='dose_reductions' "
            f"data-value='{_num(tox.get('dose_reductions'))}'>"
            f"{esc('n/a' if tox.get('dose_reductions') is None else tox['dose_reductions'])}</td>"
        )
        cells.append(
            f"<td class='num' data-key='cycles' data-value='{_num(r.get('cycles'))}'>"
            f"{esc(r.get('cycles'))}</td>"
        )
        out.append(f"<tr data-regimen='{esc(r.get('name'))}'>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    out.append(
        "<p class='small'>Values are ensemble medians; [low, high] the 5th-95th percentiles of "
        "the members (their range with fewer than 20). PFS in months, censored at the horizon "
        "(+: most members without progression). Toxicity burden = P(grade \u2265 3 "
        "neutropenia) + P(grade \u2265 2 neuropathy) + P(a drug discontinued) over the "
        "ensemble; toxicities without a modelled course (label incidences) are listed below, "
        "not scored.</p>"
    )
    return "".join(out)


def _bars(
    regs: list[Mapping[str, Any]], key: str, scale: float, title: str, axis: str, div_id: str
) -> str:
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    names = [str(r.get("name")) for r in regs]
    vals, up, down = [], [], []
    for r in regs:
        v = r.get(key)
        lo, hi = _interval(r, key)
        v = None if v is None else scale * float(v)
        vals.append(v)
        up.append(None if v is None or hi is None else scale * float(hi) - v)
        down.append(None if v is None or lo is None else v - scale * float(lo))
    fig = go.Figure(
        go.Bar(
            x=names,
            y=vals,
            name=axis,
            error_y={"type": "data", "symmetric": False, "array": up, "arrayminus": down},
            hovertemplate="%{x}: %{y:.2f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, yaxis_title=axis, xaxis_title="regimen (ranked)")
    return figure_html(fig, div_id, height=380)


def _efficacy_html(regs: list[Mapping[str, Any]], horizon: Any) -> str:
    pfs = _bars(
        regs,
        "pfs_months",
        1.0,
        "Progression-free time (median, ensemble interval)"
        + (f"; censored at day {fmt(horizon, 0)}" if horizon is not None else ""),
        "months",
        "pfs",
    )
    red = _bars(
        regs,
        "m_protein_reduction",
        100.0,
        "Best M-protein reduction (median, ensemble interval)",
        "reduction from baseline (%)",
        "reduction",
    )
    return f"<div class='grid'><div>{pfs}</div><div>{red}</div></div>"


def _toxicity_html(regs: list[Mapping[str, Any]]) -> str:
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    names = [str(r.get("name")) for r in regs]
    fig = go.Figure()
    for k, label in _TOX_KEYS:
        fig.add_trace(
            go.Bar(
                x=names,
                y=[(r.get("toxicity") or {}).get(k) for r in regs],
                name=label,
                hovertemplate="%{x}: %{y:.3f}<extra>" + esc(label) + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title="Toxicity probabilities over the ensemble (modelled courses)",
        yaxis={"title": "probability", "range": [0, 1.02]},
        xaxis_title="regimen (ranked)",
    )
    unmodelled = [str(r.get("name")) for r in regs if not (r.get("toxicity") or {}).get("modelled")]
    rows = []
    for r in regs:
        tox = r.get("toxicity") or {}
        renal = tox.get("renal")
        if renal:
            rows.append(
                f"<tr><td>{esc(r.get('name'))}</td><td>renal starting dose</td>"
                f"<td colspan='2'>{esc(renal.get('label_dose_mg'))} mg every "
                f"{esc(renal.get('every_days'))} d (tier {esc(renal.get('tier'))})</td>"
                "<td></td></tr>"
            )
        for li in tox.get("label_incidence") or []:
            rows.append(
                f"<tr><td>{esc(r.get('name'))}</td><td>{esc(li.get('drug'))}: "
                f"{esc(li.get('toxicity'))}</td><td>grade \u2265 {esc(li.get('grade_at_least'))}"
                f"</td><td class='num' data-value='{_num(li.get('incidence'))}'>"
                f"{fmt(li.get('incidence'), 3)}</td><td>{esc(li.get('source'))}</td></tr>"
            )
        if tox.get("discontinued"):
            rows.append(
                f"<tr><td>{esc(r.get('name'))}</td><td>discontinued (typical member)</td>"
                f"<td colspan='2'>{esc(', '.join(map(str, tox['discontinued'])))}</td>"
                "<td></td></tr>"
            )
    extra = (
        "<h3>Label incidences, renal dosing and discontinuations</h3>"
        "<table class='tbl' id='toxicity-facts'><thead><tr><th>regimen</th><th>what</th>"
        "<th>grade</th><th>incidence</th><th>source</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        if rows
        else ""
    )
    note = (
        f"<p class='small warn'>Toxicity not modelled (full doses): {esc(', '.join(unmodelled))}"
        ".</p>"
        if unmodelled
        else ""
    )
    return figure_html(fig, "toxicity", height=400) + note + extra


def _drivers_html(regs: list[Mapping[str, Any]]) -> str:
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    out = []
    explained = [r for r in regs if r.get("drivers")]
    if not explained:
        return "<p>No drivers in this document (top = 0).</p>"
    for r in explained:
        i = int(r.get("rank") or 0)
        drivers = [d for d in r["drivers"] if isinstance(d, Mapping)]
        deltas = [d for d in drivers if d.get("kind") in ("drug", "context")]
        nodes = [d for d in drivers if d.get("kind") == "node"]
        parts = [
            f"<h3>{esc(r.get('rank'))}. {esc(r.get('name'))}: {esc(r.get('title') or '')}</h3>"
        ]
        if deltas:
            labels = [
                f"without {d.get('name')}" if d.get("kind") == "drug" else f"no {d.get('name')}"
                for d in deltas
            ]
            fig = go.Figure(
                go.Bar(
                    x=[100 * float(d.get("delta_m_protein_reduction") or 0.0) for d in deltas],
                    y=labels,
                    orientation="h",
                    marker={
                        "color": [
                            "#4477aa" if d.get("kind") == "drug" else "#cc6677" for d in deltas
                        ]
                    },
                    customdata=[str(d.get("best_response_without")) for d in deltas],
                    hovertemplate="%{y}: %{x:.2f} points (best response %{customdata})"
                    "<extra></extra>",
                    name="delta",
                )
            )
            fig.update_layout(
                title="M-protein reduction with minus without (percentage points); "
                "blue: a drug dropped, red: a patient context removed",
                xaxis_title="delta of the M-protein reduction (points)",
                yaxis={"autorange": "reversed"},
            )
            parts.append(figure_html(fig, f"drivers-{i}", height=160 + 40 * len(deltas)))
        if nodes:
            fig = go.Figure(
                go.Bar(
                    x=[float(d.get("mean_change") or 0.0) for d in nodes],
                    y=[str(d.get("name")) for d in nodes],
                    orientation="h",
                    marker={"color": "#999933"},
                    hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
                    name="node",
                )
            )
            fig.update_layout(
                title="Key nodes: mean activity change vs untreated over the course",
                xaxis_title="mean activity change",
                yaxis={"autorange": "reversed"},
            )
            parts.append(figure_html(fig, f"nodes-{i}", height=160 + 40 * len(nodes)))
        items = "".join(
            f"<li data-kind='{esc(d.get('kind'))}' data-name='{esc(d.get('name'))}' "
            f"data-value='{_num(d.get('delta_m_protein_reduction', d.get('mean_change')))}'>"
            f"{esc(d.get('text') or d.get('name'))}</li>"
            for d in drivers
        )
        parts.append(f"<ul class='drivers'>{items}</ul>")
        out.append(f"<div class='driver-block' data-regimen='{esc(r.get('name'))}'>")
        out += parts
        out.append("</div>")
    return "".join(out)


def _settings_html(doc: Mapping[str, Any]) -> str:
    s = doc.get("settings") or {}
    keep = ("cycles", "ensemble", "seed", "step_hours", "toxicity", "top", "horizon_days")
    cells = "".join(
        f"<tr><th>{esc(k)}</th><td data-key='{esc(k)}'>{esc(s[k])}</td></tr>"
        for k in keep
        if k in s
    )
    cand = s.get("candidates")
    if cand:
        cells += f"<tr><th>candidates</th><td>{esc(', '.join(map(str, cand)))}</td></tr>"
    ordering = doc.get("ordering")
    return (
        (f"<p><b>Ordering rule</b>: {esc(ordering)}</p>" if ordering else "")
        + (f"<table class='tbl' id='settings'><tbody>{cells}</tbody></table>" if cells else "")
        + "<h3>Notes</h3>"
        + notes_html(doc.get("notes") or [])
    )


def rank_sections(doc: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(title, sections, regimen names) of a rank document."""
    if not is_rank_document(doc):
        raise InvalidInputError(
            "report(): the rank document needs a 'patient' table and a list 'regimens' of "
            "ranked regimens (mmmech rank --json)"
        )
    regs = sorted(doc["regimens"], key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
    if not regs:
        raise InvalidInputError("report(): the rank document ranks no regimens")
    p = doc["patient"]
    horizon = (doc.get("settings") or {}).get("horizon_days")
    top = regs[0]
    summary = (
        f"<p>{len(regs)} regimens ranked for patient <b>{esc(p.get('name') or p.get('id'))}"
        f"</b>; first: <b>{esc(top.get('name'))}</b> (best response "
        f"{esc(top.get('best_response'))}, PFS {fmt(top.get('pfs_months'), 2)} months, "
        f"M-protein reduction {_pct(top.get('m_protein_reduction'))}).</p>"
    )
    sections = [
        {"id": "research-use-section", "title": "Research use only", "html": _banner()},
        {"id": "patient-section", "title": "Patient", "html": _patient_html(p)},
        {"id": "ranking-section", "title": "Ranking", "html": summary + _table_html(regs)},
        {
            "id": "efficacy-section",
            "title": "Progression-free time and M-protein reduction",
            "html": _efficacy_html(regs, horizon),
        },
        {"id": "toxicity-section", "title": "Toxicity", "html": _toxicity_html(regs)},
        {
            "id": "drivers-section",
            "title": "What drives the top regimens",
            "html": _drivers_html(regs),
        },
        {"id": "notes", "title": "Ordering, settings and notes", "html": _settings_html(doc)},
    ]
    title = f"Regimens ranked for patient {p.get('name') or p.get('id')} (research use only)"
    return title, sections, [str(r.get("name")) for r in regs]
