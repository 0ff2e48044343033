"""Semi-mechanistic platelet model (Srimani et al. 2022, DOI:10.1002/psp4.12815).

A proliferating precursor pool with zero-order production ``kin``, two maturation transit
compartments and the circulating platelets, normalised so that the drug-free steady state has
``circ = 1``::

    dProl/dt = kin - (kprp + L(t)) Prol
    dT1/dt   = kprp (Prol - T1);  dT2/dt = kprp (T1 - T2)
    dCirc/dt = kprp T2 - kin Circ
    dAUC/dt  = C_ixazomib(t)                       (ng h/mL, cumulative from the first dose)

``L(t)`` is the sum of the drugs' first-order losses from the precursor pool (1/h): ixazomib
``slope (C + k AUC)`` with C in ng/mL, lenalidomide (with dexamethasone) through a
kinetic-pharmacodynamic compartment fed by the doses, and bortezomib ``slope C`` (C in mg/L;
slope derived from one single-agent fact, :func:`derive_slope`). The platelet count is
``baseline x Circ``. There is no rebound feedback: the published model has none.

The integration reuses the neutrophil model's fixed-step RK4 scheme with stage-averaged drug
effects (:func:`mmmech.toxicity.myelosuppression.stage_means`) and its concentrations
(:func:`~mmmech.toxicity.myelosuppression.concentration_mg_l`), vectorised over patients;
:func:`simulate_reference` is the same system with :func:`scipy.integrate.solve_ivp`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import pk
from ..exceptions import InvalidInputError, UnknownNameError
from ..utils import did_you_mean
from . import myelosuppression as ms
from .data import PlateletEffect, PlateletSystem, toxicity_data

__all__ = [
    "system",
    "effect_drugs",
    "platelet_effect",
    "individual_baseline",
    "drivers",
    "steady_state",
    "simulate",
    "simulate_reference",
    "platelet_course",
    "derive_slope",
]

DoseTuple = tuple[float, float, str]
#: (values(t) -> [direct loss 1/h, ixazomib ng/mL feeding the AUC state], AUC coefficient)
Drivers = tuple[Callable[[np.ndarray], np.ndarray], float]


def system() -> PlateletSystem:
    """The curated platelet system (``[platelet_system]`` of ``structures/toxicity.toml``)."""
    s = toxicity_data().platelet_system
    if s is None:  # pragma: no cover - the bundled file has one
        raise UnknownNameError("system(): structures/toxicity.toml has no [platelet_system]")
    return s


def effect_drugs() -> list[str]:
    """Drugs with a curated effect on platelets."""
    return [e.drug for e in toxicity_data().platelet_effects]


def platelet_effect(drug: str) -> PlateletEffect:
    """The curated platelet effect record of `drug`."""
    for e in toxicity_data().platelet_effects:
        if e.drug == drug:
            return e
    known = effect_drugs()
    raise UnknownNameError(
        f"platelet_effect(): no platelet model for drug {drug!r}{did_you_mean(drug, known)}; "
        f"curated: {', '.join(known) or 'none'}"
    )


def individual_baseline(observed: Any = None, eta: Any = 0.0) -> Any:
    """Individual baseline (10^9/L), Srimani Equation 19: ``BL + W (observed - 197)`` when the
    patient's count is known, else ``BL + eta * sd`` (``eta`` standard normal; 0: typical)."""
    s = system()
    if observed is not None:
        b = np.asarray(observed, dtype=float)
        if not np.all(np.isfinite(b)) or np.any(b <= 0):
            raise InvalidInputError(
                f"individual_baseline(): observed must be > 0 (10^9/L), got {observed!r}"
            )
        out = s.baseline + s.baseline_covariate * (b - s.baseline_covariate_center)
    else:
        out = s.baseline + np.asarray(eta, dtype=float) * s.baseline_sd
    # a baseline must stay positive: floor at 10% of the typical value (a guard, not a model)
    out = np.maximum(out, 0.1 * s.baseline)
    return float(out) if np.ndim(out) == 0 else out


def _kpd(doses: Sequence[DoseTuple], rate: float, t: np.ndarray) -> np.ndarray:
    """Effect rate ``k A(t)`` of a K-PD compartment fed by `doses` (mg) at `t` (h).

    On a uniform grid `t` whose spacing divides every dose's offset from ``t[0]`` (the
    toxicity course's grids), the doses before ``t[0]`` are one decaying sum
    (``exp(-k (t - t0)) sum mg exp(-k (t0 - td))``) and each later dose adds the unit response
    ``k exp(-k tau)``, computed once on the grid and shifted: a few exponentials per grid
    point instead of one per dose, equal to the dose-by-dose sum to rounding (1e-15
    relative). Otherwise dose by dose."""
    fast = _kpd_grid(doses, rate, t)
    if fast is not None:
        return fast
    out = np.zeros_like(t)
    for td, mg, _route in doses:
        dt = t - td
        on = dt >= 0
        out[on] += rate * mg * np.exp(-rate * dt[on])
    return out


def _kpd_grid(doses: Sequence[DoseTuple], rate: float, t: np.ndarray) -> np.ndarray | None:
    """:func:`_kpd` on a uniform grid (None when `t` is not one or a dose after ``t[0]`` is
    off the grid)."""
    plan = _kpd_plan(doses, rate, t)
    if plan is None:
        return None
    old, ks, amounts, unit = plan
    out = old * unit
    for k, amount in zip(ks, amounts, strict=True):
        if k < unit.size:
            out[k:] += amount * unit[: unit.size - k]
    return out


def _kpd_plan(
    doses: Sequence[DoseTuple],
    rate: float,
    t: np.ndarray,
    uniform: bool | None = None,
    unit: np.ndarray | None = None,
) -> tuple[float, list[int], list[float], np.ndarray] | None:
    """What :func:`_kpd_grid` sums: the decayed sum of the doses up to ``t[0]``, the grid
    offsets and amounts of the later doses, and the unit response on the grid. `uniform` and
    `unit`: the grid check and the unit response when the caller has them (the same values)."""
    t = np.asarray(t, dtype=float)
    size = t.size
    if t.ndim != 1 or size < 2 or len(doses) < 2:
        return None
    step = (t[-1] - t[0]) / (size - 1)
    if not (ms._uniform(t, step) if uniform is None else uniform):
        return None
    t0 = float(t[0])
    td = np.fromiter(map(ms._FIRST, doses), float, len(doses))
    mg = np.fromiter(map(ms._SECOND, doses), float, len(doses))
    before = td <= t0
    q = (td[~before] - t0) / step
    whole = np.rint(q)
    if np.any(np.abs(q - whole) > 1e-6):
        return None
    old = float(np.sum(mg[before] * np.exp(-rate * (t0 - td[before]))))
    if unit is None:
        tau = np.arange(size) * step
        unit = rate * np.exp(-rate * tau)
    return old, whole.astype(np.int64).tolist(), mg[~before].tolist(), unit


def _kpd_batch(doses: Sequence[Sequence[DoseTuple]], rate: float, t: np.ndarray) -> np.ndarray:
    """:func:`_kpd` for several patients on one grid (n, len(t)), row i equal to
    ``_kpd(doses[i], rate, t)`` bit for bit; patients whose later doses fall on the same grid
    offsets are summed together (one array operation per dose)."""
    t = np.asarray(t, dtype=float)
    n = len(doses)
    out = np.zeros((n, t.size))
    groups: dict[tuple[int, ...], list[int]] = {}
    plans: list[Any] = [None] * n
    uniform = ms._grid_uniform(t)
    unit = None
    if uniform:  # the unit response of the grid, as _kpd_plan computes it, once
        unit = rate * np.exp(-rate * (np.arange(t.size) * ((t[-1] - t[0]) / (t.size - 1))))
    for i in range(n):
        plan = _kpd_plan(doses[i], rate, t, uniform, unit)
        if plan is None:
            out[i] = _kpd(doses[i], rate, t)
            continue
        plans[i] = plan
        groups.setdefault(tuple(plan[1]), []).append(i)
    for ks, rows in groups.items():
        unit = plans[rows[0]][3]  # the same grid and rate: the same unit response
        old = np.asarray([plans[i][0] for i in rows], dtype=float)
        amounts = np.asarray([plans[i][2] for i in rows], dtype=float).reshape(len(rows), -1)
        sub = old[:, None] * unit
        for j, k in enumerate(ks):
            if k < unit.size:
                sub[:, k:] += amounts[:, j : j + 1] * unit[: unit.size - k]
        out[rows] = sub
    return out


def drivers_batch(
    doses_by_drug: Sequence[Mapping[str, Sequence[DoseTuple]]],
    models: Sequence[Mapping[str, pk.PKModel] | None],
    caches: Sequence[dict[Any, np.ndarray] | None],
) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """:func:`drivers` for several patients (one mapping, models and cache each): ``values``
    of shape (n_times, 2, n_patients), column k equal to patient k's ``values`` bit for bit,
    and the patients' ``auc_coef`` (n_patients,)."""
    known = set(effect_drugs())
    n = len(doses_by_drug)
    order = list(dict.fromkeys(d for m in doses_by_drug for d in m if d in known))
    parts = []
    coef = np.zeros(n)
    for drug in order:
        rows = [i for i in range(n) if doses_by_drug[i].get(drug)]
        if not rows:
            continue
        e = platelet_effect(drug)
        ms_ = [(models[i] or {}).get(drug, drug) for i in rows]
        parts.append((e, rows, ms_, [list(doses_by_drug[i][drug]) for i in rows]))
        if e.form == "concentration_and_auc":
            coef[rows] += e.slope * e.auc_scale_per_h

    def values(times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        loss = np.zeros((n, t.size))
        c_auc = np.zeros((n, t.size))
        for e, rows, ms_, doses in parts:
            if e.form == "kpd":
                loss[rows] = loss[rows] + e.slope * _kpd_batch(doses, e.kpd_rate_per_h, t)
                continue
            c = ms.concentration_mg_l_batch(ms_, doses, t, [caches[i] for i in rows])
            if e.form == "concentration_and_auc":
                c = 1000.0 * c  # mg/L -> ng/mL, the unit of the published slope
                c_auc[rows] = c_auc[rows] + c
            loss[rows] = loss[rows] + e.slope * c
        return np.ascontiguousarray(np.stack([loss.T, c_auc.T], axis=1))

    return values, coef


def drivers(
    doses_by_drug: Mapping[str, Sequence[DoseTuple]],
    models: Mapping[str, pk.PKModel] | None = None,
    cache: dict[Any, np.ndarray] | None = None,
) -> Drivers:
    """``(values, auc_coef)``: ``values(times_h)`` of shape (n, 2), the direct loss rate (1/h)
    and the ixazomib concentration (ng/mL) feeding the AUC state, over the drugs of
    `doses_by_drug` that have a platelet effect; ``auc_coef`` multiplies the AUC state.
    `cache`: as :func:`mmmech.toxicity.myelosuppression.concentration_mg_l`'s."""
    parts = []
    auc_coef = 0.0
    known = set(effect_drugs())
    for drug, doses in doses_by_drug.items():
        if drug not in known or not doses:
            continue
        e = platelet_effect(drug)
        m = (models or {}).get(drug, drug)
        parts.append((e, m, list(doses)))
        if e.form == "concentration_and_auc":
            auc_coef += e.slope * e.auc_scale_per_h

    def values(times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        loss = np.zeros_like(t)
        c_auc = np.zeros_like(t)
        for e, m, doses in parts:
            if e.form == "kpd":
                loss = loss + e.slope * _kpd(doses, e.kpd_rate_per_h, t)
                continue
            c = ms.concentration_mg_l(m, doses, t, cache)
            if e.form == "concentration_and_auc":
                c = 1000.0 * c  # mg/L -> ng/mL, the unit of the published slope
                c_auc = c_auc + c
            loss = loss + e.slope * c
        return np.stack([loss, c_auc], axis=-1)

    return values, auc_coef


def steady_state(shape: tuple[int, ...] = ()) -> np.ndarray:
    """Drug-free steady state (Prol, T1, T2, Circ, AUC), shape (5, *shape)."""
    s = system()
    p0 = s.kin_per_h / s.kprp_per_h
    y = np.zeros((5,) + shape)
    y[0:3] = p0
    y[3] = 1.0
    return y


def _rhs(y: np.ndarray, loss: Any, c_auc: Any, auc_coef: float, scale: Any) -> np.ndarray:
    """The whole right-hand side (for :func:`simulate_reference`)."""
    s = system()
    kprp, kin = s.kprp_per_h, s.kin_per_h
    prol, t1, t2, circ, auc = y
    total = np.asarray(scale) * (loss + auc_coef * auc)
    return np.stack(
        [
            kin - (kprp + total) * prol,
            kprp * (prol - t1),
            kprp * (t1 - t2),
            kprp * t2 - kin * circ,
            np.broadcast_to(c_auc, np.shape(circ)).astype(float),
        ]
    )


def simulate(
    drv: Drivers | None,
    start_h: float,
    end_h: float,
    state: np.ndarray | None = None,
    dt_h: float = 2.0,
    scale: Any = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integrate from `start_h` to `end_h` on a fixed step, vectorised over patients.

    The drug loss over each step is its exact integral (Simpson weights on the stage means of
    :func:`mmmech.toxicity.myelosuppression.stage_means`, which average the drivers over the
    step's thirds as the neutrophil model does); the precursor pool, linear in its loss, takes
    the exact exponential step for that mean loss (stable however sharp a bortezomib bolus
    makes the loss); the maturation chain and circulating platelets (rate ~0.04/h) take a
    classical RK4 step with the precursor pool interpolated linearly over the step.
    `scale` multiplies every drug's loss (a patient's sensitivity; an array integrates several
    patients at once). Returns grid times (h), the normalised circulating count ``Circ`` at
    them (shape (n, ...)) and the final state."""
    s = system()
    kprp, kin = s.kprp_per_h, s.kin_per_h
    shape = np.shape(scale)
    y = steady_state(shape) if state is None else np.array(state, dtype=float)

    def none(t: np.ndarray) -> np.ndarray:
        return np.zeros((len(t), 2))

    values, auc_coef = drv if drv is not None else (none, 0.0)
    grid, h, e0, em, e1 = ms.stage_means(values, start_h, end_h, dt_h)
    mean = (e0 + 4.0 * em + e1) / 6.0  # exact step means of (loss, ixazomib concentration)
    sc = np.asarray(scale, dtype=float)
    out = np.empty((len(grid),) + y.shape[1:])
    out[0] = y[3]

    def chain(z: np.ndarray, prol: Any) -> np.ndarray:
        t1, t2, circ = z
        a = kprp * (prol - t1)
        out = np.empty((3,) + np.shape(a))  # np.stack of the three, without its overhead
        out[0] = a
        out[1] = kprp * (t1 - t2)
        out[2] = kprp * t2 - kin * circ
        return out

    for i in range(len(grid) - 1):
        prol, auc = y[0], y[4]
        auc_new = auc + h * mean[i, 1]
        a = kprp + sc * (mean[i, 0] + auc_coef * 0.5 * (auc + auc_new))
        eq = kin / a
        prol_new = eq + (prol - eq) * np.exp(-a * h)
        z = y[1:4]
        p_mid = 0.5 * (prol + prol_new)
        k1 = chain(z, prol)
        k2 = chain(z + 0.5 * h * k1, p_mid)
        k3 = chain(z + 0.5 * h * k2, p_mid)
        k4 = chain(z + h * k3, prol_new)
        z = z + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        y = np.empty((5,) + np.shape(z[2]))
        y[0] = prol_new
        y[1:4] = z
        y[4] = auc_new
        out[i + 1] = y[3]
    return grid, out, y


def simulate_reference(
    drv: Drivers, start_h: float, end_h: float, times_h: np.ndarray, max_step_h: float = 0.25
) -> np.ndarray:
    """The same system with :func:`scipy.integrate.solve_ivp` (LSODA, rtol 1e-9) for one typical
    patient: ``Circ`` at `times_h`. The reference the tests hold :func:`simulate` to."""
    from scipy.integrate import solve_ivp  # deferred: scipy.integrate costs import time

    values, auc_coef = drv

    def f(t: float, y: np.ndarray) -> np.ndarray:
        v = values(np.array([t]))[0]
        return _rhs(y, float(v[0]), float(v[1]), auc_coef, 1.0)

    sol = solve_ivp(
        f,
        (start_h, end_h),
        steady_state(),
        method="LSODA",
        t_eval=np.asarray(times_h, dtype=float),
        rtol=1e-9,
        atol=1e-10,
        max_step=max_step_h,
    )
    if not sol.success:
        raise InvalidInputError(f"simulate_reference(): solve_ivp failed: {sol.message}")
    return np.asarray(sol.y[3])


def platelet_course(
    doses_by_drug: Mapping[str, Sequence[DoseTuple]],
    end_h: float,
    baseline: Any = None,
    scale: Any = 1.0,
    dt_h: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Platelet counts (10^9/L) from 0 to `end_h` after `doses_by_drug` (``(time_h, mg,
    route)``): grid times (h) and counts (shape (n, ...))."""
    b = individual_baseline() if baseline is None else baseline
    t, circ, _ = simulate(drivers(doses_by_drug), 0.0, end_h, dt_h=dt_h, scale=scale)
    return t, circ * np.asarray(b, dtype=float)


def derive_slope(drug: str = "bortezomib") -> float:
    """Re-derive a ``basis = "derived"`` slope: the slope at which the typical patient's lowest
    count over the `derivation` schedule is ``target_fraction`` of the baseline (bisection on
    log slope)."""
    rec = platelet_effect(drug)
    d = rec.derivation
    if rec.basis != "derived" or not d:
        raise InvalidInputError(f"derive_slope(): the {drug} platelet slope is not derived")
    mg = float(d["dose_mg_m2"]) * float(d["bsa_m2"])
    doses = ms.schedule_doses(
        mg, [int(x) for x in d["days"]], int(d["cycle_days"]), int(d["cycles"]), str(d["route"])
    )
    end = 24.0 * int(d["cycle_days"]) * int(d["cycles"])
    target = float(d["target_fraction"])
    cache: dict[tuple[float, float, int], np.ndarray] = {}

    def conc(t: np.ndarray) -> np.ndarray:
        key = (float(t[0]), float(t[-1]), len(t))
        if key not in cache:
            cache[key] = ms.concentration_mg_l(drug, doses, t)
        return cache[key]

    def drv(slope: float) -> Drivers:
        def values(t: np.ndarray) -> np.ndarray:
            c = conc(t)
            return np.stack([slope * c, np.zeros_like(c)], axis=-1)

        return values, 0.0

    lo, hi = 1e-3, 1e4
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        _t, circ, _y = simulate(drv(mid), 0.0, end, dt_h=2.0)
        if float(np.min(circ)) > target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)
