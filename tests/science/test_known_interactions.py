"""Published myeloma drug interactions reproduced by the bundled network (issues 5 and 8).

Each test scores a combination with :func:`mmmech.score` on its default grid (each drug's
simulated EC10-EC90), in the context the paper used, and asserts the sign of the summary Bliss
and ZIP scores (SynergyFinder convention, positive = synergy). Where the model carries the
interaction through one curated mechanism, a second assertion removes that mechanism (a node
fixed with ``settings`` or ``knockouts``) and checks that the synergy goes away: the sign must
come from the mechanism the paper names, not from the shape of the dose-response curves.

Papers are cited by PubMed ID or DOI where one was confirmed; the sources of the network's edges
are in ``pathways/myeloma.toml``.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mmmech
from mmmech import drugs, simulate_batch


def ref(name):
    return drugs.get(name).reference_nM


def bliss_zip(pair, context, **kw):
    r = mmmech.score(list(pair), context=context, metrics=["bliss", "zip"], **kw)
    assert r.converged
    return r.scores["bliss"], r.scores["zip"]


# ------------------------------------------------------------------ proteasome + HDAC6
@pytest.mark.parametrize("hdaci", ["panobinostat", "vorinostat"])
def test_bortezomib_with_hdac_inhibitor_is_synergistic_through_the_aggresome(hdaci):
    """Hideshima et al., PNAS 2005 (PMID:15937109): blocking HDAC6-dependent aggresome
    clearance of misfolded protein synergistically augments bortezomib cytotoxicity in myeloma
    cells. Nawrocki et al., Blood 2008 (DOI:10.1182/blood-2007-12-130823): SAHA (vorinostat)
    disrupts bortezomib-induced aggresome formation; ER stress and caspase-4 mediate the
    combined apoptosis. Review of PI + deacetylase-inhibitor synergy: PMC:PMC5527560. Cell lines
    in culture: ``cell_line``.

    Model 0.3: two routes. MisfoldedProtein = ... ProteasomeInhibition AND NOT Aggresome (the
    aggresome route), and HDAC inhibition raising BIM (Mitsiades et al. 2004, PMID:14695887),
    which meets bortezomib's BIM and NOXA at the mitochondrial threshold. Holding the aggresome
    lowers the synergy; holding histone acetylation as well removes it."""
    pair = ("bortezomib", hdaci)
    bliss, zip_ = bliss_zip(pair, "cell_line")
    assert bliss > 2.0 and zip_ > 2.0, (bliss, zip_)
    b1, _ = bliss_zip(pair, "cell_line", settings={"Aggresome": 1.0})
    assert b1 < bliss, (b1, bliss)
    b0, z0 = bliss_zip(pair, "cell_line", settings={"Aggresome": 1.0, "HistoneAcetylation": 0.0})
    assert abs(b0) < 0.1 and abs(z0) < 0.1, (b0, z0)
    # the 0.3 margin was set on the steady-state index; the 72-h cell number (default readout)
    # weighs the aggresome route less (vorinostat: 3.95 -> 3.73), so the margin is kept there
    bi, _ = bliss_zip(pair, "cell_line", assay_hours=None)
    bi1, _ = bliss_zip(pair, "cell_line", settings={"Aggresome": 1.0}, assay_hours=None)
    assert bi1 < bi - 0.3, (bi1, bi)


# ------------------------------------------------------------------ IMiD + antibody (marrow)
@pytest.mark.parametrize(
    "pair, paper",
    [
        (
            ("daratumumab", "lenalidomide"),
            "van der Veer et al., Haematologica 2011, PMID:21109694, "
            "DOI:10.3324/haematol.2010.030759",
        ),
        (
            ("elotuzumab", "lenalidomide"),
            "Balasa et al., Cancer Immunol Immunother 2015, DOI:10.1007/s00262-014-1610-3",
        ),
    ],
)
def test_lenalidomide_enhances_antibody_killing_in_marrow_through_t_cell_il2(pair, paper):
    """van der Veer et al. 2011 (PMID:21109694): lenalidomide augments daratumumab-dependent
    cell-mediated cytotoxicity, with clear synergy in patients' bone-marrow mononuclear cells.
    Balasa et al. 2015 (DOI:10.1007/s00262-014-1610-3): elotuzumab plus lenalidomide kill
    myeloma cells in PBL co-cultures better than either alone, with more IL-2 and NK activation.
    Mechanism: lenalidomide degrades Ikaros/Aiolos in T cells, CD4 T-cell IL-2 raises NK
    cytotoxicity (Hsu et al., Blood 2011, DOI:10.1182/blood-2010-04-278432; Gandhi et al.,
    PMID:24328678). Effector cells present: ``marrow``.

    For an anti-CD38 antibody a second route adds to it: Ikaros/Aiolos loss derepresses
    interferon-stimulated genes including CD38 (Fedele et al., Blood 2018,
    DOI:10.1182/blood-2018-05-850727). Without T cells (no IL-2 boost of NK cells) and without
    the interferon response (no CD38 rise) the interaction is gone, and in ``cell_line`` (no
    effectors) the antibody is inert, so there is nothing to interact with."""
    bliss, zip_ = bliss_zip(pair, "marrow")
    assert bliss > 0 and zip_ > 0, (paper, bliss, zip_)
    b0, z0 = bliss_zip(pair, "marrow", knockouts=("TCells", "InterferonResponse"))
    assert b0 < 0.5 * bliss and z0 < 0.5 * zip_, (b0, z0)
    bc, zc = bliss_zip(pair, "cell_line")
    assert abs(bc) < 0.1 and abs(zc) < 0.1, (bc, zc)


def test_dexamethasone_blunts_lenalidomide_nk_enhancement_in_marrow():
    """Hsu et al., Blood 2011 (DOI:10.1182/blood-2010-04-278432): lenalidomide raised NK-cell
    cytotoxicity (38.5% to 53.3%) through CD4 T-cell IL-2; dexamethasone suppressed the IL-2 and
    completely abrogated the lenalidomide enhancement; patients' NK cytotoxicity fell on
    lenalidomide plus dexamethasone. On the immune arm the pair is less than additive."""
    len_, dex = ref("lenalidomide"), ref("dexamethasone")
    regs = [
        {},
        {"lenalidomide": len_},
        {"dexamethasone": dex},
        {"lenalidomide": len_, "dexamethasone": dex},
    ]
    df = simulate_batch("myeloma", regs, context="marrow")
    assert df["converged"].all()
    nk, il2, kill = (
        df["NKActivity"].to_numpy(),
        df["IL2"].to_numpy(),
        df["immune_killing"].to_numpy(),
    )
    # lenalidomide alone raises IL-2, NK activity and NK killing without any antibody
    assert il2[1] > il2[0] and nk[1] > nk[0] + 0.05 and kill[1] > kill[0]
    # with dexamethasone its NK boost is (nearly) abolished: less than half of the boost it
    # gives alone, and NK activity stays below the untreated level
    assert nk[3] - nk[2] < 0.5 * (nk[1] - nk[0]), nk
    assert nk[3] < nk[0] and kill[3] < kill[1] and kill[3] < kill[0], (nk, kill)
    # less than additive on the immune arm: the combination kills fewer cells than the two
    # increments added together
    assert kill[3] - kill[0] < (kill[1] - kill[0]) + (kill[2] - kill[0]) + 1e-9


# ------------------------------------------------------------------ proteasome + BCL2
def test_bortezomib_with_venetoclax_is_synergistic():
    """Punnoose et al., Mol Cancer Ther 2016 (title and abstract read; identifier not
    confirmed): bortezomib overcame venetoclax resistance of BCL2/MCL1 co-expressing myeloma
    through NOXA, which neutralises MCL1; venetoclax frees BIM from BCL2. Clinical
    combinations of venetoclax with proteasome inhibitors: Gupta et al. 2021, PMID:33737856.

    Model 0.3: venetoclax frees BAX from BCL2 (BAX = (BIM OR tBID) AND NOT BCL2 AND NOT MCL1
    AND NOT BCL-xL) and bortezomib raises BIM and NOXA; the two meet at BAX, whose switch-like
    permeabilisation threshold makes them synergistic. With BAX held at its untreated level the
    synergy is gone (BAK alone, which BCL2 does not restrain, carries no interaction)."""
    bliss, zip_ = bliss_zip(("bortezomib", "venetoclax"), "cell_line")
    assert bliss > 1.0 and zip_ > 1.0, (bliss, zip_)
    bax0 = simulate_batch("myeloma", [{}], context="cell_line")["BAX"].iloc[0]
    b0, _ = bliss_zip(("bortezomib", "venetoclax"), "cell_line", settings={"BAX": float(bax0)})
    assert abs(b0) < 0.1 * bliss, (b0, bliss)


# ------------------------------------------------------------------ proteasome + DNA damage
# melphalan is left out: at its oral clinical exposure the model's DNA-damage module barely
# responds (docs/model-notes.md, alkylators), so its surface carries no interaction to test
@pytest.mark.parametrize("chemo", ["doxorubicin"])
def test_bortezomib_chemosensitises_to_doxorubicin(chemo, tmp_path):
    """Ma et al., Clin Cancer Res 2003;9(3):1136 (abstract read on the journal site; PubMed ID
    not confirmed): PS-341 sensitises myeloma cells to melphalan and doxorubicin, which Ma
    attributes to NF-kB blockade. Genotoxic NF-kB activation through ATM-NEMO-IKK: Wu et al.,
    Science 2006, PMID:16497931. Cell lines: ``cell_line``.

    Model 0.3 reproduces the synergy, but not Ma's mechanism: with the contested
    ``pi_nfkb_weight`` at 0.3 (Hideshima et al., Blood 2009) holding NF-kB fixed leaves the
    synergy, which comes from the two drugs' BIM/NOXA meeting at the mitochondrial threshold.
    On Ma's side of the parameter (1.0) the NF-kB route adds to it."""
    default_bliss, default_zip = bliss_zip(("bortezomib", chemo), "cell_line")
    assert default_bliss > 0 and default_zip > 0, (default_bliss, default_zip)
    held, _ = bliss_zip(("bortezomib", chemo), "cell_line", settings={"RELA": 0.6})
    # holding NF-kB leaves most of the synergy: within 10% on the steady-state index, within
    # 20% on the 72-h cell number (1.90 -> 1.62), where the NF-kB growth signal weighs more
    assert 0 < held and held == pytest.approx(default_bliss, abs=0.2 * abs(default_bliss))
    idx, _ = bliss_zip(("bortezomib", chemo), "cell_line", assay_hours=None)
    held_idx, _ = bliss_zip(
        ("bortezomib", chemo), "cell_line", settings={"RELA": 0.6}, assay_hours=None
    )
    assert held_idx == pytest.approx(idx, abs=0.1 * abs(idx))
    text = mmmech.pathways.load("myeloma").origin
    src = open(text, encoding="utf-8").read()
    old = "[parameters.pi_nfkb_weight]\ndefault = 0.3"
    assert old in src
    ma = tmp_path / "ma_side.toml"
    ma.write_text(src.replace(old, "[parameters.pi_nfkb_weight]\ndefault = 1.0"), encoding="utf-8")
    bliss, zip_ = bliss_zip(("bortezomib", chemo), "cell_line", model=str(ma))
    assert bliss > default_bliss, (bliss, default_bliss)
    # the DNA damage raises NF-kB (and BCL-xL); bortezomib takes that induction away
    regs = [{}, {chemo: ref(chemo)}, {"bortezomib": 10.0}, {"bortezomib": 10.0, chemo: ref(chemo)}]
    rela = simulate_batch(str(ma), regs, context="cell_line")["RELA"].to_numpy()
    assert rela[1] > rela[0] and rela[3] < rela[1], rela


# ------------------------------------------------------------------ proteasome + glucocorticoid
def test_bortezomib_with_dexamethasone_is_synergistic():
    """Salem et al., Exp Hematol 2013 (PMID:23063726): dexamethasone plus bortezomib enhanced
    apoptosis of drug-sensitive and -resistant myeloma cells; dexamethasone raised IkBa and
    compensated bortezomib-induced IkBa degradation, so the pair inhibited NF-kB together."""
    bliss, zip_ = bliss_zip(("bortezomib", "dexamethasone"), "cell_line")
    assert bliss > 0 and zip_ > 0, (bliss, zip_)
    regs = [{"bortezomib": 10.0}, {"bortezomib": 10.0, "dexamethasone": ref("dexamethasone")}]
    out = simulate_batch("myeloma", regs, context="cell_line")
    assert out["NFKBIA"][1] > out["NFKBIA"][0] and out["RELA"][1] < out["RELA"][0]


def test_il6_protects_against_dexamethasone_more_than_against_doxorubicin():
    """IL-6 inhibited dexamethasone-induced death of RPMI-8226 myeloma cells but not
    doxorubicin- or etoposide-induced death (Cell Immunol 1995, PMID:7743552); IL-6/PI3K/AKT
    inactivates caspase-9 and protects against dexamethasone (Hideshima et al., Oncogene 2001,
    PMID:11593406). The model's IL-6 protection is not stimulus-specific (AKT -| caspase-9 acts
    on every mitochondrial death signal), so only the ranking is asserted: most of the
    dexamethasone effect and a smaller share of the doxorubicin effect is rescued."""
    rescued = {}
    # doxorubicin at its bolus peak (the reference is the VAD infusion plateau, 11.6 ng/mL)
    dox = drugs.get("doxorubicin")
    conc = {
        "dexamethasone": ref("dexamethasone"),
        "doxorubicin": dox.reference.high / dox.mol_weight * 1e6,  # ng/mL -> nM
    }
    for name in ("dexamethasone", "doxorubicin"):
        loss = {}
        for il6 in (0.0, 1.0):
            df = simulate_batch(
                "myeloma", [{}, {name: conc[name]}], context="cell_line", settings={"IL6": il6}
            )
            v = df["viability"].to_numpy()
            loss[il6] = 1.0 - v[1] / v[0]
        assert loss[0.0] > 0.1, (name, loss)
        rescued[name] = 1.0 - loss[1.0] / loss[0.0]
    assert rescued["dexamethasone"] > 0.5, rescued
    assert rescued["dexamethasone"] > rescued["doxorubicin"] + 0.2, rescued


# ------------------------------------------------------------------ antibody effector profiles
def _viab(drug, knockouts=()):
    df = simulate_batch("myeloma", [{}, {drug: ref(drug)}], context="marrow", knockouts=knockouts)
    assert df["converged"].all()
    return df


def test_complement_knockout_weakens_daratumumab_but_not_elotuzumab():
    """Daratumumab kills myeloma cells by complement as well as by NK cells and macrophages (de
    Weers et al., J Immunol 2011, DOI:10.4049/jimmunol.1003032: strong CDC of patient MM cells;
    Nijhof et al., Blood 2016, DOI:10.1182/blood-2016-03-703439: complement inhibitors rise at
    progression). Elotuzumab works through NK ADCC and macrophage ADCP (Front Immunol 2018,
    DOI:10.3389/fimmu.2018.02551), not complement. In ``marrow`` with complement knocked out,
    daratumumab loses part (not all) of its effect; elotuzumab's effect is unchanged."""
    for drug, loses in (("daratumumab", True), ("elotuzumab", False)):
        full = _viab(drug)
        ko = _viab(drug, knockouts=("Complement",))
        effect_full = full["viability"].iloc[0] - full["viability"].iloc[1]
        effect_ko = ko["viability"].iloc[0] - ko["viability"].iloc[1]
        # model 0.3: complement is the main lytic route of anti-CD38 antibodies and elotuzumab
        # alone is weak (single-agent calibration, parameters.adcc_killing_weight)
        assert effect_full > (0.2 if loses else 0.05) and effect_ko > 0.02, (
            drug,
            effect_full,
            effect_ko,
        )
        if loses:
            assert effect_ko < 0.9 * effect_full, (drug, effect_full, effect_ko)
            assert full["CDC"].iloc[1] > 0.3 and ko["CDC"].iloc[1] == 0.0
        else:
            assert effect_ko == pytest.approx(effect_full, abs=1e-6), (effect_full, effect_ko)


@settings(max_examples=20, deadline=None)
@given(
    dose=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
    ctx=st.sampled_from(["cell_line", "marrow"]),
    partner=st.sampled_from([None, "lenalidomide", "daratumumab", "bortezomib"]),
)
def test_elotuzumab_never_changes_cdc(dose, ctx, partner):
    """Elotuzumab recruits ADCC and ADCP only: at any dose, in any context, alone or on top of
    another drug, the CDC node is what it would be without elotuzumab."""
    base = {} if partner is None else {partner: ref(partner)}
    df = simulate_batch("myeloma", [base, {**base, "elotuzumab": dose}], context=ctx)
    assert df["converged"].all()
    assert df["CDC"].iloc[1] == pytest.approx(df["CDC"].iloc[0], abs=1e-6)
    assert df["OpsonizationCDC"].iloc[1] == pytest.approx(df["OpsonizationCDC"].iloc[0], abs=1e-6)
