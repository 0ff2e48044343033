"""Occupancy kernel: Cython equals the NumPy reference; known answers; bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mmmech.exceptions import InvalidInputError
from mmmech.simulation.occupancy import occupancy, occupancy_reference


def test_known_answers():
    out = occupancy([[0.0, 10.0, 90.0]], [10.0, 10.0, 10.0], [1.0, 1.0, 2.0])
    np.testing.assert_allclose(out, [[0.0, 0.5, 81 / 82]])


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 5)),
                  elements=st.floats(0, 1e6)),
       st.floats(1e-3, 1e5), st.floats(0.3, 4.0))
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


@pytest.mark.parametrize("conc, k, needle", [
    ([[np.nan]], [1.0], "finite"),
    ([[-1.0]], [1.0], ">= 0"),
    ([[1.0]], [0.0], "> 0"),
    ([[1.0, 2.0]], [1.0], "must match"),
    ([1.0], [1.0], "2-dimensional"),
    (np.zeros((0, 1)), [1.0], "empty"),
    ([["a"]], [1.0], "numeric"),
])
def test_bad_input_is_rejected_before_the_kernel(conc, k, needle):
    with pytest.raises(InvalidInputError, match=needle):
        occupancy(conc, k, backend="cython")


def test_reference_matches_formula():
    c = np.array([[5.0]])
    assert occupancy_reference(c, np.array([5.0]), np.array([1.0]))[0, 0] == 0.5
