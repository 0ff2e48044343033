"""The cohort fast path gives exactly what simulate_regimens gives for the same patients."""

import numpy as np
import pytest

from mmmech import dynamics
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.exceptions import InvalidInputError

BODIES = [
    {"weight_kg": 55.0, "bsa_m2": 1.55},
    {"weight_kg": 70.0, "bsa_m2": 1.8},
    {"weight_kg": 105.0, "bsa_m2": 2.2},
]


@pytest.mark.parametrize("chunk", [1, 2, 10])
def test_cohort_equals_simulate_regimens(chunk):
    # binding kinetics on in both (bortezomib PSMB5/PSMB8 dissociation), same network kernel
    want = dynamics.simulate_regimens(
        [{"regimen": "vrd", "body": b} for b in BODIES], cycles=1, step_hours=6
    )
    got = simulate_cohort("vrd", BODIES, cycles=1, step_hours=6, chunk=chunk)
    assert any("binding kinetics" in n for n in got.notes)
    assert got.m_protein.shape == (3, len(want[0].timecourse))
    np.testing.assert_allclose(got.hours, want[0].timecourse["hour"].to_numpy())
    # the cohort's PK (shifted single-dose courses, also for the binding-kinetics grid) differs
    # from the engine's superposition by rounding (~1e-16 relative); the adaptive integrator may
    # amplify that, at most to its tolerance: measured below 1e-12 g/dL
    for r, res in enumerate(want):
        tc = res.timecourse
        np.testing.assert_allclose(
            got.m_protein[r], tc["m_protein_g_per_dL"].to_numpy(), rtol=1e-8, atol=1e-10
        )
        np.testing.assert_allclose(
            got.tumour_burden[r], tc["tumour_burden"].to_numpy(), rtol=1e-8, atol=1e-10
        )
        assert got.best_response[r] == res.best_response
        ttp = res.time_to_progression_days
        assert (np.isnan(got.time_to_progression_days[r]) and ttp is None) or (
            got.time_to_progression_days[r] == ttp
        )
    assert got.ok.all()
    # patients differ in body size, so their courses differ
    assert np.abs(got.m_protein[0] - got.m_protein[2]).max() > 0
    assert set(got.seconds) == {"pk", "occupancy", "network", "tumour_imwg"}


def test_cohort_bad_input_is_one_line():
    with pytest.raises(InvalidInputError, match=r"simulate_cohort\(\): bodies must be a sequence"):
        simulate_cohort("vrd", {"weight_kg": 70.0}, cycles=1)
    with pytest.raises(InvalidInputError, match="at least one body"):
        simulate_cohort("vrd", [], cycles=1)
    with pytest.raises(InvalidInputError, match="chunk must be an integer"):
        simulate_cohort("vrd", BODIES, cycles=1, chunk=0)


def test_pk_reuse_scales_linear_courses_exactly():
    """A cached concentration course scaled by the dose ratio equals the computed one."""
    from mmmech.dynamics import regimen as rg
    from mmmech.dynamics.cohort import _pk_cached

    times = np.linspace(0.0, 21 * 24.0, 400)
    body = rg.REFERENCE_BODY
    base = rg._doses(rg._item("vrd", "t"), 1, body)
    double = rg._doses(
        rg._item({"regimen": "vrd", "dose_scale": {"lenalidomide": 2}}, "t"), 1, body
    )
    cache: dict = {}
    first = _pk_cached(cache, "lenalidomide", base, times, "reference", {}, [])
    assert len(cache) == 1
    got = _pk_cached(cache, "lenalidomide", double, times, "reference", {}, [])
    want = rg._conc_matrix("lenalidomide", double, times, "reference", {}, [])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got, 2 * first, rtol=1e-13)
    # a covariate the model uses is part of the key: another BSA is computed, not reused
    b1 = _pk_cached(cache, "bortezomib", base, times, "reference", {"bsa_m2": 1.6}, [])
    b2 = _pk_cached(cache, "bortezomib", base, times, "reference", {"bsa_m2": 2.1}, [])
    want2 = rg._conc_matrix("bortezomib", base, times, "reference", {"bsa_m2": 2.1}, [])
    np.testing.assert_allclose(b2, want2, rtol=1e-13, atol=1e-15)
    assert np.abs(b1 - b2).max() > 0


@pytest.mark.parametrize("drug", ["bortezomib", "lenalidomide", "dexamethasone"])
def test_superposed_pk_equals_the_pk_engine(drug):
    """Shifted, scaled single-dose courses = the engine's superposition (2 cycles of VRd,
    patient-specific BSA covariate), on the grid of 1-h substeps."""
    from mmmech.dynamics import regimen as rg
    from mmmech.dynamics.cohort import _superposed

    times = (np.arange(42 * 24) + 0.5) * 1.0
    body = rg._body({"weight_kg": 88.0, "bsa_m2": 2.05}, "t")
    ev = rg._doses(rg._item("vrd", "t"), 2, body)
    cov = dict(body.known)
    mine = [e for e in ev if e.drug == drug]
    want = rg._conc_matrix(drug, ev, times, "reference", cov, [])
    got = _superposed(drug, mine, times, cov, [], 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * want.max())
    # off the grid (dose times not multiples of the grid step) it declines
    assert _superposed(drug, mine, times * 0.7, cov, [], 0.7 * 1.0 * 5 / 3) is None
    assert _superposed(drug, mine, times, cov, [], None) is None


def test_binding_kinetics_blocks_do_not_change_the_result(monkeypatch):
    """Patients are put through the binding-kinetics grid in blocks (memory); block edges
    change nothing, and the kinetics do change the course (bortezomib's dissociation)."""
    from mmmech.dynamics import cohort

    whole = simulate_cohort("vrd", BODIES, cycles=1, step_hours=6)
    monkeypatch.setattr(cohort, "_KIN_BLOCK", 2)
    blocks = simulate_cohort("vrd", BODIES, cycles=1, step_hours=6)
    np.testing.assert_array_equal(whole.m_protein, blocks.m_protein)
    instant = dynamics.simulate_regimens(
        [{"regimen": "vrd", "body": b} for b in BODIES],
        cycles=1,
        step_hours=6,
        binding_kinetics=False,
    )
    m0 = instant[0].timecourse["m_protein_g_per_dL"].to_numpy()
    assert np.abs(whole.m_protein[0] - m0).max() > 0


CONTEXTS = [
    ["marrow"],
    ["marrow", "gain1q"],
    ["marrow", "t11_14"],
    ["marrow", "gain1q"],
    ["marrow", "psmb5_mutant"],
]
CTX_BODIES = BODIES + BODIES[:2]


def test_per_patient_contexts_in_one_call_equal_separate_calls():
    """Patients in different contexts (settings and input levels: one shared kernel call;
    PSMB5 mutation: the same structure, other potencies; t11_14 changes a ceiling: a structure
    of its own) give what one call per context gives."""
    got = simulate_cohort("vrd", CTX_BODIES, cycles=1, step_hours=6, contexts=CONTEXTS, chunk=3)
    for r, ctx in enumerate(CONTEXTS):
        one = simulate_cohort("vrd", [CTX_BODIES[r]], cycles=1, step_hours=6, context=ctx)
        np.testing.assert_allclose(got.m_protein[r], one.m_protein[0], rtol=1e-9, atol=0)
        np.testing.assert_allclose(got.tumour_burden[r], one.tumour_burden[0], rtol=1e-9, atol=0)
        assert got.best_response[r] == one.best_response[0]
    # the contexts matter: gain1q (MCL1Basal x1.4) and t11_14 courses differ from marrow's
    assert np.abs(got.m_protein[1] - got.m_protein[0]).max() > 1e-6
    assert np.abs(got.m_protein[2] - got.m_protein[0]).max() > 1e-6
    assert np.abs(got.m_protein[4] - got.m_protein[1]).max() > 1e-6


@pytest.mark.parametrize(
    "levels",
    [
        {"MCL1Basal": 1.4},
        {"CD38Expression": 0.6},
        {"BCL2L1": 0.7},
        {"MCL1Basal": 0.5, "BCL2L1": 0.8},
    ],
)
def test_levels_equal_simulate_regimen(levels):
    """A patient's levels (held input levels in the shared call, or a recompiled ceiling) give
    what simulate_regimen(levels=...) gives for that patient."""
    body = BODIES[2]
    want = dynamics.simulate_regimen("vrd", cycles=1, step_hours=6, body=body, levels=levels)
    tc = want.timecourse
    got = simulate_cohort("vrd", [BODIES[0], body], cycles=1, step_hours=6, levels=[None, levels])
    np.testing.assert_allclose(
        got.m_protein[1], tc["m_protein_g_per_dL"].to_numpy(), rtol=1e-8, atol=1e-10
    )
    assert got.best_response[1] == want.best_response
    base = simulate_cohort("vrd", [BODIES[0]], cycles=1, step_hours=6)
    np.testing.assert_allclose(got.m_protein[0], base.m_protein[0], rtol=1e-9, atol=0)


def test_per_patient_specs_bad_input_is_one_line():
    with pytest.raises(InvalidInputError, match=r"simulate_cohort\(\): contexts must have one"):
        simulate_cohort("vrd", BODIES, cycles=1, contexts=["marrow"])
    with pytest.raises(InvalidInputError, match=r"simulate_cohort\(\): levels must be a sequence"):
        simulate_cohort("vrd", BODIES, cycles=1, levels={"MCL1Basal": 1.2})
    with pytest.raises(InvalidInputError, match="largest level allowed"):
        simulate_cohort("vrd", BODIES[:1], cycles=1, levels=[{"CD38Expression": 3.0}])
