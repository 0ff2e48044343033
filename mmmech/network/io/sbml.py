"""SBML-qual (python-libsbml): Boolean rules as qualitative transitions. Read and write."""

from __future__ import annotations

import dataclasses
from xml.sax.saxutils import quoteattr

from ...exceptions import ModelFileError
from ..logic import MAX_DEPTH, format_rule, literals, parse_rule
from ..model import PathwayModel
from ._build import _edges_from_rules, _Namer, build_network, safe_name
from ._xml import MMMECH_NS, _expect_root, _num_attr

__all__ = ["read_sbml_qual", "write_sbml_qual"]


def _libsbml():
    try:
        import libsbml  # deferred: python-libsbml loads a large C library
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
            raise ModelFileError(
                f"{where}: <xor/> with {len(kids)} arguments; mmmech expands "
                f"xor into AND/OR/NOT and accepts 1 to {MAX_XOR_ARGS}"
            )
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
    rel = {
        libsbml.AST_RELATIONAL_EQ: "eq",
        libsbml.AST_RELATIONAL_NEQ: "neq",
        libsbml.AST_RELATIONAL_GEQ: "geq",
        libsbml.AST_RELATIONAL_GT: "gt",
        libsbml.AST_RELATIONAL_LEQ: "leq",
        libsbml.AST_RELATIONAL_LT: "lt",
    }
    if t in rel:
        if len(kids) != 2:
            raise ModelFileError(f"{where}: comparison <{rel[t]}/> needs two arguments")
        a, b = kids
        op = rel[t]
        if a.getType() != libsbml.AST_NAME and b.getType() == libsbml.AST_NAME:
            a, b = b, a
            op = {"eq": "eq", "neq": "neq", "geq": "leq", "gt": "lt", "leq": "geq", "lt": "gt"}[op]
        if a.getType() != libsbml.AST_NAME or not (b.isInteger() or b.isReal()):
            raise ModelFileError(
                f"{where}: only comparisons of a species with a number are "
                f"supported, got {libsbml.formulaToL3String(ast)!r}"
            )
        k = b.getValue() if b.isReal() else b.getInteger()
        test = {
            "eq": lambda v: v == k,
            "neq": lambda v: v != k,
            "geq": lambda v: v >= k,
            "gt": lambda v: v > k,
            "leq": lambda v: v <= k,
            "lt": lambda v: v < k,
        }[op]
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
    raise ModelFileError(
        f"{where}: unsupported MathML in a function term: "
        f"{libsbml.formulaToL3String(ast)!r} (expected and/or/not/xor, "
        f"comparisons of species with 0/1, true/false)"
    )


#: largest rule (terms and operators, after xor is expanded) read from one transition
MAX_RULE_SIZE = 100_000


def _check_tree(tree, where):
    """ModelFileError when a logic tree built from MathML nests deeper than MAX_DEPTH or grows
    past MAX_RULE_SIZE once printed (xor expansion shares subtrees, so the printed rule can be
    exponentially larger than the MathML). Walks the shared tree without recursion."""
    info = {}  # id(subtree) -> (depth, size)
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
            raise ModelFileError(
                f"{where}: the rule is too large once read (more than "
                f"{MAX_DEPTH} levels deep or {MAX_RULE_SIZE} terms after <xor/> "
                f"is expanded)"
            )
        info[id(t)] = (d, n)


def _var(sid, names, where):
    if sid not in names:
        raise ModelFileError(
            f"{where}: function term reads {sid!r}, which is not a qualitativeSpecies"
        )
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
            return {
                node.getAttrName(i): node.getAttrValue(i) for i in range(node.getAttributesLength())
            }
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return {}


#: deepest element nesting accepted in SBML files (real SBML-qual files nest about 15 levels)
SBML_MAX_DEPTH = 1000


def read_sbml_qual(data: bytes, origin: str, name: str) -> PathwayModel:
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
        if (
            err.getSeverity() >= libsbml.LIBSBML_SEV_FATAL
            or err.getCategory() == libsbml.LIBSBML_CAT_XML
        ):
            raise ModelFileError(
                f"{origin}, line {err.getLine()}: SBML: {' '.join(err.getMessage().split())}"
            )
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            ignored += 1
    model = doc.getModel()
    if model is None:
        raise ModelFileError(f"{origin}: the SBML document has no <model>")
    qm = model.getPlugin("qual")
    if qm is None or qm.getNumQualitativeSpecies() == 0:
        raise ModelFileError(
            f"{origin}: no qualitative model here (SBML-qual "
            f"<listOfQualitativeSpecies> missing or empty); mmmech reads "
            f"logic models in SBML-qual only"
        )
    namer = _Namer()
    names, y0, desc, extra, constant = {}, {}, {}, {}, set()
    species = [qm.getQualitativeSpecies(i) for i in range(qm.getNumQualitativeSpecies())]
    by_name: dict[str, int] = {}
    for sp in species:
        nm = sp.getName() if sp.isSetName() else ""
        by_name[nm] = by_name.get(nm, 0) + 1
    for sp in species:
        sid = sp.getId()
        where = f"{origin}, <qualitativeSpecies id={sid!r}>"
        if sp.isSetMaxLevel() and sp.getMaxLevel() > 1:
            raise ModelFileError(
                f"{where}: maxLevel={sp.getMaxLevel()}: multi-valued species are "
                f"not supported (mmmech reads Boolean SBML-qual models)"
            )
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
    rules: dict = {}
    signs: dict = {}
    rule_of: dict = {}
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
            sgn = {
                libsbml.INPUT_SIGN_POSITIVE: 1,
                libsbml.INPUT_SIGN_NEGATIVE: -1,
                libsbml.INPUT_SIGN_DUAL: 0,
            }.get(sg)
            ins.append((names[sid], sgn))
        terms = [tr.getFunctionTerm(j) for j in range(tr.getNumFunctionTerms())]
        default = tr.getDefaultTerm()
        default_level = (
            default.getResultLevel() if default is not None and default.isSetResultLevel() else 0
        )
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
                    raise ModelFileError(
                        f"{where}: functionTerm #{j + 1} has resultLevel {lvl}; "
                        f"only Boolean levels 0 and 1 are supported"
                    )
                conds.append(
                    (
                        _ast_to_tree(
                            ft.getMath(), names, f"{where} functionTerm #{j + 1}", libsbml
                        ),
                        lvl,
                    )
                )
            tree = _first_match(conds, default_level)
            _check_tree(tree, where)
        for o in outs:
            onm = names[o]
            if onm in rule_of:
                raise ModelFileError(
                    f"{where}: species {o!r} is already the output of transition {rule_of[onm]!r}"
                )
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
    edges += [(s, t, sg) for (s, t), sg in signs.items() if (s, t) not in in_rules and t in rules]
    inputs = [n for n in nodes if n not in rules]
    notes = [
        namer.note(),
        f"{origin}: Boolean rules read from SBML-qual transitions for {len(rules)} nodes; "
        f"{len(inputs)} input(s) hold their initial activity ({', '.join(inputs[:8])}"
        f"{', ...' if len(inputs) > 8 else ''})",
    ]
    if ignored:
        notes.append(
            f"libsbml reported {ignored} non-fatal SBML consistency error(s) (e.g. "
            f"missing compartments); the qualitative model was read regardless"
        )
    mname = model.getName() if model.isSetName() else (model.getId() if model.isSetId() else name)
    m = build_network(
        mname or name,
        nodes,
        edges,
        origin=origin,
        fmt="SBML-qual",
        rules=rules,
        y0=y0,
        descriptions=desc,
        notes=notes,
        modules={k: v["module"] for k, v in extra.items() if "module" in v},
        kinds={
            k: v["kind"]
            for k, v in extra.items()
            if v.get("kind") in ("protein", "process", "phenotype", "input")
        },
    )
    new_nodes = {}
    for k, n in m.nodes.items():
        ex = {
            key: val
            for key, val in extra.get(k, {}).items()
            if key in ("tau", "ymax", "description")
        }
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
        parts.append(
            ("and", tuple(("not", b) for b in before)) if len(before) > 1 else ("not", before[0])
        )
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


def write_sbml_qual(m: PathwayModel) -> str:
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
    used: set[str] = set()
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
        ann = (
            f'<mmmech:node xmlns:mmmech="{MMMECH_NS}" y0={quoteattr(repr(float(n.y0)))} '
            f"tau={quoteattr(repr(float(n.tau)))} ymax={quoteattr(repr(float(n.ymax)))} "
            f"module={quoteattr(n.module)} kind={quoteattr(n.kind)} "
            f"description={quoteattr(n.description)}/>"
        )
        if sp.setAnnotation(ann) != libsbml.LIBSBML_OPERATION_SUCCESS:  # pragma: no cover
            raise ModelFileError(f"write_sbml_qual(): could not annotate species {n.name!r}")
    into: dict[str, list] = {}
    for e in m.edges:
        into.setdefault(e.target, []).append(e)
    sign_code = {
        1: libsbml.INPUT_SIGN_POSITIVE,
        -1: libsbml.INPUT_SIGN_NEGATIVE,
        0: libsbml.INPUT_SIGN_DUAL,
    }
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
            raise ModelFileError(
                f"write_sbml_qual(): could not write the rule of {n.name!r}: {n.rule!r}"
            )  # pragma: no cover
    return libsbml.writeSBMLToString(doc) + "\n"
