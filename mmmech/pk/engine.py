"""Closed-form linear pharmacokinetics and the ODE reference it is checked against.

A linear mammillary model (central compartment 1 with elimination clearance ``CL`` and volume
``V1``; peripheral compartments ``j`` with inter-compartmental clearance ``Q_j`` and volume
``V_j``) has the unit-bolus response

    C(t) = sum_i A_i exp(-lambda_i t)        (C in mg/L per mg dosed, t in h)

where ``-lambda_i`` are the eigenvalues of the rate matrix and ``A_i`` its central-compartment
weights (``A = 1/V1``, ``lambda = CL/V1`` for one compartment). Every dosing route is a
convolution of that response with an input, solved in closed form per exponential term:

* IV bolus ``D``: ``D A exp(-lambda d)``;
* IV infusion of ``D`` over ``T`` (rate ``R = D/T``):
  ``R A/lambda (1 - exp(-lambda min(d, T))) exp(-lambda max(d - T, 0))``;
* first-order absorption (subcutaneous, oral) with rate ``ka``, bioavailability ``F`` and lag:
  ``F D ka A (exp(-lambda d) - exp(-ka d)) / (ka - lambda)``;

with ``d`` the time since the dose (after the lag). Multiple doses add (superposition),
vectorised over time points x doses. AUC over any interval is the difference of the analytic
cumulative integrals. :func:`ode_concentrations` integrates the same system with
:func:`scipy.integrate.solve_ivp` between dosing events; the tests hold the closed forms to it,
and it also carries the optional saturable (Michaelis-Menten, target-mediated) elimination that
has no closed form. :func:`ode_batch` solves the same ODEs for many problems (patients, courses)
at once in the compiled kernel ``mmmech._kernels._pkode`` (an explicit Dormand-Prince 5(4)
pair, every dosing event and sample time hit exactly), the default wherever a nonlinear course
is computed; :func:`ode_concentrations` (LSODA) stays its reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _kernels
from ..exceptions import ConvergenceError, InvalidInputError
from ..utils import did_you_mean

__all__ = [
    "ROUTES",
    "Dose",
    "Disposition",
    "Absorption",
    "exponentials",
    "concentrations",
    "cumulative_auc",
    "ode_concentrations",
    "ode_batch",
    "ODE_RTOL",
    "ODE_ATOL",
]

#: dosing routes: IV bolus, IV infusion (over ``duration_h``), subcutaneous and oral
#: first-order absorption
ROUTES = ("iv_bolus", "iv_infusion", "sc", "oral")
ABSORBED = ("sc", "oral")


@dataclass(frozen=True)
class Dose:
    """One dose: at `time_h` (h), `amount_mg` (mg), by `route` (one of :data:`ROUTES`);
    `duration_h` is the infusion length (IV infusion only)."""

    time_h: float
    amount_mg: float
    route: str
    duration_h: float = 0.0

    def __post_init__(self) -> None:
        for name in ("time_h", "amount_mg", "duration_h"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise InvalidInputError(f"Dose(): {name} must be a number, got {v!r}")
            if not math.isfinite(v) or v < 0:
                raise InvalidInputError(f"Dose(): {name} must be finite and >= 0, got {v!r}")
        if self.route not in ROUTES:
            raise InvalidInputError(
                f"Dose(): route must be one of {', '.join(ROUTES)}, got {self.route!r}"
            )
        if self.route == "iv_infusion" and not self.duration_h > 0:
            raise InvalidInputError(
                f"Dose(): an 'iv_infusion' needs duration_h > 0, got {self.duration_h!r}"
            )
        if self.route != "iv_infusion" and self.duration_h:
            raise InvalidInputError(
                f"Dose(): duration_h applies to 'iv_infusion' only, got {self.duration_h!r} "
                f"for route {self.route!r}"
            )


@dataclass(frozen=True)
class Absorption:
    """First-order absorption: rate constant `ka` (1/h), bioavailability `f` (0-1], lag `tlag`
    (h)."""

    ka: float
    f: float = 1.0
    tlag: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ka) and self.ka > 0):
            raise InvalidInputError(f"Absorption(): ka must be > 0 (1/h), got {self.ka!r}")
        if not (math.isfinite(self.f) and 0 < self.f <= 1):
            raise InvalidInputError(f"Absorption(): f must be in (0, 1], got {self.f!r}")
        if not (math.isfinite(self.tlag) and self.tlag >= 0):
            raise InvalidInputError(f"Absorption(): tlag must be >= 0 (h), got {self.tlag!r}")


@dataclass(frozen=True)
class Disposition:
    """Mammillary disposition: clearance `cl` (L/h) and volume `v1` (L) of the central
    compartment, and per peripheral compartment a clearance in `q` (L/h) and a volume in `vp`
    (L). Optional saturable elimination from the central compartment,
    ``vmax(t) C / (km + C)`` with ``vmax(t) = vmax exp(-kdes t)`` (mg/h, mg/L, 1/h), makes the
    model nonlinear: only :func:`ode_concentrations` integrates it. So does a linear clearance
    that changes with time since the first dose (`t`, h) as a sigmoid,
    ``CL(t) = cl exp(clm (1 - t^gcl / (kcl^gcl + t^gcl)))`` (isatuximab, Fau 2020): ``clm`` is
    the log-ratio of the starting to the final clearance, ``kcl`` (h) the time of half the
    change on the log scale, ``gcl`` the steepness; ``clm = 0`` (default) keeps it constant."""

    cl: float
    v1: float
    q: tuple[float, ...] = ()
    vp: tuple[float, ...] = ()
    vmax: float = 0.0
    km: float = 0.0
    kdes: float = 0.0
    clm: float = 0.0
    kcl: float = 0.0
    gcl: float = 1.0
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.q) != len(self.vp):
            raise InvalidInputError(
                f"Disposition(): q and vp need one value per peripheral compartment, got "
                f"{len(self.q)} and {len(self.vp)}"
            )
        if len(self.q) > 2:
            raise InvalidInputError(
                f"Disposition(): at most 2 peripheral compartments, got {len(self.q)}"
            )
        for name, vals in (("cl", (self.cl,)), ("v1", (self.v1,)), ("q", self.q), ("vp", self.vp)):
            for v in vals:
                if not (math.isfinite(v) and v > 0):
                    raise InvalidInputError(f"Disposition(): {name} must be > 0, got {v!r}")
        if self.vmax < 0 or self.km < 0 or self.kdes < 0:
            raise InvalidInputError("Disposition(): vmax, km and kdes must be >= 0")
        if self.vmax > 0 and not self.km > 0:
            raise InvalidInputError(f"Disposition(): vmax > 0 needs km > 0, got {self.km!r}")
        if not math.isfinite(self.clm):
            raise InvalidInputError(f"Disposition(): clm must be finite, got {self.clm!r}")
        if self.clm != 0 and not (
            math.isfinite(self.kcl) and self.kcl > 0 and math.isfinite(self.gcl) and self.gcl > 0
        ):
            raise InvalidInputError(
                f"Disposition(): a time-varying clearance (clm != 0) needs kcl > 0 (h) and "
                f"gcl > 0, got kcl={self.kcl!r}, gcl={self.gcl!r}"
            )

    @property
    def n_compartments(self) -> int:
        return 1 + len(self.q)

    @property
    def linear(self) -> bool:
        """True when the model has no saturable elimination and a constant clearance (closed
        forms apply)."""
        return self.vmax == 0 and self.clm == 0

    def cl_factor(self, t_h: float) -> float:
        """``CL(t)/cl`` of the time-varying linear clearance at `t_h` hours after the first
        dose (1 when ``clm = 0``)."""
        if self.clm == 0:
            return 1.0
        x = (max(t_h, 0.0) / self.kcl) ** self.gcl
        return math.exp(self.clm * (1.0 - x / (1.0 + x)))

    def rate_matrix(self) -> np.ndarray:
        """``dA/dt = K A`` for the amounts (mg) in the compartments (central first)."""
        n = self.n_compartments
        k = np.zeros((n, n))
        k[0, 0] = -self.cl / self.v1
        for j, (q, v) in enumerate(zip(self.q, self.vp, strict=True), start=1):
            k[0, 0] -= q / self.v1
            k[0, j] = q / v
            k[j, 0] = q / self.v1
            k[j, j] = -q / v
        return k


def exponentials(disp: Disposition) -> tuple[np.ndarray, np.ndarray]:
    """``(lambda, A)``: the disposition rate constants (1/h, fastest first) and their central
    weights (1/L) of the unit-bolus response ``sum A_i exp(-lambda_i t)``."""
    hit = disp._cache.get("exp")
    if hit is not None:
        return hit
    if disp.n_compartments == 1:
        lam = np.array([disp.cl / disp.v1])
        a = np.array([1.0 / disp.v1])
    else:
        # the rate matrix of a mammillary model is similar to a symmetric one (detailed balance
        # with the volumes), so its eigenvalues are real, negative and distinct
        k = disp.rate_matrix()
        vols = np.array((disp.v1, *disp.vp))
        s = np.sqrt(vols)
        sym = (k * s[None, :]) / s[:, None]  # S^-1 K S with S = diag(sqrt(V))
        sym = 0.5 * (sym + sym.T)
        w, u = np.linalg.eigh(sym)
        lam = -w
        # central concentration after a unit bolus into the central compartment:
        # [expm(K t)]_00 / V1 = sum_i u_0i^2 exp(w_i t) / V1
        a = u[0, :] ** 2 / disp.v1
        order = np.argsort(-lam)
        lam, a = lam[order], a[order]
    out = (lam, a)
    disp._cache["exp"] = out
    return out


def _phi(x: np.ndarray) -> np.ndarray:
    """``(1 - exp(-x)) / x`` with its limit 1 at 0 (x >= 0)."""
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    nz = x > 1e-12
    # elementwise on the whole array, divided only where nz (the same bits as the masked
    # gather / scatter, without the copies: this was a third of a cohort's PK stage)
    with np.errstate(all="ignore"):
        np.divide(-np.expm1(-x), x, out=out, where=nz)
    return out


def _every(b: np.ndarray) -> Any:
    """`b` (a mask of doses), or ``slice(None)`` when it selects every dose: the same
    elements in the same order, taken as views instead of gathered copies (a single-dose
    course, as the cohort's shared and own courses are, has one dose of one kind)."""
    return slice(None) if bool(b.all()) else b


def _dose_arrays(doses: Sequence[Dose], absorption: dict[str, Absorption]):
    n = len(doses)
    t0 = np.empty(n)
    amt = np.empty(n)
    dur = np.zeros(n)
    ka = np.zeros(n)
    f = np.ones(n)
    kind = np.empty(n, dtype=int)  # 0 bolus, 1 infusion, 2 absorbed
    for i, d in enumerate(doses):
        t0[i], amt[i] = d.time_h, d.amount_mg
        if d.route == "iv_bolus":
            kind[i] = 0
        elif d.route == "iv_infusion":
            kind[i], dur[i] = 1, d.duration_h
        else:
            ab = absorption.get(d.route)
            if ab is None:
                raise InvalidInputError(
                    f"concentrations(): no absorption parameters for route {d.route!r}"
                )
            kind[i], ka[i], f[i] = 2, ab.ka, ab.f
            t0[i] += ab.tlag
    return t0, amt, dur, ka, f, kind


def concentrations(
    disp: Disposition,
    doses: Sequence[Dose],
    times: np.ndarray,
    absorption: dict[str, Absorption] | None = None,
) -> np.ndarray:
    """Central concentration (mg/L) at `times` (h) after `doses`, by superposition of the
    closed-form single-dose solutions (vectorised over times x doses)."""
    if not disp.linear:
        raise InvalidInputError(
            "concentrations(): the model has saturable elimination; use ode_concentrations()"
        )
    times = np.asarray(times, dtype=float)
    out = np.zeros(times.shape)
    if not len(doses):
        return out
    lam, a = exponentials(disp)
    t0, amt, dur, ka, f, kind = _dose_arrays(doses, absorption or {})
    d = times.reshape(-1)[:, None] - t0[None, :]  # (T, D) time since dose
    on = d >= 0
    dpos = np.where(on, d, 0.0)
    total = np.zeros(d.shape)
    for lam_i, a_i in zip(lam, a, strict=True):
        c = np.zeros(d.shape)
        b = kind == 0
        if b.any():
            b = _every(b)
            c[:, b] = amt[b] * a_i * np.exp(-lam_i * dpos[:, b])
        b = kind == 1
        if b.any():
            b = _every(b)
            rate = amt[b] / dur[b]
            inside = np.minimum(dpos[:, b], dur[b])
            after = np.maximum(dpos[:, b] - dur[b], 0.0)
            c[:, b] = (rate * a_i / lam_i) * (-np.expm1(-lam_i * inside)) * np.exp(-lam_i * after)
        b = kind == 2
        if b.any():
            b = _every(b)
            kb, db = ka[b], dpos[:, b]
            lo = np.minimum(kb, lam_i)
            hi = np.maximum(kb, lam_i)
            # (exp(-lam d) - exp(-ka d)) / (ka - lam), stable for ka near lam
            g = np.exp(-lo * db) * db * _phi((hi - lo) * db)
            c[:, b] = f[b] * amt[b] * kb * a_i * g
        total += c
    total = np.where(on, total, 0.0)
    return total.sum(axis=1).reshape(times.shape)


def _int_phi_pair(lo: np.ndarray, hi: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``int_0^d (exp(-lo s) - exp(-hi s)) / (hi - lo) ds`` for hi >= lo > 0."""
    diff = hi - lo
    out = np.empty(np.broadcast(lo, hi, d).shape)
    lo, hi, d, diff = np.broadcast_arrays(lo, hi, d, diff)
    near = diff <= 1e-7 * hi
    if not near.any():  # the usual case: every element, without gathered copies (same bits)
        out[...] = (d * (_phi(lo * d) - _phi(hi * d))) / diff
        return out
    far = ~near
    out[far] = (d[far] * (_phi(lo[far] * d[far]) - _phi(hi[far] * d[far]))) / diff[far]
    x = lo[near] * d[near]
    # limit: int_0^d s exp(-lo s) ds
    out[near] = (-np.expm1(-x) - x * np.exp(-x)) / lo[near] ** 2
    return out


def cumulative_auc(
    disp: Disposition,
    doses: Sequence[Dose],
    times: np.ndarray,
    absorption: dict[str, Absorption] | None = None,
) -> np.ndarray:
    """``int_0^t C`` (mg.h/L) at `times` (h), analytic (closed forms integrated per term)."""
    if not disp.linear:
        raise InvalidInputError(
            "cumulative_auc(): the model has saturable elimination; integrate numerically"
        )
    times = np.asarray(times, dtype=float)
    if not len(doses):
        return np.zeros(times.shape)
    lam, a = exponentials(disp)
    t0, amt, dur, ka, f, kind = _dose_arrays(doses, absorption or {})
    d = np.maximum(times.reshape(-1)[:, None] - t0[None, :], 0.0)
    total = np.zeros(d.shape)
    for lam_i, a_i in zip(lam, a, strict=True):
        b = kind == 0
        if b.any():
            b = _every(b)
            total[:, b] += amt[b] * a_i * d[:, b] * _phi(lam_i * d[:, b])
        b = kind == 1
        if b.any():
            b = _every(b)
            db, tb = d[:, b], dur[b]
            rate = amt[b] / tb
            inside = np.minimum(db, tb)
            after = np.maximum(db - tb, 0.0)
            # during the infusion: R A/lam (s - (1 - e^{-lam s})/lam)
            part1 = (rate * a_i / lam_i) * (inside - inside * _phi(lam_i * inside))
            # after it: the concentration at the end decays
            cend = (rate * a_i / lam_i) * (-np.expm1(-lam_i * inside))
            part2 = cend * after * _phi(lam_i * after)
            total[:, b] += part1 + part2
        b = kind == 2
        if b.any():
            b = _every(b)
            kb = ka[b]
            lo = np.minimum(kb, lam_i)
            hi = np.maximum(kb, lam_i)
            total[:, b] += f[b] * amt[b] * kb * a_i * _int_phi_pair(lo, hi, d[:, b])
    return total.sum(axis=1).reshape(times.shape)


def ode_concentrations(
    disp: Disposition,
    doses: Sequence[Dose],
    times: np.ndarray,
    absorption: dict[str, Absorption] | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    method: str = "LSODA",
) -> np.ndarray:
    """Central concentration (mg/L) at `times` by integrating the compartment ODEs with
    :func:`scipy.integrate.solve_ivp` between dosing events (boluses and depot doses enter as
    jumps, infusions as a constant input rate). The reference for the closed forms, and the
    solver for saturable elimination."""
    from scipy.integrate import solve_ivp  # deferred: scipy.integrate costs ~0.2 s at import

    absorption = absorption or {}
    times = np.asarray(times, dtype=float)
    flat = times.reshape(-1)
    n = disp.n_compartments
    routes = sorted({d.route for d in doses if d.route in ABSORBED})
    depot = {r: n + i for i, r in enumerate(routes)}
    size = n + len(routes)
    k = disp.rate_matrix()
    ka = np.array([absorption[r].ka for r in routes]) if routes else np.zeros(0)

    # events: (time, kind, payload)
    jumps: list[tuple[float, int, float]] = []  # (time, state index, amount)
    infusions: list[tuple[float, float, float]] = []  # (start, end, rate)
    for d in doses:
        if d.route == "iv_bolus":
            jumps.append((d.time_h, 0, d.amount_mg))
        elif d.route == "iv_infusion":
            infusions.append((d.time_h, d.time_h + d.duration_h, d.amount_mg / d.duration_h))
        else:
            ab = absorption[d.route]
            jumps.append((d.time_h + ab.tlag, depot[d.route], ab.f * d.amount_mg))
    breaks = sorted(
        {0.0, *(j[0] for j in jumps), *(s for s, _, _ in infusions), *(e for _, e, _ in infusions)}
    )
    t_end = max([float(flat.max()) if flat.size else 0.0, *breaks])
    breaks = [b for b in breaks if b <= t_end] + [t_end]

    def rhs(t, y, rate):
        dy = np.zeros(size)
        dy[:n] = k @ y[:n]
        if routes:
            dep = y[n:]
            dy[n:] = -ka * dep
            dy[0] += float(ka @ dep)
        dy[0] += rate
        if disp.vmax > 0:
            c = y[0] / disp.v1
            dy[0] -= disp.vmax * math.exp(-disp.kdes * t) * c / (disp.km + c)
        if disp.clm != 0:
            # the part of the linear clearance above `cl` (rate_matrix holds cl itself)
            dy[0] -= disp.cl * (disp.cl_factor(t) - 1.0) * y[0] / disp.v1
        return dy

    y = np.zeros(size)
    out = np.full(flat.shape, np.nan)
    for i in range(len(breaks) - 1):
        t_a, t_b = breaks[i], breaks[i + 1]
        for tj, idx, amt in jumps:
            if tj == t_a:
                y[idx] += amt
        rate = sum(r for s, e, r in infusions if s <= t_a < e)
        mask = (flat >= t_a) & ((flat < t_b) | ((i == len(breaks) - 2) & (flat <= t_b)))
        if t_b <= t_a:
            if mask.any():
                out[mask] = y[0] / disp.v1
            continue
        t_eval = np.unique(np.concatenate([flat[mask], [t_b]]))
        sol = solve_ivp(
            rhs, (t_a, t_b), y, method=method, t_eval=t_eval, rtol=rtol, atol=atol, args=(rate,)
        )
        if not sol.success:  # pragma: no cover - LSODA on a linear system
            raise InvalidInputError(f"ode_concentrations(): solver failed: {sol.message}")
        if mask.any():
            pos = np.searchsorted(sol.t, flat[mask])
            out[mask] = sol.y[0, pos] / disp.v1
        # amounts cannot be negative: the solver's error is bounded by atol (absolute, mg), and
        # a saturable course decaying towards zero can step below it (daratumumab, 1 mg, about
        # -1e-15 nM after 60-140 days); clipping removes only that noise
        y = np.maximum(sol.y[:, -1], 0.0)
    # times before the first break (negative) have no drug
    out[np.isnan(out)] = 0.0
    return np.maximum(out, 0.0).reshape(times.shape)


#: tolerances of the compiled solver (:func:`ode_batch`): relative and absolute (mg, on the
#: amounts). Against LSODA at rtol 1e-10 / atol 1e-12 (:func:`ode_concentrations`) the library's
#: nonlinear drugs agree within about 1e-8 relative wherever the concentration is above 1e-6 of
#: its peak (tests/pk/test_pkode.py)
ODE_RTOL = 1e-10
ODE_ATOL = 1e-12
_BACKENDS = ("auto", "cython", "python")
_STATUS = {1: "too many steps", 2: "step size underflow", 3: "a non-finite value"}


def _pkode_row(disp: Disposition, routes: Sequence[str], absorption: dict[str, Absorption]):
    """The kernel's parameter row of `disp` with depots for `routes` (see ``_pkode.pyx``)."""
    p = np.zeros(21)
    n = disp.n_compartments
    p[0] = n
    k = np.zeros((3, 3))
    k[:n, :n] = disp.rate_matrix()
    p[1:10] = k.reshape(-1)
    p[10:19] = (
        disp.v1,
        disp.cl,
        disp.vmax,
        disp.km,
        disp.kdes,
        disp.clm,
        disp.kcl,
        disp.gcl,
        len(routes),
    )
    for i, r in enumerate(routes):
        p[19 + i] = absorption[r].ka
    return p


def _check_problem(i: int, disp: Any, doses: Any, absorption: Any) -> list[Dose]:
    where = f"ode_batch(): problem {i}"
    if not isinstance(disp, Disposition):
        raise InvalidInputError(f"{where}: disposition must be a Disposition, got {disp!r:.60}")
    if isinstance(doses, (str, bytes)) or not isinstance(doses, Sequence):
        raise InvalidInputError(f"{where}: doses must be a sequence of Dose, got {doses!r:.60}")
    for d in doses:
        if not isinstance(d, Dose):
            raise InvalidInputError(f"{where}: doses must be Dose objects, got {d!r:.60}")
        if d.route in ABSORBED and not isinstance(absorption.get(d.route), Absorption):
            raise InvalidInputError(f"{where}: no absorption parameters for route {d.route!r}")
    return list(doses)


def ode_batch(
    dispositions: Sequence[Disposition],
    doses: Sequence[Sequence[Dose]],
    times: Any,
    absorptions: Sequence[dict[str, Absorption] | None] | None = None,
    *,
    backend: str = "auto",
    rtol: float = ODE_RTOL,
    atol: float = ODE_ATOL,
    num_threads: int = 1,
    max_steps: int = 5_000_000,
) -> np.ndarray:
    """Central concentrations (mg/L) of many problems at the same `times` (h): problem ``i``
    is ``dispositions[i]`` with ``doses[i]`` (and ``absorptions[i]``); the result has shape
    ``(len(dispositions), *times.shape)``. Each is :func:`ode_concentrations`'s ODE with its
    sampling rules (a sample at a dosing time sees the dose; times before 0 are 0), integrated
    by the compiled kernel (``backend="cython"``, or ``"auto"`` when it is built) to `rtol` /
    `atol` (mg), or by :func:`ode_concentrations` (SciPy LSODA) per problem
    (``backend="python"``, or ``"auto"`` without the kernel). `num_threads` spreads the problems
    over OpenMP threads. A problem the kernel cannot finish within `max_steps` accepted steps
    (a stiff one: the kernel's Dormand-Prince pair is explicit) raises
    :class:`~mmmech.exceptions.ConvergenceError` under ``"cython"`` and is solved by LSODA
    under ``"auto"``."""
    if backend not in _BACKENDS:
        raise InvalidInputError(
            f"ode_batch(): backend must be one of {', '.join(_BACKENDS)}, got {backend!r}"
            f"{did_you_mean(str(backend), list(_BACKENDS))}"
        )
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < 1):
            raise InvalidInputError(f"ode_batch(): {name} must be a number in (0, 1), got {v!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InvalidInputError(f"ode_batch(): max_steps must be an int >= 1, got {max_steps!r}")
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise InvalidInputError(
            f"ode_batch(): num_threads must be an int >= 1, got {num_threads!r}"
        )
    if isinstance(dispositions, Disposition) or not isinstance(dispositions, Sequence):
        raise InvalidInputError(
            f"ode_batch(): dispositions must be a sequence of Disposition, got {dispositions!r:.60}"
        )
    P = len(dispositions)
    if not isinstance(doses, Sequence) or len(doses) != P:
        raise InvalidInputError(
            f"ode_batch(): doses needs one dose list per disposition ({P}), got "
            f"{len(doses) if isinstance(doses, Sequence) else type(doses).__name__}"
        )
    if absorptions is None:
        absorptions = [None] * P
    elif not isinstance(absorptions, Sequence) or len(absorptions) != P:
        raise InvalidInputError(
            f"ode_batch(): absorptions needs one mapping (or None) per disposition ({P})"
        )
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"ode_batch(): times must be numbers (h), got {times!r:.60}"
        ) from None
    if not np.all(np.isfinite(t)):
        raise InvalidInputError("ode_batch(): times must be finite (h)")
    abs_ = [dict(a or {}) for a in absorptions]
    triples = zip(dispositions, doses, abs_, strict=True)
    probs = [_check_problem(i, *x) for i, x in enumerate(triples)]
    flat = t.reshape(-1)
    out = np.zeros((P, flat.size))
    if P == 0 or flat.size == 0:
        return out.reshape((P, *t.shape))
    use_c = backend == "cython" or (backend == "auto" and _kernels.available("_pkode"))
    if not use_c:
        for i in range(P):
            out[i] = ode_concentrations(dispositions[i], probs[i], flat, abs_[i], rtol, atol)
        return out.reshape((P, *t.shape))
    kern = _kernels.load("_pkode")
    order = np.argsort(flat, kind="stable")
    ts = np.ascontiguousarray(flat[order])
    t_last = float(ts[-1])
    par = np.zeros((P, 21))
    brk_ptr = np.zeros(P + 1, dtype=np.intp)
    jmp_ptr = np.zeros(P + 1, dtype=np.intp)
    inf_ptr = np.zeros(P + 1, dtype=np.intp)
    brk: list[np.ndarray] = []
    jt: list[float] = []
    ji: list[int] = []
    ja: list[float] = []
    i_s: list[float] = []
    i_e: list[float] = []
    i_r: list[float] = []
    for i, (disp, ds, ab) in enumerate(zip(dispositions, probs, abs_, strict=True)):
        n = disp.n_compartments
        routes = sorted({d.route for d in ds if d.route in ABSORBED})
        depot = {r: n + j for j, r in enumerate(routes)}
        par[i] = _pkode_row(disp, routes, ab)
        ev = [0.0]
        for d in ds:
            if d.route == "iv_infusion":
                i_s.append(d.time_h)
                i_e.append(d.time_h + d.duration_h)
                i_r.append(d.amount_mg / d.duration_h)
                ev += [i_s[-1], i_e[-1]]
            elif d.route == "iv_bolus":
                jt.append(d.time_h)
                ji.append(0)
                ja.append(d.amount_mg)
                ev.append(jt[-1])
            else:
                a = ab[d.route]
                jt.append(d.time_h + a.tlag)
                ji.append(depot[d.route])
                ja.append(a.f * d.amount_mg)
                ev.append(jt[-1])
        # as ode_concentrations: the breaks up to the end, then the end once more (events after
        # the last sample cannot change it, so the end is the last sample time or 0)
        t_end = max(t_last, 0.0)
        b = np.unique(np.asarray(ev, dtype=float))
        brk.append(np.append(b[b <= t_end], t_end))
        brk_ptr[i + 1] = brk_ptr[i] + brk[-1].size
        jmp_ptr[i + 1] = len(jt)
        inf_ptr[i + 1] = len(i_s)
    status = np.zeros(P, dtype=np.int32)
    counts = np.zeros((P, 2), dtype=np.intp)
    res = np.zeros((P, flat.size))

    def arr(x: list[float]) -> np.ndarray:
        return np.asarray(x, dtype=float) if x else np.zeros(0)

    kern.solve(
        par,
        brk_ptr,
        np.concatenate(brk),
        jmp_ptr,
        arr(jt),
        np.asarray(ji, dtype=np.intp),
        arr(ja),
        inf_ptr,
        arr(i_s),
        arr(i_e),
        arr(i_r),
        ts,
        res,
        status,
        counts,
        float(rtol),
        float(atol),
        max_steps,
        num_threads,
    )
    bad = np.flatnonzero(status)
    if bad.size and backend == "cython":
        i = int(bad[0])
        raise ConvergenceError(
            f"ode_batch(): the solver failed on problem {i} ({_STATUS.get(int(status[i]))}) "
            f"at rtol={rtol!r}, atol={atol!r}, max_steps={max_steps!r}"
        )
    out[:, order] = res
    for i in bad.tolist():
        # "auto": a problem the explicit pair cannot finish (a stiff one beyond max_steps)
        # goes to LSODA, which switches to BDF on stiffness
        out[i] = ode_concentrations(dispositions[i], probs[i], flat, abs_[i], rtol, atol)
    return out.reshape((P, *t.shape))
