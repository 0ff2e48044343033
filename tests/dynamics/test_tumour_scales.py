"""Per-patient tumour-kinetics multipliers in the tumour integration: scale_rates' algebra and
monotonicity, simulate_cohort(tumour_scales=...) and the single-patient path."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import populations as P
from mmmech._readonly import ReadOnlyDict
from mmmech.dynamics import simulate_cohort, simulate_regimen, tumour_model
from mmmech.dynamics.tumour import integrate, scale_rates
from mmmech.exceptions import InvalidInputError
from mmmech.ranking.core import _Member, _reintegrate

K_IGG = math.log(2) / 21.0


def test_identity_and_known_answer():
    rate = np.array([[0.004, -0.02, -0.05, 0.01]])
    assert np.array_equal(scale_rates(rate, 0.004), rate)
    # r0 = 0.004: effects 0, 0.024, 0.054, -0.006 (the last raises the rate: not scaled)
    out = scale_rates(rate, 0.004, growth=2.0, sensitivity=3.0)
    want = rate + 0.004 - 2.0 * np.array([[0.0, 0.024, 0.054, 0.0]])
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-15)
    # the untreated patient grows at growth x r0
    np.testing.assert_allclose(scale_rates(np.full((1, 3), 0.004), 0.004, 1.7, 5.0), 1.7 * 0.004)
    # a TGI drug term: r = r0 - E  ->  r0 * g - s * E
    np.testing.assert_allclose(scale_rates(np.array([[0.004 - 0.03]]), 0.004, 0.5, 2.0), -0.058)
    with pytest.raises(InvalidInputError, match="must be > 0"):
        scale_rates(rate, 0.004, sensitivity=0.0)


rates = st.lists(st.floats(-0.2, 0.05), min_size=1, max_size=30)
mult = st.floats(0.05, 20.0)


@settings(max_examples=200, deadline=None)
@given(rates, st.floats(0.0, 0.02), mult, mult, mult)
def test_more_sensitive_or_slower_never_worse(r, r0, g, s1, s2):
    rate = np.array([r])
    lo, hi = sorted((s1, s2))
    a = scale_rates(rate, r0, g, lo)
    b = scale_rates(rate, r0, g, hi)
    assert np.all(b <= a + 1e-15)
    ga, gb = sorted((s1, s2))
    c = scale_rates(rate, r0, ga, g)
    d = scale_rates(rate, r0, gb, g)
    assert np.all(c <= d + 1e-15)
    # and so the M-protein course (integrate is increasing in every step's rate)
    _, ma = integrate(a, 0.5, K_IGG, 3.0)
    _, mb = integrate(b, 0.5, K_IGG, 3.0)
    assert np.all(mb <= ma * (1 + 1e-12))


SCALES = [{"sensitivity": s} for s in (0.25, 1.0, 4.0)] + [{"growth": g} for g in (0.25, 4.0)]


@pytest.fixture(scope="module")
def cohort():
    kw = dict(cycles=2, step_hours=8.0, follow_up_days=100)
    typical = simulate_cohort("Rd", [None], **kw)
    scaled = simulate_cohort("Rd", [None] * 5, tumour_scales=SCALES, **kw)
    return typical, scaled


def test_cohort_typical_patient_unchanged(cohort):
    typical, scaled = cohort
    # multiplier 1 reproduces the run without multipliers exactly
    assert np.array_equal(scaled.m_protein[1], typical.m_protein[0])


def test_cohort_monotone_in_sensitivity_and_growth(cohort):
    _, res = cohort
    m = res.m_protein
    assert np.all(m[2] <= m[1] + 1e-12) and np.all(m[1] <= m[0] + 1e-12)
    assert np.all(m[3] <= m[1] + 1e-12) and np.all(m[1] <= m[4] + 1e-12)
    # not trivially equal: the multipliers move the course
    assert m[2, -1] < 0.9 * m[1, -1] < 0.9 * m[0, -1]
    assert m[4, -1] > 1.1 * m[1, -1]


def test_graded_best_response_across_multipliers(cohort):
    _, res = cohort
    order = {"PD": 0, "SD": 1, "MR": 2, "PR": 3, "VGPR": 4, "CR": 5}
    best = [order[b] for b in res.best_response]
    assert best[0] <= best[1] <= best[2] and best[0] < best[2]


def test_cohort_argument_errors():
    for bad, msg in (
        ([{"growth": 1.0}], "one mapping"),
        ([{"growht": 1.0}, None], "did you mean 'growth'"),
        ([{"growth": -1.0}, None], "must be a number > 0"),
        ({"growth": 1.0}, "one mapping"),
    ):
        with pytest.raises(InvalidInputError, match=msg) as info:
            simulate_cohort("Rd", [None, None], cycles=1, tumour_scales=bad)
        assert "\n" not in str(info.value) and "tumour_scales" in str(info.value)


def test_single_patient_reads_the_patient_file():
    ex = P.load_patient("example")
    fast = replace(ex, tumour=ReadOnlyDict({"growth": 1.0, "sensitivity": 3.0}))
    kw = dict(cycles=1, step_hours=8.0)
    base = simulate_regimen("Rd", patient=ex, **kw)
    more = simulate_regimen("Rd", patient=fast, **kw)
    mb = base.timecourse["m_protein_g_per_dL"].to_numpy()
    mm = more.timecourse["m_protein_g_per_dL"].to_numpy()
    assert np.all(mm <= mb + 1e-12) and mm[-1] < 0.9 * mb[-1]
    # a given tumour model without multipliers takes the patient's; one with its own keeps them
    tm = tumour_model(isotype="IgG", m0_g_per_dL=ex.m_protein_g_dL)
    same = simulate_regimen("Rd", patient=fast, tumour=tm, **kw)
    np.testing.assert_allclose(same.timecourse["m_protein_g_per_dL"].to_numpy(), mm)
    own = tumour_model(isotype="IgG", m0_g_per_dL=ex.m_protein_g_dL, sensitivity_scale=0.5)
    slow = simulate_regimen("Rd", patient=fast, tumour=own, **kw)
    assert np.all(slow.timecourse["m_protein_g_per_dL"].to_numpy() >= mb - 1e-12)
    with pytest.raises(InvalidInputError, match="sensitivity_scale must be a number > 0"):
        tumour_model(sensitivity_scale=0.0)


def test_rank_reintegration_applies_the_patient_multipliers():
    hours = np.arange(0, 24 * 90 + 1, 8.0)
    apo = np.where(hours > 0, 0.3, 0.038)  # a drug raises Apoptosis after the start
    tc = pd.DataFrame(
        {
            "hour": hours,
            "day": hours / 24,
            "node_proliferation": np.ones_like(hours),
            "node_apoptosis": apo,
        }
    )
    m = _Member(46.8, 21.0, 1.0)
    red = {}
    for s in (0.5, 1.0, 2.0):
        tm = tumour_model(isotype="IgG", m0_g_per_dL=3.0, sensitivity_scale=s)
        red[s] = _reintegrate(tc, m, tm, 0.99).max_reduction
    assert red[0.5] < red[1.0] < red[2.0]
