"""Virtual-patient cohorts: one regimen, many bodies, arrays out (the fast path of issue 16).

:func:`simulate_cohort` runs the pipeline of :func:`mmmech.dynamics.simulate_regimens`
(doses -> PK concentrations -> step-averaged occupancies -> the batched network kernel ->
tumour and M-protein -> IMWG) for N patients who differ in body size (and so in their doses
per m2/kg and their PK covariates), with the same numbers as ``simulate_regimens`` (a test
checks they agree), but built for thousands of patients:

- patients are processed in chunks (``chunk``, default 2,000), so memory stays bounded: the
  occupancies are formed one time step at a time for the chunk, never as a (patients x steps x
  substeps x nodes) array (47 GB for 10,000 patients x 12 cycles of VRd);
- only the readouts the tumour model needs are kept, no per-patient DataFrame, no first-cycle
  exposure metrics; IMWG is classified per patient on the M-protein arrays.

Returns a :class:`CohortResult` of NumPy arrays, with the wall time of each stage (``seconds``).
"""

from __future__ import annotations

import bisect
import hashlib
import math
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _kernels
from .. import pk as _pk
from .. import regimens as _regimens
from ..exceptions import ConvergenceError, InvalidInputError
from ..pk import batch as _pk_batch
from ..simulation import propagate
from ..simulation.occupancy import occupancy
from ..simulation.simulator import Simulator, _level_overrides
from ..utils import did_you_mean
from . import _lanes
from ._course import COURSE_REUSE_TOL, network_course, periodic_course
from ._exposure import (
    ChunkDoses,
    _chunk_pk,
    _grid_shifts,
    _own_fine,
    _own_sub,
    _patient_pk_args,
)
from ._exposure import _shift_add as _kernel_shift_add
from ._tumour_course import readout_course
from .imwg import classify_many
from .kinetics import kinetic_columns, step_mean_occupancy
from .regimen import (
    HOURS_PER_MODEL_TIME,
    KINETIC_DT_H,
    PK_ROUTES,
    REFERENCE_BODY,
    _agent_scales,
    _body,
    _check_course_args,
    _check_int,
    _conc_intervals,
    _conc_matrix,
    _has_pk,
    _horizon_days,
    _item,
    _pk_model,
    _total_cycles,
)
from .resistance import patient_resistance, scale_resistance
from .tumour import HALF_LIVES, TumourModel

__all__ = ["CohortResult", "simulate_cohort"]


def _pk_covariates(
    values: Sequence[Mapping[str, float] | None] | None, n: int, func: str
) -> list[dict[str, float] | None] | None:
    """`pk_covariates` of :func:`simulate_cohort` checked: one mapping (or None) per body of
    finite numbers by name; None when not given."""
    if values is None:
        return None
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        raise InvalidInputError(
            f"{func}(): pk_covariates must be a sequence of one mapping (or None) per body, got "
            f"{type(values).__name__}"
        )
    if len(values) != n:
        raise InvalidInputError(
            f"{func}(): pk_covariates must have one entry per body ({n}), got {len(values)}"
        )
    out: list[dict[str, float] | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        if not isinstance(v, Mapping):
            raise InvalidInputError(
                f"{func}(): each pk_covariates entry must be a mapping or None, got "
                f"{type(v).__name__}"
            )
        row: dict[str, float] = {}
        for k, x in v.items():
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise InvalidInputError(
                    f"{func}(): pk_covariates value of {k!r} must be a finite number, got {x!r}"
                )
            row[str(k)] = float(x)
        out.append(row)
    return out


_DEATH = ("apoptosis", "immune_killing")
#: patients per block of the binding-kinetics grid (bounds the memory of the block's fine-grid
#: concentrations: about 6 MB for 12 cycles; 128 before round 9, the same bits: each row is
#: computed on its own; round 11: the occupancy course is fused with its step mean,
#: kinetics.step_mean_occupancy, so the block holds no other fine-grid array)
_KIN_BLOCK = 32
#: patients per block of the step-averaged occupancies without binding kinetics (round 11: a
#: reused buffer of their concentrations, 4.6 MB for 12 cycles of 3 drugs, instead of an array
#: of the whole part, 290 MB for 2,000 patients, paged in afresh for every chunk)
_OCC_BLOCK = 32


def _distinct_rows(spec: np.ndarray, occ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference of :func:`mmmech.dynamics._lanes.distinct_rows` (used before round 11;
    row by row, a hash of each row's bytes). The rows of a chunk with distinct network inputs
    and, for every row, the index of its representative among them. A row's kernel inputs are
    decided by its steady-state spec (the untreated state and held values) and its occupancy
    course; two rows are merged only when both are exactly equal (the bytes compared, not only
    a hash), so the merged rows get the very course they would have got alone (a row's course
    does not depend on the others in the call)."""
    first: dict[tuple[int, bytes], list[int]] = {}
    reps: list[int] = []
    inverse = np.empty(len(spec), dtype=np.int64)
    for r in range(len(spec)):
        row = np.ascontiguousarray(occ[r])
        key = (int(spec[r]), hashlib.blake2b(row.tobytes(), digest_size=16).digest())
        for u in first.get(key, ()):
            if np.array_equal(occ[reps[u]], row):
                inverse[r] = u
                break
        else:
            first.setdefault(key, []).append(len(reps))
            inverse[r] = len(reps)
            reps.append(r)
    return np.asarray(reps, dtype=np.int64), inverse


def _pk_key(drug: str, events: list[Any], covariates: dict[str, float]) -> Any:
    """``(key, amount, linear, doses)`` under which :func:`_pk_cached` keeps `drug`'s course of
    these `events`, or None when it is never cached (no doses, or doses of different amounts)."""
    mine = [e for e in events if e.drug == drug]
    amounts = {e.amount for e in mine}
    if not mine or len(amounts) != 1:
        return None
    a = float(amounts.pop())
    linear = False
    used: tuple[tuple[str, float], ...] = ()
    if _has_pk(drug):
        m = _pk.model(drug)
        numeric = {c.name for c in m.covariates if c.form != "note"}
        used = tuple(sorted((k, float(v)) for k, v in covariates.items() if k in numeric))
        # a nonlinear model (saturable or target-mediated elimination, a time-varying
        # clearance) is neither proportional to the dose nor a sum of shifted single-dose
        # courses: never scaled from the cache or superposed, always the PK engine's own course
        linear = bool(m.linear)
    key = (drug, tuple((e.day, e.route) for e in mine), used, None if linear else a)
    return key, a, linear, mine


def _pk_entry(
    drug: str,
    events: list[Any],
    mine: list[Any],
    times_h: np.ndarray,
    no_pk: str,
    covariates: dict[str, float],
    notes: list[str],
    grid_h: float | None,
    on_grid: bool = False,
) -> np.ndarray:
    """The course :func:`_pk_cached` keeps for a new key (the doses of the row that makes it)."""
    c = _superposed(drug, mine, times_h, covariates, notes, grid_h, on_grid)
    if c is None:
        c = _conc_matrix(drug, events, times_h, no_pk, covariates, notes)
    return c


def _pk_cached(
    cache: dict[Any, tuple[float, np.ndarray]],
    drug: str,
    events: list[Any],
    times_h: np.ndarray,
    no_pk: str,
    covariates: dict[str, float],
    notes: list[str],
    grid_h: float | None = None,
    on_grid: bool = False,
) -> np.ndarray:
    """:func:`mmmech.dynamics.regimen._conc_matrix`, reused between patients with the same
    dosing days and routes and the same PK covariates: the PK models are linear in the dose, so a
    patient whose doses are all `a` mg gets the cached course times ``a / a0``. A drug without a
    PK model (held at its reference exposure) is reused only for identical doses."""
    k = _pk_key(drug, events, covariates)
    if k is None:
        return _conc_matrix(drug, events, times_h, no_pk, covariates, notes)
    key, a, linear, mine = k
    if key not in cache:
        if not (linear and a > 0):
            return _conc_matrix(drug, events, times_h, no_pk, covariates, notes)
        cache[key] = (
            a,
            _pk_entry(drug, events, mine, times_h, no_pk, covariates, notes, grid_h, on_grid),
        )
    a0, c0 = cache[key]
    return c0 if a == a0 else c0 * (a / a0)


def _shift_add(
    out: np.ndarray,
    units: list[np.ndarray],
    mine: list[Any],
    shifts: np.ndarray,
    route_of: dict[str, int],
    amount: float | None = None,
) -> None:
    """``out[q:] += a * unit[route][:T - q]`` for every dose in order
    (:func:`._exposure._shift_add`): `amount` for every dose, or each dose's own."""
    route = np.array([route_of[e.route] for e in mine], dtype=np.int64)
    amounts = (
        np.full(len(mine), float(amount))
        if amount is not None
        else np.array([e.amount for e in mine], dtype=float)
    )
    U = np.stack(units) if len(units) > 1 else units[0][None, :]
    _kernel_shift_add(out, U, route, shifts, amounts)


def _superposed(
    drug: str,
    mine: list[Any],
    times_h: np.ndarray,
    covariates: dict[str, float],
    notes: list[str],
    grid_h: float | None,
    on_grid: bool = False,
) -> np.ndarray | None:
    """The concentration course of `mine` (doses of one PK-modelled drug) as the single-dose
    course of each route shifted to every dose time and scaled by its amount: what the PK
    engine's superposition computes, in O(doses x times) additions instead of exponentials.
    Exact when `times_h` is the grid ``(i + 0.5) * grid_h`` and every dose time is a multiple
    of `grid_h` (then a shifted time is again a grid point); ``None`` otherwise (or when the
    PK model does not cover a route), for the caller to compute directly. `on_grid`: the
    caller has checked that `times_h` is that grid."""
    if grid_h is None or not mine:
        return None
    T = times_h.size
    if not on_grid and not np.allclose(
        times_h, (np.arange(T) + 0.5) * grid_h, rtol=0.0, atol=1e-9 * grid_h
    ):
        return None
    m = _pk_model(drug, covariates)
    if any(PK_ROUTES.get(e.route, e.route) not in m.routes for e in mine):
        return None
    shifts = _grid_shifts(mine, grid_h)
    if shifts is None:
        return None
    route_of: dict[str, int] = {}
    units: list[np.ndarray] = []
    for e in mine:
        if e.route not in route_of:
            route_of[e.route] = len(units)
            units.append(
                _conc_matrix(
                    drug, [e._replace(day=1, amount=1.0)], times_h, "reference", covariates, notes
                )
            )
    out = np.zeros(T)
    _shift_add(out, units, mine, shifts, route_of)
    return out


def _fine_shifts(
    drug: str, mine: list[Any], edges_h: np.ndarray, covariates: dict[str, float]
) -> np.ndarray | None:
    """The grid offsets of `drug`'s doses `mine` on the uniform grid `edges_h` when their
    interval means are a superposition of single-dose courses (a linear PK model covering their
    routes, every dose on the grid); None otherwise (:func:`_fine_key`, :func:`_fine_direct`)."""
    if not mine or not _has_pk(drug):
        return None
    m = _pk_model(drug, covariates)
    if any(PK_ROUTES.get(e.route, e.route) not in m.routes for e in mine) or not m.linear:
        return None
    return _grid_shifts(mine, float(edges_h[1] - edges_h[0]))


def _fine_key(
    drug: str, events: list[Any], edges_h: np.ndarray, covariates: dict[str, float]
) -> Any:
    """``(key, amount, doses, grid offsets)`` under which :func:`_fine_cached` keeps `drug`'s
    interval means of these `events`, or None when they are computed directly (doses of
    different amounts or off the grid, no linear PK model covering the routes)."""
    mine = [e for e in events if e.drug == drug]
    amounts = {e.amount for e in mine}
    if len(amounts) != 1:
        return None
    shifts = _fine_shifts(drug, mine, edges_h, covariates)
    if shifts is None:
        return None
    a = float(amounts.pop())
    dh = float(edges_h[1] - edges_h[0])
    numeric = {c.name for c in _pk.model(drug).covariates if c.form != "note"}
    used = tuple(sorted((k, float(v)) for k, v in covariates.items() if k in numeric))
    key = ("fine", drug, tuple((e.day, e.route) for e in mine), used, edges_h.size, dh)
    return key, a, mine, shifts


def _fine_entry(
    drug: str,
    a: float | None,
    mine: list[Any],
    shifts: np.ndarray,
    edges_h: np.ndarray,
    no_pk: str,
    covariates: dict[str, float],
) -> np.ndarray:
    """The interval means :func:`_fine_cached` keeps for a new key: the single-dose course of
    each route shifted to every dose and scaled by the amount `a` (None: each dose's own),
    added in dose order."""
    route_of: dict[str, int] = {}
    units: list[np.ndarray] = []
    for e in mine:
        if e.route not in route_of:
            route_of[e.route] = len(units)
            one = [e._replace(day=1, amount=1.0)]
            units.append(_conc_intervals(drug, one, edges_h, no_pk, covariates))
    out = np.zeros(edges_h.size - 1)
    _shift_add(out, units, mine, shifts, route_of, amount=a)
    return out


def _fine_cached(
    cache: dict[Any, tuple[float, np.ndarray]],
    drug: str,
    events: list[Any],
    edges_h: np.ndarray,
    no_pk: str,
    covariates: dict[str, float],
) -> np.ndarray:
    """Interval-mean concentrations of `drug` on the uniform grid `edges_h` (from 0), as
    :func:`mmmech.dynamics.regimen._conc_intervals` computes them, reused between patients like
    :func:`_pk_cached`: the mean over interval i of a dose given at the start of interval q is the
    single-dose course's mean over interval i - q (the PK models are linear and time-invariant),
    so a patient's course is the single-dose course shifted to each dose and scaled by its
    amount. Falls back to the direct computation when a dose time is off the grid, the doses
    differ in amount, or the drug has no linear PK model covering its routes."""
    k = _fine_key(drug, events, edges_h, covariates)
    if k is None:
        return _fine_direct(drug, events, edges_h, no_pk, covariates)
    key, a, mine, shifts = k
    if key not in cache:
        cache[key] = (a, _fine_entry(drug, a, mine, shifts, edges_h, no_pk, covariates))
    a0, c0 = cache[key]
    return c0 if a == a0 else c0 * (a / a0)


def _fine_direct(
    drug: str, events: list[Any], edges_h: np.ndarray, no_pk: str, covariates: dict[str, float]
) -> np.ndarray:
    """A course :func:`_fine_cached` does not keep (doses of different amounts, e.g.
    carfilzomib's 20 mg/m2 step-up doses before 27 or 56 mg/m2): superposed from the
    single-dose course of each route with each dose's own amount when the drug has a linear PK
    model covering its routes and every dose lies on the grid (one single-dose course per route
    instead of every dose at every interval: KRd's carfilzomib 72 doses on the 15-min grid of 12
    cycles took 0.11 s per patient), else :func:`~mmmech.dynamics.regimen._conc_intervals`."""
    mine = [e for e in events if e.drug == drug]
    shifts = _fine_shifts(drug, mine, edges_h, covariates)
    if shifts is not None:
        return _fine_entry(drug, None, mine, shifts, edges_h, no_pk, covariates)
    return _conc_intervals(drug, events, edges_h, no_pk, covariates)


def _sub_direct(
    drug: str,
    events: list[Any],
    times_h: np.ndarray,
    no_pk: str,
    covariates: dict[str, float],
    grid_h: float,
) -> np.ndarray:
    """A substep course the cache does not keep (as :func:`_fine_direct`): superposed with
    each dose's own amount (:func:`_superposed`) where exact, else
    :func:`~mmmech.dynamics.regimen._conc_matrix`."""
    mine = [e for e in events if e.drug == drug]
    if mine and _has_pk(drug) and _pk_model(drug, covariates).linear:
        c = _superposed(drug, mine, times_h, covariates, [], grid_h)
        if c is not None:
            return c
    return _conc_matrix(drug, events, times_h, no_pk, covariates, [])


def _fine_rows(
    cache: dict[Any, tuple[float, np.ndarray]],
    drug: str,
    blk: np.ndarray,
    kin_in: list[tuple[list[Any], dict[str, float]]],
    own_rows: list[int],
    own_etas: list[dict[str, dict[str, float]]] | None,
    rows: np.ndarray,
    edges_h: np.ndarray,
    no_pk: str,
    keys: dict[tuple[str, int, str], tuple[Any, float] | None] | None = None,
) -> np.ndarray:
    """Interval-mean concentrations of `drug` for the chunk rows `blk`: the batched rows'
    (:class:`_BatchRow` keys of :func:`_prefill`: the block's rows in one call), shared
    courses (:func:`_fine_cached`; with `keys` from :func:`_prefill`, looked up by them) and,
    for the rows in `own_rows`, the patients' own (:func:`_own_fine`)."""
    own_set = set(own_rows)
    out = np.empty((blk.size, edges_h.size - 1))
    mine = [k for k, r in enumerate(blk) if int(r) in own_set]
    # the batched rows' courses (_BatchRow keys) for the whole block, one call per plan
    batch: dict[int, tuple[Any, list[int], list[int]]] = {}
    for k, r in enumerate(blk.tolist()):
        e = keys.get(("fine", r, drug)) if keys is not None and r not in own_set else None
        if e is not None and isinstance(e[0], _BatchRow):
            at = batch.setdefault(id(e[0].plan), (e[0].plan, [], []))
            at[1].append(k)
            at[2].append(e[0].i)
    done: set[int] = set()
    for plan, ks, idx in batch.values():
        out[ks] = plan.courses(idx)
        done.update(ks)
    for k, r in enumerate(blk.tolist()):
        if r in own_set or k in done:
            continue
        ev, cov = kin_in[r]
        if keys is not None and ("fine", r, drug) in keys:
            out[k] = _shared_course(
                cache,
                keys[("fine", r, drug)],
                lambda ev=ev, cov=cov: _fine_direct(drug, ev, edges_h, no_pk, cov),
            )
        else:
            out[k] = _fine_cached(cache, drug, ev, edges_h, no_pk, cov)
    if mine:
        rr = [int(blk[k]) for k in mine]
        out[mine] = _own_fine(
            drug,
            [kin_in[r][0] for r in rr],
            [kin_in[r][1] for r in rr],
            [own_etas[rows[r]].get(drug) if own_etas else None for r in rr],
            edges_h,
            no_pk,
        )
    return out


def _untreated_arrays(sim: Simulator) -> tuple[np.ndarray, np.ndarray]:
    """``Simulator.fixed_arrays`` of no drug, one row: the context's fixed nodes, and every free
    drug-target column's node held at occupancy 0 (the occupancy of concentration 0 is exactly
    0), without a call of the occupancy kernel (a thread team started for one row)."""
    mask = np.array(sim._base_mask, copy=True)
    value = np.array(sim._base_value, copy=True)
    if sim.columns:
        cols = sim._col_node[sim._col_free]
        mask[cols] = 1
        value[cols] = 0.0
    return mask, value


def _raise_mmap_threshold() -> None:
    """Allocate and free one 16 MB block. glibc's malloc serves a block above its mmap
    threshold (128 kB at start) with fresh pages from the kernel, page-faulted in on first use,
    and raises the threshold to the size of an mmapped block when it is freed (up to 32 MB).
    The PK engine's temporaries of one 12-cycle course on the 15-min grid are about 200 kB
    each, so before any large block has been freed every one of them costs fresh pages: the
    shared courses made before the occupancy stage took 235,000 page faults for 200 patients
    (0.3-0.4 s of system time), 12,000 with the threshold up. Harmless elsewhere (a
    no-op after the first call, or with another allocator)."""
    block = np.empty(1 << 21)
    del block


def _exposure_threads(num_threads: int) -> int:
    """Threads of the exposure stage: `num_threads` (``exposure_threads``) when > 0; else as
    many as OpenMP would use: ``OMP_NUM_THREADS`` when set (Dask's workers set it to 1, so two
    worker processes do not each start two threads), otherwise the usable cores (at most 8)."""
    if num_threads > 0:
        return int(num_threads)
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return min(8, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


#: first element of the cache keys of the batched courses (:func:`_batched`): one course per
#: chunk row, dropped when the next chunk is prefilled
_BATCH = "batched course"
#: first element of the cache keys of the buffers the batched substep courses are written to
#: (one per drug and dose group, reused by every chunk: no fresh pages per chunk)
_POOL = "batched buffer"


@dataclass(frozen=True, eq=False)
class _BatchPlan:
    """The batched courses of one drug on one grid for rows of a chunk
    (:func:`mmmech.pk.batch.grid_courses`'s arguments, one row per patient)."""

    model: Any
    params: dict[str, np.ndarray]
    routes: list[str]
    shifts: np.ndarray
    amounts: np.ndarray
    n_out: int
    step_h: float
    sample: str

    def courses(self, idx: list[int], out: np.ndarray | None = None, threads: int = 1) -> Any:
        """The courses of the plan's rows `idx` (added to `out`, zeros, when given)."""
        return _pk_batch.grid_courses(
            self.model,
            {k: v[idx] for k, v in self.params.items()},
            self.routes,
            self.shifts,
            self.amounts[idx],
            self.n_out,
            self.step_h,
            self.sample,
            threads,
            out=out,
        )


@dataclass(frozen=True, eq=False)
class _BatchRow:
    """A row's interval-mean course left for :func:`_fine_rows` to compute with its block
    (row `i` of `plan`): the cache key of :func:`_prefill`'s ``("fine", row, drug)`` entries
    of the batched rows (a block's courses are made when the block needs them, so a chunk's
    24,192-interval courses are never all in memory)."""

    plan: _BatchPlan
    i: int


def _batched(
    cache: dict[Any, tuple[float, np.ndarray]],
    keys: dict[tuple[str, int, str], tuple[Any, float] | None],
    drugs: list[str],
    kin_in: list[tuple[list[Any], dict[str, float]]],
    mine_of: list[set[str]],
    by_sim: dict[int, list[int]],
    sims: list[Simulator],
    rows: np.ndarray,
    kin_of: dict[int, list[Any]],
    own: dict[str, list[int]],
    n_sub: int,
    fine_edges: np.ndarray,
    grid_h: float,
    on_grid: bool,
    doses: ChunkDoses,
    threads: int,
) -> None:
    """The courses of the chunk's rows in `doses` (planned doses, or a patient's own doses;
    grouped by dose days and routes), every linear PK drug at once
    (:func:`mmmech.pk.batch.grid_courses`: each row's parameters from its covariates, the modes
    of every row, the doses carried through the grid in compiled code, `threads` OpenMP
    threads): on the substep grid ``(i + 1/2) grid_h`` (when `on_grid`) made here for all rows,
    each row's course under the cache key ``(_BATCH, "sub", drug, row)`` with its own amounts
    (scale 1); for the drugs with binding kinetics, the interval means of `fine_edges`
    planned (a :class:`_BatchRow` key, made block by block by :func:`_fine_rows`). Entered in
    `keys`. Rows and drugs it does not cover (a nonlinear model, IV infusions or an absorption
    lag, doses off the grid, a covariate ``pk.model`` refuses) are left out of `keys` for the
    per-patient path. The batched courses are within 1e-13 of the closed forms evaluated in
    long double (about 1e-15 of the course maximum seen) and within 1e-12 of the per-patient
    path (its interval means: 5e-12, their own cumulative-AUC rounding; tests/pk/test_batch.py,
    tests/dynamics/test_cohort_pkbatch.py)."""
    kin_rows: dict[str, set[int]] = {}
    for rr in by_sim.values():
        for d in dict.fromkeys(kc.drug for _, kc in kin_of[id(sims[rows[rr[0]]])]):
            own_d = set(own.get(d, ()))
            kin_rows.setdefault(d, set()).update(r for r in rr if r not in own_d)
    dh = float(fine_edges[1] - fine_edges[0]) if fine_edges.size > 1 else 0.0
    for d in drugs:
        if d not in doses.groups or not _has_pk(d):
            continue
        m = _pk.model(d)
        if not m.linear:
            continue
        numeric = list(dict.fromkeys(c.name for c in m.covariates if c.form != "note"))
        for g, (days, reg_routes, rr, amounts) in enumerate(doses.groups[d]):
            _batched_group(
                cache, keys, m, (d, g), days, reg_routes, rr, amounts, kin_in, numeric,
                kin_rows.get(d, set()), n_sub, fine_edges, dh, grid_h, on_grid, threads,
            )  # fmt: skip


def _batched_group(
    cache: dict[Any, tuple[float, np.ndarray]],
    keys: dict[tuple[str, int, str], tuple[Any, float] | None],
    m: Any,
    dg: tuple[str, int],
    days: np.ndarray,
    reg_routes: list[str],
    rr: list[int],
    amounts: np.ndarray,
    kin_in: list[tuple[list[Any], dict[str, float]]],
    numeric: list[str],
    want: set[int],
    n_sub: int,
    fine_edges: np.ndarray,
    dh: float,
    grid_h: float,
    on_grid: bool,
    threads: int,
) -> None:
    """:func:`_batched` for the rows `rr` of one group (`dg`: drug and group number; the same
    dose days and routes, `amounts` rows x doses); `want`: the chunk rows that need interval
    means."""
    d = dg[0]
    cov = {
        name: np.array([kin_in[r][1].get(name, math.nan) for r in rr], dtype=float)
        for name in numeric
    }
    params, ok = _pk_batch.batch_parameters(m, len(rr), cov)
    routes = [PK_ROUTES.get(x, x) for x in reg_routes]
    if not _pk_batch.covered(m, params, routes):
        return
    fake = [_regimens.DoseEvent(int(x), d, 0.0, "mg", "") for x in days]
    good = np.flatnonzero(ok).tolist()
    gp = {k: v[good] for k, v in params.items()}
    gr = [rr[i] for i in good]
    ga = amounts[good]
    shifts = _grid_shifts(fake, grid_h) if on_grid else None
    if shifts is not None and gr:
        plan = _BatchPlan(m, gp, routes, shifts, ga, n_sub, grid_h, "mid")
        pool = cache.get((_POOL, dg))
        buf = pool[1] if pool is not None else None
        if buf is None or buf.shape[0] < len(gr) or buf.shape[1] != n_sub:
            buf = np.zeros((len(gr), n_sub))
            cache[(_POOL, dg)] = (0.0, buf)
        else:
            buf = buf[: len(gr)]
            buf.fill(0.0)
        plan.courses(list(range(len(gr))), out=buf, threads=threads)
        for i, r in enumerate(gr):
            key = (_BATCH, "sub", d, r)
            cache[key] = (1.0, buf[i])
            keys[("sub", r, d)] = (key, 1.0)
    fine = [i for i, r in enumerate(gr) if r in want]
    shifts = _grid_shifts(fake, dh) if fine and dh > 0 else None
    if shifts is not None:
        fp = {k: v[fine] for k, v in gp.items()}
        plan = _BatchPlan(m, fp, routes, shifts, ga[fine], fine_edges.size - 1, dh, "mean")
        for j, i in enumerate(fine):
            keys[("fine", gr[i], d)] = (_BatchRow(plan, j), 1.0)


def _prefill(
    cache: dict[Any, tuple[float, np.ndarray]],
    drugs: list[str],
    kin_in: list[tuple[list[Any], dict[str, float]]],
    mine_of: list[set[str]],
    by_sim: dict[int, list[int]],
    sims: list[Simulator],
    rows: np.ndarray,
    kin_of: dict[int, list[Any]],
    own: dict[str, list[int]],
    sub_flat: np.ndarray,
    fine_edges: np.ndarray,
    no_pk: str,
    grid_h: float,
    n_par: int,
    on_grid: bool,
    doses: ChunkDoses | None = None,
    threads: int = 1,
) -> dict[tuple[str, int, str], tuple[Any, float] | None]:
    """The shared courses a chunk needs that `cache` lacks, each made from the row that would
    have made it first when the rows ran one after the other (:func:`_pk_cached` in row order;
    :func:`_fine_cached` by simulator group, then row), so the later lookups give the very
    arrays of the serial order; the new courses are independent, so up to `n_par` are made at
    once (in threads: the PK engine's NumPy work releases the GIL). Returns every row's cache
    key and dose amount per drug (``("sub" | "fine", row, drug)``; None: computed directly),
    for :func:`_shared_course`.

    First, the rows with the regimen's planned doses (`doses`, :class:`._exposure.ChunkDoses`)
    get their courses of every linear PK drug in one batched computation per drug and grid
    (:func:`_batched`, `threads` OpenMP threads), each row its own course under its own key;
    the rows and drugs it does not cover take the per-patient path below (the reference)."""
    keys: dict[tuple[str, int, str], tuple[Any, float] | None] = {}
    # the previous chunk's batched courses are never looked up again (their keys name rows)
    for old in [k for k in cache if k[0] == _BATCH]:
        del cache[old]
    if doses is not None and doses.groups:
        _batched(cache, keys, drugs, kin_in, mine_of, by_sim, sims, rows, kin_of, own,
                 sub_flat.size, fine_edges, grid_h, on_grid, doses, threads)  # fmt: skip
    jobs: dict[Any, Any] = {}
    for r, (ev, cov) in enumerate(kin_in):
        for d in drugs:
            if d in mine_of[r] or ("sub", r, d) in keys:
                continue
            k = _pk_key(d, ev, cov)
            keys[("sub", r, d)] = None if k is None else (k[0], k[1])
            if k is None or k[0] in cache or k[0] in jobs or not (k[2] and k[1] > 0):
                continue
            key, _, _, mine = k
            jobs[key] = (k[1], _pk_entry, (d, ev, mine, sub_flat, no_pk, cov, [], grid_h, on_grid))
    for rr in by_sim.values():
        kin = kin_of[id(sims[rows[rr[0]]])]
        for d in dict.fromkeys(kc.drug for _, kc in kin):
            own_d = set(own.get(d, ()))
            for r in rr:
                if r in own_d or ("fine", r, d) in keys:
                    continue
                ev, cov = kin_in[r]
                f = _fine_key(d, ev, fine_edges, cov)
                keys[("fine", r, d)] = None if f is None else (f[0], f[1])
                if f is None or f[0] in cache or f[0] in jobs:
                    continue
                key, a, mine, shifts = f
                jobs[key] = (a, _fine_entry, (d, a, mine, shifts, fine_edges, no_pk, cov))

    def make(item: tuple[Any, Any]) -> tuple[Any, tuple[float, np.ndarray]]:
        key, (a, fn, args) = item
        return key, (a, fn(*args))

    if n_par > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(min(n_par, len(jobs))) as pool:
            made = list(pool.map(make, jobs.items()))
    else:
        made = [make(item) for item in jobs.items()]
    cache.update(made)
    return keys


def _shared_course(
    cache: dict[Any, tuple[float, np.ndarray]], k: tuple[Any, float] | None, direct: Any
) -> np.ndarray:
    """A shared course after :func:`_prefill`: the cached course of key ``k[0]`` scaled to the
    amount ``k[1]`` (as :func:`_pk_cached` and :func:`_fine_cached` return it), or
    ``direct()`` for a course that is not cached."""
    if k is not None and isinstance(k[0], _BatchRow):
        return k[0].plan.courses([k[0].i])[0]  # type: ignore[no-any-return]
    if k is None or k[0] not in cache:
        return direct()  # type: ignore[no-any-return]
    a0, c0 = cache[k[0]]
    return c0 if k[1] == a0 else c0 * (k[1] / a0)


def _step_mean(
    conc: np.ndarray,
    sel: np.ndarray,
    part: np.ndarray,
    sim: Simulator,
    free_idx: np.ndarray,
    inst: list[int],
    occ: np.ndarray,
    substeps: int,
    threads: int,
) -> bool:
    """Step-averaged occupancies of the columns `inst` (no binding kinetics) of the part's rows
    `sel` into ``occ[part[sel]]`` in one pass of the compiled kernel over `conc` (rows, drugs,
    steps * substeps) (``_occupancy.occupancy_step_mean_dt``: the occupancy of each substep's
    concentration, then the mean over the step's substeps in substep order, the bits of
    ``occupancy(...).mean(axis=2)`` without the gathered copy; Hill slope 1 in SIMD loops).
    False (nothing done) when the kernel is not built, when NumPy would sum the substeps
    pairwise (one column and 8 substeps or more: another order), or when a concentration is
    not finite or < 0 (the caller's path then raises its error)."""
    J = len(inst)
    if not _kernels.available("_occupancy") or (J == 1 and substeps >= 8) or not sel.size:
        return False
    kern = _kernels.load("_occupancy")
    if not hasattr(kern, "occupancy_step_mean_dt"):  # pragma: no cover - an older build
        return False
    ci = free_idx[inst]
    kk = np.ascontiguousarray(sim._col_K[ci], dtype=float)
    hh = np.ascontiguousarray(sim._col_h[ci], dtype=float)
    if not (np.all(np.isfinite(kk)) and np.all(kk > 0) and np.all(np.isfinite(hh))):
        return False
    if not np.all(hh > 0):
        return False
    bad = kern.occupancy_step_mean_dt(
        conc,
        np.ascontiguousarray(sel, dtype=np.int64),
        np.ascontiguousarray(sim._col_drug[ci], dtype=np.int64),
        kk,
        hh,
        occ,
        np.ascontiguousarray(part[sel], dtype=np.int64),
        np.asarray(inst, dtype=np.int64),
        int(substeps),
        max(1, int(threads)),
    )
    return int(bad) == 0


def _exposure_part(
    part: np.ndarray,
    occ: np.ndarray,
    notes: list[str],
    keys: dict[tuple[str, int, str], tuple[Any, float] | None],
    kin_in: list[tuple[list[Any], dict[str, float]]],
    mine_of: list[set[str]],
    own: dict[str, list[int]],
    own_etas: list[dict[str, dict[str, float]]] | None,
    rows: np.ndarray,
    sims: list[Simulator],
    kin_of: dict[int, list[Any]],
    cache: dict[Any, tuple[float, np.ndarray]],
    drugs: list[str],
    exp_sc: dict[str, float],
    eff_sc: dict[str, float],
    free_idx: np.ndarray,
    sub_flat: np.ndarray,
    fine_edges: np.ndarray,
    grid_h: float,
    no_pk: str,
    K: int,
    substeps: int,
    nf: int,
    step_hours: float,
    occ_threads: int = 1,
) -> None:
    """Concentrations and step-averaged occupancies (``occ[part]``) of the chunk rows `part`:
    every row on its own (shared courses from `cache`, filled by :func:`_prefill`; the
    patients' own by FFT per row), so any split of the chunk gives the same arrays. The
    concentrations of the columns without binding kinetics go through a buffer of
    :data:`_OCC_BLOCK` rows laid out drug by drug, ``buf[row, drug, step * substeps + u]`` (each
    course one contiguous copy; no array of the whole part)."""
    D = len(drugs)
    T = K * substeps
    pos = {r: k for k, r in enumerate(part.tolist())}
    # the patients' own courses (FFT per row; their notes in drug order, as before)
    own_c: dict[tuple[int, int], np.ndarray] = {}
    for d, rr_all in own.items():
        rr = [r for r in rr_all if r in pos]
        if not rr:
            continue
        got = _own_sub(
            d,
            [kin_in[r][0] for r in rr],
            [kin_in[r][1] for r in rr],
            [own_etas[rows[r]].get(d) if own_etas else None for r in rr],
            sub_flat,
            grid_h,
            no_pk,
            notes,
        ).reshape(len(rr), T)
        for i_, r in enumerate(rr):
            own_c[(pos[r], drugs.index(d))] = got[i_]
    scale_d = [(drugs.index(d), f) for d, f in exp_sc.items()]

    def fill(buf: np.ndarray, ks: np.ndarray) -> np.ndarray:
        """The concentrations of the part's rows `ks` in ``buf[: ks.size]`` (returned)."""
        for b, k in enumerate(ks.tolist()):
            r = int(part[k])
            ev, cov = kin_in[r]
            for j, d in enumerate(drugs):
                if d in mine_of[r]:
                    buf[b, j] = own_c[(k, j)]
                else:
                    buf[b, j] = _shared_course(
                        cache,
                        keys[("sub", r, d)],
                        lambda d=d, ev=ev, cov=cov: _sub_direct(
                            d, ev, sub_flat, no_pk, cov, grid_h
                        ),
                    ).reshape(T)
        out = buf[: ks.size]
        for j, f in scale_d:
            out[:, j] *= f
        return out

    by_sim: dict[int, list[int]] = {}
    for k, r in enumerate(part.tolist()):
        by_sim.setdefault(id(sims[rows[r]]), []).append(k)
    buf = np.empty((min(_OCC_BLOCK, part.size), D, T))
    for kk in by_sim.values():
        sim = sims[rows[part[kk[0]]]]
        sel = np.asarray(kk)
        kin = kin_of[id(sim)]
        kin_j = {j for j, _ in kin}
        # occupancy of the drug-target columns without binding kinetics (those are the
        # interval recursion's below), averaged over each step's substeps, as
        # Simulator.occupancy computes it column by column; a block of rows at a time
        inst = [j for j in range(free_idx.size) if j not in kin_j]
        for a in range(0, sel.size if inst else 0, _OCC_BLOCK):
            ks = sel[a : a + _OCC_BLOCK]
            blk = fill(buf, ks)
            dest = part[ks]
            if _step_mean(
                blk, np.arange(ks.size), dest, sim, free_idx, inst, occ, substeps, occ_threads
            ):
                continue
            ci = free_idx[inst]
            # (rows, drugs, T) -> (rows * T, drugs): the occupancy's layout
            c = np.ascontiguousarray(np.swapaxes(blk, 1, 2).reshape(-1, D)[:, sim._col_drug[ci]])
            o = occupancy(c, sim._col_K[ci], sim._col_h[ci], num_threads=occ_threads)
            o = o.reshape(ks.size, K, substeps, len(inst)).mean(axis=2)
            for i_, j in enumerate(inst):
                occ[dest, :, j] = o[:, :, i_]
        kin_drugs = list(dict.fromkeys(kc.drug for _, kc in kin))
        # binding kinetics in blocks of patients: the 15-min grid of 12 cycles is 24,192
        # intervals, so a whole chunk's concentrations would take several GB; the occupancy
        # course is averaged over each step as it runs (step_mean_occupancy: every column of
        # the drug in one compiled pass over the block's rows, in `occ_threads` threads),
        # so no fine-grid occupancy array is made
        for a in range(0, sel.size if kin else 0, _KIN_BLOCK):
            blk = part[sel[a : a + _KIN_BLOCK]]
            for d in kin_drugs:
                fine = _fine_rows(
                    cache, d, blk, kin_in, own.get(d, []), own_etas, rows, fine_edges, no_pk, keys
                )
                cols_d = [(j, kc) for j, kc in kin if kc.drug == d]
                step_mean_occupancy(
                    fine,
                    step_hours / nf,
                    nf,
                    [kc for _, kc in cols_d],
                    occ,
                    blk,
                    [j for j, _ in cols_d],
                    scale=exp_sc.get(d, 1.0),
                    num_threads=occ_threads,
                )
        if eff_sc:
            cdrug = sim._col_drug[free_idx]
            rows_g = part[sel]
            for d, f in eff_sc.items():
                for jc in np.flatnonzero(cdrug == drugs.index(d)).tolist():
                    occ[rows_g, :, jc] = np.minimum(occ[rows_g, :, jc] * f, 1.0)


def _patient_mprotein(
    isotypes: Sequence[str] | None,
    m_protein: Sequence[float] | None,
    P: int,
    tumour: TumourModel,
    func: str,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-patient isotypes and starting M-protein as arrays (``(None, None)``: the tumour
    model's for everyone, the original path)."""
    if isotypes is None and m_protein is None:
        return None, None
    if isotypes is None:
        iso = np.full(P, tumour.isotype, dtype=object)
    else:
        if isinstance(isotypes, str) or len(isotypes) != P:
            raise InvalidInputError(
                f"{func}(): isotypes must be a sequence of one isotype per body ({P}), got "
                f"{isotypes!r:.60}"
            )
        iso = np.asarray(list(isotypes), dtype=object)
        for v in iso:
            if v not in HALF_LIVES:
                raise InvalidInputError(
                    f"{func}(): isotypes must be among {', '.join(HALF_LIVES)}, got {v!r}"
                    f"{did_you_mean(str(v), list(HALF_LIVES))}"
                )
    if m_protein is None:
        m0 = np.full(P, float(tumour.m0_g_per_dL))
    else:
        try:
            m0 = np.asarray(m_protein, dtype=float)
        except (TypeError, ValueError):
            m0 = np.full(0, np.nan)
        if m0.shape != (P,) or not np.all(np.isfinite(m0)) or np.any(m0 <= 0):
            raise InvalidInputError(
                f"{func}(): m_protein must be one finite value > 0 g/dL per body ({P}), got "
                f"{m_protein!r:.60}"
            )
    return iso, m0


def _patient_tumour_scales(
    tumour_scales: Sequence[Mapping[str, float] | None] | None,
    P: int,
    tumour: TumourModel,
    func: str,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-patient ``(growth, sensitivity)`` multipliers (None: every patient 1, the typical
    patient, so the rates are used as computed)."""
    g = np.full(P, float(tumour.growth_scale))
    s = np.full(P, float(tumour.sensitivity_scale))
    if tumour_scales is not None:
        if isinstance(tumour_scales, (str, bytes, Mapping)) or len(tumour_scales) != P:
            raise InvalidInputError(
                f"{func}(): tumour_scales must be a sequence of one mapping (or None) per body "
                f"({P}), got {tumour_scales!r:.60}"
            )
        for i, ts in enumerate(tumour_scales):
            if ts is None:
                continue
            if not isinstance(ts, Mapping):
                raise InvalidInputError(
                    f"{func}(): tumour_scales[{i}] must be a mapping {{'growth': x, "
                    f"'sensitivity': y}} or None, got {type(ts).__name__}"
                )
            for k, v in ts.items():
                if k not in ("growth", "sensitivity"):
                    raise InvalidInputError(
                        f"{func}(): tumour_scales[{i}]: unknown multiplier {k!r}"
                        f"{did_you_mean(str(k), ['growth', 'sensitivity'])} (expected growth, "
                        f"sensitivity)"
                    )
                if (
                    isinstance(v, bool)
                    or not isinstance(v, (int, float, np.floating))
                    or not (0 < v < math.inf)
                ):
                    raise InvalidInputError(
                        f"{func}(): tumour_scales[{i}][{k!r}] must be a number > 0, got {v!r}"
                    )
                (g if k == "growth" else s)[i] = float(v)
    if np.all(g == 1.0) and np.all(s == 1.0):
        return None
    return g, s


def _fingerprint(sim: Simulator) -> tuple[Any, ...]:
    """What must be equal for two simulators' patients to share one network kernel call: the
    compiled model (rules, edges, weights, parameters, readouts) and the
    drug-target columns (node, drug, held or not); fixed values may differ per row."""
    cm = sim.compiled
    arrs = (cm.prog_ptr, cm.prog_op, cm.prog_arg, cm.edge_src, cm.edge_dst, cm.edge_sign)
    # not cm.y0: it is only where the untreated steady state starts (each row starts from its
    # own simulator's) and the held value of nodes without a rule (each row holds its own)
    pars = (cm.params.w, cm.params.n, cm.params.ec50, cm.params.tau, cm.params.ymax)
    return (
        tuple(cm.nodes),
        tuple(np.asarray(a).tobytes() for a in (*arrs, *pars)),
        cm.max_stack,
        tuple(sorted(cm.readouts.items())),
        tuple((c["node"], c["drug_index"]) for c in sim.columns),
        sim._col_free.tobytes(),
    )


def _hashable(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return tuple(_hashable(v) for v in x)
    try:
        hash(x)
    except TypeError:
        return ("id", id(x))
    return x


def _cycle_segments(reg: Any, cycles: int, K: int, step_hours: float) -> list[tuple[int, int]]:
    """The course's segments on the interval grid: ``(first interval, phase index)`` of each
    of the first `cycles` cycles (phase index -1 for a gap between phases and for the
    follow-up after the last cycle), in order; [] when a cycle boundary is not on the grid."""
    segs: list[tuple[int, int]] = []
    left, day = cycles, 0
    per_day = 24.0 / float(step_hours)

    def at(d: int) -> int | None:
        x = d * per_day
        return int(round(x)) if abs(x - round(x)) < 1e-9 else None

    for p, phase in enumerate(reg.phases):
        if phase.delay_days:
            i = at(day)
            if i is None:
                return []
            segs.append((i, -1))
            day += phase.delay_days
        n = min(phase.cycles if phase.cycles is not None else left, left)
        for _ in range(n):
            i = at(day)
            if i is None:
                return []
            segs.append((i, p))
            day += phase.cycle_days
        left -= n
        if left <= 0 or phase.cycles is None:
            break
    end = at(day)
    if end is None:
        return []
    if end < K:
        segs.append((end, -1))
    return [(i, p) for i, p in segs if i < K]


def _segment_keys(
    segs: list[tuple[int, int]], events: list[Any], K: int, step_hours: float, table: dict
) -> np.ndarray:
    """The reference of :func:`mmmech.dynamics._lanes.segment_keys` (used before round 11; one
    patient at a time). One patient's schedule key per segment: equal keys for segments of the
    same phase and length whose doses (day within the segment, drug, amount, unit, route) are
    the same; -1 for gaps and follow-up. `table` maps the schedules to integers (shared
    across patients)."""
    bounds = [i for i, _ in segs] + [K]
    hd = 24.0 / float(step_hours)
    out = np.full(len(segs), -1, dtype=np.int64)
    # each event into its segment once (bisect on the segments' start days), not every event
    # tested against every segment
    starts = [i / hd for i, _ in segs]
    mine: list[list[Any]] = [[] for _ in segs]
    for e in events:
        t = e.day - 1
        j = bisect.bisect_right(starts, t) - 1
        if j >= 0 and t < bounds[j + 1] / hd:
            mine[j].append(e)
    for j, (i, p) in enumerate(segs):
        if p < 0:
            continue
        d0 = starts[j]
        sched = tuple(
            sorted(
                (float(e.day - 1 - d0), e.drug, float(e.amount), e.unit, e.route) for e in mine[j]
            )
        )
        out[j] = table.setdefault((p, bounds[j + 1] - i, sched), len(table))
    return out


def _patient_specs(
    contexts: Sequence[Any] | None,
    levels: Sequence[Mapping[str, float] | None] | None,
    context: Any,
    P: int,
    func: str,
) -> list[tuple[Any, Any, dict[str, float]]]:
    """Per patient ``(context key, context spec, levels)``."""
    if contexts is None:
        ctxs: list[Any] = [context] * P
    elif isinstance(contexts, (str, bytes, Mapping)) or not isinstance(contexts, Sequence):
        raise InvalidInputError(
            f"{func}(): contexts must be a sequence of one context spec per body ({P}), got "
            f"{type(contexts).__name__}"
        )
    elif len(contexts) != P:
        raise InvalidInputError(
            f"{func}(): contexts must have one context spec per body ({P}), got {len(contexts)}"
        )
    else:
        ctxs = list(contexts)
    if levels is None:
        lvs: list[dict[str, float]] = [{} for _ in range(P)]
    elif isinstance(levels, (str, bytes, Mapping)) or not isinstance(levels, Sequence):
        raise InvalidInputError(
            f"{func}(): levels must be a sequence of one mapping {{node: level}} per body "
            f"({P}), got {type(levels).__name__}"
        )
    elif len(levels) != P:
        raise InvalidInputError(
            f"{func}(): levels must have one mapping per body ({P}), got {len(levels)}"
        )
    else:
        lvs = []
        for lv in levels:
            if lv is not None and not isinstance(lv, Mapping):
                raise InvalidInputError(
                    f"{func}(): each entry of levels must be a mapping {{node: level}} or None, "
                    f"got {type(lv).__name__}"
                )
            lvs.append(dict(lv or {}))
    return [(_hashable(c), c, lv) for c, lv in zip(ctxs, lvs, strict=True)]


def _held_levels(sim: Simulator, lv: dict[str, float], func: str) -> dict[int, float] | None:
    """`lv` as held values ``{node index: value}`` when every level is on a node without a rule
    that no drug acts on and that the context neither fixes nor levels: such a node holds its
    initial value, so holding it fixed at ``y0 x level`` is the same model (and keeps the
    compiled structure shared). ``None`` when some level needs a recompiled model."""
    nodes = sim.model.nodes
    att = sim.attachment
    for k, v in lv.items():
        spec = nodes.get(k)
        if (
            spec is None
            or spec.rule is not None
            or f"{k}.basal" in att.y0
            or k in sim.fixed
            or k in sim.levels
            or isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not (math.isfinite(v) and v >= 0)
        ):
            return None
    y0, _ = _level_overrides(sim.model, att, lv, func)
    cm = sim.compiled
    return {cm.index(k): float(v) for k, v in y0.items()}


@dataclass
class CohortResult:
    """A regimen simulated for a cohort of N patients (K time steps).

    Attributes
    ----------
    regimen : str
    cycles : int
    hours : ndarray (K + 1,)
        Grid (step ends), hours from the first dose.
    m_protein : ndarray (N, K + 1)
        Serum M-protein, g/dL.
    tumour_burden : ndarray (N, K + 1)
        Relative to the start.
    best_response : ndarray (N,) of str
        IMWG category per patient.
    time_to_progression_days : ndarray (N,)
        NaN where there is no progression.
    ok : ndarray (N,) of bool
        False where the network integration hit max_steps on some step.
    notes : list of str
    seconds : dict
        Wall time per stage: ``pk`` (dose events and the courses patients share),
        ``occupancy`` (each patient's concentrations, occupancies and binding kinetics, in
        threads), ``network``, ``tumour_imwg``.
    max_reduction : ndarray (N,) or None
        Deepest M-protein reduction before progression (IMWG, fraction of baseline).
    """

    regimen: str
    cycles: int
    hours: np.ndarray
    m_protein: np.ndarray
    tumour_burden: np.ndarray
    best_response: np.ndarray
    time_to_progression_days: np.ndarray
    ok: np.ndarray
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    max_reduction: np.ndarray | None = None

    @property
    def n_patients(self) -> int:
        return int(self.m_protein.shape[0])


def simulate_cohort(
    regimen: Any,
    bodies: Sequence[Any],
    *,
    cycles: int | None = None,
    context: Any = "marrow",
    model: Any = "myeloma",
    step_hours: float = 4.0,
    substeps: int = 4,
    tumour: TumourModel | None = None,
    no_pk: str = "reference",
    hours_per_model_time: float = HOURS_PER_MODEL_TIME,
    cr_reduction: float = 0.99,
    backend: str = "auto",
    num_threads: int = 0,
    chunk: int = 2000,
    exposure_threads: int = 1,
    isotypes: Sequence[str] | None = None,
    m_protein: Sequence[float] | None = None,
    follow_up_days: float | None = None,
    contexts: Sequence[Any] | None = None,
    levels: Sequence[Mapping[str, float] | None] | None = None,
    tumour_scales: Sequence[Mapping[str, float] | None] | None = None,
    resistance_per_day: Sequence[float | None] | None = None,
    pk_etas: Sequence[Mapping[str, Mapping[str, float]] | None] | None = None,
    doses: Sequence[Sequence[Any] | None] | None = None,
    renal_crcl: Sequence[float | None] | None = None,
    pk_covariates: Sequence[Mapping[str, float] | None] | None = None,
    params: Mapping[str, float] | None = None,
    exposure_scale: Mapping[str, float] | None = None,
    efficacy_scale: Mapping[str, float] | None = None,
    reuse_tol: float | None = COURSE_REUSE_TOL,
    pipeline: bool = True,
) -> CohortResult:
    """`regimen` for every body in `bodies` (patients), in chunks of `chunk` patients.

    Binding kinetics (:mod:`mmmech.dynamics.kinetics`) are applied as in
    :func:`mmmech.dynamics.simulate_regimens` (its default ``binding_kinetics=True``); the
    network runs through all steps in one call of the Rosenbrock course kernel
    (:func:`mmmech.dynamics._course.network_course`).

    Parameters
    ----------
    regimen : str, path or Regimen
    bodies : sequence of Body or mappings ``{"weight_kg": ..., "bsa_m2": ...}``
        One per patient (``None`` entries: the reference adult, 70 kg and 1.8 m2).
    num_threads : int
        OpenMP threads of the network kernel (0: OpenMP's default).
    exposure_threads : int
        Threads for the exposure stage (PK courses, occupancies, binding kinetics): 1 (the
        default) makes the PK courses serially and runs the occupancies and binding kinetics
        in `num_threads` contiguous parts of each chunk in threads (as many as OpenMP would
        use for 0; their compiled kernels release the GIL, round 11) when no network kernel
        runs beside them (`pipeline`), else in this thread; N > 1 runs the whole
        stage in N parts; 0 as many as OpenMP would use (``OMP_NUM_THREADS``, else the usable
        cores). The results are the same bit for bit. Measured (round 8): the PK courses are
        bound by the GIL and the allocator (NumPy calls on one patient's course at a time), so
        2 threads gave no wall gain on the 2-core machine and cost 30-40% more CPU; hence 1 by
        default.
    chunk : int
        Patients integrated per batch (bounds memory; 2,000 patients of VRd over 12 cycles
        take about 0.3 GB for their concentrations).
    isotypes : sequence of str, optional
        The M-protein isotype of each patient (``IgG``, ``IgA``, ``light_chain``: its serum
        half-life; default: every patient ``tumour.isotype``).
    m_protein : sequence of float, optional
        Each patient's M-protein at the start, g/dL > 0 (default: every patient
        ``tumour.m0_g_per_dL``). The M-protein course is linear in it, so it scales the
        patient's course (IMWG's absolute +0.5 g/dL progression rule depends on it).
    follow_up_days : float, optional
        Follow the patients at least this long: when the `cycles` end earlier, the course goes
        on without treatment (drug concentrations decay from the last doses) up to it (rounded
        up to a whole day).
    contexts : sequence, optional
        One context spec per body (a name, a file or a list of them, as `context`); default
        every body in `context`. Patients whose contexts compile to the same network (they
        differ only in held values) run in one network kernel call; structurally different
        ones in one call per structure.
    levels : sequence of mappings, optional
        One mapping ``{node: relative level}`` (or None) per body, as
        :func:`mmmech.dynamics.simulate_regimen`'s `levels`. A level of an input node (no rule,
        no drug on it) is held at ``y0 x level`` in the shared call; other levels compile the
        patient's own model (a call of its own).
    tumour_scales : sequence of mappings, optional
        One mapping ``{"growth": g, "sensitivity": s}`` (or None: 1, 1) per body: the patient's
        multipliers of the net untreated growth rate and of the drug-induced part of the net
        rate (:func:`mmmech.dynamics.tumour.scale_rates`), applied to the rates the network's
        readouts give before the tumour integration; default every body ``tumour``'s
        ``growth_scale`` and ``sensitivity_scale``.
    resistance_per_day : sequence of float, optional
        One acquired-resistance rate lambda (per day, or None: 0) per body: the drug-induced
        part of the patient's net rate is multiplied by ``exp(-lambda t)``, t the days since
        the first dose (:func:`mmmech.dynamics.resistance.apply_resistance`); default none
        (today's course exactly).
    pk_etas : sequence of mappings, optional
        Between-patient PK variability: one mapping ``{drug: {parameter: eta}}`` (or None) per
        body, each parameter multiplied by ``exp(eta)`` (:func:`mmmech.pk.with_etas`;
        :func:`mmmech.pk.patient_etas` draws them from the sources' CV%). Patients with etas
        get their own PK course (no reuse between bodies); all such courses of a chunk are
        superposed in one FFT call per drug and route.
    doses : sequence, optional
        One list of :class:`mmmech.regimens.DoseEvent` per body (or None: the regimen's doses):
        the doses actually given (e.g. after dose modifications,
        :func:`mmmech.toxicity.apply_dose_modifications`), taken as they are (the variant's
        drop and dose_scale are not applied again).
    renal_crcl : sequence of float, optional
        Creatinine clearance (mL/min) per body (or None): lenalidomide's clearance scaled to it
        (:func:`mmmech.toxicity.renal.pk_model`), as ``simulate_regimen(toxicity=True)`` does.
    pk_covariates : sequence of mappings, optional
        One mapping of further numeric PK covariates per body (or None), merged over the body's
        own (e.g. ``{"non_igg_myeloma": 1.0}`` for isatuximab, :meth:`Patient.covariates`); a
        PK model uses those it has covariate effects for.
    params : mapping, optional
        Values of the model's named parameters (``[parameters]`` of the model file, e.g.
        ``{"dex_nk_weight": 0.3}``) for every patient, applied as ``Simulator(params=...)``
        applies them (default: the model's defaults). A trial's parameter ensemble uses it.
    exposure_scale : mapping, optional
        ``{drug: factor > 0}``: the drug's concentration reaching its targets multiplied by the
        factor for every patient (an in-vivo effect-site exposure, equivalently an in-vivo /
        in-vitro potency ratio; :mod:`mmmech.calibration` fits one per small molecule). Drugs
        not in the regimen are ignored; None or factors of 1 change nothing (bit-identical).
    efficacy_scale : mapping, optional
        ``{drug: factor > 0}``: the drug's target occupancies passed to the network multiplied
        by the factor and capped at 1 (the in-vivo fraction of engaged targets that acts: for
        agents whose occupancy saturates at clinical doses, where an exposure factor moves
        nothing; :mod:`mmmech.calibration` fits one per antibody, T-cell engager and CAR-T).
    reuse_tol : float or None
        Cycle periodicity (:func:`mmmech.dynamics._course.periodic_course`): a patient's cycle
        of the network course is copied from the last integrated cycle with the same doses in
        the same phase when its held inputs (drug occupancies) and its start state are within
        `reuse_tol` (max abs) of that cycle's; never across a phase change, a dose change or
        hold, or an input difference above it. None or 0: one kernel call through the whole
        course (the course before round 10). Default ``COURSE_REUSE_TOL`` (docs/dynamics.md,
        Speed, round 10).
    pipeline : bool
        With more than one chunk, integrate chunk c's network in a worker thread (the kernel
        runs without the GIL) while this thread computes chunk c + 1's exposure and chunk
        c - 1's tumour course (default True). The same results bit for bit as False (one
        stage after the other); the stage times in ``seconds`` then overlap (round 11).

    Other parameters as in :func:`mmmech.dynamics.simulate_regimen`.
    """
    func = "simulate_cohort"
    if isinstance(bodies, (str, bytes, Mapping, _regimens.Body)) or not isinstance(
        bodies, Sequence
    ):
        raise InvalidInputError(
            f"{func}(): bodies must be a sequence (one Body or mapping per patient), got "
            f"{type(bodies).__name__}"
        )
    if len(bodies) < 1:
        raise InvalidInputError(f"{func}(): give at least one body (patient)")
    body_list = [_body(b, func) or REFERENCE_BODY for b in bodies]
    it = _item(regimen, func)
    substeps, tumour = _check_course_args(
        no_pk, step_hours, substeps, hours_per_model_time, tumour, func
    )
    chunk = _check_int(chunk, "chunk", func)
    exposure_threads = _check_int(exposure_threads, "exposure_threads", func, 0)
    n = cycles if cycles is not None else _total_cycles(it.regimen)
    if n is None:
        raise InvalidInputError(
            f"{func}(): regimen {it.regimen.name!r} runs until progression; give cycles=N"
        )
    n = _check_int(n, "cycles", func)
    if reuse_tol is not None and not (
        isinstance(reuse_tol, (int, float))
        and not isinstance(reuse_tol, bool)
        and math.isfinite(reuse_tol)
        and reuse_tol >= 0
    ):
        raise InvalidInputError(f"{func}(): reuse_tol must be a number >= 0, got {reuse_tol!r}")
    span_days, _ = _horizon_days(it.regimen, n)
    if follow_up_days is not None:
        if (
            isinstance(follow_up_days, bool)
            or not isinstance(follow_up_days, (int, float))
            or not (0 < follow_up_days < math.inf)
        ):
            raise InvalidInputError(
                f"{func}(): follow_up_days must be a number > 0, got {follow_up_days!r}"
            )
        span_days = max(span_days, math.ceil(follow_up_days))
    iso_arr, m0_arr = _patient_mprotein(isotypes, m_protein, len(body_list), tumour, func)
    scales = _patient_tumour_scales(tumour_scales, len(body_list), tumour, func)
    resist = patient_resistance(resistance_per_day, len(body_list), func, tumour)
    own_doses, own_etas, own_crcl = _patient_pk_args(
        len(body_list), doses, pk_etas, renal_crcl, it, func
    )
    own_cov = _pk_covariates(pk_covariates, len(body_list), func)
    K = int(math.ceil(span_days * 24.0 / step_hours))
    edges = np.arange(K + 1) * float(step_hours)
    sub = (np.arange(K)[:, None] + (np.arange(substeps)[None, :] + 0.5) / substeps) * step_hours
    sub_flat = sub.ravel()
    drugs = [d for d in it.regimen.drugs if d not in it.drop]
    # drug-specific acquired resistance: the regimen's factor on each patient's rate ("min"
    # rule, structures/resistance.toml; a factor of 1 leaves `resist` as it is)
    resist = scale_resistance(resist, drugs)
    exp_sc = _agent_scales(exposure_scale, "exposure_scale", drugs, func)
    eff_sc = _agent_scales(efficacy_scale, "efficacy_scale", drugs, func)
    P = len(body_list)
    specs = _patient_specs(contexts, levels, context, P, func)
    # one Simulator per context (levels on held input nodes become held values); patients whose
    # simulators compile to the same structure share one network kernel call
    base: dict[Any, Simulator] = {}
    sims: list[Simulator] = []
    held: list[dict[int, float]] = []
    sim_of: dict[Any, Simulator] = {}
    for key, ctx, lv in specs:
        if key not in base:
            base[key] = Simulator(model, drugs, context=ctx, params=params)
        sim = base[key]
        h = _held_levels(sim, lv, func) if lv else {}
        if h is None:
            lkey = (key, tuple(sorted(lv.items())))
            if lkey not in sim_of:
                sim_of[lkey] = Simulator(model, drugs, context=ctx, levels=lv, params=params)
            sim, h = sim_of[lkey], {}
        sims.append(sim)
        held.append(h)
    notes: list[str] = []
    for sim in dict.fromkeys(sims):
        notes += sim.notes
    fps: dict[int, Any] = {}
    groups: dict[Any, list[int]] = {}
    for r, sim in enumerate(sims):
        if id(sim) not in fps:
            fps[id(sim)] = _fingerprint(sim)
        groups.setdefault(fps[id(sim)], []).append(r)
    dt_model = float(step_hours) / float(hours_per_model_time)
    pk_cache: dict[Any, tuple[float, np.ndarray]] = {}
    # threads for the exposure stage (PK courses, occupancies, binding kinetics)
    n_par = _exposure_threads(exposure_threads)
    # the occupancies and binding kinetics (round 11): with the default `exposure_threads`
    # (1) in `num_threads` parts when no network kernel runs beside them (the first chunk of
    # a pipeline, or no pipeline); their compiled kernels release the GIL, so one part's
    # kernels run while another part's Python fills its buffers (measured 2,000 VRd patients,
    # 2 threads, load 3.4-3.7: 0.7-1.2 s wall against 1.7-2.2 s with one part and 2-thread
    # kernels, whose short parallel regions wait for a descheduled thread on a busy machine)
    n_occ = n_par if exposure_threads != 1 else _exposure_threads(num_threads)
    dose_plans: dict[Any, list[tuple[Any, ...]]] = {}  # the regimen expanded once, not per body
    grid_h = float(step_hours) / substeps
    # the substep times are the grid (i + 0.5) * grid_h (checked once, not per course)
    on_grid = bool(
        np.allclose(
            sub_flat, (np.arange(sub_flat.size) + 0.5) * grid_h, rtol=0.0, atol=1e-9 * grid_h
        )
    )
    nf = max(1, int(math.ceil(float(step_hours) / KINETIC_DT_H)))
    fine_edges = np.arange(K * nf + 1) * (float(step_hours) / nf)
    segs = _cycle_segments(it.regimen, n, K, step_hours) if reuse_tol else []
    seg_starts = np.asarray([i for i, _ in segs] + [K], dtype=np.int64)
    seg_table = _lanes.ScheduleTable()
    m_prot = np.empty((P, K + 1))
    burden = np.empty((P, K + 1))
    ok_all = np.ones(P, dtype=bool)
    secs = dict.fromkeys(("pk", "occupancy", "network", "tumour_imwg"), 0.0)
    kin_all: dict[str, list[Any]] = {}
    first = True
    for members in groups.values():
        sim0 = sims[members[0]]
        cm = sim0.compiled
        Nn = cm.n_nodes
        col_free = sim0._col_free
        cols = sim0._col_node[col_free]
        free_idx = np.nonzero(col_free)[0]
        # the untreated steady state of every distinct (simulator, held levels) in the group
        skeys: dict[Any, int] = {}
        srows: list[tuple[Simulator, dict[int, float]]] = []
        row_spec = np.empty(len(members), dtype=np.int64)
        for m, r in enumerate(members):
            k2 = (id(sims[r]), tuple(sorted(held[r].items())))
            if k2 not in skeys:
                skeys[k2] = len(srows)
                srows.append((sims[r], held[r]))
            row_spec[m] = skeys[k2]
        S = len(srows)
        s_mask = np.empty((S, Nn), dtype=np.uint8)
        s_value = np.empty((S, Nn))
        # the untreated fixed arrays once per simulator (rows differ only in held values)
        zero: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for j, (sim, h) in enumerate(srows):
            if id(sim) not in zero:
                zero[id(sim)] = _untreated_arrays(sim)
            s_mask[j], s_value[j] = zero[id(sim)]
            for i, v in h.items():
                s_mask[j, i] = 1
                s_value[j, i] = v
        s_y0 = np.stack([np.asarray(sim.compiled.y0, dtype=float) for sim, _ in srows])
        ss = propagate.steady_state(cm, s_mask, s_value, s_y0, backend=backend, max_steps=100000)
        if not bool(np.all(ss.converged)):
            raise ConvergenceError(f"{func}(): the untreated network did not reach a steady state")
        idx = {k: cm.readouts[k] for k in ("proliferation", *_DEATH) if k in cm.readouts}
        missing = [k for k in ("proliferation", "apoptosis") if k not in idx]
        if missing:
            raise InvalidInputError(f"{func}(): model {model!r} has no {missing[0]} readout")
        p_col = idx["proliferation"]
        d_cols = [idx[k] for k in _DEATH if k in idx]
        s_g = np.empty(S)
        s_d = np.empty(S)
        s_r0 = np.empty(S)  # untreated net rate (the base of the per-patient multipliers)
        for j in range(S):
            p0 = float(ss.y[j, p_col])
            death0 = float(ss.y[j, d_cols].sum())
            s_g[j], s_d[j] = tumour.rates(p0, death0)
            s_r0[j] = s_g[j] * p0 - s_d[j] * death0
        # binding kinetics (as simulate_regimens, binding_kinetics=True) per simulator: its
        # columns' potencies may differ (a context's mutations)
        kin_of: dict[int, list[Any]] = {}
        for sim, _ in srows:
            if id(sim) not in kin_of:
                kin_of[id(sim)] = [
                    (int(np.nonzero(free_idx == kc.column)[0][0]), kc)
                    for kc in kinetic_columns(sim.columns)
                    if bool(col_free[kc.column]) and kc.drug in drugs
                ]
                for _, kc in kin_of[id(sim)]:
                    kin_all.setdefault(kc.drug, [])
                    if (kc.target, kc.kinetics.kind, kc.kinetics.half_life_h) not in [
                        (x.target, x.kinetics.kind, x.kinetics.half_life_h)
                        for x in kin_all[kc.drug]
                    ]:
                        kin_all[kc.drug].append(kc)

        # one chunk in three stages: exposure (PK courses and occupancies, this thread, in chunk
        # order: the shared PK cache fills as in a serial run), the network kernel (in a worker
        # thread: nogil, its own OpenMP team) and the tumour / M-protein course; with `pipeline`
        # the exposure of chunk c + 1 runs while the kernel integrates chunk c (the stages of one
        # chunk only read its own arrays, so the results are those of the serial order)
        # (the group's arrays bound as defaults: the stages of a group all run before the next)
        def exposure_stage(
            lo: int,
            members: list[int] = members,
            row_spec: np.ndarray = row_spec,
            kin_of: dict[int, list[Any]] = kin_of,
            free_idx: np.ndarray = free_idx,
            s_mask: np.ndarray = s_mask,
            s_value: np.ndarray = s_value,
            ss: Any = ss,
            cols: np.ndarray = cols,
            *,
            overlap: bool = False,
        ) -> dict[str, Any]:
            nonlocal first, notes
            rows = np.asarray(members[lo : lo + chunk])
            sp = row_spec[lo : lo + chunk]
            Rc = rows.size
            t0 = time.perf_counter()
            # every row's doses and covariates; the planned doses also as arrays per drug
            kin_in, mine_of, own, chunk_doses = _chunk_pk(
                it, n, body_list, rows, own_doses, own_etas, own_crcl, dose_plans, own_cov, drugs
            )
            if first and Rc:
                # the first patient's shared courses as before, with their notes
                ev, cov = kin_in[0]
                for d in drugs:
                    if d not in mine_of[0]:
                        local: list[str] = []
                        _pk_cached(pk_cache, d, ev, sub_flat, no_pk, cov, local, grid_h, on_grid)
                        notes += local
                first = False
            by_sim: dict[int, list[int]] = {}
            for r in range(Rc):
                by_sim.setdefault(id(sims[rows[r]]), []).append(r)
            # every new shared course made from the row that made it in the serial order (a
            # cached course is that row's, scaled for the others), several at once
            _raise_mmap_threshold()
            keys = _prefill(
                pk_cache, drugs, kin_in, mine_of, by_sim, sims, rows, kin_of, own,
                sub_flat, fine_edges, no_pk, grid_h, n_par, on_grid,
                chunk_doses, n_par,
            )  # fmt: skip
            t1 = time.perf_counter()
            secs["pk"] += t1 - t0
            occ = np.empty((Rc, K, free_idx.size))
            # per-patient courses and occupancies, each row on its own (bit for bit the same
            # for any split), in `n_occ` threads over contiguous parts of the chunk; while the
            # pipeline's network kernel holds the cores (`overlap`), with the default
            # `exposure_threads` in this thread only, kernels single-threaded (more threads
            # would only contend with the kernel's)
            n_parts = 1 if overlap and exposure_threads == 1 else n_occ
            parts = [p for p in np.array_split(np.arange(Rc), min(n_parts, Rc)) if p.size]
            part_notes: list[list[str]] = [[] for _ in parts]

            common = (
                kin_in, mine_of, own, own_etas, rows, sims, kin_of, pk_cache, drugs, exp_sc,
                eff_sc, free_idx, sub_flat, fine_edges, grid_h, no_pk, K, substeps, nf,
                float(step_hours),
                # the occupancy kernels' threads: one per part when the parts run in threads,
                # one beside the network kernel
                1 if len(parts) > 1 or overlap else num_threads,
            )  # fmt: skip
            if len(parts) > 1:
                with ThreadPoolExecutor(len(parts)) as pool:
                    futures = [
                        pool.submit(_exposure_part, part, occ, pn, keys, *common)
                        for part, pn in zip(parts, part_notes, strict=True)
                    ]
                    for fut in futures:
                        fut.result()
            else:
                for part, pn in zip(parts, part_notes, strict=True):
                    _exposure_part(part, occ, pn, keys, *common)
            for pn in part_notes:
                notes += pn
            mask = np.ascontiguousarray(s_mask[sp])
            y = np.ascontiguousarray(np.asarray(ss.y)[sp])
            value = np.ascontiguousarray(s_value[sp])
            value[:, cols] = occ[:, 0]
            secs["occupancy"] += time.perf_counter() - t1
            return {"rows": rows, "sp": sp, "Rc": Rc, "kin_in": kin_in, "occ": occ,
                    "mask": mask, "y": y, "value": value}  # fmt: skip

        def network_stage(
            job: dict[str, Any],
            cm: Any = cm,
            cols: np.ndarray = cols,
            p_col: int = p_col,
            d_cols: list[int] = d_cols,
        ) -> tuple[np.ndarray, np.ndarray]:
            rows, sp, Rc, kin_in, occ = (job[k] for k in ("rows", "sp", "Rc", "kin_in", "occ"))
            mask, y, value = job["mask"], job["y"], job["value"]
            t_net = time.perf_counter()
            # the network through all K steps in one kernel call (the state carried over);
            # rows with exactly the same inputs (untreated state, held values, occupancy
            # course: e.g. flat doses without PK variability) are integrated once
            uniq, inverse = _lanes.distinct_rows(sp, occ)
            every = uniq.size == Rc  # every row distinct: the arrays themselves, no copies
            net_args = (
                cm,
                mask if every else mask[uniq],
                value if every else value[uniq],
                y if every else y[uniq],
                cols,
                occ if every else occ[uniq],
                dt_model,
                np.asarray([p_col, *d_cols]),
            )
            if len(segs) > 1:
                # cycle periodicity: cycles copied per patient where nothing would change them
                seg_keys = _lanes.segment_keys(
                    segs, [kin_in[u][0] for u in uniq.tolist()], K, step_hours, seg_table
                )
                out, _, ok, _ = periodic_course(
                    *net_args,
                    seg_starts,
                    seg_keys,
                    reuse_tol=float(reuse_tol or 0.0),
                    backend=backend,
                    num_threads=num_threads,
                )
            else:
                out, _, ok, _ = network_course(*net_args, backend=backend, num_threads=num_threads)
            if uniq.size < Rc:
                out, ok = np.asarray(out)[inverse], np.asarray(ok)[inverse]
            secs["network"] += time.perf_counter() - t_net
            return out, ok

        def tumour_stage(
            job: dict[str, Any],
            out: np.ndarray,
            ok: np.ndarray,
            s_g: np.ndarray = s_g,
            s_d: np.ndarray = s_d,
            s_r0: np.ndarray = s_r0,
        ) -> None:
            rows, sp = job["rows"], job["sp"]
            ok_all[rows] &= np.asarray(ok, dtype=bool)
            t2 = time.perf_counter()
            nb, mp = readout_course(
                out,
                s_g[sp],
                s_d[sp],
                s_r0[sp],
                step_hours / 24.0,
                tumour,
                None if iso_arr is None else iso_arr[rows],
                None if m0_arr is None else m0_arr[rows],
                None if scales is None else (scales[0][rows], scales[1][rows]),
                None if resist is None else resist[rows],
                num_threads=num_threads,
                backend=backend,
            )
            burden[rows] = nb
            m_prot[rows] = mp
            secs["tumour_imwg"] += time.perf_counter() - t2

        starts = range(0, len(members), chunk)
        if not pipeline or len(starts) < 2:
            for lo in starts:
                job = exposure_stage(lo)
                tumour_stage(job, *network_stage(job))
        else:
            with ThreadPoolExecutor(1) as pool:
                pending: tuple[dict[str, Any], Any] | None = None
                for lo in starts:
                    # while the kernel integrates the previous chunk
                    job = exposure_stage(lo, overlap=pending is not None)
                    if pending is not None:
                        prev, fut = pending
                        res = fut.result()
                        pending = (job, pool.submit(network_stage, job))
                        tumour_stage(prev, *res)  # while the kernel integrates this chunk
                    else:
                        pending = (job, pool.submit(network_stage, job))
                assert pending is not None
                tumour_stage(pending[0], *pending[1].result())
    t3 = time.perf_counter()
    day = edges / 24.0
    resp = classify_many(day, m_prot, cr_reduction=cr_reduction, num_threads=num_threads)
    secs["tumour_imwg"] += time.perf_counter() - t3
    if not ok_all.all():
        notes.append(
            f"the network integration hit max_steps on some step for {int((~ok_all).sum())} "
            f"patient(s) (inexact there)"
        )
    for d, kcs in kin_all.items():
        pairs = "; ".join(
            f"{kc.target}: {kc.kinetics.kind}, t1/2 {kc.kinetics.half_life_h:g} h" for kc in kcs
        )
        notes.append(
            f"{d}: occupancy follows binding kinetics ({pairs}); other targets instantaneous"
        )
    return CohortResult(
        regimen=it.regimen.name,
        cycles=n,
        hours=edges,
        m_protein=m_prot,
        tumour_burden=burden,
        best_response=resp.best,
        time_to_progression_days=resp.progression_day,
        ok=ok_all,
        notes=list(dict.fromkeys(notes)),
        seconds=secs,
        max_reduction=resp.max_reduction,
    )
