"""Simulations through the public API: the acceptance list of issue 5, invariants, ensembles."""

from types import SimpleNamespace as NS

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mmmech
from mmmech import drugs
from mmmech.exceptions import (
    InvalidInputError,
    UnknownContextError,
    UnknownDrugError,
    UnknownNodeError,
)
from mmmech.model import EnsembleParams, Simulator, simulate, simulate_batch


def ref(name):
    return drugs.get(name).reference_nM


def delta(name, nodes, context="cell_line", dose=None, **kw):
    base = simulate("myeloma", {}, context=context, **kw)
    out = simulate("myeloma", {name: ref(name) if dose is None else dose}, context=context, **kw)
    assert out["converged"] and base["converged"]

    def get(o, k):
        return o["readouts"][k] if k in o["readouts"] else o["nodes"][k]

    return {k: get(out, k) - get(base, k) for k in nodes}


def test_bortezomib_acceptance():
    d = delta("bortezomib", ["RELA", "ATF4", "DDIT3", "PMAIP1", "apoptosis", "viability"])
    # partial: model 0.3 curates pi_nfkb_weight 0.3 (Hideshima et al., Blood 2009)
    assert d["RELA"] < -0.1
    for k in ("ATF4", "DDIT3", "PMAIP1"):
        assert d[k] > 0.2, (k, d)
    assert d["apoptosis"] > 0.3 and d["viability"] < -0.3


def test_lenalidomide_acceptance_and_crbn_knockout():
    names = ["IKZF1", "IKZF3", "IRF4", "MYC"]
    d = delta("lenalidomide", names)
    assert all(d[k] < -0.1 for k in names), d
    ko = delta("lenalidomide", names + ["viability"], knockouts=("CRBN",))
    assert all(abs(ko[k]) < 1e-5 for k in names + ["viability"]), ko  # integration tolerance


def test_daratumumab_needs_effectors():
    cell = delta("daratumumab", ["viability"], context="cell_line")
    marrow = delta("daratumumab", ["viability", "immune_killing"], context="marrow")
    assert abs(cell["viability"]) < 1e-5
    assert marrow["viability"] < -0.2 and marrow["immune_killing"] > 0.2


def test_dexamethasone_raises_bim_and_blunts_lenalidomide_nk_boost():
    assert delta("dexamethasone", ["BCL2L11"])["BCL2L11"] > 0.2
    # Hsu 2011 is an in-vitro finding: checked at the in-vitro end of the contested weight
    # parameters.dex_nk_weight (0.5; the default 0.1 follows in-vivo NK measurements, Katz 1984,
    # docs/dynamics.md), where dexamethasone more than halves lenalidomide's NK activity
    hi = {"dex_nk_weight": 0.5}
    len_only = simulate(
        "myeloma", {"lenalidomide": ref("lenalidomide")}, context="marrow", params=hi
    )
    with_dex = simulate(
        "myeloma",
        {"lenalidomide": ref("lenalidomide"), "dexamethasone": ref("dexamethasone")},
        context="marrow",
        params=hi,
    )
    assert with_dex["nodes"]["NKActivity"] < 0.5 * len_only["nodes"]["NKActivity"]  # Hsu 2011
    # at the default the suppression is smaller but still there
    len_d = simulate("myeloma", {"lenalidomide": ref("lenalidomide")}, context="marrow")
    dex_d = simulate(
        "myeloma",
        {"lenalidomide": ref("lenalidomide"), "dexamethasone": ref("dexamethasone")},
        context="marrow",
    )
    assert dex_d["nodes"]["NKActivity"] < len_d["nodes"]["NKActivity"]


def test_every_library_drug_reaches_a_readout_in_some_context():
    names = sorted({d.name for d in drugs.library().values()})
    rows = []
    # the alkylators at their oral clinical exposure barely move the steady state (the DNA-damage
    # module; docs/model-notes.md): they are checked at 100 x their reference
    factor = {"melphalan": 100.0, "cyclophosphamide": 100.0}
    # doxorubicin's reference is the VAD infusion plateau: checked at its recorded bolus peak
    dox = drugs.get("doxorubicin").reference
    factor["doxorubicin"] = dox.high / dox.value
    for ctx in ("cell_line", "marrow"):
        regs = [{}] + [{n: ref(n) * factor.get(n, 1.0)} for n in names]
        df = simulate_batch("myeloma", regs, context=ctx)
        assert df["converged"].all()
        ro = df[
            ["viability", "apoptosis", "proliferation", "immune_killing", "angiogenesis"]
        ].to_numpy()
        rows.append(np.abs(ro[1:] - ro[0]).max(axis=1))
    effect = np.maximum(*rows)
    silent = [n for n, e in zip(names, effect, strict=False) if e < 0.01]
    assert not silent, silent


def test_context_effects_and_marrow_protection():
    cl = simulate("myeloma", {"bortezomib": 30.0}, context="cell_line")
    mw = simulate("myeloma", {"bortezomib": 30.0}, context="marrow")
    assert mw["nodes"]["STAT3"] > 0.5 and cl["nodes"]["STAT3"] == 0.0
    assert mw["readouts"]["apoptosis"] < cl["readouts"]["apoptosis"]  # IL-6/AKT protect


def test_user_context_file(tmp_path):
    p = tmp_path / "ko.toml"
    p.write_text(
        '[context]\nname = "no_crbn"\nextends = "marrow"\nknockout = ["CRBN"]\n'
        "[set]\nDeathReceptors = 0.5\n"
    )
    out = simulate("myeloma", {"lenalidomide": ref("lenalidomide")}, context=str(p))
    assert out["context"] == "no_crbn"
    assert out["nodes"]["IKZF1"] == pytest.approx(1.0)
    assert out["nodes"]["CASP8"] > 0.3 and out["nodes"]["NKCells"] == 1.0


def test_unknown_names_get_suggestions():
    with pytest.raises(UnknownContextError, match="marrow"):
        simulate("myeloma", {}, context="marow")
    with pytest.raises(UnknownNodeError, match="CRBN"):
        simulate("myeloma", {}, knockouts=("CRBM",))
    with pytest.raises(UnknownDrugError):
        simulate("myeloma", {"bortezomb": 10.0})
    with pytest.raises(InvalidInputError, match="finite"):
        simulate("myeloma", {"bortezomib": -1.0})
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        simulate("myeloma", {}, settings={"IL6": 2.0})


def test_batch_matches_single_and_returns_dataframe():
    regs = [
        {"bortezomib": 3.0},
        {"lenalidomide": 1000.0},
        {"bortezomib": 3.0, "lenalidomide": 1000.0},
    ]
    df = simulate_batch("myeloma", regs, context="marrow")
    assert list(df.index) == [0, 1, 2]
    for c in ("viability", "apoptosis", "proliferation", "converged", "IRF4", "bortezomib_nM"):
        assert c in df.columns
    one = simulate("myeloma", regs[2], context="marrow")
    assert df.loc[2, "viability"] == pytest.approx(one["readouts"]["viability"], abs=1e-6)


def test_python_and_auto_backends_agree():
    sim = Simulator("myeloma", ["bortezomib", "lenalidomide", "selinexor"], context="marrow")
    conc = np.array([[0, 0, 0], [10, 0, 0], [0, 3000, 0], [30, 1000, 500.0]])
    a = sim.run(conc, backend="python")
    b = sim.run(conc, backend="auto")
    assert a.converged.all() and b.converged.all()
    np.testing.assert_allclose(a.y, b.y, atol=1e-4)


def test_non_convergence_is_flagged_not_silent():
    sim = Simulator("myeloma", ["bortezomib"])
    res = sim.run(np.array([[100.0]]), backend="python", max_steps=3)
    assert not res.converged[0]


def test_psmb5_mutation_weakens_bortezomib():
    wt = simulate("myeloma", {"bortezomib": 10.0})
    mt = simulate("myeloma", {"bortezomib": 10.0}, mutations=("PSMB5 A49T",))
    assert mt["nodes"]["PSMB5"] > wt["nodes"]["PSMB5"]
    assert mt["readouts"]["viability"] > wt["readouts"]["viability"]


def test_ensemble_parameters_sample_within_ranges():
    sim = Simulator("myeloma", ["bortezomib", "lenalidomide"], context="marrow")
    ens = sim.sample_params(16, seed=3)
    assert isinstance(ens, EnsembleParams) and ens.size == 16
    k = sim.compiled.edge_index("STAT3", "MCL1")
    p = sim.model.parameters["il6_mcl1_weight"]
    assert np.all((ens.w[:, k] >= p.low) & (ens.w[:, k] <= p.high))
    np.testing.assert_array_equal(ens.w[0], sim.compiled.params.w[0])
    again = sim.sample_params(16, seed=3)
    np.testing.assert_array_equal(ens.w, again.w)
    conc = np.tile([[10.0, 1000.0]], (16, 1))
    res = sim.run(conc, params=ens, param_index=np.arange(16))
    assert res.converged.all() and np.ptp(res.readouts["viability"]) > 0
    base = sim.run(conc[:1])
    assert res.readouts["viability"][0] == pytest.approx(base.readouts["viability"][0], abs=1e-5)


def _toy(target, action, K=10.0, **kw):
    return NS(
        name=f"toy_{target}_{action}",
        targets=(
            NS(
                target=target,
                action=action,
                potency_nM=K,
                hill=1.0,
                e3=kw.get("e3"),
                neo_substrates=kw.get("neo", ()),
                potency=None,
            ),
        ),
    )


TOYS = [
    _toy("PSMB5", "inhibit"),
    _toy("NR3C1", "agonist"),
    _toy("XPO1", "covalent_inhibit"),
    _toy("CD38", "bind_and_recruit_effectors"),
    _toy("DNA", "damage_DNA"),
    _toy("CRBN", "glue_degrade", e3="CRBN", neo=("IKZF1", "IKZF3")),
]


@settings(max_examples=15, deadline=None)
@given(
    subset=st.lists(st.sampled_from(range(len(TOYS))), min_size=1, max_size=4, unique=True),
    ctx=st.sampled_from(["cell_line", "marrow"]),
)
def test_zero_dose_changes_nothing(subset, ctx):
    sim = Simulator("myeloma", [TOYS[i] for i in subset], context=ctx)
    base = Simulator("myeloma", [], context=ctx).run(np.zeros((1, 0)))
    res = sim.run(np.zeros((1, len(subset))))
    for n in base.nodes:
        assert res.node(n)[0] == pytest.approx(base.node(n)[0], abs=1e-5), n  # ODE tolerance


@settings(max_examples=10, deadline=None)
@given(i=st.sampled_from(range(len(TOYS))), dose=st.floats(0.1, 1e4))
def test_knocked_out_target_makes_inhibitor_inert(i, dose):
    toy = TOYS[i]
    tgt = toy.targets[0].target
    if tgt not in ("PSMB5", "XPO1", "NR3C1"):
        return
    sim = Simulator("myeloma", [toy], knockouts=(tgt,))
    res = sim.run(np.array([[0.0], [dose]]))
    for n in sim.model.nodes:  # every network node; the drug input differs
        assert res.node(n)[1] == pytest.approx(res.node(n)[0], abs=1e-9), n


def test_viability_falls_smoothly_with_bortezomib_dose():
    sim = Simulator("myeloma", ["bortezomib"])
    doses = np.geomspace(0.3, 300, 13)[:, None]
    v = sim.run(doses).readouts["viability"]
    assert np.all(np.diff(v) <= 1e-9)
    # steep (mitochondrial permeabilisation is switch-like in model 0.3) but no cliff between
    # neighbouring doses 1.8-fold apart
    assert np.max(np.abs(np.diff(v))) < 0.6


def test_toplevel_simulate_is_exposed():
    assert mmmech.simulate is simulate


# ------------------------------------------------------------------ antibody effector profiles
@pytest.mark.parametrize(
    "effectors, expected",
    [
        (None, {"OpsonizationADCC", "OpsonizationCDC", "OpsonizationADCP"}),
        (("ADCC", "ADCP"), {"OpsonizationADCC", "OpsonizationADCP"}),
        (("CDC",), {"OpsonizationCDC"}),
    ],
)
def test_antibody_attaches_only_to_the_effectors_it_recruits(effectors, expected):
    from mmmech.pathways import attach_drugs

    toy = NS(
        name="toy_ab",
        targets=(
            NS(
                target="CD38",
                action="bind_and_recruit_effectors",
                potency_nM=5.0,
                hill=1.0,
                e3=None,
                neo_substrates=(),
                potency=None,
                effectors=effectors,
            ),
        ),
    )
    att = attach_drugs(mmmech.pathways.load("myeloma"), [toy])
    hit = {t for s, t, sign, _ in att.edges if s.startswith("drug_")}
    # an anti-CD38 antibody also enters the antigen node of CD38 (antigen_nodes), whatever
    # effectors it recruits
    assert hit == expected | {"CD38Engaged"}
    assert all("CD38" in att.rules[t] for t in expected)
    # every opsonization node the drug marks feeds exactly its own effector mechanism
    m = mmmech.pathways.load("myeloma")
    for t in expected:
        assert {e.target for e in m.edges if e.source == t} == {t.replace("Opsonization", "")}


def test_library_effector_profiles_and_their_errors():
    lib = drugs.library()
    assert lib["daratumumab"].targets[0].effectors == ("ADCC", "CDC", "ADCP")
    elo = [t for t in lib["elotuzumab"].targets if t.action == "bind_and_recruit_effectors"][0]
    assert elo.effectors == ("ADCC", "ADCP") and elo.effectors_sources
    assert elo.to_dict()["effectors"] == ["ADCC", "ADCP"]
    text = """
[[drug]]
name = "toyab"
type = "antibody"
drug_class = "anti_CD38_antibody"
mechanism = "toy"
mol_weight = 148000
mol_weight_source = "toy"
sources = ["PMID:1"]
[[drug.target]]
target = "CD38"
action = "bind_and_recruit_effectors"
potency = { value = 5, unit = "nM", assay = "toy", source = "PMID:1" }
%s
[drug.reference]
value = 10
unit = "nM"
kind = "toy"
source = "PMID:1"
"""
    ok = drugs.read_library(text % 'effectors = ["CDC", "ADCC"]\neffectors_sources = ["PMC:PMC1"]')
    assert ok["toyab"].targets[0].effectors == ("ADCC", "CDC")
    from mmmech.exceptions import ModelFileError

    with pytest.raises(ModelFileError, match="did you mean.*ADCP|ADCP"):
        drugs.read_library(text % 'effectors = ["ADPC"]\neffectors_sources = ["PMID:1"]')
    with pytest.raises(ModelFileError, match="effectors_sources"):
        drugs.read_library(text % 'effectors = ["ADCC"]')


def test_one_regimen_gives_a_dict_a_batch_always_a_dataframe():
    import pandas as pd

    one = simulate("myeloma", {"bortezomib": 3.0})
    assert isinstance(one, dict) and set(one) >= {"readouts", "nodes", "converged", "drugs"}
    single_row = simulate_batch("myeloma", [{"bortezomib": 3.0}])
    assert isinstance(single_row, pd.DataFrame) and len(single_row) == 1
    assert single_row.loc[0, "viability"] == pytest.approx(one["readouts"]["viability"], abs=1e-12)
    with pytest.raises(InvalidInputError, match="simulate_batch\\(\\): regimens must be a list"):
        simulate_batch("myeloma", {"bortezomib": 3.0})
    with pytest.raises(InvalidInputError, match="must not be an empty list"):
        simulate_batch("myeloma", [])


def test_the_list_form_of_simulate_still_works_with_a_deprecation_warning():
    regs = [{}, {"bortezomib": 3.0}]
    with pytest.warns(DeprecationWarning, match="simulate_batch"):
        df = simulate("myeloma", regs)
    assert df.equals(simulate_batch("myeloma", regs))
    assert mmmech.simulate_batch is simulate_batch
