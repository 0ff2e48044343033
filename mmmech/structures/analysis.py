"""Structure analysis with Bio.PDB: binding sites, interface contacts, residue correspondence.

PDB and mmCIF files (format by extension or content, ``.gz`` allowed) or parsed structures; the
first model and heavy atoms are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError, StructureError
from ..utils import suggest
from . import _pdb

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from Bio.Align import PairwiseAligner

    from .._typing import PathLike

    #: a PDB/mmCIF path or a parsed Bio.PDB structure (or model)
    StructureLike = PathLike | Any

__all__ = [
    "load_structure",
    "structure_sequence",
    "binding_site",
    "interface_contacts",
    "residue_correspondence",
]


def load_structure(path_or_structure: StructureLike) -> Any:
    """Read a PDB or mmCIF file (format by extension or content; ``.gz`` allowed).

    Parameters
    ----------
    path_or_structure : str, os.PathLike or Bio.PDB.Structure.Structure
        A Structure (or Model) is returned unchanged.

    Returns
    -------
    Bio.PDB.Structure.Structure
        The four most recently parsed files are cached (keyed on path, size and mtime), so the
        same object may be returned again: treat it as read-only, or ``copy()`` it first.

    Raises
    ------
    StructureError
        Missing file, unknown format, parse error, no atoms.
    """
    return _pdb.read_structure(path_or_structure, "load_structure")


def structure_sequence(structure: StructureLike, chain: str) -> tuple[str, list[tuple[int, str]]]:
    """Amino-acid sequence observed in `chain` and its residue numbers.

    Returns
    -------
    (str, list of (int, str))
        One-letter sequence and the ``(resnum, icode)`` of each letter.
    """
    s = _pdb.read_structure(structure, "structure_sequence")
    model = _pdb.first_model(s)
    ch = _pdb.chain_or_error(
        model, chain, "structure_sequence", "chain", _pdb.describe_source(structure)
    )
    return _pdb.chain_sequence(ch)


def binding_site(
    path_or_structure: StructureLike,
    ligand: str = "LVY",
    cutoff: float = 4.0,
    protein_only: bool = True,
) -> list[dict[str, Any]]:
    """Residues within `cutoff` Å of every copy of a ligand.

    Parameters
    ----------
    path_or_structure : str, os.PathLike or Bio.PDB Structure
        A PDB or mmCIF file (format by extension or content) or a parsed structure.
        The first model is used.
    ligand : str
        Residue name (HET code) of the ligand, e.g. ``"LVY"`` (lenalidomide in 5FQD),
        case-insensitive.
    cutoff : float
        Distance cutoff in Å (inclusive), on heavy atoms (hydrogens are ignored).
    protein_only : bool
        Keep only amino-acid residues (default); otherwise every residue but the ligand copy
        itself (other ligands, ions, waters) is reported.

    Returns
    -------
    list of dict
        One row per (ligand copy, residue): ``chain, resname, resnum, icode, min_distance``
        (Å, rounded to 0.001) and ``ligand_chain, ligand_resnum`` naming the copy. Sorted by
        ligand copy, then chain, residue number and insertion code.

    Raises
    ------
    StructureError
        The file cannot be read, or holds no residue named `ligand` (the message lists the HET
        codes present, the closest first).

    Examples
    --------
    >>> rows = binding_site("5fqd.pdb", ligand="LVY")          # doctest: +SKIP
    >>> sorted({r["resnum"] for r in rows if r["resname"] == "TRP"})  # doctest: +SKIP
    [380, 386, 400]
    """
    func = "binding_site"
    cutoff = _pdb.check_cutoff(cutoff, func)
    if not isinstance(ligand, str) or not ligand.strip():
        raise InvalidInputError(
            f"{func}(): ligand must be a residue name such as 'LVY', got {ligand!r}"
        )
    code = ligand.strip().upper()
    source = _pdb.describe_source(path_or_structure)
    model = _pdb.first_model(_pdb.read_structure(path_or_structure, func))
    copies = [r for r in model.get_residues() if r.get_resname().strip().upper() == code]
    if not copies:
        present = _pdb.het_codes(model)
        close = suggest(code, present, n=3, cutoff=0.3)
        ordered = close + [c for c in present if c not in close]
        listing = ", ".join(ordered) if ordered else "none (the file has no hetero groups)"
        raise StructureError(
            f"{func}(): no residue named {code!r} in {source}; HET codes "
            f"present: {listing}" + (f"; did you mean {close[0]!r}?" if close else "")
        )
    candidates = [
        r for r in model.get_residues() if (not protein_only) or _pdb.is_protein_residue(r)
    ]
    cand_atoms = [a for r in candidates for a in _pdb.heavy_atoms(r)]
    rows = []
    for lig in copies:
        lig_atoms = _pdb.heavy_atoms(lig) or list(lig.get_atoms())
        others = [a for a in cand_atoms if a.get_parent() is not lig]
        best = _pdb.min_distances(lig_atoms, others, cutoff)
        lchain = lig.get_parent().id
        lnum, licode = _pdb.residue_key(lig)
        for res, d in best.items():
            num, icode = _pdb.residue_key(res)
            rows.append(
                {
                    "chain": res.get_parent().id,
                    "resname": res.get_resname().strip(),
                    "resnum": num,
                    "icode": icode,
                    "min_distance": round(d, 3),
                    "ligand_chain": lchain,
                    "ligand_resnum": lnum,
                    "_sort": (lchain, lnum, licode, res.get_parent().id, num, icode),
                }
            )
    rows.sort(key=lambda r: r["_sort"])
    for r in rows:
        del r["_sort"]
    return rows


def interface_contacts(
    structure: StructureLike, chain_a: str, chain_b: str, cutoff: float = 4.0
) -> list[dict[str, Any]]:
    """Residue pairs across two chains with any heavy atoms within `cutoff` Å.

    Parameters
    ----------
    structure : path or Bio.PDB Structure
        PDB/mmCIF file or parsed structure (first model).
    chain_a, chain_b : str
        Chain IDs (case-sensitive), e.g. CRBN ``"B"`` and CK1α ``"C"`` in 5FQD.
    cutoff : float
        Å, inclusive.

    Returns
    -------
    list of dict
        ``chain_a, resname_a, resnum_a, icode_a, chain_b, resname_b, resnum_b, icode_b,
        min_distance`` (Å), sorted by residue of chain A then chain B. Amino-acid residues only.
    """
    func = "interface_contacts"
    cutoff = _pdb.check_cutoff(cutoff, func)
    source = _pdb.describe_source(structure)
    model = _pdb.first_model(_pdb.read_structure(structure, func))
    ca = _pdb.chain_or_error(model, chain_a, func, "chain_a", source)
    cb = _pdb.chain_or_error(model, chain_b, func, "chain_b", source)
    if ca.id == cb.id:
        raise InvalidInputError(f"{func}(): chain_a and chain_b must differ, got {chain_a!r} twice")
    atoms_b = [a for r in _pdb.chain_residues(cb) for a in _pdb.heavy_atoms(r)]
    rows = []
    for ra in _pdb.chain_residues(ca):
        best = _pdb.min_distances(_pdb.heavy_atoms(ra), atoms_b, cutoff)
        na, ia = _pdb.residue_key(ra)
        for rb, d in best.items():
            nb, ib = _pdb.residue_key(rb)
            rows.append(
                {
                    "chain_a": ca.id,
                    "resname_a": ra.get_resname().strip(),
                    "resnum_a": na,
                    "icode_a": ia,
                    "chain_b": cb.id,
                    "resname_b": rb.get_resname().strip(),
                    "resnum_b": nb,
                    "icode_b": ib,
                    "min_distance": round(d, 3),
                }
            )
    rows.sort(key=lambda r: (r["resnum_a"], r["icode_a"], r["resnum_b"], r["icode_b"]))
    return rows


def _aligner() -> PairwiseAligner:
    # deferred: Biopython is slow to import; only needed for an alignment
    from Bio.Align import PairwiseAligner, substitution_matrices

    al = PairwiseAligner()
    al.mode = "global"
    al.substitution_matrix = substitution_matrices.load("BLOSUM62")
    al.open_gap_score = -10.0
    al.extend_gap_score = -0.5
    # free end gaps: one construct may be longer than the other at either terminus
    al.end_gap_score = 0.0
    return al


def residue_correspondence(
    structure_a: StructureLike, chain_a: str, structure_b: StructureLike, chain_b: str
) -> dict[tuple[int, str], tuple[int, str]]:
    """Map residue numbers of one chain onto another by sequence alignment.

    The amino-acid sequences observed in the two chains are aligned globally with
    ``Bio.Align.PairwiseAligner`` (BLOSUM62, gap open -10, extend -0.5, free end gaps), so the
    correspondence holds across species and constructs (e.g. chicken CRBN in PDB 4CI1 onto human
    CRBN in 5FQD). Unmodelled stretches (numbering gaps of up to 100 residues) are filled with
    unknown-residue placeholders first, so residues cannot slide across a missing loop.

    Parameters
    ----------
    structure_a, structure_b : path or Bio.PDB Structure
    chain_a, chain_b : str

    Returns
    -------
    dict
        ``{(resnum_a, icode_a): (resnum_b, icode_b)}`` for every aligned (not gapped) pair,
        identical or substituted.

    Raises
    ------
    StructureError
        Unknown chain (the message lists the chains present) or a chain without amino acids.
    """
    func = "residue_correspondence"
    seqs = []
    pairs = ((structure_a, chain_a, "chain_a"), (structure_b, chain_b, "chain_b"))
    for struct, chain, arg in pairs:
        model = _pdb.first_model(_pdb.read_structure(struct, func))
        ch = _pdb.chain_or_error(model, chain, func, arg, _pdb.describe_source(struct))
        seq, keys = _pdb.chain_sequence(ch)
        if not seq:
            raise StructureError(
                f"{func}(): {arg} {chain!r} of {_pdb.describe_source(struct)} "
                f"has no amino-acid residues"
            )
        seqs.append(_pad_unobserved(seq, keys))
    (sa, ka), (sb, kb) = seqs
    aln = _aligner().align(sa, sb)[0]
    out: dict[tuple[int, str], tuple[int, str]] = {}
    for (a0, a1), (b0, b1) in zip(*aln.aligned, strict=True):
        for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
            key_a, key_b = ka[i], kb[j]
            if key_a is not None and key_b is not None:
                out[key_a] = key_b
    return out


_MAX_FILL = 100


def _pad_unobserved(
    seq: str, keys: Sequence[tuple[int, str]]
) -> tuple[str, list[tuple[int, str] | None]]:
    """Fill numbering gaps (unmodelled loops, up to 100 residues) with 'X' placeholders.

    Without them a missing loop lets the aligner slide residues across the gap; with them the
    alignment keeps each chain's own spacing. Placeholders map to nothing.
    """
    out_seq: list[str] = []
    out_keys: list[tuple[int, str] | None] = []
    prev = None
    for letter, key in zip(seq, keys, strict=True):
        if prev is not None and key[1] == "" and prev[1] == "":
            missing = key[0] - prev[0] - 1
            if 0 < missing <= _MAX_FILL:
                out_seq.append("X" * missing)
                out_keys.extend([None] * missing)
        out_seq.append(letter)
        out_keys.append(key)
        prev = key
    return "".join(out_seq), out_keys
