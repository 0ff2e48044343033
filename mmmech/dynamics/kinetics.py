"""Drug-target binding kinetics: target occupancy in time.

The steady-state model sets a target's occupancy from the concentration at once,
``theta = u / (1 + u)`` with ``u = (c / K)**h``. A drug-target pair with a curated
:class:`~mmmech.drugs.records.BindingKinetics` record follows instead

    d(theta)/dt = k_off * (u(c) * (1 - theta) - theta)

- **reversible** binding: ``k_off = ln 2 / t_diss`` (the dissociation half-life) and, for a Hill
  slope of 1, ``k_on = k_off / K`` (``d(theta)/dt = k_on c (1 - theta) - k_off theta``);
- **covalent** (irreversible) binding: the drug-target adduct never dissociates; occupancy is
  lost only as new target replaces the inactivated one, at ``k_rec = ln 2 / t_recovery``, and
  capture runs at a second-order rate ``k_cap``: ``d(theta)/dt = k_cap c (1 - theta) - k_rec
  theta``, the same equation with ``k_off = k_rec`` and ``K = k_rec / k_cap``, Hill slope 1.
  Without a curated capture rate ``k_cap = k_rec / K`` with the potency ``K``; with one
  (:attr:`~mmmech.drugs.records.BindingKinetics.capture_per_nM_h`, e.g. carfilzomib's, derived
  from first-dose proteasome inhibition in patients) the column's constant is
  ``K_kin = (k_rec / k_cap) * (K_column / K_library)``, so a context that shifts the potency
  (a binding-site mutation) shifts the capture in proportion.

Reversible binding and covalent binding without a capture rate give the steady-state occupancy
at constant concentration (the equilibrium of the equation is ``u / (1 + u)``); with a capture
rate the constant-concentration limit is ``k_cap c / (k_cap c + k_rec)``, the kinetic balance of
capture and resynthesis, which need not equal the steady-state model's potency curve.

With the concentration held constant over an interval of length ``dt`` the solution is exact:
``theta(t + dt) = eq + (theta(t) - eq) exp(-k_off (1 + u) dt)``, and its mean over the interval
is ``eq + (theta(t) - eq) (1 - exp(-x)) / x`` with ``x = k_off (1 + u) dt``.
:func:`occupancy_course` applies that per interval (vectorised over a batch; the reference);
:func:`step_mean_occupancy` gives the course's means over steps of several intervals without
the fine-grid array (a compiled kernel over many rows, the cohort's path, within 1e-12 of it);
:func:`interval_means` gives exact interval-mean concentrations of a linear PK model (the
difference of its analytic cumulative AUC), so short-lived exposures (carfilzomib) are not
missed by point sampling.

**DNA damage** (``kind = "damage"``, melphalan): the drug does not occupy a target but leaves
DNA interstrand crosslinks that outlive it by days. :func:`damage_course` carries them as two
linear pools in concentration-time units (nM h):

    dM/dt = c - k_f M        (monoadducts waiting to close into crosslinks)
    dX/dt = k_f M - k_r X    (crosslinks, removed by repair)

with ``k_f = ln 2 / formation_h`` and ``k_r = ln 2 / half_life_h`` (the repair half-life),
and the network's DNA-damage input is ``u / (1 + u)`` with ``u = (X / (K exposure_h))**hill``:
the damage at half effect is the potency ``K`` held for ``exposure_h`` hours, the effective
exposure of the nominal concentration in the in-vitro assay the potency comes from (melphalan
hydrolyses in culture medium, so a "continuous" exposure is a short one). A bolus of
``D`` nM h gives ``X(t) = D k_f / (k_f - k_r) (exp(-k_r t) - exp(-k_f t))``, peaking at
``ln(k_f / k_r) / (k_f - k_r)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _kernels
from .. import drugs as _drugs
from .. import pk as _pk
from .._kernels import _occupancy_ref, _rosenbrock_ref
from ..exceptions import InvalidInputError
from ..pk import api as _pk_api
from ..pk import engine as _engine

__all__ = [
    "KineticColumn",
    "binding_kinetics",
    "rate_constants",
    "occupancy_course",
    "step_mean_occupancy",
    "equilibrium",
    "interval_means",
    "kinetic_columns",
    "capture_constant",
    "damage_course",
]


@dataclass(frozen=True)
class KineticColumn:
    """A drug-target column of a simulator whose occupancy follows binding kinetics."""

    column: int
    drug: str
    target: str
    node: str
    K: float  # the constant of the occupancy course (the potency, or K_kin with a capture rate)
    hill: float
    kinetics: Any  # BindingKinetics
    potency_K: float | None = None  # the column's steady-state potency (nM)

    @property
    def k_off(self) -> float:
        return math.log(2.0) / float(self.kinetics.half_life_h)


def binding_kinetics(drug: str, target: str) -> Any:
    """The :class:`~mmmech.drugs.records.BindingKinetics` of `drug` at `target`, or None
    (occupancy instantaneous: no number was found)."""
    for t in _drugs.get(drug).targets:
        if t.target == target:
            return t.kinetics
    return None


def rate_constants(half_life_h: float, K: float) -> tuple[float, float]:
    """``(k_off [1/h], k_on [1/(nM h)])`` from a dissociation (or recovery) half-life and the
    potency `K` (nM): ``k_off = ln 2 / t_half``, ``k_on = k_off / K``."""
    if not (half_life_h > 0 and math.isfinite(half_life_h)):
        raise InvalidInputError(f"rate_constants(): half_life_h must be > 0, got {half_life_h!r}")
    if not (K > 0 and math.isfinite(K)):
        raise InvalidInputError(f"rate_constants(): K must be > 0 nM, got {K!r}")
    k_off = math.log(2.0) / float(half_life_h)
    return k_off, k_off / float(K)


def equilibrium(conc: npt.ArrayLike, K: float, hill: float = 1.0) -> np.ndarray:
    """Steady-state occupancy ``u / (1 + u)``, ``u = (c / K)**hill``."""
    u = (np.maximum(np.asarray(conc, dtype=float), 0.0) / K) ** hill
    return u / (1.0 + u)


def occupancy_course(
    conc: npt.ArrayLike,
    dt_h: float,
    K: float,
    half_life_h: float,
    hill: float = 1.0,
    theta0: npt.ArrayLike = 0.0,
    kinetics: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Occupancy through intervals of constant concentration, exactly.

    Parameters
    ----------
    conc : array_like (..., T), nM
        Concentration in each of T consecutive intervals of `dt_h` hours (a batch in front).
    dt_h : float
    K : float
        Potency (nM) at the target (the steady-state model's).
    half_life_h : float
        Dissociation half-life (reversible) or recovery half-life (covalent).
    hill : float
    theta0 : array_like (...,)
        Occupancy at the start.
    kinetics : BindingKinetics, optional
        With ``kind = "damage"`` the course is :func:`damage_course` (from no damage;
        `theta0` must be 0); otherwise ignored.

    Returns
    -------
    (end, mean) : ndarrays (..., T)
        Occupancy at the end of each interval and its mean over the interval.
    """
    if kinetics is not None and getattr(kinetics, "kind", None) == "damage":
        if np.any(np.asarray(theta0, dtype=float) != 0.0):
            raise InvalidInputError("occupancy_course(): damage kinetics start from theta0 = 0")
        return damage_course(
            conc,
            dt_h,
            K,
            half_life_h,
            float(kinetics.formation_h),
            float(kinetics.exposure_h),
            hill,
        )
    c = np.asarray(conc, dtype=float)
    if c.ndim < 1:
        raise InvalidInputError("occupancy_course(): conc needs a time axis (last)")
    if not (dt_h > 0 and math.isfinite(dt_h)):
        raise InvalidInputError(f"occupancy_course(): dt_h must be > 0, got {dt_h!r}")
    k_off, _ = rate_constants(half_life_h, K)
    eq = equilibrium(c, K, hill)
    x = k_off * (1.0 + (np.maximum(c, 0.0) / K) ** hill) * float(dt_h)
    decay = np.exp(-x)
    mean_w = -np.expm1(-x) / x  # (1 - e^-x)/x, x > 0 always (k_off > 0, dt > 0)
    th0 = np.broadcast_to(np.asarray(theta0, dtype=float), c.shape[:-1])
    rows, T = int(np.prod(c.shape[:-1], dtype=np.int64)), c.shape[-1]
    if rows == 0 or T == 0:
        return np.empty_like(c), np.empty_like(c)
    args = (
        np.ascontiguousarray(eq.reshape(rows, T)),
        np.ascontiguousarray(decay.reshape(rows, T)),
        np.ascontiguousarray(mean_w.reshape(rows, T)),
        np.ascontiguousarray(th0.reshape(rows)),
    )
    # the interval recursion: compiled when the kernels are built, else the NumPy reference
    if _kernels.available("_rosenbrock"):
        end, mean = _kernels.load("_rosenbrock").relax_course(*args)
    else:
        end, mean = _rosenbrock_ref.relax_course(*args)
    return end.reshape(c.shape), mean.reshape(c.shape)


def step_mean_occupancy(
    conc: npt.ArrayLike,
    dt_h: float,
    nf: int,
    columns: Sequence[KineticColumn],
    out: np.ndarray,
    dest: npt.ArrayLike,
    ocol: Sequence[int],
    scale: float = 1.0,
    num_threads: int = 1,
) -> None:
    """Step means of the occupancy courses of kinetic `columns` from occupancy 0, fused.

    ``out[dest[i], s, ocol[j]]`` = the mean over the `nf` fine intervals of step s of
    ``occupancy_course(conc[i] * scale, dt_h, ...)[1]`` of column ``columns[j]``, i.e.
    ``mean.reshape(n, steps, nf).mean(axis=-1)``, without the fine-grid occupancy array:
    binding (reversible, covalent) columns in one pass of the compiled kernel
    ``_occupancy.binding_step_mean`` (rows in `num_threads` threads; its NumPy reference when
    the kernels are not built, or when a concentration is NaN or +inf), DNA-damage columns by
    :func:`occupancy_course` (:func:`damage_course`).

    Parameters
    ----------
    conc : array_like (n, steps * nf), nM
        Interval-mean concentrations of the fine grid (intervals of `dt_h` hours).
    dt_h : float
    nf : int
        Fine intervals per step.
    columns : sequence of KineticColumn
    out : ndarray (rows, steps, columns), float64, C-contiguous (written in place)
    dest : array_like (n,) of int
        The row of `out` of each row of `conc`.
    ocol : sequence of int
        The column of `out` of each of `columns`.
    scale : float
        Factor on every concentration (an exposure factor).
    num_threads : int
    """
    c = np.ascontiguousarray(conc, dtype=np.float64)
    nf = int(nf)
    if c.ndim != 2 or nf < 1 or c.shape[1] % nf:
        raise InvalidInputError(
            f"step_mean_occupancy(): conc must be (n, steps * nf) with nf = {nf}, got {c.shape}"
        )
    if not (dt_h > 0 and math.isfinite(dt_h)):
        raise InvalidInputError(f"step_mean_occupancy(): dt_h must be > 0, got {dt_h!r}")
    if not math.isfinite(scale):
        raise InvalidInputError(f"step_mean_occupancy(): scale must be finite, got {scale!r}")
    if len(ocol) != len(columns):
        raise InvalidInputError("step_mean_occupancy(): one out column per kinetic column")
    dst = np.ascontiguousarray(dest, dtype=np.int64)
    n, T = c.shape
    if dst.shape != (n,) or out.ndim != 3 or out.shape[1] != T // nf:
        raise InvalidInputError("step_mean_occupancy(): dest or out do not fit conc")
    if n == 0 or T == 0 or not columns:
        return
    damage = [j for j, kc in enumerate(columns) if getattr(kc.kinetics, "kind", None) == "damage"]
    for j in damage:
        kc = columns[j]
        _, mean = occupancy_course(
            c * scale if scale != 1.0 else c,
            dt_h,
            kc.K,
            kc.kinetics.half_life_h,
            kc.hill,
            kinetics=kc.kinetics,
        )
        out[dst, :, int(ocol[j])] = mean.reshape(n, T // nf, nf).mean(axis=2)
    bind = [j for j in range(len(columns)) if j not in damage]
    if not bind:
        return
    # columns with the same constants (bortezomib's two proteasome subunits) have the same
    # course to the bit: computed once, copied to the others
    params: dict[tuple[float, float, float], list[int]] = {}
    for j in bind:
        kc = columns[j]
        # rate_constants checks the half-life and potency as occupancy_course does
        k_off = rate_constants(kc.kinetics.half_life_h, kc.K)[0]
        if not (kc.hill > 0 and math.isfinite(kc.hill)):
            raise InvalidInputError(
                f"step_mean_occupancy(): hill must be > 0 and finite, got {kc.hill!r}"
            )
        params.setdefault((float(kc.K), float(kc.hill), k_off), []).append(int(ocol[j]))
    uniq = list(params)
    k = np.array([p[0] for p in uniq], dtype=np.float64)
    h = np.array([p[1] for p in uniq], dtype=np.float64)
    koff = np.array([p[2] for p in uniq], dtype=np.float64)
    oc = np.array([params[p][0] for p in uniq], dtype=np.int64)
    args = (c, float(scale), k, h, koff, float(dt_h), out, dst, oc, nf)
    kern = _kernels.load("_occupancy") if _kernels.available("_occupancy") else None
    if (
        kern is None
        or not hasattr(kern, "binding_step_mean")
        or kern.binding_step_mean(*args, max(1, int(num_threads)))
    ):
        # no kernel, or a NaN/inf concentration: the reference (NaN in, NaN out, as the course)
        _occupancy_ref.binding_step_mean(*args)
    for p in uniq:
        for o in params[p][1:]:
            out[dst, :, o] = out[dst, :, params[p][0]]


def interval_means(
    model: Any, doses: Sequence[Any], edges_h: npt.ArrayLike, unit: str = "nM"
) -> np.ndarray | None:
    """Exact mean concentration over each interval between consecutive `edges_h` (h) for a
    linear PK `model` (``pk.model(...)``) and `doses` (``pk`` dose tuples), in `unit`;
    None when the model is not linear (saturable elimination)."""
    if not model.linear:
        return None
    e = np.asarray(edges_h, dtype=float)
    ds = _pk.as_doses(model, doses)
    cum = _engine.cumulative_auc(model.disposition, ds, e, dict(model.absorption))
    mean_mg_l = np.diff(cum) / np.diff(e)
    return np.asarray(_pk_api._to_unit(mean_mg_l, unit, model), dtype=float)


def kinetic_columns(columns: Sequence[dict[str, Any]]) -> list[KineticColumn]:
    """Columns (``Simulator.columns``) of drug-target pairs with curated binding kinetics."""
    out = []
    for i, col in enumerate(columns):
        kin = binding_kinetics(col["drug"], col["target"])
        if kin is None:
            continue
        K, hill = float(col["K"]), float(col.get("hill", 1.0) or 1.0)
        cap = getattr(kin, "capture_per_nM_h", None)
        if cap is not None:
            K, hill = capture_constant(kin, K, _library_potency(col["drug"], col["target"])), 1.0
        out.append(
            KineticColumn(
                column=i,
                drug=str(col["drug"]),
                target=str(col["target"]),
                node=str(col["node"]),
                K=K,
                hill=hill,
                kinetics=kin,
                potency_K=float(col["K"]),
            )
        )
    return out


def _library_potency(drug: str, target: str) -> float:
    for t in _drugs.get(drug).targets:
        if t.target == target:
            return float(t.potency_nM)
    raise InvalidInputError(f"kinetic_columns(): {drug!r} has no target {target!r}")


def capture_constant(kinetics: Any, K_column: float, K_library: float) -> float:
    """The occupancy-course constant ``K_kin`` (nM) of a covalent pair with a curated capture
    rate: ``(k_rec / k_cap) * (K_column / K_library)`` (``k_rec = ln 2 / half_life_h``): the
    capture's own constant, shifted in proportion when a context changes the column's potency."""
    cap = getattr(kinetics, "capture_per_nM_h", None)
    if kinetics.kind != "covalent" or cap is None:
        raise InvalidInputError(
            "capture_constant(): needs covalent kinetics with capture_per_nM_h, got "
            f"{kinetics.kind!r} with {cap!r}"
        )
    for name, v in (("K_column", K_column), ("K_library", K_library)):
        if not (v > 0 and math.isfinite(v)):
            raise InvalidInputError(f"capture_constant(): {name} must be > 0 nM, got {v!r}")
    k_rec = math.log(2.0) / float(kinetics.half_life_h)
    return k_rec / float(cap) * (float(K_column) / float(K_library))


def damage_course(
    conc: npt.ArrayLike,
    dt_h: float,
    K: float,
    repair_half_life_h: float,
    formation_half_life_h: float,
    exposure_h: float,
    hill: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """DNA-damage input through intervals of constant concentration (module docstring).

    Both pools are linear, so the solution over an interval of constant ``c`` is exact and the
    interval-mean crosslink load is exact too; the returned input is the occupancy-like
    ``u / (1 + u)`` of the crosslink load at the end of each interval and of its interval mean.

    Parameters
    ----------
    conc : array_like (..., T), nM
    dt_h : float
    K : float
        The column's potency (nM, unbound-adjusted as the steady-state model's).
    repair_half_life_h, formation_half_life_h : float
        Must differ (the closed form divides by ``k_f - k_r``).
    exposure_h : float
        Hours of exposure at ``K`` that give half effect.
    hill : float

    Returns
    -------
    (end, mean) : ndarrays (..., T)
    """
    from scipy.signal import lfilter  # deferred: scipy.signal is slow to import

    c = np.asarray(conc, dtype=float)
    if c.ndim < 1:
        raise InvalidInputError("damage_course(): conc needs a time axis (last)")
    for name, v in (
        ("dt_h", dt_h),
        ("K", K),
        ("repair_half_life_h", repair_half_life_h),
        ("formation_half_life_h", formation_half_life_h),
        ("exposure_h", exposure_h),
    ):
        if not (v > 0 and math.isfinite(v)):
            raise InvalidInputError(f"damage_course(): {name} must be > 0, got {v!r}")
    a = math.log(2.0) / float(formation_half_life_h)
    b = math.log(2.0) / float(repair_half_life_h)
    if abs(a - b) <= 1e-9 * max(a, b):
        raise InvalidInputError(
            "damage_course(): formation and repair half-lives must differ, got "
            f"{formation_half_life_h!r} and {repair_half_life_h!r}"
        )
    dt = float(dt_h)
    c = np.maximum(c, 0.0)
    ea, eb = math.exp(-a * dt), math.exp(-b * dt)
    ga, gb = -math.expm1(-a * dt) / a, -math.expm1(-b * dt) / b
    # M[k+1] = ea M[k] + ga c[k]; X[k+1] = eb X[k] + alpha M[k] + beta c[k]
    alpha = a * (ea - eb) / (b - a)
    beta = gb - (ea - eb) / (b - a)
    # lfilter with numerator [0, g] gives y[k] = e y[k-1] + g u[k-1]: the start-of-interval state
    m_start = lfilter([0.0, ga], [1.0, -ea], c, axis=-1)
    drive = alpha * m_start + beta * c
    x_start = lfilter([0.0, 1.0], [1.0, -eb], drive, axis=-1)
    x_end = eb * x_start + drive
    # interval mean of X = c/b + A ga/dt + (X0 - c/b - A) gb/dt, A = (a M0 - c)/(b - a)
    A = (a * m_start - c) / (b - a)
    x_mean = c / b + A * ga / dt + (x_start - c / b - A) * gb / dt
    x50 = float(K) * float(exposure_h)

    def theta(x: np.ndarray) -> np.ndarray:
        u = (np.maximum(x, 0.0) / x50) ** hill
        return u / (1.0 + u)

    return theta(x_end), theta(x_mean)
