"""One in-vivo factor per agent plus the shared tumour constants (``mmmech calibrate --agents``).

The global fit (:func:`mmmech.calibration.calibrate`) moves only the shared tumour constants
(``birth_doubling_days``, ``death_scale``), and most of the single-agent misses are drug-specific
(no global constant makes bortezomib respond and teclistamab respond less). A pharmacometric fit
gives every agent one free in-vivo parameter, fitted only on that agent's own single-agent
arm(s):

- a small molecule: ``exposure_scale.<drug>``, the factor on the drug's concentration reaching
  its targets (an effect-site exposure, equivalently an in-vivo / in-vitro potency ratio:
  :func:`mmmech.dynamics.simulate_cohort`'s ``exposure_scale``);
- an antibody, T-cell engager, antibody-drug conjugate or CAR-T (target occupancy saturates at
  clinical doses, so an exposure factor moves little): ``efficacy_scale.<drug>``, the factor on
  the drug's target occupancies passed to the network, capped at 1 (the fraction of engaged
  targets that acts in vivo: ``efficacy_scale``). It lowers an effect that is too strong at
  full occupancy; it cannot raise an effect that is too weak at full occupancy (the cap).

Prior: each factor log-normal with median 1 (no correction) and SD of ln(factor)
:data:`FACTOR_LOG_SD` (ln 10 / 2: 95% of the prior mass within x0.14-x7.1; a modelling
choice), bounds :data:`FACTOR_BOUNDS` (1e-2 to 1e2).

Smoothing: the tumour multipliers (``Patient.tumour`` growth and sensitivity) act after the
network, so each network patient is paired with `draws` multiplier draws (the patient's own and
``draws - 1`` more from the population's ``[tumour]`` distribution, each from its own keyed
sub-stream ``calibration-tumour/<j>``; likewise the acquired-resistance rate from
``calibration-resistance/<j>``), and the rates are averages over all of them: the same
network runs, a much smoother objective than the rates of a handful of patients.

Search (separable): every arm runs on the network once per value of its agent's factor grid
(the factor changes only its own arm(s)); the shared constants are then fitted jointly (grid,
then Nelder-Mead) with the factors fixed, each factor by a 1-D profile over its grid on its own
arm(s) with the shared constants fixed, alternating until no factor changes; the factors'
optima between grid values come from a monotone (PCHIP) interpolation of the profile in
ln(factor), and every arm is then run once more at its interpolated optimum for the reported
values. Intervals: the 95% profile (deviance within 3.84 of the minimum), each factor's on the
interpolated grid profile with the shared constants at their optimum, the shared constants'
with the factors at theirs (conditional profiles: a factor enters only its own arms' terms).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .. import drugs as _drugs
from .. import populations as _populations
from ..dynamics.tumour import BIRTH_DOUBLING_DAYS, UNTREATED_DOUBLING_DAYS
from ..exceptions import InvalidInputError
from ..populations.sampler import _bounded, _z, substream
from ..trials import DAYS_PER_MONTH, enrol
from .data import RATE_KEYS, SingleAgentArm, load_single_agent
from .fit import (
    _COUNTS,
    _NU,
    CHI2_95,
    RELAPSE_DOUBLING,
    ArmCourse,
    CalibrationResult,
    _prior,
    _s_max,
    _within,
    arm_deviance,
    growth_deviance,
    growth_log_sd,
    mix_note,
    predict,
    s_grid,
    simulable_arms,
    simulate_courses,
    subgroup_cohorts,
    uncertainty,
    untreated_doubling,
)
from .params import FACTOR_BOUNDS, FACTOR_LOG_SD, PARAMETERS

__all__ = ["calibrate_agents", "agent_parameter", "resampled_multipliers", "DEFAULT_GRID"]

#: the factor grid each arm runs on (denser near 1, where the prior puts its mass)
DEFAULT_GRID = (0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)


def agent_parameter(agent: str) -> str:
    """The name of `agent`'s factor: ``exposure_scale.<drug>`` for a small molecule,
    ``efficacy_scale.<drug>`` for an antibody, T-cell engager, conjugate or cell therapy."""
    kind = "exposure_scale" if _drugs.get(agent).type == "small_molecule" else "efficacy_scale"
    return f"{kind}.{agent}"


def resampled_multipliers(
    population: Any, patients: Sequence[Any], seed: int, draws: int
) -> tuple[np.ndarray, np.ndarray]:
    """Growth and sensitivity multipliers (P x `draws`): column 0 each patient's own
    (``Patient.tumour``), column j >= 1 a fresh draw from the population's ``[tumour]``
    distribution in the patient's sub-stream ``calibration-tumour/<j>`` (keyed by population,
    patient index and seed: the same draws in every arm and every run; no existing draw
    changes)."""
    pop = population if isinstance(population, _populations.Population) else None
    if pop is None:
        pop = _populations.load(population)
    spec = pop.tumour
    P = len(patients)
    g = np.ones((P, draws))
    s = np.ones((P, draws))
    for i, p in enumerate(patients):
        g[i, 0] = p.tumour_scale("growth")
        s[i, 0] = p.tumour_scale("sensitivity")
        for j in range(1, draws):
            rng = substream(pop.name, p.index, seed, f"calibration-tumour/{j}")
            zg, z2 = _z(rng.random()), _z(rng.random())
            if spec.growth is not None:
                g[i, j] = _bounded(spec.growth, zg)
            if spec.sensitivity is not None:
                r = spec.correlation
                s[i, j] = _bounded(spec.sensitivity, z2, r * zg, math.sqrt(1.0 - r * r))
    return g, s


def resampled_resistance(
    population: Any, patients: Sequence[Any], seed: int, draws: int
) -> np.ndarray | None:
    """Acquired-resistance rates (P x `draws`, per day) paired with
    :func:`resampled_multipliers`: column 0 each patient's own (``Patient.resistance_per_day``),
    column j >= 1 a fresh draw from the population's ``[resistance]`` distribution in the
    patient's sub-stream ``calibration-resistance/<j>``; None when the population has none."""
    pop = population if isinstance(population, _populations.Population) else None
    if pop is None:
        pop = _populations.load(population)
    spec = pop.resistance
    if spec is None:
        return None
    lam = np.zeros((len(patients), draws))
    for i, p in enumerate(patients):
        lam[i, 0] = float(getattr(p, "resistance_per_day", 0.0) or 0.0)
        for j in range(1, draws):
            rng = substream(pop.name, p.index, seed, f"calibration-resistance/{j}")
            lam[i, j] = _bounded(spec, _z(rng.random()))
    return lam


def _expand(
    course: ArmCourse, g: np.ndarray, s: np.ndarray, lam: np.ndarray | None = None
) -> ArmCourse:
    """`course` with each patient's row repeated once per multiplier draw (P*M rows); `lam`
    (P x M resistance rates) replaces the course's own when given, else each patient's own
    rate is repeated."""
    M = g.shape[1]
    if lam is not None:
        res: np.ndarray | None = lam.ravel()
    elif course.resistance is not None:
        res = np.repeat(course.resistance, M)
    else:
        res = None
    return replace(
        course,
        a=np.repeat(course.a, M, axis=0),
        b=np.repeat(course.b, M, axis=0),
        isotypes=np.repeat(course.isotypes, M),
        m0=np.repeat(course.m0, M),
        growth=g.ravel(),
        sensitivity=s.ravel(),
        resistance=res,
    )


def mc_standard_errors(
    pred: Mapping[str, Any], patients: int, boot: int = 200, seed: int = 0
) -> dict[str, float]:
    """Monte Carlo standard errors of an arm's modelled rates and median TTP (days) from the
    sampling of its network patients: the rows of `pred` (``best_response``, ``ttp_days``) are
    `patients` blocks of equal size (each network patient's tumour-multiplier draws, as
    :func:`_expand` lays them out), resampled as blocks (a cluster bootstrap, `boot`
    resamples; the draws within a patient share its network run, so they are not
    independent). The spread a different seed or cohort of the same size would give."""
    best = np.asarray(pred["best_response"])
    ttp = np.asarray(pred["ttp_days"], dtype=float)
    if patients < 2 or best.size % patients:
        return {}
    D = best.size // patients
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, patients, size=(boot, patients))
    rows = (idx[:, :, None] * D + np.arange(D)[None, None, :]).reshape(boot, -1)
    out: dict[str, float] = {}
    for key, cats in _COUNTS.items():
        hit = np.isin(best, cats).astype(float)
        out[key] = float(hit[rows].mean(axis=1).std(ddof=1))
    med = np.median(ttp[rows], axis=1)
    fin = med[np.isfinite(med)]
    if fin.size == boot:
        out["median_ttp_days"] = float(fin.std(ddof=1))
    return out


def _clip(f: float, gl: Sequence[float]) -> float:
    return float(min(max(f, gl[0]), gl[-1]))


def _factor_prior(f: float) -> float:
    return (math.log(f) / FACTOR_LOG_SD) ** 2


def _profile_interval(
    xs: np.ndarray, ds: np.ndarray, fine: int = 400
) -> tuple[float, float, float, float, bool, bool]:
    """(x at the minimum, minimum, low, high, open_low, open_high) of a deviance profile given
    at `xs` (log scale), interpolated monotonically (PCHIP) between them; `open_*` when the
    interval reaches the end of the grid."""
    from scipy.interpolate import PchipInterpolator  # deferred: SciPy loads only when fitting

    ok = np.isfinite(ds)
    xs, ds = xs[ok], ds[ok]
    if xs.size == 1:
        return float(xs[0]), float(ds[0]), float(xs[0]), float(xs[0]), True, True
    fx = np.linspace(xs[0], xs[-1], fine)
    fd = PchipInterpolator(xs, ds)(fx)
    k = int(np.argmin(fd))
    dmin = float(fd[k])
    # the connected stretch around the minimum
    lo_i = k
    while lo_i - 1 >= 0 and fd[lo_i - 1] - dmin <= CHI2_95:
        lo_i -= 1
    hi_i = k
    while hi_i + 1 < fx.size and fd[hi_i + 1] - dmin <= CHI2_95:
        hi_i += 1
    return (
        float(fx[k]),
        dmin,
        float(fx[lo_i]),
        float(fx[hi_i]),
        lo_i == 0,
        hi_i == fx.size - 1,
    )


def calibrate_agents(
    data: Any = "single_agent",
    *,
    population: str = "rrmm",
    patients: int = 8,
    seed: int = 1,
    draws: int = 64,
    follow_up_days: float = 180.0,
    step_hours: float = 12.0,
    grid: Sequence[float] = DEFAULT_GRID,
    rounds: int = 6,
    num_threads: int = 0,
    command: str | None = None,
    pk_variability: bool = True,
    progress: Any = None,
    shared: bool = True,
    refine_rounds: int = 2,
    refine_tol: float = 0.05,
    interval_bisections: int = 2,
    alone_grid: int = 3,
    relapse_growth: bool = True,
) -> CalibrationResult:
    """Shared tumour constants plus one in-vivo factor per agent (module doc).

    Parameters
    ----------
    data, population, seed, follow_up_days, step_hours, pk_variability :
        as :func:`mmmech.calibration.calibrate`
    patients : network patients (each arm runs on them once per factor grid value)
    draws : tumour-multiplier draws per network patient (rates are averages over them)
    grid : the factor values each arm runs on (must contain 1, within the bounds)
    rounds : most alternations of the shared constants and the factors
    progress : optional callable taking one line of text (progress of the network runs)
    shared : fit the shared tumour constants too (False: they stay at the model's defaults and
        only the factors are fitted)
    refine_rounds : most rounds of continuous refinement of the factors (0: grid nodes only,
        the behaviour before 2026-12-01), each followed by a refit of the shared constants
    refine_tol : tolerance of the refinement in ln(factor)
    interval_bisections : network runs spent per interval end to resolve it
    alone_grid : points per shared constant of the per-arm "alone" diagnosis grid
    relapse_growth : add the sourced untreated growth at relapse to the objective
        (:func:`mmmech.calibration.fit.growth_deviance`; False: the behaviour before
        2026-12-01, where the death scale could move the untreated doubling time freely); the
        "alone" diagnosis then only tries death scales whose untreated growth is within its
        95% band (deviance within 3.84 of the term's minimum)
    """
    from scipy.optimize import minimize, minimize_scalar  # deferred: SciPy loads when fitting
    from scipy.stats import chi2  # deferred: as above

    func = "calibrate_agents"
    arms = load_single_agent(data) if not isinstance(data, (list, tuple)) else tuple(data)
    for name, v, lo in (
        ("patients", patients, 1),
        ("draws", draws, 1),
        ("rounds", rounds, 1),
        ("refine_rounds", refine_rounds, 0),
        ("interval_bisections", interval_bisections, 0),
        ("alone_grid", alone_grid, 1),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidInputError(f"{func}(): {name} must be an integer >= {lo}, got {v!r}")
    gl = sorted({float(x) for x in grid})
    if 1.0 not in gl or gl[0] < FACTOR_BOUNDS[0] or gl[-1] > FACTOR_BOUNDS[1]:
        raise InvalidInputError(
            f"{func}(): grid must contain 1 and lie in [{FACTOR_BOUNDS[0]:g}, "
            f"{FACTOR_BOUNDS[1]:g}], got {list(grid)!r}"
        )
    cohort, skipped = enrol(population, patients, seed)
    lsd = growth_log_sd(population) if relapse_growth else None

    def growth_dev(s: float, tb: float) -> float:
        return growth_deviance(s, tb, lsd) if relapse_growth else 0.0

    G, S = resampled_multipliers(population, cohort, seed, draws)
    L = resampled_resistance(population, cohort, seed, draws)
    used, notes = simulable_arms(arms, func)
    agents = list(dict.fromkeys(a.agents[0] for a in used))
    pname = {ag: agent_parameter(ag) for ag in agents}
    arms_of = {ag: [a for a in used if a.agents[0] == ag] for ag in agents}
    sim_kw: dict[str, Any] = dict(
        subgroups=subgroup_cohorts(used, population, patients, seed),
        follow_up_days=follow_up_days,
        step_hours=step_hours,
        num_threads=num_threads,
        pk_population=population if pk_variability else None,
        pk_seed=seed if pk_variability else None,
    )

    n_runs = 0
    cache: dict[tuple[str, float], ArmCourse] = {}

    def course(arm: SingleAgentArm, f: float) -> ArmCourse:
        """`arm` run on the network at factor `f` (each (arm, factor) once, cached)."""
        nonlocal n_runs
        key = (arm.id, round(math.log(f), 9))
        if key not in cache:
            ag = arm.agents[0]
            kind = pname[ag].split(".")[0]
            extra: dict[str, Any] = {} if f == 1.0 else {kind: {ag: f}}
            (c,) = simulate_courses([arm], cohort, **sim_kw, **extra)
            cache[key] = _expand(c, G, S, L)
            n_runs += 1
            if progress is not None:
                progress(f"network run {n_runs}: {arm.id} at factor {f:.4g}")
        return cache[key]

    def evaluated(ag: str) -> list[float]:
        """The factor values every arm of `ag` has been run at, ascending."""
        ids = {a.id for a in arms_of[ag]}
        per = [{k[1] for k in cache if k[0] == i} for i in ids]
        return sorted(math.exp(x) for x in set.intersection(*per))

    i1 = gl.index(1.0)
    retired: list[ArmCourse] = []  # runs replaced below, kept so that no id() is reused

    memo: dict[tuple[int, float, float], float] = {}

    def arm_dev(c: ArmCourse, s: float, tb: float) -> float:
        key = (id(c), s, tb)  # courses live in `cache`: their ids stay unique
        if key not in memo:
            memo[key] = float(sum(arm_deviance(c.arm, predict(c, s, tb), c.horizon_days).values()))
        return memo[key]

    def shared_total(s: float, tb: float, chosen: Mapping[str, ArmCourse]) -> float:
        if not (PARAMETERS["birth_doubling_days"][1] <= tb <= PARAMETERS["birth_doubling_days"][2]):
            return math.inf
        if not (PARAMETERS["death_scale"][1] <= s <= _s_max(tb)):
            return math.inf
        return _prior(tb) + growth_dev(s, tb) + sum(arm_dev(c, s, tb) for c in chosen.values())

    def fit_shared(
        chosen: Mapping[str, ArmCourse], start: tuple[float, float], tb_pts: int = 7, s_pts: int = 9
    ) -> tuple[float, float, float]:
        if not shared:
            return start[0], start[1], shared_total(start[0], start[1], chosen)
        tb_lo, tb_hi = PARAMETERS["birth_doubling_days"][1:3]
        best = (start[0], start[1], shared_total(start[0], start[1], chosen))
        for tb in np.linspace(tb_lo, tb_hi, tb_pts):
            for s in s_grid(float(tb), s_pts, lsd):
                d = shared_total(float(s), float(tb), chosen)
                if d < best[2]:
                    best = (float(s), float(tb), d)
        opt = minimize(
            lambda x: shared_total(float(x[0]), float(x[1]), chosen),
            x0=np.array(best[:2]),
            method="Nelder-Mead",
            options={"xatol": 1e-3, "fatol": 1e-2, "maxiter": 80},
        )
        if math.isfinite(float(opt.fun)) and float(opt.fun) < best[2]:
            return float(opt.x[0]), float(opt.x[1]), float(opt.fun)
        return best

    def agent_dev(ag: str, f: float, s: float, tb: float) -> float:
        """`ag`'s own arms' deviance at factor `f` plus the factor's prior."""
        return sum(arm_dev(course(a, f), s, tb) for a in arms_of[ag]) + _factor_prior(f)

    def agent_profile(ag: str, s: float, tb: float) -> np.ndarray:
        return np.array([agent_dev(ag, gl[k], s, tb) for k in range(len(gl))])

    def refine(ag: str, f0: float, s: float, tb: float, lo: float, hi: float) -> float:
        """The factor minimising `ag`'s deviance in [lo, hi] (bounded Brent in ln factor, every
        evaluation a network run), or the best value run so far if that is lower."""
        if hi > lo * (1 + 1e-9):
            minimize_scalar(
                lambda x: agent_dev(ag, math.exp(float(x)), s, tb),
                bounds=(math.log(lo), math.log(hi)),
                method="bounded",
                options={"xatol": refine_tol, "maxiter": 10},
            )
        cand = [f for f in evaluated(ag) if gl[0] <= f <= gl[-1]]
        return min(cand, key=lambda f: (agent_dev(ag, f, s, tb), abs(math.log(f / f0))))

    # 0. an exposure factor its arms cannot feel (the drug's targets saturated at every
    # exposure of the grid, e.g. venetoclax on BCL2: Ki < 0.01 nM against ~24 nM unbound)
    # becomes an efficacy factor, which acts on the occupancy itself
    switched: list[str] = []
    tb0 = BIRTH_DOUBLING_DAYS.value
    for ag in agents:
        if pname[ag].startswith("exposure_scale."):
            # the grid's ends and 1 first: the rest of the grid only for the factor kept
            ends = sorted({gl[0], 1.0, gl[-1]})
            dsw = [sum(arm_dev(course(a, f), 1.0, tb0) for a in arms_of[ag]) for f in ends]
            if max(dsw) - min(dsw) < CHI2_95:
                old_name = pname[ag]
                pname[ag] = f"efficacy_scale.{ag}"
                for a in arms_of[ag]:
                    for ck in [k for k in cache if k[0] == a.id]:
                        retired.append(cache.pop(ck))
                switched.append(
                    f"{old_name} moves its arms' deviance by {max(dsw) - min(dsw):.2g} between "
                    f"{gl[0]:g} and {gl[-1]:g} (its targets are saturated at every exposure), "
                    f"so {pname[ag]} is fitted instead"
                )
        for a in arms_of[ag]:
            for f in gl:
                course(a, f)

    # 1. the grid: alternate the shared constants and each factor's grid node
    idx = dict.fromkeys(agents, i1)
    s_hat, tb_hat = 1.0, BIRTH_DOUBLING_DAYS.value
    d_hat = math.inf
    rounds_run = 0
    new = idx
    for _ in range(rounds):
        rounds_run += 1
        chosen = {a.id: course(a, gl[idx[a.agents[0]]]) for a in used}
        s_hat, tb_hat, d_hat = fit_shared(chosen, (s_hat, tb_hat))
        new = {ag: int(np.argmin(agent_profile(ag, s_hat, tb_hat))) for ag in agents}
        if new == idx:
            break
        idx = new
    converged = rounds_run < rounds or new == idx
    # 2. continuous factors: each refined between its best node's neighbours with real runs,
    # then the shared constants again, until no factor moves by more than the tolerance
    fhat = {ag: gl[idx[ag]] for ag in agents}
    refine_rounds_run = 0
    for r in range(refine_rounds):
        refine_rounds_run += 1
        moved = False
        for ag in agents:
            if r == 0:
                k = int(np.argmin(agent_profile(ag, s_hat, tb_hat)))
                f_lo, f_hi = gl[max(k - 1, 0)], gl[min(k + 1, len(gl) - 1)]
            else:  # a narrower bracket around the previous value
                fs = evaluated(ag)
                best_f = min(fs, key=lambda f: agent_dev(ag, f, s_hat, tb_hat))
                if best_f == fhat[ag]:
                    continue  # still the best value run at the new shared constants
                f_lo = max(gl[0], fhat[ag] / 1.5)
                f_hi = min(gl[-1], fhat[ag] * 1.5)
            f_new = refine(ag, fhat[ag], s_hat, tb_hat, f_lo, f_hi)
            moved |= abs(math.log(f_new / fhat[ag])) > refine_tol
            fhat[ag] = f_new
        chosen = {a.id: course(a, fhat[a.agents[0]]) for a in used}
        s_new, tb_new, d_hat = fit_shared(chosen, (s_hat, tb_hat))
        shift = abs(s_new - s_hat) > 1e-3 or abs(tb_new - tb_hat) > 1e-2
        s_hat, tb_hat = s_new, tb_new
        if not (moved or shift):
            break
    # 3. each factor's 95% profile interval on every value run (the shared constants at their
    # optimum), its ends bisected with real runs where the values run are far apart
    values: dict[str, float] = {}
    intervals: dict[str, tuple[float | None, float | None]] = {}
    profiles: dict[str, list[tuple[float, float]]] = {}
    open_ends: list[str] = []
    for ag in agents:
        dmin = agent_dev(ag, fhat[ag], s_hat, tb_hat)
        for side in (-1, 1):
            for _ in range(interval_bisections):
                fs = evaluated(ag)
                inside = [f for f in fs if agent_dev(ag, f, s_hat, tb_hat) - dmin <= CHI2_95]
                edge = min(inside) if side < 0 else max(inside)
                beyond = [f for f in fs if (f < edge if side < 0 else f > edge)]
                if not beyond:
                    break
                out_f = max(beyond) if side < 0 else min(beyond)
                if abs(math.log(out_f / edge)) <= 0.1:
                    break
                agent_dev(ag, math.sqrt(out_f * edge), s_hat, tb_hat)  # one more run
        fs = evaluated(ag)
        prof = np.array([agent_dev(ag, f, s_hat, tb_hat) for f in fs])
        _, _, flo, fhi, olo, ohi = _profile_interval(np.log(np.asarray(fs)), prof)
        values[pname[ag]] = fhat[ag]
        intervals[pname[ag]] = (
            min(_clip(math.exp(flo), gl), fhat[ag]),
            max(_clip(math.exp(fhi), gl), fhat[ag]),
        )
        profiles[pname[ag]] = [(f_, float(d_)) for f_, d_ in zip(fs, prof, strict=True)]
        if olo or ohi:
            open_ends.append(
                f"{pname[ag]}: the interval reaches the grid's "
                + " and ".join(w for w, o in (("lower end", olo), ("upper end", ohi)) if o)
                + " (the data do not bound it there)"
            )
    final: dict[str, ArmCourse] = {a.id: course(a, fhat[a.agents[0]]) for a in used}
    s_hat, tb_hat, d_net = fit_shared(final, (s_hat, tb_hat))
    d_best = d_net + sum(_factor_prior(values[pname[ag]]) for ag in agents)
    # the shared constants' profiles (the factors at their optimum)
    tb_lo, tb_hi = PARAMETERS["birth_doubling_days"][1:3]
    tbs = np.linspace(tb_lo, tb_hi, 9 if shared else 1)
    prof_tb: list[float] = []
    prof_s: list[float] = []
    for tb in tbs:
        ss = s_grid(float(tb), 11, lsd)
        prof_tb.append(min(shared_total(float(s), float(tb), final) for s in ss))
    s_all = np.linspace(PARAMETERS["death_scale"][1], PARAMETERS["death_scale"][2], 11)
    if lsd is not None:  # the values the sourced growth allows (at Tb's ends and prior mean)
        s_all = np.unique(
            np.concatenate(
                [s_all, *(s_grid(tb, 7, lsd) for tb in (tb_lo, BIRTH_DOUBLING_DAYS.value, tb_hi))]
            )
        )
    if not shared:
        s_all = s_all[:0]
    for s in s_all:
        ok_tb = [float(tb) for tb in np.linspace(tb_lo, tb_hi, 13) if s <= _s_max(float(tb))]
        prof_s.append(min((shared_total(float(s), tb, final) for tb in ok_tb), default=math.inf))
    for name, xs, ds, best_x in (
        ("birth_doubling_days", tbs, np.array(prof_tb), tb_hat),
        ("death_scale", s_all, np.array(prof_s), s_hat),
    ):
        if not shared:
            values[name] = float(best_x)
            intervals[name] = (None, None)
            continue
        pts = sorted([*zip(xs.tolist(), ds.tolist(), strict=True), (best_x, d_net)])
        px = np.array([p[0] for p in pts])
        pd = np.array([p[1] for p in pts])
        keep = np.concatenate([[True], np.diff(px) > 1e-9])
        _, _, plo, phi, _, _ = _profile_interval(px[keep], pd[keep])
        values[name] = float(best_x)
        intervals[name] = (min(plo, best_x), max(phi, best_x))
        profiles[name] = [(float(a), float(b)) for a, b in zip(px[keep], pd[keep], strict=True)]
    values["hours_per_model_time"] = 1.0
    intervals["hours_per_model_time"] = (None, None)

    def within_all(arm: SingleAgentArm, pr: Mapping[str, Any], horizon: float) -> bool:
        ws = [
            _within(
                arm, key, pr["median_ttp_months"] if key.startswith("median") else pr[key], horizon
            )
            for key in (*RATE_KEYS, "median_ttp_months", "median_pfs_months")
            if arm.value(key) is not None
        ]
        return bool(ws) and all(w for w in ws if w is not None)

    def alone_s(tb: float) -> np.ndarray:
        """Death scales of the "alone" grid at `tb`: evenly over the allowed range, or with
        the growth term over the range whose untreated growth is within its 95% band."""
        ss = np.linspace(PARAMETERS["death_scale"][1], _s_max(tb), alone_grid)
        if lsd is None:
            return ss
        fine = s_grid(tb, 201, lsd)
        dg = np.array([growth_dev(float(s), tb) for s in fine])
        ok = fine[dg - dg.min() <= CHI2_95]
        return np.linspace(ok.min(), ok.max(), alone_grid) if alone_grid > 1 else ok[[0]]

    def alone(arm: SingleAgentArm, s_fit: float, tb_fit: float) -> dict[str, Any]:
        """The arm on its own: the lowest deviance of this arm over every factor value run for
        its agent and the shared constants on a coarse grid (plus the fit and the defaults),
        and whether every reported value is within its uncertainty there. Within there but not
        at the joint fit: a tension (the shared constants, the prior, or a sibling arm sharing
        the factor pull it away); not within anywhere: no value of the parameters fitted
        reproduces the arm (a model limitation, or a factor value between those run)."""
        pts = [(s_fit, tb_fit), (1.0, BIRTH_DOUBLING_DAYS.value)]
        if shared:
            tb_lo, tb_hi = PARAMETERS["birth_doubling_days"][1:3]
            for tb in np.linspace(tb_lo, tb_hi, alone_grid):
                for s in alone_s(float(tb)):
                    pts.append((float(s), float(tb)))
        best: tuple[float, float, float, float, bool] | None = None
        fits_any = False
        for f in evaluated(arm.agents[0]):
            c = course(arm, f)
            for s, tb in pts:
                pr = predict(c, s, tb)
                d = float(sum(arm_deviance(arm, pr, c.horizon_days).values()))
                w = within_all(arm, pr, c.horizon_days)
                fits_any |= w
                key = (not w, d)
                if best is None or key < (not best[4], best[0]):
                    best = (d, f, s, tb, w)
        assert best is not None
        return {
            "alone_deviance": best[0],
            "alone_factor": best[1],
            "alone_death_scale": best[2],
            "alone_birth_doubling_days": best[3],
            "fits_alone": fits_any,
        }

    # per-arm report: observed / defaults / fitted
    report = []
    for arm in used:
        c = final[arm.id]
        c1 = course(arm, 1.0)
        pr = predict(c, s_hat, tb_hat)
        pd0 = predict(c1, 1.0, BIRTH_DOUBLING_DAYS.value)
        row: dict[str, Any] = {"arm": arm.id, "trial": arm.trial, "agent": arm.agents[0]}
        row["parameter"] = pname[arm.agents[0]]
        row["factor"] = values[pname[arm.agents[0]]]
        within_def = []
        for key in (*RATE_KEYS, "median_ttp_months", "median_pfs_months"):
            obs = arm.value(key)
            if obs is None:
                continue
            p = pr["median_ttp_months"] if key.startswith("median") else pr[key]
            p0 = pd0["median_ttp_months"] if key.startswith("median") else pd0[key]
            h = c.horizon_days / DAYS_PER_MONTH
            row[f"{key}_observed"] = obs
            u = uncertainty(arm, key)
            if u is not None:
                row[f"{key}_low"], row[f"{key}_high"] = u
            row[f"{key}_predicted"] = p if p is not None else f">{h:.1f}"
            row[f"{key}_at_defaults"] = p0 if p0 is not None else f">{h:.1f}"
            row[f"{key}_within"] = _within(arm, key, p, c.horizon_days)
            within_def.append(_within(arm, key, p0, c.horizon_days))
        # Monte Carlo standard error of each value from the sampling of the network patients
        # (docs/calibration.md, "Monte Carlo noise"): a value outside its band by less than
        # 2 SE is not distinguishable from within at this cohort size
        se = mc_standard_errors(pr, patients)
        borderline = []
        for key in (*RATE_KEYS, "median_ttp_months", "median_pfs_months"):
            if f"{key}_within" not in row or row[f"{key}_within"] is None:
                continue
            k_se = "median_ttp_days" if key.startswith("median") else key
            p = row[f"{key}_predicted"]
            if k_se in se:
                se_v = se[k_se] / DAYS_PER_MONTH if key.startswith("median") else se[k_se]
                row[f"{key}_mc_se"] = se_v
            if row[f"{key}_within"]:
                continue
            lo_, hi_ = row.get(f"{key}_low"), row.get(f"{key}_high")
            if k_se in se and isinstance(p, float) and lo_ is not None and hi_ is not None:
                gap = lo_ - p if p < lo_ else p - hi_
                borderline.append(gap <= 2.0 * row[f"{key}_mc_se"])
            else:
                borderline.append(False)
        row["within_mc_noise"] = bool(borderline) and all(borderline)
        terms = arm_deviance(arm, pr, c.horizon_days)
        row["deviance"] = float(sum(terms.values()))
        row["deviance_terms"] = len(terms)
        # a goodness-of-fit p-value: the deviance against chi-square with one degree of freedom
        # per reported value (the fitted factor not subtracted: a lenient reading)
        row["fit_p_value"] = float(chi2.sf(row["deviance"], max(len(terms), 1)))
        row["orr_at_defaults"] = pd0["orr"]
        row["deviance_at_defaults"] = float(sum(arm_deviance(arm, pd0, c1.horizon_days).values()))
        within = [v for k, v in row.items() if k.endswith("_within") and v is not None]
        row["fits"] = bool(within) and all(within)
        row["fits_at_defaults"] = bool(within_def) and all(w for w in within_def if w is not None)
        row.update(alone(arm, s_hat, tb_hat))
        row["diagnosis"] = (
            "within" if row["fits"] else "tension" if row["fits_alone"] else "structural"
        )
        report.append(row)
    beta = math.log(2) / tb_hat
    net = beta - s_hat * (beta - _NU)
    notes.append(
        f"untreated doubling implied by the fit: {math.log(2) / net:.0f} days "
        f"(sourced median ~{UNTREATED_DOUBLING_DAYS.value:g} d)"
        if net > 0
        else "the fit implies an untreated tumour that does not grow"
    )
    if relapse_growth:
        k_, n_, _ = RELAPSE_DOUBLING
        notes.append(
            f"untreated growth term (sourced: M-protein doubling <= 6 months in {k_} of {n_} "
            f"patients at relapse, DOI:10.1111/j.1600-0609.1996.tb01371.x): deviance "
            f"{growth_dev(s_hat, tb_hat):.3g} at the fit (typical doubling "
            f"{untreated_doubling(s_hat, tb_hat):.0f} d)"
        )
    notes.append(
        f"rates are averages over {patients} network patients x {draws} tumour-multiplier draws "
        f"({patients * draws} virtual patients per arm); factor grid {gl}; "
        f"{rounds_run} grid alternation round(s){'' if converged else ' (not converged)'}, "
        f"{refine_rounds_run} refinement round(s) (bounded Brent in ln factor, tolerance "
        f"{refine_tol:g}, every evaluation a network run); {n_runs} network runs"
    )
    notes.append(
        "intervals: 95% conditional profiles (each factor with the shared constants at their "
        "optimum, the shared constants with the factors at theirs); each factor's profile is "
        "PCHIP in ln factor through every value run (grid, refinement, interval ends bisected "
        f"{interval_bisections} time(s) with runs)"
    )
    notes.append(
        "per arm: deviance and a chi-square p-value (one degree of freedom per reported value, "
        "the factor not subtracted); 'alone': the arm's lowest deviance over every factor "
        "value run and the shared constants on a coarse grid, so 'tension' = reproducible on "
        "its own but not jointly, 'structural' = not reproduced by any value tried"
    )
    notes.append(
        "Monte Carlo standard errors (± in the table): a cluster bootstrap over the network "
        "patients (their draws resampled together); 'within MC noise': every value outside "
        "its band is within 2 SE of it, so the verdict could change with another cohort"
    )
    notes += switched
    notes += open_ends
    if skipped:
        notes.append(f"{skipped} nonsecretory patient(s) passed over at enrolment")
    mixed = [a for a in used if a.population_mix]
    if mixed:
        notes.append(mix_note(mixed))
    d_def = (
        _prior(BIRTH_DOUBLING_DAYS.value)
        + growth_dev(1.0, BIRTH_DOUBLING_DAYS.value)
        + sum(arm_dev(course(a, 1.0), 1.0, BIRTH_DOUBLING_DAYS.value) for a in used)
    )
    meta = {
        "date": _dt.date.today().isoformat(),
        "data": "calibration/single_agent.toml" if data == "single_agent" else str(data),
        "arms": [a.id for a in used],
        "sources": sorted({s for a in used for s in a.sources}),
        "objective": d_best,
        "objective_at_defaults": d_def,
        "objective_kind": (
            "deviance (binomial rates, log-normal medians, Tb prior, log-normal factor priors "
            f"SD {FACTOR_LOG_SD:.4g} in ln factor)"
        ),
        "population": population,
        "patients": patients,
        "draws": draws,
        "seed": seed,
        "follow_up_days": float(follow_up_days),
        "step_hours": float(step_hours),
        "factor_grid": gl,
        "pk_variability": bool(pk_variability),
        "command": command,
    }
    order = ["birth_doubling_days", "death_scale", "hours_per_model_time"]
    order += [pname[ag] for ag in agents]
    values = {k: values[k] for k in order}
    intervals = {k: intervals[k] for k in order}
    return CalibrationResult(values, intervals, d_best, report, profiles, meta, notes)
