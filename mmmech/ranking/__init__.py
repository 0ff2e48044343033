"""One patient, many regimens: :func:`rank` (``mmmech rank --patient ...``).

Layer 9.7 (after screening and validation, before the command line). Runs one patient file
through each candidate regimen with toxicity fed back into efficacy
(:mod:`mmmech.dynamics.feedback`), over a small ensemble of the documented uncertain
parameters, ranks the regimens by depth of response, progression-free time and toxicity, and
explains the top ones (drop-one-drug deltas, the patient's contexts, the nodes that move).
Research use only, not for clinical decisions. ``docs/ranking.md`` is the contract.
"""

from __future__ import annotations

from .core import (
    DEFAULT_CYCLES,
    DEFAULT_ENSEMBLE,
    DEFAULT_STEP_HOURS,
    Ranking,
    default_regimens,
    rank,
)

__all__ = [
    "DEFAULT_CYCLES",
    "DEFAULT_ENSEMBLE",
    "DEFAULT_STEP_HOURS",
    "Ranking",
    "default_regimens",
    "rank",
]
