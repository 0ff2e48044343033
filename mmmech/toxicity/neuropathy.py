"""Peripheral neuropathy from cumulative dose (bortezomib; route-dependent).

The cumulative dose is the strongest predictor of bortezomib neuropathy (PMID:20497001). The
one dose-route number read with an identifier is the median cumulative dose at which
neuropathy developed: 15.6 mg/m2 intravenous, 20.8 mg/m2 subcutaneous (PMID:29625927), medians
over the patients who developed neuropathy. Until round 5 mmmech used them as a staircase that
every patient climbed (grade 2 at 31.2 mg/m2 IV: 100% grade >= 2 in any long bortezomib arm).
Now each patient has log-normal cumulative-dose thresholds per grade (one standard-normal
``z`` per patient, so grades stay ordered), in IV-equivalent dose (an SC dose counts
15.6/20.8 of an IV dose); :func:`population_parameters` computes the thresholds from the IV arm
of Moreau 2011 (PMID:21507715) and the median onset among affected patients. Added to the
patient's pre-existing grade; no grade 4 threshold; no recovery (months to years,
PMID:20497001).

Thalidomide neuropathy depends on time on drug, not cumulative dose (PMID:16940275: 38% at
6 months, 73% at 12 months; cumulative dose and dose-intensity not predictive):
:func:`neuropathy_probability` is the Weibull through those two points.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np

from ..exceptions import InvalidInputError, UnknownNameError
from ..utils import did_you_mean
from .data import NeuropathyModel, NeuropathyTimeModel, toxicity_data

__all__ = [
    "neuropathy_model",
    "neuropathy_onset_dose",
    "neuropathy_grade",
    "neuropathy_probability",
    "weibull_parameters",
    "population_parameters",
    "iv_equivalent",
    "grade_from_dose",
    "ROUTE_KEY",
]

#: regimen routes -> the route keys of the neuropathy model
ROUTE_KEY = {"iv": "iv", "iv_infusion": "iv", "sc": "sc"}


def neuropathy_model(drug: str) -> NeuropathyModel:
    """The curated neuropathy record of `drug`."""
    known = toxicity_data().neuropathy
    if drug not in known:
        raise UnknownNameError(
            f"neuropathy_model(): no neuropathy model for {drug!r}"
            f"{did_you_mean(drug, list(known))}; curated: {', '.join(known) or 'none'}"
        )
    return known[drug]


def neuropathy_onset_dose(drug: str, route: str) -> float:
    """Cumulative dose (model's unit, mg/m2 for bortezomib) per grade step by `route`."""
    m = neuropathy_model(drug)
    key = ROUTE_KEY.get(route, route)
    if key not in m.onset:
        raise InvalidInputError(
            f"neuropathy_onset_dose(): route {route!r} has no {drug} onset dose; "
            f"known: {', '.join(sorted(m.onset))}"
        )
    return m.onset[key]


@functools.cache
def population_parameters(drug: str = "bortezomib") -> dict[str, object]:
    """Thresholds of the population model: ``d50`` (IV-equivalent cumulative dose at which half
    of patients reach grade >= g, g = 1, 2, 3) and ``sigma`` (log-scale SD of a patient's
    thresholds), from the reported incidences at the calibration dose (grade >= 1, >= 2, >= 3;
    route ``calibration_route``) and the median onset dose among the affected patients:
    ``Phi((ln Dc - mu_g)/sigma) = p_g`` and ``Phi((ln m - mu_1)/sigma) = p_1 / 2``."""
    m = neuropathy_model(drug)
    dc, med = m.calibration_dose, m.median_onset_among_affected
    if dc is None or med is None:
        raise InvalidInputError(f"population_parameters(): {drug} has no population calibration")
    r = m.calibration_route
    p = [m.reported[f"moreau_any_grade_{r}"], m.reported[f"moreau_grade2_{r}"]]
    p.append(m.reported[f"moreau_grade3_{r}"])
    nd = NormalDist()
    a1, b = nd.inv_cdf(p[0]), nd.inv_cdf(p[0] / 2.0)
    sigma = (math.log(dc) - math.log(med)) / (a1 - b)
    d50 = {g + 1: math.exp(math.log(dc) - sigma * nd.inv_cdf(pg)) for g, pg in enumerate(p)}
    if m.calibration_path is not None:
        # grade >= 3 on the trial's own dose path (reduced from the cycle after grade 2):
        # grades 1 and 2 are reached before any reduction, so only d50[3] changes
        d50[3] = _grade3_on_path(d50[2], sigma, p[2], m.calibration_path)
    return {"d50": d50, "sigma": sigma, "route": r}


def _grade3_on_path(
    d50_2: float, sigma: float, target: float, path: tuple[int, float, float]
) -> float:
    """The grade-3 median threshold at which a fraction `target` of patients (quantile grid)
    reaches grade 3 when the per-cycle dose drops from ``path[1]`` to ``path[2]`` in the cycle
    after grade 2 (bisection on the log threshold)."""
    cycles, full, reduced = path
    nd = NormalDist()
    scales = np.array([math.exp(sigma * nd.inv_cdf((i + 0.5) / 2000)) for i in range(2000)])
    # grade 2 is reached at the same cumulative dose whatever d50_3: each path's dose per
    # cycle is fixed once, then every bisection step only compares (the same float sums,
    # element by element, as the patient-by-patient loop)
    cums = np.empty((cycles, scales.size))
    cum = np.zeros(scales.size)
    red = np.zeros(scales.size, dtype=bool)
    for c in range(cycles):
        cum = cum + np.where(red, reduced, full)
        cums[c] = cum
        red = red | (cum >= d50_2 * scales - 1e-9)

    def frac(d50_3: float) -> float:
        # a path is hit when any of its cycles reaches the threshold (the loop stops there;
        # the grade-2 switch after a hit no longer matters)
        hit = np.any(cums >= d50_3 * scales - 1e-9, axis=0)
        return int(np.count_nonzero(hit)) / scales.size

    lo, hi = d50_2, d50_2 * 100.0
    for _ in range(50):
        mid = math.sqrt(lo * hi)
        if frac(mid) > target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def iv_equivalent(drug: str, amount: float, route: str) -> float:
    """`amount` of `drug` by `route` as the IV dose with the same neuropathy effect
    (``amount x onset_iv / onset_route``; an SC bortezomib dose counts 0.75)."""
    return amount * neuropathy_onset_dose(drug, "iv") / neuropathy_onset_dose(drug, route)


def grade_from_dose(drug: str, dose_iv: float, baseline_grade: int = 0, z: float = 0.0) -> int:
    """Grade of a patient with threshold quantile `z` (standard normal; 0 = median patient)
    after IV-equivalent cumulative dose `dose_iv`: the baseline plus the grades whose
    threshold ``d50_g exp(sigma z)`` is reached, at most 4."""
    par = population_parameters(drug)
    d50: dict[int, float] = par["d50"]  # type: ignore[assignment]
    sigma = float(par["sigma"])  # type: ignore[arg-type]
    reached = sum(1 for g in d50 if dose_iv >= d50[g] * math.exp(sigma * z) - 1e-9)
    return int(min(4, baseline_grade + reached))


def neuropathy_grade(
    drug: str, doses: Iterable[tuple[float, str]], baseline_grade: int = 0, z: float = 0.0
) -> int:
    """Neuropathy grade after `doses` (``(amount, route)`` in the model's unit, e.g. mg/m2) for
    a patient whose thresholds sit at standard-normal quantile `z` (0: the median patient).

    Each dose counts as its IV equivalent, so switching route mid-course is handled.

    >>> neuropathy_grade("bortezomib", [(1.3, "iv")] * 32)   # 8 cycles IV, median patient
    1
    >>> neuropathy_grade("bortezomib", [(1.3, "sc")] * 32)
    0
    """
    if isinstance(baseline_grade, bool) or baseline_grade not in range(5):
        raise InvalidInputError(
            f"neuropathy_grade(): baseline_grade must be 0-4, got {baseline_grade!r}"
        )
    if isinstance(z, bool) or not isinstance(z, (int, float)) or not math.isfinite(z):
        raise InvalidInputError(f"neuropathy_grade(): z must be a finite number, got {z!r}")
    dose = 0.0
    for amount, route in doses:
        if not (isinstance(amount, (int, float)) and math.isfinite(amount) and amount >= 0):
            raise InvalidInputError(f"neuropathy_grade(): dose must be >= 0, got {amount!r}")
        dose += iv_equivalent(drug, amount, route)
    return grade_from_dose(drug, dose, baseline_grade, z)


def _time_model(drug: str) -> NeuropathyTimeModel:
    known = toxicity_data().neuropathy_time
    if drug not in known:
        raise UnknownNameError(
            f"neuropathy_probability(): no time-on-drug neuropathy model for {drug!r}"
            f"{did_you_mean(drug, list(known))}; curated: {', '.join(known) or 'none'}"
        )
    return known[drug]


def weibull_parameters(drug: str = "thalidomide") -> tuple[float, float]:
    """(shape, scale in months) of the Weibull ``P(t) = 1 - exp(-(t/scale)^shape)`` through the
    two published (months, incidence) points of `drug`."""
    (t1, p1), (t2, p2) = _time_model(drug).points
    h1, h2 = -math.log(1.0 - p1), -math.log(1.0 - p2)
    shape = math.log(h2 / h1) / math.log(t2 / t1)
    scale = t1 / h1 ** (1.0 / shape)
    return shape, scale


def neuropathy_probability(drug: str, months_on_drug: float) -> float:
    """Probability of (any-grade) neuropathy after `months_on_drug` months of `drug`.

    >>> round(neuropathy_probability("thalidomide", 6.0), 2)
    0.38
    """
    if (
        isinstance(months_on_drug, bool)
        or not isinstance(months_on_drug, (int, float))
        or not math.isfinite(months_on_drug)
        or months_on_drug < 0
    ):
        raise InvalidInputError(
            f"neuropathy_probability(): months_on_drug must be >= 0, got {months_on_drug!r}"
        )
    shape, scale = weibull_parameters(drug)
    return 1.0 - math.exp(-((months_on_drug / scale) ** shape))
