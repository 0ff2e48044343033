"""GraphML: everything mmmech has (nodes with module, kind, rule, tau, ymax, y0; edges with sign,
sources, w, n, EC50; readouts, parameters, drug actions as graph attributes). Read and write."""

from __future__ import annotations

import dataclasses
import io
from xml.etree import ElementTree as ET

from ...exceptions import ModelFileError
from ..logic import RuleSyntaxError, literals, parse_rule
from ..model import Parameter, PathwayModel
from ._build import _edges_from_rules, _from_json_attr, _json_attr, _Namer, _sign_of, build_network
from ._xml import _expect_root, _num_attr

__all__ = ["read_graphml", "write_graphml"]


_SIGN_KEYS = ("sign", "interaction", "effect", "edge_type", "type", "relation")


def _list_attr(value, origin, what):
    if value is None or value == "":
        return ()
    if isinstance(value, str) and value.lstrip().startswith("["):
        out = _from_json_attr(value, origin, what)
        if not isinstance(out, list) or not all(isinstance(x, str) for x in out):
            raise ModelFileError(f"{origin}: {what} must be a JSON list of strings")
        return tuple(out)
    return tuple(x.strip() for x in str(value).split(";") if x.strip())


def read_graphml(data: bytes, origin: str, name: str) -> PathwayModel:
    """Read GraphML (mmmech's own attributes when present, else a signed network)."""
    import networkx as nx  # deferred: networkx costs ~0.2 s, needed only for GraphML

    _expect_root(data, origin, "graphml", "GraphML")
    try:
        g = nx.read_graphml(io.BytesIO(data))
    except (nx.NetworkXError, KeyError, ValueError, TypeError, LookupError, ET.ParseError) as exc:
        raise ModelFileError(f"{origin}: invalid GraphML: {exc}") from None
    notes = []
    if not g.is_directed():
        notes.append("undirected GraphML: each edge read as source -> target in file order")
    ga = g.graph
    mmmech_flavour = str(ga.get("mmmech_format", "")) != ""
    namer = _Namer()
    label = {}
    for nid, attrs in g.nodes(data=True):
        lab = nid
        if not mmmech_flavour:
            for key in ("name", "label"):
                if isinstance(attrs.get(key), str) and attrs[key].strip():
                    lab = attrs[key].strip()
                    break
        label[nid] = namer(lab)
    nodes = [label[n] for n in g.nodes]
    rules, y0, desc, modules, kinds, extra = {}, {}, {}, {}, {}, {}
    has_rules = any("rule" in a for _, a in g.nodes(data=True))
    for nid, a in g.nodes(data=True):
        nm = label[nid]
        where = f"{origin}, <node id={nid!r}>"
        if a.get("rule") not in (None, ""):
            try:
                parse_rule(str(a["rule"]))
                rules[nm] = str(a["rule"]).strip()
            except RuleSyntaxError as exc:
                raise ModelFileError(f"{where}: rule: {exc}") from None
        if "y0" in a:
            y0[nm] = _num_attr(a["y0"], "y0", where, 0, 1)
        desc[nm] = str(a.get("description", "")) or (nid if nm != nid else "")
        if nm != nid and not mmmech_flavour:
            desc[nm] = f"{desc[nm]} (GraphML node {nid})".strip()
        if a.get("module"):
            modules[nm] = str(a["module"])
        if a.get("kind") in ("protein", "process", "phenotype", "input"):
            kinds[nm] = a["kind"]
        ex = {}
        if "tau" in a:
            ex["tau"] = _num_attr(a["tau"], "tau", where, 0, None, True)
        if "ymax" in a:
            ex["ymax"] = _num_attr(a["ymax"], "ymax", where, 0, 1)
        extra[nm] = ex
    for nm, r in rules.items():
        for v in literals(parse_rule(r)):
            if v not in namer.used:
                raise ModelFileError(
                    f"{origin}: the rule of {nm} reads {v!r}, which is not a node of the graph"
                )
    edges, full, unsigned = [], {}, 0
    for u, v, a in g.edges(data=True):
        s, t = label[u], label[v]
        where = f"{origin}, <edge {u!r} -> {v!r}>"
        sign = None
        for key in _SIGN_KEYS:
            if key in a:
                sign = _sign_of(a[key])
                if sign is None and key == "sign":
                    raise ModelFileError(f"{where}: sign must be 1, -1 or 0, got {a[key]!r}")
                if sign is not None:
                    break
        if sign is None:
            sign, unsigned = 0, unsigned + 1
        edges.append((s, t, sign, str(a.get("note", ""))))
        kw = {
            "sources": _list_attr(a.get("sources"), where, "sources"),
            "refs": _list_attr(a.get("refs"), where, "refs"),
        }
        if "w" in a:
            kw["w"] = _num_attr(a["w"], "w", where, 0, 1)
        if "n" in a:
            kw["n"] = _num_attr(a["n"], "n", where, 0, None, True)
        if "ec50" in a:
            kw["ec50"] = _num_attr(a["ec50"], "ec50", where, 0, 1, True)
        nn, ee = kw.get("n", 1.4), kw.get("ec50", 0.5)
        if not (nn == 1.0 and ee == 0.5) and ee**nn >= 0.5:
            raise ModelFileError(
                f"{where}: EC50={ee} with n={nn} gives EC50**n >= 0.5; the "
                f"normalized Hill function needs EC50**n < 0.5"
            )
        if a.get("parameter"):
            kw["parameter"] = str(a["parameter"])
        full[(s, t)] = kw
    if unsigned:
        notes.append(
            f"{unsigned} edge(s) without a sign attribute (sign, interaction, effect) "
            f"read as unknown-sign edges"
        )
    if has_rules:
        notes.append(
            f"{origin}: GraphML{' written by mmmech' if mmmech_flavour else ''} with "
            f"Boolean rules for {len(rules)} of {len(nodes)} nodes"
        )
        implied = {(s, t): sg for s, t, sg in _edges_from_rules(rules)}
        listed = {(e[0], e[1]) for e in edges}
        edges += [(s, t, sg, "") for (s, t), sg in implied.items() if (s, t) not in listed]
    readouts = _from_json_attr(ga.get("mmmech_readouts"), origin, "graph attribute mmmech_readouts")
    description = str(ga.get("description", ""))
    model = build_network(
        str(ga.get("name") or name),
        nodes,
        edges,
        origin=origin,
        fmt="GraphML",
        rules=rules if has_rules else None,
        y0=y0,
        descriptions=desc,
        modules=modules,
        kinds=kinds,
        notes=[namer.note()] + notes,
        readouts=readouts if isinstance(readouts, dict) else None,
        description=description,
    )
    new_nodes = {k: dataclasses.replace(n, **extra.get(k, {})) for k, n in model.nodes.items()}
    new_edges = tuple(
        dataclasses.replace(e, **full.get((e.source, e.target), {}))
        if e.sign != 0 or (e.source, e.target) in full
        else e
        for e in model.edges
    )
    params = {}
    raw_params = _from_json_attr(ga.get("mmmech_parameters"), origin, "mmmech_parameters") or {}
    for pname, p in raw_params.items():
        try:
            params[pname] = Parameter(
                **{
                    **p,
                    "supports": tuple(p.get("supports", ())),
                    "contradicts": tuple(p.get("contradicts", ())),
                }
            )
        except TypeError as exc:
            raise ModelFileError(
                f"{origin}: graph attribute mmmech_parameters, entry {pname!r}: {exc}"
            ) from None
    for e in new_edges:
        if e.parameter is not None and e.parameter not in params:
            raise ModelFileError(
                f"{origin}, <edge {e.source!r} -> {e.target!r}>: parameter "
                f"{e.parameter!r} is not in the graph's mmmech_parameters"
            )
    actions = _from_json_attr(ga.get("mmmech_actions"), origin, "mmmech_actions") or {}
    sources = _from_json_attr(ga.get("mmmech_sources"), origin, "mmmech_sources") or {}
    if not isinstance(actions, dict) or not isinstance(sources, dict):
        raise ModelFileError(
            f"{origin}: graph attributes mmmech_actions and mmmech_sources must be JSON objects"
        )
    return dataclasses.replace(
        model,
        nodes=new_nodes,
        edges=new_edges,
        parameters=params,
        actions=actions,
        source_titles=sources,
        version=str(ga.get("version", "")),
        semantics=str(ga.get("semantics", model.semantics)),
    )


def write_graphml(m: PathwayModel) -> str:
    """GraphML text of a model, with every mmmech attribute (lossless for mmmech)."""
    import networkx as nx  # deferred: networkx costs ~0.2 s, needed only for GraphML

    g = nx.DiGraph()
    g.graph.update(
        {
            "mmmech_format": "1",
            "name": m.name,
            "description": m.description,
            "version": m.version,
            "semantics": m.semantics,
            "mmmech_readouts": _json_attr(dict(m.readouts)),
            "mmmech_parameters": _json_attr({k: p.to_dict() for k, p in m.parameters.items()}),
            "mmmech_actions": _json_attr({k: dict(v) for k, v in m.actions.items()}),
            "mmmech_sources": _json_attr(dict(m.source_titles)),
        }
    )
    for n in m.nodes.values():
        attrs = {
            "module": n.module,
            "kind": n.kind,
            "description": n.description,
            "tau": float(n.tau),
            "ymax": float(n.ymax),
            "y0": float(n.y0),
        }
        if n.rule is not None:
            attrs["rule"] = n.rule
        g.add_node(n.name, **attrs)
    for e in m.edges:
        attrs = {"sign": int(e.sign), "sources": _json_attr(list(e.sources))}
        if e.refs:
            attrs["refs"] = _json_attr(list(e.refs))
        for k in ("w", "n", "ec50"):
            if getattr(e, k) is not None:
                attrs[k] = float(getattr(e, k))
        if e.parameter is not None:
            attrs["parameter"] = e.parameter
        if e.note:
            attrs["note"] = e.note
        g.add_edge(e.source, e.target, **attrs)
    return "\n".join(nx.generate_graphml(g, encoding="utf-8", prettyprint=True)) + "\n"
