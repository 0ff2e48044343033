"""The closed forms equal the ODE reference: every route, 1-3 compartments, single and multiple
doses (superposition); AUCs are analytic and conserve mass; the metrics match their definitions."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad

from mmmech.exceptions import InvalidInputError
from mmmech.pk.engine import (
    Absorption,
    Disposition,
    Dose,
    concentrations,
    cumulative_auc,
    exponentials,
    ode_concentrations,
)

DISPOSITIONS = {
    "1cmt": Disposition(5.0, 30.0),
    "2cmt": Disposition(5.0, 30.0, (10.0,), (80.0,)),
    "3cmt": Disposition(1.86, 13.7, (5.18, 26.1), (309.0, 205.0)),
}
ABSORPTION = {"oral": Absorption(0.8, 0.6, 0.3), "sc": Absorption(0.25, 0.9, 0.0)}
SINGLE = {
    "iv_bolus": Dose(0.0, 10.0, "iv_bolus"),
    "iv_infusion": Dose(0.0, 10.0, "iv_infusion", 1.5),
    "sc": Dose(0.0, 10.0, "sc"),
    "oral": Dose(0.0, 10.0, "oral"),
}
TIMES = np.linspace(0.0, 72.0, 289)


def _rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("route", list(SINGLE))
@pytest.mark.parametrize("cmt", list(DISPOSITIONS))
def test_single_dose_closed_form_equals_ode(cmt, route):
    disp, dose = DISPOSITIONS[cmt], SINGLE[route]
    closed = concentrations(disp, [dose], TIMES, ABSORPTION)
    ode = ode_concentrations(disp, [dose], TIMES, ABSORPTION)
    assert closed.max() > 0
    assert _rel_err(closed, ode) < 1e-7


@pytest.mark.parametrize("cmt", list(DISPOSITIONS))
def test_multiple_doses_superposition_equals_ode(cmt):
    disp = DISPOSITIONS[cmt]
    doses = [
        Dose(0.0, 10.0, "iv_bolus"),
        Dose(5.0, 20.0, "iv_infusion", 1.5),
        Dose(12.0, 30.0, "oral"),
        Dose(30.0, 15.0, "sc"),
        Dose(40.0, 5.0, "oral"),
        Dose(40.0, 5.0, "oral"),  # two doses at one time add
    ]
    t = np.linspace(0.0, 100.0, 401)
    closed = concentrations(disp, doses, t, ABSORPTION)
    ode = ode_concentrations(disp, doses, t, ABSORPTION)
    assert _rel_err(closed, ode) < 1e-7
    # superposition: the sum of the single-dose courses
    parts = sum(concentrations(disp, [d], t, ABSORPTION) for d in doses)
    np.testing.assert_allclose(closed, parts, rtol=1e-12, atol=0)


@given(
    cl=st.floats(0.05, 50.0),
    v1=st.floats(1.0, 200.0),
    q=st.floats(0.05, 50.0),
    vp=st.floats(1.0, 500.0),
    ka=st.floats(0.05, 10.0),
    f=st.floats(0.1, 1.0),
    tlag=st.floats(0.0, 2.0),
    dur=st.floats(0.1, 6.0),
    two=st.booleans(),
)
def test_closed_forms_equal_ode_for_random_parameters(cl, v1, q, vp, ka, f, tlag, dur, two):
    disp = Disposition(cl, v1, (q,), (vp,)) if two else Disposition(cl, v1)
    ab = {"oral": Absorption(ka, f, tlag)}
    doses = [
        Dose(0.0, 7.0, "iv_bolus"),
        Dose(3.0, 11.0, "oral"),
        Dose(8.0, 5.0, "iv_infusion", dur),
        Dose(20.0, 11.0, "oral"),
    ]
    t = np.linspace(0.0, 48.0, 97)
    closed = concentrations(disp, doses, t, ab)
    ode = ode_concentrations(disp, doses, t, ab)
    np.testing.assert_allclose(closed, ode, rtol=1e-6, atol=1e-9 * closed.max())


@pytest.mark.parametrize("cmt", list(DISPOSITIONS))
@pytest.mark.parametrize("route", list(SINGLE))
def test_mass_balance_auc_times_cl_is_f_dose(cmt, route):
    """AUC(0, inf) * CL = F * dose, from the analytic integral (a very late time)."""
    disp, dose = DISPOSITIONS[cmt], SINGLE[route]
    f = ABSORPTION[route].f if route in ABSORPTION else 1.0
    lam, _ = exponentials(disp)
    late = 60.0 / lam.min() + 100.0
    auc = cumulative_auc(disp, [dose], np.array([late]), ABSORPTION)[0]
    assert auc * disp.cl == pytest.approx(f * dose.amount_mg, rel=1e-12)


@pytest.mark.parametrize("cmt", list(DISPOSITIONS))
def test_interval_auc_equals_numerical_integral(cmt):
    disp = DISPOSITIONS[cmt]
    doses = [Dose(0.0, 10.0, "iv_infusion", 2.0), Dose(6.0, 8.0, "oral"), Dose(9.0, 4.0, "sc")]
    g = cumulative_auc(disp, doses, np.array([1.0, 30.0]), ABSORPTION)

    def c(x):
        return concentrations(disp, doses, np.array([x]), ABSORPTION)[0]

    numeric, _ = quad(c, 1.0, 30.0, points=[2.0, 6.3, 9.0], limit=500, epsabs=0, epsrel=1e-11)
    assert g[1] - g[0] == pytest.approx(numeric, rel=1e-8)


def test_absorption_at_ka_equal_to_elimination_rate_is_finite_and_continuous():
    disp = Disposition(5.0, 50.0)  # k = 0.1/h
    t = np.linspace(0.0, 48.0, 49)
    at = concentrations(disp, [Dose(0.0, 10.0, "oral")], t, {"oral": Absorption(0.1)})
    near = concentrations(disp, [Dose(0.0, 10.0, "oral")], t, {"oral": Absorption(0.1 + 1e-9)})
    exact = 10.0 / 50.0 * 0.1 * t * np.exp(-0.1 * t)  # the limit D ka/V t e^{-kt}
    np.testing.assert_allclose(at, exact, rtol=1e-12)
    np.testing.assert_allclose(near, exact, rtol=1e-7)
    g = cumulative_auc(disp, [Dose(0.0, 10.0, "oral")], np.array([1e4]), {"oral": Absorption(0.1)})
    assert g[0] * 5.0 == pytest.approx(10.0, rel=1e-10)


def test_two_compartment_exponents_match_the_textbook_macro_constants():
    cl, v1, q, v2 = 5.0, 30.0, 10.0, 80.0
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    alpha = (s + math.sqrt(s * s - 4 * k10 * k21)) / 2
    beta = (s - math.sqrt(s * s - 4 * k10 * k21)) / 2
    a_coef = (alpha - k21) / (v1 * (alpha - beta))
    b_coef = (k21 - beta) / (v1 * (alpha - beta))
    lam, a = exponentials(Disposition(cl, v1, (q,), (v2,)))
    np.testing.assert_allclose(lam, [alpha, beta], rtol=1e-12)
    np.testing.assert_allclose(a, [a_coef, b_coef], rtol=1e-10)


def test_nothing_before_the_dose_and_lag():
    disp = DISPOSITIONS["2cmt"]
    c = concentrations(disp, [Dose(10.0, 5.0, "oral")], np.array([0.0, 10.0, 10.29]), ABSORPTION)
    assert list(c) == [0.0, 0.0, 0.0]  # oral lag 0.3 h


def test_saturable_elimination_needs_the_ode_and_lowers_exposure():
    lin = Disposition(0.005, 4.0, (0.06,), (3.0,))
    mm = Disposition(0.005, 4.0, (0.06,), (3.0,), vmax=2.0, km=0.9, kdes=0.0013)
    with pytest.raises(InvalidInputError, match="saturable"):
        concentrations(mm, [Dose(0.0, 1000.0, "iv_bolus")], TIMES)
    t = np.linspace(0.0, 500.0, 51)
    a = ode_concentrations(lin, [Dose(0.0, 1000.0, "iv_bolus")], t)
    b = ode_concentrations(mm, [Dose(0.0, 1000.0, "iv_bolus")], t)
    assert b[0] == pytest.approx(a[0])
    assert np.all(b[1:] < a[1:])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(time_h=-1.0, amount_mg=1.0, route="oral"), "time_h"),
        (dict(time_h=0.0, amount_mg=float("nan"), route="oral"), "amount_mg"),
        (dict(time_h=0.0, amount_mg=1.0, route="im"), "route"),
        (dict(time_h=0.0, amount_mg=1.0, route="iv_infusion"), "duration_h"),
        (dict(time_h=0.0, amount_mg=1.0, route="oral", duration_h=1.0), "duration_h"),
    ],
)
def test_bad_doses_are_one_line_errors(kwargs, match):
    with pytest.raises(InvalidInputError, match=match) as info:
        Dose(**kwargs)
    assert "\n" not in str(info.value)


def test_bad_dispositions_are_errors():
    with pytest.raises(InvalidInputError, match="cl must be > 0"):
        Disposition(0.0, 1.0)
    with pytest.raises(InvalidInputError, match="one value per peripheral"):
        Disposition(1.0, 1.0, (1.0,), ())
    with pytest.raises(InvalidInputError, match="ka must be > 0"):
        Absorption(0.0)
    with pytest.raises(InvalidInputError, match="f must be in"):
        Absorption(1.0, 1.5)


def test_ode_course_is_never_negative_as_it_decays_towards_zero():
    """A saturable (daratumumab) course of a small dose decays to ~1e-15 nM within months; the
    solver's absolute error must not show up as negative concentrations (the network's
    occupancy refuses them)."""
    from mmmech import pk as _pk

    t = (np.arange(0, 24 * 200 * 2) + 0.5) / 2.0
    for w in (50.0, 70.0, 100.0):
        m = _pk.model("daratumumab", weight_kg=w)
        c = np.asarray(_pk.concentration(m, [(0.0, 1.0, "iv_infusion", 7.0)], t, unit="nM"))
        assert c.min() >= 0.0
        assert c[0] > 0 and c[-1] < 1e-6 * c.max()  # it does decay towards zero
