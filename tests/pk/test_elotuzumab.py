"""Elotuzumab (round 7): the linear + central Michaelis-Menten part of Ide 2022.

Known answers come from the sources named in structures/pk.toml: the Ide 2022 estimates
(DOI:10.1007/s00280-021-04365-4, Supplementary Table S2, read in the nlmixr2lib encoding) and
the statements printed with them (weight effect on CL), and the clinical-pharmacology review
abstract (PMID:28779463: exposure rises more than proportionally with dose). The published
exposures themselves (Ide 2022 Table 2) are asserted by test_published_exposure.py.
"""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from mmmech import dynamics, pk

DAY = 24.0


def test_parameters_are_the_source_values_in_canonical_units():
    d = pk.model("elotuzumab").disposition
    assert d.cl == pytest.approx(0.0834 / DAY)  # L/day -> L/h
    assert d.v1 == pytest.approx(4.06)
    assert d.q == pytest.approx((0.512 / DAY,))
    assert d.vp == pytest.approx((1.93,))
    # Vmax 12.2 ug/mL/day x exp(0.27 x 2.05 g/dL) x Vc 4.06 L, in mg/h
    assert d.vmax == pytest.approx(12.2 * math.exp(0.27 * 2.05) * 4.06 / DAY, rel=1e-4)
    assert d.km == pytest.approx(281.0)


def test_low_concentrations_follow_the_linear_model_with_clearance_cl_plus_vmax_over_km():
    # far below Km the saturable term is first order: CL_eff = CL + Vmax/Km; the ODE solution
    # must then equal the closed-form two-compartment model with that clearance
    m = pk.model("elotuzumab")
    d = m.disposition
    lin = replace(m, disposition=replace(d, cl=d.cl + d.vmax / d.km, vmax=0.0, km=0.0))
    doses = pk.schedule("0.01 mg", "iv_infusion", [1], duration_h=1.0)
    t = np.array([2.0, 24.0, 7 * DAY, 28 * DAY])
    ode = pk.concentration(m, doses, t, unit="ng/mL")
    closed = pk.concentration(lin, doses, t, unit="ng/mL")
    assert lin.linear and not m.linear
    np.testing.assert_allclose(ode, closed, rtol=2e-3)


def test_engine_matches_an_independent_integration_of_the_same_equations():
    # differential: the model's two-compartment ODE with central Michaelis-Menten elimination,
    # written out here and integrated by scipy, against mmmech.pk for 10 mg/kg weekly x 4 (75 kg)
    d = pk.model("elotuzumab").disposition
    q, vp = d.q[0], d.vp[0]
    dose, inf = 750.0, 1.0  # mg, h (the record's labelled infusion time)

    def rhs(t, y):
        c = y[0] / d.v1
        rate = dose / inf if (t % (7 * DAY)) < inf and t < 28 * DAY else 0.0
        return [
            rate - d.cl * c - q * c + q * y[1] / vp - d.vmax * c / (d.km + c),
            q * c - q * y[1] / vp,
        ]

    t_eval = np.array([0.5, 1.0, 3 * DAY, 7 * DAY - 1, 10 * DAY, 21 * DAY + 1, 35 * DAY])
    ref = solve_ivp(
        rhs, (0, 35 * DAY), [0.0, 0.0], t_eval=t_eval, rtol=1e-9, atol=1e-9, max_step=0.25
    )
    doses = pk.schedule(
        "10 mg/kg", "iv_infusion", [1, 8, 15, 22], 28, duration_h=inf, weight_kg=75.0
    )
    got = pk.concentration("elotuzumab", doses, t_eval, unit="mg/L")
    np.testing.assert_allclose(got, ref.y[0] / d.v1, rtol=5e-3)


def test_weight_effect_on_clearance_is_the_one_ide_2022_states():
    # Ide 2022 Results: CL at 50.6 kg (5th percentile) about 41% lower, at 105 kg (95th) about
    # 55% higher than at the 75 kg reference
    cl = pk.model("elotuzumab").disposition.cl
    assert pk.model("elotuzumab", weight_kg=50.6).disposition.cl / cl == pytest.approx(
        0.59, abs=0.01
    )
    assert pk.model("elotuzumab", weight_kg=105).disposition.cl / cl == pytest.approx(
        1.55, abs=0.01
    )


def test_backbone_and_binary_factors_are_the_source_factors():
    # Ide 2022 Abstract/Results: pomalidomide/dexamethasone lowers linear CL by 19% relative to
    # lenalidomide/dexamethasone; Table S2: monotherapy CL x 1/0.825, female Vc x 0.797, Asian
    # Vc x 0.885, beta2-microglobulin >= 3.5 mg/L Vc x 1.11
    d = pk.model("elotuzumab").disposition

    def ratio(attr, **kw):
        return getattr(pk.model("elotuzumab", **kw).disposition, attr) / getattr(d, attr)

    assert ratio("cl", pomalidomide_backbone=1) == pytest.approx(1 - 0.19, abs=0.005)
    assert ratio("cl", monotherapy=1) == pytest.approx(1 / 0.825, rel=1e-4)
    assert ratio("v1", female=1) == pytest.approx(0.797)
    assert ratio("v1", asian=1) == pytest.approx(0.885)
    assert ratio("v1", b2m_ge_3_5=1) == pytest.approx(1.11)


def test_exposure_rises_more_than_proportionally_with_dose():
    # PMID:28779463 (abstract): elotuzumab exposure increases more than proportionally to dose
    def auc(dose):
        doses = pk.schedule(dose, "iv_infusion", [1], duration_h=1.0, weight_kg=75.0)
        return pk.auc("elotuzumab", doses, 0.0, 7 * DAY)

    a5, a10, a20 = auc("5 mg/kg"), auc("10 mg/kg"), auc("20 mg/kg")
    assert a10 / a5 > 2.0 and a20 / a10 > 2.0


def test_elotuzumab_runs_with_concentrations_in_erd_and_epd():
    for name in ("elo_rd", "elo_pd"):
        res = dynamics.simulate_regimen(name, cycles=1, step_hours=12.0)
        assert res.pk["elotuzumab"]["cmax_nM"] > 0
        assert not any("elotuzumab" in n and "no PK model" in n for n in res.notes)
