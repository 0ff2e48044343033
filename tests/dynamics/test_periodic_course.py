"""Cycle periodicity of the network course (``periodic_course``, ``simulate_cohort(reuse_tol)``):
differential against the course without reuse, the reuse decision's invariants, and the
independence of the results from batching and threads (docs/dynamics.md, Speed, round 10)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech.dynamics import _course, cohort
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.exceptions import InvalidInputError
from mmmech.regimens import load
from mmmech.regimens.schedule import DoseEvent

BODIES = [
    {"weight_kg": 55.0, "bsa_m2": 1.55},
    {"weight_kg": 70.0, "bsa_m2": 1.8},
    {"weight_kg": 105.0, "bsa_m2": 2.2},
]
_CACHE: dict = {}


def _captured(regimen, cycles):
    """The arguments simulate_cohort passes to periodic_course for BODIES."""
    key = (regimen, cycles)
    if key not in _CACHE:
        got = {}
        real = cohort.periodic_course

        def spy(*args, **kw):
            got["args"] = args
            return real(*args, **kw)

        cohort.periodic_course = spy
        try:
            simulate_cohort(regimen, BODIES, cycles=cycles, num_threads=1)
        finally:
            cohort.periodic_course = real
        _CACHE[key] = got["args"]
    return _CACHE[key]


def test_cycle_segments_follow_the_regimen_file():
    # vrd.toml: eight 21-day induction cycles, then 28-day maintenance cycles; 4-h intervals
    reg = load("vrd")
    segs = cohort._cycle_segments(reg, 10, 8 * 126 + 168 * 2, 4.0)
    assert segs == [(126 * j, 0) for j in range(8)] + [(1008, 1), (1176, 1)]
    # a follow-up beyond the cycles is a segment of its own that never reuses
    assert cohort._cycle_segments(reg, 2, 300, 4.0) == [(0, 0), (126, 0), (252, -1)]
    # a cycle boundary off the grid: no segments (one call)
    assert cohort._cycle_segments(reg, 2, 252 * 4 // 5, 5.0) == []


def test_a_dose_change_or_hold_changes_the_key():
    segs = [(0, 0), (126, 0), (252, 0), (378, 0)]
    ev = [
        DoseEvent(1 + 21 * c + d, "lenalidomide", 25.0, "mg", "oral")
        for c in range(4)
        for d in range(14)
    ]
    table: dict = {}
    k = cohort._segment_keys(segs, ev, 504, 4.0, table)
    assert k[0] == k[1] == k[2] == k[3] >= 0
    held = [e for e in ev if e.day != 1 + 21 * 2 + 3]  # one dose held in cycle 3
    reduced = [e._replace(amount=15.0) if e.day > 63 else e for e in ev]  # reduced from cycle 4
    k2 = cohort._segment_keys(segs, held, 504, 4.0, table)
    k3 = cohort._segment_keys(segs, reduced, 504, 4.0, table)
    assert k2[2] != k2[1] and k2[3] == k2[1]
    assert k3[3] != k3[2] and k3[:3].tolist() == k[:3].tolist()


def _keys_reference(segs, events, K, step_hours):
    """Each segment's schedule tested against every event (the definition, O(S x E))."""
    bounds = [i for i, _ in segs] + [K]
    hd = 24.0 / step_hours
    out = []
    for j, (i, p) in enumerate(segs):
        d0, d1 = i / hd, bounds[j + 1] / hd
        sched = tuple(
            sorted(
                (float(e.day - 1 - d0), e.drug, float(e.amount), e.unit, e.route)
                for e in events
                if d0 <= e.day - 1 < d1
            )
        )
        out.append(None if p < 0 else (p, bounds[j + 1] - i, sched))
    return out


@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(st.integers(1, 80), min_size=1, max_size=6, unique=True),
    phases=st.lists(st.integers(-1, 2), min_size=6, max_size=6),
    days=st.lists(st.floats(0.0, 40.0, allow_nan=False), max_size=40),
    amounts=st.lists(st.sampled_from([10.0, 25.0]), min_size=40, max_size=40),
)
def test_segment_keys_equal_the_definition(starts, phases, days, amounts):
    """The bisected assignment of events to segments gives the keys of the definition (every
    event tested against every segment), for segments off and on whole days."""
    K = 100 + max(starts)
    segs = [(0, phases[0])] + [(s, phases[j + 1]) for j, s in enumerate(sorted(starts)[:5])]
    pairs = zip(days, amounts[: len(days)], strict=True)
    ev = [DoseEvent(1 + d, "lenalidomide", a, "mg", "oral") for d, a in pairs]
    table: dict = {}
    got = cohort._segment_keys(segs, ev, K, 4.0, table)
    ref = _keys_reference(segs, ev, K, 4.0)
    inv = {v: k for k, v in table.items()}
    for g, r in zip(got.tolist(), ref, strict=True):
        assert (g == -1) if r is None else inv[g] == r


def test_rd_reuses_cycles_and_stays_within_the_tolerance():
    args = _captured("rd", 5)
    st0, st1 = {}, {}
    base = _course.periodic_course(*args, reuse_tol=0.0, stats=st0, num_threads=1)
    got = _course.periodic_course(*args, reuse_tol=1e-5, stats=st1, num_threads=1)
    assert not st0["reused"].any()
    # cycle 1 has no predecessor and cycle 2 starts from the treated state: cycles 3-5 reused
    assert st1["reused"][:, 2:].all() and not st1["reused"][:, :2].any()
    assert np.abs(got[0] - base[0]).max() <= 1e-5
    # the reused cycles are exact copies of the last integrated one
    np.testing.assert_array_equal(got[0][:, 2 * 168 + 1 : 3 * 168 + 1], got[0][:, 169:337])
    # against one call through the whole course: the controller's restart at each cycle
    one = _course.network_course(*args[:8], num_threads=1)
    assert np.abs(got[0] - one[0]).max() < 1e-4


def test_inputs_that_change_every_cycle_never_reuse():
    args = list(_captured("rd", 5))
    vals = np.array(args[5], copy=True)
    starts = np.asarray(args[8])
    for j in range(starts.size - 1):  # each cycle's occupancies 1e-4 lower than the last's
        vals[:, starts[j] : starts[j + 1]] *= 1.0 - 1e-4 * j
    args[5] = vals
    st1 = {}
    _course.periodic_course(*args, reuse_tol=1e-5, stats=st1, num_threads=1)
    assert not st1["reused"].any()
    # nor across a change of schedule key
    args = list(_captured("rd", 5))
    keys = np.tile(np.arange(starts.size - 1), (len(BODIES), 1))
    args[9] = keys
    _course.periodic_course(*args, reuse_tol=1e-3, stats=st1, num_threads=1)
    assert not st1["reused"].any()
    args[9] = -np.ones_like(keys)
    _course.periodic_course(*args, reuse_tol=1e-3, stats=st1, num_threads=1)
    assert not st1["reused"].any()


@settings(max_examples=6, deadline=None)
@given(order=st.permutations(range(3)), split=st.integers(1, 2), threads=st.sampled_from([1, 2]))
def test_results_do_not_depend_on_batching_or_threads(order, split, threads):
    args = _captured("rd", 4)
    full = _course.periodic_course(*args, num_threads=1)
    idx = np.asarray(order)
    parts = [idx[:split], idx[split:]]
    for part in parts:
        sub = [np.ascontiguousarray(a[part]) for a in args[1:4]]
        got = _course.periodic_course(
            args[0], *sub, args[4], np.ascontiguousarray(args[5][part]), args[6], args[7],
            args[8], np.ascontiguousarray(args[9][part]), num_threads=threads,
        )  # fmt: skip
        for a, b in zip(got, full, strict=True):
            np.testing.assert_array_equal(a, b[part])


@pytest.mark.parametrize("regimen,cycles", [("rd", 4), ("krd", 4), ("vrd", 6)])
def test_cohort_with_reuse_equals_the_course_without(regimen, cycles):
    old = simulate_cohort(regimen, BODIES, cycles=cycles, reuse_tol=None, num_threads=1)
    new = simulate_cohort(regimen, BODIES, cycles=cycles, num_threads=1)
    np.testing.assert_array_equal(new.best_response, old.best_response)
    np.testing.assert_array_equal(new.time_to_progression_days, old.time_to_progression_days)
    # measured 2.5e-6 g/dL at most (docs/dynamics.md): restarts and copies at rtol's level
    assert np.abs(new.m_protein - old.m_protein).max() < 1e-4
    assert new.ok.all()


def test_bad_reuse_tol_is_one_line():
    for bad in (-1.0, float("nan"), "1e-5", True):
        with pytest.raises(InvalidInputError, match="reuse_tol"):
            simulate_cohort("rd", BODIES[:1], cycles=2, reuse_tol=bad)
    args = _captured("rd", 4)
    with pytest.raises(InvalidInputError, match="starts"):
        _course.periodic_course(*args[:8], np.asarray([0, 5]), args[9])
    with pytest.raises(InvalidInputError, match="keys"):
        _course.periodic_course(*args[:9], args[9][:, :1])


def test_cohort_with_reuse_is_the_same_for_any_chunk():
    whole = simulate_cohort("vrd", BODIES, cycles=5, num_threads=2)
    one = simulate_cohort("vrd", BODIES, cycles=5, chunk=1, num_threads=1)
    np.testing.assert_array_equal(one.m_protein, whole.m_protein)
    np.testing.assert_array_equal(one.best_response, whole.best_response)
