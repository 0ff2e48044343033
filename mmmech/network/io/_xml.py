"""XML formats of :mod:`mmmech.interchange`: GraphML, SBML-qual (python-libsbml), KEGG KGML.

Every XML file first goes through :func:`check_xml`: a plain expat pass that refuses entity
declarations (no "billion laughs", no external entities), never loads external DTDs (KGML's
``<!DOCTYPE pathway SYSTEM "https://...">`` line is allowed and ignored, nothing is fetched) and
turns malformed XML into a :class:`~mmmech.exceptions.ModelFileError` with file, line and
column. Only then do ElementTree (GraphML via networkx, KGML via Biopython) or libsbml see it.
"""
import dataclasses
import io
import math
import warnings
from xml.etree import ElementTree as ET
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

from ...exceptions import ModelFileError
from .formats import (DefaultRulesWarning, _Namer, _edges_from_rules, _sign_of,
                          build_network, safe_name)
from ..logic import MAX_DEPTH, RuleSyntaxError, format_rule, literals, parse_rule

__all__ = ["check_xml", "read_graphml", "write_graphml", "read_sbml_qual", "write_sbml_qual",
           "read_kgml", "MMMECH_NS"]

#: XML namespace of the annotations mmmech writes into SBML-qual species
MMMECH_NS = "urn:mmmech:pathway:1"


class _Forbidden(Exception):
    pass


def check_xml(data, origin, max_depth=None):
    """Check that `data` (bytes) is well-formed XML without entity declarations (and, with
    `max_depth`, elements nested at most that deep).

    Returns
    -------
    str
        The local name of the root element.

    Raises
    ------
    ModelFileError
        Malformed XML (file, line, column and expat's reason) or a forbidden construct.
    """
    # namespace-aware, as ElementTree and libsbml are: an unbound prefix is malformed here too
    p = expat.ParserCreate(namespace_separator=" ")
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    root = []

    def entity(name, *args):
        raise _Forbidden(f"entity declaration {name!r} (entities are refused: they can expand "
                         f"without bound or read other files)")

    def external(context, base, system_id, public_id):
        raise _Forbidden(f"external entity reference {system_id!r}")

    depth = [0]

    def start(name, attrs):
        if not root:
            root.append(name.split(" ")[-1].split(":")[-1])
        depth[0] += 1
        if max_depth is not None and depth[0] > max_depth:
            raise _Forbidden(f"elements nested deeper than {max_depth} levels")

    def end(name):
        depth[0] -= 1

    p.EntityDeclHandler = entity
    p.UnparsedEntityDeclHandler = entity
    p.ExternalEntityRefHandler = external
    p.StartElementHandler = start
    p.EndElementHandler = end
    try:
        p.Parse(data, True)
    except _Forbidden as exc:
        raise ModelFileError(f"{origin}, line {p.CurrentLineNumber}: refused {exc}") from None
    except expat.ExpatError as exc:
        raise ModelFileError(f"{origin}, line {exc.lineno}, column {exc.offset + 1}: malformed "
                             f"XML: {expat.ErrorString(exc.code)}") from None
    except (LookupError, ValueError) as exc:    # e.g. encoding="TF-8" in the declaration
        raise ModelFileError(f"{origin}, line {p.CurrentLineNumber}: malformed XML: "
                             f"{' '.join(str(exc).split())}") from None
    if not root:
        raise ModelFileError(f"{origin}: no XML root element")
    return root[0]


def _expect_root(data, origin, want, fmt, max_depth=None):
    tag = check_xml(data, origin, max_depth)
    if tag.lower() != want:
        raise ModelFileError(f"{origin}, line 1: root element <{tag}> is not <{want}>; this is not "
                             f"a {fmt} file")


# ---------------------------------------------------------------------- GraphML
_SIGN_KEYS = ("sign", "interaction", "effect", "edge_type", "type", "relation")


def _num_attr(value, what, origin, lo=None, hi=None, open_lo=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelFileError(f"{origin}: {what} must be a number, got {value!r}") from None
    if not math.isfinite(v) or (lo is not None and (v <= lo if open_lo else v < lo)) or \
            (hi is not None and v > hi):
        raise ModelFileError(f"{origin}: {what} must lie in {'(' if open_lo else '['}{lo}, "
                             f"{hi}], got {value!r}")
    return v


def _list_attr(value, origin, what):
    from .formats import _from_json_attr
    if value is None or value == "":
        return ()
    if isinstance(value, str) and value.lstrip().startswith("["):
        out = _from_json_attr(value, origin, what)
        if not isinstance(out, list) or not all(isinstance(x, str) for x in out):
            raise ModelFileError(f"{origin}: {what} must be a JSON list of strings")
        return tuple(out)
    return tuple(x.strip() for x in str(value).split(";") if x.strip())


def read_graphml(data, origin, name):
    """Read GraphML (mmmech's own attributes when present, else a signed network)."""
    import networkx as nx
    from .formats import _from_json_attr
    from ..model import Parameter
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
                raise ModelFileError(f"{origin}: the rule of {nm} reads {v!r}, which is not a node "
                                     f"of the graph")
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
        kw = {"sources": _list_attr(a.get("sources"), where, "sources"),
              "refs": _list_attr(a.get("refs"), where, "refs")}
        if "w" in a:
            kw["w"] = _num_attr(a["w"], "w", where, 0, 1)
        if "n" in a:
            kw["n"] = _num_attr(a["n"], "n", where, 0, None, True)
        if "ec50" in a:
            kw["ec50"] = _num_attr(a["ec50"], "ec50", where, 0, 1, True)
        nn, ee = kw.get("n", 1.4), kw.get("ec50", 0.5)
        if not (nn == 1.0 and ee == 0.5) and ee ** nn >= 0.5:
            raise ModelFileError(f"{where}: EC50={ee} with n={nn} gives EC50**n >= 0.5; the "
                                 f"normalized Hill function needs EC50**n < 0.5")
        if a.get("parameter"):
            kw["parameter"] = str(a["parameter"])
        full[(s, t)] = kw
    if unsigned:
        notes.append(f"{unsigned} edge(s) without a sign attribute (sign, interaction, effect) "
                     f"read as unknown-sign edges")
    if has_rules:
        notes.append(f"{origin}: GraphML{' written by mmmech' if mmmech_flavour else ''} with "
                     f"Boolean rules for {len(rules)} of {len(nodes)} nodes")
        implied = {(s, t): sg for s, t, sg in _edges_from_rules(rules)}
        listed = {(e[0], e[1]) for e in edges}
        edges += [(s, t, sg, "") for (s, t), sg in implied.items() if (s, t) not in listed]
    readouts = _from_json_attr(ga.get("mmmech_readouts"), origin, "graph attribute mmmech_readouts")
    description = str(ga.get("description", ""))
    model = build_network(str(ga.get("name") or name), nodes, edges, origin=origin, fmt="GraphML",
                          rules=rules if has_rules else None, y0=y0, descriptions=desc,
                          modules=modules, kinds=kinds, notes=[namer.note()] + notes,
                          readouts=readouts if isinstance(readouts, dict) else None,
                          description=description)
    new_nodes = {k: dataclasses.replace(n, **extra.get(k, {})) for k, n in model.nodes.items()}
    new_edges = tuple(dataclasses.replace(e, **full.get((e.source, e.target), {}))
                      if e.sign != 0 or (e.source, e.target) in full else e for e in model.edges)
    params = {}
    raw_params = _from_json_attr(ga.get("mmmech_parameters"), origin, "mmmech_parameters") or {}
    for pname, p in raw_params.items():
        try:
            params[pname] = Parameter(**{**p, "supports": tuple(p.get("supports", ())),
                                         "contradicts": tuple(p.get("contradicts", ()))})
        except TypeError as exc:
            raise ModelFileError(f"{origin}: graph attribute mmmech_parameters, entry {pname!r}: "
                                 f"{exc}") from None
    for e in new_edges:
        if e.parameter is not None and e.parameter not in params:
            raise ModelFileError(f"{origin}, <edge {e.source!r} -> {e.target!r}>: parameter "
                                 f"{e.parameter!r} is not in the graph's mmmech_parameters")
    actions = _from_json_attr(ga.get("mmmech_actions"), origin, "mmmech_actions") or {}
    sources = _from_json_attr(ga.get("mmmech_sources"), origin, "mmmech_sources") or {}
    if not isinstance(actions, dict) or not isinstance(sources, dict):
        raise ModelFileError(f"{origin}: graph attributes mmmech_actions and mmmech_sources must "
                             f"be JSON objects")
    return dataclasses.replace(model, nodes=new_nodes, edges=new_edges, parameters=params,
                               actions=actions, source_titles=sources,
                               version=str(ga.get("version", "")),
                               semantics=str(ga.get("semantics", model.semantics)))


def write_graphml(m):
    """GraphML text of a model, with every mmmech attribute (lossless for mmmech)."""
    import networkx as nx
    from .formats import _json_attr
    g = nx.DiGraph()
    g.graph.update({"mmmech_format": "1", "name": m.name, "description": m.description,
                    "version": m.version, "semantics": m.semantics,
                    "mmmech_readouts": _json_attr(dict(m.readouts)),
                    "mmmech_parameters": _json_attr({k: p.to_dict() for k, p in
                                                     m.parameters.items()}),
                    "mmmech_actions": _json_attr({k: dict(v) for k, v in m.actions.items()}),
                    "mmmech_sources": _json_attr(dict(m.source_titles))})
    for n in m.nodes.values():
        attrs = {"module": n.module, "kind": n.kind, "description": n.description,
                 "tau": float(n.tau), "ymax": float(n.ymax), "y0": float(n.y0)}
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


# ---------------------------------------------------------------------- SBML-qual
def _libsbml():
    try:
        import libsbml
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ModelFileError(f"SBML-qual needs python-libsbml ({exc})") from None
    return libsbml


#: most arguments of one <xor/>: its expansion into AND/OR/NOT doubles with each argument
MAX_XOR_ARGS = 8


def _ast_to_tree(ast, names, where, libsbml, depth=0):
    """libsbml ASTNode of a Boolean SBML-qual function term -> logic tree."""
    if depth > MAX_DEPTH:
        raise ModelFileError(f"{where}: the function term nests deeper than {MAX_DEPTH} levels")
    t = ast.getType()
    kids = [ast.getChild(i) for i in range(ast.getNumChildren())]
    depth += 1
    if t == libsbml.AST_LOGICAL_AND or t == libsbml.AST_LOGICAL_OR:
        sub = tuple(_ast_to_tree(k, names, where, libsbml, depth) for k in kids)
        if not sub:
            return ("const", 1.0 if t == libsbml.AST_LOGICAL_AND else 0.0)
        return sub[0] if len(sub) == 1 else ("and" if t == libsbml.AST_LOGICAL_AND else "or", sub)
    if t == libsbml.AST_LOGICAL_NOT:
        if len(kids) != 1:
            raise ModelFileError(f"{where}: <not/> needs one argument, got {len(kids)}")
        return ("not", _ast_to_tree(kids[0], names, where, libsbml, depth))
    if t == libsbml.AST_LOGICAL_XOR:
        if not kids or len(kids) > MAX_XOR_ARGS:
            raise ModelFileError(f"{where}: <xor/> with {len(kids)} arguments; mmmech expands "
                                 f"xor into AND/OR/NOT and accepts 1 to {MAX_XOR_ARGS}")
        sub = [_ast_to_tree(k, names, where, libsbml, depth) for k in kids]
        acc = sub[0]
        for b in sub[1:]:
            acc = ("or", (("and", (acc, ("not", b))), ("and", (("not", acc), b))))
        return acc
    if t == libsbml.AST_CONSTANT_TRUE:
        return ("const", 1.0)
    if t == libsbml.AST_CONSTANT_FALSE:
        return ("const", 0.0)
    if t == libsbml.AST_NAME:
        return _var(ast.getName(), names, where)
    rel = {libsbml.AST_RELATIONAL_EQ: "eq", libsbml.AST_RELATIONAL_NEQ: "neq",
           libsbml.AST_RELATIONAL_GEQ: "geq", libsbml.AST_RELATIONAL_GT: "gt",
           libsbml.AST_RELATIONAL_LEQ: "leq", libsbml.AST_RELATIONAL_LT: "lt"}
    if t in rel:
        if len(kids) != 2:
            raise ModelFileError(f"{where}: comparison <{rel[t]}/> needs two arguments")
        a, b = kids
        op = rel[t]
        if a.getType() != libsbml.AST_NAME and b.getType() == libsbml.AST_NAME:
            a, b = b, a
            op = {"eq": "eq", "neq": "neq", "geq": "leq", "gt": "lt", "leq": "geq",
                  "lt": "gt"}[op]
        if a.getType() != libsbml.AST_NAME or not (b.isInteger() or b.isReal()):
            raise ModelFileError(f"{where}: only comparisons of a species with a number are "
                                 f"supported, got {libsbml.formulaToL3String(ast)!r}")
        k = b.getValue() if b.isReal() else b.getInteger()
        test = {"eq": lambda v: v == k, "neq": lambda v: v != k, "geq": lambda v: v >= k,
                "gt": lambda v: v > k, "leq": lambda v: v <= k, "lt": lambda v: v < k}[op]
        var = _var(a.getName(), names, where)
        on, off = test(1), test(0)
        if on and off:
            return ("const", 1.0)
        if on:
            return var
        if off:
            return ("not", var)
        return ("const", 0.0)
    if ast.isInteger() or ast.isReal():
        v = ast.getValue() if ast.isReal() else ast.getInteger()
        if v in (0, 1):
            return ("const", float(v))
    raise ModelFileError(f"{where}: unsupported MathML in a function term: "
                         f"{libsbml.formulaToL3String(ast)!r} (expected and/or/not/xor, "
                         f"comparisons of species with 0/1, true/false)")


#: largest rule (terms and operators, after xor is expanded) read from one transition
MAX_RULE_SIZE = 100_000


def _check_tree(tree, where):
    """ModelFileError when a logic tree built from MathML nests deeper than MAX_DEPTH or grows
    past MAX_RULE_SIZE once printed (xor expansion shares subtrees, so the printed rule can be
    exponentially larger than the MathML). Walks the shared tree without recursion."""
    info = {}                      # id(subtree) -> (depth, size)
    stack = [(tree, False)]
    while stack:
        t, done = stack.pop()
        if id(t) in info:
            continue
        kids = () if t[0] in ("var", "const") else ((t[1],) if t[0] == "not" else t[1])
        if not done:
            stack.append((t, True))
            stack.extend((k, False) for k in kids if id(k) not in info)
            continue
        d = 1 + max((info[id(k)][0] for k in kids), default=0)
        n = 1 + sum(info[id(k)][1] for k in kids)
        if d > MAX_DEPTH or n > MAX_RULE_SIZE:
            raise ModelFileError(f"{where}: the rule is too large once read (more than "
                                 f"{MAX_DEPTH} levels deep or {MAX_RULE_SIZE} terms after <xor/> "
                                 f"is expanded)")
        info[id(t)] = (d, n)


def _var(sid, names, where):
    if sid not in names:
        raise ModelFileError(f"{where}: function term reads {sid!r}, which is not a "
                             f"qualitativeSpecies")
    return ("var", names[sid])


def _annotation(sp):
    """mmmech attributes stored in a species annotation (dict of str), if any."""
    ann = sp.getAnnotation()
    if ann is None:
        return {}
    stack = [ann]
    while stack:
        node = stack.pop()
        if node.getURI() == MMMECH_NS and node.getName() == "node":
            return {node.getAttrName(i): node.getAttrValue(i)
                    for i in range(node.getAttributesLength())}
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return {}


#: deepest element nesting accepted in SBML files (real SBML-qual files nest about 15 levels)
SBML_MAX_DEPTH = 1000


def read_sbml_qual(data, origin, name):
    """Read an SBML-qual model: species, transitions and Boolean function terms."""
    libsbml = _libsbml()
    # libsbml parses MathML recursively in C++: thousands of nested elements overflow its stack
    # (a segmentation fault), so depth is bounded before libsbml sees the file
    _expect_root(data, origin, "sbml", "SBML", max_depth=SBML_MAX_DEPTH)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{origin}: not UTF-8 ({exc.reason})") from None
    doc = libsbml.readSBMLFromString(text)
    ignored = 0
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= libsbml.LIBSBML_SEV_FATAL or \
                err.getCategory() == libsbml.LIBSBML_CAT_XML:
            raise ModelFileError(f"{origin}, line {err.getLine()}: SBML: "
                                 f"{' '.join(err.getMessage().split())}")
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            ignored += 1
    model = doc.getModel()
    if model is None:
        raise ModelFileError(f"{origin}: the SBML document has no <model>")
    qm = model.getPlugin("qual")
    if qm is None or qm.getNumQualitativeSpecies() == 0:
        raise ModelFileError(f"{origin}: no qualitative model here (SBML-qual "
                             f"<listOfQualitativeSpecies> missing or empty); mmmech reads "
                             f"logic models in SBML-qual only")
    namer = _Namer()
    names, y0, desc, extra, constant = {}, {}, {}, {}, set()
    species = [qm.getQualitativeSpecies(i) for i in range(qm.getNumQualitativeSpecies())]
    by_name = {}
    for sp in species:
        nm = sp.getName() if sp.isSetName() else ""
        by_name[nm] = by_name.get(nm, 0) + 1
    for sp in species:
        sid = sp.getId()
        where = f"{origin}, <qualitativeSpecies id={sid!r}>"
        if sp.isSetMaxLevel() and sp.getMaxLevel() > 1:
            raise ModelFileError(f"{where}: maxLevel={sp.getMaxLevel()}: multi-valued species are "
                                 f"not supported (mmmech reads Boolean SBML-qual models)")
        nm = sp.getName().strip() if sp.isSetName() else ""
        label = nm if nm and safe_name(nm) == nm and by_name.get(nm) == 1 else sid
        names[sid] = namer(label)
        if nm and nm != names[sid]:
            desc[names[sid]] = nm
        ann = _annotation(sp)
        if sp.isSetInitialLevel():
            y0[names[sid]] = float(min(max(sp.getInitialLevel(), 0), 1))
        if "y0" in ann:
            y0[names[sid]] = _num_attr(ann["y0"], "annotation y0", where, 0, 1)
        ex = {}
        if "tau" in ann:
            ex["tau"] = _num_attr(ann["tau"], "annotation tau", where, 0, None, True)
        if "ymax" in ann:
            ex["ymax"] = _num_attr(ann["ymax"], "annotation ymax", where, 0, 1)
        for k in ("module", "kind", "description"):
            if k in ann:
                ex[k] = ann[k]
        extra[names[sid]] = ex
        if sp.isSetConstant() and sp.getConstant():
            constant.add(names[sid])
    nodes = [names[sp.getId()] for sp in species]
    rules, signs, rule_of = {}, {}, {}
    for i in range(qm.getNumTransitions()):
        tr = qm.getTransition(i)
        where = f"{origin}, <transition id={tr.getId()!r}>"
        outs = [tr.getOutput(j).getQualitativeSpecies() for j in range(tr.getNumOutputs())]
        for o in outs:
            if o not in names:
                raise ModelFileError(f"{where}: output {o!r} is not a qualitativeSpecies")
        ins = []
        for j in range(tr.getNumInputs()):
            inp = tr.getInput(j)
            sid = inp.getQualitativeSpecies()
            if sid not in names:
                raise ModelFileError(f"{where}: input {sid!r} is not a qualitativeSpecies")
            sg = inp.getSign() if inp.isSetSign() else None
            sgn = {libsbml.INPUT_SIGN_POSITIVE: 1, libsbml.INPUT_SIGN_NEGATIVE: -1,
                   libsbml.INPUT_SIGN_DUAL: 0}.get(sg)
            ins.append((names[sid], sgn))
        terms = [tr.getFunctionTerm(j) for j in range(tr.getNumFunctionTerms())]
        default = tr.getDefaultTerm()
        default_level = default.getResultLevel() if default is not None and \
            default.isSetResultLevel() else 0
        if not terms:
            # no function terms: the default level is a constant; no default either: an input
            set_default = default is not None and default.isSetResultLevel()
            tree = ("const", float(default_level > 0)) if set_default else None
        else:
            conds = []
            for j, ft in enumerate(terms):
                if not ft.isSetMath():
                    raise ModelFileError(f"{where}: functionTerm #{j + 1} has no <math>")
                lvl = ft.getResultLevel()
                if lvl not in (0, 1):
                    raise ModelFileError(f"{where}: functionTerm #{j + 1} has resultLevel {lvl}; "
                                         f"only Boolean levels 0 and 1 are supported")
                conds.append((_ast_to_tree(ft.getMath(), names, f"{where} functionTerm "
                                           f"#{j + 1}", libsbml), lvl))
            tree = _first_match(conds, default_level)
            _check_tree(tree, where)
        for o in outs:
            onm = names[o]
            if onm in rule_of:
                raise ModelFileError(f"{where}: species {o!r} is already the output of transition "
                                     f"{rule_of[onm]!r}")
            rule_of[onm] = tr.getId()
            for src, sgn in ins:
                if sgn is not None:
                    signs[(src, onm)] = sgn
            if tree is None or tree == ("var", onm) or onm in constant:
                continue
            rules[onm] = format_rule(tree)
    edges = _edges_from_rules(rules, signs)
    in_rules = {(s, t) for s, t, _ in edges}
    # keep the signs the file declares on inputs (rule literal signs are the fallback)
    edges = [(s, t, signs[(s, t)] if signs.get((s, t)) in (1, -1) else sg) for s, t, sg in edges]
    edges += [(s, t, sg) for (s, t), sg in signs.items() if (s, t) not in in_rules
              and t in rules]
    inputs = [n for n in nodes if n not in rules]
    notes = [namer.note(),
             f"{origin}: Boolean rules read from SBML-qual transitions for {len(rules)} nodes; "
             f"{len(inputs)} input(s) hold their initial activity ({', '.join(inputs[:8])}"
             f"{', ...' if len(inputs) > 8 else ''})"]
    if ignored:
        notes.append(f"libsbml reported {ignored} non-fatal SBML consistency error(s) (e.g. "
                     f"missing compartments); the qualitative model was read regardless")
    mname = model.getName() if model.isSetName() else (model.getId() if model.isSetId() else name)
    m = build_network(mname or name, nodes, edges, origin=origin, fmt="SBML-qual", rules=rules,
                      y0=y0, descriptions=desc, notes=notes,
                      modules={k: v["module"] for k, v in extra.items() if "module" in v},
                      kinds={k: v["kind"] for k, v in extra.items()
                             if v.get("kind") in ("protein", "process", "phenotype", "input")})
    new_nodes = {}
    for k, n in m.nodes.items():
        ex = {key: val for key, val in extra.get(k, {}).items() if key in ("tau", "ymax",
                                                                           "description")}
        new_nodes[k] = dataclasses.replace(n, **ex)
    return dataclasses.replace(m, nodes=new_nodes)


def _first_match(conds, default_level):
    """Boolean rule of ordered function terms (first true term wins; else the default)."""
    ones = [c for c, lvl in conds if lvl == 1]
    if default_level == 0 and len(ones) == len(conds):
        return ones[0] if len(ones) == 1 else ("or", tuple(ones))
    if default_level == 1 and not ones:
        zeros = [c for c, _ in conds]
        return ("not", zeros[0] if len(zeros) == 1 else ("or", tuple(zeros)))
    parts, before = [], []
    for c, lvl in conds:
        if lvl == 1:
            parts.append(("and", (c,) + tuple(("not", b) for b in before)) if before else c)
        before.append(c)
    if default_level == 1:
        parts.append(("and", tuple(("not", b) for b in before)) if len(before) > 1
                     else ("not", before[0]))
    if not parts:
        return ("const", 0.0)
    return parts[0] if len(parts) == 1 else ("or", tuple(parts))


def _tree_to_ast(tree, ids, libsbml):
    kind = tree[0]
    if kind == "var":
        eq = libsbml.ASTNode(libsbml.AST_RELATIONAL_EQ)
        c = libsbml.ASTNode(libsbml.AST_NAME)
        c.setName(ids[tree[1]])
        k = libsbml.ASTNode(libsbml.AST_INTEGER)
        k.setValue(1)
        eq.addChild(c)
        eq.addChild(k)
        return eq
    if kind == "const":
        return libsbml.ASTNode(libsbml.AST_CONSTANT_TRUE if tree[1] else libsbml.AST_CONSTANT_FALSE)
    if kind == "not":
        node = libsbml.ASTNode(libsbml.AST_LOGICAL_NOT)
        node.addChild(_tree_to_ast(tree[1], ids, libsbml))
        return node
    node = libsbml.ASTNode(libsbml.AST_LOGICAL_AND if kind == "and" else libsbml.AST_LOGICAL_OR)
    for c in tree[1]:
        node.addChild(_tree_to_ast(c, ids, libsbml))
    return node


def _sid(name, used):
    base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    if not (base[:1].isalpha() or base[:1] == "_"):
        base = "_" + base
    sid, k = base, 2
    while sid in used:
        sid, k = f"{base}_{k}", k + 1
    used.add(sid)
    return sid


def write_sbml_qual(m):
    """SBML-qual (Level 3 Version 1, qual v1) text of a model's nodes, signed inputs and rules.

    Each node is a Boolean qualitativeSpecies (``maxLevel=1``; ``initialLevel`` = y0 rounded)
    with an ``<mmmech:node>`` annotation keeping y0, tau, ymax, module, kind and description
    exactly; each rule is a transition with a default term 0 and one function term 1.
    """
    libsbml = _libsbml()
    ns = libsbml.SBMLNamespaces(3, 1, "qual", 1)
    doc = libsbml.SBMLDocument(ns)
    doc.setPackageRequired("qual", True)
    model = doc.createModel()
    used = set()
    model.setId(_sid(m.name or "model", used))
    model.setName(m.name)
    comp = model.createCompartment()
    comp.setId(_sid("cell", used))
    comp.setConstant(True)
    qm = model.getPlugin("qual")
    ids = {}
    for n in m.nodes.values():
        sid = _sid(n.name, used)
        ids[n.name] = sid
        sp = qm.createQualitativeSpecies()
        sp.setId(sid)
        sp.setName(n.name)
        sp.setCompartment(comp.getId())
        sp.setConstant(False)
        sp.setMaxLevel(1)
        sp.setInitialLevel(1 if n.y0 >= 0.5 else 0)
        ann = (f'<mmmech:node xmlns:mmmech="{MMMECH_NS}" y0={quoteattr(repr(float(n.y0)))} '
               f'tau={quoteattr(repr(float(n.tau)))} ymax={quoteattr(repr(float(n.ymax)))} '
               f'module={quoteattr(n.module)} kind={quoteattr(n.kind)} '
               f'description={quoteattr(n.description)}/>')
        if sp.setAnnotation(ann) != libsbml.LIBSBML_OPERATION_SUCCESS:  # pragma: no cover
            raise ModelFileError(f"write_sbml_qual(): could not annotate species {n.name!r}")
    into = {}
    for e in m.edges:
        into.setdefault(e.target, []).append(e)
    sign_code = {1: libsbml.INPUT_SIGN_POSITIVE, -1: libsbml.INPUT_SIGN_NEGATIVE,
                 0: libsbml.INPUT_SIGN_DUAL}
    for n in m.nodes.values():
        if n.rule is None:
            continue
        tree = parse_rule(n.rule)
        tr = qm.createTransition()
        tr.setId(_sid(f"tr_{ids[n.name]}", used))
        lits = literals(tree)
        listed = []
        for e in into.get(n.name, []):
            listed.append((e.source, e.sign))
        for var, s in lits.items():
            if var not in {src for src, _ in listed}:
                listed.append((var, s))
        for src, s in listed:
            inp = tr.createInput()
            inp.setId(_sid(f"{tr.getId()}_in_{ids[src]}", used))
            inp.setQualitativeSpecies(ids[src])
            inp.setTransitionEffect(libsbml.INPUT_TRANSITION_EFFECT_NONE)
            inp.setSign(sign_code[int(s)])
        out = tr.createOutput()
        out.setId(_sid(f"{tr.getId()}_out", used))
        out.setQualitativeSpecies(ids[n.name])
        out.setTransitionEffect(libsbml.OUTPUT_TRANSITION_EFFECT_ASSIGNMENT_LEVEL)
        dt = tr.createDefaultTerm()
        dt.setResultLevel(0)
        ft = tr.createFunctionTerm()
        ft.setResultLevel(1)
        if ft.setMath(_tree_to_ast(tree, ids, libsbml)) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise ModelFileError(f"write_sbml_qual(): could not write the rule of {n.name!r}: "
                                 f"{n.rule!r}")  # pragma: no cover
    return libsbml.writeSBMLToString(doc) + "\n"


# ---------------------------------------------------------------------- KEGG KGML
#: KGML relation subtypes that carry a sign (others -- binding, phosphorylation, ... -- do not)
KGML_SIGNS = {"activation": 1, "expression": 1, "inhibition": -1, "repression": -1}


def _kgml_label(entry):
    """Display symbol of a KGML entry: the first name in its graphics label."""
    g = entry.graphics[0] if getattr(entry, "graphics", None) else None
    text = (getattr(g, "name", "") or "").strip() if g is not None else ""
    first = text.split(",")[0].strip().rstrip(".").strip() if text else ""
    if not first:
        first = (entry.name or f"entry{entry.id}").split()[0]
    return first


def read_kgml(data, origin, name):
    """Read a KEGG KGML map: signed relations between gene products, complexes and compounds.

    Gene entries are named by their first symbol (``graphics name``; several genes in one
    box, as KEGG draws paralogs, share that node, their KEGG ids kept in the description);
    entries showing the same symbol are one node. A group (complex) becomes one node named
    by its members joined with ``_`` (e.g. ``NFKB1_RELA``), active when all members are
    (rule: AND of members). activation/expression relations are +1 edges,
    inhibition/repression -1; relations with only unsigned subtypes (binding,
    phosphorylation, ...) or to other maps are dropped, and counted in ``notes``.
    """
    from Bio.KEGG.KGML import KGML_parser
    _expect_root(data, origin, "pathway", "KEGG KGML")
    try:
        pathways = list(KGML_parser.parse(io.BytesIO(data)))
    except (KeyError, ValueError, AttributeError, TypeError, LookupError, IndexError,
            ET.ParseError) as exc:
        raise ModelFileError(f"{origin}: invalid KGML: {exc!r}") from None
    if not pathways:
        raise ModelFileError(f"{origin}: no <pathway> element")
    pw = pathways[0]
    namer = _Namer()
    node_of, desc = {}, {}
    for eid, entry in sorted(pw.entries.items()):
        if entry.type in ("gene", "compound", "ortholog", "enzyme", "reaction", "other"):
            nm = namer(_kgml_label(entry))
            node_of[eid] = nm
            ids = " ".join((entry.name or "").split())
            prev = desc.get(nm, "")
            if ids and ids not in prev:
                desc[nm] = f"{prev}; {ids}".strip("; ") if prev else f"KEGG {ids}"
    rules, extra_edges = {}, []
    for eid, entry in sorted(pw.entries.items()):
        if entry.type != "group":
            continue
        members = []
        for comp in entry.components:
            cid = int(comp.id)
            if cid not in pw.entries:
                raise ModelFileError(f"{origin}, <entry id=\"{eid}\">: component id {cid} is not an "
                                     f"entry")
            if cid in node_of and node_of[cid] not in members:
                members.append(node_of[cid])
        if not members:
            continue
        members.sort()
        nm = namer("_".join(members)) if len(members) > 1 else members[0]
        node_of[eid] = nm
        if len(members) > 1:
            desc[nm] = f"complex (KGML group {eid}) of {', '.join(members)}"
            rules[nm] = " AND ".join(members)
            extra_edges += [(mb, nm, 1, "complex member") for mb in members]
    edges, dropped, to_maps, ambiguous = [], {}, 0, 0
    for rel in pw.relations:
        try:
            e1, e2 = rel._entry1, rel._entry2
        except AttributeError:  # pragma: no cover - Biopython internals
            raise ModelFileError(f"{origin}: unexpected KGML relation object") from None
        for eid in (e1, e2):
            if eid not in pw.entries:
                raise ModelFileError(f"{origin}, <relation entry1=\"{e1}\" entry2=\"{e2}\">: entry "
                                     f"{eid} is not defined")
        if e1 not in node_of or e2 not in node_of:
            to_maps += 1
            continue
        subs = [s[0] for s in rel.subtypes]
        sg = {KGML_SIGNS[s] for s in subs if s in KGML_SIGNS}
        if not sg:
            for s in subs or ["(none)"]:
                dropped[s] = dropped.get(s, 0) + 1
            continue
        if len(sg) > 1:
            ambiguous += 1
        edges.append((node_of[e1], node_of[e2], sg.pop() if len(sg) == 1 else 0,
                      f"KGML {rel.type}: {', '.join(subs)}"))
    nodes = list(dict.fromkeys(node_of.values()))
    notes = [namer.note(),
             f"KEGG {getattr(pw, 'name', '')} {getattr(pw, 'title', '')!s}: {len(edges)} signed "
             f"relations (activation/expression +1, inhibition/repression -1)"]
    if dropped:
        notes.append("relations without a sign dropped: " +
                     ", ".join(f"{k} ({v})" for k, v in sorted(dropped.items())))
    if to_maps:
        notes.append(f"{to_maps} relation(s) to pathway-map entries dropped")
    if ambiguous:
        notes.append(f"{ambiguous} relation(s) both activating and inhibiting kept with sign 0")
    # complexes keep their AND rule (OR'ed with any other activators); every other node gets
    # the default rule
    base = build_network(name, nodes, edges + extra_edges, fmt="KGML", warn=False)
    all_rules = {k: n.rule for k, n in base.nodes.items() if n.rule is not None}
    for k, r in rules.items():
        others = [e for e in base.edges if e.target == k and e.note != "complex member"]
        acts = [e.source for e in others if e.sign > 0]
        inhs = [e.source for e in others if e.sign < 0]
        if acts:
            r = f"({r}) OR {' OR '.join(acts)}"
        if inhs:
            r = f"({r})" + "".join(f" AND NOT {i}" for i in inhs)
        all_rules[k] = r
    msg = (f"{origin}: the KGML map has no Boolean rules; default rules given to "
           f"{len(all_rules)} of {len(nodes)} nodes (activators OR'ed, inhibitors AND NOT; "
           f"complexes: AND of their members); nodes without signed inputs are inputs held at 0 "
           f"unless set")
    warnings.warn(msg, DefaultRulesWarning, stacklevel=4)
    mname = safe_name(str(getattr(pw, "name", "") or name)).strip("_") or name
    return build_network(mname, nodes, edges + extra_edges, origin=origin, fmt="KGML",
                         rules=all_rules, descriptions=desc, notes=[msg] + notes,
                         description=str(getattr(pw, "title", "") or ""))
