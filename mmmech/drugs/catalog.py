"""Reading the drug library: the bundled ``structures/drugs.toml`` and any document in its format.

Every number needs a unit and a source identifier; the message of a rejected document names the
drug and the field. :func:`library` is the bundled library (cached per process); :func:`get`
and :func:`names` look into it.

Examples
--------
>>> get("Velcade").name
'bortezomib'
>>> "revlimid" in library()
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, cast

from ..exceptions import InvalidInputError, ModelFileError, UnitError, UnknownDrugError
from ..resources import data_file, parse_toml
from ..sources import describe_expected, is_source
from ..units import to_nM
from ..utils import did_you_mean
from .records import (
    ACTIONS,
    DRUG_CLASSES,
    DRUG_TYPES,
    EFFECTORS,
    NOMINAL_UNIT,
    POTENCY_UNITS,
    BindingKinetics,
    CellularPotency,
    Drug,
    FractionUnbound,
    Potency,
    Reference,
    TargetAction,
)

__all__ = ["read_library", "library", "names", "get"]

_M = TypeVar("_M", Potency, CellularPotency, Reference)


def _err(origin: str, where: str, msg: str) -> ModelFileError:
    return ModelFileError(f"{origin}: {where}: {msg}")


def _number(x: Any, origin: str, where: str, key: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise _err(origin, where, f"'{key}' must be a number, got {x!r}")
    x = float(x)
    if not math.isfinite(x) or x <= 0:
        raise _err(origin, where, f"'{key}' must be finite and > 0, got {x!r}")
    return x


def _text(
    d: Mapping[str, Any],
    key: str,
    origin: str,
    where: str,
    required: bool = True,
    default: str = "",
) -> str:
    v = d.get(key, None)
    if v is None:
        if required:
            raise _err(origin, where, f"missing '{key}'")
        return default
    if not isinstance(v, str) or (required and not v.strip()):
        raise _err(origin, where, f"'{key}' must be a non-empty string, got {v!r}")
    return v.strip()


def _kinetics(d: Any, origin: str, where: str) -> BindingKinetics:
    """``kinetics = {kind, half_life_h, source, ...}`` of a [[drug.target]]."""
    w = f"{where} kinetics"
    if not isinstance(d, Mapping):
        raise _err(origin, w, "expected a table")
    allowed = {"kind", "half_life_h", "low_h", "high_h", "source", "measured", "derived", "note"}
    allowed |= {"verified", "capture_per_nM_h", "formation_h", "exposure_h", "held_exposure_h"}
    extra = set(d) - allowed
    if extra:
        raise _err(origin, w, f"unknown key(s) {sorted(extra)}; allowed: {sorted(allowed)}")
    kind = d.get("kind")
    if kind not in ("reversible", "covalent", "damage"):
        raise _err(
            origin, w, f"kind must be 'reversible' or 'covalent' (or 'damage'), got {kind!r}"
        )
    damage_keys = ("formation_h", "exposure_h", "held_exposure_h")
    if kind != "damage" and any(k in d for k in damage_keys):
        raise _err(origin, w, f"{', '.join(damage_keys)} are for kind = 'damage' only")
    if kind == "damage":
        for k in ("formation_h", "exposure_h"):
            if k not in d:
                raise _err(origin, w, f"kind = 'damage' needs {k!r}")
    vals: dict[str, float | None] = {}
    for k in ("half_life_h", "low_h", "high_h", *damage_keys):
        v = d.get(k)
        if v is None and k != "half_life_h":
            vals[k] = None
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0):
            raise _err(origin, w, f"{k} must be a number of hours > 0, got {v!r}")
        vals[k] = float(v)
    if "source" not in d:
        raise _err(origin, w, "missing 'source'")
    src = _check_source(d["source"], origin, w)
    cap = d.get("capture_per_nM_h")
    if cap is not None:
        if kind != "covalent":
            raise _err(origin, w, "capture_per_nM_h is for kind = 'covalent' only")
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not (0 < cap < math.inf):
            raise _err(origin, w, f"capture_per_nM_h must be a number > 0 (1/(nM h)), got {cap!r}")
    return BindingKinetics(
        kind=str(kind),
        half_life_h=float(vals["half_life_h"] or 0.0),
        source=src,
        low_h=vals["low_h"],
        high_h=vals["high_h"],
        measured=str(d.get("measured", "")),
        derived=bool(d.get("derived", False)),
        note=str(d.get("note", "")),
        verified=bool(d.get("verified", True)),
        capture_per_nM_h=None if cap is None else float(cap),
        formation_h=vals["formation_h"],
        exposure_h=vals["exposure_h"],
        held_exposure_h=vals["held_exposure_h"],
    )


def _effectors(
    t: Mapping[str, Any], action: str, origin: str, where: str
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """Read the optional ``effectors`` / ``effectors_sources`` / ``effectors_note`` keys of one
    library target; returns ``(tuple or None, tuple of sources)``."""
    keys = {"effectors", "effectors_sources", "effectors_note"} & set(t)
    if not keys:
        return None, ()
    if action != "bind_and_recruit_effectors":
        raise _err(
            origin,
            where,
            f"{sorted(keys)} belong to bind_and_recruit_effectors only, got action {action!r}",
        )
    eff = t.get("effectors")
    if not isinstance(eff, list) or not eff or not all(isinstance(e, str) for e in eff):
        raise _err(
            origin,
            where,
            f"'effectors' must be a non-empty list of {', '.join(EFFECTORS)}, got {eff!r}",
        )
    for e in eff:
        if e not in EFFECTORS:
            raise _err(
                origin,
                where,
                f"effector {e!r} is not one of {', '.join(EFFECTORS)}{did_you_mean(e, EFFECTORS)}",
            )
    if len(set(eff)) != len(eff):
        raise _err(origin, where, f"'effectors' lists an effector twice: {eff!r}")
    srcs = t.get("effectors_sources")
    if not isinstance(srcs, list) or not srcs:
        raise _err(
            origin,
            where,
            "'effectors' needs 'effectors_sources' (a non-empty list of "
            "source identifiers such as PMID:<digits>)",
        )
    for s in srcs:
        if not is_source(s.strip() if isinstance(s, str) else s):
            raise _err(origin, where, f"effectors source {s!r}: {describe_expected()}")
    if "effectors_note" in t:
        _text(t, "effectors_note", origin, where)
    order = [e for e in EFFECTORS if e in eff]
    return tuple(order), tuple(s.strip() for s in srcs)


def _check_source(src: Any, origin: str, where: str) -> str:
    if not is_source(src.strip() if isinstance(src, str) else src):
        raise _err(origin, where, f"{describe_expected()}, got {src!r}")
    return src.strip()


def _measure(d: Any, origin: str, where: str, cls: type[_M], label_key: str) -> _M:
    """Build a Potency, CellularPotency or Reference from its TOML table, checking unit and
    source."""
    if not isinstance(d, Mapping):
        raise _err(origin, where, f"expected a table, got {d!r:.60}")
    allowed = {"value", "unit", label_key, "source", "low", "high", "note", "verified"}
    if cls is CellularPotency:
        allowed.add("cell_line")
    extra = set(d) - allowed
    if extra:
        raise _err(origin, where, f"unknown key(s) {sorted(extra)}; allowed: {sorted(allowed)}")
    value = _number(d.get("value"), origin, where, "value") if "value" in d else None
    if value is None:
        raise _err(origin, where, "missing 'value'")
    unit = d.get("unit")
    if not unit:
        raise _err(origin, where, "missing 'unit' (every number needs one)")
    if unit not in POTENCY_UNITS:
        raise _err(
            origin, where, f"unknown unit {unit!r}; expected one of {', '.join(POTENCY_UNITS)}"
        )
    if "source" not in d:
        raise _err(origin, where, "missing 'source' (a source identifier such as PMID:<digits>)")
    source = _check_source(d["source"], origin, where)
    label = _text(d, label_key, origin, where)
    low = _number(d["low"], origin, where, "low") if "low" in d else None
    high = _number(d["high"], origin, where, "high") if "high" in d else None
    if low is not None and low > value * (1 + 1e-12):
        raise _err(origin, where, f"low ({low}) is above value ({value})")
    if high is not None and high < value * (1 - 1e-12):
        raise _err(origin, where, f"high ({high}) is below value ({value})")
    verified = d.get("verified", True)
    if not isinstance(verified, bool):
        raise _err(origin, where, f"'verified' must be true or false, got {verified!r}")
    note = d.get("note", "")
    if not isinstance(note, str):
        raise _err(origin, where, f"'note' must be a string, got {note!r:.40}")
    if cls is CellularPotency:
        cell_line = _text(d, "cell_line", origin, where)
        made = CellularPotency(
            value, unit, label, source, low, high, note.strip(), verified, cell_line
        )
        return cast(_M, made)
    return cls(value, unit, label, source, low, high, note.strip(), verified)


def _fraction_unbound(d: Any, origin: str, where: str) -> FractionUnbound:
    """Build the plasma fraction unbound from its TOML table: a number in (0, 1] with a source."""
    if not isinstance(d, Mapping):
        raise _err(origin, where, f"expected a table, got {d!r:.60}")
    allowed = {"value", "source", "low", "high", "note", "verified"}
    extra = set(d) - allowed
    if extra:
        raise _err(origin, where, f"unknown key(s) {sorted(extra)}; allowed: {sorted(allowed)}")
    if "value" not in d:
        raise _err(origin, where, "missing 'value'")
    bounds = {}
    for key in ("value", "low", "high"):
        if key in d:
            x = _number(d[key], origin, where, key)
            if x > 1:
                raise _err(
                    origin, where, f"'{key}' is a fraction unbound, expected in (0, 1], got {x!r}"
                )
            bounds[key] = x
    value = bounds["value"]
    low, high = bounds.get("low"), bounds.get("high")
    if low is not None and low > value * (1 + 1e-12):
        raise _err(origin, where, f"low ({low}) is above value ({value})")
    if high is not None and high < value * (1 - 1e-12):
        raise _err(origin, where, f"high ({high}) is below value ({value})")
    if "source" not in d:
        raise _err(origin, where, "missing 'source' (a source identifier such as PMID:<digits>)")
    source = _check_source(d["source"], origin, where)
    verified = d.get("verified", True)
    if not isinstance(verified, bool):
        raise _err(origin, where, f"'verified' must be true or false, got {verified!r}")
    note = d.get("note", "")
    if not isinstance(note, str):
        raise _err(origin, where, f"'note' must be a string, got {note!r:.40}")
    return FractionUnbound(value, source, low, high, note.strip(), verified)


def _to_nM(
    measure: Potency | Reference, mol_weight: float | None, origin: str, where: str
) -> float:
    if measure.unit == NOMINAL_UNIT:
        return float(measure.value)
    try:
        return to_nM(measure.value, measure.unit, mol_weight, what=f"{origin}: {where}")
    except UnitError as exc:
        raise ModelFileError(str(exc)) from None


def _build_drug(d: Any, origin: str, index: int) -> Drug:
    where0 = f"drug #{index + 1}"
    if not isinstance(d, Mapping):
        raise _err(origin, where0, "expected a [[drug]] table")
    name = _text(d, "name", origin, where0)
    where = f"drug {name!r}"
    if name != name.lower():
        raise _err(origin, where, "canonical names are lower-case")
    allowed = {
        "name",
        "synonyms",
        "type",
        "drug_class",
        "mechanism",
        "smiles",
        "structure_source",
        "structure_verified",
        "structure_note",
        "sources",
        "target",
        "reference",
        "mol_weight",
        "mol_weight_source",
        "mol_weight_verified",
        "fraction_unbound",
    }
    extra = set(d) - allowed
    if extra:
        raise _err(origin, where, f"unknown key(s) {sorted(extra)}")
    dtype = _text(d, "type", origin, where)
    if dtype not in DRUG_TYPES:
        raise _err(origin, where, f"type {dtype!r} is not one of {', '.join(DRUG_TYPES)}")
    dclass = _text(d, "drug_class", origin, where)
    if dclass not in DRUG_CLASSES or dclass == "unknown":
        raise _err(
            origin, where, f"drug_class {dclass!r} is not one of {', '.join(DRUG_CLASSES[:-1])}"
        )
    synonyms = d.get("synonyms", [])
    if not isinstance(synonyms, list) or not all(
        isinstance(s, str) and s.strip() for s in synonyms
    ):
        raise _err(origin, where, "'synonyms' must be a list of non-empty strings")
    sources = d.get("sources", [])
    if not isinstance(sources, list):
        raise _err(origin, where, "'sources' must be a list")
    sources = [_check_source(s, origin, where) for s in sources]

    smiles, inchikey, formula, mw, mw_source = None, None, None, None, ""
    if dtype == "small_molecule":
        smiles = _text(d, "smiles", origin, where)
        if "mol_weight" in d:
            raise _err(
                origin,
                where,
                "small molecules must not type 'mol_weight': RDKit computes it from the SMILES",
            )
        from . import _chem  # deferred: _chem imports RDKit (slow); only when a structure is needed

        try:
            mol = _chem.parse_smiles(smiles, "read_library", f"SMILES of {name!r}")
        except InvalidInputError as exc:
            raise ModelFileError(f"{origin}: {exc}") from None
        inchikey, formula, mw = _chem.inchikey(mol), _chem.formula(mol), _chem.mol_weight(mol)
        _text(d, "structure_source", origin, where)
    else:
        if "smiles" in d:
            raise _err(origin, where, f"a {dtype} has no SMILES")
        if dtype != "cell_therapy":
            mw = _number(d.get("mol_weight"), origin, where, "mol_weight")
            mw_source = _text(d, "mol_weight_source", origin, where)
        elif "mol_weight" in d:
            raise _err(origin, where, "cell therapies have no molecular weight")

    fu = None
    if "fraction_unbound" in d:
        if dtype == "cell_therapy":
            raise _err(origin, where, "cell therapies have no plasma fraction unbound")
        fu = _fraction_unbound(d["fraction_unbound"], origin, f"{where} fraction_unbound")

    targets = []
    raw_targets = d.get("target", [])
    if not isinstance(raw_targets, list) or not raw_targets:
        raise _err(origin, where, "needs at least one [[drug.target]]")
    for j, t in enumerate(raw_targets):
        tw = f"{where} target #{j + 1}"
        if not isinstance(t, Mapping):
            raise _err(origin, tw, "expected a table")
        extra = set(t) - {
            "target",
            "action",
            "potency",
            "cellular",
            "hill",
            "e3",
            "neo_substrates",
            "effectors",
            "effectors_sources",
            "effectors_note",
            "kinetics",
        }
        if extra:
            raise _err(origin, tw, f"unknown key(s) {sorted(extra)}")
        symbol = _text(t, "target", origin, tw)
        tw = f"{where} target {symbol!r}"
        action = _text(t, "action", origin, tw)
        if action not in ACTIONS:
            raise _err(origin, tw, f"action {action!r} is not one of {', '.join(ACTIONS)}")
        if "potency" not in t:
            raise _err(origin, tw, "missing 'potency'")
        pot = _measure(t["potency"], origin, f"{tw} potency", Potency, "assay")
        if pot.unit == NOMINAL_UNIT and action != "car_t_kill":
            raise _err(origin, tw, f"unit {NOMINAL_UNIT!r} is reserved for car_t_kill")
        cell = None
        if "cellular" in t:
            cell = _measure(t["cellular"], origin, f"{tw} cellular", CellularPotency, "assay")
            if cell.unit == NOMINAL_UNIT:
                raise _err(
                    origin,
                    tw,
                    f"a cellular potency needs a concentration unit, not {NOMINAL_UNIT!r}",
                )
        used = pot if cell is None else cell
        hill = _number(t.get("hill", 1.0), origin, tw, "hill")
        e3 = t.get("e3")
        neo = t.get("neo_substrates", [])
        if action == "glue_degrade":
            if not e3 or not neo:
                raise _err(origin, tw, "glue_degrade needs 'e3' and 'neo_substrates'")
        elif e3 is not None or neo:
            raise _err(origin, tw, "'e3'/'neo_substrates' belong to glue_degrade only")
        effectors, eff_sources = _effectors(t, action, origin, tw)
        targets.append(
            TargetAction(
                symbol,
                action,
                _to_nM(used, mw, origin, f"{tw} {'potency' if cell is None else 'cellular'}"),
                pot,
                hill,
                e3,
                tuple(neo),
                effectors=effectors,
                effectors_sources=eff_sources,
                cellular=cell,
                potency_basis="biochemical" if cell is None else "cellular",
                kinetics=_kinetics(t["kinetics"], origin, tw) if "kinetics" in t else None,
            )
        )
    if "reference" not in d:
        raise _err(origin, where, "missing [drug.reference]")
    ref = _measure(d["reference"], origin, f"{where} reference", Reference, "kind")
    ref_nM = _to_nM(ref, mw, origin, f"{where} reference")
    all_sources = list(
        dict.fromkeys(
            sources
            + [s for t in targets for s in (t.potency.source, getattr(t.cellular, "source", None))]
            + [ref.source]
            + ([] if fu is None else [fu.source])
        )
    )
    all_sources = [s for s in all_sources if s]
    return Drug(
        name=name,
        synonyms=tuple(s.strip() for s in synonyms),
        type=dtype,
        drug_class=dclass,
        mechanism=_text(d, "mechanism", origin, where),
        smiles=smiles,
        inchikey=inchikey,
        formula=formula,
        mol_weight=mw,
        targets=tuple(targets),
        reference=ref,
        reference_nM=ref_nM,
        sources=tuple(all_sources),
        structure_source=d.get("structure_source", ""),
        structure_note=d.get("structure_note", ""),
        structure_verified=bool(d.get("structure_verified", False)),
        mol_weight_source=mw_source,
        fraction_unbound=fu,
    )


def read_library(text: str, origin: str = "drugs.toml") -> Mapping[str, Drug]:
    """Parse and validate a drug-library TOML document.

    Parameters
    ----------
    text : str
        TOML text in the format of ``structures/drugs.toml``.
    origin : str
        Names the document in error messages.

    Returns
    -------
    Mapping[str, Drug]
        Read-only, case-insensitive; synonyms resolve to their drug.

    Raises
    ------
    ModelFileError
        Invalid TOML, a missing unit or source, an unknown action, a duplicate name, an
        invalid SMILES, ... (the message names the drug and the field).
    """
    data = parse_toml(text, origin)
    entries = data.get("drug")
    if not isinstance(entries, list) or not entries:
        raise ModelFileError(f"{origin}: no [[drug]] tables")
    drugs = [_build_drug(d, origin, i) for i, d in enumerate(entries)]
    return _Library(drugs, origin)


class _Library(Mapping[str, Drug]):
    """Read-only, case-insensitive mapping name -> Drug; synonyms resolve; iterates names."""

    def __init__(self, drugs: Iterable[Drug], origin: str = "library") -> None:
        drugs = list(drugs)
        table: dict[str, Drug] = {}
        self._alias: dict[str, str] = {}
        for drug in drugs:
            if drug.name in table:
                raise ModelFileError(f"{origin}: duplicate drug name {drug.name!r}")
            table[drug.name] = drug
        for drug in drugs:
            for alias in (drug.name, *drug.synonyms):
                key = alias.casefold()
                other = self._alias.get(key)
                if other is not None and other != drug.name:
                    raise ModelFileError(
                        f"{origin}: name {alias!r} is used by both {other!r} and {drug.name!r}"
                    )
                self._alias[key] = drug.name
        self._drugs: Mapping[str, Drug] = MappingProxyType(table)

    def _resolve(self, key: object) -> str | None:
        if not isinstance(key, str):
            return None
        return self._alias.get(" ".join(key.split()).casefold())

    def __getitem__(self, key: str) -> Drug:
        name = self._resolve(key)
        if name is None:
            raise UnknownDrugError(
                f"unknown drug {key!r}{did_you_mean(key, list(self._alias_display()))} "
                f"(see 'mmmech drugs list')"
            )
        return self._drugs[name]

    def _alias_display(self) -> Iterator[str]:
        for drug in self._drugs.values():
            yield drug.name
            yield from drug.synonyms

    def __contains__(self, key: object) -> bool:
        return self._resolve(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._drugs)

    def __len__(self) -> int:
        return len(self._drugs)

    def __repr__(self) -> str:
        return f"<drug library: {len(self)} drugs>"


@functools.lru_cache(maxsize=1)
def library() -> Mapping[str, Drug]:
    """The bundled myeloma drug library (cached per process).

    Returns
    -------
    Mapping[str, Drug]
        Read-only and case-insensitive; synonyms (brand names, codes) resolve; iteration
        yields canonical names. Building it computes formulas and molecular weights with RDKit.
    """
    res = data_file("structures", "drugs.toml")
    return read_library(res.read_text(encoding="utf-8"), "structures/drugs.toml")


def names() -> list[str]:
    """Canonical names of the library drugs, in library order."""
    return list(library())


def get(name: str) -> Drug:
    """The library drug called `name` (case-insensitive; synonyms accepted).

    Raises
    ------
    UnknownDrugError
        With the closest known names.
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownDrugError(f"get(): expected a drug name, got {name!r}")
    return library()[name]
