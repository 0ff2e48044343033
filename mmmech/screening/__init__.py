"""Screen every K-drug combination of a drug list, ranked, under parameter uncertainty.

:func:`screen` (``mmmech.screen``, ``mmmech screen``) enumerates every K-drug combination
(K = 2, 3 or 4; several sizes at once are allowed) of the given drugs in every given context,
and scores each one exactly as :func:`mmmech.score` does: the full factorial dose grid (the doses
given, else the default of :func:`mmmech.scoring.dose_range`: a dose-ranging simulation of each
drug alone in the combination's own context), the Viability readout turned into percent
inhibition, Bliss / HSA / Loewe / ZIP on SynergyFinder's conventions (positive = synergy). One
row per combination x context, ranked within each context.

Ensembles
---------
With ``ensemble=M`` (M >= 2) every combination is also scored under M model variants (set 0
is the curated model) and each metric gets the ensemble mean and a percentile interval. The
variants are **the same for every combination**: :func:`ensemble_params` draws every random
number from a stream keyed by ``(seed, what is varied)`` instead of one sequential generator,

* a curated edge ``S -> T`` of the model: weight ``w x U(1 - spread, 1 + spread)`` clipped to
  [0, 1] and EC50 ``x exp(U(-log(1 + spread), log(1 + spread)))`` kept where the normalized Hill
  function is defined, from the streams ``(seed, model, "edge", S, T, "w" | "ec50")``;
* a named model parameter (contested edge): uniform in its recorded ``[low, high]``, one value
  per parameter shared by all its edges, from ``(seed, model, "parameter", name)``;
* a drug's potency at a target: a log-uniform multiplier within the recorded potency range
  (``low/value .. high/value``) where the drug layer records one, from
  ``(seed, "potency", drug, target)`` (one binding affinity per drug and target, so two actions
  of a drug at the same target, e.g. an antibody's ADCC and complement arms, vary together).

Each quantity has its own stream (so the first M sets of a larger ensemble are the M sets of
the smaller one): drug A's variant k is the same in (A, B) and in (A, C), edges vary
identically in every context (common random numbers: context differences are not confounded
by different variants), and nothing depends on the order of the work, on chunking or on the
backend. :func:`ensemble_params` is :func:`mmmech.model.sample_params` with an integer seed
(the one implementation); a named parameter takes one value per set for all its edges.

Execution and output
--------------------
Work is a list of tasks (one combination in one context; each task is one batched kernel call
over dose grid x ensemble, after the small dose-ranging call when a default grid is needed)
grouped in chunks of ``chunk_size`` tasks. Chunks run in-process by default, on a local Dask
cluster (``workers=N``: ``LocalCluster``, processes, one thread per worker) or on an existing
Dask cluster (``scheduler=ADDRESS`` or ``client=``). Every task is a pure function of its
inputs, so the results are identical whatever the backend, worker count or chunking.

With ``out=FILE.parquet|FILE.csv`` every finished chunk is appended to a journal
``FILE.parquet.partial`` (JSON lines, flushed and fsynced) before the next one is counted as
done. An interrupted run (Ctrl-C, a killed worker or process, a crash) keeps every finished
row; running the same screen again reads the journal, skips what is done and computes only
the rest. At the end the table is written to a temporary file in the same folder and moved
over ``FILE`` with :func:`os.replace` (never a half-written file), then the journal is removed.
Scripts that use ``workers=N`` start worker processes, so they need the usual
``if __name__ == "__main__":`` guard of Python multiprocessing.

A journal written by a *different* screen (other drugs, contexts, seed ...) is never mixed
in: the run stops with an error unless ``restart=True``. "Different" is decided by a
fingerprint of the configuration *and of the content* of every input (the model, each context
and each drug record, hashed from their parsed content, not their names or paths), so editing
a model file between two runs is noticed. Every journaled row carries a sha256 checksum; a row
that fails it (an edited value) or lacks a field the table needs (null or text where a number
belongs) is computed again with a :class:`JournalWarning`, never trusted and never a crash at
the end. The journal is created only once the work can start (after the scheduler answered),
so a screen that fails to start leaves nothing behind.

A scheduler address is checked before use (scheme, host, port 1-65535), and reaching it
(connection, Dask's handshake, the client's start) is bounded by :data:`SCHEDULER_TIMEOUT`
seconds; whatever is not a Dask scheduler (a silent port, an HTTP server) is a
:class:`~mmmech.exceptions.NetworkUnavailableError` instead of a hang.

Limits (before anything is computed or written): at most ``mmmech._guards.MAX_TASKS`` rows and
``mmmech._guards.MAX_SIMULATIONS`` simulated wells (dose-grid points x ensemble members) per
row; see :mod:`mmmech._guards` for how they were chosen.

Modules
-------
:mod:`~mmmech.screening.tasks` (one combination scored in one context; runs on workers),
:mod:`~mmmech.screening.planning` (inputs checked, tasks enumerated, content fingerprinted;
named so that ``mmmech.screening.plan`` stays the function :func:`plan`),
:mod:`~mmmech.screening.journal` (finished rows kept across interruptions),
:mod:`~mmmech.screening.progress` (the bar on stderr), :mod:`~mmmech.screening.backends`
(in-process or Dask) and :mod:`~mmmech.screening.output` (ranking and the final file), each
importing only the ones before it; :func:`screen` here runs them in that order.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._guards import check_int
from .._typing import ContextLike, ModelLike, PathLike
from ..exceptions import InvalidInputError, MmmechError
from ..scoring import ASSAY_HOURS
from ..synergy import METRICS
from ..utils import did_you_mean
from .backends import SCHEDULER_TIMEOUT, Chunk, _check_scheduler, _chunks, _journaled_run
from .journal import JOURNAL_SUFFIX, JournalWarning, _Journal, _row_problem
from .output import OUT_FORMATS, _assemble, _check_out, _rank_column, _write_final
from .planning import SIZES, DrugLike, ScreenPlan, plan, read_drug_list
from .tasks import _FUNC, Row, Timings, _task_work, ensemble_params

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    import pandas as pd
    from dask.distributed import Client

__all__ = [
    "screen",
    "ensemble_params",
    "read_drug_list",
    "plan",
    "ScreenPlan",
    "OUT_FORMATS",
    "JOURNAL_SUFFIX",
    "SIZES",
    "JournalWarning",
    "SCHEDULER_TIMEOUT",
]


def screen(
    drugs: Iterable[DrugLike],
    size: int | Iterable[int] = 2,
    contexts: None | ContextLike | Iterable[ContextLike] = ("cell_line",),
    model: ModelLike = "myeloma",
    ensemble: int = 0,
    seed: int = 0,
    metrics: str | Sequence[str] = "all",
    rank_by: str = "bliss",
    doses: Mapping[DrugLike, Sequence[float]] | None = None,
    knockouts: Iterable[str] = (),
    settings: Mapping[str, float] | None = None,
    mutations: Iterable[str] = (),
    interval: float = 0.9,
    spread: float = 0.2,
    readout: str = "viability",
    out: PathLike | None = None,
    workers: int | None = 0,
    scheduler: str | None = None,
    client: Client | None = None,
    chunk_size: int = 1,
    restart: bool = False,
    progress: bool | None = None,
    backend: str = "auto",
    points: int | None = None,
    assay_hours: float | None = ASSAY_HOURS,
) -> pd.DataFrame:
    """Score and rank every K-drug combination of `drugs` in every context.

    Parameters
    ----------
    drugs : sequence of str (library names or synonyms) or Drug objects, all different
    size : int or sequence of int
        Combination size K (2, 3 or 4), or several sizes (e.g. ``(2, 3)``).
    contexts : str or sequence of str
        "cell_line", "marrow" or context files (default: cell_line).
    model : PathwayModel, bundled name or path (default "myeloma")
    ensemble : int
        0 (or 1): the curated model only. M >= 2: M model variants (set 0 curated), the same
        for every combination (:func:`ensemble_params`).
    seed : int >= 0
        Seed of the ensemble.
    metrics : "all" or a metric name or a sequence of them (bliss, hsa, loewe, zip)
    rank_by : str
        Metric the rows are ranked by (ensemble mean with an ensemble, else the curated score),
        highest (most synergistic) first within each context. Default "bliss" (needs no
        dose-response fit).
    doses : mapping drug -> sequence of nM, optional
        Dose series (0 added when missing); other drugs get the default grid of
        :func:`mmmech.score` (:func:`mmmech.scoring.dose_range`, per combination and context).
    knockouts, settings, mutations : as in :func:`mmmech.score`, applied to every combination
    interval : float in (0, 1)
        Central percentile interval of the ensemble (default 0.9: 5th to 95th percentile).
    spread : float in [0, 1)
        Relative spread of edge weights and EC50s in the ensemble.
    readout : str
        Readout scored (default "viability").
    assay_hours : float or None
        The viability response is the relative cell number after this many hours (default 72,
        as :func:`mmmech.score`); None: the steady-state Viability index.
    out : path ending in .parquet, .pq or .csv, optional
        Write the ranked table there (atomically), journaling finished rows in
        ``<out>.partial`` so an interrupted run resumes where it stopped.
    workers : int
        0: in-process. N >= 1: a local Dask cluster of N worker processes, one thread each.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``; schemes tcp, tls, ws, wss,
        ucx, or a bare ``host:port``; port 1-65535). Reaching it (connection, Dask's handshake
        and the client's start) is bounded by ``SCHEDULER_TIMEOUT`` (30 s); anything that does
        not answer as a Dask scheduler in time is a :class:`NetworkUnavailableError`.
    client : dask.distributed.Client, optional
        An existing client to use (not closed here).
    chunk_size : int >= 1
        Tasks (combination x context) per chunk; each task is one batched kernel call.
    restart : bool
        Discard an unfinished journal of a different screen instead of stopping.
    progress : bool or None
        Progress bar on stderr (None: only when `out` is given).
    backend : {"auto", "cython", "python"}
    points : int >= 3, optional
        Non-zero concentrations per drug in the default grid (default 5, as :func:`mmmech.score`).

    Limits (checked before anything is computed or written): at most
    ``mmmech._guards.MAX_TASKS`` (100,000) rows and ``mmmech._guards.MAX_SIMULATIONS``
    (100,000) simulated wells (dose-grid points x ensemble members) per row.

    Returns
    -------
    pandas.DataFrame
        One row per combination x context, sorted by context then rank. Columns: ``context,
        rank, combination, size, drug_1 .. drug_K``; per metric ``<m>`` (curated score, percent
        inhibition, positive = synergy) and with an ensemble ``<m>_mean, <m>_low, <m>_high``;
        ``effect_combination`` and ``effect_best_single`` (fractional inhibition of viability
        at the highest doses, curated model), ``doses_nM`` (the grid scored, e.g.
        ``"bortezomib=1.72,5.16,...; venetoclax=..."``, zero dose implied), ``members``
        (parameter sets scored), ``converged`` (every simulation reached steady state) and
        ``notes``. ``df.attrs`` holds the configuration, notes and timings (the timings are
        never part of the output file).

    Examples
    --------
    >>> df = screen(["bortezomib", "lenalidomide", "dexamethasone"], size=2)  # doctest: +SKIP
    >>> list(df["rank"])                                                    # doctest: +SKIP
    [1, 2, 3]
    """
    func = _FUNC
    path, fmt = _check_out(out, func)
    workers = check_int(
        0 if workers is None else workers, func, "workers", minimum=0, what="0: in-process"
    )
    if sum(x is not None and x is not False for x in (scheduler, client)) + (workers > 0) > 1:
        raise InvalidInputError(f"{func}(): choose one of workers, scheduler and client")
    chunk_size = check_int(chunk_size, func, "chunk_size", minimum=1)
    if scheduler is not None and scheduler is not False:
        _check_scheduler(scheduler, func)
    p = plan(
        drugs,
        size=size,
        contexts=contexts,
        model=model,
        ensemble=ensemble,
        seed=seed,
        metrics=metrics,
        doses=doses,
        knockouts=knockouts,
        settings=settings,
        mutations=mutations,
        interval=interval,
        spread=spread,
        readout=readout,
        backend=backend,
        points=points,
        assay_hours=assay_hours,
    )
    if rank_by not in p.spec.metrics:
        hint = (
            "; add it to the metrics" if rank_by in METRICS else did_you_mean(str(rank_by), METRICS)
        )
        raise InvalidInputError(
            f"{func}(): rank_by must be one of the metrics computed "
            f"{list(p.spec.metrics)}, got {rank_by!r}{hint}"
        )
    journal = None
    if path is not None:
        # reads an existing journal (nothing is written before the work can start)
        journal = _Journal(
            path + JOURNAL_SUFFIX,
            p.fingerprint,
            p.config,
            restart=restart,
            check_row=lambda row: _row_problem(p.spec, row),
        )
    keyset = set(p.keys)
    done: dict[str, Row] = (
        {} if journal is None else {k: r for k, r in journal.rows.items() if k in keyset}
    )
    work = {k: _task_work(p.spec, t) for k, t in zip(p.keys, p.tasks, strict=True)}
    timings: Timings = {"setup": 0.0, "ranging": 0.0, "kernel": 0.0, "scoring": 0.0, "tasks": 0}

    def add_timings(result: dict[str, Any]) -> None:
        for k in timings:
            timings[k] += result["timings"][k]

    def chunks_for(finished: Mapping[str, Any]) -> list[Chunk]:
        todo = [t for t, k in zip(p.tasks, p.keys, strict=True) if k not in finished]
        return _chunks(todo, int(chunk_size))

    t0 = time.perf_counter()
    resumed = _journaled_run(
        p.spec,
        p.keys,
        chunks_for,
        add_timings,
        done=done,
        journal=journal,
        workers=workers,
        scheduler=scheduler,
        client=client,
        func=func,
        progress=(path is not None) if progress is None else bool(progress),
        work=work,
    )
    wall = time.perf_counter() - t0
    missing = [k for k in p.keys if k not in done]
    if missing:  # pragma: no cover - every chunk either delivers or raises
        raise MmmechError(f"{func}(): {len(missing)} tasks did not deliver (first: {missing[0]})")
    df = _assemble(p, done, rank_by)
    timings["wall"] = wall
    df.attrs.update(
        {
            "config": p.config,
            "rank_by": _rank_column(p.spec, rank_by),
            "notes": list(p.notes),
            "resumed": resumed,
            "computed": p.n_tasks - resumed,
            "timings": timings,
        }
    )
    if path is not None and fmt is not None:
        meta = {
            "config": p.config,
            "rank_by": _rank_column(p.spec, rank_by),
            "notes": list(p.notes),
            "fingerprint": p.fingerprint,
        }
        _write_final(df, path, fmt, meta)
        try:
            os.remove(path + JOURNAL_SUFFIX)
        except OSError:
            pass
    return df
