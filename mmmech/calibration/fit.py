"""Fit the free tumour-model parameters to single-agent clinical arms (``mmmech calibrate``).

What is fitted (docs/calibration.md has the reasoning and the numbers):

- ``birth_doubling_days`` (Tb): the potential doubling time of marrow myeloma cells. Sourced only
  as a range (Ucci et al. 1987: 46.8 +- 27.5 d, 15.0-75.4 d, 7 patients), so it is fitted inside
  that range with the source's mean and SD as a Gaussian prior term. With the untreated balance
  kept (net doubling 182.6 d), Tb sets how strongly a change in the network's Proliferation and
  Apoptosis + ImmuneKilling readouts changes the tumour's growth: the gain from readouts to
  rates.
- ``death_scale`` (s): the death rate per unit readout relative to the untreated balance. s != 1
  also changes the untreated growth (reported as ``untreated_doubling_days``); it is kept where
  the untreated tumour still grows.
- ``hours_per_model_time``: profiled over a grid only when asked (``hours_grid``): each value
  needs its own network runs.

How: every simulable single-agent arm (:mod:`mmmech.calibration.data`) runs once per
``hours_per_model_time`` on the same virtual patients (:func:`mmmech.trials.enrol`, grouped by
context combination as :func:`mmmech.trials.simulate_arm` does), twice with two death scales, so
that each patient's growth rate per step splits exactly into its proliferation part ``a`` and its
death part ``b`` (``rate = a - s b``; both scale with Tb in closed form). Any (s, Tb) then costs
only the tumour/M-protein integration and IMWG classification, not the network. The objective is
a deviance: binomial for ORR, >= VGPR and CR (the reported n, or the n implied by a reported CI,
else a default), log-normal for the median PFS/TTP (SD from the CI, else a default), plus the Tb
prior. A grid gives the profile likelihood (95% interval: deviance within 3.84 of the minimum);
SciPy's Nelder-Mead refines the point estimate from the best grid point.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import pk as _pk
from ..dynamics import simulate_cohort, tumour_model
from ..dynamics.regimen import _item
from ..dynamics.resistance import apply_resistance
from ..dynamics.tumour import (
    BIRTH_DOUBLING_DAYS,
    HALF_LIVES,
    UNTREATED_DOUBLING_DAYS,
    scale_rates,
)
from ..exceptions import FitError, InvalidInputError
from ..populations import subgroup_population, with_mix
from ..trials import DAYS_PER_MONTH, arm_horizon_days, enrol
from ..trials.arms import ISOTYPE_AS
from .data import RATE_KEYS, SingleAgentArm, load_single_agent
from .params import PARAMETERS

__all__ = [
    "ArmCourse",
    "CalibrationResult",
    "DEFAULT_N",
    "DEFAULT_LOG_SD",
    "calibrate",
    "simulate_courses",
    "simulable_arms",
    "subgroup_cohorts",
    "predict",
    "arm_deviance",
    "integrate_m",
    "uncertainty",
]

#: patients assumed for a rate without n or CI (a fitting convention, not data)
DEFAULT_N = 50
#: SD of log(median) assumed without a CI (a fitting convention, not data)
DEFAULT_LOG_SD = 0.25
#: deviance step of a 95% profile-likelihood interval (chi-square, 1 df)
CHI2_95 = 3.841458820694124
#: response category -> rate keys it counts for
_COUNTS = {"orr": ("CR", "VGPR", "PR"), "vgpr_or_better": ("CR", "VGPR"), "cr_or_better": ("CR",)}

_B0 = math.log(2) / BIRTH_DOUBLING_DAYS.value
_NU = math.log(2) / UNTREATED_DOUBLING_DAYS.value


@dataclass
class ArmCourse:
    """One arm's network run on the cohort, split into growth (``a``) and death (``b``) rates
    per patient and step (per day, at the default Tb and death_scale 1)."""

    arm: SingleAgentArm
    a: np.ndarray
    b: np.ndarray
    dt_days: float
    isotypes: np.ndarray
    m0: np.ndarray
    hours_per_model_time: float
    notes: list[str] = field(default_factory=list)
    #: each patient's tumour-kinetics multipliers (None: all 1; Patient.tumour)
    growth: np.ndarray | None = None
    sensitivity: np.ndarray | None = None
    #: each patient's acquired-resistance rate lambda per day (None: none;
    #: Patient.resistance_per_day, :func:`mmmech.dynamics.resistance.apply_resistance`)
    resistance: np.ndarray | None = None

    @property
    def horizon_days(self) -> float:
        return self.dt_days * self.a.shape[1]


def _cycles_for(spec: Any, follow_up_days: float) -> int:
    """The fewest cycles (at most 60) whose span covers `follow_up_days`."""
    c = 1
    while c < 60 and arm_horizon_days(spec, c) < follow_up_days:
        nxt = c + 1
        if arm_horizon_days(spec, nxt) == arm_horizon_days(spec, c):  # fixed regimen ended
            break
        c = nxt
    return c


def simulable_arms(
    arms: Sequence[SingleAgentArm], func: str
) -> tuple[list[SingleAgentArm], list[str]]:
    """The arms with a virtual arm, and a note naming those without (none simulable: an
    error)."""
    used = [a for a in arms if a.virtual_arm]
    if not used:
        raise FitError(f"{func}(): no arm of the data can be simulated (no virtual_arm)")
    unsimulated = [a.id for a in arms if not a.virtual_arm]
    notes = []
    if unsimulated:
        notes.append(f"not simulated (no regimen for the drug): {', '.join(unsimulated)}")
    return used, notes


def subgroup_cohorts(
    arms: Sequence[SingleAgentArm], population: str, patients: int, seed: int
) -> dict[str, list[Any]]:
    """Per subgroup of `arms` (``arm.subgroup``), the cohort :func:`mmmech.trials.enrol` gives
    for `population` with that context forced on every patient
    (:func:`mmmech.trials.validation.subgroup_population`): the same patient indices, isotypes,
    tumour multipliers and PK etas as the main cohort, only the forced group differs."""
    out: dict[str, list[Any]] = {}
    for sub in dict.fromkeys(a.subgroup for a in arms if a.subgroup and not a.population_mix):
        assert sub is not None
        out[sub] = enrol(subgroup_population(population, sub), patients, seed)[0]
    for a in arms:
        if a.population_mix:
            # the arm's enrolled mix (docs/calibration.md, "Enrolled patient mix"): the same
            # patient indices and draws, only the patients the mix needs moved
            pop = subgroup_population(population, a.subgroup) if a.subgroup else population
            mixed = with_mix(pop, a.population_mix["features"], a.population_mix["level_medians"])
            out[f"mix:{a.id}"] = enrol(mixed, patients, seed)[0]  # cohort_key(a)
    return out


def mix_note(arms: Sequence[SingleAgentArm]) -> str:
    """One line naming each arm's enrolled mix (``[arm.population_mix]``) for the notes."""
    parts = []
    for a in arms:
        m = a.population_mix or {}
        what = [f"{k} {v:g}" for k, v in m.get("features", {}).items()]
        what += [f"{k} median {v:g}" for k, v in m.get("level_medians", {}).items()]
        parts.append(f"{a.id} ({', '.join(what)})")
    return "enrolled patient mix (docs/calibration.md): " + "; ".join(parts)


def cohort_key(arm: SingleAgentArm) -> str | None:
    """The key of `arm`'s own cohort in :func:`subgroup_cohorts` (its subgroup, or
    ``mix:<arm id>`` for an arm with an enrolled mix), or None: the population's patients."""
    if arm.population_mix:
        return f"mix:{arm.id}"
    return arm.subgroup or None


def simulate_courses(
    arms: Sequence[SingleAgentArm],
    patients: Sequence[Any],
    *,
    hours_per_model_time: float = 1.0,
    follow_up_days: float = 240.0,
    step_hours: float = 8.0,
    context: str = "marrow",
    num_threads: int = 0,
    pk_population: str | None = None,
    pk_seed: int | None = None,
    exposure_scale: Mapping[str, float] | None = None,
    efficacy_scale: Mapping[str, float] | None = None,
    subgroups: Mapping[str, Sequence[Any]] | None = None,
) -> list[ArmCourse]:
    """Run each simulable arm on `patients` and split the growth rates (see module doc).

    Each patient gets their own target levels (``Patient.levels``), as in
    :func:`mmmech.trials.simulate_arm`. With `pk_population` and `pk_seed` each patient also
    gets their between-patient PK random effects (:func:`mmmech.pk.patient_etas`, keyed by
    population, patient index and seed), as a trial with ``pk_variability=True`` gives them;
    without them every patient has the typical PK. `exposure_scale` and `efficacy_scale`
    (``{drug: factor}``) go to :func:`mmmech.dynamics.simulate_cohort` unchanged. An arm of a
    cytogenetic subgroup (``arm.subgroup``, e.g. M13-367's t(11;14) patients) runs on
    ``subgroups[arm.subgroup]``: the same patients with that context forced
    (:func:`subgroup_cohorts`), every other draw kept.
    """
    out = []
    iso = np.array([ISOTYPE_AS.get(p.isotype, p.isotype) for p in patients], dtype=object)
    m0 = np.array([p.m_protein_g_dL for p in patients], dtype=float)
    for arm in arms:
        spec = arm.regimen_spec()
        if spec is None:
            continue
        pts = patients
        key = cohort_key(arm)
        if key:
            if subgroups is None or key not in subgroups:
                what = "has an enrolled mix" if arm.population_mix else "is the subgroup"
                raise InvalidInputError(
                    f"simulate_courses(): arm {arm.id} {what} {key!r}; give "
                    f"subgroups={{{key!r}: patients}} (calibration.subgroup_cohorts)"
                )
            pts = subgroups[key]
            if [p.index for p in pts] != [p.index for p in patients]:
                raise FitError(
                    f"simulate_courses(): the {key!r} cohort is not the same "
                    f"patients (indices differ)"
                )
        cycles = _cycles_for(spec, follow_up_days)
        notes: list[str] = []
        drugs = _item(spec, "simulate_courses").regimen.drugs
        # one simulate_cohort call per death scale for all patients: each patient's contexts
        # go in `contexts` (the cohort groups them by network structure itself; results per
        # patient do not depend on the batching)
        bodies = [p.regimen_body() for p in pts]
        extra: dict[str, Any] = {
            "levels": [dict(p.levels) or None for p in pts],
            "contexts": [[context, *ctxs] for ctxs in (tuple(p.contexts) for p in pts)],
        }
        if exposure_scale:
            extra["exposure_scale"] = exposure_scale
        if efficacy_scale:
            extra["efficacy_scale"] = efficacy_scale
        if pk_population is not None and pk_seed is not None:
            extra["pk_etas"] = [
                _pk.patient_etas(pk_population, p.index, pk_seed, drugs) for p in pts
            ]
        runs = []
        for s in (1.0, 0.5):
            res = simulate_cohort(
                spec,
                bodies,
                cycles=cycles,
                context=context,
                step_hours=step_hours,
                num_threads=num_threads,
                tumour=tumour_model(death_scale=s),
                hours_per_model_time=hours_per_model_time,
                follow_up_days=follow_up_days,
                **extra,
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                lb = np.log(res.tumour_burden)
            r = np.diff(lb, axis=1) / (step_hours / 24.0)
            if not np.all(np.isfinite(r)):
                raise FitError(
                    f"calibrate(): arm {arm.id}: the tumour burden underflowed; shorten "
                    f"follow_up_days"
                )
            runs.append(r)
            notes += [x for x in res.notes if x not in notes]
        bb = 2.0 * (runs[1] - runs[0])
        b = bb
        a = runs[0] + bb
        out.append(
            ArmCourse(
                arm,
                a,
                b,
                step_hours / 24.0,
                iso,
                m0,
                float(hours_per_model_time),
                notes,
                growth=np.array([p.tumour_scale("growth") for p in pts]),
                sensitivity=np.array([p.tumour_scale("sensitivity") for p in pts]),
                resistance=np.array(
                    [float(getattr(p, "resistance_per_day", 0.0) or 0.0) for p in pts]
                ),
            )
        )
    return out


def predict(course: ArmCourse, death_scale: float, birth_doubling_days: float) -> dict[str, Any]:
    """Response rates and median TTP of one arm at (s, Tb) from its split rates."""
    beta = math.log(2) / birth_doubling_days
    rate = course.a * (beta / _B0) - death_scale * course.b * ((beta - _NU) / (_B0 - _NU))
    if course.growth is not None and course.sensitivity is not None:
        # per-patient multipliers on the untreated net rate (beta - s (beta - nu): the split
        # rates are beta and beta - nu at the untreated state) and on the drug effect
        r0 = beta - death_scale * (beta - _NU)
        rate = scale_rates(rate, r0, course.growth, course.sensitivity)
        if course.resistance is not None:
            # the same acquired resistance as a trial arm's (simulate_cohort): the drug-induced
            # part of each patient's net rate decays as exp(-lambda t) from the first dose
            rate = apply_resistance(rate, r0, course.resistance, course.dt_days, course.growth)
    P, K = rate.shape
    ks = {n: math.log(2) / HALF_LIVES[n].value for n in dict.fromkeys(course.isotypes.tolist())}
    k_rows = np.array([ks[n] for n in course.isotypes.tolist()], dtype=float)
    M = integrate_m(rate, course.dt_days, k_rows) * course.m0[:, None]
    day = np.arange(K + 1) * course.dt_days
    best_a, ttp = classify_rows(day, M)
    out: dict[str, Any] = {k: float(np.isin(best_a, v).mean()) for k, v in _COUNTS.items()}
    med = float(np.median(ttp))
    out["median_ttp_months"] = med / DAYS_PER_MONTH if math.isfinite(med) else None
    out["best_response"] = best_a
    out["ttp_days"] = ttp
    out["n"] = P
    return out


def integrate_m(rate_per_day: np.ndarray, dt_days: float, clearance: Any) -> np.ndarray:
    """The M-protein of :func:`mmmech.dynamics.tumour.integrate` (start 1, burden 1), the same
    exact solution for piecewise-constant rates, vectorised over the steps too (a handful of
    array operations instead of one Python iteration per step): with ``e = exp(-k dt)`` the
    recurrence ``M[j+1] = e M[j] + k N[j] f[j]`` (every term >= 0) is
    ``M[j] = e^j (M[0] + sum_{i<j} k N[i] f[i] e^-(i+1))``, a cumulative sum of positive
    terms, taken in blocks short enough that ``e^-j`` stays finite. `clearance`: one k per
    row, or one for all. (R, K) rates -> (R, K + 1) M-protein relative to the start."""
    r = np.asarray(rate_per_day, dtype=float)
    R, K = r.shape
    k = np.broadcast_to(np.asarray(clearance, dtype=float), (R,))[:, None]
    kdt = k * dt_days
    ek = np.exp(-kdt)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        er = np.exp(r * dt_days)
        denom = r + k
        small = np.abs(denom) < 1e-12
        frac = np.where(small, dt_days * ek, (er - ek) / np.where(small, 1.0, denom))
    logn = np.cumsum(r * dt_days, axis=1)
    n_start = np.exp(np.concatenate([np.zeros((R, 1)), logn[:, :-1]], axis=1))
    term = k * n_start * frac  # k N[j] f[j]
    out = np.empty((R, K + 1))
    out[:, 0] = 1.0
    block = max(1, int(200.0 / max(float(kdt.max(initial=0.0)), 1e-300)))
    m = np.ones(R)
    for a in range(0, K, block):
        b = min(K, a + block)
        grow = np.exp(kdt * np.arange(1, b - a + 1)[None, :])  # e^-j within the block
        acc = np.cumsum(term[:, a:b] * grow, axis=1)
        out[:, a + 1 : b + 1] = (m[:, None] + acc) / grow
        m = out[:, b]
    return out


def classify_rows(day: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mmmech.dynamics.classify` (default CR reduction) of every row of `M` (P x T
    M-protein courses on the days `day`) at once: (best response per row, day of progression
    per row, inf when none). The same rules, vectorised (tests compare it row by row)."""
    m = np.asarray(M, dtype=float)
    m0 = m[:, :1]
    nadir = np.minimum.accumulate(np.concatenate([m0, m], axis=1), axis=1)[:, :-1]
    need = np.where(nadir >= 5.0, 1.0, 0.5)
    prog = (m >= 1.25 * nadir) & (m - nadir >= need - 1e-12)
    has = prog.any(axis=1)
    end = np.where(has, prog.argmax(axis=1), m.shape[1] - 1)
    T = m.shape[1]
    upto = np.where(np.arange(T)[None, :] <= end[:, None], m, np.inf)
    low = upto.min(axis=1)
    red = np.maximum(0.0, 1.0 - low / m0[:, 0])
    best = np.full(m.shape[0], "SD", dtype=object)
    best[red >= 0.25] = "MR"
    best[red >= 0.50] = "PR"
    best[red >= 0.90] = "VGPR"
    best[red >= 0.99] = "CR"
    best[has & (best == "SD")] = "PD"
    ttp = np.where(has, np.asarray(day, dtype=float)[end], np.inf)
    return best.astype(str), ttp


def _n_eff(arm: SingleAgentArm, key: str) -> tuple[float, str]:
    v = arm.value(key)
    lo, hi = arm.interval(key)
    if arm.n is not None:
        return float(arm.n), "reported n"
    # a 95% CI of a positive rate never starts at 0: an interval from 0 is a rounding range
    # ("less than 1 percent" recorded as 0.005 in [0, 0.01]), whose width implies no n (APEX's
    # dexamethasone CR would imply n = 765, more than the 669 patients of both arms)
    if lo is not None and hi is not None and hi > lo > 0 and v is not None and 0 < v < 1:
        se = (hi - lo) / (2 * 1.959963984540054)
        return max(1.0, v * (1 - v) / se**2), "n implied by the CI"
    return float(DEFAULT_N), f"default n = {DEFAULT_N} (none reported)"


def _time_key(arm: SingleAgentArm) -> str | None:
    for k in ("median_ttp_months", "median_pfs_months"):
        if arm.value(k) is not None:
            return k
    return None


def _log_sd(arm: SingleAgentArm, key: str) -> float:
    lo, hi = arm.interval(key)
    if lo is not None and hi is not None and hi > lo:
        return (math.log(hi) - math.log(lo)) / (2 * 1.959963984540054)
    return DEFAULT_LOG_SD


def arm_deviance(
    arm: SingleAgentArm, pred: dict[str, Any], horizon_days: float
) -> dict[str, float]:
    """Deviance terms of one arm: one per reported rate and median."""
    terms: dict[str, float] = {}
    P = pred["n"]
    for key in RATE_KEYS:
        o = arm.value(key)
        if o is None:
            continue
        n, _ = _n_eff(arm, key)
        p = min(max(pred[key], 0.5 / P), 1 - 0.5 / P)
        t = 0.0
        if o > 0:
            t += o * math.log(o / p)
        if o < 1:
            t += (1 - o) * math.log((1 - o) / (1 - p))
        terms[key] = 2.0 * n * t
    tk = _time_key(arm)
    if tk is not None:
        obs = float(arm.value(tk))  # type: ignore[arg-type]
        pm = pred["median_ttp_months"]
        h = horizon_days / DAYS_PER_MONTH
        if pm is None:
            pm = None if obs >= h else h  # not reached: only a lower bound
        if pm is not None:
            terms[tk] = ((math.log(pm) - math.log(obs)) / _log_sd(arm, tk)) ** 2
        else:
            terms[tk] = 0.0
    return terms


def _prior(tb: float) -> float:
    return ((tb - BIRTH_DOUBLING_DAYS.value) / 27.5) ** 2


#: serum M-protein doubling time at first relapse, measured in 137 patients: 6 months or less in
#: 65, longer in 72 (Eur J Haematol 1996;57:247, DOI:10.1111/j.1600-0609.1996.tb01371.x, abstract
#: read on scilit.com; the source of UNTREATED_DOUBLING_DAYS): (patients <= threshold, patients,
#: threshold in days = 6 months)
RELAPSE_DOUBLING = (65, 137, 182.625)


def growth_log_sd(population: Any) -> float | None:
    """SD of ln(growth multiplier) of `population`'s ``[tumour.growth]`` (lognormal), or None
    when the population has no growth spread (then every patient has the typical growth)."""
    from .. import populations as _populations  # deferred: only the fit needs a population

    pop = population if isinstance(population, _populations.Population) else None
    if pop is None:
        pop = _populations.load(population)
    spec = pop.tumour.growth
    if spec is None or spec.kind != "lognormal" or not spec.cv > 0:
        return None
    return math.sqrt(math.log1p(float(spec.cv) ** 2))


def untreated_doubling(s: float, tb: float) -> float:
    """The typical patient's untreated doubling time (days) at death scale `s` and birth
    doubling `tb` (inf when the untreated tumour does not grow)."""
    beta = math.log(2) / tb
    net = beta - s * (beta - _NU)
    return math.log(2) / net if net > 0 else math.inf


def growth_deviance(s: float, tb: float, log_sd: float | None) -> float:
    """Binomial deviance of the untreated growth that (s, Tb) imply against the sourced share
    of patients whose M-protein doubles within 6 months at relapse (:data:`RELAPSE_DOUBLING`):
    a patient's untreated rate is the typical one x their growth multiplier (lognormal with
    `log_sd`, the population's ``[tumour.growth]``), so the modelled share is
    Phi(ln(r0 / r_6mo) / log_sd). With ``s = 1`` the typical doubling is the sourced 182.6 d
    and the share 1/2 (observed 65/137 = 0.474). Without a spread (`log_sd` None) the share is
    0 or 1 and the term is the step at the threshold."""
    k, n, days = RELAPSE_DOUBLING
    beta = math.log(2) / tb
    r0 = beta - s * (beta - _NU)
    if r0 <= 0:
        return math.inf
    z = math.log(r0 * days / math.log(2))
    if log_sd is None or log_sd <= 0:
        p = 1.0 if z >= 0 else 0.0
    else:
        p = 0.5 * math.erfc(-z / (log_sd * math.sqrt(2.0)))
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    o = k / n
    return 2.0 * n * (o * math.log(o / p) + (1.0 - o) * math.log((1.0 - o) / (1.0 - p)))


def s_grid(tb: float, points: int, log_sd: float | None = None) -> np.ndarray:
    """Death scales to search at birth doubling `tb`: `points` evenly over the allowed range,
    and with the growth term (`log_sd` given) also `points` values whose typical untreated
    doubling lies within x/÷ exp(0.5) of 182.6 d (where the sourced growth allows s to be)."""
    lo, hi = PARAMETERS["death_scale"][1], _s_max(tb)
    ss = np.linspace(lo, hi, points)
    if log_sd is not None:
        beta = math.log(2) / tb
        r0 = _NU * np.exp(np.linspace(-0.5, 0.5, points))
        near = (beta - r0) / (beta - _NU)
        ss = np.unique(np.concatenate([ss, near[(near >= lo) & (near <= hi)]]))
    return ss


def _s_max(tb: float) -> float:
    """Largest death_scale that keeps the untreated tumour growing (capped by the bounds)."""
    beta = math.log(2) / tb
    return min(PARAMETERS["death_scale"][2], 0.98 * beta / (beta - _NU))


@dataclass
class CalibrationResult:
    """The outcome of :func:`calibrate`."""

    values: dict[str, float]
    intervals: dict[str, tuple[float | None, float | None]]
    deviance: float
    arms: list[dict[str, Any]]
    profile: dict[str, list[tuple[float, float]]]
    meta: dict[str, Any]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameters": [
                {"name": k, "value": v, "low": self.intervals[k][0], "high": self.intervals[k][1]}
                for k, v in self.values.items()
            ],
            "deviance": self.deviance,
            "profile": {k: [list(p) for p in v] for k, v in self.profile.items()},
            "arms": self.arms,
            "meta": self.meta,
            "notes": self.notes,
        }


def uncertainty(arm: SingleAgentArm, key: str) -> tuple[float, float] | None:
    """The interval a modelled value must fall in to count as reproducing `arm`'s `key`: the
    reported CI, else for a rate a Wilson 95% interval at the reported (or CI-implied, or
    default) n, for a median +-1.96 x its log-SD (:data:`DEFAULT_LOG_SD` without a CI)."""
    o = arm.value(key)
    if o is None:
        return None
    lo, hi = arm.interval(key)
    if key in RATE_KEYS:
        if lo is None or hi is None:
            n, _ = _n_eff(arm, key)
            z = 1.959963984540054
            c = (o + z * z / (2 * n)) / (1 + z * z / n)
            w = z * math.sqrt(o * (1 - o) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            lo = min(lo if lo is not None else 1.0, c - w)
            hi = max(hi if hi is not None else 0.0, c + w)
        return max(lo, 0.0), min(hi, 1.0)
    sd = _log_sd(arm, key)
    lo = lo if lo is not None else o * math.exp(-1.96 * sd)
    hi = hi if hi is not None else o * math.exp(1.96 * sd)
    return lo, hi


def _within(arm: SingleAgentArm, key: str, pred: float | None, horizon: float) -> bool | None:
    u = uncertainty(arm, key)
    if u is None:
        return None
    o = float(arm.value(key))  # type: ignore[arg-type]
    lo, hi = u
    if key in RATE_KEYS:
        return pred is not None and lo - 1e-12 <= pred <= hi + 1e-12
    if pred is None:
        return o >= horizon / DAYS_PER_MONTH or hi >= horizon / DAYS_PER_MONTH
    return lo <= pred <= hi


def calibrate(
    data: Any = "single_agent",
    *,
    population: str = "rrmm",
    patients: int = 16,
    seed: int = 0,
    follow_up_days: float = 240.0,
    step_hours: float = 8.0,
    hours_grid: Sequence[float] = (1.0,),
    s_points: int = 27,
    tb_points: int = 13,
    num_threads: int = 0,
    command: str | None = None,
    pk_variability: bool = True,
    relapse_growth: bool = True,
) -> CalibrationResult:
    """Fit the free parameters to the single-agent arms of `data` (module doc).

    Parameters
    ----------
    data : name or path of a single-agent data file (combination files are refused)
    population : virtual population the arms' patients come from (the data are relapsed arms)
    patients, seed : cohort size and seed (the same patients in every arm)
    follow_up_days : follow-up simulated per arm (a median beyond it is a lower bound)
    step_hours : network step (coarser than the trial default of 4 h, for speed)
    hours_grid : values of hours_per_model_time to profile (each costs a full set of runs)
    pk_variability : give each patient their between-patient PK random effects, as virtual
        trials do by default (False: every patient has the typical PK)
    relapse_growth : add the sourced untreated growth at relapse (:func:`growth_deviance`) to
        the objective (False: the behaviour before 2026-12-01, where s could move the untreated
        doubling time freely)
    """
    from scipy.optimize import minimize  # deferred: SciPy loads only when fitting

    arms = load_single_agent(data) if not isinstance(data, (list, tuple)) else tuple(data)
    if isinstance(patients, bool) or not isinstance(patients, int) or patients < 1:
        raise InvalidInputError(f"calibrate(): patients must be an integer >= 1, got {patients!r}")
    if not hours_grid:
        raise InvalidInputError("calibrate(): hours_grid must name at least one value")
    for h in hours_grid:
        lo, hi = PARAMETERS["hours_per_model_time"][1:3]
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not lo <= h <= hi:
            raise InvalidInputError(
                f"calibrate(): hours_grid values must be in [{lo:g}, {hi:g}], got {h!r}"
            )
    cohort, skipped = enrol(population, patients, seed)
    lsd = growth_log_sd(population)
    used, notes = simulable_arms(arms, "calibrate")
    subs = subgroup_cohorts(used, population, patients, seed)
    courses_by_h = {
        float(h): simulate_courses(
            used,
            cohort,
            subgroups=subs,
            hours_per_model_time=float(h),
            follow_up_days=follow_up_days,
            step_hours=step_hours,
            num_threads=num_threads,
            pk_population=population if pk_variability else None,
            pk_seed=seed if pk_variability else None,
        )
        for h in hours_grid
    }

    def total(s: float, tb: float, h: float) -> float:
        if not (PARAMETERS["birth_doubling_days"][1] <= tb <= PARAMETERS["birth_doubling_days"][2]):
            return math.inf
        if not (PARAMETERS["death_scale"][1] <= s <= _s_max(tb)):
            return math.inf
        d = _prior(tb) + (growth_deviance(s, tb, lsd) if relapse_growth else 0.0)
        for c in courses_by_h[h]:
            d += sum(arm_deviance(c.arm, predict(c, s, tb), c.horizon_days).values())
        return d

    tb_lo, tb_hi = PARAMETERS["birth_doubling_days"][1:3]
    tbs = np.linspace(tb_lo, tb_hi, tb_points)
    grid: list[tuple[float, float, float, float]] = []
    for h in courses_by_h:
        for tb in tbs:
            for s in s_grid(float(tb), s_points, lsd if relapse_growth else None):
                grid.append((float(s), float(tb), h, total(float(s), float(tb), h)))
    finite = [g for g in grid if math.isfinite(g[3])]
    if not finite:
        raise FitError("calibrate(): the objective is infinite everywhere on the grid")
    s0, tb0, h0, d0 = min(finite, key=lambda g: g[3])
    opt = minimize(
        lambda x: total(float(x[0]), float(x[1]), h0),
        x0=np.array([s0, tb0]),
        method="Nelder-Mead",
        options={"xatol": 1e-3, "fatol": 1e-3, "maxiter": 200},
    )
    if math.isfinite(float(opt.fun)) and float(opt.fun) < d0:
        s_best, tb_best, d_best = float(opt.x[0]), float(opt.x[1]), float(opt.fun)
    else:
        s_best, tb_best, d_best = s0, tb0, d0
    # profiles: the minimum over the other parameters at each grid value
    prof: dict[str, list[tuple[float, float]]] = {}
    for idx, name in ((0, "death_scale"), (1, "birth_doubling_days"), (2, "hours_per_model_time")):
        byv: dict[float, float] = {}
        for g in finite:
            v = round(g[idx], 6)
            byv[v] = min(byv.get(v, math.inf), g[3])
        prof[name] = sorted(byv.items())
    best_at = {"death_scale": s_best, "birth_doubling_days": tb_best, "hours_per_model_time": h0}
    intervals: dict[str, tuple[float | None, float | None]] = {}
    for name, pts in prof.items():
        # the grid profile plus the refined optimum itself (always inside its interval)
        inside = [v for v, d in pts if d - d_best <= CHI2_95] + [best_at[name]]
        intervals[name] = (min(inside), max(inside))
    if len(courses_by_h) == 1:
        intervals["hours_per_model_time"] = (None, None)
        notes.append(
            "hours_per_model_time was not profiled (one grid value): give --hours-grid to fit it"
        )
    values = {"death_scale": s_best, "birth_doubling_days": tb_best, "hours_per_model_time": h0}
    # per-arm report at the optimum
    report = []
    for c in courses_by_h[h0]:
        pr = predict(c, s_best, tb_best)
        terms = arm_deviance(c.arm, pr, c.horizon_days)
        row: dict[str, Any] = {"arm": c.arm.id, "trial": c.arm.trial, "agent": c.arm.agents[0]}
        for key in (*RATE_KEYS, "median_ttp_months", "median_pfs_months"):
            obs = c.arm.value(key)
            if obs is None:
                continue
            p = pr["median_ttp_months"] if key.startswith("median") else pr[key]
            row[f"{key}_observed"] = obs
            row[f"{key}_predicted"] = (
                p if p is not None else f">{c.horizon_days / DAYS_PER_MONTH:.1f}"
            )
            row[f"{key}_within"] = _within(c.arm, key, p, c.horizon_days)
        row["deviance"] = float(sum(terms.values()))
        pd0 = predict(c, 1.0, BIRTH_DOUBLING_DAYS.value)
        row["orr_at_defaults"] = pd0["orr"]
        row["deviance_at_defaults"] = float(sum(arm_deviance(c.arm, pd0, c.horizon_days).values()))
        within = [v for k, v in row.items() if k.endswith("_within") and v is not None]
        row["fits"] = bool(within) and all(within)
        report.append(row)
    beta = math.log(2) / tb_best
    net = beta - s_best * (beta - _NU)
    notes.append(
        f"untreated doubling implied by the fit: {math.log(2) / net:.0f} days "
        f"(sourced median ~{UNTREATED_DOUBLING_DAYS.value:g} d; death_scale 1 keeps it)"
        if net > 0
        else "the fit implies an untreated tumour that does not grow"
    )
    if skipped:
        notes.append(f"{skipped} nonsecretory patient(s) passed over at enrolment")
    mixed = [a for a in used if a.population_mix]
    if mixed:
        notes.append(mix_note(mixed))
    sources = sorted({s for c in courses_by_h[h0] for s in c.arm.sources})
    meta = {
        "date": _dt.date.today().isoformat(),
        "data": "calibration/single_agent.toml" if data == "single_agent" else str(data),
        "arms": [c.arm.id for c in courses_by_h[h0]],
        "sources": sources,
        "objective": d_best,
        "objective_at_defaults": total(1.0, BIRTH_DOUBLING_DAYS.value, h0),
        "objective_kind": "deviance (binomial rates, log-normal medians, Tb prior)",
        "population": population,
        "patients": patients,
        "seed": seed,
        "follow_up_days": float(follow_up_days),
        "step_hours": float(step_hours),
        "hours_grid": [float(h) for h in hours_grid],
        "pk_variability": bool(pk_variability),
        "command": command,
    }
    return CalibrationResult(values, intervals, d_best, report, prof, meta, notes)
