"""Virtual trials: the same virtual patients through every arm (layer 9.5, after screening).

:func:`trial` (``mmmech.trial``, ``mmmech trial``) enrols N patients of a virtual population
(:mod:`mmmech.populations`, keyed: patient ``i`` is the same in every arm and every run), gives
each arm's regimen to all of them with the batched cohort kernel
(:func:`mmmech.dynamics.simulate_cohort`, patients grouped by their context combination), and
reports per arm the IMWG response rates (ORR = PR or better, VGPR or better, CR), the
Kaplan-Meier curve of progression-free survival with its median and 95% interval, the toxicity
rates (grade >= 3 neutropenia, neuropathy, dose reductions, holds, discontinuations), and between
arms the Cox hazard ratio with its 95% interval (lifelines). Batches of patients run in-process
or on Dask, journaled, exactly as :func:`mmmech.screen` runs its chunks. Method, assumptions and
limits: ``docs/trials.md``.

Modules
-------
arms      :func:`simulate_arm` -> :class:`ArmResult` (per-patient best response, PFS, progressed)
survival  :func:`kaplan_meier`, :func:`hazard_ratio` (lifelines)
run       :func:`run_trial` / :func:`trial` -> :class:`TrialResult`, :func:`enrol`
plot      :func:`plot_trial`: KM curves with numbers at risk and response bars
tox       per-arm toxicity rates from each patient's dose-modification course (issue 19)

Examples
--------
>>> from mmmech import trials
>>> res = trials.run_trial(["VRd", "Rd"], "ndmm", patients=20, seed=1)  # doctest: +SKIP
>>> res.to_dict()["hazard_ratios"][0]["arm"]                            # doctest: +SKIP
'VRd'
"""

from __future__ import annotations

from .arms import (
    DAYS_PER_MONTH,
    DEFAULT_CYCLES,
    RESPONSE_ORDER,
    ArmResult,
    arm_cycles,
    arm_horizon_days,
    simulate_arm,
)
from .run import MAX_PATIENTS, TrialResult, enrol, run_trial, trial
from .survival import HazardRatio, KaplanMeier, hazard_ratio, kaplan_meier

__all__ = [
    "ArmResult",
    "DAYS_PER_MONTH",
    "DEFAULT_CYCLES",
    "HazardRatio",
    "KaplanMeier",
    "MAX_PATIENTS",
    "RESPONSE_ORDER",
    "TrialResult",
    "arm_cycles",
    "arm_horizon_days",
    "enrol",
    "hazard_ratio",
    "kaplan_meier",
    "run_trial",
    "simulate_arm",
    "trial",
]
