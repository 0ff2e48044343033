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
"""
import dataclasses
import hashlib
import itertools
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import _guards
from .._guards import (check_backend, check_count, check_dose_list, check_ensemble,
                      check_fraction, check_int, check_seed, check_simulations)
from ..exceptions import (InvalidInputError, MmmechError, NetworkUnavailableError,
                         UnknownContextError, UnknownDrugError, UnknownNameError)
from ..utils import did_you_mean

__all__ = ["screen", "ensemble_params", "read_drug_list", "plan", "ScreenPlan", "OUT_FORMATS",
           "JOURNAL_SUFFIX", "SIZES", "JournalWarning", "SCHEDULER_TIMEOUT"]

#: accepted output extensions -> format
OUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
#: suffix of the journal written beside the output while a screen runs
JOURNAL_SUFFIX = ".partial"
#: combination sizes a screen accepts
SIZES = (2, 3, 4)
_JOURNAL_VERSION = 2      # 2: rows carry a sha256 checksum; content-hashed fingerprint
_FUNC = "screen"


# ---------------------------------------------------------------------- ensembles
def _check_seed(seed, func):
    return check_seed(seed, func)


def ensemble_params(simulator, M, seed=0, spread=0.2):
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
        simulator's drug-target columns. See the module docstring for what is drawn and from
        which keyed stream.

    Examples
    --------
    >>> from mmmech.model import Simulator
    >>> a = ensemble_params(Simulator("myeloma", ["bortezomib", "lenalidomide"]), 4, seed=1)
    >>> b = ensemble_params(Simulator("myeloma", ["bortezomib", "dexamethasone"]), 4, seed=1)
    >>> bool((a.potency_multiplier[:, 0] == b.potency_multiplier[:, 0]).all())
    True
    """
    from ..simulation.simulator import sample_params
    return sample_params(simulator, M, seed=_check_seed(seed, "ensemble_params"), spread=spread)


# ---------------------------------------------------------------------- inputs
def read_drug_list(path):
    """Drug names from a text file: one per line; blank lines and ``#`` comments ignored.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    list of str (as written; resolved later against the library)
    """
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise InvalidInputError(f"screen(): cannot read the drug list {p!r}: "
                                f"{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"screen(): the drug list {p!r} is not UTF-8 text") from None
    out = []
    for ln in lines:
        name = ln.split("#", 1)[0].strip()
        if name:
            out.append(name)
    if not out:
        raise InvalidInputError(f"screen(): the drug list {p!r} names no drug (one name per "
                                f"line; '#' starts a comment)")
    return out


def _check_sizes(size, func):
    vals = [size] if isinstance(size, (int, np.integer)) and not isinstance(size, bool) else size
    try:
        vals = list(vals)
    except TypeError:
        raise InvalidInputError(f"{func}(): size must be an integer in 2..4 or a list of them, "
                                f"got {size!r}") from None
    if not vals:
        raise InvalidInputError(f"{func}(): size must name at least one combination size (2..4)")
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) not in SIZES:
            raise InvalidInputError(f"{func}(): combination size K must be 2, 3 or 4, got {v!r}")
        if int(v) not in out:
            out.append(int(v))
    return tuple(sorted(out))


def _resolve_drugs(drugs, func):
    from ..simulation.simulator import resolve_drug
    if isinstance(drugs, (str, bytes)) or not hasattr(drugs, "__iter__"):
        raise InvalidInputError(f"{func}(): drugs must be a list of drug names, got {drugs!r}")
    objs, seen = [], {}
    for d in drugs:
        try:
            obj = resolve_drug(d)
        except UnknownNameError as exc:
            raise UnknownDrugError(f"{func}(): {exc}") from None
        given = d if isinstance(d, str) else obj.name
        if obj.name in seen:
            first = seen[obj.name]
            how = "" if first == given else f" (as {first!r} and {given!r})"
            raise InvalidInputError(f"{func}(): drug {obj.name!r} is listed twice{how}; each "
                                    f"drug may appear once")
        seen[obj.name] = given
        objs.append(obj)
    return objs


def _is_library_drug(drug):
    try:
        from .. import drugs as _drugs
        return _drugs.get(drug.name) is drug or _drugs.get(drug.name) == drug
    except (MmmechError, KeyError, ImportError):
        return False


def _resolve_contexts(contexts, func):
    from ..network.contexts import available_contexts, load_context
    if contexts is None:
        contexts = ["cell_line"]
    elif isinstance(contexts, (str, os.PathLike)) or not hasattr(contexts, "__iter__"):
        contexts = [contexts]
    contexts = list(contexts)
    if not contexts:
        contexts = ["cell_line"]
    objs, shipped = [], []
    for c in contexts:
        try:
            ctx = load_context(c)
        except UnknownContextError as exc:
            raise UnknownContextError(f"{func}(): {exc}") from None
        except InvalidInputError as exc:
            raise type(exc)(f"{func}(): context {c!r}: {exc}") from None
        if any(o.name == ctx.name for o in objs):
            raise InvalidInputError(f"{func}(): context {ctx.name!r} is given twice; each context "
                                    f"may appear once (context names must differ)")
        objs.append(ctx)
        # bundled contexts travel by name, user files as the parsed Context (workers on
        # another machine need not see the file)
        shipped.append(c if isinstance(c, str) and c in available_contexts() else ctx)
    return objs, shipped


def _check_out(out, func):
    if out is None:
        return None, None
    p = os.fspath(out)
    ext = os.path.splitext(p)[1].lower()
    if ext not in OUT_FORMATS:
        raise InvalidInputError(f"{func}(): the output file must end in "
                                f"{', '.join(OUT_FORMATS)} (Parquet or CSV, chosen by extension), "
                                f"got {p!r}")
    folder = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(folder):
        raise InvalidInputError(f"{func}(): the folder of the output file {p!r} does not exist")
    if os.path.isdir(p):
        raise InvalidInputError(f"{func}(): the output path {p!r} is a folder")
    # only a regular file (or a link to one) is replaced, output and journal alike
    from ..utils import output_target
    output_target(p, prefix=f"{func}(): ")
    output_target(p + JOURNAL_SUFFIX, prefix=f"{func}(): ")
    if OUT_FORMATS[ext] == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:  # pragma: no cover - a declared dependency
            raise InvalidInputError(f"{func}(): writing Parquet needs pyarrow; install it or "
                                    f"write .csv") from None
    return p, OUT_FORMATS[ext]


# ---------------------------------------------------------------------- content digests
def _canonical(obj, depth=0):
    """A JSON-able, process-independent rendering of an input's content (dataclasses, mappings,
    sequences, sets, arrays, numbers, text); used to fingerprint what a screen computes from."""
    if depth > 200:
        raise InvalidInputError(f"{_FUNC}(): an input is nested too deeply to fingerprint")
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return repr(obj)                        # exact, and NaN/inf stay JSON-able
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return _canonical(obj.item(), depth + 1)
    if isinstance(obj, np.ndarray):
        return {"__array__": str(obj.dtype), "shape": list(obj.shape),
                "data": _canonical(obj.tolist(), depth + 1)}
    if isinstance(obj, bytes):
        return {"__bytes__": hashlib.sha256(obj).hexdigest()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # private fields are caches (e.g. a drug's parsed RDKit molecule), not content
        return {"__type__": type(obj).__name__,
                **{f.name: _canonical(getattr(obj, f.name), depth + 1)
                   for f in dataclasses.fields(obj) if not f.name.startswith("_")}}
    if isinstance(obj, Mapping):
        return {"__map__": sorted(([_canonical(k, depth + 1), _canonical(v, depth + 1)]
                                   for k, v in obj.items()), key=lambda kv: json.dumps(kv[0]))}
    if isinstance(obj, (set, frozenset)):
        return {"__set__": sorted((_canonical(v, depth + 1) for v in obj), key=json.dumps)}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v, depth + 1) for v in obj]
    if hasattr(obj, "__dict__"):
        return {"__type__": type(obj).__name__, **{k: _canonical(v, depth + 1)
                                                   for k, v in sorted(vars(obj).items())
                                                   if not k.startswith("_")}}
    text = repr(obj)
    # an object without a content view: its type only (never a memory address)
    return {"__type__": type(obj).__name__, "repr": None if " at 0x" in text else text}


def _digest(obj):
    """sha256 of :func:`_canonical` (the content, not the name or path, of an input)."""
    data = json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class _Spec:
    """Everything a worker needs to score tasks (small and picklable)."""

    model: object            # bundled name or a PathwayModel
    drugs: tuple             # library names or Drug objects
    names: tuple             # canonical names
    contexts: tuple          # bundled names or Context objects
    context_names: tuple
    doses: tuple             # per drug: tuple of nM (first 0), or None (default grid)
    ensemble: int
    seed: int
    spread: float
    metrics: tuple
    interval: float
    knockouts: tuple
    settings: tuple          # ((node, value), ...)
    mutations: tuple
    readout: str
    backend: str
    max_size: int
    points: int = 5          # non-zero concentrations per drug in the default grid


@dataclass(frozen=True)
class ScreenPlan:
    """What a screen will compute (see :func:`plan`).

    Attributes
    ----------
    spec : the worker-side description (drugs, contexts, doses, ensemble ...)
    tasks : tuple of (combination (tuple of drug indices), context index)
    keys : tuple of str, one per task (``"<context>|<drug>+<drug>..."``)
    fingerprint : str (sha256 of the screen's configuration)
    config : dict (JSON-able description of the screen)
    notes : list of str (drug targets the network does not model, ...)
    """

    spec: _Spec
    tasks: tuple
    keys: tuple
    fingerprint: str
    config: dict
    notes: tuple

    @property
    def n_tasks(self):
        return len(self.tasks)


def _task_key(spec, combo, ci):
    return f"{spec.context_names[ci]}|" + "+".join(spec.names[i] for i in combo)


def plan(drugs, size=2, contexts=("cell_line",), model="myeloma", ensemble=0, seed=0,
         metrics="all", doses=None, knockouts=(), settings=None, mutations=(), interval=0.9,
         spread=0.2, readout="viability", backend="auto", points=None):
    """Check a screen's inputs and enumerate its tasks (no simulation yet).

    Parameters are those of :func:`screen`. Every check runs here, before any work: unknown or
    duplicate drugs, K outside 2..4 or larger than the drug list, unknown contexts, knockouts,
    nodes or mutations, drugs without a usable reference concentration, bad doses, and the
    resource limits (``mmmech._guards.MAX_TASKS`` rows, ``MAX_SIMULATIONS`` simulated wells
    per row).

    Returns
    -------
    ScreenPlan
    """
    from ..network import model as pathways
    from .. import synergy
    from ..simulation.simulator import Simulator
    from ..scoring import DEFAULT_POINTS
    func = _FUNC
    sizes = _check_sizes(size, func)
    objs = _resolve_drugs(drugs, func)
    names = tuple(d.name for d in objs)
    if len(names) < 2:
        raise InvalidInputError(f"{func}(): a screen needs at least two drugs, got "
                                f"{len(names)}: {list(names)}")
    if max(sizes) > len(names):
        raise InvalidInputError(f"{func}(): combinations of K={max(sizes)} drugs need at least "
                                f"{max(sizes)} drugs, got {len(names)}: {list(names)}")
    ctx_objs, ctx_ship = _resolve_contexts(contexts, func)
    metrics = tuple(synergy.check_metrics(metrics, func))
    ens = check_ensemble(ensemble, func)
    seed = check_seed(seed, func)
    interval = check_fraction(interval, func, "interval")
    spread = check_fraction(spread, func, "spread", include_low=True)
    backend = check_backend(backend, func)
    points = DEFAULT_POINTS if points is None else check_int(
        points, func, "points", minimum=3,
        what="non-zero concentrations per drug in the default grid")
    # the number of rows, counted before anything is enumerated
    n_tasks = len(ctx_objs) * sum(math.comb(len(names), K) for K in sizes)
    check_count(n_tasks, _guards.MAX_TASKS, func, "rows (combinations x contexts)",
                "screen fewer drugs, smaller combination sizes or fewer contexts (split the "
                "screen); the limit is mmmech._guards.MAX_TASKS")
    knockouts = tuple(knockouts or ())
    settings = dict(settings or {})
    mutations = tuple(str(m) if not isinstance(m, str) else m for m in (mutations or ()))
    # doses: given (validated as score() does) or the default series
    given = {}
    for key, vals in dict(doses or {}).items():
        d = _resolve_drugs([key], func)[0]
        if d.name not in names:
            raise InvalidInputError(f"{func}(): doses given for {d.name!r}, which is not in the "
                                    f"drug list {list(names)}{did_you_mean(d.name, names)}")
        given[d.name] = check_dose_list(d.name, vals, func)
    for d in objs:
        ref = getattr(d, "reference_nM", None)
        if d.name not in given and not (isinstance(ref, (int, float)) and math.isfinite(ref)
                                        and ref > 0):
            raise InvalidInputError(f"{func}(): {d.name!r} has no usable reference "
                                    f"concentration ({ref!r}) for its default doses; give its "
                                    f"doses explicitly")
    grid = tuple(tuple(float(x) for x in given[n]) if n in given else None for n in names)
    # the largest row (the K drugs with the longest dose series) within the per-row limit
    lens = sorted((len(g) if g is not None else points + 1 for g in grid), reverse=True)
    check_simulations(lens[:max(sizes)], ens if ens > 1 else 1, func,
                      "use smaller combination sizes (--size), fewer doses per drug (--points "
                      "or shorter --doses lists) or a smaller --ensemble; the limit is "
                      "mmmech._guards.MAX_SIMULATIONS")
    # the model, the contexts, knockouts, settings and mutations: one Simulator per context with
    # every drug attached checks them all (and collects notes about unmodelled targets)
    mobj = pathways.load(model)
    notes = []
    for ctx in ctx_objs:
        try:
            sim = Simulator(mobj, objs, context=ctx, knockouts=knockouts, settings=settings,
                            mutations=mutations)
        except MmmechError as exc:
            raise type(exc)(f"{func}(): {exc}") from None
        if readout not in sim.compiled.readouts:
            raise InvalidInputError(f"{func}(): the model has no readout {readout!r}; it has "
                                    f"{sorted(sim.compiled.readouts)}"
                                    f"{did_you_mean(readout, sim.compiled.readouts)}")
        for nt in sim.notes:
            if nt not in notes:
                notes.append(nt)
    model_ship = model if isinstance(model, str) and model in pathways.available() else mobj
    drug_ship = tuple(d.name if _is_library_drug(d) else d for d in objs)
    spec = _Spec(model=model_ship, drugs=drug_ship, names=names, contexts=tuple(ctx_ship),
                 context_names=tuple(c.name for c in ctx_objs), doses=grid,
                 ensemble=ens, seed=seed, spread=spread, metrics=metrics, interval=interval,
                 knockouts=knockouts, settings=tuple(sorted(settings.items())),
                 mutations=mutations, readout=str(readout), backend=backend,
                 max_size=max(sizes), points=points)
    tasks = tuple((combo, ci) for K in sizes
                  for combo in itertools.combinations(range(len(names)), K)
                  for ci in range(len(ctx_objs)))
    keys = tuple(_task_key(spec, combo, ci) for combo, ci in tasks)
    from .. import __version__
    config = {
        "mmmech": __version__, "model": mobj.name, "model_origin": mobj.origin,
        "drugs": list(names), "sizes": list(sizes),
        "contexts": [{"name": c.name, "origin": c.origin,
                      "settings": sorted(c.settings.items()), "mutations": list(c.mutations)}
                     for c in ctx_objs],
        "doses_nM": {n: (list(g) if g is not None else "default (scoring.dose_range)")
                     for n, g in zip(names, grid)},
        "ensemble": ens, "seed": seed, "spread": spread, "interval": interval,
        "metrics": list(metrics), "knockouts": list(knockouts),
        "settings": sorted(settings.items()), "mutations": list(mutations),
        "readout": str(readout), "points": points,
        # the content of every input, so an edited model, context or drug record is never
        # mixed with rows computed from the old one (names and paths alone do not say that)
        "content_sha256": {
            "model": _digest(mobj),
            "contexts": {c.name: _digest(c) for c in ctx_objs},
            "drugs": {d.name: _digest(d) for d in objs},
        },
    }
    fp = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return ScreenPlan(spec=spec, tasks=tasks, keys=keys, fingerprint=fp, config=config,
                      notes=tuple(notes))


# ---------------------------------------------------------------------- the work
def _score_task(spec, combo, ci):
    """Score one combination in one context: one batched kernel call (grid x ensemble)."""
    from ..synergy._core import score_batch
    from ..simulation.simulator import Simulator
    from ..scoring import dose_range, ensemble_summary, score_grid
    t0 = time.perf_counter()
    drugs = [spec.drugs[i] for i in combo]
    names = [spec.names[i] for i in combo]
    sim = Simulator(spec.model, drugs, context=spec.contexts[ci], knockouts=spec.knockouts,
                    settings=dict(spec.settings), mutations=spec.mutations)
    M = spec.ensemble
    params = ensemble_params(sim, M, seed=spec.seed, spread=spec.spread) if M > 1 else None
    t1 = time.perf_counter()
    # the dose grid exactly as mmmech.score() builds it: given series, else the dose-ranging
    # default of the combination's own simulator in this context
    given = [spec.doses[i] for i in combo]
    auto = None if all(g is not None for g in given) else \
        dose_range(sim, points=spec.points, readout=spec.readout, backend=spec.backend)
    grid = [np.asarray(g, dtype=float) if g is not None else auto[k]
            for k, g in enumerate(given)]
    t1r = time.perf_counter()
    v, inhib, conv = score_grid(sim, grid, params=params, readout=spec.readout,
                                backend=spec.backend)
    t2 = time.perf_counter()
    cur = score_batch(grid, inhib[:1], spec.metrics)            # what mmmech.score reports
    ens = score_batch(grid, inhib, spec.metrics) if params is not None else None
    t3 = time.perf_counter()
    K = len(combo)
    row = {"key": _task_key(spec, combo, ci), "context": spec.context_names[ci], "size": K,
           "combination": " + ".join(names)}
    for j in range(spec.max_size):
        row[f"drug_{j + 1}"] = names[j] if j < K else None
    notes = []
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
            row[f"{m}_mean"], row[f"{m}_low"], row[f"{m}_high"] = (summ["mean"], summ["low"],
                                                                   summ["high"])
    inh0 = inhib[0]
    top = tuple(len(g) - 1 for g in grid)
    row["effect_combination"] = float(inh0[top] / 100.0)
    singles = []
    for k in range(K):
        idx = [0] * K
        idx[k] = len(grid[k]) - 1
        singles.append(float(inh0[tuple(idx)] / 100.0))
    row["effect_best_single"] = max(singles)
    row["doses_nM"] = "; ".join(f"{n}=" + ",".join(f"{x:.4g}" for x in g[1:])
                                for n, g in zip(names, grid))
    row["members"] = int(inhib.shape[0])
    row["converged"] = bool(conv.all())
    if not row["converged"]:
        notes.append(f"{int((~conv).sum())} of {conv.size} simulations did not reach steady "
                     f"state")
    notes += [n for n in cur.notes if n not in notes]
    row["notes"] = "; ".join(notes)
    return row, {"setup": t1 - t0, "ranging": t1r - t1, "kernel": t2 - t1r, "scoring": t3 - t2}


def _task_work(spec, task):
    """Expected relative cost of a task: dose-grid points x parameter sets."""
    combo, _ = task
    pts = 1.0
    for i in combo:
        pts *= len(spec.doses[i]) if spec.doses[i] is not None else spec.points + 1
    return pts * max(spec.ensemble, 1)


def _run_chunk(spec, tasks):
    """Score a chunk of tasks; returns ``{"rows": [...], "timings": {...}}`` (runs on workers)."""
    rows, tim = [], {"setup": 0.0, "ranging": 0.0, "kernel": 0.0, "scoring": 0.0, "tasks": 0}
    for combo, ci in tasks:
        row, t = _score_task(spec, tuple(combo), int(ci))
        rows.append(row)
        for k, v in t.items():
            tim[k] += v
        tim["tasks"] += 1
    return {"rows": rows, "timings": tim}


# ---------------------------------------------------------------------- journal
class JournalWarning(UserWarning):
    """Rows of a screen journal that failed their checksum or were malformed (recomputed)."""


_CHECKSUM = "sha256"


def _row_checksum(row):
    """sha256 over a row's canonical JSON (every field but the checksum itself)."""
    body = {k: v for k, v in row.items() if k != _CHECKSUM}
    data = json.dumps(body, sort_keys=True, allow_nan=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _row_problem(spec, row):
    """Why a journal row cannot be used for `spec` (None when it can): every field the table
    needs, with the right type, consistent with its key."""
    key = row.get("key")
    if not isinstance(key, str):
        return "no key"
    ctx, _, combo = key.partition("|")
    names = combo.split("+")
    checks = [
        (row.get("context") == ctx, "context"),
        (row.get("combination") == " + ".join(names), "combination"),
        (isinstance(row.get("size"), int) and not isinstance(row.get("size"), bool)
         and row.get("size") == len(names), "size"),
        (isinstance(row.get("doses_nM"), str), "doses_nM"),
        (isinstance(row.get("notes"), str), "notes"),
        (isinstance(row.get("converged"), bool), "converged"),
        (isinstance(row.get("members"), int) and not isinstance(row.get("members"), bool)
         and row.get("members") == max(spec.ensemble, 1), "members"),
    ]
    for j in range(spec.max_size):
        want = names[j] if j < len(names) else None
        checks.append((row.get(f"drug_{j + 1}", "missing") == want, f"drug_{j + 1}"))
    numeric = ["effect_combination", "effect_best_single"]
    for m in spec.metrics:
        numeric.append(m)
        if spec.ensemble > 1:
            numeric += [f"{m}_mean", f"{m}_low", f"{m}_high"]
    checks += [(_is_num(row.get(c)), c) for c in numeric]
    bad = [what for ok, what in checks if not ok]
    return f"bad or missing {', '.join(bad)}" if bad else None


class _Journal:
    """Finished rows appended as JSON lines beside the output, flushed and fsynced per chunk.

    Line 1 is a header with the screen's fingerprint; every further line is one finished row
    (with its ``key``) and a ``sha256`` checksum of the row's canonical JSON. A line cut short
    by a crash is dropped (the file is truncated to the last complete line) before new rows are
    appended. A complete row that fails its checksum (an edited value), is not JSON, or lacks
    a field the table needs (null or text where a number belongs) is not used: it is computed
    again, with a :class:`JournalWarning`. The file is locked (``flock``) while a screen reads
    or writes it, so two runs cannot interleave their rows.

    Nothing is written when the journal is opened: an existing journal is read (and checked to
    belong to this screen), and :meth:`start` creates, truncates (``restart``) or extends the
    file only once the work can start, so a screen that fails to start (an unreachable
    scheduler, an impossible request) leaves no journal behind.
    """

    def __init__(self, path, fingerprint, config, restart=False, check_row=None):
        self.path = path
        self.fingerprint = fingerprint
        self.config = config
        self.restart = bool(restart)
        self.check_row = check_row
        self.rows = {}
        self.rejected = {}            # key -> why (checksum, malformed)
        self.fh = None
        if self.restart:
            return                    # the old journal is discarded only when work starts
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._os_error(exc) from None
        try:
            self._lock(fh)
            self._read(self._read_all(fh))
        finally:
            fh.close()                # also releases the lock
        self._warn()

    def _os_error(self, exc):
        return InvalidInputError(f"{_FUNC}(): cannot use the journal {self.path!r}: "
                                 f"{exc.strerror or exc}; remove it or choose another output "
                                 f"file")

    def _read_all(self, fh):
        try:
            fh.seek(0)
            return fh.read()
        except OSError as exc:        # e.g. a folder at the journal's path
            raise self._os_error(exc) from None

    def _lock(self, fh):
        try:
            import fcntl
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        except OSError:
            fh.close()
            raise InvalidInputError(f"{_FUNC}(): another screen is writing {self.path!r} right "
                                    f"now; wait for it or choose another output file") from None

    def start(self):
        """Open the journal for appending (create it, or truncate it with `restart`) and make
        sure it starts with this screen's header; called once the work can start."""
        if self.fh is not None:
            return
        try:
            fh = open(self.path, "a+b")
        except OSError as exc:
            raise self._os_error(exc) from None
        self._lock(fh)
        self.fh = fh
        try:
            if self.restart:
                fh.truncate(0)
                self.restart = False
            # read again under the lock: another run may have written since the first look
            self.rows, self.rejected = {}, {}
            good = self._read(self._read_all(fh))
            fh.truncate(good)
            fh.seek(0, os.SEEK_END)
            if good == 0:
                header = {"mmmech_screen_journal": _JOURNAL_VERSION,
                          "fingerprint": self.fingerprint, "config": self.config}
                self._write([header])
        except BaseException:
            self.close()
            raise

    def _read(self, data):
        """Parse the journal bytes into ``self.rows``; return the length of the intact part
        (complete lines; 0: start afresh)."""
        func = _FUNC
        if not data:
            return 0
        end = data.find(b"\n")
        try:
            if end < 0:
                raise ValueError("the header has no newline")
            head = json.loads(data[:end].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            if data.startswith(b'{"mmmech_screen_journal"') and end < 0:
                return 0           # the header itself was cut short: start afresh
            raise InvalidInputError(f"{func}(): {self.path!r} exists but is not a screen "
                                    f"journal; remove it or choose another output file") from None
        if not isinstance(head, dict) or "mmmech_screen_journal" not in head:
            raise InvalidInputError(f"{func}(): {self.path!r} exists but is not a screen "
                                    f"journal; remove it or choose another output file")
        if head.get("mmmech_screen_journal") != _JOURNAL_VERSION:
            raise InvalidInputError(
                f"{func}(): the unfinished journal {self.path!r} has format version "
                f"{head.get('mmmech_screen_journal')!r} (this mmmech writes "
                f"{_JOURNAL_VERSION}); finish it with the mmmech that wrote it, or pass "
                f"restart=True (--restart) to discard it")
        if head.get("fingerprint") != self.fingerprint:
            raise InvalidInputError(
                f"{func}(): the unfinished journal {self.path!r} belongs to a different "
                f"screen (other drugs, contexts, sizes, doses, ensemble, seed, or edited model, "
                f"context or drug files); run that screen again to finish it, or pass "
                f"restart=True (--restart) to discard it")
        good = end + 1
        last = data.rfind(b"\n") + 1      # anything after the last newline is a torn line
        for line in data[good:last].split(b"\n")[:-1]:
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.rejected[f"(line {len(self.rejected) + 1})"] = "not JSON"
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("key"), str):
                self.rejected[f"(line {len(self.rejected) + 1})"] = "not a row"
                continue
            key = obj["key"]
            if key in self.rows:
                continue                   # a duplicate of a good row
            if obj.get(_CHECKSUM) != _row_checksum(obj):
                self.rejected.setdefault(key, "checksum mismatch")
                continue
            row = {k: v for k, v in obj.items() if k != _CHECKSUM}
            why = self.check_row(row) if self.check_row is not None else None
            if why:
                self.rejected.setdefault(key, why)
                continue
            self.rows[key] = row
            self.rejected.pop(key, None)   # a later good copy supersedes a bad one
        return last

    def _warn(self):
        bad = {k: v for k, v in self.rejected.items() if k not in self.rows}
        if bad:
            first = next(iter(bad.items()))
            warnings.warn(f"screen(): {len(bad)} row(s) of the journal {self.path!r} failed their "
                          f"integrity check and will be computed again (first: {first[0]}: "
                          f"{first[1]})", JournalWarning, stacklevel=3)

    def _write(self, objs):
        buf = "".join(json.dumps(o, allow_nan=True) + "\n" for o in objs).encode("utf-8")
        try:
            self.fh.write(buf)
            self.fh.flush()
            os.fsync(self.fh.fileno())
        except OSError as exc:    # e.g. a full disk: the rows already journaled are kept
            raise MmmechError(f"{_FUNC}(): cannot append to the journal {self.path!r}: "
                              f"{exc.strerror or exc}; the rows finished so far are kept there "
                              f"(a cut line is dropped on resume): fix the cause and run the "
                              f"same screen again") from None

    def append(self, rows):
        """Append finished rows durably (flush + fsync) before they count as done."""
        self.start()
        self._write([dict(r, **{_CHECKSUM: _row_checksum(r)}) for r in rows])
        for r in rows:
            self.rows.setdefault(r["key"], r)

    def close(self):
        if self.fh is not None:
            self.fh.close()   # closing releases the lock
            self.fh = None


# ---------------------------------------------------------------------- progress
def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class _Progress:
    """A plain-text progress bar on stderr: ``\r`` updates on a TTY, periodic lines otherwise.

    Counts rows; the ETA weighs each row by its expected cost (`work`: dose-grid points x
    ensemble members), so pairs finishing fast do not make a screen with triplets look
    nearly done.
    """

    def __init__(self, total, done, enabled=True, stream=None, every=30.0, work_total=None,
                 work_done=None):
        self.total, self.done, self.start_done = total, done, done
        self.work_total = float(total if work_total is None else work_total)
        self.work_done = float(done if work_done is None else work_done)
        self.start_work = self.work_done
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.t0 = time.monotonic()
        self.last_t = self.t0
        self.last_pct = -1
        self.every = every
        if self.enabled:
            self._show(force=True)

    def _line(self):
        new = self.done - self.start_done
        el = time.monotonic() - self.t0
        rate = new / el if el > 0 and new else 0.0
        wrate = (self.work_done - self.start_work) / el if el > 0 and new else 0.0
        eta = (self.work_total - self.work_done) / wrate if wrate > 0 else float("nan")
        if self.done >= self.total:
            eta = 0.0
        pct = 100.0 * self.done / self.total
        width = 24
        fill = int(width * self.done / self.total)
        bar = "#" * fill + "-" * (width - fill)
        return (f"screen [{bar}] {self.done}/{self.total} ({pct:.0f}%) {rate:.2f} rows/s "
                f"elapsed {_hms(el)} ETA {_hms(eta)}")

    def _show(self, force=False):
        now = time.monotonic()
        if self.tty:
            if force or now - self.last_t >= 0.2 or self.done == self.total:
                self.stream.write("\r" + self._line() + "\x1b[K")
                self.stream.flush()
                self.last_t = now
            return
        pct10 = int(10 * self.done / self.total)
        if force or pct10 > self.last_pct or now - self.last_t >= self.every:
            self.stream.write(self._line() + "\n")
            self.stream.flush()
            self.last_t, self.last_pct = now, pct10

    def update(self, n, work=None):
        self.done += n
        self.work_done += n if work is None else work
        if self.enabled:
            self._show()

    def close(self):
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------- backends
def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def _run_local(spec, chunks, deliver):
    for ch in chunks:
        deliver(_run_chunk(spec, ch))


#: seconds allowed for reaching a Dask scheduler: connection, protocol handshake and client
#: start, each bounded (an address that is not a Dask scheduler fails within this time)
SCHEDULER_TIMEOUT = 30.0
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def _check_scheduler(scheduler, func):
    """A Dask scheduler address: ``[tcp|tls|ws|wss|ucx]://host:port`` (port 1-65535), bare
    ``host:port`` (tcp), or an in-process ``inproc://`` address; returned as given (stripped)."""
    def bad(why):
        return InvalidInputError(f"{func}(): scheduler must be a Dask scheduler address such as "
                                 f"tcp://host:8786 ({why}), got {scheduler!r}")
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise bad("text")
    addr = scheduler.strip()
    scheme, sep, rest = addr.partition("://")
    if not sep:
        scheme, rest = "tcp", addr
    scheme = scheme.lower()
    if scheme not in _SCHEMES:
        raise bad(f"scheme one of {', '.join(s + '://' for s in _SCHEMES)}")
    if scheme == "inproc":
        if not rest:
            raise bad("an inproc:// address names its process")
        return addr
    if any(c.isspace() for c in rest) or "/" in rest or "@" in rest or "?" in rest:
        raise bad("host:port only")
    if rest.startswith("["):                    # IPv6: [::1]:8786
        host, _, port = rest[1:].partition("]")
        port = port[1:] if port.startswith(":") else None
    elif ":" in rest:
        host, _, port = rest.rpartition(":")
    else:
        host, port = rest, None
    if not host:
        raise bad("a host")
    if not port or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise bad("a port number in 1-65535")
    return addr


def _bounded(fn, timeout, what):
    """Run `fn()` in a helper thread; its result, or an exception after `timeout` seconds (the
    thread is a daemon and is left to finish on its own)."""
    import threading
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:        # noqa: B902 - reported to the caller below
            box["error"] = exc
    th = threading.Thread(target=run, name=f"mmmech-{what}", daemon=True)
    th.start()
    th.join(timeout)
    if th.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _probe_scheduler(address, timeout):
    """Connect and complete Dask's protocol handshake (both within `timeout`), then hang up."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security
    # the TLS settings a Client would use (dask's configuration), so tls:// probes like it
    args = Security().get_connection_args("client")

    async def handshake():
        comm = await asyncio.wait_for(connect(address, timeout=timeout, **args), timeout)
        await comm.close()
    return _bounded(lambda: asyncio.run(handshake()), timeout + 2.0, "probe")


def _dask_client(workers, scheduler, func):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a declared dependency
        raise InvalidInputError(f"{func}(): --workers/--scheduler need dask.distributed") from None
    import logging
    if scheduler is not None:
        address = _check_scheduler(scheduler, func)
        timeout = float(SCHEDULER_TIMEOUT)
        try:
            # a listener that is not a Dask scheduler (an HTTP server, a silent port) fails the
            # handshake here, within the timeout, instead of hanging the client or making it
            # read an HTTP reply as a frame length (a multi-EiB allocation)
            _probe_scheduler(address, timeout)
            return _bounded(lambda: Client(address, timeout=timeout), timeout + 5.0,
                            "client"), None
        except (Exception, MemoryError) as exc:  # every failure: the scheduler is unreachable
            why = " ".join(str(exc).split()) or type(exc).__name__
            if isinstance(exc, MemoryError):
                why = "the reply is not Dask's protocol (is this an HTTP port?)"
            elif isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError":
                why = (f"no answer as a Dask scheduler within {timeout:g} s (is the address "
                       f"right, and is it the scheduler's port, not the dashboard's?)")
            raise NetworkUnavailableError(f"{func}(): cannot reach the Dask scheduler at "
                                          f"{scheduler!r}: {why[:200]}") from None
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _run_dask(spec, chunks, deliver, client):
    from dask.distributed import as_completed
    spec_f = client.scatter(spec, broadcast=True)
    futures = [client.submit(_run_chunk, spec_f, ch, pure=False) for ch in chunks]
    try:
        for fut in as_completed(futures):
            deliver(fut.result())
            fut.release()
    except BaseException:
        client.cancel(futures)
        raise


# ---------------------------------------------------------------------- assembly and output
def _columns(spec):
    cols = ["context", "rank", "combination", "size"] + [f"drug_{j + 1}" for j in
                                                         range(spec.max_size)]
    for m in spec.metrics:
        cols.append(m)
        if spec.ensemble > 1:
            cols += [f"{m}_mean", f"{m}_low", f"{m}_high"]
    return cols + ["effect_combination", "effect_best_single", "doses_nM", "members",
                   "converged", "notes"]


def _rank_column(spec, rank_by):
    return f"{rank_by}_mean" if spec.ensemble > 1 else rank_by


def _assemble(plan_, rows_by_key, rank_by):
    import pandas as pd
    spec = plan_.spec
    rows = [rows_by_key[k] for k in plan_.keys]        # plan order: deterministic
    rcol = _rank_column(spec, rank_by)
    order = {c: i for i, c in enumerate(spec.context_names)}
    ranked = []
    for ci, cname in enumerate(spec.context_names):
        block = [(i, r) for i, r in enumerate(rows) if r["context"] == cname]
        # descending score; undefined scores last; ties keep the enumeration order
        block.sort(key=lambda ir: (not math.isfinite(ir[1][rcol]),
                                   -ir[1][rcol] if math.isfinite(ir[1][rcol]) else 0.0, ir[0]))
        for rank, (_, r) in enumerate(block, 1):
            ranked.append(dict(r, rank=rank))
    ranked.sort(key=lambda r: (order[r["context"]], r["rank"]))
    cols = _columns(spec)
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in ranked], columns=cols)
    df["rank"] = df["rank"].astype("int64")
    df["size"] = df["size"].astype("int64")
    df["members"] = df["members"].astype("int64")
    df["converged"] = df["converged"].astype(bool)
    df["notes"] = df["notes"].fillna("")
    return df


def _write_final(df, path, fmt, meta):
    from ..utils import atomic_output
    with atomic_output(path, fsync=True) as tmp:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq
            table = pa.Table.from_pandas(df, preserve_index=False)
            md = dict(table.schema.metadata or {})
            md[b"mmmech"] = json.dumps(meta, default=str).encode("utf-8")
            pq.write_table(table.replace_schema_metadata(md), tmp)
        else:
            df.to_csv(tmp, index=False)


def screen(drugs, size=2, contexts=("cell_line",), model="myeloma", ensemble=0, seed=0,
           metrics="all", rank_by="bliss", doses=None, knockouts=(), settings=None,
           mutations=(), interval=0.9, spread=0.2, readout="viability", out=None, workers=0,
           scheduler=None, client=None, chunk_size=1, restart=False, progress=None,
           backend="auto", points=None):
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
    from ..synergy._api import METRICS
    workers = check_int(0 if workers is None else workers, func, "workers", minimum=0,
                        what="0: in-process")
    if sum(x is not None and x is not False for x in (scheduler, client)) + (workers > 0) > 1:
        raise InvalidInputError(f"{func}(): choose one of workers, scheduler and client")
    chunk_size = check_int(chunk_size, func, "chunk_size", minimum=1)
    if scheduler is not None and scheduler is not False:
        _check_scheduler(scheduler, func)
    p = plan(drugs, size=size, contexts=contexts, model=model, ensemble=ensemble, seed=seed,
             metrics=metrics, doses=doses, knockouts=knockouts, settings=settings,
             mutations=mutations, interval=interval, spread=spread, readout=readout,
             backend=backend, points=points)
    if rank_by not in p.spec.metrics:
        hint = ("; add it to the metrics" if rank_by in METRICS
                else did_you_mean(str(rank_by), METRICS))
        raise InvalidInputError(f"{func}(): rank_by must be one of the metrics computed "
                                f"{list(p.spec.metrics)}, got {rank_by!r}{hint}")
    journal = None
    if path is not None:
        # reads an existing journal (nothing is written before the work can start)
        journal = _Journal(path + JOURNAL_SUFFIX, p.fingerprint, p.config, restart=restart,
                           check_row=lambda row: _row_problem(p.spec, row))
    keyset = set(p.keys)
    done = {} if journal is None else {k: r for k, r in journal.rows.items() if k in keyset}
    resumed = len(done)
    todo = [t for t, k in zip(p.tasks, p.keys) if k not in done]
    work = {k: _task_work(p.spec, t) for k, t in zip(p.keys, p.tasks)}
    timings = {"setup": 0.0, "ranging": 0.0, "kernel": 0.0, "scoring": 0.0, "tasks": 0}
    bar = None

    def deliver(result):
        rows = result["rows"]
        if journal is not None:
            journal.append(rows)
        for r in rows:
            done[r["key"]] = r
        for k in timings:
            timings[k] += result["timings"][k]
        bar.update(len(rows), sum(work.get(r["key"], 0.0) for r in rows))

    t0 = time.perf_counter()
    chunks = _chunks(todo, int(chunk_size))
    own_client = own_cluster = None
    try:
        if chunks:
            if workers > 0 or scheduler is not None:
                own_client, own_cluster = _dask_client(workers, scheduler, func)
            if journal is not None:
                journal.start()           # the work can start: now the journal is written
                # rows another run finished since the first look are not computed again
                done.update({k: r for k, r in journal.rows.items() if k in keyset})
                resumed = len(done)
                chunks = _chunks([t for t, k in zip(p.tasks, p.keys) if k not in done],
                                 int(chunk_size))
            bar = _Progress(p.n_tasks, len(done), enabled=(path is not None) if progress is None
                            else bool(progress), work_total=sum(work.values()),
                            work_done=sum(work[k] for k in done))
            if own_client is not None:
                _run_dask(p.spec, chunks, deliver, own_client)
            elif client is not None:
                _run_dask(p.spec, chunks, deliver, client)
            else:
                _run_local(p.spec, chunks, deliver)
    except KeyboardInterrupt:
        if journal is not None and bar is not None:
            bar.close()
            sys.stderr.write(f"screen: interrupted; {len(done)} of {p.n_tasks} rows are kept in "
                             f"{journal.path}; run the same screen again to resume\n")
            bar.enabled = False
        raise
    finally:
        if bar is not None:
            bar.close()
        if journal is not None:
            journal.close()
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
    wall = time.perf_counter() - t0
    missing = [k for k in p.keys if k not in done]
    if missing:  # pragma: no cover - every chunk either delivers or raises
        raise MmmechError(f"{func}(): {len(missing)} tasks did not deliver (first: {missing[0]})")
    df = _assemble(p, done, rank_by)
    timings["wall"] = wall
    df.attrs.update({"config": p.config, "rank_by": _rank_column(p.spec, rank_by),
                     "notes": list(p.notes), "resumed": resumed,
                     "computed": p.n_tasks - resumed, "timings": timings})
    if path is not None:
        meta = {"config": p.config, "rank_by": _rank_column(p.spec, rank_by),
                "notes": list(p.notes), "fingerprint": p.fingerprint}
        _write_final(df, path, fmt, meta)
        try:
            os.remove(path + JOURNAL_SUFFIX)
        except OSError:
            pass
    return df
