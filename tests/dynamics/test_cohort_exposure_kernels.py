"""Round-9 exposure kernels of the cohort give the bits of the forms they replaced.

- ``_occupancy.occupancy_step_mean`` (occupancy and the substep mean in one pass) equals its
  NumPy reference (to rounding: NumPy's power against the C library's) and, bit for bit, the
  former ``occupancy(gathered).reshape(...).mean(axis=2)`` (the same compiled occupancy);
- :func:`mmmech.dynamics.simulate_cohort` with the fused kernel, the binding-kinetics course
  in small row groups and blocks of 32 patients equals the former path (all three switched
  back), with patients on shared and on their own PK courses.
"""

import numpy as np
import pytest
from _helpers import assert_same_cohort
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import _kernels, pk
from mmmech._kernels import _occupancy_ref
from mmmech.dynamics import cohort
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.simulation.occupancy import occupancy

needs_kernel = pytest.mark.skipif(
    not _kernels.available("_occupancy"), reason="compiled kernels not built"
)


def _case(seed, P, K, S, D, J):
    rng = np.random.default_rng(seed)
    conc = rng.lognormal(0.0, 3.0, (P, K * S, D))
    conc[rng.random(conc.shape) < 0.1] = 0.0
    sel = np.sort(rng.choice(P, max(1, P - 1), replace=False)).astype(np.int64)
    cdrug = rng.integers(0, D, J).astype(np.int64)
    k = rng.lognormal(0.0, 1.0, J)
    h = rng.choice([1.0, 0.7, 1.3, 2.0], J)
    return conc, sel, cdrug, k, h


def _former(conc, sel, cdrug, k, h, S):
    """The former path of cohort._exposure_part (occupancy kernel, then mean over substeps)."""
    n, D = sel.size, conc.shape[2]
    K = conc.shape[1] // S
    c = np.ascontiguousarray(conc[sel].reshape(-1, D)[:, cdrug])
    return occupancy(c, k, h, num_threads=1).reshape(n, K, S, cdrug.size).mean(axis=2)


@needs_kernel
@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
    st.integers(1, 12),
    st.sampled_from([1, 2, 3, 4, 6, 8, 16]),
    st.integers(1, 3),
    st.integers(1, 4),
)
def test_step_mean_equals_reference_and_former_path(seed, P, K, S, D, J):
    conc, sel, cdrug, k, h = _case(seed, P, K, S, D, J)
    dest = sel + 1
    ocol = np.arange(1, J + 1, dtype=np.int64)
    kern = np.full((P + 2, K, J + 2), -1.0)
    ref = kern.copy()
    bad = _kernels.load("_occupancy").occupancy_step_mean(
        conc, sel, cdrug, k, h, kern, dest, ocol, S, 2
    )
    bad_ref = _occupancy_ref.occupancy_step_mean(conc, sel, cdrug, k, h, ref, dest, ocol, S)
    assert bad == bad_ref == 0
    # the reference's power is NumPy's, the kernel's the C library's: equal to rounding
    np.testing.assert_allclose(kern, ref, rtol=1e-12, atol=1e-15)
    untouched = np.ones(kern.shape, dtype=bool)
    untouched[dest[:, None], :, ocol[None, :]] = False
    assert np.all(kern[untouched] == -1.0)
    if J > 1 or S < 8:  # where the cohort uses the kernel: the former path's bits
        assert np.array_equal(kern[dest][:, :, ocol], _former(conc, sel, cdrug, k, h, S))


@needs_kernel
def test_step_mean_known_answer_and_bad_concentrations():
    # two substeps at c = K and c = 3K (Hill 1): (0.5 + 0.75) / 2
    conc = np.array([[[10.0], [30.0]]])
    out = np.zeros((1, 1, 1))
    one = np.zeros(1, dtype=np.int64)
    kern = _kernels.load("_occupancy")
    assert (
        kern.occupancy_step_mean(conc, one, one, np.array([10.0]), np.ones(1), out, one, one, 2)
        == 0
    )
    assert out[0, 0, 0] == 0.625
    for v in (np.nan, np.inf, -1.0):
        c2 = conc.copy()
        c2[0, 1, 0] = v
        args = (one, one, np.array([10.0]), np.ones(1), np.zeros((1, 1, 1)), one, one, 2)
        assert kern.occupancy_step_mean(c2, *args) == 1
        assert _occupancy_ref.occupancy_step_mean(c2, *args) == 1
    with pytest.raises(ValueError, match="out of range"):
        kern.occupancy_step_mean(
            conc, np.array([3]), one, np.array([10.0]), np.ones(1), out, one, one, 2
        )


BODIES = [
    {"weight_kg": 70.0, "bsa_m2": 1.7},
    {"weight_kg": 58.0, "bsa_m2": 1.6},
    {"weight_kg": 95.0, "bsa_m2": 2.2},
]


@pytest.mark.parametrize("own_pk", [False, True])
def test_cohort_equals_former_exposure_path(monkeypatch, own_pk):
    kw = {"cycles": 1, "step_hours": 6, "exposure_threads": 2}
    if own_pk:
        drugs = ("bortezomib", "lenalidomide", "dexamethasone")
        kw["pk_etas"] = [pk.patient_etas("ndmm", i, 3, drugs) for i in range(len(BODIES))]
    new = simulate_cohort("vrd", BODIES, **kw)
    monkeypatch.setattr(cohort, "_step_mean", lambda *a, **k: False)
    monkeypatch.setattr(cohort, "_KIN_BLOCK", 128)  # the former block of patients
    assert_same_cohort(new, simulate_cohort("vrd", BODIES, **kw))


@needs_kernel
@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
    st.integers(1, 12),
    st.sampled_from([1, 2, 3, 4, 6]),
    st.integers(1, 3),
    st.integers(1, 4),
    st.sampled_from([0.0, 1e-310, 1e300, -1.0, np.nan, np.inf]),
)
def test_drug_major_step_mean_is_the_same_kernel(seed, P, K, S, D, J, odd):
    """Round 11: ``occupancy_step_mean_dt`` (concentrations drug by drug, Hill slope 1 in a
    SIMD loop) gives the bits of ``occupancy_step_mean`` on the same numbers laid out step by
    step, and the same count of bad concentrations, also with a value that needs the
    kernel's other branches (subnormal c / K, overflow) or is bad (< 0, NaN, inf)."""
    conc, sel, cdrug, k, h = _case(seed, P, K, S, D, J)
    h[: max(1, J // 2)] = 1.0  # the SIMD branch and the scalar one
    rng = np.random.default_rng(seed)
    conc[rng.integers(P), rng.integers(K * S), rng.integers(D)] = odd
    kern = _kernels.load("_occupancy")
    ocol = np.arange(J, dtype=np.int64)
    a = np.zeros((P, K, J))
    b = np.zeros((P, K, J))
    c = np.zeros((P, K, J))
    dt = np.ascontiguousarray(np.swapaxes(conc, 1, 2))
    bad_a = kern.occupancy_step_mean(conc, sel, cdrug, k, h, a, sel, ocol, S, 2)
    bad_b = kern.occupancy_step_mean_dt(dt, sel, cdrug, k, h, b, sel, ocol, S, 2)
    bad_c = _occupancy_ref.occupancy_step_mean_dt(dt, sel, cdrug, k, h, c, sel, ocol, S)
    assert bad_a == bad_b
    assert (bad_c > 0) == (bad_b > 0)
    if not bad_a:
        assert np.array_equal(a, b)
        np.testing.assert_allclose(b, c, rtol=1e-13, atol=0)


def _former_kinetics(fine, dt_h, nf, columns, out, dest, ocol, scale=1.0, num_threads=1):
    """The binding-kinetics path of cohort._exposure_part before round 11: the whole fine-grid
    course by occupancy_course (NumPy), then the mean over each step's intervals."""
    from mmmech.dynamics.kinetics import occupancy_course

    c = fine * scale if scale != 1.0 else fine
    n, T = c.shape
    for kc, oc in zip(columns, ocol, strict=True):
        _, mean = occupancy_course(
            c, dt_h, kc.K, kc.kinetics.half_life_h, kc.hill, kinetics=kc.kinetics
        )
        out[np.asarray(dest), :, oc] = mean.reshape(n, T // nf, nf).mean(axis=2)


@pytest.mark.parametrize("regimen", ["vrd", "krd"])
def test_cohort_equals_former_binding_kinetics(monkeypatch, regimen):
    """Round 11: the fused compiled binding-kinetics step means (bortezomib's reversible,
    carfilzomib's covalent proteasome binding) against the former NumPy course: best
    responses and progression identical, M-protein within 1e-12 of its maximum (the kernel's
    exp is not NumPy's to the last bit)."""
    kw = {"cycles": 2, "step_hours": 4}
    new = simulate_cohort(regimen, BODIES, **kw)
    monkeypatch.setattr(cohort, "step_mean_occupancy", _former_kinetics)
    old = simulate_cohort(regimen, BODIES, **kw)
    assert new.best_response.tolist() == old.best_response.tolist()
    assert np.array_equal(
        new.time_to_progression_days, old.time_to_progression_days, equal_nan=True
    )
    for name in ("m_protein", "tumour_burden"):
        x, y = getattr(new, name), getattr(old, name)
        assert np.abs(x - y).max() <= 1e-12 * np.abs(y).max(), name
    assert new.notes == old.notes


def test_occupancy_parts_in_threads_change_nothing(monkeypatch):
    """Round 11: with the default exposure_threads the occupancies and binding kinetics run in
    `num_threads` parts of the chunk in threads (single-threaded kernels per part); the
    cohort is bit for bit the one of a single part with 2-thread kernels, and of blocks of
    one row (every row is computed on its own)."""
    kw = {"cycles": 1, "step_hours": 4, "num_threads": 2}
    parts = simulate_cohort("vrd", BODIES, **kw)
    monkeypatch.setattr(cohort, "_exposure_threads", lambda n: 1)  # one part
    assert_same_cohort(parts, simulate_cohort("vrd", BODIES, **kw))
    monkeypatch.setattr(cohort, "_OCC_BLOCK", 1)
    monkeypatch.setattr(cohort, "_KIN_BLOCK", 1)
    assert_same_cohort(parts, simulate_cohort("vrd", BODIES, **kw))
