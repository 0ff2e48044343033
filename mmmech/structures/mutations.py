"""Mutations: notation, numbering schemes and the potency shifts mutations impose on drugs.

Examples
--------
>>> m = parse_mutation("PSMB5 A108T precursor")
>>> m.position, m.scheme, str(m)
(108, 'precursor', 'PSMB5 A108T precursor')
>>> str(parse_mutation(m, scheme="mature"))
'PSMB5 A49T'
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError, MutationError, UnknownTargetError
from ..utils import did_you_mean
from .registry import _AA1, KnownMutation, Target, get_target

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from ..drugs.records import Drug, TargetAction

#: the drugs :func:`potency_shifts` considers: Drug objects or a mapping name -> Drug
DrugsLike = Iterable["Drug"] | Mapping[str, "Drug"]
#: a fold for every mutation, or one per mutation text
FoldLike = float | Mapping[str, float]

__all__ = [
    "Mutation",
    "MutationWarning",
    "PotencyShifts",
    "parse_mutation",
    "convert_position",
    "check_mutation",
    "potency_shifts",
    "unique_mutations",
]

_AA3 = {
    "ALA": "A",
    "ARG": "R",
    "ASN": "N",
    "ASP": "D",
    "CYS": "C",
    "GLN": "Q",
    "GLU": "E",
    "GLY": "G",
    "HIS": "H",
    "ILE": "I",
    "LEU": "L",
    "LYS": "K",
    "MET": "M",
    "PHE": "F",
    "PRO": "P",
    "SER": "S",
    "THR": "T",
    "TRP": "W",
    "TYR": "Y",
    "VAL": "V",
    "SEC": "U",
    "PYL": "O",
    "TER": "*",
}


class MutationWarning(UserWarning):
    """A mutation whose effect on a drug is not documented (fold 1.0 assumed)."""


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
    def variant(self) -> str:
        return f"{self.wt}{self.position}{self.mt}"

    def __str__(self) -> str:
        """``GENE VARIANT``, plus the scheme when it is not the gene's default (re-parsable)."""
        try:
            default = get_target(self.gene).default_scheme
        except UnknownTargetError:
            default = self.scheme
        text = f"{self.gene} {self.variant}"
        return text if self.scheme == default else f"{text} {self.scheme}"

    def uniprot_position(self) -> int:
        """The position in UniProt canonical numbering."""
        return get_target(self.gene).to_uniprot(self.position, self.scheme)


_MUT_RE = re.compile(
    r"^\s*(?P<gene>[A-Za-z0-9][A-Za-z0-9\-\.]*?)\s*(?:[:\s])\s*"
    r"(?P<var>(?:p\.)?(?:[A-Za-z]{3}|[A-Za-z])\d+(?:[A-Za-z]{3}|[A-Za-z\*]))"
    r"(?P<rest>(?:\s+.*)?)$"
)
_VAR_RE = re.compile(
    r"^(?:p\.)?(?P<wt>[A-Za-z]{3}|[A-Za-z])(?P<pos>\d+)(?P<mt>[A-Za-z]{3}|[A-Za-z\*])$"
)
_FOLD_RE = re.compile(r"^[x×]\s*(?P<f>[0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)$")


def _aa(token: str, text: str, what: str) -> str:
    t = token.upper()
    if len(t) == 3:
        if t not in _AA3:
            raise MutationError(
                f"parse_mutation(): {text!r}: {token!r} is not a three-letter "
                f"amino-acid code ({what})"
            )
        return _AA3[t]
    if t == "*" or t in _AA1:
        return t
    raise MutationError(
        f"parse_mutation(): {text!r}: {token!r} is not an amino-acid letter ({what})"
    )


def parse_mutation(text: str | Mutation, scheme: str | None = None) -> Mutation:
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
            f"parse_mutation(): cannot read {text!r}; expected 'GENE VARIANT' such as "
            f"'PSMB5 A49T', "
            f"'PSMB5:A49T' or 'PSMB5 p.Ala49Thr' (optionally followed by a numbering scheme and "
            f"'xFOLD', e.g. 'PSMB5 A49T x20')"
        )
    target = get_target(mm.group("gene"))
    vm = _VAR_RE.match(mm.group("var"))
    if not vm:  # pragma: no cover - _MUT_RE already matched the same pattern
        raise MutationError(f"parse_mutation(): cannot read the variant in {text!r}")
    wt = _aa(vm.group("wt"), text, "wild type")
    mt = _aa(vm.group("mt"), text, "mutant")
    if wt == "*":
        raise MutationError(f"parse_mutation(): {text!r}: the wild type cannot be a stop codon")
    if wt == mt:
        raise MutationError(
            f"parse_mutation(): {text!r}: wild type and mutant are the same "
            f"residue ({wt}); not a mutation"
        )
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
                raise MutationError(
                    f"parse_mutation(): {text!r}: the fold must be finite and "
                    f"> 0, got {fm.group('f')}"
                )
            continue
        names = list(target.schemes)
        hit = [n for n in names if n.lower() == tok.lower()]
        if hit and text_scheme is None:
            text_scheme = hit[0]
            continue
        raise MutationError(
            f"parse_mutation(): {text!r}: unexpected {tok!r}; after the variant only a "
            f"numbering scheme of {target.gene} ({', '.join(names)}) and a fold such as 'x20' "
            f"are allowed{did_you_mean(tok, names)}"
        )
    if scheme is not None and text_scheme is not None and scheme.lower() != text_scheme.lower():
        raise MutationError(
            f"parse_mutation(): {text!r} names scheme {text_scheme!r} but "
            f"scheme={scheme!r} was given"
        )
    sch = target.scheme(scheme or text_scheme)
    if position < 1:
        raise MutationError(f"parse_mutation(): {text!r}: position must be >= 1")
    m = Mutation(target.gene, wt, position, mt, sch.name, fold)
    _check_wild_type(m, text)
    if scheme is None and text_scheme is None:
        _check_other_numbering(target, m, text)
    return m


def _check_other_numbering(t: Target, m: Mutation, text: str) -> None:
    """MutationError when a mutation read in the gene's default numbering has no documented
    variant there but is a documented variant in another numbering scheme (``PSMB5 A108T``:
    precursor A108T is the documented mature A49T). Run as written it would be a different,
    undocumented residue, i.e. silently wild type for every drug."""
    up = m.uniprot_position()
    if any(_same_site(t, k, up) and k.mt == m.mt for k in t.mutations):
        return
    for name, sch in t.schemes.items():
        if name == m.scheme:
            continue
        other_up = m.position + sch.offset
        for k in t.mutations:
            if not (_same_site(t, k, other_up) and k.wt == m.wt and k.mt == m.mt):
                continue
            doc = Mutation(t.gene, k.wt, k.position, k.mt, k.scheme)
            raise MutationError(
                f"mutation {text.strip()!r}: position {m.position} in {m.scheme} numbering has "
                f"no documented variant; {name} {m.variant} is the documented {k.scheme} "
                f"{k.text}: write {str(doc)!r} or name the scheme "
                f"('{t.gene} {m.variant} {name}', scheme={name!r}, --scheme {name})"
            )


def _check_wild_type(m: Mutation, text: str) -> None:
    """MutationError when the position is outside the protein or the wild type mismatches."""
    t = get_target(m.gene)
    up = t.to_uniprot(m.position, m.scheme)
    if up < 1 or (t.length is not None and up > t.length):
        off = t.scheme(m.scheme).offset
        low = max(1, 1 - off)
        span = f"{low}-{t.length - off}" if t.length is not None else f">= {low}"
        raise MutationError(
            f"parse_mutation(): {text!r}: position {m.position} is outside {t.gene} in "
            f"{m.scheme} numbering (valid: {span}; UniProt {t.uniprot} length "
            f"{t.length if t.length is not None else 'not recorded'})"
        )
    known = t.residues.get(up)
    if known is not None and known != m.wt:
        alt = _other_scheme_hint(t, m)
        raise MutationError(
            f"parse_mutation(): {text!r}: wild-type mismatch: {t.gene} residue {m.position} "
            f"({m.scheme} numbering, UniProt {up}) is {known}, not {m.wt} "
            f"(source: {t.residue_sources.get(up, 'registry')}){alt}"
        )


def _other_scheme_hint(t: Target, m: Mutation) -> str:
    for name, sch in t.schemes.items():
        if name == m.scheme:
            continue
        up = m.position + sch.offset
        if t.residues.get(up) == m.wt:
            return (
                f"; in {name} numbering residue {m.position} is {m.wt} - did you mean "
                f"'{t.gene} {m.variant} {name}'?"
            )
    return ""


def convert_position(
    gene: str, position: int, from_scheme: str | None, to_scheme: str | None
) -> int:
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
            raise InvalidInputError(
                f"convert_position(): position must be an integer residue number, got {position!r}"
            ) from None
    if position < 1:
        raise InvalidInputError(f"convert_position(): position must be >= 1, got {position}")
    src, dst = t.scheme(from_scheme), t.scheme(to_scheme)
    up = position + src.offset
    out = up - dst.offset
    if out < 1:
        raise InvalidInputError(
            f"convert_position(): {t.gene} {position} in {src.name} numbering (UniProt {up}) has "
            f"no number in {dst.name} numbering, which starts at UniProt {dst.first_uniprot()} "
            f"({dst.description})"
        )
    if t.length is not None and up > t.length:
        raise InvalidInputError(
            f"convert_position(): {t.gene} {position} in {src.name} numbering "
            f"lies beyond the end of the protein (UniProt length {t.length})"
        )
    return out


def check_mutation(mutation: str | Mutation, scheme: str | None = None) -> dict[str, Any]:
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
    return {
        "mutation": str(m),
        "gene": m.gene,
        "scheme": m.scheme,
        "position": m.position,
        "uniprot_position": up,
        "positions": positions,
        "wild_type": m.wt,
        "mutant": m.mt,
        "wild_type_checked": up in t.residues,
        "wild_type_source": t.residue_sources.get(up),
        "in_binding_site": bool(sites),
        "binding_sites": [s.name for s in sites],
        "documented": [k.to_dict() for k in doc],
        "fold": m.fold,
    }


def _same_site(t: Target, known: KnownMutation, uniprot_position: int) -> bool:
    return known.position + t.scheme(known.scheme).offset == uniprot_position


class PotencyShifts(dict[str, dict[str, float]]):
    """``{drug_name: {target_gene: fold}}`` plus ``warnings`` and ``details``.

    ``details`` is a list of dicts (drug, target, mutation, fold, basis, sources) explaining
    each fold; ``warnings`` lists mutations whose effect on a drug is undocumented (fold 1.0).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        self.details: list[dict[str, Any]] = []


def _drug_list(drugs: DrugsLike | None) -> tuple[list[Drug] | None, str | None]:
    if drugs is not None:
        if isinstance(drugs, Mapping):
            drugs = list(drugs.values())
        out = []
        for d in drugs:
            if not hasattr(d, "name") or not hasattr(d, "targets"):
                raise InvalidInputError(
                    f"potency_shifts(): drugs must be Drug objects (with .name "
                    f"and .targets), got {type(d).__name__}"
                )
            out.append(d)
        return out, None
    try:
        # the drug layer is looked up at call time: without it only the documented drugs shift
        from .. import drugs as _drugs  # deferred: building the drug library is slow

        lib = _drugs.library()
    except (ImportError, AttributeError) as exc:  # the drug layer is not part of this build
        return None, f"drug library unavailable ({exc}); only the documented drugs are shifted"
    seen, out = set(), []
    for d in lib.values():
        if d.name not in seen:
            seen.add(d.name)
            out.append(d)
    return out, None


def _acts_on(drug: Drug, gene: str) -> list[TargetAction]:
    """The TargetAction entries through which `drug` acts on `gene` (target or neo-substrate)."""
    hits = []
    for ta in getattr(drug, "targets", ()):
        tgt = str(getattr(ta, "target", "")).upper()
        neo = {str(n).upper() for n in getattr(ta, "neo_substrates", ()) or ()}
        if tgt == gene.upper() or gene.upper() in neo:
            hits.append(ta)
    return hits


def _user_folds(
    fold: FoldLike | None, func: str
) -> tuple[float | None, dict[tuple[str, int, str], float]]:
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


def _check_fold(v: Any, func: str, what: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): {what} must be a number > 0, got {v!r}") from None
    if not (math.isfinite(f) and f > 0):
        raise InvalidInputError(f"{func}(): {what} must be finite and > 0, got {v!r}")
    return f


def unique_mutations(mutations: Iterable[Mutation], func: str = "potency_shifts") -> list[Mutation]:
    """Parsed mutations with exact duplicates merged (first one kept, order kept).

    The same mutation given twice -- in any notation or numbering scheme (``PSMB5 A49T`` and
    ``PSMB5 A108T precursor``), or once in a context and again on the command line -- is one
    mutation: its fold applies once, not squared. The same mutation with two different
    user folds (``x20`` and ``x5``, or ``x20`` and none) is refused: which one is meant is
    unclear. Different mutations of one target still multiply (see :func:`potency_shifts`).
    """
    seen: dict[tuple[str, int, str], Mutation] = {}
    out: list[Mutation] = []
    for m in mutations:
        key = (m.gene, m.uniprot_position(), m.mt)
        if key in seen:
            if seen[key].fold != m.fold:

                def shown(x: Mutation) -> str:
                    return f"{x} x{x.fold:g}" if x.fold is not None else f"{x} (documented fold)"

                raise MutationError(
                    f"{func}(): mutation {seen[key]} is given twice with different "
                    f"folds: {shown(seen[key])} and {shown(m)}; give it once"
                )
            continue
        seen[key] = m
        out.append(m)
    return out


def potency_shifts(
    mutations: str | Mutation | Iterable[str | Mutation],
    drugs: DrugsLike | None = None,
    fold: FoldLike | None = None,
) -> PotencyShifts:
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
        raise InvalidInputError(
            f"{func}(): mutations must be a mutation text or an iterable of "
            f"them, got {type(mutations).__name__}"
        ) from None
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
            affected: list[tuple[str, Drug | None]] = [(n, None) for n in names]
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
                    where = (
                        f"in the known binding site(s) {', '.join(s.name for s in sites)}"
                        if sites
                        else "outside any known binding site"
                    )
                    if any(k.folds for k in documented):
                        qual = (
                            f"; the registry records it for other drugs "
                            f"({', '.join(sorted({d for k in documented for d in k.folds}))})"
                        )
                    elif documented:
                        qual = (
                            f"; documented without a fold: {documented[0].effect} "
                            f"({', '.join(documented[0].sources)})"
                        )
                    else:
                        qual = ""
                    msg = (
                        f"{m} ({m.scheme} numbering) is {where}; no documented potency shift "
                        f"for {name}{qual}: fold 1.0 assumed (set one with '{m} x<fold>')"
                    )
                    out.warnings.append(msg)
                    warnings.warn(msg, MutationWarning, stacklevel=2)
            cur = out.setdefault(name, {})
            cur[m.gene] = cur.get(m.gene, 1.0) * f
            out.details.append(
                {
                    "drug": name,
                    "target": m.gene,
                    "mutation": str(m),
                    "scheme": m.scheme,
                    "fold": f,
                    "basis": basis,
                    "sources": srcs,
                }
            )
        if not affected:
            msg = f"{m}: no drug in the given set acts on {m.gene}; nothing shifted"
            out.warnings.append(msg)
    return out
