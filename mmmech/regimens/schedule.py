"""A regimen as a list of doses in time: :func:`expand`.

Day 1 is the first day of the first phase; each phase starts the day after the previous one
ends (plus its ``delay_days``). Doses in mg/m2 and mg/kg (cells/kg for CAR T) become mg (cells)
with the patient's body surface area or weight; a regimen that needs a measure not given is
refused with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ..exceptions import InvalidInputError
from .records import BASE_UNIT, Body, Regimen

__all__ = ["DoseEvent", "PlanTemplate", "expand", "phase_starts"]

_NEEDS = {"mg/m2": "bsa_m2", "mg/kg": "weight_kg", "cells/kg": "weight_kg"}


class DoseEvent(NamedTuple):
    """One dose: `day` (1 = the regimen's first day), the drug, the amount, its unit, the route."""

    day: int
    drug: str
    amount: float
    unit: str
    route: str


def _body(body: Body | Mapping[str, float] | None) -> Body | None:
    if body is None or isinstance(body, Body):
        return body
    if isinstance(body, Mapping):
        extra = sorted(set(body) - {"weight_kg", "bsa_m2"})
        if extra:
            raise InvalidInputError(
                f"expand(): body has unknown measure {extra[0]!r} (expected weight_kg, bsa_m2)"
            )
        return Body(**body)
    raise InvalidInputError(
        f"expand(): body must be a Body or a mapping with weight_kg/bsa_m2, got "
        f"{type(body).__name__}"
    )


def phase_starts(regimen: Regimen) -> list[int]:
    """The day (1-based) each phase of `regimen` starts on; None-free only up to an open phase."""
    starts: list[int] = []
    day = 1
    for phase in regimen.phases:
        day += phase.delay_days
        starts.append(day)
        if phase.cycles is None:
            break
        day += phase.cycles * phase.cycle_days
    return starts


def expand(
    regimen: Regimen | str,
    body: Body | Mapping[str, float] | None = None,
    cycles: int | None = None,
) -> list[DoseEvent]:
    """The doses of the first `cycles` cycles of `regimen`, in time order.

    Parameters
    ----------
    regimen
        A :class:`~mmmech.regimens.records.Regimen` or a name/path for :func:`load`.
    body
        The patient's ``Body(weight_kg=..., bsa_m2=...)`` (or a mapping with those keys),
        needed when a dose is per m2 or per kg.
    cycles
        How many cycles to expand, counted over all phases in order (a transplant phase of one
        cycle counts one). None: every cycle, refused when the regimen runs until progression.

    Returns
    -------
    list[DoseEvent]
        ``(day, drug, amount, unit, route)`` tuples sorted by day, then drug; amounts in mg or
        cells (per-m2/per-kg doses multiplied out, capped at the schedule's ``max_dose``).

    Examples
    --------
    >>> [e.day for e in expand("vrd", body={"bsa_m2": 1.8}, cycles=1) if e.drug == "bortezomib"]
    [1, 4, 8, 11]
    """
    if isinstance(regimen, str):
        from . import load  # deferred: the package imports this module

        regimen = load(regimen)
    if not isinstance(regimen, Regimen):
        raise InvalidInputError(
            f"expand(): regimen must be a Regimen or a regimen name, got {type(regimen).__name__}"
        )
    if cycles is not None and (
        isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1
    ):
        raise InvalidInputError(f"expand(): cycles must be an integer >= 1, got {cycles!r}")
    if cycles is None and regimen.until_progression:
        raise InvalidInputError(
            f"expand(): regimen {regimen.name!r} runs until progression; give cycles=N"
        )
    patient = _body(body)
    needed = sorted(
        {(b.unit, _NEEDS[b.unit]) for p in regimen.phases for b in p.drugs if b.unit in _NEEDS}
    )
    for unit, measure in needed:
        if patient is None or measure not in patient.known:
            drug = next(b.drug for p in regimen.phases for b in p.drugs if b.unit == unit)
            raise InvalidInputError(
                f"expand(): regimen {regimen.name!r} doses {drug} in {unit}; give "
                f"body=Body({measure}=...) (got {patient.known if patient else None})"
            )
    events = planned_events(dose_plan(regimen, cycles), patient.known if patient else {})
    assert events is not None  # every measure a dose needs was checked above
    return events


PlannedDose = tuple[int, str, float, str, "float | None", str]


def dose_plan(regimen: Regimen, cycles: int | None) -> list[PlannedDose]:
    """The regimen's doses before any body: ``(day, drug, dose, unit, max_dose, route)`` in
    the schedule's unit, sorted by day, then drug (stable). :func:`planned_events` turns it
    into :func:`expand`'s events for a body, so a cohort expands the schedule once."""
    rows: list[PlannedDose] = []
    left = cycles
    day0 = 1
    for phase in regimen.phases:
        day0 += phase.delay_days
        n = phase.cycles if phase.cycles is not None else left
        assert n is not None
        if left is not None:
            n = min(n, left)
        for c in range(1, n + 1):
            start = day0 + (c - 1) * phase.cycle_days
            for block in phase.drugs:
                for day, dose in block.doses_in(c):
                    rows.append(
                        (start + day - 1, block.drug, dose, block.unit, block.max_dose, block.route)
                    )
        if left is not None:
            left -= n
            if left <= 0:
                break
        if phase.cycles is None:
            break
        day0 += phase.cycles * phase.cycle_days
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def planned_events(plan: list[PlannedDose], known: Mapping[str, float]) -> list[DoseEvent] | None:
    """:func:`expand`'s events from a :func:`dose_plan` for a body's `known` measures (dose x
    the measure, then the cap); None when a dose needs a measure `known` lacks."""
    out = []
    for day, drug, dose, unit, cap, route in plan:
        amount = dose
        need = _NEEDS.get(unit)
        if need is not None:
            if need not in known:
                return None
            amount = dose * known[need]
        if cap is not None:
            amount = min(amount, cap)
        out.append(DoseEvent(day, drug, amount, BASE_UNIT[unit], route))
    return out


class PlanTemplate:
    """A :func:`dose_plan` prepared for many bodies: :func:`planned_events` of a body is the
    list of the events that do not depend on the body (made once, the same objects for every
    body) with the per-m2 / per-kg doses filled in (the same amounts, the same arithmetic).

    Attributes
    ----------
    fixed : list of DoseEvent or None
        Per plan entry, its event when the dose does not depend on the body, else None.
    scaled : list of int
        The plan entries whose dose is per m2 or per kg.
    """

    def __init__(self, plan: list[PlannedDose]) -> None:
        self.plan = plan
        self.fixed: list[DoseEvent | None] = []
        self.scaled: list[int] = []
        # the distinct (dose, measure, cap) of the scaled entries, and the kind of each entry
        kinds: dict[tuple[float, str, float | None], int] = {}
        self._kind_of: list[int] = []
        for i, (day, drug, dose, unit, cap, route) in enumerate(plan):
            if unit in _NEEDS:
                self.fixed.append(None)
                self.scaled.append(i)
                self._kind_of.append(kinds.setdefault((dose, _NEEDS[unit], cap), len(kinds)))
            else:
                amount = dose if cap is None else min(dose, cap)
                self.fixed.append(DoseEvent(day, drug, amount, BASE_UNIT[unit], route))
        self._kinds = list(kinds)

    def amounts(self, known: Mapping[str, float]) -> list[float] | None:
        """The amounts of the :attr:`scaled` entries for a body's `known` measures (dose x the
        measure, then the cap, as :func:`planned_events`); None when a measure is missing."""
        vals = []
        for dose, need, cap in self._kinds:  # each distinct dose once (the same arithmetic)
            if need not in known:
                return None
            amount = dose * known[need]
            if cap is not None:
                amount = min(amount, cap)
            vals.append(amount)
        return [vals[k] for k in self._kind_of]

    def events(self, known: Mapping[str, float]) -> list[DoseEvent] | None:
        """:func:`planned_events` ``(plan, known)``: the same events (equal tuples)."""
        amounts = self.amounts(known)
        if amounts is None:
            return None
        out = list(self.fixed)
        for i, a in zip(self.scaled, amounts, strict=True):
            day, drug, _, unit, _, route = self.plan[i]
            out[i] = DoseEvent(day, drug, a, BASE_UNIT[unit], route)
        return out  # type: ignore[return-value]
