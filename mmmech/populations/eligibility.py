"""Enrolment: the first patients of a population's keyed sequence who meet its eligibility.

Patient ``i`` of a population is :func:`mmmech.populations.patient` ``(population, i, seed)``
whether or not a trial enrols it: eligibility never redraws a patient, it passes over the
ineligible ones. So an enrolled patient keeps its index and every property it has in the
unfiltered sequence (the same patient in every arm, every run and under every trial's criteria
that admit it), and a trial with stricter criteria enrols a subset of the same sequence.
Criteria: ``[eligibility]`` of the population file (:class:`~mmmech.populations.Eligibility`),
optionally merged with a trial's own (``trials/enrolment.toml``, :meth:`Eligibility.merged`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

from ..exceptions import InvalidInputError
from .records import Eligibility, Patient, Population
from .sampler import patient

__all__ = ["Enrolment", "enrol", "eligibility_reason", "with_eligibility", "DEFAULT_ELIGIBILITY"]

#: the rule without an ``[eligibility]`` table: every patient with M-protein > 0
DEFAULT_ELIGIBILITY = Eligibility(origin="default: M-protein > 0")


@dataclass(frozen=True)
class Enrolment:
    """The enrolled patients, and why the others of the sequence were passed over."""

    patients: list[Patient]
    #: reason -> number of patients of the sequence passed over for it
    passed_over: dict[str, int] = field(default_factory=dict)
    #: enrolled on a criterion the model cannot check (``"unchecked"`` isotypes)
    unchecked: int = 0
    eligibility: Eligibility = DEFAULT_ELIGIBILITY

    @property
    def skipped(self) -> int:
        """How many patients of the sequence were passed over."""
        return sum(self.passed_over.values())

    def note(self) -> str | None:
        """One line for a trial's notes (None when nobody was passed over or unchecked)."""
        parts = []
        if self.passed_over:
            why = "; ".join(f"{k}: {v}" for k, v in sorted(self.passed_over.items()))
            parts.append(
                f"{self.skipped} patient(s) of the population's sequence were not eligible "
                f"and were passed over to enrol {len(self.patients)} ({why})"
            )
        if self.unchecked:
            parts.append(
                f"{self.unchecked} enrolled patient(s) have light-chain (or other unchecked) "
                f"disease whose measurability (urine M-protein, serum free light chains) the "
                f"model does not carry: enrolled without a check"
            )
        return "; ".join(parts) or None


def eligibility_reason(population: Population, p: Patient) -> str | None:
    """Why patient `p` is not eligible for `population`'s criteria, or None."""
    return (population.eligibility or DEFAULT_ELIGIBILITY).reason(p)


def with_eligibility(population: Population, extra: Eligibility) -> Population:
    """`population` with `extra` criteria merged into its own (same name: patient ``i`` is
    the same patient)."""
    base = population.eligibility or DEFAULT_ELIGIBILITY
    return dataclasses.replace(population, eligibility=base.merged(extra))


def enrol(
    population: Population, n: int, seed: int, *, func: str = "enrol", max_draws: int | None = None
) -> Enrolment:
    """The first `n` eligible patients of `population`'s sequence under `seed` (indices
    ascending), and the passed-over counts by reason. `max_draws` (default ``20 n + 1000``)
    bounds the walk: a population whose criteria admit too few patients is an error."""
    elig = population.eligibility or DEFAULT_ELIGIBILITY
    limit = 20 * n + 1000 if max_draws is None else max_draws
    out: list[Patient] = []
    passed: Counter[str] = Counter()
    unchecked = 0
    i = 0
    while len(out) < n:
        if i >= limit:
            raise InvalidInputError(
                f"{func}(): population {population.name!r} gave only {len(out)} eligible "
                f"patients in {i} draws ({elig.origin or 'its eligibility'}); it cannot fill {n}"
            )
        p = patient(population, i, seed)
        why = elig.reason(p)
        if why is None:
            out.append(p)
            unchecked += elig.unchecked(p)
        else:
            passed[why] += 1
        i += 1
    return Enrolment(out, dict(passed), unchecked, elig)
