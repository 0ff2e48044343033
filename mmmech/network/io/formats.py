"""Read and write the network formats modelers use: SIF, GraphML, BoolNet, SBML-qual, KEGG KGML.

========== ============ ===== ===== ==========================================================
format     extensions   read  write what it carries
========== ============ ===== ===== ==========================================================
sif        .sif .tsv    yes   yes   nodes and signed edges (``A 1 B``, ``A -1 B``; also the
           .txt                     OmniPath-like table ``source interaction target``)
graphml    .graphml     yes   yes   everything mmmech has (nodes with module, kind, rule, tau,
                                    ymax, y0; edges with sign, sources, w, n, EC50; readouts,
                                    parameters, drug actions as graph attributes)
bnet       .bnet        yes   yes   Boolean rules (BoolNet / PyBoolNet ``target, factors``)
sbml-qual  .sbml .xml   yes   yes   Boolean rules as SBML-qual transitions (python-libsbml)
kgml       .kgml .xml   yes   no    KEGG pathway maps: signed relations between gene products
========== ============ ===== ===== ==========================================================

What an imported model is
-------------------------
A :class:`~mmmech.pathways.PathwayModel` with ``curated=False``: its edges carry no literature
sources (validation warns instead of failing), it has no drug actions (drugs cannot attach; set
nodes instead), and ``notes`` says what happened on import. Rules from ``.bnet`` and SBML-qual
files are kept and simulated under mmmech's continuous semantics (``docs/semantics.md``).
Networks without rules (SIF, KGML, GraphML without a ``rule`` attribute) get **default rules**:
a node's activators are combined with OR and its inhibitors enter as AND NOT::

    T = (A1 OR A2 ...) AND NOT I1 AND NOT I2 ...      (only inhibitors: NOT I1 AND NOT I2 ...)

Edges of unknown or both signs (``sign = 0``) are kept in the graph but left out of default
rules. Nodes nobody regulates are inputs: they hold their initial activity, 0 unless the file
says otherwise (SBML-qual ``initialLevel``; mmmech's own comments and annotations), so set them
(``--set NODE=1``) to switch a pathway on. Reading such a network emits a
:class:`DefaultRulesWarning` and records the fact in ``model.notes``.

Names: node names must be identifiers for rules (letters, digits, ``_`` and ``.``); other
characters become ``_`` (``HLA-A`` -> ``HLA_A``), a leading digit gets a ``_`` prefix, the words
AND/OR/NOT/TRUE/FALSE get a ``_`` suffix; the original label stays in the node description.

Safety: files are parsed as data, never executed. XML is checked first with a parser that
refuses entity declarations and never fetches external DTDs or entities (KGML's DOCTYPE line is
allowed and ignored). Malformed files raise :class:`~mmmech.exceptions.ModelFileError` naming
the file, the line (or the XML element) and what is wrong.

Examples
--------
>>> m = loads("A, A\\nB, A & !C\\nC, C\\n", "bnet")
>>> m.nodes["B"].rule, sorted((e.source, e.sign) for e in m.edges)
('A AND NOT C', [('A', 1), ('C', -1)])
>>> dumps(m, "sif").splitlines()
['A\\t1\\tB', 'C\\t-1\\tB']
>>> net = loads("A\\t1\\tC\\nB\\t-1\\tC\\n", "sif")
>>> net.nodes["C"].rule, net.nodes["A"].kind
('A AND NOT B', 'input')
"""
import json
import os
import re
import warnings

from ...exceptions import InvalidInputError, ModelFileError
from ..logic import RuleSyntaxError, format_rule, literals, parse_rule, variables
from ...utils import atomic_write, did_you_mean, file_mode  # noqa: F401 (file_mode re-exported)

__all__ = ["read", "write", "loads", "dumps", "detect_format", "build_network", "default_rule",
           "safe_name", "with_initial", "atomic_write", "DefaultRulesWarning", "FORMATS", "READ_FORMATS", "WRITE_FORMATS",
           "POSITIVE_WORDS", "NEGATIVE_WORDS"]

READ_FORMATS = ("sif", "graphml", "bnet", "sbml-qual", "kgml")
WRITE_FORMATS = ("sif", "graphml", "bnet", "sbml-qual")
FORMATS = READ_FORMATS

_EXT = {".sif": "sif", ".tsv": "sif", ".txt": "sif", ".graphml": "graphml", ".bnet": "bnet",
        ".sbml": "sbml-qual", ".kgml": "kgml"}
_ALIASES = {"sbml": "sbml-qual", "sbmlqual": "sbml-qual", "sbml_qual": "sbml-qual",
            "boolnet": "bnet", "kegg": "kgml", "xml-kgml": "kgml"}

#: interaction words read as activation (SIF interaction column, GraphML edge attributes)
POSITIVE_WORDS = frozenset({"1", "+1", "+", "1.0", "activates", "activation", "activate",
                            "activator", "stimulates", "stimulation", "->", "-->", "positive",
                            "up", "expression", "induces", "promotes", "increases"})
#: interaction words read as inhibition
NEGATIVE_WORDS = frozenset({"-1", "-", "-1.0", "inhibits", "inhibition", "inhibit", "inhibitor",
                            "represses", "repression", "-|", "--|", "negative", "down",
                            "suppresses", "decreases"})
_ZERO_WORDS = frozenset({"0", "0.0", "dual", "unknown", "unsigned", "both"})
_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class DefaultRulesWarning(UserWarning):
    """A network without Boolean rules was given mmmech's default rules on import."""


# ---------------------------------------------------------------------- names
def safe_name(label):
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
        return (f"{len(self.renamed)} node label(s) renamed to rule-safe names (e.g. {ex}); "
                f"the labels are kept in the node descriptions")


# ---------------------------------------------------------------------- building models
def default_rule(activators, inhibitors):
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
    from ..model import Edge
    return Edge(source=source, target=target, sign=int(sign), sources=tuple(kw.pop("sources", ())),
                note=note, **kw)


def build_network(name, nodes, edges, origin="", fmt="", rules=None, y0=None, descriptions=None,
                  notes=(), readouts=None, description="", modules=None, kinds=None,
                  warn=True):
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
    from ..model import Node, PathwayModel
    nodes = list(dict.fromkeys(nodes))
    known = set(nodes)
    notes = [n for n in notes if n]
    elist, seen = [], {}
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
        acts = {n: [] for n in nodes}
        inhs = {n: [] for n in nodes}
        unsigned = 0
        for e in elist:
            if e.sign > 0:
                acts[e.target].append(e.source)
            elif e.sign < 0:
                inhs[e.target].append(e.source)
            else:
                unsigned += 1
        rules = {n: default_rule(acts[n], inhs[n]) for n in nodes}
        rules = {k: v for k, v in rules.items() if v is not None}
        msg = (f"{origin or name}: the {fmt or 'network'} file has no Boolean rules; default "
               f"rules given to {len(rules)} of {len(nodes)} nodes (activators OR'ed, inhibitors "
               f"AND NOT); {len(nodes) - len(rules)} nodes without signed inputs are inputs "
               f"held at their initial activity (0 unless set)")
        if unsigned:
            msg += f"; {unsigned} edge(s) of unknown or both signs left out of the rules"
        notes.insert(0, msg)
        if warn:
            warnings.warn(msg, DefaultRulesWarning, stacklevel=5)
    node_objs = {}
    for n in nodes:
        r = rules.get(n)
        kind = kinds.get(n) or ("input" if r is None else "protein")
        node_objs[n] = Node(name=n, module=str(modules.get(n, "")), kind=kind,
                            description=str(descriptions.get(n, "")), rule=r,
                            y0=float(y0.get(n, 0.0)))
    if readouts is None:
        readouts = {}
        lower = {n.lower(): n for n in nodes}
        for key in ("apoptosis", "proliferation", "viability"):
            if key in lower:
                readouts[key] = lower[key]
    return PathwayModel(name=name, nodes=node_objs, edges=tuple(elist), readouts=dict(readouts),
                        description=description, origin=origin, curated=False,
                        notes=tuple(notes))


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


def with_initial(model, values):
    """A copy of `model` whose nodes start from (and inputs hold) the given activities.

    Imported Boolean models carry no initial state (BoolNet has none; SBML-qual's
    ``initialLevel`` is optional), so every node starts at 0. Positive feedback loops can then
    latch a transient (in the Chudasama 2015 model, proteasome activity starting at 0 turns
    stress on for good); give the resting state of untreated cells here.

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    values : mapping node -> activity in [0, 1]

    Examples
    --------
    >>> m = with_initial(loads("P, !D\\nD, D\\n", "bnet"), {"P": 1.0})
    >>> m.nodes["P"].y0, m.nodes["D"].y0
    (1.0, 0.0)
    """
    import dataclasses
    from ..model import load
    m = load(model)
    nodes = dict(m.nodes)
    for k, v in dict(values).items():
        if k not in nodes:
            from ...exceptions import UnknownNodeError
            raise UnknownNodeError(f"with_initial(): unknown node {k!r}{did_you_mean(k, nodes)}")
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InvalidInputError(f"with_initial(): activity of {k} must be a number in [0, 1], "
                                    f"got {v!r}") from None
        if not 0.0 <= fv <= 1.0:
            raise InvalidInputError(f"with_initial(): activity of {k} must lie in [0, 1], got {fv}")
        nodes[k] = dataclasses.replace(nodes[k], y0=fv)
    return dataclasses.replace(m, nodes=nodes)


# ---------------------------------------------------------------------- format detection
def _norm_format(fmt, allowed, func):
    f = str(fmt).strip().lower()
    f = _ALIASES.get(f, f)
    if f not in allowed:
        raise InvalidInputError(f"{func}(): format must be one of {', '.join(allowed)}, got "
                                f"{fmt!r}{did_you_mean(f, allowed)}")
    return f


def detect_format(path, data=None):
    """Format of a file from its extension, or for ``.xml`` from its root element.

    Parameters
    ----------
    path : str
    data : bytes, optional
        File content (read from `path` when needed and not given).
    """
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext in _EXT and ext != ".xml":
        return _EXT[ext]
    if data is None:
        with open(path, "rb") as fh:
            data = fh.read(4096)
    head = data[:4096].decode("utf-8", "replace")
    root = re.search(r"<(?!\?|!)([A-Za-z_][\w.:-]*)", re.sub(r"<!--.*?-->", "", head, flags=re.S))
    tag = root.group(1).split(":")[-1].lower() if root else ""
    if tag == "sbml":
        return "sbml-qual"
    if tag == "pathway":
        return "kgml"
    if tag == "graphml":
        return "graphml"
    raise ModelFileError(f"{path}: cannot tell the format from the extension {ext or '(none)'!r}"
                         f"{f' or the root element <{tag}>' if tag else ''}; use one of "
                         f"{', '.join(sorted(_EXT))} or give format= "
                         f"({', '.join(READ_FORMATS)})")


# ---------------------------------------------------------------------- public API
def read(path, format=None):
    """Read a network or logic model file into an imported PathwayModel.

    Parameters
    ----------
    path : str or os.PathLike
    format : {"sif", "graphml", "bnet", "sbml-qual", "kgml"}, optional
        Default: from the extension (``.xml`` by its root element).

    Returns
    -------
    PathwayModel
        ``curated=False``; ``notes`` says what happened on import.

    Raises
    ------
    ModelFileError
        Missing or malformed file (the message names the file, line or element, and the
        problem).
    """
    from ..model import _path_arg
    p = _path_arg(path, "read")
    if os.path.isdir(p):
        raise ModelFileError(f"read(): {p!r} is a folder, not a model file")
    if not os.path.isfile(p):
        raise ModelFileError(f"read(): no such model file {p!r}")
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ModelFileError(f"read(): cannot read {p!r}: {exc.strerror or exc}") from None
    fmt = _norm_format(format, READ_FORMATS, "read") if format else detect_format(p, data)
    return _parse(data, fmt, p)


def loads(text, format, origin="<string>"):
    """Parse file content (str or bytes) in `format`; see :func:`read`."""
    fmt = _norm_format(format, READ_FORMATS, "loads")
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return _parse(data, fmt, origin)


_GENERIC_STEMS = {"model", "network", "graph", "net", "pathway", "export"}


def _parse(data, fmt, origin):
    name = os.path.splitext(os.path.basename(origin))[0] or "imported"
    parent = os.path.basename(os.path.dirname(os.path.abspath(origin)))
    if name.lower() in _GENERIC_STEMS and parent and not origin.startswith("<"):
        name = parent  # e.g. bbm059_bortezomib_U266_Chudasama2015/model.bnet
    if fmt in ("sif", "bnet"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise ModelFileError(f"{origin}, line {line}: not UTF-8 text ({exc.reason})") from None
        return _read_sif(text, origin, name) if fmt == "sif" else _read_bnet(text, origin, name)
    from . import _xml as _formats_xml
    return {"graphml": _formats_xml.read_graphml, "sbml-qual": _formats_xml.read_sbml_qual,
            "kgml": _formats_xml.read_kgml}[fmt](data, origin, name)


def dumps(model, format):
    """The text of `model` (PathwayModel, bundled name or path) in a writable `format`."""
    from ..model import load
    fmt = _norm_format(format, WRITE_FORMATS, "dumps")
    m = load(model)
    if fmt == "sif":
        return _write_sif(m)
    if fmt == "bnet":
        return _write_bnet(m)
    from . import _xml as _formats_xml
    return {"graphml": _formats_xml.write_graphml,
            "sbml-qual": _formats_xml.write_sbml_qual}[fmt](m)


def write(model, path, format=None):
    """Write `model` to `path` atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    path : str or os.PathLike
    format : {"sif", "graphml", "bnet", "sbml-qual"}, optional
        Default: from the extension (``.xml`` means SBML-qual).

    Returns
    -------
    str
        The path written.
    """
    p = os.fspath(path)
    if format is None:
        ext = os.path.splitext(p)[1].lower()
        fmt = "sbml-qual" if ext == ".xml" else _EXT.get(ext)
        if fmt not in WRITE_FORMATS:
            raise InvalidInputError(f"write(): cannot tell the format from {p!r}; give format= "
                                    f"({', '.join(WRITE_FORMATS)}) or use .sif, .graphml, .bnet, "
                                    f".sbml")
    else:
        fmt = _norm_format(format, WRITE_FORMATS, "write")
    text = dumps(model, fmt)
    atomic_write(p, text.encode("utf-8"))
    return p


# ---------------------------------------------------------------------- SIF
def _sign_of(token):
    t = str(token).strip().lower()
    if t in POSITIVE_WORDS:
        return 1
    if t in NEGATIVE_WORDS:
        return -1
    if t in _ZERO_WORDS:
        return 0
    return None


_HEADER_2ND = {"interaction", "sign", "effect", "type", "relation", "consensus_sign"}
_HEADER_1ST = {"source", "from", "source_genesymbol", "node1", "source_node"}


def _read_sif(text, origin, name):
    namer = _Namer()
    nodes, edges = [], []
    unsigned_kinds = {}
    first = True
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in (raw.split("\t") if "\t" in raw else raw.split())]
        fields = [f for f in fields if f]
        if first:
            first = False
            if len(fields) >= 2 and (fields[1].lower() in _HEADER_2ND or
                                     fields[0].lower() in _HEADER_1ST):
                continue
        if len(fields) == 1:
            nodes.append(namer(fields[0]))
            continue
        if len(fields) == 2:
            raise ModelFileError(f"{origin}, line {lineno}: expected 'source interaction target' "
                                 f"(or a single node), got 2 fields {fields!r}")
        sign = _sign_of(fields[1])
        if sign is None:
            unsigned_kinds[fields[1]] = unsigned_kinds.get(fields[1], 0) + 1
            sign = 0
        s = namer(fields[0])
        nodes.append(s)
        for tgt in fields[2:]:
            t = namer(tgt)
            nodes.append(t)
            edges.append((s, t, sign))
    if not nodes:
        raise ModelFileError(f"{origin}: no nodes or edges found (expected lines "
                             f"'source interaction target', e.g. 'A\\t1\\tB')")
    notes = [namer.note()]
    if unsigned_kinds:
        kinds = ", ".join(f"{k!r} ({v})" for k, v in sorted(unsigned_kinds.items())[:5])
        notes.append(f"interactions without a sign read as unknown-sign edges: {kinds}")
    descriptions = {b: a for a, b in namer.renamed}
    return build_network(name, nodes, edges, origin=origin, fmt="SIF", notes=notes,
                         descriptions=descriptions)


def _write_sif(m):
    lines = []
    linked = set()
    for e in m.edges:
        linked.update((e.source, e.target))
        signs = (e.sign,) if e.sign in (1, -1) else (1, -1)
        for s in signs:
            lines.append(f"{e.source}\t{s}\t{e.target}")
    for n in m.nodes:
        if n not in linked:
            lines.append(n)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- BoolNet .bnet
_Y0_PREFIX = "# mmmech y0:"


def _read_bnet(text, origin, name):
    rules, order, y0, y0_line = {}, [], {}, {}
    header_done = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.lower().startswith(_Y0_PREFIX):
            for item in line[len(_Y0_PREFIX):].split():
                k, _, v = item.partition("=")
                try:
                    val = float(v)
                except ValueError:
                    raise ModelFileError(f"{origin}, line {lineno}: mmmech y0 entry {item!r} must "
                                         f"be NODE=VALUE with VALUE in [0, 1]") from None
                if not 0.0 <= val <= 1.0:
                    raise ModelFileError(f"{origin}, line {lineno}: y0 of {k} must lie in [0, 1], "
                                         f"got {val}")
                y0[k] = val
                y0_line[k] = lineno
            continue
        if not line or line.startswith("#"):
            continue
        if "," not in line:
            raise ModelFileError(f"{origin}, line {lineno}: expected 'target, factors' (a node, a "
                                 f"comma and its Boolean rule), got {line[:60]!r}")
        target, _, expr = line.partition(",")
        target, expr = target.strip(), expr.strip()
        if not header_done:
            header_done = True
            if target.lower() == "targets" and expr.lower().replace(" ", "").startswith("factors"):
                if expr.lower().replace(" ", "") != "factors":
                    raise ModelFileError(f"{origin}, line {lineno}: only deterministic BoolNet "
                                         f"networks ('targets, factors') are supported, got "
                                         f"header {line!r}")
                continue
        if not _NAME.match(target) or target.lower() in _KEYWORDS:
            raise ModelFileError(f"{origin}, line {lineno}: target {target!r} is not a node name "
                                 f"(letters, digits, '_' and '.', not starting with a digit)")
        if target in rules:
            raise ModelFileError(f"{origin}, line {lineno}: second rule for {target!r} (first at "
                                 f"line {rules[target][1]})")
        if not expr:
            raise ModelFileError(f"{origin}, line {lineno}: {target} has an empty rule")
        try:
            tree = parse_rule(expr)
        except RuleSyntaxError as exc:
            raise ModelFileError(f"{origin}, line {lineno}: rule of {target}: {exc}") from None
        rules[target] = (tree, lineno)
        order.append(target)
    if not rules:
        raise ModelFileError(f"{origin}: no 'target, factors' lines found")
    out_rules, nodes = {}, list(order)
    for tgt, (tree, _) in rules.items():
        for v in variables(tree):
            if v not in rules and v not in nodes:
                nodes.append(v)
        if tree == ("var", tgt):
            continue  # "X, X": an input that keeps its value
        out_rules[tgt] = format_rule(tree)
    for k in y0:
        if k not in nodes:
            raise ModelFileError(f"{origin}, line {y0_line[k]}: mmmech y0 names unknown node "
                                 f"{k!r}{did_you_mean(k, nodes)}")
    inputs = [n for n in nodes if n not in out_rules]
    notes = [f"{origin}: Boolean rules read from the BoolNet file for {len(out_rules)} nodes; "
             f"{len(inputs)} input(s) hold their initial activity ({', '.join(inputs[:8])}"
             f"{', ...' if len(inputs) > 8 else ''})"]
    return build_network(name, nodes, _edges_from_rules(out_rules), origin=origin, fmt="BoolNet",
                         rules=out_rules, y0=y0, notes=notes)


def _write_bnet(m):
    lines = [f"# {m.name}: exported by mmmech (BoolNet format; inputs written as 'X, X')",
             "targets, factors"]
    y0 = [f"{n.name}={n.y0:g}" for n in m.nodes.values() if n.y0 != 0.0]
    for n in m.nodes.values():
        rule = n.name if n.rule is None else format_rule(parse_rule(n.rule), style="bnet")
        lines.append(f"{n.name}, {rule}")
    if y0:
        lines.insert(1, f"{_Y0_PREFIX} " + " ".join(y0))
    return "\n".join(lines) + "\n"


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

