"""The drug layer: curated library, RDKit chemistry, lookup, doses and structure inference.

Known answers come from outside the project: molecular formulas, InChIKeys and molecular
weights as printed in public records (PubChem/ChEBI/DrugBank/T3DB entries, Wikipedia drug
boxes, FDA label descriptions), and the descriptor values PubChem lists for aspirin.
"""

import dataclasses
import json
import math
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmmech import drugs
from mmmech.exceptions import InvalidInputError, ModelFileError, UnitError, UnknownDrugError
from mmmech.resources import data_file
from mmmech.units import MASS_UNITS, MOLAR_UNITS, to_nM

REQUIRED = [
    "bortezomib",
    "carfilzomib",
    "ixazomib",
    "thalidomide",
    "lenalidomide",
    "pomalidomide",
    "iberdomide",
    "mezigdomide",
    "dexamethasone",
    "prednisone",
    "daratumumab",
    "isatuximab",
    "elotuzumab",
    "melphalan",
    "cyclophosphamide",
    "doxorubicin",
    "bendamustine",
    "panobinostat",
    "vorinostat",
    "selinexor",
    "venetoclax",
    "belantamab mafodotin",
    "teclistamab",
    "elranatamab",
    "talquetamab",
    "idecabtagene vicleucel",
    "ciltacabtagene autoleucel",
]

# Molecular formulas as published (issue 3 for bortezomib/lenalidomide/dexamethasone; drug
# boxes, labels and database records for the others).
KNOWN_FORMULAS = {
    "bortezomib": "C19H25BN4O4",
    "lenalidomide": "C13H13N3O3",
    "dexamethasone": "C22H29FO5",
    "carfilzomib": "C40H57N5O7",
    "ixazomib": "C14H19BCl2N2O4",
    "thalidomide": "C13H10N2O4",
    "pomalidomide": "C13H11N3O4",
    "iberdomide": "C25H27N3O5",
    "mezigdomide": "C32H30FN5O4",
    "prednisone": "C21H26O5",
    "melphalan": "C13H18Cl2N2O2",
    "cyclophosphamide": "C7H15Cl2N2O2P",
    "doxorubicin": "C27H29NO11",
    "bendamustine": "C16H21Cl2N3O2",
    "panobinostat": "C21H23N3O2",
    "vorinostat": "C14H20N2O3",
    "selinexor": "C17H11F6N7O",
    "venetoclax": "C45H50ClN7O7S",
}

# Standard InChIKeys as printed in public records (ChEBI/PubChem/Wikipedia/T3DB).
KNOWN_INCHIKEYS = {
    "bortezomib": "GXJABQQUPOEUTA-RDJZCZTQSA-N",
    "carfilzomib": "BLMPQMFVWMYDKT-NZTKNTHTSA-N",
    "ixazomib": "MXAYKZJJDUDWDS-LBPRGKRZSA-N",
    "thalidomide": "UEJJHQNACJXSKW-UHFFFAOYSA-N",
    "lenalidomide": "GOTYRUGSSMKFNF-UHFFFAOYSA-N",
    "pomalidomide": "UVSMNLNDYGZFPF-UHFFFAOYSA-N",
    "dexamethasone": "UREBDLICKHMUKA-CXSFZGCWSA-N",
    "prednisone": "XOFYZVNMUHMLCC-ZPOLXVRWSA-N",
    "melphalan": "SGDBTWWWUNNDEQ-LBPRGKRZSA-N",
    "doxorubicin": "AOJJSUZBOXZQNB-TZSSRYMLSA-N",
    "venetoclax": "LQBVNQSMGBZMKD-UHFFFAOYSA-N",
    "vorinostat": "WAEXFXRVDQXREF-UHFFFAOYSA-N",
}

# Molecular weights (g/mol) as printed in labels / drug boxes.
KNOWN_MW = {
    "carfilzomib": 719.9,
    "ixazomib": 361.03,
    "venetoclax": 868.44,
    "melphalan": 305.20,
    "selinexor": 443.31,
    "pomalidomide": 273.24,
    "bendamustine": 358.26,
}

# Drugs given as racemates or achiral (no stereo in the SMILES, on purpose).
NO_STEREO = {
    "thalidomide",
    "lenalidomide",
    "pomalidomide",
    "cyclophosphamide",
    "bendamustine",
    "vorinostat",
    "venetoclax",
}

SOURCE_RX = re.compile(
    # every identifier kind of mmmech.sources (labels are DailyMed set ids)
    r"^(PMID:\d+|DOI:10\.\d{4,9}/\S+|PMC:PMC\d+|DailyMed:[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$"
)
BUNDLED = data_file("structures", "drugs.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lib():
    return drugs.library()


def small_molecules(lib):
    return [d for d in lib.values() if d.type == "small_molecule"]


# ------------------------------------------------------------------------- the library


def test_library_holds_every_required_drug(lib):
    assert set(REQUIRED) <= set(lib)
    for name in lib:
        assert name == name.lower()


@pytest.mark.parametrize("name", sorted(KNOWN_FORMULAS))
def test_formula_computed_by_rdkit_matches_published(lib, name):
    assert lib[name].formula == KNOWN_FORMULAS[name]


@pytest.mark.parametrize("name", sorted(KNOWN_INCHIKEYS))
def test_inchikey_matches_public_record(lib, name):
    assert lib[name].inchikey == KNOWN_INCHIKEYS[name]


@pytest.mark.parametrize("name", sorted(KNOWN_MW))
def test_molecular_weight_matches_published(lib, name):
    assert lib[name].mol_weight == pytest.approx(KNOWN_MW[name], abs=0.06)


def test_every_smiles_parses_with_stereo_where_the_drug_has_it(lib):
    from rdkit import Chem

    for d in small_molecules(lib):
        mol = Chem.MolFromSmiles(d.smiles)
        assert mol is not None, d.name
        n_stereo = sum(
            1 for a in mol.GetAtoms() if a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED
        )
        n_stereo += sum(1 for b in mol.GetBonds() if b.GetStereo() != Chem.BondStereo.STEREONONE)
        if d.name in NO_STEREO:
            assert n_stereo == 0, d.name
            assert (
                d.name in ("vorinostat", "venetoclax", "bendamustine")
                or "racem" in d.structure_note.lower()
            ), d.name
        else:
            assert n_stereo > 0, f"{d.name}: SMILES without stereochemistry"
        assert d.structure_source


def test_selinexor_is_the_z_isomer(lib):
    from rdkit import Chem

    mol = Chem.MolFromSmiles(lib["selinexor"].smiles)
    stereo = [b.GetStereo() for b in mol.GetBonds() if b.GetStereo() != Chem.BondStereo.STEREONONE]
    assert stereo == [Chem.BondStereo.STEREOZ]


def test_every_potency_and_reference_has_unit_and_source(lib):
    for d in lib.values():
        assert d.targets, d.name
        for t in d.targets:
            p = t.potency
            assert p.unit in drugs.POTENCY_UNITS, (d.name, t.target)
            assert SOURCE_RX.match(p.source), (d.name, t.target, p.source)
            assert p.assay.strip(), (d.name, t.target)
            assert math.isfinite(t.potency_nM) and t.potency_nM > 0, (d.name, t.target)
            assert t.action in drugs.ACTIONS
            if p.low is not None:
                assert p.low <= p.value
            if p.high is not None:
                assert p.high >= p.value
        r = d.reference
        assert r is not None and r.unit in drugs.POTENCY_UNITS, d.name
        assert SOURCE_RX.match(r.source), (d.name, r.source)
        assert r.kind.strip()
        assert math.isfinite(d.reference_nM) and d.reference_nM > 0, d.name
        assert d.sources and all(SOURCE_RX.match(s) for s in d.sources), d.name


def test_unverified_numbers_explain_themselves(lib):
    for d in lib.values():
        for rec in [t.potency for t in d.targets] + [d.reference]:
            if not rec.verified:
                assert len(rec.note) > 20, (d.name, rec)


def _mutate(text, drug, old, new):
    """Replace the first `old` after the line 'name = "<drug>"' in the bundled TOML."""
    start = text.index(f'name = "{drug}"')
    pos = text.index(old, start)
    return text[:pos] + new + text[pos + len(old) :]


@pytest.mark.parametrize(
    "old, new, needle",
    [
        ('unit = "nM", assay = "EC50, chymotrypsin', 'assay = "EC50, chymotrypsin', "unit"),
        (
            ', source = "DOI:10.1182/blood.V106.11.3363.3363", note = "ASH 2005',
            ', note = "ASH 2005',
            "source",
        ),
        ('unit = "ng/mL"\nkind = "Cmax, 1.3', 'kind = "Cmax, 1.3', "unit"),
        ('source = "DOI:10.1182/blood.V108.11.3533.3533"', 'note2 = "x"', "source"),
        ('source = "DOI:10.1182/blood.V108.11.3533.3533"', 'source = "Velcade label"', "PMID"),
        ('unit = "ng/mL"\nkind = "Cmax, 1.3', 'unit = "furlongs"\nkind = "Cmax, 1.3', "furlongs"),
        ('action = "inhibit"', 'action = "tickle"', "tickle"),
        ("value = 7.9", "value = -7.9", "value"),
        ('smiles = "B([C@H]', 'smiles = "B([C@H]((', "SMILES"),
        ('synonyms = ["Velcade", "PS-341"]', 'synonyms = ["Velcade", "Kyprolis"]', "Kyprolis"),
        ('type = "small_molecule"', 'type = "small_molecule"\nmol_weight = 384.2', "mol_weight"),
    ],
)
def test_a_library_with_a_missing_or_bad_field_is_rejected(old, new, needle):
    broken = _mutate(BUNDLED, "bortezomib", old, new)
    with pytest.raises(ModelFileError) as exc:
        drugs.read_library(broken, "broken.toml")
    msg = str(exc.value)
    assert "broken.toml" in msg and needle.lower() in msg.lower(), msg


def test_bundled_library_reads_cleanly_from_text(lib):
    again = drugs.read_library(BUNDLED, "copy")
    assert list(again) == list(lib)


def test_every_action_is_documented_and_used_consistently(lib):
    doc = drugs.records.__doc__
    for action in drugs.ACTIONS:
        assert f"``{action}``" in doc
    used = {t.action for d in lib.values() for t in d.targets}
    assert used <= set(drugs.ACTIONS)


def _actions(drug):
    return {(t.target, t.action) for t in drug.targets}


def test_mechanism_conventions_for_the_model(lib):
    for name in ("thalidomide", "lenalidomide", "pomalidomide", "iberdomide", "mezigdomide"):
        (t,) = lib[name].targets
        assert (t.target, t.action, t.e3) == ("CRBN", "glue_degrade", "CRBN")
        assert {"IKZF1", "IKZF3"} <= set(t.neo_substrates)
    assert "CSNK1A1" in lib["lenalidomide"].targets[0].neo_substrates
    assert "SALL4" in lib["thalidomide"].targets[0].neo_substrates
    assert "SALL4" in lib["pomalidomide"].targets[0].neo_substrates
    assert ("PSMB5", "inhibit") in _actions(lib["bortezomib"])
    assert ("PSMB5", "covalent_inhibit") in _actions(lib["carfilzomib"])
    assert ("PSMB5", "inhibit") in _actions(lib["ixazomib"])
    for name in ("dexamethasone", "prednisone"):
        assert _actions(lib[name]) == {("NR3C1", "agonist")}
    assert "prednisolone" in lib["prednisone"].mechanism and "rodrug" in lib["prednisone"].mechanism
    for name in ("daratumumab", "isatuximab"):
        assert _actions(lib[name]) == {("CD38", "bind_and_recruit_effectors")}
    assert _actions(lib["elotuzumab"]) == {
        ("SLAMF7", "bind_and_recruit_effectors"),
        ("SLAMF7", "activate_effectors"),
    }
    for name in ("melphalan", "cyclophosphamide", "bendamustine"):
        assert _actions(lib[name]) == {("DNA", "damage_DNA")}
    assert _actions(lib["doxorubicin"]) == {("TOP2A", "inhibit"), ("DNA", "damage_DNA")}
    for name in ("panobinostat", "vorinostat"):
        assert {"HDAC1", "HDAC2", "HDAC3", "HDAC6"} == {t.target for t in lib[name].targets}
    assert _actions(lib["selinexor"]) == {("XPO1", "covalent_inhibit")}
    assert _actions(lib["venetoclax"]) == {("BCL2", "inhibit")}
    assert _actions(lib["belantamab mafodotin"]) == {
        ("TNFRSF17", "deliver_payload"),
        ("TNFRSF17", "bind_and_recruit_effectors"),
    }
    for name, antigen in (
        ("teclistamab", "TNFRSF17"),
        ("elranatamab", "TNFRSF17"),
        ("talquetamab", "GPRC5D"),
    ):
        assert _actions(lib[name]) == {(antigen, "engage_T_cells")}
    for name in ("idecabtagene vicleucel", "ciltacabtagene autoleucel"):
        d = lib[name]
        assert _actions(d) == {("TNFRSF17", "car_t_kill")}
        assert d.targets[0].potency.unit == "nM-eq" and not d.targets[0].potency.verified
        assert d.mol_weight is None and d.smiles is None


def test_biologics_carry_a_molecular_weight_with_its_source(lib):
    for d in lib.values():
        if d.type in ("antibody", "antibody_drug_conjugate", "bispecific_antibody"):
            assert 1e5 < d.mol_weight < 2e5 and d.mol_weight_source, d.name
            assert d.smiles is None and d.formula is None


def test_reference_conversion_uses_rdkit_molecular_weight(lib):
    d = lib["bortezomib"]
    assert d.reference.unit == "ng/mL"
    assert d.reference_nM == pytest.approx(d.reference.value / d.mol_weight * 1e3)
    # 112 ng/mL of bortezomib is about 291.5 nM (units.py doctest, independent of this module)
    assert d.reference_nM == pytest.approx(291.5, abs=0.2)


# ------------------------------------------------------------------------- lookup


def test_lookup_is_case_insensitive_and_accepts_synonyms(lib):
    assert drugs.get("BORTEZOMIB") is lib["bortezomib"]
    assert drugs.get("Velcade").name == "bortezomib"
    assert drugs.get("  revlimid ").name == "lenalidomide"
    assert drugs.get("Belantamab  Mafodotin").name == "belantamab mafodotin"
    assert drugs.get("ide-cel").name == "idecabtagene vicleucel"
    assert "KYPROLIS" in lib and "aspirin" not in lib
    assert len(lib) == len(list(lib)) >= 27


def test_library_is_read_only(lib):
    with pytest.raises(TypeError):
        lib["aspirin"] = lib["bortezomib"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lib["bortezomib"].name = "x"


@pytest.mark.parametrize(
    "typo, suggestion",
    [
        ("bortezomb", "bortezomib"),
        ("lenalidomid", "lenalidomide"),
        ("darzalexx", "Darzalex"),
    ],
)
def test_unknown_name_suggests_close_matches(typo, suggestion):
    with pytest.raises(UnknownDrugError) as exc:
        drugs.get(typo)
    assert isinstance(exc.value, KeyError)
    assert suggestion in str(exc.value) and typo in str(exc.value)


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_get_rejects_non_names(bad):
    with pytest.raises(UnknownDrugError):
        drugs.get(bad)


# ------------------------------------------------------------------------- doses


def test_parse_dose_units_and_reference(lib):
    assert drugs.parse_dose("bortezomib=10nM")[1] == 10.0
    assert drugs.parse_dose("Velcade=1.5uM")[1] == 1500.0
    d, nM = drugs.parse_dose("lenalidomide")
    assert d.name == "lenalidomide" and nM == d.reference_nM
    # mass units use the drug's molecular weight: 405.8 ug/mL daratumumab (148 kDa) ~ 2.74 uM
    assert drugs.parse_dose("daratumumab=405.8ug/mL")[1] == pytest.approx(405.8e3 / 148.0)
    assert drugs.parse_dose("bortezomib=112 ng/mL")[1] == pytest.approx(291.5, abs=0.2)
    assert drugs.parse_dose("abecma=9nM-eq")[1] == 9.0
    assert drugs.parse_dose("abecma")[1] == lib["idecabtagene vicleucel"].reference_nM


@pytest.mark.parametrize(
    "text, exc, needle",
    [
        ("10", UnitError, "bare number"),
        ("10nM", UnknownDrugError, "10nM"),
        ("bortezomib=10", UnitError, "no unit"),
        ("bortezomib=10furlongs", UnitError, "furlongs"),
        ("bortezomib=-1nM", InvalidInputError, "-1nM"),
        ("bortezomib=", InvalidInputError, "no value"),
        ("bortezomb=10nM", UnknownDrugError, "bortezomib"),
        ("", InvalidInputError, "NAME"),
        ("bortezomib=5nM-eq", UnitError, "cell therapies"),
        ("abecma=1ug/mL", UnitError, "nM-eq"),
        ("abecma=3", UnitError, "no unit"),
    ],
)
def test_parse_dose_rejects_bad_input(text, exc, needle):
    with pytest.raises(exc) as info:
        drugs.parse_dose(text)
    assert needle.lower() in str(info.value).lower()


@settings(max_examples=60, deadline=None)
@given(
    value=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False),
    unit=st.sampled_from(sorted(set(MOLAR_UNITS) | set(MASS_UNITS))),
    name=st.sampled_from(["bortezomib", "venetoclax", "daratumumab", "bendamustine"]),
)
def test_parse_dose_agrees_with_the_units_module(value, unit, name):
    drug = drugs.get(name)
    text = f"{name}={value!r}{unit}"
    assert drugs.parse_dose(text)[1] == pytest.approx(to_nM(value, unit, drug.mol_weight))


# ------------------------------------------------------------------------- chemistry


def test_every_warhead_smarts_is_valid_and_documented():
    from rdkit import Chem

    from mmmech.drugs import _chem

    for name, (smarts, desc) in _chem.WARHEADS.items():
        assert Chem.MolFromSmarts(smarts) is not None, name
        assert f"``{name}``" in _chem.__doc__ and desc
    for needed, cls, _targets, base, why in drugs.CLASS_RULES:
        assert set(needed) <= set(_chem.WARHEADS) and cls in drugs.DRUG_CLASSES
        assert 0 < base < 1 and why


@pytest.mark.parametrize(
    "name, expected",
    [
        ("bortezomib", {"alpha_amido_boronic_acid", "boronic_acid"}),
        ("ixazomib", {"alpha_amido_boronic_acid", "boronic_acid"}),
        ("carfilzomib", {"epoxyketone"}),
        ("lenalidomide", {"glutarimide", "amino_glutarimide"}),
        ("thalidomide", {"glutarimide", "amino_glutarimide"}),
        ("dexamethasone", {"steroid_3_keto_delta4", "corticoid_side_chain"}),
        ("melphalan", {"nitrogen_mustard"}),
        ("cyclophosphamide", {"nitrogen_mustard"}),
        ("vorinostat", {"hydroxamic_acid"}),
        ("doxorubicin", {"anthracycline_core"}),
        ("selinexor", {"acrylhydrazide_michael_acceptor"}),
        ("venetoclax", {"bh3_mimetic_acylsulfonamide"}),
    ],
)
def test_library_warheads(lib, name, expected):
    assert set(drugs.warheads(lib[name].mol)) == expected


def test_standardize_strips_salts_and_keeps_the_parent(lib):
    bz = lib["bortezomib"]
    from mmmech.drugs import _chem

    for salt in (".Cl", ".O", ".[Na+].[Cl-]", ".CC(=O)O"):
        mol = drugs.standardize(bz.smiles + salt)
        assert _chem.inchikey(mol) == bz.inchikey
    # a charged form is neutralised
    mol = drugs.standardize("CC(C)C[C@H](NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)[O-].[Na+]")
    assert _chem.formula(mol) == "C19H25BN4O4"


def test_standardize_keeps_stereo_of_glutarimides(lib):
    from mmmech.drugs import _chem

    for name in ("iberdomide", "mezigdomide"):
        mol = drugs.standardize(lib[name].smiles)
        assert _chem.inchikey(mol) == lib[name].inchikey


@pytest.mark.parametrize(
    "bad, needle",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("C1CC", "not a valid SMILES"),
        ("not_a_smiles", "not a valid SMILES"),
        ("c1ccccc1(C)(C)(C)", "valence"),
        ("CC C", "whitespace"),
        ("CCO.c1ccccc1CCN.CC(C)Cc1ccc(cc1)C(C)C(=O)O", "components"),
        ("CC(C)Cc1ccc(cc1)C(C)C(=O)O.CC(=O)Oc1ccccc1C(=O)O", "components"),
        ("[Na+].[Cl-]", "no organic"),
        ("C" * 20000, "characters"),
    ],
)
def test_bad_smiles_raise_clear_errors_naming_the_input(bad, needle):
    with pytest.raises(InvalidInputError) as exc:
        drugs.from_smiles(bad)
    msg = str(exc.value)
    assert "from_smiles()" in msg and needle.lower() in msg.lower()
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize("bad", [None, 42, b"CCO", ["CCO"]])
def test_non_string_smiles_is_rejected(bad):
    with pytest.raises(InvalidInputError):
        drugs.from_smiles(bad)
    with pytest.raises(InvalidInputError):
        drugs.standardize(bad)


def test_descriptors_known_answers():
    # PubChem (aspirin, CID 2244): MW 180.16, TPSA 63.6 A^2, 1 H-bond donor, 4 N+O atoms.
    d = drugs.from_smiles("CC(=O)Oc1ccccc1C(=O)O", name="aspirin").descriptors()
    assert d["mol_weight"] == pytest.approx(180.16, abs=0.01)
    assert d["tpsa"] == pytest.approx(63.6, abs=0.05)
    assert (d["hbd"], d["hba"]) == (1, 4)
    assert d["lipinski"] and d["veber"] and d["lipinski_violations"] == 0


def test_descriptors_flag_beyond_rule_of_five_drugs(lib):
    v = lib["venetoclax"].descriptors()
    assert v["mol_weight"] > 500 and v["lipinski_violations"] >= 2 and not v["lipinski"]
    assert lib["lenalidomide"].descriptors()["lipinski"]
    with pytest.raises(InvalidInputError, match="antibody"):
        lib["daratumumab"].descriptors()


# ------------------------------------------------------------------------- inference

# Molecules NOT in the library (structures as published for these compounds).
POSITIVES = {
    # boronic-acid dipeptide: delanzomib (CEP-18770), (R)-boroleucine of a threonine amide
    "delanzomib": (
        "CC(C)C[C@H](NC(=O)[C@@H](NC(=O)c1cccc(n1)-c1ccccc1)[C@@H](C)O)B(O)O",
        "proteasome_inhibitor",
        ("PSMB5", "inhibit"),
    ),
    # epoxyketone tripeptide: oprozomib (ONX 0912)
    "oprozomib": (
        "COC[C@H](NC(=O)c1cnc(C)s1)C(=O)N[C@@H](COC)C(=O)N[C@@H](Cc1ccccc1)C(=O)[C@@]1(C)CO1",
        "proteasome_inhibitor",
        ("PSMB5", "covalent_inhibit"),
    ),
    # glutarimide on a quinazolinone: avadomide (CC-122)
    "avadomide": (
        "Cc1nc2cccc(N)c2c(=O)n1C1CCC(=O)NC1=O",
        "cereblon_modulator",
        ("CRBN", "glue_degrade"),
    ),
    # hydroxamic acid: belinostat
    "belinostat": (
        "ONC(=O)/C=C/c1cccc(c1)S(=O)(=O)Nc1ccccc1",
        "HDAC_inhibitor",
        ("HDAC1", "inhibit"),
    ),
    # aromatic nitrogen mustard: chlorambucil
    "chlorambucil": ("OC(=O)CCCc1ccc(N(CCCl)CCCl)cc1", "alkylator", ("DNA", "damage_DNA")),
    # corticosteroid: hydrocortisone
    "hydrocortisone": (
        "C[C@]12CCC(=O)C=C1CC[C@@H]3[C@@H]2[C@H](C[C@]4([C@H]3CC[C@@]4(C(=O)CO)O)C)O",
        "glucocorticoid",
        ("NR3C1", "agonist"),
    ),
}

NEGATIVES = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "metformin": "CN(C)C(=N)N=C(N)N",
    "ibuprofen": "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    # a plain aryl boronic acid is not a peptide boronate: weak evidence only
    "phenylboronic acid": "OB(O)c1ccccc1",
    # progesterone has the 3-keto-delta4 steroid but no corticoid side chain
    "progesterone": "CC(=O)[C@H]1CC[C@@H]2[C@@]1(CC[C@H]3[C@H]2CCC4=CC(=O)CC[C@]34C)C",
    # bortezomib with the boronic acid replaced by a methyl: similar, but no warhead
    "deboronated bortezomib": "CC(C)CC(C)NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1",
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_inference_on_molecules_outside_the_library(lib, name):
    smiles, cls, target_action = POSITIVES[name]
    d = drugs.from_smiles(smiles, name=name)
    assert name not in lib
    assert d.drug_class == cls
    assert target_action in {(t.target, t.action) for t in d.targets}
    inf = d.inference
    assert 0.5 <= inf["confidence"] <= 1.0
    assert inf["library_match"] is None
    assert inf["nearest"][0]["similarity"] < 1.0
    assert [n["similarity"] for n in inf["nearest"]] == sorted(
        (n["similarity"] for n in inf["nearest"]), reverse=True
    )
    for t in d.targets:
        assert t.confidence == inf["confidence"] and not t.potency.verified
        assert "analogy" in t.potency.assay and SOURCE_RX.match(t.potency.source)
    assert d.reference_nM is None and d.name == name


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_negative_controls_are_not_called_proteasome_inhibitors(name):
    d = drugs.from_smiles(NEGATIVES[name])
    assert d.drug_class == "unknown" and d.targets == ()
    assert "PSMB5" not in {t.target for t in d.targets}
    assert d.inference["confidence"] < 0.5


def test_contract_molecule_is_a_proteasome_inhibitor():
    d = drugs.from_smiles("CC(C)C[C@H](NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)O")
    assert d.drug_class == "proteasome_inhibitor"
    assert ("PSMB5", "inhibit") in {(t.target, t.action) for t in d.targets}
    assert d.inference["nearest"][0]["name"] == "bortezomib"
    assert "alpha_amido_boronic_acid" in d.inference["warheads"]
    assert d.inference["same_connectivity"] == "bortezomib"


def test_library_molecules_are_recognised_as_themselves(lib):
    for drug in small_molecules(lib):
        d = drugs.from_smiles(drug.smiles, name=drug.name)
        assert d.inference["library_match"] == drug.name
        assert d.inference["nearest"][0] == {
            "name": drug.name,
            "similarity": 1.0,
            "drug_class": drug.drug_class,
        }
        assert d.drug_class == drug.drug_class, drug.name
        assert {t.target for t in d.targets} <= {t.target for t in drug.targets} | {"PSMB5"}
        assert d.inchikey == drug.inchikey and d.formula == drug.formula


def test_salt_form_infers_like_the_parent(lib):
    d = drugs.from_smiles(lib["bortezomib"].smiles + ".Cl")
    assert d.inference["library_match"] == "bortezomib"
    assert d.drug_class == "proteasome_inhibitor"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="CNOScnos()[]=#@+-123456789.BrClF /\\", max_size=40))
def test_from_smiles_either_infers_or_raises_invalid_input(text):
    try:
        d = drugs.from_smiles(text)
    except InvalidInputError as exc:
        assert "from_smiles()" in str(exc)
        return
    assert d.drug_class in drugs.DRUG_CLASSES
    assert 0.0 <= d.inference["confidence"] <= 1.0
    assert (d.drug_class == "unknown") == (not d.targets)


def test_to_dict_is_json_and_has_interface_keys(lib):
    for d in lib.values():
        payload = json.loads(json.dumps(d.to_dict()))
        assert {
            "name",
            "type",
            "drug_class",
            "smiles",
            "inchikey",
            "formula",
            "mol_weight",
            "targets",
            "reference_nM",
        } <= set(payload)
        for t in payload["targets"]:
            assert {"target", "action", "potency_nM", "source"} <= set(t)
    inferred = drugs.from_smiles("OC(=O)CCCc1ccc(N(CCCl)CCCl)cc1").to_dict()
    assert json.loads(json.dumps(inferred))["inference"]["warheads"] == ["nitrogen_mustard"]


def test_importing_the_drug_module_does_not_import_rdkit():
    code = "import sys, mmmech.drugs; print('rdkit' in sys.modules)"
    from _helpers import NEUTRAL_CWD

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=NEUTRAL_CWD
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_double_bond_geometry_reaches_the_inchikey(lib):
    # E (panobinostat) and Z (selinexor) are stereo elements: the InChIKey's second block must
    # carry them (a flat 'UHFFFAOYSA' block would mean the geometry was dropped on parsing).
    for name in ("panobinostat", "selinexor"):
        assert lib[name].inchikey.split("-")[1] != "UHFFFAOYSA", name
    from mmmech.drugs import _chem

    e = _chem.inchikey(_chem.parse_smiles("C/C=C/C(=O)O"))
    z = _chem.inchikey(_chem.parse_smiles("C/C=C\\C(=O)O"))
    assert e != z and e[:14] == z[:14]
