"""Peripheral neuropathy from cumulative dose (bortezomib; route-dependent).

The cumulative dose is the strongest predictor of bortezomib neuropathy (PMID:20497001). The
one dose-route number read with an identifier is the median cumulative dose at which
neuropathy developed: 15.6 mg/m2 intravenous, 20.8 mg/m2 subcutaneous (PMID:29625927). mmmech
uses it as a staircase for a typical patient: the neuropathy grade rises by one at each
multiple of that dose, on top of the patient's pre-existing grade, up to grade 4. It does not
recover (recovery takes months to years, PMID:20497001). This is an explicit simplification,
not a fitted time-to-event model (docs/toxicity.md).

Thalidomide neuropathy depends on time on drug, not cumulative dose (PMID:16940275: 38% at
6 months, 73% at 12 months; cumulative dose and dose-intensity not predictive):
:func:`neuropathy_probability` is the Weibull through those two points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..exceptions import InvalidInputError, UnknownNameError
from ..utils import did_you_mean
from .data import NeuropathyModel, NeuropathyTimeModel, toxicity_data

__all__ = [
    "neuropathy_model",
    "neuropathy_onset_dose",
    "neuropathy_grade",
    "neuropathy_probability",
    "weibull_parameters",
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


def neuropathy_grade(drug: str, doses: Iterable[tuple[float, str]], baseline_grade: int = 0) -> int:
    """Neuropathy grade after `doses` (``(amount, route)`` in the model's unit, e.g. mg/m2).

    Each dose counts as its fraction of the route's onset dose, so switching route mid-course
    is handled; the grade is the baseline plus the whole steps reached, at most 4.

    >>> neuropathy_grade("bortezomib", [(1.3, "iv")] * 12)   # 15.6 mg/m2 IV
    1
    >>> neuropathy_grade("bortezomib", [(1.3, "sc")] * 12)
    0
    """
    if isinstance(baseline_grade, bool) or baseline_grade not in range(5):
        raise InvalidInputError(
            f"neuropathy_grade(): baseline_grade must be 0-4, got {baseline_grade!r}"
        )
    steps = 0.0
    for amount, route in doses:
        if not (isinstance(amount, (int, float)) and math.isfinite(amount) and amount >= 0):
            raise InvalidInputError(f"neuropathy_grade(): dose must be >= 0, got {amount!r}")
        steps += amount / neuropathy_onset_dose(drug, route)
    return int(min(4, baseline_grade + math.floor(steps + 1e-9)))


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
