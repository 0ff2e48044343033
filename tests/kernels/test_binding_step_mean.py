"""The fused binding-kinetics kernel (``_occupancy.binding_step_mean``, used by the cohort
through :func:`mmmech.dynamics.kinetics.step_mean_occupancy`) against its definition: the
exact interval recursion of :func:`~mmmech.dynamics.kinetics.occupancy_course` on the fine
grid, then the mean over each step's fine intervals. The kernel calls the C library's exp and
expm1 where NumPy may use its own SIMD versions (a last-bit difference), so compiled and
reference agree within 1e-12 of the course maximum (usually to the bit); the step mean is
NumPy's pairwise sum, operation for operation."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mmmech import _kernels
from mmmech._kernels import _occupancy_ref
from mmmech.dynamics import kinetics
from mmmech.dynamics.kinetics import KineticColumn, occupancy_course, step_mean_occupancy
from mmmech.exceptions import InvalidInputError

compiled = pytest.mark.skipif(
    not _kernels.available("_occupancy"), reason="occupancy kernel not built"
)


def _col(K, half_life_h, hill=1.0, kind="reversible", **extra):
    kin = SimpleNamespace(kind=kind, half_life_h=half_life_h, **extra)
    return KineticColumn(0, "x", "T", "N", K=K, hill=hill, kinetics=kin)


def _definition(conc, dt, nf, cols, scale=1.0):
    """(n, steps, columns): occupancy_course's interval means, then .mean over each step."""
    n, T = conc.shape
    c = conc * scale if scale != 1.0 else conc
    out = np.empty((n, T // nf, len(cols)))
    for j, kc in enumerate(cols):
        _, mean = occupancy_course(
            c, dt, kc.K, kc.kinetics.half_life_h, kc.hill, kinetics=kc.kinetics
        )
        out[:, :, j] = mean.reshape(n, T // nf, nf).mean(axis=2)
    return out


def _fused(conc, dt, nf, cols, scale=1.0, threads=2, rows=None):
    n, T = conc.shape
    out = np.full((n, T // nf, len(cols)), np.nan)
    step_mean_occupancy(
        conc, dt, nf, cols, out, np.arange(n), list(range(len(cols))), scale, threads
    )
    return out


def _close(a, b, tol=1e-12):
    scale = max(1.0, float(np.nanmax(np.abs(b)))) if b.size else 1.0
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b), initial=0.0) <= tol * scale


@compiled
@pytest.mark.parametrize("nf", [1, 3, 7, 8, 9, 16, 24, 200])
def test_pairwise_step_sum_is_numpy_mean(nf):
    """Dissociation in a picosecond: ``exp(-x)`` is 0 and ``expm1(-x)`` is -1 in any library,
    so every interval mean has the same bits in kernel and reference, and the step means must
    too: the kernel's sum over a step is NumPy's pairwise sum of ``.mean(axis=2)`` for short
    and long steps (its three regimes: < 8, <= 128 intervals and blocks)."""
    rng = np.random.default_rng(nf)
    conc = rng.lognormal(2.0, 2.0, (5, 4 * nf))
    cols = [_col(30.0, 1e-9)]
    ref = np.empty((5, 4, 1))
    _occupancy_ref.binding_step_mean(
        conc, 1.0, np.array([30.0]), np.ones(1), np.array([math.log(2) / 1e-9]), 0.25,
        ref, np.arange(5), np.zeros(1, dtype=np.int64), nf,
    )  # fmt: skip
    assert np.array_equal(_fused(conc, 0.25, nf, cols), ref)
    assert np.array_equal(ref, _definition(conc, 0.25, nf, cols))


@compiled
def test_bortezomib_like_course_equals_occupancy_course():
    """A course of repeated bortezomib-like pulses (a slow, reversible proteasome binding) and
    covalent binding, several columns in one pass, scaled: within 1e-12 of the definition."""
    t = (np.arange(6 * 16 * 21) + 0.5) * 0.25
    pulse = 100.0 * np.exp(-((t % 72.0) / 2.0)) + 0.5 * np.exp(-((t % 72.0) / 40.0))
    conc = np.stack([pulse, 1.7 * pulse, np.roll(pulse, 40)])
    cols = [_col(4.0, 3.0), _col(80.0, 110.0, kind="covalent"), _col(9.0, 0.7, hill=1.6)]
    for scale in (1.0, 0.8):
        _close(_fused(conc, 0.25, 16, cols, scale), _definition(conc, 0.25, 16, cols, scale))


def test_reference_kernel_equals_definition():
    """The NumPy reference of the kernel is the definition, bit for bit."""
    rng = np.random.default_rng(3)
    conc = rng.lognormal(1.0, 3.0, (4, 48))
    cols = [_col(2.0, 5.0), _col(0.3, 40.0, hill=0.7)]
    k_off = np.array([math.log(2.0) / 5.0, math.log(2.0) / 40.0])
    out = np.empty((4, 3, 2))
    _occupancy_ref.binding_step_mean(
        conc, 1.3, np.array([2.0, 0.3]), np.array([1.0, 0.7]), k_off, 0.25, out,
        np.arange(4), np.array([0, 1]), 16,
    )  # fmt: skip
    assert np.array_equal(out, _definition(conc, 0.25, 16, cols, 1.3))


@compiled
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 5)),
        elements=st.floats(-10.0, 1e6, allow_nan=False),
    ),
    st.integers(1, 20),
    st.floats(1e-3, 1e3),
    st.floats(1e-2, 1e3),
    st.floats(0.3, 3.0),
    st.floats(1e-3, 4.0),
    st.sampled_from([1.0, 0.5, 2.5]),
    st.sampled_from(["reversible", "covalent"]),
)
def test_fused_equals_definition_hypothesis(conc0, nf, K, half, hill, dt, scale, kind):
    """Random concentrations (zero and negative ones too: held at 0), potencies, half-lives,
    Hill slopes, interval lengths and step lengths."""
    n, s = conc0.shape
    conc = np.repeat(conc0, nf, axis=1) * np.linspace(0.5, 1.5, nf * s)
    cols = [_col(K, half, hill, kind), _col(K * 3.0, half * 0.1, 1.0, kind)]
    _close(_fused(conc, dt, nf, cols, scale), _definition(conc, dt, nf, cols, scale))


@compiled
def test_rows_in_threads_and_scatter_are_independent():
    """Any thread count, and rows written to scattered rows and columns of a larger array,
    give the same bits (each row is computed on its own)."""
    rng = np.random.default_rng(7)
    conc = rng.lognormal(2.0, 1.5, (9, 64))
    cols = [_col(5.0, 3.0), _col(50.0, 100.0, kind="covalent")]
    one = _fused(conc, 0.25, 16, cols, threads=1)
    assert np.array_equal(one, _fused(conc, 0.25, 16, cols, threads=2))
    assert np.array_equal(one, _fused(conc, 0.25, 16, cols, threads=4))
    big = np.zeros((20, 4, 5))
    dest = np.arange(9) * 2 + 1
    step_mean_occupancy(conc, 0.25, 16, cols, big, dest, [4, 1], num_threads=2)
    assert np.array_equal(big[dest][:, :, [4, 1]], one)
    assert not big[::2].any() and not big[:, :, [0, 2, 3]].any()


def test_nan_concentration_takes_the_reference(monkeypatch):
    """A NaN concentration gives the NaN of the course (the reference path), not a crash."""
    conc = np.full((2, 32), 5.0)
    conc[1, 20] = np.nan
    cols = [_col(5.0, 3.0)]
    out = _fused(conc, 0.25, 16, cols)
    ref = _definition(conc, 0.25, 16, cols)
    assert np.array_equal(out, ref, equal_nan=True)
    assert np.isnan(out[1, 1, 0]) and np.isfinite(out[0]).all()


def test_no_kernel_uses_the_reference(monkeypatch):
    """Without the compiled kernels the NumPy reference runs: the definition's bits."""
    rng = np.random.default_rng(11)
    conc = rng.lognormal(2.0, 1.5, (3, 48))
    cols = [_col(5.0, 3.0), _col(50.0, 100.0, kind="covalent")]
    monkeypatch.setattr(kinetics._kernels, "available", lambda name: False)
    assert np.array_equal(_fused(conc, 0.25, 16, cols), _definition(conc, 0.25, 16, cols))


def test_damage_columns_follow_damage_course():
    """DNA-damage columns (melphalan's kind) go through damage_course, bit for bit."""
    rng = np.random.default_rng(5)
    conc = rng.lognormal(2.0, 1.5, (3, 64))
    dmg = _col(20.0, 30.0, kind="damage", formation_h=3.0, exposure_h=1.0)
    cols = [dmg, _col(5.0, 3.0)]
    out = _fused(conc, 0.25, 16, cols)
    ref = _definition(conc, 0.25, 16, cols)
    assert np.array_equal(out[:, :, 0], ref[:, :, 0])
    _close(out, ref)


def test_bad_input_is_one_line_error():
    conc = np.ones((2, 32))
    out = np.empty((2, 2, 1))
    cols = [_col(5.0, 3.0)]
    for kw in (
        {"dt_h": 0.0},
        {"nf": 5},
        {"columns": [_col(-1.0, 3.0)]},
        {"columns": [_col(5.0, 0.0)]},
        {"columns": [_col(5.0, 3.0, hill=float("nan"))]},
        {"ocol": [0, 1]},
        {"dest": [0]},
        {"scale": float("inf")},
    ):
        args = {"conc": conc, "dt_h": 0.25, "nf": 16, "columns": cols, "out": out,
                "dest": [0, 1], "ocol": [0]}  # fmt: skip
        args.update(kw)
        with pytest.raises(InvalidInputError):
            step_mean_occupancy(**args)


@compiled
def test_kernel_rejects_bad_indices():
    kern = _kernels.load("_occupancy")
    conc = np.ones((2, 32))
    out = np.empty((2, 2, 1))
    one = np.ones(1)
    with pytest.raises(ValueError, match="out of range"):
        kern.binding_step_mean(conc, 1.0, one, one, one, 0.25, out, np.array([0, 2]),
                               np.zeros(1, dtype=np.int64), 16)  # fmt: skip
    with pytest.raises(ValueError, match="steps x nf"):
        kern.binding_step_mean(conc, 1.0, one, one, one, 0.25, out, np.array([0, 1]),
                               np.zeros(1, dtype=np.int64), 5)  # fmt: skip
