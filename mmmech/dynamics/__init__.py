"""Regimens in time: pharmacokinetics driving the myeloma network, tumour burden, serum M-protein
and IMWG response (layer after :mod:`mmmech.simulation`, before :mod:`mmmech.synergy`).

Modules
-------
regimen   :func:`simulate_regimen` (``mmmech.simulate_regimen``), :func:`simulate_regimens`,
          :class:`RegimenResult`
tumour    :class:`TumourModel` (sourced rates), :func:`tumour_model`, the exact step integrator
imwg      :func:`classify`: IMWG best response and progression on an M-protein course
kinetics  drug-target binding kinetics (reversible dissociation, covalent capture and target
          recovery): :func:`~mmmech.dynamics.kinetics.occupancy_course` (exact per interval),
          :func:`~mmmech.dynamics.kinetics.interval_means` (exact interval-mean PK concentrations)
pulse     :func:`~mmmech.dynamics.pulse.pulse_assay`: an in-vitro pulse (washout) assay in time,
          relative cell number after the assay (the drug for a few hours, then none)
cohort    :func:`simulate_cohort`: many virtual patients of one regimen in chunks (readouts,
          tumour and M-protein only; equals :func:`simulate_regimens`)

The models, rates with sources and approximations: ``docs/dynamics.md``.
"""

from __future__ import annotations

from .cohort import CohortResult, simulate_cohort
from .imwg import CATEGORIES, IMWG_SOURCE, Response, classify
from .regimen import (
    HOURS_PER_MODEL_TIME,
    KEY_NODES,
    PK_ROUTES,
    REFERENCE_BODY,
    RegimenResult,
    simulate_regimen,
    simulate_regimens,
)
from .tumour import (
    BIRTH_DOUBLING_DAYS,
    HALF_LIVES,
    UNTREATED_DOUBLING_DAYS,
    Rate,
    TumourModel,
    tumour_model,
)

__all__ = [
    "simulate_regimen",
    "simulate_regimens",
    "simulate_cohort",
    "CohortResult",
    "RegimenResult",
    "TumourModel",
    "tumour_model",
    "Rate",
    "HALF_LIVES",
    "BIRTH_DOUBLING_DAYS",
    "UNTREATED_DOUBLING_DAYS",
    "classify",
    "Response",
    "CATEGORIES",
    "IMWG_SOURCE",
    "HOURS_PER_MODEL_TIME",
    "KEY_NODES",
    "PK_ROUTES",
    "REFERENCE_BODY",
]
