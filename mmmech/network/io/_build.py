"""What every format reader shares: names made safe for rules, default rules, building an
imported :class:`~mmmech.network.model.PathwayModel`, sign words, JSON attributes."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping, Sequence

from ...exceptions import ModelFileError
from ..logic import literals, parse_rule, variables
from ..model import Edge, Node, PathwayModel

__all__ = [
    "DefaultRulesWarning",
    "POSITIVE_WORDS",
    "NEGATIVE_WORDS",
    "safe_name",
    "default_rule",
    "build_network",
]


#: interaction words read as activation (SIF interaction column, GraphML edge attributes)
POSITIVE_WORDS = frozenset(
    {
        "1",
        "+1",
        "+",
        "1.0",
        "activates",
        "activation",
        "activate",
        "activator",
        "stimulates",
        "stimulation",
        "->",
        "-->",
        "positive",
        "up",
        "expression",
        "induces",
        "promotes",
        "increases",
    }
)

#: interaction words read as inhibition
NEGATIVE_WORDS = frozenset(
    {
        "-1",
        "-",
        "-1.0",
        "inhibits",
        "inhibition",
        "inhibit",
        "inhibitor",
        "represses",
        "repression",
        "-|",
        "--|",
        "negative",
        "down",
        "suppresses",
        "decreases",
    }
)

_ZERO_WORDS = frozenset({"0", "0.0", "dual", "unknown", "unsigned", "both"})

_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class DefaultRulesWarning(UserWarning):
    """A network without Boolean rules was given mmmech's default rules on import."""


def safe_name(label: object) -> str:
    """A rule-safe node name for `label` (see the module docstring).

    >>> safe_name("HLA-A"), safe_name("14-3-3"), safe_name("NOT"), safe_name("NFKB1")
    ('HLA_A', '_14_3_3', 'NOT_', 'NFKB1')
    """
    s = re.sub(r"[^A-Za-z0-9_.]", "_", str(label).strip()) or "_"
    if not re.match(r"[A-Za-z_]", s[0]):
        s = "_" + s
    if s.lower() in _KEYWORDS:
        s += "_"
    return s


class _Namer:
    """Maps labels to unique rule-safe names; counts renames."""

    def __init__(self):
        self.by_label = {}
        self.used = set()
        self.renamed = []

    def __call__(self, label):
        label = str(label).strip()
        if label in self.by_label:
            return self.by_label[label]
        base = safe_name(label)
        name, k = base, 2
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        if name != label:
            self.renamed.append((label, name))
        self.by_label[label] = name
        self.used.add(name)
        return name

    def note(self):
        if not self.renamed:
            return None
        ex = ", ".join(f"{a!r} -> {b}" for a, b in self.renamed[:3])
        return (
            f"{len(self.renamed)} node label(s) renamed to rule-safe names (e.g. {ex}); "
            f"the labels are kept in the node descriptions"
        )


def default_rule(activators: Sequence[str], inhibitors: Sequence[str]) -> str | None:
    """mmmech's default rule: activators OR'ed, inhibitors as AND NOT (None without inputs).

    >>> default_rule(["A", "B"], ["C"])
    '(A OR B) AND NOT C'
    >>> default_rule([], ["C", "D"])
    'NOT C AND NOT D'
    """
    acts, inhs = list(activators), list(inhibitors)
    parts = []
    if len(acts) == 1:
        parts.append(acts[0])
    elif acts:
        parts.append(f"({' OR '.join(acts)})" if inhs else " OR ".join(acts))
    parts += [f"NOT {i}" for i in inhs]
    return " AND ".join(parts) if parts else None


def _edge(source, target, sign, note="", **kw):
    return Edge(
        source=source,
        target=target,
        sign=int(sign),
        sources=tuple(kw.pop("sources", ())),
        note=note,
        **kw,
    )


def build_network(
    name: str,
    nodes: Sequence[str],
    edges: Sequence[tuple],
    origin: str = "",
    fmt: str = "",
    rules: Mapping[str, str] | None = None,
    y0: Mapping[str, float] | None = None,
    descriptions: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    readouts: Mapping[str, str] | None = None,
    description: str = "",
    modules: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    warn: bool = True,
) -> PathwayModel:
    """Build an imported (``curated=False``) PathwayModel from nodes and signed edges.

    Parameters
    ----------
    name : str
    nodes : sequence of str
        Rule-safe node names, in file order.
    edges : sequence of (source, target, sign) or (source, target, sign, note)
        Sign +1, -1 or 0 (unknown or both; left out of default rules).
    origin, fmt : str
        File and format (for notes and messages).
    rules : mapping node -> rule string, optional
        Rules from the file. Without them every node with signed inputs gets
        :func:`default_rule` (and a :class:`DefaultRulesWarning` is emitted when `warn`).
    y0, descriptions, modules, kinds : mapping node -> value, optional
    notes : sequence of str
    readouts : mapping, optional
        Default: nodes named exactly ``Apoptosis``, ``Proliferation``, ``Viability`` (any case).

    Returns
    -------
    PathwayModel
    """
    nodes = list(dict.fromkeys(nodes))
    known = set(nodes)
    notes = [n for n in notes if n]
    elist: list[Edge] = []
    seen: dict[tuple[str, str], int] = {}
    for item in edges:
        s, t, sign = item[0], item[1], item[2]
        note = item[3] if len(item) > 3 else ""
        for end in (s, t):
            if end not in known:
                known.add(end)
                nodes.append(end)
        if (s, t) in seen:
            i = seen[(s, t)]
            if elist[i].sign != sign:
                elist[i] = _edge(s, t, 0, "both signs in the file")
            continue
        seen[(s, t)] = len(elist)
        elist.append(_edge(s, t, sign, note))
    y0 = dict(y0 or {})
    descriptions = dict(descriptions or {})
    modules = dict(modules or {})
    kinds = dict(kinds or {})
    if rules is None:
        acts: dict[str, list[str]] = {n: [] for n in nodes}
        inhs: dict[str, list[str]] = {n: [] for n in nodes}
        unsigned = 0
        for e in elist:
            if e.sign > 0:
                acts[e.target].append(e.source)
            elif e.sign < 0:
                inhs[e.target].append(e.source)
            else:
                unsigned += 1
        defaults = {n: default_rule(acts[n], inhs[n]) for n in nodes}
        rules = {n: r for n, r in defaults.items() if r is not None}
        msg = (
            f"{origin or name}: the {fmt or 'network'} file has no Boolean rules; default "
            f"rules given to {len(rules)} of {len(nodes)} nodes (activators OR'ed, inhibitors "
            f"AND NOT); {len(nodes) - len(rules)} nodes without signed inputs are inputs "
            f"held at their initial activity (0 unless set)"
        )
        if unsigned:
            msg += f"; {unsigned} edge(s) of unknown or both signs left out of the rules"
        notes.insert(0, msg)
        if warn:
            warnings.warn(msg, DefaultRulesWarning, stacklevel=5)
    node_objs = {}
    for n in nodes:
        r = rules.get(n)
        kind = kinds.get(n) or ("input" if r is None else "protein")
        node_objs[n] = Node(
            name=n,
            module=str(modules.get(n, "")),
            kind=kind,
            description=str(descriptions.get(n, "")),
            rule=r,
            y0=float(y0.get(n, 0.0)),
        )
    if readouts is None:
        readouts = {}
        lower = {n.lower(): n for n in nodes}
        for key in ("apoptosis", "proliferation", "viability"):
            if key in lower:
                readouts[key] = lower[key]
    return PathwayModel(
        name=name,
        nodes=node_objs,
        edges=tuple(elist),
        readouts=dict(readouts),
        description=description,
        origin=origin,
        curated=False,
        notes=tuple(notes),
    )


def _edges_from_rules(rules, signs=None):
    """Edges (source, target, sign) implied by rules; `signs` (src, dst) -> sign overrides 0s."""
    out = []
    for tgt, rule in rules.items():
        tree = parse_rule(rule)
        lits = literals(tree)
        for var in variables(tree):
            s = lits[var]
            if signs and s == 0 and signs.get((var, tgt)) in (1, -1):
                s = signs[(var, tgt)]
            out.append((var, tgt, s))
    return out


def _sign_of(token):
    t = str(token).strip().lower()
    if t in POSITIVE_WORDS:
        return 1
    if t in NEGATIVE_WORDS:
        return -1
    if t in _ZERO_WORDS:
        return 0
    return None


def _json_attr(value):
    """Lists and dicts as JSON text (GraphML attributes are scalars)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def _from_json_attr(value, origin, what):
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{origin}: {what} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ModelFileError(f"{origin}: {what} is not valid JSON (nested too deeply)") from None
