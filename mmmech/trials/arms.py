"""One arm of a virtual trial: a regimen given to a list of virtual patients.

:func:`simulate_arm` runs the patients in one :func:`mmmech.dynamics.simulate_cohort` call,
each in the contexts ``[context, *patient.contexts]`` (default ``marrow`` first) with the
patient's sampled input levels, body (dosing), M-protein isotype (its serum
half-life) and baseline M-protein, and returns per patient the IMWG best response, the
progression-free time and whether progression was seen.

PFS: progression is IMWG's (a 25% rise from the nadir with an absolute rise of at least
0.5 g/dL, :func:`mmmech.dynamics.classify`); a patient without progression is censored at the
end of follow-up. Death is not modelled (PFS here is progression only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import regimens as _regimens
from ..dynamics import simulate_cohort
from ..dynamics.regimen import _horizon_days, _item, _total_cycles
from ..exceptions import InvalidInputError
from ..populations import Patient

__all__ = [
    "ArmResult",
    "DEFAULT_CYCLES",
    "DAYS_PER_MONTH",
    "simulate_arm",
    "arm_cycles",
    "arm_horizon_days",
    "arm_cycles_through",
    "RESPONSE_ORDER",
]

#: cycles simulated when none are given (regimens running until progression, and the cap of
#: fixed ones): a modelling choice, 12 cycles as the issue's speed target
DEFAULT_CYCLES = 12
#: days per month for PFS in months (365.25 / 12)
DAYS_PER_MONTH = 365.25 / 12.0
#: IMWG categories, best first
RESPONSE_ORDER = ("CR", "VGPR", "PR", "MR", "SD", "PD")
#: isotypes simulated with another's serum half-life (no sourced half-life of their own yet)
ISOTYPE_AS = {"other": "IgG"}


@dataclass
class ArmResult:
    """A regimen given to N virtual patients.

    Attributes
    ----------
    name : str
        The arm's label (as given, e.g. ``"VRd"``).
    regimen : str
        The regimen's canonical name.
    drugs : tuple of str
        Drugs given (after any ``drop``).
    cycles : int
        Treatment cycles simulated.
    horizon_days : float
        End of follow-up (censoring time of patients without progression).
    patient_ids, patient_index : per patient
    best_response : ndarray (N,) of str
        IMWG best response before progression (CR, VGPR, PR, MR, SD, PD).
    pfs_days : ndarray (N,)
        Day of progression, or `horizon_days` when censored.
    progressed : ndarray (N,) of bool
    max_reduction : ndarray (N,)
        Deepest fractional M-protein reduction before progression.
    ok : ndarray (N,) of bool
        False where the network integration was inexact (hit max_steps).
    notes : list of str
    toxicity : dict or None
        Toxicity rates over the arm's patients (:func:`mmmech.trials.tox.arm_toxicity`; set by
        :func:`mmmech.trials.run_trial`, None from :func:`simulate_arm` or with
        ``toxicity=False``).
    """

    name: str
    regimen: str
    drugs: tuple[str, ...]
    cycles: int
    horizon_days: float
    patient_ids: tuple[str, ...]
    patient_index: np.ndarray
    best_response: np.ndarray
    pfs_days: np.ndarray
    progressed: np.ndarray
    max_reduction: np.ndarray
    ok: np.ndarray
    notes: list[str] = field(default_factory=list)
    toxicity: dict[str, Any] | None = None

    @property
    def n_patients(self) -> int:
        return int(self.pfs_days.size)

    def counts(self) -> dict[str, int]:
        """Patients per IMWG best-response category."""
        return {c: int(np.sum(self.best_response == c)) for c in RESPONSE_ORDER}

    def rate(self, at_least: str) -> float:
        """Share of patients with a best response of `at_least` or better."""
        if at_least not in RESPONSE_ORDER:
            raise InvalidInputError(
                f"ArmResult.rate(): at_least must be one of {', '.join(RESPONSE_ORDER)}, got "
                f"{at_least!r}"
            )
        good = RESPONSE_ORDER[: RESPONSE_ORDER.index(at_least) + 1]
        return float(np.isin(self.best_response, good).mean())


def _regimen_of(arm: Any, func: str) -> _regimens.Regimen:
    return _item(arm, func).regimen


def arm_cycles(arm: Any, cycles: int | None = None) -> int:
    """Cycles simulated for `arm`: `cycles` (default :data:`DEFAULT_CYCLES`), capped at the
    regimen's own number of cycles when it has a fixed duration."""
    n = DEFAULT_CYCLES if cycles is None else cycles
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidInputError(f"trial(): cycles must be an integer >= 1, got {cycles!r}")
    total = _total_cycles(_regimen_of(arm, "trial"))
    return int(n) if total is None else int(min(int(n), total))


def arm_horizon_days(arm: Any, cycles: int | None = None) -> int:
    """Days covered by the :func:`arm_cycles` of `arm`."""
    return _horizon_days(_regimen_of(arm, "trial"), arm_cycles(arm, cycles))[0]


def arm_cycles_through(arm: Any, cycles: int, follow_up_days: float) -> int:
    """Cycles of `arm` when a regimen that runs until progression keeps being given to the end
    of a trial's common follow-up: `cycles`, raised while one more whole cycle still ends within
    `follow_up_days` (so the arm's horizon never passes the follow-up, and any untreated tail is
    shorter than one cycle); a fixed-duration regimen is returned unchanged.

    Without this, ``trial VRd Rd --cycles 12`` stopped VRd's Rd maintenance after 8 induction
    and 4 maintenance cycles (day 280) while Rd went on to day 336."""
    reg = _regimen_of(arm, "trial")
    if not reg.until_progression:
        return int(cycles)
    n = int(cycles)
    while _horizon_days(reg, n + 1)[0] <= follow_up_days:
        n += 1
    return n


def _label(arm: Any) -> str:
    if isinstance(arm, Mapping):
        it = _item(arm, "trial")
        if arm.get("label"):
            return str(arm["label"])
        reg = arm.get("regimen")
        base = it.regimen.name if isinstance(reg, _regimens.Regimen) else str(reg)
        return f"{base} ({it.label})" if it.label else base
    if isinstance(arm, _regimens.Regimen):
        return arm.name
    return str(arm)


def simulate_arm(
    regimen: Any,
    patients: Sequence[Patient],
    *,
    cycles: int | None = None,
    follow_up_days: float | None = None,
    name: str | None = None,
    context: str = "marrow",
    model: Any = "myeloma",
    step_hours: float = 4.0,
    backend: str = "auto",
    num_threads: int = 0,
    chunk: int = 2000,
    seed: int | None = None,
    **cohort: Any,
) -> ArmResult:
    """`regimen` given to `patients` (from :func:`mmmech.populations.sample`).

    Parameters
    ----------
    regimen : str, path, Regimen or variant mapping
        A bundled name (case-insensitive), a regimen file, a :class:`mmmech.regimens.Regimen`,
        or ``{"regimen": ..., "drop": [...], "dose_scale": {...}, "label": ...}``.
    patients : sequence of Patient
    cycles : int, optional
        Treatment cycles (:func:`arm_cycles`: default 12, capped at a fixed regimen's length).
    follow_up_days : float, optional
        Follow-up (default: the end of the cycles); after a fixed regimen ends the course goes
        on untreated up to it. Patients without progression are censored there.
    name : str, optional
        Label of the arm (default: the regimen as given).
    context : str
        Cellular context applied before each patient's own contexts (default marrow).
    seed : int, optional
        Not used by the simulation (the patients carry their randomness); accepted so callers
        can pass a trial's keywords through.
    cohort : further keywords of :func:`mmmech.dynamics.simulate_cohort` (``tumour``,
        ``cr_reduction``, ``hours_per_model_time``, ``substeps``, ``no_pk``).
    """
    func = "simulate_arm"
    if isinstance(patients, (str, bytes, Patient)) or not isinstance(patients, Sequence):
        raise InvalidInputError(
            f"{func}(): patients must be a sequence of Patient, got {type(patients).__name__}"
        )
    if len(patients) < 1:
        raise InvalidInputError(f"{func}(): give at least one patient")
    for p in patients:
        if not isinstance(p, Patient):
            raise InvalidInputError(
                f"{func}(): patients must be Patient records (mmmech.populations.sample), got "
                f"{type(p).__name__}"
            )
        if not p.m_protein_g_dL > 0:
            raise InvalidInputError(
                f"{func}(): patient {p.id} has no measurable M-protein ({p.isotype}); a trial "
                f"enrols patients with measurable disease only"
            )
    it = _item(regimen, func)
    n = arm_cycles(regimen, cycles)
    P = len(patients)
    best = np.empty(P, dtype=object)
    pfs = np.empty(P)
    prog = np.zeros(P, dtype=bool)
    red = np.zeros(P)
    ok = np.ones(P, dtype=bool)
    notes: list[str] = []
    horizon = math.nan
    # all patients in one simulate_cohort call: it runs those whose context combinations
    # compile to the same network in one kernel call (one call per structure otherwise)
    res = simulate_cohort(
        regimen,
        [p.regimen_body() for p in patients],
        cycles=n,
        contexts=[[context, *p.contexts] for p in patients],
        levels=[dict(p.levels) for p in patients],
        model=model,
        step_hours=step_hours,
        backend=backend,
        num_threads=num_threads,
        chunk=chunk,
        isotypes=[ISOTYPE_AS.get(p.isotype, p.isotype) for p in patients],
        m_protein=[p.m_protein_g_dL for p in patients],
        follow_up_days=follow_up_days,
        tumour_scales=[dict(p.tumour) or None for p in patients],
        resistance_per_day=[getattr(p, "resistance_per_day", 0.0) for p in patients],
        pk_covariates=[p.isotype_covariates() or None for p in patients],
        **cohort,
    )
    day = res.hours / 24.0
    horizon = float(day[-1])
    # the IMWG classification simulate_cohort made (classify_many: the same numbers as
    # classify course by course)
    assert res.max_reduction is not None
    best[:] = res.best_response
    red[:] = res.max_reduction
    prog[:] = ~np.isnan(res.time_to_progression_days)
    pfs[:] = np.where(prog, res.time_to_progression_days, horizon)
    ok[:] = res.ok
    notes += [x for x in res.notes if x not in notes]
    if any(p.isotype in ISOTYPE_AS for p in patients):
        notes.append(
            "isotype 'other' (IgD, IgM, biclonal) is followed with the IgG serum half-life "
            "(modelling choice: no half-life of its own is recorded)"
        )
    label = name if name is not None else _label(regimen)
    return ArmResult(
        name=label,
        regimen=it.regimen.name,
        drugs=tuple(d for d in it.regimen.drugs if d not in it.drop),
        cycles=n,
        horizon_days=horizon,
        patient_ids=tuple(p.id for p in patients),
        patient_index=np.asarray([p.index for p in patients], dtype=int),
        best_response=best.astype(str),
        pfs_days=pfs,
        progressed=prog,
        max_reduction=red,
        ok=ok,
        notes=notes,
    )
