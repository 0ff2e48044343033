"""The score report: monotherapy curves with their 4PL fits, the dose-response surface, each
metric's synergy map with the most synergistic area, the summary table with intervals, notes.

Two drugs: one surface and one map per metric. Three or more drugs: one panel per drug pair with
a slider over the other drugs' dose levels (the most synergistic area is outlined at the levels
it covers).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError
from ..units import format_nM
from ._common import esc, figure_html, fmt, notes_html, table_html

__all__ = ["score_document", "plate_document", "score_sections", "normalise_score"]

#: most panels (combinations of the other drugs' levels) a pair's slider holds
MAX_STEPS = 64
METRIC_NAMES = {"bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe", "zip": "ZIP"}


def _dose_label(v: float, unit: str | None) -> str:
    if v == 0:
        return "0"
    if unit in (None, "", "nM"):
        return format_nM(v).replace(" ", "")
    return f"{v:.3g} {unit}"


def score_document(result: Any) -> dict[str, Any]:
    """The full JSON document of a model score (:class:`mmmech.scoring.ScoreResult`): the
    ``mmmech score --json`` keys plus the grids (``inhibition``, ``viability``, ``matrices``,
    ``references``) and the monotherapy fits, i.e. everything the report draws."""
    syn = result.synergy
    doc = dict(result.to_dict(matrices=True))
    doc["units_by_drug"] = {d: "nM" for d in result.drugs}
    doc["fits"] = {d: f.to_dict() for d, f in syn.fits.items()}
    doc["references"] = {m: np.asarray(v).tolist() for m, v in syn.references.items()}
    if syn.intervals and "intervals" not in doc:
        doc["intervals"] = {m: [float(lo), float(hi)] for m, (lo, hi) in syn.intervals.items()}
    return doc


def plate_document(results: Sequence[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """The full JSON document of scored plate blocks (``[(block_id, SynergyResult), ...]``):
    ``mmmech score --data --json``'s list with each block's grids and fits."""
    out = []
    for bid, res in results:
        d = dict(res.to_dict(matrices=True))
        d["block_id"] = bid
        d["inhibition"] = d.pop("response")
        if res.extra:
            d["annotations"] = dict(res.extra)
        out.append(d)
    return out


def normalise_score(doc: Any) -> list[dict[str, Any]]:
    """The blocks of a score document (model score: one block; plate: one per block_id)."""
    blocks = doc if isinstance(doc, list) else doc.get("blocks", [doc])
    out = []
    for i, b in enumerate(blocks):
        if not isinstance(b, Mapping) or "drugs" not in b or "scores" not in b:
            raise InvalidInputError(
                f"report(): score block {i} needs 'drugs' and 'scores', got "
                f"{sorted(b) if isinstance(b, Mapping) else type(b).__name__}"
            )
        b = dict(b)
        drugs = list(b["drugs"])
        doses = b.get("doses") or {}
        units = b.get("units_by_drug") or b.get("units")
        if not isinstance(units, Mapping) or set(units) != set(drugs):
            units = {d: "nM" for d in drugs} if "context" in b else {d: None for d in drugs}
        b["units_by_drug"] = dict(units)
        grid = b.get("inhibition", b.get("response"))
        b["grid"] = None if grid is None else np.asarray(grid, dtype=float)
        b["dose_arrays"] = [np.asarray(doses.get(d, []), dtype=float) for d in drugs]
        if b["grid"] is not None and tuple(len(x) for x in b["dose_arrays"]) != b["grid"].shape:
            b["grid"] = None  # a grid that does not match the doses is not drawn
        out.append(b)
    return out


def _mono_fit(b: Mapping[str, Any], k: int) -> dict[str, float] | None:
    """The 4PL of drug k: from the document, else fitted to the grid's monotherapy series."""
    drug = b["drugs"][k]
    f = (b.get("fits") or {}).get(drug)
    if f and f.get("ok", True):
        return dict(f)
    grid = b["grid"]
    if grid is None:
        return None
    from ..synergy import fit_loglogistic  # deferred: fitting loads the synergy layer

    idx = tuple(slice(None) if j == k else 0 for j in range(grid.ndim))
    try:
        fit = fit_loglogistic(b["dose_arrays"][k], grid[idx])
    except Exception:  # noqa: BLE001 - an unfittable series is shown without a curve
        return None
    return dict(fit.to_dict(), refitted=True)


def _mono_figure(b: Mapping[str, Any], fig_id: str) -> str:
    # deferred: plotly is only needed once a report is written
    import plotly.graph_objects as go  # deferred: as above
    from plotly.subplots import make_subplots

    from ..synergy import LogLogistic  # deferred: as above

    drugs, grid = b["drugs"], b["grid"]
    K = len(drugs)
    fig = make_subplots(rows=1, cols=K, subplot_titles=drugs, horizontal_spacing=0.08)
    for k, drug in enumerate(drugs):
        d = b["dose_arrays"][k]
        unit = b["units_by_drug"].get(drug) or ""
        pos = d > 0
        if grid is not None:
            idx = tuple(slice(None) if j == k else 0 for j in range(K))
            y = grid[idx]
            fig.add_trace(
                go.Scatter(
                    x=d[pos],
                    y=y[pos],
                    mode="markers",
                    name=f"{drug}: data",
                    marker={"size": 8},
                    hovertemplate=f"{drug} %{{x:.4g}} {unit}<br>%{{y:.2f}} % inhibition"
                    "<extra></extra>",
                ),
                row=1,
                col=k + 1,
            )
        f = _mono_fit(b, k)
        if f is not None and pos.any():
            xs = np.geomspace(d[pos].min() / 3, d[pos].max() * 3, 120)
            curve = LogLogistic(e0=f["e0"], einf=f["einf"], ec50=f["ec50"], hill=f["hill"])
            ys = curve.predict(xs)
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    name=f"{drug}: 4PL fit (EC50 {f['ec50']:.3g} {unit}, Hill {f['hill']:.2f})",
                    hoverinfo="skip",
                ),
                row=1,
                col=k + 1,
            )
        fig.update_xaxes(
            type="log", title_text=f"{drug} ({unit})" if unit else drug, row=1, col=k + 1
        )
        fig.update_yaxes(title_text="% inhibition" if k == 0 else None, row=1, col=k + 1)
    fig.update_layout(title="Monotherapy dose-response with fitted 4-parameter log-logistic curves")
    return figure_html(fig, fig_id, height=380)


def _pair_slices(shape: tuple[int, ...], a: int, b: int) -> list[tuple[tuple[Any, ...], dict]]:
    """(index tuple of the (a, b) plane, {other drug index: level}) for each combination of the
    other drugs' levels (every level, 0 included), at most MAX_STEPS."""
    others = [k for k in range(len(shape)) if k not in (a, b)]
    out = []
    for levels in itertools.product(*[range(shape[k]) for k in others]):
        idx: list[Any] = [slice(None)] * len(shape)
        for k, lv in zip(others, levels, strict=True):
            idx[k] = lv
        out.append((tuple(idx), dict(zip(others, levels, strict=True))))
    return out


def _in_area(area: Mapping[str, Any] | None, levels: Mapping[int, int]) -> bool:
    if not area or "start" not in area:
        return False
    start = area["start"]
    return all(start[k] <= lv < start[k] + 3 for k, lv in levels.items())


def _area_shape(area: Mapping[str, Any], a: int, b: int, n_a: int, n_b: int) -> dict[str, Any]:
    i0, j0 = area["start"][a], area["start"][b]
    return {
        "type": "rect",
        "x0": i0 - 0.5,
        "x1": min(i0 + 3, n_a) - 0.5,
        "y0": j0 - 0.5,
        "y1": min(j0 + 3, n_b) - 0.5,
        "line": {"color": "black", "width": 3, "dash": "dash"},
        "name": "most synergistic area",
    }


def _pair_figure(
    b: Mapping[str, Any],
    a: int,
    c: int,
    values: np.ndarray,
    kind: str,
    fig_id: str,
    title: str,
    area: Mapping[str, Any] | None = None,
    zlabel: str = "",
) -> str:
    """A surface (``kind="surface"``) or heat map of the (a, c) plane; a slider over the other
    drugs' levels when there are more than two drugs."""
    import plotly.graph_objects as go  # deferred: plotly is only needed for reports

    drugs, doses, units = b["drugs"], b["dose_arrays"], b["units_by_drug"]
    K = len(drugs)
    la = [_dose_label(v, units.get(drugs[a])) for v in doses[a]]
    lc = [_dose_label(v, units.get(drugs[c])) for v in doses[c]]
    slices = _pair_slices(values.shape, a, c)
    note = ""
    if len(slices) > MAX_STEPS:
        # too many level combinations: the mean over the others' non-zero doses (as the static
        # synergy map draws it)
        others = tuple(k for k in range(K) if k not in (a, c))
        sl = tuple(slice(1, None) if k in others else slice(None) for k in range(K))
        plane = values[sl].mean(axis=others)
        planes: list[tuple[np.ndarray, dict[int, int], str]] = [
            (plane if a < c else plane.T, {}, "mean over the other drugs' doses")
        ]
        note = (
            f"<p class='small'>{len(slices)} combinations of the other drugs' levels: "
            "the panel shows the mean over their non-zero doses.</p>"
        )
    else:
        planes = []
        for idx, levels in slices:
            plane = values[idx]
            if a > c:
                plane = plane.T
            label = ", ".join(
                f"{drugs[k]} {_dose_label(doses[k][lv], units.get(drugs[k]))}"
                for k, lv in levels.items()
            )
            planes.append((plane, levels, label))
    traces, shapes = [], []
    lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    lim = max(lim, 1.0)
    for n, (plane, _levels, _label) in enumerate(planes):
        z = np.asarray(plane, dtype=float).T  # rows = drug c, columns = drug a
        common = {
            "z": z,
            "x": list(range(len(la))),
            "y": list(range(len(lc))),
            "visible": n == 0,
            "customdata": [[[la[i], lc[j]] for i in range(len(la))] for j in range(len(lc))],
            "hovertemplate": f"{drugs[a]} %{{customdata[0]}}<br>{drugs[c]} %{{customdata[1]}}"
            f"<br>{zlabel} %{{z:.2f}}<extra></extra>",
        }
        if kind == "surface":
            traces.append(go.Surface(colorscale="Viridis", colorbar={"title": zlabel}, **common))
        else:
            traces.append(
                go.Heatmap(
                    colorscale="RdBu_r",
                    zmin=-lim,
                    zmax=lim,
                    texttemplate="%{z:.1f}",
                    colorbar={"title": zlabel},
                    **common,
                )
            )
        shapes.append(
            [_area_shape(area, a, c, len(la), len(lc))]
            if area and (K == 2 or _in_area(area, _levels))
            else []
        )
    fig = go.Figure(traces)
    if kind == "surface":
        fig.update_layout(
            scene={
                "xaxis": {"title": drugs[a], "tickvals": list(range(len(la))), "ticktext": la},
                "yaxis": {"title": drugs[c], "tickvals": list(range(len(lc))), "ticktext": lc},
                "zaxis": {"title": zlabel},
            }
        )
    else:
        fig.update_xaxes(title_text=drugs[a], tickvals=list(range(len(la))), ticktext=la)
        fig.update_yaxes(title_text=drugs[c], tickvals=list(range(len(lc))), ticktext=lc)
        fig.update_layout(shapes=shapes[0])
    if len(planes) > 1:
        steps = []
        for n, (_plane, _levels, label) in enumerate(planes):
            vis = [m == n for m in range(len(planes))]
            layout: dict[str, Any] = {} if kind == "surface" else {"shapes": shapes[n]}
            steps.append({"method": "update", "args": [{"visible": vis}, layout], "label": label})
        fig.update_layout(
            sliders=[
                {"active": 0, "steps": steps, "currentvalue": {"prefix": "at "}, "pad": {"t": 40}}
            ]
        )
    elif planes and planes[0][2] and K > 2:
        title += f" ({planes[0][2]})"
    fig.update_layout(title=title)
    return figure_html(fig, fig_id, height=520 if kind == "surface" else 460) + note


def _summary_html(b: Mapping[str, Any], bid: str) -> str:
    scores = b.get("scores") or {}
    intervals = b.get("intervals") or {}
    ens = b.get("ensemble") or {}
    areas = b.get("most_synergistic_area") or {}
    units = b["units_by_drug"]
    rows = []
    for m, v in scores.items():
        iv = intervals.get(m)
        area = areas.get(m) or {}
        where = "; ".join(
            f"{esc(d)} {esc(_dose_label(x[0], units.get(d)))}&ndash;"
            f"{esc(_dose_label(x[-1], units.get(d)))}"
            for d, x in (area.get("doses") or {}).items()
            if x
        )
        e = ens.get(m) or {}
        rows.append(
            f"<tr data-metric='{esc(m)}'><td>{esc(METRIC_NAMES.get(m, m))}</td>"
            f"<td class='num' data-key='score' data-value='{v}'>{fmt(v)}</td>"
            f"<td class='num' data-key='mean' data-value='{e.get('mean', '')}'>"
            f"{fmt(e.get('mean')) if e else ''}</td>"
            f"<td class='num' data-key='interval'>"
            + (f"[{fmt(iv[0])}, {fmt(iv[1])}]" if iv else "")
            + f"</td><td class='num' data-key='area' data-value='{area.get('score', '')}'>"
            f"{fmt(area.get('score')) if area else ''}</td><td>{where}</td></tr>"
        )
    what = ""
    if ens:
        members = next(iter(ens.values())).get("members")
        what = (
            f"<p class='small'>Interval: central percentile interval over {members} model "
            "variants (set 0 = the curated model); mean: the ensemble mean.</p>"
        )
    elif intervals:
        treat = b.get("replicates_treatment", "")
        what = (
            "<p class='small'>Interval: "
            + (
                "2.5&ndash;97.5% range over SynergyFinder's 10 bootstrap plates"
                if treat == "synergyfinder-bootstrap"
                else "bootstrap 95% interval over the replicates of each well"
            )
            + ".</p>"
        )
    head = (
        f"<table class='tbl' id='summary-{bid}'><thead><tr><th>metric</th><th>score</th>"
        "<th>ensemble mean</th><th>interval</th><th>most synergistic area (mean)</th>"
        "<th>area doses</th></tr></thead><tbody>"
    )
    return (
        head
        + "".join(rows)
        + "</tbody></table>"
        + what
        + "<p class='small'>SynergyFinder conventions: percent inhibition, score = observed "
        "minus expected, positive = synergy; summary = mean over the wells where every drug is "
        "present; most synergistic area = the window of 3 consecutive doses per drug with the "
        "highest mean score.</p>"
    )


def score_sections(doc: Any) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(title, sections, drugs) of a score document."""
    blocks = normalise_score(doc)
    sections: list[dict[str, Any]] = []
    all_drugs: list[str] = []
    for n, b in enumerate(blocks):
        drugs = b["drugs"]
        all_drugs += drugs
        bid = str(n)
        label = " + ".join(drugs)
        if b.get("block_id") is not None:
            label = f"block {b['block_id']}: {label}"
        if b.get("context"):
            label += f" ({b['context']})"
        parts = [_summary_html(b, bid)]
        assay = b.get("assay")
        if isinstance(assay, Mapping) and assay.get("hours") is not None:
            parts.append(
                f"<p class='small'>Response: {esc(b.get('readout', 'viability'))} as "
                f"{esc(assay.get('response', 'cells'))} after {esc(assay['hours'])} h of the "
                "simulated assay (relative cell number, as a CellTiter-Glo plate reads it).</p>"
            )
        if b["grid"] is None:
            parts.append(
                "<p class='warn'>This document holds no dose-response grid (the JSON of "
                "<code>--json</code> leaves the grids out): the curves, the surface and the "
                "maps need the full document, which <code>--report</code> writes at run "
                "time and <code>mmmech.reports.score_document(result)</code> returns.</p>"
            )
        else:
            K = len(drugs)
            parts.append(_mono_figure(b, f"mono-{bid}"))
            pairs = list(itertools.combinations(range(K), 2))
            surf = "".join(
                "<div>"
                + _pair_figure(
                    b,
                    a,
                    c,
                    b["grid"],
                    "surface",
                    f"surface-{bid}-{a}-{c}",
                    f"Dose-response surface: {drugs[a]} x {drugs[c]}",
                    zlabel="% inhibition",
                )
                + "</div>"
                for a, c in pairs
            )
            parts.append(
                f"<h3>Dose-response surface (drag to turn)</h3><div class='grid'>{surf}</div>"
            )
            mats = b.get("matrices") or {}
            areas = b.get("most_synergistic_area") or {}
            for m, grid in mats.items():
                vals = np.asarray(grid, dtype=float)
                if vals.shape != b["grid"].shape:
                    continue
                name = METRIC_NAMES.get(m, m)
                maps = "".join(
                    "<div>"
                    + _pair_figure(
                        b,
                        a,
                        c,
                        vals,
                        "heatmap",
                        f"map-{bid}-{m}-{a}-{c}",
                        f"{name} synergy: {drugs[a]} x {drugs[c]}",
                        area=areas.get(m),
                        zlabel=name,
                    )
                    + "</div>"
                    for a, c in pairs
                )
                parts.append(
                    f"<h3>{esc(METRIC_NAMES.get(m, m))} synergy map (dashed: most synergistic "
                    f"area)</h3><div class='grid'>{maps}</div>"
                )
        eff = b.get("effect")
        if eff:
            parts.append(
                "<h3>Effect at the highest doses</h3>"
                + table_html(
                    ["", "fractional inhibition of viability"],
                    [(k, fmt(v, 3)) for k, v in eff.items()],
                )
            )
        parts.append("<h3>Notes</h3>" + notes_html(b.get("notes") or []))
        sections.append({"id": f"block-{bid}", "title": label, "html": "".join(parts)})
    title = "Synergy report: " + "; ".join(" + ".join(b["drugs"]) for b in blocks[:3])
    if len(blocks) > 3:
        title += f" and {len(blocks) - 3} more blocks"
    return title, sections, all_drugs
