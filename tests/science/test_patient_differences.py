"""Biology of patient differences (issue 17): t(11;14) BCL2 dependence and prior-therapy
refractoriness act through sourced mechanisms (pathways/contexts/t11_14.toml,
len_refractory.toml, pi_refractory.toml; docs/model-notes.md, "Patient differences").

Facts from outside the model that these tests hold it to (none set a number):
- single-agent venetoclax (M13-367, Kumar et al., Blood 2017;130:2401): ORR 40% with t(11;14)
  against 21% overall, 12 of 14 responses in t(11;14);
- cells with stable cereblon depletion resist lenalidomide and pomalidomide but not bortezomib,
  dexamethasone or melphalan (Zhu et al., Blood 2011;118:4771);
- bortezomib-resistant cells have higher basal proteasome activity and bortezomib-refractory
  patients lower spliced XBP1 (PMID:32039016); a resistance that lives in the proteasome leaves
  drugs that do not act on it unchanged.
"""

import numpy as np
import pytest

from mmmech import drugs, dynamics, populations, simulate

STEP = 6.0
CYCLES = 6
REFRACTORY = ("len_refractory", "pi_refractory")


def _apoptosis(drugs, context):
    return simulate(regimens=drugs, context=context)["readouts"]["apoptosis"]


def _m(res):
    return res.timecourse["m_protein_g_per_dL"].to_numpy()


@pytest.mark.parametrize("scale", [1.0, 0.01])
def test_venetoclax_alone_kills_t11_14_more_than_other_myeloma(scale):
    """BCL2 dependence: in the marrow, venetoclax alone at clinically reached concentrations
    (the reference and 1/100 of it) gives more apoptosis with t(11;14) than without, while
    untreated t(11;14) cells are not killed by the context itself."""
    ven = {"venetoclax": drugs.get("venetoclax").reference_nM * scale}
    base_u, base_v = _apoptosis({}, ["marrow"]), _apoptosis(ven, ["marrow"])
    t_u, t_v = _apoptosis({}, ["marrow", "t11_14"]), _apoptosis(ven, ["marrow", "t11_14"])
    assert t_u < 0.02 and base_u < 0.02, (base_u, t_u)
    assert t_v - t_u > 5 * (base_v - base_u) and t_v - t_u > 0.03, (base_v, t_v)


def test_single_agent_venetoclax_regimen_ranks_t11_14_first():
    """regimens/venetoclax.toml (M13-367, 1200 mg daily): the t(11;14) course falls deeper and
    its IMWG response is better than the same typical patient's without t(11;14)."""
    order = ["CR", "VGPR", "PR", "MR", "SD", "PD"]
    (other,) = dynamics.simulate_regimens(["venetoclax"], cycles=CYCLES, step_hours=STEP)
    (t11,) = dynamics.simulate_regimens(
        ["venetoclax"], cycles=CYCLES, step_hours=STEP, context=["marrow", "t11_14"]
    )
    assert _m(t11).min() < 0.75 * _m(other).min()
    assert order.index(t11.best_response) < order.index(other.best_response)


def test_rrmm_refractoriness_maps_to_contexts():
    ctx = populations.load("rrmm").context_of()
    assert ctx["lenalidomide_refractory"] == ("len_refractory",)
    assert ctx["bortezomib_refractory"] == ("pi_refractory",)
    # sampled patients carry the context exactly when they carry the feature
    for p in populations.sample("rrmm", 40, seed=3):
        assert ("len_refractory" in p.contexts) == ("lenalidomide_refractory" in p.features)
        assert ("pi_refractory" in p.contexts) == ("bortezomib_refractory" in p.features)


@pytest.fixture(scope="module")
def courses():
    """Rd, Vd and dexamethasone alone for the first rrmm patients (seed 1), each with and
    without each refractory context: the same patients, only the refractory status differs."""
    pats = populations.sample("rrmm", 4, seed=1)
    out = {}
    for p in pats:
        genetic = [c for c in p.contexts if c not in REFRACTORY]
        for extra in ((), ("len_refractory",), ("pi_refractory",)):
            res = dynamics.simulate_regimens(
                ["rd", "vd", "d"],
                cycles=CYCLES,
                step_hours=STEP,
                context=["marrow", *genetic, *extra],
            )
            for r in res:
                out[(p.id, extra, r.regimen)] = _m(r)
    return [p.id for p in pats], out


def test_lenalidomide_refractory_patients_respond_less_to_rd(courses):
    ids, out = courses
    for pid in ids:
        sens, refr = out[(pid, (), "rd")], out[(pid, ("len_refractory",), "rd")]
        assert refr.min() > 1.5 * sens.min(), pid
        assert np.all(refr >= sens - 1e-9), pid


def test_pi_refractory_patients_respond_less_to_vd(courses):
    ids, out = courses
    responders = 0
    for pid in ids:
        sens, refr = out[(pid, (), "vd")], out[(pid, ("pi_refractory",), "vd")]
        assert np.all(refr >= sens - 1e-9), pid
        assert refr[-1] > sens[-1] + 0.03 * sens[0], pid  # Vd is weak in the model (docs/trials.md)
        if sens.min() < 0.9 * sens[0]:  # patients whose Vd lowers the M-protein at all
            responders += 1
            assert refr.min() > 1.2 * sens.min(), pid
    assert responders >= 1


def test_refractoriness_leaves_untouched_drugs_alone(courses):
    """Cereblon loss does not change Vd or dexamethasone alone (no IMiD); the proteasome
    ceiling does not change Rd or dexamethasone beyond what the untreated proteasome's lost
    capacity 0.015 -> 0.008 moves (within 1% or 0.5% of the baseline M-protein)."""
    ids, out = courses
    for pid in ids:
        for reg in ("vd", "d"):
            np.testing.assert_allclose(out[(pid, ("len_refractory",), reg)], out[(pid, (), reg)])
        for reg in ("rd", "d"):
            base = out[(pid, (), reg)]
            got = out[(pid, ("pi_refractory",), reg)]
            np.testing.assert_allclose(got, base, rtol=0.01, atol=0.005 * base[0])
