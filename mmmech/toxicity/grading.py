"""CTCAE v5 grades of blood counts (thresholds and sources in ``structures/toxicity.toml``)."""

from __future__ import annotations

import math

from ..exceptions import InvalidInputError, UnknownNameError
from ..utils import did_you_mean
from .data import toxicity_data

__all__ = ["grade"]


def grade(measure: str, value: float) -> int:
    """The CTCAE grade of a count: ``grade("anc", 0.8) == 3`` (10^9/L); 0 stands for grade 0-1.

    >>> grade("anc", 0.8), grade("platelets", 40.0), grade("anc", 2.0)
    (3, 3, 0)
    """
    scales = toxicity_data().grades
    if measure not in scales:
        raise UnknownNameError(
            f"grade(): unknown measure {measure!r}{did_you_mean(measure, list(scales))}; "
            f"known: {', '.join(scales)}"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(f"grade(): value must be a finite number, got {value!r}")
    if value < 0:
        raise InvalidInputError(f"grade(): value must be >= 0, got {value!r}")
    return scales[measure].grade(float(value))
