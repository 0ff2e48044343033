"""Input guards shared by scoring, screening and the ensemble sampler (one implementation each).

Every guard raises :class:`mmmech.exceptions.InvalidInputError` with one line in the house
style ``func(): x must ..., got ...`` and returns the value in its canonical type. Guards for
resources (:func:`check_simulations`, :func:`check_count`) estimate memory and run time *before*
anything is allocated, and say how to reduce the request.

Resource limits (module constants; raise them on a bigger machine, e.g.
``mmmech._guards.MAX_SIMULATIONS = 400_000``):

``MAX_SIMULATIONS = 100_000`` simulated wells per combination (dose-grid points x ensemble
members), i.e. per ``mmmech score`` call and per row of a screen. Measured on this project's
2-core test machine with the bundled myeloma model (93 nodes, 112 edges), one kernel thread
(``OMP_NUM_THREADS=1``), including the Bliss/HSA/Loewe/ZIP scoring: about 0.3 ms and 4-6 KiB
of peak memory per well (a 6-drug default grid, 46,656 wells: 14 s and +245 MB RSS; two drugs
with ``ensemble=2000``, 72,000 wells: 24 s and +275 MB). The limit therefore keeps one
combination under about 0.6 GiB and about 35 s of one core, so a normal 2-core machine stays
usable. It admits a 6-drug default grid (46,656 wells) and refuses 7 or more drugs at the
default 6 doses each (279,936 wells).

``MAX_TASKS = 100_000`` rows (combinations x contexts) per screen, counted before the
combinations are enumerated.

``MAX_SAMPLE_BYTES = 1 GiB`` for the arrays of one ensemble of parameter sets
(:func:`mmmech.model.sample_params`: about 3 KiB per set for the bundled model).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Literal, TypeGuard, overload

import numpy as np
import numpy.typing as npt

from .exceptions import InvalidInputError
from .utils import did_you_mean

__all__ = [
    "BACKENDS",
    "MAX_SIMULATIONS",
    "MAX_TASKS",
    "check_backend",
    "check_ensemble",
    "check_seed",
    "check_fraction",
    "check_int",
    "check_dose_list",
    "check_simulations",
    "check_count",
    "check_sample_memory",
    "MAX_SAMPLE_BYTES",
]

#: kernel backends accepted by score, screen and the simulator
BACKENDS = ("auto", "cython", "python")
#: simulated wells (grid points x ensemble members) allowed per combination
MAX_SIMULATIONS = 100_000
#: rows (combinations x contexts) allowed per screen
MAX_TASKS = 100_000
#: memory allowed for one ensemble of parameter sets (mmmech.model.sample_params)
MAX_SAMPLE_BYTES = 2**30
# measured costs per simulated well (see the module docstring), rounded up
_BYTES_PER_SIMULATION = 6 * 1024
_SECONDS_PER_SIMULATION = 3.5e-4


def _is_int(x: object) -> TypeGuard[numbers.Integral]:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_backend(backend: object, func: str, allowed: Sequence[str] = BACKENDS) -> str:
    """``backend`` is one of `allowed` (with a did-you-mean for near misses)."""
    if not isinstance(backend, str) or backend not in allowed:
        names = ", ".join(repr(a) for a in allowed[:-1]) + f" or {allowed[-1]!r}"
        hint = did_you_mean(backend, allowed) if isinstance(backend, str) else ""
        raise InvalidInputError(f"{func}(): backend must be {names}, got {backend!r}{hint}")
    return backend


def check_int(
    value: object,
    func: str,
    name: str,
    minimum: int = 0,
    maximum: int | None = None,
    what: str | None = None,
) -> int:
    """An integer (a float only when integral, e.g. ``3.0``; never bool, text or 2.5) in range."""
    if _is_int(value):
        v = int(value)
    elif (
        isinstance(value, (float, np.floating))
        and math.isfinite(value)
        and float(value).is_integer()
    ):
        v = int(value)
    else:
        v = None
    if maximum is not None:
        kind = f"an integer in {minimum}..{maximum}"
    else:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if v is None or v < minimum or (maximum is not None and v > maximum):
        raise InvalidInputError(
            f"{func}(): {name} must be {kind}{f' ({what})' if what else ''}, got {value!r}"
        )
    return v


def check_ensemble(ensemble: object, func: str, name: str = "ensemble", minimum: int = 0) -> int:
    """Ensemble size: an integer >= `minimum` (0 or 1: the curated model only)."""
    return check_int(ensemble, func, name, minimum=minimum)


@overload
def check_seed(
    seed: object, func: str, allow_none: Literal[False] = ..., allow_generator: Literal[False] = ...
) -> int: ...


@overload
def check_seed(
    seed: object, func: str, allow_none: bool = ..., allow_generator: bool = ...
) -> int | np.random.Generator | None: ...


def check_seed(
    seed: object, func: str, allow_none: bool = False, allow_generator: bool = False
) -> int | np.random.Generator | None:
    """A non-negative integer seed (optionally None or a numpy Generator, returned as is)."""
    if seed is None and allow_none:
        return None
    if allow_generator and isinstance(seed, np.random.Generator):
        return seed
    if not _is_int(seed) or seed < 0:
        alts = ["a non-negative integer"]
        if allow_none:
            alts.insert(0, "None")
        if allow_generator:
            alts.append("a numpy Generator")
        what = alts[0] if len(alts) == 1 else ", ".join(alts[:-1]) + " or " + alts[-1]
        raise InvalidInputError(f"{func}(): seed must be {what}, got {seed!r}")
    return int(seed)


def check_fraction(
    value: object,
    func: str,
    name: str,
    low: float = 0.0,
    high: float = 1.0,
    include_low: bool = False,
    include_high: bool = False,
) -> float:
    """A real number in an interval (default the open ``(0, 1)``); text, bool, NaN refused."""
    span = ("[" if include_low else "(") + f"{low:g}, {high:g}" + ("]" if include_high else ")")
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{func}(): {name} must be a number in {span}, got {value!r}")
    v = float(value)
    ok_lo = v >= low if include_low else v > low
    ok_hi = v <= high if include_high else v < high
    if not (ok_lo and ok_hi):  # NaN fails both
        raise InvalidInputError(f"{func}(): {name} must lie in {span}, got {value!r}")
    return v


def check_dose_list(
    name: str, values: npt.ArrayLike, func: str, min_nonzero: int = 3
) -> np.ndarray:
    """A drug's dose series in nM: finite, >= 0, sorted unique, 0 prepended when missing, at
    least `min_nonzero` non-zero concentrations (a dose-response fit needs three)."""
    if isinstance(values, (str, bytes)) or isinstance(values, bool):
        raise InvalidInputError(
            f"{func}(): doses for {name!r} must be numbers (nM), got {values!r:.80}"
        )
    try:
        a = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{func}(): doses for {name!r} must be numbers (nM), got {values!r:.80}"
        ) from None
    if a.size == 0:
        raise InvalidInputError(f"{func}(): doses for {name!r} must not be empty")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        bad = a[~np.isfinite(a) | (a < 0)][:3].tolist()
        raise InvalidInputError(
            f"{func}(): doses for {name!r} must be finite and >= 0 nM, got {bad}"
        )
    a = np.unique(a)
    if a[0] != 0.0:
        a = np.concatenate([[0.0], a])
    if a.size < min_nonzero + 1:
        raise InvalidInputError(
            f"{func}(): doses for {name!r} need at least three non-zero "
            f"concentrations to fit a dose-response curve, got "
            f"{a[1:].tolist()}"
        )
    return a


def _human_bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1024:.3g} KiB"


def _human_time(s: float) -> str:
    if s >= 86400 * 365:
        return f"{s / (86400 * 365):.3g} years"
    if s >= 86400:
        return f"{s / 86400:.3g} days"
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.2g} s"


def check_simulations(
    grid_sizes: Iterable[int], members: int, func: str, how: str, limit: int | None = None
) -> int:
    """Refuse a combination whose dose grid x ensemble exceeds :data:`MAX_SIMULATIONS`.

    Parameters
    ----------
    grid_sizes : sequence of int
        Doses per drug (zero included).
    members : int
        Parameter sets simulated per grid point (1 without an ensemble).
    how : str
        How to reduce the request (names the options of the caller).

    Returns
    -------
    int : the number of simulated wells
    """
    limit = MAX_SIMULATIONS if limit is None else limit
    sizes = [int(n) for n in grid_sizes]
    points = math.prod(sizes)  # Python integers: no overflow
    m = max(int(members), 1)
    wells = points * m
    if wells > limit:
        if len(set(sizes)) == 1:
            grid = f"{len(sizes)} drugs x {sizes[0]} doses each = {points:,} grid points"
        else:
            grid = f"a {' x '.join(map(str, sizes))} dose grid = {points:,} points"
        ens = f" x {m:,} parameter sets = {wells:,} simulations" if m > 1 else " to simulate"
        raise InvalidInputError(
            f"{func}(): {grid}{ens} (about "
            f"{_human_bytes(wells * _BYTES_PER_SIMULATION)} and "
            f"{_human_time(wells * _SECONDS_PER_SIMULATION)} of one core) is more than the "
            f"limit of {limit:,} per combination; {how}"
        )
    return wells


def check_count(n: int, limit: int, func: str, what: str, how: str) -> int:
    """Refuse `n` items of `what` above `limit` (one line with the size and the way out)."""
    if n > limit:
        raise InvalidInputError(
            f"{func}(): {n:,} {what} is more than the limit of {limit:,}; {how}"
        )
    return n


def check_sample_memory(M: int, n_edges: int, n_nodes: int, n_columns: int, func: str) -> int:
    """Refuse an ensemble of `M` parameter sets whose arrays (``w, n, ec50`` per edge,
    ``tau, ymax`` per node, one potency multiplier per drug-target column, float64) would need
    more than :data:`MAX_SAMPLE_BYTES` (1 GiB)."""
    nbytes = int(M) * 8 * (3 * int(n_edges) + 2 * int(n_nodes) + int(n_columns))
    if nbytes > MAX_SAMPLE_BYTES:
        raise InvalidInputError(
            f"{func}(): {int(M):,} parameter sets need about {_human_bytes(nbytes)} for this model "
            f"({n_edges} edges, {n_nodes} nodes), more than the limit of "
            f"{_human_bytes(MAX_SAMPLE_BYTES)}; use a smaller ensemble"
        )
    return nbytes
