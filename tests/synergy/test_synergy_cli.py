"""`mmmech score --data`: measured plates from the command line (INTERFACE.md)."""

import json

import numpy as np
import pandas as pd
import pytest
from _helpers import assert_one_line_error

from mmmech.cli import main

C1 = [0.0, 1.0, 3.0, 10.0]
C2 = [0.0, 0.5, 2.0, 8.0]


def _plate(tmp_path, reps=1, shift=0.0, name="plate.csv", edit=None):
    rng = np.random.default_rng(0)
    rows = []
    for a in C1:
        for b in C2:
            y = 100 * (1 - (1 - 90 * a / (a + 3) / 100) * (1 - 70 * b / (b + 2) / 100))
            if a > 0 and b > 0:
                y += shift
            for _ in range(reps):
                rows.append(
                    (1, "alpha", "beta", a, b, 100 - y - rng.normal(0, 2.0 * (reps > 1)), "uM")
                )
    df = pd.DataFrame(
        rows, columns=["block_id", "drug1", "drug2", "conc1", "conc2", "response", "conc_unit"]
    )
    if edit:
        df = edit(df)
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _one_line_error(capsys, argv, *needles):
    code = main(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])


def test_json_is_one_document_with_the_interface_keys(tmp_path, run_cli):
    path = _plate(tmp_path, reps=3, shift=10.0)
    p = run_cli("score", "--data", path, "--response", "viability", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert isinstance(doc, list) and len(doc) == 1
    block = doc[0]
    assert block["block_id"] == 1 and block["drugs"] == ["alpha", "beta"]
    assert set(block["scores"]) == {"bliss", "hsa", "loewe", "zip"}
    # a uniform +10 on the combination wells of a Bliss plate: Bliss sees exactly that
    assert block["scores"]["bliss"] == pytest.approx(10.0, abs=2.0)
    lo, hi = block["intervals"]["bliss"]
    assert lo < block["scores"]["bliss"] < hi
    assert block["units"] == {"alpha": "uM", "beta": "uM"} and block["replicates"] == 3
    area = block["most_synergistic_area"]["zip"]
    assert {"score", "rows", "cols", "doses", "start"} <= set(area)


def test_readable_table_spells_out_the_convention(tmp_path, capsys):
    assert (
        main(
            ["score", "--data", str(_plate(tmp_path)), "--response", "viability", "--metric", "zip"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "positive = synergy" in out and "negative = antagonism" in out
    assert "alpha + beta" in out and "zip" in out and "bliss" not in out.split("\n")[3]


def test_metric_selects_the_scores(tmp_path, capsys):
    main(
        [
            "score",
            "--data",
            str(_plate(tmp_path)),
            "--response",
            "inhibition",
            "--json",
            "--metric",
            "hsa",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert list(doc[0]["scores"]) == ["hsa"]


def test_response_kind_is_required(tmp_path, run_cli):
    assert_one_line_error(
        run_cli("score", "--data", _plate(tmp_path)), "--response", "never guessed"
    )


@pytest.mark.parametrize(
    "edit, needles",
    [
        (lambda d: d.drop(columns=["response"]), ["lacks column", "'response'"]),
        (
            lambda d: d.astype({"conc1": object}).assign(
                conc1=lambda x: x.conc1.where(x.index != 6, "n/a")
            ),
            ["'conc1'", "'n/a'", "line 8"],
        ),
        (lambda d: d.assign(conc2=lambda x: x.conc2.where(x.index != 2, -1.0)), [">= 0", "line 4"]),
        (lambda d: d[~((d.conc1 == 0) & (d.conc2 > 0))], ["no monotherapy wells for 'beta'"]),
        (lambda d: d.assign(drug2="alpha"), ["'alpha' appears twice"]),
        (lambda d: d.drop(columns=["drug2", "conc2"]), ["single drug"]),
        (lambda d: d.assign(conc_unit="furlongs"), ["unknown concentration unit 'furlongs'"]),
    ],
    ids=[
        "missing-column",
        "non-numeric",
        "negative-dose",
        "no-monotherapy",
        "duplicate-drug",
        "single-drug",
        "unknown-unit",
    ],
)
def test_bad_plates_are_one_line_errors(tmp_path, capsys, edit, needles):
    path = _plate(tmp_path, edit=edit)
    _one_line_error(capsys, ["score", "--data", str(path), "--response", "viability"], *needles)


def test_bad_plate_through_the_real_cli(tmp_path, run_cli):
    path = _plate(tmp_path, edit=lambda d: d.drop(columns=["conc2"]))
    assert_one_line_error(run_cli("score", "--data", path, "--response", "viability"), "conc2")


def test_model_options_do_not_mix_with_data(tmp_path, capsys):
    path = str(_plate(tmp_path))
    _one_line_error(
        capsys,
        ["score", "bortezomib", "--data", path, "--response", "viability"],
        "drugs come from the file",
    )
    _one_line_error(
        capsys,
        ["score", "--data", path, "--response", "viability", "--knockout", "CRBN"],
        "--knockout",
    )
    _one_line_error(
        capsys,
        ["score", "--data", path, "--response", "viability", "--plot", str(tmp_path / "x.gif")],
        ".png",
    )
    _one_line_error(
        capsys,
        ["score", "--data", str(tmp_path / "missing.csv"), "--response", "viability"],
        "no such file",
    )


def test_shared_example_plate(shared_data, capsys):
    assert (
        main(
            [
                "score",
                "--data",
                str(shared_data / "synergy" / "ONEIL_screening_data.csv"),
                "--response",
                "inhibition",
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert [b["drugs"] for b in doc] == [
        ["MK-1775", "Niraparib"],
        ["Paclitaxel", "L-778123 free base"],
    ]
    assert all(b["intervals"] is not None for b in doc)
    assert doc[0]["annotations"] == {"cell_line_name": "OCUBM"}


def test_plot_of_a_measured_plate_one_file_per_block(shared_data, tmp_path, capsys):
    import matplotlib.image as mpimg

    out = tmp_path / "map.png"
    assert (
        main(
            [
                "score",
                "--data",
                str(shared_data / "synergy" / "mathews_screening_data.csv"),
                "--response",
                "viability",
                "--metric",
                "bliss",
                "--plot",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    paths = [b["plot"] for b in doc]
    assert paths == [str(tmp_path / "map.block1.png"), str(tmp_path / "map.block2.png")]
    for p in paths:
        h, w = mpimg.imread(p).shape[:2]
        assert w > 300 and h > 200
    assert not out.exists()


def test_fit_and_replicate_treatment_are_options_and_in_the_output(tmp_path, capsys):
    path = _plate(tmp_path, reps=3, shift=10.0)
    assert main(["score", "--data", str(path), "--response", "viability", "--json"]) == 0
    sf = json.loads(capsys.readouterr().out)[0]
    assert sf["fit"] == "synergyfinder" and sf["replicates_treatment"] == "synergyfinder-bootstrap"
    assert (
        main(
            [
                "score",
                "--data",
                str(path),
                "--response",
                "viability",
                "--fit",
                "robust",
                "--replicates",
                "mean",
                "--json",
            ]
        )
        == 0
    )
    rob = json.loads(capsys.readouterr().out)[0]
    assert rob["fit"] == "robust" and rob["replicates_treatment"] == "mean-surface"
    for key in (
        "block_id",
        "drugs",
        "units",
        "replicates",
        "scores",
        "intervals",
        "most_synergistic_area",
        "notes",
    ):  # the keys of before stay
        assert key in rob and key in sf
    assert rob["scores"]["bliss"] != sf["scores"]["bliss"]  # bootstrap mean vs mean surface
    assert main(["score", "--data", str(path), "--response", "viability"]) == 0
    text = capsys.readouterr().out
    assert "Fit: synergyfinder" in text and "synergyfinder-bootstrap" in text
    _one_line_error(
        capsys, ["score", "bortezomib", "lenalidomide", "--fit", "robust"], "--fit", "--data"
    )
