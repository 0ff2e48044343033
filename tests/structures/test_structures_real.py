"""mmmech.structures on the real cereblon structures in ../shared/data/structures.

Known answers from outside the project: lenalidomide (LVY, PDB 5FQD), thalidomide (EF2, PDB
4CI1, chicken CRBN) and pomalidomide (Y70, PDB 6UML) sit in the tri-tryptophan pocket of CRBN,
human W380, W386, W400 (Fischer et al. 2014, PMID 25043012; Petzold et al. 2016,
DOI 10.1038/nature16979). The chicken numbering of 4CI1 is found by alignment, not assumed.
Every test skips when the shared data folder is absent. Files are parsed once per module.
"""

import pytest

from mmmech import structures as S
from mmmech.exceptions import StructureError

pytestmark = pytest.mark.shared_data

FILES = {
    "5FQD": "5fqd_crbn_lenalidomide_ck1a.pdb",
    "4CI1": "4ci1_crbn_thalidomide.pdb",
    "6UML": "6uml_crbn_pomalidomide_sall4.pdb",
    "6H0F": "6h0f_crbn_pomalidomide_ikzf1_zf2.pdb",
}
HUMAN_TRI_TRP = {380, 386, 400}


@pytest.fixture(scope="module")
def real(shared_data):
    folder = shared_data / "structures"
    return {k: S.load_structure(folder / v) for k, v in FILES.items()}


def _trp(rows, chain):
    return {r["resnum"] for r in rows if r["chain"] == chain and r["resname"] == "TRP"}


def test_lenalidomide_pocket_is_tri_trp_in_both_copies(real):
    rows = S.binding_site(real["5FQD"], ligand="LVY", cutoff=4.0)
    copies = sorted({(r["ligand_chain"], r["ligand_resnum"]) for r in rows})
    assert copies == [("B", 1438), ("E", 1438)]
    assert _trp(rows, "B") == HUMAN_TRI_TRP and _trp(rows, "E") == HUMAN_TRI_TRP
    # the glutarimide-binding residues of the pocket (H378 hydrogen bonds) in both copies
    for chain in "BE":
        assert {351, 378, 380, 386, 400, 402} <= {r["resnum"] for r in rows if r["chain"] == chain}
    # lenalidomide also touches the CK1alpha beta-hairpin (G40) of chains C and F
    assert {("C", 40), ("F", 40)} <= {(r["chain"], r["resnum"]) for r in rows}


def test_pomalidomide_pocket_is_tri_trp(real):
    rows = S.binding_site(real["6UML"], ligand="Y70")
    assert _trp(rows, "C") == HUMAN_TRI_TRP
    assert {("E", 416)} <= {(r["chain"], r["resnum"]) for r in rows}  # SALL4 G416


def test_thalidomide_pocket_in_chicken_numbering(real):
    rows = S.binding_site(real["4CI1"], ligand="EF2")
    assert {(r["ligand_chain"], r["ligand_resnum"]) for r in rows} == {("B", 1429)}
    chicken = _trp(rows, "B")
    assert len(chicken) == 3 and chicken != HUMAN_TRI_TRP
    # mapped onto human 5FQD numbering by alignment, the three Trp are W380/W386/W400
    corr = S.residue_correspondence(real["4CI1"], "B", real["5FQD"], "B")
    assert {corr[(n, "")][0] for n in chicken} == HUMAN_TRI_TRP


def test_chicken_to_human_correspondence(real):
    corr = S.residue_correspondence(real["4CI1"], "B", real["5FQD"], "B")
    # around the pocket chicken CRBN is numbered +2 against human (found, not assumed)
    assert (
        corr[(382, "")] == (380, "")
        and corr[(388, "")] == (386, "")
        and corr[(402, "")] == (400, "")
    )
    assert len(corr) > 300
    # residue identities agree at the pocket: the mapping pairs Trp with Trp
    chicken_seq, chicken_keys = S.structure_sequence(real["4CI1"], "B")
    human_seq, human_keys = S.structure_sequence(real["5FQD"], "B")
    ch = dict(zip(chicken_keys, chicken_seq, strict=False))
    hu = dict(zip(human_keys, human_seq, strict=False))
    same = sum(ch[a] == hu[b] for a, b in corr.items())
    assert same / len(corr) > 0.8  # orthologues: high identity
    # and the whole ligand-contact set maps onto the human pocket residues
    pocket_c = {(r["resnum"], r["icode"]) for r in S.binding_site(real["4CI1"], ligand="EF2")}
    pocket_h = {
        r["resnum"] for r in S.binding_site(real["5FQD"], ligand="LVY") if r["chain"] == "B"
    }
    mapped = {corr[k][0] for k in pocket_c if k in corr}
    assert len(mapped & pocket_h) >= 9


def test_correspondence_between_human_structures_is_identity(real):
    corr = S.residue_correspondence(real["6UML"], "C", real["5FQD"], "B")
    assert corr and all(a == b for a, b in corr.items())
    corr = S.residue_correspondence(real["5FQD"], "B", real["5FQD"], "E")
    assert all(a == b for a, b in corr.items())


def test_pockets_agree_with_the_registry(real):
    site = next(b for b in S.get_target("CRBN").binding_sites if b.name == "IMiD tri-Trp pocket")
    rows = S.binding_site(real["5FQD"], ligand="LVY")
    for chain in "BE":
        assert {r["resnum"] for r in rows if r["chain"] == chain} == set(site.positions())
    ck1a = next(b for b in S.get_target("CSNK1A1").binding_sites)
    assert {r["resnum"] for r in rows if r["chain"] == "C"} == set(ck1a.positions())


def test_registry_sequences_match_the_files(real):
    """The residues the registry uses for wild-type checks are those observed in the files."""
    for gene, key, chain in [
        ("CRBN", "5FQD", "B"),
        ("CRBN", "5FQD", "E"),
        ("CRBN", "6UML", "C"),
        ("CRBN", "6H0F", "R"),
        ("IKZF1", "6H0F", "C"),
        ("CSNK1A1", "5FQD", "F"),
        ("SALL4", "6UML", "E"),
    ]:
        t = S.get_target(gene)
        seq, keys = S.structure_sequence(real[key], chain)
        for letter, (num, _icode) in zip(seq, keys, strict=False):
            assert t.residues.get(num) == letter, (gene, key, chain, num)


def test_crbn_wild_type_checks_use_the_structure_sequence(real):
    for n in HUMAN_TRI_TRP:
        assert S.parse_mutation(f"CRBN W{n}A").wt == "W"
    with pytest.raises(Exception, match="wild-type mismatch"):
        S.parse_mutation("CRBN W381A")


def test_crbn_ikzf1_interface(real):
    rows = S.interface_contacts(real["6H0F"], "R", "C", cutoff=4.0)
    ikzf1 = {r["resnum_b"] for r in rows}
    assert {146, 151} <= ikzf1  # the G-loop Gln146 and Gly151 of ZF2
    assert {386, 400} & {r["resnum_a"] for r in rows}


def test_mmcif_gives_the_same_pocket_as_pdb(real, tmp_path):
    """Differential: the same coordinates written as mmCIF give the same binding site."""
    from Bio.PDB import MMCIFIO, Select

    class Keep(Select):
        def accept_chain(self, chain):
            return chain.id in ("B", "C")

    io_ = MMCIFIO()
    io_.set_structure(real["5FQD"])
    path = tmp_path / "5fqd_BC.cif"
    io_.save(str(path), Keep())
    from_cif = S.binding_site(path, ligand="LVY")
    from_pdb = [r for r in S.binding_site(real["5FQD"], ligand="LVY") if r["ligand_chain"] == "B"]
    assert from_cif == from_pdb


def test_unknown_ligand_in_a_real_file_suggests(shared_data):
    path = shared_data / "structures" / FILES["5FQD"]
    with pytest.raises(StructureError, match=r"HET codes present: LVY, ZN; did you mean 'LVY'"):
        S.binding_site(path, ligand="LVV")
    with pytest.raises(StructureError, match="HET codes present: none"):
        S.binding_site(shared_data / "structures" / FILES["6H0F"], ligand="Y70")
