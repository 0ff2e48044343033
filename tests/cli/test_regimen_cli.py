"""`mmmech regimen list|show|simulate`: text, the JSON shape of issue 16, one-line errors."""

import json

from mmmech.cli import main


def _json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_regimen_list_and_show(capsys):
    assert main(["regimen", "list"]) == 0
    text = capsys.readouterr().out
    assert "vrd" in text and "rd" in text
    rows = _json(capsys, "regimen", "list")
    by_name = {r["name"]: r for r in rows}
    assert by_name["vrd"]["drugs"] == ["bortezomib", "lenalidomide", "dexamethasone"]
    assert by_name["kd"]["pk_model"]["carfilzomib"] is True  # derived model (docs/pk.md)
    assert by_name["td"]["pk_model"]["thalidomide"] is True  # Chen 1989 model (docs/pk.md)
    assert by_name["mp"]["pk_model"]["prednisone"] is True  # Bouazza 2025 model (round 9)
    # a CAR-T product has cellular kinetics (mmmech.pk.cellular), not a PK model
    assert by_name["ide_cel"]["pk_model"]["idecabtagene vicleucel"] is False
    assert main(["regimen", "show", "rd"]) == 0
    assert "lenalidomide" in capsys.readouterr().out
    d = _json(capsys, "regimen", "show", "rd")
    assert d["phases"][0]["cycles"] is None and d["phases"][0]["cycle_days"] == 28
    assert d["phases"][0]["drugs"][0]["drug"] == "lenalidomide"


def test_regimen_simulate_json_shape(capsys, tmp_path):
    pic = tmp_path / "vrd.png"
    d = _json(
        capsys,
        "regimen",
        "simulate",
        "vrd",
        "--cycles",
        "1",
        "--step-hours",
        "12",
        "--plot",
        str(pic),
    )
    assert set(d) == {
        "regimen",
        "cycles",
        "best_response",
        "time_to_progression_days",
        "m_protein",
        "concentrations",
        "pk",
        "notes",
        "patient",
        "subclones",
    }
    assert d["patient"] is None and d["subclones"] == {}
    assert d["regimen"] == "vrd" and d["cycles"] == 1
    assert d["best_response"] in ("CR", "VGPR", "PR", "MR", "SD", "PD")
    assert d["time_to_progression_days"] is None or d["time_to_progression_days"] > 0
    assert set(d["m_protein"]) == {"day", "g_per_dL"}
    assert len(d["m_protein"]["day"]) == len(d["m_protein"]["g_per_dL"]) == 21 * 2 + 1
    assert set(d["concentrations"]) == {"bortezomib", "lenalidomide", "dexamethasone"}
    assert set(d["concentrations"]["bortezomib"]) == {"hour", "nM"}
    assert set(d["pk"]["bortezomib"]) == {"cmax_nM", "trough_nM", "auc_nM_h"}
    assert isinstance(d["notes"], list)
    assert pic.stat().st_size > 1000
    assert main(["regimen", "simulate", "vrd", "--cycles", "1", "--step-hours", "12"]) == 0
    assert "best response" in capsys.readouterr().out


def _one_line(capsys, needle):
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("mmmech: error:") and needle.lower() in lines[0].lower(), err


def test_regimen_errors_are_one_line(capsys):
    assert main(["regimen", "simulate", "vdr"]) == 2
    _one_line(capsys, "unknown regimen 'vdr'")
    assert main(["regimen", "simulate", "rd"]) == 2
    _one_line(capsys, "--cycles N")
    assert main(["regimen", "simulate", "vrd", "--plot", "x.gif"]) == 2
    _one_line(capsys, "--plot must end in")
    assert main(["regimen", "show", "nope"]) == 2
    _one_line(capsys, "unknown regimen 'nope'")


def test_regimen_simulate_with_a_patient_and_a_subclone(capsys):
    d = _json(
        capsys,
        "regimen",
        "simulate",
        "rd",
        "--cycles",
        "1",
        "--step-hours",
        "24",
        "--patient",
        "example",
        "--subclone",
        "crbn_low=0.1",
    )
    assert d["patient"]["name"] == "example"
    # the example patient is lenalidomide-refractory, which acts through len_refractory since
    # round 6 (patients/example.toml, pathways/contexts/len_refractory.toml)
    assert d["patient"]["contexts"] == ["gain1q", "len_refractory"]
    assert d["patient"]["health"]["frailty"] == "intermediate"
    assert d["subclones"] == {"crbn_low": 0.1}
    assert d["m_protein"]["g_per_dL"][0] == d["patient"]["m_protein_g_dL"]
    assert any(n.startswith("patient example:") for n in d["notes"])
    assert (
        main(
            [
                "regimen",
                "simulate",
                "rd",
                "--cycles",
                "1",
                "--step-hours",
                "24",
                "--patient",
                "example",
            ]
        )
        == 0
    )
    assert "patient: example (67 y" in capsys.readouterr().out


def test_regimen_simulate_patient_and_subclone_errors(capsys):
    assert main(["regimen", "simulate", "rd", "--cycles", "1", "--patient", "exampel"]) != 0
    err = capsys.readouterr().err
    assert "unknown patient 'exampel'" in err and "example" in err and err.count("\n") == 1
    assert main(["regimen", "simulate", "rd", "--cycles", "1", "--subclone", "crbn_low"]) != 0
    assert "CONTEXT=FRACTION" in capsys.readouterr().err
    assert main(["regimen", "simulate", "rd", "--cycles", "1", "--subclone", "crbn_lo=0.1"]) != 0
    assert "did you mean 'crbn_low'" in capsys.readouterr().err
    assert (
        main(
            [
                "regimen",
                "simulate",
                "rd",
                "--cycles",
                "1",
                "--subclone",
                "crbn_low=0.7",
                "--subclone",
                "psmb5_mutant=0.7",
            ]
        )
        != 0
    )
    assert "sum to 1.4 > 1" in capsys.readouterr().err
