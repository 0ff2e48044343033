"""Acquired resistance (mmmech.dynamics.resistance): the drug-induced part of the net tumour rate
decays as exp(-lambda t) (docs/dynamics.md, "Acquired resistance")."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech.dynamics import tumour as T
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.dynamics.imwg import classify
from mmmech.dynamics.resistance import apply_resistance, patient_resistance
from mmmech.exceptions import InvalidInputError
from mmmech.regimens import Body

#: Collins 2023 Table 1 (belantamab mafodotin monotherapy), TVLAMBDA per day, and Li 2025
#: Table 3 (modakafusp alfa monotherapy), kr = 0.0568 per week, as read in populations/*.toml
COLLINS_LAMBDA = 0.0024
LI_LAMBDA = 0.0568 / 7.0

_rates = st.lists(
    st.floats(min_value=-0.2, max_value=0.05, allow_nan=False), min_size=1, max_size=40
)


def test_half_life_of_the_drug_effect_is_ln2_over_lambda():
    # a constant drug effect E on a constant untreated rate: at the step whose midpoint is
    # ln 2 / lambda days after the first dose, half of E is left (Collins: 289 d; Li: 85 d)
    r0, effect, dt = 0.0038, 0.05, 0.25
    for lam, half_life in ((COLLINS_LAMBDA, 288.8), (LI_LAMBDA, 85.4)):
        assert math.log(2) / lam == pytest.approx(half_life, abs=0.1)
        k = round(math.log(2) / lam / dt - 0.5)  # the step with midpoint ln2/lambda
        K = k + 5
        rate = np.full((1, K), r0 - effect)
        out = apply_resistance(rate, r0, lam, dt)
        t_mid = (k + 0.5) * dt
        left = r0 - out[0, k]
        assert left == pytest.approx(effect * math.exp(-lam * t_mid), rel=1e-12)
        assert left == pytest.approx(effect / 2, rel=2e-3)


@settings(max_examples=60, deadline=None)
@given(_rates, st.floats(min_value=-0.01, max_value=0.02), st.floats(0.0, 0.05))
def test_lambda_zero_is_identity_and_larger_lambda_never_lowers_the_burden(rates, r0, lam):
    r = np.asarray([rates])
    assert np.array_equal(apply_resistance(r, r0, 0.0, 0.25), r)
    lo = apply_resistance(r, r0, lam, 0.25)
    hi = apply_resistance(r, r0, lam * 1.7 + 1e-4, 0.25)
    assert np.all(lo >= r) and np.all(hi >= lo)
    # the part of the drug effect that raises the rate (rate > r0) is left as it is
    assert np.array_equal(lo[r >= r0], r[r >= r0])
    nb_lo, m_lo = T.integrate(lo, 0.25, 0.05, 3.0)
    nb_hi, m_hi = T.integrate(hi, 0.25, 0.05, 3.0)
    assert np.all(nb_hi >= nb_lo * (1 - 1e-12)) and np.all(m_hi >= m_lo * (1 - 1e-12))


def test_growth_multiplier_sets_the_patient_untreated_rate():
    # a patient with growth g has untreated rate g r0 (scale_rates): only the drug part decays
    r0, g = 0.004, 2.0
    rate = T.scale_rates(np.full((1, 8), -0.02), r0, growth=g)
    out = apply_resistance(rate, r0, 10.0, 100.0, growth=g)  # effect fully lost
    assert np.allclose(out[0, 1:], g * r0)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(InvalidInputError, match="resistance_per_day must be finite and >= 0"):
        apply_resistance(np.zeros((1, 2)), 0.0, -1.0, 1.0)
    with pytest.raises(InvalidInputError, match=r"f\(\): resistance_per_day\[1\]"):
        patient_resistance([0.1, "x"], 2, "f")
    with pytest.raises(InvalidInputError, match="one number .or None. per body"):
        patient_resistance([0.1], 2, "f")
    assert patient_resistance([0.0, None], 2, "f") is None


def test_continuous_rd_progresses_with_resistance_and_not_without():
    # the typical patient on continuous Rd: no progression in 2 years without resistance
    # (today's course, unchanged by lambda = 0); with Li 2025's typical lambda it progresses
    bodies = [Body(weight_kg=70.0, bsa_m2=1.8)] * 2
    base = simulate_cohort("rd", bodies[:1], cycles=24, context="marrow")
    res = simulate_cohort(
        "rd", bodies, cycles=24, context="marrow", resistance_per_day=[0.0, LI_LAMBDA]
    )
    assert np.array_equal(res.m_protein[0], base.m_protein[0])
    day = res.hours / 24.0
    assert classify(day, res.m_protein[0]).progression_day is None
    prog = classify(day, res.m_protein[1]).progression_day
    assert prog is not None and 180 < prog < day[-1]
    assert np.all(res.m_protein[1] >= res.m_protein[0] * (1 - 1e-12))


def test_single_patient_path_equals_the_cohort_and_checks_its_input():
    # simulate_regimen's TumourModel(resistance_per_day=) gives the cohort's course
    from mmmech.dynamics import simulate_regimen

    tm = T.tumour_model(resistance_per_day=LI_LAMBDA)
    one = simulate_regimen("rd", cycles=2, step_hours=12.0, tumour=tm)
    coh = simulate_cohort(
        "rd",
        [Body(weight_kg=70.0, bsa_m2=1.8)],
        cycles=2,
        context="marrow",
        step_hours=12.0,
        resistance_per_day=[LI_LAMBDA],
        reuse_tol=None,  # one network call as simulate_regimen (no cycle periodicity)
    )
    np.testing.assert_allclose(one.timecourse["m_protein_g_per_dL"], coh.m_protein[0], rtol=1e-9)
    with pytest.raises(InvalidInputError, match="resistance_per_day must be a number >= 0"):
        T.tumour_model(resistance_per_day=-0.1)
