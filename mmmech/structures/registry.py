"""The target registry: curated targets, their structures, binding sites and known mutations.

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

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..exceptions import InvalidInputError, ModelFileError, UnknownTargetError
from ..resources import load_toml
from ..sources import describe_expected, is_source
from ..utils import did_you_mean

__all__ = [
    "Target",
    "StructureEntry",
    "BindingSite",
    "KnownMutation",
    "NumberingScheme",
    "targets",
    "get_target",
]

_AA1 = set("ACDEFGHIKLMNPQRSTVWYUO")


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

    def first_uniprot(self) -> int:
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
    chains: Mapping[str, tuple[str, ...]]
    ligand: str | None
    drug: str | None
    numbering: str
    source: str
    verified: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "pdb_id": self.pdb_id,
            "method": self.method,
            "resolution": self.resolution,
            "organism": self.organism,
            "chains": {k: list(v) for k, v in self.chains.items()},
            "ligand": self.ligand,
            "drug": self.drug,
            "numbering": self.numbering,
            "source": self.source,
            "verified": self.verified,
            "note": self.note,
        }


@dataclass(frozen=True)
class BindingSite:
    """Residues lining a drug's binding site, as ``(one_letter, position)`` in ``scheme``."""

    name: str
    drugs: tuple[str, ...]
    ligand: str | None
    scheme: str
    residues: tuple[tuple[str, int], ...]
    source: str
    note: str = ""

    def positions(self) -> tuple[int, ...]:
        return tuple(p for _, p in self.residues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "drugs": list(self.drugs),
            "ligand": self.ligand,
            "scheme": self.scheme,
            "residues": [f"{a}{p}" for a, p in self.residues],
            "source": self.source,
            "note": self.note,
        }


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
    folds: Mapping[str, float]
    fold_ranges: Mapping[str, tuple[float, ...]]
    fold_basis: str
    sources: tuple[str, ...]
    note: str = ""
    verified: bool = True

    @property
    def text(self) -> str:
        return f"{self.wt}{self.position}{self.mt}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.text,
            "scheme": self.scheme,
            "effect": self.effect,
            "folds": dict(self.folds),
            "fold_ranges": {k: list(v) for k, v in self.fold_ranges.items()},
            "fold_basis": self.fold_basis,
            "sources": list(self.sources),
            "note": self.note,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class Target:
    """One protein of the registry (see :func:`targets`)."""

    gene: str
    uniprot: str
    protein: str
    role: str
    aliases: tuple[str, ...]
    default_scheme: str
    schemes: Mapping[str, NumberingScheme]
    residues: Mapping[int, str]  # UniProt position -> one-letter code (sequence or documented)
    residue_sources: Mapping[int, str]  # UniProt position -> source of that residue
    sequence_note: str
    length: int | None
    structures: tuple[StructureEntry, ...]
    binding_sites: tuple[BindingSite, ...]
    mutations: tuple[KnownMutation, ...]
    sources: tuple[str, ...]
    note: str = ""

    def scheme(self, name: str | None = None) -> NumberingScheme:
        """The :class:`NumberingScheme` `name` (default: the gene's documented default)."""
        name = self.default_scheme if name is None else str(name)
        for key, sch in self.schemes.items():
            if key.lower() == name.lower():
                return sch
        if name.lower() == "uniprot":  # always available: the UniProt canonical numbering
            return NumberingScheme(
                "uniprot",
                0,
                f"UniProt {self.uniprot} canonical numbering",
                f"UniProt:{self.uniprot}",
            )
        raise InvalidInputError(
            f"numbering scheme {name!r} is not documented for {self.gene}; known schemes: "
            f"{', '.join(self.schemes)}{did_you_mean(name, list(self.schemes))}"
        )

    def to_uniprot(self, position: int, scheme: str | None = None) -> int:
        """UniProt position of `position` given in `scheme`."""
        return int(position) + self.scheme(scheme).offset

    def residue_at(self, position: int, scheme: str | None = None) -> str | None:
        """The one-letter residue at `position` (in `scheme`), or None when not known."""
        return self.residues.get(self.to_uniprot(position, scheme))

    def binding_sites_at(self, position: int, scheme: str | None = None) -> list[BindingSite]:
        """The :class:`BindingSite` entries that contain `position` (given in `scheme`)."""
        up = self.to_uniprot(position, scheme)
        hits = []
        for site in self.binding_sites:
            off = self.scheme(site.scheme).offset
            if any(p + off == up for p in site.positions()):
                hits.append(site)
        return hits

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (the ``mmmech structures targets --json`` entries)."""
        return {
            "gene": self.gene,
            "uniprot": self.uniprot,
            "protein": self.protein,
            "role": self.role,
            "aliases": list(self.aliases),
            "default_scheme": self.default_scheme,
            "schemes": {
                k: {"offset": s.offset, "description": s.description, "source": s.source}
                for k, s in self.schemes.items()
            },
            "length": self.length,
            "known_residues": len(self.residues),
            "sequence_note": self.sequence_note,
            "structures": [s.to_dict() for s in self.structures],
            "binding_sites": [b.to_dict() for b in self.binding_sites],
            "mutations": [m.to_dict() for m in self.mutations],
            "sources": list(self.sources),
            "note": self.note,
        }


class _TargetRegistry(Mapping[str, Target]):
    """Read-only mapping gene -> Target; lookups are case-insensitive and accept aliases."""

    def __init__(self, items: Mapping[str, Target]) -> None:
        self._items = dict(items)
        self._index: dict[str, str] = {}
        for gene, t in self._items.items():
            for key in (gene, *t.aliases):
                self._index.setdefault(key.lower(), gene)

    def resolve(self, name: str) -> str:
        key = str(name).strip().lower()
        if key in self._index:
            return self._index[key]
        raise UnknownTargetError(
            f"unknown target {str(name)!r}: not a gene symbol or alias in the target registry"
            f"{did_you_mean(name, self._known_names())}"
            f" (see 'mmmech structures targets')"
        )

    def _known_names(self) -> list[str]:
        return list(self._items) + [a for t in self._items.values() for a in t.aliases]

    def __getitem__(self, name: str) -> Target:
        return self._items[self.resolve(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<target registry: {', '.join(self._items)}>"


_REGISTRY: _TargetRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def targets() -> Mapping[str, Target]:
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
                _REGISTRY = _build_registry(
                    load_toml("structures", "targets.toml"), "structures/targets.toml"
                )
    return _REGISTRY


def get_target(gene: str) -> Target:
    """The :class:`Target` for a gene symbol or alias (case-insensitive).

    Raises
    ------
    UnknownTargetError
        With the closest known symbols.
    """
    if not isinstance(gene, str) or not gene.strip():
        raise InvalidInputError(f"get_target(): gene must be a non-empty string, got {gene!r}")
    return targets()[gene]


def _need(
    entry: Mapping[str, Any], key: str, where: str, types: type | tuple[type, ...] = str
) -> Any:
    if key not in entry:
        raise ModelFileError(f"{where}: missing required key {key!r}")
    val = entry[key]
    if not isinstance(val, types):
        raise ModelFileError(f"{where}: {key!r} must be {types}, got {type(val).__name__}")
    return val


def _check_source(src: Any, where: str) -> str:
    # a source identifier, optionally followed by a note ("PDB:5FQD chain B")
    ident = src.strip().split(None, 1)[0] if isinstance(src, str) and src.strip() else src
    if not is_source(ident):
        raise ModelFileError(
            f"{where}: source {src!r} must start with a source identifier; {describe_expected()}"
        )
    return src.strip()


def _parse_residue_token(tok: Any, where: str) -> tuple[str, int]:
    m = re.fullmatch(r"([A-Z])(-?\d+)", str(tok).strip())
    if not m:
        raise ModelFileError(f"{where}: residue {tok!r} must look like 'W380'")
    return m.group(1), int(m.group(2))


def _build_registry(data: Mapping[str, Any], origin: str) -> _TargetRegistry:
    """Turn the parsed TOML into Target objects, checking every required field and source."""
    items = {}
    for i, t in enumerate(data.get("targets", [])):
        where = f"{origin}: targets[{i}]"
        gene = _need(t, "gene", where)
        where = f"{origin}: {gene}"
        schemes = {}
        uniprot_only = {
            "uniprot": {
                "offset": 0,
                "description": "UniProt canonical",
                "source": f"UniProt:{t.get('uniprot', '')}",
            }
        }
        for name, s in t.get("schemes", uniprot_only).items():
            sw = f"{where}.schemes.{name}"
            schemes[name] = NumberingScheme(
                name,
                int(_need(s, "offset", sw, int)),
                _need(s, "description", sw),
                _check_source(_need(s, "source", sw), where),
            )
        default = t.get("default_scheme", next(iter(schemes)))
        if default not in schemes:
            raise ModelFileError(
                f"{where}: default_scheme {default!r} is not among {list(schemes)}"
            )
        residues: dict[int, str] = {}
        rsources: dict[int, str] = {}
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
                    raise ModelFileError(
                        f"{where}: sequence sources disagree at {pos}: "
                        f"{residues[pos]} ({rsources[pos]}) vs {aa} ({src})"
                    )
                residues[pos], rsources[pos] = aa, src
        for r in t.get("residues", []):
            aa, pos = _parse_residue_token(_need(r, "residue", f"{where}.residues"), where)
            scheme = r.get("scheme", default)
            if scheme not in schemes:
                raise ModelFileError(f"{where}.residues: unknown scheme {scheme!r}")
            up = pos + schemes[scheme].offset
            src = _check_source(_need(r, "source", f"{where}.residues"), where)
            if up in residues and residues[up] != aa:
                raise ModelFileError(
                    f"{where}: residue {aa}{pos} ({scheme}) contradicts "
                    f"{residues[up]} from {rsources[up]}"
                )
            residues[up] = aa
            rsources.setdefault(up, src)
        structures = tuple(
            StructureEntry(
                pdb_id=_need(s, "pdb", f"{where}.structures").upper(),
                method=_need(s, "method", f"{where}.structures"),
                resolution=(float(s["resolution"]) if s.get("resolution") is not None else None),
                organism=_need(s, "organism", f"{where}.structures"),
                chains=MappingProxyType(
                    {
                        k: tuple(v)
                        for k, v in _need(s, "chains", f"{where}.structures", dict).items()
                    }
                ),
                ligand=s.get("ligand"),
                drug=s.get("drug"),
                numbering=s.get("numbering", default),
                source=_check_source(_need(s, "source", f"{where}.structures"), where),
                verified=bool(s.get("verified", True)),
                note=s.get("note", ""),
            )
            for s in t.get("structures", [])
        )
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
                    raise ModelFileError(
                        f"{w}: {aa}{pos} contradicts the sequence ({residues[up]})"
                    )
            sites.append(
                BindingSite(
                    _need(b, "name", w),
                    tuple(b.get("drugs", [])),
                    b.get("ligand"),
                    scheme,
                    res,
                    _check_source(_need(b, "source", w), w),
                    b.get("note", ""),
                )
            )
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
            for dname, v in folds.items():
                # inf: the mutation abolishes the drug's effect (a neo-substrate's degron
                # mutation that escapes degradation); no finite fold stands in for it
                if not (v > 0 and not math.isnan(v)):
                    raise ModelFileError(
                        f"{w}: fold for {dname} must be finite and > 0 (or inf: effect "
                        f"abolished), got {v}"
                    )
            up = int(mm.group(2)) + schemes[scheme].offset
            if up in residues and residues[up] != mm.group(1):
                raise ModelFileError(
                    f"{w}: {variant} ({scheme}) contradicts the sequence ({residues[up]})"
                )
            muts.append(
                KnownMutation(
                    mm.group(1),
                    int(mm.group(2)),
                    mm.group(3),
                    scheme,
                    _need(m, "effect", w),
                    MappingProxyType(folds),
                    MappingProxyType(
                        {
                            str(k).lower(): tuple(float(x) for x in v)
                            for k, v in m.get("fold_ranges", {}).items()
                        }
                    ),
                    m.get("fold_basis", ""),
                    tuple(_check_source(s, w) for s in _need(m, "sources", w, list)),
                    m.get("note", ""),
                    bool(m.get("verified", True)),
                )
            )
        items[gene] = Target(
            gene=gene,
            uniprot=_need(t, "uniprot", where),
            protein=_need(t, "protein", where),
            role=_need(t, "role", where),
            aliases=tuple(t.get("aliases", [])),
            default_scheme=default,
            schemes=MappingProxyType(schemes),
            residues=MappingProxyType(residues),
            residue_sources=MappingProxyType(rsources),
            sequence_note=t.get("sequence_note", ""),
            length=t.get("length"),
            structures=structures,
            binding_sites=tuple(sites),
            mutations=tuple(muts),
            sources=tuple(_check_source(s, where) for s in t.get("sources", [])),
            note=t.get("note", ""),
        )
    if not items:
        raise ModelFileError(f"{origin}: no targets")
    return _TargetRegistry(items)
