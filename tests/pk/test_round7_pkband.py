"""Dexamethasone and thalidomide (round 7, pkband): the arithmetic their records rest on.

Known answers come from the sources named in structures/pk.toml: Brady 1986
(DOI:10.1007/BF02455994; 15 cancer patients, 40-200 mg IV: CL 3.5 mL/min/kg, V1 0.23 L/kg,
total volume 1.0 L/kg, t1/2 4.0 h), Tsuei 1979 (DOI:10.1007/BF01060016; healthy adults, 8 mg IV,
CL 245 mL/min) and Kamikawa 2006 (PMID:17077542; Japanese myeloma patients, thalidomide CL/F
5.5 L/h, V/F 45.3 L). The published-exposure rows are asserted by test_published_exposure.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import pk


def _two_cmt_terminal_half_life(cl, v1, q, v2):
    # closed form: the slow root of s^2 - (k10 + k12 + k21) s + k10 k21 = 0
    k10, k12, k21 = cl / v1, q / v1, q / v2
    a, b = k10 + k12 + k21, k10 * k21
    return math.log(2) / ((a - math.sqrt(a * a - 4 * b)) / 2)


def test_dexamethasone_parameters_are_brady_per_kg_values_at_70_kg():
    m = pk.model("dexamethasone")
    d = m.disposition
    assert d.cl == pytest.approx(3.5e-3 * 60 * 70, rel=1e-9)  # 3.5 mL/min/kg -> L/h
    assert d.v1 == pytest.approx(0.23 * 70, rel=1e-9)
    assert d.v1 + d.vp[0] == pytest.approx(1.0 * 70, rel=1e-9)  # total volume read as Vss
    assert not m.apparent and {"oral", "iv_bolus", "iv_infusion"} <= set(m.routes)


def test_dexamethasone_terminal_half_life_is_the_published_4_h_in_closed_form():
    d = pk.model("dexamethasone").disposition
    t_half = _two_cmt_terminal_half_life(d.cl, d.v1, d.q[0], d.vp[0])
    assert t_half == pytest.approx(4.0, abs=1e-3)
    assert pk.half_lives("dexamethasone")[-1] == pytest.approx(t_half, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.floats(40.0, 130.0))
def test_dexamethasone_scales_per_kg_and_keeps_its_half_lives(weight):
    base = pk.model("dexamethasone")
    m = pk.model("dexamethasone", weight_kg=weight)
    r = weight / 70.0
    assert m.disposition.cl == pytest.approx(base.disposition.cl * r, rel=1e-9)
    assert m.disposition.v1 == pytest.approx(base.disposition.v1 * r, rel=1e-9)
    np.testing.assert_allclose(m.half_lives(), base.half_lives(), rtol=1e-9)


def test_dexamethasone_auc_is_dose_over_clearance_iv_and_f_dose_over_clearance_oral():
    cl = 14.7
    iv = pk.schedule("8 mg", "iv_bolus", [1])
    assert pk.auc("dexamethasone", iv, 0.0, 240.0) == pytest.approx(8 / cl, rel=1e-6)
    # Tsuei 1979: 245.2 mL/min in healthy adults after 8 mg IV, within 0.2% of Brady's CL
    assert 8 / cl == pytest.approx(8 / (245.2e-3 * 60), rel=3e-3)
    po = pk.schedule("40 mg", "oral", [1])
    assert pk.auc("dexamethasone", po, 0.0, 240.0) == pytest.approx(0.78 * 40 / cl, rel=1e-6)


def test_dexamethasone_closed_forms_match_the_ode_reference():
    doses = pk.schedule("40 mg", "oral", [1, 8, 15, 22], cycle_days=28)
    t = np.linspace(0.0, 28 * 24.0, 241)
    closed = pk.simulate("dexamethasone", doses, times=t, unit="mg/L", method="closed")
    ode = pk.simulate("dexamethasone", doses, times=t, unit="mg/L", method="ode")
    np.testing.assert_allclose(closed["concentration"], ode["concentration"], rtol=1e-6, atol=1e-9)


def test_thalidomide_japanese_covariate_gives_kamikawa_clearance_and_volume():
    m = pk.model("thalidomide", japanese=1)
    assert m.disposition.cl == pytest.approx(5.5, rel=1e-3)
    assert m.disposition.v1 == pytest.approx(45.3, rel=1e-3)
    # without the covariate: the Chen 1989 healthy-men model, unchanged
    assert pk.model("thalidomide").disposition.cl == pytest.approx(10.41, rel=1e-9)
    # AUC(0-inf) of 100 mg = 100/5.5 mg*h/L, inside the 37-patient study's 15.87 +- 3.05
    doses = pk.schedule("100 mg", "oral", [1])
    auc = pk.auc(m, doses, 0.0, 24.0 * 28)
    assert auc == pytest.approx(100 / 5.5, rel=1e-3)
    assert 15.87 - 3.05 <= auc <= 15.87 + 3.05
