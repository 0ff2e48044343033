"""The sourced untreated-growth term of the calibration objective and the Monte Carlo standard
errors of the per-arm report (docs/calibration.md, "Untreated growth" and "Monte Carlo noise")."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom, norm

from mmmech.calibration.agents import mc_standard_errors
from mmmech.calibration.fit import (
    RELAPSE_DOUBLING,
    growth_deviance,
    growth_log_sd,
    s_grid,
    untreated_doubling,
)
from mmmech.dynamics.tumour import UNTREATED_DOUBLING_DAYS

K, N, DAYS = RELAPSE_DOUBLING


def _reference(s: float, tb: float, sd: float) -> float:
    """The binomial deviance from SciPy: share of patients whose lognormal doubling time
    (median = the typical untreated doubling, log-SD `sd`) is <= 6 months."""
    p = norm.cdf(math.log(DAYS / untreated_doubling(s, tb)) / sd)
    return 2.0 * (binom.logpmf(K, N, K / N) - binom.logpmf(K, N, p))


@pytest.mark.parametrize(
    "s, tb", [(1.0, 46.8), (1.0, 15.0), (0.9, 30.0), (0.686, 15.0), (1.02, 60)]
)
def test_growth_deviance_is_the_binomial_deviance(s: float, tb: float) -> None:
    sd = growth_log_sd("rrmm")
    assert sd is not None
    assert growth_deviance(s, tb, sd) == pytest.approx(_reference(s, tb, sd), rel=1e-6, abs=1e-9)


def test_untreated_doubling_is_the_sourced_one_at_death_scale_1() -> None:
    for tb in (15.0, 46.8, 75.4):
        assert untreated_doubling(1.0, tb) == pytest.approx(UNTREATED_DOUBLING_DAYS.value)
    # the round-8 fit (Tb 15 d, s 0.686): a 41-day untreated doubling, far outside the data
    assert untreated_doubling(0.686, 15.0) == pytest.approx(40.5, abs=0.5)
    sd = growth_log_sd("rrmm")
    assert growth_deviance(0.686, 15.0, sd) > 100 * growth_deviance(1.0, 15.0, sd)


def test_growth_log_sd_from_the_population_cv() -> None:
    # rrmm's [tumour.growth] is lognormal with CV 0.59 (Ucci et al. 1987)
    assert growth_log_sd("rrmm") == pytest.approx(math.sqrt(math.log1p(0.59**2)))


def test_growth_deviance_falls_towards_the_sourced_share() -> None:
    """Lower death scales mean faster untreated growth: the modelled share of fast doublers
    rises above 65/137 and the deviance grows monotonically."""
    sd = growth_log_sd("rrmm")
    ss = np.linspace(0.6, 1.0, 21)
    d = [growth_deviance(float(s), 20.0, sd) for s in ss]
    assert all(a > b for a, b in zip(d, d[1:], strict=False))
    assert growth_deviance(0.5, 20.0, None) > 0  # no spread: the step at the threshold
    assert math.isinf(growth_deviance(1.3, 15.0, sd))  # untreated tumour does not grow


def test_s_grid_reaches_the_sourced_band() -> None:
    sd = growth_log_sd("rrmm")
    for tb in (15.0, 46.8, 75.4):
        ss = s_grid(tb, 9, sd)
        best = min(growth_deviance(float(s), tb, sd) for s in ss)
        assert best < 1.0  # a grid point inside the band of the data
        assert len(s_grid(tb, 9, None)) == 9


def test_mc_standard_errors_cluster_bootstrap() -> None:
    """Each network patient's draws share one response: the SE is that of P patients
    (sqrt(p(1-p)/P)), not of P x D rows; identical patients give 0."""
    P, D = 400, 16
    rng = np.random.default_rng(3)
    resp = rng.random(P) < 0.3
    best = np.repeat(np.where(resp, "PR", "SD"), D)
    ttp = np.repeat(rng.uniform(30, 200, P), D)
    se = mc_standard_errors({"best_response": best, "ttp_days": ttp}, P, boot=400, seed=1)
    p = resp.mean()
    assert se["orr"] == pytest.approx(math.sqrt(p * (1 - p) / P), rel=0.2)
    assert se["cr_or_better"] == 0.0
    assert se["median_ttp_days"] > 0
    same = mc_standard_errors(
        {"best_response": np.array(["PR"] * (P * D)), "ttp_days": np.full(P * D, 50.0)}, P
    )
    assert same["orr"] == 0.0 and same["median_ttp_days"] == 0.0
    assert mc_standard_errors({"best_response": best, "ttp_days": ttp}, 1) == {}
