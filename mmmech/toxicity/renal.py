"""Renal function and lenalidomide: clearance by creatinine clearance and the label's doses.

Lenalidomide is cleared mostly unchanged by the kidney (84% of a dose in urine with normal
renal function; DOI:10.1177/0091270007309563). mmmech scales the apparent clearance of the
population-PK model in ``structures/pk.toml`` (Liang 2024, which did not retain CrCl) as

    CL/F(CrCl) = CL/F_ref * ((1 - fe) + fe * CrCl / CrCl_ref)

(renal clearance proportional to creatinine clearance, fe = 0.84, CrCl_ref = 87.4 mL/min, the
median of the PK population). :func:`renal_adjustment` returns the label's starting dose for a
creatinine clearance and the predicted exposure with and without it: the reason for the
adjustment is that the unadjusted 25 mg gives a much larger daily AUC than in normal function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .. import pk
from ..exceptions import InvalidInputError, UnknownNameError
from ..utils import did_you_mean
from .data import RenalModel, RenalTier, toxicity_data

__all__ = [
    "RenalAdjustment",
    "renal_model",
    "clearance_factor",
    "pk_model",
    "label_tier",
    "renal_adjustment",
    "daily_exposure",
]


def renal_model(drug: str = "lenalidomide") -> RenalModel:
    """The curated renal record of `drug`."""
    known = toxicity_data().renal
    if drug not in known:
        raise UnknownNameError(
            f"renal_model(): no renal model for drug {drug!r}{did_you_mean(drug, list(known))}; "
            f"curated: {', '.join(known) or 'none'}"
        )
    return known[drug]


def _crcl(crcl_ml_min: Any, fn: str) -> float:
    if (
        isinstance(crcl_ml_min, bool)
        or not isinstance(crcl_ml_min, (int, float))
        or not math.isfinite(crcl_ml_min)
        or crcl_ml_min <= 0
    ):
        raise InvalidInputError(
            f"{fn}(): crcl_ml_min must be a creatinine clearance > 0 mL/min, got {crcl_ml_min!r}"
        )
    return float(crcl_ml_min)


def clearance_factor(crcl_ml_min: float, drug: str = "lenalidomide") -> float:
    """CL/F(CrCl) / CL/F_ref: ``(1 - fe) + fe * CrCl / CrCl_ref``."""
    r = renal_model(drug)
    c = _crcl(crcl_ml_min, "clearance_factor")
    return (1.0 - r.fraction_renal) + r.fraction_renal * c / r.crcl_reference


def pk_model(crcl_ml_min: float | None, drug: str = "lenalidomide") -> pk.PKModel:
    """The PK model of `drug` with its clearance scaled to `crcl_ml_min` (None: unchanged)."""
    m = pk.model(drug)
    if crcl_ml_min is None:
        return m
    factor = clearance_factor(crcl_ml_min, drug)
    # a fresh _cache: the disposition caches its eigen-decomposition, which depends on CL
    disp = replace(m.disposition, cl=m.disposition.cl * factor, _cache={})
    return replace(m, disposition=disp)


def label_tier(crcl_ml_min: float, dialysis: bool = False, drug: str = "lenalidomide") -> RenalTier:
    """The label's starting-dose row for a creatinine clearance (dialysis: the ESRD row)."""
    r = renal_model(drug)
    c = _crcl(crcl_ml_min, "label_tier")
    rows = [t for t in r.tiers if t.dialysis == bool(dialysis)]
    if not rows:
        raise InvalidInputError(f"label_tier(): no label row for dialysis={dialysis!r}")
    rows.sort(key=lambda t: -t.crcl_min)
    for t in rows:
        if c >= t.crcl_min:
            return t
    return rows[-1]


def daily_exposure(
    m: pk.PKModel, dose_mg: float, every_days: int, days: int = 7
) -> dict[str, float]:
    """Steady-state exposure of `dose_mg` every `every_days` days: the AUC per day (ng*h/mL,
    averaged over the last dosing interval of `days` days) and the Cmax (ng/mL) in it."""
    doses = [(24.0 * d, dose_mg, "oral") for d in range(0, days, every_days)]
    last = doses[-1][0]
    end = last + 24.0 * every_days
    e = pk.exposure(m, doses, last, end)
    return {
        "auc_per_day": float(e["auc"]) / every_days,
        "cmax": float(e["cmax"]),
        "dose_mg": float(dose_mg),
        "every_days": float(every_days),
    }


@dataclass(frozen=True)
class RenalAdjustment:
    """A patient's label starting dose and the exposures that explain it.

    `reference` is the standard 25 mg daily at the reference creatinine clearance, `unadjusted`
    the same dose at the patient's clearance, `adjusted` the label dose at the patient's
    clearance (AUC per day in ng*h/mL, Cmax in ng/mL).
    """

    drug: str
    crcl_ml_min: float
    dialysis: bool
    tier: RenalTier
    clearance_l_h: float
    reference_clearance_l_h: float
    reference: dict[str, float]
    unadjusted: dict[str, float]
    adjusted: dict[str, float]
    sources: tuple[str, ...]
    verified: bool

    @property
    def auc_ratio_unadjusted(self) -> float:
        """Daily AUC of the unadjusted dose relative to normal renal function."""
        return self.unadjusted["auc_per_day"] / self.reference["auc_per_day"]

    @property
    def auc_ratio_adjusted(self) -> float:
        """Daily AUC of the label dose relative to normal renal function."""
        return self.adjusted["auc_per_day"] / self.reference["auc_per_day"]

    def explain(self) -> str:
        """One paragraph: the dose and why."""
        every = "once daily" if self.tier.every_days == 1 else f"every {self.tier.every_days} days"
        return (
            f"CrCl {self.crcl_ml_min:g} mL/min ({self.tier.label}): label starting dose "
            f"{self.tier.dose_mg:g} mg {every}. Predicted lenalidomide CL/F "
            f"{self.clearance_l_h:.2f} L/h vs {self.reference_clearance_l_h:.2f} L/h at "
            f"CrCl {renal_model(self.drug).crcl_reference:g}; 25 mg daily would give "
            f"{self.auc_ratio_unadjusted:.2f}x the normal daily AUC (Cmax "
            f"{self.unadjusted['cmax']:.0f} vs {self.reference['cmax']:.0f} ng/mL); the label "
            f"dose gives {self.auc_ratio_adjusted:.2f}x."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "drug": self.drug,
            "crcl_ml_min": self.crcl_ml_min,
            "dialysis": self.dialysis,
            "label_dose_mg": self.tier.dose_mg,
            "every_days": self.tier.every_days,
            "tier": self.tier.label,
            "clearance_l_h": self.clearance_l_h,
            "reference_clearance_l_h": self.reference_clearance_l_h,
            "reference": self.reference,
            "unadjusted": self.unadjusted,
            "adjusted": self.adjusted,
            "auc_ratio_unadjusted": self.auc_ratio_unadjusted,
            "auc_ratio_adjusted": self.auc_ratio_adjusted,
            "explanation": self.explain(),
            "sources": list(self.sources),
            "verified": self.verified,
        }


def renal_adjustment(
    crcl_ml_min: float, dialysis: bool = False, drug: str = "lenalidomide"
) -> RenalAdjustment:
    """The label's starting dose of `drug` for a creatinine clearance, with the predicted
    exposure (daily AUC, Cmax) of the standard dose in normal function, of the standard dose at
    this clearance and of the label dose at this clearance.

    Examples
    --------
    >>> a = renal_adjustment(25.0)
    >>> (a.tier.dose_mg, a.tier.every_days)
    (15.0, 2)
    >>> a.auc_ratio_unadjusted > 2 > a.auc_ratio_adjusted
    True
    """
    r = renal_model(drug)
    c = _crcl(crcl_ml_min, "renal_adjustment")
    tier = label_tier(c, dialysis, drug)
    ref_model = pk_model(r.crcl_reference, drug)
    patient = pk_model(c, drug)
    standard = max(r.tiers, key=lambda t: t.crcl_min)
    return RenalAdjustment(
        drug=drug,
        crcl_ml_min=c,
        dialysis=bool(dialysis),
        tier=tier,
        clearance_l_h=patient.disposition.cl,
        reference_clearance_l_h=ref_model.disposition.cl,
        reference=daily_exposure(ref_model, standard.dose_mg, standard.every_days),
        unadjusted=daily_exposure(patient, standard.dose_mg, standard.every_days),
        adjusted=daily_exposure(patient, tier.dose_mg, tier.every_days),
        sources=(r.source, r.label_source, pk.model(drug).source),
        verified=r.verified and r.label_verified,
    )
