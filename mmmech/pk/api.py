"""Simulation and exposure metrics over a PK model: :func:`simulate`, :func:`schedule`,
:func:`exposure` and the closed-form metrics (half-lives, accumulation, steady state)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InvalidInputError, UnitError
from ..units import MASS_UNITS, MOLAR_UNITS
from .engine import (
    ROUTES,
    Dose,
    concentrations,
    cumulative_auc,
    exponentials,
    ode_batch,
    ode_concentrations,
)
from .library import PKModel, model

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DoseLike",
    "as_doses",
    "schedule",
    "parse_amount",
    "concentration",
    "simulate",
    "exposure",
    "auc",
    "half_lives",
    "accumulation_ratio",
    "css_average",
    "predict_check",
]

DoseLike = Any  # Dose | (time_h, amount_mg, route) | (time_h, amount_mg, route, duration_h)
_AMOUNT = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(mg/m2|mg/m²|mg/kg|mg)\s*$"
)


def parse_amount(
    dose: float | str, bsa_m2: float | None = None, weight_kg: float | None = None
) -> float:
    """A dose in mg from ``25`` (mg), ``'25 mg'``, ``'1.3 mg/m2'`` (needs `bsa_m2`) or
    ``'16 mg/kg'`` (needs `weight_kg`)."""
    if isinstance(dose, (int, float)) and not isinstance(dose, bool):
        value, unit = float(dose), "mg"
    elif isinstance(dose, str) and (m := _AMOUNT.match(dose)):
        value, unit = float(m.group(1)), m.group(2)
    else:
        raise UnitError(
            f"schedule(): dose must be mg as a number or a string such as '25 mg', "
            f"'1.3 mg/m2' or '16 mg/kg', got {dose!r}"
        )
    if not (math.isfinite(value) and value >= 0):
        raise InvalidInputError(f"schedule(): dose must be finite and >= 0, got {dose!r}")
    if unit in ("mg/m2", "mg/m²"):
        if bsa_m2 is None or not bsa_m2 > 0:
            raise InvalidInputError(f"schedule(): dose {dose!r} is per m²; give bsa_m2 > 0")
        return value * float(bsa_m2)
    if unit == "mg/kg":
        if weight_kg is None or not weight_kg > 0:
            raise InvalidInputError(f"schedule(): dose {dose!r} is per kg; give weight_kg > 0")
        return value * float(weight_kg)
    return value


def schedule(
    dose: float | str,
    route: str,
    days: Iterable[int],
    cycle_days: int | None = None,
    cycles: int = 1,
    hour: float = 0.0,
    duration_h: float | None = None,
    bsa_m2: float | None = None,
    weight_kg: float | None = None,
) -> list[Dose]:
    """Doses on `days` (1-based days of a cycle) of `cycles` cycles of `cycle_days` days, at
    `hour` of the day; e.g. bortezomib 1.3 mg/m² SC on days 1, 4, 8, 11 of 21:
    ``schedule('1.3 mg/m2', 'sc', [1, 4, 8, 11], 21, bsa_m2=1.8)``."""
    days = list(days)
    if not days or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in days):
        raise InvalidInputError(f"schedule(): days must be whole days >= 1, got {days!r}")
    if cycle_days is None:
        cycle_days = max(days)
    if not isinstance(cycle_days, int) or cycle_days < max(days):
        raise InvalidInputError(
            f"schedule(): cycle_days must be a whole number >= the last day ({max(days)}), "
            f"got {cycle_days!r}"
        )
    if not isinstance(cycles, int) or cycles < 1:
        raise InvalidInputError(f"schedule(): cycles must be a whole number >= 1, got {cycles!r}")
    if route not in ROUTES:
        raise InvalidInputError(
            f"schedule(): route must be one of {', '.join(ROUTES)}, got {route!r}"
        )
    amount = parse_amount(dose, bsa_m2, weight_kg)
    out = []
    for c in range(cycles):
        for d in sorted(days):
            t = ((c * cycle_days) + d - 1) * 24.0 + float(hour)
            out.append(Dose(t, amount, route, float(duration_h or 0.0)))
    return out


def as_doses(m: PKModel, doses: Sequence[DoseLike]) -> list[Dose]:
    """Normalise `doses` (Dose objects or tuples) for model `m`, checking the routes it
    supports and filling the labelled infusion duration."""
    if isinstance(doses, (str, bytes)) or not isinstance(doses, Sequence):
        raise InvalidInputError(
            f"simulate(): doses must be a list of (time_h, amount_mg, route) tuples, got {doses!r}"
        )
    out = []
    for i, d in enumerate(doses):
        if not isinstance(d, Dose):
            if not isinstance(d, (tuple, list)) or len(d) not in (3, 4):
                raise InvalidInputError(
                    f"simulate(): doses[{i}] must be (time_h, amount_mg, route[, duration_h]), "
                    f"got {d!r}"
                )
            dur = d[3] if len(d) == 4 else None
            if d[2] == "iv_infusion" and dur is None:
                if m.infusion_h is None:
                    raise InvalidInputError(
                        f"simulate(): doses[{i}] is an infusion without duration_h and the "
                        f"{m.drug} model has no labelled infusion time"
                    )
                dur = m.infusion_h
            try:
                d = Dose(d[0], d[1], d[2], float(dur or 0.0))
            except InvalidInputError as exc:
                raise InvalidInputError(f"simulate(): doses[{i}]: {exc}") from None
        if d.route not in m.routes:
            raise InvalidInputError(
                f"simulate(): doses[{i}] route {d.route!r} is not covered by the {m.drug} model "
                f"(routes: {', '.join(m.routes)})"
            )
        out.append(d)
    return out


def _to_unit(values: np.ndarray, unit: str, m: PKModel) -> np.ndarray:
    """Convert mg/L to `unit` (a mass unit, or a molar one using the drug's molecular weight)."""
    g_per_l = values * 1e-3
    if unit in MASS_UNITS:
        return g_per_l / MASS_UNITS[unit]
    if unit in MOLAR_UNITS:
        mw = _mol_weight(m.drug)
        return g_per_l / mw * 1e9 / MOLAR_UNITS[unit]
    raise UnitError(
        f"simulate(): unit must be a mass unit ({', '.join(MASS_UNITS)}) or a molar unit "
        f"({', '.join(MOLAR_UNITS)}), got {unit!r}"
    )


def _mol_weight(drug: str) -> float:
    from .. import drugs  # deferred: the drug library is built (with RDKit) only for molar units

    mw = drugs.get(drug).mol_weight
    if mw is None:
        raise UnitError(f"simulate(): {drug} has no molecular weight; use a mass unit")
    return float(mw)


def _raw(m: PKModel, doses: list[Dose], times: np.ndarray, method: str) -> np.ndarray:
    if method not in ("auto", "closed", "ode", "lsoda"):
        raise InvalidInputError(
            f"simulate(): method must be auto, closed, ode or lsoda, got {method!r}"
        )
    if method == "lsoda":  # the reference: SciPy's LSODA, segment by segment
        return ode_concentrations(m.disposition, doses, times, dict(m.absorption))
    if method == "ode" or (method == "auto" and not m.linear):
        # the compiled solver (mmmech._kernels._pkode; LSODA when it is not built)
        return ode_batch([m.disposition], [doses], times, [dict(m.absorption)])[0]
    return concentrations(m.disposition, doses, times, dict(m.absorption))


def _times(times: Any, doses: list[Dose], m: PKModel) -> np.ndarray:
    if times is None:
        last = max((d.time_h + d.duration_h for d in doses), default=0.0)
        horizon = last + max(24.0, 5 * max(half_lives(m)))
        return np.linspace(0.0, horizon, 2001)
    arr = np.asarray(times, dtype=float)
    if arr.ndim != 1 or not arr.size or not np.all(np.isfinite(arr)) or arr.min() < 0:
        raise InvalidInputError(
            "simulate(): times must be a non-empty 1-D sequence of finite hours >= 0"
        )
    return arr


def concentration(
    drug: str | PKModel,
    doses: Sequence[DoseLike],
    times: Any,
    unit: str = "ng/mL",
    unbound: bool = False,
    method: str = "auto",
) -> np.ndarray:
    """Concentrations of `drug` at `times` (h) after `doses`, as a NumPy array in `unit`
    (unbound when `unbound`, needs the model's fraction unbound)."""
    m = model(drug)
    ds = as_doses(m, doses)
    t = _times(times, ds, m)
    c = _raw(m, ds, t, method)
    if unbound:
        if m.fraction_unbound is None:
            raise InvalidInputError(f"concentration(): no fraction unbound is curated for {m.drug}")
        c = c * m.fraction_unbound
    return _to_unit(c, unit, m)


def simulate(
    drug: str | PKModel,
    doses: Sequence[DoseLike],
    times: Any = None,
    unit: str = "ng/mL",
    method: str = "auto",
    **covariates: float,
) -> pd.DataFrame:
    """Concentration-time course of `drug` after `doses`.

    Parameters
    ----------
    drug : str or PKModel
    doses : list
        ``(time_h, amount_mg, route)`` or ``(time_h, amount_mg, route, duration_h)`` tuples, or
        :class:`Dose` objects (see :func:`schedule`).
    times : array-like, optional
        Hours; by default 2001 points to 5 terminal half-lives (at least 24 h) after the last
        dose.
    unit : str
        Mass (``ng/mL``, ``ug/mL``, ...) or molar (``nM``, ``uM``, ...) unit.
    method : {'auto', 'closed', 'ode', 'lsoda'}
        Closed-form superposition (linear models), or the ODE (the compiled solver; ``lsoda``:
        SciPy's LSODA, its reference); ``auto`` picks the ODE only for nonlinear models.
    **covariates
        Covariate values for the model's numeric covariate effects (e.g. ``bsa_m2=1.9``).

    Returns
    -------
    pandas.DataFrame
        ``time_h``, ``concentration`` and, when the fraction unbound is curated,
        ``unbound_concentration``; ``df.attrs`` holds ``unit``, ``drug`` and ``source``.
    """
    import pandas as pd  # deferred: pandas costs about 0.3 s; import mmmech stays fast

    m = model(drug, **covariates)
    ds = as_doses(m, doses)
    t = _times(times, ds, m)
    c = _raw(m, ds, t, method)
    df = pd.DataFrame({"time_h": t, "concentration": _to_unit(c, unit, m)})
    if m.fraction_unbound is not None:
        df["unbound_concentration"] = df["concentration"] * m.fraction_unbound
    df.attrs.update(unit=unit, drug=m.drug, source=m.source, verified=m.verified)
    return df


def auc(
    drug: str | PKModel,
    doses: Sequence[DoseLike],
    start_h: float,
    end_h: float,
    method: str = "auto",
) -> float:
    """AUC (mg.h/L) over ``[start_h, end_h]``: analytic for linear models, otherwise the
    trapezoid rule on the ODE solution (20,001 points)."""
    m = model(drug)
    ds = as_doses(m, doses)
    if not (0 <= start_h <= end_h):
        raise InvalidInputError(f"auc(): need 0 <= start_h <= end_h, got {start_h!r}, {end_h!r}")
    if m.linear and method not in ("ode", "lsoda"):
        g = cumulative_auc(m.disposition, ds, np.array([start_h, end_h]), dict(m.absorption))
        return float(g[1] - g[0])
    t = np.linspace(start_h, end_h, 20001)
    return float(np.trapezoid(_raw(m, ds, t, "lsoda" if method == "lsoda" else "ode"), t))


def exposure(
    drug: str | PKModel,
    doses: Sequence[DoseLike],
    start_h: float,
    end_h: float,
    unit: str = "ng/mL",
    unbound: bool = False,
    method: str = "auto",
) -> dict[str, float | str]:
    """Exposure metrics over the dosing window ``[start_h, end_h]``: ``cmax``, ``tmax`` (h after
    `start_h`), ``cmin``, ``trough`` (at `end_h`) and ``auc`` (unit x h), in `unit` (unbound when
    `unbound`). A dose given at `end_h` opens the next window: it is not counted here."""
    from scipy.optimize import minimize_scalar  # deferred: scipy.optimize is slow to import

    m = model(drug)
    ds = as_doses(m, doses)
    if not (0 <= start_h < end_h):
        raise InvalidInputError(
            f"exposure(): need 0 <= start_h < end_h, got {start_h!r}, {end_h!r}"
        )
    ds = [d for d in ds if d.time_h < end_h]  # a dose at end_h belongs to the next window
    events = [d.time_h for d in ds] + [d.time_h + d.duration_h for d in ds]
    events += [d.time_h + m.absorption[d.route].tlag for d in ds if d.route in m.absorption]
    grid = np.unique(
        np.concatenate(
            [np.linspace(start_h, end_h, 4001), [e for e in events if start_h <= e <= end_h]]
        )
    )
    c = _raw(m, ds, grid, method)
    i = int(np.argmax(c))
    tmax, cmax = grid[i], c[i]
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if hi > lo:
        res = minimize_scalar(
            lambda x: -_raw(m, ds, np.array([x]), method)[0],
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-6 * (end_h - start_h)},
        )
        if -res.fun > cmax:
            tmax, cmax = float(res.x), float(-res.fun)
    trough = _raw(m, ds, np.array([end_h]), method)[0] if ds else 0.0
    area = auc(m, ds, start_h, end_h, method)
    scale = float(_to_unit(np.array([1.0]), unit, m)[0])
    fu = 1.0
    if unbound:
        if m.fraction_unbound is None:
            raise InvalidInputError(f"exposure(): no fraction unbound is curated for {m.drug}")
        fu = m.fraction_unbound
    return {
        "cmax": float(cmax) * scale * fu,
        "tmax": float(tmax - start_h),
        "cmin": float(c.min()) * scale * fu,
        "trough": float(trough) * scale * fu,
        "auc": area * scale * fu,
        "unit": unit,
    }


def half_lives(drug: str | PKModel) -> tuple[float, ...]:
    """Disposition half-lives ``ln 2 / lambda_i`` (h) of the linear part, shortest first (the
    last is the terminal half-life)."""
    m = model(drug)
    lam, _ = exponentials(m.disposition)
    return tuple(float(math.log(2) / x) for x in lam)


def _f(m: PKModel, route: str) -> float:
    if route not in m.routes:
        raise InvalidInputError(f"route {route!r} is not covered by the {m.drug} model")
    return m.absorption[route].f if route in m.absorption else 1.0


def css_average(drug: str | PKModel, amount_mg: float, route: str, tau_h: float) -> float:
    """Average steady-state concentration ``F D / (CL tau)`` (mg/L) for `amount_mg` every
    `tau_h` hours (linear elimination)."""
    m = model(drug)
    if not tau_h > 0:
        raise InvalidInputError(f"css_average(): tau_h must be > 0, got {tau_h!r}")
    return _f(m, route) * amount_mg / (m.disposition.cl * tau_h)


def accumulation_ratio(
    drug: str | PKModel, route: str, tau_h: float, duration_h: float | None = None
) -> float:
    """``AUC(0, tau)`` at steady state over ``AUC(0, tau)`` after the first dose, for dosing
    every `tau_h` hours (analytic; independent of the dose for linear models)."""
    m = model(drug)
    if not tau_h > 0:
        raise InvalidInputError(f"accumulation_ratio(): tau_h must be > 0, got {tau_h!r}")
    dur = duration_h if duration_h is not None else (m.infusion_h if route == "iv_infusion" else 0)
    d = as_doses(m, [(0.0, 1.0, route, dur)] if route == "iv_infusion" else [(0.0, 1.0, route)])
    first = cumulative_auc(m.disposition, d, np.array([tau_h]), dict(m.absorption))[0]
    return (_f(m, route) / m.disposition.cl) / first


def predict_check(drug: str | PKModel, check: Any) -> float:
    """The model's value of a published-exposure check (:class:`~mmmech.pk.library.Check`), in
    the check's unit: the metric over its window after its dosing schedule."""
    m = model(drug, **dict(check.covariates))
    if check.metric == "half_life":
        if check.unit != "h":
            raise UnitError(f"predict_check(): half_life checks are in 'h', got {check.unit!r}")
        return half_lives(m)[-1]
    sched = dict(check.schedule)
    route = sched.pop("route")
    bsa_m2 = sched.pop("bsa_m2", None)
    weight_kg = sched.pop("weight_kg", None)
    doses = schedule(
        sched.pop("dose"),
        route,
        sched.pop("days"),
        sched.pop("cycle_days", None),
        cycles=sched.pop("cycles", 1),
        hour=sched.pop("hour", 0.0),
        duration_h=sched.pop("duration_h", None),
        bsa_m2=bsa_m2,
        weight_kg=weight_kg,
    )
    # step-up doses before the schedule (bispecifics): [{day, dose}, ...], same route and body
    for step in sched.pop("step_up", None) or []:
        if not isinstance(step, Mapping) or set(step) != {"day", "dose"}:
            raise InvalidInputError(
                f"predict_check(): step_up entries must be {{day, dose}} tables, got {step!r}"
            )
        doses += schedule(step["dose"], route, [step["day"]], bsa_m2=bsa_m2, weight_kg=weight_kg)
    doses.sort(key=lambda d: d.time_h)
    if sched:
        raise InvalidInputError(f"predict_check(): unknown schedule keys {sorted(sched)}")
    start, end = check.window_h
    if check.metric == "tmax":
        return float(exposure(m, doses, start, end)["tmax"])
    unit = check.unit.replace("*h", "").replace("·h", "")
    unbound = bool(getattr(check, "unbound", False))
    return float(exposure(m, doses, start, end, unit=unit, unbound=unbound)[check.metric])
