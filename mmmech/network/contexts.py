"""Contexts: the cellular surroundings a simulation runs in.

A context fixes nodes of a pathway model: effector cells, complement, stromal cytokines
(``[set]``), knockouts (fixed at 0), overexpressed nodes (fixed at 1) and target mutations. It
may also scale node levels (``[levels]``: relative abundance, e.g. BCL2 in t(11;14)), which keep
the node dynamic so drugs still act on it. Bundled contexts live in ``pathways/contexts/``: the
cellular surroundings (``cell_line``, ``marrow``) and patient genetics and acquired resistance
(``t11_14``, ``del17p``, ``crbn_low``, ...), which compose with them (``load_context(["marrow",
"t11_14"])``, applied in order). A user context is a ``.toml`` file of the same form, optionally
``extends = "marrow"`` to start from a bundled one. ``[sources]`` names the sources of each entry
and ``[notes]`` says where a value is a modelling choice.

Examples
--------
>>> c = load_context("marrow")
>>> c.settings["NKCells"], c.name
(1.0, 'marrow')
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._readonly import read_only
from .._typing import ContextLike
from ..exceptions import InvalidInputError, ModelFileError, UnknownContextError
from ..resources import data_file, list_data, parse_toml, read_text_file
from ..sources import describe_expected, is_source
from ..utils import did_you_mean

__all__ = ["Context", "load_context", "available_contexts", "compose_contexts"]


@dataclass(frozen=True)
class Context:
    """Node settings defining a context.

    Attributes
    ----------
    name, description, origin : str
    settings : dict node -> value in [0, 1] (fixed), after knockouts (0) and overexpression (1)
    knockouts, overexpressed : tuple of node names
    mutations : tuple of mutation strings (e.g. ``"PSMB5 A49T"``)
    levels : dict node -> relative abundance >= 0 (1 = the model's baseline); the node stays
        dynamic, so drugs still act on it (docs/semantics.md#contexts)
    sources : dict entry -> tuple of source identifiers (an entry is a node name or a
        mutation text of the context)
    notes : dict entry -> str (why a value was chosen; where it is a modelling choice)
    parts : tuple of the names composed into this context (empty for a single context)
    references : tuple of source identifiers about the context as a whole (``[context]
        sources``), e.g. what the model cannot yet represent
    note : str (``[context] note``)
    """

    name: str
    description: str = ""
    settings: Mapping[str, float] = field(default_factory=dict)
    knockouts: tuple[str, ...] = ()
    overexpressed: tuple[str, ...] = ()
    mutations: tuple[str, ...] = ()
    origin: str = ""
    levels: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        # shared by every caller of a cached context: read-only (issue: one caller's edit
        # changed every later simulation in the process)
        for name in ("settings", "levels", "sources", "notes"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    def entries(self) -> list[dict[str, Any]]:
        """Every entry of the context, in the order set, levels, knockouts, overexpressed,
        mutations: ``{kind, entry, value, sources, note}``."""
        out = []
        kos, ovs = set(self.knockouts), set(self.overexpressed)
        for node, v in self.settings.items():
            if node in kos or node in ovs:
                continue
            out.append(self._entry("set", node, v))
        for node, v in self.levels.items():
            out.append(self._entry("level", node, v))
        for node in dict.fromkeys(self.knockouts):
            out.append(self._entry("knockout", node, 0.0))
        for node in dict.fromkeys(self.overexpressed):
            out.append(self._entry("overexpress", node, 1.0))
        for m in dict.fromkeys(self.mutations):
            out.append(self._entry("mutation", m, None))
        return out

    def _entry(self, kind: str, entry: str, value: float | None) -> dict[str, Any]:
        return {
            "kind": kind,
            "entry": entry,
            "value": value,
            "sources": list(self.sources.get(entry, ())),
            "note": self.notes.get(entry, ""),
        }

    def unsourced(self) -> list[str]:
        """Entries (nodes set, levelled, knocked out or overexpressed; mutations) without a
        source."""
        return [e["entry"] for e in self.entries() if not e["sources"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "settings": dict(self.settings),
            "levels": dict(self.levels),
            "knockouts": list(self.knockouts),
            "overexpressed": list(self.overexpressed),
            "mutations": list(self.mutations),
            "sources": {k: list(v) for k, v in self.sources.items()},
            "notes": dict(self.notes),
            "parts": list(self.parts),
            "references": list(self.references),
            "note": self.note,
            "origin": self.origin,
        }


def available_contexts() -> list[str]:
    """Names of the bundled contexts."""
    return [n[:-5] for n in list_data("contexts")]


#: longest chain of contexts extending one another (a context file extends another one, ...)
MAX_EXTENDS = 16


def _extends_target(name, origin):
    """What ``extends = NAME`` in the context file `origin` names: a bundled context, else a
    path relative to the folder of `origin` (an absolute path as is)."""
    if name in available_contexts() or name.strip().lower() == "none" or os.path.isabs(name):
        return name
    folder = os.path.dirname(origin) if os.path.isfile(origin) else ""
    beside = os.path.join(folder, name)
    return beside if os.path.isfile(beside) else name


def _line_of(text, key, origin, starts=False):
    """``origin, line N`` of the first line mentioning `key` (or just `origin`)."""
    for i, ln in enumerate(text.splitlines(), 1):
        if ln.strip().startswith(key) if starts else key in ln:
            return f"{origin}, line {i}"
    return origin


#: the largest relative level a context may give (a 1000-fold change is far beyond any
#: expression difference the contexts describe; larger values are typing errors)
MAX_LEVEL = 1000.0

_TABLES = ("context", "set", "levels", "sources", "notes")


def _parse(data, origin, text, chain=()):
    for k in data:
        if k not in _TABLES:
            raise ModelFileError(
                f"{_line_of(text, k, origin)}: unknown table {k!r} in a context file; expected "
                f"{', '.join(f'[{t}]' for t in _TABLES)}{did_you_mean(k, _TABLES)}"
            )
    meta = data.get("context") or {}
    if not isinstance(meta, dict):
        raise ModelFileError(f"{origin}: [context] must be a table")
    base = None
    if meta.get("extends") is not None:
        base = _load(_extends_target(str(meta["extends"]), origin), chain)
    settings = dict(base.settings) if base else {}
    levels = dict(base.levels) if base else {}
    sources = dict(base.sources) if base else {}
    notes = dict(base.notes) if base else {}
    raw = data.get("set") or {}
    if not isinstance(raw, dict):
        raise ModelFileError(f"{origin}: [set] must map node names to values in [0, 1]")
    for node, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise ModelFileError(
                f"{_line_of(text, node, origin, True)}: [set] {node} must be a number in "
                f"[0, 1], got {v!r}"
            )
        settings[node] = float(v)
        levels.pop(node, None)
    raw = data.get("levels") or {}
    if not isinstance(raw, dict):
        raise ModelFileError(
            f"{origin}: [levels] must map node names to relative levels (numbers >= 0)"
        )
    for node, v in raw.items():
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not math.isfinite(float(v))
            or not 0.0 <= float(v) <= MAX_LEVEL
        ):
            raise ModelFileError(
                f"{_line_of(text, node, origin, True)}: [levels] {node} must be a relative "
                f"level, a number in [0, {MAX_LEVEL:g}] (1 = the model's baseline), got {v!r}"
            )
        if node in (data.get("set") or {}):
            raise ModelFileError(
                f"{_line_of(text, node, origin, True)}: {node} is both fixed ([set]) and "
                f"given a level ([levels]); a fixed node ignores its level: keep one"
            )
        levels[node] = float(v)
        settings.pop(node, None)

    def names(key):
        val = meta.get(key, [])
        if (
            isinstance(val, str)
            or not isinstance(val, list)
            or not all(isinstance(x, str) for x in val)
        ):
            raise ModelFileError(
                f"{origin}: [context] {key} must be a list of strings, got {val!r}"
            )
        return tuple(val)

    kos, ovs, muts = names("knockout"), names("overexpress"), names("mutations")
    for n in kos:
        settings[n] = 0.0
        levels.pop(n, None)
    for n in ovs:
        settings[n] = 1.0
        levels.pop(n, None)
    entries = set(settings) | set(levels) | set(muts) | (set(base.mutations) if base else set())
    raw_sources = data.get("sources") or {}
    if not isinstance(raw_sources, dict):
        raise ModelFileError(f"{origin}: [sources] must map entries to lists of source ids")
    for key, ids in raw_sources.items():
        if key not in entries:
            raise ModelFileError(
                f"{_line_of(text, key, origin, True)}: [sources] {key!r} names no entry of "
                f"this context (a node of [set], [levels], knockout or overexpress, or a "
                f"mutation){did_you_mean(key, entries)}"
            )
        if isinstance(ids, str) or not isinstance(ids, list) or not ids:
            raise ModelFileError(
                f"{_line_of(text, key, origin, True)}: [sources] {key} must be a non-empty "
                f"list of source identifiers, got {ids!r}"
            )
        for sid in ids:
            if not is_source(sid):
                raise ModelFileError(
                    f"{_line_of(text, key, origin, True)}: [sources] {key}: {sid!r} is not a "
                    f"source identifier; {describe_expected()}"
                )
        sources[key] = tuple(ids)
    refs = meta.get("sources", [])
    if isinstance(refs, str) or not isinstance(refs, list):
        raise ModelFileError(
            f"{origin}: [context] sources must be a list of source identifiers, got {refs!r}"
        )
    for sid in refs:
        if not is_source(sid):
            raise ModelFileError(
                f"{origin}: [context] sources: {sid!r} is not a source identifier; "
                f"{describe_expected()}"
            )
    if not isinstance(meta.get("note", ""), str):
        raise ModelFileError(f"{origin}: [context] note must be text, got {meta['note']!r}")
    raw_notes = data.get("notes") or {}
    if not isinstance(raw_notes, dict):
        raise ModelFileError(f"{origin}: [notes] must map entries to text")
    for key, note in raw_notes.items():
        if key not in entries:
            raise ModelFileError(
                f"{_line_of(text, key, origin, True)}: [notes] {key!r} names no entry of "
                f"this context{did_you_mean(key, entries)}"
            )
        if not isinstance(note, str):
            raise ModelFileError(f"{origin}: [notes] {key} must be text, got {note!r}")
        notes[key] = note
    return Context(
        name=str(meta.get("name") or os.path.splitext(os.path.basename(origin))[0]),
        description=str(meta.get("description", "")),
        settings=settings,
        knockouts=(base.knockouts if base else ()) + kos,
        overexpressed=(base.overexpressed if base else ()) + ovs,
        mutations=(base.mutations if base else ()) + muts,
        origin=origin,
        levels=levels,
        sources=sources,
        notes=notes,
        references=tuple(refs),
        note=str(meta.get("note", "")),
    )


def compose_contexts(contexts: Sequence[ContextLike]) -> Context:
    """One context from several, applied in order (``--context marrow --context t11_14``).

    A later context's ``[set]`` value or level for a node replaces an earlier one for the same
    node (whichever kind it was); knockouts, overexpressed nodes and mutations accumulate (a
    mutation given twice counts once, as everywhere). The name joins the parts with ``+``
    (``"marrow+t11_14"``); one context is returned as it is.

    Examples
    --------
    >>> c = compose_contexts(["marrow", "t11_14"])
    >>> c.name, c.settings["NKCells"], c.levels["BCL2Basal"] > 1
    ('marrow+t11_14', 1.0, True)
    """
    items = list(contexts)
    if not items:
        raise InvalidInputError("load_context(): an empty list of contexts; name at least one")
    parts = [_load(c, ()) for c in items]
    if len(parts) == 1:
        return parts[0]
    settings: dict[str, float] = {}
    levels: dict[str, float] = {}
    sources: dict[str, tuple[str, ...]] = {}
    notes: dict[str, str] = {}
    kos: tuple[str, ...] = ()
    ovs: tuple[str, ...] = ()
    muts: tuple[str, ...] = ()
    for c in parts:
        for node, v in c.settings.items():
            settings[node] = v
            levels.pop(node, None)
        for node, v in c.levels.items():
            levels[node] = v
            settings.pop(node, None)
        kos += c.knockouts
        ovs += c.overexpressed
        muts += c.mutations
        sources.update(c.sources)
        notes.update(c.notes)
    names = [c.name for c in parts]
    return Context(
        name="+".join(names),
        description=" ".join(f"{c.name}: {c.description}" for c in parts),
        settings=settings,
        # a knockout or overexpression a later level replaced is no longer one
        knockouts=tuple(n for n in kos if settings.get(n) == 0.0),
        overexpressed=tuple(n for n in ovs if settings.get(n) == 1.0),
        mutations=muts,
        origin=" + ".join(c.origin for c in parts),
        levels=levels,
        sources=sources,
        notes=notes,
        parts=tuple(names),
        references=tuple(dict.fromkeys(r for c in parts for r in c.references)),
        note=" ".join(f"{c.name}: {c.note}" for c in parts if c.note),
    )


@functools.lru_cache(maxsize=16)
def _bundled(name):
    text = data_file("contexts", f"{name}.toml").read_text(encoding="utf-8")
    origin = f"pathways/contexts/{name}.toml"
    return _parse(parse_toml(text, origin), origin, text, ((("bundled", name), name),))


#: the empty context: nothing fixed (``--context none``), for models the bundled contexts do
#: not fit
NO_CONTEXT = Context(name="none", description="no context: no node is fixed", origin="none")


def load_context(context: ContextLike = "cell_line") -> Context:
    """A :class:`Context` from a bundled name, a ``.toml`` path, ``"none"`` (nothing fixed), a
    Context (returned as is), or a list of them composed in order (:func:`compose_contexts`;
    ``"marrow+t11_14"``, a composed context's name, is read the same way).

    A context file may ``extends`` another context (a bundled name or a file); a loop of
    contexts extending one another is refused, naming the files."""
    if isinstance(context, (list, tuple)):
        return compose_contexts(context)
    return _load(context, ())


def _load(context, chain):
    if isinstance(context, Context):
        return context
    if not isinstance(context, (str, os.PathLike)):
        raise InvalidInputError(
            f"load_context(): context must be a name or a path, got {type(context).__name__}"
        )
    text = os.fspath(context)
    if not isinstance(text, str):
        raise InvalidInputError(
            f"load_context(): context must be a name or a path, got {type(context).__name__}"
        )
    if text.strip().lower() == "none":
        return NO_CONTEXT
    if text in available_contexts():
        key = ("bundled", text)
    elif os.path.isfile(text):
        key = ("file", os.path.realpath(text))
    else:
        key = None
    if key is not None and chain:
        shown = [c[1] for c in chain] + [text]
        if key in [c[0] for c in chain]:
            raise ModelFileError(
                f"load_context(): contexts extend one another in a loop: "
                f"{' -> '.join(shown)}; remove an 'extends'"
            )
        if len(chain) >= MAX_EXTENDS:
            raise ModelFileError(
                f"load_context(): more than {MAX_EXTENDS} contexts extend one "
                f"another ({shown[0]} -> ... -> {shown[-1]})"
            )
    if text in available_contexts():
        return _bundled(text)
    if key is not None:
        body = read_text_file(text, "load_context")
        return _parse(parse_toml(body, text), text, body, chain + ((key, text),))
    if "+" in text and not chain and all(p.strip() for p in text.split("+")):
        # the name of a composed context ("marrow+t11_14") reads back as that composition
        return compose_contexts([p.strip() for p in text.split("+")])
    raise UnknownContextError(
        f"unknown context {text!r}: not a bundled context "
        f"({', '.join(available_contexts())}) nor a readable file"
        f"{did_you_mean(text, available_contexts())}"
    )
