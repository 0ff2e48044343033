"""The tumour / M-protein model: exact step integration and the sourced rates."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from mmmech.dynamics import HALF_LIVES, TumourModel, tumour_model
from mmmech.dynamics.tumour import integrate
from mmmech.exceptions import InvalidInputError


def test_untreated_balance_gives_the_sourced_doubling_time():
    t = TumourModel()
    g, d = t.rates(p0=0.8, death0=0.05)
    net = g * 0.8 - d * 0.05
    assert net == pytest.approx(math.log(2) / 182.6)
    assert g * 0.8 == pytest.approx(math.log(2) / 46.8)


def test_step_integration_matches_an_ode_solver():
    rng = np.random.default_rng(0)
    rates = rng.uniform(-0.2, 0.05, size=(2, 30))
    dt, k, m0 = 0.5, math.log(2) / 21.0, 3.0
    N, M = integrate(rates, dt, k, m0)
    for r in range(2):

        def f(t, y, r=r):
            j = min(int(t / dt), rates.shape[1] - 1)
            return [rates[r, j] * y[0], k * m0 * y[0] - k * y[1]]

        ts = np.arange(31) * dt
        sol = solve_ivp(
            f, (0, ts[-1]), [1.0, m0], t_eval=ts, rtol=1e-10, atol=1e-12, max_step=dt / 4
        )
        np.testing.assert_allclose(N[r], sol.y[0], rtol=1e-6)
        np.testing.assert_allclose(M[r], sol.y[1], rtol=1e-6)


def test_m_protein_clears_with_the_isotype_half_life():
    # the tumour gone at once (very fast death): M falls with the immunoglobulin's half-life
    for iso in ("IgG", "IgA", "light_chain"):
        t = tumour_model(isotype=iso)
        hl = HALF_LIVES[iso].value
        _, M = integrate(np.full((1, 1), -1e6), hl, t.clearance_rate, 2.0)
        assert M[0, 1] == pytest.approx(1.0, rel=1e-4)
    assert HALF_LIVES["IgG"].value > HALF_LIVES["IgA"].value > HALF_LIVES["light_chain"].value


def test_errors():
    with pytest.raises(InvalidInputError, match="isotype"):
        tumour_model(isotype="IgQ")
    with pytest.raises(InvalidInputError, match="unknown parameter"):
        tumour_model(death_rate=1.0)
    with pytest.raises(InvalidInputError, match="net_rate"):
        TumourModel(net_rate=1.0)
