"""Viability as relative cell number after the assay (issue 16: in-vitro assays in time).

Known answers (exponential growth), a differential check against the tumour model of
:mod:`mmmech.dynamics.tumour` (the same rate mapping, integrated by its own exact stepper),
invariants (untreated well = 1, monotone in the assay's duration), the steady-state index kept
behind ``assay_hours=None`` / ``--readout index``, and the CLI options.
"""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mmmech
from mmmech import scoring
from mmmech.cli import main
from mmmech.cli._score_model import ASSAY_HOURS_DEFAULT
from mmmech.dynamics.tumour import TumourModel, integrate
from mmmech.exceptions import InvalidInputError

PAIR = ["bortezomib", "dexamethasone"]
DOSES = {"bortezomib": [1.0, 3.0, 10.0], "dexamethasone": [10.0, 30.0, 100.0]}


def test_cli_default_is_the_library_default():
    assert ASSAY_HOURS_DEFAULT == scoring.ASSAY_HOURS == 72.0


def test_cell_line_and_marrow_rates():
    cl = scoring.assay_model("cell_line")
    # net doubling = the sourced cell-line doubling time; births exceed it by the culture loss
    assert 24 * math.log(2) / cl.net_rate == pytest.approx(scoring.CELL_LINE_DOUBLING_HOURS.value)
    assert 1 - cl.net_rate / cl.birth_rate == pytest.approx(scoring.CULTURE_LOSS.value)
    # marrow: the plasma-cell rates of the tumour model, unchanged
    assert scoring.assay_model("marrow") == TumourModel()
    ctx = mmmech.simulation.simulator.Simulator(
        "myeloma", ["bortezomib"], context=["marrow", "t11_14"]
    ).context
    assert scoring.assay_model(ctx) == TumourModel()
    assert scoring.assay_model("t11_14") == cl


def test_known_answer_exponential_growth():
    """Growth arrest only: N/N_control = exp(-birth * (1 - P/P0) * t); death only:
    exp(-d * (D - D0) * t) with d = (birth - net) / D0."""
    m = scoring.assay_model("cell_line")
    r = {
        "proliferation": np.array([[1.0, 0.0, 1.0]]),
        "apoptosis": np.array([[0.02, 0.02, 0.2]]),
    }
    v = scoring.assay_cells(r, 72.0, m)[0]
    assert v[0] == 1.0
    assert v[1] == pytest.approx(math.exp(-m.birth_rate * 3.0))
    d = (m.birth_rate - m.net_rate) / 0.02
    assert v[2] == pytest.approx(math.exp(-d * 0.18 * 3.0))


@settings(max_examples=30, deadline=None)
@given(
    p=st.floats(0.0, 1.0),
    a=st.floats(0.0, 1.0),
    ik=st.floats(0.0, 1.0),
    hours=st.floats(1.0, 240.0),
    marrow=st.booleans(),
)
def test_matches_the_tumour_model_integrated_in_time(p, a, ik, hours, marrow):
    """Differential: the tumour model's own exact stepper (dynamics.tumour.integrate), treated
    and untreated, gives the same N(t)/N_control(t)."""
    m = scoring.assay_model("marrow" if marrow else "cell_line")
    p0, a0, ik0 = 1.0, 0.0206, 0.01
    r = {
        "proliferation": np.array([[p0, p]]),
        "apoptosis": np.array([[a0, a]]),
        "immune_killing": np.array([[ik0, ik]]),
    }
    v = scoring.assay_cells(r, hours, m)[0, 1]
    g, d = m.rates(p0, a0 + ik0)
    rates = np.array([[g * p - d * (a + ik)] * 4, [g * p0 - d * (a0 + ik0)] * 4])
    N, _ = integrate(rates, hours / 24.0 / 4, m.clearance_rate, 1.0)
    assert v == pytest.approx(N[0, -1] / N[1, -1], rel=1e-9)


def test_untreated_well_is_one_and_effect_grows_with_the_assay():
    r = [mmmech.score(PAIR, doses=DOSES, assay_hours=h) for h in (24.0, 72.0, 144.0)]
    for res in r:
        assert res.viability.flat[0] == 1.0
        assert res.to_dict()["assay"]["response"] == "cells"
    # every treated well loses cells, and loses more the longer the assay
    for a, b in zip(r, r[1:], strict=False):
        assert np.all(b.viability <= a.viability + 1e-12)
    assert r[-1].effect["combination"] > r[0].effect["combination"]
    assert r[1].to_dict()["assay"]["hours"] == 72.0


def test_index_readout_is_the_steady_state_viability_node():
    res = mmmech.score(PAIR, doses=DOSES, assay_hours=None)
    assert res.to_dict()["assay"] == {"response": "index", "hours": None}
    g = [[0.0] + DOSES["bortezomib"], [0.0] + DOSES["dexamethasone"]]
    out = mmmech.simulate_batch(
        "myeloma",
        [{"bortezomib": a, "dexamethasone": b} for a in g[0] for b in g[1]],
        context="cell_line",
    )
    assert np.allclose(res.viability.ravel(), out["viability"].to_numpy())
    # the default differs: a time readout, not the index
    assert not np.allclose(mmmech.score(PAIR, doses=DOSES).viability, res.viability)


def test_other_readouts_are_unchanged_by_the_assay():
    a = mmmech.score(PAIR, doses=DOSES, readout="apoptosis", assay_hours=None)
    b = mmmech.score(PAIR, doses=DOSES, readout="apoptosis")
    assert np.array_equal(a.viability, b.viability)
    assert b.to_dict()["assay"]["response"] == "index"


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), 1e6, "72", True])
def test_bad_assay_hours(bad):
    with pytest.raises(InvalidInputError, match="assay_hours"):
        mmmech.score(PAIR, doses=DOSES, assay_hours=bad)


def test_undefined_scales_name_the_way_out():
    r = {"proliferation": np.array([[1.0, 1.0]]), "apoptosis": np.array([[0.0, 0.5]])}
    with pytest.raises(InvalidInputError, match="assay_hours=None"):
        scoring.assay_cells(r, 72.0, scoring.assay_model())


def test_cli_assay_hours_and_readout(capsys):
    base = [
        "score",
        *PAIR,
        "--doses",
        "bortezomib=1nM,3nM,10nM",
        "--doses",
        "dexamethasone=10nM,30nM,100nM",
    ]
    assert main([*base, "--json", "--assay-hours", "48"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["assay"]["response"] == "cells" and doc["assay"]["hours"] == 48.0
    assert doc["readout"] == "viability"  # the existing field keeps its meaning
    py = mmmech.score(PAIR, doses=DOSES, assay_hours=48)
    assert doc["scores"]["bliss"] == pytest.approx(py.scores["bliss"])
    assert main([*base, "--json", "--readout", "index"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["assay"] == {"response": "index", "hours": None}


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--readout", "index", "--assay-hours", "24"], "--assay-hours applies"),
        (["--assay-hours", "0"], "--assay-hours"),
        (["--assay-hours", "1000"], "720"),
    ],
)
def test_cli_bad_assay_options(capsys, extra, needle):
    assert main(["score", *PAIR, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_cli_assay_options_refused_with_a_measured_plate(capsys, tmp_path):
    plate = tmp_path / "p.csv"
    plate.write_text("block_id,drug1,drug2,conc1,conc2,response,conc_unit\n", encoding="utf-8")
    assert (
        main(["score", "--data", str(plate), "--response", "viability", "--assay-hours", "48"]) == 2
    )
    assert "measured plate" in capsys.readouterr().err


def test_screen_uses_the_same_readout_as_score():
    for hours in (72.0, None):
        df = mmmech.screen(PAIR, size=2, doses=DOSES, metrics=["bliss"], assay_hours=hours)
        s = mmmech.score(PAIR, doses=DOSES, metrics=["bliss"], assay_hours=hours)
        assert float(df["bliss"].iloc[0]) == pytest.approx(s.scores["bliss"], abs=1e-9)


def test_steady_state_held_is_close_to_the_network_in_time():
    """The documented choice (docs/model-notes.md): holding the network's steady state over the
    72 h gives nearly the cell number of the network integrated in time from the untreated state
    (1 model time unit = 1 h, rates averaged over the assay): same sign, Bliss within 1.5."""
    from mmmech.simulation import propagate
    from mmmech.simulation.simulator import Simulator
    from mmmech.synergy import _core

    drugs = ["venetoclax", "dexamethasone"]
    r = mmmech.score(drugs, metrics=["bliss"], points=4)
    sim = Simulator("myeloma", drugs, context="cell_line")
    cm = sim.compiled
    mesh = np.meshgrid(*r.doses, indexing="ij")
    conc = np.stack([m.ravel() for m in mesh], axis=1)
    ss = propagate.steady_state(cm, *sim.fixed_arrays(np.zeros((1, 2))), max_steps=100000)
    y0 = np.repeat(np.asarray(ss.y), conc.shape[0], axis=0)
    times = np.linspace(0.0, 72.0, 73)
    y, ok = propagate.time_course(cm, times, *sim.fixed_arrays(conc), y0=y0)
    assert np.all(ok)
    y = np.asarray(y)
    P = y[:, :, cm.readouts["proliferation"]]
    D = y[:, :, cm.readouts["apoptosis"]] + y[:, :, cm.readouts["immune_killing"]]
    g, d = scoring.assay_model("cell_line").rates(P[0, 0], D[0, 0])
    rate = g * (P - P[0, 0]) - d * (D - D[0, 0])
    v = np.exp(np.trapezoid(rate, times / 24.0, axis=1)).reshape(r.viability.shape)
    inhib = 100 * (1 - v / v.flat[0])
    timed = float(_core.score_batch(list(r.doses), inhib[None], ["bliss"]).summary["bliss"][0])
    assert np.sign(timed) == np.sign(r.scores["bliss"])
    assert timed == pytest.approx(r.scores["bliss"], abs=1.5)
