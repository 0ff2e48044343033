"""Kaplan-Meier, median PFS and the Cox hazard ratio (lifelines) against known answers: a case
computed by hand, and the Freireich et al. 6-MP remission data (lifelines' ``load_leukemia``;
Blood 1963;21:699) against an independent product-limit and Efron partial-likelihood fit."""

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from mmmech.exceptions import InvalidInputError
from mmmech.trials import hazard_ratio, kaplan_meier


def test_km_small_case_by_hand():
    # times 1, 2, 2+, 3, 4+: S(1) = 4/5, S(2) = 4/5 * 3/4, S(3) = 0.6 * 1/2, then flat
    km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    assert km.survival_at(0.5) == 1.0
    assert km.survival_at(1) == pytest.approx(0.8)
    assert km.survival_at(2.5) == pytest.approx(0.6)
    assert km.survival_at(3) == pytest.approx(0.3)
    assert km.survival_at(10) == pytest.approx(0.3)
    assert km.median == 3.0  # the first time the curve reaches 0.5 or below
    assert km.at_risk_at(2) == 4 and km.at_risk_at(3) == 2 and km.at_risk_at(5) == 0


def test_km_median_not_reached_is_none():
    km = kaplan_meier([5, 6, 7, 8], [1, 0, 0, 0])
    assert km.median is None and km.median_high is None


def _product_limit(t, e):
    s, out = 1.0, {}
    for u in np.unique(t[e]):
        n = np.sum(t >= u)
        d = np.sum((t == u) & e)
        s *= 1 - d / n
        out[float(u)] = s
    return out


def _leukemia():
    from lifelines.datasets import load_leukemia

    df = load_leukemia()
    rx = df["Rx"].to_numpy() == 1  # lifelines' coding: Rx 1 = placebo, 0 = 6-MP
    return df["t"].to_numpy(float), df["status"].to_numpy(bool), rx


def test_km_freireich_matches_product_limit():
    t, e, placebo = _leukemia()
    assert placebo.sum() == 21 and (~placebo).sum() == 21
    for grp in (placebo, ~placebo):
        km = kaplan_meier(t[grp], e[grp])
        for u, s in _product_limit(t[grp], e[grp]).items():
            assert km.survival_at(u) == pytest.approx(s, abs=1e-12)
    # the 6-MP group's curve: 21 patients, 9 relapses; placebo 21 relapses of 21
    assert int(e[~placebo].sum()) == 9 and int(e[placebo].sum()) == 21


def _efron_loglik(beta, t, e, x):
    ll = 0.0
    for u in np.unique(t[e]):
        dead = (t == u) & e
        risk = t >= u
        d = int(dead.sum())
        r = np.exp(beta * x[risk]).sum()
        dsum = np.exp(beta * x[dead]).sum()
        ll += beta * x[dead].sum()
        for k in range(d):
            ll -= math.log(r - k / d * dsum)
    return ll


def test_cox_freireich_matches_independent_efron_fit():
    t, e, placebo = _leukemia()
    hr = hazard_ratio(t[placebo], e[placebo], t[~placebo], e[~placebo])
    x = placebo.astype(float)
    fit = minimize_scalar(
        lambda b: -_efron_loglik(b, t, e, x),
        bounds=(-5, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert hr.value == pytest.approx(math.exp(fit.x), rel=1e-5)
    # Wald interval from the observed information (numerical second derivative)
    h = 1e-4
    info = (
        -(
            _efron_loglik(fit.x + h, t, e, x)
            - 2 * _efron_loglik(fit.x, t, e, x)
            + _efron_loglik(fit.x - h, t, e, x)
        )
        / h**2
    )
    se = 1 / math.sqrt(info)
    assert hr.low == pytest.approx(math.exp(fit.x - 1.959964 * se), rel=1e-3)
    assert hr.high == pytest.approx(math.exp(fit.x + 1.959964 * se), rel=1e-3)
    assert hr.value > 1  # placebo relapses faster
    inv = hazard_ratio(t[~placebo], e[~placebo], t[placebo], e[placebo])
    assert inv.value == pytest.approx(1 / hr.value, rel=1e-6)


def test_identical_groups_give_hr_one():
    rng = np.random.default_rng(3)
    t = rng.exponential(10, 60).round(1) + 0.1
    e = rng.random(60) < 0.7
    hr = hazard_ratio(t, e, t, e)
    assert hr.value == pytest.approx(1.0, abs=1e-9)
    assert hr.low < 1 < hr.high


def test_not_estimable_and_bad_input():
    hr = hazard_ratio([1, 2], [0, 0], [1, 2], [0, 0])
    assert hr.value is None and "either arm" in hr.note
    hr = hazard_ratio([1, 2], [1, 1], [1, 2], [0, 0])
    assert hr.value is None and "one arm" in hr.note
    with pytest.raises(InvalidInputError, match="kaplan_meier"):
        kaplan_meier([1, -2], [1, 1])
    with pytest.raises(InvalidInputError, match="same"):
        kaplan_meier([1, 2], [1])
    with pytest.raises(InvalidInputError, match="0/1"):
        kaplan_meier([1, 2], [1, 2])


def test_hazard_ratio_separated_arms_not_estimable():
    # every progression of the first arm precedes every time of the second: the Cox estimate
    # diverges, so the ratio is reported as not estimable instead of a meaningless huge number
    hr = hazard_ratio([1, 2, 3, 4], [1, 1, 1, 1], [10, 11, 12, 13], [1, 1, 1, 1])
    assert hr.value is None and hr.low is None and hr.high is None
    assert "separate" in hr.note
