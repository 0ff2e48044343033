"""Hill coefficient 1 (every bundled drug-target column): the kernel's shortcut without `pow`
gives the reference's bits, ``r / (1 + r)`` with ``r = c / K``, over the whole double range."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mmmech import _kernels
from mmmech._kernels import _occupancy_ref
from mmmech.simulation.occupancy import occupancy

pytestmark = pytest.mark.skipif(
    not _kernels.available("_occupancy"), reason="occupancy kernel not built"
)

POS = st.floats(0.0, 1e300, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 4)), elements=POS),
    st.floats(1e-300, 1e300),
)
def test_hill_one_equals_reference_and_plain_formula(conc, k):
    D = conc.shape[1]
    kk, hh = np.full(D, k), np.ones(D)
    a = occupancy(conc, kk, hh, backend="cython")
    b = occupancy(conc, kk, hh, backend="python")
    assert np.array_equal(a, b)
    with np.errstate(all="ignore"):
        r = conc / k
        plain = r / (1.0 + r)
    normal = (r >= np.finfo(float).tiny) & (r <= np.finfo(float).max)
    assert np.array_equal(a[normal], plain[normal])
    assert np.all((a >= 0) & (a <= 1))


def test_step_mean_hill_one_equals_reference():
    """The cohort's step-mean kernel at h = 1 against its NumPy reference (same bits)."""
    kern = _kernels.load("_occupancy")
    rng = np.random.default_rng(5)
    P, K, S = 6, 40, 4
    conc = rng.lognormal(0.0, 4.0, (P, K * S, 3))
    conc[:, :3] = 0.0
    sel = np.arange(P, dtype=np.int64)
    cdrug = np.array([0, 0, 1, 2], dtype=np.int64)
    k = np.array([7.9, 53.0, 4285.7, 5.0])
    ocol = np.array([0, 1, 3, 4], dtype=np.int64)
    for h in (np.ones(4), np.array([1.0, 2.0, 1.0, 0.7])):
        a = np.zeros((P, K, 5))
        b = np.zeros((P, K, 5))
        assert kern.occupancy_step_mean(conc, sel, cdrug, k, h, a, sel, ocol, S, 1) == 0
        _occupancy_ref.occupancy_step_mean(conc, sel, cdrug, k, h, b, sel, ocol, S, 1)
        one = ocol[h == 1.0]
        assert np.array_equal(a[:, :, one], b[:, :, one])
        # other Hill coefficients: NumPy's power is not libm's pow (a last-bit difference,
        # as before this shortcut)
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-16)
