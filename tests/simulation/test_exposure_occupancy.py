"""Occupancy from the unbound concentration (issue 15, "Exposure and potency that mean what they
say"): the simulator's occupancy equals theta(fu x c, K) with K the cellular potency when one is
recorded (else the biochemical one) times any mutation fold; at clinical reference exposures the
curated targets no longer all saturate, so resistance mutations change the prediction."""

from __future__ import annotations

import warnings
from types import SimpleNamespace as NS

import numpy as np
import pytest

from mmmech import drugs, structures
from mmmech.exceptions import InvalidInputError
from mmmech.network import attach_drugs, load
from mmmech.simulation import Simulator

SIX = ("bortezomib", "carfilzomib", "ixazomib", "lenalidomide", "pomalidomide", "venetoclax")

# Targets of the six drugs that still sit above 0.99 occupancy at the drug's reference exposure,
# each with the reason (the record's note says the same). Nothing else may saturate.
SATURATED = {
    ("carfilzomib", "PSMB8"): "PSMB5 value carried over to beta5i; saturating as PSMB5",
    ("carfilzomib", "PSMB5"): "clinic near-saturates beta5 (label: >= 80% CT-L inhibition in "
    "blood at >= 15 mg/m2); no carfilzomib fu or own potency sourced",
    ("venetoclax", "BCL2"): "no cellular BCL2 potency sourced: biochemical Ki (< 0.01 nM, "
    "unverified) against the unbound Cmax",
}


def theta(c, k, h=1.0):
    c = np.asarray(c, dtype=float)
    return c**h / (c**h + k**h)


def _occ(sim, conc_by_drug):
    conc = np.array([[conc_by_drug[n] for n in sim.drug_names]], dtype=float)
    occ = sim.occupancy(conc)[0]
    return {(c["drug"], c["target"]): occ[j] for j, c in enumerate(sim.columns)}


def _folds(mutations, names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", structures.MutationWarning)
        sh = structures.potency_shifts(mutations, [drugs.get(n) for n in names])
    return {d: dict(v) for d, v in sh.items()}


# ------------------------------------------------------------------ the formula


@pytest.mark.parametrize("mutations", [(), ("BCL2 G101V",), ("PSMB5 A49T",)])
def test_simulator_occupancy_is_theta_of_unbound_concentration(mutations):
    """Differential check against the formula, for every column of drugs with and without a
    curated fraction unbound, at several total concentrations."""
    names = ("venetoclax", "pomalidomide", "lenalidomide", "bortezomib", "ixazomib", "daratumumab")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator("myeloma", list(names), context="cell_line", mutations=list(mutations))
    folds = _folds(list(mutations), names)
    lib = {n: drugs.get(n) for n in names}
    rng = np.random.default_rng(7)
    conc = 10 ** rng.uniform(-2, 5, size=(6, len(names)))
    occ = sim.occupancy(conc)
    for j, col in enumerate(sim.columns):
        d = lib[col["drug"]]
        ta = next(t for t in d.targets if t.target == col["target"] and t.action == col["action"])
        k = ta.potency_nM * folds.get(d.name, {}).get(ta.target, 1.0)
        c = conc[:, names.index(d.name)]
        assert col["fu"] == d.fu
        np.testing.assert_allclose(occ[:, j], theta(d.fu * c, k, ta.hill), rtol=1e-12, atol=0)


def test_fraction_unbound_shifts_the_curve_by_one_over_fu():
    """Same potency, fu = 0.1: occupancy at 10 c equals the fully unbound drug's at c."""
    target = NS(
        target="PSMB5", action="inhibit", potency_nM=10.0, hill=1.0, e3=None, neo_substrates=()
    )
    free = NS(name="free", targets=(target,))
    bound = NS(name="bound", targets=(target,), fu=0.1)
    sim = Simulator("myeloma", [free, bound], context="cell_line")
    c = np.array([[1.0, 10.0], [10.0, 100.0], [100.0, 1000.0]])
    occ = sim.occupancy(c)
    np.testing.assert_allclose(occ[:, 0], occ[:, 1], rtol=1e-12)
    np.testing.assert_allclose(occ[:, 1], theta(0.1 * c[:, 1], 10.0), rtol=1e-12)
    assert [col["fu"] for col in sim.columns] == [1.0, 0.1]
    assert sim.columns[1]["K"] == pytest.approx(100.0)  # K against the total concentration


def test_cellular_basis_sets_k_and_the_ensemble_range():
    """A cellular record behind potency_nM also supplies the potency range sampled by ensembles."""
    bio = drugs.Potency(5.0, "nM", "purified", "PMID:1", low=1.0, high=25.0)
    cell = drugs.CellularPotency(
        40.0, "nM", "MM.1S", "PMID:2", low=20.0, high=80.0, cell_line="MM.1S"
    )
    ta = drugs.TargetAction("PSMB5", "inhibit", 40.0, bio, cellular=cell, potency_basis="cellular")
    toy = NS(name="toy", targets=(ta,), fu=0.5)
    att = attach_drugs(load("myeloma"), [toy])
    (col,) = att.columns
    assert col["K"] == pytest.approx(80.0) and col["fu"] == 0.5
    assert col["potency_range"] == pytest.approx((0.5, 2.0))  # 20/40 and 80/40, not 1/5, 25/5


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), "half", True])
def test_bad_fraction_unbound_is_refused(bad):
    ta = NS(target="PSMB5", action="inhibit", potency_nM=10.0, hill=1.0, e3=None, neo_substrates=())
    with pytest.raises(InvalidInputError, match=r"attach_drugs\(\): 'toy': fraction unbound"):
        attach_drugs(load("myeloma"), [NS(name="toy", targets=(ta,), fu=bad)])


# ------------------------------------------------------------------ clinical exposures


@pytest.fixture(scope="module")
def at_reference():
    lib = {n: drugs.get(n) for n in SIX}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator("myeloma", list(SIX), context="cell_line")
    return _occ(sim, {n: lib[n].reference_nM for n in SIX})


def test_no_curated_target_saturates_at_the_reference_exposure(at_reference):
    above = {key for key, v in at_reference.items() if v > 0.99}
    assert above == set(SATURATED), {k: round(at_reference[k], 5) for k in above}
    for drug, target in SATURATED:
        ta = next(t for t in drugs.get(drug).targets if t.target == target)
        assert "saturat" in ta.potency_used.note, (drug, target)


def test_reference_occupancies_differ_between_drugs_of_different_potency(at_reference):
    """Lenalidomide and pomalidomide share the CRBN binding constant but not fu or exposure;
    bortezomib and carfilzomib share the borrowed PSMB5 potency but not exposure."""
    assert at_reference[("lenalidomide", "CRBN")] != pytest.approx(
        at_reference[("pomalidomide", "CRBN")], abs=0.05
    )
    assert at_reference[("bortezomib", "PSMB5")] < at_reference[("carfilzomib", "PSMB5")]
    assert 0.5 < at_reference[("bortezomib", "PSMB5")] < 0.99


def _reference_occupancy(drug, target, mutations=()):
    d = drugs.get(drug)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator("myeloma", [drug], context="cell_line", mutations=list(mutations))
    return _occ(sim, {drug: d.reference_nM})[(drug, target)]


def test_bcl2_g101v_lowers_venetoclax_occupancy_at_the_reference():
    wt = _reference_occupancy("venetoclax", "BCL2")
    mut = _reference_occupancy("venetoclax", "BCL2", ["BCL2 G101V"])
    assert mut < wt - 0.05  # x180 now moves the unbound-exposure occupancy visibly
    d = drugs.get("venetoclax")
    k = d.targets[0].potency_nM * 180.0
    assert mut == pytest.approx(theta(d.fu * d.reference_nM, k), rel=1e-12)


def test_psmb5_a49t_weakens_bortezomib_more_than_carfilzomib():
    drops = {}
    for drug in ("bortezomib", "carfilzomib"):
        wt = _reference_occupancy(drug, "PSMB5")
        mut = _reference_occupancy(drug, "PSMB5", ["PSMB5 A49T"])
        assert mut <= wt
        drops[drug] = wt - mut
    assert drops["bortezomib"] > drops["carfilzomib"]
    assert drops["bortezomib"] > 0.2
