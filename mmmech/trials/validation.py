"""Virtual trials against real ones: validation only, nothing is fitted.

For every randomised combination trial of ``trials/combination_trials.toml``
(:func:`mmmech.calibration.load_combination_trials`) whose arms all name a bundled regimen
(the ``regimen`` key of each ``[[trial.arm]]``, written in the data file next to the arm it
stands for), :func:`validate_trials` runs a virtual trial of the experimental arm against the
control arm on the same virtual patients (:func:`mmmech.trials.run_trial`; population = the
trial's setting, ``ndmm`` or ``rrmm``), and sets the predicted ORR, VGPR or better, median PFS
and hazard ratio beside the observed ones. Across trials it reports the Spearman rank
correlation (:func:`scipy.stats.spearmanr`) of predicted against observed hazard ratios and of
ORR differences, and how often the sign agrees (does the experimental arm do better?). Trials
with an arm that has no bundled regimen are listed as not simulated, with the reason. A
subgroup trial (``subgroup = "t11_14"``) runs on its setting's population with that context
forced on every patient (:func:`subgroup_population`). A trial with its own enrolment criteria
in ``trials/enrolment.toml`` (:func:`mmmech.trials.enrolment.load_trial_enrolment`: e.g.
BELLINI excludes bortezomib-refractory patients) enrols the population's patients who meet
them too (:func:`mmmech.trials.enrolment.trial_population`): the same keyed patients, fewer of
them admitted.

This module ranks after :mod:`mmmech.calibration` (it reads that package's data loader), so
:mod:`mmmech.trials` does not import it: ``from mmmech.trials.validation import
validate_trials``. Method and the published table: ``docs/trials.md`` ("Virtual against real
trials").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._guards import check_int, check_seed
from ..calibration.data import CombinationTrial, load_combination_trials
from ..exceptions import InvalidInputError
from ..populations import Eligibility, subgroup_population
from ..utils import did_you_mean
from .enrolment import describe_eligibility, load_trial_enrolment, trial_population
from .run import MAX_PATIENTS, check_follow_up_months, run_trial

__all__ = [
    "POPULATION_GAPS",
    "TrialComparison",
    "ValidationResult",
    "subgroup_population",
    "validate_trials",
]

_FUNC = "validate_trials"

#: Where the bundled population of a trial's setting differs from the trial's eligibility
#: (read against populations/ndmm.toml and populations/rrmm.toml and each trial's
#: ``eligibility`` in trials/combination_trials.toml). A trial missing here has none to say
#: beyond the general one in :data:`_GENERAL_GAP`.
POPULATION_GAPS: dict[str, str] = {
    "endurance": "ENDURANCE enrolled patients without intent for immediate transplant; the "
    "bundled ndmm population is transplant-ineligible (its high-risk exclusions are applied "
    "from trials/enrolment.toml; t(14;20) is not sampled)",
    "perseus": "PERSEUS enrolled transplant-eligible patients aged 18-70; the bundled ndmm "
    "population is transplant-ineligible (older; body size and renal function of that "
    "setting); the arms are the GRIFFIN schedules (dara_vrd, vrd_griffin), not PERSEUS's",
    "boston": "BOSTON required prior proteasome inhibitor exposure; in the bundled rrmm "
    "population only bortezomib refractoriness acts (pi_refractory), prior exposure without "
    "refractoriness changes nothing in the network; BOSTON's refractory exclusions were not "
    "read, so none is applied",
    "bellini_t11_14": "t(11;14) subgroup: every rrmm patient is given the t(11;14) primary "
    "event (subgroup_population: the group holding it is forced to it; the patient's other "
    "draws are unchanged)",
}
_GENERAL_GAP = {
    "ndmm": "",
    "rrmm": "rrmm: lenalidomide and bortezomib refractoriness act through the len_refractory "
    "and pi_refractory contexts (sizes are modelling choices within recorded ranges); other "
    "prior-therapy exposure is a patient feature that changes nothing in the network "
    "(populations/rrmm.toml)",
}


@dataclass(frozen=True)
class TrialComparison:
    """One trial: observed values from the data file, predicted from the virtual trial (or the
    reason it was not simulated)."""

    id: str
    name: str
    population: str
    experimental: str
    control: str
    regimens: tuple[str | None, str | None]
    observed: dict[str, Any]
    predicted: dict[str, Any] | None
    not_simulated: str | None
    population_gap: str
    sources: tuple[str, ...]
    verified: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "population": self.population,
            "experimental": self.experimental,
            "control": self.control,
            "regimens": list(self.regimens),
            "simulated": self.predicted is not None,
            "not_simulated": self.not_simulated,
            "population_gap": self.population_gap,
            "observed": self.observed,
            "predicted": self.predicted,
            "sources": list(self.sources),
            "verified": self.verified,
        }


@dataclass
class ValidationResult:
    """Per-trial rows and the across-trial agreement (:meth:`to_dict` is the JSON of
    ``mmmech trial --validate --json``)."""

    patients: int
    seed: int
    cycles: int | None
    rows: list[TrialComparison]
    #: the follow-up asked for (months), or None: each trial's treatment span
    follow_up_months: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    #: the calibrated parameter file the arms ran with (``{"name", "file", "version"}``), or
    #: None: the model's defaults
    parameters: dict[str, Any] | None = None

    def row(self, trial_id: str) -> TrialComparison:
        for r in self.rows:
            if r.id == trial_id:
                return r
        ids = [r.id for r in self.rows]
        raise InvalidInputError(
            f"ValidationResult.row(): no trial {trial_id!r}{did_you_mean(trial_id, ids)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "patients": self.patients,
            "seed": self.seed,
            "cycles": self.cycles,
            "follow_up_months": self.follow_up_months,
            "trials": [r.to_dict() for r in self.rows],
            "summary": self.summary,
            "parameters": self.parameters,
            "notes": [
                "validation only: no number of the model was set from these trials",
                "observed values are the data file's (trials/combination_trials.toml); a "
                "missing value was not read in any source",
                "predicted PFS is censored at the end of the follow-up (follow_up_months, or "
                "the arms' treatment span); 'not reached' is null",
            ],
        }

    def markdown(self) -> str:
        """The table of docs/trials.md: one row per trial."""
        head = (
            "| Trial | Arms (regimens) | Population | ORR obs / pred | >=VGPR obs / pred | "
            "Median PFS mo obs / pred | HR obs | HR pred (95% CI) | Experimental arm obs / pred |\n"
            "|---|---|---|---|---|---|---|---|---|"
        )
        lines = [head]
        signs = {
            x["id"]: f"{x['observed'] or '-'} / {x['predicted']} ({x['predicted_basis']})"
            for x in self.summary.get("sign_agreement", {}).get("per_trial", [])
        }
        for r in self.rows:
            o, p = r.observed, r.predicted
            arms = f"{r.experimental} vs {r.control}"
            if p is None:
                lines.append(
                    f"| {r.name} | {arms} | {r.population} | {_pair(o, None, 'orr')} | "
                    f"{_pair(o, None, 'vgpr_or_better')} | {_pfs(o, None)} | {_hr(o)} | "
                    f"not simulated: {r.not_simulated} | - |"
                )
                continue
            arms = f"{arms} ({r.regimens[0]} vs {r.regimens[1]})"
            lines.append(
                f"| {r.name} | {arms} | {r.population} | {_pair(o, p, 'orr')} | "
                f"{_pair(o, p, 'vgpr_or_better')} | {_pfs(o, p)} | {_hr(o)} | {_hr(p)} | "
                f"{signs.get(r.id, '-')} |"
            )
        return "\n".join(lines)


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _mo(x: Any) -> str:
    return "NR" if x is None else f"{x:.1f}"


def _pair(o: dict[str, Any], p: dict[str, Any] | None, key: str) -> str:
    def side(d: dict[str, Any]) -> str:
        e, c = d["experimental"].get(key), d["control"].get(key)
        return "-" if e is None and c is None else f"{_pct(e)} vs {_pct(c)}"

    obs = side(o)
    return obs if p is None else f"{obs} / {side(p)}"


def _pfs(o: dict[str, Any], p: dict[str, Any] | None) -> str:
    def side(d: dict[str, Any], missing: str) -> str:
        e, c = d["experimental"], d["control"]
        k = "median_pfs_months"
        if k not in e and k not in c:
            return "-"
        return f"{_mo(e.get(k)) if k in e else missing} vs {_mo(c.get(k)) if k in c else missing}"

    obs = side(o, "-")
    return obs if p is None else f"{obs} / {side(p, 'NR')}"


def _hr(d: dict[str, Any]) -> str:
    hr = d.get("hr")
    if hr is None:
        return d.get("hr_note") or "-"
    if d.get("hr_low") is None:
        return f"{hr:.2f}"
    return f"{hr:.2f} ({d['hr_low']:.2f}-{d['hr_high']:.2f})"


def _observed(t: CombinationTrial, exp: Any, ctl: Any) -> dict[str, Any]:
    def arm(a: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"name": a.name, "n": a.n}
        out.update({k: float(v) for k, v in a.values.items()})
        return out

    out: dict[str, Any] = {"experimental": arm(exp), "control": arm(ctl)}
    for k in ("hr", "hr_low", "hr_high", "hr_ci_level"):
        out[k] = float(t.hr[k]) if k in t.hr else None
    if out["hr"] is not None and out["hr_low"] is not None and out["hr_ci_level"] is None:
        out["hr_ci_level"] = 0.95
    return out


def _predicted(payload: dict[str, Any]) -> dict[str, Any]:
    keys = ("orr", "vgpr_or_better", "cr_or_better", "median_pfs_months")
    e, c = payload["arms"]
    hr = payload["hazard_ratios"][0]
    return {
        "experimental": {"name": e["name"], "n": e["patients"], **{k: e[k] for k in keys}},
        "control": {"name": c["name"], "n": c["patients"], **{k: c[k] for k in keys}},
        "hr": hr["value"],
        "hr_low": hr["low"],
        "hr_high": hr["high"],
        "hr_ci_level": None if hr["value"] is None else 0.95,
        "hr_note": hr["note"],
        "follow_up_months": payload["follow_up_months"],
        "progressed": [e["progressed"], c["progressed"]],
    }


def _spearman(xs: Sequence[float], ys: Sequence[float], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {"what": what, "n": len(xs), "rho": None, "p": None, "note": None}
    if len(xs) < 3:
        out["note"] = f"needs at least 3 trials with both values, got {len(xs)}"
        return out
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        out["note"] = "not defined: one side is constant across trials"
        return out
    from scipy.stats import spearmanr  # deferred: scipy.stats loads only for validation

    res = spearmanr(xs, ys)
    rho, p = float(res.statistic), float(res.pvalue)
    out["rho"] = None if math.isnan(rho) else rho
    out["p"] = None if math.isnan(p) else p
    return out


def _direction(diff: float) -> str:
    return "better" if diff < 0 else "worse" if diff > 0 else "same"


def _observed_direction(o: dict[str, Any]) -> tuple[str | None, str]:
    if o["hr"] is not None:
        return _direction(o["hr"] - 1.0), "hr"
    oe, oc = o["experimental"].get("orr"), o["control"].get("orr")
    if oe is not None and oc is not None:
        return _direction(oc - oe), "orr"
    return None, "none"


def _predicted_direction(p: dict[str, Any]) -> tuple[str, str]:
    if p["hr"] is not None:
        return _direction(p["hr"] - 1.0), "hr"
    prog = p.get("progressed")
    if prog is not None and prog[0] != prog[1]:
        return _direction(prog[0] - prog[1]), "progressions"
    e, c = p["experimental"], p["control"]
    for k in ("orr", "vgpr_or_better", "cr_or_better"):
        if e.get(k) is not None and c.get(k) is not None and e[k] != c[k]:
            return _direction(c[k] - e[k]), "response"
    return "same", "response"


def _summary(rows: Sequence[TrialComparison]) -> dict[str, Any]:
    hr_o, hr_p, hr_ids = [], [], []
    d_o, d_p, d_ids = [], [], []
    signs = []
    for r in rows:
        if r.predicted is None:
            continue
        o, p = r.observed, r.predicted
        if o["hr"] is not None and p["hr"] is not None:
            hr_o.append(o["hr"])
            hr_p.append(p["hr"])
            hr_ids.append(r.id)
        oe, oc = o["experimental"].get("orr"), o["control"].get("orr")
        pe, pc = p["experimental"]["orr"], p["control"]["orr"]
        if oe is not None and oc is not None:
            d_o.append(oe - oc)
            d_p.append(pe - pc)
            d_ids.append(r.id)
        obs_dir, obs_basis = _observed_direction(o)
        pred_dir, pred_basis = _predicted_direction(p)
        signs.append(
            {
                "id": r.id,
                "observed": obs_dir,
                "observed_basis": obs_basis,
                "predicted": pred_dir,
                "predicted_basis": pred_basis,
                "agree": None if obs_dir is None else obs_dir == pred_dir,
            }
        )
    judged = [s for s in signs if s["agree"] is not None]
    return {
        "simulated": sum(r.predicted is not None for r in rows),
        "not_simulated": sum(r.predicted is None for r in rows),
        "spearman_hr": {**_spearman(hr_p, hr_o, "predicted vs observed HR"), "trials": hr_ids},
        "spearman_orr_difference": {
            **_spearman(d_p, d_o, "predicted vs observed ORR difference (experimental - control)"),
            "trials": d_ids,
        },
        "sign_agreement": {
            "agree": sum(bool(s["agree"]) for s in judged),
            "judged": len(judged),
            "per_trial": signs,
            "rule": "direction of the experimental arm against control ('better', 'worse', "
            "'same'): observed from the HR (< 1 better), else the ORR difference; predicted "
            "from the HR where estimable, else from the number of progressions (same patients "
            "and follow-up), else from the response rates (ORR, then >= VGPR, then CR); "
            "'same' where the trial found a difference counts as disagreement",
        },
    }


def validate_trials(
    trials: Sequence[CombinationTrial] | str | None = None,
    *,
    patients: int = 100,
    seed: int = 0,
    cycles: int | None = None,
    follow_up_months: float | None = None,
    ids: Sequence[str] | None = None,
    progress: bool | None = False,
    on_trial: Callable[[TrialComparison], None] | None = None,
    enrolment: Mapping[str, Eligibility] | str | None = None,
    **trial_kw: Any,
) -> ValidationResult:
    """Virtual against real trials (validation only).

    Parameters
    ----------
    trials : loaded trials, a data file name/path, or None for the bundled
        ``combination_trials``.
    patients, seed, cycles : the virtual trial of each simulated trial (same patients in both
        arms; :func:`mmmech.trials.run_trial`).
    follow_up_months : every simulated trial followed at least this long (arms given until
        progression treated throughout; :func:`mmmech.trials.run_trial`); None: the arms'
        treatment span (12 cycles by default), too short for most trials' median PFS.
    ids : only these trial ids (in the data file's order); unknown ids are an error.
    on_trial : called with each finished row (progress reporting).
    enrolment : per-trial enrolment criteria (trial id -> :class:`mmmech.populations.Eligibility`),
        a file in the format of ``trials/enrolment.toml``, or None for the bundled file; ``{}``
        enrols every trial by its population's own criteria.
    trial_kw : passed to :func:`mmmech.trials.run_trial` (``workers``, ``context``, ...;
        ``cohort_kwargs`` and ``parameter_file`` run every arm with a calibrated parameter file,
        :func:`mmmech.calibration.cohort_kwargs`, recorded in the result's ``parameters``).
    """
    patients = check_int(patients, _FUNC, "patients", minimum=1, maximum=MAX_PATIENTS)
    seed = check_seed(seed, _FUNC)
    if cycles is not None:
        cycles = check_int(cycles, _FUNC, "cycles", minimum=1)
    follow_up_months = check_follow_up_months(follow_up_months, _FUNC)
    loaded = (
        load_combination_trials()
        if trials is None
        else load_combination_trials(trials)
        if isinstance(trials, str)
        else tuple(trials)
    )
    if ids is not None:
        known = [t.id for t in loaded]
        for i in ids:
            if i not in known:
                raise InvalidInputError(
                    f"{_FUNC}(): ids names unknown trial {i!r}{did_you_mean(i, known)}"
                )
        loaded = tuple(t for t in loaded if t.id in set(ids))
    criteria = (
        load_trial_enrolment()
        if enrolment is None
        else load_trial_enrolment(enrolment)
        if isinstance(enrolment, str)
        else dict(enrolment)
    )
    rows: list[TrialComparison] = []
    for t in loaded:
        exp = next((a for a in t.arms if a.role == "experimental"), None)
        ctl = next((a for a in t.arms if a.role == "control"), None)
        if exp is None or ctl is None:
            raise InvalidInputError(
                f"{_FUNC}(): trial {t.id!r} needs one experimental and one control arm"
            )
        gap = "; ".join(g for g in (POPULATION_GAPS.get(t.id, ""), _GENERAL_GAP[t.setting]) if g)
        missing = [a.name for a in (exp, ctl) if not a.regimen]
        reason = None
        if missing:
            reason = f"no bundled regimen for {', '.join(missing)}"
        population: Any = t.setting
        qualifiers = []
        if reason is None and t.subgroup:
            population = subgroup_population(t.setting, t.subgroup)
            qualifiers.append(f"{t.subgroup} forced")
        extra = None
        if reason is None:
            population, extra = trial_population(population, t.id, criteria)
        if extra is not None:
            what = describe_eligibility(extra)
            qualifiers.append(what)
            gap = "; ".join(g for g in (f"enrolment: {what} ({extra.origin})", gap) if g)
        label = f"{t.setting} ({'; '.join(qualifiers)})" if qualifiers else t.setting
        predicted = None
        if reason is None:
            res = run_trial(
                [exp.regimen, ctl.regimen],
                population=population,
                patients=patients,
                seed=seed,
                cycles=cycles,
                follow_up_months=follow_up_months,
                progress=progress,
                **trial_kw,
            )
            predicted = _predicted(res.to_dict())
        row = TrialComparison(
            id=t.id,
            name=t.name,
            population=label,
            experimental=exp.name,
            control=ctl.name,
            regimens=(exp.regimen, ctl.regimen),
            observed=_observed(t, exp, ctl),
            predicted=predicted,
            not_simulated=reason,
            population_gap=gap,
            sources=tuple(t.sources),
            verified=t.verified,
        )
        rows.append(row)
        if on_trial is not None:
            on_trial(row)
    pf = trial_kw.get("parameter_file")
    return ValidationResult(
        patients=patients,
        seed=seed,
        cycles=cycles,
        follow_up_months=follow_up_months,
        rows=rows,
        summary=_summary(rows),
        parameters=dict(pf) if pf is not None else None,
    )
