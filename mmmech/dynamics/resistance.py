"""Acquired resistance: the loss of the drug effect under continuous therapy.

The population tumour-growth-inhibition models of serum M-protein fitted on single-agent myeloma
data write the drug's kill term as ``KD x E(C) x exp(-lambda t)``, ``t`` the time since the first
dose (Collins et al., CPT Pharmacometrics Syst Pharmacol 2023;12:1411, belantamab mafodotin
monotherapy, DOI:10.1002/psp4.13016; Li et al., Clin Transl Sci 2025;18:e70296, modakafusp alfa
monotherapy, DOI:10.1111/cts.70296; the form of Claret et al., J Clin Oncol 2009). Here the same
factor multiplies the drug-induced part of each patient's net tumour rate (docs/dynamics.md,
"Acquired resistance"); the rate per patient is population data (``[resistance]`` of a
``populations/*.toml``, docs/populations.md).

Drug-specific rates (``structures/resistance.toml``, :func:`drug_rates`): a regimen given to a
patient whose rate is ``lambda_i`` decays at ``lambda_i x`` :func:`regimen_factor` of its drugs,
the smallest ratio of a drug's median rate to the populations' reference median ("min" rule: the
network gives one net drug effect, not per-drug shares, so the regimen's effect is lost at the
rate of its most durable drug; adding a drug never makes it decay faster). A drug without an
entry has factor 1, so a regimen of such drugs is given the population rate unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .. import drugs as _drugs
from ..exceptions import InvalidInputError, ModelFileError
from ..resources import load_toml
from ..utils import did_you_mean

__all__ = [
    "DrugResistance",
    "apply_resistance",
    "drug_rates",
    "patient_resistance",
    "reference_rate",
    "regimen_factor",
    "resistance_terms",
    "scale_resistance",
]

#: the bundled drug-specific rates (structures/resistance.toml)
RATES_FILE = "resistance.toml"
_ORIGIN = f"structures/{RATES_FILE}"
_SOURCE_PREFIXES = ("PMID:", "DOI:10.", "PMC:PMC", "NCT")


@dataclass(frozen=True)
class DrugResistance:
    """One drug's acquired-resistance rate from a single-agent fit (structures/resistance.toml)."""

    name: str
    median_per_day: float
    low: float | None
    high: float | None
    sources: tuple[str, ...]
    verified: bool
    data: str
    reference: str
    note: str = ""


def _rate(x: Any, where: str, key: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not (math.isfinite(x) and x > 0):
        raise ModelFileError(
            f"{_ORIGIN}: {where}: {key!r} must be a number > 0 (per day), got {x!r}"
        )
    return float(x)


def _parse(doc: Mapping[str, Any]) -> tuple[float, dict[str, DrugResistance]]:
    meta = doc.get("meta")
    if not isinstance(meta, Mapping):
        raise ModelFileError(f"{_ORIGIN}: needs a [meta] table with 'reference_per_day'")
    if meta.get("rule", "min") != "min":
        raise ModelFileError(f"{_ORIGIN}: [meta] rule must be 'min', got {meta.get('rule')!r}")
    ref = _rate(meta.get("reference_per_day"), "[meta]", "reference_per_day")
    known = list(_drugs.names())
    out: dict[str, DrugResistance] = {}
    allowed = {
        "name", "median_per_day", "low", "high", "sources", "verified", "data", "reference", "note"
    }  # fmt: skip
    for i, raw in enumerate(doc.get("drug", [])):
        where = f"[[drug]] #{i + 1}"
        if not isinstance(raw, Mapping):
            raise ModelFileError(f"{_ORIGIN}: {where} must be a table")
        extra = sorted(set(raw) - allowed)
        if extra:
            raise ModelFileError(f"{_ORIGIN}: {where}: unknown key(s) {', '.join(extra)}")
        name = raw.get("name")
        if name not in known:
            raise ModelFileError(
                f"{_ORIGIN}: {where}: unknown drug {name!r}{did_you_mean(name, known)}"
            )
        if name in out:
            raise ModelFileError(f"{_ORIGIN}: {where}: drug {name!r} appears twice")
        med = _rate(raw.get("median_per_day"), f"{where} ({name})", "median_per_day")
        lo = raw.get("low")
        hi = raw.get("high")
        lo = None if lo is None else _rate(lo, f"{where} ({name})", "low")
        hi = None if hi is None else _rate(hi, f"{where} ({name})", "high")
        if (lo is not None and lo > med) or (hi is not None and hi < med):
            raise ModelFileError(
                f"{_ORIGIN}: {where} ({name}): need low <= median_per_day <= high, got "
                f"{lo!r} <= {med!r} <= {hi!r}"
            )
        src = raw.get("sources")
        if (
            not isinstance(src, list)
            or not src
            or not all(isinstance(s, str) and s.startswith(_SOURCE_PREFIXES) for s in src)
        ):
            raise ModelFileError(
                f"{_ORIGIN}: {where} ({name}): 'sources' must be a non-empty list of PMID:/DOI:/"
                f"PMC:/NCT identifiers, got {src!r}"
            )
        for key in ("data", "reference"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise ModelFileError(
                    f"{_ORIGIN}: {where} ({name}): {key!r} (the single-agent data the rate was "
                    f"fitted to / the citation) is required"
                )
        out[name] = DrugResistance(
            name=name,
            median_per_day=med,
            low=lo,
            high=hi,
            sources=tuple(src),
            verified=bool(raw.get("verified", False)),
            data=raw["data"],
            reference=raw["reference"],
            note=str(raw.get("note", "")),
        )
    return ref, out


@lru_cache(maxsize=1)
def _bundled() -> tuple[float, dict[str, DrugResistance]]:
    return _parse(load_toml("structures", RATES_FILE))


def drug_rates() -> dict[str, DrugResistance]:
    """The drug-specific acquired-resistance rates (``structures/resistance.toml``): one entry per
    drug with a single-agent fit read; drugs not listed use the reference rate (factor 1)."""
    return dict(_bundled()[1])


def reference_rate() -> float:
    """The median rate (per day) of the populations' ``[resistance]`` tables that the drug rates
    are relative to (Collins 2023, DOI:10.1002/psp4.13016)."""
    return _bundled()[0]


def regimen_factor(
    drugs: Iterable[str],
    rates: Mapping[str, float] | None = None,
    reference: float | None = None,
) -> float:
    """The factor on a patient's resistance rate for a regimen of `drugs` ("min" rule).

    ``min over drugs of (rate of the drug / reference)``, a drug missing from `rates` counting
    as the reference (factor 1); 1 for no drugs. `rates` ``{drug: median per day}`` and
    `reference` default to the bundled ones (:func:`drug_rates`, :func:`reference_rate`).
    Properties (tested): a superset of drugs never has a larger factor (removing a drug never
    slows the loss of effect); a larger rate of any drug never gives a smaller factor; a drug
    rate of 0 gives 0 (no resistance for that regimen).
    """
    if rates is None:
        rates = {k: v.median_per_day for k, v in _bundled()[1].items()}
    ref = reference_rate() if reference is None else float(reference)
    if not (math.isfinite(ref) and ref > 0):
        raise InvalidInputError(f"regimen_factor(): reference must be > 0 per day, got {ref!r}")
    f = math.inf
    for d in drugs:
        r = float(rates.get(d, ref))
        if not (math.isfinite(r) and r >= 0):
            raise InvalidInputError(
                f"regimen_factor(): the rate of {d!r} must be a number >= 0 per day, got {r!r}"
            )
        f = min(f, r / ref)
    return 1.0 if f == math.inf else f


def scale_resistance(resist: np.ndarray | None, drugs: Iterable[str]) -> np.ndarray | None:
    """Per-patient rates for a regimen of `drugs`: `resist` x :func:`regimen_factor` (None stays
    None, and a factor of exactly 1 returns `resist` itself: today's course bit for bit)."""
    if resist is None:
        return None
    f = regimen_factor(drugs)
    if f == 1.0:
        return resist
    out = np.asarray(resist, dtype=float) * f
    return out if np.any(out > 0) else None


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
    terms = resistance_terms(untreated, resistance_per_day, dt_days, r.shape, growth)
    if terms is None:
        return r
    r0, lost = terms
    return r + lost * np.maximum(r0[:, None] - r, 0.0)


def resistance_terms(
    untreated: Any,
    resistance_per_day: Any,
    dt_days: float,
    shape: tuple[int, ...],
    growth: Any = 1.0,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The two terms of :func:`apply_resistance` for rates of `shape` (R, K): each row's
    untreated net rate with its growth multiplier (R,) and ``1 - exp(-lambda t)`` (R, K) at
    the steps' midpoints; None when no row has lambda > 0 (the rates are then unchanged). The
    rate is ``rate + lost * max(r0 - rate, 0)`` (also computed so by the compiled tumour
    course, ``mmmech._kernels._tumour``)."""
    R = shape[0]
    lam = np.broadcast_to(np.asarray(resistance_per_day, dtype=float), (R,))[:, None]
    if not np.all(np.isfinite(lam) & (lam >= 0)):
        raise InvalidInputError("apply_resistance(): resistance_per_day must be finite and >= 0")
    if not (np.isfinite(dt_days) and dt_days > 0):
        raise InvalidInputError(f"apply_resistance(): dt_days must be > 0, got {dt_days!r}")
    if not np.any(lam > 0):
        return None
    r0 = np.broadcast_to(np.asarray(untreated, dtype=float), (R,))[:, None]
    gs = np.broadcast_to(np.asarray(growth, dtype=float), (R,))[:, None]
    r0 = r0 + (gs - 1.0) * np.maximum(r0, 0.0)
    t_mid = (np.arange(shape[1]) + 0.5) * float(dt_days)
    lost = -np.expm1(-lam * t_mid[None, :])  # 1 - exp(-lambda t), exact for small lambda t
    return np.ascontiguousarray(r0[:, 0]), lost


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
