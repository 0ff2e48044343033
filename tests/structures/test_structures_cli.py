"""`mmmech structures ...`: JSON contracts of INTERFACE.md and one-line errors (exit 2)."""

import json

import pytest
from _helpers import assert_one_line_error

from mmmech.cli import main

LVY_FILE = "structures/5fqd_crbn_lenalidomide_ck1a.pdb"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_binding_site_json_contract(shared_data, run_cli):
    """The contract check: `mmmech structures binding-site 5fqd --ligand LVY --json`."""
    p = run_cli("structures", "binding-site", shared_data / LVY_FILE, "--ligand", "LVY", "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert isinstance(rows, list) and rows
    for r in rows:
        assert {"chain", "resname", "resnum", "min_distance"} <= set(r)
        assert 0 < r["min_distance"] <= 4.0
    trp = {(r["chain"], r["resnum"]) for r in rows if r["resname"] == "TRP"}
    assert trp == {(c, n) for c in "BE" for n in (380, 386, 400)}


def test_binding_site_text_and_cutoff(shared_data, capsys):
    code, out, _ = run(
        capsys,
        "structures",
        "binding-site",
        shared_data / LVY_FILE,
        "--ligand",
        "lvy",
        "--cutoff",
        "3.0",
    )
    assert code == 0
    assert "TRP380" in out and "within 3 Å of 2 LVY copies" in out
    code, out, _ = run(
        capsys,
        "structures",
        "binding-site",
        shared_data / LVY_FILE,
        "--ligand",
        "LVY",
        "--cutoff",
        "3.0",
        "--json",
    )
    assert all(r["min_distance"] <= 3.0 for r in json.loads(out))


def test_binding_site_on_a_file_written_here(tmp_path, capsys):
    import numpy as np
    from Bio.PDB import PDBIO
    from Bio.PDB.StructureBuilder import StructureBuilder

    sb = StructureBuilder()
    sb.init_structure("s")
    sb.init_model(0)
    sb.init_chain("A")
    sb.init_seg("    ")
    sb.init_residue("TRP", " ", 7, " ")
    sb.init_atom("CA", np.array([0, 0, 3.25], "f"), 0.0, 1.0, " ", " CA ", 1, "C")
    sb.init_residue("LIG", "H_LIG", 99, " ")
    sb.init_atom("C1", np.array([0, 0, 0], "f"), 0.0, 1.0, " ", " C1 ", 2, "C")
    io_ = PDBIO()
    io_.set_structure(sb.get_structure())
    path = tmp_path / "tiny.pdb"
    io_.save(str(path))
    code, out, _ = run(capsys, "structures", "binding-site", path, "--ligand", "LIG", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "chain": "A",
            "resname": "TRP",
            "resnum": 7,
            "icode": "",
            "min_distance": 3.25,
            "ligand_chain": "A",
            "ligand_resnum": 99,
        }
    ]


def test_missing_file_is_one_line(run_cli, tmp_path):
    p = run_cli("structures", "binding-site", tmp_path / "nope.pdb", "--ligand", "LVY")
    assert_one_line_error(p, "does not exist", "nope.pdb")


def test_unknown_ligand_is_one_line_with_suggestion(shared_data, run_cli):
    p = run_cli("structures", "binding-site", shared_data / LVY_FILE, "--ligand", "LVX")
    assert_one_line_error(
        p, "no residue named 'LVX'", "HET codes present: LVY, ZN", "did you mean 'LVY'"
    )


def test_malformed_and_mismatched_mutations_are_one_line(run_cli):
    p = run_cli("structures", "mutation", "PSMB5 A49")
    assert_one_line_error(p, "cannot read 'PSMB5 A49'")
    p = run_cli("structures", "mutation", "PSMB5 G49T")
    assert_one_line_error(p, "wild-type mismatch", "is A, not G")


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["structures", "mutation", "PSMB55 A49T"], "did you mean 'PSMB5'"),
        (["structures", "mutation", "PSMB5 A49T", "--scheme", "matur"], "did you mean 'mature'"),
        (["structures", "show", "BCMAA"], "did you mean"),
        (["structures", "binding-site", "x.pdb", "--ligand", "LVY", "--cutoff", "-1"], "cutoff"),
    ],
)
def test_more_errors_in_process(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], err


def test_targets_json(capsys):
    code, out, _ = run(capsys, "structures", "targets", "--json")
    assert code == 0
    rows = json.loads(out)
    genes = {r["gene"] for r in rows}
    assert {"PSMB5", "CRBN", "TNFRSF17", "GPRC5D", "TOP2A"} <= genes
    psmb5 = next(r for r in rows if r["gene"] == "PSMB5")
    assert psmb5["default_scheme"] == "mature" and psmb5["schemes"]["mature"]["offset"] == 59
    code, out, _ = run(capsys, "structures", "targets")
    assert code == 0 and "PSMB5" in out and "P28074" in out


def test_show_and_mutation(capsys):
    code, out, _ = run(capsys, "structures", "show", "bcma", "--json")
    assert code == 0 and json.loads(out)["gene"] == "TNFRSF17"
    code, out, _ = run(capsys, "structures", "show", "CRBN")
    assert code == 0 and "W380" in out and "5FQD" in out
    code, out, _ = run(
        capsys, "structures", "mutation", "PSMB5 A108T", "--scheme", "precursor", "--json"
    )
    assert code == 0
    info = json.loads(out)
    assert info["positions"] == {"mature": 49, "precursor": 108}
    assert info["in_binding_site"] and info["wild_type_checked"]
    code, out, _ = run(capsys, "structures", "mutation", "BCL2 G101V")
    assert code == 0 and "x180" in out
