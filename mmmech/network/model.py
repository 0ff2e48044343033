"""Curated pathway models: the records, validation, a networkx view, explanations and drug
attachment. Reading and loading (TOML and other formats): :mod:`mmmech.network.io`;
compilation to flat arrays: :mod:`mmmech.simulation.compiled`.

A pathway model is a TOML file (format and semantics: ``docs/semantics.md``) with nodes (HGNC
symbols for proteins, CamelCase for processes and phenotypes), a Boolean rule per regulated
node, signed edges each carrying its literature sources, readouts, named parameters for
contested edges, and the table of drug actions that says how a drug attaches to the network.
Model files are parsed as data (``tomllib``); nothing in them is executed.

Examples
--------
>>> from mmmech.network import load
>>> m = load("myeloma")
>>> "Apoptosis" in m.nodes and m.readouts["viability"]
'Viability'
>>> m.validate().ok
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from .. import drugs as _drugs
from .._readonly import read_only
from .._results import Result
from ..exceptions import InvalidInputError, UnknownNameError, UnknownNodeError
from ..sources import SOURCE_PATTERN, describe_expected
from ..utils import did_you_mean
from .logic import RuleSyntaxError, literals, parse_rule

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    import networkx as nx

__all__ = [
    "Node",
    "Edge",
    "Parameter",
    "PathwayModel",
    "SOURCE_PATTERN",
    "NODE_KINDS",
    "Attachment",
    "attach_drugs",
    "drug_node_name",
    "ValidationReport",
]

#: accepted forms of a source identifier
NODE_KINDS = ("protein", "process", "phenotype", "input")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class Node:
    """One node: name, module, kind, description, rule (None: holds its value), tau, ymax, y0."""

    name: str
    module: str = ""
    kind: str = "protein"
    description: str = ""
    rule: str | None = None
    tau: float = 1.0
    ymax: float = 1.0
    y0: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in ("name", "module", "kind", "description", "rule", "tau", "ymax", "y0")
        }


@dataclass(frozen=True)
class Edge:
    """A signed, sourced edge ``source -> target`` (sign +1 activating, -1 inhibiting).

    ``w``, ``n``, ``ec50`` are the normalized-Hill parameters (None: defaults); ``parameter``
    names a [parameters] entry that sets ``w``; ``refs`` are supporting citations without a
    confirmed identifier (not sources).
    """

    source: str
    target: str
    sign: int
    sources: tuple[str, ...] = ()
    w: float | None = None
    n: float | None = None
    ec50: float | None = None
    parameter: str | None = None
    note: str = ""
    refs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = {
            k: getattr(self, k)
            for k in ("source", "target", "sign", "w", "n", "ec50", "parameter", "note")
        }
        d["sources"] = list(self.sources)
        d["refs"] = list(self.refs)
        kept = {k: v for k, v in d.items() if v not in (None, "", [])}
        return kept | {"sources": list(self.sources)}


@dataclass(frozen=True)
class Parameter:
    """A named, documented edge weight (for contested edges): default, [low, high], sides."""

    name: str
    default: float
    low: float
    high: float
    description: str = ""
    supports: tuple[str, ...] = ()
    contradicts: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "low": self.low,
            "high": self.high,
            "description": self.description,
            "supports": list(self.supports),
            "contradicts": list(self.contradicts),
            "note": self.note,
        }


@dataclass(frozen=True, eq=False)
class PathwayModel:
    """A parsed pathway model (see the module docstring).

    Attributes
    ----------
    name, description, version, semantics : str
    nodes : dict str -> Node (file order)
    edges : tuple of Edge
    readouts : dict str -> str (readout key -> node name)
    parameters : dict str -> Parameter
    actions : dict str -> dict (drug action -> how it attaches)
    source_titles : dict str -> str (source id -> short citation)
    origin : str (file the model came from)
    """

    name: str
    nodes: Mapping[str, Node]
    edges: tuple[Edge, ...]
    readouts: Mapping[str, str]
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    actions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source_titles: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    version: str = ""
    semantics: str = "netflux-logic-ode"
    origin: str = ""
    #: False for models imported from foreign formats (mmmech.network.io): edges without a
    #: source, or edges into nodes without a rule, are then warnings, not errors.
    curated: bool = True
    #: what happened on import (default rules applied, renamed nodes, dropped relations)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # models are cached and shared: their mappings are read-only
        for name in ("nodes", "readouts", "parameters", "source_titles"):
            object.__setattr__(self, name, read_only(getattr(self, name)))
        object.__setattr__(self, "actions", read_only(self.actions, depth=2))

    # ------------------------------------------------------------------ basic views
    @property
    def rules(self) -> dict[str, str]:
        """dict node -> rule string, for nodes with a rule."""
        return {n.name: n.rule for n in self.nodes.values() if n.rule is not None}

    def node(self, name: str) -> Node:
        """The Node `name`; UnknownNodeError with close matches otherwise."""
        try:
            return self.nodes[name]
        except KeyError:
            raise UnknownNodeError(
                f"model {self.name!r} has no node {name!r}{did_you_mean(name, self.nodes)}"
            ) from None

    def edge(self, source: str, target: str) -> Edge | None:
        """The Edge source -> target, or None."""
        return self._edge_index.get((source, target))

    @property
    def _edge_index(self) -> dict[tuple[str, str], Edge]:
        cache = self.__dict__.get("_edge_cache")
        if cache is None:
            cache = {(e.source, e.target): e for e in self.edges}
            object.__setattr__(self, "_edge_cache", cache)
        return cache

    @property
    def graph(self) -> nx.DiGraph:
        """A networkx.DiGraph: node attributes (module, kind, rule, ...) and edge attributes
        ``sign``, ``sources``, ``w``, ``n``, ``ec50``, ``parameter``, ``note``."""
        g = self.__dict__.get("_graph")
        if g is None:
            # deferred: networkx loads on first use (keeps import mmmech fast)
            import networkx as nx

            g = nx.DiGraph(name=self.name)
            for n in self.nodes.values():
                g.add_node(n.name, **{k: v for k, v in n.to_dict().items() if k != "name"})
            for e in self.edges:
                g.add_edge(
                    e.source,
                    e.target,
                    sign=e.sign,
                    sources=list(e.sources),
                    w=e.w,
                    n=e.n,
                    ec50=e.ec50,
                    parameter=e.parameter,
                    note=e.note,
                )
            object.__setattr__(self, "_graph", g)
        return g.copy()

    def edge_params(
        self, overrides: Mapping[str, float] | None = None
    ) -> dict[tuple[str, str], dict[str, float]]:
        """dict (src, dst) -> {w, n, ec50} with named parameters resolved (optionally overridden:
        `overrides` maps parameter name -> value)."""
        overrides = dict(overrides or {})
        for k in overrides:
            if k not in self.parameters:
                raise UnknownNameError(
                    f"unknown model parameter {k!r}{did_you_mean(k, self.parameters)}"
                )
        out: dict[tuple[str, str], dict[str, float]] = {}
        for e in self.edges:
            p: dict[str, float] = {}
            if e.parameter is not None:
                par = self.parameters[e.parameter]
                p["w"] = float(overrides.get(e.parameter, par.default))
            elif e.w is not None:
                p["w"] = e.w
            if e.n is not None:
                p["n"] = e.n
            if e.ec50 is not None:
                p["ec50"] = e.ec50
            out[(e.source, e.target)] = p
        return out

    # ------------------------------------------------------------------ inspection
    def explain(self, node: str) -> dict[str, Any]:
        """Why a node behaves as it does: its rule and every edge into it with sign and sources.

        Returns
        -------
        dict
            ``{node, rule, description, inputs: [{source, sign, effect, sources: [{id, citation}],
            note, parameter}]}``.

        Examples
        --------
        >>> from mmmech.network import load
        >>> e = load("myeloma").explain("IRF4")
        >>> sorted(i["source"] for i in e["inputs"])
        ['IKZF1', 'IKZF3', 'MYC']
        """
        n = self.node(node)
        inputs = []
        for e in self.edges:
            if e.target != n.name:
                continue
            inputs.append(
                {
                    "source": e.source,
                    "sign": e.sign,
                    "effect": "activates" if e.sign > 0 else "inhibits",
                    "sources": [
                        {"id": s, "citation": self.source_titles.get(s, "")} for s in e.sources
                    ],
                    "refs": list(e.refs),
                    "note": e.note,
                    "parameter": e.parameter,
                }
            )
        return {"node": n.name, "rule": n.rule, "description": n.description, "inputs": inputs}

    def paths(
        self, source: str, target: str, cutoff: int = 12
    ) -> list[tuple[list[str], int, list[list[str]]]]:
        """Signed simple paths source -> target: list of (nodes, sign, sources per edge)."""
        import networkx as nx  # deferred: networkx loads on first use (keeps import mmmech fast)

        self.node(source), self.node(target)
        g = self.graph
        out = []
        for p in nx.all_simple_paths(g, source, target, cutoff=cutoff):
            sign = 1
            for a, b in pairwise(p):
                sign *= g.edges[a, b]["sign"]
            out.append((p, sign, [g.edges[a, b]["sources"] for a, b in pairwise(p)]))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for ``mmmech pathway show --json``)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "semantics": self.semantics,
            "origin": self.origin,
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
            "readouts": dict(self.readouts),
            "parameters": {k: p.to_dict() for k, p in self.parameters.items()},
            "actions": {k: dict(v) for k, v in self.actions.items()},
            "sources": dict(self.source_titles),
            "curated": self.curated,
            "notes": list(self.notes),
        }

    def validate(self, drugs: str | Sequence[Any] | None = None) -> ValidationReport:
        """Check the model; returns a :class:`ValidationReport` (``ok``, ``errors``, ``warnings``).

        Errors: rules that read undefined nodes, rule literals without an [[edge]], edges whose
        sign disagrees with the rule, edges without a well-formed source, edges or readouts
        naming undefined nodes, unknown parameters, actions naming undefined nodes.
        Warnings: nodes that cannot reach any readout, inputs nothing reads, edges the rules do
        not use, nodes nobody regulates that are not inputs, sources without a citation entry.

        Parameters
        ----------
        drugs : None, "library" or sequence of Drug
            Also check that every drug attaches to the network and reaches a readout
            ("library": every drug of :func:`mmmech.drugs.library`, when the drug layer is
            installed).
        """
        return _validate(self, drugs)

    def __repr__(self) -> str:
        return (
            f"PathwayModel({self.name!r}, {len(self.nodes)} nodes, {len(self.edges)} edges, "
            f"readouts={sorted(self.readouts)})"
        )


# ---------------------------------------------------------------------- validation
@dataclass(frozen=True)
class ValidationReport(Result):
    """What :meth:`PathwayModel.validate` found.

    Attributes
    ----------
    ok : bool
        No errors (warnings allowed).
    errors, warnings : tuple of str
        One sentence each, naming the node, edge, parameter or action concerned.
    """

    ok: bool
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _library_drugs():
    seen, out = set(), []
    for d in _drugs.library().values():
        if d.name not in seen:
            seen.add(d.name)
            out.append(d)
    return out


def _validate(m, drugs=None):
    errors, warnings = [], []
    if isinstance(drugs, str):
        if drugs != "library":
            raise InvalidInputError(
                f"validate(): drugs must be None, 'library' or a list of drugs, got {drugs!r}"
            )
        drugs = _library_drugs()
        if drugs is None:
            warnings.append("drug library not available: drug paths were not checked")
    names = set(m.nodes)
    for e in m.edges:
        for end in (e.source, e.target):
            if end not in names:
                errors.append(
                    f"edge {e.source} -> {e.target}: unknown node {end!r}{did_you_mean(end, names)}"
                )
        if not e.sources:
            (errors if m.curated else warnings).append(
                f"edge {e.source} -> {e.target} has no source (PMID, DOI, PMC, ...)"
            )
        for s in e.sources:
            if not SOURCE_PATTERN.match(s):
                errors.append(f"edge {e.source} -> {e.target}: source {s!r}: {describe_expected()}")
            elif m.source_titles and s not in m.source_titles:
                warnings.append(
                    f"source {s} (edge {e.source} -> {e.target}) has no entry in [sources]"
                )
        if e.parameter is not None and e.parameter not in m.parameters:
            errors.append(
                f"edge {e.source} -> {e.target}: unknown parameter {e.parameter!r}"
                f"{did_you_mean(e.parameter, m.parameters)}"
            )
    used = set()
    for n in m.nodes.values():
        if n.rule is None:
            continue
        try:
            tree = parse_rule(n.rule)
        except RuleSyntaxError as exc:
            errors.append(f"rule of {n.name}: {exc}")
            continue
        for var, sign in literals(tree).items():
            if var not in names:
                errors.append(
                    f"rule of {n.name} reads undefined node {var!r}{did_you_mean(var, names)}"
                )
                continue
            used.add((var, n.name))
            e = m.edge(var, n.name)
            if e is None:
                errors.append(
                    f"rule of {n.name} reads {var} but there is no [[edge]] "
                    f"{var} -> {n.name} with a source"
                )
            elif sign != 0 and e.sign != sign:
                errors.append(
                    f"sign conflict: edge {var} -> {n.name} has sign {e.sign:+d} but the "
                    f"rule {n.rule!r} uses it with sign {sign:+d}"
                )
    for e in m.edges:
        if (e.source, e.target) not in used and e.target in names:
            tgt = m.nodes[e.target]
            if tgt.rule is None:
                (errors if m.curated else warnings).append(
                    f"edge {e.source} -> {e.target}: {e.target} has no rule, so the "
                    f"edge cannot act (rules that mention non-inputs)"
                )
            else:
                warnings.append(
                    f"edge {e.source} -> {e.target} is not used by the rule of {e.target}"
                )
    for key, node in m.readouts.items():
        if node not in names:
            errors.append(
                f"readout {key!r} names undefined node {node!r}{did_you_mean(node, names)}"
            )
    for p in m.parameters.values():
        if not (p.low <= p.default <= p.high):
            errors.append(f"parameter {p.name}: default {p.default} outside [{p.low}, {p.high}]")
        if not (0.0 <= p.low and p.high <= 1.0):
            errors.append(
                f"parameter {p.name}: range [{p.low}, {p.high}] must lie in [0, 1] "
                f"(it is an edge weight)"
            )
    for act, spec in m.actions.items():
        for key in ("node",):
            if spec.get(key) is not None and spec[key] not in names:
                errors.append(f"action {act}: node {spec[key]!r} is not in the model")
        for targets in (spec.get("substrate_nodes") or {}).values():
            for t in targets:
                if t not in names:
                    errors.append(f"action {act}: substrate node {t!r} is not in the model")
        for t in (spec.get("extra") or {}).get("nodes", []):
            if t not in names:
                errors.append(f"action {act}: extra node {t!r} is not in the model")
        ant = spec.get("antigen_nodes")
        if ant is not None:
            if not isinstance(ant, dict) or not all(
                isinstance(v, list) and all(isinstance(x, str) for x in v) for v in ant.values()
            ):
                errors.append(
                    f"action {act}: antigen_nodes must map antigen names to lists of node "
                    f"names, got {ant!r}"
                )
            else:
                for k, targets in ant.items():
                    for t in targets:
                        if t not in names:
                            errors.append(
                                f"action {act}: antigen node {t!r} ({k}) is not in the "
                                f"model{did_you_mean(t, names)}"
                            )
        eff = spec.get("effector_nodes")
        if eff is not None:
            if not isinstance(eff, dict) or not all(isinstance(v, str) for v in eff.values()):
                errors.append(
                    f"action {act}: effector_nodes must map effector names to node "
                    f"names, got {eff!r}"
                )
            else:
                for k, t in eff.items():
                    if t not in names:
                        errors.append(
                            f"action {act}: effector node {t!r} ({k}) is not in the "
                            f"model{did_you_mean(t, names)}"
                        )
        if "term" not in spec:
            errors.append(f"action {act}: missing 'term'")
    # reachability to readouts
    if not errors:
        import networkx as nx  # deferred: networkx loads on first use (keeps import mmmech fast)

        g = m.graph
        ro = set(m.readouts.values())
        if drugs:
            for d in drugs:
                att = attach_drugs(m, [d])
                for note in att.notes:
                    warnings.append(f"drug {note}")
                h = m.graph
                for s, t, sign, _ in att.edges:
                    h.add_edge(s, t, sign=sign)
                starts = {s for s, _, _, _ in att.edges if s.startswith("drug_")}
                hit = set()
                for s in starts:
                    hit |= nx.descendants(h, s) & ro
                if not hit:
                    warnings.append(f"drug {d.name} has no path to a readout")
                for s, t, sign, _ in att.edges:
                    g.add_edge(s, t, sign=sign)
        # nodes an action's term reads (e.g. TCellFitness in engage_T_cells) reach the node the
        # action attaches to
        for spec in m.actions.values():
            dest = spec.get("node")
            if dest in m.nodes:
                for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", spec.get("term", "")):
                    if tok in m.nodes and tok != dest:
                        g.add_edge(tok, dest, sign=1)
        reach = set()
        for r in ro:
            reach |= nx.ancestors(g, r) | {r}
        for n in m.nodes.values():
            if n.name not in reach and not (n.name in _action_nodes(m) and not drugs):
                warnings.append(
                    f"node {n.name} has no path to any readout ({', '.join(sorted(m.readouts))})"
                )
            if (
                n.rule is None
                and g.out_degree(n.name) == 0
                and n.name not in _action_nodes(m)
                and n.name not in _term_nodes(m)
            ):
                warnings.append(f"input {n.name} is read by no rule")
    return ValidationReport(ok=not errors, errors=tuple(errors), warnings=tuple(warnings))


def _term_nodes(m):
    """Nodes that drug actions read by name (antigens, E3 ligases are only known per drug)."""
    out = set()
    for spec in m.actions.values():
        for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", spec.get("term", "")):
            if tok in m.nodes:
                out.add(tok)
    return out


def _action_nodes(m):
    out = set()
    for spec in m.actions.values():
        if spec.get("node"):
            out.add(spec["node"])
        for t in (spec.get("substrate_nodes") or {}).values():
            out.update(t)
        out.update((spec.get("extra") or {}).get("nodes", []))
        ant = spec.get("antigen_nodes")
        if isinstance(ant, dict):
            for v in ant.values():
                if isinstance(v, list):
                    out.update(x for x in v if isinstance(x, str))
        eff = spec.get("effector_nodes")
        if isinstance(eff, dict):
            out.update(v for v in eff.values() if isinstance(v, str))
    return out


# ---------------------------------------------------------------------- drugs
def drug_node_name(drug_name: object, target: object) -> str:
    """Input-node name of a drug at a target, e.g. ``drug_bortezomib__PSMB5``."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", str(drug_name)).strip("_") or "drug"
    tgt = re.sub(r"[^A-Za-z0-9_]", "_", str(target))
    return f"drug_{ident}__{tgt}"


@dataclass
class Attachment:
    """Result of :func:`attach_drugs`.

    Attributes
    ----------
    rules : dict node -> rule (modified rules only)
    extra_nodes : list of str (drug inputs and implicit ``<node>.basal`` inputs)
    edge_params : dict (src, dst) -> dict (identity edges of drug and basal inputs)
    y0, ymax : dict node -> value (for basal inputs and the targets they feed)
    columns : list of dict {drug_index, drug, target, action, node, K, hill, potency_range, fu}
        (``K`` is the potency against a total concentration: ``potency_nM x fold / fu``)
    edges : list of (src, dst, sign, label) added by the drugs (for graphs and explanations)
    notes : list of str (targets or substrates the network does not model, and why)
    """

    rules: dict[str, str] = field(default_factory=dict)
    extra_nodes: list[str] = field(default_factory=list)
    edge_params: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    y0: dict[str, float] = field(default_factory=dict)
    ymax: dict[str, float] = field(default_factory=dict)
    columns: list[dict[str, Any]] = field(default_factory=list)
    edges: list[tuple[str, str, int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_IDENTITY = {"w": 1.0, "n": 1.0, "ec50": 0.5}


def _substrate_fold(folds, drug, substrate):
    """Fold on a glue degrader's potency for one neo-substrate (a degron mutation); ``inf``:
    degradation abolished."""
    d = folds.get(drug.name) or folds.get(str(drug.name).lower()) or {}
    f = d.get(substrate, 1.0)
    if not (isinstance(f, (int, float)) and f > 0 and not math.isnan(f)):
        raise InvalidInputError(
            f"potency fold for {drug.name} at neo-substrate {substrate} must be a positive "
            f"number (inf: not degraded), got {f!r}"
        )
    return float(f)


def _fold_for(folds, drug, target):
    d = folds.get(drug.name) or folds.get(str(drug.name).lower()) or {}
    f = d.get(target, 1.0)
    if not (isinstance(f, (int, float)) and math.isfinite(f) and f > 0):
        raise InvalidInputError(
            f"potency fold for {drug.name} at {target} must be a positive number, got {f!r}"
        )
    return float(f)


def attach_drugs(
    model: PathwayModel,
    drugs: Sequence[Any],
    folds: Mapping[str, Mapping[str, float]] | None = None,
) -> Attachment:
    """Work out how `drugs` attach to `model` (rules, inputs, identity edges); see
    ``[actions]`` in the model file. `folds`: ``{drug_name: {target: fold}}`` potency shifts.

    `model` is a :class:`PathwayModel` (load a bundled name or a file with
    :func:`mmmech.network.load` first)."""
    if not isinstance(model, PathwayModel):
        raise InvalidInputError(
            f"attach_drugs(): model must be a PathwayModel (use "
            f"mmmech.network.load({model!r}) first), got "
            f"{type(model).__name__}"
        )
    folds = folds or {}
    att = Attachment()
    rules = model.rules
    # concentrations are total plasma-equivalent; occupancy is computed from the unbound part
    # fu x c (docs/semantics.md, "Exposure and potency"), i.e. against K / fu. Drugs without a
    # curated fraction unbound (biologics, cell therapies, stand-ins) count as fully unbound.
    fus = []
    for drug in drugs:
        fu = getattr(drug, "fu", None)
        fu = 1.0 if fu is None else fu
        if isinstance(fu, bool) or not isinstance(fu, (int, float)) or not (0 < fu <= 1):
            raise InvalidInputError(
                f"attach_drugs(): {getattr(drug, 'name', drug)!r}: fraction unbound (fu) must "
                f"be a number in (0, 1], got {fu!r}"
            )
        fus.append(float(fu))
    nodes = model.nodes

    def ensure_rule(t):
        if t in att.rules:
            return
        if t in rules:
            att.rules[t] = f"({rules[t]})"
        else:
            basal = f"{t}.basal"
            att.extra_nodes.append(basal)
            att.y0[basal] = nodes[t].y0
            att.ymax[t] = 1.0
            att.edge_params[(basal, t)] = dict(_IDENTITY)
            att.rules[t] = basal

    def add_term(t, term):
        ensure_rule(t)
        if term not in att.rules[t]:
            att.rules[t] = f"{att.rules[t]} {term}"

    for di, drug in enumerate(drugs):
        reached = False
        for ta in getattr(drug, "targets", ()):
            # neo-substrates whose own degron is mutated: (node, fold), attached apart below
            own_fold: list[tuple[str, float]] = []
            action = getattr(ta, "action", None)
            spec = model.actions.get(action) if isinstance(action, str) else None
            target = getattr(ta, "target", None)
            if spec is None:
                att.notes.append(
                    f"{drug.name}: action {action!r} at {target} has no entry in the "
                    f"model's [actions]; ignored"
                )
                continue
            node_in = drug_node_name(drug.name, target)
            term = spec["term"].replace("{drug}", node_in).replace("{target}", str(target))
            if spec.get("apply_to") == "neo_substrates":
                e3 = getattr(ta, "e3", None) or target
                if e3 not in nodes:
                    att.notes.append(f"{drug.name}: E3 ligase {e3} is not in the network; ignored")
                    continue
                term = term.replace("{e3}", e3)
                mapping = spec.get("substrate_nodes") or {}
                dests = []
                for s in getattr(ta, "neo_substrates", ()) or ():
                    mapped = [x for x in mapping.get(s, [s] if s in nodes else []) if x in nodes]
                    if not mapped:
                        att.notes.append(
                            f"{drug.name}: neo-substrate {s} is not modelled in this "
                            f"network (no path to myeloma readouts is curated)"
                        )
                    f_s = _substrate_fold(folds, drug, s)
                    if f_s != 1.0 and s in mapped:
                        # a mutation of the substrate (its degron) shifts only the myeloma
                        # cell's own protein (the node named as the gene), not e.g. T-cell Ikaros
                        mapped = [m for m in mapped if m != s]
                        if math.isinf(f_s):
                            att.notes.append(
                                f"{drug.name}: {s} is not degraded (a documented degron "
                                f"mutation abolishes its degradation)"
                            )
                        else:
                            own_fold.append((s, f_s))
                    dests += [m for m in mapped if m not in dests]
                dests += [x for x in (spec.get("extra") or {}).get("nodes", []) if x in nodes]
                sign = -1
            elif spec.get("effector_nodes"):
                # one opsonization node per Fc effector mechanism; the drug marks only those it
                # recruits (TargetAction.effectors; None = every mechanism the action lists)
                if target not in nodes:
                    att.notes.append(
                        f"{drug.name}: antigen/target {target} is not a node of the "
                        f"network; ignored"
                    )
                    continue
                mapping = spec["effector_nodes"]
                wanted = getattr(ta, "effectors", None)
                kinds = list(mapping) if wanted is None else [k for k in wanted]
                dests = []
                for k in kinds:
                    if k not in mapping:
                        att.notes.append(
                            f"{drug.name}: effector {k} has no node in the model's "
                            f"[actions.{action}.effector_nodes]; ignored"
                        )
                    elif mapping[k] in nodes and mapping[k] not in dests:
                        dests.append(mapping[k])
                sign = 1
            else:
                dest = spec.get("node") or target
                if dest not in nodes:
                    att.notes.append(
                        f"{drug.name}: target {target} ({action}) is not a node of "
                        f"the network; ignored"
                    )
                    continue
                if "{target}" in spec["term"] and target not in nodes:
                    att.notes.append(
                        f"{drug.name}: antigen/target {target} is not a node of the "
                        f"network; ignored"
                    )
                    continue
                dests = [dest]
                sign = (
                    -1
                    if "NOT" in spec["term"].split("{drug}")[0].split()[-1:]
                    or spec["term"].strip().startswith("AND NOT")
                    else 1
                )
            if not dests and not own_fold:
                continue
            reached = True
            if node_in not in att.extra_nodes:
                att.extra_nodes.append(node_in)
                att.y0[node_in] = 0.0
            helpers: list[Any] = []  # node names, from drug records
            if spec.get("apply_to") == "neo_substrates":
                helpers.append(e3)
            elif "{target}" in spec["term"]:
                helpers.append(target)
            for t in dests:
                add_term(t, term)
                att.edge_params[(node_in, t)] = dict(_IDENTITY)
                att.edges.append((node_in, t, sign, f"{drug.name} {action} {target}"))
                for hnode in helpers:
                    if hnode != t:
                        att.edges.append((hnode, t, 1, f"needed for {drug.name} {action}"))
            # antigen-specific consequences of the bound antibody (e.g. anti-CD38 on CD38+ NK
            # and regulatory cells): the occupancy itself enters these nodes, whatever the
            # antigen level of the tumour cell ([actions.<action>.antigen_nodes])
            if spec.get("effector_nodes"):
                ant_term = "OR {drug}".replace("{drug}", node_in)
                for t in (spec.get("antigen_nodes") or {}).get(str(target), []):
                    if t in nodes and t not in dests:
                        add_term(t, ant_term)
                        att.edge_params[(node_in, t)] = dict(_IDENTITY)
                        att.edges.append((node_in, t, 1, f"{drug.name} {action} {target}"))
            # the record potency_nM was read from: cellular when the drug layer says so
            potency = getattr(ta, "potency", None)
            if getattr(ta, "potency_basis", None) == "cellular":
                potency = getattr(ta, "cellular", None) or potency
            rng = None
            if (
                potency is not None
                and getattr(potency, "low", None)
                and getattr(potency, "high", None)
                and getattr(potency, "value", None)
            ):
                rng = (
                    float(potency.low) / float(potency.value),
                    float(potency.high) / float(potency.value),
                )
            K = float(ta.potency_nM) * _fold_for(folds, drug, target) / fus[di]
            if not (math.isfinite(K) and K > 0):
                raise InvalidInputError(
                    f"{drug.name}: potency at {target} must be a positive "
                    f"number of nM, got {ta.potency_nM!r}"
                )
            att.columns.append(
                {
                    "drug_index": di,
                    "drug": drug.name,
                    "target": target,
                    "action": action,
                    "node": node_in,
                    "K": K,
                    "hill": float(getattr(ta, "hill", 1.0) or 1.0),
                    "potency_range": rng,
                    "fu": fus[di],
                }
            )
            for s, f_s in own_fold:
                # its own input: the same occupancy law with the potency shifted by the fold
                node_s = drug_node_name(drug.name, f"{target}_{s}")
                att.extra_nodes.append(node_s)
                att.y0[node_s] = 0.0
                add_term(s, spec["term"].replace("{drug}", node_s).replace("{e3}", e3))
                att.edge_params[(node_s, s)] = dict(_IDENTITY)
                att.edges.append((node_s, s, -1, f"{drug.name} {action} {target} ({s} mutant)"))
                att.edges.append((str(e3), s, 1, f"needed for {drug.name} {action}"))
                att.columns.append({**att.columns[-1], "node": node_s, "K": K * f_s})
        if not reached:
            att.notes.append(f"{drug.name}: none of its targets attaches to the network")
    return att
