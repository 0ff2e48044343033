"""Curated pathway models: loading, validation, a networkx view, compilation and explanations.

A pathway model is a TOML file (format and semantics: ``docs/semantics.md``) with nodes (HGNC
symbols for proteins, CamelCase for processes and phenotypes), a Boolean rule per regulated
node, signed edges each carrying its literature sources, readouts, named parameters for
contested edges, and the table of drug actions that says how a drug attaches to the network.
Model files are parsed as data (``tomllib``); nothing in them is executed.

Examples
--------
>>> m = load("myeloma")
>>> "Apoptosis" in m.nodes and m.readouts["viability"]
'Viability'
>>> m.validate().ok
True
"""
import functools
import math
import os
import re
from dataclasses import dataclass, field

from ..exceptions import InvalidInputError, ModelFileError, UnknownNameError, UnknownNodeError
from .logic import literals, parse_rule, RuleSyntaxError
from ..resources import data_file, list_data, parse_toml, read_text_file
from .._readonly import read_only
from .._results import Result
from ..sources import SOURCE_PATTERN, describe_expected
from ..utils import did_you_mean

__all__ = ["Node", "Edge", "Parameter", "PathwayModel", "load", "read", "available",
           "SOURCE_PATTERN", "NODE_KINDS", "Attachment", "attach_drugs", "drug_node_name",
           "ValidationReport"]

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
    rule: str = None
    tau: float = 1.0
    ymax: float = 1.0
    y0: float = 0.0

    def to_dict(self):
        return {k: getattr(self, k) for k in ("name", "module", "kind", "description", "rule",
                                              "tau", "ymax", "y0")}


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
    sources: tuple = ()
    w: float = None
    n: float = None
    ec50: float = None
    parameter: str = None
    note: str = ""
    refs: tuple = ()

    def to_dict(self):
        d = {k: getattr(self, k) for k in ("source", "target", "sign", "w", "n", "ec50",
                                           "parameter", "note")}
        d["sources"] = list(self.sources)
        d["refs"] = list(self.refs)
        return {k: v for k, v in d.items() if v not in (None, "", [])} | {"sources": list(self.sources)}


@dataclass(frozen=True)
class Parameter:
    """A named, documented edge weight (for contested edges): default, [low, high], sides."""

    name: str
    default: float
    low: float
    high: float
    description: str = ""
    supports: tuple = ()
    contradicts: tuple = ()
    note: str = ""

    def to_dict(self):
        return {"name": self.name, "default": self.default, "low": self.low, "high": self.high,
                "description": self.description, "supports": list(self.supports),
                "contradicts": list(self.contradicts), "note": self.note}


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
    nodes: dict
    edges: tuple
    readouts: dict
    parameters: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)
    source_titles: dict = field(default_factory=dict)
    description: str = ""
    version: str = ""
    semantics: str = "netflux-logic-ode"
    origin: str = ""
    #: False for models imported from foreign formats (mmmech.network.io): edges without a
    #: source, or edges into nodes without a rule, are then warnings, not errors.
    curated: bool = True
    #: what happened on import (default rules applied, renamed nodes, dropped relations)
    notes: tuple = ()

    def __post_init__(self):
        # models are cached and shared: their mappings are read-only
        for name in ("nodes", "readouts", "parameters", "source_titles"):
            object.__setattr__(self, name, read_only(getattr(self, name)))
        object.__setattr__(self, "actions", read_only(self.actions, depth=2))

    # ------------------------------------------------------------------ basic views
    @property
    def rules(self):
        """dict node -> rule string, for nodes with a rule."""
        return {n.name: n.rule for n in self.nodes.values() if n.rule is not None}

    def node(self, name):
        """The Node `name`; UnknownNodeError with close matches otherwise."""
        try:
            return self.nodes[name]
        except KeyError:
            raise UnknownNodeError(f"model {self.name!r} has no node {name!r}"
                                   f"{did_you_mean(name, self.nodes)}") from None

    def edge(self, source, target):
        """The Edge source -> target, or None."""
        return self._edge_index.get((source, target))

    @property
    def _edge_index(self):
        cache = self.__dict__.get("_edge_cache")
        if cache is None:
            cache = {(e.source, e.target): e for e in self.edges}
            object.__setattr__(self, "_edge_cache", cache)
        return cache

    @property
    def graph(self):
        """A networkx.DiGraph: node attributes (module, kind, rule, ...) and edge attributes
        ``sign``, ``sources``, ``w``, ``n``, ``ec50``, ``parameter``, ``note``."""
        g = self.__dict__.get("_graph")
        if g is None:
            import networkx as nx
            g = nx.DiGraph(name=self.name)
            for n in self.nodes.values():
                g.add_node(n.name, **{k: v for k, v in n.to_dict().items() if k != "name"})
            for e in self.edges:
                g.add_edge(e.source, e.target, sign=e.sign, sources=list(e.sources), w=e.w,
                           n=e.n, ec50=e.ec50, parameter=e.parameter, note=e.note)
            object.__setattr__(self, "_graph", g)
        return g.copy()

    def edge_params(self, overrides=None):
        """dict (src, dst) -> {w, n, ec50} with named parameters resolved (optionally overridden:
        `overrides` maps parameter name -> value)."""
        overrides = dict(overrides or {})
        for k in overrides:
            if k not in self.parameters:
                raise UnknownNameError(f"unknown model parameter {k!r}"
                                       f"{did_you_mean(k, self.parameters)}")
        out = {}
        for e in self.edges:
            p = {}
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

    def compile(self, extra_nodes=(), rules=None, edge_params=None, y0=None, ymax=None,
                tau=None, parameter_values=None):
        """Compile into a :class:`~mmmech.simulation.compiled.CompiledModel`.

        Parameters
        ----------
        extra_nodes : sequence of str
            Nodes added after the model's own (drug inputs, implicit basal inputs).
        rules : mapping str -> str, optional
            Rules replacing the model's (for nodes drugs attach to).
        edge_params : mapping (src, dst) -> dict, optional
            Extra or overriding edge parameters (drug identity edges).
        y0, ymax, tau : mapping str -> float, optional
            Overrides of node values.
        parameter_values : mapping str -> float, optional
            Values of named parameters (default: their curated defaults).
        """
        from ..simulation.compiled import compile_rules
        names = list(self.nodes) + [n for n in extra_nodes if n not in self.nodes]
        all_rules = self.rules
        all_rules.update(rules or {})
        ep = self.edge_params(parameter_values)
        ep.update(edge_params or {})
        y0s = {n.name: n.y0 for n in self.nodes.values()}
        y0s.update(y0 or {})
        ymaxs = {n.name: n.ymax for n in self.nodes.values()}
        ymaxs.update(ymax or {})
        taus = {n.name: n.tau for n in self.nodes.values()}
        taus.update(tau or {})
        return compile_rules(names, all_rules, ep, tau=taus, ymax=ymaxs, y0=y0s,
                             readouts=self.readouts)

    # ------------------------------------------------------------------ inspection
    def explain(self, node):
        """Why a node behaves as it does: its rule and every edge into it with sign and sources.

        Returns
        -------
        dict
            ``{node, rule, description, inputs: [{source, sign, effect, sources: [{id, citation}],
            note, parameter}]}``.

        Examples
        --------
        >>> e = load("myeloma").explain("IRF4")
        >>> sorted(i["source"] for i in e["inputs"])
        ['IKZF1', 'IKZF3', 'MYC']
        """
        n = self.node(node)
        inputs = []
        for e in self.edges:
            if e.target != n.name:
                continue
            inputs.append({
                "source": e.source, "sign": e.sign,
                "effect": "activates" if e.sign > 0 else "inhibits",
                "sources": [{"id": s, "citation": self.source_titles.get(s, "")} for s in e.sources],
                "refs": list(e.refs), "note": e.note, "parameter": e.parameter})
        return {"node": n.name, "rule": n.rule, "description": n.description, "inputs": inputs}

    def paths(self, source, target, cutoff=12):
        """Signed simple paths source -> target: list of (nodes, sign, sources per edge)."""
        import networkx as nx
        self.node(source), self.node(target)
        g = self.graph
        out = []
        for p in nx.all_simple_paths(g, source, target, cutoff=cutoff):
            sign = 1
            for a, b in zip(p, p[1:]):
                sign *= g.edges[a, b]["sign"]
            out.append((p, sign, [g.edges[a, b]["sources"] for a, b in zip(p, p[1:])]))
        return out

    def to_dict(self):
        """JSON-able form (for ``mmmech pathway show --json``)."""
        return {"name": self.name, "version": self.version, "description": self.description,
                "semantics": self.semantics, "origin": self.origin,
                "nodes": [n.to_dict() for n in self.nodes.values()],
                "edges": [e.to_dict() for e in self.edges],
                "readouts": dict(self.readouts),
                "parameters": {k: p.to_dict() for k, p in self.parameters.items()},
                "actions": {k: dict(v) for k, v in self.actions.items()},
                "sources": dict(self.source_titles), "curated": self.curated,
                "notes": list(self.notes)}

    def validate(self, drugs=None):
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

    def __repr__(self):
        return (f"PathwayModel({self.name!r}, {len(self.nodes)} nodes, {len(self.edges)} edges, "
                f"readouts={sorted(self.readouts)})")


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
    errors: tuple = ()
    warnings: tuple = ()


def _library_drugs():
    try:
        from .. import drugs as _drugs
    except ImportError:
        return None
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
            raise InvalidInputError(f"validate(): drugs must be None, 'library' or a list of "
                                    f"drugs, got {drugs!r}")
        drugs = _library_drugs()
        if drugs is None:
            warnings.append("drug library not available: drug paths were not checked")
    names = set(m.nodes)
    for e in m.edges:
        for end in (e.source, e.target):
            if end not in names:
                errors.append(f"edge {e.source} -> {e.target}: unknown node {end!r}"
                              f"{did_you_mean(end, names)}")
        if not e.sources:
            (errors if m.curated else warnings).append(
                f"edge {e.source} -> {e.target} has no source (PMID, DOI, PMC, ...)")
        for s in e.sources:
            if not SOURCE_PATTERN.match(s):
                errors.append(f"edge {e.source} -> {e.target}: source {s!r}: "
                              f"{describe_expected()}")
            elif m.source_titles and s not in m.source_titles:
                warnings.append(f"source {s} (edge {e.source} -> {e.target}) has no entry in "
                                f"[sources]")
        if e.parameter is not None and e.parameter not in m.parameters:
            errors.append(f"edge {e.source} -> {e.target}: unknown parameter {e.parameter!r}"
                          f"{did_you_mean(e.parameter, m.parameters)}")
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
                errors.append(f"rule of {n.name} reads undefined node {var!r}"
                              f"{did_you_mean(var, names)}")
                continue
            used.add((var, n.name))
            e = m.edge(var, n.name)
            if e is None:
                errors.append(f"rule of {n.name} reads {var} but there is no [[edge]] "
                              f"{var} -> {n.name} with a source")
            elif sign != 0 and e.sign != sign:
                errors.append(f"sign conflict: edge {var} -> {n.name} has sign {e.sign:+d} but the "
                              f"rule {n.rule!r} uses it with sign {sign:+d}")
    for e in m.edges:
        if (e.source, e.target) not in used and e.target in names:
            tgt = m.nodes[e.target]
            if tgt.rule is None:
                (errors if m.curated else warnings).append(
                    f"edge {e.source} -> {e.target}: {e.target} has no rule, so the "
                    f"edge cannot act (rules that mention non-inputs)")
            else:
                warnings.append(f"edge {e.source} -> {e.target} is not used by the rule of "
                                f"{e.target}")
    for key, node in m.readouts.items():
        if node not in names:
            errors.append(f"readout {key!r} names undefined node {node!r}{did_you_mean(node, names)}")
    for p in m.parameters.values():
        if not (p.low <= p.default <= p.high):
            errors.append(f"parameter {p.name}: default {p.default} outside [{p.low}, {p.high}]")
        if not (0.0 <= p.low and p.high <= 1.0):
            errors.append(f"parameter {p.name}: range [{p.low}, {p.high}] must lie in [0, 1] "
                          f"(it is an edge weight)")
    for act, spec in m.actions.items():
        for key in ("node",):
            if spec.get(key) is not None and spec[key] not in names:
                errors.append(f"action {act}: node {spec[key]!r} is not in the model")
        for sub, targets in (spec.get("substrate_nodes") or {}).items():
            for t in targets:
                if t not in names:
                    errors.append(f"action {act}: substrate node {t!r} is not in the model")
        for t in (spec.get("extra") or {}).get("nodes", []):
            if t not in names:
                errors.append(f"action {act}: extra node {t!r} is not in the model")
        eff = spec.get("effector_nodes")
        if eff is not None:
            if not isinstance(eff, dict) or not all(isinstance(v, str) for v in eff.values()):
                errors.append(f"action {act}: effector_nodes must map effector names to node "
                              f"names, got {eff!r}")
            else:
                for k, t in eff.items():
                    if t not in names:
                        errors.append(f"action {act}: effector node {t!r} ({k}) is not in the "
                                      f"model{did_you_mean(t, names)}")
        if "term" not in spec:
            errors.append(f"action {act}: missing 'term'")
    # reachability to readouts
    if not errors:
        import networkx as nx
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
                    hit |= (nx.descendants(h, s) & ro)
                if not hit:
                    warnings.append(f"drug {d.name} has no path to a readout")
                for s, t, sign, _ in att.edges:
                    g.add_edge(s, t, sign=sign)
        reach = set()
        for r in ro:
            reach |= nx.ancestors(g, r) | {r}
        for n in m.nodes.values():
            if n.name not in reach and not (n.name in _action_nodes(m) and not drugs):
                warnings.append(f"node {n.name} has no path to any readout "
                                f"({', '.join(sorted(m.readouts))})")
            if n.rule is None and g.out_degree(n.name) == 0 and n.name not in _action_nodes(m) \
                    and n.name not in _term_nodes(m):
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
        eff = spec.get("effector_nodes")
        if isinstance(eff, dict):
            out.update(v for v in eff.values() if isinstance(v, str))
    return out


# ---------------------------------------------------------------------- drugs
def drug_node_name(drug_name, target):
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
    columns : list of dict {drug_index, drug, target, action, node, K, hill, potency_range}
    edges : list of (src, dst, sign, label) added by the drugs (for graphs and explanations)
    notes : list of str (targets or substrates the network does not model, and why)
    """

    rules: dict = field(default_factory=dict)
    extra_nodes: list = field(default_factory=list)
    edge_params: dict = field(default_factory=dict)
    y0: dict = field(default_factory=dict)
    ymax: dict = field(default_factory=dict)
    columns: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    notes: list = field(default_factory=list)


_IDENTITY = {"w": 1.0, "n": 1.0, "ec50": 0.5}


def _fold_for(folds, drug, target):
    d = folds.get(drug.name) or folds.get(str(drug.name).lower()) or {}
    f = d.get(target, 1.0)
    if not (isinstance(f, (int, float)) and math.isfinite(f) and f > 0):
        raise InvalidInputError(f"potency fold for {drug.name} at {target} must be a positive "
                                f"number, got {f!r}")
    return float(f)


def attach_drugs(model, drugs, folds=None):
    """Work out how `drugs` attach to `model` (rules, inputs, identity edges); see
    ``[actions]`` in the model file. `folds`: ``{drug_name: {target: fold}}`` potency shifts."""
    model = load(model)
    folds = folds or {}
    att = Attachment()
    rules = model.rules
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
            action = getattr(ta, "action", None)
            spec = model.actions.get(action)
            target = getattr(ta, "target", None)
            if spec is None:
                att.notes.append(f"{drug.name}: action {action!r} at {target} has no entry in the "
                                 f"model's [actions]; ignored")
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
                        att.notes.append(f"{drug.name}: neo-substrate {s} is not modelled in this "
                                         f"network (no path to myeloma readouts is curated)")
                    dests += [m for m in mapped if m not in dests]
                dests += [x for x in (spec.get("extra") or {}).get("nodes", []) if x in nodes]
                sign = -1
            elif spec.get("effector_nodes"):
                # one opsonization node per Fc effector mechanism; the drug marks only those it
                # recruits (TargetAction.effectors; None = every mechanism the action lists)
                if target not in nodes:
                    att.notes.append(f"{drug.name}: antigen/target {target} is not a node of the "
                                     f"network; ignored")
                    continue
                mapping = spec["effector_nodes"]
                wanted = getattr(ta, "effectors", None)
                kinds = list(mapping) if wanted is None else [k for k in wanted]
                dests = []
                for k in kinds:
                    if k not in mapping:
                        att.notes.append(f"{drug.name}: effector {k} has no node in the model's "
                                         f"[actions.{action}.effector_nodes]; ignored")
                    elif mapping[k] in nodes and mapping[k] not in dests:
                        dests.append(mapping[k])
                sign = 1
            else:
                dest = spec.get("node") or target
                if dest not in nodes:
                    att.notes.append(f"{drug.name}: target {target} ({action}) is not a node of "
                                     f"the network; ignored")
                    continue
                if "{target}" in spec["term"] and target not in nodes:
                    att.notes.append(f"{drug.name}: antigen/target {target} is not a node of the "
                                     f"network; ignored")
                    continue
                dests = [dest]
                sign = -1 if "NOT" in spec["term"].split("{drug}")[0].split()[-1:] or \
                    spec["term"].strip().startswith("AND NOT") else 1
            if not dests:
                continue
            reached = True
            if node_in not in att.extra_nodes:
                att.extra_nodes.append(node_in)
                att.y0[node_in] = 0.0
            helpers = []
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
            potency = getattr(ta, "potency", None)
            rng = None
            if potency is not None and getattr(potency, "low", None) and getattr(potency, "high", None) \
                    and getattr(potency, "value", None):
                rng = (float(potency.low) / float(potency.value), float(potency.high) / float(potency.value))
            K = float(ta.potency_nM) * _fold_for(folds, drug, target)
            if not (math.isfinite(K) and K > 0):
                raise InvalidInputError(f"{drug.name}: potency at {target} must be a positive "
                                        f"number of nM, got {ta.potency_nM!r}")
            att.columns.append({"drug_index": di, "drug": drug.name, "target": target,
                                "action": action, "node": node_in, "K": K,
                                "hill": float(getattr(ta, "hill", 1.0) or 1.0),
                                "potency_range": rng})
        if not reached:
            att.notes.append(f"{drug.name}: none of its targets attaches to the network")
    return att



# ---------------------------------------------------------------------- parsing
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
        raise ModelFileError(f"{_where(origin, text, needle)}: {what} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ModelFileError(f"{_where(origin, text, needle)}: {what} must be a finite number, "
                             f"got {v}")
    if (lo is not None and (v <= lo if open_lo else v < lo)) or (hi is not None and v > hi):
        rng = f"{'(' if open_lo else '['}{lo}, {hi}]"
        raise ModelFileError(f"{_where(origin, text, needle)}: {what} must lie in {rng}, got {v}")
    return v


def _str(value, what, origin, text, needle, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ModelFileError(f"{_where(origin, text, needle)}: {what} must be a non-empty string, "
                             f"got {value!r}")
    return value.strip()


def parse_model(data, origin="<model>", text=""):
    """Build a :class:`PathwayModel` from parsed TOML `data` (errors name `origin` and a line)."""
    if not isinstance(data, dict):
        raise ModelFileError(f"{origin}: expected a TOML table at the top level")
    known = {"model", "node", "edge", "readouts", "parameters", "actions", "sources"}
    for key in data:
        if key not in known:
            raise ModelFileError(f"{_where(origin, text, key)}: unknown top-level table {key!r}"
                                 f"{did_you_mean(key, known)}")
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
            raise ModelFileError(f"{_where(origin, text, needle)}: node name {nm!r} must be an "
                                 f"identifier (letters, digits, '_' and '.')")
        if nm in nodes:
            raise ModelFileError(f"{_where(origin, text, needle)}: duplicate node {nm!r}")
        for k in raw:
            if k not in node_keys:
                raise ModelFileError(f"{_where(origin, text, needle)}: node {nm}: unknown key {k!r}"
                                     f"{did_you_mean(k, node_keys)}")
        kind = raw.get("kind", "protein")
        if kind not in NODE_KINDS:
            raise ModelFileError(f"{_where(origin, text, needle)}: node {nm}: kind must be one of "
                                 f"{NODE_KINDS}, got {kind!r}")
        rule = raw.get("rule")
        if rule is not None:
            rule = _str(rule, f"rule of {nm}", origin, text, needle)
            try:
                parse_rule(rule)
            except RuleSyntaxError as exc:
                raise ModelFileError(f"{_where(origin, text, 'rule', rule[:20])}: rule of {nm}: "
                                     f"{exc}") from None
        nodes[nm] = Node(
            name=nm, module=str(raw.get("module", "")), kind=kind,
            description=str(raw.get("description", "")), rule=rule,
            tau=_num(raw.get("tau", 1.0), f"tau of {nm}", origin, text, needle, 0, None, True),
            ymax=_num(raw.get("ymax", 1.0), f"ymax of {nm}", origin, text, needle, 0, 1),
            y0=_num(raw.get("y0", 0.0), f"y0 of {nm}", origin, text, needle, 0, 1))
    edges, seen = [], set()
    edge_keys = {"source", "target", "sign", "sources", "w", "n", "ec50", "parameter", "note", "refs"}
    if not isinstance(data.get("edge", []), list):
        raise ModelFileError(f"{_where(origin, text, 'edge')}: 'edge' must be an array of tables "
                             f"([[edge]] entries)")
    for i, raw in enumerate(data.get("edge", [])):
        if not isinstance(raw, dict):
            raise ModelFileError(f"{origin}: [[edge]] #{i + 1} is not a table")
        src = _str(raw.get("source"), f"[[edge]] #{i + 1} source", origin, text, "source")
        tgt = _str(raw.get("target"), f"[[edge]] #{i + 1} target", origin, text, "target")
        needle = f'source = "{src}"'
        for k in raw:
            if k not in edge_keys:
                raise ModelFileError(f"{_where(origin, text, needle)}: edge {src} -> {tgt}: unknown "
                                     f"key {k!r}{did_you_mean(k, edge_keys)}")
        if (src, tgt) in seen:
            raise ModelFileError(f"{_where(origin, text, needle)}: duplicate edge {src} -> {tgt}")
        seen.add((src, tgt))
        sign = raw.get("sign")
        if sign not in (1, -1) or isinstance(sign, bool):
            raise ModelFileError(f"{_where(origin, text, needle)}: edge {src} -> {tgt}: sign must be "
                                 f"1 or -1, got {sign!r}")
        srcs = raw.get("sources", [])
        if isinstance(srcs, str) or not isinstance(srcs, list) or not all(isinstance(s, str) for s in srcs):
            raise ModelFileError(f"{_where(origin, text, needle)}: edge {src} -> {tgt}: sources must "
                                 f"be a list of strings such as [\"PMID:123\"], got {srcs!r}")
        refs = raw.get("refs", [])
        if not isinstance(refs, list):
            raise ModelFileError(f"{_where(origin, text, needle)}: edge {src} -> {tgt}: refs must "
                                 f"be a list of strings")
        w = raw.get("w")
        n = raw.get("n")
        ec50 = raw.get("ec50")
        w = None if w is None else _num(w, f"w of {src} -> {tgt}", origin, text, needle, 0, 1)
        n = None if n is None else _num(n, f"n of {src} -> {tgt}", origin, text, needle, 0, None, True)
        ec50 = None if ec50 is None else _num(ec50, f"ec50 of {src} -> {tgt}", origin, text,
                                              needle, 0, 1, True)
        nn = 1.4 if n is None else n
        ee = 0.5 if ec50 is None else ec50
        if not (nn == 1.0 and ee == 0.5) and ee ** nn >= 0.5:
            raise ModelFileError(f"{_where(origin, text, needle)}: edge {src} -> {tgt}: EC50={ee} "
                                 f"with n={nn} gives EC50**n >= 0.5; the normalized Hill function "
                                 f"needs EC50**n < 0.5")
        if raw.get("parameter") is not None and not isinstance(raw.get("parameter"), str):
            raise ModelFileError(f"{_where(origin, text, needle)}: edge {src} -> {tgt}: parameter "
                                 f"must be the name of a [parameters] entry, got "
                                 f"{raw.get('parameter')!r}")
        edges.append(Edge(source=src, target=tgt, sign=int(sign), sources=tuple(srcs), w=w, n=n,
                          ec50=ec50, parameter=raw.get("parameter"), note=str(raw.get("note", "")),
                          refs=tuple(str(r) for r in refs)))
    params = {}
    if not isinstance(data.get("parameters") or {}, dict):
        raise ModelFileError(f"{_where(origin, text, 'parameters')}: [parameters] must be a table "
                             f"of tables")
    for pname, raw in (data.get("parameters") or {}).items():
        needle = f"[parameters.{pname}]"
        if not isinstance(raw, dict) or "default" not in raw:
            raise ModelFileError(f"{_where(origin, text, needle)}: parameter {pname} needs at least "
                                 f"'default', 'low' and 'high'")
        d = _num(raw.get("default"), f"parameter {pname} default", origin, text, needle)
        for side in ("supports", "contradicts"):
            val = raw.get(side, ())
            if isinstance(val, str) or not isinstance(val, (list, tuple)):
                raise ModelFileError(f"{_where(origin, text, needle)}: parameter {pname}: {side} "
                                     f"must be a list of source ids, got {val!r}")
        params[pname] = Parameter(
            name=pname, default=d,
            low=_num(raw.get("low", d), f"parameter {pname} low", origin, text, needle),
            high=_num(raw.get("high", d), f"parameter {pname} high", origin, text, needle),
            description=str(raw.get("description", "")),
            supports=tuple(raw.get("supports", ())), contradicts=tuple(raw.get("contradicts", ())),
            note=str(raw.get("note", "")))
    readouts = data.get("readouts") or {}
    if not isinstance(readouts, dict) or not all(isinstance(v, str) for v in readouts.values()):
        raise ModelFileError(f"{_where(origin, text, '[readouts]')}: [readouts] must map names to "
                             f"node names")
    actions = data.get("actions") or {}
    if not isinstance(actions, dict):
        raise ModelFileError(f"{origin}: [actions] must be a table of tables")
    for act, spec in actions.items():
        if not isinstance(spec, dict):
            raise ModelFileError(f"{_where(origin, text, f'[actions.{act}]')}: [actions.{act}] must "
                                 f"be a table")
        if "term" in spec:
            term = spec["term"]
            if not isinstance(term, str):
                raise ModelFileError(f"{_where(origin, text, f'[actions.{act}]')}: action {act}: "
                                     f"term must be a rule fragment (text), got {term!r}")
            probe = term.replace("{drug}", "D").replace("{target}", "T").replace("{e3}", "E")
            try:
                parse_rule(f"X {probe}")
            except RuleSyntaxError as exc:
                raise ModelFileError(f"{_where(origin, text, f'[actions.{act}]')}: action {act}: "
                                     f"term {term!r} is not a rule fragment: {exc}") from None
    sources = data.get("sources") or {}
    if not isinstance(sources, dict):
        raise ModelFileError(f"{_where(origin, text, 'sources')}: [sources] must map source ids to "
                             f"citations")
    return PathwayModel(
        name=name, nodes=nodes, edges=tuple(edges), readouts=dict(readouts), parameters=params,
        actions={k: dict(v) for k, v in actions.items()}, source_titles=dict(sources),
        description=str(meta.get("description", "")).strip(), version=str(meta.get("version", "")),
        semantics=str(meta.get("semantics", "netflux-logic-ode")), origin=origin)


def available():
    """Names of the bundled models (``pathways/*.toml``)."""
    return [n[:-5] for n in list_data("pathways")]


@functools.lru_cache(maxsize=16)
def _load_bundled(name):
    res = data_file("pathways", f"{name}.toml")
    text = res.read_text(encoding="utf-8")
    return parse_model(parse_toml(text, f"pathways/{name}.toml"), f"pathways/{name}.toml", text)


@functools.lru_cache(maxsize=32)
def _read_cached(path, mtime_ns, size):
    text = read_text_file(path)
    return parse_model(parse_toml(text, path), path, text)


def _path_arg(path, func):
    """`path` as a str; InvalidInputError naming the argument for anything else."""
    p = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(p, str):
        raise InvalidInputError(f"{func}(): path must be a file path (str or os.PathLike), got "
                                f"{type(path).__name__} {path!r:.60}")
    return p


def read(path):
    """Read a model file. Our own ``.toml`` format is handled here; other formats (.bnet,
    SBML-qual, .sif, .graphml, KGML) go to :mod:`mmmech.network.io` when it is available."""
    p = _path_arg(path, "read")
    if os.path.isdir(p):
        raise ModelFileError(f"read(): {p!r} is a folder, not a model file")
    if not os.path.isfile(p):
        raise ModelFileError(f"read(): no such model file {p!r}")
    if p.lower().endswith(".toml"):
        st = os.stat(p)
        return _read_cached(os.path.abspath(p), st.st_mtime_ns, st.st_size)
    try:
        from .io import formats as interchange
    except ImportError:
        raise ModelFileError(f"read(): {p!r}: only .toml pathway models can be read in this "
                             f"version") from None
    return interchange.read(p)


def load(model="myeloma"):
    """Load a model: a :class:`PathwayModel` (returned as is), a bundled name or a file path.

    Bundled models are parsed once per process (cached).
    """
    if isinstance(model, PathwayModel):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise InvalidInputError(f"load(): model must be a PathwayModel, a bundled name or a path, "
                                f"got {type(model).__name__}")
    text = os.fspath(model)
    if text in available():
        return _load_bundled(text)
    if os.sep in text or "." in os.path.basename(text) or os.path.exists(text):
        return read(text)
    raise UnknownNameError(f"load(): unknown model {text!r}; bundled models: "
                           f"{', '.join(available())}{did_you_mean(text, available())}")
