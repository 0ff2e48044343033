"""Occupancy kernel: Cython equals the NumPy reference; known answers; bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mmmech.exceptions import InvalidInputError
from mmmech.simulation.occupancy import occupancy, occupancy_reference


def test_known_answers():
    out = occupancy([[0.0, 10.0, 90.0]], [10.0, 10.0, 10.0], [1.0, 1.0, 2.0])
    np.testing.assert_allclose(out, [[0.0, 0.5, 81 / 82]])


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 40), st.integers(1, 5)), elements=st.floats(0, 1e6)
    ),
    st.floats(1e-3, 1e5),
    st.floats(0.3, 4.0),
)
def test_cython_equals_reference(conc, k, h):
    D = conc.shape[1]
    kk, hh = np.full(D, k), np.full(D, h)
    a = occupancy(conc, kk, hh, backend="cython")
    b = occupancy(conc, kk, hh, backend="python")
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert np.all((a >= 0) & (a <= 1))


def test_thread_count_does_not_matter():
    rng = np.random.default_rng(0)
    conc = rng.uniform(0, 100, (1000, 3))
    k = np.array([1.0, 10.0, 100.0])
    outs = [occupancy(conc, k, backend="cython", num_threads=t) for t in (1, 2)]
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize(
    "conc, k, needle",
    [
        ([[np.nan]], [1.0], "finite"),
        ([[-1.0]], [1.0], ">= 0"),
        ([[1.0]], [0.0], "> 0"),
        ([[1.0, 2.0]], [1.0], "must match"),
        ([1.0], [1.0], "2-dimensional"),
        (np.zeros((0, 1)), [1.0], "empty"),
        ([["a"]], [1.0], "numeric"),
    ],
)
def test_bad_input_is_rejected_before_the_kernel(conc, k, needle):
    with pytest.raises(InvalidInputError, match=needle):
        occupancy(conc, k, backend="cython")


def test_reference_matches_formula():
    c = np.array([[5.0]])
    assert occupancy_reference(c, np.array([5.0]), np.array([1.0]))[0, 0] == 0.5


# -- issue 13.11: NaN for extreme but finite inputs --------------------------------------------

_TINY = np.finfo(np.float64).tiny
_MAX = np.finfo(np.float64).max


def test_extreme_inputs_known_answers():
    """The reliability report's case (py-O04) gave [[nan]]; the exact values are known."""
    for backend in ("cython", "python"):
        assert occupancy([[1e308]], [1e-308], [50.0], backend=backend)[0, 0] == 1.0
        assert occupancy([[1e-308]], [1e308], [50.0], backend=backend)[0, 0] == 0.0
        assert occupancy([[_MAX]], [_MAX], [1e300], backend=backend)[0, 0] == 0.5
        assert occupancy([[5e-324]], [5e-324], [3.0], backend=backend)[0, 0] == 0.5
        # 1e-300 nM at K = 1e-290 nM, h = 0.1: (1e-10)**0.1 = 0.1 -> 0.1 / 1.1
        np.testing.assert_allclose(
            occupancy([[1e-300]], [1e-290], [0.1], backend=backend), [[0.1 / 1.1]], rtol=1e-13
        )


_extreme = st.one_of(
    st.floats(0.0, _MAX, allow_subnormal=True),
    st.sampled_from([0.0, 5e-324, _TINY, 1e-308, 1e-200, 1.0, 1e200, 1e308, _MAX]),
)
_positive = st.one_of(
    st.floats(5e-324, _MAX, allow_subnormal=True),
    st.sampled_from([5e-324, _TINY, 1e-308, 1.0, 1e308, _MAX]),
)


@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 3)), elements=_extreme),
    st.lists(_positive, min_size=3, max_size=3),
    st.lists(
        st.one_of(st.floats(1e-300, _MAX), st.sampled_from([1e-300, 0.5, 1.0, 50.0, 1e300])),
        min_size=3,
        max_size=3,
    ),
)
def test_extreme_finite_inputs_stay_in_unit_interval(conc, k, h):
    D = conc.shape[1]
    kk, hh = np.array(k[:D]), np.array(h[:D])
    a = occupancy(conc, kk, hh, backend="cython")
    b = occupancy(conc, kk, hh, backend="python")
    for out in (a, b):
        assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
    assert np.all(a[conc == 0] == 0)
    # swapping concentration and potency gives the complement: theta(c, K) + theta(K, c) = 1
    pos = conc > 0
    if pos.any():
        r, d = np.nonzero(pos)
        swapped = np.array(
            [
                occupancy([[kk[j]]], [conc[i, j]], [hh[j]], backend="cython")[0, 0]
                for i, j in zip(r, d, strict=False)
            ]
        )
        np.testing.assert_allclose(a[pos] + swapped, 1.0, rtol=1e-12)
