"""Drug targets: the curated registry, binding sites in real structures, numbering and mutations.

This layer ties the drugs of :mod:`mmmech.drugs` to the proteins they act on.

- :func:`targets` / :func:`get_target`: the target registry (``structures/targets.toml``):
  gene symbol, UniProt accession, protein, role in the mechanism, known structures (PDB ID,
  method, resolution, chains, ligand code, drug), binding-site residues, resistance or escape
  mutations; every fact with its source (``PMID:``, ``DOI:``, ``PDB:`` or ``UniProt:``).
- :func:`binding_site`, :func:`interface_contacts`, :func:`residue_correspondence`: structure
  analysis with Bio.PDB on PDB and mmCIF files (first model, heavy atoms).
- :func:`parse_mutation`, :func:`convert_position`, :func:`check_mutation`,
  :func:`potency_shifts`: mutation notation, numbering schemes and the potency shift a mutation
  imposes on the drugs acting at its target (the fold multiplies the drug's ``potency_nM``).
- :func:`fetch`: download a PDB entry into a user cache (needs the network).

Numbering schemes
-----------------
Each target documents one or more numbering schemes as an offset to the UniProt canonical
sequence (``uniprot = position + offset``). PSMB5 is the important case: mutations are reported
in *mature-chain* numbering (Thr1 = the catalytic threonine, after removal of the 59-residue
propeptide; UniProt P28074 Thr60) and sometimes in *precursor* (UniProt) numbering, so
``PSMB5 A49T`` (mature) is ``PSMB5 A108T`` (precursor). A mutation without a scheme uses the
gene's documented default scheme (PSMB5: mature). Species differences (chicken CRBN in PDB 4CI1
against human CRBN) are not a fixed offset and are handled by sequence alignment
(:func:`residue_correspondence`).

Mutation notation
-----------------
``"GENE VARIANT [SCHEME] [xFOLD]"``: ``PSMB5 A49T``, ``PSMB5:A49T``, ``PSMB5 p.Ala49Thr``,
``PSMB5 A108T precursor``, ``PSMB5 A49T x20`` (a user-set fold of 20 on the potency of every
drug acting on PSMB5, overriding the documented fold). The wild-type residue is checked against
the sequence the registry holds (or the documented residues where no sequence could be sourced).

Examples
--------
>>> from mmmech import structures
>>> structures.get_target("psmb5").uniprot
'P28074'
>>> structures.convert_position("PSMB5", 49, "mature", "precursor")
108
>>> m = structures.parse_mutation("PSMB5 p.Ala49Thr")
>>> (m.gene, m.wt, m.position, m.mt, m.scheme)
('PSMB5', 'A', 49, 'T', 'mature')
"""
import math
import os
import re
import threading
import urllib.error
import urllib.request
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from . import _pdb
from ..exceptions import (InvalidInputError, ModelFileError, MutationError,
                         NetworkUnavailableError, StructureError, UnknownTargetError)
from ..resources import load_toml
from ..sources import describe_expected, is_source
from ..utils import atomic_write, did_you_mean, suggest

__all__ = [
    "Target", "StructureEntry", "BindingSite", "KnownMutation", "NumberingScheme", "Mutation",
    "PotencyShifts", "MutationWarning",
    "targets", "get_target", "binding_site", "interface_contacts", "residue_correspondence",
    "parse_mutation", "convert_position", "check_mutation", "potency_shifts", "unique_mutations",
    "fetch",
    "load_structure", "structure_sequence", "RCSB_URL",
]

RCSB_URL = "https://files.rcsb.org/download/{pdb_id}.{ext}"

_AA3 = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E",
    "GLY": "G", "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F",
    "PRO": "P", "SER": "S", "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V",
    "SEC": "U", "PYL": "O", "TER": "*",
}
_AA1 = set("ACDEFGHIKLMNPQRSTVWYUO")


class MutationWarning(UserWarning):
    """A mutation whose effect on a drug is not documented (fold 1.0 assumed)."""


# --------------------------------------------------------------------------------------------
# registry data classes
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NumberingScheme:
    """A residue numbering used by some source: ``uniprot = position + offset``.

    Attributes
    ----------
    name : str
        Scheme name (``uniprot``, ``precursor``, ``mature``, ...).
    offset : int
        Added to a position in this scheme to get the UniProt canonical position.
    description, source : str
        What the scheme is and where it is documented.
    """
    name: str
    offset: int
    description: str
    source: str

    def first_uniprot(self):
        """The first UniProt position that has a number >= 1 in this scheme."""
        return 1 + self.offset


@dataclass(frozen=True)
class StructureEntry:
    """A structure of the target in the PDB.

    ``chains`` maps a gene symbol (or ``DDB1`` etc.) to its chain IDs in the entry;
    ``resolution`` is in Å (None when not confirmed); ``verified`` is False for an entry
    the curators could not confirm in a source text (see ``note``).
    """
    pdb_id: str
    method: str
    resolution: float | None
    organism: str
    chains: Mapping
    ligand: str | None
    drug: str | None
    numbering: str
    source: str
    verified: bool = True
    note: str = ""

    def to_dict(self):
        return {"pdb_id": self.pdb_id, "method": self.method, "resolution": self.resolution,
                "organism": self.organism, "chains": {k: list(v) for k, v in self.chains.items()},
                "ligand": self.ligand, "drug": self.drug, "numbering": self.numbering,
                "source": self.source, "verified": self.verified, "note": self.note}


@dataclass(frozen=True)
class BindingSite:
    """Residues lining a drug's binding site, as ``(one_letter, position)`` in ``scheme``."""
    name: str
    drugs: tuple
    ligand: str | None
    scheme: str
    residues: tuple
    source: str
    note: str = ""

    def positions(self):
        return tuple(p for _, p in self.residues)

    def to_dict(self):
        return {"name": self.name, "drugs": list(self.drugs), "ligand": self.ligand,
                "scheme": self.scheme, "residues": [f"{a}{p}" for a, p in self.residues],
                "source": self.source, "note": self.note}


@dataclass(frozen=True)
class KnownMutation:
    """A documented resistance / escape mutation and its measured effect.

    ``folds`` maps a drug name to the fold by which the drug's potency (K, nM) is multiplied;
    ``fold_ranges`` keeps the published range when one was reported; ``fold_basis`` says what
    was measured (cellular IC50 ratios include more than the binding change: read it).
    """
    wt: str
    position: int
    mt: str
    scheme: str
    effect: str
    folds: Mapping
    fold_ranges: Mapping
    fold_basis: str
    sources: tuple
    note: str = ""
    verified: bool = True

    @property
    def text(self):
        return f"{self.wt}{self.position}{self.mt}"

    def to_dict(self):
        return {"variant": self.text, "scheme": self.scheme, "effect": self.effect,
                "folds": dict(self.folds), "fold_ranges": {k: list(v) for k, v in self.fold_ranges.items()},
                "fold_basis": self.fold_basis, "sources": list(self.sources), "note": self.note,
                "verified": self.verified}


@dataclass(frozen=True)
class Target:
    """One protein of the registry (see :func:`targets`)."""
    gene: str
    uniprot: str
    protein: str
    role: str
    aliases: tuple
    default_scheme: str
    schemes: Mapping
    residues: Mapping          # UniProt position -> one-letter code (sequence or documented)
    residue_sources: Mapping   # UniProt position -> source of that residue
    sequence_note: str
    length: int | None
    structures: tuple
    binding_sites: tuple
    mutations: tuple
    sources: tuple
    note: str = ""

    def scheme(self, name=None):
        """The :class:`NumberingScheme` `name` (default: the gene's documented default)."""
        name = self.default_scheme if name is None else str(name)
        for key, sch in self.schemes.items():
            if key.lower() == name.lower():
                return sch
        if name.lower() == "uniprot":  # always available: the UniProt canonical numbering
            return NumberingScheme("uniprot", 0, f"UniProt {self.uniprot} canonical numbering",
                                   f"UniProt:{self.uniprot}")
        raise InvalidInputError(
            f"numbering scheme {name!r} is not documented for {self.gene}; known schemes: "
            f"{', '.join(self.schemes)}{did_you_mean(name, list(self.schemes))}")

    def to_uniprot(self, position, scheme=None):
        """UniProt position of `position` given in `scheme`."""
        return int(position) + self.scheme(scheme).offset

    def residue_at(self, position, scheme=None):
        """The one-letter residue at `position` (in `scheme`), or None when not known."""
        return self.residues.get(self.to_uniprot(position, scheme))

    def binding_sites_at(self, position, scheme=None):
        """The :class:`BindingSite` entries that contain `position` (given in `scheme`)."""
        up = self.to_uniprot(position, scheme)
        hits = []
        for site in self.binding_sites:
            off = self.scheme(site.scheme).offset
            if any(p + off == up for p in site.positions()):
                hits.append(site)
        return hits

    def to_dict(self):
        """JSON-able summary (the ``mmmech structures targets --json`` entries)."""
        return {
            "gene": self.gene, "uniprot": self.uniprot, "protein": self.protein, "role": self.role,
            "aliases": list(self.aliases), "default_scheme": self.default_scheme,
            "schemes": {k: {"offset": s.offset, "description": s.description, "source": s.source}
                        for k, s in self.schemes.items()},
            "length": self.length, "known_residues": len(self.residues),
            "sequence_note": self.sequence_note,
            "structures": [s.to_dict() for s in self.structures],
            "binding_sites": [b.to_dict() for b in self.binding_sites],
            "mutations": [m.to_dict() for m in self.mutations],
            "sources": list(self.sources), "note": self.note,
        }


class _TargetRegistry(Mapping):
    """Read-only mapping gene -> Target; lookups are case-insensitive and accept aliases."""

    def __init__(self, items):
        self._items = dict(items)
        self._index = {}
        for gene, t in self._items.items():
            for key in (gene, *t.aliases):
                self._index.setdefault(key.lower(), gene)

    def resolve(self, name):
        key = str(name).strip().lower()
        if key in self._index:
            return self._index[key]
        raise UnknownTargetError(
            f"unknown target {str(name)!r}: not a gene symbol or alias in the target registry"
            f"{did_you_mean(name, list(self._items) + [a for t in self._items.values() for a in t.aliases])}"
            f" (see 'mmmech structures targets')")

    def __getitem__(self, name):
        return self._items[self.resolve(name)]

    def __contains__(self, name):
        return isinstance(name, str) and name.strip().lower() in self._index

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return f"<target registry: {', '.join(self._items)}>"


_REGISTRY = None
_REGISTRY_LOCK = threading.Lock()


def targets():
    """The target registry: a read-only, case-insensitive mapping gene symbol -> :class:`Target`.

    Aliases resolve too (``targets()["BCMA"]`` is TNFRSF17). Loaded once from the bundled
    ``structures/targets.toml``.

    Examples
    --------
    >>> reg = targets()
    >>> reg["crbn"].uniprot, "BCMA" in reg
    ('Q96SW2', True)
    """
    global _REGISTRY
    if _REGISTRY is None:
        with _REGISTRY_LOCK:
            if _REGISTRY is None:
                _REGISTRY = _build_registry(load_toml("structures", "targets.toml"), "structures/targets.toml")
    return _REGISTRY


def get_target(gene):
    """The :class:`Target` for a gene symbol or alias (case-insensitive).

    Raises
    ------
    UnknownTargetError
        With the closest known symbols.
    """
    if not isinstance(gene, str) or not gene.strip():
        raise InvalidInputError(f"get_target(): gene must be a non-empty string, got {gene!r}")
    return targets()[gene]


def _need(entry, key, where, types=str):
    if key not in entry:
        raise ModelFileError(f"{where}: missing required key {key!r}")
    val = entry[key]
    if not isinstance(val, types):
        raise ModelFileError(f"{where}: {key!r} must be {types}, got {type(val).__name__}")
    return val


def _check_source(src, where):
    # a source identifier, optionally followed by a note ("PDB:5FQD chain B")
    ident = src.strip().split(None, 1)[0] if isinstance(src, str) and src.strip() else src
    if not is_source(ident):
        raise ModelFileError(f"{where}: source {src!r} must start with a source identifier; "
                             f"{describe_expected()}")
    return src.strip()


def _parse_residue_token(tok, where):
    m = re.fullmatch(r"([A-Z])(-?\d+)", str(tok).strip())
    if not m:
        raise ModelFileError(f"{where}: residue {tok!r} must look like 'W380'")
    return m.group(1), int(m.group(2))


def _build_registry(data, origin):
    """Turn the parsed TOML into Target objects, checking every required field and source."""
    items = {}
    for i, t in enumerate(data.get("targets", [])):
        where = f"{origin}: targets[{i}]"
        gene = _need(t, "gene", where)
        where = f"{origin}: {gene}"
        schemes = {}
        for name, s in t.get("schemes", {"uniprot": {"offset": 0, "description": "UniProt canonical",
                                                       "source": f"UniProt:{t.get('uniprot', '')}"}}).items():
            schemes[name] = NumberingScheme(name, int(_need(s, "offset", f"{where}.schemes.{name}", int)),
                                            _need(s, "description", f"{where}.schemes.{name}"),
                                            _check_source(_need(s, "source", f"{where}.schemes.{name}"), where))
        default = t.get("default_scheme", next(iter(schemes)))
        if default not in schemes:
            raise ModelFileError(f"{where}: default_scheme {default!r} is not among {list(schemes)}")
        residues, rsources = {}, {}
        for seg in t.get("sequence", []):
            src = _check_source(_need(seg, "source", f"{where}.sequence"), where)
            if "scheme" in seg and seg["scheme"] not in schemes:
                raise ModelFileError(f"{where}.sequence: unknown scheme {seg['scheme']!r}")
            off = schemes[seg["scheme"]].offset if "scheme" in seg else 0
            start = _need(seg, "start", f"{where}.sequence", int)
            for k, aa in enumerate(_need(seg, "residues", f"{where}.sequence").replace(" ", "")):
                if aa == "-":
                    continue
                if aa not in _AA1:
                    raise ModelFileError(f"{where}.sequence: {aa!r} is not an amino-acid letter")
                pos = start + k + off
                if pos in residues and residues[pos] != aa:
                    raise ModelFileError(f"{where}: sequence sources disagree at {pos}: "
                                         f"{residues[pos]} ({rsources[pos]}) vs {aa} ({src})")
                residues[pos], rsources[pos] = aa, src
        for r in t.get("residues", []):
            aa, pos = _parse_residue_token(_need(r, "residue", f"{where}.residues"), where)
            scheme = r.get("scheme", default)
            if scheme not in schemes:
                raise ModelFileError(f"{where}.residues: unknown scheme {scheme!r}")
            up = pos + schemes[scheme].offset
            src = _check_source(_need(r, "source", f"{where}.residues"), where)
            if up in residues and residues[up] != aa:
                raise ModelFileError(f"{where}: residue {aa}{pos} ({scheme}) contradicts "
                                     f"{residues[up]} from {rsources[up]}")
            residues[up] = aa
            rsources.setdefault(up, src)
        structures = tuple(
            StructureEntry(
                pdb_id=_need(s, "pdb", f"{where}.structures").upper(),
                method=_need(s, "method", f"{where}.structures"),
                resolution=(float(s["resolution"]) if s.get("resolution") is not None else None),
                organism=_need(s, "organism", f"{where}.structures"),
                chains=MappingProxyType({k: tuple(v) for k, v in _need(s, "chains", f"{where}.structures", dict).items()}),
                ligand=s.get("ligand"), drug=s.get("drug"),
                numbering=s.get("numbering", default),
                source=_check_source(_need(s, "source", f"{where}.structures"), where),
                verified=bool(s.get("verified", True)), note=s.get("note", ""))
            for s in t.get("structures", []))
        sites = []
        for b in t.get("binding_sites", []):
            w = f"{where}.binding_sites"
            scheme = b.get("scheme", default)
            if scheme not in schemes:
                raise ModelFileError(f"{w}: unknown scheme {scheme!r}")
            res = tuple(_parse_residue_token(x, w) for x in _need(b, "residues", w, list))
            for aa, pos in res:
                up = pos + schemes[scheme].offset
                if up in residues and residues[up] != aa:
                    raise ModelFileError(f"{w}: {aa}{pos} contradicts the sequence ({residues[up]})")
            sites.append(BindingSite(_need(b, "name", w), tuple(b.get("drugs", [])), b.get("ligand"),
                                     scheme, res, _check_source(_need(b, "source", w), w), b.get("note", "")))
        muts = []
        for m in t.get("mutations", []):
            w = f"{where}.mutations"
            variant = _need(m, "variant", w)
            mm = re.fullmatch(r"([A-Z])(\d+)([A-Z*])", variant)
            if not mm:
                raise ModelFileError(f"{w}: variant {variant!r} must look like 'A49T'")
            scheme = m.get("scheme", default)
            if scheme not in schemes:
                raise ModelFileError(f"{w}: unknown scheme {scheme!r}")
            folds = {str(k).lower(): float(v) for k, v in m.get("folds", {}).items()}
            for k, v in folds.items():
                if not (math.isfinite(v) and v > 0):
                    raise ModelFileError(f"{w}: fold for {k} must be finite and > 0, got {v}")
            up = int(mm.group(2)) + schemes[scheme].offset
            if up in residues and residues[up] != mm.group(1):
                raise ModelFileError(f"{w}: {variant} ({scheme}) contradicts the sequence ({residues[up]})")
            muts.append(KnownMutation(
                mm.group(1), int(mm.group(2)), mm.group(3), scheme, _need(m, "effect", w),
                MappingProxyType(folds),
                MappingProxyType({str(k).lower(): tuple(float(x) for x in v)
                                  for k, v in m.get("fold_ranges", {}).items()}),
                m.get("fold_basis", ""),
                tuple(_check_source(s, w) for s in _need(m, "sources", w, list)),
                m.get("note", ""), bool(m.get("verified", True))))
        items[gene] = Target(
            gene=gene, uniprot=_need(t, "uniprot", where), protein=_need(t, "protein", where),
            role=_need(t, "role", where), aliases=tuple(t.get("aliases", [])),
            default_scheme=default, schemes=MappingProxyType(schemes),
            residues=MappingProxyType(residues), residue_sources=MappingProxyType(rsources),
            sequence_note=t.get("sequence_note", ""),
            length=t.get("length"), structures=structures, binding_sites=tuple(sites),
            mutations=tuple(muts),
            sources=tuple(_check_source(s, where) for s in t.get("sources", [])),
            note=t.get("note", ""))
    if not items:
        raise ModelFileError(f"{origin}: no targets")
    return _TargetRegistry(items)


# --------------------------------------------------------------------------------------------
# structure analysis
# --------------------------------------------------------------------------------------------

def load_structure(path_or_structure):
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


def structure_sequence(structure, chain):
    """Amino-acid sequence observed in `chain` and its residue numbers.

    Returns
    -------
    (str, list of (int, str))
        One-letter sequence and the ``(resnum, icode)`` of each letter.
    """
    s = _pdb.read_structure(structure, "structure_sequence")
    model = _pdb.first_model(s)
    ch = _pdb.chain_or_error(model, chain, "structure_sequence", "chain", _pdb.describe_source(structure))
    return _pdb.chain_sequence(ch)


def binding_site(path_or_structure, ligand="LVY", cutoff=4.0, protein_only=True):
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
        raise InvalidInputError(f"{func}(): ligand must be a residue name such as 'LVY', got {ligand!r}")
    code = ligand.strip().upper()
    source = _pdb.describe_source(path_or_structure)
    model = _pdb.first_model(_pdb.read_structure(path_or_structure, func))
    copies = [r for r in model.get_residues() if r.get_resname().strip().upper() == code]
    if not copies:
        present = _pdb.het_codes(model)
        close = suggest(code, present, n=3, cutoff=0.3)
        ordered = close + [c for c in present if c not in close]
        listing = ", ".join(ordered) if ordered else "none (the file has no hetero groups)"
        raise StructureError(f"{func}(): no residue named {code!r} in {source}; HET codes "
                             f"present: {listing}"
                             + (f"; did you mean {close[0]!r}?" if close else ""))
    candidates = [r for r in model.get_residues()
                  if (not protein_only) or _pdb.is_protein_residue(r)]
    cand_atoms = [a for r in candidates for a in _pdb.heavy_atoms(r)]
    rows = []
    for lig in copies:
        lig_atoms = _pdb.heavy_atoms(lig) or list(lig.get_atoms())
        best = _pdb.min_distances(lig_atoms, [a for a in cand_atoms if a.get_parent() is not lig], cutoff)
        lchain = lig.get_parent().id
        lnum, licode = _pdb.residue_key(lig)
        for res, d in best.items():
            num, icode = _pdb.residue_key(res)
            rows.append({"chain": res.get_parent().id, "resname": res.get_resname().strip(),
                         "resnum": num, "icode": icode, "min_distance": round(d, 3),
                         "ligand_chain": lchain, "ligand_resnum": lnum,
                         "_sort": (lchain, lnum, licode, res.get_parent().id, num, icode)})
    rows.sort(key=lambda r: r["_sort"])
    for r in rows:
        del r["_sort"]
    return rows


def interface_contacts(structure, chain_a, chain_b, cutoff=4.0):
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
            rows.append({"chain_a": ca.id, "resname_a": ra.get_resname().strip(), "resnum_a": na,
                         "icode_a": ia, "chain_b": cb.id, "resname_b": rb.get_resname().strip(),
                         "resnum_b": nb, "icode_b": ib, "min_distance": round(d, 3)})
    rows.sort(key=lambda r: (r["resnum_a"], r["icode_a"], r["resnum_b"], r["icode_b"]))
    return rows


def _aligner():
    from Bio.Align import PairwiseAligner, substitution_matrices

    al = PairwiseAligner()
    al.mode = "global"
    al.substitution_matrix = substitution_matrices.load("BLOSUM62")
    al.open_gap_score = -10.0
    al.extend_gap_score = -0.5
    # free end gaps: one construct may be longer than the other at either terminus
    al.end_gap_score = 0.0
    return al


def residue_correspondence(structure_a, chain_a, structure_b, chain_b):
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
    for struct, chain, arg in ((structure_a, chain_a, "chain_a"), (structure_b, chain_b, "chain_b")):
        model = _pdb.first_model(_pdb.read_structure(struct, func))
        ch = _pdb.chain_or_error(model, chain, func, arg, _pdb.describe_source(struct))
        seq, keys = _pdb.chain_sequence(ch)
        if not seq:
            raise StructureError(f"{func}(): {arg} {chain!r} of {_pdb.describe_source(struct)} "
                                 f"has no amino-acid residues")
        seqs.append(_pad_unobserved(seq, keys))
    (sa, ka), (sb, kb) = seqs
    aln = _aligner().align(sa, sb)[0]
    out = {}
    for (a0, a1), (b0, b1) in zip(*aln.aligned):
        for i, j in zip(range(a0, a1), range(b0, b1)):
            if ka[i] is not None and kb[j] is not None:
                out[ka[i]] = kb[j]
    return out


_MAX_FILL = 100


def _pad_unobserved(seq, keys):
    """Fill numbering gaps (unmodelled loops, up to 100 residues) with 'X' placeholders.

    Without them a missing loop lets the aligner slide residues across the gap; with them the
    alignment keeps each chain's own spacing. Placeholders map to nothing.
    """
    out_seq, out_keys = [], []
    prev = None
    for letter, key in zip(seq, keys):
        if prev is not None and key[1] == "" and prev[1] == "":
            missing = key[0] - prev[0] - 1
            if 0 < missing <= _MAX_FILL:
                out_seq.append("X" * missing)
                out_keys.extend([None] * missing)
        out_seq.append(letter)
        out_keys.append(key)
        prev = key
    return "".join(out_seq), out_keys


# --------------------------------------------------------------------------------------------
# mutations and numbering
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutation:
    """A point mutation of a registry target.

    Attributes
    ----------
    gene : str
        Canonical gene symbol.
    wt, mt : str
        One-letter wild-type and mutant residues (``mt`` may be ``*`` for a stop).
    position : int
        Residue number in `scheme`.
    scheme : str
        Numbering scheme (one of the target's documented schemes).
    fold : float or None
        A user-set potency fold from the text (``"PSMB5 A49T x20"``), else None.
    """
    gene: str
    wt: str
    position: int
    mt: str
    scheme: str
    fold: float | None = None

    @property
    def variant(self):
        return f"{self.wt}{self.position}{self.mt}"

    def __str__(self):
        """``GENE VARIANT``, plus the scheme when it is not the gene's default (re-parsable)."""
        try:
            default = get_target(self.gene).default_scheme
        except UnknownTargetError:
            default = self.scheme
        text = f"{self.gene} {self.variant}"
        return text if self.scheme == default else f"{text} {self.scheme}"

    def uniprot_position(self):
        """The position in UniProt canonical numbering."""
        return get_target(self.gene).to_uniprot(self.position, self.scheme)


_MUT_RE = re.compile(
    r"^\s*(?P<gene>[A-Za-z0-9][A-Za-z0-9\-\.]*?)\s*(?:[:\s])\s*"
    r"(?P<var>(?:p\.)?(?:[A-Za-z]{3}|[A-Za-z])\d+(?:[A-Za-z]{3}|[A-Za-z\*]))"
    r"(?P<rest>(?:\s+.*)?)$")
_VAR_RE = re.compile(r"^(?:p\.)?(?P<wt>[A-Za-z]{3}|[A-Za-z])(?P<pos>\d+)(?P<mt>[A-Za-z]{3}|[A-Za-z\*])$")
_FOLD_RE = re.compile(r"^[x×]\s*(?P<f>[0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)$")


def _aa(token, text, what):
    t = token.upper()
    if len(t) == 3:
        if t not in _AA3:
            raise MutationError(f"parse_mutation(): {text!r}: {token!r} is not a three-letter "
                                f"amino-acid code ({what})")
        return _AA3[t]
    if t == "*" or t in _AA1:
        return t
    raise MutationError(f"parse_mutation(): {text!r}: {token!r} is not an amino-acid letter ({what})")


def parse_mutation(text, scheme=None):
    """Parse ``"PSMB5 A49T"``-style notation and check the wild type.

    Accepted forms: ``"PSMB5 A49T"``, ``"PSMB5:A49T"``, ``"PSMB5 p.Ala49Thr"``, optionally
    followed by a numbering-scheme name (``"PSMB5 A108T precursor"``) and/or a user fold
    (``"PSMB5 A49T x20"``: the potency of every drug at this target is multiplied by 20).

    Parameters
    ----------
    text : str or Mutation
    scheme : str, optional
        Numbering scheme; default: the one named in the text, else the registry's documented
        default for the gene (PSMB5: ``mature``, Thr1 = catalytic threonine).

    Returns
    -------
    Mutation

    Raises
    ------
    MutationError
        Malformed text, a position outside the protein, or a wild type that does not match
        the registry's sequence / documented residue.
    UnknownTargetError
        The gene is not in the registry (with suggestions).
    """
    if isinstance(text, Mutation):
        m = text
        if scheme is not None and scheme != m.scheme:
            pos = convert_position(m.gene, m.position, m.scheme, scheme)
            m = Mutation(m.gene, m.wt, pos, m.mt, get_target(m.gene).scheme(scheme).name, m.fold)
        _check_wild_type(m, str(text))
        return m
    if not isinstance(text, str) or not text.strip():
        raise MutationError(f"parse_mutation(): expected text like 'PSMB5 A49T', got {text!r}")
    mm = _MUT_RE.match(text)
    if not mm:
        raise MutationError(
            f"parse_mutation(): cannot read {text!r}; expected 'GENE VARIANT' such as 'PSMB5 A49T', "
            f"'PSMB5:A49T' or 'PSMB5 p.Ala49Thr' (optionally followed by a numbering scheme and "
            f"'xFOLD', e.g. 'PSMB5 A49T x20')")
    target = get_target(mm.group("gene"))
    vm = _VAR_RE.match(mm.group("var"))
    if not vm:  # pragma: no cover - _MUT_RE already matched the same pattern
        raise MutationError(f"parse_mutation(): cannot read the variant in {text!r}")
    wt = _aa(vm.group("wt"), text, "wild type")
    mt = _aa(vm.group("mt"), text, "mutant")
    if wt == "*":
        raise MutationError(f"parse_mutation(): {text!r}: the wild type cannot be a stop codon")
    if wt == mt:
        raise MutationError(f"parse_mutation(): {text!r}: wild type and mutant are the same "
                            f"residue ({wt}); not a mutation")
    position = int(vm.group("pos"))
    fold = None
    text_scheme = None
    for tok in mm.group("rest").split():
        fm = _FOLD_RE.match(tok)
        if fm:
            if fold is not None:
                raise MutationError(f"parse_mutation(): {text!r} gives the fold twice")
            fold = float(fm.group("f"))
            if not (math.isfinite(fold) and fold > 0):
                raise MutationError(f"parse_mutation(): {text!r}: the fold must be finite and "
                                    f"> 0, got {fm.group('f')}")
            continue
        names = list(target.schemes)
        hit = [n for n in names if n.lower() == tok.lower()]
        if hit and text_scheme is None:
            text_scheme = hit[0]
            continue
        raise MutationError(
            f"parse_mutation(): {text!r}: unexpected {tok!r}; after the variant only a "
            f"numbering scheme of {target.gene} ({', '.join(names)}) and a fold such as 'x20' "
            f"are allowed{did_you_mean(tok, names)}")
    if scheme is not None and text_scheme is not None and scheme.lower() != text_scheme.lower():
        raise MutationError(f"parse_mutation(): {text!r} names scheme {text_scheme!r} but "
                            f"scheme={scheme!r} was given")
    sch = target.scheme(scheme or text_scheme)
    if position < 1:
        raise MutationError(f"parse_mutation(): {text!r}: position must be >= 1")
    m = Mutation(target.gene, wt, position, mt, sch.name, fold)
    _check_wild_type(m, text)
    return m


def _check_wild_type(m, text):
    """MutationError when the position is outside the protein or the wild type mismatches."""
    t = get_target(m.gene)
    up = t.to_uniprot(m.position, m.scheme)
    if up < 1 or (t.length is not None and up > t.length):
        off = t.scheme(m.scheme).offset
        low = max(1, 1 - off)
        span = (f"{low}-{t.length - off}" if t.length is not None else f">= {low}")
        raise MutationError(
            f"parse_mutation(): {text!r}: position {m.position} is outside {t.gene} in "
            f"{m.scheme} numbering (valid: {span}; UniProt {t.uniprot} length "
            f"{t.length if t.length is not None else 'not recorded'})")
    known = t.residues.get(up)
    if known is not None and known != m.wt:
        alt = _other_scheme_hint(t, m)
        raise MutationError(
            f"parse_mutation(): {text!r}: wild-type mismatch: {t.gene} residue {m.position} "
            f"({m.scheme} numbering, UniProt {up}) is {known}, not {m.wt} "
            f"(source: {t.residue_sources.get(up, 'registry')}){alt}")


def _other_scheme_hint(t, m):
    for name, sch in t.schemes.items():
        if name == m.scheme:
            continue
        up = m.position + sch.offset
        if t.residues.get(up) == m.wt:
            return f"; in {name} numbering residue {m.position} is {m.wt} - did you mean '{t.gene} {m.variant} {name}'?"
    return ""


def convert_position(gene, position, from_scheme, to_scheme):
    """Convert a residue number between two documented numbering schemes of a gene.

    Parameters
    ----------
    gene : str
    position : int
        Residue number in `from_scheme` (>= 1).
    from_scheme, to_scheme : str
        Scheme names documented in the registry for the gene (``mmmech structures targets``).

    Returns
    -------
    int

    Raises
    ------
    InvalidInputError
        Unknown scheme, a non-integer position, or a residue with no number in `to_scheme`
        (e.g. PSMB5 precursor 24 lies in the propeptide and has no mature-chain number).

    Examples
    --------
    >>> convert_position("PSMB5", 108, "precursor", "mature")
    49
    """
    t = get_target(gene)
    if isinstance(position, bool) or not isinstance(position, int):
        try:
            if float(position) != int(position):
                raise ValueError
            position = int(position)
        except (TypeError, ValueError):
            raise InvalidInputError(f"convert_position(): position must be an integer residue "
                                    f"number, got {position!r}") from None
    if position < 1:
        raise InvalidInputError(f"convert_position(): position must be >= 1, got {position}")
    src, dst = t.scheme(from_scheme), t.scheme(to_scheme)
    up = position + src.offset
    out = up - dst.offset
    if out < 1:
        raise InvalidInputError(
            f"convert_position(): {t.gene} {position} in {src.name} numbering (UniProt {up}) has "
            f"no number in {dst.name} numbering, which starts at UniProt {dst.first_uniprot()} "
            f"({dst.description})")
    if t.length is not None and up > t.length:
        raise InvalidInputError(f"convert_position(): {t.gene} {position} in {src.name} numbering "
                                f"lies beyond the end of the protein (UniProt length {t.length})")
    return out


def check_mutation(mutation, scheme=None):
    """What the registry knows about a mutation.

    Returns
    -------
    dict
        ``mutation`` (text), ``gene``, ``scheme``, ``position``, ``uniprot_position``,
        ``positions`` (the position in every documented scheme), ``wild_type_checked`` (bool:
        False when the registry holds no residue there), ``wild_type_source``,
        ``binding_sites`` (names of known sites containing the residue), ``in_binding_site``,
        ``documented`` (matching registry mutations with their folds and sources), ``fold``
        (the user fold, if any).
    """
    m = parse_mutation(mutation, scheme=scheme)
    t = get_target(m.gene)
    up = m.uniprot_position()
    sites = t.binding_sites_at(m.position, m.scheme)
    doc = [k for k in t.mutations if _same_site(t, k, up) and k.mt == m.mt]
    positions = {}
    for name, sch in t.schemes.items():
        p = up - sch.offset
        positions[name] = p if p >= 1 else None
    return {"mutation": str(m), "gene": m.gene, "scheme": m.scheme, "position": m.position,
            "uniprot_position": up, "positions": positions,
            "wild_type": m.wt, "mutant": m.mt,
            "wild_type_checked": up in t.residues,
            "wild_type_source": t.residue_sources.get(up),
            "in_binding_site": bool(sites),
            "binding_sites": [s.name for s in sites],
            "documented": [k.to_dict() for k in doc],
            "fold": m.fold}


def _same_site(t, known, uniprot_position):
    return known.position + t.scheme(known.scheme).offset == uniprot_position


class PotencyShifts(dict):
    """``{drug_name: {target_gene: fold}}`` plus ``warnings`` and ``details``.

    ``details`` is a list of dicts (drug, target, mutation, fold, basis, sources) explaining
    each fold; ``warnings`` lists mutations whose effect on a drug is undocumented (fold 1.0).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings = []
        self.details = []


def _drug_list(drugs):
    if drugs is not None:
        if isinstance(drugs, Mapping):
            drugs = list(drugs.values())
        out = []
        for d in drugs:
            if not hasattr(d, "name") or not hasattr(d, "targets"):
                raise InvalidInputError(f"potency_shifts(): drugs must be Drug objects (with .name "
                                        f"and .targets), got {type(d).__name__}")
            out.append(d)
        return out, None
    try:
        from .. import drugs as _drugs
        lib = _drugs.library()
    except (ImportError, AttributeError) as exc:  # the drug layer is not part of this build
        return None, f"drug library unavailable ({exc}); only the documented drugs are shifted"
    seen, out = set(), []
    for d in lib.values():
        if d.name not in seen:
            seen.add(d.name)
            out.append(d)
    return out, None


def _acts_on(drug, gene):
    """The TargetAction entries through which `drug` acts on `gene` (target or neo-substrate)."""
    hits = []
    for ta in getattr(drug, "targets", ()):
        tgt = str(getattr(ta, "target", "")).upper()
        if tgt == gene.upper() or gene.upper() in {str(n).upper() for n in getattr(ta, "neo_substrates", ()) or ()}:
            hits.append(ta)
    return hits


def _user_folds(fold, func):
    """None, a float for every mutation, or {Mutation key: float}."""
    if fold is None:
        return None, {}
    if isinstance(fold, Mapping):
        table = {}
        for k, v in fold.items():
            m = parse_mutation(k)
            table[(m.gene, m.uniprot_position(), m.mt)] = _check_fold(v, func, f"fold[{k!r}]")
        return None, table
    return _check_fold(fold, func, "fold"), {}


def _check_fold(v, func, what):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): {what} must be a number > 0, got {v!r}") from None
    if not (math.isfinite(f) and f > 0):
        raise InvalidInputError(f"{func}(): {what} must be finite and > 0, got {v!r}")
    return f


def unique_mutations(mutations, func="potency_shifts"):
    """Parsed mutations with exact duplicates merged (first one kept, order kept).

    The same mutation given twice -- in any notation or numbering scheme (``PSMB5 A49T`` and
    ``PSMB5 A108T precursor``), or once in a context and again on the command line -- is one
    mutation: its fold applies once, not squared. The same mutation with two different
    user folds (``x20`` and ``x5``, or ``x20`` and none) is refused: which one is meant is
    unclear. Different mutations of one target still multiply (see :func:`potency_shifts`).
    """
    seen, out = {}, []
    for m in mutations:
        key = (m.gene, m.uniprot_position(), m.mt)
        if key in seen:
            if seen[key].fold != m.fold:
                def shown(x):
                    return f"{x} x{x.fold:g}" if x.fold is not None else f"{x} (documented fold)"
                raise MutationError(f"{func}(): mutation {seen[key]} is given twice with different "
                                    f"folds: {shown(seen[key])} and {shown(m)}; give it once")
            continue
        seen[key] = m
        out.append(m)
    return out


def potency_shifts(mutations, drugs=None, fold=None):
    """Potency folds that mutations impose on the drugs acting at the mutated targets.

    Parameters
    ----------
    mutations : str, Mutation, or iterable of them
        ``"PSMB5 A49T"``, ``"PSMB5 A49T x20"`` (user fold in the text), ...
    drugs : iterable of mmmech.drugs.Drug or mapping name -> Drug, optional
        The drugs to consider (default: the whole library). A drug is affected when one of its
        ``targets`` has ``.target`` equal to the mutated gene, or lists it among its
        ``neo_substrates`` (glue degraders: a neo-substrate mutation shifts the degradation).
    fold : float or dict, optional
        User-set fold for every mutation (float) or per mutation text (``{"PSMB5 A49T": 20}``).
        A user fold (here or ``xFOLD`` in the text) overrides the documented one.

    Returns
    -------
    PotencyShifts
        ``{drug_name: {target_gene: fold}}``; each fold multiplies that drug's ``potency_nM``
        at that target (fold > 1: the drug is weaker). Only affected drugs appear. Several
        mutations on one target multiply; the same mutation given twice counts once
        (:func:`unique_mutations`). The documented fold comes from the registry (with its
        source in ``.details``); an undocumented drug/mutation pair gets 1.0 and an entry in
        ``.warnings`` (also issued as :class:`MutationWarning`), which says whether the residue
        lies in a known binding site.

    Raises
    ------
    MutationError, UnknownTargetError, InvalidInputError
    """
    func = "potency_shifts"
    if isinstance(mutations, (str, Mutation)):
        mutations = [mutations]
    try:
        mutations = list(mutations)
    except TypeError:
        raise InvalidInputError(f"{func}(): mutations must be a mutation text or an iterable of "
                                f"them, got {type(mutations).__name__}") from None
    parsed = unique_mutations([parse_mutation(m) for m in mutations], func)
    global_fold, per_mut = _user_folds(fold, func)
    drug_objs, lib_warning = _drug_list(drugs)
    out = PotencyShifts()
    if lib_warning:
        out.warnings.append(lib_warning)
    for m in parsed:
        t = get_target(m.gene)
        up = m.uniprot_position()
        key = (m.gene, up, m.mt)
        user = m.fold if m.fold is not None else per_mut.get(key, global_fold)
        documented = [k for k in t.mutations if _same_site(t, k, up) and k.mt == m.mt]
        sites = t.binding_sites_at(m.position, m.scheme)
        if drug_objs is None:  # no library: the drugs the registry documents for this mutation
            names = sorted({d for k in documented for d in k.folds})
            affected = [(n, None) for n in names]
        else:
            affected = [(d.name, d) for d in drug_objs if _acts_on(d, m.gene)]
        for name, _ in affected:
            lname = str(name).lower()
            if user is not None:
                f, basis, srcs = user, "user-set fold", []
            else:
                doc = [k for k in documented if lname in k.folds]
                if doc:
                    f, basis, srcs = doc[0].folds[lname], doc[0].fold_basis, list(doc[0].sources)
                else:
                    f, basis, srcs = 1.0, "undocumented: fold 1.0 assumed", []
                    where = (f"in the known binding site(s) {', '.join(s.name for s in sites)}"
                             if sites else "outside any known binding site")
                    if any(k.folds for k in documented):
                        qual = (f"; the registry records it for other drugs "
                                f"({', '.join(sorted({d for k in documented for d in k.folds}))})")
                    elif documented:
                        qual = (f"; documented without a fold: {documented[0].effect} "
                                f"({', '.join(documented[0].sources)})")
                    else:
                        qual = ""
                    msg = (f"{m} ({m.scheme} numbering) is {where}; no documented potency shift "
                           f"for {name}{qual}: fold 1.0 assumed (set one with '{m} x<fold>')")
                    out.warnings.append(msg)
                    warnings.warn(msg, MutationWarning, stacklevel=2)
            cur = out.setdefault(name, {})
            cur[m.gene] = cur.get(m.gene, 1.0) * f
            out.details.append({"drug": name, "target": m.gene, "mutation": str(m),
                                "scheme": m.scheme, "fold": f, "basis": basis, "sources": srcs})
        if not affected:
            msg = f"{m}: no drug in the given set acts on {m.gene}; nothing shifted"
            out.warnings.append(msg)
    return out


# --------------------------------------------------------------------------------------------
# download
# --------------------------------------------------------------------------------------------

def _default_cache():
    env = os.environ.get("MMMECH_CACHE")
    if env:
        return Path(env) / "pdb"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mmmech" / "pdb"


def fetch(pdb_id, cache_dir=None, format="cif", timeout=30.0):
    """Download a PDB entry from RCSB into a user cache and return its path.

    Parameters
    ----------
    pdb_id : str
        Four-character PDB ID (``"5FQD"``), case-insensitive.
    cache_dir : path, optional
        Default ``$MMMECH_CACHE/pdb`` or ``~/.cache/mmmech/pdb``. A file already there is
        returned without touching the network.
    format : {"cif", "pdb"}
        mmCIF (default; every entry has one) or legacy PDB format.
    timeout : float
        Seconds.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    NetworkUnavailableError
        The server cannot be reached (offline, DNS, timeout).
    StructureError
        The entry does not exist (HTTP 404) or the download is not a structure file.
    """
    func = "fetch"
    if not isinstance(pdb_id, str) or not re.fullmatch(r"[0-9][A-Za-z0-9]{3}", pdb_id.strip()):
        raise InvalidInputError(f"{func}(): pdb_id must be a 4-character PDB ID such as '5FQD', "
                                f"got {pdb_id!r}")
    if format not in ("cif", "pdb"):
        raise InvalidInputError(f"{func}(): format must be 'cif' or 'pdb', got {format!r}")
    pid = pdb_id.strip().upper()
    cache = Path(cache_dir) if cache_dir is not None else _default_cache()
    dest = cache / f"{pid}.{format}"
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    url = RCSB_URL.format(pdb_id=pid, ext=format)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise StructureError(f"{func}(): PDB entry {pid} not found at {url} (HTTP 404)"
                                 + (" ; entries too large for the PDB format exist only as "
                                    "mmCIF: use format='cif'" if format == "pdb" else "")) from None
        raise NetworkUnavailableError(f"{func}(): downloading {pid} from {url} failed: HTTP "
                                      f"{exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkUnavailableError(
            f"{func}(): cannot download {pid} from {url}: the network is unavailable ({reason}); "
            f"connect, or put the file at {dest} yourself") from None
    head = data[:2000].decode("utf-8", errors="replace")
    if _pdb._detect_format("", head) != format:
        raise StructureError(f"{func}(): the download of {pid} from {url} is not a "
                             f"{'mmCIF' if format == 'cif' else 'PDB'} file")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        atomic_write(dest, data)
    except OSError as exc:
        raise StructureError(f"{func}(): cannot write to the cache {cache}: {exc}") from None
    return dest
