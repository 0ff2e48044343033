"""Private Bio.PDB helpers for :mod:`mmmech.structures`: reading, residue tables, contacts.

Everything here works on the *first model* of a structure (crystal structures have one;
for NMR ensembles the first model is the representative one). Hydrogen atoms are ignored
in distance calculations so that results do not depend on whether a file carries them.

Nothing in this module is public API; :mod:`mmmech.structures` wraps it with checks.
"""

from __future__ import annotations

import gzip
import io
import os
import warnings
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError, StructureError
from ..resources import file_stamp

__all__ = [
    "read_structure",
    "first_model",
    "chain_or_error",
    "is_protein_residue",
    "het_codes",
    "residue_key",
    "one_letter",
    "chain_residues",
    "chain_sequence",
    "min_distances",
    "check_cutoff",
    "describe_source",
    "heavy_atoms",
    "WATER_NAMES",
    "DISTANCE_TOLERANCE",
]

WATER_NAMES = frozenset({"HOH", "WAT", "H2O", "DOD", "D2O", "TIP", "TIP3", "SOL"})
_HYDROGENS = frozenset({"H", "D"})
# Coordinates are float32 in Bio.PDB: a cutoff is inclusive up to this tolerance (Å).
DISTANCE_TOLERANCE = 1e-6
_PDB_RECORDS = (
    "ATOM  ",
    "HETATM",
    "HEADER",
    "TITLE ",
    "COMPND",
    "REMARK",
    "CRYST1",
    "MODEL ",
    "SEQRES",
    "EXPDTA",
    "ANISOU",
    "CONECT",
    "SOURCE",
    "KEYWDS",
)

# Parsed files, keyed by (real path, size, mtime): parsing a 20 000-atom file takes seconds
# and the same file is often analysed several times (binding site, then correspondence).
_CACHE: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
_CACHE_SIZE = 4


def describe_source(obj: Any) -> str:
    """A short name for a path or structure, for error messages."""
    if isinstance(obj, (str, os.PathLike)):
        return os.fspath(obj)
    sid = getattr(obj, "id", None)
    return f"structure {sid!r}" if sid is not None else type(obj).__name__


def _detect_format(path: str, head: str) -> str | None:
    """'pdb' or 'cif' from the file name, or from the first lines when the name says nothing."""
    name = os.path.basename(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = os.path.splitext(name)[1]
    if ext in (".cif", ".mmcif", ".mcif"):
        return "cif"
    if ext in (".pdb", ".ent", ".pdb1"):
        return "pdb"
    for line in head.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("data_") or s.startswith("_atom_site.") or s == "loop_":
            return "cif"
        if line.startswith(_PDB_RECORDS):
            return "pdb"
    return None


def _read_text(path: str, func: str) -> str:
    try:
        if os.fspath(path).lower().endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
                return fh.read()
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError as exc:
        raise StructureError(
            f"{func}(): cannot read structure file {os.fspath(path)!r}: {exc.strerror or exc}"
        ) from None
    except (EOFError, zlib.error) as exc:
        # a .gz cut short (EOFError) or with damaged compressed data (zlib.error)
        raise StructureError(
            f"{func}(): cannot read structure file {os.fspath(path)!r}: the "
            f"gzip data is truncated or corrupt ({exc})"
        ) from None


def read_structure(path_or_structure: Any, func: str = "read_structure") -> Any:
    """Return a Bio.PDB Structure from a path (PDB or mmCIF, optionally .gz) or a Structure.

    The format comes from the extension (.pdb/.ent, .cif/.mmcif) or, failing that, from the
    content (``data_``/``_atom_site.`` = mmCIF; ATOM/HETATM/HEADER records = PDB).

    Raises
    ------
    StructureError
        Missing or unreadable file, unknown format, parse failure, or no atoms.
    """
    from Bio.PDB.Entity import Entity  # deferred: Biopython is slow to import

    if isinstance(path_or_structure, Entity):
        level = path_or_structure.get_level()
        if level not in ("S", "M"):
            raise InvalidInputError(
                f"{func}(): expected a path, a Bio.PDB Structure or Model, got a "
                f"{type(path_or_structure).__name__}"
            )
        check_coordinates(path_or_structure, func, describe_source(path_or_structure))
        return path_or_structure
    if not isinstance(path_or_structure, (str, os.PathLike)):
        raise InvalidInputError(
            f"{func}(): expected a path to a PDB/mmCIF file or a Bio.PDB Structure, got "
            f"{type(path_or_structure).__name__}"
        )
    path = os.fspath(path_or_structure)
    if not os.path.exists(path):
        raise StructureError(f"{func}(): structure file {path!r} does not exist")
    if os.path.isdir(path):
        raise StructureError(f"{func}(): {path!r} is a directory, not a structure file")
    key = file_stamp(path)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    text = _read_text(path, func)
    fmt = _detect_format(path, text[:4000])
    if fmt is None:
        raise StructureError(
            f"{func}(): cannot tell the format of {path!r}: expected a PDB file (.pdb, .ent) "
            f"or an mmCIF file (.cif), and the content looks like neither"
        )
    structure = _parse_text(text, fmt, os.path.basename(path), path, func)
    _CACHE[key] = structure
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return structure


def _parse_text(text: str, fmt: str, sid: str, origin: str, func: str) -> Any:
    from Bio.PDB import MMCIFParser, PDBParser  # deferred: Biopython is slow to import

    # deferred: Biopython is slow to import
    from Bio.PDB.PDBExceptions import PDBConstructionWarning

    parser = MMCIFParser(QUIET=True) if fmt == "cif" else PDBParser(QUIET=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PDBConstructionWarning)
            structure = parser.get_structure(sid, io.StringIO(text))
    except Exception as exc:  # Bio.PDB raises ValueError, KeyError, PDBConstructionException...
        kind = "mmCIF" if fmt == "cif" else "PDB"
        raise StructureError(
            f"{func}(): cannot parse {origin!r} as {kind}: {type(exc).__name__}: {exc}"
        ) from None
    if not any(True for _ in structure.get_atoms()):
        raise StructureError(f"{func}(): {origin!r} contains no atoms")
    check_coordinates(structure, func, origin, text if fmt == "pdb" else None)
    return structure


def check_coordinates(structure: Any, func: str, origin: str, text: str | None = None) -> None:
    """StructureError when an atom has a non-finite coordinate (nan/inf, or beyond float32
    range): distances to it are undefined, so a binding site would silently lose it. The
    message names the atom and, for PDB text, the line."""
    atoms = list(structure.get_atoms())
    if not atoms:
        return
    xyz = np.array([a.coord for a in atoms], dtype=np.float64)
    bad = ~np.isfinite(xyz).all(axis=1)
    if not bad.any():
        return
    first = atoms[int(np.argmax(bad))]
    res = first.get_parent()
    chain = res.get_parent().id if res.get_parent() is not None else "?"
    where = ""
    if text is not None:
        serial = first.get_serial_number()
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.startswith(("ATOM  ", "HETATM")) and line[6:11].strip() == str(serial):
                where = f", line {lineno}"
                break
    raise StructureError(
        f"{func}(): {origin!r}{where}: atom {first.get_id()!r} of {res.get_resname().strip()} "
        f"{residue_key(res)[0]}{residue_key(res)[1]} (chain {chain!r}) has non-finite "
        f"coordinates {tuple(float(v) for v in first.coord)}; {int(bad.sum())} atom(s) in all; "
        f"fix the file (coordinates must be finite numbers of Å)"
    )


def first_model(structure: Any) -> Any:
    """The first model of a Structure (a Model is returned as is)."""
    if structure.get_level() == "M":
        return structure
    models = list(structure)
    if not models:
        raise StructureError("structure has no models")
    return models[0]


def chain_or_error(model: Any, chain_id: str, func: str, arg: str, source: str) -> Any:
    """The chain `chain_id` of `model`; StructureError listing the chains present otherwise."""
    chain_id = str(chain_id)
    ids = [c.id for c in model]
    if chain_id in ids:
        return model[chain_id]
    present = ", ".join(ids) if ids else "none"
    extra = ""
    for alt in (chain_id.upper(), chain_id.lower()):
        if alt != chain_id and alt in ids:
            extra = f" (chain IDs are case-sensitive; did you mean {alt!r}?)"
            break
    raise StructureError(
        f"{func}(): {arg} {chain_id!r} is not a chain of {source}; chains present: {present}{extra}"
    )


def is_protein_residue(residue: Any) -> bool:
    """True for amino-acid residues of a polymer (standard or modified, e.g. MSE)."""
    from Bio.PDB.Polypeptide import is_aa  # deferred: Biopython is slow to import

    hetflag = residue.id[0]
    if hetflag == "W":
        return False
    if not is_aa(residue, standard=False):
        return False
    if hetflag == " ":
        return True
    # a modified amino acid inside the chain (MSE, SEP, ...) has a backbone
    return "CA" in residue and "N" in residue and "C" in residue


def het_codes(model: Any) -> list[str]:
    """Residue names of hetero groups in `model` (not water, not modified amino acids), sorted."""
    codes = set()
    for res in model.get_residues():
        name = res.get_resname().strip()
        if res.id[0] == "W" or name in WATER_NAMES:
            continue
        if res.id[0] != " " and not is_protein_residue(res):
            codes.add(name)
    return sorted(codes)


def residue_key(residue: Any) -> tuple[int, str]:
    """(resnum, icode) with a blank insertion code as ''."""
    _, num, icode = residue.id
    return int(num), (icode.strip() if isinstance(icode, str) else "")


def one_letter(resname: str) -> str:
    """One-letter code of a (possibly modified) amino acid, 'X' when unknown."""
    # deferred: Biopython is slow to import
    from Bio.Data.PDBData import protein_letters_3to1_extended

    return protein_letters_3to1_extended.get(resname.strip().upper(), "X")


def chain_residues(chain: Any) -> list[Any]:
    """The amino-acid residues of a chain, in file order."""
    return [r for r in chain if is_protein_residue(r)]


def chain_sequence(chain: Any) -> tuple[str, list[tuple[int, str]]]:
    """(sequence, [(resnum, icode), ...]) of the amino-acid residues observed in a chain."""
    residues = chain_residues(chain)
    letters = "".join(one_letter(r.get_resname()) for r in residues)
    return letters, [residue_key(r) for r in residues]


def heavy_atoms(entity: Any) -> list[Any]:
    """Atoms of `entity` that are not hydrogen or deuterium."""
    return [a for a in entity.get_atoms() if (a.element or "").strip().upper() not in _HYDROGENS]


def min_distances(
    query_atoms: Sequence[Any], candidate_atoms: Sequence[Any], cutoff: float
) -> dict[Any, float]:
    """Minimum distance from any query atom to each candidate residue within `cutoff`.

    `cutoff` is in Å, inclusive.

    Returns a dict {residue: min_distance}. Uses a k-d tree (Bio.PDB.NeighborSearch).
    """
    from Bio.PDB import NeighborSearch  # deferred: Biopython is slow to import

    if not query_atoms or not candidate_atoms:
        return {}
    ns = NeighborSearch(candidate_atoms)
    limit = cutoff + DISTANCE_TOLERANCE
    best: dict[Any, float] = {}
    for qa in query_atoms:
        q = np.asarray(qa.coord, dtype=np.float64)
        for atom in ns.search(qa.coord, limit + 1e-3, level="A"):
            d = float(np.sqrt(np.sum((np.asarray(atom.coord, dtype=np.float64) - q) ** 2)))
            res = atom.get_parent()
            if d <= limit and (res not in best or d < best[res]):
                best[res] = d
    return best


def check_cutoff(cutoff: Any, func: str) -> float:
    """A distance cutoff in Å: a finite number > 0 (at most 50 Å)."""
    try:
        value = float(cutoff)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): cutoff must be a number of Å, got {cutoff!r}") from None
    if not np.isfinite(value) or value <= 0 or value > 50:
        raise InvalidInputError(f"{func}(): cutoff must be finite, > 0 and <= 50 Å, got {cutoff!r}")
    return value
