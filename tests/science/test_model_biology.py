"""Cell-intrinsic mechanisms of the myeloma model 0.3, each tested by removing it (issue 15).

Every test states the published finding, then checks that the model reproduces it and that a
knockout (or a fixed node) of the mechanism the paper names removes the effect. Sources are the
identifiers on the edges in ``pathways/myeloma.toml``. Drugs are given at their reference
(clinical) concentrations, so these tests also hold when potencies are re-curated.
"""

import pytest

import mmmech
from mmmech import drugs


def ref(name, factor=1.0):
    return drugs.get(name).reference_nM * factor


def run(regimen=None, context="cell_line", **kw):
    return mmmech.simulate("myeloma", regimen or {}, context=context, **kw)


def nodes(regimen=None, context="cell_line", **kw):
    return run(regimen, context, **kw)["nodes"]


def apoptosis(regimen=None, context="cell_line", **kw):
    return run(regimen, context, **kw)["readouts"]["apoptosis"]


BASE = apoptosis()


# ------------------------------------------- proteasome (Besse 2019, Parlati 2009)
def test_losing_one_ct_l_form_is_not_enough_both_are_needed():
    """Parlati et al., Blood 2009 (DOI:10.1182/blood-2009-05-223677): in myeloma cells the
    immunoproteasome is a major form; blocking beta5 or LMP7 (beta5i) alone is insufficient,
    blocking both induces NOXA and caspases."""
    beta5 = apoptosis(knockouts=["PSMB5"])
    lmp7 = apoptosis(knockouts=["PSMB8"])
    both = apoptosis(knockouts=["PSMB5", "PSMB8"])
    assert beta5 - BASE < 0.02 and lmp7 - BASE < 0.02, (BASE, beta5, lmp7)
    assert both - BASE > 0.1, (BASE, both)
    noxa = nodes(knockouts=["PSMB5", "PSMB8"])["PMAIP1"]
    assert noxa > nodes()["PMAIP1"] + 0.1


@pytest.mark.parametrize("partner", [["PSMB6", "PSMB9"], ["PSMB7"]])
def test_ct_l_with_beta1_or_beta2_co_inhibition_is_what_kills(partner):
    """Besse et al. 2019 (PMID:30612952): only co-inhibition of beta1 or beta2 with beta5 gives
    meaningful functional inhibition and cytotoxicity; beta1 + beta2 loss with beta5 intact does
    not (the 0.2 rule had both the wrong way round)."""
    short = {"beta1_beta2_capacity": 0.9}  # Besse's short (clinically relevant) exposure
    ct_l = apoptosis(knockouts=["PSMB5", "PSMB8"], params=short)
    co = apoptosis(knockouts=["PSMB5", "PSMB8", *partner], params=short)
    assert ct_l - BASE < 0.1 and co > 0.8, (BASE, ct_l, co)
    # at continuous exposure (the default) CT-L loss alone already kills, co-inhibition more
    ct_l = apoptosis(knockouts=["PSMB5", "PSMB8"])
    co = apoptosis(knockouts=["PSMB5", "PSMB8", *partner])
    assert ct_l > BASE + 0.2 and co > ct_l + 0.1, (BASE, ct_l, co)


def test_beta1_and_beta2_loss_with_ct_l_intact_is_not_lethal():
    """Besse et al. 2019: beta5 is rate limiting."""
    assert apoptosis(knockouts=["PSMB6", "PSMB9", "PSMB7"]) - BASE < 0.05


# ------------------------------------------------------------------ UPR baseline
def test_untreated_myeloma_cells_have_chronic_adaptive_er_stress():
    """Obeng et al. 2006 and Mimura et al. 2012 (refs on the edge; review
    DOI:10.3389/fgene.2013.00109):
    myeloma cells live with chronic ER stress and constitutive XBP1s, without terminal UPR."""
    n = nodes()
    assert n["ERStress"] > 0.1 and n["XBP1"] > 0.1
    assert n["DDIT3"] < 0.1
    n0 = nodes(settings={"ProteinLoad": 0.0})
    assert n0["XBP1"] < 0.01 and n0["ERStress"] < 0.01


# ------------------------------------------- IMiDs (Fedele 2018, Shaffer 2008)
def test_irf4_loss_kills_myeloma_cells():
    """Shaffer et al., Nature 2008 (PMID:18568025): IRF4 inhibition is toxic to myeloma cell lines
    regardless of their oncogenic lesion. In model 0.2 it only stopped proliferation."""
    ko = apoptosis(knockouts=["IRF4"])
    assert ko > BASE + 0.2, (BASE, ko)
    assert apoptosis(knockouts=["IRF4"], settings={"IRF4Withdrawal": 0.0}) - BASE < 0.01


# lenalidomide at its clinical Cmax; pomalidomide at about the 1 uM used in cell lines
# (Bjorklund et al. 2020), since its clinical Cmax (0.27 uM) with the only sourced potency
# (CRBN binding ~3 uM, equal for both) leaves it weak: see docs/model-notes.md
@pytest.mark.parametrize("imid, factor", [("lenalidomide", 1.0), ("pomalidomide", 4.0)])
def test_imids_kill_through_ikaros_aiolos_loss_and_not_without_cereblon(imid, factor):
    """Fedele et al., Blood 2018 (DOI:10.1182/blood-2018-05-850727): loss of Ikaros and Aiolos
    causes apoptosis, not only arrest; Mitsiades et al. 2002 (PMID:12036884): IMiDs activate
    caspase-8. Zhu et al. 2011: cereblon is required (CRBN knockout abolishes the effect)."""
    c = ref(imid, factor)
    a = apoptosis({imid: c})
    assert a > BASE + 0.05, (BASE, a)
    assert abs(apoptosis({imid: c}, knockouts=["CRBN"]) - BASE) < 0.005
    held = apoptosis({imid: c}, settings={"IkarosLoss": 0.0, "IRF4Withdrawal": 0.0})
    assert abs(held - BASE) < 0.01, (BASE, held)


# ------------------------------------------------------------------ NOXA needs MYC (Nikiforov 2007)
def test_proteasome_inhibitor_noxa_induction_needs_myc():
    """Nikiforov et al., PNAS 2007 (PMID:18042711): bortezomib induction of NOXA depends on c-MYC
    and not on p53."""
    ko = ["PSMB5", "PSMB8"]
    with_myc = nodes(knockouts=ko)["PMAIP1"]
    without = nodes(knockouts=[*ko, "MYC"])["PMAIP1"]
    assert with_myc > 0.1 and without < 0.01, (with_myc, without)


# ------------------------------------------------------------------ BCL2 family
def test_bcl_xl_restrains_bax_so_venetoclax_works_better_without_it():
    """BCL-xL sequesters BIM and BAX as BCL2 does: venetoclax (BCL2-selective) kills more when
    BCL-xL is absent (Punnoose et al. 2016 and Gomez-Bougie et al. 2018, refs on the edge)."""
    v = {"venetoclax": ref("venetoclax")}
    assert apoptosis(v, knockouts=["BCL2L1"]) > apoptosis(v) + 0.02


# ------------------------------------------- glucocorticoid (Kervoelen 2015, Matulis 2016)
def test_dexamethasone_killing_needs_gilz_and_scales_with_receptor_level():
    """Kervoelen et al., Oncotarget 2015 (DOI:10.18632/oncotarget.4616): GILZ is necessary for
    dexamethasone-induced apoptosis; glucocorticoid-receptor level is limiting."""
    dex = {"dexamethasone": ref("dexamethasone")}
    full = apoptosis(dex)
    assert full > BASE + 0.05
    assert apoptosis(dex, knockouts=["TSC22D3"]) < full - 0.05
    low_gr = apoptosis(dex, settings={"GRBasal": 0.2})
    assert BASE < low_gr < full, (BASE, low_gr, full)


def test_dexamethasone_raises_bcl2():
    """Matulis et al., Leukemia 2016 (PMID:26707935): dexamethasone raises BCL2 (and BIM)."""
    n0, n1 = nodes(), nodes({"dexamethasone": ref("dexamethasone")})
    assert n1["BCL2"] > n0["BCL2"] + 0.05 and n1["BCL2L11"] > n0["BCL2L11"]


# ------------------------------------------------------------------ selinexor
def test_xpo1_block_retains_ikba_and_induces_the_glucocorticoid_receptor():
    """Selinexor keeps IkBa nuclear (NF-kB off) and raises GR (Turner 2016, Argueta 2018, refs
    on the edges); XPO1 also exports eIF4E-bound MYC and BCL-xL mRNAs
    (DOI:10.5772/intechopen.96945)."""
    n0, n1 = nodes(), nodes(knockouts=["XPO1"])
    assert n1["NFKBIA"] > n0["NFKBIA"] + 0.1
    assert n1["GRAbundance"] > n0["GRAbundance"] + 0.05
    assert n1["MYC"] < n0["MYC"] and n1["BCL2L1"] < n0["BCL2L1"]


# ------------------------------------------------------------------ stroma
def test_stromal_adhesion_and_april_raise_nf_kb_in_marrow():
    """Adhesion to stroma raises canonical NF-kB (Hideshima et al. 2009, PMID:19270264); APRIL
    signals through BCMA. Without them NF-kB falls back to its constitutive level."""
    m = nodes(context="marrow")
    m0 = nodes(context="marrow", settings={"Adhesion": 0.0, "APRIL": 0.0})
    assert m["IKBKB"] > m0["IKBKB"] + 0.1
    assert m["BCL2L1"] >= m0["BCL2L1"]
    no_bcma = nodes(context="marrow", knockouts=["TNFRSF17"])
    assert no_bcma["BCMASignal"] < 0.01
