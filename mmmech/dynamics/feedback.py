"""Toxicity fed back into efficacy: the doses a patient actually gets, then the network course.

:func:`toxicity_doses` runs :func:`mmmech.toxicity.apply_dose_modifications` for a patient (its
health table, CrCl and age; or the toxicity layer's defaults when no patient is given) and
returns the doses actually given as one list of :class:`mmmech.regimens.DoseEvent` in mg, ready
for the ``doses`` key of a :func:`mmmech.dynamics.simulate_regimens` spec, with the course.
:func:`toxicity_summary` is the ``"toxicity"`` block of the regimen JSON (``docs/cli.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import regimens as _regimens
from .. import toxicity as _toxicity

__all__ = ["patient_health", "toxicity_doses", "toxicity_summary", "DEFAULT_HEALTH_NOTE"]

#: what a run without a patient assumes (said in the notes)
DEFAULT_HEALTH_NOTE = (
    "toxicity without a patient: the toxicity layer's defaults (curated baseline ANC, no "
    "pre-existing neuropathy, no CrCl so no lenalidomide renal adjustment)"
)


def patient_health(pat: Any) -> dict[str, Any]:
    """The :class:`mmmech.toxicity.Health` fields of a patient record: its ``[health]`` table,
    CrCl and age."""
    out: dict[str, Any] = {
        k: v for k, v in pat.health.to_dict().items() if v is not None and k != "dialysis"
    }
    out["crcl_ml_min"] = float(pat.body["crcl_ml_min"])
    out["age"] = float(pat.age)
    return out


def toxicity_doses(
    regimen: _regimens.Regimen,
    cycles: int,
    *,
    body: _regimens.Body,
    health: Mapping[str, Any] | None,
    neutrophil_sensitivity: float = 1.0,
) -> tuple[list[_regimens.DoseEvent], _toxicity.ToxicityCourse]:
    """The doses actually given (one list, by day) and the toxicity course of `regimen`."""
    doses, course = _toxicity.apply_dose_modifications(
        regimen,
        cycles,
        body,
        dict(health or {}),
        neutrophil_sensitivity=neutrophil_sensitivity,
    )
    events = sorted((e for evs in doses.values() for e in evs), key=lambda e: (e.day, e.drug))
    return events, course


def toxicity_summary(course: _toxicity.ToxicityCourse) -> dict[str, Any]:
    """JSON-ready summary: ANC course (daily), grades per cycle, reductions, holds and
    discontinuations, the renal adjustment and the label-incidence fallbacks."""
    d = course.to_dict()
    t, anc = course.times_day, course.anc
    anc_block: dict[str, Any] | None = None
    if len(t):
        days = np.arange(np.ceil(t[0]), np.floor(t[-1]) + 1.0)
        daily = np.interp(days, t, anc)
        i = int(np.argmin(anc))
        anc_block = {
            "baseline_10e9_L": round(float(anc[0]), 4),
            "nadir_10e9_L": round(float(anc[i]), 4),
            "nadir_day": round(float(t[i]), 2),
            "worst_grade": course.worst_grade("anc"),
            "day": [int(x) for x in days],
            "anc_10e9_L": [round(float(a), 4) for a in daily],
        }
    holds = [a for a in course.actions if a["action"] == "hold"]
    return {
        "summary": d["summary"],
        "anc": anc_block,
        "cycles": [
            {
                "cycle": c["cycle"],
                "start_day": c["start_day"],
                "anc_nadir": c["anc_nadir"],
                "anc_grade": c["anc_grade"],
                "neuropathy_grade": c["neuropathy_grade"],
                "doses_mg": c["doses_mg"],
                "held": c["held"],
                "actions": c["actions"],
            }
            for c in course.cycles
        ],
        "dose_reductions": course.dose_reductions,
        "holds": len(holds),
        "discontinued": course.discontinued,
        "actions": d["actions"],
        "worst_anc_grade": course.worst_grade("anc"),
        "worst_neuropathy_grade": course.worst_grade("neuropathy"),
        "renal": d["renal"],
        "incidence": d["incidence"],
        "health": d["health"],
        "notes": d["notes"],
    }
