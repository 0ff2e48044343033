"""What every report shares: provenance (versions, command, seed, sources), figures as HTML
fragments, the page template and the atomic write.

A report is one self-contained HTML file: plotly.js is embedded once (``include_plotlyjs=True``
for the whole page, never a CDN), the table script and style sheet are inlined from the
package's ``templates/`` folder, and the result document the page shows is embedded as JSON in
``<script type="application/json" id="mmmech-document">`` so the numbers stay readable (and
checkable) without mmmech.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from .. import __version__
from .._typing import PathLike
from ..exceptions import InvalidInputError
from ..sources import is_source, source_url
from ..utils import atomic_write, output_target

__all__ = [
    "KINDS",
    "provenance",
    "source_link",
    "figure_html",
    "render_page",
    "write_html",
    "check_report_path",
    "jsonable",
]

#: the kinds of report, in the order messages list them
KINDS = ("score", "screen", "regimen", "trial", "rank")

_NCT = re.compile(r"^NCT\d{8}$")


def jsonable(obj: Any) -> Any:
    """Plain JSON-able Python (NumPy arrays and scalars, tuples); non-finite floats -> None."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    tolist = getattr(obj, "tolist", None)
    if callable(tolist) and not isinstance(obj, (str, bytes)):
        return jsonable(tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def source_link(source: str) -> dict[str, str | None]:
    """``{"id", "url"}`` of a source identifier (``url`` None when it has no web address)."""
    s = str(source).strip()
    if is_source(s):
        return {"id": s, "url": source_url(s)}
    if _NCT.match(s):
        return {"id": s, "url": f"https://clinicaltrials.gov/study/{s}"}
    return {"id": s, "url": None}


def check_report_path(path: PathLike, func: str = "write_report") -> str:
    """The report path, checked before any work: ``.html``/``.htm``, an existing folder, only a
    regular file replaced (docs/cli.md, *Output files*)."""
    p = os.fspath(path)
    label = func if " " in func else f"{func}()"
    if os.path.splitext(p)[1].lower() not in (".html", ".htm"):
        raise InvalidInputError(f"{label}: a report is an .html file, got {p!r}")
    output_target(p, prefix=f"{label}: ")
    return p


def _data_versions() -> list[dict[str, Any]]:
    """Versions of the bundled data files the results rest on."""
    from .. import resources as _res  # deferred: reads TOML only when a report is written

    out = []
    for folder, name, label in (
        ("structures", "drugs", "structures/drugs.toml"),
        ("structures", "targets", "structures/targets.toml"),
        ("structures", "pk", "structures/pk.toml"),
    ):
        try:
            meta = _res.load_toml(folder, name).get("meta", {})
        except Exception:  # noqa: BLE001 - a missing data file is reported, not fatal
            continue
        version = meta.get("version", meta.get("schema"))
        out.append({"file": label, "version": None if version is None else str(version)})
    return out


def _model_info(model: Any) -> tuple[dict[str, Any] | None, Any]:
    """(model summary, PathwayModel or None) of a model name, path or object."""
    if model is None:
        return None, None
    try:
        from .. import pathways  # deferred: loads the model only when a report names one

        obj = model if hasattr(model, "edges") else pathways.load(model)
    except Exception:  # noqa: BLE001 - a model that no longer loads is named, not fatal
        return {"name": str(model), "version": None, "origin": None}, None
    return {"name": obj.name, "version": obj.version, "origin": obj.origin}, obj


def _edges_involved(obj: Any, targets: Iterable[str]) -> list[dict[str, Any]]:
    """The model's edges downstream of the drugs' target nodes (what carries their effect)."""
    if obj is None:
        return []
    g = obj.graph
    start = [t for t in targets if t in g]
    reach: set[str] = set(start)
    # deferred: networkx is loaded with the model already; imported here for its traversal
    import networkx as nx

    for t in start:
        reach |= nx.descendants(g, t)
    out = []
    for e in obj.edges:
        if e.source in reach:
            out.append(
                {
                    "source": e.source,
                    "target": e.target,
                    "sign": "+" if e.sign > 0 else "-",
                    "sources": [source_link(s) for s in e.sources],
                }
            )
    return out


def _drug_info(names: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """(per drug: name and sources; all the drugs' target genes)."""
    from .. import drugs as _drugs  # deferred: the library loads only when a report needs it

    lib = _drugs.library()
    out: list[dict[str, Any]] = []
    targets: list[str] = []
    for n in dict.fromkeys(names):
        try:
            d = lib[n]
        except Exception:  # noqa: BLE001 - a drug not in the library is listed without sources
            out.append({"name": n, "sources": []})
            continue
        out.append({"name": d.name, "sources": [source_link(s) for s in d.sources]})
        targets += [t.target for t in d.targets]
    return out, targets


def provenance(
    *,
    drugs: Sequence[str] = (),
    model: Any = None,
    command: str | Sequence[str] | None = None,
    seed: Any = None,
    sources: Iterable[str] = (),
    parameter_files: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The "how this was made" block of every report.

    Parameters
    ----------
    drugs : drug names involved (their library sources are listed)
    model : model name, path or PathwayModel (its name, version and origin; the edges
        downstream of the drugs' targets with their sources)
    command : the exact command line (a string, or argv as a list)
    seed : the seed of the run (None: no random draws, or not recorded)
    sources : further source identifiers (regimens, trials)
    parameter_files : ``{"file", "version"}`` of parameter files beyond the bundled ones
    """
    if command is not None and not isinstance(command, str):
        import shlex  # deferred: only for a command given as argv

        command = shlex.join(["mmmech", *[str(a) for a in command]])
    minfo, mobj = _model_info(model)
    dinfo, targets = _drug_info(drugs)
    files = _data_versions()
    if minfo is not None:
        files.insert(0, {"file": minfo["origin"] or minfo["name"], "version": minfo["version"]})
    files += [{"file": str(p.get("file")), "version": p.get("version")} for p in parameter_files]
    return {
        "mmmech_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "command": command,
        "seed": seed,
        "model": minfo,
        "parameter_files": files,
        "drugs": dinfo,
        "edges": _edges_involved(mobj, targets),
        "sources": [source_link(s) for s in dict.fromkeys(sources)],
    }


def figure_html(fig: Any, div_id: str, height: int | None = None) -> str:
    """A plotly figure as a ``<div>`` plus its specification (JSON). The page's script draws it
    with ``Plotly.newPlot`` when it scrolls into view (plotly.js itself is embedded once per
    page), so a long report opens quickly; ``window.mmmechRenderAll()`` draws every figure."""
    fig.update_layout(template="plotly_white", margin={"l": 60, "r": 30, "t": 50, "b": 50})
    if height is not None:
        fig.update_layout(height=height)
    spec = json.dumps(_plain_arrays(json.loads(fig.to_json(validate=False))), allow_nan=False)
    spec = spec.replace("</", "<\\/")
    h = int(fig.layout.height or 450)
    return (
        f'<div class="mmmech-plot" id="{esc(div_id)}" style="min-height:{h}px"></div>'
        f'<script type="application/json" class="plot-spec" data-for="{esc(div_id)}">'
        f"{spec}</script>"
    )


def _plain_arrays(obj: Any) -> Any:
    """Plotly's base64 typed arrays (``{"dtype", "bdata", "shape"}``) back to plain lists, so
    the page's figure data stay readable JSON (and NaN becomes null, a gap)."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            import base64  # deferred: only for figures

            import numpy as np  # deferred: as above

            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            shape = obj.get("shape")
            if shape:
                arr = arr.reshape([int(n) for n in str(shape).split(",")])
            return jsonable(arr.astype(float) if arr.dtype.kind == "f" else arr)
        return {k: _plain_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain_arrays(v) for v in obj]
    return obj


def _template_text(name: str) -> str:
    folder = resources.files(__package__).joinpath("templates")
    return folder.joinpath(name).read_text(encoding="utf-8")


def _plotlyjs() -> str:
    # deferred: plotly is only needed once a report is written
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def render_page(
    kind: str,
    title: str,
    sections: Sequence[Mapping[str, Any]],
    meta: Mapping[str, Any],
    document: Any,
) -> str:
    """The whole page: header, sections (``{"id", "title", "html"}``), provenance, document."""
    # deferred: jinja2 is only needed once a report is written
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tmpl = env.from_string(_template_text("report.html.j2"))
    doc_json = json.dumps(jsonable(document), ensure_ascii=False, allow_nan=False)
    # inside <script>: "</" must not end the element early
    doc_json = doc_json.replace("</", "<\\/")
    return tmpl.render(
        kind=kind,
        title=title,
        sections=[dict(s, html=jinja2.filters.Markup(s["html"])) for s in sections],
        meta=_with_markup_tables(meta, jinja2.filters.Markup),
        css=jinja2.filters.Markup(_template_text("report.css")),
        script=jinja2.filters.Markup(_template_text("report.js")),
        plotlyjs=jinja2.filters.Markup(_plotlyjs()),
        document=jinja2.filters.Markup(doc_json),
    )


def _with_markup_tables(meta: Mapping[str, Any], markup: Any) -> Mapping[str, Any]:
    """`meta` with the HTML of its optional ``tables`` (``{"id", "title", "html"}``, extra
    provenance tables a kind adds) marked safe."""
    if not meta.get("tables"):
        return meta
    return {**meta, "tables": [dict(t, html=markup(t["html"])) for t in meta["tables"]]}


def write_html(path: PathLike, text: str) -> str:
    """Write the page atomically (temporary file beside it, then ``os.replace``)."""
    p = os.fspath(path)
    atomic_write(p, text.encode("utf-8"))
    return p


def esc(x: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(x), quote=True)


def fmt(x: Any, digits: int = 2) -> str:
    """A number as the report shows it (``n/a`` for missing or non-finite)."""
    if x is None or isinstance(x, bool):
        return "n/a" if x is None else str(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.{digits}f}"


def table_html(
    head: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "tbl", raw: bool = False
) -> str:
    """A plain HTML table (cells escaped unless `raw`)."""
    out = [f'<table class="{cls}"><thead><tr>']
    out += [f"<th>{esc(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def notes_html(notes: Iterable[str]) -> str:
    items = [f"<li>{esc(n)}</li>" for n in notes if str(n).strip()]
    return "<ul class='notes'>" + "".join(items) + "</ul>" if items else "<p>No notes.</p>"
