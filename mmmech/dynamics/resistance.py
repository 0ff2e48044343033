"""Acquired resistance: the loss of the drug effect under continuous therapy.

The population tumour-growth-inhibition models of serum M-protein fitted on single-agent myeloma
data write the drug's kill term as ``KD x E(C) x exp(-lambda t)``, ``t`` the time since the first
dose (Collins et al., CPT Pharmacometrics Syst Pharmacol 2023;12:1411, belantamab mafodotin
monotherapy, DOI:10.1002/psp4.13016; Li et al., Clin Transl Sci 2025;18:e70296, modakafusp alfa
monotherapy, DOI:10.1111/cts.70296; the form of Claret et al., J Clin Oncol 2009). Here the same
factor multiplies the drug-induced part of each patient's net tumour rate (docs/dynamics.md,
"Acquired resistance"); the rate per patient is population data (``[resistance]`` of a
``populations/*.toml``, docs/populations.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError

__all__ = ["apply_resistance", "patient_resistance"]


def apply_resistance(
    rate_per_day: np.ndarray,
    untreated: Any,
    resistance_per_day: Any,
    dt_days: float,
    growth: Any = 1.0,
) -> np.ndarray:
    """Net rates with the drug-induced part decaying as ``exp(-lambda t)``.

    With ``r0`` the patient's untreated net rate (the typical ``untreated`` rate with the
    patient's `growth` multiplier, as :func:`mmmech.dynamics.tumour.scale_rates` gives it) and
    ``E = max(r0 - rate, 0)`` the tumour-suppressing
    part of the drug effect on a step whose midpoint is ``t`` days after the start of the
    course (the first dose),

        rate_i = rate + (1 - exp(-lambda_i t)) * E

    so ``lambda = 0`` gives `rate` exactly, and a larger lambda never lowers the rate at any step
    (the burden and M-protein, increasing in the rates, are never lower). A part of the drug
    effect that raises the rate (E < 0) is left as it is.

    Parameters
    ----------
    rate_per_day : ndarray (R, K)
        Net rate of each row on each of K steps of `dt_days`.
    untreated : float or array (R,)
        Each row's untreated net rate ``r0`` (per day).
    resistance_per_day : float or array (R,)
        Each row's resistance rate lambda (per day, >= 0).
    dt_days : float
        Step length (days).
    growth : float or array (R,)
        Each row's growth multiplier (already applied to `rate_per_day`).
    """
    r = np.asarray(rate_per_day, dtype=float)
    lam = np.broadcast_to(np.asarray(resistance_per_day, dtype=float), r.shape[:1])[:, None]
    if not np.all(np.isfinite(lam) & (lam >= 0)):
        raise InvalidInputError("apply_resistance(): resistance_per_day must be finite and >= 0")
    if not (np.isfinite(dt_days) and dt_days > 0):
        raise InvalidInputError(f"apply_resistance(): dt_days must be > 0, got {dt_days!r}")
    if not np.any(lam > 0):
        return r
    r0 = np.broadcast_to(np.asarray(untreated, dtype=float), r.shape[:1])[:, None]
    gs = np.broadcast_to(np.asarray(growth, dtype=float), r.shape[:1])[:, None]
    r0 = r0 + (gs - 1.0) * np.maximum(r0, 0.0)
    t_mid = (np.arange(r.shape[1]) + 0.5) * float(dt_days)
    lost = -np.expm1(-lam * t_mid[None, :])  # 1 - exp(-lambda t), exact for small lambda t
    return r + lost * np.maximum(r0 - r, 0.0)


def patient_resistance(
    values: Sequence[Any] | None, n: int, func: str, tumour: Any = None
) -> np.ndarray | None:
    """Per-patient resistance rates (per day) from a sequence of one number (or None: 0) per
    body, or (`values` None) every body `tumour`'s ``resistance_per_day``; None when no
    patient has one (today's course exactly)."""
    if values is None:
        lam = float(getattr(tumour, "resistance_per_day", 0.0))
        return np.full(n, lam) if lam > 0 else None
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) != n:
        raise InvalidInputError(
            f"{func}(): resistance_per_day must be a sequence of one number (or None) per body "
            f"({n}), got {values!r:.60}"
        )
    out = np.zeros(n)
    for i, v in enumerate(values):
        if v is None:
            continue
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float, np.floating, np.integer))
            or not (np.isfinite(v) and v >= 0)
        ):
            raise InvalidInputError(
                f"{func}(): resistance_per_day[{i}] must be a number >= 0 (per day), got {v!r}"
            )
        out[i] = float(v)
    return out if np.any(out > 0) else None
