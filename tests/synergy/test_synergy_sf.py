"""SynergyFinder-compatible scoring (fit="synergyfinder", replicates="synergyfinder").

Known answers from outside: SynergyFinder 3's own outputs (its R code run by the project's
oracle) for small generated plates committed in tests/synergy/data/synergyfinder (README
there) and, when ../shared/data is present, for SynergyFinder's example plates. Tolerances are
the issue's: summary 1e-6, every well 1e-4 (observed: ~1e-11 and ~1e-13). Never runs R.
"""

import json
import math
import pathlib

import numpy as np
import pandas as pd
import pytest

from mmmech import synergy
from mmmech.exceptions import InvalidInputError
from mmmech.synergy import score_blocks, score_surface, score_table
from mmmech.synergy._sf import RNormal, _fit_reference, r_bootstrap_surfaces, sf_fit_batch

HERE = pathlib.Path(__file__).parent / "data" / "synergyfinder"
PLATES = [
    "random",
    "flat",
    "potentiated",
    "antagonised",
    "three_drug",
    "replicates",
    "replicates_mean",
]
COLS = {
    "zip": "ZIP_synergy",
    "loewe": "Loewe_synergy",
    "bliss": "Bliss_synergy",
    "hsa": "HSA_synergy",
}


def _compare(results, summary, wells, tol_sum=1e-6, tol_well=1e-4):
    assert [str(b) for b, _ in results] == list(summary)
    for bid, r in results:
        for m in synergy.METRICS:
            assert r.scores[m] == pytest.approx(summary[str(bid)][m], abs=tol_sum), (bid, m)
        w = wells[wells.block_id.astype(str) == str(bid)]
        idx = tuple(
            np.searchsorted(r.doses[k], w[f"conc{k + 1}"].to_numpy()) for k in range(len(r.doses))
        )
        for m, col in COLS.items():
            err = np.abs(r.matrices[m][idx] - w[col].to_numpy())
            assert err.max() < tol_well, (bid, m, err.max())
        # the expectations and ZIP's fitted surface too
        assert np.abs(r.references["zip"][idx] - w["ZIP_ref"].to_numpy()).max() < tol_well
        assert np.abs(r.zip_fit[idx] - w["ZIP_fit"].to_numpy()).max() < tol_well
        assert np.abs(r.references["loewe"][idx] - w["Loewe_ref"].to_numpy()).max() < tol_well


@pytest.mark.parametrize("name", PLATES)
def test_default_scores_equal_synergyfinder_on_generated_plates(name):
    plate = name.replace("_mean", "")
    df = pd.read_csv(HERE / f"{plate}.csv")
    rep = "mean" if name.endswith("_mean") else "synergyfinder"
    res = score_blocks(df, response="inhibition", n_boot=0, replicates=rep)
    _compare(
        res,
        json.loads((HERE / f"{name}_summary.json").read_text()),
        pd.read_csv(HERE / f"{name}_wells.csv"),
    )
    for _, r in res:
        assert r.fit == "synergyfinder"
        assert r.replicates_treatment == {
            "replicates": "synergyfinder-bootstrap",
            "replicates_mean": "mean-surface",
        }.get(name, "none")


EXAMPLES = [
    ("mathews", "viability", "mathews", "synergyfinder"),
    ("NCATS", "viability", "NCATS", "synergyfinder"),
    ("ONEIL", "inhibition", "ONEIL", "synergyfinder"),
    ("ONEIL", "inhibition", "ONEIL_replicate_mean", "mean"),
]


@pytest.mark.parametrize("plate,kind,ref,rep", EXAMPLES)
def test_example_plates_equal_synergyfinder(shared_data, plate, kind, ref, rep):
    folder = shared_data / "synergy"
    if not (folder / "synergyfinder_reference").is_dir():
        pytest.skip("synergyfinder_reference absent")
    df = pd.read_csv(folder / f"{plate}_screening_data.csv")
    res = score_blocks(df, response=kind, n_boot=0, replicates=rep)
    _compare(
        res,
        json.loads((folder / "synergyfinder_reference" / f"{ref}_summary.json").read_text()),
        pd.read_csv(folder / "synergyfinder_reference" / f"{ref}_wells.csv"),
    )


def test_the_issue_numbers_move_to_synergyfinder(shared_data):
    """Regression (issue 14): mathews block 1 gave ZIP 11.501 / Loewe 19.613 with the robust
    fits; SynergyFinder says 19.571 / 25.530."""
    df = pd.read_csv(shared_data / "synergy" / "mathews_screening_data.csv")
    (_, sf), _ = score_blocks(df, response="viability", n_boot=0)
    (_, rob), _ = score_blocks(df, response="viability", n_boot=0, fit="robust")
    assert sf.scores["zip"] == pytest.approx(19.5708123462, abs=1e-6)
    assert sf.scores["loewe"] == pytest.approx(25.5296860713, abs=1e-6)
    assert abs(rob.scores["zip"] - sf.scores["zip"]) > 1.0 and rob.fit == "robust"
    # Bliss and HSA do not depend on a fit
    for m in ("bliss", "hsa"):
        assert rob.scores[m] == pytest.approx(sf.scores[m], abs=1e-12)


def _series(seed, n):
    rng = np.random.default_rng(seed)
    dose = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
    out = []
    for _ in range(n):
        top, e, h = rng.uniform(20, 100), 10 ** rng.uniform(-1.5, 1.5), rng.uniform(0.3, 3)
        y = top * dose**h / (dose**h + e**h) + rng.normal(0, rng.choice([0.5, 5, 30]), dose.size)
        out.append(y)
    return dose, np.array(out)


def test_kernel_and_python_reference_agree_bit_for_bit():
    dose, Y = _series(3, 40)
    D = np.broadcast_to(dose, Y.shape)
    emin = np.where(np.arange(len(Y)) % 2 == 0, Y[:, 0], np.nan)
    emax = np.where(np.arange(len(Y)) % 3 == 0, 100.0, np.nan)  # SynergyFinder 2's top
    a = sf_fit_batch(D, Y, emin=emin, emax=emax, backend="cython")
    b = sf_fit_batch(D, Y, emin=emin, emax=emax, backend="python")
    for f in ("b", "c", "d", "e", "model", "iters", "ok"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f
    assert np.all(a.d[emax == 100.0] == 100.0)
    assert a.model.any() or a.iters.max() > 0  # both paths exercised on noisy series
    held = np.isfinite(emin)
    assert np.all(a.c[held] == emin[held])  # ZIP: c stays fixed


def test_reported_objective_is_the_sse_of_the_reported_curve():
    """Invariant of the BFGS port: the objective it ends with is the sum of squares of the
    parameters it returns (drc's scaled units: doses / 10**floor(log10(median)))."""
    dose, Y = _series(11, 25)
    scale = 10.0 ** np.floor(np.log10(np.median(dose)))
    x = dose / scale
    checked = 0
    for y in Y:
        ys = 10.0 ** np.floor(np.log10(np.median(y))) if np.median(y) > 0 else 1.0
        st, p, it, fmin = _fit_reference(0, x, y / ys, 0.0, False)
        if st != 0:
            continue
        b, c, d, e = p
        with np.errstate(all="ignore"):
            f = c + (d - c) / (1 + np.exp(b * np.log(x / e)))
        assert fmin == pytest.approx(np.sum((y / ys - f) ** 2), rel=1e-12, abs=1e-12)
        assert 1 <= it <= 500
        checked += 1
    assert checked >= 20


def test_flat_surface_follows_synergyfinders_flat_series_rule():
    """Every well 10 %: the flat series are fitted after SynergyFinder adds 1e-10 to the last
    response; Bliss and ZIP expect 100 * (1 - 0.9 ** 2) = 19 %, HSA and Loewe 10 % (the
    oracle's flat.csv block 1: -9, -9, 0, 0)."""
    r = score_surface([np.array([0, 1, 3.0]), np.array([0, 2, 6.0])], np.full((3, 3), 10.0))
    want = {"bliss": -9.0, "zip": -9.0, "hsa": 0.0, "loewe": 0.0}
    for m in synergy.METRICS:
        assert r.scores[m] == pytest.approx(want[m], abs=1e-6)


def test_r_generator_reproduces_rnorm():
    # R 4.2.2: set.seed(123); rnorm(5)  and  set.seed(1); rnorm(3, 10, 2)
    want = [
        -0.5604756465522126,
        -0.23017748948327996,
        1.558708314149124,
        0.070508391424576003,
        0.12928773516094624,
    ]
    assert RNormal(123).norm(5).tolist() == want
    got = 10 + 2 * RNormal(1).norm(3)
    assert got.tolist() == [8.7470923785153349, 10.367286648444164, 8.3287427751799061]


def test_bootstrap_plates_follow_the_replicates():
    rng = np.random.default_rng(0)
    wells = [rng.normal(m, 3, 4) for m in np.linspace(0, 90, 30)]
    b = r_bootstrap_surfaces(wells, iteration=400, seed=7)
    mean = np.array([w.mean() for w in wells])
    sem = np.array([w.std(ddof=1) for w in wells]) / 2.0
    # each plate's well = mean of n normal draws: centred on the replicate mean, SD = SEM
    z = (b.mean(axis=0) - mean) / (sem / math.sqrt(400))
    assert np.abs(z).max() < 5
    assert np.allclose(b.std(axis=0, ddof=1) / sem, 1, atol=0.25)
    # no draw for a well without spread; the same seed gives the same plates
    b2 = r_bootstrap_surfaces([np.array([5.0, 5.0])] + wells[:2], iteration=3, seed=7)
    assert np.all(b2[:, 0] == 5.0)
    assert np.array_equal(b2, r_bootstrap_surfaces([np.array([5.0, 5.0])] + wells[:2], 3, 7))


def test_mean_surface_treatment_is_available_and_labelled():
    df = pd.read_csv(HERE / "replicates.csv")
    t = score_table(df, response="inhibition", replicates="mean", n_boot=20, seed=1)
    assert set(t["replicates_treatment"]) == {"mean-surface"} and set(t["fit"]) == {"synergyfinder"}
    assert (t["zip_ci_low"] < t["zip_ci_high"]).all()
    s = score_table(df, response="inhibition")
    assert set(s["replicates_treatment"]) == {"synergyfinder-bootstrap"}
    with pytest.raises(InvalidInputError, match="replicates must be one of"):
        score_table(df, response="inhibition", replicates="bootstrap")
    with pytest.raises(InvalidInputError, match="fit must be one of.*robust"):
        score_table(df, response="inhibition", fit="robsut")


def test_pathological_fits_are_named_in_the_notes():
    df = pd.read_csv(HERE / "antagonised.csv")
    ((_, r),) = score_blocks(df, response="inhibition", n_boot=0)
    notes = [n for n in r.notes if "SynergyFinder-compatible fit" in n]
    assert any("iteration limit" in n and "'aa' series at ab=3.2 uM" in n for n in notes)
    assert any("log-dose fallback" in n and "'ab' series at aa=3 uM" in n for n in notes)
    assert all("--fit robust" in n for n in notes)
    ((_, rob),) = score_blocks(df, response="inhibition", n_boot=0, fit="robust")
    assert not any("SynergyFinder-compatible" in n for n in rob.notes)
    d = r.to_dict(matrices=False)
    assert d["fit"] == "synergyfinder" and d["replicates_treatment"] == "none"


@pytest.mark.parametrize("plate", ["random", "potentiated", "antagonised", "flat", "replicates"])
def test_zip_version_2_equals_synergyfinder_2(plate):
    """SynergyFinder 2.4's ZIP (its R code, replicate-mean matrix; README): every well."""
    ref = json.loads((HERE / f"sf2_zip_{plate}.json").read_text())
    df = pd.read_csv(HERE / f"{plate}.csv")
    res = score_blocks(
        df, response="inhibition", metrics="zip", zip_version=2, replicates="mean", n_boot=0
    )
    assert [str(b) for b, _ in res] == list(ref)
    for bid, r in res:
        want = ref[str(bid)]
        dm = np.array([float(v) for v in want["delta"]]).reshape(want["nrow"], want["ncol"])
        assert np.abs(r.matrices["zip"] - dm).max() < 1e-4
        assert r.scores["zip"] == pytest.approx(want["summary"], abs=1e-6)
        assert r.zip_version == 2 and r.to_dict(False)["zip_version"] == 2


def test_zip_version_2_on_mathews_and_its_limits(shared_data):
    df = pd.read_csv(shared_data / "synergy" / "mathews_screening_data.csv")
    t = score_table(df, response="viability", metrics="zip", zip_version=2)
    # SynergyFinder 2.4's ZIP of the mathews blocks (its R code, run by hand; README)
    assert t["zip"].tolist() == pytest.approx([21.3140431037278, 1.14749492863056], abs=1e-6)
    with pytest.raises(InvalidInputError, match="zip_version=2.*two drugs"):
        score_surface([np.array([0, 1.0])] * 3, np.zeros((2, 2, 2)), zip_version=2)
    with pytest.raises(InvalidInputError, match="needs fit='synergyfinder'"):
        score_table(df, response="viability", zip_version=2, fit="robust")
    with pytest.raises(InvalidInputError, match="zip_version must be 3"):
        score_table(df, response="viability", zip_version=1)
