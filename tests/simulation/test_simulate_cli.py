"""`mmmech simulate` and `mmmech pathway validate|show` (INTERFACE.md contract)."""

import json

from _helpers import assert_one_line_error

from mmmech.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_contract_simulate_json(run_cli):
    p = run_cli("simulate", "bortezomib=10nM", "--context", "cell_line", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["context"] == "cell_line"
    assert doc["drugs"] == {"bortezomib": 10.0}
    assert {"viability", "apoptosis", "proliferation"} <= set(doc["readouts"])
    assert 0.0 <= doc["readouts"]["viability"] <= 1.0
    assert doc["nodes"]["PSMB5"] < 1.0 and doc["converged"] is True


def test_contract_bare_number_is_an_error(run_cli):
    assert_one_line_error(run_cli("simulate", "bortezomib=10", "--json"), "unit")


def test_untreated_and_perturbations(capsys):
    code, out, _ = run(
        capsys, "simulate", "--context", "marrow", "--knockout", "CRBN", "--set", "IL6=0", "--json"
    )
    doc = json.loads(out)
    assert code == 0 and doc["drugs"] == {}
    assert doc["nodes"]["CRBN"] == 0.0 and doc["nodes"]["STAT3"] == 0.0


def test_mutation_option(capsys):
    _, wt, _ = run(capsys, "simulate", "bortezomib=10nM", "--json")
    _, mt, _ = run(capsys, "simulate", "bortezomib=10nM", "--mutation", "PSMB5 A49T", "--json")
    assert json.loads(mt)["readouts"]["viability"] > json.loads(wt)["readouts"]["viability"]


def test_readable_summary_shows_change_against_untreated(capsys):
    code, out, _ = run(
        capsys, "simulate", "lenalidomide=1uM", "dexamethasone", "--context", "marrow"
    )
    assert code == 0
    assert "untreated" in out and "viability" in out and "most changed nodes" in out
    # lenalidomide alone: its degraded neo-substrate is among the most changed nodes
    code, out, _ = run(capsys, "simulate", "lenalidomide=1uM", "--context", "cell_line")
    assert code == 0 and "IKZF1" in out


def test_bad_inputs_are_one_line_errors(run_cli):
    assert_one_line_error(run_cli("simulate", "bortezomib=10nM", "--knockout", "CRBM"), "CRBN")
    assert_one_line_error(run_cli("simulate", "--set", "IL6=high"), "--set")
    assert_one_line_error(run_cli("simulate", "--context", "marow"), "marrow")
    assert_one_line_error(run_cli("simulate", "bortezomb=10nM"), "bortezomib")
    assert_one_line_error(run_cli("simulate", "--model", "nope.toml"), "nope.toml")


def test_pathway_validate_and_show(capsys):
    code, out, _ = run(capsys, "pathway", "validate", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and set(doc) == {"ok", "errors", "warnings"}
    code, out, _ = run(capsys, "pathway", "show", "myeloma", "--json")
    doc = json.loads(out)
    assert any(
        e["source"] == "IKZF1" and e["target"] == "IRF4" and e["sources"] for e in doc["edges"]
    )
    code, out, _ = run(capsys, "pathway", "show")
    assert "IKZF1" in out and "PMID:" in out


def test_pathway_validate_reports_broken_file(tmp_path, capsys):
    from mmmech.resources import data_file

    text = data_file("pathways", "myeloma.toml").read_text()
    p = tmp_path / "broken.toml"
    old = 'rule = "CASP9 OR CASP8 OR IRF4Withdrawal"'
    assert old in text
    p.write_text(text.replace(old, 'rule = "CASP9 OR CASP7 OR IRF4Withdrawal"', 1))
    code, out, _ = run(capsys, "pathway", "validate", str(p), "--json")
    doc = json.loads(out)
    assert doc["ok"] is False and any("CASP7" in e for e in doc["errors"])


def test_initial_state_of_an_imported_boolean_model(run_cli, shared_data):
    """Chudasama et al. 2015 (U266): from the resting state (proteasome on), untreated cells
    survive and bortezomib switches the proteasome off and apoptosis on."""
    import json

    bnet = shared_data / "logic_models" / "bbm059_bortezomib_U266_Chudasama2015" / "model.bnet"
    out = {}
    for label, extra in (("untreated", []), ("bortezomib", ["--set", "v_Bort=1"])):
        p = run_cli("simulate", "--model", bnet, "--initial", "v_Prot=1", *extra, "--json")
        assert p.returncode == 0, p.stderr
        out[label] = json.loads(p.stdout)["nodes"]
    assert out["untreated"]["v_Apo"] < 0.05 and out["untreated"]["v_Prot"] > 0.95
    assert out["bortezomib"]["v_Apo"] > 0.95 and out["bortezomib"]["v_Prot"] < 0.05


def test_initial_must_be_a_fraction(run_cli):
    assert_one_line_error(run_cli("simulate", "--initial", "Proteasome=2"), "--initial", "[0, 1]")
