"""Model-predicted synergy (mmmech.score): grids, scores, errors, backends."""

import numpy as np
import pytest

import mmmech
from mmmech.exceptions import InvalidInputError, UnknownDrugError
from mmmech.scoring import default_doses, dose_range, score


@pytest.fixture(scope="module")
def btz_len():
    return score(["bortezomib", "lenalidomide"], context="cell_line")


def test_default_grid_brackets_the_reference_concentration():
    from mmmech.drugs import get

    d = default_doses("bortezomib")
    ref = get("bortezomib").reference_nM
    assert d[0] == 0 and len(d) == 6
    assert d[1] < ref < d[-1] and np.isclose(d[-2], ref)
    np.testing.assert_allclose(d[2:] / d[1:-1], 3.0)


def test_dose_range_spans_the_monotherapy_ec10_to_ec90():
    from mmmech.model import Simulator

    sim = Simulator("myeloma", ["bortezomib", "daratumumab"], context="cell_line")
    btz, dara = dose_range(sim)
    assert btz[0] == 0 and len(btz) == 6
    # bortezomib alone: its lowest grid dose gives ~10%, its highest ~90% of its maximal effect
    conc = np.zeros((3, 2))
    conc[1, 0], conc[2, 0] = btz[1], btz[-1]
    scan = np.zeros((1, 2))
    scan[0, 0] = 10 * sim.drugs[0].reference_nM
    v = sim.run(np.vstack([conc, scan])).readouts["viability"]
    inhib = 1 - v / v[0]
    # (a steep curve is widened to at least 81-fold, so the ends may lie beyond EC10/EC90)
    assert inhib[1] <= 0.1 * inhib[3] + 0.03
    assert inhib[2] >= 0.9 * inhib[3] - 0.03
    assert btz[-1] / btz[1] >= 81 - 1e-9
    # daratumumab has no effect without effector cells: the reference-centred series
    np.testing.assert_allclose(dara, default_doses("daratumumab"))


def test_score_result_shape_and_ranges(btz_len):
    r = btz_len
    assert set(r.scores) == {"bliss", "hsa", "loewe", "zip"}
    assert all(np.isfinite(v) for v in r.scores.values())
    assert r.inhibition.shape == (6, 6)
    assert r.inhibition[0, 0] == pytest.approx(0.0)
    for k, v in r.effect.items():
        assert -0.05 <= v <= 1.0, (k, v)
    # the combination keeps (nearly) the stronger drug's effect; it may fall slightly short:
    # lenalidomide's MYC loss lowers bortezomib's MYC-dependent NOXA (model 0.3, Nikiforov 2007)
    assert r.effect["combination"] >= 0.95 * max(r.effect["bortezomib"], r.effect["lenalidomide"])
    d = r.to_dict()
    for key in (
        "drugs",
        "context",
        "readout",
        "units",
        "scores",
        "effect",
        "most_synergistic_area",
    ):
        assert key in d


def test_hsa_is_at_least_bliss_when_both_drugs_inhibit(btz_len):
    # HSA's expectation (max) never exceeds Bliss's (probabilistic sum) for effects in [0, 100]
    m = btz_len.synergy.matrices
    assert np.all(m["hsa"] >= m["bliss"] - 1e-9)


def test_python_and_cython_backends_agree():
    a = score(["bortezomib", "dexamethasone"], backend="python", metrics=("bliss", "hsa"))
    b = score(["bortezomib", "dexamethasone"], backend="auto", metrics=("bliss", "hsa"))
    # both stop where max |dy/dt| < 1e-6, so states agree to ~1e-6 (1e-4 in percent)
    np.testing.assert_allclose(a.inhibition, b.inhibition, atol=1e-3)


def test_explicit_doses_are_used():
    r = score(["bortezomib", "lenalidomide"], doses={"bortezomib": [1, 3, 10, 30]}, metrics="bliss")
    assert r.doses[0].tolist() == [0, 1, 3, 10, 30]


def test_ensemble_reports_mean_and_interval():
    """The ensemble really varies, set 0 is the curated model, the summary is the mean and the
    percentile interval of the members, and `screen` reports exactly the same numbers."""
    from mmmech.screening import screen

    drugs, M, seed, interval = ["bortezomib", "venetoclax"], 4, 1, 0.8
    r = score(drugs, metrics=("bliss", "hsa"), ensemble=M, seed=seed, interval=interval)
    df = screen(
        drugs,
        size=2,
        metrics=("bliss", "hsa"),
        ensemble=M,
        seed=seed,
        interval=interval,
        progress=False,
    )
    for m in ("bliss", "hsa"):
        e, s = r.ensemble[m], r.member_scores[m]
        assert e["members"] == M == s.size and e["undefined"] == 0
        assert np.ptp(s) > 0.5  # the variants differ (percent inhibition)
        assert s[0] == pytest.approx(r.scores[m], abs=1e-9)  # member 0 is the curated model
        assert e["mean"] == pytest.approx(s.mean(), abs=1e-12)
        assert e["low"] == pytest.approx(np.percentile(s, 10), abs=1e-12)
        assert e["high"] == pytest.approx(np.percentile(s, 90), abs=1e-12)
        assert s.min() <= e["low"] < e["mean"] < e["high"] <= s.max()
        row = df.iloc[0]
        assert (row[m], row[f"{m}_mean"], row[f"{m}_low"], row[f"{m}_high"]) == pytest.approx(
            (r.scores[m], e["mean"], e["low"], e["high"]), abs=1e-9
        )
    d = r.to_dict()
    assert d["intervals"] == {
        m: [r.ensemble[m]["low"], r.ensemble[m]["high"]] for m in ("bliss", "hsa")
    }


def test_score_and_screen_share_the_ensemble_summary_when_a_member_is_undefined(monkeypatch):
    """One ensemble member without a defined score: score and screen both leave it out, with a
    note, and report the same finite mean and interval (score used to turn them into NaN)."""
    from mmmech.screening import screen
    from mmmech.synergy import _core as _synergy_core

    real = _synergy_core.score_batch

    def one_undefined(grid, inhib, metrics, *a, **k):
        out = real(grid, inhib, metrics, *a, **k)
        if np.asarray(inhib).shape[0] > 1:  # the ensemble call: member 2 fails
            for m in metrics:
                out.summary[m] = np.array(out.summary[m], dtype=float)
                out.summary[m][2] = np.nan
        return out

    monkeypatch.setattr(_synergy_core, "score_batch", one_undefined)
    drugs = ["bortezomib", "venetoclax"]
    r = score(drugs, metrics=("bliss",), ensemble=4, seed=1)
    df = screen(drugs, size=2, metrics=("bliss",), ensemble=4, seed=1, progress=False)
    e, s = r.ensemble["bliss"], r.member_scores["bliss"]
    assert np.isnan(s[2]) and e["undefined"] == 1 and e["members"] == 4
    ok = s[np.isfinite(s)]
    assert e["mean"] == pytest.approx(ok.mean(), abs=1e-12) and np.isfinite(e["low"])
    assert any("undefined for 1 of 4" in n for n in r.to_dict()["notes"])
    row = df.iloc[0]
    assert (row["bliss_mean"], row["bliss_low"], row["bliss_high"]) == pytest.approx(
        (e["mean"], e["low"], e["high"]), abs=1e-9
    )
    assert "undefined for 1 of 4" in row["notes"]


@pytest.mark.parametrize(
    "kwargs, err, needle",
    [
        (dict(drugs=["bortezomib"]), InvalidInputError, "at least two"),
        (dict(drugs=["bortezomib", "Velcade"]), InvalidInputError, "once"),
        (dict(drugs=["bortezomib", "lenalidomid"]), UnknownDrugError, "lenalidomide"),
        (
            dict(drugs=["bortezomib", "lenalidomide"], doses={"bortezomib": [-1, 2, 3]}),
            InvalidInputError,
            ">= 0",
        ),
        (
            dict(drugs=["bortezomib", "lenalidomide"], doses={"bortezomib": [1, 2]}),
            InvalidInputError,
            "three",
        ),
        (
            dict(drugs=["bortezomib", "lenalidomide"], doses={"melphalan": [1, 2, 3]}),
            InvalidInputError,
            "not in the combination",
        ),
        (dict(drugs=["bortezomib", "lenalidomide"], metrics="banana"), InvalidInputError, "banana"),
        (dict(drugs="bortezomib"), InvalidInputError, "list"),
        (dict(drugs=["bortezomib", "lenalidomide"], ensemble=2.5), InvalidInputError, "ensemble"),
        (dict(drugs=["bortezomib", "lenalidomide"], ensemble="3"), InvalidInputError, "ensemble"),
        (
            dict(drugs=["bortezomib", "lenalidomide"], interval="wide"),
            InvalidInputError,
            "interval",
        ),
        (dict(drugs=["bortezomib", "lenalidomide"], interval=None), InvalidInputError, "interval"),
        (dict(drugs=["bortezomib", "lenalidomide"], interval=1.5), InvalidInputError, "interval"),
        (
            dict(drugs=["bortezomib", "lenalidomide"], ensemble=3, seed="1"),
            InvalidInputError,
            "seed",
        ),
        (dict(drugs=["bortezomib", "lenalidomide"], seed=-1), InvalidInputError, "seed"),
        (dict(drugs=["bortezomib", "lenalidomide"], backend="cyton"), InvalidInputError, "cython"),
        (dict(drugs=["bortezomib", "lenalidomide"], points=2), InvalidInputError, "points"),
    ],
)
def test_bad_input(kwargs, err, needle):
    with pytest.raises(err, match=needle) as info:
        score(**kwargs)
    assert type(info.value) is err  # not a bare ValueError / TypeError
    assert "\n" not in str(info.value)
    if err is InvalidInputError:
        assert str(info.value).startswith("score(")


def test_top_level_name():
    assert mmmech.score is score


def test_cli_score_json_and_plot(run_cli, tmp_path):
    import json

    out = tmp_path / "map.png"
    p = run_cli(
        "score",
        "bortezomib",
        "lenalidomide",
        "--context",
        "marrow",
        "--json",
        "--doses",
        "bortezomib=3nM,10nM,30nM,100nM",
        "--plot",
        out,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    for key in (
        "drugs",
        "context",
        "readout",
        "units",
        "scores",
        "effect",
        "most_synergistic_area",
    ):
        assert key in doc
    assert doc["context"] == "marrow"
    assert doc["doses"]["bortezomib"] == [0.0, 3.0, 10.0, 30.0, 100.0]
    assert set(doc["scores"]) == {"bliss", "hsa", "loewe", "zip"}
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image as mpimg

    h, w = mpimg.imread(out).shape[:2]
    assert w > 300 and h > 200


@pytest.mark.parametrize(
    "args, needle",
    [
        (["bortezomib"], "at least two"),
        (["bortezomib", "bortezomib"], "once"),
        (["bortezomib", "lenalidomide", "--doses", "bortezomib=1,2,3"], "unit"),
        (["bortezomib", "lenalidomide", "--doses", "bortezomib=1nM,-2nM,3nM"], ">= 0"),
        (["bortezomib", "lenalidomide", "--doses", "bortezomib=1nM,2nM,3furlongs"], "unknown unit"),
        (["bortezomib", "lenalidomide", "--context", "marow"], "marrow"),
        (["bortezomib", "lenalidomide", "--plot", "/no/such/dir/x.png"], "folder"),
        (["bortezomib", "lenalidomide", "--plot", "x.gif"], ".png"),
    ],
)
def test_cli_score_bad_input(run_cli, args, needle):
    from _helpers import assert_one_line_error

    assert_one_line_error(run_cli("score", *args), needle)


def test_score_and_screen_share_their_ensemble():
    from mmmech.screening import screen

    r = score(["bortezomib", "lenalidomide"], metrics=("bliss",), ensemble=3, seed=5)
    df = screen(
        ["bortezomib", "lenalidomide"],
        size=2,
        ensemble=3,
        seed=5,
        metrics=("bliss",),
        progress=False,
    )
    assert df["bliss_mean"].iloc[0] == pytest.approx(r.ensemble["bliss"]["mean"], abs=1e-9)


def test_dose_lists_follow_the_drug_layer_units(run_cli):
    """--doses converts amounts exactly as DRUG=AMOUNT does (one rule: drugs.dose_nM),
    including the nominal unit of cell therapies."""
    from mmmech.cli._score_model import parse_dose_lists
    from mmmech.drugs import get, parse_dose

    out = parse_dose_lists(["ide-cel=1nM-eq,3nM-eq", "bortezomib=112ng/mL"])
    assert out["idecabtagene vicleucel"] == [1.0, 3.0]
    assert out["bortezomib"] == [parse_dose("bortezomib=112ng/mL")[1]]
    assert get("bortezomib").name in out
    from _helpers import assert_one_line_error

    assert_one_line_error(
        run_cli(
            "score", "bortezomib", "daratumumab", "--doses", "daratumumab=1nM-eq,2nM-eq,3nM-eq"
        ),
        "cell therapies",
    )
