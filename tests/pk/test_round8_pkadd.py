"""Round 8 (pkadd): time-varying linear clearance (isatuximab, Fau 2020) and oral melphalan.

Known answers from outside the engine (a one-compartment bolus with CL(t) solved by quadrature),
invariants of the sigmoid, the source's covariate effects, and the published facts the new
pieces reproduce (docs/pk.md)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import quad

from mmmech import pk
from mmmech.exceptions import InvalidInputError, ModelFileError
from mmmech.pk.engine import Disposition, ode_concentrations
from mmmech.pk.variability import patient_etas, with_etas


def _tv(cl=1.0, v1=10.0, clm=0.664, kcl=50.0, gcl=3.91, **kw):
    return Disposition(cl=cl, v1=v1, clm=clm, kcl=kcl, gcl=gcl, **kw)


def test_cl_factor_shape():
    d = _tv()
    assert d.cl_factor(0.0) == pytest.approx(math.exp(0.664))
    # half of the change on the log scale at t = kcl, whatever the steepness
    assert d.cl_factor(50.0) == pytest.approx(math.exp(0.664 / 2))
    assert d.cl_factor(1e6) == pytest.approx(1.0, abs=1e-9)
    f = [d.cl_factor(t) for t in np.linspace(0, 400, 81)]
    assert all(a >= b for a, b in zip(f, f[1:], strict=False))  # monotone decay for clm > 0
    assert _tv(clm=0.0).cl_factor(3.0) == 1.0
    assert not _tv().linear and Disposition(cl=1.0, v1=10.0).linear


def test_one_compartment_bolus_matches_quadrature():
    """C(t) = D/V exp(-int_0^t CL(s) ds / V): the ODE path against an independent integral."""
    d = _tv()
    t = np.array([0.5, 5.0, 30.0, 50.0, 120.0])
    c = ode_concentrations(d, [pk.Dose(0.0, 100.0, "iv_bolus")], t)
    exact = [
        100.0 / 10.0 * math.exp(-quad(lambda s: d.cl_factor(s), 0, x)[0] * 1.0 / 10.0) for x in t
    ]
    np.testing.assert_allclose(c, exact, rtol=1e-7)


def test_constant_clearance_is_unchanged():
    """clm = 0 is the former model: the closed form and the ODE agree to solver precision."""
    lin = Disposition(cl=0.5, v1=4.0, q=(0.2,), vp=(3.0,))
    doses = [pk.Dose(0.0, 10.0, "iv_infusion", 1.0), pk.Dose(168.0, 10.0, "iv_infusion", 1.0)]
    t = np.array([1.0, 24.0, 169.0, 400.0])
    from mmmech.pk.engine import concentrations

    np.testing.assert_allclose(
        ode_concentrations(lin, doses, t), concentrations(lin, doses, t), rtol=1e-7
    )


@pytest.mark.parametrize("clm", [0.2, 0.664, 1.2])
def test_higher_starting_clearance_gives_less_exposure(clm):
    doses = [pk.Dose(0.0, 100.0, "iv_bolus")]
    t = np.linspace(1, 200, 50)
    lo = ode_concentrations(_tv(clm=clm), doses, t)
    hi = ode_concentrations(_tv(clm=clm + 0.3), doses, t)
    assert np.all(hi <= lo + 1e-12) and hi[-1] < lo[-1]


def test_bad_time_varying_parameters():
    with pytest.raises(InvalidInputError, match="kcl"):
        Disposition(cl=1.0, v1=1.0, clm=0.5, kcl=0.0)
    with pytest.raises(InvalidInputError, match="clm"):
        Disposition(cl=1.0, v1=1.0, clm=math.nan, kcl=1.0)
    text = """
[[drug]]
name = "x"
compartments = 1
routes = ["iv_bolus"]
population = "p"
disease = "d"
n_subjects = 1
source = "PMID:1"
verified = false
[drug.parameters]
cl = { value = 1, unit = "L/h" }
v1 = { value = 1, unit = "L" }
clm = { value = 0.5, unit = "1" }
"""
    with pytest.raises(ModelFileError, match="time-varying clearance needs all of"):
        pk.read_models(text)


def test_isatuximab_time_varying_clearance_from_the_source():
    """Fau 2020 Table S3 (nlmixr2lib encoding): CL(0) = 1.94 CLinf; non-IgG myeloma multiplies
    CLinf by exp(-0.751) and KCL by exp(-0.931)."""
    m = pk.model("isatuximab")
    d = m.disposition
    assert (d.clm, d.kcl, d.gcl) == (0.664, 1055.0, 3.91)
    assert d.cl_factor(0.0) == pytest.approx(1.9425, rel=1e-4)
    n = pk.model("isatuximab", non_igg_myeloma=1).disposition
    assert n.cl == pytest.approx(d.cl * math.exp(-0.751), rel=1e-4)
    assert n.kcl == pytest.approx(d.kcl * math.exp(-0.931), rel=1e-4)
    # the source's IgG-vs-non-IgG steady-state AUC ratio is 2.12 (Table 3, as transcribed in
    # the nlmixr2lib vignette); the typical patients here: 10 mg/kg QW x4 then Q2W, week 30-32
    w = 75.6
    days = [0, 7, 14, 21] + list(range(28, 28 * 8, 14))
    doses = [(dd * 24.0, 10 * w, "iv_infusion", 1.0) for dd in days]
    a_igg = pk.exposure(m, doses, 30 * 168, 32 * 168)["auc"]
    a_non = pk.exposure(pk.model("isatuximab", non_igg_myeloma=1), doses, 30 * 168, 32 * 168)["auc"]
    assert a_non / a_igg == pytest.approx(2.12, rel=0.15)


def test_isatuximab_trough_accumulation_chinese_phase1():
    """PMC:PMC11554793 (abstract): 20 mg/kg QW in cycle 1 then Q2W; Ctrough on day 1 of cycle 2
    was 3.11-fold that on day 8 of cycle 1 (21 patients, no spread given). Sampled patients
    (the model's etas, Asian, 75.6 kg): the ratio of mean troughs within a stated 15%."""
    base = pk.model("isatuximab", asian=1, weight_kg=75.6)
    doses = [(d * 24.0, 20 * 75.6, "iv_infusion", 3.0) for d in (0, 7, 14, 21)]
    t = np.array([7 * 24.0 - 1e-6, 28 * 24.0 - 1e-6])
    c = np.array(
        [
            pk.concentration(
                with_etas(base, patient_etas("pkadd", i, 8, ["isatuximab"])["isatuximab"]),
                doses,
                t,
            )
            for i in range(40)
        ]
    )
    ratio = c[:, 1].mean() / c[:, 0].mean()
    assert ratio == pytest.approx(3.11, rel=0.15)
    # without the decay of clearance the typical patient accumulates more (3.03 vs 2.59)
    const = replace(base, disposition=replace(base.disposition, clm=0.0, _cache={}))
    typ = pk.concentration(base, doses, t)
    flat = pk.concentration(const, doses, t)
    assert typ[1] / typ[0] < flat[1] / flat[0]


def test_melphalan_oral():
    m = pk.model("melphalan")
    assert "oral" in m.routes and m.linear
    a = m.absorption["oral"]
    assert (a.f, a.tlag) == (0.56, 0.3)
    # AUC(0, inf) CL = F D exactly (closed form)
    auc = pk.exposure(m, [(0.0, 16.2, "oral")], 0.0, 1000.0, unit="mg/L")["auc"]
    assert auc * m.disposition.cl == pytest.approx(0.56 * 16.2, rel=1e-6)
    # ka was solved to the fasting mean tmax 1.3 h (DOI:10.1007/BF00256542)
    assert pk.exposure(m, [(0.0, 11.0, "oral")], 0, 24)["tmax"] == pytest.approx(1.3, abs=0.01)


def test_mp_regimen_uses_the_oral_model():
    """MP (melphalan 9 mg/m2 PO days 1-4) no longer holds melphalan at its reference: the
    concentration course is the PK model's, and no held-exposure note is given."""
    import mmmech

    r = mmmech.simulate_regimen("mp", cycles=1)
    assert not any("melphalan: the PK model covers" in n for n in r.notes)
    assert not any(n.startswith("melphalan: no PK model") for n in r.notes)
    m = pk.model("melphalan")
    expect = pk.exposure(m, [(0.0, 9 * 1.8, "oral")], 0.0, 24.0, unit="nM")
    got = r.pk["melphalan"]
    assert got["cmax_nM"] == pytest.approx(expect["cmax"], rel=0.05)


def _isa_course(m, weeks=40):
    w = 75.6
    days = [0, 7, 14, 21] + list(range(28, 7 * weeks, 14))
    doses = [(d * 24.0, 10 * w, "iv_infusion", 1.0) for d in days]
    return days, doses


def test_isatuximab_label_facts_at_10_mg_per_kg():
    """SARCLISA label 12.3 (DailyMed:a0473462-6f9d-4eca-a5bf-8620aea68e8a, read in a monograph
    copy, secondary), 10 mg/kg QW x4 then Q2W: volume of distribution 8.13 L; median time to
    steady state 18 weeks with a 3.1-fold accumulation; >= 99% eliminated about 2 months after
    the last dose at steady state. Typical IgG-myeloma patient, 75.6 kg, commercial (P2F2)
    material. Stated tolerances (no spread in the label): 10% on the volume, 15% on the
    accumulation, +-4 weeks on the time to steady state, 45-75 days for 'about 2 months'."""
    m = pk.model("isatuximab", weight_kg=75.6, p2f2_material=1)
    d = m.disposition
    assert d.v1 + sum(d.vp) == pytest.approx(8.13, rel=0.10)
    days, doses = _isa_course(m)
    last = days[-1] * 24.0
    t = np.arange(0.0, last + 24 * 120, 6.0)
    c = pk.concentration(m, doses, t)
    troughs = [(dd, float(np.interp(dd * 24.0 - 1e-6, t, c))) for dd in days[5:]]
    ss = troughs[-1][1]
    week_ss = next(dd for dd, v in troughs if v >= 0.9 * ss) / 7
    assert 14 <= week_ss <= 22
    acc = pk.exposure(m, doses, last - 336, last)["auc"] / pk.exposure(m, doses[:1], 0, 336)["auc"]
    assert acc == pytest.approx(3.1, rel=0.15)
    peak = float(c[(t >= last) & (t <= last + 24)].max())
    gone = t[(t > last) & (c < 0.01 * peak)][0]
    assert 45 <= (gone - last) / 24 <= 75
    # the constant-clearance model (rounds 4-7) reached steady state in 6 weeks, 2.4-fold
    flat = replace(m, disposition=replace(d, clm=0.0, _cache={}))
    acc_flat = (
        pk.exposure(flat, doses, last - 336, last)["auc"]
        / pk.exposure(flat, doses[:1], 0, 336)["auc"]
    )
    assert acc_flat < 0.85 * 3.1


def test_new_isatuximab_etas_leave_the_existing_draws_unchanged():
    """KCL and gamma gained etas in round 8; they come after the former parameters in the draw
    order, so every patient's former etas (cl ... km) are the same numbers as before."""
    from types import MappingProxyType

    from mmmech.pk.variability import eta_stream, sample_etas

    m = pk.model("isatuximab")
    old = replace(
        m,
        parameters=MappingProxyType(
            {k: p for k, p in m.parameters.items() if k not in ("clm", "kcl", "gamma_cl")}
        ),
    )
    for i in range(5):
        new = sample_etas(m, eta_stream("ndmm", i, 3, "isatuximab"))
        before = sample_etas(old, eta_stream("ndmm", i, 3, "isatuximab"))
        assert set(new) == set(before) | {"kcl", "gamma_cl"}
        assert all(new[k] == before[k] for k in before)
        sampled = with_etas(m, new).disposition
        assert sampled.kcl == pytest.approx(1055.0 * math.exp(new["kcl"]))
        assert sampled.gcl == pytest.approx(3.91 * math.exp(new["gamma_cl"]))


def test_indicator_covariates_accept_zero():
    """A binary factor (linear form, reference 0) may be given as 0 (the reference patient),
    so a cohort can pass every patient's indicator; a power covariate still needs x > 0."""
    a = pk.model("isatuximab", non_igg_myeloma=0, asian=0)
    assert a.disposition == pk.model("isatuximab").disposition
    with pytest.raises(ModelFileError, match="must be a number >= 0"):
        pk.model("isatuximab", non_igg_myeloma=-1)
    with pytest.raises(ModelFileError, match="must be a number > 0"):
        pk.model("isatuximab", weight_kg=0)
    with pytest.raises(ModelFileError, match="must be a number > 0"):
        pk.model("pomalidomide", total_protein_g_l=0)
