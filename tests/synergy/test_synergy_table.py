"""Measured plates: SynergyFinder's long table, replicates and bootstrap, bad input, and the
SynergyFinder example plates in ../shared/data/synergy (skipped when absent)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from mmmech.exceptions import InvalidInputError, UnitError
from mmmech.synergy import METRICS, read_plate, score_blocks, score_surface, score_table

C1 = [0.0, 1.0, 3.0, 10.0]
C2 = [0.0, 0.5, 2.0, 8.0]


def _mono(c, ec50, top):
    return top * c / (c + ec50)


def plate(reps=1, noise=0.0, block=1, drugs=("alpha", "beta"), seed=0, viability=True):
    """A long table of a Bliss-independent plate (plus noise), one row per replicate."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in C1:
        for b in C2:
            inh = 100 * (1 - (1 - _mono(a, 3, 90) / 100) * (1 - _mono(b, 2, 70) / 100))
            for _ in range(reps):
                y = inh + rng.normal(0, noise)
                rows.append((block, drugs[0], drugs[1], a, b, 100 - y if viability else y))
    df = pd.DataFrame(rows, columns=["block_id", "drug1", "drug2", "conc1", "conc2", "response"])
    df["conc_unit"] = "uM"
    return df


def test_noise_free_bliss_plate_scores_zero_from_either_scale():
    for via in (True, False):
        t = score_table(
            plate(viability=via), response="viability" if via else "inhibition", fit="robust"
        )  # exact fits: a property of the robust fits
        assert t.loc[0, "bliss"] == pytest.approx(0.0, abs=1e-9)
        assert t.loc[0, "zip"] == pytest.approx(0.0, abs=1e-5)
        assert t.loc[0, ["drug1", "drug2", "conc_unit1", "conc_unit2"]].tolist() == [
            "alpha",
            "beta",
            "uM",
            "uM",
        ]
        assert np.isnan(t.loc[0, "bliss_ci_low"]) and t.loc[0, "replicates"] == 1


def test_replicates_are_averaged_and_bootstrapped_with_a_seed():
    df = plate(reps=3, noise=4.0, seed=5)
    # robust fits: SynergyFinder's fits amplify last-digit differences of the mean (pandas' vs R's)
    ((bid, res),) = score_blocks(
        df, response="viability", n_boot=100, seed=1, replicates="mean", fit="robust"
    )
    assert res.replicates_treatment == "mean-surface"
    # the point estimate is the score of the replicate-mean surface
    mean = df.groupby(["conc1", "conc2"])["response"].mean().unstack().to_numpy()
    direct = score_surface(
        [np.array(C1), np.array(C2)], mean, response_kind="viability", fit="robust"
    )
    for m in METRICS:
        assert res.scores[m] == pytest.approx(direct.scores[m], abs=1e-9)
        lo, hi = res.intervals[m]
        assert lo < res.scores[m] < hi
    assert res.replicates == 3 and res.n_boot == 100
    again = score_table(
        df, response="viability", n_boot=100, seed=1, replicates="mean", fit="robust"
    )
    other = score_table(
        df, response="viability", n_boot=100, seed=2, replicates="mean", fit="robust"
    )
    assert again.loc[0, "zip_ci_low"] == pytest.approx(res.intervals["zip"][0], abs=1e-12)
    assert other.loc[0, "zip_ci_low"] != again.loc[0, "zip_ci_low"]
    assert np.isnan(
        score_table(df, response="viability", n_boot=0, replicates="mean").loc[0, "bliss_ci_low"]
    )


def test_blocks_keep_their_order_names_and_annotations():
    df = pd.concat([plate(block=7, drugs=("x", "y")), plate(block=2, drugs=("u", "v"))])
    df["cell_line_name"] = np.where(df["block_id"] == 7, "MM1S", "U266")
    t = score_table(df, response="viability", metrics="bliss")
    assert t["block_id"].tolist() == [7, 2]
    assert t["drug1"].tolist() == ["x", "u"] and t["cell_line_name"].tolist() == ["MM1S", "U266"]
    assert list(t.columns[:6]) == [
        "block_id",
        "drug1",
        "drug2",
        "conc_unit1",
        "conc_unit2",
        "replicates",
    ]


def test_three_drug_blocks_and_old_column_names(tmp_path):
    rows = []
    for a in C1[:3]:
        for b in C2[:3]:
            for c in (0.0, 4.0, 16.0):
                y = 100 * (
                    1
                    - (1 - _mono(a, 3, 90) / 100)
                    * (1 - _mono(b, 2, 70) / 100)
                    * (1 - _mono(c, 5, 60) / 100)
                )
                rows.append((1, "a", "b", "c", a, b, c, y, "nM", "nM", "uM"))
    df = pd.DataFrame(
        rows,
        columns=[
            "block_id",
            "drug1",
            "drug2",
            "drug3",
            "conc1",
            "conc2",
            "conc3",
            "response",
            "conc_unit1",
            "conc_unit2",
            "conc_unit3",
        ],
    )
    t = score_table(df, response="inhibition")
    assert t.loc[0, "drug3"] == "c" and t.loc[0, "conc_unit3"] == "uM"
    assert t.loc[0, "bliss"] == pytest.approx(0.0, abs=1e-9)
    old = plate().rename(
        columns={
            "drug1": "drug_row",
            "drug2": "drug_col",
            "conc1": "conc_r",
            "conc2": "conc_c",
            "block_id": "PairIndex",
        }
    )
    old = old.drop(columns="conc_unit").assign(conc_r_unit="nM", conc_c_unit="nM")
    path = tmp_path / "old.csv"
    old.to_csv(path, index=False)
    table = read_plate(path)
    assert {"drug1", "conc2", "conc_unit1", "block_id"} <= set(table.columns)
    assert score_table(table, response="viability").loc[0, "bliss"] == pytest.approx(0, abs=1e-9)


# --------------------------------------------------------------------------- bad input


def _write(tmp_path, df, name="plate.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _raises(tmp_path, df, *needles, exc=InvalidInputError):
    path = _write(tmp_path, df)
    with pytest.raises(exc) as info:
        read_plate(path)
    msg = str(info.value)
    for n in needles:
        assert n in msg, msg
    return msg


def test_missing_columns_are_named(tmp_path):
    _raises(tmp_path, plate().drop(columns=["response", "conc2"]), "'response'", "'conc2'")
    _raises(
        tmp_path,
        plate().rename(columns={"respnse": "x", "response": "respons"}),
        "'response'",
        "did you mean 'respons'",
    )
    _raises(tmp_path, plate().drop(columns="conc_unit"), "'conc_unit'")


def test_non_numeric_and_empty_cells_are_located(tmp_path):
    df = plate().astype({"conc1": object, "response": object})
    df.loc[4, "conc1"] = "ten"
    _raises(tmp_path, df, "'conc1'", "'ten'", "line 6")
    df = plate().astype({"response": object})
    df.loc[9, "response"] = ""
    _raises(tmp_path, df, "'response'", "empty", "line 11")


def test_negative_doses_and_unknown_units(tmp_path):
    df = plate()
    df.loc[3, "conc2"] = -0.5
    _raises(tmp_path, df, ">= 0", "conc2 = -0.5", "line 5")
    df = plate()
    df.loc[2, "conc_unit"] = "uMol"
    _raises(tmp_path, df, "unknown concentration unit 'uMol'", "line 4", exc=UnitError)
    df = plate()
    df.loc[2, "conc_unit"] = "um"
    _raises(tmp_path, df, "did you mean 'uM'", exc=UnitError)
    df = plate().drop(columns="conc_unit").assign(conc_unit1="uM", conc_unit2="uM")
    df.loc[5, "conc_unit2"] = "nM"
    _raises(tmp_path, df, "several units", exc=UnitError)


def test_missing_monotherapy_control_and_grid_holes(tmp_path):
    df = plate()
    _raises(tmp_path, df[~((df.conc2 == 0) & (df.conc1 > 0))], "no monotherapy wells for 'alpha'")
    _raises(
        tmp_path,
        df[~((df.conc1 == 0) & (df.conc2 == 2.0))],
        "monotherapy of 'beta' lacks dose(s) 2 uM",
    )
    _raises(tmp_path, df[~((df.conc1 == 0) & (df.conc2 == 0))], "no control well")
    _raises(
        tmp_path,
        df[~((df.conc1 == 3) & (df.conc2 == 8))],
        "grid is incomplete",
        "1 of 16",
        "(3 uM, 8 uM)",
    )


def test_single_and_duplicate_drugs(tmp_path):
    one = plate().drop(columns=["drug2", "conc2"])
    _raises(tmp_path, one, "single drug")
    dup = plate(drugs=("alpha", "Alpha"))
    _raises(tmp_path, dup, "'Alpha' appears twice")
    never = plate()
    never["conc2"] = 0.0
    never = never.drop_duplicates(["conc1", "conc2"])
    _raises(tmp_path, never, "'beta' is never given")


def test_response_kind_is_required_and_checked():
    with pytest.raises(InvalidInputError, match="never guessed"):
        score_table(plate())
    with pytest.raises(InvalidInputError, match="did you mean 'viability'"):
        score_table(plate(), response="viabilty")
    with pytest.raises(InvalidInputError, match="n_boot"):
        score_table(plate(reps=2), response="viability", n_boot=-1)
    with pytest.raises(InvalidInputError, match="DataFrame"):
        score_table([1, 2, 3], response="viability")


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(InvalidInputError, match="no such file"):
        read_plate(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InvalidInputError, match="empty"):
        read_plate(tmp_path / "empty.csv")


# --------------------------------------------------------------------------- shared data


def _bliss_hsa_package(res):
    """The `synergy` package's Bliss and HSA on the same mean matrix (our scale)."""
    syn = pytest.importorskip("synergy.combination")
    d1, d2 = np.meshgrid(res.doses[0], res.doses[1], indexing="ij")
    out = {}
    for name, cls in (("bliss", syn.Bliss), ("hsa", syn.HSA)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = cls().fit(d1.ravel(), d2.ravel(), 1 - res.response.ravel() / 100)
        out[name] = 100 * np.asarray(s).reshape(res.response.shape)
    return out


def test_mathews_plate(shared_data):
    """SynergyFinder's mathews example: % viability, 2 blocks of 6x6 (TMD8 cells)."""
    table = read_plate(shared_data / "synergy" / "mathews_screening_data.csv")
    results = score_blocks(table, response="viability")
    assert [b for b, _ in results] == [1, 2]
    for _, res in results:
        assert res.response.shape == (6, 6) and res.replicates == 1 and res.intervals is None
        pkg = _bliss_hsa_package(res)
        for m in ("bliss", "hsa"):
            assert np.abs(res.matrices[m] - pkg[m]).max() < 1e-9
        for m in METRICS:
            assert np.isfinite(res.scores[m]) and abs(res.scores[m]) < 100
        assert all(f.ok for f in res.fits.values())
    # ispinesib + ibrutinib lies above Bliss, canertinib + ibrutinib below it
    assert results[0][1].scores["bliss"] > 5 and results[1][1].scores["bliss"] < -5


def test_oneil_plate_with_replicates(shared_data):
    """SynergyFinder's O'Neil example: % inhibition, 2 blocks of 5x5, 4 replicates per well."""
    t = score_table(
        pd.read_csv(shared_data / "synergy" / "ONEIL_screening_data.csv"),
        response="inhibition",
        n_boot=200,
        seed=0,
    )
    assert t["replicates"].tolist() == [4, 4]
    assert t["cell_line_name"].tolist() == ["OCUBM", "NCIH2122"]
    for m in METRICS:
        assert (t[f"{m}_ci_low"] < t[m]).all() and (t[m] < t[f"{m}_ci_high"]).all()
        assert (t[f"{m}_ci_high"] - t[f"{m}_ci_low"] < 15).all()
    # MK-1775 + niraparib far above every reference; paclitaxel + L-778123 far below
    assert (t.loc[0, list(METRICS)] > 20).all() and (t.loc[1, list(METRICS)] < -50).all()


def test_ncats_three_drug_plate(shared_data):
    """SynergyFinder's NCATS example: 3-drug blocks (10x10x12). Its control wells read 79-99,
    i.e. % viability. The package documents one block as synergistic, one as antagonistic."""
    df = pd.read_csv(shared_data / "synergy" / "NCATS_screening_data.csv")
    control = df[(df.conc1 == 0) & (df.conc2 == 0) & (df.conc3 == 0)]["response"]
    assert (control > 50).all()  # untreated wells: viability, not inhibition
    results = score_blocks(df, response="viability")
    assert [res.response.shape for _, res in results] == [(10, 10, 12)] * 2
    for m in METRICS:
        assert results[0][1].scores[m] > 5 and results[1][1].scores[m] < -5, m
    area = results[0][1].most_synergistic_area["zip"]
    assert len(area["doses"]) == 3 and all(len(v) == 3 for v in area["doses"].values())


@pytest.mark.parametrize("k", [27, 40])
def test_blocks_with_too_many_drugs_are_refused_before_allocating(k):
    # issue 13.3: 40 drugs at 0 and one dose span 2**40 wells (8 TiB as float64); the block is
    # refused with its size and how to reduce it, before any per-well array exists
    names = [f"D{i}" for i in range(1, k + 1)]
    wells = (
        [[0.0] * k] + [[10.0 if j == i else 0.0 for j in range(k)] for i in range(k)] + [[10.0] * k]
    )
    df = pd.DataFrame(wells, columns=[f"conc{i}" for i in range(1, k + 1)])
    for i, n in enumerate(names, 1):
        df[f"drug{i}"] = n
    df["block_id"], df["conc_unit"] = 1, "nM"
    df["response"] = np.linspace(100, 50, len(df))
    with pytest.raises(InvalidInputError, match=rf"{k} drugs .* {2**k:,} wells.*fewer drugs"):
        score_table(df, response="viability")
