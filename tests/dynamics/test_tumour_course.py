"""The compiled tumour stage (``mmmech._kernels._tumour``, round 11) against the NumPy paths it
replaced: the readout -> rate -> burden / M-protein course (``readout_course_ref``), the IMWG
classification (``imwg._classify_rows_ref``) and the kernel's own reference ``_tumour_ref``;
the same bits everywhere."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import _kernels
from mmmech._kernels import _tumour_ref
from mmmech.dynamics import imwg
from mmmech.dynamics._tumour_course import readout_course, readout_course_ref
from mmmech.dynamics.tumour import tumour_model
from mmmech.exceptions import InvalidInputError

pytestmark = pytest.mark.skipif(not _kernels.available("_tumour"), reason="kernel not built")


def _inputs(seed, R, K, M):
    rng = np.random.default_rng(seed)
    out = rng.uniform(0.0, 1.0, (R, K + 1, M))
    g = rng.uniform(0.01, 0.05, R)
    d = rng.uniform(0.01, 0.08, R)
    r0 = g * out[:, 0, 0] - d * out[:, 0, 1:].sum(axis=1)
    return rng, out, g, d, r0


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    R=st.integers(1, 9),
    K=st.integers(1, 40),
    M=st.integers(1, 4),
    scaled=st.booleans(),
    resist=st.sampled_from(["none", "zero", "some"]),
    iso=st.booleans(),
    threads=st.sampled_from([1, 2]),
)
def test_readout_course_equals_the_reference(seed, R, K, M, scaled, resist, iso, threads):
    rng, out, g, d, r0 = _inputs(seed, R, K, M)
    tm = tumour_model()
    scales = (rng.uniform(0.5, 2.0, R), rng.uniform(0.5, 2.0, R)) if scaled else None
    lam = {"none": None, "zero": np.zeros(R), "some": rng.choice([0.0, 1e-3, 0.05], R)}[resist]
    isos = rng.choice(["IgG", "IgA", "light_chain"], R) if iso else None
    m0 = rng.uniform(0.5, 6.0, R) if iso else None
    dt = rng.choice([1 / 6, 0.25, 1.0])
    # a rate of exactly -k on some steps: the |rate + k| < 1e-12 branch
    ref = readout_course_ref(out, g, d, r0, dt, tm, isos, m0, scales, lam)
    got = readout_course(out, g, d, r0, dt, tm, isos, m0, scales, lam, num_threads=threads)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])


def test_readout_course_at_the_clearance_rate_and_bad_scales():
    _, out, g, d, r0 = _inputs(1, 3, 10, 2)
    tm = tumour_model()
    k = tm.clearance_rate
    # readouts chosen so that rate == -k on every step (the limit branch of the M-protein)
    out[:, :, 0] = 0.0
    out[:, :, 1] = k / d[:, None]
    ref = readout_course_ref(out, g, d, r0, 0.25, tm)
    got = readout_course(out, g, d, r0, 0.25, tm)
    np.testing.assert_array_equal(got[1], ref[1])
    with pytest.raises(InvalidInputError):
        readout_course(out, g, d, r0, 0.25, tm, scales=(np.zeros(3), np.ones(3)))
    with pytest.raises(InvalidInputError):
        readout_course(out, g, d, r0, 0.25, tm, resist=np.full(3, -1.0))


def test_python_backend_is_the_reference():
    _, out, g, d, r0 = _inputs(2, 4, 12, 3)
    tm = tumour_model()
    a = readout_course(out, g, d, r0, 0.25, tm, backend="python")
    b = readout_course_ref(out, g, d, r0, 0.25, tm)
    np.testing.assert_array_equal(a[1], b[1])


def _courses(seed, P, T):
    """M-protein courses that fall, rebound and progress, with values on the thresholds."""
    rng = np.random.default_rng(seed)
    m0 = rng.choice([0.8, 3.0, 5.0, 7.5], P)
    steps = rng.normal(0.0, 0.08, (P, T - 1)) - rng.uniform(0.0, 0.05, (P, 1))
    m = m0[:, None] * np.exp(np.concatenate([np.zeros((P, 1)), np.cumsum(steps, axis=1)], 1))
    # exact threshold values in a few rows: 50%, 90%, 25% reductions, a +0.5 g/dL rise
    if P > 3 and T > 3:
        m[0, 1] = 0.5 * m[0, 0]
        m[1, 2] = 0.1 * m[1, 0]
        m[2, 1] = 0.75 * m[2, 0]
        m[3, 1] = 2.0
        m[3, 2] = 2.5
    return m


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    P=st.integers(0, 12),
    T=st.integers(1, 50),
    cr=st.sampled_from([0.99, 0.9, 0.6, 0.2, 1.0]),
    threads=st.sampled_from([1, 2]),
)
def test_classify_many_equals_the_reference(seed, P, T, cr, threads):
    m = _courses(seed, P, T)
    days = np.arange(T) * 7.0
    got = imwg.classify_many(days, m, cr_reduction=cr, num_threads=threads)
    ref = imwg.classify_many(days, m, cr_reduction=cr, backend="python")
    assert got.best.tolist() == ref.best.tolist()
    assert got.best.dtype == ref.best.dtype
    np.testing.assert_array_equal(got.progression_day, ref.progression_day)
    np.testing.assert_array_equal(got.nadir_g_per_dL, ref.nadir_g_per_dL)
    np.testing.assert_array_equal(got.max_reduction, ref.max_reduction)
    for r in range(P):  # and row by row, the single-course definition
        one = imwg.classify(days, m[r], cr_reduction=cr)
        assert one.best == got.best[r]
        assert (one.progression_day is None) == np.isnan(got.progression_day[r])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), R=st.integers(1, 6), K=st.integers(1, 30))
def test_kernel_equals_its_numpy_reference(seed, R, K):
    kern = _kernels.load("_tumour")
    rng, out, g, d, r0 = _inputs(seed, R, K, 3)
    growth, sens = rng.uniform(0.5, 2, R), rng.uniform(0.5, 2, R)
    r0r, lost = r0 * 1.1, rng.uniform(0, 1, (R, K))
    a, b = np.empty((R, K)), np.empty((R, K))
    kern.rates(out, g, d, r0, growth, sens, True, r0r, lost, True, a, 2)
    _tumour_ref.rates(out, g, d, r0, growth, sens, True, r0r, lost, True, b)
    np.testing.assert_array_equal(a, b)
    er = np.exp(a * 0.25)
    k, ek = np.full(R, 0.1), np.full(R, np.exp(-0.025))
    s, ms, post = rng.uniform(0.1, 1, R), rng.uniform(1, 5, R), rng.uniform(0.5, 2, R)
    n1, m1, n2, m2 = (np.empty((R, K + 1)) for _ in range(4))
    kern.integrate(a, er, 0.25, k, ek, s, ms, post, n1, m1, 2)
    _tumour_ref.integrate(a, er, 0.25, k, ek, s, ms, post, n2, m2)
    np.testing.assert_array_equal(n1, n2)
    np.testing.assert_array_equal(m1, m2)
    mm = _courses(seed, R, K + 1)
    res = [
        (np.empty(R, np.int8), np.empty(R, np.int64), np.empty(R), np.empty(R)) for _ in range(2)
    ]
    kern.classify(mm, 0.99, *res[0], 2)
    _tumour_ref.classify(mm, 0.99, *res[1])
    for x, y in zip(*res, strict=True):
        np.testing.assert_array_equal(x, y)


def test_kernel_rejects_wrong_shapes():
    kern = _kernels.load("_tumour")
    with pytest.raises(ValueError):
        kern.classify(np.ones((3, 4)), 0.99, np.empty(2, np.int8), np.empty(3, np.int64),
                      np.empty(3), np.empty(3))  # fmt: skip
    with pytest.raises(ValueError):
        kern.integrate(np.ones((2, 3)), np.ones((2, 3)), 0.1, *(np.ones(2) for _ in range(5)),
                       np.empty((2, 3)), np.empty((2, 4)))  # fmt: skip
