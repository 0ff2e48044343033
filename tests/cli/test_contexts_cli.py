"""`mmmech contexts list|show`, repeated --context, --level, and the mutation-numbering error."""

import json

import pytest
from _helpers import assert_one_line_error

from mmmech.cli import main


def _json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_contexts_list_text_and_json(capsys):
    assert main(["contexts", "list"]) == 0
    text = capsys.readouterr().out
    for name in ("cell_line", "marrow", "t11_14", "bcma_loss", "psmb5_mutant"):
        assert name in text
    assert "--context marrow --context t11_14" in text
    rows = _json(capsys, "contexts", "list")
    by_name = {r["name"]: r for r in rows}
    assert by_name["t11_14"]["levels"]["BCL2Basal"] > 1
    assert by_name["bcma_loss"]["levels"] == {"TNFRSF17": 0.0}
    assert by_name["del17p"]["knockouts"] == ["TP53"]
    assert by_name["psmb5_mutant"]["mutations"] == ["PSMB5 A49T"]
    assert by_name["marrow"]["settings"]["NKCells"] == 1.0


def test_contexts_show_text_and_json(capsys):
    assert main(["contexts", "show", "t11_14"]) == 0
    text = capsys.readouterr().out
    assert "level     BCL2Basal x1.6" in text and "DOI:10.18632/oncotarget.4616" in text
    assert "modelling choice" in text
    d = _json(capsys, "contexts", "show", "crbn_low")
    assert d["name"] == "crbn_low" and d["levels"] == {"CRBN": 0.25}
    (entry,) = d["entries"]
    assert entry["kind"] == "level" and "PMID:24129344" in entry["sources"] and entry["note"]
    d = _json(capsys, "contexts", "show", "marrow", "t11_14")
    assert d["name"] == "marrow+t11_14" and d["parts"] == ["marrow", "t11_14"]


def test_contexts_show_unknown_is_one_line(run_cli):
    assert_one_line_error(run_cli("contexts", "show", "t11_41"), "unknown context", "t11_14")


def test_repeated_context_composes_and_equals_python(capsys):
    from mmmech.simulation import simulate

    cli = _json(capsys, "simulate", "venetoclax=10pM", "--context", "marrow", "--context", "t11_14")
    py = simulate("myeloma", {"venetoclax": 0.01}, context=["marrow", "t11_14"])
    assert cli["context"] == "marrow+t11_14" == py["context"]
    assert cli["readouts"] == pytest.approx(py["readouts"])
    assert cli["levels"] == {"BCL2Basal": 1.6, "MCL1Basal": 0.8, "BCL2L1": 0.3, "GRBasal": 0.5}
    one = _json(capsys, "simulate", "--context", "marrow")
    assert one["context"] == "marrow" and one["levels"] == {}


def test_level_option_on_simulate_and_score(capsys):
    d = _json(capsys, "simulate", "venetoclax=1nM", "--level", "BCL2Basal=1.5")
    assert d["levels"] == {"BCL2Basal": 1.5}
    assert d["nodes"]["BCL2"] == pytest.approx(0.45)  # 0.9 halved: the drug still acts
    s = _json(
        capsys,
        "score",
        "venetoclax",
        "dexamethasone",
        "--level",
        "BCL2Basal=1.5",
        "--points",
        "3",
        "--metric",
        "bliss",
    )
    assert s["drugs"] == ["venetoclax", "dexamethasone"]


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["simulate", "--level", "BCL2Basal=2"], ["BCL2Basal", "largest level", "1.666"]),
        (["simulate", "--level", "BCL2=-1"], ["--level BCL2", ">= 0"]),
        (["simulate", "--level", "BCL2"], ["--level", "NODE=VALUE"]),
        (
            ["simulate", "bortezomib=10nM", "--mutation", "PSMB5 A108T"],
            ["precursor A108T is the documented mature A49T", "'PSMB5 A49T'", "--scheme"],
        ),
    ],
)
def test_one_line_errors(run_cli, argv, needles):
    assert_one_line_error(run_cli(*argv), *needles)
