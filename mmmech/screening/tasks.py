"""The work of a screen: one combination scored in one context (a task), and chunks of tasks.

Everything here runs on the workers too: :class:`_Spec` is the small picklable description of
a screen that travels to them, :func:`_run_chunk` the function they run. A task is
``(combination, context index)``, the combination a tuple of drug indices into ``spec.names``;
its key (``"<context>|<drug>+<drug>..."``) names its row in the journal and in the table.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._guards import check_seed
from ..scoring import ASSAY_HOURS, dose_range, ensemble_summary, score_grid
from ..simulation.simulator import EnsembleParams, Simulator, sample_params
from ..synergy import _core as synergy_core

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from ..drugs import Drug
    from ..network.contexts import Context
    from ..network.model import PathwayModel

__all__ = ["ensemble_params"]

_FUNC = "screen"

#: one task: (combination as drug indices, context index)
Task = tuple[tuple[int, ...], int]
#: one finished row of the table (JSON-able values), keyed by its task key under ``"key"``
Row = dict[str, Any]
#: seconds per stage of the work (``setup, ranging, kernel, scoring``; ``tasks`` counts tasks)
Timings = dict[str, float]
_STAGES = ("setup", "ranging", "kernel", "scoring")


@dataclass(frozen=True)
class _Spec:
    """Everything a worker needs to score tasks (small and picklable)."""

    model: str | PathwayModel  # bundled name or a PathwayModel
    drugs: tuple[str | Drug, ...]  # library names or Drug objects
    names: tuple[str, ...]  # canonical names
    contexts: tuple[str | Context, ...]  # bundled names or Context objects
    context_names: tuple[str, ...]
    doses: tuple[tuple[float, ...] | None, ...]  # per drug: nM (first 0), None: default grid
    ensemble: int
    seed: int
    spread: float
    metrics: tuple[str, ...]
    interval: float
    knockouts: tuple[str, ...]
    settings: tuple[tuple[str, float], ...]  # ((node, value), ...)
    mutations: tuple[str, ...]
    readout: str
    backend: str
    max_size: int
    points: int = 5  # non-zero concentrations per drug in the default grid
    #: viability as relative cell number after this many hours (None: steady-state index)
    assay_hours: float | None = ASSAY_HOURS


def ensemble_params(
    simulator: Simulator, M: int, seed: int = 0, spread: float = 0.2
) -> EnsembleParams:
    """M parameter sets for a Simulator, keyed so every combination sees the same variants.

    Parameters
    ----------
    simulator : mmmech.model.Simulator
    M : int >= 1
        Number of sets; set 0 is the curated model.
    seed : int >= 0
    spread : float in [0, 1)
        Relative spread of edge weights and EC50s (as :func:`mmmech.model.sample_params`).

    Returns
    -------
    mmmech.model.EnsembleParams
        ``w, n, ec50`` (M, E), ``tau, ymax`` (M, N), ``potency_multiplier`` (M, C), C the
        simulator's drug-target columns. See :mod:`mmmech.screening` for what is drawn and from
        which keyed stream.

    Examples
    --------
    >>> from mmmech.model import Simulator
    >>> a = ensemble_params(Simulator("myeloma", ["bortezomib", "lenalidomide"]), 4, seed=1)
    >>> b = ensemble_params(Simulator("myeloma", ["bortezomib", "dexamethasone"]), 4, seed=1)
    >>> bool((a.potency_multiplier[:, 0] == b.potency_multiplier[:, 0]).all())
    True
    """
    return sample_params(simulator, M, seed=check_seed(seed, "ensemble_params"), spread=spread)


def _task_key(spec: _Spec, combo: Sequence[int], ci: int) -> str:
    """The key of a task: ``"<context>|<drug>+<drug>..."``."""
    return f"{spec.context_names[ci]}|" + "+".join(spec.names[i] for i in combo)


def _task_work(spec: _Spec, task: Task) -> float:
    """Expected relative cost of a task: dose-grid points x parameter sets."""
    combo, _ = task
    pts = 1.0
    for i in combo:
        dose = spec.doses[i]
        pts *= len(dose) if dose is not None else spec.points + 1
    return pts * max(spec.ensemble, 1)


def _score_task(spec: _Spec, combo: tuple[int, ...], ci: int) -> tuple[Row, Timings]:
    """Score one combination in one context: one batched kernel call (grid x ensemble)."""
    t0 = time.perf_counter()
    drugs = [spec.drugs[i] for i in combo]
    names = [spec.names[i] for i in combo]
    sim = Simulator(
        spec.model,
        drugs,
        context=spec.contexts[ci],
        knockouts=spec.knockouts,
        settings=dict(spec.settings),
        mutations=spec.mutations,
    )
    M = spec.ensemble
    params = ensemble_params(sim, M, seed=spec.seed, spread=spec.spread) if M > 1 else None
    t1 = time.perf_counter()
    # the dose grid exactly as mmmech.score() builds it: given series, else the dose-ranging
    # default of the combination's own simulator in this context
    given = [spec.doses[i] for i in combo]
    auto = (
        None
        if all(g is not None for g in given)
        else dose_range(
            sim,
            points=spec.points,
            readout=spec.readout,
            backend=spec.backend,
            assay_hours=spec.assay_hours,
        )
    )
    grid = [
        np.asarray(g, dtype=float) if g is not None else auto[k]  # type: ignore[index]
        for k, g in enumerate(given)
    ]
    t1r = time.perf_counter()
    v, inhib, conv = score_grid(
        sim,
        grid,
        params=params,
        readout=spec.readout,
        backend=spec.backend,
        assay_hours=spec.assay_hours,
    )
    t2 = time.perf_counter()
    # looked up per call, as mmmech.score does, so both always use the same scorer
    cur = synergy_core.score_batch(grid, inhib[:1], spec.metrics)  # what mmmech.score reports
    ens = synergy_core.score_batch(grid, inhib, spec.metrics) if params is not None else None
    t3 = time.perf_counter()
    K = len(combo)
    row: Row = {
        "key": _task_key(spec, combo, ci),
        "context": spec.context_names[ci],
        "size": K,
        "combination": " + ".join(names),
    }
    for j in range(spec.max_size):
        row[f"drug_{j + 1}"] = names[j] if j < K else None
    notes: list[str] = []
    for m in spec.metrics:
        s0 = float(cur.summary[m][0])
        row[m] = s0
        if not math.isfinite(s0):
            notes.append(f"{m} is undefined for the curated model")
        if ens is not None:
            # the one ensemble summary mmmech.score reports too
            summ, note = ensemble_summary(ens.summary[m], spec.interval, m)
            if note:
                notes.append(note)
            row[f"{m}_mean"], row[f"{m}_low"], row[f"{m}_high"] = (
                summ["mean"],
                summ["low"],
                summ["high"],
            )
    inh0 = inhib[0]
    top = tuple(len(g) - 1 for g in grid)
    row["effect_combination"] = float(inh0[top] / 100.0)
    singles = []
    for k in range(K):
        idx = [0] * K
        idx[k] = len(grid[k]) - 1
        singles.append(float(inh0[tuple(idx)] / 100.0))
    row["effect_best_single"] = max(singles)
    row["doses_nM"] = "; ".join(
        f"{n}=" + ",".join(f"{x:.4g}" for x in g[1:]) for n, g in zip(names, grid, strict=True)
    )
    row["members"] = int(inhib.shape[0])
    row["converged"] = bool(conv.all())
    if not row["converged"]:
        notes.append(f"{int((~conv).sum())} of {conv.size} simulations did not reach steady state")
    notes += [n for n in cur.notes if n not in notes]
    row["notes"] = "; ".join(notes)
    return row, {"setup": t1 - t0, "ranging": t1r - t1, "kernel": t2 - t1r, "scoring": t3 - t2}


def _new_timings() -> Timings:
    return {**{k: 0.0 for k in _STAGES}, "tasks": 0}


def _run_chunk(spec: _Spec, tasks: Sequence[Task]) -> dict[str, Any]:
    """Score a chunk of tasks; returns ``{"rows": [...], "timings": {...}}`` (runs on workers)."""
    rows: list[Row] = []
    tim = _new_timings()
    for combo, ci in tasks:
        row, t = _score_task(spec, tuple(combo), int(ci))
        rows.append(row)
        for k, v in t.items():
            tim[k] += v
        tim["tasks"] += 1
    return {"rows": rows, "timings": tim}
