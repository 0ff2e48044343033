"""A regimen in time: PK concentrations -> occupancies -> network -> tumour -> M-protein -> IMWG.

:func:`simulate_regimen` (``mmmech.simulate_regimen``) runs one regimen (or, with
:func:`simulate_regimens`, several variants in one batch):

1. doses from :func:`mmmech.regimens.expand` (mg/m2 and mg/kg with the patient's body);
2. each drug's plasma concentration (total, nM) from its :mod:`mmmech.pk` model; a drug without
   a PK model (or dosed by a route its model does not cover) is held at its library reference
   exposure for the 24 h after each dose (``no_pk="reference"``, the default, with a note) or
   left out (``no_pk="omit"``);
3. target occupancies averaged over each step of `step_hours` (piecewise-constant inputs,
   ``Simulator.fixed_arrays``), and the network integrated step by step from the untreated
   steady state with the batched kernel (:func:`mmmech.simulation.propagate.time_course`, the
   state carried over);
4. tumour burden and M-protein from the readouts (:mod:`mmmech.dynamics.tumour`), IMWG response
   on top (:mod:`mmmech.dynamics.imwg`).

The network's time unit (its node time constants are 1) is mapped to `hours_per_model_time`
hours (default 1 h): a modelling choice, documented in ``docs/dynamics.md``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import drugs as _drugs
from .. import pk as _pk
from .. import populations as _populations
from .. import regimens as _regimens
from ..exceptions import ConvergenceError, InvalidInputError, UnknownDrugError
from ..pk import cellular as _cellular_pk
from ..simulation import propagate
from ..simulation.simulator import Simulator
from ..toxicity import renal as _toxicity_renal
from ..utils import did_you_mean
from . import feedback as _feedback
from ._course import network_course
from .imwg import IMWG_SOURCE, Response, classify
from .kinetics import interval_means, kinetic_columns, occupancy_course
from .resistance import apply_resistance, regimen_factor
from .tumour import HALF_LIVES, TumourModel, integrate, scale_rates, tumour_model

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "RegimenResult",
    "simulate_regimen",
    "simulate_regimens",
    "PK_ROUTES",
    "KEY_NODES",
    "HOURS_PER_MODEL_TIME",
    "REFERENCE_BODY",
    "KINETIC_DT_H",
]

#: regimen route -> pk route
PK_ROUTES = {"iv": "iv_bolus", "iv_infusion": "iv_infusion", "sc": "sc", "po": "oral"}
#: nodes reported in the time course when the model has them (besides the readouts)
KEY_NODES = ("Proteasome", "IKZF1", "IKZF3", "NR3C1", "MCL1", "NOXA", "IRF4", "MYC")
#: hours per unit of model time (every node's tau is 1 model time unit): a modelling choice
HOURS_PER_MODEL_TIME = 1.0
#: body used for mg/m2 and mg/kg doses when none is given (a convention, said in the notes)
REFERENCE_BODY = _regimens.Body(weight_kg=70.0, bsa_m2=1.8)
#: longest interval (h) of the grid on which binding kinetics are integrated (exact per interval
#: for interval-mean concentrations)
KINETIC_DT_H = 0.25
_READOUTS = ("proliferation", "apoptosis", "immune_killing", "viability")


@dataclass
class RegimenResult:
    """A simulated regimen.

    Attributes
    ----------
    regimen : str
        Name (with ``label`` for a variant: a dropped drug or a scaled dose).
    cycles : int
    timecourse : pandas.DataFrame
        One row per grid point: ``hour``, ``day`` (hour / 24), ``conc_<drug>_nM``, readouts and
        key nodes (``node_<name>``), ``tumour_burden`` (relative to the start) and
        ``m_protein_g_per_dL``.
    best_response : str
        ``CR``, ``VGPR``, ``PR``, ``MR``, ``SD`` or ``PD`` (IMWG on the M-protein course).
    time_to_progression_days : float or None
    pk : dict
        ``{drug: {cmax_nM, trough_nM, auc_nM_h}}`` over the first cycle (PK-modelled drugs).
    notes : list of str
    dosing_days : dict
        ``{drug: [day, ...]}`` (1 = the regimen's first day).
    response : Response
    """

    regimen: str
    label: str
    cycles: int
    timecourse: pd.DataFrame
    best_response: str
    time_to_progression_days: float | None
    pk: dict[str, dict[str, float]]
    notes: list[str]
    dosing_days: dict[str, list[int]]
    response: Response
    drugs: tuple[str, ...] = field(default=())
    patient: Any = None
    subclones: dict[str, float] = field(default_factory=dict)
    #: the toxicity course behind the doses given (``toxicity=True``), else None
    toxicity: Any = None

    def concentrations(self) -> dict[str, dict[str, list[float]]]:
        tc = self.timecourse
        return {
            d: {"hour": tc["hour"].tolist(), "nM": tc[f"conc_{d}_nM"].tolist()} for d in self.drugs
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of issue 16 (``mmmech regimen simulate --json``)."""
        tc = self.timecourse
        return {
            "regimen": self.regimen if not self.label else f"{self.regimen} ({self.label})",
            "cycles": self.cycles,
            "best_response": self.best_response,
            "time_to_progression_days": self.time_to_progression_days,
            "m_protein": {
                "day": tc["day"].tolist(),
                "g_per_dL": tc["m_protein_g_per_dL"].tolist(),
            },
            "concentrations": self.concentrations(),
            "pk": {k: dict(v) for k, v in self.pk.items()},
            "notes": list(self.notes),
            "patient": None if self.patient is None else self.patient.to_dict(),
            "subclones": dict(self.subclones),
            **(
                {}
                if self.toxicity is None
                else {"toxicity": _feedback.toxicity_summary(self.toxicity)}
            ),
        }

    def plot(self, path: str | os.PathLike[str]) -> str:
        """Concentrations, key nodes and M-protein over time with dosing days marked; written
        atomically to `path` (.png, .svg or .pdf). Returns the path."""
        from .. import _figures  # deferred: matplotlib loads only when a picture is drawn

        _figures.check_output_path(path, "RegimenResult.plot")
        tc = self.timecourse
        fig = _figures.new_figure((9.0, 8.0))
        axes = fig.subplots(3, 1, sharex=True)
        day = tc["day"].to_numpy()
        for d in self.drugs:
            c = tc[f"conc_{d}_nM"].to_numpy()
            axes[0].plot(day, np.maximum(c, 1e-3), label=d, lw=1)
        axes[0].set_yscale("log")
        axes[0].set_ylabel("plasma conc. (nM)")
        axes[0].legend(fontsize=7, loc="upper right")
        for col in [c for c in tc.columns if c.startswith("node_")]:
            axes[1].plot(day, tc[col], label=col[5:], lw=1)
        axes[1].set_ylabel("activity")
        axes[1].set_ylim(-0.02, 1.02)
        axes[1].legend(fontsize=6, ncol=3, loc="upper right")
        axes[2].plot(day, tc["m_protein_g_per_dL"], color="k", lw=1.5)
        axes[2].set_ylabel("M-protein (g/dL)")
        axes[2].set_xlabel("day")
        ttp = self.time_to_progression_days
        axes[2].set_title(
            f"best response {self.best_response}; "
            + ("no progression" if ttp is None else f"progression on day {ttp:.0f}"),
            fontsize=9,
        )
        for i, d in enumerate(self.drugs):
            for dd in self.dosing_days.get(d, []):
                axes[0].axvline(dd - 1, color=f"C{i}", alpha=0.25, lw=0.6)
        fig.suptitle(self.regimen + (f" ({self.label})" if self.label else ""))
        fig.tight_layout()
        return _figures.save_figure(fig, path, func="RegimenResult.plot")


def _horizon_days(reg: _regimens.Regimen, cycles: int) -> tuple[int, int]:
    """(days covered by the first `cycles` cycles, length of the first cycle)."""
    left, day = cycles, 0
    for phase in reg.phases:
        day += phase.delay_days
        n = phase.cycles if phase.cycles is not None else left
        n = min(n, left)
        day += n * phase.cycle_days
        left -= n
        if left <= 0 or phase.cycles is None:
            break
    return day, reg.phases[0].cycle_days


def _total_cycles(reg: _regimens.Regimen) -> int | None:
    if reg.until_progression:
        return None
    return sum(p.cycles or 0 for p in reg.phases)


def _has_pk(drug: str) -> bool:
    return drug.lower() in _pk.models()


def _cellular(drug: str) -> bool:
    """True for a CAR-T product with a cellular-kinetic model (:mod:`mmmech.pk.cellular`)."""
    return drug.lower() in _cellular_pk.models()


def _check_int(x: Any, name: str, func: str, low: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < low:
        raise InvalidInputError(f"{func}(): {name} must be an integer >= {low}, got {x!r}")
    return x


@dataclass
class _Item:
    regimen: _regimens.Regimen
    drop: tuple[str, ...]
    dose_scale: dict[str, float]
    label: str
    body: _regimens.Body | None = None
    #: explicit dose events (``doses`` key: the doses actually given), else expand the regimen
    doses: tuple[Any, ...] | None = None
    #: lenalidomide clearance scaled to the patient's CrCl (``renal_pk`` key; toxicity runs)
    renal_pk: bool = False


def _check_course_args(
    no_pk: Any,
    step_hours: Any,
    substeps: Any,
    hours_per_model_time: Any,
    tumour: Any,
    func: str,
) -> tuple[int, TumourModel]:
    """The time-course settings shared by :func:`simulate_regimens` and
    :func:`mmmech.dynamics.simulate_cohort`, checked; returns (substeps, tumour model)."""
    if no_pk not in ("reference", "omit"):
        raise InvalidInputError(f"{func}(): no_pk must be 'reference' or 'omit', got {no_pk!r}")
    if (
        isinstance(step_hours, bool)
        or not isinstance(step_hours, (int, float))
        or not (0 < step_hours <= 24 and math.isfinite(step_hours))
    ):
        raise InvalidInputError(f"{func}(): step_hours must be in (0, 24], got {step_hours!r}")
    substeps = _check_int(substeps, "substeps", func)
    if not (isinstance(hours_per_model_time, (int, float)) and hours_per_model_time > 0):
        raise InvalidInputError(
            f"{func}(): hours_per_model_time must be > 0, got {hours_per_model_time!r}"
        )
    tumour = tumour or TumourModel()
    if not isinstance(tumour, TumourModel):
        raise InvalidInputError(f"{func}(): tumour must be a TumourModel, got {tumour!r}")
    return substeps, tumour


def _body(body: Any, func: str) -> _regimens.Body | None:
    if body is None or isinstance(body, _regimens.Body):
        return body
    if isinstance(body, Mapping):
        extra = sorted(set(body) - {"weight_kg", "bsa_m2"})
        if extra:
            raise InvalidInputError(
                f"{func}(): body has unknown measure {extra[0]!r} (expected weight_kg, bsa_m2)"
            )
        return _regimens.Body(**body)
    raise InvalidInputError(f"{func}(): body must be a Body or a mapping, got {body!r}")


def _item(spec: Any, func: str) -> _Item:
    if isinstance(spec, Mapping):
        extra = sorted(
            set(spec) - {"regimen", "drop", "dose_scale", "label", "body", "doses", "renal_pk"}
        )
        if extra:
            raise InvalidInputError(f"{func}(): unknown key {extra[0]!r} in a regimen variant")
        reg = spec.get("regimen")
        drop = spec.get("drop", ())
        scale = spec.get("dose_scale") or {}
        label = spec.get("label")
        body = _body(spec.get("body"), func)
        doses = spec.get("doses")
        renal_pk = bool(spec.get("renal_pk", False))
    else:
        reg, drop, scale, label, body, doses, renal_pk = spec, (), {}, None, None, None, False
    if not isinstance(reg, _regimens.Regimen):
        if not isinstance(reg, (str, os.PathLike)):
            raise InvalidInputError(
                f"{func}(): regimen must be a Regimen, a bundled name or a file path, got "
                f"{type(reg).__name__}"
            )
        reg = _regimens.load(reg)
    drop = (drop,) if isinstance(drop, str) else tuple(drop)
    for d in drop:
        if d not in reg.drugs:
            raise InvalidInputError(
                f"{func}(): drop names {d!r}, not a drug of {reg.name}"
                f"{did_you_mean(d, list(reg.drugs))} (drugs: {', '.join(reg.drugs)})"
            )
    if len(drop) >= len(reg.drugs):
        raise InvalidInputError(f"{func}(): drop would remove every drug of {reg.name}")
    scale = dict(scale)
    for d, f in scale.items():
        if d not in reg.drugs:
            raise InvalidInputError(
                f"{func}(): dose_scale names {d!r}, not a drug of {reg.name}"
                f"{did_you_mean(str(d), list(reg.drugs))}"
            )
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not (f >= 0):
            raise InvalidInputError(f"{func}(): dose_scale[{d!r}] must be >= 0, got {f!r}")
    if label is None:
        parts = [f"without {d}" for d in drop] + [f"{d} x{f:g}" for d, f in scale.items()]
        label = ", ".join(parts)
    events = None if doses is None else _dose_events(doses, reg, func)
    return _Item(reg, drop, scale, str(label), body, events, renal_pk)


def _dose_events(doses: Any, reg: _regimens.Regimen, func: str) -> tuple[Any, ...]:
    """Explicit dose events (a list of DoseEvent, or ``{drug: [DoseEvent, ...]}``) checked:
    drugs of the regimen, days >= 1, amounts >= 0, units and routes the regimens use."""
    if isinstance(doses, Mapping):
        doses = [e for evs in doses.values() for e in evs]
    if isinstance(doses, (str, bytes)) or not isinstance(doses, Sequence):
        raise InvalidInputError(
            f"{func}(): doses must be a list of regimens.DoseEvent, got {type(doses).__name__}"
        )
    out = []
    for e in doses:
        if not isinstance(e, _regimens.DoseEvent):
            e = _regimens.DoseEvent(*e) if isinstance(e, (tuple, list)) and len(e) == 5 else e
        if not isinstance(e, _regimens.DoseEvent):
            raise InvalidInputError(
                f"{func}(): doses must hold DoseEvent(day, drug, amount, unit, route), got {e!r}"
            )
        if e.drug not in reg.drugs:
            raise InvalidInputError(
                f"{func}(): doses names {e.drug!r}, not a drug of {reg.name}"
                f"{did_you_mean(str(e.drug), list(reg.drugs))}"
            )
        if isinstance(e.day, bool) or not isinstance(e.day, int) or e.day < 1:
            raise InvalidInputError(f"{func}(): a dose day must be an integer >= 1, got {e.day!r}")
        a = e.amount
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not (a >= 0):
            raise InvalidInputError(f"{func}(): a dose amount must be >= 0, got {a!r}")
        if e.route not in PK_ROUTES:
            raise InvalidInputError(
                f"{func}(): dose route must be one of {', '.join(PK_ROUTES)}, got {e.route!r}"
            )
        out.append(e)
    return tuple(sorted(out, key=lambda e: (e.day, e.drug)))


def _doses(
    item: _Item, cycles: int, body: _regimens.Body, events: list[Any] | None = None
) -> list[Any]:
    """The variant's dose events for `body` (`events`: the regimen's expanded doses when the
    caller has them, else :func:`mmmech.regimens.expand`)."""
    if item.doses is not None:
        events = list(item.doses)
    elif events is None:
        events = _regimens.expand(item.regimen, body=body, cycles=cycles)
    out = []
    for e in events:
        if e.drug in item.drop:
            continue
        f = item.dose_scale.get(e.drug, 1.0)
        if f == 1.0 and type(e.amount) is float:
            out.append(e)  # e.amount * 1.0 is e.amount: the same event, without a copy
        else:
            out.append(e._replace(amount=e.amount * f))
    return out


#: pseudo-covariate set by a ``renal_pk`` spec: lenalidomide clearance scaled to this CrCl
_RENAL_CRCL = "_renal_crcl_ml_min"


def _agent_scales(
    x: Mapping[str, float] | None, name: str, drugs: Sequence[str], func: str
) -> dict[str, float]:
    """`exposure_scale` / `efficacy_scale` of :func:`simulate_cohort` checked: a mapping
    ``{drug: factor > 0}``; only the drugs of the regimen that are not 1 are kept (a parameter
    file names drugs of other regimens too). None or {} leaves every drug as it is."""
    if x is None:
        return {}
    if not isinstance(x, Mapping):
        raise InvalidInputError(
            f"{func}(): {name} must be a mapping {{drug: factor > 0}}, got {type(x).__name__}"
        )
    known = list(_drugs.names())
    out: dict[str, float] = {}
    for d, f in x.items():
        if not isinstance(d, str) or d not in known:
            raise InvalidInputError(
                f"{func}(): {name}: unknown drug {d!r}{did_you_mean(str(d), known)}"
            )
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not (0 < f < math.inf):
            raise InvalidInputError(f"{func}(): {name}[{d!r}] must be a number > 0, got {f!r}")
        if d in drugs and float(f) != 1.0:
            out[d] = float(f)
    return out


def _pk_model(drug: str, covariates: Mapping[str, float]) -> Any:
    """The PK model of `drug` with the body measures it has numeric covariate effects for
    (lenalidomide with its CrCl-scaled clearance, :func:`mmmech.toxicity.renal.pk_model`, in a
    toxicity run)."""
    if _RENAL_CRCL in covariates and drug.lower() == "lenalidomide":
        return _toxicity_renal.pk_model(float(covariates[_RENAL_CRCL]), "lenalidomide")
    m = _pk.model(drug)
    numeric = {c.name for c in m.covariates if c.form != "note"}
    use = {k: float(v) for k, v in covariates.items() if k in numeric}
    return _pk.model(drug, **use) if use else m


def _pk_doses(m: Any, evs: list[Any]) -> list[Any]:
    """``pk`` dose tuples of regimen dosing events (h from the regimen's start)."""
    doses: list[tuple[float, float, str] | tuple[float, float, str, float]] = []
    for e in evs:
        route = PK_ROUTES[e.route]
        t = (e.day - 1) * 24.0
        if route == "iv_infusion":
            doses.append((t, e.amount, route, m.infusion_h or 0.5))
        else:
            doses.append((t, e.amount, route))
    return doses


def _conc_intervals(
    drug: str,
    events: list[Any],
    edges_h: np.ndarray,
    no_pk: str,
    covariates: dict[str, float],
) -> np.ndarray:
    """Mean concentration (nM) of `drug` over each interval of `edges_h`: exact (analytic
    cumulative AUC) for a linear PK model covering every route, else sampled mid-interval."""
    evs = [e for e in events if e.drug == drug]
    if not evs:
        return np.zeros(len(edges_h) - 1)
    covered = False
    if _has_pk(drug):
        m = _pk_model(drug, covariates)
        covered = all(PK_ROUTES.get(e.route, e.route) in m.routes for e in evs)
        if covered:
            out = interval_means(m, _pk_doses(m, evs), edges_h)
            if out is not None:
                return out
    mid = 0.5 * (edges_h[1:] + edges_h[:-1])
    held = _conc_matrix(drug, events, mid, no_pk, covariates, [])
    if not covered and not _cellular(drug):
        # DNA-damage kinetics integrate exposure: a dose held at the reference for 24 h stands
        # for `held_exposure_h` hours of it (drugs.toml), not 24 (docs/dynamics.md, melphalan)
        for t in _drugs.get(drug).targets:
            k = t.kinetics
            if k is not None and k.kind == "damage" and k.held_exposure_h is not None:
                return held * (float(k.held_exposure_h) / 24.0)
    return held


def _conc_matrix(
    drug: str,
    events: list[Any],
    times_h: np.ndarray,
    no_pk: str,
    covariates: dict[str, float],
    notes: list[str],
) -> np.ndarray:
    """Plasma concentration (nM) of `drug` at `times_h` after its `events`."""
    evs = [e for e in events if e.drug == drug]
    if not evs:
        return np.zeros_like(times_h)
    pk_ok = _has_pk(drug)
    m = None
    if pk_ok:
        m = _pk_model(drug, covariates)
        routes = {PK_ROUTES.get(e.route, e.route) for e in evs}
        missing = sorted(r for r in routes if r not in m.routes)
        if missing:
            notes.append(
                f"{drug}: the PK model covers {', '.join(m.routes)}, not {', '.join(missing)}; "
                f"handled as a drug without PK"
            )
            pk_ok = False
    if pk_ok:
        assert m is not None
        return np.asarray(_pk.concentration(m, _pk_doses(m, evs), times_h, unit="nM"), dtype=float)
    if _cellular(drug):
        ref_c = _drugs.get(drug).reference_nM
        if ref_c is not None:
            infusions = [(e.day - 1) * 24.0 for e in evs]
            return np.asarray(
                _cellular_pk.nm_equivalent(drug, ref_c, infusions, times_h), dtype=float
            )
    if no_pk == "omit":
        return np.zeros_like(times_h)
    ref = _drugs.get(drug).reference_nM
    if ref is None:
        raise UnknownDrugError(f"simulate_regimen(): {drug} has neither a PK model nor a reference")
    c = np.zeros_like(times_h)
    for e in evs:
        t = (e.day - 1) * 24.0
        c[(times_h >= t) & (times_h < t + 24.0)] = ref
    return c


def simulate_regimens(
    regimens: Sequence[Any],
    *,
    cycles: int | None = None,
    context: Any = "marrow",
    body: _regimens.Body | Mapping[str, float] | None = None,
    model: Any = "myeloma",
    step_hours: float = 4.0,
    substeps: int = 4,
    tumour: TumourModel | None = None,
    no_pk: str = "reference",
    hours_per_model_time: float = HOURS_PER_MODEL_TIME,
    cr_reduction: float = 0.99,
    backend: str = "auto",
    binding_kinetics: bool = True,
    levels: Mapping[str, float] | None = None,
    covariates: Mapping[str, float] | None = None,
    patient: Any = None,
    subclones: Mapping[str, float] | None = None,
    exposure_scale: Mapping[str, float] | None = None,
    efficacy_scale: Mapping[str, float] | None = None,
) -> list[RegimenResult]:
    """Several regimens (or variants) in one batch; see :func:`simulate_regimen`.

    Each item is a regimen (name, path or :class:`~mmmech.regimens.Regimen`) or a mapping
    ``{"regimen": ..., "drop": [drug, ...], "dose_scale": {drug: factor}, "label": str,
    "body": {"weight_kg": ..., "bsa_m2": ...}, "doses": [DoseEvent, ...], "renal_pk": bool}``
    (patients of different size in one batch; an item's body replaces `body`). ``doses``
    replaces the regimen's expanded schedule by explicit dose events (``regimens.DoseEvent``,
    e.g. the doses actually given from :func:`mmmech.toxicity.apply_dose_modifications`, or
    ``{drug: [DoseEvent, ...]}``); ``drop`` and ``dose_scale`` still apply to them, and the
    regimen still sets the cycles and the horizon. ``renal_pk=True`` scales lenalidomide's
    clearance to the CrCl among the covariates (the toxicity layer's renal model).
    ``exposure_scale`` and ``efficacy_scale`` as :func:`mmmech.dynamics.simulate_cohort`.
    """
    func = "simulate_regimen"
    if patient is not None or subclones:
        return _clonal(
            regimens,
            patient=patient,
            subclones=subclones,
            cycles=cycles,
            context=context,
            body=body,
            model=model,
            step_hours=step_hours,
            substeps=substeps,
            tumour=tumour,
            no_pk=no_pk,
            hours_per_model_time=hours_per_model_time,
            cr_reduction=cr_reduction,
            backend=backend,
            binding_kinetics=binding_kinetics,
            levels=levels,
            covariates=covariates,
            exposure_scale=exposure_scale,
            efficacy_scale=efficacy_scale,
        )
    if isinstance(regimens, (str, bytes, os.PathLike, _regimens.Regimen, Mapping)):
        regimens = [regimens]
    items = [_item(s, func) for s in regimens]
    if not items:
        raise InvalidInputError(f"{func}(): give at least one regimen")
    substeps, tumour = _check_course_args(
        no_pk, step_hours, substeps, hours_per_model_time, tumour, func
    )
    base_notes: list[str] = []
    body = _body(body, func)
    covariates_extra = _covariates(covariates, func)
    ncyc: list[int] = []
    for it in items:
        n = cycles if cycles is not None else _total_cycles(it.regimen)
        if n is None:
            raise InvalidInputError(
                f"{func}(): regimen {it.regimen.name!r} runs until progression; give cycles=N "
                f"(--cycles N)"
            )
        ncyc.append(_check_int(n, "cycles", func))

    def per_body(it: _Item) -> bool:
        return any(
            b.unit in ("mg/m2", "mg/kg", "cells/kg") for p in it.regimen.phases for b in p.drugs
        )

    body_note = (
        "doses per m2/kg use a reference adult (70 kg, 1.8 m2; a convention): give the body "
        "(body=, or --weight-kg/--bsa)"
    )
    # the grid: the longest regimen decides; shorter ones are followed untreated to the end
    spans = [_horizon_days(it.regimen, n) for it, n in zip(items, ncyc, strict=True)]
    horizon_h = max(s[0] for s in spans) * 24.0
    K = int(math.ceil(horizon_h / step_hours))
    edges = np.arange(K + 1) * float(step_hours)
    sub = (np.arange(K)[:, None] + (np.arange(substeps)[None, :] + 0.5) / substeps) * step_hours
    # drugs: union over the batch, in order of appearance
    all_drugs: list[str] = []
    for it in items:
        for d in it.regimen.drugs:
            if d not in all_drugs:
                all_drugs.append(d)
    R, D = len(items), len(all_drugs)
    kin_drugs = (
        [d for d in all_drugs if any(t.kinetics is not None for t in _drugs.get(d).targets)]
        if binding_kinetics
        else []
    )
    nf = max(1, int(math.ceil(float(step_hours) / KINETIC_DT_H)))
    fine_edges = np.arange(K * nf + 1) * (float(step_hours) / nf)
    conc_fine = {d: np.zeros((R, K * nf)) for d in kin_drugs}
    notes_per: list[list[str]] = [list(base_notes) for _ in items]
    conc_sub = np.zeros((R, K, substeps, D))
    conc_edge = np.zeros((R, K + 1, D))
    events_per = []
    cov_per: list[dict[str, float]] = []
    for r, (it, n) in enumerate(zip(items, ncyc, strict=True)):
        b = it.body or body
        if b is None and per_body(it):
            b = REFERENCE_BODY
            notes_per[r].append(body_note)
        cov_r = {**covariates_extra, **(dict(b.known) if b is not None else {})}
        if it.renal_pk and "crcl_ml_min" in cov_r:
            cov_r[_RENAL_CRCL] = cov_r["crcl_ml_min"]
        cov_per.append(cov_r)
        ev = _doses(it, n, b or _regimens.Body())
        events_per.append(ev)
        for j, d in enumerate(all_drugs):
            if d not in it.regimen.drugs or d in it.drop:
                continue
            local: list[str] = []
            both = _conc_matrix(d, ev, np.concatenate([sub.ravel(), edges]), no_pk, cov_r, local)
            conc_sub[r, :, :, j] = both[: K * substeps].reshape(K, substeps)
            conc_edge[r, :, j] = both[K * substeps :]
            notes_per[r] += local
            if d in conc_fine:
                conc_fine[d][r] = _conc_intervals(d, ev, fine_edges, no_pk, cov_r)
            if _cellular(d):
                notes_per[r].append(
                    f"{d}: cellular kinetics (derived course; Stein 2019 expansion/contraction "
                    "convention, network input = reference exposure x C(t)/Cmax; docs/pk.md)"
                )
            elif not _has_pk(d):
                notes_per[r].append(
                    f"{d}: no PK model; "
                    + (
                        "held at its library reference exposure for 24 h after each dose"
                        if no_pk == "reference"
                        else "left out (no_pk='omit')"
                    )
                )
        if it.regimen.omitted:
            notes_per[r].append("not represented: " + "; ".join(it.regimen.omitted))
    exp_sc = _agent_scales(exposure_scale, "exposure_scale", all_drugs, func)
    eff_sc = _agent_scales(efficacy_scale, "efficacy_scale", all_drugs, func)
    for d, f in exp_sc.items():
        j = all_drugs.index(d)
        conc_sub[:, :, :, j] *= f
        conc_edge[:, :, j] *= f
        if d in conc_fine:
            conc_fine[d] = conc_fine[d] * f
    sim = Simulator(model, all_drugs, context=context, levels=levels)
    cm = sim.compiled
    notes_common = list(sim.notes)
    # occupancy averaged over each step's sub-samples (piecewise-constant inputs)
    flat = conc_sub.reshape(R * K * substeps, D)
    mask, value = sim.fixed_arrays(flat)
    if eff_sc and sim.columns:
        # the drug's occupancies x its efficacy factor (capped at 1), assigned to the nodes as
        # Simulator.fixed_arrays does
        occ_all = sim.occupancy(flat)
        for d, f in eff_sc.items():
            c = sim._col_drug == all_drugs.index(d)
            occ_all[:, c] = np.minimum(occ_all[:, c] * f, 1.0)
        value[:, sim._col_node[sim._col_free]] = occ_all[:, sim._col_free]
    N = cm.n_nodes
    value = value.reshape(R, K, substeps, N).mean(axis=2)
    mask_r = np.ascontiguousarray(mask[:R])
    # binding kinetics: occupancy of those drug-target inputs integrated in time (exact per
    # fine interval of constant mean concentration), averaged per step
    occ_edges: dict[str, tuple[str, np.ndarray]] = {}
    free = getattr(sim, "_col_free", None)
    for kc in kinetic_columns(sim.columns) if kin_drugs else []:
        if kc.drug not in conc_fine or (free is not None and not bool(free[kc.column])):
            continue
        end, mean = occupancy_course(
            conc_fine[kc.drug],
            float(step_hours) / nf,
            kc.K,
            kc.kinetics.half_life_h,
            kc.hill,
            kinetics=kc.kinetics,
        )
        node_i = cm.index(kc.node)
        value[:, :, node_i] = mean.reshape(R, K, nf).mean(axis=2)
        if kc.drug in eff_sc:
            value[:, :, node_i] = np.minimum(value[:, :, node_i] * eff_sc[kc.drug], 1.0)
        occ = np.zeros((R, K + 1))
        occ[:, 1:] = end[:, nf - 1 :: nf]
        occ_edges.setdefault(f"occupancy_{kc.drug}_{kc.target}", (kc.drug, occ))
    kin_notes = {
        d: [
            f"{t.target}: {t.kinetics.kind}, t1/2 {t.kinetics.half_life_h:g} h"
            for t in _drugs.get(d).targets
            if t.kinetics is not None
        ]
        for d in kin_drugs
    }
    zero_mask, zero_value = sim.fixed_arrays(np.zeros((1, D)))
    ss = propagate.steady_state(cm, zero_mask, zero_value, backend=backend, max_steps=100000)
    if not bool(np.all(ss.converged)):
        raise ConvergenceError(f"{func}(): the untreated network did not reach a steady state")
    y = np.repeat(np.asarray(ss.y), R, axis=0)
    idx = {k: cm.readouts[k] for k in _READOUTS if k in cm.readouts}
    missing = [k for k in ("proliferation", "apoptosis") if k not in idx]
    if missing:
        raise InvalidInputError(
            f"{func}(): model {getattr(sim.model, 'name', model)!r} has no {missing[0]} readout"
        )
    key = [n for n in KEY_NODES if n in cm.nodes]
    track = {**{k: i for k, i in idx.items()}, **{n: cm.index(n) for n in key}}
    Y = np.zeros((R, K + 1, len(track)))
    cols = list(track.values())
    Y[:, 0] = y[:, cols]
    dt_model = float(step_hours) / float(hours_per_model_time)
    # the network through all K steps in one kernel call: the held nodes whose values change
    # from step to step (the drug-target occupancies) are passed per step
    varying = np.nonzero(np.any(value != value[:, :1], axis=(0, 1)))[0]
    out, _, ok, _ = network_course(
        cm,
        mask_r,
        np.ascontiguousarray(value[:, 0]),
        y,
        varying,
        np.ascontiguousarray(value[:, :, varying]),
        dt_model,
        np.asarray(cols, dtype=np.int64),
        backend=backend,
    )
    bad = ~np.asarray(ok, dtype=bool)
    Y[:] = out
    names = list(track)

    def series(name: str) -> np.ndarray:
        return Y[:, :, names.index(name)] if name in names else np.zeros((R, K + 1))

    p0 = float(ss.y[0, idx["proliferation"]])
    death0 = float(ss.y[0, idx["apoptosis"]]) + (
        float(ss.y[0, idx["immune_killing"]]) if "immune_killing" in idx else 0.0
    )
    g, dscale = tumour.rates(p0, death0)
    P = series("proliferation")
    A = series("apoptosis") + series("immune_killing")
    rate = g * 0.5 * (P[:, 1:] + P[:, :-1]) - dscale * 0.5 * (A[:, 1:] + A[:, :-1])
    if tumour.growth_scale != 1.0 or tumour.sensitivity_scale != 1.0:
        # one patient's tumour-kinetics multipliers (a patient file's [tumour])
        rate = scale_rates(
            rate, g * p0 - dscale * death0, tumour.growth_scale, tumour.sensitivity_scale
        )
    if tumour.resistance_per_day > 0:
        # one patient's acquired resistance (docs/dynamics.md, "Acquired resistance")
        # per row: the regimen's drug-specific factor ("min" rule, structures/resistance.toml)
        lam_rows = tumour.resistance_per_day * np.array(
            [regimen_factor(d for d in it.regimen.drugs if d not in it.drop) for it in items]
        )
        rate = apply_resistance(
            rate,
            g * p0 - dscale * death0,
            lam_rows,
            step_hours / 24.0,
            tumour.growth_scale,
        )
    burden, mprot = _tumour_integrate(rate, step_hours / 24.0, tumour)
    import pandas as pd  # deferred: pandas costs about 0.3 s; import mmmech stays fast

    results = []
    day = edges / 24.0
    for r, (it, n) in enumerate(zip(items, ncyc, strict=True)):
        present = [d for d in all_drugs if d in it.regimen.drugs and d not in it.drop]
        absent = [d for d in all_drugs if d not in present]
        notes = [n for n in notes_common if not any(d in n for d in absent)] + notes_per[r]
        if bad[r]:
            notes.append("the network integration hit max_steps on some step (inexact there)")
        for d in present:
            if d in kin_notes:
                notes.append(
                    f"{d}: occupancy follows binding kinetics ({'; '.join(kin_notes[d])}); "
                    "other targets instantaneous"
                )
        resp = classify(day, mprot[r], cr_reduction=cr_reduction)
        cols_df: dict[str, Any] = {"hour": edges, "day": day}
        for j, d in enumerate(all_drugs):
            if d in present:
                cols_df[f"conc_{d}_nM"] = conc_edge[r, :, j]
        for name in names:
            cols_df[f"node_{name}"] = Y[r, :, names.index(name)]
        for oname, (odrug, occ) in occ_edges.items():
            if odrug in present:
                cols_df[oname] = occ[r]
        cols_df["tumour_burden"] = burden[r]
        cols_df["m_protein_g_per_dL"] = mprot[r]
        tc = pd.DataFrame(cols_df)
        tc.attrs.update(regimen=it.regimen.name, context=str(context), step_hours=step_hours)
        first_cycle_h = spans[r][1] * 24.0
        pkm: dict[str, dict[str, float]] = {}
        for d in present:
            if not _has_pk(d):
                continue
            evs = [e for e in events_per[r] if e.drug == d and (e.day - 1) * 24.0 < first_cycle_h]
            if not evs:
                continue
            m = _pk_model(d, cov_per[r])
            if any(PK_ROUTES[e.route] not in m.routes for e in evs):
                continue
            doses = [
                (
                    (e.day - 1) * 24.0,
                    e.amount,
                    PK_ROUTES[e.route],
                    *((m.infusion_h or 0.5,) if PK_ROUTES[e.route] == "iv_infusion" else ()),
                )
                for e in evs
            ]
            ex = _pk.exposure(m, doses, 0.0, first_cycle_h, unit="nM")
            pkm[d] = {
                "cmax_nM": float(ex["cmax"]),
                "trough_nM": float(ex["trough"]),
                "auc_nM_h": float(ex["auc"]),
            }
        dosing: dict[str, list[int]] = {}
        for e in events_per[r]:
            dosing.setdefault(e.drug, [])
            if e.day not in dosing[e.drug]:
                dosing[e.drug].append(e.day)
        if spans[r][0] * 24.0 < horizon_h:
            notes.append(
                f"followed untreated after day {spans[r][0]} to the batch's end (day "
                f"{horizon_h / 24:g})"
            )
        notes.append(
            f"IMWG on serum M-protein only ({IMWG_SOURCE}); CR approximated as a >= "
            f"{cr_reduction:.0%} reduction; {tumour.isotype} half-life "
            f"{math.log(2) / tumour.clearance_rate:g} d"
        )
        results.append(
            RegimenResult(
                regimen=it.regimen.name,
                label=it.label,
                cycles=n,
                timecourse=tc,
                best_response=resp.best,
                time_to_progression_days=resp.progression_day,
                pk=pkm,
                notes=list(dict.fromkeys(notes)),
                dosing_days=dosing,
                response=resp,
                drugs=tuple(present),
            )
        )
    return results


def _tumour_integrate(
    rate: np.ndarray, dt_days: float, tumour: TumourModel
) -> tuple[np.ndarray, np.ndarray]:
    return integrate(rate, dt_days, tumour.clearance_rate, tumour.m0_g_per_dL)


def _covariates(covariates: Any, func: str) -> dict[str, float]:
    """Extra PK covariates (``crcl_ml_min``, ``age_years``, ...) as a checked dict."""
    if covariates is None:
        return {}
    if not isinstance(covariates, Mapping):
        raise InvalidInputError(
            f"{func}(): covariates must be a mapping name -> number, got {covariates!r}"
        )
    out = {}
    for k, v in covariates.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidInputError(f"{func}(): covariates[{k!r}] must be a number, got {v!r}")
        out[str(k)] = float(v)
    return out


def _subclones(subclones: Any, func: str) -> dict[str, float]:
    """``{context: fraction}`` checked: bundled context names, fractions in [0, 1], sum <= 1."""
    if subclones is None:
        return {}
    if not isinstance(subclones, Mapping):
        raise InvalidInputError(
            f"{func}(): subclones must be a mapping context -> fraction of cells, got {subclones!r}"
        )
    known = _populations.known_contexts()
    out: dict[str, float] = {}
    for name, f in subclones.items():
        if name not in known:
            raise InvalidInputError(
                f"{func}(): subclones names {name!r}, not a bundled context"
                f"{did_you_mean(str(name), list(known))} (bundled: {', '.join(known)})"
            )
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not (0.0 <= f <= 1.0):
            raise InvalidInputError(
                f"{func}(): subclones[{name!r}] must be a fraction of cells in [0, 1], got {f!r}"
            )
        out[str(name)] = float(f)
    total = sum(out.values())
    if total > 1.0 + 1e-12:
        raise InvalidInputError(
            f"{func}(): subclone fractions sum to {total:g} > 1 (the rest is the sensitive clone)"
        )
    return out


def _context_list(context: Any) -> list[Any]:
    return list(context) if isinstance(context, (list, tuple)) else [context]


def _patient_notes(pat: Any, ctx: list[Any], body_given: bool, tumour_given: bool) -> list[str]:
    """What of the patient the simulation used, and what it did not."""
    b = pat.body
    notes = [
        f"patient {pat.name or pat.id}: "
        + (
            "body= given, the patient's body not used for dosing"
            if body_given
            else f"{b['weight_kg']:g} kg, BSA {b['bsa_m2']:.2f} m2 for per-kg/per-m2 doses"
        )
        + f"; CrCl {b['crcl_ml_min']:g} mL/min and age {pat.age:g} y as PK covariates where a "
        "model has them",
        "patient contexts after the cellular one: "
        + (" + ".join(str(c) for c in ctx) if pat.contexts else "none (cellular context only)"),
    ]
    if pat.levels:
        notes.append("patient levels: " + ", ".join(f"{k} x{v:g}" for k, v in pat.levels.items()))
    if pat.tumour:
        notes.append(
            "patient tumour kinetics: "
            + ", ".join(f"{k} x{v:g}" for k, v in pat.tumour.items())
            + " (net untreated growth; drug-induced part of the net rate)"
        )
    if getattr(pat, "resistance_per_day", 0.0) > 0:
        notes.append(
            f"patient acquired resistance: drug-induced part of the net rate x exp(-lambda t), "
            f"lambda {pat.resistance_per_day:.3g}/day"
        )
    if tumour_given:
        notes.append("tumour= given: the patient's isotype and M-protein not used")
    elif pat.isotype in HALF_LIVES:
        notes.append(
            f"patient isotype {pat.isotype}, baseline M-protein {pat.m_protein_g_dL:g} g/dL "
            "(M-protein course)"
        )
    else:
        notes.append(
            f"patient isotype {pat.isotype}: no M-protein half-life in the model; the course is "
            "an IgG-equivalent of tumour burden (default 3 g/dL scale), not a measurable serum "
            "M-protein"
        )
    without = [f for f in pat.features if not _populations.known_features().get(f)]
    if without:
        notes.append(
            "patient features without a model context (recorded, not simulated): "
            + ", ".join(without)
        )
    if any(v is not None for v in pat.health.to_dict().values()):
        notes.append("patient [health] not used here (the toxicity layer reads it)")
    return notes


def _clonal(
    regimens: Any,
    *,
    patient: Any,
    subclones: Any,
    context: Any,
    body: Any,
    tumour: TumourModel | None,
    levels: Mapping[str, float] | None,
    covariates: Mapping[str, float] | None,
    cr_reduction: float,
    **kw: Any,
) -> list[RegimenResult]:
    """A patient (file, name or record) and/or a tumour of a sensitive clone plus resistant
    subclones: each clone a separate network column (its own contexts), tumour burden and
    M-protein summed over clones weighted by their starting fractions, IMWG on the sum."""
    func = "simulate_regimen"
    clones = _subclones(subclones, func)
    ctx = _context_list(context)
    lv = dict(levels or {})
    cov = _covariates(covariates, func)
    pat = None
    notes: list[str] = []
    if patient is not None:
        pat = (
            patient
            if isinstance(patient, _populations.Patient)
            else _populations.load_patient(patient)
        )
        notes += _patient_notes(pat, list(pat.contexts), body is not None, tumour is not None)
        ctx += [c for c in pat.contexts if c not in ctx]
        lv = {**dict(pat.levels), **lv}
        cov = {**pat.covariates(), **cov}
        if body is None:
            body = pat.regimen_body()
        if tumour is None and pat.isotype in HALF_LIVES:
            tumour = tumour_model(isotype=pat.isotype, m0_g_per_dL=pat.m_protein_g_dL)
        if pat.tumour:
            # the patient's tumour-kinetics multipliers, unless the given model sets its own
            base_t = tumour if tumour is not None else tumour_model()
            if base_t.growth_scale == 1.0 and base_t.sensitivity_scale == 1.0:
                tumour = replace(
                    base_t,
                    growth_scale=pat.tumour_scale("growth"),
                    sensitivity_scale=pat.tumour_scale("sensitivity"),
                )
        lam = float(getattr(pat, "resistance_per_day", 0.0))
        if lam > 0:
            # the patient's acquired-resistance rate, unless the given model sets its own
            base_t = tumour if tumour is not None else tumour_model()
            if base_t.resistance_per_day == 0.0:
                tumour = replace(base_t, resistance_per_day=lam)
    rest = 1.0 - sum(clones.values())
    plan = [("sensitive", max(rest, 0.0), ctx)] + [
        (name, f, ctx + ([name] if name not in ctx else [])) for name, f in clones.items()
    ]
    runs = []
    for name, f, cctx in plan:
        if f <= 0.0:
            continue  # a clone of no cells contributes nothing: fraction 0 = no subclone
        res = simulate_regimens(
            regimens,
            context=cctx,
            body=body,
            tumour=tumour,
            levels=lv or None,
            covariates=cov,
            cr_reduction=cr_reduction,
            **kw,
        )
        runs.append((name, f, res))
    if clones:
        notes.append(
            "clones simulated as separate network columns and summed in tumour burden and "
            "M-protein: "
            + ", ".join(f"{name} {f:.3g}" for name, f, _ in plan)
            + " of the starting cells (node columns are the "
            + f"{runs[0][0]} clone's)"
        )
    out = []
    for i, base in enumerate(runs[0][2]):
        tc = base.timecourse.copy()
        day = tc["day"].to_numpy()
        burden = np.zeros(len(tc))
        mprot = np.zeros(len(tc))
        for name, f, res in runs:
            t = res[i].timecourse
            burden += f * t["tumour_burden"].to_numpy()
            mprot += f * t["m_protein_g_per_dL"].to_numpy()
            if clones:
                tc[f"tumour_burden_{name}"] = f * t["tumour_burden"].to_numpy()
        tc["tumour_burden"] = burden
        tc["m_protein_g_per_dL"] = mprot
        resp = classify(day, mprot, cr_reduction=cr_reduction)
        extra = []
        if pat is not None:
            used = []
            for d in base.drugs:
                if _has_pk(d):
                    names = {c.name for c in _pk.model(d).covariates if c.form != "note"}
                    hit = sorted(names & set(cov))
                    if hit:
                        used.append(f"{d} ({', '.join(hit)})")
            extra.append(
                "patient covariates used by the PK models: "
                + ("; ".join(used) if used else "none of this regimen's models has one")
            )
        out.append(
            RegimenResult(
                regimen=base.regimen,
                label=base.label,
                cycles=base.cycles,
                timecourse=tc,
                best_response=resp.best,
                time_to_progression_days=resp.progression_day,
                pk=base.pk,
                notes=list(dict.fromkeys(notes + extra + base.notes)),
                dosing_days=base.dosing_days,
                response=resp,
                drugs=base.drugs,
                patient=pat,
                subclones=dict(clones),
            )
        )
    return out


def simulate_regimen(
    regimen: Any,
    *,
    cycles: int | None = None,
    context: Any = "marrow",
    body: _regimens.Body | Mapping[str, float] | None = None,
    model: Any = "myeloma",
    step_hours: float = 4.0,
    drop: Sequence[str] | str = (),
    dose_scale: Mapping[str, float] | None = None,
    tumour: TumourModel | None = None,
    no_pk: str = "reference",
    hours_per_model_time: float = HOURS_PER_MODEL_TIME,
    cr_reduction: float = 0.99,
    backend: str = "auto",
    binding_kinetics: bool = True,
    levels: Mapping[str, float] | None = None,
    covariates: Mapping[str, float] | None = None,
    patient: Any = None,
    subclones: Mapping[str, float] | None = None,
    toxicity: bool = False,
    neutrophil_sensitivity: float = 1.0,
    exposure_scale: Mapping[str, float] | None = None,
    efficacy_scale: Mapping[str, float] | None = None,
) -> RegimenResult:
    """Simulate `regimen` in time: concentrations, network, tumour, M-protein, IMWG response.

    Parameters
    ----------
    regimen : str, path or Regimen
        A bundled regimen name (``mmmech.regimens.available()``), a regimen file or a record.
    cycles : int, optional
        Cycles to simulate (default: all; required for regimens until progression).
    context : str or list
        Network context (default ``"marrow"``: immune and stromal surroundings).
    body : Body or mapping, optional
        ``weight_kg``/``bsa_m2`` for per-kg/per-m2 doses and PK covariates (default: a
        reference adult, 70 kg and 1.8 m2, said in the notes).
    model : pathway model (default ``"myeloma"``)
    step_hours : float
        Time step of the piecewise-constant occupancies (default 4 h).
    drop : drug names left out of the regimen; dose_scale : {drug: factor} on every dose
    tumour : TumourModel, optional
        Growth/death/M-protein parameters (:func:`mmmech.dynamics.tumour_model`).
    no_pk : {"reference", "omit"}
        A drug without a PK model: held at its library reference exposure for 24 h after each
        dose (default, an upper bound for short half-lives) or left out.
    hours_per_model_time : float
        Hours per unit of the network's model time (default 1).
    cr_reduction : float
        M-protein reduction counted as CR (the model sees no immunofixation).
    backend : {"auto", "cython", "python"}
    binding_kinetics : bool
        Drug-target pairs with curated binding kinetics (bortezomib, ixazomib: dissociation;
        carfilzomib: covalent, recovery by new proteasome) follow them in time
        (:mod:`mmmech.dynamics.kinetics`; default); False: every occupancy follows the
        concentration instantly (the steady-state law at each instant).
    levels : mapping node -> relative level, optional
        Multipliers on model input levels (``Simulator(levels=...)``).
    covariates : mapping, optional
        Extra PK covariates (``crcl_ml_min``, ``age_years``) for the models that use them.
    patient : str, path or Patient, optional
        A patient file or bundled patient (:func:`mmmech.populations.load_patient`): its body
        (dosing and PK covariates unless `body` is given), CrCl and age (PK covariates), its
        contexts (after `context`), its levels, its isotype and baseline M-protein (the
        M-protein course unless `tumour` is given). The notes say what was used; the result's
        ``patient`` holds the record.
    subclones : mapping context -> fraction, optional
        Resistant subclones: e.g. ``{"crbn_low": 0.05}`` makes 5% of the starting cells carry
        the bundled ``crbn_low`` context. Each clone is simulated as its own network column and
        the clones' burdens and M-protein are summed (weighted by their fractions); the rest
        (1 - sum) is the sensitive clone. A fraction of 0 is the same as no subclone.
    toxicity : bool
        Feed toxicity back into efficacy (default False): run
        :func:`mmmech.toxicity.apply_dose_modifications` for the patient (its ``[health]``,
        CrCl and age; without a patient the toxicity layer's defaults, said in the notes) and
        simulate the network from the doses actually given (renal starting dose, holds,
        reductions, discontinuations), with lenalidomide's clearance scaled to the patient's
        CrCl. The result's ``toxicity`` holds the course (``"toxicity"`` in ``to_dict()``).
    neutrophil_sensitivity : float
        With `toxicity`: multiplier of the drugs' effect on neutrophil proliferation (1 =
        typical patient).

    Returns
    -------
    RegimenResult

    Examples
    --------
    >>> import mmmech
    >>> res = mmmech.simulate_regimen("rd", cycles=1, step_hours=12)  # doctest: +SKIP
    >>> res.best_response in {"CR", "VGPR", "PR", "MR", "SD", "PD"}  # doctest: +SKIP
    True
    """
    spec: dict[str, Any] = {"regimen": regimen, "drop": drop, "dose_scale": dict(dose_scale or {})}
    course = None
    if not isinstance(toxicity, bool):
        raise InvalidInputError(
            f"simulate_regimen(): toxicity must be True or False, got {toxicity!r}"
        )
    if toxicity:
        spec, course = _toxicity_spec(
            spec, cycles, body, patient, covariates, neutrophil_sensitivity
        )
    res = simulate_regimens(
        [spec],
        cycles=cycles,
        context=context,
        body=body,
        model=model,
        step_hours=step_hours,
        tumour=tumour,
        no_pk=no_pk,
        hours_per_model_time=hours_per_model_time,
        cr_reduction=cr_reduction,
        backend=backend,
        binding_kinetics=binding_kinetics,
        levels=levels,
        covariates=covariates,
        patient=patient,
        subclones=subclones,
        exposure_scale=exposure_scale,
        efficacy_scale=efficacy_scale,
    )[0]
    if course is not None:
        res.toxicity = course
        kept = [n for n in res.notes if not n.startswith("patient [health] not used")]
        res.notes = list(dict.fromkeys(kept + _toxicity_notes(course, patient is None)))
    return res


def _toxicity_spec(
    spec: dict[str, Any],
    cycles: int | None,
    body: Any,
    patient: Any,
    covariates: Mapping[str, float] | None,
    neutrophil_sensitivity: float,
) -> tuple[dict[str, Any], Any]:
    """`spec` with the doses actually given (``doses``, ``renal_pk``) and the toxicity course."""
    func = "simulate_regimen"
    reg = spec["regimen"]
    reg = reg if isinstance(reg, _regimens.Regimen) else _regimens.load(reg)
    n = cycles if cycles is not None else _total_cycles(reg)
    if n is None:
        raise InvalidInputError(
            f"{func}(): regimen {reg.name!r} runs until progression; give cycles=N (--cycles N)"
        )
    n = _check_int(n, "cycles", func)
    b = _body(body, func)
    cov = _covariates(covariates, func)
    if patient is not None:
        pat = (
            patient
            if isinstance(patient, _populations.Patient)
            else _populations.load_patient(patient)
        )
        health = _feedback.patient_health(pat)
        b = b or pat.regimen_body()
    else:
        health = {}
        if "crcl_ml_min" in cov:
            health["crcl_ml_min"] = cov["crcl_ml_min"]
    if "crcl_ml_min" in cov:
        health["crcl_ml_min"] = cov["crcl_ml_min"]
    events, course = _feedback.toxicity_doses(
        reg,
        n,
        body=b or REFERENCE_BODY,
        health=health,
        neutrophil_sensitivity=neutrophil_sensitivity,
    )
    out = {**spec, "regimen": reg, "doses": events, "renal_pk": "crcl_ml_min" in health}
    return out, course


def _toxicity_notes(course: Any, default_health: bool) -> list[str]:
    """What the toxicity feedback did, for the result's notes."""
    s = course.summary()
    notes = [
        "toxicity fed back: the network was driven by the doses actually given "
        "(mmmech.toxicity.apply_dose_modifications; decisions once per cycle, docs/toxicity.md)"
        + f"; worst ANC grade {course.worst_grade('anc')}, worst neuropathy grade "
        + f"{course.worst_grade('neuropathy')}, {course.dose_reductions} dose reduction(s), "
        + f"{s['held_cycles']} cycle(s) with a drug held"
        + (f", discontinued: {', '.join(s['discontinued'])}" if s["discontinued"] else "")
    ]
    if course.renal is not None:
        notes.append(
            "lenalidomide started at the label dose for CrCl "
            f"{course.health.crcl_ml_min:g} mL/min and its clearance scaled to that CrCl"
        )
    if default_health:
        notes.append(_feedback.DEFAULT_HEALTH_NOTE)
    return notes + list(course.notes)
