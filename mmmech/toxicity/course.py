"""A patient's course through a regimen's dose-modification rules, cycle by cycle.

:func:`apply_dose_modifications` runs PK -> counts / neuropathy -> CTCAE grade -> the rules of
the regimen file (``[[phase.drug.dose_modification]]``) -> the next cycle's doses, and returns
the doses actually given per drug and the toxicity course. Decisions are taken once per cycle:
a trigger is evaluated on the worst grade of the cycle (the ANC nadir; the neuropathy grade at
the cycle's end) and acts from the next cycle; a held drug resumes at the first cycle start
whose counts satisfy the rule's ``resume`` condition. Labels check counts weekly; this
cycle-level scheme is the main simplification (docs/toxicity.md).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from itertools import repeat
from typing import Any

import numpy as np

from .. import pk
from .. import regimens as _regimens
from ..exceptions import InvalidInputError
from ..regimens import Body, DoseEvent, DoseModification, DrugSchedule, Regimen
from ..utils import did_you_mean
from . import _compiled
from . import myelosuppression as ms
from . import platelets as _plt
from .data import RenalTier, toxicity_data
from .grading import grade
from .neuropathy import ROUTE_KEY, grade_from_dose, iv_equivalent, neuropathy_probability
from .renal import RenalAdjustment, label_tier, pk_model, renal_adjustment

__all__ = [
    "Health",
    "ToxicityCourse",
    "apply_dose_modifications",
    "apply_dose_modifications_batch",
]

_PK_ROUTE = _compiled.PK_ROUTE


@dataclass(frozen=True)
class Health:
    """Patient fields the toxicity models read (names of the patient file).

    Used: ``crcl_ml_min`` (lenalidomide clearance and starting dose), ``anc_10e9_L`` (neutrophil
    baseline), ``platelets_10e9_L`` (platelet baseline, Srimani 2022 Equation 19),
    ``neuropathy_grade`` (pre-existing neuropathy). Recorded but not yet used by any model (no
    sourced effect read): ``age``, ``ecog``, ``frailty``, ``hemoglobin_g_dL``.
    """

    age: float | None = None
    crcl_ml_min: float | None = None
    ecog: int | None = None
    frailty: str | None = None
    anc_10e9_L: float | None = None
    platelets_10e9_L: float | None = None
    hemoglobin_g_dL: float | None = None
    neuropathy_grade: int = 0
    dialysis: bool = False

    def __post_init__(self) -> None:
        for name in (
            "age",
            "crcl_ml_min",
            "anc_10e9_L",
            "platelets_10e9_L",
            "hemoglobin_g_dL",
        ):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InvalidInputError(f"Health(): {name} must be a finite number, got {v!r}")
            if v <= 0:
                raise InvalidInputError(f"Health(): {name} must be > 0, got {v!r}")
        g = self.neuropathy_grade
        if isinstance(g, bool) or not isinstance(g, int) or not 0 <= g <= 4:
            raise InvalidInputError(f"Health(): neuropathy_grade must be 0-4, got {g!r}")
        if self.ecog is not None and (
            isinstance(self.ecog, bool) or not isinstance(self.ecog, int) or not 0 <= self.ecog <= 4
        ):
            raise InvalidInputError(f"Health(): ecog must be 0-4, got {self.ecog!r}")

    @classmethod
    def of(cls, health: Health | Mapping[str, Any] | None = None, **kwargs: Any) -> Health:
        """A Health from a Health, a mapping (a patient file's fields, optionally with a nested
        ``health`` table) and/or keyword arguments (which win)."""
        if isinstance(health, Health):
            base: dict[str, Any] = asdict(health)
        elif health is None:
            base = {}
        elif isinstance(health, Mapping):
            base = {k: v for k, v in health.items() if k != "health"}
            nested = health.get("health")
            if isinstance(nested, Mapping):
                base.update(nested)
        else:
            raise InvalidInputError(
                f"Health.of(): health must be a mapping or Health, got {type(health).__name__}"
            )
        base.update(kwargs)
        known = [f.name for f in fields(cls)]
        # patient files carry other fields (name, genetics, body size): keep only ours
        unknown = [k for k in kwargs if k not in known]
        if unknown:
            raise InvalidInputError(
                f"Health.of(): unknown field {unknown[0]!r}{did_you_mean(unknown[0], known)}"
            )
        return cls(**{k: v for k, v in base.items() if k in known})


@dataclass
class _DrugState:
    level: int = 0
    held: DoseModification | None = None
    discontinued: bool = False
    holds: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ToxicityCourse:
    """The result of :func:`apply_dose_modifications`.

    Attributes
    ----------
    times_day, anc
        Neutrophil count (10^9/L) on a grid of days (day 1 = the regimen's first day), when a
        regimen drug has a neutrophil model; empty otherwise.
    cycles
        One dict per cycle: ``cycle``, ``phase``, ``start_day``, ``doses_mg`` per drug,
        ``anc_nadir``, ``anc_grade``, ``neuropathy_grade`` (cumulative-dose drugs),
        ``neuropathy_probability`` (time-on-drug drugs: thalidomide), ``held``, ``actions``.
    actions
        Every rule that fired: ``cycle``, ``drug``, ``trigger``, ``action``, ``dose_before``,
        ``dose_after`` (in the block's unit; None when held or discontinued).
    incidence
        The label-incidence fallbacks that apply to the regimen's drugs (no time course).
    renal
        The lenalidomide renal adjustment (:class:`RenalAdjustment` as a dict), when used.
    """

    regimen: str
    health: Health
    times_day: np.ndarray
    anc: np.ndarray
    cycles: tuple[dict[str, Any], ...]
    actions: tuple[dict[str, Any], ...]
    incidence: tuple[dict[str, Any], ...]
    renal: dict[str, Any] | None
    notes: tuple[str, ...]
    #: platelet count (10^9/L) on its own day grid, when a regimen drug has a platelet model
    platelet_times_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    platelets: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def dose_reductions(self) -> int:
        """Number of reduce actions and of resumptions at a lower level."""
        return sum(1 for a in self.actions if a["action"] in ("reduce", "resume_lower"))

    @property
    def discontinued(self) -> list[str]:
        """Drugs discontinued during the course."""
        return sorted({a["drug"] for a in self.actions if a["action"] == "discontinue"})

    def worst_grade(self, measure: str) -> int:
        """Worst grade of `measure` (``anc``, ``platelets`` or ``neuropathy``) over the course."""
        key = {"anc": "anc_grade", "neuropathy": "neuropathy_grade", "platelets": "platelet_grade"}[
            measure
        ]
        return max((int(c[key]) for c in self.cycles if c.get(key) is not None), default=0)

    def summary(self) -> dict[str, Any]:
        """The per-patient outcomes a virtual trial aggregates into rates per arm."""
        return {
            "grade3_neutropenia": self.worst_grade("anc") >= 3,
            "grade3_thrombocytopenia": self.worst_grade("platelets") >= 3,
            "grade2_neuropathy": self.worst_grade("neuropathy") >= 2,
            "dose_reduced": self.dose_reductions > 0,
            "discontinued": self.discontinued,
            "held_cycles": sum(1 for c in self.cycles if c["held"]),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (counts on the day grid as lists)."""
        return {
            "summary": self.summary(),
            "regimen": self.regimen,
            "health": asdict(self.health),
            "times_day": [round(float(t), 4) for t in self.times_day],
            "anc_10e9_L": [round(float(a), 5) for a in self.anc],
            "cycles": list(self.cycles),
            "actions": list(self.actions),
            "dose_reductions": self.dose_reductions,
            "discontinued": self.discontinued,
            "worst_anc_grade": self.worst_grade("anc"),
            "worst_neuropathy_grade": self.worst_grade("neuropathy"),
            "platelet_times_day": [round(float(t), 4) for t in self.platelet_times_day],
            "platelets_10e9_L": [round(float(x), 3) for x in self.platelets],
            "worst_platelet_grade": self.worst_grade("platelets"),
            "incidence": list(self.incidence),
            "renal": self.renal,
            "notes": list(self.notes),
        }


def _eta_models(
    models: Mapping[str, pk.PKModel], pk_etas: Mapping[str, Mapping[str, float]] | None
) -> dict[str, pk.PKModel]:
    """The PK models of the drugs in `pk_etas` with the patient's etas applied (on `models`'
    entry when there is one, e.g. lenalidomide's renal clearance)."""
    out = {}
    for d, e in (pk_etas or {}).items():
        if e and d.lower() in pk.models():
            out[d] = pk.with_etas(models.get(d) or pk.model(d), e)
    return out


def _cycle_plan(reg: Regimen, cycles: int) -> list[tuple[int, int, int, int]]:
    """``(global cycle, phase index, cycle in phase, start day)`` for the first `cycles`."""
    plan: list[tuple[int, int, int, int]] = []
    starts = _regimens.phase_starts(reg)
    for pi, phase in enumerate(reg.phases):
        if pi >= len(starts):
            break
        n = phase.cycles if phase.cycles is not None else cycles
        for k in range(1, n + 1):
            if len(plan) >= cycles:
                return plan
            plan.append((len(plan) + 1, pi, k, starts[pi] + (k - 1) * phase.cycle_days))
    return plan


def _to_mg(amount: float, unit: str, body: Body | None, drug: str) -> float:
    if unit == "mg":
        return amount
    if unit == "mg/m2":
        if body is None or body.bsa_m2 is None:
            raise InvalidInputError(
                f"apply_dose_modifications(): {drug} is dosed in mg/m2: give body={{'bsa_m2': ..}}"
            )
        return amount * body.bsa_m2
    if unit == "mg/kg":
        if body is None or body.weight_kg is None:
            raise InvalidInputError(
                f"apply_dose_modifications(): {drug} is dosed in mg/kg: give "
                f"body={{'weight_kg': ..}}"
            )
        return amount * body.weight_kg
    return amount  # cells: no toxicity model; kept as given


def _ladder(block: DrugSchedule, start: float) -> list[float]:
    """The doses a block can be given: the starting dose, then its lower dose levels."""
    assert block.dose is not None
    return [start] + [lv.dose for lv in block.dose_levels if lv.dose < start - 1e-12]


#: the last grid's days (:func:`_days`): one (grid, first index, days) tuple, the grid kept
#: alive (one tuple read and replaced whole: safe across threads)
_LAST_DAYS: list[tuple[Any, int, Any]] = [(None, -1, None)]


def _days(t: np.ndarray, first: int) -> np.ndarray:
    """``t[first:] / 24 + 1`` (grid hours to regimen days), computed once for a grid shared
    by every patient of a batch (the same array each time it is asked; never written to)."""
    last = _LAST_DAYS[0]
    if last[0] is t and last[1] == first:
        return last[2]  # type: ignore[no-any-return]
    out = t[first:] / 24.0 + 1.0
    out.flags.writeable = False
    _LAST_DAYS[0] = (t, first, out)
    return out


class _Course:
    """One patient's course through a regimen's rules, cycle by cycle, with the count
    integration left to the caller (:func:`apply_dose_modifications` for one patient,
    :func:`apply_dose_modifications_batch` for many at once): :meth:`begin_cycle` resumes held
    drugs and gives the cycle's doses, :meth:`anc_effect` / :meth:`plt_drivers` are the drug
    effects over the cycle, :meth:`end_cycle` takes the integrated counts, grades them and
    applies the rules; :meth:`result` is what :func:`apply_dose_modifications` returns."""

    def __init__(
        self,
        reg: Regimen,
        cycles: int,
        b: Body | None,
        h: Health,
        *,
        renal_adjust: bool,
        neutrophil_sensitivity: float,
        pk_etas: Mapping[str, Mapping[str, float]] | None,
        platelet_sensitivity: float,
        platelet_eta: float,
        neuropathy_z: float,
        renal_details: bool = True,
    ) -> None:
        self.reg, self.b, self.h = reg, b, h
        self.renal_adjust = renal_adjust
        self.neutrophil_sensitivity = neutrophil_sensitivity
        self.platelet_sensitivity = platelet_sensitivity
        self.neuropathy_z = neuropathy_z
        self.notes: list[str] = []
        self.plan = _cycle_plan(reg, cycles)
        if len(self.plan) < cycles:
            self.notes.append(f"the regimen has {len(self.plan)} cycles; {cycles} were asked")
        self.renal: RenalAdjustment | None = None
        self.renal_tier: RenalTier | None = None
        if h.crcl_ml_min is not None and "lenalidomide" in reg.drugs:
            if renal_details:
                self.renal = renal_adjustment(h.crcl_ml_min, dialysis=h.dialysis)
                self.renal_tier = self.renal.tier
            else:
                # the starting dose only (the predicted exposures that explain it cost ~20 ms)
                self.renal_tier = label_tier(h.crcl_ml_min, dialysis=h.dialysis)
        pk_models = {}
        if h.crcl_ml_min is not None:
            pk_models["lenalidomide"] = pk_model(h.crcl_ml_min)
        pk_models.update(_eta_models(pk_models, pk_etas))
        self.pk_models: dict[str, pk.PKModel] = pk_models

        self.lineage_drugs = set(ms.effect_drugs("neutrophils"))
        self.use_anc = bool(self.lineage_drugs & set(reg.drugs))
        self.params = ms.parameters("neutrophils", baseline=h.anc_10e9_L)
        self.state_y: np.ndarray | None = None
        self.t_all: list[np.ndarray] = []
        self.anc_all: list[np.ndarray] = []
        self.last_anc = float(self.params.baseline)

        self.states: dict[str, _DrugState] = {d: _DrugState() for d in reg.drugs}
        self.given: dict[str, list[DoseEvent]] = {d: [] for d in reg.drugs}
        self.pk_doses: dict[str, list[tuple[float, float, str]]] = {d: [] for d in reg.drugs}
        self.neuro_dose: dict[str, float] = {}
        self.plt_drugs = set(_plt.effect_drugs())
        self.use_plt = bool(self.plt_drugs & set(reg.drugs))
        self.plt_base = _plt.individual_baseline(h.platelets_10e9_L, platelet_eta)
        self.plt_state: np.ndarray | None = None
        self.plt_t_all: list[np.ndarray] = []
        self.plt_all: list[np.ndarray] = []
        self.last_plt = float(self.plt_base)
        self.pn_grade = h.neuropathy_grade
        self.prev_pn = self.pn_grade
        self.cycle_rows: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self.has_neuro = set(toxicity_data().neuropathy)
        self.time_neuro = set(toxicity_data().neuropathy_time) & set(reg.drugs)
        self.days_on: dict[str, float] = dict.fromkeys(self.time_neuro, 0.0)
        # the current cycle's bookkeeping (begin_cycle -> end_cycle)
        self._ci = -1
        self._doses_mg: dict[str, float] = {}
        self._held_now: list[str] = []
        self._c0 = 0.0
        # the patient's unit-dose concentration courses on the integration grid (reused)
        self._units: dict[Any, np.ndarray] = {}
        # recent_doses' window per neutrophil drug (from the patient's model; reused)
        self._windows: dict[str, float] = {}
        # the regimen blocks' doses per cycle of their phase (shared by a batch's patients,
        # whose regimen object keeps the blocks alive)
        self._plan_cache: dict[tuple[int, int], list[tuple[int, float]]] = {}
        self._ladders: dict[tuple[int, float], list[float]] = {}

    def begin_cycle(self, ci: int) -> tuple[float, float]:
        """Resume held drugs and give cycle `ci`'s doses; returns the cycle's span (h)."""
        gcycle, pi, k, start_day = self.plan[ci]
        self._ci = ci
        phase = self.reg.phases[pi]
        states, actions = self.states, self.actions
        grades_start = {"anc": grade("anc", self.last_anc), "neuropathy": self.pn_grade}
        if self.use_plt:
            grades_start["platelets"] = grade("platelets", self.last_plt)
        # resume held drugs whose condition holds now
        for drug, st in states.items():
            if st.held is not None and not st.discontinued and st.held.resumes(grades_start):
                rule = st.held
                n = st.holds.get(rule.trigger, 0)
                how = rule.first_resume_at if (n == 1 and rule.first_resume_at) else rule.resume_at
                before = st.level
                if how == "next_level":
                    st.level += 1
                st.held = None
                actions.append(
                    {
                        "cycle": gcycle,
                        "drug": drug,
                        "trigger": rule.resume,
                        "action": "resume_lower" if st.level > before else "resume",
                        "level": -st.level,
                    }
                )
        doses_mg: dict[str, float] = {}
        held_now: list[str] = []
        renal, b = self.renal_tier, self.b
        for block in phase.drugs:
            st = states[block.drug]
            key = (id(block), k)
            day_doses = self._plan_cache.get(key)
            if day_doses is None:  # the block's (day, dose) pairs of this cycle, once per batch
                day_doses = self._plan_cache[key] = block.doses_in(k)
            if not day_doses:
                continue
            if st.discontinued or st.held is not None:
                held_now.append(block.drug)
                continue
            start = block.dose if block.dose is not None else 0.0
            every = 1
            if block.drug == "lenalidomide" and renal is not None and self.renal_adjust:
                start = min(start, renal.dose_mg)
                every = renal.every_days
            ladder: list[float] = [0.0]
            if block.dose is not None:
                lkey = (id(block), start)
                hit = self._ladders.get(lkey)
                ladder = (
                    hit
                    if hit is not None
                    else self._ladders.setdefault(lkey, _ladder(block, start))
                )
            if st.level >= len(ladder):
                st.discontinued = True
                held_now.append(block.drug)
                continue
            first_day = day_doses[0][0]
            # the block's fixed fields looked up once (the per-dose arithmetic below is the
            # same, in the same order: the sums come out identical)
            drug, unit, route = block.drug, block.unit, block.route
            given, pk_list = self.given[drug], self.pk_doses[drug]
            pk_route = _PK_ROUTE.get(route, route)
            neuro = drug in self.has_neuro and unit == "mg/m2"
            level_dose = ladder[st.level] if block.dose is not None else None
            sel = (
                day_doses
                if every <= 1
                else [(day, base) for day, base in day_doses if not (day - first_day) % every]
            )
            if not sel:
                continue
            amounts = [
                level_dose if level_dose is not None and base == block.dose else base
                for _day, base in sel
            ]
            mg_of: dict[float, float] = {}
            for amount in amounts:
                if amount not in mg_of:
                    mg_of[amount] = _to_mg(amount, unit, b, drug)
            mgs = [mg_of[amount] for amount in amounts]
            abs_days = [start_day + day - 1 for day, _base in sel]
            given.extend(map(DoseEvent, abs_days, repeat(drug), mgs, repeat("mg"), repeat(route)))
            pk_list.extend(zip([24.0 * (d - 1) for d in abs_days], mgs, repeat(pk_route)))
            total = doses_mg.get(drug, 0.0)
            for mg in mgs:  # dose by dose, in order (the same sum as before)
                total = total + mg
            doses_mg[drug] = total
            if neuro:
                key_route = ROUTE_KEY.get(route, route)
                for amount in amounts:
                    self.neuro_dose[drug] = self.neuro_dose.get(drug, 0.0) + iv_equivalent(
                        drug, amount, key_route
                    )
        self._doses_mg, self._held_now = doses_mg, held_now
        c0 = 24.0 * (start_day - 1)
        self._c0 = c0
        return c0, c0 + 24.0 * phase.cycle_days

    def anc_doses(self, c0: float) -> dict[str, list[tuple[float, float, str]]]:
        """The doses of the neutrophil drugs that still reach the cycle starting at `c0` (h)
        (the superposition stays small)."""
        out = {}
        for d, v in self.pk_doses.items():
            if d in self.lineage_drugs:
                if d not in self._windows:  # the patient's model is fixed: computed once
                    self._windows[d] = ms.recent_window(self.pk_models.get(d, d))
                out[d] = ms.recent_doses(self.pk_models.get(d, d), v, c0, self._windows[d])
        return out

    def anc_effect(self, c0: float) -> Any:
        """The neutrophil drug effect over the cycle starting at `c0` (h)."""
        return ms.linear_effect(
            self.anc_doses(c0),
            models=self.pk_models,
            slope_scale=self.neutrophil_sensitivity,
            cache=self._units,
        )

    def plt_doses(self) -> dict[str, list[tuple[float, float, str]]]:
        """The doses so far of the drugs with a platelet effect."""
        return {d: v for d, v in self.pk_doses.items() if d in self.plt_drugs}

    def plt_drivers(self) -> Any:
        """The platelet model's drivers over the doses given so far."""
        return _plt.drivers(self.plt_doses(), models=self.pk_models, cache=self._units)

    def end_cycle(
        self,
        anc: tuple[np.ndarray, np.ndarray] | None,
        plt: tuple[np.ndarray, np.ndarray] | None,
    ) -> None:
        """Grade the cycle's integrated counts (`anc`: grid times and the neutrophil count;
        `plt`: grid times and the normalised platelet count ``Circ``) and apply the rules."""
        gcycle, pi, _k, start_day = self.plan[self._ci]
        phase = self.reg.phases[pi]
        h = self.h
        nadir = None
        anc_g = None
        if anc is not None:
            t, circ = anc
            sl = slice(0 if not self.t_all else 1, None)
            self.t_all.append(_days(t, sl.start))
            self.anc_all.append(circ[sl])
            nadir = float(circ.min())
            self.last_anc = float(circ[-1])
            anc_g = grade("anc", nadir)
        pn_grade = max(
            [h.neuropathy_grade]
            + [
                grade_from_dose(d, v, h.neuropathy_grade, self.neuropathy_z)
                for d, v in self.neuro_dose.items()
            ]
        )
        self.pn_grade = pn_grade
        plt_nadir = None
        plt_g = None
        if plt is not None:
            pt, pc = plt
            pc = pc * float(self.plt_base)
            sl = slice(0 if not self.plt_t_all else 1, None)
            self.plt_t_all.append(_days(pt, sl.start))
            self.plt_all.append(pc[sl])
            plt_nadir = float(pc.min())
            self.last_plt = float(pc[-1])
            plt_g = grade("platelets", plt_nadir)
        doses_mg = self._doses_mg
        pn_prob: dict[str, float] = {}
        for drug in self.time_neuro:
            if drug in doses_mg:
                self.days_on[drug] += phase.cycle_days
            pn_prob[drug] = round(neuropathy_probability(drug, self.days_on[drug] / 30.4375), 5)
        grades_cycle: dict[str, int] = {"neuropathy": pn_grade}
        if anc_g is not None:
            grades_cycle["anc"] = anc_g
        if plt_g is not None:
            grades_cycle["platelets"] = plt_g
        cycle_actions: list[dict[str, Any]] = []
        for block in phase.drugs:
            st = self.states[block.drug]
            if st.discontinued or not block.dose_modifications:
                continue
            for rule in block.dose_modifications:
                if not rule.fires(grades_cycle):
                    continue
                if rule.measure == "neuropathy" and pn_grade == self.prev_pn:
                    continue  # a lasting grade is one event, acted on when it appears
                if st.held is not None and rule.action == "hold":
                    continue
                before = st.level
                if rule.action == "discontinue":
                    st.discontinued = True
                elif rule.action == "reduce":
                    st.level += 1
                else:
                    st.held = rule
                    st.holds[rule.trigger] = st.holds.get(rule.trigger, 0) + 1
                cycle_actions.append(
                    {
                        "cycle": gcycle,
                        "drug": block.drug,
                        "trigger": rule.trigger,
                        "action": rule.action,
                        "level_before": -before,
                        "level_after": -st.level,
                    }
                )
                break  # one action per drug and cycle: the first rule that fires
        self.prev_pn = pn_grade
        self.actions.extend(cycle_actions)
        self.cycle_rows.append(
            {
                "cycle": gcycle,
                "phase": phase.name,
                "start_day": start_day,
                "doses_mg": {d: round(v, 6) for d, v in doses_mg.items()},
                "anc_nadir": None if nadir is None else round(nadir, 5),
                "anc_grade": anc_g,
                "platelet_nadir": None if plt_nadir is None else round(plt_nadir, 3),
                "platelet_grade": plt_g,
                "neuropathy_grade": pn_grade,
                "neuropathy_probability": pn_prob,
                "held": sorted(set(self._held_now)),
                "actions": [a["action"] + ":" + a["drug"] for a in cycle_actions],
            }
        )

    def result(self) -> tuple[dict[str, list[DoseEvent]], ToxicityCourse]:
        """The doses given per drug and the :class:`ToxicityCourse`."""
        reg, h = self.reg, self.h
        notes = list(self.notes)
        incidence = tuple(
            {
                "drug": i.drug,
                "toxicity": i.toxicity,
                "grade_at_least": i.grade,
                "incidence": i.incidence,
                "dose_mg": i.dose_mg,
                "basis": i.basis,
                "source": i.source,
                "verified": i.verified,
            }
            for i in toxicity_data().incidences
            if i.drug in reg.drugs
        )
        if not self.use_plt and any(
            m.measure == "platelets"
            for p in reg.phases
            for bl in p.drugs
            for m in bl.dose_modifications
        ):
            notes.append(
                "platelet rules are read but never fire: no drug of this regimen has a platelet "
                "time-course model (label incidence only)"
            )
        if h.age is not None or h.frailty is not None or h.ecog is not None:
            notes.append(
                "age, ECOG and frailty are recorded; no sourced effect on toxicity is modelled"
            )
        course = ToxicityCourse(
            regimen=reg.name,
            health=h,
            times_day=np.concatenate(self.t_all) if self.t_all else np.zeros(0),
            anc=np.concatenate(self.anc_all) if self.anc_all else np.zeros(0),
            cycles=tuple(self.cycle_rows),
            actions=tuple(self.actions),
            incidence=incidence,
            renal=None if self.renal is None else self.renal.to_dict(),
            notes=tuple(notes),
            platelet_times_day=np.concatenate(self.plt_t_all) if self.plt_t_all else np.zeros(0),
            platelets=np.concatenate(self.plt_all) if self.plt_all else np.zeros(0),
        )
        return {d: v for d, v in self.given.items()}, course


def _check_patient_inputs(
    neutrophil_sensitivity: Any,
    platelet_sensitivity: Any,
    platelet_eta: Any,
    neuropathy_z: Any,
    cycles: Any,
) -> None:
    """The one-line errors of :func:`apply_dose_modifications` for one patient's draws."""
    if (
        isinstance(neutrophil_sensitivity, bool)
        or not isinstance(neutrophil_sensitivity, (int, float))
        or not math.isfinite(neutrophil_sensitivity)
        or neutrophil_sensitivity < 0
    ):
        raise InvalidInputError(
            f"apply_dose_modifications(): neutrophil_sensitivity must be a number >= 0, got "
            f"{neutrophil_sensitivity!r}"
        )
    for name, v in (
        ("platelet_sensitivity", platelet_sensitivity),
        ("platelet_eta", platelet_eta),
        ("neuropathy_z", neuropathy_z),
    ):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not math.isfinite(v)
            or (name == "platelet_sensitivity" and v < 0)
        ):
            raise InvalidInputError(
                f"apply_dose_modifications(): {name} must be a finite number"
                f"{' >= 0' if name == 'platelet_sensitivity' else ''}, got {v!r}"
            )
    if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
        raise InvalidInputError(
            f"apply_dose_modifications(): cycles must be an integer >= 1, got {cycles!r}"
        )


def apply_dose_modifications(
    regimen: str | os.PathLike[str] | Regimen,
    cycles: int,
    body: Body | Mapping[str, float] | None = None,
    health: Health | Mapping[str, Any] | None = None,
    *,
    renal_adjust: bool = True,
    neutrophil_sensitivity: float = 1.0,
    dt_h: float = 2.0,
    pk_etas: Mapping[str, Mapping[str, float]] | None = None,
    platelet_sensitivity: float = 1.0,
    platelet_eta: float = 0.0,
    neuropathy_z: float = 0.0,
    backend: str = "auto",
    **health_fields: Any,
) -> tuple[dict[str, list[DoseEvent]], ToxicityCourse]:
    """Run a patient through `cycles` cycles of `regimen`, following its dose-modification rules.

    Each cycle: the doses of the drugs not held or discontinued, at their current dose level ->
    plasma concentrations (:mod:`mmmech.pk`; lenalidomide clearance scaled to the patient's
    creatinine clearance) -> neutrophil counts (Friberg model, state carried from cycle to
    cycle) and cumulative-dose neuropathy -> CTCAE grades -> the rules of each drug block
    (``hold`` until ``resume`` holds at a cycle start, ``reduce`` to the next dose level,
    ``discontinue``; reducing below the last level discontinues) -> the next cycle's doses.

    Parameters
    ----------
    regimen
        A bundled regimen name, a regimen file path, or a :class:`~mmmech.regimens.Regimen`.
    cycles
        Number of cycles to run (across phases, in order).
    body
        ``Body`` or a mapping with ``bsa_m2`` / ``weight_kg`` for per-m2 / per-kg doses.
    health, **health_fields
        The patient's health (a :class:`Health`, a mapping with the patient file's fields, and/or
        keywords such as ``crcl_ml_min=25, anc_10e9_L=3.1, neuropathy_grade=1``).
    renal_adjust
        Start lenalidomide at the label's dose for the patient's creatinine clearance.
    neutrophil_sensitivity
        Multiplier of every drug's effect on neutrophil proliferation for this patient (1 =
        typical; a virtual population draws it log-normally with the curated
        ``iiv_slope_var``).
    dt_h
        Integration step of the neutrophil and platelet models (h).
    pk_etas
        The patient's PK random effects ``{drug: {parameter: eta}}``
        (:func:`mmmech.pk.patient_etas`),
        applied on top of the renal clearance scaling (default: the typical patient).
    platelet_sensitivity
        Multiplier of every drug's loss of platelet precursors for this patient (1 = typical).
    platelet_eta
        Standard-normal deviation of the platelet baseline when the patient's platelet count is
        not given (Srimani 2022 Equation 19; 0 = typical 203 x 10^9/L).
    neuropathy_z
        Standard-normal quantile of the patient's cumulative-dose neuropathy thresholds
        (0 = the median patient; :mod:`mmmech.toxicity.neuropathy`).
    backend
        ``"auto"`` (default): the counts of each cycle through the compiled kernel
        (:mod:`mmmech.toxicity._compiled`) when it is built and takes the regimen's drugs,
        else NumPy; ``"python"``: the NumPy path (the reference; equal within 1e-12);
        ``"cython"``: the kernel, an error when it is not built.

    Returns
    -------
    doses, course
        ``{drug: [DoseEvent(day, drug, amount_mg, 'mg', route), ...]}`` — the doses actually
        given (for wiring into the efficacy course) — and the :class:`ToxicityCourse`.

    Examples
    --------
    >>> doses, course = apply_dose_modifications("rd", 2, crcl_ml_min=90)
    >>> len(doses["lenalidomide"]), course.worst_grade("anc") < 3
    (42, True)
    """
    reg = regimen if isinstance(regimen, Regimen) else _regimens.load(regimen)
    _check_patient_inputs(
        neutrophil_sensitivity, platelet_sensitivity, platelet_eta, neuropathy_z, cycles
    )
    _check_backend("apply_dose_modifications", backend)
    b = body if isinstance(body, Body) or body is None else Body(**dict(body))
    h = Health.of(health, **health_fields)
    run = _Course(
        reg,
        cycles,
        b,
        h,
        renal_adjust=renal_adjust,
        neutrophil_sensitivity=float(neutrophil_sensitivity),
        pk_etas=pk_etas,
        platelet_sensitivity=float(platelet_sensitivity),
        platelet_eta=float(platelet_eta),
        neuropathy_z=float(neuropathy_z),
    )
    kc = _kernel_cycles([run], dt_h, backend)
    for ci in range(len(run.plan)):
        c0, c1 = run.begin_cycle(ci)
        if kc is not None:
            anc_cols, plt_cols = kc.cycle(c0, c1)
            run.end_cycle(anc_cols[0], plt_cols[0])
            continue
        anc = plt = None
        if run.use_anc:
            t, circ, run.state_y = ms.simulate(
                run.anc_effect(c0), run.params, c0, c1, state=run.state_y, dt_h=dt_h
            )
            anc = (t, circ)
        if run.use_plt:
            pt, pc, run.plt_state = _plt.simulate(
                run.plt_drivers(),
                c0,
                c1,
                state=run.plt_state,
                dt_h=dt_h,
                scale=run.platelet_sensitivity,
            )
            plt = (pt, pc)
        run.end_cycle(anc, plt)
    return run.result()


_BACKENDS = ("auto", "python", "cython")


def _check_backend(func: str, backend: Any) -> None:
    """The one-line error for an unknown `backend`."""
    if backend not in _BACKENDS:
        raise InvalidInputError(
            f"{func}(): backend must be one of {', '.join(_BACKENDS)}, got {backend!r}"
            f"{did_you_mean(str(backend), list(_BACKENDS))}"
        )


def _kernel_cycles(runs: Sequence[_Course], dt_h: float, backend: str) -> Any:
    """The compiled counts of `runs` (:class:`_compiled.KernelCycles`), or None for the NumPy
    path (``backend="python"``, or ``"auto"`` without the kernel or for drugs it does not
    take). ``"cython"`` without the kernel raises its build hint."""
    if backend == "python":
        return None
    if backend == "cython" and not _compiled.available():
        from .. import _kernels  # deferred: only for the error

        _kernels.load("_toxicity")
    if not _compiled.supported(runs):
        return None
    return _compiled.KernelCycles(runs, dt_h)


def _per_patient(name: str, v: Any, n: int, default: Any) -> list[Any]:
    """`v` as one value per patient (None: `default` for all)."""
    if v is None:
        return [default] * n
    out = list(v)
    if len(out) != n:
        raise InvalidInputError(
            f"apply_dose_modifications_batch(): {name} must have one entry per patient ({n}), "
            f"got {len(out)}"
        )
    return out


def apply_dose_modifications_batch(
    regimen: str | os.PathLike[str] | Regimen,
    cycles: int,
    bodies: Sequence[Body | Mapping[str, float] | None],
    healths: Sequence[Health | Mapping[str, Any] | None],
    *,
    renal_adjust: bool = True,
    neutrophil_sensitivity: Sequence[float] | None = None,
    dt_h: float = 2.0,
    pk_etas: Sequence[Mapping[str, Mapping[str, float]] | None] | None = None,
    platelet_sensitivity: Sequence[float] | None = None,
    platelet_eta: Sequence[float] | None = None,
    neuropathy_z: Sequence[float] | None = None,
    renal_details: bool = True,
    backend: str = "auto",
) -> list[tuple[dict[str, list[DoseEvent]], ToxicityCourse]]:
    """:func:`apply_dose_modifications` for several patients of one regimen at once: one entry
    per patient in `bodies`, `healths` and each per-patient keyword (None: the typical value
    for everyone). Every patient keeps its own rules, doses and state; the neutrophil and
    platelet counts of all patients are integrated together, one vectorised fixed-step
    integration per cycle (the same arithmetic as one patient's, column by column), which
    removes the per-patient Python loop over integration steps. Returns what
    :func:`apply_dose_modifications` returns for each patient, in order; equal to calling it
    per patient (to rounding: tests/toxicity/test_course_batch.py). `renal_details=False`
    leaves out the course's ``renal`` record (None; the predicted exposures that explain the
    lenalidomide starting dose, about 20 ms a patient): the doses are the same. `backend`: as
    :func:`apply_dose_modifications`'s (``"auto"``: every patient's counts of a cycle in one
    kernel call when the kernel is built)."""
    reg = regimen if isinstance(regimen, Regimen) else _regimens.load(regimen)
    _check_backend("apply_dose_modifications_batch", backend)
    n = len(bodies)
    if len(healths) != n:
        raise InvalidInputError(
            f"apply_dose_modifications_batch(): healths must have one entry per body ({n}), "
            f"got {len(healths)}"
        )
    if n == 0:
        return []
    sens = _per_patient("neutrophil_sensitivity", neutrophil_sensitivity, n, 1.0)
    etas = _per_patient("pk_etas", pk_etas, n, None)
    psens = _per_patient("platelet_sensitivity", platelet_sensitivity, n, 1.0)
    peta = _per_patient("platelet_eta", platelet_eta, n, 0.0)
    pz = _per_patient("neuropathy_z", neuropathy_z, n, 0.0)
    # each patient's inputs checked exactly as one patient's are (a zero-cycle dry run is not
    # possible: cycles >= 1), by building its course object after the same checks
    runs: list[_Course] = []
    for j in range(n):
        _check_patient_inputs(sens[j], psens[j], peta[j], pz[j], cycles)
        body = bodies[j]
        b = body if isinstance(body, Body) or body is None else Body(**dict(body))
        runs.append(
            _Course(
                reg,
                cycles,
                b,
                Health.of(healths[j]),
                renal_adjust=renal_adjust,
                neutrophil_sensitivity=float(sens[j]),
                pk_etas=etas[j],
                platelet_sensitivity=float(psens[j]),
                platelet_eta=float(peta[j]),
                neuropathy_z=float(pz[j]),
                renal_details=renal_details,
            )
        )
    first = runs[0]
    for r in runs[1:]:
        r._plan_cache = first._plan_cache  # one regimen: its blocks' doses computed once
        r._ladders = first._ladders
    kc = _kernel_cycles(runs, dt_h, backend)
    if kc is not None:
        for ci in range(len(first.plan)):
            spans = [r.begin_cycle(ci) for r in runs]
            anc_k, plt_k = kc.cycle(*spans[0])
            for j, r in enumerate(runs):
                r.end_cycle(anc_k[j], plt_k[j])
        return [r.result() for r in runs]
    params = ms.FribergParameters(
        first.params.mtt_h,
        first.params.gamma,
        np.array([float(r.params.baseline) for r in runs]),
    )
    scale = np.array([r.platelet_sensitivity for r in runs])
    state_y: np.ndarray | None = None
    plt_state: np.ndarray | None = None
    for ci in range(len(first.plan)):
        spans = [r.begin_cycle(ci) for r in runs]
        c0, c1 = spans[0]
        anc_cols: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n
        plt_cols: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n
        if first.use_anc:
            # every patient's effect at once (column j equal to runs[j].anc_effect(c0) bit for
            # bit), the doses on the same grid offsets superposed together
            effect = ms.linear_effect_batch(
                [r.anc_doses(c0) for r in runs],
                models=[r.pk_models for r in runs],
                slope_scale=[r.neutrophil_sensitivity for r in runs],
                caches=[r._units for r in runs],
            )
            t, circ, state_y = ms.simulate(effect, params, c0, c1, state=state_y, dt_h=dt_h)
            anc_cols = [(t, circ[:, j]) for j in range(n)]
        if first.use_plt:
            # column j equal to runs[j].plt_drivers() bit for bit
            values, coef = _plt.drivers_batch(
                [r.plt_doses() for r in runs],
                [r.pk_models for r in runs],
                [r._units for r in runs],
            )
            pt, pc, plt_state = _plt.simulate(
                (values, coef),  # type: ignore[arg-type]
                c0,
                c1,
                state=plt_state,
                dt_h=dt_h,
                scale=scale,
            )
            plt_cols = [(pt, pc[:, j]) for j in range(n)]
        for j, r in enumerate(runs):
            r.end_cycle(anc_cols[j], plt_cols[j])
    return [r.result() for r in runs]
