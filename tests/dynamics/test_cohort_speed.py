"""The round-8 cohort speed-ups give bit for bit what the step-by-step forms give.

- the exposure stage in threads (parts of a chunk) equals the serial one, for bodies that share
  PK courses (the cache is filled in the serial order) and for patients with their own PK;
- :func:`mmmech.dynamics.tumour.integrate` (all steps' factors at once, then the recursions)
  equals the step-by-step loop it replaced;
- :func:`mmmech.dynamics.imwg.classify_many` equals :func:`mmmech.dynamics.imwg.classify` row
  by row.
"""

import math

import numpy as np
import pytest
from _helpers import assert_same_cohort
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import pk
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.dynamics.imwg import classify, classify_many
from mmmech.dynamics.tumour import integrate

# bortezomib is dosed per m2: bodies of the same weight and different BSA share the PK key
# of a drug whose model has no BSA covariate, with different amounts (the order-sensitive case)
BODIES = [
    {"weight_kg": 70.0, "bsa_m2": 1.7},
    {"weight_kg": 70.0, "bsa_m2": 1.9},
    {"weight_kg": 55.0, "bsa_m2": 1.5},
    {"weight_kg": 70.0, "bsa_m2": 2.1},
    {"weight_kg": 90.0, "bsa_m2": 2.0},
]


@pytest.mark.parametrize("threads", [2, 3])
def test_threaded_exposure_equals_serial(threads):
    one = simulate_cohort("vrd", BODIES, cycles=1, step_hours=6)
    many = simulate_cohort("vrd", BODIES, cycles=1, step_hours=6, exposure_threads=threads)
    assert_same_cohort(one, many)
    # and chunking (serial order across chunks) does not change it either
    assert_same_cohort(
        one, simulate_cohort("vrd", BODIES, cycles=1, step_hours=6, chunk=2, exposure_threads=2)
    )


def test_threaded_exposure_with_own_pk_equals_serial():
    drugs = ("bortezomib", "lenalidomide", "dexamethasone")
    etas = [pk.patient_etas("ndmm", i, 7, drugs) for i in range(len(BODIES))]
    etas[2] = None  # one patient on the shared courses
    kw = {"cycles": 1, "step_hours": 6, "pk_etas": etas, "renal_crcl": [None, 45.0, None, 80, None]}
    one = simulate_cohort("vrd", BODIES, **kw)
    assert_same_cohort(one, simulate_cohort("vrd", BODIES, exposure_threads=2, **kw))
    assert np.abs(one.m_protein[0] - one.m_protein[1]).max() > 0


def test_threaded_exposure_shared_course_of_other_amounts():
    """Lenalidomide (no numeric PK covariate) at 25, 10 and 15 mg: one shared course made
    from the first patient's doses and scaled for the others, whichever thread asks first."""
    from mmmech.dynamics.regimen import _doses, _item
    from mmmech.regimens import Body

    def plan(b, mg):
        ev = _doses(_item("vrd", "t"), 1, Body(**b))
        return [e._replace(amount=mg) if e.drug == "lenalidomide" else e for e in ev]

    doses = [None, plan(BODIES[1], 10.0), None, plan(BODIES[3], 15.0), None]
    kw = {"cycles": 1, "step_hours": 6, "doses": doses}
    one = simulate_cohort("vrd", BODIES, **kw)
    assert_same_cohort(one, simulate_cohort("vrd", BODIES, exposure_threads=2, **kw))
    assert_same_cohort(one, simulate_cohort("vrd", BODIES, exposure_threads=4, chunk=3, **kw))


@settings(max_examples=40, deadline=None)
@given(
    T=st.integers(1, 300),
    routes=st.integers(1, 3),
    n=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_superpose_kernel_equals_reference(T, routes, n, seed):
    """The compiled dose superposition gives the NumPy reference's bits (one product and one
    sum per element in dose order: no fused multiply-add)."""
    from mmmech import _kernels
    from mmmech._kernels import _superpose_ref

    rng = np.random.default_rng(seed)
    units = rng.random((routes, T + 2)) * 10.0 ** rng.integers(-3, 5)
    route = rng.integers(0, routes, n).astype(np.int64)
    shift = rng.integers(0, T + 5, n).astype(np.int64)
    amount = rng.random(n) * 100.0
    base = rng.random(T)
    want = base.copy()
    _superpose_ref.shift_add(want, units, route, shift, amount)
    got = base.copy()
    _kernels.load("_superpose").shift_add(got, units, route, shift, amount)
    assert np.array_equal(got, want)


def _integrate_steps(r, dt_days, clearance, m0):
    """The step-by-step loop integrate() used before round 8."""
    R, K = r.shape
    k = float(clearance)
    s = k * m0
    N = np.ones((R, K + 1))
    M = np.full((R, K + 1), float(m0))
    ek = math.exp(-k * dt_days)
    for j in range(K):
        rj = r[:, j]
        er = np.exp(rj * dt_days)
        denom = rj + k
        small = np.abs(denom) < 1e-12
        frac = np.where(small, dt_days * ek, (er - ek) / np.where(small, 1.0, denom))
        N[:, j + 1] = N[:, j] * er
        M[:, j + 1] = M[:, j] * ek + s * N[:, j] * frac
    return N, M


@settings(max_examples=30, deadline=None)
@given(
    R=st.integers(1, 6),
    K=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
    half_life=st.sampled_from([21.0, 5.9, 0.125]),
)
def test_integrate_equals_step_by_step(R, K, seed, half_life):
    rng = np.random.default_rng(seed)
    k = math.log(2) / half_life
    r = rng.normal(0.0, 0.1, (R, K))
    if K:
        r[0, 0] = -k  # the small-denominator branch
    got = integrate(r, 1 / 6, k, 3.0)
    want = _integrate_steps(r, 1 / 6, k, 3.0)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.floats(0.01, 12.0, allow_nan=False), min_size=6, max_size=6),
        min_size=1,
        max_size=8,
    ),
    cr=st.sampled_from([0.99, 0.9, 0.5]),
)
def test_classify_many_equals_classify(rows, cr):
    days = np.arange(6) * 7.0
    m = np.asarray(rows)
    got = classify_many(days, m, cr_reduction=cr)
    for i, row in enumerate(m):
        want = classify(days, row, cr_reduction=cr)
        assert got.best[i] == want.best
        assert got.max_reduction[i] == want.max_reduction
        assert got.nadir_g_per_dL[i] == want.nadir_g_per_dL
        if want.progression_day is None:
            assert np.isnan(got.progression_day[i])
        else:
            assert got.progression_day[i] == want.progression_day


def test_classify_many_known_courses():
    # a 75% fall then a rise of 25% and >= 0.5 g/dL from the nadir: PR, progression on day 90
    got = classify_many([0, 30, 60, 90], [[4.0, 1.0, 1.2, 1.6], [4.0, 4.1, 4.2, 4.3]])
    assert got.best.tolist() == ["PR", "SD"]
    assert got.progression_day[0] == 90.0 and np.isnan(got.progression_day[1])


@pytest.mark.parametrize("T", [40, 1512, 6048])
def test_fft_superpose_shared_dose_transforms(T):
    """Patients with the same doses share one dose transform: the same bits as each row with
    its own (the former expression, NumPy's temporaries and all)."""
    from mmmech.dynamics._exposure import _fft_superpose

    rng = np.random.default_rng(T)
    doses = np.zeros((3, T))
    for k in range(3):
        doses[k, rng.integers(0, T, 12)] = rng.random(12) * 25.0
    which = rng.integers(0, 3, 9)
    units = rng.random((9, T)) * np.exp(-np.arange(T) / (T / 7))[None, :]
    nfft = 1 << (2 * T - 1).bit_length()
    full = doses[which]
    former = np.maximum(
        np.fft.irfft(np.fft.rfft(full, nfft) * np.fft.rfft(units, nfft), nfft)[:, :T], 0.0
    )
    assert np.array_equal(_fft_superpose(doses, units, which), former)
    assert np.array_equal(_fft_superpose(full, units), former)


def test_exposure_threads_checked():
    from mmmech.exceptions import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"exposure_threads must be an integer >= 0"):
        simulate_cohort("vrd", BODIES, cycles=1, exposure_threads=-1)


@pytest.mark.parametrize("context", ["marrow", ["marrow", "del17p"], ["marrow", "t4_14"]])
def test_untreated_arrays_equal_fixed_arrays_of_no_drug(context):
    from mmmech.dynamics.cohort import _untreated_arrays
    from mmmech.simulation.simulator import Simulator

    drugs = ["bortezomib", "lenalidomide", "dexamethasone"]
    sim = Simulator("myeloma", drugs, context=context)
    mask, value = sim.fixed_arrays(np.zeros((1, len(drugs))))
    got_mask, got_value = _untreated_arrays(sim)
    assert got_mask.dtype == mask.dtype and np.array_equal(got_mask, mask[0])
    assert np.array_equal(got_value, value[0]) and not np.signbit(got_value[got_mask == 1]).any()
