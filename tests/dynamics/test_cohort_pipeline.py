"""simulate_cohort's pipeline (round 11): chunk c's network kernel in a worker thread while the
calling thread computes chunk c + 1's exposure and chunk c - 1's tumour course. The results
must be those of the serial order bit for bit, whatever the chunking, and an error in the
worker must reach the caller."""

import threading

import numpy as np
import pytest

from mmmech.dynamics import cohort
from mmmech.dynamics.cohort import simulate_cohort

BODIES = [{"weight_kg": 50.0 + 7.0 * i, "bsa_m2": 1.5 + 0.09 * i} for i in range(7)]


def _same(a, b):
    for k in ("hours", "m_protein", "tumour_burden", "time_to_progression_days", "ok"):
        x, y = getattr(a, k), getattr(b, k)
        assert x.shape == y.shape, k
        assert np.array_equal(x, y, equal_nan=True), k
    assert list(a.best_response) == list(b.best_response)
    assert np.array_equal(a.max_reduction, b.max_reduction, equal_nan=True)
    assert a.notes == b.notes


@pytest.mark.parametrize("regimen", ["vrd", "dara_rd"])
@pytest.mark.parametrize("chunk", [1, 3])
def test_pipeline_gives_the_serial_results(regimen, chunk):
    kw = dict(cycles=2, step_hours=6, chunk=chunk)
    serial = simulate_cohort(regimen, BODIES, pipeline=False, **kw)
    piped = simulate_cohort(regimen, BODIES, pipeline=True, **kw)
    _same(serial, piped)
    # and the chunking itself changes nothing
    _same(serial, simulate_cohort(regimen, BODIES, pipeline=False, cycles=2, step_hours=6))


def test_pipeline_with_two_structures_and_patient_pk():
    """Patients in two network structures (two groups, each drained before the next) with PK
    etas and their own doses: the same as the serial order."""
    from mmmech.dynamics.regimen import _doses, _item
    from mmmech.regimens import Body

    ctx = ["marrow", "t11_14", "marrow", "marrow", "t11_14", "marrow", "marrow"]
    etas = [None, {"bortezomib": {"cl": 0.2}}, None, {"dexamethasone": {"cl": -0.3}}, None,
            None, {"bortezomib": {"cl": -0.1}}]  # fmt: skip
    ev = _doses(_item("vrd", "t"), 2, Body(weight_kg=70.0, bsa_m2=1.8))
    own = [None] * 7
    own[2] = [e for e in ev if not (e.drug == "bortezomib" and e.day == 4)]  # a held dose
    kw = dict(cycles=2, step_hours=6, chunk=2, contexts=ctx, pk_etas=etas, doses=own)
    _same(
        simulate_cohort("vrd", BODIES, pipeline=False, **kw),
        simulate_cohort("vrd", BODIES, pipeline=True, **kw),
    )


def test_pipeline_error_in_the_worker_reaches_the_caller(monkeypatch):
    calls = {"n": 0}
    real = cohort.periodic_course

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("kernel failed on chunk 2")
        return real(*args, **kwargs)

    monkeypatch.setattr(cohort, "periodic_course", failing)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="chunk 2"):
        simulate_cohort("vrd", BODIES, cycles=2, step_hours=6, chunk=2)
    assert calls["n"] == 2
    assert threading.active_count() == before  # the worker is gone
