"""A virtual trial: the same patients through every arm, locally or on Dask, journaled.

The work is a list of (arm, patient) pairs, cut into batches: one batch per arm (one
:func:`~mmmech.dynamics.simulate_cohort` call, which runs the patients whose context
combinations compile to one network structure in one kernel call; the kernel's cost is mostly
per call and time step, so fewer, larger calls are faster), each split
into pieces of at most `batch_size` pairs. Batches run with the screen's
machinery (:mod:`mmmech.screening.backends`: in-process, a local Dask cluster of `workers`
processes, or an existing scheduler), finished pairs are appended to the screen's journal
(:mod:`mmmech.screening.journal`: JSON lines with checksums, fsynced, locked, fingerprinted) and
the progress bar is the screen's. Each patient's course depends only on that patient, the arm and
the settings, so the result is the same for any batch size, worker count and resumption.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from .. import pk as _pk
from .. import populations as _populations
from .._guards import check_int, check_seed
from .._typing import PathLike
from ..dynamics.feedback import patient_health
from ..dynamics.regimen import _item
from ..exceptions import InvalidInputError, MmmechError
from ..populations import Patient, Population
from ..screening.backends import _check_scheduler, _journaled_run
from ..screening.journal import JOURNAL_SUFFIX, _Journal
from ..utils import atomic_write, output_target
from .arms import (
    DAYS_PER_MONTH,
    RESPONSE_ORDER,
    ArmResult,
    _label,
    arm_cycles,
    arm_cycles_through,
    arm_horizon_days,
    simulate_arm,
)
from .ensemble import (
    Ensemble,
    check_members,
    check_ranges,
    draw_accepted_members,
    member_cohort,
    network_parameters,
    set_defaults,
    single_agent_failures,
)
from .survival import hazard_ratio, kaplan_meier
from .tox import arm_toxicity, patient_courses
from .tox import row_problem as _tox_problem

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from dask.distributed import Client

__all__ = ["TrialResult", "run_trial", "trial", "enrol", "MAX_PATIENTS"]

_FUNC = "trial"
#: most patients one trial enrols (memory of the per-patient rows and the journal)
MAX_PATIENTS = 1_000_000
#: longest follow-up a trial accepts (20 years)
MAX_FOLLOW_UP_MONTHS = 240.0
_INEXACT = "the network integration hit max_steps"


def enrol(population: Population | str, n: int, seed: int = 0) -> tuple[list[Patient], int]:
    """The first `n` eligible patients of `population` (under `seed`), and how many were
    passed over: the population's ``[eligibility]`` (measurable disease; a trial's own
    criteria merged in by :func:`mmmech.populations.with_eligibility`), or without one every
    patient with M-protein > 0 (nonsecretory patients have none to follow). Patient ``i`` is
    :func:`mmmech.populations.patient` ``(population, i, seed)``: the same patient in every arm
    and run (:func:`mmmech.populations.enrol`)."""
    res = _enrolment(population, n, seed)
    return res.patients, res.skipped


def _enrolment(population: Population | str, n: int, seed: int) -> _populations.Enrolment:
    pop = population if isinstance(population, Population) else _populations.load(population)
    n = check_int(n, _FUNC, "patients", minimum=1, maximum=MAX_PATIENTS)
    seed = check_seed(seed, _FUNC)
    return _populations.enrol(pop, n, seed, func=_FUNC)


@dataclass(frozen=True)
class _TrialSpec:
    """What a worker needs to simulate (arm, patient) pairs (small and picklable)."""

    arms: tuple[Any, ...]
    names: tuple[str, ...]
    population: Population
    seed: int
    cycles: tuple[int, ...]
    follow_up_days: float
    context: str
    model: Any
    step_hours: float
    backend: str
    toxicity: bool = True
    #: further simulate_cohort keywords (a parameter set of an ensemble; () = the defaults)
    cohort: tuple[tuple[str, Any], ...] = ()
    pk_variability: bool = True
    toxicity_feedback: bool = False


def _key(arm: int, index: int) -> str:
    return f"{arm}|{index}"


def _run_batch(spec: _TrialSpec, pairs: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Simulate a batch of (arm, patient index) pairs; ``{"rows": [...], "timings": {...}}``
    (runs on the workers)."""
    t0 = time.perf_counter()
    by_arm: dict[int, list[int]] = {}
    for a, i in pairs:
        by_arm.setdefault(int(a), []).append(int(i))
    rows: list[dict[str, Any]] = []
    for a, idx in by_arm.items():
        patients = [_populations.patient(spec.population, i, spec.seed) for i in idx]
        exposure, tox_rows = _arm_exposure(spec, a, patients)
        res = simulate_arm(
            spec.arms[a],
            patients,
            cycles=spec.cycles[a],
            follow_up_days=spec.follow_up_days,
            name=spec.names[a],
            context=spec.context,
            model=spec.model,
            step_hours=spec.step_hours,
            backend=spec.backend,
            **dict(spec.cohort),
            **exposure,
        )
        # the count of inexact courses depends on the batch: the rows carry `ok` instead
        notes = "\n".join(sorted({x for x in res.notes if not x.startswith(_INEXACT)}))
        for j, i in enumerate(idx):
            rows.append(
                {
                    "key": _key(a, i),
                    "arm": a,
                    "index": i,
                    "best_response": str(res.best_response[j]),
                    "pfs_days": float(res.pfs_days[j]),
                    "progressed": bool(res.progressed[j]),
                    "max_reduction": float(res.max_reduction[j]),
                    "ok": bool(res.ok[j]),
                    "horizon_days": float(res.horizon_days),
                    "notes": notes,
                    "toxicity": tox_rows[j],
                }
            )
    return {"rows": rows, "timings": {"seconds": time.perf_counter() - t0, "patients": len(rows)}}


def _arm_exposure(
    spec: _TrialSpec, a: int, patients: Sequence[Patient]
) -> tuple[dict[str, Any], list[dict[str, Any] | None]]:
    """What decides the patients' exposure on arm `a`: keywords of
    :func:`~mmmech.dynamics.simulate_cohort` (``pk_etas``: each patient's PK random effects
    from its own keyed stream, :func:`mmmech.pk.patient_etas`; with toxicity feedback
    ``doses`` actually given and ``renal_crcl``) and each patient's toxicity record (None
    without toxicity). The toxicity course runs first, on the patient's own PK."""
    drugs = _item(spec.arms[a], _FUNC).regimen.drugs
    etas = [
        _pk.patient_etas(spec.population.name, p.index, spec.seed, drugs)
        if spec.pk_variability
        else None
        for p in patients
    ]
    kw: dict[str, Any] = {"pk_etas": etas} if spec.pk_variability else {}
    if not spec.toxicity:
        return kw, [None] * len(patients)
    # all the batch's patients at once (their counts integrated together; the same records as
    # patient_course one by one, tests/trials/test_trial_toxicity_batch.py)
    courses = patient_courses(
        spec.arms[a], patients, spec.cycles[a], spec.population.name, spec.seed, pk_etas=etas
    )
    if spec.toxicity_feedback:
        kw["doses"] = [ev for ev, _ in courses]
        kw["renal_crcl"] = [patient_health(p).get("crcl_ml_min") for p in patients]
    return kw, [rec for _, rec in courses]


def _batches(
    pairs: Sequence[tuple[int, int]], contexts: dict[int, tuple[str, ...]], size: int | None
) -> list[list[tuple[int, int]]]:
    """`pairs` cut into batches: one per arm (its patients ordered by context combination:
    :func:`~mmmech.dynamics.simulate_cohort` runs those compiling to one network structure in
    one kernel call), each split into pieces of at most `size` pairs (None: no limit), in a
    fixed order."""
    groups: dict[int, list[tuple[int, int]]] = {}
    for a, i in sorted(pairs, key=lambda p: (p[0], contexts[p[1]], p[1])):
        groups.setdefault(a, []).append((a, i))
    out = []
    for key in sorted(groups):
        g = groups[key]
        step = len(g) if size is None else size
        out += [g[j : j + step] for j in range(0, len(g), step)]
    return out


def _row_problem(row: dict[str, Any]) -> str | None:
    """Why a journal row cannot be used (None when it can)."""
    key = row.get("key")
    a, i = row.get("arm"), row.get("index")
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (a, i))
    checks = [
        (ints and key == f"{a}|{i}", "key/arm/index"),
        (row.get("best_response") in RESPONSE_ORDER, "best_response"),
        (isinstance(row.get("progressed"), bool), "progressed"),
        (isinstance(row.get("ok"), bool), "ok"),
        (isinstance(row.get("notes"), str), "notes"),
        ("toxicity" in row, "toxicity"),
    ]
    if row.get("toxicity") is not None:
        checks.append((_tox_problem(row["toxicity"]) is None, "toxicity"))
    for f in ("pfs_days", "max_reduction", "horizon_days"):
        v = row.get(f)
        checks.append((isinstance(v, (int, float)) and not isinstance(v, bool), f))
    bad = [w for good, w in checks if not good]
    return f"bad or missing {', '.join(bad)}" if bad else None


def _fingerprint(spec: _TrialSpec, indices: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """A content hash of everything that decides the rows: the regimens (parsed content), the
    population (parsed content), seed, cycles, follow-up, context, model, step, mmmech version."""
    config = {
        "arms": list(spec.names),
        "population": spec.population.name,
        "seed": spec.seed,
        "patients": len(indices),
        "cycles": list(spec.cycles),
        "follow_up_days": spec.follow_up_days,
        "context": spec.context,
        "model": spec.model if isinstance(spec.model, str) else repr(spec.model),
        "step_hours": spec.step_hours,
        "toxicity": spec.toxicity,
        "pk_variability": spec.pk_variability,
        "toxicity_feedback": spec.toxicity_feedback,
    }
    content = {
        "config": config,
        "regimens": [repr(_item(a, _FUNC)) for a in spec.arms],
        "population": repr(spec.population),
        "version": __version__,
    }
    blob = json.dumps(content, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest(), config


def _months(days: Any) -> Any:
    if days is None:
        return None
    return float(days) / DAYS_PER_MONTH


@dataclass
class TrialResult:
    """A virtual trial: per-arm :class:`~mmmech.trials.arms.ArmResult` (same patients in each)
    and the summaries of :meth:`to_dict`."""

    population: str
    patients: int
    seed: int
    arms: list[ArmResult]
    follow_up_days: float
    notes: list[str] = field(default_factory=list)
    passed_over: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    #: the parameter ensemble (None: ensemble=0)
    ensemble: Ensemble | None = None
    #: ``{"name", "file", "version"}`` of a calibrated parameter file the trial ran under
    parameter_files: list[dict[str, Any]] = field(default_factory=list)
    #: the run's switches (toxicity, toxicity_feedback, pk_variability, parameters)
    settings: dict[str, Any] = field(default_factory=dict)

    def arm(self, name: str) -> ArmResult:
        for a in self.arms:
            if a.name == name:
                return a
        raise InvalidInputError(
            f"TrialResult.arm(): no arm {name!r} (arms: {', '.join(a.name for a in self.arms)})"
        )

    def _arm_dict(self, a: ArmResult) -> dict[str, Any]:
        km = kaplan_meier(a.pfs_days, a.progressed)
        return {
            "name": a.name,
            "regimen": a.regimen,
            "drugs": list(a.drugs),
            "cycles": a.cycles,
            "patients": a.n_patients,
            "orr": a.rate("PR"),
            "vgpr_or_better": a.rate("VGPR"),
            "cr_or_better": a.rate("CR"),
            "median_pfs_months": _months(km.median),
            "median_pfs_low": _months(km.median_low),
            "median_pfs_high": _months(km.median_high),
            "progressed": int(a.progressed.sum()),
            "censored": int((~a.progressed).sum()),
            "responses": a.counts(),
            "inexact": int((~a.ok).sum()),
            "km": {
                "months": [float(t) / DAYS_PER_MONTH for t in km.times],
                "survival": km.survival.tolist(),
                "low": km.low.tolist(),
                "high": km.high.tolist(),
                "at_risk": km.at_risk.tolist(),
                "events": km.events.tolist(),
            },
            "ensemble": None,
            "toxicity": a.toxicity,
            "notes": list(a.notes),
        }

    def hazard_ratios(self) -> list[dict[str, Any]]:
        """Cox hazard ratio of every arm against every later arm (listed order)."""
        out = []
        for i, a in enumerate(self.arms):
            for b in self.arms[i + 1 :]:
                hr = hazard_ratio(a.pfs_days, a.progressed, b.pfs_days, b.progressed)
                out.append(
                    {
                        "arm": a.name,
                        "versus": b.name,
                        "value": hr.value,
                        "low": hr.low,
                        "high": hr.high,
                        "p": hr.p,
                        "note": hr.note,
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``mmmech trial --json``."""
        out = {
            "population": self.population,
            "patients": self.patients,
            "seed": self.seed,
            "follow_up_months": self.follow_up_days / DAYS_PER_MONTH,
            "arms": [self._arm_dict(a) for a in self.arms],
            "hazard_ratios": self.hazard_ratios(),
            "notes": list(self.notes),
        }
        if self.ensemble is not None:
            _add_ensemble(out, self.ensemble)
        if self.settings:
            out["settings"] = dict(self.settings)
        if self.parameter_files:
            out["parameter_files"] = [dict(p) for p in self.parameter_files]
        return out

    def plot(self, path: PathLike, title: str | None = None) -> str:
        """Kaplan-Meier curves with numbers at risk, and response bars (png, svg or pdf)."""
        from .plot import plot_trial  # deferred: matplotlib loads only for pictures

        return plot_trial(self, path, title=title)


_NOTES = (
    "PFS: IMWG progression on the serum M-protein (25% rise from the nadir, at least "
    "+0.5 g/dL) or censoring at the end of follow-up; death is not modelled, so PFS is "
    "progression only",
    "response and progression are assessed on every simulation step (4 h by default), with no "
    "confirmation of two assessments; CR is a >= 99% M-protein reduction (no marrow or "
    "immunofixation in the model)",
    "enrolment follows the population's eligibility (measurable disease by serum M-protein; "
    "nonsecretory patients, with no M-protein to follow, are not enrolled): the first eligible "
    "patients of the keyed sequence (docs/populations.md, Eligibility)",
)
_NO_ENSEMBLE = (
    "per-arm parameter-ensemble intervals not computed (ensemble=0; --ensemble K runs the "
    "same patients under K parameter sets); 'ensemble' is null"
)

_TOX_NOTE = (
    "toxicity per arm: each patient's course through the regimen's dose-modification rules "
    "(mmmech.toxicity: neutrophil and platelet models with per-patient draws, population "
    "cumulative-dose neuropathy, CrCl-adjusted lenalidomide; thrombocytopenia modelled for "
    "bortezomib, ixazomib and lenalidomide, a label incidence otherwise)"
)
_NO_FEEDBACK_NOTE = (
    "toxicity does not change efficacy here (toxicity_feedback=False): response and PFS are "
    "simulated on the planned doses"
)
_FEEDBACK_NOTE = (
    "toxicity fed back into efficacy (toxicity_feedback=True): each patient's toxicity course "
    "ran first, and response and PFS were simulated on the doses actually given (holds, "
    "reductions, discontinuations, the label's renal starting dose), with lenalidomide's "
    "clearance scaled to the patient's CrCl"
)
_PK_VAR_NOTE = (
    "between-patient PK variability: each patient's random effects (log-normal etas with the "
    "population-PK sources' CV%, structures/pk.toml) from a stream keyed to the patient (the "
    "same in every arm and run), in efficacy and toxicity"
)
_NO_PK_VAR_NOTE = (
    "no between-patient PK variability (pk_variability=False): every patient has the typical "
    "PK of its body size"
)


def check_follow_up_months(value: Any, func: str) -> float | None:
    """`value` as a follow-up in months (None stays None), or one line naming the argument."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not (0 < float(value) <= MAX_FOLLOW_UP_MONTHS)
    ):
        raise InvalidInputError(
            f"{func}(): follow_up_months must be a number in (0, {MAX_FOLLOW_UP_MONTHS:g}], "
            f"got {value!r}"
        )
    return float(value)


def run_trial(
    arms: Sequence[Any],
    population: Population | str = "ndmm",
    patients: int = 100,
    seed: int = 0,
    *,
    cycles: int | None = None,
    follow_up_months: float | None = None,
    context: str = "marrow",
    model: Any = "myeloma",
    step_hours: float = 4.0,
    backend: str = "auto",
    workers: int | None = 0,
    scheduler: str | None = None,
    client: Client | None = None,
    batch_size: int | None = None,
    out: PathLike | None = None,
    restart: bool = False,
    progress: bool | None = None,
    toxicity: bool = True,
    ensemble: int = 0,
    ensemble_ranges: Mapping[str, tuple[float, float]] | None = None,
    pk_variability: bool = True,
    toxicity_feedback: bool = False,
    cohort_kwargs: Mapping[str, Any] | None = None,
    parameter_file: Mapping[str, Any] | None = None,
) -> TrialResult:
    """Run a virtual trial: the same `patients` of `population` through every arm.

    Parameters
    ----------
    arms : sequence of regimens (at least one)
        Bundled names (case-insensitive: ``"VRd"``), regimen files, Regimen objects, or variant
        mappings ``{"regimen": "vrd", "drop": ["bortezomib"], "label": "Rd from VRd"}``.
    population : str, path or Population
    patients : int >= 1
        Patients enrolled (the first N with measurable disease, :func:`enrol`).
    seed : int >= 0
    cycles : int, optional
        Treatment cycles (default 12; a fixed regimen stops at its own length). All arms are
        followed up to the longest arm's treatment span; a fixed regimen that ends earlier is
        followed untreated (concentrations decay from the last doses), and a regimen given until
        progression (Rd, or VRd's Rd maintenance) is given to the end of the follow-up.
    follow_up_months : float, optional
        Follow every arm for at least this long (months of 365.25/12 days): a regimen given
        until progression is given for every whole cycle that ends within it, a fixed regimen
        is followed untreated after its last cycle. Default None: the longest arm's treatment
        span (above). Needed to estimate a median PFS longer than 12 cycles.
    context : str
        Cellular context before each patient's own (default marrow).
    workers, scheduler, client
        As :func:`mmmech.screen`: 0 in-process, N a local Dask cluster of N processes, or an
        existing scheduler (address) or client.
    batch_size : int, optional
        Most (arm, patient) pairs per batch (default: no limit; batches are one per arm and
        context combination anyway). The result does not depend on it.
    out : path ending in .json, optional
        Write :meth:`TrialResult.to_dict` there atomically; finished pairs are journaled in
        ``<out>.partial`` meanwhile, so an interrupted trial resumes without losing a patient.
    restart : bool
        Discard an unfinished journal of a different trial instead of stopping.
    progress : bool or None
        Progress bar on stderr (None: only with `out`).
    toxicity : bool
        Per arm, the toxicity rates over its patients (default True; each patient's course
        through the regimen's dose-modification rules, :mod:`mmmech.trials.tox`). Efficacy
        stays on the planned doses unless `toxicity_feedback`.
    ensemble : int
        0 (default): off. K in 2-1000: the same patients also under K - 1 parameter sets drawn
        from `ensemble_ranges` (set 0 is the point estimate, :mod:`mmmech.trials.ensemble`);
        each arm's ``ensemble`` entry gets the 5th-95th percentile and the range across the K
        sets of ORR, >= VGPR, CR and median PFS, each hazard ratio likewise. Every set runs
        the network with its own parameter values (one network run per set and arm): costs
        about K times the plain trial.
    ensemble_ranges : mapping name -> (low, high), optional
        What the ensemble varies (default: the sourced ranges of the tumour constants and of
        the model's named parameters, :func:`mmmech.trials.ensemble.default_ranges`); names
        ``birth_doubling_days``, ``untreated_doubling_days``, ``death_scale``,
        ``hours_per_model_time`` and the model's ``[parameters]`` (e.g. ``dex_nk_weight``).
        Given, it replaces the default ranges (names left out stay at their defaults).
    pk_variability : bool
        Between-patient PK variability (default True): each patient's PK parameters carry
        random effects drawn from the population-PK sources' CV% (:func:`mmmech.pk.patient_etas`,
        keyed to the patient: the same in every arm and run), in efficacy and toxicity. False:
        every patient has the typical PK of its body size (for comparisons).
    toxicity_feedback : bool
        Feed toxicity back into efficacy (default False; needs `toxicity`): each patient's
        toxicity course runs first and response and PFS are simulated on the doses actually
        given (holds, reductions, discontinuations, the label's renal starting dose of
        lenalidomide, with its clearance scaled to the patient's CrCl).
    cohort_kwargs : mapping, optional
        Further :func:`~mmmech.dynamics.simulate_cohort` keywords for every patient course (a
        calibrated parameter file's, :func:`mmmech.calibration.cohort_kwargs`: ``tumour``,
        ``hours_per_model_time``); default None: the model's defaults. Not with `ensemble`
        (whose parameter sets are drawn around the defaults).
    parameter_file : mapping, optional
        What `cohort_kwargs` came from, ``{"name", "file", "version"}`` (recorded in the
        result's ``parameter_files``, its notes and the journal fingerprint).
    """
    func = _FUNC
    for name, v in (
        ("toxicity", toxicity),
        ("pk_variability", pk_variability),
        ("toxicity_feedback", toxicity_feedback),
    ):
        if not isinstance(v, bool):
            raise InvalidInputError(f"{func}(): {name} must be True or False, got {v!r}")
    if toxicity_feedback and not toxicity:
        raise InvalidInputError(f"{func}(): toxicity_feedback=True needs toxicity=True")
    if isinstance(arms, (str, bytes, os.PathLike)) or not isinstance(arms, Sequence):
        raise InvalidInputError(
            f"{func}(): arms must be a sequence of regimens (names, files or Regimen objects), "
            f"got {type(arms).__name__}"
        )
    if len(arms) < 1:
        raise InvalidInputError(f"{func}(): give at least one arm")
    n_sets = check_members(ensemble, func)
    cohort = _check_cohort(cohort_kwargs, parameter_file, n_sets, func)
    net_params = network_parameters(model) if n_sets else {}
    ranges = check_ranges(ensemble_ranges, func, net_params) if n_sets else {}
    workers = check_int(0 if workers is None else workers, func, "workers", minimum=0)
    if sum(x is not None for x in (scheduler, client)) + (workers > 0) > 1:
        raise InvalidInputError(f"{func}(): choose one of workers, scheduler and client")
    if scheduler is not None:
        _check_scheduler(scheduler, func)
    path = None
    if out is not None:
        path = os.fspath(out)
        if not path.lower().endswith(".json"):
            raise InvalidInputError(f"{func}(): out must end in .json, got {path!r}")
        output_target(path, prefix=f"{func}(): ")
    pop = population if isinstance(population, Population) else _populations.load(population)
    enrolment = _enrolment(pop, patients, seed)
    enrolled, passed_over = enrolment.patients, enrolment.skipped
    if n_sets and len(enrolled) * n_sets > MAX_PATIENTS:
        raise InvalidInputError(
            f"{func}(): patients x ensemble must be at most {MAX_PATIENTS}, got "
            f"{len(enrolled)} x {n_sets}"
        )
    seed = int(seed)
    arm_specs = tuple(arms)
    for a in arm_specs:
        _item(a, func)  # unknown regimens, bad variants: one line, before any work
    names_raw = [_label(a) for a in arm_specs]
    names: list[str] = []
    for nm in names_raw:
        k, label = 2, nm
        while label in names:
            label, k = f"{nm} ({k})", k + 1
        names.append(label)
    follow = float(max(arm_horizon_days(a, cycles) for a in arm_specs))
    months = check_follow_up_months(follow_up_months, func)
    if months is not None:
        follow = max(follow, float(math.ceil(months * DAYS_PER_MONTH)))
    # an arm given until progression is treated to the end of the common follow-up
    cyc = tuple(arm_cycles_through(a, arm_cycles(a, cycles), follow) for a in arm_specs)
    spec = _TrialSpec(
        arms=arm_specs,
        names=tuple(names),
        population=pop,
        seed=seed,
        cycles=cyc,
        follow_up_days=follow,
        context=context,
        model=model,
        step_hours=float(step_hours),
        backend=backend,
        toxicity=toxicity,
        pk_variability=pk_variability,
        toxicity_feedback=toxicity_feedback,
        cohort=cohort,
    )
    indices = [p.index for p in enrolled]
    pairs = [(a, i) for a in range(len(arm_specs)) for i in indices]
    keys = [_key(a, i) for a, i in pairs]
    batch = None if batch_size is None else check_int(batch_size, func, "batch_size", minimum=1)
    contexts = {p.index: tuple(p.contexts) for p in enrolled}
    members: list[dict[str, float]] = []
    rejected = 0
    unchecked: list[str] = []
    if n_sets:
        cache: dict[Any, float] = {}
        # drugs already worse than untreated at the defaults are a fault of the model, not of a
        # drawn set: they are left out of the check (and named in the note)
        unchecked = single_agent_failures({}, arm_specs, context=context, model=model, cache=cache)

        def _passes(v: Mapping[str, float]) -> bool:
            bad = single_agent_failures(v, arm_specs, context=context, model=model, cache=cache)
            return not [d for d in bad if d not in unchecked]

        members, rejected = draw_accepted_members(n_sets, seed, ranges, _passes, func=func)
        esp = _EnsembleSpec((spec, *(_member_spec(spec, v) for v in members)))
        triples = [(m, a, i) for m in range(n_sets) for a, i in pairs]
        keys = [_member_key(m, a, i) for m, a, i in triples]
    journal = None
    if path is not None:
        fp, config = _fingerprint(spec, indices)
        if cohort:
            fp, config = _cohort_fingerprint(fp, config, cohort, parameter_file)
        if n_sets:
            fp, config = _ensemble_fingerprint(fp, config, ranges, members)
        journal = _Journal(
            path + JOURNAL_SUFFIX,
            fp,
            config,
            restart=restart,
            check_row=_member_row_problem if n_sets else _row_problem,
            func=func,
            what="trial",
        )
    keyset = set(keys)
    done: dict[str, dict[str, Any]] = (
        {} if journal is None else {k: r for k, r in journal.rows.items() if k in keyset}
    )
    timings = {"seconds": 0.0, "patients": 0.0}

    def add_timings(result: dict[str, Any]) -> None:
        for k in timings:
            timings[k] += result["timings"][k]

    def chunks_for(finished: Mapping[str, Any]) -> list[list[tuple[int, int]]]:
        todo = [p for p, k in zip(pairs, keys, strict=True) if k not in finished]
        return _batches(todo, contexts, batch) if todo else []

    def member_chunks_for(finished: Mapping[str, Any]) -> list[list[tuple[int, int, int]]]:
        todo = [t for t, k in zip(triples, keys, strict=True) if k not in finished]
        return _member_batches(todo, contexts, batch)

    t0 = time.perf_counter()
    resumed = _journaled_run(
        esp if n_sets else spec,
        keys,
        member_chunks_for if n_sets else chunks_for,  # type: ignore[arg-type]
        add_timings,
        done=done,
        journal=journal,
        workers=workers,
        scheduler=scheduler,
        client=client,
        func=func,
        progress=(path is not None) if progress is None else bool(progress),
        label="trial",
        unit="patients",
        kept="patient courses",
        run=_run_members if n_sets else _run_batch,
    )
    missing = [k for k in keys if k not in done]
    if missing:  # pragma: no cover - every batch either delivers or raises
        raise MmmechError(f"{func}(): {len(missing)} patient courses did not deliver")
    results = [_assemble_arm(spec, a, indices, enrolled, done) for a in range(len(arm_specs))]
    ens = None
    if n_sets:
        ens = _assemble_ensemble(
            esp,
            ranges,
            members,
            results,
            indices,
            enrolled,
            done,
            network=net_params,
            rejected=rejected,
            unchecked=unchecked,
        )
    notes = list(_NOTES)
    notes.append(_ensemble_note(ens) if ens is not None else _NO_ENSEMBLE)
    notes += _exposure_notes(toxicity, toxicity_feedback, pk_variability)
    files = []
    if cohort:
        files = [dict(parameter_file or {"name": None, "file": None, "version": None})]
        notes.append(_parameters_note(files[0], cohort))
    if enrolment.note():
        notes.append(str(enrolment.note()))
    notes.append(
        f"follow-up {follow:g} days ({follow / DAYS_PER_MONTH:.1f} months) for every arm: "
        f"{', '.join(f'{n} {c} cycle(s)' for n, c in zip(names, cyc, strict=True))}; an arm "
        f"whose treatment ends earlier is followed untreated"
    )
    timings["wall"] = time.perf_counter() - t0
    timings["resumed"] = float(resumed)
    res = TrialResult(
        population=pop.name,
        patients=len(indices),
        seed=seed,
        arms=results,
        follow_up_days=follow,
        notes=notes,
        passed_over=passed_over,
        timings=timings,
        ensemble=ens,
        parameter_files=files,
        settings={
            "toxicity": toxicity,
            "toxicity_feedback": toxicity_feedback,
            "pk_variability": pk_variability,
            "parameters": files[0] if files else None,
        },
    )
    if path is not None:
        payload = json.dumps(_finite(res.to_dict()), indent=2, ensure_ascii=False) + "\n"
        atomic_write(path, payload.encode("utf-8"))
        try:
            os.remove(path + JOURNAL_SUFFIX)
        except OSError:
            pass
    return res


def _check_cohort(
    cohort_kwargs: Mapping[str, Any] | None,
    parameter_file: Mapping[str, Any] | None,
    n_sets: int,
    func: str,
) -> tuple[tuple[str, Any], ...]:
    """`cohort_kwargs` as the spec's sorted ``cohort`` tuple (one-line errors)."""
    if cohort_kwargs is None:
        if parameter_file is not None:
            raise InvalidInputError(f"{func}(): parameter_file needs cohort_kwargs")
        return ()
    if not isinstance(cohort_kwargs, Mapping):
        raise InvalidInputError(
            f"{func}(): cohort_kwargs must be a mapping of simulate_cohort keywords, got "
            f"{type(cohort_kwargs).__name__}"
        )
    bad = [k for k in cohort_kwargs if k not in _COHORT_KEYS]
    if bad:
        raise InvalidInputError(
            f"{func}(): cohort_kwargs: unknown keyword {bad[0]!r} (known: "
            f"{', '.join(_COHORT_KEYS)})"
        )
    if parameter_file is not None and not isinstance(parameter_file, Mapping):
        raise InvalidInputError(
            f"{func}(): parameter_file must be a mapping {{'name', 'file', 'version'}}, got "
            f"{type(parameter_file).__name__}"
        )
    if cohort_kwargs and n_sets:
        raise InvalidInputError(
            f"{func}(): cohort_kwargs (a calibrated parameter file) and ensemble={n_sets} "
            f"cannot be combined yet (the ensemble's sets are drawn around the defaults)"
        )
    return tuple(sorted(cohort_kwargs.items()))


#: simulate_cohort keywords a trial passes through (a calibrated parameter file's)
_COHORT_KEYS = ("tumour", "hours_per_model_time", "exposure_scale", "efficacy_scale")


def _cohort_fingerprint(
    fp: str,
    config: dict[str, Any],
    cohort: tuple[tuple[str, Any], ...],
    parameter_file: Mapping[str, Any] | None,
) -> tuple[str, dict[str, Any]]:
    """The trial's fingerprint extended by the simulate_cohort keywords of a parameter file."""
    config = {
        **config,
        "cohort": {k: repr(v) for k, v in cohort},
        "parameter_file": None if parameter_file is None else dict(parameter_file),
    }
    blob = json.dumps([fp, config], sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest(), config


def _parameters_note(pf: Mapping[str, Any], cohort: tuple[tuple[str, Any], ...]) -> str:
    what = pf.get("file") or pf.get("name") or "given cohort_kwargs"
    ver = f" version {pf['version']}" if pf.get("version") else ""
    return (
        f"model parameters from {what}{ver} (a calibrated parameter file; "
        f"{', '.join(k for k, _ in cohort)} set for every patient course), not the model's "
        f"defaults"
    )


def _exposure_notes(toxicity: bool, feedback: bool, pk_variability: bool) -> list[str]:
    """The trial notes on toxicity, its feedback into efficacy and PK variability."""
    out = [_PK_VAR_NOTE if pk_variability else _NO_PK_VAR_NOTE]
    if not toxicity:
        return [*out, "toxicity not computed (toxicity=False)"]
    return [*out, _TOX_NOTE, _FEEDBACK_NOTE if feedback else _NO_FEEDBACK_NOTE]


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _assemble_arm(
    spec: _TrialSpec,
    a: int,
    indices: Sequence[int],
    enrolled: Sequence[Patient],
    done: dict[str, dict[str, Any]],
) -> ArmResult:
    rows = [done[_key(a, i)] for i in indices]
    notes: set[str] = set()
    for r in rows:
        notes.update(x for x in r["notes"].split("\n") if x)
    ok = np.asarray([r["ok"] for r in rows], dtype=bool)
    if not ok.all():
        notes.add(f"{_INEXACT} for {int((~ok).sum())} patient(s) (inexact there)")
    it = _item(spec.arms[a], _FUNC)
    tox = None
    if spec.toxicity:
        tox = arm_toxicity(spec.arms[a], [r["toxicity"] for r in rows])
    return ArmResult(
        name=spec.names[a],
        regimen=it.regimen.name,
        drugs=tuple(d for d in it.regimen.drugs if d not in it.drop),
        cycles=spec.cycles[a],
        horizon_days=float(rows[0]["horizon_days"]),
        patient_ids=tuple(p.id for p in enrolled),
        patient_index=np.asarray(list(indices), dtype=int),
        best_response=np.asarray([r["best_response"] for r in rows], dtype=str),
        pfs_days=np.asarray([r["pfs_days"] for r in rows], dtype=float),
        progressed=np.asarray([r["progressed"] for r in rows], dtype=bool),
        max_reduction=np.asarray([r["max_reduction"] for r in rows], dtype=float),
        ok=ok,
        notes=sorted(notes),
        toxicity=tox,
    )


# --- parameter ensemble (run_trial(..., ensemble=K); mmmech.trials.ensemble) -----------------


@dataclass(frozen=True)
class _EnsembleSpec:
    """The trial's spec per parameter set (set 0: the trial's own, the point estimate)."""

    specs: tuple[_TrialSpec, ...]


def _member_spec(spec: _TrialSpec, values: Mapping[str, float]) -> _TrialSpec:
    """`spec` under one drawn parameter set (toxicity rates are not recomputed: they do not
    depend on the tumour's parameters; with toxicity feedback the courses still run, since
    they set the doses the efficacy uses)."""
    cohort = tuple(sorted(member_cohort(values).items()))
    return replace(spec, cohort=cohort, toxicity=spec.toxicity and spec.toxicity_feedback)


def _member_key(m: int, a: int, i: int) -> str:
    """Set 0 keeps the point estimate's key ``arm|index``; set m >= 1 is ``arm|index|m``."""
    return _key(a, i) if m == 0 else f"{a}|{i}|{m}"


def _run_members(esp: _EnsembleSpec, triples: Sequence[tuple[int, int, int]]) -> dict[str, Any]:
    """:func:`_run_batch` for (set, arm, patient index) triples (runs on the workers)."""
    by_set: dict[int, list[tuple[int, int]]] = {}
    for m, a, i in triples:
        by_set.setdefault(int(m), []).append((int(a), int(i)))
    rows: list[dict[str, Any]] = []
    timings = {"seconds": 0.0, "patients": 0.0}
    for m, pairs in sorted(by_set.items()):
        res = _run_batch(esp.specs[m], pairs)
        for k in timings:
            timings[k] += res["timings"][k]
        for r in res["rows"]:
            if m:
                r = {**r, "key": _member_key(m, r["arm"], r["index"]), "member": m}
            rows.append(r)
    return {"rows": rows, "timings": timings}


def _member_batches(
    triples: Sequence[tuple[int, int, int]], contexts: dict[int, tuple[str, ...]], size: int | None
) -> list[list[tuple[int, int, int]]]:
    """As :func:`_batches`, one batch per (set, arm), split into pieces of at most `size`."""
    groups: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for m, a, i in sorted(triples, key=lambda t: (t[0], t[1], contexts[t[2]], t[2])):
        groups.setdefault((m, a), []).append((m, a, i))
    out = []
    for key in sorted(groups):
        g = groups[key]
        step = len(g) if size is None else size
        out += [g[j : j + step] for j in range(0, len(g), step)]
    return out


def _member_row_problem(row: dict[str, Any]) -> str | None:
    """:func:`_row_problem` for a row of any set (``member`` and key ``arm|index|m`` for m >= 1)."""
    if "member" not in row:
        return _row_problem(row)
    m, a, i = row.get("member"), row.get("arm"), row.get("index")
    if not (isinstance(m, int) and not isinstance(m, bool) and m >= 1):
        return "bad member"
    if row.get("key") != f"{a}|{i}|{m}":
        return "bad or missing key/arm/index"
    return _row_problem({**row, "key": f"{a}|{i}"})


def _ensemble_fingerprint(
    fp: str,
    config: dict[str, Any],
    ranges: Mapping[str, tuple[float, float]],
    members: Sequence[Mapping[str, float]],
) -> tuple[str, dict[str, Any]]:
    """The trial's fingerprint extended by the parameter sets."""
    config = {**config, "ensemble": len(members) + 1, "ensemble_ranges": dict(ranges)}
    blob = json.dumps([fp, config, list(members)], sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest(), config


def _assemble_ensemble(
    esp: _EnsembleSpec,
    ranges: dict[str, tuple[float, float]],
    members: Sequence[dict[str, float]],
    point: list[ArmResult],
    indices: Sequence[int],
    enrolled: Sequence[Patient],
    done: dict[str, dict[str, Any]],
    network: Mapping[str, Any] | None = None,
    rejected: int = 0,
    unchecked: Sequence[str] = (),
) -> Ensemble:
    network = dict(network or {})
    defaults = set_defaults(list(ranges), network)
    arms = [point]
    for m in range(1, len(esp.specs)):
        rows = {_key(a, i): done[_member_key(m, a, i)] for a in range(len(point)) for i in indices}
        arms.append(
            [_assemble_arm(esp.specs[m], a, indices, enrolled, rows) for a in range(len(point))]
        )
    return Ensemble(
        ranges=dict(ranges),
        values=[defaults, *members],
        arms=arms,
        network=network,
        rejected=rejected,
        unchecked=list(unchecked),
    )


def _ensemble_note(ens: Ensemble) -> str:
    varied = ", ".join(f"{n} {lo:g}-{hi:g}" for n, (lo, hi) in ens.ranges.items())
    fixed = [n for n in ens.network if n not in ens.ranges]
    held = (
        f"; named network parameters held at their defaults (no sourced range or not in the "
        f"ranges): {', '.join(fixed)}"
        if fixed
        else ""
    )
    return (
        f"parameter ensemble: {ens.members} sets of the same patients, set 0 the defaults (the "
        f"point estimate), sets 1-{ens.members - 1} a Latin hypercube over {varied}; every set "
        f"runs the network with its own parameter values (one network run per set and arm); "
        f"{ens.rejected} drawn set(s) rejected and redrawn because a drug of the arms, alone on "
        f"its arm's schedule, left the typical patient worse than no treatment (single-agent "
        f"check{_unchecked_note(ens)}); "
        f"'ensemble' per arm and per hazard ratio: 5th-95th percentile and range across the "
        f"sets (the other parameters at their defaults{held}; mmmech.trials.ensemble)"
    )


def _unchecked_note(ens: Ensemble) -> str:
    if not ens.unchecked:
        return ""
    return (
        f"; not checked, because already worse than no treatment alone at the defaults (a model "
        f"fault): {', '.join(ens.unchecked)}"
    )


def _add_ensemble(out: dict[str, Any], ens: Ensemble) -> None:
    """Fill the ``ensemble`` entries of a trial's JSON (arms, hazard ratios, trial level)."""
    for j, arm in enumerate(out["arms"]):
        arm["ensemble"] = ens.arm(j)
    n = len(out["arms"])
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    for h, (i, j) in zip(out["hazard_ratios"], pairs, strict=True):
        h["ensemble"] = ens.hazard_ratio(i, j)
    out["ensemble"] = ens.to_dict()


def trial(
    arms: Sequence[Any],
    population: Population | str = "ndmm",
    patients: int = 100,
    seed: int = 0,
    **kw: Any,
) -> TrialResult:
    """``mmmech.trial``: :func:`run_trial` (same arguments)."""
    return run_trial(arms, population=population, patients=patients, seed=seed, **kw)
