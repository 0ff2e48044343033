"""Semi-mechanistic myelosuppression (Friberg et al. 2002, DOI:10.1200/JCO.2002.02.140).

A proliferating compartment (drug-sensitive), three transit compartments (maturation) and the
circulating cells, with the same rate ``ktr = 4 / MTT`` throughout and feedback of the
circulating count on proliferation::

    dProl/dt = ktr Prol (1 - E(t)) (Circ0 / Circ)^gamma - ktr Prol
    dT1/dt   = ktr (Prol - T1);  dT2/dt = ktr (T1 - T2);  dT3/dt = ktr (T2 - T3)
    dCirc/dt = ktr (T3 - Circ)

``E(t) = min(1, sum_d slope_d C_d(t))`` with each drug's plasma concentration ``C_d`` (mg/L)
from :mod:`mmmech.pk`. All compartments start at the baseline ``Circ0`` (the untreated steady
state). :func:`simulate` integrates with a classical fixed-step Runge-Kutta scheme vectorised
over patients (parameters may be arrays); :func:`simulate_reference` integrates the same system
with :func:`scipy.integrate.solve_ivp` (LSODA) and is what the tests hold :func:`simulate` to.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import pk
from ..exceptions import InvalidInputError, UnknownNameError
from ..utils import did_you_mean
from .data import DrugEffect, SystemParameters, toxicity_data

__all__ = [
    "FribergParameters",
    "parameters",
    "drug_effect",
    "effect_drugs",
    "concentration_mg_l",
    "simulate",
    "simulate_reference",
    "steady_state",
    "linear_effect",
    "recent_doses",
    "schedule_doses",
    "lowest_count",
    "derive_slope",
    "population_nadirs",
    "stage_means",
]

DoseTuple = tuple[float, float, str]
#: a dose tuple's time and amount (for np.fromiter: the values float() gives, without a
#: Python generator per dose)
_FIRST = operator.itemgetter(0)
_SECOND = operator.itemgetter(1)
_THIRD = operator.itemgetter(2)
#: sub-samples of the drug effect per integration step (a multiple of 6)
_SUB = 12
#: integration step of slope derivations (h), the default step of the toxicity course
_DERIVE_DT = 2.0


@dataclass(frozen=True)
class FribergParameters:
    """System parameters of one lineage (arrays allowed for a population)."""

    mtt_h: Any
    gamma: Any
    baseline: Any

    @property
    def ktr(self) -> Any:
        """Transit rate constant 4 / MTT (1/h)."""
        return 4.0 / np.asarray(self.mtt_h, dtype=float)


def parameters(lineage: str = "neutrophils", baseline: Any = None) -> FribergParameters:
    """The curated system parameters of `lineage`, with the patient's `baseline` when given."""
    systems = toxicity_data().systems
    if lineage not in systems:
        raise UnknownNameError(
            f"parameters(): no myelosuppression system for lineage {lineage!r}"
            f"{did_you_mean(lineage, list(systems))}; curated: {', '.join(systems)}"
        )
    s: SystemParameters = systems[lineage]
    if baseline is not None:
        b = np.asarray(baseline, dtype=float)
        if not np.all(np.isfinite(b)) or np.any(b <= 0):
            raise InvalidInputError(f"parameters(): baseline must be > 0, got {baseline!r}")
    return FribergParameters(s.mtt_h, s.gamma, s.baseline if baseline is None else baseline)


def effect_drugs(lineage: str = "neutrophils") -> list[str]:
    """Drugs with a curated effect on `lineage`."""
    return [e.drug for e in toxicity_data().effects if e.lineage == lineage]


def drug_effect(drug: str, lineage: str = "neutrophils") -> DrugEffect:
    """The curated effect record of `drug` on `lineage` (slope in L/mg)."""
    for e in toxicity_data().effects:
        if e.drug == drug and e.lineage == lineage:
            return e
    known = effect_drugs(lineage)
    raise UnknownNameError(
        f"drug_effect(): no {lineage} model for drug {drug!r}{did_you_mean(drug, known)}; "
        f"curated: {', '.join(known) or 'none'}"
    )


def concentration_mg_l(
    drug: str | pk.PKModel,
    doses: Sequence[DoseTuple],
    times_h: np.ndarray,
    cache: dict[Any, np.ndarray] | None = None,
) -> np.ndarray:
    """Plasma concentration (mg/L) of `drug` at `times_h` after `doses` (zeros without doses).
    `cache`: a dict kept by the caller across calls for the same patient (its unit-dose courses
    on the grid, reused from cycle to cycle; values unchanged)."""
    t = np.asarray(times_h, dtype=float)
    if not doses:
        return np.zeros_like(t)
    fast = _shifted_mg_l(drug, doses, t, cache)
    if fast is not None:
        return fast
    return np.asarray(pk.concentration(drug, list(doses), t, unit="mg/L"), dtype=float)


def _uniform(t: np.ndarray, step: float) -> bool:
    """Whether `t` is ``t[0] + k step`` to 1e-9 of a step (the check of ``np.allclose`` with
    ``rtol=0``, without its overhead)."""
    if not step > 0:
        return False
    return bool(np.max(np.abs(t - (t[0] + np.arange(t.size) * step))) <= 1e-9 * step)


def _grid_uniform(t: np.ndarray) -> bool:
    """Whether `t` (1-D, at least 2 points) is a uniform grid by :func:`_uniform`."""
    if t.ndim != 1 or t.size < 2:
        return False
    return _uniform(t, (t[-1] - t[0]) / (t.size - 1))


def _shifted_mg_l(
    drug: str | pk.PKModel,
    doses: Sequence[DoseTuple],
    t: np.ndarray,
    cache: dict[Any, np.ndarray] | None = None,
) -> np.ndarray | None:
    """:func:`concentration_mg_l` on a uniform grid `t` whose spacing divides every dose's
    offset from ``t[0]``: the unit-dose course of each route computed once on the grid and
    shifted to each dose and scaled by its amount (the PK models are linear and time-invariant),
    O(doses x times) additions instead of exponentials. Equal to the direct superposition to
    rounding; ``None`` when the grid or a dose time does not fit (the caller computes directly)
    or the model is not linear."""
    plan = _shift_plan(drug, doses, t, cache)
    if plan is None:
        return None
    shifts, amounts, routes, unit = plan
    out = np.zeros((1, t.size))
    units = {r: [u] for r, u in unit.items()}
    _shift_add(out, shifts, np.asarray(amounts, dtype=float)[None, :], routes, units, [0])
    return out[0]


def _shift_plan(
    drug: str | pk.PKModel,
    doses: Sequence[DoseTuple],
    t: np.ndarray,
    cache: dict[Any, np.ndarray] | None = None,
    uniform: bool | None = None,
) -> tuple[list[int], list[float], list[str], dict[str, np.ndarray]] | None:
    """What :func:`_shifted_mg_l` superposes: every dose's offset in grid steps, its amount and
    route, and the unit-dose course of each route on the grid (from `cache` when long enough);
    None when the fast path does not apply. `uniform`: :func:`_grid_uniform` of `t` when the
    caller knows it (None: checked here)."""
    T = t.size
    if t.ndim != 1 or T < 2 or len(doses) < 2:
        return None
    # every dose a (time, amount, route) tuple, none an infusion (checked with C-level maps)
    if not all(map(isinstance, doses, itertools.repeat(tuple))) or any(
        n != 3 for n in set(map(len, doses))
    ):
        return None
    routes = list(map(_THIRD, doses))
    if "iv_infusion" in routes:
        return None
    m = pk.model(drug)
    if not m.disposition.linear:
        return None
    step = (t[-1] - t[0]) / (T - 1)
    if not (_uniform(t, step) if uniform is None else uniform):
        return None
    # every dose's offset in grid steps (the same arithmetic as dose by dose, all at once)
    q = (np.fromiter(map(_FIRST, doses), float, len(doses)) - t[0]) / step
    whole = np.rint(q)
    if np.any(np.abs(q - whole) > 1e-6):
        return None
    shifts = whole.astype(np.int64).tolist()
    back = max(0, -min(shifts))
    unit: dict[str, np.ndarray] = {}
    for route in dict.fromkeys(routes):
        # the unit course is evaluated point by point: a longer cached one, cut, is equal
        key = (drug if isinstance(drug, str) else id(drug), route, float(step))
        have = None if cache is None else cache.get(key)
        if have is not None and have.size >= T + back:
            unit[route] = have
        else:
            # with a cache, room for further windows (the history grows by a cycle each time;
            # at least doubling, so a patient's course is recomputed a few times, not per cycle)
            grow = 0 if cache is None else max(T, 0 if have is None else have.size)
            n = T + back + grow
            tau = np.arange(n) * step
            unit[route] = np.asarray(
                pk.concentration(drug, [(0.0, 1.0, route)], tau, unit="mg/L"), dtype=float
            )
            if cache is not None:
                cache[key] = unit[route]
    return shifts, list(map(float, map(_SECOND, doses))), routes, unit


def _shift_add(
    out: np.ndarray,
    shifts: Sequence[int],
    amounts: np.ndarray,
    routes: Sequence[str],
    units: Mapping[str, Any],
    rows: Sequence[int],
) -> None:
    """Add to the rows `rows` of `out` (patients x grid) the doses at grid offsets `shifts`
    (the same for these patients), amounts ``amounts[:, j]`` (one row per patient) and
    `routes`, with ``units[route][k]`` patient k's unit course of the route. Dose by dose in
    order, the arithmetic of one patient's superposition (so each row equals it bit for bit)."""
    T = out.shape[1]
    sub = out[rows] if len(rows) != out.shape[0] else out
    stacked: dict[str, np.ndarray] = {}
    for j, (q, route) in enumerate(zip(shifts, routes, strict=True)):
        i0 = max(q, 0)
        if i0 >= T:
            continue
        k0 = i0 - q
        if route not in stacked:
            stacked[route] = _stack_cut(units[route], T + max(0, -min(shifts)))
        sub[:, i0:] += amounts[:, j : j + 1] * stacked[route][:, k0 : k0 + T - i0]
    if sub is not out:
        out[rows] = sub


def _stack_cut(units: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Per-patient unit courses cut to their first `n` points and stacked (n_patients, n)."""
    return np.stack([np.asarray(u)[:n] for u in units])


def concentration_mg_l_batch(
    drugs: Sequence[str | pk.PKModel],
    doses: Sequence[Sequence[DoseTuple]],
    times_h: np.ndarray,
    caches: Sequence[dict[Any, np.ndarray] | None],
) -> np.ndarray:
    """:func:`concentration_mg_l` for several patients at once on one grid: row i is
    ``concentration_mg_l(drugs[i], doses[i], times_h, caches[i])`` bit for bit. Patients on the
    fast path whose doses fall on the same grid offsets and routes are superposed together
    (one array operation per dose instead of one per dose and patient)."""
    t = np.asarray(times_h, dtype=float)
    n = len(drugs)
    out = np.zeros((n, t.size))
    groups: dict[tuple[tuple[int, ...], tuple[str, ...]], list[int]] = {}
    plans: list[Any] = [None] * n
    uniform = _grid_uniform(t)  # one grid for every patient: checked once
    for i in range(n):
        if not doses[i]:
            continue
        plan = _shift_plan(drugs[i], doses[i], t, caches[i], uniform) if t.ndim == 1 else None
        if plan is None:
            out[i] = concentration_mg_l(drugs[i], doses[i], t, caches[i])
            continue
        plans[i] = plan
        groups.setdefault((tuple(plan[0]), tuple(plan[2])), []).append(i)
    for (shifts, routes), rows in groups.items():
        amounts = np.asarray([plans[i][1] for i in rows], dtype=float)
        units = {r: [plans[i][3][r] for i in rows] for r in dict.fromkeys(routes)}
        _shift_add(out, shifts, amounts, routes, units, rows)
    return out


def _rhs(y: np.ndarray, e: Any, p: FribergParameters) -> np.ndarray:
    ktr = p.ktr
    prol, t1, t2, t3, circ = y
    feedback = (np.asarray(p.baseline) / np.maximum(circ, 1e-12)) ** np.asarray(p.gamma)
    a0 = ktr * prol * (1.0 - e) * feedback - ktr * prol
    # the five rates written into one array (what np.stack of them gives, without its
    # per-call overhead: this runs four times per step)
    out = np.empty((5,) + np.shape(a0))
    out[0] = a0
    out[1] = ktr * (prol - t1)
    out[2] = ktr * (t1 - t2)
    out[3] = ktr * (t2 - t3)
    out[4] = ktr * (t3 - circ)
    return out


def steady_state(p: FribergParameters) -> np.ndarray:
    """The untreated steady state: every compartment at the baseline (shape (5, ...))."""
    b = np.asarray(p.baseline, dtype=float)
    return np.stack([b] * 5).astype(float)


def simulate(
    effect: Callable[[np.ndarray], np.ndarray] | None,
    p: FribergParameters,
    start_h: float,
    end_h: float,
    state: np.ndarray | None = None,
    dt_h: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integrate the Friberg model from `start_h` to `end_h` (fixed-step RK4, step `dt_h`, the
    drug effect averaged over each stage's share of the step).

    Parameters
    ----------
    effect
        ``effect(times_h) -> E`` (broadcastable against the parameters), the drug effect on
        proliferation before the cap at 1; None for no drug.
    p
        System parameters (scalars, or arrays for several patients at once).
    state
        Compartments at `start_h` (shape (5, ...)); the untreated steady state by default.

    Returns
    -------
    times_h, circ, final_state
        Grid times (h), circulating counts at them (shape (n, ...)), the state at `end_h`.
    """
    if not (end_h > start_h and dt_h > 0):
        raise InvalidInputError(
            f"simulate(): expected end_h > start_h and dt_h > 0, got {start_h}, {end_h}, {dt_h}"
        )
    n = max(1, int(np.ceil((end_h - start_h) / dt_h - 1e-9)))
    h = (end_h - start_h) / n
    m = _SUB
    fine = start_h + np.arange(n * m + 1) * (h / m)
    if effect is None:
        e_fine = np.zeros((n * m + 1,))
    else:
        e_fine = np.minimum(np.asarray(effect(fine), dtype=float), 1.0)
    # Simpson-consistent cell averages of E: RK4 weighs E(t), E(t+h/2) (twice), E(t+h) by
    # 1/6, 4/6, 1/6, so each node gets E averaged over its share of the step ([0, h/6],
    # [h/6, 5h/6], [5h/6, h]); the drug effect integrated over a step is then exact even when
    # the concentration peaks within it (oral absorption, dose times between grid points).
    cum = np.concatenate(
        [np.zeros((1,) + e_fine.shape[1:]), np.cumsum(0.5 * (e_fine[1:] + e_fine[:-1]), axis=0)]
    ) * (h / m)
    a, b = m // 6, 5 * m // 6
    base = np.arange(n) * m
    e_start = (cum[base + a] - cum[base]) / (a * h / m)
    e_mid = (cum[base + b] - cum[base + a]) / ((b - a) * h / m)
    e_end = (cum[base + m] - cum[base + b]) / ((m - b) * h / m)
    y = steady_state(p) if state is None else np.array(state, dtype=float)
    if y.shape == (5,) and all(np.ndim(v) == 0 for v in (p.mtt_h, p.gamma, p.baseline)):
        # one patient: the same RK4 on Python floats (no small-array overhead per stage)
        if e_start.ndim == 1:
            out1, y1 = _rk4_scalar(y, e_start, e_mid, e_end, h, p)
            return fine[::m], out1, y1
    out = np.empty((n + 1,) + y.shape[1:])
    out[0] = y[4]
    for i in range(n):
        e0, em, e1 = e_start[i], e_mid[i], e_end[i]
        k1 = _rhs(y, e0, p)
        k2 = _rhs(y + 0.5 * h * k1, em, p)
        k3 = _rhs(y + 0.5 * h * k2, em, p)
        k4 = _rhs(y + h * k3, e1, p)
        y = y + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        out[i + 1] = y[4]
    return fine[::m], out, y


def stage_means(
    values: Callable[[np.ndarray], np.ndarray], start_h: float, end_h: float, dt_h: float
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray]:
    """The RK4 stage averages of ``values(times_h)`` that :func:`simulate` uses: grid times,
    step, and the means over each step's [0, h/6], [h/6, 5h/6], [5h/6, h] (each shape
    (n, ...)). For other count models on the same fixed-step scheme (``platelets``); the
    values are not capped."""
    if not (end_h > start_h and dt_h > 0):
        raise InvalidInputError(
            f"stage_means(): expected end_h > start_h and dt_h > 0, got {start_h}, {end_h}, {dt_h}"
        )
    n = max(1, int(np.ceil((end_h - start_h) / dt_h - 1e-9)))
    h = (end_h - start_h) / n
    m = _SUB
    fine = start_h + np.arange(n * m + 1) * (h / m)
    v = np.asarray(values(fine), dtype=float)
    cum = np.concatenate(
        [np.zeros((1,) + v.shape[1:]), np.cumsum(0.5 * (v[1:] + v[:-1]), axis=0)]
    ) * (h / m)
    a, b = m // 6, 5 * m // 6
    base = np.arange(n) * m
    return (
        fine[::m],
        h,
        (cum[base + a] - cum[base]) / (a * h / m),
        (cum[base + b] - cum[base + a]) / ((b - a) * h / m),
        (cum[base + m] - cum[base + b]) / ((m - b) * h / m),
    )


def _rk4_scalar(
    y: np.ndarray,
    e_start: np.ndarray,
    e_mid: np.ndarray,
    e_end: np.ndarray,
    h: float,
    p: FribergParameters,
) -> tuple[np.ndarray, np.ndarray]:
    """The RK4 loop of :func:`simulate` for one patient (scalar parameters) on Python floats:
    the arithmetic of :func:`_rhs` term by term, about 20x faster than the array path."""
    ktr = float(p.ktr)
    base = float(p.baseline)
    gam = float(p.gamma)
    hh = 0.5 * h
    h6 = h / 6.0
    n = e_start.size
    out = np.empty(n + 1)
    y0, y1, y2, y3, y4 = (float(v) for v in y)
    out[0] = y4
    es, em_, ee = e_start.tolist(), e_mid.tolist(), e_end.tolist()

    for i in range(n):
        e0, em, e1 = es[i], em_[i], ee[i]
        # k1..k4 as _rhs: prol' = ktr prol (1 - E) fb - ktr prol, transit' = ktr (upstream - x)
        fb = (base / max(y4, 1e-12)) ** gam
        a0 = ktr * y0 * (1.0 - e0) * fb - ktr * y0
        a1, a2, a3, a4 = ktr * (y0 - y1), ktr * (y1 - y2), ktr * (y2 - y3), ktr * (y3 - y4)
        u0, u1, u2, u3, u4 = y0 + hh * a0, y1 + hh * a1, y2 + hh * a2, y3 + hh * a3, y4 + hh * a4
        fb = (base / max(u4, 1e-12)) ** gam
        b0 = ktr * u0 * (1.0 - em) * fb - ktr * u0
        b1, b2, b3, b4 = ktr * (u0 - u1), ktr * (u1 - u2), ktr * (u2 - u3), ktr * (u3 - u4)
        u0, u1, u2, u3, u4 = y0 + hh * b0, y1 + hh * b1, y2 + hh * b2, y3 + hh * b3, y4 + hh * b4
        fb = (base / max(u4, 1e-12)) ** gam
        c0 = ktr * u0 * (1.0 - em) * fb - ktr * u0
        c1, c2, c3, c4 = ktr * (u0 - u1), ktr * (u1 - u2), ktr * (u2 - u3), ktr * (u3 - u4)
        u0, u1, u2, u3, u4 = y0 + h * c0, y1 + h * c1, y2 + h * c2, y3 + h * c3, y4 + h * c4
        fb = (base / max(u4, 1e-12)) ** gam
        d0 = ktr * u0 * (1.0 - e1) * fb - ktr * u0
        d1, d2, d3, d4 = ktr * (u0 - u1), ktr * (u1 - u2), ktr * (u2 - u3), ktr * (u3 - u4)
        y0 = y0 + h6 * (a0 + 2 * b0 + 2 * c0 + d0)
        y1 = y1 + h6 * (a1 + 2 * b1 + 2 * c1 + d1)
        y2 = y2 + h6 * (a2 + 2 * b2 + 2 * c2 + d2)
        y3 = y3 + h6 * (a3 + 2 * b3 + 2 * c3 + d3)
        y4 = y4 + h6 * (a4 + 2 * b4 + 2 * c4 + d4)
        out[i + 1] = y4
    return out, np.array([y0, y1, y2, y3, y4])


def simulate_reference(
    effect: Callable[[float], float] | None,
    p: FribergParameters,
    start_h: float,
    end_h: float,
    times_h: np.ndarray,
    max_step_h: float = 0.25,
) -> np.ndarray:
    """The same system with :func:`scipy.integrate.solve_ivp` (LSODA, rtol 1e-9): circulating
    counts at `times_h`, for one patient (scalar parameters). The reference for the tests."""
    from scipy.integrate import solve_ivp  # deferred: scipy.integrate costs import time

    scalar = replace(p, mtt_h=float(p.mtt_h), gamma=float(p.gamma), baseline=float(p.baseline))

    def f(t: float, y: np.ndarray) -> np.ndarray:
        e = 0.0 if effect is None else min(float(effect(t)), 1.0)
        return _rhs(y, e, scalar)

    sol = solve_ivp(
        f,
        (start_h, end_h),
        steady_state(scalar),
        method="LSODA",
        t_eval=np.asarray(times_h, dtype=float),
        rtol=1e-9,
        atol=1e-10,
        max_step=max_step_h,
    )
    if not sol.success:
        raise InvalidInputError(f"simulate_reference(): solve_ivp failed: {sol.message}")
    return np.asarray(sol.y[4])


def recent_doses(
    drug: str | pk.PKModel,
    doses: Sequence[DoseTuple],
    since_h: float,
    window_h: float | None = None,
) -> list[DoseTuple]:
    """The doses of `doses` that can still contribute to the concentration at times >=
    `since_h`: those given within 64 of the model's slowest half-lives (disposition or
    absorption) plus the largest absorption lag and 48 h for infusions before it. The dropped
    doses' share is below 2^-64 of what they gave at their peak, so the concentrations are
    unchanged to rounding, while the superposition no longer grows with the number of cycles.
    `window_h`: :func:`recent_window` of `drug` when the caller keeps it (the same value)."""
    window = recent_window(drug) if window_h is None else window_h
    return [d for d in doses if d[0] >= since_h - window]


def recent_window(drug: str | pk.PKModel) -> float:
    """How far back (h) :func:`recent_doses` keeps doses for `drug` (a name or a model)."""
    m = pk.model(drug)
    lam, _ = pk.exponentials(m.disposition)
    rates = [float(x) for x in lam] + [float(a.ka) for a in m.absorption.values()]
    lag = max((float(a.tlag) for a in m.absorption.values()), default=0.0)
    return 64.0 * math.log(2) / min(rates) + lag + 48.0


def linear_effect(
    doses_by_drug: Mapping[str, Sequence[DoseTuple]],
    lineage: str = "neutrophils",
    models: Mapping[str, pk.PKModel] | None = None,
    slope_scale: Any = 1.0,
    cache: dict[Any, np.ndarray] | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """``E(t) = slope_scale * sum_d slope_d C_d(t)`` over the drugs of `doses_by_drug` that have
    a curated effect on `lineage` (others contribute nothing). `cache`: as
    :func:`concentration_mg_l`'s."""
    parts = []
    known = set(effect_drugs(lineage))
    for drug, doses in doses_by_drug.items():
        if drug not in known or not doses:
            continue
        slope = drug_effect(drug, lineage).slope
        m = (models or {}).get(drug, drug)
        parts.append((slope, m, list(doses)))

    def e(times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        total = np.zeros_like(t)
        for slope, m, doses in parts:
            total = total + slope * concentration_mg_l(m, doses, t, cache)
        scale = np.asarray(slope_scale, dtype=float)
        return total if scale.ndim == 0 and scale == 1.0 else np.multiply.outer(total, scale)

    return e


def linear_effect_batch(
    doses_by_drug: Sequence[Mapping[str, Sequence[DoseTuple]]],
    lineage: str = "neutrophils",
    models: Sequence[Mapping[str, pk.PKModel] | None] | None = None,
    slope_scale: Sequence[float] | None = None,
    caches: Sequence[dict[Any, np.ndarray] | None] | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`linear_effect` for several patients (one mapping, models, scalar slope scale and
    cache each): ``E(times)`` of shape (n_times, n_patients), column k equal to patient k's
    ``linear_effect(...)(times)`` bit for bit (the concentrations of patients with doses on
    the same grid offsets are superposed together, :func:`concentration_mg_l_batch`)."""
    n = len(doses_by_drug)
    known = set(effect_drugs(lineage))
    mods = list(models) if models is not None else [None] * n
    cch = list(caches) if caches is not None else [None] * n
    scale = np.ones(n) if slope_scale is None else np.asarray(slope_scale, dtype=float)
    order = list(dict.fromkeys(d for m in doses_by_drug for d in m if d in known))
    parts = []
    for drug in order:
        rows = [i for i in range(n) if doses_by_drug[i].get(drug)]
        if rows:
            parts.append(
                (
                    drug_effect(drug, lineage).slope,
                    rows,
                    [(mods[i] or {}).get(drug, drug) for i in rows],
                    [list(doses_by_drug[i][drug]) for i in rows],
                )
            )

    def e(times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        total = np.zeros((n, t.size))
        for slope, rows, ms_, doses in parts:
            c = concentration_mg_l_batch(ms_, doses, t, [cch[i] for i in rows])
            total[rows] = total[rows] + slope * c
        # a scale of 1 leaves a patient's effect as it is (x * 1.0 == x)
        return np.ascontiguousarray((total * scale[:, None]).T)

    return e


def schedule_doses(
    dose_mg: float, days: Sequence[int], cycle_days: int, cycles: int, route: str = "oral"
) -> list[DoseTuple]:
    """``(time_h, mg, route)`` doses on `days` (1-based) of `cycles` cycles of `cycle_days`."""
    return [
        (24.0 * (c * cycle_days + d - 1), float(dose_mg), route)
        for c in range(cycles)
        for d in days
    ]


def lowest_count(
    drug: str,
    slope: float,
    doses: Sequence[DoseTuple],
    end_h: float,
    p: FribergParameters | None = None,
    dt_h: float = 1.0,
) -> tuple[float, float]:
    """Lowest circulating count and its time (h) with `drug` given as `doses` at `slope`."""
    p = p or parameters()
    cache: dict[tuple[float, float, int], np.ndarray] = {}

    def e(t: np.ndarray) -> np.ndarray:
        key = (float(t[0]), float(t[-1]), len(t))
        if key not in cache:
            cache[key] = concentration_mg_l(drug, doses, t)
        return slope * cache[key]

    t, circ, _ = simulate(e, p, 0.0, end_h, dt_h=dt_h)
    i = int(np.argmin(circ))
    return float(circ[i]), float(t[i])


def _parse_days(spec: Any) -> list[int]:
    if isinstance(spec, str) and "-" in spec:
        a, b = spec.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in spec]


def derive_slope(drug: str = "lenalidomide", lineage: str = "neutrophils") -> float:
    """Re-derive a ``basis = "derived"`` slope from its `derivation` record: the slope at which
    the typical patient's lowest count over the stated schedule equals `target_nadir`
    (bisection on log slope)."""
    rec = drug_effect(drug, lineage)
    d = rec.derivation
    if rec.basis != "derived" or not d:
        raise InvalidInputError(f"derive_slope(): {drug} {lineage} slope is not derived")
    doses = schedule_doses(
        float(d["dose_mg"]), _parse_days(d["days"]), int(d["cycle_days"]), int(d["cycles"])
    )
    end = 24.0 * int(d["cycle_days"]) * int(d["cycles"])
    target = float(d["target_nadir"])
    p = parameters(lineage)
    n = int(round(end / _DERIVE_DT))
    conc = concentration_mg_l(drug, doses, np.arange(n * _SUB + 1) * (_DERIVE_DT / _SUB))
    lo, hi = 1e-2, 1e2

    def scaled(factor: float) -> Callable[[np.ndarray], np.ndarray]:
        return lambda _t: factor * conc

    for _ in range(26):
        mid = math.sqrt(lo * hi)
        _t, circ, _y = simulate(scaled(mid), p, 0.0, end, dt_h=_DERIVE_DT)
        low = float(np.min(circ))
        if low > target:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def population_nadirs(
    drug: str,
    doses: Sequence[DoseTuple],
    end_h: float,
    n: int = 200,
    seed: int = 0,
    lineage: str = "neutrophils",
    dt_h: float = 2.0,
) -> dict[str, np.ndarray]:
    """Lowest count and the time of the first grade >= 3 count (h; nan when none) for `n`
    virtual patients: log-normal spread of baseline and drug slope with the curated variances
    (``iiv_baseline_var``, ``iiv_slope_var``), all patients integrated at once."""
    s = toxicity_data().systems[lineage]
    rng = np.random.default_rng(seed)
    base = s.baseline * np.exp(rng.normal(0.0, math.sqrt(s.iiv_baseline_var), n))
    scale = np.exp(rng.normal(0.0, math.sqrt(s.iiv_slope_var), n))
    slope = drug_effect(drug, lineage).slope
    p = FribergParameters(s.mtt_h, s.gamma, base)

    def e(t: np.ndarray) -> np.ndarray:
        return np.multiply.outer(slope * concentration_mg_l(drug, doses, t), scale)

    t, circ, _ = simulate(e, p, 0.0, end_h, dt_h=dt_h)
    threshold = toxicity_data().grades["anc"].grade3_below
    below = circ < threshold
    first = np.where(below.any(axis=0), t[np.argmax(below, axis=0)], np.nan)
    return {"nadir": circ.min(axis=0), "first_grade3_h": first, "baseline": base}
