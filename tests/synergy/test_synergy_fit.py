"""Four-parameter log-logistic fits: exact recovery, scipy as an outside optimiser, the compiled
kernel against its NumPy reference, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import least_squares

from mmmech import _kernels
from mmmech.exceptions import InvalidInputError
from mmmech.synergy import fit_loglogistic, fit_loglogistic_batch
from mmmech.synergy._fit import HILL_BOUNDS, ll4, ll4_inverse

X = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])


def _curves(n, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    p = np.stack(
        [
            rng.uniform(-5, 10, n),
            rng.uniform(30, 100, n),
            np.exp(rng.uniform(np.log(0.2), np.log(15), n)),
            rng.uniform(0.5, 3, n),
        ],
        1,
    )
    y = ll4(X[None, :], *(p[:, i, None] for i in range(4)))
    return p, y + rng.normal(0, noise, y.shape)


def test_noise_free_curves_are_recovered():
    p, y = _curves(200, 0)
    fb = fit_loglogistic_batch(X, y)
    assert fb.ok.all()
    assert np.abs(fb.e0 - p[:, 0]).max() < 1e-6
    assert np.abs(fb.einf - p[:, 1]).max() < 1e-5
    assert np.abs(np.log(fb.ec50 / p[:, 2])).max() < 1e-6
    assert np.abs(fb.hill - p[:, 3]).max() < 1e-5
    assert np.all(fb.r2 > 1 - 1e-10)


def test_fit_matches_a_multistart_scipy_least_squares():
    """Where no bound is active, the fit reaches scipy's best optimum (or a better one)."""
    p, y = _curves(40, 1, noise=4.0)
    fb = fit_loglogistic_batch(X, y)
    for i in range(40):
        if {"asymptote_at_bound", "hill_at_bound", "ec50_at_bound"} & set(fb.curve(i).flags):
            continue
        best = np.inf
        for c0 in np.log([0.1, 1.0, 10.0]):
            for h0 in (0.7, 1.5, 3.0):
                r = least_squares(
                    lambda q, yi=y[i]: ll4(X, q[0], q[1], np.exp(q[2]), q[3]) - yi,
                    [y[i, 0], y[i, -1], c0, h0],
                    method="trf",
                    bounds=([-1e3, -1e3, -20, HILL_BOUNDS[0]], [1e3, 1e3, 20, HILL_BOUNDS[1]]),
                    xtol=1e-14,
                    ftol=1e-14,
                    gtol=1e-14,
                )
                best = min(best, 2 * r.cost)
        assert fb.sse[i] <= best * (1 + 1e-6) + 1e-9, (i, fb.sse[i], best)


@pytest.mark.skipif(not _kernels.available("_synergy_lm"), reason="kernel not built")
@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 10.0), st.booleans())
def test_compiled_kernel_matches_numpy_reference(seed, noise, anchored):
    p, y = _curves(30, seed, noise)
    e0 = y[:, 0] if anchored else None
    a = fit_loglogistic_batch(X, y, e0=e0, backend="cython")
    b = fit_loglogistic_batch(X, y, e0=e0, backend="python")
    if noise <= 1.0:
        # well-posed curves: the two backends land on the same optimum
        assert np.allclose(a.sse, b.sse, rtol=1e-6, atol=1e-8)
        assert np.abs(a.predict(X) - b.predict(X)).max() < 1e-5
    else:
        # noisy curves have flat valleys where the two (same algorithm, different rounding)
        # may stop at slightly different points; neither fit may be clearly worse (over 1,600
        # noisy fits the largest relative SSE difference was 0.18%)
        assert np.allclose(a.sse, b.sse, rtol=1e-2, atol=1e-8)
    assert (a.flag_bits == b.flag_bits).mean() > 0.9


def test_fixed_zero_dose_response_is_respected():
    y = ll4(X, 20.0, 90.0, 2.0, 1.3)
    c = fit_loglogistic(X, y + np.array([5, 0, 0, 0, 0, 0, 0]), e0=25.0)
    assert c.e0 == 25.0 and "e0_fixed" in c.flags
    assert c.predict(0.0) == 25.0


def test_padding_and_missing_points_are_ignored():
    p, y = _curves(3, 2)
    yy = y.copy()
    yy[0, 3] = np.nan
    w = np.ones_like(y)
    w[1, 2] = 0.0
    yy[1, 2] = 1e6  # weight 0: never read
    fb = fit_loglogistic_batch(X, yy, weights=w)
    assert fb.ok.all() and np.allclose(fb.ec50, p[:, 2], rtol=1e-5)
    assert fb.n.tolist() == [6, 6, 7]


def test_flat_and_underdetermined_curves_are_flagged_not_failed():
    c = fit_loglogistic(X, np.full(7, 12.5))
    assert c.ok and "flat" in c.flags and c.predict(3.0) == pytest.approx(12.5)
    c = fit_loglogistic([0.0, 1.0, 10.0], [0.0, 40.0, 80.0])
    assert c.ok and "underdetermined" in c.flags


def test_inverse_follows_synergyfinder_outside_the_range():
    # inside: exact inverse; at or above the larger asymptote: never reached (inf);
    # at or below the smaller: already there at dose 0
    d = ll4_inverse([25.0, 90.0, 95.0, 10.0, 5.0], 10.0, 90.0, 3.0, 1.5)
    assert d[0] == pytest.approx(3.0 * (15 / 65) ** (1 / 1.5))
    assert d[1:3].tolist() == [np.inf, np.inf] and d[3:].tolist() == [0.0, 0.0]
    # a falling curve: the larger asymptote is E0
    assert ll4_inverse(95.0, 90.0, 10.0, 3.0, 1.5) == np.inf
    x = np.array([0.5, 3.0, 20.0])
    assert np.allclose(ll4_inverse(ll4(x, 90.0, 10.0, 3.0, 1.5), 90.0, 10.0, 3.0, 1.5), x)


@pytest.mark.parametrize(
    "dose, response, needle",
    [
        ([0, 1, 2], [1, 2], "same length"),
        ([0, -1, 2], [1, 2, 3], ">= 0"),
        ([0, 1, 2], [1, np.nan, 3], "finite"),
        ([1, 1, 1], [1, 2, 3], "two distinct doses"),
        ("abc", [1, 2, 3], "numeric"),
    ],
)
def test_bad_curves_are_rejected(dose, response, needle):
    with pytest.raises(InvalidInputError, match=needle):
        fit_loglogistic(dose, response)


def test_bad_batches_are_rejected():
    with pytest.raises(InvalidInputError, match="2-D"):
        fit_loglogistic_batch(X, np.zeros(7))
    with pytest.raises(InvalidInputError, match="weights"):
        fit_loglogistic_batch(X, np.zeros((2, 7)), weights=-np.ones((2, 7)))
    with pytest.raises(InvalidInputError, match="backend"):
        fit_loglogistic_batch(X, np.zeros((2, 7)), backend="fortran")


@pytest.mark.skipif(not _kernels.available("_synergy_lm"), reason="kernel not built")
def test_scores_do_not_depend_on_the_fitting_backend(monkeypatch):
    import mmmech.synergy._fit as fitmod
    from mmmech.synergy import score_surface

    rng = np.random.default_rng(4)
    d1, d2 = np.array([0, 1, 3, 10, 30.0]), np.array([0, 0.2, 1, 5, 25.0])
    y1, y2 = ll4(d1, 0, 85, 6, 1.3), ll4(d2, 0, 75, 2, 1.1)
    R = 100 * (1 - (1 - y1[:, None] / 100) * (1 - y2[None, :] / 100)) + rng.normal(0, 3, (5, 5))
    fast = score_surface([d1, d2], R)
    monkeypatch.setattr(fitmod._kernels, "available", lambda name: False)
    slow = score_surface([d1, d2], R)
    for m in fast.scores:
        assert fast.scores[m] == pytest.approx(slow.scores[m], abs=1e-6), m


def test_large_batches_are_fitted_in_chunks_with_the_same_result(monkeypatch):
    import mmmech.synergy._fit as fitmod

    p, y = _curves(25, 7, noise=2.0)
    e0 = np.where(np.arange(25) % 2 == 0, y[:, 0], np.nan)
    whole = fit_loglogistic_batch(X, y, e0=e0)
    monkeypatch.setattr(fitmod, "CHUNK", 4)
    parts = fit_loglogistic_batch(X, y, e0=e0)
    for f in ("e0", "einf", "ec50", "hill", "sse", "flag_bits"):
        assert np.array_equal(getattr(whole, f), getattr(parts, f)), f
