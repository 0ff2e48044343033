"""Parameter ensembles of a virtual trial: the same patients under K model-parameter sets.

``run_trial(..., ensemble=K)`` (``mmmech trial ... --ensemble K``) runs the trial's patients
through every arm under K parameter sets and reports, per arm, the interval of each summary
(ORR, >= VGPR, CR, median PFS) across the sets, and per pair of arms the interval of the hazard
ratio. The point estimate (the trial at the model's defaults) is **set 0**, as in the screen's
ensemble (:func:`mmmech.screening.ensemble_params`); sets 1 .. K-1 are drawn, so K sets cost K
times the plain trial.

What is varied (:func:`default_ranges`): every tumour constant of :mod:`mmmech.dynamics.tumour`
that records a sourced range (``low``/``high``): today the potential doubling time of marrow
myeloma cells, ``BIRTH_DOUBLING_DAYS`` 15.0-75.4 d (Ucci et al. 1987,
DOI:10.1111/j.1365-2184.1987.tb01313.x; default 46.8 d). It is the gain from the network's
readouts to the tumour's rates (docs/calibration.md), the most influential free parameter. The
death scale and ``hours_per_model_time`` are modelling choices with no sourced range, and the
untreated doubling time has none recorded either (the abstract gives no range): they stay at
their defaults unless `ranges` names them, e.g. with the profile intervals of a calibration
file (``load_parameters("single_agent_fit").intervals``).

Jointly with them, every **named parameter of the network** (the model file's
``[parameters]``, e.g. ``dex_nk_weight`` 0-0.5, ``adcc_killing_weight`` 0.05-0.2) that has a
sourced range: ``low < high`` and at least one source identifier (``supports`` or
``contradicts``) (:func:`network_ranges`). A parameter without one (``low == high``, or no
source) is held at its default and listed as fixed (:func:`unsourced_parameters`). A set's
network values are applied as :class:`mmmech.model.Simulator` applies named parameters
(``params=``, through ``simulate_cohort(params=...)``), so every set runs the network itself:
one network integration per set, arm and patient batch.

How (:func:`draw_members`): a Latin hypercube over the ranges, uniform on each parameter's own
scale: K - 1 draws, each parameter's range cut into K - 1 equal strata with exactly one draw in
each, the strata paired at random. With the small K an ensemble can afford (every set is a full
trial), a Latin hypercube covers each range evenly (no two draws in one stratum, both ends
reached) where independent uniform draws cluster; a Sobol sequence balances only at powers of
two. Every parameter has its own random stream, ``SeedSequence(seed, spawn_key=(crc32(b"trial
ensemble"), crc32(name), K))``: the same seed gives the same sets, and adding a parameter does
not move the others' draws.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dynamics import tumour_model
from ..dynamics.cohort import REFERENCE_BODY, simulate_cohort
from ..dynamics.regimen import HOURS_PER_MODEL_TIME, _horizon_days, _item
from ..dynamics.tumour import BIRTH_DOUBLING_DAYS, UNTREATED_DOUBLING_DAYS, Rate
from ..exceptions import InvalidInputError
from ..network import load as load_model
from ..network.model import Parameter
from ..utils import did_you_mean
from .arms import DAYS_PER_MONTH, ArmResult, arm_cycles
from .survival import hazard_ratio, kaplan_meier

__all__ = [
    "PARAMETERS",
    "MAX_MEMBERS",
    "PERCENTILES",
    "Ensemble",
    "default_ranges",
    "draw_accepted_members",
    "draw_members",
    "single_agent_failures",
    "MAX_DRAW_ROUNDS",
    "SINGLE_AGENT_CYCLES",
    "SINGLE_AGENT_MARGIN",
    "member_cohort",
    "network_parameters",
    "network_ranges",
    "set_defaults",
    "unsourced_parameters",
]

#: most parameter sets one trial runs (each is a full trial)
MAX_MEMBERS = 1000
#: the central interval reported per summary (5th to 95th percentile, linear interpolation)
PERCENTILES = (5.0, 95.0)

#: parameters an ensemble may vary: name -> (default, hard lower bound, hard upper bound, what)
PARAMETERS: dict[str, tuple[float, float, float, str]] = {
    "birth_doubling_days": (
        BIRTH_DOUBLING_DAYS.value,
        1.0,
        1000.0,
        "potential doubling time of marrow myeloma cells, days (TumourModel.birth_rate = ln 2 / "
        "it)",
    ),
    "untreated_doubling_days": (
        UNTREATED_DOUBLING_DAYS.value,
        1.0,
        10000.0,
        "doubling time of the untreated burden, days (TumourModel.net_rate = ln 2 / it)",
    ),
    "death_scale": (1.0, 1e-3, 10.0, "TumourModel.death_scale"),
    "hours_per_model_time": (HOURS_PER_MODEL_TIME, 0.01, 100.0, "hours per network time unit"),
}
_SOURCED: dict[str, Rate] = {
    "birth_doubling_days": BIRTH_DOUBLING_DAYS,
    "untreated_doubling_days": UNTREATED_DOUBLING_DAYS,
}
_STREAM = zlib.crc32(b"trial ensemble")


def default_ranges(model: Any = None) -> dict[str, tuple[float, float]]:
    """The sourced ranges of the tumour constants (those recording ``low`` and ``high``) and,
    with `model` (a pathway model, its name or file), of the model's named parameters
    (:func:`network_ranges`)."""
    out = {
        n: (float(r.low), float(r.high))
        for n, r in _SOURCED.items()
        if r.low is not None and r.high is not None
    }
    if model is not None:
        out.update(network_ranges(network_parameters(model)))
    return out


def network_parameters(model: Any) -> dict[str, Parameter]:
    """The named parameters of a pathway model (name -> :class:`mmmech.network.Parameter`)."""
    if isinstance(model, Mapping):  # already a parameter table
        return dict(model)
    return dict(load_model(model).parameters)


def _sourced(p: Parameter) -> bool:
    return p.low < p.high and bool(p.supports or p.contradicts)


def network_ranges(params: Mapping[str, Parameter]) -> dict[str, tuple[float, float]]:
    """``name -> (low, high)`` of the named network parameters with a sourced range: ``low <
    high`` and at least one source identifier (``supports`` or ``contradicts``)."""
    return {n: (float(p.low), float(p.high)) for n, p in params.items() if _sourced(p)}


def unsourced_parameters(params: Mapping[str, Parameter]) -> list[str]:
    """The named network parameters an ensemble never draws by default (no range, or a range
    without a source): held at their defaults."""
    return [n for n, p in params.items() if not _sourced(p)]


def set_defaults(
    names: Sequence[str], params: Mapping[str, Parameter] | None = None
) -> dict[str, float]:
    """Set 0's values of `names` (the point estimate: the tumour constants' and the model's
    defaults)."""
    params = params or {}
    return {
        n: float(PARAMETERS[n][0]) if n in PARAMETERS else float(params[n].default) for n in names
    }


def check_members(k: Any, func: str) -> int:
    """K: 0 (off) or 2 .. MAX_MEMBERS (set 0 is the point estimate)."""
    if (
        isinstance(k, bool)
        or not isinstance(k, (int, np.integer))
        or not (k == 0 or 2 <= k <= MAX_MEMBERS)
    ):
        raise InvalidInputError(
            f"{func}(): ensemble must be 0 (off) or a whole number of parameter sets in "
            f"2-{MAX_MEMBERS} (set 0 is the defaults), got {k!r}"
        )
    return int(k)


def check_ranges(
    ranges: Any, func: str, params: Mapping[str, Parameter] | None = None
) -> dict[str, tuple[float, float]]:
    """`ranges` (None: :func:`default_ranges` of the tumour constants and of the named network
    parameters `params`) checked: known names (the tumour constants and `params`), finite low
    <= high within the hard bounds (a network weight within [0, 1]), and the two doubling
    times compatible (birth faster than net growth)."""
    params = dict(params or {})
    if ranges is None:
        out0 = default_ranges()
        out0.update(network_ranges(params))
        return out0
    if not isinstance(ranges, Mapping) or not ranges:
        raise InvalidInputError(
            f"{func}(): ensemble_ranges must map parameter names to (low, high), got {ranges!r}"
        )
    out: dict[str, tuple[float, float]] = {}
    known = [*PARAMETERS, *params]
    for name in sorted(ranges, key=str):
        if name not in known:
            raise InvalidInputError(
                f"{func}(): ensemble_ranges: unknown parameter {name!r} (known: the tumour "
                f"constants {', '.join(PARAMETERS)} and the model's {len(params)} named "
                f"parameters){did_you_mean(str(name), known)}"
            )
        _, lo_b, hi_b, _ = PARAMETERS[name] if name in PARAMETERS else (0, 0.0, 1.0, "")
        lh = ranges[name]
        ok = isinstance(lh, Sequence) and not isinstance(lh, str) and len(lh) == 2
        if ok:
            ok = all(
                not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
                for v in lh
            )
        if not ok or not (lo_b <= lh[0] <= lh[1] <= hi_b):
            raise InvalidInputError(
                f"{func}(): ensemble_ranges[{name!r}] must be (low, high) with "
                f"{lo_b:g} <= low <= high <= {hi_b:g}, got {lh!r}"
            )
        out[name] = (float(lh[0]), float(lh[1]))
    b_hi = out.get("birth_doubling_days", (PARAMETERS["birth_doubling_days"][0],) * 2)[1]
    u_lo = out.get("untreated_doubling_days", (PARAMETERS["untreated_doubling_days"][0],) * 2)[0]
    if not b_hi < u_lo:
        raise InvalidInputError(
            f"{func}(): ensemble_ranges: every birth doubling time must be shorter than every "
            f"untreated doubling time (the untreated tumour grows), got birth up to {b_hi:g} d "
            f"and untreated from {u_lo:g} d"
        )
    return out


def draw_members(
    k: int, seed: int, ranges: Mapping[str, tuple[float, float]], round_: int = 0
) -> list[dict[str, float]]:
    """The parameter values of sets 1 .. k-1 (a Latin hypercube over `ranges`, one stream per
    parameter keyed by `seed`, the name and `k`); set 0, the defaults, is not listed. A later
    `round_` (a redraw after rejections, :func:`draw_accepted_members`) is a fresh hypercube
    keyed by the round too; round 0 is the historic draw."""
    n = int(k) - 1
    cols: dict[str, np.ndarray] = {}
    for name in sorted(ranges):
        lo, hi = ranges[name]
        key: tuple[int, ...] = (_STREAM, zlib.crc32(name.encode("utf-8")), int(k))
        if round_:
            key = (*key, int(round_))
        ss = np.random.SeedSequence(int(seed), spawn_key=key)
        rng = np.random.default_rng(ss)
        u = (rng.permutation(n) + rng.random(n)) / n  # one draw in each of n strata
        cols[name] = lo + u * (hi - lo)
    return [{name: float(cols[name][j]) for name in cols} for j in range(n)]


#: at most this many hypercubes are drawn to find K-1 sets that pass the single-agent check
MAX_DRAW_ROUNDS = 20
#: cycles of each arm's schedule over which the single-agent check compares M-protein
SINGLE_AGENT_CYCLES = 6


def draw_accepted_members(
    k: int,
    seed: int,
    ranges: Mapping[str, tuple[float, float]],
    accept: Callable[[Mapping[str, float]], bool],
    *,
    func: str = "trial",
) -> tuple[list[dict[str, float]], int]:
    """Sets 1 .. k-1 that `accept` keeps, and how many drawn sets it rejected: the sets of
    hypercube round 0 in order, then of rounds 1, 2, ... (:func:`draw_members`) until k-1 pass
    (deterministic for a seed). Raises when :data:`MAX_DRAW_ROUNDS` rounds do not give them."""
    need = int(k) - 1
    out: list[dict[str, float]] = []
    rejected = 0
    for r in range(MAX_DRAW_ROUNDS):
        for v in draw_members(k, seed, ranges, r):
            if len(out) == need:
                break
            if accept(v):
                out.append(v)
            else:
                rejected += 1
        if len(out) == need:
            return out, rejected
    raise InvalidInputError(
        f"{func}(): ensemble: only {len(out)} of {need} parameter sets passed the single-agent "
        f"check in {MAX_DRAW_ROUNDS} rounds ({rejected} rejected); narrow ensemble_ranges"
    )


#: a drug alone counts as worse than untreated only beyond this relative margin (a drug with no
#: effect, e.g. melphalan in the network today, ends within numerical noise of untreated)
SINGLE_AGENT_MARGIN = 1e-3
#: the untreated course: a regimen whose drug has PK, with its dose scaled to 0 (a drug without
#: PK is held at its reference exposure whatever the dose, so it cannot give "untreated")
_UNTREATED = {"regimen": "d", "dose_scale": {"dexamethasone": 0.0}}


def single_agent_failures(
    values: Mapping[str, float],
    arms: Sequence[Any],
    *,
    context: str = "marrow",
    model: Any = "myeloma",
    cycles: int = SINGLE_AGENT_CYCLES,
    cache: dict[Any, float] | None = None,
) -> list[str]:
    """Drugs of `arms` that, under the parameter set `values`, leave the typical patient
    (reference adult, `context`, typical PK) with more M-protein (by more than
    :data:`SINGLE_AGENT_MARGIN`, relative) after `cycles` cycles of the arm's schedule when given
    alone than the same patient untreated over the same days.

    Every agent in the library is active alone (single-agent arms in
    ``calibration/single_agent.toml``; dexamethasone alone: APEX, ORR 18%, PMID:15958804), so a
    set in which one of them helps the tumour contradicts single-agent data and is not a
    plausible parameter set; :func:`draw_accepted_members` redraws it. `cache` (optional)
    keeps the courses between calls."""
    kw = member_cohort(values)
    store: dict[Any, float] = {} if cache is None else cache
    failed: list[str] = []

    def end_m(spec: Any, tag: Any, n: int, follow: float | None = None) -> float:
        key = (tag, n, follow, tuple(sorted(values.items())))
        if key not in store:
            res = simulate_cohort(
                spec,
                [REFERENCE_BODY],
                cycles=n,
                context=context,
                model=model,
                follow_up_days=follow,
                **kw,
            )
            store[key] = float(res.m_protein[0, -1])
        return store[key]

    for arm in arms:
        it = _item(arm, "trial")
        drugs = [d for d in it.regimen.drugs if d not in it.drop]
        base = {"regimen": it.regimen, "drop": list(it.drop), "dose_scale": dict(it.dose_scale)}
        tag = (it.regimen.name, tuple(it.drop), tuple(sorted(it.dose_scale.items())))
        n = arm_cycles(arm, cycles)
        # the same days for both: the arm's cycles, at least the 28-day cycle of the untreated
        span = max(float(_horizon_days(it.regimen, n)[0]), 28.0)
        none = end_m(_UNTREATED, "untreated", 1, span)
        for d in drugs:
            if d in failed:
                continue
            alone = {**base, "drop": [*it.drop, *(x for x in drugs if x != d)]}
            if end_m(alone, (*tag, d), n, span) > none * (1.0 + SINGLE_AGENT_MARGIN):
                failed.append(d)
    return failed


def member_cohort(values: Mapping[str, float]) -> dict[str, Any]:
    """The :func:`mmmech.dynamics.simulate_cohort` keywords of one parameter set: the tumour
    constants as ``tumour`` / ``hours_per_model_time``, every other name (a named network
    parameter) in ``params``."""
    change: dict[str, Any] = {}
    if "birth_doubling_days" in values:
        change["birth_rate"] = math.log(2) / values["birth_doubling_days"]
    if "untreated_doubling_days" in values:
        change["net_rate"] = math.log(2) / values["untreated_doubling_days"]
    if "death_scale" in values:
        change["death_scale"] = values["death_scale"]
    out: dict[str, Any] = {}
    if change:
        out["tumour"] = tumour_model(**change)
    if "hours_per_model_time" in values:
        out["hours_per_model_time"] = float(values["hours_per_model_time"])
    network = {n: float(v) for n, v in sorted(values.items()) if n not in PARAMETERS}
    if network:
        out["params"] = network
    return out


def _quantile(values: Sequence[float], q: float) -> float:
    """Percentile `q` (linear interpolation between order statistics) of values that may be
    ``inf`` (a median PFS not reached): an interpolation touching ``inf`` is ``inf``."""
    x = np.sort(np.asarray(values, dtype=float))
    pos = q / 100.0 * (len(x) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    frac = pos - lo
    if frac == 0.0 or x[lo] == x[hi]:
        return float(x[lo])
    if math.isinf(x[hi]):
        return math.inf
    return float(x[lo] + frac * (x[hi] - x[lo]))


def _summary(values: Sequence[float | None], name: str) -> dict[str, Any]:
    """``{name: [p5, p95], name_range: [min, max]}`` (None: not reached within follow-up)."""
    v = [math.inf if x is None else float(x) for x in values]

    def out(x: float) -> float | None:
        return None if math.isinf(x) else x

    return {
        name: [out(_quantile(v, q)) for q in PERCENTILES],
        f"{name}_range": [out(min(v)), out(max(v))],
    }


def _median_months(a: ArmResult) -> float | None:
    m = kaplan_meier(a.pfs_days, a.progressed).median
    return None if m is None or not math.isfinite(m) else float(m) / DAYS_PER_MONTH


@dataclass
class Ensemble:
    """The parameter sets of a trial (set 0: the defaults) and each set's arms."""

    ranges: dict[str, tuple[float, float]]
    values: list[dict[str, float]]
    arms: list[list[ArmResult]] = field(default_factory=list)
    #: the model's named parameters (their defaults, ranges and sources)
    network: dict[str, Parameter] = field(default_factory=dict)
    #: drawn sets rejected by the single-agent check (:func:`single_agent_failures`)
    rejected: int = 0
    #: drugs left out of the check: alone already worse than untreated at the defaults
    unchecked: list[str] = field(default_factory=list)

    @property
    def members(self) -> int:
        return len(self.values)

    def arm(self, j: int) -> dict[str, Any]:
        """Arm `j`'s ``ensemble`` entry of the trial JSON."""
        sets = [arms[j] for arms in self.arms]
        per: dict[str, list[float | None]] = {
            "orr": [a.rate("PR") for a in sets],
            "vgpr_or_better": [a.rate("VGPR") for a in sets],
            "cr_or_better": [a.rate("CR") for a in sets],
            "median_pfs_months": [_median_months(a) for a in sets],
        }
        out: dict[str, Any] = {"members": self.members, "percentiles": list(PERCENTILES)}
        for k, v in per.items():
            out.update(_summary(v, k))
        out["values"] = per
        return out

    def hazard_ratio(self, i: int, j: int) -> dict[str, Any]:
        """The ``ensemble`` entry of the hazard ratio of arm `i` against arm `j`."""
        vals = []
        for arms in self.arms:
            a, b = arms[i], arms[j]
            hr = hazard_ratio(a.pfs_days, a.progressed, b.pfs_days, b.progressed)
            vals.append(hr.value)
        est = [v for v in vals if v is not None and math.isfinite(v)]
        out: dict[str, Any] = {"members": self.members, "percentiles": list(PERCENTILES)}
        if est:
            out.update(_summary(est, "value"))
        else:
            out.update({"value": [None, None], "value_range": [None, None]})
        out["not_estimable"] = len(vals) - len(est)
        out["values"] = [v if v is not None and math.isfinite(v) else None for v in vals]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The trial-level ``ensemble`` entry: how the sets were made and their values."""
        params = []
        for name, (lo, hi) in self.ranges.items():
            rate = _SOURCED.get(name)
            net = self.network.get(name)
            entry: dict[str, Any] = {
                "name": name,
                "kind": "tumour" if name in PARAMETERS else "network",
                "low": lo,
                "high": hi,
                "default": PARAMETERS[name][0] if net is None else float(net.default),
                "source": None if rate is None else rate.source,
            }
            if net is not None:
                ids = [*net.supports, *net.contradicts]
                entry["source"] = ids[0] if ids else None
                entry["sources"] = list(net.supports)
                entry["contradicts"] = list(net.contradicts)
            entry["values"] = [v.get(name, entry["default"]) for v in self.values]
            params.append(entry)
        held = [n for n in [*PARAMETERS, *self.network] if n not in self.ranges]
        unsourced = set(unsourced_parameters(self.network))
        fixed = [
            {
                "name": n,
                "default": float(self.network[n].default),
                "reason": "no sourced range (low == high or no source)"
                if n in unsourced
                else "not in the ensemble's ranges",
            }
            for n in self.network
            if n not in self.ranges
        ]
        return {
            "members": self.members,
            "method": "set 0 the defaults (the point estimate); sets 1..K-1 a Latin hypercube "
            "over the ranges (tumour constants and named network parameters jointly), one "
            "stratum per set and parameter, uniform within; each set runs the network with its "
            "own parameter values; a drawn set in which a drug of the arms, given alone on "
            "its arm's schedule, leaves the typical patient with more M-protein than no "
            "treatment is rejected and redrawn (single-agent check)",
            "rejected": self.rejected,
            "single_agent_unchecked": list(self.unchecked),
            "percentiles": list(PERCENTILES),
            "parameters": params,
            "held_at_defaults": held,
            "fixed_network_parameters": fixed,
        }
