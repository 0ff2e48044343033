"""mmmech's own curated format (``.toml``): parsed, checked line by line, into a
:class:`~mmmech.network.model.PathwayModel`. The format is documented in docs/semantics.md."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...exceptions import ModelFileError
from ...utils import did_you_mean
from ..logic import RuleSyntaxError, parse_rule
from ..model import _NAME, NODE_KINDS, Edge, Node, Parameter, PathwayModel

__all__ = ["parse_model"]


def _line_of(text, *needles):
    """1-based line of the first line containing every needle (for error messages), or None."""
    for i, line in enumerate(text.splitlines(), 1):
        if all(nd in line for nd in needles):
            return i
    return None


def _where(origin, text, *needles):
    line = _line_of(text, *needles) if text else None
    return f"{origin}, line {line}" if line else origin


def _num(value, what, origin, text, needle, lo=None, hi=None, open_lo=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(
            f"{_where(origin, text, needle)}: {what} must be a number, got {value!r}"
        )
    v = float(value)
    if not math.isfinite(v):
        raise ModelFileError(
            f"{_where(origin, text, needle)}: {what} must be a finite number, got {v}"
        )
    if (lo is not None and (v <= lo if open_lo else v < lo)) or (hi is not None and v > hi):
        rng = f"{'(' if open_lo else '['}{lo}, {hi}]"
        raise ModelFileError(f"{_where(origin, text, needle)}: {what} must lie in {rng}, got {v}")
    return v


def _str(value, what, origin, text, needle, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ModelFileError(
            f"{_where(origin, text, needle)}: {what} must be a non-empty string, got {value!r}"
        )
    return value.strip()


def parse_model(data: Mapping[str, Any], origin: str = "<model>", text: str = "") -> PathwayModel:
    """Build a :class:`PathwayModel` from parsed TOML `data` (errors name `origin` and a line)."""
    if not isinstance(data, dict):
        raise ModelFileError(f"{origin}: expected a TOML table at the top level")
    known = {"model", "node", "edge", "readouts", "parameters", "actions", "sources"}
    for key in data:
        if key not in known:
            raise ModelFileError(
                f"{_where(origin, text, key)}: unknown top-level table {key!r}"
                f"{did_you_mean(key, known)}"
            )
    meta = data.get("model", {})
    if not isinstance(meta, dict) or "name" not in meta:
        raise ModelFileError(f"{origin}: missing [model] table with a 'name'")
    name = _str(meta.get("name"), "[model] name", origin, text, "name")
    raw_nodes = data.get("node")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise ModelFileError(f"{origin}: the model has no [[node]] entries")
    nodes = {}
    node_keys = {"name", "module", "kind", "description", "rule", "tau", "ymax", "y0"}
    for i, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict) or "name" not in raw:
            raise ModelFileError(f"{origin}: [[node]] #{i + 1} has no 'name'")
        nm = _str(raw["name"], "node name", origin, text, "name")
        needle = f'"{nm}"'
        if not _NAME.match(nm):
            raise ModelFileError(
                f"{_where(origin, text, needle)}: node name {nm!r} must be an "
                f"identifier (letters, digits, '_' and '.')"
            )
        if nm in nodes:
            raise ModelFileError(f"{_where(origin, text, needle)}: duplicate node {nm!r}")
        for k in raw:
            if k not in node_keys:
                raise ModelFileError(
                    f"{_where(origin, text, needle)}: node {nm}: unknown key {k!r}"
                    f"{did_you_mean(k, node_keys)}"
                )
        kind = raw.get("kind", "protein")
        if kind not in NODE_KINDS:
            raise ModelFileError(
                f"{_where(origin, text, needle)}: node {nm}: kind must be one of "
                f"{NODE_KINDS}, got {kind!r}"
            )
        rule = raw.get("rule")
        if rule is not None:
            rule = _str(rule, f"rule of {nm}", origin, text, needle)
            try:
                parse_rule(rule)
            except RuleSyntaxError as exc:
                raise ModelFileError(
                    f"{_where(origin, text, 'rule', rule[:20])}: rule of {nm}: {exc}"
                ) from None
        nodes[nm] = Node(
            name=nm,
            module=str(raw.get("module", "")),
            kind=kind,
            description=str(raw.get("description", "")),
            rule=rule,
            tau=_num(raw.get("tau", 1.0), f"tau of {nm}", origin, text, needle, 0, None, True),
            ymax=_num(raw.get("ymax", 1.0), f"ymax of {nm}", origin, text, needle, 0, 1),
            y0=_num(raw.get("y0", 0.0), f"y0 of {nm}", origin, text, needle, 0, 1),
        )
    edges, seen = [], set()
    edge_keys = {
        "source",
        "target",
        "sign",
        "sources",
        "w",
        "n",
        "ec50",
        "parameter",
        "note",
        "refs",
    }
    if not isinstance(data.get("edge", []), list):
        raise ModelFileError(
            f"{_where(origin, text, 'edge')}: 'edge' must be an array of tables ([[edge]] entries)"
        )
    for i, raw in enumerate(data.get("edge", [])):
        if not isinstance(raw, dict):
            raise ModelFileError(f"{origin}: [[edge]] #{i + 1} is not a table")
        src = _str(raw.get("source"), f"[[edge]] #{i + 1} source", origin, text, "source")
        tgt = _str(raw.get("target"), f"[[edge]] #{i + 1} target", origin, text, "target")
        needle = f'source = "{src}"'
        for k in raw:
            if k not in edge_keys:
                raise ModelFileError(
                    f"{_where(origin, text, needle)}: edge {src} -> {tgt}: unknown "
                    f"key {k!r}{did_you_mean(k, edge_keys)}"
                )
        if (src, tgt) in seen:
            raise ModelFileError(f"{_where(origin, text, needle)}: duplicate edge {src} -> {tgt}")
        seen.add((src, tgt))
        sign = raw.get("sign")
        if sign not in (1, -1) or isinstance(sign, bool):
            raise ModelFileError(
                f"{_where(origin, text, needle)}: edge {src} -> {tgt}: sign must be "
                f"1 or -1, got {sign!r}"
            )
        srcs = raw.get("sources", [])
        if (
            isinstance(srcs, str)
            or not isinstance(srcs, list)
            or not all(isinstance(s, str) for s in srcs)
        ):
            raise ModelFileError(
                f"{_where(origin, text, needle)}: edge {src} -> {tgt}: sources must "
                f'be a list of strings such as ["PMID:123"], got {srcs!r}'
            )
        refs = raw.get("refs", [])
        if not isinstance(refs, list):
            raise ModelFileError(
                f"{_where(origin, text, needle)}: edge {src} -> {tgt}: refs must "
                f"be a list of strings"
            )
        w = raw.get("w")
        n = raw.get("n")
        ec50 = raw.get("ec50")
        w = None if w is None else _num(w, f"w of {src} -> {tgt}", origin, text, needle, 0, 1)
        n = (
            None
            if n is None
            else _num(n, f"n of {src} -> {tgt}", origin, text, needle, 0, None, True)
        )
        ec50 = (
            None
            if ec50 is None
            else _num(ec50, f"ec50 of {src} -> {tgt}", origin, text, needle, 0, 1, True)
        )
        nn = 1.4 if n is None else n
        ee = 0.5 if ec50 is None else ec50
        if not (nn == 1.0 and ee == 0.5) and ee**nn >= 0.5:
            raise ModelFileError(
                f"{_where(origin, text, needle)}: edge {src} -> {tgt}: EC50={ee} "
                f"with n={nn} gives EC50**n >= 0.5; the normalized Hill function "
                f"needs EC50**n < 0.5"
            )
        if raw.get("parameter") is not None and not isinstance(raw.get("parameter"), str):
            raise ModelFileError(
                f"{_where(origin, text, needle)}: edge {src} -> {tgt}: parameter "
                f"must be the name of a [parameters] entry, got "
                f"{raw.get('parameter')!r}"
            )
        edges.append(
            Edge(
                source=src,
                target=tgt,
                sign=int(sign),
                sources=tuple(srcs),
                w=w,
                n=n,
                ec50=ec50,
                parameter=raw.get("parameter"),
                note=str(raw.get("note", "")),
                refs=tuple(str(r) for r in refs),
            )
        )
    params = {}
    if not isinstance(data.get("parameters") or {}, dict):
        raise ModelFileError(
            f"{_where(origin, text, 'parameters')}: [parameters] must be a table of tables"
        )
    for pname, raw in (data.get("parameters") or {}).items():
        needle = f"[parameters.{pname}]"
        if not isinstance(raw, dict) or "default" not in raw:
            raise ModelFileError(
                f"{_where(origin, text, needle)}: parameter {pname} needs at least "
                f"'default', 'low' and 'high'"
            )
        d = _num(raw.get("default"), f"parameter {pname} default", origin, text, needle)
        for side in ("supports", "contradicts"):
            val = raw.get(side, ())
            if isinstance(val, str) or not isinstance(val, (list, tuple)):
                raise ModelFileError(
                    f"{_where(origin, text, needle)}: parameter {pname}: {side} "
                    f"must be a list of source ids, got {val!r}"
                )
        params[pname] = Parameter(
            name=pname,
            default=d,
            low=_num(raw.get("low", d), f"parameter {pname} low", origin, text, needle),
            high=_num(raw.get("high", d), f"parameter {pname} high", origin, text, needle),
            description=str(raw.get("description", "")),
            supports=tuple(raw.get("supports", ())),
            contradicts=tuple(raw.get("contradicts", ())),
            note=str(raw.get("note", "")),
        )
    readouts = data.get("readouts") or {}
    if not isinstance(readouts, dict) or not all(isinstance(v, str) for v in readouts.values()):
        raise ModelFileError(
            f"{_where(origin, text, '[readouts]')}: [readouts] must map names to node names"
        )
    actions = data.get("actions") or {}
    if not isinstance(actions, dict):
        raise ModelFileError(f"{origin}: [actions] must be a table of tables")
    for act, spec in actions.items():
        if not isinstance(spec, dict):
            raise ModelFileError(
                f"{_where(origin, text, f'[actions.{act}]')}: [actions.{act}] must be a table"
            )
        if "term" in spec:
            term = spec["term"]
            if not isinstance(term, str):
                raise ModelFileError(
                    f"{_where(origin, text, f'[actions.{act}]')}: action {act}: "
                    f"term must be a rule fragment (text), got {term!r}"
                )
            probe = term.replace("{drug}", "D").replace("{target}", "T").replace("{e3}", "E")
            try:
                parse_rule(f"X {probe}")
            except RuleSyntaxError as exc:
                raise ModelFileError(
                    f"{_where(origin, text, f'[actions.{act}]')}: action {act}: "
                    f"term {term!r} is not a rule fragment: {exc}"
                ) from None
    sources = data.get("sources") or {}
    if not isinstance(sources, dict):
        raise ModelFileError(
            f"{_where(origin, text, 'sources')}: [sources] must map source ids to citations"
        )
    return PathwayModel(
        name=name,
        nodes=nodes,
        edges=tuple(edges),
        readouts=dict(readouts),
        parameters=params,
        actions={k: dict(v) for k, v in actions.items()},
        source_titles=dict(sources),
        description=str(meta.get("description", "")).strip(),
        version=str(meta.get("version", "")),
        semantics=str(meta.get("semantics", "netflux-logic-ode")),
        origin=origin,
    )
