"""The curated myeloma network: file format, sources, validation, networkx view, explanations."""

import re

import networkx as nx
import pytest

from mmmech import pathways
from mmmech.exceptions import ModelFileError, UnknownNameError, UnknownNodeError
from mmmech.network.logic import literals, parse_rule
from mmmech.resources import data_file
from mmmech.simulation.compiled import compile_model


@pytest.fixture(scope="module")
def model():
    return pathways.load("myeloma")


def test_bundled_model_validates_without_errors(model):
    report = model.validate(drugs="library")
    assert report.ok, report.errors
    assert not any("has no path to a readout" in w for w in report.warnings), report.warnings


def test_every_edge_has_a_sign_and_a_wellformed_source(model):
    assert len(model.edges) > 60
    for e in model.edges:
        assert e.sign in (1, -1)
        assert e.sources, (e.source, e.target)
        for s in e.sources:
            assert pathways.SOURCE_PATTERN.match(s), s
            assert s in model.source_titles, s


def test_every_rule_literal_has_a_matching_signed_edge(model):
    for n in model.nodes.values():
        if n.rule is None:
            continue
        for var, sign in literals(parse_rule(n.rule)).items():
            e = model.edge(var, n.name)
            assert e is not None, (var, n.name)
            assert sign in (0, e.sign), (var, n.name)


def test_names_follow_house_style(model):
    for n in model.nodes.values():
        if n.kind == "protein":
            assert re.fullmatch(r"[A-Z0-9]+", n.name), n.name  # HGNC symbols
        else:
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", n.name), n.name  # CamelCase


@pytest.mark.parametrize(
    "module_nodes",
    [
        ("PSMB5", "PSMB6", "PSMB7", "NFKBIA", "RELA"),
        ("EIF2AK3", "ATF4", "DDIT3", "ERN1", "XBP1", "ATF6", "PMAIP1", "MCL1"),
        ("HDAC6", "Aggresome"),
        (
            "BCL2",
            "BCL2L1",
            "BCL2L11",
            "BAX",
            "BAK1",
            "CYCS",
            "CASP9",
            "CASP3",
            "CASP8",
            "Apoptosis",
        ),
        (
            "CRBN",
            "IKZF1",
            "IKZF3",
            "IRF4",
            "MYC",
            "Proliferation",
            "IL2",
            "NKActivity",
            "Angiogenesis",
        ),
        ("CD38", "SLAMF7", "TNFRSF17", "GPRC5D", "ADCC", "CDC", "ADCP", "TCellKilling"),
        ("NR3C1", "IL6", "JAK1", "STAT3", "AKT1", "ATM", "TP53", "CDKN1A", "XPO1"),
    ],
)
def test_issue_modules_are_present(model, module_nodes):
    for n in module_nodes:
        assert n in model.nodes


def test_contested_edges_are_documented_parameters(model):
    for name in ("il6_mcl1_weight", "pi_xbp1_weight"):
        p = model.parameters[name]
        assert p.low <= p.default <= p.high
        assert p.supports and p.description
    assert model.edge("STAT3", "MCL1").parameter == "il6_mcl1_weight"
    assert "PMID:12660820" in model.parameters["il6_mcl1_weight"].contradicts


def test_graph_is_networkx_with_sign_and_sources(model):
    g = model.graph
    assert isinstance(g, nx.DiGraph)
    assert g.edges["NFKBIA", "RELA"]["sign"] == -1
    assert g.edges["IKZF1", "IRF4"]["sources"]
    g.remove_node("RELA")  # a copy: the model is unchanged
    assert "RELA" in model.graph


def test_explain_lists_edges_and_papers(model):
    e = model.explain("IRF4")
    ikzf = [i for i in e["inputs"] if i["source"] == "IKZF1"][0]
    assert ikzf["effect"] == "activates"
    assert {s["id"] for s in ikzf["sources"]} >= {"PMID:24292625"}
    with pytest.raises(UnknownNodeError, match="IRF4"):
        model.explain("IRF5")


def test_signed_path_from_crbn_substrates_to_proliferation(model):
    signs = {sign for _, sign, _ in model.paths("IKZF1", "Proliferation")}
    assert signs == {1}


def test_compile_gives_the_kernel_contract(model):
    cm = compile_model(model)
    assert cm.n_nodes == len(model.nodes)
    assert set(cm.readouts) >= {"viability", "apoptosis", "proliferation"}
    k = cm.edge_index("STAT3", "MCL1")
    assert cm.params.w[0, k] == model.parameters["il6_mcl1_weight"].default
    cm2 = compile_model(model, parameter_values={"il6_mcl1_weight": 0.0})
    assert cm2.params.w[0, k] == 0.0
    with pytest.raises(UnknownNameError, match="il6_mcl1_weight"):
        compile_model(model, parameter_values={"il6_mcl1_weigth": 0.1})


def test_unknown_model_name_suggests(model):
    with pytest.raises(UnknownNameError, match="myeloma"):
        pathways.load("myelom")


# ------------------------------------------------------------------ malformed files
BASE = data_file("pathways", "myeloma.toml").read_text(encoding="utf-8")


def _write(tmp_path, text):
    p = tmp_path / "m.toml"
    p.write_text(text)
    return p


def test_toml_syntax_error_names_file_and_line(tmp_path):
    p = _write(tmp_path, BASE.replace("[readouts]", "[readouts\n", 1))
    with pytest.raises(ModelFileError) as exc:
        pathways.read(p)
    assert "m.toml" in str(exc.value) and "line" in str(exc.value)


def test_bad_rule_names_line_and_column(tmp_path):
    p = _write(tmp_path, BASE.replace('rule = "CASP3"', 'rule = "CASP3 AND (OR"', 1))
    with pytest.raises(ModelFileError) as exc:
        pathways.read(p)
    msg = str(exc.value)
    assert "m.toml, line" in msg and "Apoptosis" in msg and "column" in msg


def test_edge_without_source_fails_validation(tmp_path):
    text = BASE.replace(
        'sources = ["PMID:9765224"]\n[[edge]]\nsource = "CASP9"',
        'sources = []\n[[edge]]\nsource = "CASP9"',
        1,
    )
    assert text != BASE
    report = pathways.read(_write(tmp_path, text)).validate()
    assert not report.ok
    assert any("DeathReceptors -> CASP8 has no source" in e for e in report.errors)


def test_malformed_source_and_sign_conflict_are_errors(tmp_path):
    text = BASE.replace(
        'source = "CASP9"\ntarget = "CASP3"\nsign = 1\nsources = ["PMID:9390557"]',
        'source = "CASP9"\ntarget = "CASP3"\nsign = -1\nsources = ["Li 1997"]',
        1,
    )
    assert text != BASE
    errors = pathways.read(_write(tmp_path, text)).validate().errors
    assert any("sign conflict" in e and "CASP9 -> CASP3" in e for e in errors)
    assert any("'Li 1997'" in e for e in errors)


def test_rule_reading_undefined_node_is_reported(tmp_path):
    old = 'rule = "CASP9 OR CASP8 OR IRF4Withdrawal"'
    assert old in BASE
    text = BASE.replace(old, 'rule = "CASP9 OR CASP7 OR IRF4Withdrawal"', 1)
    errors = pathways.read(_write(tmp_path, text)).validate().errors
    assert any("undefined node 'CASP7'" in e for e in errors)


def test_bad_sign_value_names_line(tmp_path):
    text = BASE.replace(
        'source = "CASP8"\ntarget = "CASP3"\nsign = 1',
        'source = "CASP8"\ntarget = "CASP3"\nsign = "up"',
        1,
    )
    with pytest.raises(ModelFileError, match=r"line \d+.*sign must be 1 or -1"):
        pathways.read(_write(tmp_path, text))


def test_model_files_are_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    text = BASE.replace(
        'rule = "CASP3"', f"rule = \"__import__('os').system('touch {marker}')\"", 1
    )
    with pytest.raises(ModelFileError):
        pathways.read(_write(tmp_path, text))
    assert not marker.exists()


def test_validate_returns_a_report_record_with_the_json_of_0_1():
    import dataclasses

    report = pathways.load("myeloma").validate()
    assert isinstance(report, pathways.ValidationReport)
    assert dataclasses.is_dataclass(report)
    doc = report.to_dict()
    assert set(doc) == {"ok", "errors", "warnings"}
    assert doc["ok"] is report.ok and doc["warnings"] == list(report.warnings)
    with pytest.warns(DeprecationWarning, match="attribute .ok"):
        assert report["ok"] is report.ok
