"""CAR-T cellular kinetics: expansion, contraction and persistence after one infusion.

A CAR-T product is not cleared like a drug: after the infusion the CAR-positive cells expand
exponentially up to a time ``tmax``, then decline biexponentially, a fast contraction of the
effector pool and a slow decline of the fraction ``fb`` that persists as memory-like cells.
This is the closed form of the compartmental model of Stein et al. (tisagenlecleucel, CPT
Pharmacometrics Syst Pharmacol 2019, DOI:10.1002/psp4.12388, Figure 2 and supplement)::

    C(t) = Cmax / foldx * exp(rho t)                                 0 <= t < tmax
    C(t) = Cmax [(1 - fb) exp(-alpha (t - tmax)) + fb exp(-beta (t - tmax))]     t >= tmax
    rho  = ln(foldx) / tmax

with t the time since the infusion (days) and C the CAR transgene level in peripheral blood
(copies per ug genomic DNA, qPCR). The model is continuous at ``tmax``; its integral is closed
form (:meth:`CellularModel.auc`). Stein 2019 found no covariate (dose included) that changed
Cmax; a bundled model is therefore dose-independent within the labelled dose range, and the
infused cell number is used only for the infusion time.

The parameters of each product are in ``structures/pk.toml`` (``[[cellular]]`` tables) with
their sources and ``[[cellular.check]]`` rows (published Cmax, Tmax, AUC0-28d) that the tests
hold the model to (``docs/pk.md``). A product whose absolute transgene level was not read is
given as a course normalised to its peak (``cmax = {value = 1, unit = "peak"}``): its level is
a fraction of the peak, only Tmax can be checked, and the network input (which uses
``C(t)/Cmax``) is the same as it would be with any absolute peak.

Mapping to the network (documented convention, not a measured relationship): the library gives
CAR-T products a reference exposure in ``nM-eq`` (``structures/drugs.toml``: the occupancy
equivalent of "given at its approved dose"). :func:`nm_equivalent` scales that reference by the
transgene level relative to the model's typical Cmax, ``ref_nM * C(t) / Cmax``: the reference is
reached at the peak of expansion and the effect follows the contraction and persistence. The
transgene level is copies/ug DNA, not CAR+ cells/uL, and no source relates it to BCMA
engagement or killing; the scaling is linear, which is the simplest choice, not a fitted one.

Examples
--------
>>> from mmmech.pk import cellular
>>> m = cellular.model("ciltacabtagene autoleucel")
>>> round(m.level(m.tmax_d) / m.cmax)
1
>>> m.level(200.0) < m.level(28.0) < m.cmax
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError, ModelFileError, UnknownDrugError
from ..resources import data_file, parse_toml
from ..sources import describe_expected, is_source
from ..utils import did_you_mean

__all__ = [
    "CellularModel",
    "CellularCheck",
    "read_cellular",
    "models",
    "names",
    "model",
    "levels",
    "nm_equivalent",
    "predict_check",
]

_PARAMS = ("cmax", "tmax", "foldx", "alpha", "fb", "beta")
_UNITS = {
    "cmax": {"copies/ug": 1.0, "peak": 1.0},
    "tmax": {"day": 1.0, "h": 1 / 24},
    "foldx": {"1": 1.0},
    "alpha": {"1/day": 1.0, "1/h": 24.0},
    "fb": {"1": 1.0, "%": 0.01},
    "beta": {"1/day": 1.0, "1/h": 24.0},
}
_METRICS = ("cmax", "tmax", "auc")
_KEYS = (
    "name",
    "structure",
    "unit",
    "population",
    "source",
    "verified",
    "note",
    "parameters",
    "check",
)
_CHECK_KEYS = (
    "metric",
    "unit",
    "window_day",
    "value",
    "sd",
    "low",
    "high",
    "source",
    "verified",
    "expect",
    "text",
)


@dataclass(frozen=True)
class CellularCheck:
    """A published cellular-kinetic fact: `metric` (cmax copies/ug, tmax day, auc
    day*copies/ug over `window_day`) with its value and SD, or a range (`low`, `high`)."""

    metric: str
    unit: str
    source: str
    verified: bool
    window_day: tuple[float, float] | None = None
    value: float | None = None
    sd: float | None = None
    low: float | None = None
    high: float | None = None
    expect: str = "agree"
    text: str = ""

    def band(self) -> tuple[float, float]:
        """The acceptance band: the published range, else value +- 1 SD (floored at 0)."""
        if self.low is not None and self.high is not None:
            return (self.low, self.high)
        assert self.value is not None and self.sd is not None
        return (max(0.0, self.value - self.sd), self.value + self.sd)


@dataclass(frozen=True)
class CellularModel:
    """A CAR-T product's typical cellular-kinetic course (Stein 2019 structure).

    Attributes
    ----------
    drug : str
        Library name of the product.
    cmax : float
        Peak transgene level (copies/ug genomic DNA), or 1 for a course normalised to its
        peak (``unit == "peak"``: no published absolute level; only the shape is modelled,
        which is all :func:`nm_equivalent` uses).
    tmax_d : float
        Days from infusion to the peak.
    foldx : float
        Fold expansion from the level just after infusion to the peak.
    alpha, beta : float
        Contraction and persistence rate constants (1/day).
    fb : float
        Fraction of the peak in the slowly declining (persisting) pool.
    """

    drug: str
    cmax: float
    tmax_d: float
    foldx: float
    alpha: float
    fb: float
    beta: float
    population: str
    source: str
    verified: bool
    note: str = ""
    unit: str = "copies/ug"
    parameter_notes: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[CellularCheck, ...] = ()

    @property
    def rho(self) -> float:
        """Expansion rate constant (1/day): ``ln(foldx) / tmax``."""
        return math.log(self.foldx) / self.tmax_d

    @property
    def c0(self) -> float:
        """Level right after the infusion: ``Cmax / foldx``."""
        return self.cmax / self.foldx

    def level(self, t_days: Any) -> Any:
        """Transgene level (copies/ug) at `t_days` after the infusion; 0 before it."""
        t = np.asarray(t_days, dtype=float)
        up = self.c0 * np.exp(self.rho * np.clip(t, 0.0, self.tmax_d))
        s = np.maximum(t - self.tmax_d, 0.0)
        down = self.cmax * (
            (1 - self.fb) * np.exp(-self.alpha * s) + self.fb * np.exp(-self.beta * s)
        )
        out = np.where(t < 0, 0.0, np.where(t < self.tmax_d, up, down))
        return float(out) if out.ndim == 0 else out

    def _cum(self, t: float) -> float:
        """Integral of the level from the infusion to `t` days (closed form)."""
        if t <= 0:
            return 0.0
        rise_end = min(t, self.tmax_d)
        area = self.c0 * (math.exp(self.rho * rise_end) - 1.0) / self.rho
        if t > self.tmax_d:
            s = t - self.tmax_d
            area += self.cmax * (1 - self.fb) * (1 - math.exp(-self.alpha * s)) / self.alpha
            area += self.cmax * self.fb * (1 - math.exp(-self.beta * s)) / self.beta
        return area

    def auc(self, start_day: float, end_day: float) -> float:
        """Area under the level (day*copies/ug) between two times after the infusion."""
        if not (math.isfinite(start_day) and math.isfinite(end_day)) or end_day < start_day:
            raise InvalidInputError(
                f"CellularModel.auc(): expected start <= end (days), got {start_day!r}, {end_day!r}"
            )
        return self._cum(end_day) - self._cum(start_day)

    def half_lives(self) -> tuple[float, float]:
        """Contraction and persistence half-lives (days): ``ln 2 / alpha``, ``ln 2 / beta``."""
        return (math.log(2) / self.alpha, math.log(2) / self.beta)


def _num(v: object, where: str, positive: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ModelFileError(f"{where}: expected a finite number, got {v!r}")
    if positive and v <= 0:
        raise ModelFileError(f"{where}: expected a number > 0, got {v!r}")
    return float(v)


def _src(v: object, where: str) -> str:
    if not isinstance(v, str) or not is_source(v):
        raise ModelFileError(f"{where}: {describe_expected()}; got {v!r}")
    return v


def _check(raw: Any, where: str) -> CellularCheck:
    if not isinstance(raw, dict):
        raise ModelFileError(f"{where}: expected a [[cellular.check]] table, got {raw!r}")
    extra = sorted(set(raw) - set(_CHECK_KEYS))
    if extra:
        raise ModelFileError(
            f"{where}: unknown key {extra[0]!r}{did_you_mean(extra[0], _CHECK_KEYS)}"
        )
    metric = raw.get("metric")
    if metric not in _METRICS:
        raise ModelFileError(
            f"{where}: 'metric' expected one of {', '.join(_METRICS)}, got {metric!r}"
        )
    window = raw.get("window_day")
    win: tuple[float, float] | None = None
    if metric == "auc":
        if not (isinstance(window, list) and len(window) == 2):
            raise ModelFileError(
                f"{where}: 'window_day' expected [start, end] for auc, got {window!r}"
            )
        win = (_num(window[0], where, positive=False), _num(window[1], where))
    value = raw.get("value")
    sd = raw.get("sd")
    low, high = raw.get("low"), raw.get("high")
    if low is not None or high is not None:
        lo, hi = _num(low, where, False), _num(high, where)
        if lo > hi:
            raise ModelFileError(f"{where}: expected low <= high, got {low!r} > {high!r}")
    elif value is None or sd is None:
        raise ModelFileError(f"{where}: expected value and sd, or low and high")
    expect = raw.get("expect", "agree")
    if expect not in ("agree", "disagree"):
        raise ModelFileError(f"{where}: 'expect' expected agree or disagree, got {expect!r}")
    verified = raw.get("verified", True)
    if not isinstance(verified, bool):
        raise ModelFileError(f"{where}: 'verified' expected true or false, got {verified!r}")
    return CellularCheck(
        metric=metric,
        unit=str(raw.get("unit", "")),
        source=_src(raw.get("source"), where),
        verified=verified,
        window_day=win,
        value=None if value is None else _num(value, where),
        sd=None if sd is None else _num(sd, where),
        low=None if low is None else float(low),
        high=None if high is None else float(high),
        expect=expect,
        text=str(raw.get("text", "")),
    )


def _entry(raw: Any, origin: str) -> CellularModel:
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"{origin}: [[cellular]] {name!r}"
    if not isinstance(raw, dict) or not isinstance(name, str) or not name.strip():
        raise ModelFileError(f"{where}: expected a table with a 'name'")
    extra = sorted(set(raw) - set(_KEYS))
    if extra:
        raise ModelFileError(f"{where}: unknown key {extra[0]!r}{did_you_mean(extra[0], _KEYS)}")
    if raw.get("structure") != "stein_2019":
        raise ModelFileError(
            f"{where}: 'structure' expected 'stein_2019', got {raw.get('structure')!r}"
        )
    params = raw.get("parameters")
    if not isinstance(params, dict):
        raise ModelFileError(f"{where}: missing [cellular.parameters]")
    vals: dict[str, float] = {}
    notes: dict[str, str] = {}
    for p in _PARAMS:
        t = params.get(p)
        if not isinstance(t, dict) or "value" not in t or "unit" not in t:
            raise ModelFileError(
                f"{where}: parameter {p!r} expected {{value, unit[, note]}}, got {t!r}"
            )
        unit = t["unit"]
        if unit not in _UNITS[p]:
            raise ModelFileError(
                f"{where}: parameter {p!r} unit expected one of "
                f"{', '.join(_UNITS[p])}, got {unit!r}"
            )
        vals[p] = _num(t["value"], f"{where}, {p}") * _UNITS[p][unit]
        notes[p] = str(t.get("note", ""))
    extra_p = sorted(set(params) - set(_PARAMS))
    if extra_p:
        raise ModelFileError(
            f"{where}: unknown parameter {extra_p[0]!r}{did_you_mean(extra_p[0], _PARAMS)}"
        )
    if vals["foldx"] <= 1:
        raise ModelFileError(f"{where}: 'foldx' expected > 1 (expansion), got {vals['foldx']!r}")
    if vals["fb"] >= 1:
        raise ModelFileError(f"{where}: 'fb' expected a fraction < 1, got {vals['fb']!r}")
    relative = params["cmax"]["unit"] == "peak"
    if relative and vals["cmax"] != 1.0:
        raise ModelFileError(
            f"{where}: 'cmax' in unit 'peak' (a course normalised to its peak) expected 1, "
            f"got {vals['cmax']!r}"
        )
    verified = raw.get("verified", True)
    if not isinstance(verified, bool):
        raise ModelFileError(f"{where}: 'verified' expected true or false, got {verified!r}")
    note = str(raw.get("note", ""))
    if not verified and not note.strip():
        raise ModelFileError(f"{where}: 'verified = false' needs a 'note' naming where it was read")
    checks = tuple(
        _check(c, f"{where}, check {k + 1}") for k, c in enumerate(raw.get("check") or [])
    )
    if relative:
        for k, c in enumerate(checks):
            if c.metric != "tmax":
                raise ModelFileError(
                    f"{where}, check {k + 1}: a course normalised to its peak (cmax unit "
                    f"'peak') can be checked on tmax only, got {c.metric!r}"
                )
    return CellularModel(
        drug=name.strip(),
        cmax=vals["cmax"],
        tmax_d=vals["tmax"],
        foldx=vals["foldx"],
        alpha=vals["alpha"],
        fb=vals["fb"],
        beta=vals["beta"],
        population=str(raw.get("population", "")),
        source=_src(raw.get("source"), where),
        verified=verified,
        note=note,
        unit="peak" if relative else str(raw.get("unit", "copies/ug")),
        parameter_notes=MappingProxyType(notes),
        checks=checks,
    )


def read_cellular(text: str, origin: str = "pk.toml") -> Mapping[str, CellularModel]:
    """The ``[[cellular]]`` models of a PK library text, keyed by lower-case product name."""
    data = parse_toml(text, origin)
    out: dict[str, CellularModel] = {}
    for raw in data.get("cellular") or []:
        m = _entry(raw, origin)
        key = m.drug.lower()
        if key in out:
            raise ModelFileError(f"{origin}: cellular model {m.drug!r} is listed twice")
        out[key] = m
    return MappingProxyType(out)


@functools.lru_cache(maxsize=1)
def models() -> Mapping[str, CellularModel]:
    """The bundled cellular-kinetic models (cached per process)."""
    res = data_file("structures", "pk.toml")
    return read_cellular(res.read_text(encoding="utf-8"), "structures/pk.toml")


def names() -> list[str]:
    """Products with a cellular-kinetic model, in file order."""
    return [m.drug for m in models().values()]


def model(drug: str | CellularModel) -> CellularModel:
    """The cellular-kinetic model of a CAR-T product (case-insensitive name).

    Raises
    ------
    UnknownDrugError
        When no model is curated for `drug`, with close matches.
    """
    if isinstance(drug, CellularModel):
        return drug
    if not isinstance(drug, str) or not drug.strip():
        raise UnknownDrugError(f"cellular.model(): drug must be a product name, got {drug!r}")
    found = models().get(drug.strip().lower())
    if found is None:
        raise UnknownDrugError(
            f"cellular.model(): no cellular-kinetic model for {drug!r}"
            f"{did_you_mean(drug, names())}; curated: {', '.join(names()) or 'none'}"
        )
    return found


def levels(
    drug: str | CellularModel, infusion_h: Sequence[float] | float, times_h: Any
) -> np.ndarray:
    """Transgene level (copies/ug) at `times_h` after infusions at `infusion_h` (hours).

    A second infusion restarts the course from the later infusion (re-dosing is not described
    by the sources; the level is the maximum of the single courses, not their sum)."""
    m = model(drug)
    t = np.asarray(times_h, dtype=float)
    starts = (
        [float(infusion_h)]
        if isinstance(infusion_h, (int, float))
        else [float(x) for x in infusion_h]
    )
    if not starts:
        return np.zeros_like(t)
    return np.max([np.asarray(m.level((t - s) / 24.0), dtype=float) for s in starts], axis=0)


def nm_equivalent(
    drug: str | CellularModel,
    reference_nM: float,
    infusion_h: Sequence[float] | float,
    times_h: Any,
) -> np.ndarray:
    """The network input of a CAR-T product in nM-eq: ``reference_nM * C(t) / Cmax``.

    The convention (module docstring): the library's reference exposure at the peak of
    expansion, following the contraction and persistence after it; 0 before the infusion."""
    if (
        isinstance(reference_nM, bool)
        or not isinstance(reference_nM, (int, float))
        or reference_nM < 0
    ):
        raise InvalidInputError(
            f"nm_equivalent(): reference_nM expected a number >= 0, got {reference_nM!r}"
        )
    m = model(drug)
    return float(reference_nM) * levels(m, infusion_h, times_h) / m.cmax


def predict_check(drug: str | CellularModel, check: CellularCheck) -> float:
    """The model's value of a published check (Cmax copies/ug, Tmax day, AUC day*copies/ug)."""
    m = model(drug)
    if check.metric == "cmax":
        return m.cmax
    if check.metric == "tmax":
        return m.tmax_d
    assert check.window_day is not None
    return m.auc(*check.window_day)
