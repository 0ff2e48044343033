"""mmmech.network.io: SIF, GraphML, BoolNet, SBML-qual (read/write) and KEGG KGML (read).

Round trips on the bundled model and on generated networks; the published logic models, the
OmniPath table and the KEGG NF-kB map from ../shared/data (skipped when absent); malformed and
hostile files.
"""

import csv
import itertools
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from _helpers import assert_one_line_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmmech.exceptions import InvalidInputError, ModelFileError, UnknownNodeError
from mmmech.model import Simulator
from mmmech.network import io as ix
from mmmech.network.logic import format_rule, literals, parse_rule, variables
from mmmech.pathways import load
from mmmech.simulation.compiled import compile_model

pytestmark = pytest.mark.filterwarnings("ignore::mmmech.network.io.DefaultRulesWarning")

LOGIC = "logic_models"
MODELS = [
    "bbm059_bortezomib_U266_Chudasama2015",
    "bbm224_bortezomib_PD_heterogeneity_Ramakrishnan2018",
    "bbm019_IL6_signaling_Ryll2011",
    "bbm020_apoptosis_Mai2009",
]


# ---------------------------------------------------------------------- helpers
def evaluate(tree, env):
    """Boolean value of a logic tree under `env` (node -> bool)."""
    kind = tree[0]
    if kind == "var":
        return env[tree[1]]
    if kind == "const":
        return bool(tree[1])
    if kind == "not":
        return not evaluate(tree[1], env)
    vals = [evaluate(c, env) for c in tree[1]]
    return all(vals) if kind == "and" else any(vals)


def same_function(rule_a, rule_b):
    """Two rules are the same Boolean function (exhaustive truth table)."""
    ta, tb = parse_rule(rule_a), parse_rule(rule_b)
    names = sorted(set(variables(ta)) | set(variables(tb)))
    for bits in itertools.product([False, True], repeat=len(names)):
        env = dict(zip(names, bits, strict=False))
        if evaluate(ta, env) != evaluate(tb, env):
            return False
    return True


def signs(model):
    return {(e.source, e.target): e.sign for e in model.edges}


def roundtrip(model, fmt, tmp_path):
    path = tmp_path / f"m.{ {'sbml-qual': 'sbml'}.get(fmt, fmt) }"
    ix.write(model, path)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mmmech-")] == []
    return ix.read(path)


# ---------------------------------------------------------------------- bundled model
@pytest.mark.parametrize("fmt", ["graphml", "bnet", "sbml-qual"])
def test_bundled_model_round_trip_keeps_nodes_signs_rules_and_start(fmt, tmp_path):
    m = load("myeloma")
    back = roundtrip(m, fmt, tmp_path)
    assert list(back.nodes) == list(m.nodes)
    assert signs(back) == signs(m)
    for name, node in m.nodes.items():
        other = back.nodes[name]
        if node.rule is None:
            assert other.rule is None, name
        else:
            assert parse_rule(other.rule) == parse_rule(node.rule), name
        assert other.y0 == node.y0, name
    assert back.curated is False and back.notes


def test_bundled_model_graphml_is_lossless(tmp_path):
    m = load("myeloma")
    back = roundtrip(m, "graphml", tmp_path)
    assert back.nodes == m.nodes
    assert {(e.source, e.target): e for e in back.edges} == {
        (e.source, e.target): e for e in m.edges
    }
    assert back.readouts == m.readouts
    assert back.parameters == m.parameters
    assert back.actions == m.actions
    assert back.source_titles == m.source_titles
    assert (back.name, back.version, back.description) == (m.name, m.version, m.description)
    # the copy carries its drug actions and sources: it validates and simulates like the original
    assert back.validate().ok
    a = Simulator(m, ["bortezomib"]).run(np.array([[0.0], [10.0]]), backend="python")
    b = Simulator(back, ["bortezomib"]).run(np.array([[0.0], [10.0]]), backend="python")
    np.testing.assert_allclose(a.y, b.y, atol=1e-12)


def test_bundled_model_sbml_keeps_exact_start_and_time_constants(tmp_path):
    m = load("myeloma")
    back = roundtrip(m, "sbml-qual", tmp_path)
    frac = [n for n in m.nodes.values() if 0 < n.y0 < 1]
    assert frac, "the bundled model has fractional starting activities"
    for n in m.nodes.values():
        assert (back.nodes[n.name].y0, back.nodes[n.name].tau, back.nodes[n.name].module) == (
            n.y0,
            n.tau,
            n.module,
        )


def test_bundled_model_sif_keeps_nodes_and_signs(tmp_path):
    m = load("myeloma")
    back = roundtrip(m, "sif", tmp_path)
    assert set(back.nodes) == set(m.nodes)
    assert signs(back) == signs(m)
    # SIF carries no rules: every regulated node gets the documented default rule
    for name, node in back.nodes.items():
        acts = [e.source for e in back.edges if e.target == name and e.sign > 0]
        inhs = [e.source for e in back.edges if e.target == name and e.sign < 0]
        assert node.rule == ix.default_rule(acts, inhs)


def test_export_cli_stdout_matches_dumps_and_out_is_written(run_cli, tmp_path):
    p = run_cli("pathway", "export", "--format", "bnet")
    assert p.returncode == 0, p.stderr
    assert p.stdout == ix.dumps("myeloma", "bnet")
    out = tmp_path / "m.graphml"
    p = run_cli("pathway", "export", "myeloma", "--format", "graphml", "--out", out, "--json")
    assert p.returncode == 0, p.stderr
    import json

    info = json.loads(p.stdout)
    assert info["out"] == str(out) and info["nodes"] == len(load("myeloma").nodes)
    assert ix.read(out).nodes == load("myeloma").nodes


# ---------------------------------------------------------------------- generated networks
NAMES = ["A", "B", "C", "D", "E", "F", "G", "x.y", "Node_7"]


@st.composite
def rule_models(draw):
    n = draw(st.integers(2, len(NAMES)))
    names = NAMES[:n]
    leaves = st.one_of(
        st.sampled_from(names).map(lambda v: ("var", v)),
        st.sampled_from([0.0, 1.0]).map(lambda c: ("const", c)),
    )
    trees = st.recursive(
        leaves,
        lambda kids: st.one_of(
            kids.map(lambda k: ("not", k)),
            st.tuples(st.sampled_from(["and", "or"]), st.lists(kids, min_size=2, max_size=3)).map(
                lambda t: (t[0], tuple(t[1]))
            ),
        ),
        max_leaves=6,
    )
    rules = {}
    for name in names:
        if draw(st.booleans()):
            tree = draw(trees)
            if tree != ("var", name):  # "X, X" means an input in BoolNet
                rules[name] = format_rule(tree)
    edges = []
    for tgt, rule in rules.items():
        lits = literals(parse_rule(rule))
        edges += [(v, tgt, s) for v, s in lits.items()]
    y0 = {name: draw(st.sampled_from([0.0, 1.0])) for name in names}
    return ix.build_network("gen", names, edges, rules=rules, y0=y0)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(model=rule_models(), fmt=st.sampled_from(["graphml", "bnet", "sbml-qual"]))
def test_generated_rule_models_round_trip(model, fmt):
    back = ix.loads(ix.dumps(model, fmt), fmt, origin=f"gen.{fmt}")
    assert set(back.nodes) == set(model.nodes)
    for name, node in model.nodes.items():
        if node.rule is None:
            assert back.nodes[name].rule is None
        else:
            assert same_function(back.nodes[name].rule, node.rule), (
                node.rule,
                back.nodes[name].rule,
            )
            assert parse_rule(back.nodes[name].rule) == parse_rule(node.rule)
        assert back.nodes[name].y0 == node.y0
    lit_signs = {k: v for k, v in signs(model).items()}
    assert {k: signs(back)[k] for k in lit_signs} == lit_signs


@st.composite
def signed_networks(draw):
    n = draw(st.integers(1, 12))
    labels = [f"N{i}" for i in range(n)]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from([1, -1, 0])),
            max_size=30,
            unique_by=lambda t: (t[0], t[1]),
        )
    )
    return labels, [(labels[a], labels[b], s) for a, b, s in pairs]


@settings(max_examples=60, deadline=None)
@given(net=signed_networks())
def test_generated_signed_networks_sif_and_graphml_round_trip(net):
    labels, edges = net
    model = ix.build_network("net", labels, edges, warn=False)
    for fmt in ("sif", "graphml"):
        back = ix.loads(ix.dumps(model, fmt), fmt, origin=f"net.{fmt}")
        assert set(back.nodes) == set(labels)
        assert signs(back) == {(s, t): sg for s, t, sg in edges}
        assert back.rules == model.rules


@settings(max_examples=60, deadline=None)
@given(net=signed_networks())
def test_default_rules_follow_the_documented_form(net):
    labels, edges = net
    model = ix.build_network("net", labels, edges, warn=False)
    for name in labels:
        acts = {s for s, t, sg in edges if t == name and sg > 0}
        inhs = {s for s, t, sg in edges if t == name and sg < 0}
        rule = model.nodes[name].rule
        if not acts and not inhs:
            assert rule is None and model.nodes[name].kind == "input"
            continue
        # truth table: on iff (no activators or one of them on) and no inhibitor on
        tree = parse_rule(rule)
        names = sorted(acts | inhs)
        for bits in itertools.product([False, True], repeat=len(names)):
            env = dict(zip(names, bits, strict=False))
            want = (not acts or any(env[a] for a in acts)) and not any(env[i] for i in inhs)
            assert evaluate(tree, env) == want


def test_default_rules_warn_and_simulate():
    with pytest.warns(ix.DefaultRulesWarning, match="default rules"):
        m = ix.loads("A\t1\tC\nB\t-1\tC\n", "sif", origin="t.sif")
    assert m.nodes["C"].rule == "A AND NOT B"
    assert any("default rules" in n for n in m.notes)
    sim = Simulator(m, [])
    on = sim.run(np.zeros((1, 0)), backend="python")
    assert on.node("C")[0] == 0.0  # inputs start (and stay) at 0
    sim_a = Simulator(m, [], settings={"A": 1.0})
    sim_ab = Simulator(m, [], settings={"A": 1.0, "B": 1.0})
    assert sim_a.run(np.zeros((1, 0)), backend="python").node("C")[0] > 0.95
    assert sim_ab.run(np.zeros((1, 0)), backend="python").node("C")[0] < 0.05


def test_sif_reader_accepts_words_headers_fanout_and_merges_both_signs():
    text = (
        "# comment\nsource\tinteraction\ttarget\nEGFR activates GRB2 SHC1\n"
        "PTEN -| AKT1\nX 1 Y\nX -1 Y\nLONELY\nHLA-A pp B2M\n"
    )
    m = ix.loads(text, "sif", origin="w.sif")
    s = signs(m)
    assert s[("EGFR", "GRB2")] == 1 and s[("EGFR", "SHC1")] == 1
    assert s[("PTEN", "AKT1")] == -1
    assert s[("X", "Y")] == 0 and m.nodes["Y"].rule is None  # both signs: not in default rules
    assert "LONELY" in m.nodes
    assert s[("HLA_A", "B2M")] == 0 and "HLA-A" in m.nodes["HLA_A"].description
    assert any("renamed" in n for n in m.notes)
    assert any("'pp'" in n for n in m.notes)


def test_safe_names_are_rule_safe_and_unique():
    namer = ix._build._Namer()
    names = [namer(lab) for lab in ["a-b", "a_b", "1abc", "and", "p53", "x y"]]
    assert len(set(names)) == len(names)
    for n in names:
        assert parse_rule(f"{n} AND q") == ("and", (("var", n), ("var", "q")))


def test_with_initial_checks_names_and_range():
    m = ix.loads("P, !D\nD, D\n", "bnet")
    assert ix.with_initial(m, {"P": 1}).nodes["P"].y0 == 1.0
    with pytest.raises(UnknownNodeError, match="did you mean"):
        ix.with_initial(m, {"PP": 1})
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        ix.with_initial(m, {"P": 2})


# ---------------------------------------------------------------------- SBML-qual semantics
_SBML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<sbml xmlns="http://www.sbml.org/sbml/'
    'level3/version1/core" xmlns:qual="http://www.sbml.org/sbml/level3/version1/qual/'
    'version1" level="3" version="1" qual:required="true"><model id="m">'
    '<listOfCompartments><compartment id="c" constant="true"/></listOfCompartments>'
    "<qual:listOfQualitativeSpecies>"
)


def _sbml(species, transitions):
    sp = "".join(
        f'<qual:qualitativeSpecies qual:id="{s}" qual:compartment="c" '
        f'qual:constant="false" qual:maxLevel="{lvl}"/>'
        for s, lvl in species
    )
    return (
        _SBML_HEAD
        + sp
        + "</qual:listOfQualitativeSpecies><qual:listOfTransitions>"
        + transitions
        + "</qual:listOfTransitions></model></sbml>"
    )


def _transition(out, terms, default=0, inputs=()):
    ins = "".join(
        f'<qual:input qual:id="i{out}{k}" qual:qualitativeSpecies="{k}" '
        f'qual:transitionEffect="none" qual:sign="{s}"/>'
        for k, s in inputs
    )
    fts = "".join(
        f'<qual:functionTerm qual:resultLevel="{lvl}"><math xmlns="http://www.w3.org/'
        f'1998/Math/MathML">{mathml}</math></qual:functionTerm>'
        for lvl, mathml in terms
    )
    return (
        f'<qual:transition qual:id="t{out}"><qual:listOfInputs>{ins}</qual:listOfInputs>'
        f'<qual:listOfOutputs><qual:output qual:id="o{out}" qual:qualitativeSpecies="{out}" '
        f'qual:transitionEffect="assignmentLevel"/></qual:listOfOutputs>'
        f'<qual:listOfFunctionTerms><qual:defaultTerm qual:resultLevel="{default}"/>{fts}'
        f"</qual:listOfFunctionTerms></qual:transition>"
    )


def _cmp(op, sid, k, flip=False):
    a, b = f"<ci>{sid}</ci>", f'<cn type="integer">{k}</cn>'
    return f"<apply><{op}/>{b + a if flip else a + b}</apply>"


def test_sbml_function_terms_follow_first_match_and_comparisons():
    species = [("A", 1), ("B", 1), ("C", 1), ("T1", 1), ("T2", 1), ("T3", 1)]
    t1 = _transition(
        "T1",
        [(0, f"<apply><and/>{_cmp('geq', 'A', 1)}{_cmp('lt', 'B', 1)}</apply>")],
        default=1,
        inputs=[("A", "positive"), ("B", "negative")],
    )
    # ordered terms: level 1 if A>0, else level 0 if B==1, else level 1 if C==0, default 0
    t2 = _transition(
        "T2", [(1, _cmp("gt", "A", 0)), (0, _cmp("eq", "B", 1)), (1, _cmp("eq", "C", 0))]
    )
    t3 = _transition(
        "T3", [(1, f"<apply><xor/>{_cmp('leq', 'A', 0, flip=True)}{_cmp('neq', 'B', 0)}</apply>")]
    )
    m = ix.loads(_sbml(species, t1 + t2 + t3), "sbml-qual", origin="f.sbml")
    for bits in itertools.product([0, 1], repeat=3):
        env = dict(zip("ABC", map(bool, bits), strict=False))
        a, b, c = bits
        want = {
            "T1": not (a >= 1 and b < 1),
            "T2": True if a > 0 else (False if b == 1 else c == 0),
            "T3": (0 <= a) != (b != 0),
        }
        for node, value in want.items():
            assert evaluate(parse_rule(m.nodes[node].rule), env) == value, (node, bits)
    assert signs(m)[("A", "T1")] == 1 and signs(m)[("B", "T1")] == -1


# ---------------------------------------------------------------------- real files
def test_published_logic_models_load_agree_across_formats_and_simulate(shared_data):
    for name in MODELS:
        folder = shared_data / LOGIC / name
        a = ix.read(folder / "model.bnet")
        b = ix.read(folder / "model.sbml")
        assert a.name == name and a.curated is False
        assert set(a.nodes) == set(b.nodes)
        assert len(a.rules) > 30
        # two files, two parsers, one model: the same Boolean functions
        assert a.rules.keys() == b.rules.keys()
        for node, rule in a.rules.items():
            assert parse_rule(rule) == parse_rule(b.rules[node]), (name, node)
        sa, sb = signs(a), signs(b)
        assert all(sb[k] == s for k, s in sa.items() if s != 0), name
        assert a.validate().ok and b.validate().ok  # missing sources only warn
        res = Simulator(b, []).run(np.zeros((1, 0)), backend="auto")
        assert np.all(np.isfinite(res.y)) and np.all((res.y >= 0) & (res.y <= 1))


@pytest.mark.parametrize("ext", ["bnet", "sbml"])
def test_chudasama_bortezomib_lowers_proteasome_and_raises_apoptosis(shared_data, ext):
    # Node names read from the model: v_Bort (input), v_Prot = !v_Bort, v_Apo (apoptosis).
    m = ix.read(shared_data / LOGIC / MODELS[0] / f"model.{ext}")
    assert m.nodes["v_Prot"].rule == "NOT v_Bort" and m.nodes["v_Bort"].rule is None
    # Untreated U266 cells have active proteasomes; the files carry no initial state, and
    # starting from all-off would let the stress <-> DNA-damage loop latch (docs/formats.md).
    m = ix.with_initial(m, {"v_Prot": 1.0})
    untreated = Simulator(m, [], settings={"v_Bort": 0.0}).run(np.zeros((1, 0)))
    treated = Simulator(m, [], settings={"v_Bort": 1.0}).run(np.zeros((1, 0)))
    assert untreated.converged.all() and treated.converged.all()
    assert treated.node("v_Prot")[0] < untreated.node("v_Prot")[0] - 0.5
    assert treated.node("v_Apo")[0] > untreated.node("v_Apo")[0] + 0.5
    assert treated.node("v_Cas3")[0] > untreated.node("v_Cas3")[0]


def test_simulate_cli_runs_published_models_with_set(shared_data, run_cli, tmp_path):
    import json

    for ext in ("bnet", "sbml"):
        p = run_cli(
            "simulate",
            "--model",
            shared_data / LOGIC / MODELS[0] / f"model.{ext}",
            "--set",
            "v_Bort=1",
            "--json",
        )
        assert p.returncode == 0, p.stderr
        out = json.loads(p.stdout)
        assert out["nodes"]["v_Bort"] == 1.0 and out["nodes"]["v_Prot"] < 0.05
    # a resting state given in the file (mmmech's BoolNet comment) makes the CLI reproduce
    # the drug effect end to end
    text = (shared_data / LOGIC / MODELS[0] / "model.bnet").read_text()
    local = tmp_path / "chudasama.bnet"
    local.write_text("# mmmech y0: v_Prot=1\n" + text)
    apo = {}
    for bort in ("0", "1"):
        p = run_cli("simulate", "--model", local, "--set", f"v_Bort={bort}", "--json")
        assert p.returncode == 0, p.stderr
        apo[bort] = json.loads(p.stdout)["nodes"]["v_Apo"]
    assert apo["1"] > apo["0"] + 0.5


def test_omnipath_table_loads_with_its_signs(shared_data):
    path = shared_data / "networks" / "omnipath_signed_directed.tsv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    m = ix.read(path)
    want = {}
    for r in rows:
        key = (ix.safe_name(r["source"]), ix.safe_name(r["target"]))
        s = int(r["interaction"])
        want[key] = s if want.get(key, s) == s else 0
    assert signs(m) == want
    assert len(m.nodes) == len({k for pair in want for k in pair})
    acts = [s for (s, t), sg in want.items() if t == "TP53" and sg > 0]
    assert set(variables(parse_rule(m.nodes["TP53"].rule))) >= set(acts)
    cm = compile_model(m)
    assert cm.n_nodes == len(m.nodes)


def test_kegg_nfkb_map_gives_symbol_named_signed_network(shared_data):
    path = shared_data / "networks" / "kegg_hsa04064_nfkb.kgml.xml"
    m = ix.read(path)
    assert not any(n.startswith("hsa") for n in m.nodes)
    assert {"NFKBIA", "RELA", "TRAF6", "IKBKB"} <= set(m.nodes)
    s = signs(m)
    assert s[("CYLD", "TRAF6")] == -1 and s[("PPP1R13L", "RELA")] == -1
    cx = m.nodes["IRAK1_MYD88_TRAF6"]
    assert same_function(f"({cx.rule}) AND NOT IL1R1", "IRAK1 AND MYD88 AND TRAF6 AND NOT IL1R1")
    # independent reading of gene-to-gene relations with ElementTree: each signed one is an edge
    root = ET.parse(path).getroot()
    entries = {e.get("id"): e for e in root.findall("entry")}

    def label(e):
        return ix.safe_name(e.find("graphics").get("name").split(",")[0].strip().rstrip("."))

    kinds = {"activation": 1, "expression": 1, "inhibition": -1, "repression": -1}
    checked = 0
    for rel in root.findall("relation"):
        a, b = entries[rel.get("entry1")], entries[rel.get("entry2")]
        sg = {kinds[x.get("name")] for x in rel.findall("subtype") if x.get("name") in kinds}
        if a.get("type") == b.get("type") == "gene" and len(sg) == 1:
            assert s[(label(a), label(b))] in (sg.pop(), 0)
            checked += 1
    assert checked > 20
    assert any("dropped" in n for n in m.notes)


# ---------------------------------------------------------------------- malformed and hostile
def _fails(text, fmt, *needles, origin="bad.file"):
    with pytest.raises(ModelFileError) as exc:
        ix.loads(text, fmt, origin=origin)
    for n in needles:
        assert n in str(exc.value), (n, str(exc.value))
    return str(exc.value)


def test_malformed_bnet_names_file_line_and_problem():
    _fails("targets, factors\nA, B &\n", "bnet", "bad.file, line 2", "rule of A")
    _fails("A, B\nB A\n", "bnet", "line 2", "expected 'target, factors'")
    _fails("A, B\nA, !B\n", "bnet", "line 2", "second rule for 'A'", "line 1")
    _fails("targets, factors, probabilities\nA, B, 1\n", "bnet", "line 1", "deterministic")
    _fails("1A, B\n", "bnet", "line 1", "not a node name")
    _fails("# only a comment\n", "bnet", "no 'target, factors'")
    _fails("A, B\n# mmmech y0: Bb=1\n", "bnet", "line 2", "unknown node 'Bb'", "did you mean")
    _fails("# mmmech y0: A=2\nA, B\n", "bnet", "line 1", "[0, 1]")


def test_malformed_sif_and_unknown_format():
    _fails("A\t1\tB\nA\tB\n", "sif", "line 2", "2 fields")
    _fails("\n# nothing\n", "sif", "no nodes")
    with pytest.raises(InvalidInputError, match="did you mean"):
        ix.loads("A 1 B", "sifx")


def test_malformed_xml_reports_line_and_column():
    msg = _fails(
        "<?xml version='1.0'?>\n<graphml>\n<graph>\n</graphml>\n",
        "graphml",
        "line 4",
        "malformed XML",
    )
    assert "mismatched tag" in msg
    _fails(
        "<?xml version='1.0'?>\n<pathway><entry id='1'/></pathway>",
        "sbml-qual",
        "root element <pathway>",
        "not a SBML",
    )


def test_entity_expansion_and_external_entities_are_refused(tmp_path):
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
        '<graphml><graph id="g">&lol2;</graph></graphml>\n'
    )
    _fails(bomb, "graphml", "line 3", "refused entity declaration 'lol'")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = (
        f'<?xml version="1.0"?>\n<!DOCTYPE sbml [ <!ENTITY x SYSTEM "file://{secret}"> ]>\n'
        f"<sbml><model>&x;</model></sbml>\n"
    )
    msg = _fails(xxe, "sbml-qual", "refused")
    assert "TOP SECRET" not in msg
    # a DOCTYPE pointing at an external DTD (as KEGG writes it) is fine and never fetched
    ok = (
        '<?xml version="1.0"?>\n<!DOCTYPE pathway SYSTEM "https://www.kegg.jp/kegg/xml/'
        'KGML_v0.7.2_.dtd">\n<pathway name="path:x" org="hsa" number="1" title="t">\n'
        '<entry id="1" name="hsa:1" type="gene"><graphics name="AAA, x"/></entry>\n'
        '<entry id="2" name="hsa:2" type="gene"><graphics name="BBB"/></entry>\n'
        '<relation entry1="1" entry2="2" type="PPrel"><subtype name="inhibition" value="--|"/>'
        "</relation></pathway>\n"
    )
    m = ix.loads(ok, "kgml", origin="ok.xml")
    assert signs(m) == {("AAA", "BBB"): -1}


def test_malformed_sbml_and_kgml_name_the_element():
    multi = _sbml([("A", 2), ("B", 1)], _transition("B", [(1, _cmp("geq", "A", 2))]))
    _fails(multi, "sbml-qual", "<qualitativeSpecies id='A'>", "maxLevel=2")
    core = _SBML_HEAD.split("<qual:listOf")[0] + "</model></sbml>"
    _fails(core, "sbml-qual", "no qualitative model")
    unknown = _sbml([("A", 1), ("B", 1)], _transition("B", [(1, _cmp("eq", "Z", 1))]))
    _fails(unknown, "sbml-qual", "<transition id='tB'>", "'Z'")
    kgml = (
        '<?xml version="1.0"?>\n<pathway name="path:x" org="hsa" number="1" title="t">'
        '<entry id="1" name="hsa:1" type="gene"><graphics name="AAA"/></entry>'
        '<relation entry1="1" entry2="9" type="PPrel"><subtype name="activation" value="-->"/>'
        "</relation></pathway>"
    )
    _fails(kgml, "kgml", 'entry1="1" entry2="9"', "not defined")


def test_malformed_graphml_attributes():
    good = ix.dumps(ix.loads("A\t1\tB\n", "sif"), "graphml")
    bad = good.replace(">1</data>", ">7</data>")
    _fails(bad, "graphml", "<edge 'A' -> 'B'>", "sign must be 1, -1 or 0")


def test_read_errors_for_paths_and_extensions(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        ix.read(tmp_path / "missing.bnet")
    odd = tmp_path / "net.dat"
    odd.write_text("A 1 B\n")
    with pytest.raises(ModelFileError, match="cannot tell the format"):
        ix.read(odd)
    assert signs(ix.read(odd, format="sif")) == {("A", "B"): 1}
    xml = tmp_path / "x.xml"
    xml.write_text(ix.dumps("myeloma", "sbml-qual"))
    assert ix.detect_format(xml) == "sbml-qual"
    with pytest.raises(InvalidInputError, match="cannot tell the format"):
        ix.write("myeloma", tmp_path / "m.out")


def test_cli_errors_on_malformed_file_are_one_line(run_cli, tmp_path):
    bad = tmp_path / "bad.bnet"
    bad.write_text("A, B\nC, (A &\n")
    p = run_cli("pathway", "export", bad, "--format", "sif")
    assert_one_line_error(p, "bad.bnet", "line 2", "rule of C")
    p = run_cli("simulate", "--model", bad)
    assert_one_line_error(p, "bad.bnet", "line 2")
    p = run_cli("pathway", "export", "--format", "bnet", "--out", tmp_path / "no" / "x.bnet")
    assert_one_line_error(p, "does not exist")


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "m.bnet"

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(RuntimeError):
        ix.write("myeloma", target)
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_ordinary_permissions(tmp_path):
    target = tmp_path / "m.sif"
    ix.write("myeloma", target)
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_show_and_validate_accept_foreign_files(run_cli, tmp_path):
    import json

    f = tmp_path / "net.sif"
    f.write_text("A\t1\tC\nB\t-1\tC\n")
    p = run_cli("pathway", "validate", f, "--json")
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["ok"] and any("has no source" in w for w in report["warnings"])
    p = run_cli("pathway", "show", f, "--json")
    assert p.returncode == 0, p.stderr
    shown = json.loads(p.stdout)
    assert shown["curated"] is False
    assert {n["name"]: n["rule"] for n in shown["nodes"]}["C"] == "A AND NOT B"
