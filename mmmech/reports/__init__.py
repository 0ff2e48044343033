"""Self-contained interactive HTML reports of scores, screens, regimens, virtual trials and
regimens ranked for one patient.

One file per report, readable offline: plotly.js is embedded once (no CDN), the page's table
script is plain JavaScript inlined from ``templates/``, and the result document is embedded as
JSON (``<script type="application/json" id="mmmech-document">``). Every report ends with how it
was made: the mmmech version, the model and data/parameter-file versions, the exact command,
the seed and the sources (PubMed/DOI links) of the drugs and of the network edges downstream of
their targets. Files are written atomically (docs/cli.md, *Output files*).

>>> import mmmech.reports as rp
>>> rp.KINDS
('score', 'screen', 'regimen', 'trial', 'rank')

Python::

    res = mmmech.score(["bortezomib", "lenalidomide"], context="marrow")
    mmmech.reports.write_report(res, "vr.html")
    mmmech.reports.write_report("pairs.parquet", "pairs.html")      # a saved result
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .._typing import PathLike
from ..exceptions import InvalidInputError
from ._common import KINDS, check_report_path, jsonable, provenance, render_page, write_html
from ._rank import is_rank_document, rank_sections
from ._regimen import regimen_document, regimen_sections
from ._score import plate_document, score_document, score_sections
from ._screen import read_screen_table, screen_document, screen_sections
from ._trial import ensemble_table_html, trial_sections

__all__ = [
    "KINDS",
    "write_report",
    "render_report",
    "document",
    "detect_kind",
    "load_result",
    "provenance",
    "score_document",
    "plate_document",
    "screen_document",
    "regimen_document",
    "check_report_path",
]

_TABLE_EXTS = (".parquet", ".pq", ".csv")


def detect_kind(doc: Any) -> str:
    """The kind of a result document (``score``, ``screen``, ``regimen``, ``trial`` or
    ``rank``), told from its keys; InvalidInputError (one line) for anything else."""
    if isinstance(doc, Mapping) and doc.get("kind") in KINDS:
        return str(doc["kind"])
    if is_rank_document(doc):
        return "rank"
    if isinstance(doc, list) and doc and all(isinstance(b, Mapping) for b in doc):
        if all("scores" in b and "drugs" in b for b in doc):
            return "score"
    if isinstance(doc, Mapping):
        keys = set(doc)
        if {"arms", "hazard_ratios"} <= keys or {"arms", "population"} <= keys:
            return "trial"
        if {"regimen", "m_protein"} <= keys:
            return "regimen"
        if "rows" in keys and "rank_by" in keys or {"top", "rank_by"} <= keys:
            return "screen"
        if {"drugs", "scores"} <= keys:
            return "score"
        got = sorted(keys)[:10]
    else:
        got = type(doc).__name__  # type: ignore[assignment]
    raise InvalidInputError(
        "report(): cannot tell what kind of result this is: expected a score (keys drugs, "
        "scores), screen (rows or top, rank_by), regimen (regimen, m_protein), trial (arms, "
        f"hazard_ratios) or rank (patient, regimens) document, got {got}"
    )


def load_result(path: PathLike, func: str = "report") -> Any:
    """A saved result: a JSON document (``--json`` output) or a screen table (.parquet/.csv)."""
    p = os.fspath(path)
    label = func if " " in func else f"{func}()"
    ext = os.path.splitext(p)[1].lower()
    if ext in _TABLE_EXTS:
        return read_screen_table(p, func=func)
    if ext != ".json":
        raise InvalidInputError(
            f"{label}: a saved result is a .json document or a screen table "
            f"({', '.join(_TABLE_EXTS)}), got {p!r}"
        )
    with open(p, encoding="utf-8") as fh:
        text = fh.read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{label}: {p!r} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if isinstance(doc, Mapping) and "top" in doc and "rows" not in doc:
        # `mmmech screen --json`: the whole table when its file is still there, else the top rows
        out = doc.get("out")
        if isinstance(out, str):
            full = out if os.path.isabs(out) else os.path.join(os.path.dirname(p), out)
            if os.path.isfile(full) and os.path.splitext(full)[1].lower() in _TABLE_EXTS:
                return read_screen_table(full, func=func)
        return {
            "kind": "screen",
            "rows": doc["top"],
            "columns": doc.get("columns"),
            "rank_by": doc.get("rank_by"),
            "config": {"ensemble": doc.get("ensemble"), "seed": doc.get("seed")},
            "notes": list(doc.get("notes") or [])
            + [f"Only the top rows per context: the table {out!r} was not found."],
            "seed": doc.get("seed"),
        }
    return doc


def document(result: Any) -> Any:
    """The full JSON document of a result object (ScoreResult, scored plate blocks
    ``[(block_id, SynergyResult)]``, a SynergyResult, a screen DataFrame, a RegimenResult) or a
    document already (returned as it is)."""
    if isinstance(result, (Mapping, list)) and not (
        isinstance(result, list) and result and isinstance(result[0], tuple)
    ):
        return result
    if isinstance(result, list):
        return plate_document(result)
    name = type(result).__name__
    if name == "ScoreResult":
        return score_document(result)
    if name == "SynergyResult":
        return plate_document([(None, result)])
    if name == "RegimenResult":
        return regimen_document(result)
    if hasattr(result, "to_dict") and hasattr(result, "columns"):  # a DataFrame
        return screen_document(result)
    raise InvalidInputError(
        f"write_report(): cannot report a {name}; expected a ScoreResult, SynergyResult, "
        "screen DataFrame, RegimenResult or a result document"
    )


def _regimen_facts(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(drugs, sources) of the regimens named (those that load; others are skipped)."""
    from .. import regimens  # deferred: regimens load only for a regimen or trial report

    drugs: list[str] = []
    sources: list[str] = []
    for n in names:
        base = str(n).split(" (")[0]
        try:
            reg = regimens.load(base)
        except Exception:  # noqa: BLE001 - a regimen file that moved is reported without sources
            continue
        drugs += list(reg.drugs)
        sources += list(reg.sources)
    return drugs, sources


def render_report(
    result: Any,
    *,
    kind: str | None = None,
    command: str | Sequence[str] | None = None,
    seed: Any = None,
    model: Any = None,
) -> str:
    """The HTML text of a report (see :func:`write_report`)."""
    doc = document(result)
    kind = kind or detect_kind(doc)
    if kind not in KINDS:
        raise InvalidInputError(f"render_report(): kind must be one of {KINDS}, got {kind!r}")
    sources: list[str] = []
    files: list[Mapping[str, Any]] = []
    if kind == "score":
        title, sections, drugs = score_sections(doc)
        blocks = doc if isinstance(doc, list) else [doc]
        if model is None and any("context" in b for b in blocks if isinstance(b, Mapping)):
            model = "myeloma"  # a model score names no model in its JSON: the bundled one
        if seed is None and isinstance(doc, Mapping) and doc.get("ensemble"):
            seed = doc.get("seed")
    elif kind == "screen":
        title, sections, drugs = screen_sections(doc)
        cfg = doc.get("config") or {}
        if model is None and cfg.get("model"):
            origin = cfg.get("model_origin")
            model = origin if origin and os.path.isfile(origin) else cfg["model"]
        seed = cfg.get("seed", doc.get("seed")) if seed is None else seed
    elif kind == "regimen":
        title, sections, drugs = regimen_sections(doc)
        more, sources = _regimen_facts([doc.get("regimen")])
        drugs = list(dict.fromkeys(drugs + more))
        model = model or "myeloma"
    elif kind == "rank":
        title, sections, names = rank_sections(doc)
        drugs, sources = _regimen_facts(names)
        settings = doc.get("settings") or {}
        seed = settings.get("seed") if seed is None else seed
        for r in doc.get("regimens") or []:
            tox = r.get("toxicity") if isinstance(r, Mapping) else None
            for li in (tox or {}).get("label_incidence") or []:
                if isinstance(li, Mapping) and li.get("source"):
                    sources.append(str(li["source"]))
        model = model or "myeloma"
    else:
        title, sections, names = trial_sections(doc)
        drugs, sources = _regimen_facts(names)
        seed = doc.get("seed") if seed is None else seed
        sources += [str(s) for s in (doc.get("sources") or [])]
        model = model or "myeloma"
        files = [p for p in (doc.get("parameter_files") or []) if isinstance(p, Mapping)]
    meta = provenance(
        drugs=drugs, model=model, command=command, seed=seed, sources=sources, parameter_files=files
    )
    if kind == "trial":
        table = ensemble_table_html(doc)
        if table is not None:
            meta["tables"] = [
                {"id": "ensemble-parameters", "title": "Parameter ensemble", "html": table}
            ]
    return render_page(kind, title, sections, meta, {"kind": kind, "document": jsonable(doc)})


def write_report(
    result: Any,
    path: PathLike,
    *,
    kind: str | None = None,
    command: str | Sequence[str] | None = None,
    seed: Any = None,
    model: Any = None,
) -> str:
    """Write a self-contained interactive HTML report of `result` to `path` (atomically).

    Parameters
    ----------
    result : a result object (ScoreResult, ``[(block_id, SynergyResult)]``, SynergyResult,
        screen DataFrame, RegimenResult), a result document (dict or list, as ``--json``
        prints it; a trial's or ``mmmech rank``'s JSON), or the path of a saved result
        (``.json``, ``.parquet``, ``.pq``, ``.csv``)
    path : the ``.html`` file to write (checked before any work)
    kind : ``score``, ``screen``, ``regimen``, ``trial`` or ``rank`` (default: told from the
        document)
    command : the exact command (string or argv list) shown in the report
    seed : the run's seed (default: taken from the document where it has one)
    model : model name or path (default: the document's, else the bundled ``myeloma``)

    Returns
    -------
    str : `path`
    """
    out = check_report_path(path, "write_report")
    if isinstance(result, (str, os.PathLike)):
        result = load_result(result, func="write_report")
    text = render_report(result, kind=kind, command=command, seed=seed, model=model)
    return write_html(out, text)
