"""The cohort's batched PK courses (cohort._batched, pk.batch) against the per-patient path,
and the chunk's dose events from the variant template (_exposure._chunk_pk)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import regimens
from mmmech.dynamics import cohort, simulate_cohort
from mmmech.dynamics._exposure import _chunk_pk, _patient_pk
from mmmech.dynamics.kinetics import kinetic_columns
from mmmech.dynamics.regimen import _item
from mmmech.simulation.simulator import Simulator

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))


def _bodies(xs: list[tuple[float, float]]) -> list[regimens.Body]:
    return [regimens.Body(weight_kg=w, bsa_m2=b) for w, b in xs]


VARIANTS = [
    "vrd",
    "rd",
    "krd",
    "dara_rd",
    {"regimen": "vrd", "drop": "dexamethasone", "dose_scale": {"bortezomib": 0.75}},
    {"regimen": "vrd", "dose_scale": {"lenalidomide": 0.5, "dexamethasone": 1.0}},
]


@pytest.mark.parametrize("spec", VARIANTS, ids=str)
def test_chunk_events_equal_patient_pk(spec):
    """_chunk_pk's events (template) are _patient_pk's, element by element (same tuples, same
    amount types), with the same covariates and own-PK drugs; its dose groups hold the
    events' days, routes and amounts."""
    it = _item(spec, "test")
    bodies = _bodies([(50.0, 1.45), (71.3, 1.83), (118.0, 2.41), (70.0, 1.8)])
    extra = [None, {"non_igg_myeloma": 1.0}, None, None]
    crcl = [None, None, 35.0, None]
    drugs = [d for d in it.regimen.drugs if d not in it.drop]
    rows = np.arange(len(bodies))
    kin_in, mine_of, own, cd = _chunk_pk(it, 3, bodies, rows, None, None, crcl, {}, extra, drugs)
    for r, b in enumerate(bodies):
        ev, cov, mine = _patient_pk(it, 3, b, r, None, None, crcl, {}, extra)
        assert kin_in[r][0] == ev
        assert [type(e.amount) for e in kin_in[r][0]] == [type(e.amount) for e in ev]
        assert kin_in[r][1] == cov
        assert mine_of[r] == mine
    assert own == ({"lenalidomide": [2]} if "lenalidomide" in drugs else {})
    for d, groups in cd.groups.items():
        for days, routes, rr, amounts in groups:
            for i, r in enumerate(rr):
                assert d not in mine_of[r]
                mine = [e for e in kin_in[r][0] if e.drug == d]
                assert [e.day for e in mine] == days.tolist()
                assert [e.route for e in mine] == routes
                assert [e.amount for e in mine] == amounts[i].tolist()


def _state(spec, bodies, cycles, step_hours=4.0, substeps=4):
    """What simulate_cohort hands _prefill for one chunk of `bodies` in the marrow context."""
    it = _item(spec, "test")
    drugs = [d for d in it.regimen.drugs if d not in it.drop]
    sim = Simulator("myeloma", drugs, context="marrow")
    K = int(np.ceil(cycles * it.regimen.phases[0].cycle_days * 24.0 / step_hours))
    grid_h = step_hours / substeps
    sub_flat = (np.arange(K * substeps) + 0.5) * grid_h
    nf = int(np.ceil(step_hours / 0.25))
    fine_edges = np.arange(K * nf + 1) * (step_hours / nf)
    rows = np.arange(len(bodies))
    kin_in, mine_of, own, cd = _chunk_pk(
        it, cycles, bodies, rows, None, None, None, {}, None, drugs
    )
    kin = [(0, kc) for kc in kinetic_columns(sim.columns) if kc.drug in drugs]
    args = (
        drugs, kin_in, mine_of, {id(sim): list(rows)}, [sim] * len(bodies), rows,
        {id(sim): kin}, own, sub_flat, fine_edges, "reference", grid_h, 1, True,
    )  # fmt: skip
    return args, cd, kin


@settings(max_examples=6, deadline=None)
@given(
    xs=st.lists(st.tuples(st.floats(40.0, 140.0), st.floats(1.3, 2.6)), min_size=1, max_size=3),
    spec=st.sampled_from(VARIANTS[:2] + VARIANTS[4:]),
)
def test_batched_courses_equal_per_patient_path(xs, spec):
    """Differential: every row's substep course (within 1e-12 of its maximum) and interval
    means on the binding-kinetics grid (within 5e-12: the per-patient path's cumulative-AUC
    differences round to about that; tests/pk/test_batch.py holds the batch to 1e-13 of the
    exact value) are those of the per-patient path, for random bodies."""
    bodies = _bodies(xs)
    args, cd, kin = _state(spec, bodies, 2)
    drugs, kin_in = args[0], args[1]
    fine_edges = args[9]
    new_cache: dict = {}
    old_cache: dict = {}
    new = cohort._prefill(new_cache, *args, cd, 2)
    old = cohort._prefill(old_cache, *args)
    assert any(k[0] == cohort._BATCH for k in new_cache)  # the batch was taken
    blk = np.arange(len(bodies))
    for d in drugs:
        for r in range(len(bodies)):
            a = cohort._shared_course(new_cache, new[("sub", r, d)], None)
            b = cohort._shared_course(
                old_cache,
                old[("sub", r, d)],
                lambda d=d, r=r: cohort._conc_matrix(
                    d, kin_in[r][0], args[8], "reference", kin_in[r][1], []
                ),
            )
            assert np.max(np.abs(a - b)) <= 1e-12 * max(np.max(np.abs(b)), 1e-300)
        if d in {kc.drug for _, kc in kin}:
            fa = cohort._fine_rows(
                new_cache, d, blk, kin_in, [], None, blk, fine_edges, "reference", new
            )
            fb = cohort._fine_rows(
                old_cache, d, blk, kin_in, [], None, blk, fine_edges, "reference", old
            )
            for r in range(len(bodies)):
                assert np.max(np.abs(fa[r] - fb[r])) <= 5e-12 * np.max(np.abs(fb[r]))
                # the same row alone (_shared_course of its _BatchRow key): the same bits
                alone = cohort._shared_course(new_cache, new[("fine", r, d)], None)
                assert np.array_equal(alone, fa[r])


def test_next_chunk_drops_the_batched_courses():
    bodies = _bodies([(60.0, 1.6), (90.0, 2.1)])
    args, cd, _ = _state("vrd", bodies, 1)
    cache: dict = {}
    cohort._prefill(cache, *args, cd, 1)
    n = sum(k[0] == cohort._BATCH for k in cache)
    assert n == 2 * 3  # two rows x three drugs on the substep grid
    args1, cd1, _ = _state("vrd", bodies[:1], 1)
    cohort._prefill(cache, *args1, cd1, 1)
    assert sum(k[0] == cohort._BATCH for k in cache) == 3


def _no_batch(*args, **kwargs):
    return None


@pytest.mark.parametrize("reg, n", [("vrd", 24), ("rd", 12)])
def test_cohort_outcomes_equal_per_patient_path(monkeypatch, reg, n):
    """Cohort level: best responses and progression days of bench bodies over 12 cycles are
    those of the per-patient PK path (the batch switched off), M-protein within 1e-9."""
    import bench_regimen as br

    bodies = br.bodies(n, 0)
    kw = {"cycles": 12, "num_threads": 2}
    a = simulate_cohort(reg, bodies, **kw)
    monkeypatch.setattr(cohort, "_batched", _no_batch)
    b = simulate_cohort(reg, bodies, **kw)
    assert list(a.best_response) == list(b.best_response)
    np.testing.assert_array_equal(a.time_to_progression_days, b.time_to_progression_days)
    np.testing.assert_allclose(a.m_protein, b.m_protein, rtol=1e-9, atol=0)


def test_chunks_give_the_same_bits():
    """Each row's batched course is its own (the buffers reused by every chunk, the courses of
    the previous chunk dropped): any chunking gives the same arrays."""
    bodies = _bodies([(50.0 + 7 * i, 1.4 + 0.09 * i) for i in range(9)])
    kw = {"cycles": 2, "step_hours": 12.0}
    a = simulate_cohort("vrd", bodies, **kw)
    b = simulate_cohort("vrd", bodies, chunk=4, **kw)
    np.testing.assert_array_equal(a.m_protein, b.m_protein)


def test_own_doses_on_the_template_days_equal_planned():
    """A row given its planned doses explicitly joins the same batched course (same bits)."""
    bodies = _bodies([(60.0, 1.6), (85.0, 2.0)])
    plan = regimens.expand(regimens.load("vrd"), body=bodies[0], cycles=1)
    a = simulate_cohort("vrd", bodies, cycles=1, step_hours=12.0)
    b = simulate_cohort("vrd", bodies, cycles=1, step_hours=12.0, doses=[plan, None])
    np.testing.assert_array_equal(a.m_protein, b.m_protein)


@settings(max_examples=20, deadline=None)
@given(
    name=st.sampled_from(regimens.available()),
    weight=st.one_of(st.none(), st.floats(30.0, 160.0)),
    bsa=st.one_of(st.none(), st.floats(1.1, 2.8)),
)
def test_plan_template_events_equal_planned_events(name, weight, bsa):
    """PlanTemplate.events is planned_events (equal tuples, equal amount types; None when a
    measure is missing) for the bundled regimens and random bodies."""
    from mmmech.regimens.schedule import PlanTemplate, dose_plan, planned_events

    reg = regimens.load(name)
    plan = dose_plan(reg, 3 if reg.until_progression else None)
    known = {k: v for k, v in (("weight_kg", weight), ("bsa_m2", bsa)) if v is not None}
    a = PlanTemplate(plan).events(known)
    b = planned_events(plan, known)
    assert a == b
    if a is not None and b is not None:
        assert [type(e.amount) for e in a] == [type(e.amount) for e in b]
