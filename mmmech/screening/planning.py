"""A screen's plan: its inputs checked, its tasks enumerated, its content fingerprinted.

:func:`plan` runs every check before any work (drugs, sizes, contexts, doses, perturbations and
the resource limits) and returns a :class:`ScreenPlan`; :func:`read_drug_list` reads a drug list
file. The fingerprint hashes the configuration and the *content* of every input (model,
contexts, drug records), so an edited file is noticed by the journal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__, _guards, network, synergy
from .. import drugs as _drugs
from .._guards import (
    check_backend,
    check_count,
    check_dose_list,
    check_ensemble,
    check_fraction,
    check_int,
    check_seed,
    check_simulations,
)
from .._typing import ContextLike, ModelLike, PathLike
from ..drugs import Drug
from ..exceptions import (
    InvalidInputError,
    MmmechError,
    UnknownContextError,
    UnknownDrugError,
    UnknownNameError,
)
from ..network.contexts import Context, available_contexts, load_context
from ..scoring import ASSAY_HOURS, DEFAULT_POINTS, check_assay_hours
from ..simulation.simulator import Simulator, resolve_drug
from ..utils import did_you_mean
from .tasks import _FUNC, Task, _Spec, _task_key

__all__ = ["plan", "ScreenPlan", "read_drug_list", "SIZES"]

#: combination sizes a screen accepts
SIZES = (2, 3, 4)

#: drugs as :func:`plan` and :func:`mmmech.screen` accept them: names, synonyms or Drug objects
DrugLike = str | Drug


# ---------------------------------------------------------------------- inputs
def read_drug_list(path: PathLike) -> list[str]:
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
        raise InvalidInputError(
            f"screen(): cannot read the drug list {p!r}: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"screen(): the drug list {p!r} is not UTF-8 text") from None
    out = []
    for ln in lines:
        name = ln.split("#", 1)[0].strip()
        if name:
            out.append(name)
    if not out:
        raise InvalidInputError(
            f"screen(): the drug list {p!r} names no drug (one name per line; '#' starts a comment)"
        )
    return out


def _check_sizes(size: int | Iterable[int], func: str) -> tuple[int, ...]:
    vals: list[Any]
    try:
        if isinstance(size, bool):
            raise TypeError(size)
        vals = [size] if isinstance(size, (int, np.integer)) else list(size)
    except TypeError:
        raise InvalidInputError(
            f"{func}(): size must be an integer in 2..4 or a list of them, got {size!r}"
        ) from None
    if not vals:
        raise InvalidInputError(f"{func}(): size must name at least one combination size (2..4)")
    out: list[int] = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) not in SIZES:
            raise InvalidInputError(f"{func}(): combination size K must be 2, 3 or 4, got {v!r}")
        if int(v) not in out:
            out.append(int(v))
    return tuple(sorted(out))


def _resolve_drugs(drugs: Iterable[DrugLike], func: str) -> list[Drug]:
    if isinstance(drugs, (str, bytes)) or not hasattr(drugs, "__iter__"):
        raise InvalidInputError(f"{func}(): drugs must be a list of drug names, got {drugs!r}")
    objs: list[Drug] = []
    seen: dict[str, Any] = {}
    for d in drugs:
        try:
            obj = resolve_drug(d)
        except UnknownNameError as exc:
            raise UnknownDrugError(f"{func}(): {exc}") from None
        given = d if isinstance(d, str) else obj.name
        if obj.name in seen:
            first = seen[obj.name]
            how = "" if first == given else f" (as {first!r} and {given!r})"
            raise InvalidInputError(
                f"{func}(): drug {obj.name!r} is listed twice{how}; each drug may appear once"
            )
        seen[obj.name] = given
        objs.append(obj)
    return objs


def _is_library_drug(drug: Drug) -> bool:
    try:
        return _drugs.get(drug.name) is drug or _drugs.get(drug.name) == drug
    except (MmmechError, KeyError):
        return False


def _resolve_contexts(
    contexts: None | ContextLike | Iterable[ContextLike], func: str
) -> tuple[list[Context], list[str | Context]]:
    given: list[Any]
    if contexts is None:
        given = []
    elif isinstance(contexts, (str, os.PathLike)) or not isinstance(contexts, Iterable):
        given = [contexts]
    else:
        given = list(contexts)
    if not given:
        given = ["cell_line"]
    objs: list[Context] = []
    shipped: list[str | Context] = []
    for c in given:
        try:
            ctx = load_context(c)
        except UnknownContextError as exc:
            raise UnknownContextError(f"{func}(): {exc}") from None
        except InvalidInputError as exc:
            raise type(exc)(f"{func}(): context {c!r}: {exc}") from None
        if any(o.name == ctx.name for o in objs):
            raise InvalidInputError(
                f"{func}(): context {ctx.name!r} is given twice; each context "
                f"may appear once (context names must differ)"
            )
        objs.append(ctx)
        # bundled contexts travel by name, user files as the parsed Context (workers on
        # another machine need not see the file)
        shipped.append(c if isinstance(c, str) and c in available_contexts() else ctx)
    return objs, shipped


# ---------------------------------------------------------------------- content digests
def _canonical(obj: Any, depth: int = 0) -> Any:
    """A JSON-able, process-independent rendering of an input's content (dataclasses, mappings,
    sequences, sets, arrays, numbers, text); used to fingerprint what a screen computes from."""
    if depth > 200:
        raise InvalidInputError(f"{_FUNC}(): an input is nested too deeply to fingerprint")
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return repr(obj)  # exact, and NaN/inf stay JSON-able
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return _canonical(obj.item(), depth + 1)
    if isinstance(obj, np.ndarray):
        return {
            "__array__": str(obj.dtype),
            "shape": list(obj.shape),
            "data": _canonical(obj.tolist(), depth + 1),
        }
    if isinstance(obj, bytes):
        return {"__bytes__": hashlib.sha256(obj).hexdigest()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # private fields are caches (e.g. a drug's parsed RDKit molecule), not content
        return {
            "__type__": type(obj).__name__,
            **{
                f.name: _canonical(getattr(obj, f.name), depth + 1)
                for f in dataclasses.fields(obj)
                if not f.name.startswith("_")
            },
        }
    if isinstance(obj, Mapping):
        return {
            "__map__": sorted(
                ([_canonical(k, depth + 1), _canonical(v, depth + 1)] for k, v in obj.items()),
                key=lambda kv: json.dumps(kv[0]),
            )
        }
    if isinstance(obj, (set, frozenset)):
        return {"__set__": sorted((_canonical(v, depth + 1) for v in obj), key=json.dumps)}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v, depth + 1) for v in obj]
    if hasattr(obj, "__dict__"):
        return {
            "__type__": type(obj).__name__,
            **{
                k: _canonical(v, depth + 1)
                for k, v in sorted(vars(obj).items())
                if not k.startswith("_")
            },
        }
    text = repr(obj)
    # an object without a content view: its type only (never a memory address)
    return {"__type__": type(obj).__name__, "repr": None if " at 0x" in text else text}


def _digest(obj: Any) -> str:
    """sha256 of :func:`_canonical` (the content, not the name or path, of an input)."""
    data = json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- the plan
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
    tasks: tuple[Task, ...]
    keys: tuple[str, ...]
    fingerprint: str
    config: dict[str, Any]
    notes: tuple[str, ...]

    @property
    def n_tasks(self) -> int:
        """Number of rows (combinations x contexts)."""
        return len(self.tasks)


def plan(
    drugs: Iterable[DrugLike],
    size: int | Iterable[int] = 2,
    contexts: None | ContextLike | Iterable[ContextLike] = ("cell_line",),
    model: ModelLike = "myeloma",
    ensemble: int = 0,
    seed: int = 0,
    metrics: str | Sequence[str] = "all",
    doses: Mapping[DrugLike, Sequence[float]] | None = None,
    knockouts: Iterable[str] = (),
    settings: Mapping[str, float] | None = None,
    mutations: Iterable[str] = (),
    interval: float = 0.9,
    spread: float = 0.2,
    readout: str = "viability",
    backend: str = "auto",
    points: int | None = None,
    assay_hours: float | None = ASSAY_HOURS,
) -> ScreenPlan:
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
    func = _FUNC
    sizes = _check_sizes(size, func)
    assay_hours = check_assay_hours(assay_hours, func)
    objs = _resolve_drugs(drugs, func)
    names = tuple(d.name for d in objs)
    if len(names) < 2:
        raise InvalidInputError(
            f"{func}(): a screen needs at least two drugs, got {len(names)}: {list(names)}"
        )
    if max(sizes) > len(names):
        raise InvalidInputError(
            f"{func}(): combinations of K={max(sizes)} drugs need at least "
            f"{max(sizes)} drugs, got {len(names)}: {list(names)}"
        )
    ctx_objs, ctx_ship = _resolve_contexts(contexts, func)
    metric_names = tuple(synergy.check_metrics(metrics, func))
    ens = check_ensemble(ensemble, func)
    seed = check_seed(seed, func)
    interval = check_fraction(interval, func, "interval")
    spread = check_fraction(spread, func, "spread", include_low=True)
    backend = check_backend(backend, func)
    points = (
        DEFAULT_POINTS
        if points is None
        else check_int(
            points,
            func,
            "points",
            minimum=3,
            what="non-zero concentrations per drug in the default grid",
        )
    )
    # the number of rows, counted before anything is enumerated
    n_tasks = len(ctx_objs) * sum(math.comb(len(names), K) for K in sizes)
    check_count(
        n_tasks,
        _guards.MAX_TASKS,
        func,
        "rows (combinations x contexts)",
        "screen fewer drugs, smaller combination sizes or fewer contexts (split the "
        "screen); the limit is mmmech._guards.MAX_TASKS",
    )
    knockouts = tuple(knockouts or ())
    settings = dict(settings or {})
    mutations = tuple(str(m) if not isinstance(m, str) else m for m in (mutations or ()))
    # doses: given (validated as score() does) or the default series
    given = {}
    for key, vals in dict(doses or {}).items():
        d = _resolve_drugs([key], func)[0]
        if d.name not in names:
            raise InvalidInputError(
                f"{func}(): doses given for {d.name!r}, which is not in the "
                f"drug list {list(names)}{did_you_mean(d.name, names)}"
            )
        given[d.name] = check_dose_list(d.name, vals, func)
    for d in objs:
        ref = getattr(d, "reference_nM", None)
        if d.name not in given and not (
            isinstance(ref, (int, float)) and math.isfinite(ref) and ref > 0
        ):
            raise InvalidInputError(
                f"{func}(): {d.name!r} has no usable reference "
                f"concentration ({ref!r}) for its default doses; give its "
                f"doses explicitly"
            )
    grid = tuple(tuple(float(x) for x in given[n]) if n in given else None for n in names)
    # the largest row (the K drugs with the longest dose series) within the per-row limit
    lens = sorted((len(g) if g is not None else points + 1 for g in grid), reverse=True)
    check_simulations(
        lens[: max(sizes)],
        ens if ens > 1 else 1,
        func,
        "use smaller combination sizes (--size), fewer doses per drug (--points "
        "or shorter --doses lists) or a smaller --ensemble; the limit is "
        "mmmech._guards.MAX_SIMULATIONS",
    )
    # the model, the contexts, knockouts, settings and mutations: one Simulator per context with
    # every drug attached checks them all (and collects notes about unmodelled targets)
    mobj = network.load(model)
    notes: list[str] = []
    for ctx in ctx_objs:
        try:
            sim = Simulator(
                mobj, objs, context=ctx, knockouts=knockouts, settings=settings, mutations=mutations
            )
        except MmmechError as exc:
            raise type(exc)(f"{func}(): {exc}") from None
        if readout not in sim.compiled.readouts:
            raise InvalidInputError(
                f"{func}(): the model has no readout {readout!r}; it has "
                f"{sorted(sim.compiled.readouts)}"
                f"{did_you_mean(readout, sim.compiled.readouts)}"
            )
        for nt in sim.notes:
            if nt not in notes:
                notes.append(nt)
    model_ship = model if isinstance(model, str) and model in network.available() else mobj
    drug_ship = tuple(d.name if _is_library_drug(d) else d for d in objs)
    spec = _Spec(
        model=model_ship,
        drugs=drug_ship,
        names=names,
        contexts=tuple(ctx_ship),
        context_names=tuple(c.name for c in ctx_objs),
        doses=grid,
        ensemble=ens,
        seed=seed,
        spread=spread,
        metrics=metric_names,
        interval=interval,
        knockouts=knockouts,
        settings=tuple(sorted(settings.items())),
        mutations=mutations,
        readout=str(readout),
        backend=backend,
        max_size=max(sizes),
        points=points,
        assay_hours=assay_hours,
    )
    tasks = tuple(
        (combo, ci)
        for K in sizes
        for combo in itertools.combinations(range(len(names)), K)
        for ci in range(len(ctx_objs))
    )
    keys = tuple(_task_key(spec, combo, ci) for combo, ci in tasks)
    config = {
        "mmmech": __version__,
        "model": mobj.name,
        "model_origin": mobj.origin,
        "drugs": list(names),
        "sizes": list(sizes),
        "contexts": [
            {
                "name": c.name,
                "origin": c.origin,
                "settings": sorted(c.settings.items()),
                "mutations": list(c.mutations),
                # only when present: a screen without levels keeps its configuration (and
                # journal fingerprint) as before
                **({"levels": sorted(c.levels.items())} if c.levels else {}),
            }
            for c in ctx_objs
        ],
        "doses_nM": {
            n: (list(g) if g is not None else "default (scoring.dose_range)")
            for n, g in zip(names, grid, strict=True)
        },
        "ensemble": ens,
        "seed": seed,
        "spread": spread,
        "interval": interval,
        "metrics": list(metric_names),
        "knockouts": list(knockouts),
        "settings": sorted(settings.items()),
        "mutations": list(mutations),
        "readout": str(readout),
        "points": points,
        # viability readout: relative cell number after this many hours (None: the index)
        "assay_hours": assay_hours,
        # the content of every input, so an edited model, context or drug record is never
        # mixed with rows computed from the old one (names and paths alone do not say that)
        "content_sha256": {
            "model": _digest(mobj),
            "contexts": {c.name: _digest(c) for c in ctx_objs},
            "drugs": {d.name: _digest(d) for d in objs},
        },
    }
    fp = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return ScreenPlan(
        spec=spec, tasks=tasks, keys=keys, fingerprint=fp, config=config, notes=tuple(notes)
    )
