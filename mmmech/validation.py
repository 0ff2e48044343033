"""Validation against published in-vitro combination results in myeloma cells.

The table ``pathways/validation/invitro_combinations.toml`` (installed as package data) lists
published combination experiments in myeloma cells, each with the direction the paper reports
(``synergy``, ``additive`` or ``antagonism``), the mmmech context that matches the experiment
(``cell_line`` for cells alone, ``marrow`` for co-cultures with effector or stromal cells) and
the source it was read in. :func:`run` scores every entry with the model and compares.

Prediction
    :func:`mmmech.score` of the pair in the entry's context (with the entry's knockouts, which
    stand for the cells used, e.g. ``NR3C1`` for glucocorticoid-receptor-negative cells), on
    the default dose grid of ``mmmech score`` with :data:`POINTS` concentrations per drug
    (each drug's simulated EC10-EC90 in that context, or the 3-fold series around the library
    reference concentration for a drug inactive alone). The papers' concentrations are rarely
    stated in the texts read, so no entry sets its own grid. The predicted interaction is the
    summary Bliss score (SynergyFinder convention: percent inhibition, observed minus
    expected, mean over the wells where both drugs are present; positive = synergy).

Direction and agreement
    Predicted direction: ``synergy`` when Bliss > +:data:`THRESHOLD`, ``antagonism`` when
    Bliss < -:data:`THRESHOLD`, else ``additive`` (THRESHOLD = 2 percentage points: below
    that, a measured plate would not distinguish the interaction from additivity).

    * strict agreement: predicted direction == reported direction;
    * sign agreement: a reported synergy is matched by Bliss > :data:`NOISE` (0.1: smaller
      values are solver noise), a reported antagonism by Bliss < -NOISE, and a reported
      additive result by |Bliss| <= THRESHOLD (additivity has no sign, so the strict rule
      applies to it); a result reported as "additive or better" (``additive_or_better``) by
      any Bliss >= -THRESHOLD, under both rules.

    An entry whose assay measured effector killing (NK cytotoxicity, ADCC lysis) may set
    ``readout = "immune_killing"``: Bliss is then taken on the model's immune-killing readout
    (multiplicative independence on the killing itself, so positive = more killing than
    expected).

Knock-out that removes the predicted interaction
    For an entry whose predicted |Bliss| >= :data:`MIN_INTERACTION`, every node of the model
    is knocked out in turn (one batched kernel call on the same dose grid), except the
    readouts, the nodes the drugs attach to (their drug-input nodes and direct targets, whose
    loss only removes a drug) and a node whose knockout alone kills more than half of the
    untreated cells (:data:`KO_MIN_VIABILITY`: a floor, not a mechanism). Among the knockouts
    that remove at least half of the predicted interaction (|Bliss| at most
    :data:`REMOVE_FRACTION` of the intact model's), the one that leaves the two drugs most of
    their single-agent effects unchanged is reported (the interaction's own mechanism, rather than a
    shared executioner such as caspase-3 whose loss silences both drugs); when no knockout
    halves the interaction, the one that brings Bliss closest to 0. Reported: the node, the
    Bliss it leaves and how much of the single-agent effects it keeps (1 = unchanged).

No number of the model is tuned to this table; it is validation only (see the table's
``[meta]``).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import drugs as _drugs
from . import sources
from .exceptions import InvalidInputError, ModelFileError
from .network.contexts import load_context
from .resources import list_data, load_toml, parse_toml, read_text_file
from .scoring import ASSAY_HOURS, assay_cells, assay_model, check_assay_hours, score
from .simulation.propagate import steady_state
from .simulation.simulator import Simulator
from .synergy import _core

__all__ = [
    "Entry",
    "Row",
    "DIRECTIONS",
    "THRESHOLD",
    "NOISE",
    "READOUTS",
    "POINTS",
    "MIN_INTERACTION",
    "KO_MIN_VIABILITY",
    "REMOVE_FRACTION",
    "TABLE",
    "load_table",
    "table_meta",
    "classify",
    "agrees",
    "run",
    "summary",
    "to_markdown",
]

TABLE = "invitro_combinations.toml"
DIRECTIONS = ("synergy", "additive", "antagonism", "additive_or_better")
#: readouts an entry may be scored on: the model's viability (default), or its immune-killing
#: readout for assays that measure effector killing (NK cytotoxicity, ADCC lysis); a killing
#: readout rises with drug effect, so its Bliss is taken on the killing itself (sign flipped
#: relative to the inhibition of a viability readout)
READOUTS = ("viability", "immune_killing")
#: |Bliss| (percentage points) below which a predicted interaction is numerical noise (steady
#: states are solved to 1e-6): it matches neither a reported synergy nor a reported antagonism
NOISE = 0.1
#: Bliss (percentage points) above which a prediction counts as synergy, below minus it as
#: antagonism
THRESHOLD = 2.0
#: non-zero concentrations per drug in the dose grid (coarse: the harness scores ~40 entries)
POINTS = 3
#: predicted |Bliss| below which no knockout is searched (nothing to remove)
MIN_INTERACTION = 0.05
#: a knockout that alone leaves less than this fraction of untreated viability is not searched
KO_MIN_VIABILITY = 0.5
#: a knockout "removes" the interaction when it leaves at most this fraction of |Bliss|
REMOVE_FRACTION = 0.5

_REQUIRED = {
    "id": str,
    "drug_a": str,
    "drug_b": str,
    "context": str,
    "cells": str,
    "co_culture": str,
    "assay": str,
    "measure": str,
    "direction": str,
    "concentrations": str,
    "source": str,
    "verified": bool,
    "read_at": str,
}
_OPTIONAL = {"knockouts": list, "note": str, "readout": str}


@dataclass(frozen=True)
class Entry:
    """One published combination result (a ``[[combination]]`` of the table)."""

    id: str
    drug_a: str
    drug_b: str
    context: str
    cells: str
    co_culture: str
    assay: str
    measure: str
    direction: str
    concentrations: str
    source: str
    verified: bool
    read_at: str
    knockouts: tuple[str, ...] = ()
    note: str = ""
    readout: str = "viability"

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.drug_a, self.drug_b))


@dataclass
class Row:
    """The model's prediction for one entry (see the module docstring)."""

    id: str
    drug_a: str
    drug_b: str
    context: str
    knockouts: list[str]
    cells: str
    assay: str
    reported: str
    measure: str
    source: str
    verified: bool
    bliss: float
    predicted: str
    agree_strict: bool
    agree_sign: bool
    knockout: str | None
    knockout_bliss: float | None
    knockout_kept: float | None
    doses_nM: dict[str, list[float]]
    converged: bool
    bliss_low: float | None = None
    bliss_high: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------ the table
def _entry(raw: Any, origin: str, index: int) -> Entry:
    where = f"{origin}: combination {index + 1}"
    if not isinstance(raw, dict):
        raise ModelFileError(f"{where}: expected a table, got {type(raw).__name__}")
    if isinstance(raw.get("id"), str):
        where = f"{origin}: combination {raw['id']!r}"
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ModelFileError(
            f"{where}: unknown field(s) {unknown}; expected "
            f"{sorted(set(_REQUIRED) | set(_OPTIONAL))}"
        )
    for key, typ in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in raw:
            if key in _REQUIRED:
                raise ModelFileError(f"{where}: missing field {key!r}")
            continue
        if not isinstance(raw[key], typ):
            raise ModelFileError(
                f"{where}: field {key!r} must be {typ.__name__}, got {raw[key]!r:.60}"
            )
    if raw["direction"] not in DIRECTIONS:
        raise ModelFileError(
            f"{where}: direction must be one of {list(DIRECTIONS)}, got {raw['direction']!r}"
        )
    if not sources.is_source(raw["source"]):
        raise ModelFileError(
            f"{where}: source {raw['source']!r} is not a source identifier; "
            f"{sources.describe_expected()}"
        )
    if raw.get("readout", "viability") not in READOUTS:
        raise ModelFileError(
            f"{where}: readout must be one of {list(READOUTS)}, got {raw['readout']!r}"
        )
    knockouts = raw.get("knockouts", [])
    if not all(isinstance(k, str) for k in knockouts):
        raise ModelFileError(f"{where}: knockouts must be a list of node names")
    a = _drugs.get(raw["drug_a"]).name  # UnknownDrugError with close matches
    b = _drugs.get(raw["drug_b"]).name
    if a == b:
        raise ModelFileError(f"{where}: drug_a and drug_b are both {a!r}")
    load_context(raw["context"])  # UnknownContextError with close matches
    return Entry(
        id=raw["id"],
        drug_a=a,
        drug_b=b,
        context=raw["context"],
        cells=raw["cells"],
        co_culture=raw["co_culture"],
        assay=raw["assay"],
        measure=raw["measure"],
        direction=raw["direction"],
        concentrations=raw["concentrations"],
        source=raw["source"],
        verified=raw["verified"],
        read_at=raw["read_at"],
        knockouts=tuple(knockouts),
        note=raw.get("note", ""),
        readout=raw.get("readout", "viability"),
    )


def _parse(doc: dict[str, Any], origin: str) -> tuple[Entry, ...]:
    combos = doc.get("combination")
    if not isinstance(combos, list) or not combos:
        raise ModelFileError(f"{origin}: no [[combination]] entries")
    entries = tuple(_entry(raw, origin, i) for i, raw in enumerate(combos))
    seen: set[str] = set()
    for e in entries:
        if e.id in seen:
            raise ModelFileError(f"{origin}: combination id {e.id!r} is used twice")
        seen.add(e.id)
    return entries


@functools.lru_cache(maxsize=1)
def _bundled() -> tuple[tuple[Entry, ...], dict[str, Any]]:
    doc = load_toml("validation", TABLE)
    return _parse(doc, f"validation/{TABLE}"), dict(doc.get("meta", {}))


def load_table(path: str | os.PathLike[str] | None = None) -> list[Entry]:
    """The validation entries: the bundled table, or a table file of the same format.

    Every entry is checked: its fields, its direction, its source identifier
    (:mod:`mmmech.sources`), its drugs (library names or synonyms) and its context.

    Examples
    --------
    >>> rows = load_table()
    >>> rows[0].direction in DIRECTIONS
    True
    """
    if path is None:
        return list(_bundled()[0])
    text = read_text_file(path, "load_table")
    return list(_parse(parse_toml(text, os.fspath(path)), os.fspath(path)))


def table_meta() -> dict[str, Any]:
    """The bundled table's ``[meta]`` (what was searched, when, the no-tuning statement)."""
    return dict(_bundled()[1])


# ------------------------------------------------------------------ rules
def classify(bliss: float, threshold: float = THRESHOLD) -> str:
    """Direction of a predicted Bliss score: ``synergy`` above `threshold`, ``antagonism``
    below ``-threshold``, else ``additive``.

    >>> classify(5.0), classify(-0.5), classify(-3.0)
    ('synergy', 'additive', 'antagonism')
    """
    if not math.isfinite(bliss):
        return "undefined"
    if bliss > threshold:
        return "synergy"
    if bliss < -threshold:
        return "antagonism"
    return "additive"


def agrees(reported: str, bliss: float, threshold: float = THRESHOLD) -> tuple[bool, bool]:
    """``(strict, sign)`` agreement of a predicted Bliss score with a reported direction.

    >>> agrees("synergy", 1.0)
    (False, True)
    >>> agrees("additive", 1.0)
    (True, True)
    """
    if reported not in DIRECTIONS:
        raise InvalidInputError(
            f"agrees(): reported must be one of {list(DIRECTIONS)}, got {reported!r}"
        )
    strict = classify(bliss, threshold) == reported
    if not math.isfinite(bliss):
        return False, False
    if reported == "additive_or_better":
        # reported as "additive or better": any prediction that is not antagonism agrees
        ok = bliss >= -threshold
        return ok, ok
    if reported == "synergy":
        sign = bliss > NOISE
    elif reported == "antagonism":
        sign = bliss < -NOISE
    else:
        sign = abs(bliss) <= threshold
    return strict, sign


def _readout_sign(readout: str) -> float:
    """Sign that turns `score`'s Bliss on `readout` into the entry's Bliss: a killing readout
    rises with drug effect, so synergy of killing is a negative inhibition excess."""
    return -1.0 if readout == "immune_killing" else 1.0


# ------------------------------------------------------------------ knock-out search
def _candidates(sim: Simulator, entry: Entry) -> list[str]:
    cm = sim.compiled
    readouts = {cm.nodes[i] for i in cm.readouts.values()}
    drug_nodes = set(sim.attachment.extra_nodes)
    targets = {t.target for d in sim.drugs for t in d.targets}
    skip = readouts | drug_nodes | targets | set(entry.knockouts)
    return [n for n in cm.nodes if n not in skip]


def _knockout_search(
    model: Any,
    entry: Entry,
    grid: Sequence[np.ndarray],
    bliss0: float,
    readout: str = "viability",
    assay_hours: float | None = ASSAY_HOURS,
) -> tuple[str | None, float | None, float | None]:
    """``(node, Bliss with it knocked out, single-agent effect kept)`` (module docstring).

    With the cell-number readout (viability, `assay_hours`), a knockout is kept when its untreated
    culture holds at least KO_MIN_VIABILITY of the intact untreated one after the assay (intact
    growth and death scales); its grid is then scored as ``mmmech score --knockout`` scores it
    (its own untreated well sets the scales)."""
    sign = _readout_sign(readout)
    sim = Simulator(
        model, [entry.drug_a, entry.drug_b], context=entry.context, knockouts=entry.knockouts
    )
    cm = sim.compiled
    cands = _candidates(sim, entry)
    if not cands:
        return None, None, None
    shape = tuple(len(g) for g in grid)
    mesh = np.meshgrid(*grid, indexing="ij")
    conc = np.stack([m.ravel() for m in mesh], axis=1)
    G, K = conc.shape[0], len(cands)
    mask, value = sim.fixed_arrays(conc)
    res = sim.run(conc)
    cells = readout == "viability" and assay_hours is not None
    tm = assay_model(sim.context) if cells else None
    if tm is not None and assay_hours is not None:
        intact = assay_cells(
            {k: v[None, :] for k, v in res.readouts.items()}, assay_hours, tm
        ).reshape(shape)
    else:
        intact = res.readouts[readout].reshape(shape)
    mask = np.tile(mask, (K, 1))
    value = np.tile(value, (K, 1))
    for k, node in enumerate(cands):
        i = cm.index(node)
        mask[k * G : (k + 1) * G, i] = 1
        value[k * G : (k + 1) * G, i] = 0.0
    ss = steady_state(cm, mask, value)
    if tm is not None and assay_hours is not None:
        y = np.asarray(ss.y)
        ko = {k: y[:, i].reshape(K, G) for k, i in cm.readouts.items()}
        # kept: the knockout's untreated culture against the intact one (intact scales) ...
        base = {k: np.full(K, float(v[0])) for k, v in res.readouts.items()}
        first = {k: v[:, :1] for k, v in ko.items()}
        alone = assay_cells(first, assay_hours, tm, untreated=base)[:, 0]
        p0 = ko["proliferation"][:, 0]
        d0 = ko["apoptosis"][:, 0] + (ko["immune_killing"][:, 0] if "immune_killing" in ko else 0)
        keep = (alone >= KO_MIN_VIABILITY) & (p0 > 0) & (d0 > 0)
        if not keep.any():
            return None, None, None
        # ... and scored as `mmmech score --knockout` scores it: its own untreated well sets the
        # growth and death scales (so the table's knock-out Bliss is what score recomputes)
        flat = assay_cells({k: x[keep] for k, x in ko.items()}, assay_hours, tm)
        v0 = flat[:, 0]
        v = flat.reshape((-1,) + shape)
    else:
        v = np.asarray(ss.y)[:, cm.readouts[readout]].reshape((K,) + shape)
        v0 = v.reshape(K, -1)[:, 0]
        keep = v0 >= KO_MIN_VIABILITY * intact.flat[0]
        if not keep.any():
            return None, None, None
        v, v0 = v[keep], v0[keep]
    names = [n for n, ok in zip(cands, keep, strict=True) if ok]
    inhib = 100.0 * (1.0 - v / v0.reshape((-1,) + (1,) * len(shape)))
    out = _core.score_batch(list(grid), inhib, ["bliss"])
    bliss = sign * np.asarray(out.summary["bliss"], dtype=float)
    # single-agent effect kept: each drug's largest monotherapy inhibition under the knockout
    # against the intact one (the smaller of the two ratios, so a knockout that strengthens a
    # drug scores as low as one that weakens it); the lower of the two drugs
    base_inhib = 100.0 * (1.0 - intact / intact.flat[0])
    kept = np.ones(len(names))
    for ax in range(len(shape)):
        idx: list[int | slice] = [0] * len(shape)
        idx[ax] = slice(None)
        ref = float(np.max(np.abs(base_inhib[tuple(idx)])))
        if ref > 1e-6:
            mono = np.max(np.abs(inhib[(slice(None),) + tuple(idx)]), axis=1)
            # a knockout that strengthens a drug changes it as much as one that weakens it
            ratio = np.minimum(mono / ref, ref / np.maximum(mono, 1e-12))
            kept = np.minimum(kept, np.clip(ratio, 0.0, 1.0))
    ok = np.isfinite(bliss)
    if not ok.any():
        return None, None, None
    removing = ok & (np.abs(bliss) <= REMOVE_FRACTION * abs(bliss0))
    if removing.any():
        order = sorted(
            (-float(kept[j]), abs(float(bliss[j])), names[j], int(j))
            for j in np.flatnonzero(removing)
        )
    else:
        order = sorted(
            (abs(float(bliss[j])), -float(kept[j]), names[j], int(j)) for j in np.flatnonzero(ok)
        )
    best = order[0][-1]
    return names[best], float(bliss[best]), float(kept[best])


# ------------------------------------------------------------------ the run
def _predict(
    model: Any,
    entry: Entry,
    ensemble: int,
    seed: int,
    points: int,
    threshold: float,
    assay_hours: float | None = ASSAY_HOURS,
) -> Row:
    r = score(
        [entry.drug_a, entry.drug_b],
        model=model,
        context=entry.context,
        knockouts=entry.knockouts,
        metrics=["bliss"],
        ensemble=ensemble,
        seed=seed,
        points=points,
        readout=entry.readout,
        assay_hours=assay_hours,
    )
    sgn = _readout_sign(entry.readout)
    low = high = None
    if r.ensemble is not None:
        bliss = sgn * float(r.ensemble["bliss"]["mean"])
        low, high = float(r.ensemble["bliss"]["low"]), float(r.ensemble["bliss"]["high"])
        if sgn < 0:
            low, high = -high, -low
    else:
        bliss = sgn * float(r.scores["bliss"])
    strict, sign = agrees(entry.direction, bliss, threshold)
    node = ko_bliss = ko_kept = None
    if math.isfinite(bliss) and abs(bliss) >= MIN_INTERACTION:
        node, ko_bliss, ko_kept = _knockout_search(
            model, entry, r.doses, bliss, readout=entry.readout, assay_hours=assay_hours
        )
    return Row(
        id=entry.id,
        drug_a=entry.drug_a,
        drug_b=entry.drug_b,
        context=entry.context,
        knockouts=list(entry.knockouts),
        cells=entry.cells,
        assay=entry.assay,
        reported=entry.direction,
        measure=entry.measure,
        source=entry.source,
        verified=entry.verified,
        bliss=bliss,
        predicted=classify(bliss, threshold),
        agree_strict=strict,
        agree_sign=sign,
        knockout=node,
        knockout_bliss=ko_bliss,
        knockout_kept=ko_kept,
        doses_nM={d: [float(x) for x in g] for d, g in zip(r.drugs, r.doses, strict=True)},
        converged=bool(r.converged),
        bliss_low=low,
        bliss_high=high,
        notes=list(r.notes),
    )


@functools.lru_cache(maxsize=8)
def _run_cached(
    model: str,
    ensemble: int,
    seed: int,
    points: int,
    threshold: float,
    assay_hours: float | None = ASSAY_HOURS,
) -> tuple[Row, ...]:
    return tuple(
        _predict(model, e, ensemble, seed, points, threshold, assay_hours) for e in _bundled()[0]
    )


def run(
    model: Any = "myeloma",
    ensemble: int = 0,
    seed: int = 0,
    table: str | os.PathLike[str] | None = None,
    points: int = POINTS,
    threshold: float = THRESHOLD,
    assay_hours: float | None = ASSAY_HOURS,
) -> list[Row]:
    """Score every entry of the validation table with the model (see the module docstring).

    Parameters
    ----------
    model : bundled model name, path or PathwayModel (default "myeloma")
    ensemble : int
        0: the curated model; M >= 2: the predicted Bliss is the mean over M sampled parameter
        sets (set 0 curated) with its 90% interval (``bliss_low``, ``bliss_high``); the
        knock-out search uses the curated parameters.
    seed : int
        Seed of the ensemble.
    table : path, optional
        A table file of the same format (default: the bundled table).
    points : int
        Non-zero concentrations per drug in the dose grid (default :data:`POINTS`).
    threshold : float
        Bliss threshold of the direction classes (default :data:`THRESHOLD`).
    assay_hours : float or None
        Viability entries are scored on the relative cell number after this many hours
        (default 72, as :func:`mmmech.score`); None: the steady-state Viability index.
        Immune-killing entries are always scored on the killing readout.

    Returns
    -------
    list of Row, one per entry, in table order. Results for the bundled table and a bundled
    model name are cached for the process.
    """
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold >= 0):
        raise InvalidInputError(f"run(): threshold must be a number >= 0, got {threshold!r}")
    assay_hours = check_assay_hours(assay_hours, "run")
    if table is None and isinstance(model, str) and f"{model}.toml" in list_data("pathways"):
        # a bundled model: cached for the process (a user's model file is read every time)
        return list(
            _run_cached(model, int(ensemble), int(seed), int(points), float(threshold), assay_hours)
        )
    entries = load_table(table)
    return [_predict(model, e, ensemble, seed, points, threshold, assay_hours) for e in entries]


def summary(rows: Sequence[Row]) -> dict[str, Any]:
    """Counts and agreement fractions of a :func:`run`.

    Returns ``{entries, pairs, by_direction, agreement_strict, agreement_sign,
    by_direction_strict, wrong_strict, wrong_sign}`` (fractions in [0, 1]; ``wrong_*`` list
    entry ids).
    """
    n = len(rows)
    by_dir = {d: sum(r.reported == d for r in rows) for d in DIRECTIONS}
    by_dir_strict = {
        d: (sum(r.agree_strict for r in rows if r.reported == d), by_dir[d]) for d in DIRECTIONS
    }
    return {
        "entries": n,
        "pairs": len({frozenset((r.drug_a, r.drug_b)) for r in rows}),
        "by_direction": by_dir,
        "agreement_strict": (sum(r.agree_strict for r in rows) / n) if n else float("nan"),
        "agreement_sign": (sum(r.agree_sign for r in rows) / n) if n else float("nan"),
        "by_direction_strict": {d: list(v) for d, v in by_dir_strict.items()},
        "wrong_strict": [r.id for r in rows if not r.agree_strict],
        "wrong_sign": [r.id for r in rows if not r.agree_sign],
    }


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:+.{digits}f}"


def to_markdown(rows: Sequence[Row], model: str = "myeloma", threshold: float = THRESHOLD) -> str:
    """The validation table as Markdown (the body of docs/validation.md's generated part)."""
    s = summary(rows)
    lines = [
        f"Model `{model}`; {s['entries']} entries, {s['pairs']} distinct pairs "
        f"({s['by_direction']['synergy']} synergy, {s['by_direction']['additive']} additive, "
        f"{s['by_direction']['additive_or_better']} additive or better, "
        f"{s['by_direction']['antagonism']} antagonism reported).",
        "",
        f"- **strict agreement** (predicted class = reported class; Bliss > +{threshold:g} "
        f"synergy, < -{threshold:g} antagonism, else additive): "
        f"{sum(r.agree_strict for r in rows)}/{s['entries']} = {s['agreement_strict']:.0%}",
        f"- **sign agreement** (synergy: Bliss > {NOISE:g}; antagonism: Bliss < -{NOISE:g}; "
        f"additive: |Bliss| <= {threshold:g}; additive or better: Bliss >= -{threshold:g}): "
        f"{sum(r.agree_sign for r in rows)}/{s['entries']} = {s['agreement_sign']:.0%}",
        "- by reported direction (strict): "
        + ", ".join(f"{d} {a}/{b}" for d, (a, b) in s["by_direction_strict"].items()),
        "",
        "| id | pair | context | cells | reported | Bliss | predicted | strict | sign "
        "| knock-out (Bliss left; single-agent effect kept) | source |",
        "|---|---|---|---|---|---:|---|:-:|:-:|---|---|",
    ]
    for r in rows:
        ctx = r.context + (f" (KO {', '.join(r.knockouts)})" if r.knockouts else "")
        ko = (
            "–"
            if r.knockout is None
            else f"{r.knockout} ({_fmt(r.knockout_bliss)}; keeps {r.knockout_kept:.0%})"
        )
        src = r.source + ("" if r.verified else " (unverified)")
        cells = r.cells if len(r.cells) <= 60 else r.cells[:57] + "..."
        bliss = _fmt(r.bliss)
        if r.bliss_low is not None:
            bliss += f" [{_fmt(r.bliss_low)}, {_fmt(r.bliss_high)}]"
        lines.append(
            f"| {r.id} | {r.drug_a} + {r.drug_b} | {ctx} | {cells} | {r.reported} | "
            f"{bliss} | {r.predicted} | {'yes' if r.agree_strict else 'no'} | "
            f"{'yes' if r.agree_sign else 'no'} | {ko} | {src} |"
        )
    return "\n".join(lines) + "\n"
