"""`mmmech drugs list|show|infer`: JSON keys of INTERFACE.md, readable tables, one-line errors."""

import json

import pytest
from _helpers import assert_one_line_error

from mmmech.cli import main

CONTRACT_SMILES = "CC(C)C[C@H](NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)O"


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_json_has_interface_keys(capsys):
    payload = run_json(capsys, "drugs", "list")
    assert isinstance(payload, list) and len(payload) >= 27
    for row in payload:
        assert {"name", "type", "drug_class", "targets"} <= set(row)
        assert all(isinstance(t, str) for t in row["targets"])
    by_name = {r["name"]: r for r in payload}
    assert by_name["bortezomib"]["targets"] == ["PSMB5", "PSMB6", "PSMB7", "PSMB8", "PSMB9"]
    assert by_name["talquetamab"]["drug_class"] == "T_cell_engager"


def test_list_text_is_a_table(capsys):
    assert main(["drugs", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["name", "type", "class"]
    assert "ciltacabtagene autoleucel" in out and "CRBN (glue_degrade)" in out


@pytest.mark.parametrize("name", ["bortezomib", "Revlimid", "daratumumab", "ide-cel"])
def test_show_json_has_interface_keys(capsys, name):
    payload = run_json(capsys, "drugs", "show", name)
    assert {
        "name",
        "type",
        "drug_class",
        "smiles",
        "inchikey",
        "formula",
        "mol_weight",
        "targets",
        "reference_nM",
    } <= set(payload)
    for t in payload["targets"]:
        assert {"target", "action", "potency_nM", "source"} <= set(t)
        assert t["source"].startswith(("PMID:", "DOI:"))
    assert payload["reference_nM"] > 0


def test_show_bortezomib_values(capsys):
    payload = run_json(capsys, "drugs", "show", "BORTEZOMIB")
    assert payload["name"] == "bortezomib"
    assert payload["formula"] == "C19H25BN4O4"
    assert payload["inchikey"] == "GXJABQQUPOEUTA-RDJZCZTQSA-N"
    assert payload["targets"][0]["target"] == "PSMB5"
    assert payload["targets"][0]["potency_nM"] == pytest.approx(7.9)
    assert payload["reference_nM"] == pytest.approx(291.5, abs=0.2)
    assert payload["descriptors"]["lipinski"] is True


def test_show_text_names_sources_and_flags_unverified(capsys):
    assert main(["drugs", "show", "venetoclax"]) == 0
    out = capsys.readouterr().out
    assert "C45H50ClN7O7S" in out and "BCL2" in out and "DOI:10.1038/nm.3048" in out
    assert "unverified" in out
    assert main(["drugs", "show", "lenalidomide"]) == 0
    out = capsys.readouterr().out
    assert "IKZF1/IKZF3/CSNK1A1 via CRBN" in out


def test_infer_contract_molecule(capsys):
    payload = run_json(capsys, "drugs", "infer", CONTRACT_SMILES)
    assert {"drug_class", "targets", "nearest", "warheads"} <= set(payload)
    assert payload["drug_class"] == "proteasome_inhibitor"
    assert {"target": "PSMB5", "action": "inhibit"}.items() <= payload["targets"][0].items()
    assert 0.5 <= payload["targets"][0]["confidence"] <= 1.0
    assert payload["nearest"][0]["name"] == "bortezomib"
    assert {"name", "similarity"} <= set(payload["nearest"][0])
    assert "alpha_amido_boronic_acid" in payload["warheads"]


def test_infer_negative_control_and_name(capsys):
    payload = run_json(capsys, "drugs", "infer", "CC(=O)Oc1ccccc1C(=O)O", "--name", "aspirin")
    assert payload["drug_class"] == "unknown" and payload["targets"] == []
    assert payload["name"] == "aspirin" and payload["warheads"] == []
    assert main(["drugs", "infer", "CC(=O)Oc1ccccc1C(=O)O"]) == 0
    out = capsys.readouterr().out
    assert "unknown" in out and "nearest library drugs" in out


def test_infer_text_for_a_glutarimide(capsys):
    assert (
        main(["drugs", "infer", "Cc1nc2cccc(N)c2c(=O)n1C1CCC(=O)NC1=O", "--name", "avadomide"]) == 0
    )
    out = capsys.readouterr().out
    assert "cereblon_modulator" in out and "CRBN" in out and "glutarimide" in out


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["drugs", "show", "bortezomb"], ["bortezomb", "did you mean", "bortezomib"]),
        (["drugs", "show", ""], ["drug name"]),
        (["drugs", "infer", "C1CC"], ["C1CC", "not a valid SMILES"]),
        (["drugs", "infer", ""], ["empty"]),
        (["drugs", "infer", "CCO.c1ccccc1CCN.CC(C)Cc1ccc(cc1)C(C)C(=O)O"], ["components"]),
        (["drugs", "infer", "[Na+].[Cl-]"], ["no organic"]),
        (["drugs", "infer", "CCO", "--name", " "], ["name"]),
        (["drugs", "infer"], ["smiles"]),
    ],
)
def test_bad_input_is_one_line_exit_2(run_cli, argv, needles):
    assert_one_line_error(run_cli(*argv), *needles)


def test_bad_input_in_process_exit_code(capsys):
    assert main(["drugs", "show", "no-such-drug"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-drug" in err
