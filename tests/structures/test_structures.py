"""mmmech.structures on small structures built in code, the registry, numbering and mutations.

Structures here are assembled atom by atom with Bio.PDB's StructureBuilder so that every
distance is known exactly; the real cereblon structures are in test_structures_real.py.
"""

import doctest
import io
import sys
import urllib.error
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mmmech import structures as S
from mmmech.exceptions import (
    InvalidInputError,
    ModelFileError,
    MutationError,
    NetworkUnavailableError,
    StructureError,
    UnknownTargetError,
)
from mmmech.structures import analysis, download, mutations, registry

AA3 = {
    "A": "ALA",
    "R": "ARG",
    "N": "ASN",
    "D": "ASP",
    "C": "CYS",
    "Q": "GLN",
    "E": "GLU",
    "G": "GLY",
    "H": "HIS",
    "I": "ILE",
    "L": "LEU",
    "K": "LYS",
    "M": "MET",
    "F": "PHE",
    "P": "PRO",
    "S": "SER",
    "T": "THR",
    "W": "TRP",
    "Y": "TYR",
    "V": "VAL",
}


# ---------------------------------------------------------------------------------------------
# building structures in code
# ---------------------------------------------------------------------------------------------


def build(spec, sid="t"):
    """spec: {chain: [(kind, resnum, icode, resname, [(atom, element, (x, y, z)), ...]), ...]}.

    kind is "aa" (polymer residue), "het" (hetero group) or "water".
    """
    from Bio.PDB.StructureBuilder import StructureBuilder

    sb = StructureBuilder()
    sb.init_structure(sid)
    sb.init_model(0)
    serial = 1
    for chain, residues in spec.items():
        sb.init_chain(chain)
        sb.init_seg("    ")
        for kind, num, icode, name, atoms in residues:
            field = {"aa": " ", "het": "H_" + name, "water": "W"}[kind]
            sb.init_residue(name, field, num, icode)
            for aname, element, xyz in atoms:
                sb.init_atom(
                    aname,
                    np.array(xyz, dtype="f"),
                    20.0,
                    1.0,
                    " ",
                    f" {aname:<3}"[:4],
                    serial,
                    element,
                )
                serial += 1
    return sb.get_structure()


def aa(num, name, xyz, icode=" ", atom="CA", element="C"):
    return ("aa", num, icode, name, [(atom, element, xyz)])


def pocket():
    """A ligand LIG (one atom at the origin) with residues at known distances, plus a 2nd copy."""
    return build(
        {
            "A": [
                aa(10, "ALA", (3.0, 0.0, 0.0)),  # 3.0 Å
                aa(10, "SER", (0.0, 0.0, -3.5), icode="A"),  # 3.5 Å, insertion code A
                aa(11, "GLY", (0.0, 4.0, 0.0)),  # exactly 4.0 Å (inclusive)
                aa(12, "SER", (0.0, 0.0, 4.5)),  # 4.5 Å: out at 4, in at 5
                (
                    "aa",
                    13,
                    " ",
                    "VAL",
                    [("CA", "C", (10.0, 0.0, 0.0)), ("HA", "H", (1.0, 0.0, 0.0))],
                ),  # only its H is close
                (
                    "aa",
                    14,
                    " ",
                    "LEU",
                    [("CA", "C", (0.0, -9.0, 0.0)), ("CB", "C", (0.0, -2.5, 0.0))],
                ),  # min over atoms: 2.5
                ("het", 900, " ", "LIG", [("C1", "C", (0.0, 0.0, 0.0))]),
                ("het", 901, " ", "ZN", [("ZN", "ZN", (-2.0, 0.0, 0.0))]),
                ("water", 1001, " ", "HOH", [("O", "O", (0.0, 1.5, 0.0))]),
            ],
            "B": [
                aa(5, "TRP", (100.0, 2.0, 0.0)),
                ("het", 950, " ", "LIG", [("C1", "C", (100.0, 0.0, 0.0))]),
            ],
        }
    )


@pytest.fixture(scope="module")
def pocket_structure():
    return pocket()


# ---------------------------------------------------------------------------------------------
# binding_site
# ---------------------------------------------------------------------------------------------


def test_binding_site_pins_distances_and_cutoff(pocket_structure):
    rows = S.binding_site(pocket_structure, ligand="LIG", cutoff=4.0)
    got = [
        (
            r["ligand_chain"],
            r["ligand_resnum"],
            r["chain"],
            r["resname"],
            r["resnum"],
            r["icode"],
            r["min_distance"],
        )
        for r in rows
    ]
    assert got == [
        ("A", 900, "A", "ALA", 10, "", 3.0),
        ("A", 900, "A", "SER", 10, "A", 3.5),
        ("A", 900, "A", "GLY", 11, "", 4.0),
        ("A", 900, "A", "LEU", 14, "", 2.5),
        ("B", 950, "B", "TRP", 5, "", 2.0),
    ]
    assert set(rows[0]) == {
        "chain",
        "resname",
        "resnum",
        "icode",
        "min_distance",
        "ligand_chain",
        "ligand_resnum",
    }


def test_binding_site_wider_cutoff_adds_residue(pocket_structure):
    rows = S.binding_site(pocket_structure, ligand="lig", cutoff=5.0)  # case-insensitive code
    assert ("SER", 12, 4.5) in {(r["resname"], r["resnum"], r["min_distance"]) for r in rows}


def test_hydrogens_are_ignored(pocket_structure):
    rows = S.binding_site(pocket_structure, ligand="LIG", cutoff=4.0)
    assert 13 not in {r["resnum"] for r in rows}


def test_protein_only_false_reports_ions_and_water(pocket_structure):
    rows = S.binding_site(pocket_structure, ligand="LIG", cutoff=4.0, protein_only=False)
    extra = {(r["resname"], r["min_distance"]) for r in rows if r["ligand_resnum"] == 900}
    assert ("ZN", 2.0) in extra and ("HOH", 1.5) in extra
    # the ligand copy itself is never reported, the other copy is far away
    assert not any(r["resname"] == "LIG" for r in rows)


def test_unknown_ligand_lists_het_codes_close_first(pocket_structure):
    with pytest.raises(StructureError) as exc:
        S.binding_site(pocket_structure, ligand="LIH")
    msg = str(exc.value)
    assert "'LIH'" in msg and "HET codes present: LIG, ZN" in msg and "did you mean 'LIG'" in msg
    assert "HOH" not in msg


def test_unknown_ligand_without_any_het(tmp_path):
    s = build({"A": [aa(1, "ALA", (0, 0, 0))]})
    with pytest.raises(StructureError, match="no hetero groups"):
        S.binding_site(s, ligand="LVY")


@pytest.mark.parametrize("cutoff", [0, -1, float("nan"), float("inf"), "abc", 51])
def test_bad_cutoff(pocket_structure, cutoff):
    with pytest.raises(InvalidInputError, match="cutoff"):
        S.binding_site(pocket_structure, ligand="LIG", cutoff=cutoff)


@pytest.mark.parametrize("ligand", ["", "   ", None, 5])
def test_bad_ligand_argument(pocket_structure, ligand):
    with pytest.raises(InvalidInputError, match="ligand"):
        S.binding_site(pocket_structure, ligand=ligand)


def _write(structure, path, fmt):
    from Bio.PDB import MMCIFIO, PDBIO

    io_ = PDBIO() if fmt == "pdb" else MMCIFIO()
    io_.set_structure(structure)
    io_.save(str(path))
    return path


@pytest.mark.parametrize(
    "fmt, name",
    [("pdb", "x.pdb"), ("cif", "x.cif"), ("pdb", "x.txt"), ("cif", "x.dat"), ("pdb", "x.ent")],
)
def test_files_pdb_and_mmcif_by_extension_or_content(pocket_structure, tmp_path, fmt, name):
    path = _write(pocket_structure, tmp_path / name, fmt)
    from_file = S.binding_site(path, ligand="LIG", cutoff=4.0)
    assert from_file == S.binding_site(pocket_structure, ligand="LIG", cutoff=4.0)
    assert S.binding_site(str(path), ligand="LIG") == from_file


def test_gzipped_file(pocket_structure, tmp_path):
    import gzip

    path = _write(pocket_structure, tmp_path / "x.pdb", "pdb")
    gz = tmp_path / "x.pdb.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert S.binding_site(gz, ligand="LIG") == S.binding_site(path, ligand="LIG")


def test_missing_and_bad_files(tmp_path):
    with pytest.raises(StructureError, match="does not exist"):
        S.binding_site(tmp_path / "nope.pdb", ligand="LVY")
    with pytest.raises(StructureError, match="directory"):
        S.binding_site(tmp_path, ligand="LVY")
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\nthis is not a structure\n")
    with pytest.raises(StructureError, match="cannot tell the format"):
        S.binding_site(junk, ligand="LVY")
    empty = tmp_path / "empty.pdb"
    empty.write_text("REMARK nothing here\nEND\n")
    with pytest.raises(StructureError, match="no atoms"):
        S.binding_site(empty, ligand="LVY")
    broken = tmp_path / "broken.cif"
    broken.write_text("data_x\nloop_\n_atom_site.id\n_atom_site.type_symbol\n1\n")
    with pytest.raises(StructureError, match="cannot parse|no atoms"):
        S.binding_site(broken, ligand="LVY")
    with pytest.raises(InvalidInputError, match="expected a path"):
        S.binding_site(12345, ligand="LVY")


def test_edited_file_is_reparsed(pocket_structure, tmp_path):
    """The parse cache is keyed on size and mtime: an edited file is read again."""
    path = _write(pocket_structure, tmp_path / "x.pdb", "pdb")
    assert S.binding_site(path, ligand="LIG")
    _write(
        build({"A": [aa(1, "ALA", (0, 0, 0)), ("het", 2, " ", "NEW", [("C", "C", (1, 0, 0))])]}),
        path,
        "pdb",
    )
    assert [r["resnum"] for r in S.binding_site(path, ligand="NEW")] == [1]


coords = st.tuples(*[st.floats(-8, 8, allow_nan=False, width=32)] * 3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lig=st.lists(coords, min_size=1, max_size=4),
    residues=st.lists(st.lists(coords, min_size=1, max_size=3), min_size=1, max_size=25),
    cutoff=st.floats(1.0, 8.0),
)
def test_binding_site_matches_brute_force(lig, residues, cutoff):
    """Differential: the k-d tree search equals an all-pairs NumPy computation."""
    lig_xyz = np.array(lig, dtype=np.float32).astype(np.float64)
    spec = [("het", 500, " ", "LIG", [(f"C{i}", "C", xyz) for i, xyz in enumerate(lig)])]
    expected = {}
    for k, atoms in enumerate(residues, start=1):
        spec.append(("aa", k, " ", "ALA", [(f"X{i}", "C", xyz) for i, xyz in enumerate(atoms)]))
        xyz = np.array(atoms, dtype=np.float32).astype(np.float64)
        d = np.sqrt(((xyz[:, None, :] - lig_xyz[None, :, :]) ** 2).sum(-1)).min()
        assume(abs(d - cutoff) > 1e-4)
        if d <= cutoff:
            expected[k] = d
    rows = S.binding_site(build({"A": spec}), ligand="LIG", cutoff=cutoff)
    assert [r["resnum"] for r in rows] == sorted(expected)
    for r in rows:
        assert r["min_distance"] == pytest.approx(expected[r["resnum"]], abs=6e-4)
        assert r["min_distance"] <= cutoff + 1e-3


@settings(max_examples=30, deadline=None)
@given(c1=st.floats(1.0, 6.0), c2=st.floats(1.0, 6.0))
def test_binding_site_monotone_in_cutoff(pocket_structure, c1, c2):
    lo, hi = sorted((c1, c2))
    key = lambda r: (r["ligand_chain"], r["ligand_resnum"], r["chain"], r["resnum"], r["icode"])  # noqa: E731
    small = {key(r) for r in S.binding_site(pocket_structure, ligand="LIG", cutoff=lo)}
    large = {key(r) for r in S.binding_site(pocket_structure, ligand="LIG", cutoff=hi)}
    assert small <= large


# ---------------------------------------------------------------------------------------------
# interface_contacts and residue_correspondence
# ---------------------------------------------------------------------------------------------


def test_interface_contacts_pinned():
    s = build(
        {
            "A": [aa(1, "ALA", (0, 0, 0)), aa(2, "GLY", (0, 10, 0)), aa(3, "SER", (20, 0, 0))],
            "B": [
                aa(7, "TRP", (3, 0, 0)),
                aa(8, "TYR", (0, 14, 0)),
                aa(9, "LYS", (50, 0, 0)),
                ("het", 99, " ", "ZN", [("ZN", "ZN", (0, 1, 0))]),
            ],
        }
    )
    rows = S.interface_contacts(s, "A", "B", cutoff=4.0)
    assert [(r["resnum_a"], r["resnum_b"], r["min_distance"]) for r in rows] == [
        (1, 7, 3.0),
        (2, 8, 4.0),
    ]
    assert rows[0]["resname_a"] == "ALA" and rows[0]["resname_b"] == "TRP"
    swapped = S.interface_contacts(s, "B", "A", cutoff=4.0)
    assert {(r["resnum_b"], r["resnum_a"]) for r in swapped} == {(1, 7), (2, 8)}


def test_interface_errors(pocket_structure):
    with pytest.raises(StructureError, match="chains present: A, B"):
        S.interface_contacts(pocket_structure, "A", "Z")
    with pytest.raises(StructureError, match="case-sensitive; did you mean 'A'"):
        S.interface_contacts(pocket_structure, "a", "B")
    with pytest.raises(InvalidInputError, match="must differ"):
        S.interface_contacts(pocket_structure, "A", "A")


def chain_of(seq, start=1, chain="A", skip=(), icodes=None):
    """A chain of one-CA residues; `skip` = unmodelled indices, `icodes` = {index: code} for
    residues inserted after the previous number (e.g. 110, 110A, 111)."""
    residues = []
    num = start
    for i, letter in enumerate(seq):
        if icodes and i in icodes:
            number, ic = num - 1, icodes[i]
        else:
            number, ic = num, " "
            num += 1
        if i not in skip:
            residues.append(aa(number, AA3[letter], (3.8 * i, 0, 0), icode=ic))
    return build({chain: residues})


@settings(max_examples=40, deadline=None)
@given(
    seq=st.text(alphabet="ACDEFGHIKLMNPQRSTVWY", min_size=15, max_size=60),
    start=st.integers(-20, 400),
    shift=st.integers(-100, 100),
)
def test_correspondence_recovers_renumbering(seq, start, shift):
    a = chain_of(seq, start=start)
    b = chain_of(seq, start=start + shift, chain="X")
    mapping = S.residue_correspondence(a, "A", b, "X")
    assert mapping == {(start + i, ""): (start + shift + i, "") for i in range(len(seq))}


def test_correspondence_across_gap_insertion_code_and_substitution():
    human = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDF"
    other = list(human)
    other[30] = "V"  # a substitution (L -> V) stays aligned
    other = "".join(other)
    a = chain_of(human, start=1)
    # construct B: numbered from 101, residues 40-44 not modelled, residue 10 carries icode 'A'
    b = chain_of(other, start=101, chain="B", skip=set(range(40, 45)), icodes={10: "A"})
    m = S.residue_correspondence(a, "A", b, "B")
    assert m[(1, "")] == (101, "")
    assert m[(31, "")] == (130, "")  # the substituted residue
    assert m[(11, "")] == (110, "A")  # the insertion-code residue
    assert m[(12, "")] == (111, "")  # numbering resumes after it
    assert all((n, "") not in m for n in range(41, 46))  # unmodelled in B: no partner
    assert m[(46, "")] == (145, "")


def test_correspondence_errors(pocket_structure):
    with pytest.raises(StructureError, match="chain_b 'Q' is not a chain"):
        S.residue_correspondence(pocket_structure, "A", pocket_structure, "Q")
    only_het = build({"H": [("het", 1, " ", "LIG", [("C", "C", (0, 0, 0))])]})
    with pytest.raises(StructureError, match="no amino-acid residues"):
        S.residue_correspondence(only_het, "H", pocket_structure, "A")


def test_structure_sequence():
    s = chain_of("ACDW", start=5)
    assert S.structure_sequence(s, "A") == ("ACDW", [(5, ""), (6, ""), (7, ""), (8, "")])


# ---------------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------------

REQUIRED = [
    "PSMB5",
    "PSMB6",
    "PSMB7",
    "PSMB8",
    "PSMB9",
    "PSMB10",
    "CRBN",
    "IKZF1",
    "IKZF3",
    "CSNK1A1",
    "SALL4",
    "CD38",
    "SLAMF7",
    "NR3C1",
    "HDAC1",
    "HDAC2",
    "HDAC3",
    "HDAC6",
    "XPO1",
    "BCL2",
    "TNFRSF17",
    "GPRC5D",
    "TOP2A",
]


def test_registry_has_every_required_target():
    reg = S.targets()
    assert set(REQUIRED) <= set(reg)
    assert reg["bcma"] is reg["TNFRSF17"] is S.get_target("Bcma")
    assert "ck1a" in reg and "cereblon" in reg and "NOPE" not in reg and 3 not in reg


def test_registry_accessions():
    # UniProt accessions confirmed during curation (see targets.toml header)
    expected = {
        "PSMB5": "P28074",
        "PSMB6": "P28072",
        "PSMB7": "Q99436",
        "PSMB8": "P28062",
        "PSMB9": "P28065",
        "PSMB10": "P40306",
        "CRBN": "Q96SW2",
        "IKZF1": "Q13422",
        "IKZF3": "Q9UKT9",
        "CSNK1A1": "P48729",
        "SALL4": "Q9UJQ4",
        "CD38": "P28907",
        "SLAMF7": "Q9NQ25",
        "TNFRSF17": "Q02223",
        "GPRC5D": "Q9NZD1",
        "NR3C1": "P04150",
        "HDAC1": "Q13547",
        "HDAC2": "Q92769",
        "HDAC3": "O15379",
        "HDAC6": "Q9UBN7",
        "XPO1": "O14980",
        "BCL2": "P10415",
        "TOP2A": "P11388",
    }
    assert {g: S.get_target(g).uniprot for g in expected} == expected


SOURCE = r"^(PMID:\d+|DOI:10\.\S+|PDB:[0-9][A-Z0-9]{3}|UniProt:[A-Z0-9]{6,10})(\s.*)?$"


def test_every_fact_has_a_source():
    import re

    for t in S.targets().values():
        assert t.role and t.protein and t.sources, t.gene
        for src in t.sources:
            assert re.match(SOURCE, src), (t.gene, src)
        for s in t.structures:
            assert re.match(SOURCE, s.source), (t.gene, s.pdb_id)
            assert re.fullmatch(r"[0-9][A-Z0-9]{3}", s.pdb_id)
            assert s.verified or s.note, f"{t.gene} {s.pdb_id}: unverified without a note"
        for b in t.binding_sites:
            assert re.match(SOURCE, b.source) and b.residues, (t.gene, b.name)
        for m in t.mutations:
            assert m.sources and all(re.match(SOURCE, x) for x in m.sources), (t.gene, m.text)
            assert m.fold_basis, (t.gene, m.text)
            for drug, rng in m.fold_ranges.items():
                assert rng[0] <= m.folds.get(drug, rng[0]) <= rng[1]
        for pos in t.residues:
            assert re.match(SOURCE, t.residue_sources[pos]), (t.gene, pos)
        for sch in t.schemes.values():
            assert re.match(SOURCE, sch.source)


def test_registry_to_dict_is_json():
    import json

    for t in S.targets().values():
        d = json.loads(json.dumps(t.to_dict()))
        assert d["gene"] == t.gene and d["uniprot"] == t.uniprot


def test_unknown_target_suggests():
    with pytest.raises(UnknownTargetError, match="did you mean 'PSMB5'"):
        S.get_target("PSMB55")
    with pytest.raises(KeyError):  # UnknownTargetError is a KeyError
        S.targets()["no-such-gene"]
    with pytest.raises(InvalidInputError):
        S.get_target("")


def _entry(**over):
    base = {
        "gene": "G1",
        "uniprot": "P00001",
        "protein": "p",
        "role": "r",
        "sources": ["PMID:1"],
        "default_scheme": "uniprot",
        "schemes": {"uniprot": {"offset": 0, "description": "d", "source": "UniProt:P00001"}},
    }
    base.update(over)
    return {"targets": [base]}


@pytest.mark.parametrize(
    "over, needle",
    [
        ({"sources": ["a paper I read"]}, "must start with a source identifier"),
        ({"default_scheme": "mature"}, "default_scheme"),
        (
            {
                "residues": [
                    {"residue": "A5", "source": "PMID:2"},
                    {"residue": "G5", "source": "PMID:3"},
                ]
            },
            "contradicts",
        ),
        (
            {
                "sequence": [{"start": 1, "residues": "MKV", "source": "PDB:1ABC"}],
                "binding_sites": [{"name": "s", "residues": ["W2"], "source": "PMID:4"}],
            },
            "contradicts",
        ),
        (
            {"mutations": [{"variant": "A49", "effect": "e", "sources": ["PMID:5"]}]},
            "must look like",
        ),
        (
            {
                "mutations": [
                    {"variant": "A4T", "effect": "e", "sources": ["PMID:5"], "folds": {"x": -1.0}}
                ]
            },
            "finite and > 0",
        ),
        ({"protein": None}, "'protein'"),
    ],
)
def test_malformed_registry_is_rejected(over, needle):
    with pytest.raises(ModelFileError, match=needle):
        registry._build_registry(_entry(**over), "test.toml")


# ---------------------------------------------------------------------------------------------
# numbering
# ---------------------------------------------------------------------------------------------


def test_psmb5_schemes():
    # mature Thr1 = precursor (UniProt) Thr60: the propeptide is 59 residues (UniProt P28074)
    assert S.convert_position("PSMB5", 1, "mature", "precursor") == 60
    assert S.convert_position("psmb5", 108, "precursor", "mature") == 49
    assert S.convert_position("PSMB5", 49, "mature", "uniprot") == 108
    assert S.get_target("PSMB5").residue_at(1) == "T"  # default: mature
    assert S.get_target("PSMB5").residue_at(60, "precursor") == "T"


@given(st.integers(1, 204))
def test_psmb5_round_trip(pos):
    pre = S.convert_position("PSMB5", pos, "mature", "precursor")
    assert pre == pos + 59
    assert S.convert_position("PSMB5", pre, "precursor", "mature") == pos


@given(st.integers(1, 59))
def test_propeptide_has_no_mature_number(pos):
    with pytest.raises(InvalidInputError, match="no number in mature numbering"):
        S.convert_position("PSMB5", pos, "precursor", "mature")


def test_convert_position_errors():
    with pytest.raises(InvalidInputError, match="known schemes: mature, precursor"):
        S.convert_position("PSMB5", 5, "matrue", "precursor")
    with pytest.raises(InvalidInputError, match="did you mean 'mature'"):
        S.convert_position("PSMB5", 5, "matrue", "precursor")
    with pytest.raises(InvalidInputError, match="integer"):
        S.convert_position("PSMB5", 4.5, "mature", "precursor")
    with pytest.raises(InvalidInputError, match=">= 1"):
        S.convert_position("PSMB5", 0, "mature", "precursor")
    with pytest.raises(InvalidInputError, match="beyond the end"):
        S.convert_position("PSMB5", 300, "precursor", "mature")
    with pytest.raises(UnknownTargetError):
        S.convert_position("PSMBX", 5, "mature", "precursor")
    assert S.convert_position("PSMB5", 49.0, "mature", "precursor") == 108


def test_crbn_construct_scheme():
    # Mori et al. 2018 name the pocket Trp383/Trp389/Trp403 = human W380/W386/W400
    assert [S.convert_position("CRBN", p, "mori2018", "uniprot") for p in (383, 389, 403)] == [
        380,
        386,
        400,
    ]


# ---------------------------------------------------------------------------------------------
# parse_mutation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "PSMB5 A49T",
        "PSMB5:A49T",
        "psmb5 a49t",
        "PSMB5 p.Ala49Thr",
        "PSMB5: p.A49T",
        "  PSMB5   A49T ",
        "PSMB5 A108T precursor",
        "beta5 Ala49Thr mature",
        "PSMB5 ala49thr",
    ],
)
def test_parse_mutation_forms(text):
    m = S.parse_mutation(text)
    assert (m.gene, m.wt, m.mt, m.fold) == ("PSMB5", "A", "T", None)
    assert m.uniprot_position() == 108
    assert S.convert_position("PSMB5", m.position, m.scheme, "mature") == 49


def test_parse_mutation_default_scheme_and_override():
    m = S.parse_mutation("PSMB5 A49T")
    assert (m.position, m.scheme) == (49, "mature") and str(m) == "PSMB5 A49T"
    m2 = S.parse_mutation("PSMB5 A108T", scheme="precursor")
    assert (m2.position, m2.scheme, str(m2)) == (108, "precursor", "PSMB5 A108T precursor")
    assert S.parse_mutation(str(m2)) == m2  # str() re-parses
    assert S.parse_mutation(m, scheme="precursor").position == 108  # Mutation + scheme
    with pytest.raises(MutationError, match="names scheme"):
        S.parse_mutation("PSMB5 A108T precursor", scheme="mature")


def test_parse_mutation_fold_and_stop():
    assert S.parse_mutation("PSMB5 A49T x20").fold == 20.0
    assert S.parse_mutation("PSMB5 A49T ×2.5 mature").fold == 2.5
    assert S.parse_mutation("BCMA Q10*").mt == "*"
    assert S.parse_mutation("BCMA p.Gln10Ter").mt == "*"


@pytest.mark.parametrize(
    "text, exc, needle",
    [
        (
            "PSMB5 G49T",
            MutationError,
            "wild-type mismatch: PSMB5 residue 49 (mature numbering, UniProt 108) is A, not G",
        ),
        ("CRBN W381A", MutationError, "is F, not W"),
        ("PSMB5 A49", MutationError, "cannot read"),
        ("PSMB5", MutationError, "cannot read"),
        ("A49T", MutationError, "cannot read"),
        ("", MutationError, "expected text"),
        ("PSMB5 A49A", MutationError, "not a mutation"),
        ("PSMB5 *49A", MutationError, "cannot read|stop"),
        ("PSMB5 Xyz49Thr", MutationError, "three-letter"),
        ("PSMB5 B49T", MutationError, "not an amino-acid letter"),
        ("PSMB5 A49T x0", MutationError, "finite and > 0"),
        ("PSMB5 A49T x2 x3", MutationError, "fold twice"),
        ("PSMB5 A49T precurser", MutationError, "did you mean 'precursor'"),
        ("PSMB5 A300T", MutationError, "outside PSMB5 in mature numbering (valid: 1-204"),
        ("PSMB5 A0T", MutationError, "outside|>= 1"),
        ("PSMB55 A49T", UnknownTargetError, "did you mean 'PSMB5'"),
    ],
)
def test_parse_mutation_errors(text, exc, needle):
    with pytest.raises(exc) as info:
        S.parse_mutation(text)
    assert any(n in str(info.value) for n in needle.split("|")), str(info.value)


def test_parse_mutation_non_string():
    with pytest.raises(MutationError):
        S.parse_mutation(None)


def test_check_mutation_reports_site_and_documentation():
    info = S.check_mutation("PSMB5 A108T precursor")
    assert info["positions"] == {"mature": 49, "precursor": 108}
    assert info["wild_type_checked"] and info["in_binding_site"]
    assert info["documented"][0]["folds"] == {"bortezomib": 16.6}
    off = S.check_mutation("PSMB5 R24C precursor")
    assert off["positions"]["mature"] is None and not off["in_binding_site"]
    unchecked = S.check_mutation("PSMB5 L100P")
    assert unchecked["wild_type_checked"] is False and unchecked["wild_type_source"] is None
    crbn = S.check_mutation("CRBN W386A")
    assert crbn["in_binding_site"] and "IMiD tri-Trp pocket" in crbn["binding_sites"]


# ---------------------------------------------------------------------------------------------
# potency_shifts with stand-in drugs (same attributes as mmmech.drugs.Drug / TargetAction)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TA:
    target: str
    action: str
    potency_nM: float = 1.0
    e3: str | None = None
    neo_substrates: tuple = ()


@dataclass(frozen=True)
class Drug:
    name: str
    targets: tuple


DRUGS = [
    Drug("bortezomib", (TA("PSMB5", "inhibit"), TA("PSMB6", "inhibit"))),
    Drug("carfilzomib", (TA("PSMB5", "covalent_inhibit"),)),
    Drug(
        "lenalidomide",
        (TA("CRBN", "glue_degrade", e3="CRBN", neo_substrates=("IKZF1", "IKZF3", "CSNK1A1")),),
    ),
    Drug("venetoclax", (TA("BCL2", "inhibit"),)),
    Drug("dexamethasone", (TA("NR3C1", "agonist"),)),
]


def test_documented_fold_and_undocumented_warning():
    with pytest.warns(S.MutationWarning, match="carfilzomib"):
        sh = S.potency_shifts("PSMB5 A49T", drugs=DRUGS)
    assert dict(sh) == {"bortezomib": {"PSMB5": 16.6}, "carfilzomib": {"PSMB5": 1.0}}
    assert any("known binding site" in w and "carfilzomib" in w for w in sh.warnings)
    detail = next(d for d in sh.details if d["drug"] == "bortezomib")
    assert detail["sources"] == ["DOI:10.1038/leu.2010.137", "PMID:18565852"]


def test_same_mutation_in_other_scheme_finds_documentation():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", S.MutationWarning)
        a = S.potency_shifts(["PSMB5 A49T"], drugs=DRUGS)
        b = S.potency_shifts(["PSMB5 A108T precursor"], drugs=DRUGS)
    assert dict(a) == dict(b)


def test_user_folds_override():
    with warnings.catch_warnings():
        warnings.simplefilter("error", S.MutationWarning)  # user folds raise no warning
        sh = S.potency_shifts(["PSMB5 A49T x20"], drugs=DRUGS)
        assert dict(sh) == {"bortezomib": {"PSMB5": 20.0}, "carfilzomib": {"PSMB5": 20.0}}
        sh = S.potency_shifts(["PSMB5 A49T"], drugs=DRUGS, fold={"PSMB5 A108T precursor": 7})
        assert sh["carfilzomib"] == {"PSMB5": 7.0}
        sh = S.potency_shifts(["PSMB5 A49T", "BCL2 G101V"], drugs=DRUGS, fold=3.0)
        assert dict(sh) == {
            "bortezomib": {"PSMB5": 3.0},
            "carfilzomib": {"PSMB5": 3.0},
            "venetoclax": {"BCL2": 3.0},
        }
        # the text's xFOLD wins over the fold argument
        assert S.potency_shifts(["PSMB5 A49T x2"], drugs=DRUGS, fold=9.0)["bortezomib"] == {
            "PSMB5": 2.0
        }
    for bad in (0, -1, float("nan"), "lots"):
        with pytest.raises(InvalidInputError, match="fold"):
            S.potency_shifts(["PSMB5 A49T"], drugs=DRUGS, fold=bad)


def test_mutations_on_one_target_multiply():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", S.MutationWarning)
        sh = S.potency_shifts(["PSMB5 A49T", "PSMB5 C63F"], drugs=DRUGS)
    assert sh["bortezomib"] == {"PSMB5": pytest.approx(16.6 * 30.0)}


def test_target_level_documented_fold():
    sh = S.potency_shifts("BCL2 G101V", drugs={d.name: d for d in DRUGS})  # mapping accepted
    assert dict(sh) == {"venetoclax": {"BCL2": 180.0}} and not sh.warnings


def test_outside_binding_site_gives_one_with_warning():
    with pytest.warns(S.MutationWarning, match="outside any known binding site"):
        sh = S.potency_shifts(["PSMB5 R24C precursor"], drugs=DRUGS)
    assert dict(sh) == {"bortezomib": {"PSMB5": 1.0}, "carfilzomib": {"PSMB5": 1.0}}


def test_neo_substrate_mutation_reaches_glue_degraders():
    with pytest.warns(
        S.MutationWarning, match="lenalidomide.*registry records it for other drugs.*pomalidomide"
    ):
        sh = S.potency_shifts(["IKZF1 Q146H"], drugs=DRUGS)
    assert dict(sh) == {"lenalidomide": {"IKZF1": 1.0}}
    assert S.potency_shifts(["IKZF1 Q146H x50"], drugs=DRUGS)["lenalidomide"] == {"IKZF1": 50.0}


def test_no_drug_acts_on_target():
    sh = S.potency_shifts(["XPO1 C528S"], drugs=DRUGS)
    assert dict(sh) == {} and "nothing shifted" in sh.warnings[0]


def test_bad_inputs_to_potency_shifts():
    with pytest.raises(InvalidInputError, match="Drug objects"):
        S.potency_shifts(["PSMB5 A49T"], drugs=["bortezomib"])
    with pytest.raises(InvalidInputError, match="iterable"):
        S.potency_shifts(42)
    with pytest.raises(MutationError, match="wild-type mismatch"):
        S.potency_shifts(["PSMB5 G49T"], drugs=DRUGS)


def test_without_drug_library_only_documented_drugs(monkeypatch):
    import mmmech

    monkeypatch.setitem(sys.modules, "mmmech.drugs", None)  # import now fails
    # an earlier import left the submodule as an attribute of the package: hide it too
    monkeypatch.delattr(mmmech, "drugs", raising=False)
    sh = S.potency_shifts(["PSMB5 A49T", "BCL2 G101V"])
    assert dict(sh) == {"bortezomib": {"PSMB5": 16.6}, "venetoclax": {"BCL2": 180.0}}
    assert "drug library unavailable" in sh.warnings[0]


def test_with_the_drug_library():
    drugs = pytest.importorskip("mmmech.drugs")
    try:
        lib = drugs.library()
    except Exception as exc:  # the drug layer is being written in parallel
        pytest.skip(f"drug library not usable yet: {exc}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", S.MutationWarning)
        sh = S.potency_shifts(["PSMB5 A49T"])
    names = {d.name for d in lib.values()}
    assert set(sh) <= names
    for _name, per in sh.items():
        assert set(per) == {"PSMB5"}
    if "bortezomib" in sh:
        assert sh["bortezomib"]["PSMB5"] == 16.6


# ---------------------------------------------------------------------------------------------
# fetch (the network is always mocked)
# ---------------------------------------------------------------------------------------------


class _Resp(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def test_fetch_downloads_atomically_and_caches(tmp_path, monkeypatch):
    calls = []

    def fake(url, timeout=None):
        calls.append(url)
        return _Resp(b"data_5FQD\n_atom_site.id 1\n")

    monkeypatch.setattr("urllib.request.urlopen", fake)
    path = S.fetch("5fqd", cache_dir=tmp_path)
    assert path == tmp_path / "5FQD.cif" and path.read_bytes().startswith(b"data_5FQD")
    assert calls == ["https://files.rcsb.org/download/5FQD.cif"]
    assert [p.name for p in tmp_path.iterdir()] == ["5FQD.cif"]  # no temp leftovers

    def offline(url, timeout=None):
        raise AssertionError("the cache must be used")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    assert S.fetch("5FQD", cache_dir=tmp_path) == path


def test_fetch_offline_is_a_clear_error(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(NetworkUnavailableError, match="network is unavailable") as exc:
        S.fetch("4CI1", cache_dir=tmp_path)
    assert isinstance(exc.value, OSError) and not list(tmp_path.iterdir())


def test_fetch_404_and_bad_content(tmp_path, monkeypatch):
    def missing(url, timeout=None):
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr("urllib.request.urlopen", missing)
    with pytest.raises(StructureError, match="not found"):
        S.fetch("9ZZZ", cache_dir=tmp_path)
    monkeypatch.setattr(
        "urllib.request.urlopen", lambda url, timeout=None: _Resp(b"<html>oops</html>")
    )
    with pytest.raises(StructureError, match="not a mmCIF"):
        S.fetch("1ABC", cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("pdb_id", ["5FQ", "ABCD", "", None, "5FQD1"])
def test_fetch_bad_id(pdb_id, tmp_path):
    with pytest.raises(InvalidInputError, match="PDB ID"):
        S.fetch(pdb_id, cache_dir=tmp_path)


def test_fetch_default_cache_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MMMECH_CACHE", str(tmp_path))
    monkeypatch.setattr(
        "urllib.request.urlopen", lambda url, timeout=None: _Resp(b"HEADER x\nATOM  \n")
    )
    assert S.fetch("1abc", format="pdb") == tmp_path / "pdb" / "1ABC.pdb"


def test_docstring_examples():
    attempted = 0
    for mod in (registry, analysis, mutations, download):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert res.failed == 0, mod.__name__
        attempted += res.attempted
    assert attempted >= 5
