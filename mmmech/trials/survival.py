"""Survival analysis of a virtual trial: Kaplan-Meier curves, median PFS with its confidence
interval and the Cox hazard ratio between two arms, all computed by lifelines
(https://lifelines.readthedocs.io), a maintained survival-analysis library.

- :func:`kaplan_meier`: the product-limit estimate with lifelines' ``KaplanMeierFitter``
  (pointwise 95% interval from Greenwood's variance on the log(-log) scale), the numbers at
  risk, and the median with its 95% interval (``lifelines.utils.median_survival_times`` on the
  pointwise band; ``None`` where the curve or its band does not fall to 0.5: "not reached");
- :func:`hazard_ratio`: a Cox proportional-hazards model with one covariate (1 = `arm`,
  0 = `versus`; Efron's method for ties, lifelines' ``CoxPHFitter``): ``exp(coef)`` with its
  Wald 95% interval. ``None`` when it is not estimable (no progression in either arm, or in
  only one of them: the likelihood then has no finite maximum).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..exceptions import InvalidInputError

__all__ = ["KaplanMeier", "HazardRatio", "kaplan_meier", "hazard_ratio"]


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier curve: ``times`` (0 and every distinct time), ``survival``, ``low`` and
    ``high`` (pointwise 95%), ``at_risk`` (just before each time), ``events``; the median and
    its 95% interval (``None``: not reached)."""

    times: np.ndarray
    survival: np.ndarray
    low: np.ndarray
    high: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    median: float | None
    median_low: float | None
    median_high: float | None

    def survival_at(self, t: float) -> float:
        """The step function at time `t`."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return float(self.survival[max(i, 0)])

    def at_risk_at(self, t: float) -> int:
        """Number still at risk at time `t` (time >= t)."""
        i = int(np.searchsorted(self.times, t, side="left"))
        if i >= self.times.size:
            return 0
        return int(self.at_risk[i])


@dataclass(frozen=True)
class HazardRatio:
    """Cox hazard ratio of `arm` against `versus` with its 95% interval (``None``: not
    estimable, `note` says why)."""

    value: float | None
    low: float | None
    high: float | None
    p: float | None = None
    note: str = ""


def _check(durations: Any, events: Any, func: str) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events)
    if d.ndim != 1 or d.size < 1 or e.shape != d.shape:
        raise InvalidInputError(
            f"{func}(): durations and events must be 1-D of the same non-zero length, got "
            f"{d.shape} and {e.shape}"
        )
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise InvalidInputError(f"{func}(): durations must be finite and >= 0")
    if e.dtype != bool and not np.all(np.isin(e, (0, 1))):
        raise InvalidInputError(f"{func}(): events must be booleans or 0/1")
    return d, e.astype(bool)


def _finite_or_none(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


def kaplan_meier(durations: npt.ArrayLike, events: npt.ArrayLike) -> KaplanMeier:
    """The Kaplan-Meier estimate of `durations` (event or censoring time) with `events`
    (True: progression observed, False: censored)."""
    # deferred: lifelines imports pandas and its fitters (about a second); only trials need it
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times  # deferred, as above

    d, e = _check(durations, events, "kaplan_meier")
    kmf = KaplanMeierFitter(alpha=0.05)
    kmf.fit(d, e)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_survival_function_
    table = kmf.event_table
    times = np.asarray(sf.index, dtype=float)
    med = _finite_or_none(kmf.median_survival_time_)
    mci = median_survival_times(kmf.confidence_interval_)
    lo, hi = (_finite_or_none(mci.iloc[0, j]) for j in range(2))
    return KaplanMeier(
        times=times,
        survival=np.asarray(sf.values, dtype=float),
        low=np.asarray(ci.iloc[:, 0].values, dtype=float),
        high=np.asarray(ci.iloc[:, 1].values, dtype=float),
        at_risk=np.asarray(table["at_risk"].reindex(sf.index).values, dtype=int),
        events=np.asarray(table["observed"].reindex(sf.index).values, dtype=int),
        median=med,
        median_low=lo,
        median_high=hi,
    )


def hazard_ratio(
    durations_arm: npt.ArrayLike,
    events_arm: npt.ArrayLike,
    durations_versus: npt.ArrayLike,
    events_versus: npt.ArrayLike,
) -> HazardRatio:
    """Cox hazard ratio (Efron ties) of the `arm` group against the `versus` group, 95% Wald
    interval; ``None`` values with a note when it is not estimable."""
    da, ea = _check(durations_arm, events_arm, "hazard_ratio")
    dv, ev = _check(durations_versus, events_versus, "hazard_ratio")
    na, nv = int(ea.sum()), int(ev.sum())
    if na == 0 or nv == 0:
        why = "no progression in either arm" if na == nv == 0 else "no progression in one arm"
        return HazardRatio(None, None, None, None, f"not estimable: {why}")
    # deferred: lifelines imports pandas and its fitters (about a second); only trials need it
    import pandas as pd
    from lifelines import CoxPHFitter  # deferred, as above

    df = pd.DataFrame(
        {
            "t": np.concatenate([da, dv]),
            "e": np.concatenate([ea, ev]).astype(int),
            "arm": np.concatenate([np.ones(da.size), np.zeros(dv.size)]),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' convergence chatter; checked below
        cph = CoxPHFitter(alpha=0.05).fit(df, duration_col="t", event_col="e")
    s = cph.summary.loc["arm"]
    value = _finite_or_none(s["exp(coef)"])
    low = _finite_or_none(s["exp(coef) lower 95%"])
    high = _finite_or_none(s["exp(coef) upper 95%"])
    if value is None or low is None or high is None:
        # (near-)complete separation, e.g. every progression of one arm comes before any of the
        # other's: the Cox estimate diverges and its Wald interval runs to 0 or infinity
        return HazardRatio(
            None, None, None, None, "not estimable: the arms' progression times separate"
        )
    return HazardRatio(value, low, high, _finite_or_none(s["p"]))
