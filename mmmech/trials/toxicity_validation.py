"""Predicted versus reported toxicity per trial arm (issue 19's validation table).

:func:`load_toxicity_trials` reads ``trials/toxicity_trials.toml`` (reported grade >= 3
neutropenia and thrombocytopenia, grade >= 2 / >= 3 peripheral neuropathy per arm, each with its
source and its role: validation, calibration or in-sample). :func:`validate_toxicity` runs the
first `patients` patients of each trial's virtual population through each arm with
:func:`mmmech.trials.tox.patient_toxicity` (the same per-patient draws as ``mmmech trial``) and
returns one row per arm and measure with the predicted rate, its 95% Wilson interval and the
reported rate. Nothing here sets a model number: the reported rates are compared, never fitted.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .. import regimens as _regimens
from ..exceptions import InvalidInputError, ModelFileError, UnknownNameError
from ..resources import parse_toml
from ..sources import is_source
from ..utils import did_you_mean
from .run import enrol
from .tox import patient_toxicity

__all__ = [
    "ToxicityArm",
    "ToxicityTrial",
    "MEASURES",
    "load_toxicity_trials",
    "arm_regimen",
    "validate_toxicity",
    "table_markdown",
]

#: reported measure -> (record field, threshold grade, label)
MEASURES: dict[str, tuple[str, int, str]] = {
    "neutropenia3": ("anc_grade", 3, "G>=3 neutropenia"),
    "thrombocytopenia3": ("plt_grade", 3, "G>=3 thrombocytopenia"),
    "pn2": ("pn_grade", 2, "G>=2 neuropathy"),
    "pn3": ("pn_grade", 3, "G>=3 neuropathy"),
}
_ROLES = ("validation", "calibration", "in_sample")
_ARM_KEYS = {"name", "regimen", "drop", "dose_scale", "route", "cycles", "role", *MEASURES}
_TRIAL_KEYS = {"id", "name", "population", "sources", "verified", "note", "arm"}
_ORIGIN = "trials/toxicity_trials.toml"


@dataclass(frozen=True)
class ToxicityArm:
    name: str
    regimen: str
    drop: tuple[str, ...]
    dose_scale: Mapping[str, float]
    route: Mapping[str, str]
    cycles: int
    role: str
    reported: Mapping[str, float]


@dataclass(frozen=True)
class ToxicityTrial:
    id: str
    name: str
    population: str
    sources: tuple[str, ...]
    verified: bool
    note: str
    arms: tuple[ToxicityArm, ...]


def _fail(where: str, msg: str) -> ModelFileError:
    return ModelFileError(f"{_ORIGIN}: {where}: {msg}")


def load_toxicity_trials() -> tuple[ToxicityTrial, ...]:
    """The bundled reported-toxicity table (validation only)."""
    root = resources.files("mmmech._data.trials")
    text = root.joinpath("toxicity_trials.toml").read_text(encoding="utf-8")
    doc = parse_toml(text, _ORIGIN)
    out = []
    for i, t in enumerate(doc.get("trial", []), 1):
        where = f"trial {i} ({t.get('id')!r})"
        bad = sorted(set(t) - _TRIAL_KEYS)
        if bad:
            raise _fail(where, f"unknown key {bad[0]!r}{did_you_mean(bad[0], sorted(_TRIAL_KEYS))}")
        srcs = t.get("sources", [])
        if not srcs or not all(isinstance(s, str) and is_source(s) for s in srcs):
            if not all(isinstance(s, str) and (is_source(s) or s.startswith("NCT")) for s in srcs):
                raise _fail(where, f"'sources' expected identifiers, got {srcs!r}")
        arms = []
        for j, a in enumerate(t.get("arm", []), 1):
            aw = f"{where} arm {j} ({a.get('name')!r})"
            bad = sorted(set(a) - _ARM_KEYS)
            if bad:
                raise _fail(aw, f"unknown key {bad[0]!r}{did_you_mean(bad[0], sorted(_ARM_KEYS))}")
            role = a.get("role")
            if role not in _ROLES:
                raise _fail(aw, f"'role' expected one of {', '.join(_ROLES)}, got {role!r}")
            rep = {}
            for k in MEASURES:
                if k in a:
                    v = a[k]
                    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                        raise _fail(aw, f"'{k}' expected a fraction 0-1, got {v!r}")
                    rep[k] = float(v)
            cycles = a.get("cycles")
            if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
                raise _fail(aw, f"'cycles' expected an integer >= 1, got {cycles!r}")
            arms.append(
                ToxicityArm(
                    name=str(a["name"]),
                    regimen=str(a["regimen"]),
                    drop=tuple(a.get("drop", ())),
                    dose_scale={k: float(v) for k, v in a.get("dose_scale", {}).items()},
                    route=dict(a.get("route", {})),
                    cycles=cycles,
                    role=role,
                    reported=rep,
                )
            )
        out.append(
            ToxicityTrial(
                id=str(t["id"]),
                name=str(t["name"]),
                population=str(t["population"]),
                sources=tuple(srcs),
                verified=bool(t.get("verified", False)),
                note=str(t.get("note", "")),
                arms=tuple(arms),
            )
        )
    return tuple(out)


def arm_regimen(arm: ToxicityArm) -> _regimens.Regimen:
    """The arm's bundled regimen with its drops, dose scales and route overrides applied."""
    reg = _regimens.load(arm.regimen)
    phases = []
    for ph in reg.phases:
        blocks = []
        for b in ph.drugs:
            if b.drug in arm.drop:
                continue
            if b.drug in arm.dose_scale and b.dose is not None:
                b = dataclasses.replace(b, dose=b.dose * arm.dose_scale[b.drug])
            if b.drug in arm.route:
                b = dataclasses.replace(b, route=arm.route[b.drug])
            blocks.append(b)
        phases.append(dataclasses.replace(ph, drugs=tuple(blocks)))
    return dataclasses.replace(reg, phases=tuple(phases))


def _wilson(k: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    if k == 0:
        return 0.0, (z * z / n) / (1 + z * z / n)
    if k == n:
        return 1.0 / (1 + z * z / n), 1.0
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def validate_toxicity(
    patients: int = 40, seed: int = 0, trials: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Predicted and reported rates: one row per trial arm and reported measure
    (``trial``, ``arm``, ``regimen``, ``role``, ``measure``, ``predicted``, ``low``, ``high``,
    ``reported``, ``n``, ``sources``, ``verified``)."""
    if isinstance(patients, bool) or not isinstance(patients, int) or patients < 1:
        raise InvalidInputError(f"validate_toxicity(): patients must be >= 1, got {patients!r}")
    data = load_toxicity_trials()
    known = [t.id for t in data]
    for name in trials or ():
        if name not in known:
            raise UnknownNameError(
                f"validate_toxicity(): unknown trial {name!r}{did_you_mean(name, known)}"
            )
    rows: list[dict[str, Any]] = []
    for t in data:
        if trials and t.id not in trials:
            continue
        pts, _ = enrol(t.population, patients, seed)
        for arm in t.arms:
            reg = arm_regimen(arm)
            recs = [patient_toxicity(reg, p, arm.cycles, t.population, seed) for p in pts]
            for m, rep in arm.reported.items():
                field, g, _label = MEASURES[m]
                k = sum(1 for r in recs if r[field] >= g)
                lo, hi = _wilson(k, len(recs))
                rows.append(
                    {
                        "trial": t.id,
                        "trial_name": t.name,
                        "arm": arm.name,
                        "regimen": arm.regimen,
                        "cycles": arm.cycles,
                        "role": arm.role,
                        "measure": m,
                        "predicted": k / len(recs),
                        "low": lo,
                        "high": hi,
                        "reported": rep,
                        "n": len(recs),
                        "sources": list(t.sources),
                        "verified": t.verified,
                    }
                )
    return rows


def table_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as a markdown table (rates in %)."""
    head = (
        "| trial | arm (regimen, cycles) | role | measure | predicted (95% CI) | reported "
        "| agrees | source |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        agrees = "yes" if r["low"] <= r["reported"] <= r["high"] else "**no**"
        lines.append(
            f"| {r['trial']} | {r['arm']} ({r['regimen']}, {r['cycles']}) | {r['role']} | "
            f"{MEASURES[r['measure']][2]} | {100 * r['predicted']:.0f}% "
            f"({100 * r['low']:.0f}-{100 * r['high']:.0f}) | {100 * r['reported']:.1f}% | "
            f"{agrees} | {', '.join(r['sources'])}{'' if r['verified'] else ' (secondary)'} |"
        )
    return "\n".join(lines)
