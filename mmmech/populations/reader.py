"""Parsing and validation of population files; every error is one line naming file and field."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from .._readonly import ReadOnlyDict
from ..exceptions import ModelFileError
from ..resources import list_data, load_toml, parse_toml
from ..sources import describe_expected, is_source
from ..utils import did_you_mean
from .records import (
    TUMOUR_SCALES,
    UNCHECKED,
    BodySpec,
    Distribution,
    Eligibility,
    Feature,
    Group,
    Isotypes,
    Member,
    Population,
    Provenance,
    TumourSpec,
)

__all__ = [
    "read_population",
    "read_eligibility",
    "known_contexts",
    "known_nodes",
    "ISOTYPES",
    "DISTRIBUTIONS",
]

#: isotype names a population may use
ISOTYPES = ("IgG", "IgA", "light_chain", "nonsecretory", "other")
#: distribution kinds of continuous properties
DISTRIBUTIONS = ("fixed", "normal", "lognormal", "uniform", "bands")
#: how far a declared sum may be from its target (rounding in the data files)
SUM_TOLERANCE = 1e-6

_PROV = ("sources", "verified", "reference", "modelling_choice", "note")
_DIST = (
    "distribution",
    "value",
    "mean",
    "sd",
    "median",
    "cv",
    "low",
    "high",
    "bounds",
    "bands",
    "unit",
)
#: how `low`/`high` bound a normal or lognormal draw
BOUNDS = ("truncate", "clip")
_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_WHERE_TABLE = re.compile(r"^\[([A-Za-z0-9_.\-]+)\]$")
_QUOTED = re.compile(r"'([A-Za-z0-9_\-]+)'")
_TOP = (
    "population",
    "group",
    "feature",
    "isotype",
    "m_protein",
    "age",
    "body",
    "crcl",
    "levels",
    "tumour",
    "labs",
    "eligibility",
    "resistance",
)
#: fields of an eligibility table (``[eligibility]`` or a trial's table of trials/enrolment.toml)
ELIGIBILITY_KEYS = ("measurable", "exclude", "require", *_PROV)
#: the largest serum M-protein threshold accepted (g/dL; a plausibility bound of the input)
MAX_MEASURABLE_G_DL = 20.0

#: baseline laboratory values a population may sample (``[labs.NAME]``): the patient's
#: :class:`~mmmech.populations.records.Health` field each sets and the largest value accepted
#: (the bounds of a patient file's ``[health]`` table)
LABS: dict[str, tuple[str, float]] = {
    "platelets": ("platelets_10e9_L", 2000.0),
    "anc": ("anc_10e9_L", 100.0),
}


@functools.cache
def known_contexts() -> tuple[str, ...]:
    """Names of the bundled contexts (``pathways/contexts/*.toml``)."""
    return tuple(n[: -len(".toml")] for n in list_data("contexts"))


@functools.cache
def known_nodes() -> tuple[str, ...]:
    """Node names of the bundled model (levels may be set on any of them)."""
    model = load_toml("pathways", "myeloma.toml")
    return tuple(str(n["name"]) for n in model.get("node", []))


@functools.cache
def level_ceiling(node: str) -> float:
    """The largest relative level the bundled model accepts for `node` at its baseline: a level
    multiplies the baseline y0 of a node without a rule and the ceiling ymax of one with a rule,
    and the product must stay <= 1 (``mmmech.simulation.Simulator``); ``inf`` for a baseline 0."""
    model = load_toml("pathways", "myeloma.toml")
    spec = next(n for n in model.get("node", []) if n.get("name") == node)
    base = float(spec.get("ymax", 1.0)) if spec.get("rule") else float(spec.get("y0", 0.0))
    return math.inf if base <= 0 else 1.0 / base


class _Check:
    def __init__(self, origin: str, text: str = "") -> None:
        self.origin = origin
        # (table, key) -> line, for the single tables ([m_protein], [levels.NODE], ...); the
        # arrays of tables ([[group]], [[feature]]) are named in errors by their name instead
        self.lines: dict[tuple[str, str], int] = {}
        table = ""
        for n, line in enumerate(text.splitlines(), start=1):
            m = _HEADER.match(line)
            if m:
                table = m.group(1)
                self.lines.setdefault((table, ""), n)
                continue
            k = _KEY.match(line)
            if k and table:
                self.lines.setdefault((table, k.group(1)), n)

    def error(self, where: str, msg: str) -> ModelFileError:
        origin = self.origin
        m = _WHERE_TABLE.match(where)
        if m:
            table = m.group(1)
            keys = [k for k in _QUOTED.findall(msg) if (table, k) in self.lines]
            line = self.lines.get((table, keys[0])) if keys else self.lines.get((table, ""))
            if line:
                origin = f"{origin}, line {line}"
        return ModelFileError(f"{origin}: {where}: {msg}")

    def table(self, v: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(v, Mapping):
            raise self.error(where, f"expected a table, got {type(v).__name__}")
        return v

    def keys(self, d: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for k in d:
            if k not in allowed:
                raise self.error(
                    where,
                    f"'{k}' is not a known field (expected one of {', '.join(allowed)})"
                    f"{did_you_mean(k, allowed)}",
                )

    def text(self, d: Mapping[str, Any], key: str, where: str, required: bool = False) -> str:
        v = d.get(key)
        if v is None:
            if required:
                raise self.error(where, f"missing '{key}' (expected a string)")
            return ""
        if not isinstance(v, str) or (required and not v.strip()):
            raise self.error(where, f"'{key}' must be a non-empty string, got {v!r}")
        return v.strip()

    def number(self, d: Mapping[str, Any], key: str, where: str, positive: bool = False) -> float:
        v = d.get(key)
        if v is None:
            raise self.error(where, f"missing '{key}' (expected a number)")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.error(where, f"'{key}' must be a finite number, got {v!r}")
        if positive and v <= 0:
            raise self.error(where, f"'{key}' must be > 0, got {v!r}")
        return float(v)

    def optional(self, d: Mapping[str, Any], key: str, where: str) -> float | None:
        return None if d.get(key) is None else self.number(d, key, where)

    def probability(self, v: Any, key: str, where: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0.0 <= v <= 1.0):
            raise self.error(where, f"'{key}' must be a probability in [0, 1], got {v!r}")
        return float(v)

    def flag(self, d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        v = d.get(key, default)
        if not isinstance(v, bool):
            raise self.error(where, f"'{key}' must be true or false, got {v!r}")
        return v

    def provenance(
        self, d: Mapping[str, Any], where: str, inherited: Provenance | None = None
    ) -> Provenance:
        raw = d.get("sources", [])
        if not isinstance(raw, list):
            raise self.error(where, f"'sources' must be a list of source ids, got {raw!r}")
        for s in raw:
            if not is_source(s):
                raise self.error(where, f"'sources': {describe_expected()}; got {s!r}")
        prov = Provenance(
            sources=tuple(raw),
            verified=self.flag(d, "verified", where, True),
            reference=self.text(d, "reference", where),
            modelling_choice=self.flag(d, "modelling_choice", where, False),
            note=self.text(d, "note", where),
        )
        if prov.reference and not prov.sources and prov.verified:
            raise self.error(where, "a reference without source ids must say verified = false")
        if prov.modelling_choice and not prov.note:
            raise self.error(where, "modelling_choice = true needs a 'note' saying why")
        has = bool(prov.sources or prov.reference or prov.modelling_choice)
        if not has and inherited is None:
            raise self.error(
                where,
                "missing sources (give sources = [ids], a reference with verified = false, "
                "or modelling_choice = true with a note)",
            )
        return prov

    def contexts(self, d: Mapping[str, Any], where: str) -> tuple[str, ...]:
        v = d.get("contexts", [])
        if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
            raise self.error(where, f"'contexts' must be a list of context names, got {v!r}")
        known = known_contexts()
        for c in v:
            if c not in known:
                raise self.error(
                    where,
                    f"unknown context {c!r}{did_you_mean(c, known)} (bundled: {', '.join(known)})",
                )
        return tuple(v)

    def distribution(self, d: Any, where: str) -> Distribution:
        d = self.table(d, where)
        self.keys(d, _DIST + _PROV, where)
        kind = d.get("distribution")
        if kind not in DISTRIBUTIONS:
            raise self.error(
                where,
                f"'distribution' must be one of {', '.join(DISTRIBUTIONS)}, got {kind!r}"
                f"{did_you_mean(kind, DISTRIBUTIONS) if isinstance(kind, str) else ''}",
            )
        prov = self.provenance(d, where)
        low, high = self.optional(d, "low", where), self.optional(d, "high", where)
        if low is not None and high is not None and not low < high:
            raise self.error(where, f"'low' must be < 'high', got {low} and {high}")
        unit = self.text(d, "unit", where)
        bounds = d.get("bounds", "truncate")
        if bounds not in BOUNDS:
            raise self.error(
                where,
                f"'bounds' must be one of {', '.join(BOUNDS)}, got {bounds!r}"
                f"{did_you_mean(bounds, BOUNDS) if isinstance(bounds, str) else ''}",
            )
        if "bounds" in d and (
            kind not in ("normal", "lognormal") or (low is None and high is None)
        ):
            raise self.error(
                where, "'bounds' applies to a normal or lognormal distribution with 'low' or 'high'"
            )
        if kind == "fixed":
            return Distribution(
                "fixed", value=self.number(d, "value", where), unit=unit, provenance=prov
            )
        if kind == "normal":
            return Distribution(
                "normal",
                mean=self.number(d, "mean", where),
                sd=self.number(d, "sd", where, positive=True),
                low=low,
                high=high,
                unit=unit,
                provenance=prov,
                bounds=bounds,
            )
        if kind == "lognormal":
            if low is not None and low <= 0:
                raise self.error(where, f"'low' of a lognormal must be > 0, got {low}")
            median = self.number(d, "median", where, positive=True)
            if (low is not None and median < low) or (high is not None and median > high):
                raise self.error(
                    where, f"'median' {median:g} must lie within 'low' and 'high' ({low}, {high})"
                )
            return Distribution(
                "lognormal",
                median=median,
                cv=self.number(d, "cv", where, positive=True),
                low=low,
                high=high,
                unit=unit,
                provenance=prov,
                bounds=bounds,
            )
        if kind == "uniform":
            if low is None or high is None:
                raise self.error(where, "a uniform distribution needs 'low' and 'high'")
            return Distribution("uniform", low=low, high=high, unit=unit, provenance=prov)
        rows = d.get("bands")
        if not isinstance(rows, list) or not rows:
            raise self.error(
                where, f"'bands' must be a list of [low, high, probability], got {rows!r}"
            )
        bands = []
        for row in rows:
            ok = (
                isinstance(row, list)
                and len(row) == 3
                and all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                    for x in row
                )
            )
            if not ok or not row[0] < row[1]:
                raise self.error(
                    where,
                    f"each band must be [low, high, probability] with low < high, got {row!r}",
                )
            bands.append((float(row[0]), float(row[1]), self.probability(row[2], "bands", where)))
        total = sum(b[2] for b in bands)
        if abs(total - 1.0) > 1e-3:
            raise self.error(where, f"band probabilities must sum to 1, got {total:.6g}")
        return Distribution("bands", bands=tuple(bands), unit=unit, provenance=prov)


def _members(chk: _Check, g: Mapping[str, Any], gwhere: str, gprov: Provenance) -> tuple:
    rows = g.get("member")
    if not isinstance(rows, list) or not rows:
        raise chk.error(gwhere, "needs at least one [[group.member]]")
    out = []
    names = set()
    for m in rows:
        m = chk.table(m, gwhere)
        name = chk.text(m, "name", f"{gwhere} member", required=True)
        where = f"{gwhere} member {name!r}"
        chk.keys(m, ("name", "contexts", "probability", "low", "high") + _PROV, where)
        if name in names:
            raise chk.error(where, "duplicate member name")
        names.add(name)
        inherit = gprov if (gprov.sources or gprov.reference or gprov.modelling_choice) else None
        out.append(
            Member(
                name=name,
                contexts=chk.contexts(m, where),
                probability=chk.probability(m.get("probability"), "probability", where),
                low=chk.optional(m, "low", where),
                high=chk.optional(m, "high", where),
                provenance=chk.provenance(m, where, inherited=inherit),
            )
        )
    return tuple(out)


def _level_range(d: Distribution) -> tuple[float, float]:
    """The smallest and largest value `d` can draw."""
    if d.kind == "fixed":
        return d.value, d.value
    if d.kind == "bands":
        return min(b[0] for b in d.bands), max(b[1] for b in d.bands)
    low = d.low if d.low is not None else (0.0 if d.kind == "lognormal" else -math.inf)
    return low, d.high if d.high is not None else math.inf


def _tumour(chk: _Check, raw: Any) -> TumourSpec:
    """The ``[tumour]`` table: ``[tumour.growth]`` and ``[tumour.sensitivity]`` multipliers
    (lognormal or fixed, > 0) and the correlation of their logarithms."""
    t = chk.table(raw, "[tumour]")
    chk.keys(t, (*TUMOUR_SCALES, "correlation", "correlation_note"), "[tumour]")
    dists: dict[str, Distribution | None] = {}
    for key in TUMOUR_SCALES:
        where = f"[tumour.{key}]"
        if key not in t:
            dists[key] = None
            continue
        dist = chk.distribution(t[key], where)
        if dist.kind not in ("lognormal", "fixed"):
            raise chk.error(
                where,
                f"'distribution' must be lognormal or fixed (a multiplier), got {dist.kind!r}",
            )
        if dist.kind == "fixed" and not dist.value > 0:
            raise chk.error(where, f"'value' must be > 0 (a multiplier), got {dist.value!r}")
        dists[key] = dist
    corr = t.get("correlation", 0.0)
    if isinstance(corr, bool) or not isinstance(corr, (int, float)) or not -1 < corr < 1:
        raise chk.error("[tumour]", f"'correlation' must be a number in (-1, 1), got {corr!r}")
    note = chk.text(t, "correlation_note", "[tumour]")
    if corr and not note:
        raise chk.error(
            "[tumour]",
            "a 'correlation' needs a 'correlation_note' with its source "
            "or the reason for the modelling choice",
        )
    if corr and not all(d is not None and d.kind == "lognormal" for d in dists.values()):
        raise chk.error(
            "[tumour]", "a 'correlation' needs lognormal [tumour.growth] and [tumour.sensitivity]"
        )
    return TumourSpec(dists["growth"], dists["sensitivity"], float(corr), note)


def _resistance(chk: _Check, raw: Any) -> Distribution | None:
    """The ``[resistance]`` table: the acquired-resistance rate lambda per day (lognormal, or
    fixed >= 0); None when the population has none."""
    if raw is None:
        return None
    dist = chk.distribution(raw, "[resistance]")
    if dist.kind not in ("lognormal", "fixed"):
        raise chk.error(
            "[resistance]",
            f"'distribution' must be lognormal or fixed (a rate per day), got {dist.kind!r}",
        )
    if dist.kind == "fixed" and not (math.isfinite(dist.value) and dist.value >= 0):
        raise chk.error("[resistance]", f"'value' must be >= 0 (per day), got {dist.value!r}")
    return dist


def _joint(chk: _Check, raw: Any, feature: Feature, earlier: list[Feature], where: str) -> Feature:
    """``[feature.joint]``: the share of patients with both this feature and the earlier
    feature ``with`` (the marginals stay the declared probabilities)."""
    jwhere = f"{where} [joint]"
    j = chk.table(raw, jwhere)
    chk.keys(j, ("with", "probability") + _PROV, jwhere)
    other = chk.text(j, "with", jwhere, required=True)
    names = [f.name for f in earlier]
    if other not in names:
        raise chk.error(
            jwhere,
            f"'with' must name a feature declared before {feature.name!r} "
            f"({', '.join(names) or 'none'}), got {other!r}{did_you_mean(other, names)}",
        )
    if any(f.joint_with == other for f in earlier):
        raise chk.error(jwhere, f"feature {other!r} already has a joint partner")
    pa = next(f.probability for f in earlier if f.name == other)
    pb = feature.probability
    p11 = chk.probability(j.get("probability"), "probability", jwhere)
    low, high = max(0.0, pa + pb - 1.0), min(pa, pb)
    if not low - SUM_TOLERANCE <= p11 <= high + SUM_TOLERANCE:
        raise chk.error(
            jwhere,
            f"'probability' of both {other!r} ({pa:g}) and {feature.name!r} ({pb:g}) must lie "
            f"in [{low:.6g}, {high:.6g}] (the bounds two such shares allow), got {p11:g}",
        )
    return dataclasses.replace(
        feature,
        joint_with=other,
        joint_probability=min(max(p11, low), high),
        joint_provenance=chk.provenance(j, jwhere),
        partner_probability=pa,
    )


def read_eligibility(
    chk: _Check, raw: Any, table: str, features: list[str] | tuple[str, ...]
) -> Eligibility:
    """An eligibility table (``[eligibility]`` of a population, or ``[TRIAL]`` of
    trials/enrolment.toml; `table` is its TOML name, for the line in errors): ``measurable``
    (isotype = smallest serum M-protein in g/dL, or ``"unchecked"``), ``exclude`` and
    ``require`` (feature names from `features`) and the provenance."""
    where = f"[{table}]"
    e = chk.table(raw, where)
    chk.keys(e, ELIGIBILITY_KEYS, where)
    prov = chk.provenance(e, where)
    mwhere = f"[{table}.measurable]"
    measurable: dict[str, float | str] = {}
    for iso, v in chk.table(e.get("measurable", {}), mwhere).items():
        if iso not in ISOTYPES:
            raise chk.error(
                mwhere,
                f"'{iso}' is not an isotype{did_you_mean(iso, ISOTYPES)} "
                f"(expected {', '.join(i for i in ISOTYPES if i != 'nonsecretory')})",
            )
        if iso == "nonsecretory":
            raise chk.error(
                mwhere,
                "'nonsecretory' patients have no M-protein the model can follow: leave the "
                "isotype out (not enrolled)",
            )
        if v == UNCHECKED:
            measurable[iso] = UNCHECKED
            continue
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or not 0 < v <= MAX_MEASURABLE_G_DL:
            raise chk.error(
                mwhere,
                f"'{iso}' must be a serum M-protein in g/dL in (0, {MAX_MEASURABLE_G_DL:g}] "
                f"or {UNCHECKED!r}, got {v!r}",
            )
        measurable[iso] = float(v)
    if "measurable" in e and not measurable:
        raise chk.error(where, "'measurable' must name at least one isotype")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("exclude", "require"):
        v = e.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise chk.error(where, f"'{key}' must be a list of feature names, got {v!r}")
        for x in v:
            if x not in features:
                raise chk.error(
                    where,
                    f"'{key}' names unknown feature {x!r}{did_you_mean(x, list(features))} "
                    f"(known: {', '.join(features)})",
                )
        lists[key] = tuple(dict.fromkeys(v))
    both = [x for x in lists["exclude"] if x in lists["require"]]
    if both:
        raise chk.error(where, f"'exclude' and 'require' both name {both[0]!r}")
    return Eligibility(
        measurable=ReadOnlyDict(measurable),
        exclude=lists["exclude"],
        require=lists["require"],
        provenance=prov,
        origin=chk.origin,
    )


def read_population(text: str, origin: str, expect_name: str | None = None) -> Population:
    """Parse and validate the TOML `text` of a population file (`origin` names it in errors,
    with the line for the fields of single tables such as ``[levels.NODE]``)."""
    doc = parse_toml(text, origin)
    chk = _Check(origin, text)
    chk.keys(doc, _TOP, "top level")
    for key in ("population", "isotype", "m_protein", "age", "body", "crcl"):
        if key not in doc:
            raise chk.error("top level", f"missing [{key}] table")
    head = chk.table(doc["population"], "[population]")
    chk.keys(head, ("name", "description", "setting", "note"), "[population]")
    name = chk.text(head, "name", "[population]", required=True)
    if expect_name is not None and name != expect_name:
        raise chk.error(
            "[population]", f"'name' must match the file name {expect_name!r}, got {name!r}"
        )
    seen: set[str] = set()

    groups = []
    for gi, g in enumerate(doc.get("group", [])):
        g = chk.table(g, f"group {gi + 1}")
        gname = chk.text(g, "name", f"group {gi + 1}", required=True)
        gwhere = f"group {gname!r}"
        chk.keys(g, ("name", "description", "total", "member") + _PROV, gwhere)
        gprov = chk.provenance(g, gwhere, inherited=Provenance())
        members = _members(chk, g, gwhere, gprov)
        total = sum(m.probability for m in members)
        declared = g.get("total")
        if declared is not None:
            declared = chk.probability(declared, "total", gwhere)
            if abs(total - declared) > SUM_TOLERANCE:
                raise chk.error(
                    gwhere,
                    f"member probabilities sum to {total:.6g}, not the declared total {declared:g}",
                )
        elif total > 1.0 + SUM_TOLERANCE:
            raise chk.error(
                gwhere,
                f"member probabilities sum to {total:.6g} > 1 (members are mutually exclusive)",
            )
        for m in members:
            if m.name in seen:
                raise chk.error(gwhere, f"name {m.name!r} is used twice in the file")
            seen.add(m.name)
        groups.append(Group(gname, chk.text(g, "description", gwhere), members, declared, gprov))

    features: list[Feature] = []
    for fi, f in enumerate(doc.get("feature", [])):
        f = chk.table(f, f"feature {fi + 1}")
        fname = chk.text(f, "name", f"feature {fi + 1}", required=True)
        where = f"feature {fname!r}"
        chk.keys(f, ("name", "contexts", "probability", "low", "high", "joint") + _PROV, where)
        if fname in seen:
            raise chk.error(where, f"name {fname!r} is used twice in the file")
        seen.add(fname)
        feature = Feature(
            name=fname,
            contexts=chk.contexts(f, where),
            probability=chk.probability(f.get("probability"), "probability", where),
            low=chk.optional(f, "low", where),
            high=chk.optional(f, "high", where),
            provenance=chk.provenance(f, where),
        )
        if "joint" in f:
            feature = _joint(chk, f["joint"], feature, features, where)
        features.append(feature)

    iso = chk.table(doc["isotype"], "[isotype]")
    chk.keys(iso, ("shares",) + _PROV, "[isotype]")
    shares = iso.get("shares")
    if not isinstance(shares, Mapping) or not shares:
        raise chk.error("[isotype]", f"'shares' must be a table of isotype = share, got {shares!r}")
    for k, v in shares.items():
        if k not in ISOTYPES:
            raise chk.error(
                "[isotype]",
                f"unknown isotype {k!r}{did_you_mean(k, ISOTYPES)} "
                f"(expected {', '.join(ISOTYPES)})",
            )
        chk.probability(v, f"shares.{k}", "[isotype]")
    total = sum(float(v) for v in shares.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise chk.error("[isotype]", f"'shares' must sum to 1, got {total:.6g}")
    isotype = Isotypes(
        ReadOnlyDict({k: float(v) for k, v in shares.items()}), chk.provenance(iso, "[isotype]")
    )

    body = chk.table(doc["body"], "[body]")
    chk.keys(body, ("weight", "height", "correlation", "bsa_formula", "correlation_note"), "[body]")
    for key in ("weight", "height"):
        if key not in body:
            raise chk.error("[body]", f"missing [body.{key}] table")
    corr = body.get("correlation", 0.0)
    if isinstance(corr, bool) or not isinstance(corr, (int, float)) or not -1 < corr < 1:
        raise chk.error("[body]", f"'correlation' must be a number in (-1, 1), got {corr!r}")
    formula = body.get("bsa_formula", "mosteller")
    if formula not in ("mosteller", "dubois"):
        raise chk.error("[body]", f"'bsa_formula' must be 'mosteller' or 'dubois', got {formula!r}")
    if corr and not chk.text(body, "correlation_note", "[body]"):
        raise chk.error(
            "[body]",
            "a 'correlation' needs a 'correlation_note' with its source "
            "or the reason for the modelling choice",
        )
    bodyspec = BodySpec(
        weight=chk.distribution(body["weight"], "[body.weight]"),
        height=chk.distribution(body["height"], "[body.height]"),
        correlation=float(corr),
        bsa_formula=formula,
        correlation_note=chk.text(body, "correlation_note", "[body]"),
    )
    for key in ("weight", "height"):
        if getattr(bodyspec, key).kind not in ("normal", "lognormal", "fixed"):
            raise chk.error(f"[body.{key}]", "must be a normal, lognormal or fixed distribution")

    levels: dict[str, Distribution] = {}
    raw_levels = chk.table(doc.get("levels", {}), "[levels]")
    nodes = known_nodes()
    for node, spec in raw_levels.items():
        if node not in nodes:
            raise chk.error(
                f"[levels.{node}]", f"unknown model node {node!r}{did_you_mean(node, nodes)}"
            )
        where = f"[levels.{node}]"
        dist = chk.distribution(spec, where)
        low, high = _level_range(dist)
        if low < 0:
            raise chk.error(
                where, f"a relative level must be >= 0: give 'low' >= 0 (lowest value {low:g})"
            )
        top = level_ceiling(node)
        if high > top + 1e-12:
            raise chk.error(
                where,
                f"'high' must be <= {math.floor(top * 1000) / 1000:g}, the largest level of "
                f"{node} the model accepts (its baseline times the level must stay <= 1); "
                f"the distribution reaches {high:g}",
            )
        levels[node] = dist

    labs: dict[str, Distribution] = {}
    for lab, spec in chk.table(doc.get("labs", {}), "[labs]").items():
        if lab not in LABS:
            raise chk.error(
                f"[labs.{lab}]",
                f"unknown laboratory value {lab!r}{did_you_mean(lab, tuple(LABS))} "
                f"(known: {', '.join(LABS)})",
            )
        where = f"[labs.{lab}]"
        dist = chk.distribution(spec, where)
        low, high = _level_range(dist)
        if not low > 0:
            raise chk.error(
                where, f"a cell count must be > 0: give 'low' > 0 (lowest value {low:g})"
            )
        top = LABS[lab][1]
        if high > top:
            raise chk.error(
                where, f"'high' must be <= {top:g} (10^9/L), the distribution reaches {high:g}"
            )
        if dist.unit and dist.unit != "10^9/L":
            raise chk.error(where, f"'unit' must be '10^9/L', got {dist.unit!r}")
        labs[lab] = dist

    eligibility = None
    if "eligibility" in doc:
        names = [m.name for g in groups for m in g.members] + [f.name for f in features]
        eligibility = read_eligibility(chk, doc["eligibility"], "eligibility", names)
    return Population(
        eligibility=eligibility,
        name=name,
        description=chk.text(head, "description", "[population]", required=True),
        setting=chk.text(head, "setting", "[population]"),
        note=chk.text(head, "note", "[population]"),
        groups=tuple(groups),
        features=tuple(features),
        isotype=isotype,
        m_protein=chk.distribution(doc["m_protein"], "[m_protein]"),
        age=chk.distribution(doc["age"], "[age]"),
        body=bodyspec,
        crcl=chk.distribution(doc["crcl"], "[crcl]"),
        levels=ReadOnlyDict(levels),
        labs=ReadOnlyDict(labs),
        origin=origin,
        tumour=_tumour(chk, doc.get("tumour", {})),
        resistance=_resistance(chk, doc.get("resistance")),
    )
