"""The chunk-wide bookkeeping of simulate_cohort's network stage (``_lanes``, round 11) against
the per-patient definitions it replaced (``cohort._distinct_rows``, ``cohort._segment_keys``),
and the restricted ``_course._frozen`` against ``_course._frozen_ref``."""

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech.dynamics import _course, _lanes, cohort
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.regimens.schedule import DoseEvent
from mmmech.simulation import propagate


def _partition(keys):
    """The equalities among `keys` (a list), as the sets of equal positions, and -1's places."""
    seen: dict = {}
    for i, k in enumerate(keys):
        seen.setdefault(k, []).append(i)
    return sorted(tuple(v) for v in seen.values())


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.integers(0, 4), min_size=1, max_size=30),
    spec=st.lists(st.integers(0, 1), min_size=30, max_size=30),
    special=st.lists(st.sampled_from(["none", "nan", "negzero", "ulp"]), min_size=5, max_size=5),
    seed=st.integers(0, 2**16),
)
def test_distinct_rows_equal_the_reference(rows, spec, special, seed):
    rng = np.random.default_rng(seed)
    base = rng.random((5, 7, 2))
    base[:, :3] = 0.0  # zeros where -0.0 can differ in bytes only
    for b, kind in enumerate(special):
        if kind == "nan":
            base[b, 5, 1] = np.nan
        elif kind == "negzero":
            base[b, 1, 0] = -0.0
        elif kind == "ulp":
            base[b, 6, 1] = np.nextafter(base[b, 6, 1], 2.0)
    occ = base[rows]
    sp = np.asarray(spec[: len(rows)])
    reps, inv = _lanes.distinct_rows(sp, occ)
    reps0, inv0 = cohort._distinct_rows(sp, occ)
    assert reps.tolist() == reps0.tolist()
    assert inv.tolist() == inv0.tolist()


def test_distinct_rows_probes_then_whole_rows():
    # rows equal on every probed element but not elsewhere are still told apart
    occ = np.zeros((4, 500, 3))
    occ[1, 7, 1] = 0.5  # off the probes (64 of 1,500 elements)
    occ[3, 7, 1] = 0.5
    reps, inv = _lanes.distinct_rows(np.zeros(4, dtype=np.int64), occ)
    assert reps.tolist() == [0, 1] and inv.tolist() == [0, 1, 0, 1]
    assert _lanes.distinct_rows(np.zeros(0, dtype=np.int64), occ[:0])[0].size == 0


_DRUGS = ["lenalidomide", "bortezomib", "dexamethasone"]


@settings(max_examples=80, deadline=None)
@given(
    starts=st.lists(
        st.sampled_from([6, 12, 18, 24, 30, 36, 7, 50]), min_size=1, max_size=6, unique=True
    ),
    phases=st.lists(st.integers(-1, 2), min_size=6, max_size=6),
    patients=st.lists(
        st.lists(
            st.tuples(
                st.one_of(st.integers(0, 40), st.floats(0.0, 40.0, allow_nan=False)),
                st.sampled_from(_DRUGS),
                st.sampled_from([10.0, 25.0, 1.3 * 1.8, 0.0]),
                st.sampled_from(["mg", "mg/m2"]),
                st.sampled_from(["oral", "iv", "sc"]),
            ),
            max_size=25,
        ),
        min_size=1,
        max_size=6,
    ),
    in_order=st.booleans(),
)
def test_segment_keys_equal_the_reference(starts, phases, patients, in_order):
    """Keys for all patients at once are equal exactly where the per-patient reference's are
    (within and across patients: the table is shared), -1 where it gives -1."""
    K = 100 + max(starts)
    segs = [(0, phases[0])] + [(s, phases[j + 1]) for j, s in enumerate(sorted(starts)[:5])]
    events = [[DoseEvent(1 + d, drug, a, u, r) for d, drug, a, u, r in p] for p in patients]
    if in_order:  # as a regimen's plan gives them (the path without a sort)
        events = [sorted(ev, key=lambda e: (e.day, e.drug, e.amount)) for ev in events]
    table: dict = {}
    ref = np.stack([cohort._segment_keys(segs, ev, K, 4.0, table) for ev in events])
    got = _lanes.segment_keys(segs, events, K, 4.0, _lanes.ScheduleTable())
    assert got.shape == ref.shape
    assert ((got == -1) == (ref == -1)).all()
    assert _partition(got.ravel().tolist()) == _partition(ref.ravel().tolist())


def test_segment_keys_of_a_dose_change():
    segs = [(0, 0), (126, 0), (252, 0), (378, 0)]
    ev = [
        DoseEvent(1 + 21 * c + d, "lenalidomide", 25.0, "mg", "oral")
        for c in range(4)
        for d in range(14)
    ]
    held = [e for e in ev if e.day != 1 + 21 * 2 + 3]
    reduced = [e._replace(amount=15.0) if e.day > 63 else e for e in ev]
    k = _lanes.segment_keys(segs, [ev, held, reduced, []], 504, 4.0, _lanes.ScheduleTable())
    assert (k[0] == k[0, 0]).all() and k[0, 0] >= 0
    assert k[1, 2] != k[1, 1] and k[1, 3] == k[1, 1] == k[0, 0]
    assert k[2, 3] != k[2, 2] and (k[2, :3] == k[0, :3]).all()
    assert (k[3] == k[3, 0]).all() and k[3, 0] != k[0, 0]  # no doses: its own schedule
    # a patient without doses in some cycles (empty schedules of equal phase and length)
    some = [e for e in ev if e.day <= 21]
    k2 = _lanes.segment_keys(segs, [some], 504, 4.0, _lanes.ScheduleTable())
    assert k2[0, 1] == k2[0, 2] == k2[0, 3] != k2[0, 0]


def _course_args():
    """Network inputs of a few patients' cycle starts (simulate_cohort's first call)."""
    got = {}
    real = cohort.periodic_course

    def spy(*args, **kw):
        got["args"] = args
        return real(*args, **kw)

    cohort.periodic_course = spy
    try:
        bodies = [{"weight_kg": w, "bsa_m2": b} for w, b in ((55, 1.55), (70, 1.8), (105, 2.2))]
        simulate_cohort("vrd", bodies, cycles=2, num_threads=1)
    finally:
        cohort.periodic_course = real
    return got["args"]


_ARGS: list = []


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    moves=st.lists(st.sampled_from([0.0, 1e-12, 1e-9, 1e-3, 0.3]), min_size=1, max_size=6),
    unfix=st.booleans(),
)
def test_frozen_equals_the_reference(seed, moves, unfix):
    """Random start states (nodes pushed off their fixed point by amounts below and above the
    freeze threshold, duplicated rows, free/fixed flips) give the reference's frozen nodes."""
    if not _ARGS:
        _ARGS.append(_course_args())
    cm, mask, value, y0, cols = _ARGS[0][:5]
    rng = np.random.default_rng(seed)
    R = 9
    pick = rng.integers(0, mask.shape[0], R)
    m = np.array(mask[pick], copy=True)
    v = np.array(value[pick], copy=True)
    y = np.array(y0[pick], copy=True)
    N = y.shape[1]
    for k, d in enumerate(moves):
        r, i = int(rng.integers(0, R)), int(rng.integers(0, N))
        y[r, i] = min(max(y[r, i] + d * (1 if k % 2 else -1), 0.0), 1.0)
    if unfix:
        fixed = np.flatnonzero(m[0] & ~np.isin(np.arange(N), cols))
        if fixed.size:
            m[rng.integers(0, R), rng.choice(fixed)] = 0
    y[R - 1] = y[0]  # a duplicate row
    m[R - 1], v[R - 1] = m[0], v[0]
    reg = propagate._prepare(cm, m, v, y, None, None, None, "test")
    got = _course._frozen(cm, reg, np.asarray(cols), _course.COURSE_ATOL)
    ref = _course._frozen_ref(cm, reg, np.asarray(cols), _course.COURSE_ATOL)
    np.testing.assert_array_equal(got, ref)
    # and with several parameter rows
    p = reg.params
    two = {
        f: np.concatenate([np.asarray(getattr(p, f)), np.asarray(getattr(p, f)) * s])
        for f, s in (("w", 1.0), ("n", 1.0), ("ec50", 1.0), ("tau", 2.0), ("ymax", 0.9))
    }
    reg2 = dataclasses.replace(
        reg, param_index=np.arange(R) % 2, params=dataclasses.replace(p, **two)
    )
    np.testing.assert_array_equal(
        _course._frozen(cm, reg2, np.asarray(cols), 1e-3),
        _course._frozen_ref(cm, reg2, np.asarray(cols), 1e-3),
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    R=st.integers(1, 12),
    L=st.integers(1, 8),
    C=st.integers(0, 3),
    scale=st.sampled_from([0.0, 1e-7, 1e-5, 1e-3]),
    nan=st.booleans(),
)
def test_reuse_decision_equals_the_per_lane_loop(seed, R, L, C, scale, nan):
    """``_course._within`` (all lanes at once) decides as the per-lane loop of round 10:
    ``np.abs(vals[r, a:b] - vals[r, sa:sa + L]).max() <= tol`` and the same on the start."""
    rng = np.random.default_rng(seed)
    K = 4 * L
    vals = rng.random((R, K, C))
    src = rng.integers(0, 2, R) * L  # the source segment: the first or the second
    a = 2 * L
    vals[:, a : a + L] = vals[np.arange(R)[:, None], src[:, None] + np.arange(L)]
    vals[:, a : a + L] += scale * rng.standard_normal((R, L, C))
    y = rng.random((R, 5))
    y0 = y + scale * rng.standard_normal((R, 5))
    if nan and C:
        vals[0, a, 0] = np.nan
    lanes = np.flatnonzero(rng.random(R) < 0.7)
    tol = 1e-5
    got = _course._within(vals, y, y0, src[lanes], lanes, a, L, tol)
    ref = []
    for r in lanes:
        sa = int(src[r])
        d_in = np.abs(vals[r, a : a + L] - vals[r, sa : sa + L]).max() if C else 0.0
        d_y = np.abs(y[r] - y0[r]).max()
        ref.append(bool(d_in <= tol and d_y <= tol))
    assert got.tolist() == ref
