"""Regimen records: a regimen, its phases, each drug's schedule, dose levels and a patient's body.

Every record is a frozen dataclass (shared by every caller of the cached loader). The file
format that produces them is described in ``docs/regimens.md``; :mod:`mmmech.regimens.reader`
parses and validates it.

Examples
--------
>>> from mmmech.regimens import load
>>> r = load("rd")
>>> [(s.drug, s.days[:3]) for s in r.phases[0].drugs]
[('lenalidomide', (1, 2, 3)), ('dexamethasone', (1, 8, 15))]
>>> r.phases[0].until_progression
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..exceptions import InvalidInputError

__all__ = [
    "ROUTES",
    "DOSE_UNITS",
    "FOLLOW_UP",
    "PHASE_KINDS",
    "UNTIL_PROGRESSION",
    "StepUp",
    "DoseLevel",
    "DoseModification",
    "MODIFICATION_ACTIONS",
    "TOXICITY_MEASURES",
    "DrugSchedule",
    "Phase",
    "Regimen",
    "Body",
]

#: how a dose is given: intravenous push/bolus, intravenous infusion, subcutaneous, oral
ROUTES = ("iv", "iv_infusion", "sc", "po")
#: dose units: flat, per body-surface area, per body weight, CAR-T cells (flat or per kg)
DOSE_UNITS = ("mg", "mg/m2", "mg/kg", "cells", "cells/kg")
#: the unit an amount has once the body is applied
BASE_UNIT = {"mg": "mg", "mg/m2": "mg", "mg/kg": "mg", "cells": "cells", "cells/kg": "cells"}
#: what a phase may be called; phases run in the order of the file
PHASE_KINDS = (
    "induction",
    "consolidation",
    "transplant",
    "maintenance",
    "treatment",
    "step_up",
    "lymphodepletion",
    "cell_infusion",
    "follow_up",
)
#: the phase kind that doses nothing: observation after a single treatment (CAR-T infusion)
FOLLOW_UP = "follow_up"
#: the value of ``cycles`` for a phase that runs until progression
UNTIL_PROGRESSION = "until_progression"
#: what a dose-modification rule does when its trigger fires
MODIFICATION_ACTIONS = ("hold", "reduce", "discontinue")
#: the graded toxicities a rule may name (CTCAE grades: ``anc_grade>=3``)
TOXICITY_MEASURES = ("anc", "platelets", "neuropathy")
#: comparison operators of a rule's condition
CONDITION_OPERATORS = (">=", "<=", "==", ">", "<")


@dataclass(frozen=True)
class StepUp:
    """One step-up dose (bispecific antibodies): `dose` (in the schedule's unit) on `day` of the
    first cycle the schedule applies to."""

    day: int
    dose: float


@dataclass(frozen=True)
class DoseLevel:
    """A labelled dose reduction: level -1, -2, ... and the dose (in the schedule's unit)."""

    level: int
    dose: float
    note: str = ""
    verified: bool = True


@dataclass(frozen=True)
class DoseModification:
    """A labelled dose-modification rule of a drug schedule (``[[phase.drug.dose_modification]]``).

    `trigger` and `resume` are conditions ``<measure>_grade<op><grade>`` (measure one of
    :data:`TOXICITY_MEASURES`, e.g. ``"anc_grade>=3"``), parsed into `measure`, `op`, `grade`
    (and `resume_measure`, `resume_op`, `resume_grade`). `action`: ``hold`` (skip doses until
    `resume` holds, then continue at `resume_at`: ``"same"`` dose or ``"next_level"``; the first
    time at `first_resume_at` when given), ``reduce`` (next lower dose level at once) or
    ``discontinue``. Reducing below the last dose level discontinues the drug.
    """

    trigger: str
    measure: str
    op: str
    grade: int
    action: str
    resume: str = ""
    resume_measure: str = ""
    resume_op: str = ""
    resume_grade: int = 0
    resume_at: str = "next_level"
    first_resume_at: str = ""
    note: str = ""
    verified: bool = True
    sources: tuple[str, ...] = ()

    def fires(self, grades: dict[str, int]) -> bool:
        """True when the trigger holds for `grades` (measure -> CTCAE grade; absent: no)."""
        return self.measure in grades and compare(grades[self.measure], self.op, self.grade)

    def resumes(self, grades: dict[str, int]) -> bool:
        """True when the resume condition holds (a rule without one resumes at once)."""
        if not self.resume:
            return True
        if self.resume_measure not in grades:
            return True
        return compare(grades[self.resume_measure], self.resume_op, self.resume_grade)


def compare(value: int, op: str, ref: int) -> bool:
    """``value <op> ref`` for the operators of :data:`CONDITION_OPERATORS`."""
    if op == ">=":
        return value >= ref
    if op == "<=":
        return value <= ref
    if op == ">":
        return value > ref
    if op == "<":
        return value < ref
    return value == ref


@dataclass(frozen=True)
class DrugSchedule:
    """One drug's schedule block within a phase.

    `days` are days of each cycle (1 = the cycle's first day) in the cycles `first_cycle` ..
    `last_cycle` of the phase (``last_cycle`` None: to the end of the phase); `step_up` doses
    come on top, in the block's first cycle. A drug given differently in different cycles
    (daratumumab weekly, then every two weeks, then every four) has one block per schedule.
    """

    drug: str
    dose: float | None
    unit: str
    route: str
    days: tuple[int, ...]
    first_cycle: int = 1
    last_cycle: int | None = None
    step_up: tuple[StepUp, ...] = ()
    infusion_hours: float | None = None
    max_dose: float | None = None
    dose_levels: tuple[DoseLevel, ...] = ()
    dose_modifications: tuple[DoseModification, ...] = ()
    verified: bool = True
    note: str = ""
    sources: tuple[str, ...] = ()
    line: int = 0

    def applies_to(self, cycle: int) -> bool:
        """True when this block doses in `cycle` (1-based, within its phase)."""
        return cycle >= self.first_cycle and (self.last_cycle is None or cycle <= self.last_cycle)

    def doses_in(self, cycle: int) -> list[tuple[int, float]]:
        """``(day, dose)`` pairs of this block in `cycle` of its phase, in the block's unit."""
        if not self.applies_to(cycle):
            return []
        out: list[tuple[int, float]] = []
        if cycle == self.first_cycle:
            out += [(s.day, s.dose) for s in self.step_up]
        if self.dose is not None:
            out += [(d, self.dose) for d in self.days]
        return sorted(out)


@dataclass(frozen=True)
class Phase:
    """A phase of a regimen: `cycles` cycles (None: until progression) of `cycle_days` days.

    `delay_days` is the gap between the end of the previous phase and this phase's day 1.
    """

    name: str
    cycles: int | None
    cycle_days: int
    drugs: tuple[DrugSchedule, ...]
    delay_days: int = 0
    note: str = ""
    line: int = 0

    @property
    def until_progression(self) -> bool:
        """True when the phase runs until progression (no fixed number of cycles)."""
        return self.cycles is None


@dataclass(frozen=True)
class Regimen:
    """A treatment regimen: metadata, sources and its phases in order.

    `omitted` names parts of the published regimen that mmmech cannot represent (a drug not in
    the library, a conditional switch); `origin` is the file it was read from.
    """

    name: str
    title: str
    indication: str
    sources: tuple[str, ...]
    phases: tuple[Phase, ...]
    notes: str = ""
    omitted: tuple[str, ...] = ()
    origin: str = ""

    @property
    def drugs(self) -> tuple[str, ...]:
        """The library names of the drugs of the regimen, in order of first appearance."""
        seen: dict[str, None] = {}
        for phase in self.phases:
            for block in phase.drugs:
                seen.setdefault(block.drug, None)
        return tuple(seen)

    @property
    def verified(self) -> bool:
        """True when every schedule block and dose level was confirmed in the cited sources."""
        return all(
            b.verified and all(lv.verified for lv in b.dose_levels)
            for p in self.phases
            for b in p.drugs
        )

    @property
    def until_progression(self) -> bool:
        """True when the last phase runs until progression."""
        return bool(self.phases) and self.phases[-1].until_progression


@dataclass(frozen=True)
class Body:
    """A patient's body size for mg/m2 and mg/kg doses: weight (kg) and body-surface area (m2)."""

    weight_kg: float | None = None
    bsa_m2: float | None = None

    def __post_init__(self) -> None:
        for name in ("weight_kg", "bsa_m2"):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InvalidInputError(f"Body(): {name} must be a finite number, got {v!r}")
            if v <= 0:
                raise InvalidInputError(f"Body(): {name} must be > 0, got {v!r}")

    @property
    def known(self) -> dict[str, float]:
        """The measures given, by name."""
        return {
            k: float(v)
            for k, v in (("weight_kg", self.weight_kg), ("bsa_m2", self.bsa_m2))
            if v is not None
        }
