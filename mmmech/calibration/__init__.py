"""Calibration on single-agent data only (layer 9.6, after trials; ``mmmech calibrate``).

Modules
-------
data    :func:`load_single_agent` (calibration arms), :func:`load_combination_trials`
        (validation only), :func:`is_single_agent` (the calibration rule)
fit     :func:`calibrate` -> :class:`CalibrationResult`: free tumour-model parameters fitted to
        the single-agent arms with profile-likelihood intervals
agents  :func:`calibrate_agents`: the shared tumour constants plus one in-vivo factor per agent
        (exposure for small molecules, efficacy for antibodies, engagers, CAR-T), each fitted
        on its own arm(s), rates averaged over resampled tumour multipliers
params  versioned parameter files: :func:`load_parameters` by name or path,
        :func:`cohort_kwargs` (keywords for simulate_regimen / simulate_cohort / simulate_arm),
        :func:`write_parameters`
report  :func:`fit_report`: a parameter file's tables as Markdown (docs/calibration.md)

Method, data and what the fit reproduces and misses: ``docs/calibration.md``.

Examples
--------
>>> from mmmech import calibration
>>> arms = calibration.load_single_agent()
>>> all(calibration.is_single_agent(a.agents) for a in arms)
True
"""

from __future__ import annotations

from .agents import agent_parameter, calibrate_agents
from .data import (
    CombinationTrial,
    SingleAgentArm,
    TrialArm,
    is_single_agent,
    is_source_id,
    load_combination_trials,
    load_single_agent,
)
from .fit import CalibrationResult, arm_deviance, calibrate, predict, simulate_courses
from .params import (
    PARAMETERS,
    ParameterSet,
    available_parameters,
    cohort_kwargs,
    load_parameters,
    write_parameters,
)
from .report import fit_report, fit_tables

__all__ = [
    "PARAMETERS",
    "CalibrationResult",
    "CombinationTrial",
    "ParameterSet",
    "SingleAgentArm",
    "TrialArm",
    "agent_parameter",
    "arm_deviance",
    "available_parameters",
    "calibrate",
    "calibrate_agents",
    "cohort_kwargs",
    "fit_report",
    "fit_tables",
    "is_single_agent",
    "is_source_id",
    "load_combination_trials",
    "load_parameters",
    "load_single_agent",
    "predict",
    "simulate_courses",
    "write_parameters",
]
