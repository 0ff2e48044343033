"""Contexts: the cellular surroundings a simulation runs in.

A context fixes nodes of a pathway model: effector cells, complement, stromal cytokines
(``[set]``), knockouts (fixed at 0), overexpressed nodes (fixed at 1) and target mutations.
Bundled contexts live in ``pathways/contexts/`` (``cell_line``, ``marrow``); a user context is a
``.toml`` file of the same form, optionally ``extends = "marrow"`` to start from a bundled one.

Examples
--------
>>> c = load_context("marrow")
>>> c.settings["NKCells"], c.name
(1.0, 'marrow')
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._readonly import read_only
from .._typing import ContextLike
from ..exceptions import InvalidInputError, ModelFileError, UnknownContextError
from ..resources import data_file, list_data, parse_toml, read_text_file
from ..utils import did_you_mean

__all__ = ["Context", "load_context", "available_contexts"]


@dataclass(frozen=True)
class Context:
    """Node settings defining a context.

    Attributes
    ----------
    name, description, origin : str
    settings : dict node -> value in [0, 1] (fixed), after knockouts (0) and overexpression (1)
    knockouts, overexpressed : tuple of node names
    mutations : tuple of mutation strings (e.g. ``"PSMB5 A49T"``)
    """

    name: str
    description: str = ""
    settings: Mapping[str, float] = field(default_factory=dict)
    knockouts: tuple[str, ...] = ()
    overexpressed: tuple[str, ...] = ()
    mutations: tuple[str, ...] = ()
    origin: str = ""

    def __post_init__(self) -> None:
        # shared by every caller of a cached context: read-only (issue: one caller's edit
        # changed every later simulation in the process)
        object.__setattr__(self, "settings", read_only(self.settings))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "settings": dict(self.settings),
            "knockouts": list(self.knockouts),
            "overexpressed": list(self.overexpressed),
            "mutations": list(self.mutations),
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


def _parse(data, origin, text, chain=()):
    allowed = {"context", "set"}
    for k in data:
        if k not in allowed:
            line = next((i for i, ln in enumerate(text.splitlines(), 1) if k in ln), None)
            where = f"{origin}, line {line}" if line else origin
            raise ModelFileError(
                f"{where}: unknown table {k!r} in a context file; expected "
                f"[context] and [set]{did_you_mean(k, allowed)}"
            )
    meta = data.get("context") or {}
    if not isinstance(meta, dict):
        raise ModelFileError(f"{origin}: [context] must be a table")
    base = None
    if meta.get("extends") is not None:
        base = _load(_extends_target(str(meta["extends"]), origin), chain)
    settings = dict(base.settings) if base else {}
    raw = data.get("set") or {}
    if not isinstance(raw, dict):
        raise ModelFileError(f"{origin}: [set] must map node names to values in [0, 1]")
    for node, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            line = next(
                (i for i, ln in enumerate(text.splitlines(), 1) if ln.strip().startswith(node)),
                None,
            )
            where = f"{origin}, line {line}" if line else origin
            raise ModelFileError(f"{where}: [set] {node} must be a number in [0, 1], got {v!r}")
        settings[node] = float(v)

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
    for n in ovs:
        settings[n] = 1.0
    return Context(
        name=str(meta.get("name") or os.path.splitext(os.path.basename(origin))[0]),
        description=str(meta.get("description", "")),
        settings=settings,
        knockouts=(base.knockouts if base else ()) + kos,
        overexpressed=(base.overexpressed if base else ()) + ovs,
        mutations=(base.mutations if base else ()) + muts,
        origin=origin,
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
    """A :class:`Context` from a bundled name, a ``.toml`` path, ``"none"`` (nothing fixed), or
    a Context (returned as is).

    A context file may ``extends`` another context (a bundled name or a file); a loop of
    contexts extending one another is refused, naming the files."""
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
    raise UnknownContextError(
        f"unknown context {text!r}: not a bundled context "
        f"({', '.join(available_contexts())}) nor a readable file"
        f"{did_you_mean(text, available_contexts())}"
    )
