"""Per-patient exposure for :func:`mmmech.dynamics.simulate_cohort`: PK random effects (etas),
the doses actually given and a renal lenalidomide clearance, per patient.

Patients with a PK model of their own get their own concentration courses: each patient's
single-dose course per route, shifted to its dose times and scaled by the amounts, superposed
for all patients of a chunk at once by FFT (:func:`_own_courses`). Patients without stay on the
shared per-body cache of ``cohort.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import _kernels
from .. import pk as _pk
from .._kernels import _superpose_ref
from ..exceptions import InvalidInputError
from ..regimens.schedule import BASE_UNIT, DoseEvent, PlanTemplate, dose_plan, planned_events
from .kinetics import interval_means
from .regimen import (
    _RENAL_CRCL,
    PK_ROUTES,
    _conc_matrix,
    _dose_events,
    _doses,
    _has_pk,
    _pk_doses,
    _pk_model,
)


def _fft_superpose(
    dose: np.ndarray, unit: np.ndarray, which: np.ndarray | None = None
) -> np.ndarray:
    """Row by row, the causal convolution ``out[i] = sum_q dose[q] * unit[i - q]`` (a unit
    course shifted to every dose and scaled by its amount) by FFT, clipped at 0 (rounding).
    `which`: row i uses ``dose[which[i]]`` (patients with the same doses share one transform;
    a row's transform does not depend on the other rows, so the same bits)."""
    T = unit.shape[1]
    nfft = 1 << (2 * T - 1).bit_length()
    # the product written as one expression on a fresh left operand, as before: NumPy may then
    # multiply in place (temporary elision), and its in-place complex multiply can round
    # differently from the out-of-place one, so this form keeps the former bits
    if which is None:
        prod = np.fft.rfft(dose, nfft) * np.fft.rfft(unit, nfft)
    else:
        fd = np.fft.rfft(dose, nfft)
        prod = fd[which] * np.fft.rfft(unit, nfft)
    out = np.fft.irfft(prod, nfft)[:, :T]
    return np.maximum(out, 0.0)


#: a (patient, route) course is superposed directly (each dose's shifted unit course added, the
#: compiled ``_superpose.shift_add``) when its doses x grid points are at most this many times
#: ``nfft log2(nfft)``, else by FFT. Measured (2026-12-01, 100 rows, load 3): the FFT costs
#: 0.6-0.8 ns x nfft log2(nfft) per row, the direct sum 0.09-0.12 ns per dose and grid point
#: (VRd's 32 bortezomib doses on the 15-min grid of 336 days: 111 vs 741 us per row; 252
#: lenalidomide doses on the 1-h grid: 178 vs 182 us). 0 turns the direct path off (all FFT,
#: the former bits).
DIRECT_COST = 6.0


def _direct_ok(n_doses: int, n_out: int, nfft: int) -> bool:
    """Whether `n_doses` doses on a grid of `n_out` points are superposed directly (cheaper than
    the FFT of length `nfft`; :data:`DIRECT_COST`)."""
    return n_doses * n_out <= DIRECT_COST * nfft * math.log2(nfft)


def _shift_add(
    out: np.ndarray, units: np.ndarray, route: np.ndarray, shifts: np.ndarray, amounts: np.ndarray
) -> None:
    """``out[..., q:] += a * units[route][:T - q]`` for every dose (route, offset q, amount a)
    in dose order: the compiled ``_superpose.shift_add``, or its NumPy reference when it is not
    built (the same bits)."""
    args = (
        out,
        np.ascontiguousarray(units, dtype=float),
        np.ascontiguousarray(route, dtype=np.int64),
        np.ascontiguousarray(shifts, dtype=np.int64),
        np.ascontiguousarray(amounts, dtype=float),
    )
    if _kernels.available("_superpose"):
        _kernels.load("_superpose").shift_add(*args)
    else:
        _superpose_ref.shift_add(*args)


def _grid_shifts(mine: list[Any], step_h: float) -> np.ndarray | None:
    """The doses' offsets on a grid of `step_h` hours from the first dose (``(day - 1) * 24 /
    step_h``, dose by dose), or None when one is off the grid by more than 1e-9."""
    q = (np.array([e.day for e in mine], dtype=float) - 1.0) * 24.0 / step_h
    whole = np.rint(q)
    if bool(np.any(np.abs(q - whole) > 1e-9)):
        return None
    return whole.astype(np.int64)


def _own_courses(
    drug: str,
    events: Sequence[list[Any]],
    models: Sequence[Any],
    n_out: int,
    dt_h: float,
    unit_fn: Any,
    direct_fn: Any,
) -> np.ndarray:
    """Concentration courses (n x `n_out`) of `drug` for patients with a PK model of their own
    (`models`: etas, a renal clearance) and their own dose `events`: on a uniform grid of step
    `dt_h` from the first dose, each patient's single-dose course per route (``unit_fn(model,
    event)``) shifted to its dose times and scaled by the amounts (a held dose is absent, a
    reduced one smaller): added directly, dose by dose, where that is cheaper
    (:func:`_direct_ok`), the other patients' superposed at once by FFT. A patient
    whose model is nonlinear (saturable or target-mediated elimination, a time-varying
    clearance: a 1-mg single dose of daratumumab is almost all taken by the target sink, so a
    superposition of scaled unit courses is far too low), whose model does not cover a route,
    who has a dose off the grid, or (fine grid) has no exact interval means gets
    ``direct_fn(i, model, doses)`` (the PK engine on all doses)."""
    n = len(events)
    out = np.zeros((n, n_out))
    nfft = 1 << (2 * n_out - 1).bit_length()
    rows: dict[str, list[int]] = {}
    units: dict[str, list[np.ndarray]] = {}
    doses: dict[str, list[np.ndarray]] = {}  # per route, each distinct dose vector once
    dose_idx: dict[str, list[int]] = {}  # per route and row, its dose vector
    dose_of: dict[Any, int] = {}
    for i, (ev, m) in enumerate(zip(events, models, strict=True)):
        mine = [e for e in ev if e.drug == drug]
        if not mine:
            continue
        offs = _grid_shifts(mine, dt_h)  # None: a dose off the grid
        routes = [e.route for e in mine]
        first = dict(zip(reversed(routes), reversed(mine), strict=True))  # route -> first dose
        order = list(dict.fromkeys(routes))
        if not m.linear or any(PK_ROUTES.get(r, r) not in m.routes for r in order) or offs is None:
            out[i] = direct_fn(i, m, mine)
            continue
        mine_units: dict[str, np.ndarray] = {}
        for r in order:
            u = unit_fn(m, first[r]._replace(day=1, amount=1.0))
            if u is None:
                break
            mine_units[r] = u
        else:
            amounts = np.array([e.amount for e in mine], dtype=float)
            route_arr = np.array(routes, dtype=object)
            for r, u in mine_units.items():
                on = (route_arr == r) & (offs < n_out)
                if _direct_ok(int(on.sum()), n_out, nfft):
                    # few doses: each shifted unit course added in dose order (no FFT
                    # rounding; this row's course alone, as with the FFT), clipped at 0 as the
                    # FFT's (a fine-grid unit course of interval means can hold -1e-12 nM)
                    vec = np.zeros(n_out)
                    k = int(on.sum())
                    _shift_add(vec, u[None, :], np.zeros(k), offs[on], amounts[on])
                    out[i] += np.maximum(vec, 0.0)
                    continue
                key = (r, offs[on].tobytes(), amounts[on].tobytes())
                if key not in dose_of:
                    vec = np.zeros(n_out)
                    # in dose order, as one += per dose (repeated offsets accumulate in order)
                    np.add.at(vec, offs[on], amounts[on])
                    dose_of[key] = len(doses.setdefault(r, []))
                    doses[r].append(vec)
                rows.setdefault(r, []).append(i)
                units.setdefault(r, []).append(u)
                dose_idx.setdefault(r, []).append(dose_of[key])
            continue
        out[i] = direct_fn(i, m, mine)
    block = max(1, (1 << 22) // nfft)  # about 64 MB per complex array
    for r, idx in rows.items():
        for a in range(0, len(idx), block):
            sel = idx[a : a + block]
            used, which = np.unique(np.asarray(dose_idx[r][a : a + block]), return_inverse=True)
            out[sel] += _fft_superpose(
                np.stack([doses[r][k] for k in used.tolist()]),
                np.stack(units[r][a : a + block]),
                which.reshape(-1),
            )
    return out


def _own_model(drug: str, cov: dict[str, float], etas: Mapping[str, float] | None) -> Any:
    """A patient's PK model of `drug`: body covariates (and a renal clearance) as
    :func:`mmmech.dynamics.regimen._pk_model`, then the patient's etas."""
    m = _pk_model(drug, cov)
    return _pk.with_etas(m, etas) if etas else m


def _own_sub(
    drug: str,
    events: Sequence[list[Any]],
    covs: Sequence[dict[str, float]],
    etas: Sequence[Mapping[str, float] | None],
    times_h: np.ndarray,
    grid_h: float,
    no_pk: str,
    notes: list[str],
) -> np.ndarray:
    """Concentrations (nM) at `times_h` (the substep grid ``(i + 0.5) * grid_h``) of patients
    with their own PK model (:func:`_own_courses`)."""
    models = [_own_model(drug, c, e) for c, e in zip(covs, etas, strict=True)]

    def unit(m: Any, e: Any) -> np.ndarray:
        return np.asarray(_pk.concentration(m, _pk_doses(m, [e]), times_h, unit="nM"), float)

    def direct(i: int, m: Any, mine: list[Any]) -> np.ndarray:
        if all(PK_ROUTES.get(e.route, e.route) in m.routes for e in mine):
            return np.asarray(_pk.concentration(m, _pk_doses(m, mine), times_h, unit="nM"), float)
        return _conc_matrix(drug, mine, times_h, no_pk, covs[i], notes)

    return _own_courses(drug, events, models, times_h.size, grid_h, unit, direct)


def _own_fine(
    drug: str,
    events: Sequence[list[Any]],
    covs: Sequence[dict[str, float]],
    etas: Sequence[Mapping[str, float] | None],
    edges_h: np.ndarray,
    no_pk: str,
) -> np.ndarray:
    """Interval-mean concentrations (nM) on the uniform grid `edges_h` of patients with their
    own PK model (as :func:`_fine_cached` for the others)."""
    models = [_own_model(drug, c, e) for c, e in zip(covs, etas, strict=True)]
    mid = 0.5 * (edges_h[1:] + edges_h[:-1])

    def unit(m: Any, e: Any) -> np.ndarray | None:
        return interval_means(m, _pk_doses(m, [e]), edges_h)

    def direct(i: int, m: Any, mine: list[Any]) -> np.ndarray:
        if all(PK_ROUTES.get(e.route, e.route) in m.routes for e in mine):
            out = interval_means(m, _pk_doses(m, mine), edges_h)
            if out is None:
                out = _pk.concentration(m, _pk_doses(m, mine), mid, unit="nM")
            return np.asarray(out, dtype=float)
        return _conc_matrix(drug, mine, mid, no_pk, covs[i], [])

    dh = float(edges_h[1] - edges_h[0])
    return _own_courses(drug, events, models, edges_h.size - 1, dh, unit, direct)


def _patient_pk_args(
    P: int,
    doses: Sequence[Sequence[Any] | None] | None,
    pk_etas: Sequence[Mapping[str, Mapping[str, float]] | None] | None,
    renal_crcl: Sequence[float | None] | None,
    it: Any,
    func: str,
) -> tuple[list[Any] | None, list[dict[str, dict[str, float]]] | None, list[float | None] | None]:
    """`doses`, `pk_etas` and `renal_crcl` of :func:`simulate_cohort` checked (one entry per
    body; None: not used)."""

    def per_body(x: Any, name: str, what: str) -> list[Any] | None:
        if x is None:
            return None
        if isinstance(x, (str, bytes, Mapping)) or not isinstance(x, Sequence) or len(x) != P:
            raise InvalidInputError(
                f"{func}(): {name} must be a sequence of one {what} per body ({P}), got "
                f"{type(x).__name__}" + (f" of length {len(x)}" if isinstance(x, Sequence) else "")
            )
        return list(x)

    d = per_body(doses, "doses", "list of DoseEvent (or None)")
    if d is not None:
        d = [None if x is None else list(_dose_events(x, it.regimen, func)) for x in d]
    e = per_body(pk_etas, "pk_etas", "mapping {drug: {parameter: eta}} (or None)")
    if e is not None:
        checked: list[dict[str, dict[str, float]]] = []
        for x in e:
            if x is not None and not isinstance(x, Mapping):
                raise InvalidInputError(
                    f"{func}(): each entry of pk_etas must be a mapping {{drug: {{parameter: "
                    f"eta}}}} or None, got {type(x).__name__}"
                )
            checked.append({str(k): dict(v) for k, v in (x or {}).items()})
        e = checked
    r = per_body(renal_crcl, "renal_crcl", "creatinine clearance in mL/min (or None)")
    if r is not None:
        for v in r:
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < math.inf)
            ):
                raise InvalidInputError(
                    f"{func}(): renal_crcl must hold numbers > 0 (mL/min) or None, got {v!r}"
                )
    return d, e, r


def _patient_pk(
    it: Any,
    n: int,
    b: Any,
    p: int,
    own_doses: list[Any] | None,
    own_etas: list[dict[str, dict[str, float]]] | None,
    own_crcl: list[float | None] | None,
    plans: dict[Any, list[tuple[Any, ...]]] | None = None,
    own_cov: list[dict[str, float] | None] | None = None,
) -> tuple[list[Any], dict[str, float], set[str]]:
    """Patient `p`'s dose events, PK covariates and the drugs whose PK is the patient's own
    (etas, or lenalidomide with a renal clearance): these are not shared between bodies.
    `plans`: a dict the caller keeps across patients (the regimen's
    :func:`~mmmech.regimens.schedule.dose_plan`, so a body's events need no expansion of their
    own; the same events)."""
    if own_doses is None or own_doses[p] is None:
        events = None
        if plans is not None and it.doses is None:
            key = (id(it.regimen), n)
            if key not in plans:
                plans[key] = dose_plan(it.regimen, n)
            events = planned_events(plans[key], b.known)
        ev = _doses(it, n, b, events)
    else:
        ev = own_doses[p]
    cov = dict(b.known)
    extra = own_cov[p] if own_cov is not None else None
    if extra:
        cov.update(extra)  # the patient's own PK covariates (e.g. non_igg_myeloma)
    mine = set(own_etas[p]) if own_etas is not None else set()
    if own_crcl is not None and own_crcl[p] is not None:
        cov[_RENAL_CRCL] = float(own_crcl[p])  # type: ignore[arg-type]
        mine.add("lenalidomide")
    return ev, cov, {d for d in mine if _has_pk(d)}


class ChunkDoses:
    """The doses of a cohort chunk's rows as arrays, per drug in groups of rows with the same
    dose days and routes: ``groups[drug]`` is a list of ``(days, routes, rows, amounts)``
    (days and routes shared by the group's chunk `rows`, in event order; `amounts` mg, rows x
    doses). Built by :func:`_chunk_pk` from the events it makes, so the same numbers."""

    def __init__(self) -> None:
        self.groups: dict[str, list[tuple[np.ndarray, list[str], list[int], np.ndarray]]] = {}
        self._open: dict[tuple[str, bytes, tuple[str, ...]], tuple[list[int], list[Any]]] = {}

    def add(
        self, drug: str, days: np.ndarray, routes: list[str], rows: list[int], amounts: Any
    ) -> None:
        """Rows `rows` (with `amounts`, rows x doses) to the group of `drug`, `days`, `routes`."""
        key = (drug, np.asarray(days, dtype=np.int64).tobytes(), tuple(routes))
        if key not in self._open:
            self._open[key] = ([], [])
        self._open[key][0].extend(rows)
        self._open[key][1].append(np.asarray(amounts, dtype=float).reshape(len(rows), -1))

    def close(self) -> ChunkDoses:
        """The groups made from what was added (call once, after the last :meth:`add`)."""
        for (drug, days, routes), (rows, amounts) in self._open.items():
            self.groups.setdefault(drug, []).append(
                (np.frombuffer(days, dtype=np.int64), list(routes), rows, np.concatenate(amounts))
            )
        self._open = {}
        return self


def _variant_template(it: Any, n: int, plans: dict[Any, Any]) -> Any:
    """The regimen variant's planned events for any body, prepared once per cohort (kept in
    `plans`): ``(template, events, dep)``: the variant's events (drugs dropped, doses scaled,
    as :func:`mmmech.dynamics.regimen._doses` does) with None where the dose depends on the body,
    and per such position ``(position, scaled index, factor, day, drug, unit, route)``."""
    key = ("template", id(it.regimen), n)
    if key not in plans:
        pkey = (id(it.regimen), n)
        if pkey not in plans:
            plans[pkey] = dose_plan(it.regimen, n)
        tmpl = PlanTemplate(plans[pkey])
        events: list[Any] = []
        dep: list[tuple[int, int, float, int, str, str, str]] = []
        j = 0
        for i, (day, drug, _, unit, _, route) in enumerate(tmpl.plan):
            fixed = tmpl.fixed[i]
            if drug in it.drop:
                j += fixed is None
                continue
            f = it.dose_scale.get(drug, 1.0)
            if fixed is None:
                dep.append((len(events), j, f, day, drug, BASE_UNIT[unit], route))
                events.append(None)
                j += 1
            elif f == 1.0 and type(fixed.amount) is float:
                events.append(fixed)
            else:
                events.append(fixed._replace(amount=fixed.amount * f))
        plans[key] = (tmpl, events, dep)
    return plans[key]


def _chunk_pk(
    it: Any,
    n: int,
    bodies: Sequence[Any],
    rows: np.ndarray,
    own_doses: list[Any] | None,
    own_etas: list[dict[str, dict[str, float]]] | None,
    own_crcl: list[float | None] | None,
    plans: dict[Any, Any],
    own_cov: list[dict[str, float] | None] | None,
    drugs: Sequence[str],
) -> tuple[
    list[tuple[list[Any], dict[str, float]]], list[set[str]], dict[str, list[int]], ChunkDoses
]:
    """:func:`_patient_pk` for every row of a chunk (``bodies[rows[r]]``): ``(kin_in, mine_of,
    own, doses)``, the rows' ``(events, covariates)``, own-PK drugs, the rows per own-PK drug,
    and the planned doses as arrays (:class:`ChunkDoses`). A row with the regimen's planned
    doses gets its events from the variant's template (:func:`_variant_template`: the
    body-independent events made once and shared, the per-m2 / per-kg ones made per body;
    the same events as :func:`_patient_pk`, a test checks); other rows through
    :func:`_patient_pk`."""
    kin_in: list[tuple[list[Any], dict[str, float]]] = []
    mine_of: list[set[str]] = []
    own: dict[str, list[int]] = {}
    cd = ChunkDoses()
    tmpl, events, dep = _variant_template(it, n, plans) if it.doses is None else (None, [], [])
    dep_rows: list[list[float]] = []
    t_rows: list[int] = []  # the rows with the template's doses
    for r in range(rows.size):
        p = int(rows[r])
        b = bodies[p]
        known = b.known
        amounts = None
        if tmpl is not None and (own_doses is None or own_doses[p] is None):
            amounts = tmpl.amounts(known)
        if amounts is None:
            ev, cov, mine = _patient_pk(it, n, b, p, own_doses, own_etas, own_crcl, plans, own_cov)
            for d in drugs:
                if d in mine:
                    continue
                evs = [e for e in ev if e.drug == d]
                days = np.array([e.day for e in evs], dtype=np.int64)
                if evs and not bool(np.any(np.diff(days) < 0)):
                    cd.add(d, days, [e.route for e in evs], [r], [[e.amount for e in evs]])
        else:
            ev = list(events)
            fin = []
            for pos, j, f, day, drug, unit, route in dep:
                a = amounts[j]
                if not (f == 1.0 and type(a) is float):
                    a = a * f
                ev[pos] = DoseEvent(day, drug, a, unit, route)
                fin.append(a)
            t_rows.append(r)
            dep_rows.append(fin)
            cov = dict(known)
            extra = own_cov[p] if own_cov is not None else None
            if extra:
                cov.update(extra)
            mine = set(own_etas[p]) if own_etas is not None else set()
            if own_crcl is not None and own_crcl[p] is not None:
                cov[_RENAL_CRCL] = float(own_crcl[p])  # type: ignore[arg-type]
                mine.add("lenalidomide")
            mine = {d for d in mine if _has_pk(d)}
        kin_in.append((ev, cov))
        mine_of.append(mine)
        for d in drugs:
            if d in mine:
                own.setdefault(d, []).append(r)
    if t_rows:
        dep_a = np.asarray(dep_rows, dtype=float).reshape(len(t_rows), len(dep))
        dep_at = {pos: k for k, (pos, *_) in enumerate(dep)}
        for d in drugs:
            at = [
                i
                for i in range(len(events))
                if (events[i] is not None and events[i].drug == d)
                or (i in dep_at and dep[dep_at[i]][4] == d)
            ]
            if not at:
                continue
            amt = np.empty((len(t_rows), len(at)))
            days = np.empty(len(at), dtype=np.int64)
            routes: list[str] = []
            for c, i in enumerate(at):
                if i in dep_at:
                    k = dep_at[i]
                    amt[:, c] = dep_a[:, k]
                    days[c] = dep[k][3]
                    routes.append(dep[k][6])
                else:
                    amt[:, c] = float(events[i].amount)
                    days[c] = events[i].day
                    routes.append(events[i].route)
            own_d = set(own.get(d, ()))
            keep = [k for k, r in enumerate(t_rows) if r not in own_d]
            if keep and not bool(np.any(np.diff(days) < 0)):
                cd.add(d, days, routes, [t_rows[k] for k in keep], amt[keep])
    return kin_in, mine_of, own, cd.close()
