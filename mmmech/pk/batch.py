"""Linear PK courses of many patients at once on a uniform time grid (the cohort's fast path).

A linear mammillary model's concentration after a unit dose is a sum of exponential modes
(:mod:`mmmech.pk.engine`): ``sum_i A_i exp(-lambda_i s)`` after an IV bolus, and after a
first-order absorbed dose (rate ``ka``, bioavailability ``F``, no lag)
``F ka sum_i A_i Gamma_i(s)``, ``Gamma_i(s) = (exp(-lambda_i s) - exp(-ka s)) / (ka - lambda_i)``.
When every dose sits on a grid of step ``dt``, the course at the grid samples (the mid-points
``(k + 1/2) dt``, or the means over the intervals ``[k dt, (k+1) dt]``) is carried through the
grid by a linear recursion per mode (``exp(-mu s)`` times ``exp(-mu dt)`` per step; the pair
``(exp(-ka s), Gamma_i(s))`` as a triangular system whose terms are all >= 0, so nothing
cancels when ``ka`` is close to a ``lambda_i``): the compiled ``_pkgrid`` kernels do it for all
patients of a cohort chunk at once, in O(modes x grid) per patient instead of the
O(doses x grid) of shifting and adding a unit course per dose.

Here the per-patient model parameters come from the covariates as arrays
(:func:`batch_parameters`, the arithmetic of ``pk.model(drug, **covariates)``), the modes from
a batched eigen-decomposition (:func:`batch_exponentials`, as :func:`engine.exponentials`), and
:func:`grid_courses` puts them together. Only what this covers exactly is taken: a linear
model, IV bolus and lag-free first-order absorbed routes, doses on the grid (the caller's
per-patient path does the rest). Agreement with the per-patient path (the engine's closed
forms shifted to every dose): about 1e-15 relative to the course maximum
(tests/pk/test_batch.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import _kernels
from .._kernels import _pkgrid_ref
from ..exceptions import InvalidInputError
from ..units import MOLAR_UNITS
from .engine import ABSORBED, _int_phi_pair, _phi
from .library import PKModel

__all__ = ["batch_parameters", "batch_exponentials", "covered", "grid_courses"]

#: grid points per block of the modal recursion (``_pkgrid.modal_courses``)
BLOCK = 64


def batch_parameters(
    m: PKModel, n: int, covariates: Mapping[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The model parameters of `m` for `n` patients: ``{name: values}`` (one per row) with the
    numeric covariate effects applied as :func:`mmmech.pk.model` applies them (power
    ``(x / reference) ** coefficient`` or linear ``1 + coefficient (x - reference)``, in the
    file's order), and a mask of the rows where that is valid. `covariates`: one array per
    covariate name, NaN where a row does not give it (no effect, as a covariate not passed).
    A row with a value ``pk.model`` would refuse (not finite, <= 0, a non-positive factor) is
    False in the mask (the caller's exact path raises the error)."""
    P = int(n)
    numeric = [c for c in m.covariates if c.form != "note"]
    ok = np.ones(P, dtype=bool)
    out = {k: np.full(P, float(p.value)) for k, p in m.parameters.items()}
    for name, xs in covariates.items():
        x = np.asarray(xs, dtype=float)
        if x.shape != (P,):
            raise InvalidInputError(
                f"batch_parameters(): covariate {name!r} needs one value per row ({P})"
            )
        power = not all(c.form == "linear" and c.reference == 0 for c in numeric if c.name == name)
        given = ~np.isnan(x)
        good = np.isfinite(x) & ((x > 0) if power else (x >= 0))
        ok &= ~given | good
    for c in numeric:
        if c.name not in covariates:
            continue
        x = np.asarray(covariates[c.name], dtype=float)
        given = ~np.isnan(x)
        assert c.reference is not None and c.coefficient is not None
        with np.errstate(all="ignore"):
            if c.form == "power":
                factor = (x / c.reference) ** c.coefficient
            else:
                factor = 1.0 + c.coefficient * (x - c.reference)
        ok &= ~given | (factor > 0)
        out[c.on] = np.where(given, out[c.on] * factor, out[c.on])
    return out, ok


def batch_exponentials(
    cl: np.ndarray, v1: np.ndarray, q: np.ndarray, vp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(lambda, A)`` (rows x compartments, fastest first) of many mammillary dispositions, as
    :func:`mmmech.pk.engine.exponentials` computes them one at a time (the same operations, a
    stacked ``eigh``). `q`, `vp`: rows x peripheral compartments (0-2 columns)."""
    cl, v1 = np.asarray(cl, dtype=float), np.asarray(v1, dtype=float)
    P = cl.size
    npc = q.shape[1]
    if npc == 0:
        return (cl / v1)[:, None], (1.0 / v1)[:, None]
    n = 1 + npc
    k = np.zeros((P, n, n))
    k[:, 0, 0] = -cl / v1
    for j in range(1, n):
        k[:, 0, 0] -= q[:, j - 1] / v1
        k[:, 0, j] = q[:, j - 1] / vp[:, j - 1]
        k[:, j, 0] = q[:, j - 1] / v1
        k[:, j, j] = -q[:, j - 1] / vp[:, j - 1]
    vols = np.concatenate([v1[:, None], vp], axis=1)
    s = np.sqrt(vols)
    sym = (k * s[:, None, :]) / s[:, :, None]
    sym = 0.5 * (sym + np.swapaxes(sym, 1, 2))
    w, u = np.linalg.eigh(sym)
    lam = -w
    a = u[:, 0, :] ** 2 / v1[:, None]
    order = np.argsort(-lam, axis=1)
    return np.take_along_axis(lam, order, 1), np.take_along_axis(a, order, 1)


def _nm_factor(m: PKModel) -> float:
    """mg/L to nM for the drug of `m` (``pk.api._to_unit``'s factors)."""
    from .api import _mol_weight  # deferred: the drug library is built only for molar units

    return 1e-3 / _mol_weight(m.drug) * 1e9 / MOLAR_UNITS["nM"]


#: Gauss-Legendre nodes and weights on [0, 1] for :func:`_gamma_mean`
_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)
_GL_X, _GL_W = 0.5 * (_GL_X + 1.0), 0.5 * _GL_W


def _gamma_mean(lam: np.ndarray, ka: np.ndarray, dt: float) -> np.ndarray:
    """``(1/dt) int_0^dt Gamma(s) ds``, ``Gamma(s) = (exp(-lam s) - exp(-ka s)) / (ka - lam)``
    (broadcast): the closed form (``pk.engine._int_phi_pair``) where ``|ka - lam| dt > 0.01``,
    else 24-point Gauss-Legendre on the cancellation-free ``s exp(-lo s) phi((hi - lo) s)``
    (the closed form's difference of ``phi`` values loses ``1 / (|ka - lam| dt)`` there)."""
    lo, hi = np.broadcast_arrays(np.minimum(lam, ka), np.maximum(lam, ka))
    out = _int_phi_pair(lo, hi, np.full(lo.shape, float(dt))) / dt
    near = (hi - lo) * dt <= 0.01
    if near.any():
        s = _GL_X * dt
        ln, hn = lo[near][:, None], hi[near][:, None]
        g = np.exp(-ln * s) * s * _phi((hn - ln) * s)
        out[near] = g @ _GL_W
    return out


def _kernel(name: str) -> Any:
    """The compiled ``_pkgrid`` kernel `name`, or its NumPy reference when it is not built."""
    if _kernels.available("_pkgrid"):
        return getattr(_kernels.load("_pkgrid"), name)
    return getattr(_pkgrid_ref, name)


def covered(m: PKModel, params: Mapping[str, np.ndarray], routes: list[str]) -> bool:
    """Whether :func:`grid_courses` covers doses of `m` by `routes` (PK routes) for the rows of
    `params`: a linear model, routes it has, IV bolus or first-order absorption without lag."""
    if not m.disposition.linear:
        return False
    for r in dict.fromkeys(routes):
        if r not in m.routes or r not in ("iv_bolus", *ABSORBED):
            return False
        tlag = params.get(f"tlag_{r}")
        if r != "iv_bolus" and tlag is not None and bool(np.any(tlag != 0)):
            return False
    return True


def grid_courses(
    m: PKModel,
    params: Mapping[str, np.ndarray],
    routes: list[str],
    shift: np.ndarray,
    amount: np.ndarray,
    n_out: int,
    dt_h: float,
    sample: str,
    threads: int = 1,
    out: np.ndarray | None = None,
) -> np.ndarray | None:
    """Concentrations (nM, rows x `n_out`) of the doses ``(routes[d], shift[d], amount[:, d])``
    (`routes`: PK routes; `shift`: grid offsets, sorted; `amount`: mg, rows x doses) for every
    row of `params` (:func:`batch_parameters`), on the grid of step `dt_h` from 0:
    ``sample="mid"`` at the mid-points ``(k + 1/2) dt_h`` (what :func:`mmmech.pk.concentration`
    gives there), ``"mean"`` the mean over each interval ``[k dt_h, (k+1) dt_h]`` (what
    :func:`mmmech.dynamics.kinetics.interval_means` gives). None when this is not covered: a
    nonlinear model, a route the model lacks, an IV infusion, an absorption lag. `threads`:
    OpenMP threads of the kernels (over rows). `out`: a C-contiguous rows x `n_out` array of
    zeros to add the courses to (returned), instead of a new one."""
    if sample not in ("mid", "mean"):
        raise InvalidInputError(f"grid_courses(): sample must be 'mid' or 'mean', got {sample!r}")
    if not (isinstance(dt_h, (int, float)) and math.isfinite(dt_h) and dt_h > 0):
        raise InvalidInputError(f"grid_courses(): dt_h must be > 0, got {dt_h!r}")
    shift = np.asarray(shift, dtype=np.int64)
    amount = np.asarray(amount, dtype=float)
    P = params["cl"].size
    if amount.shape != (P, shift.size) or len(routes) != shift.size:
        raise InvalidInputError("grid_courses(): amount must be rows x doses, one route per dose")
    if shift.size and (bool(np.any(shift < 0)) or bool(np.any(np.diff(shift) < 0))):
        raise InvalidInputError("grid_courses(): shifts must be >= 0 and sorted")
    if not bool(np.all(np.isfinite(amount))) or bool(np.any(amount < 0)):
        raise InvalidInputError("grid_courses(): amounts must be finite and >= 0")
    if not covered(m, params, routes):
        return None
    if out is None:
        out = np.zeros((P, n_out))
    elif out.shape != (P, n_out) or out.dtype != float or not out.flags.c_contiguous:
        raise InvalidInputError("grid_courses(): out must be a C-contiguous rows x n_out array")
    peri = [k for k in ("q2", "q3") if k in params]
    vols = [k for k in ("v2", "v3") if k in params]
    q = np.stack([params[k] for k in peri], axis=1) if peri else np.zeros((P, 0))
    vp = np.stack([params[k] for k in vols], axis=1) if vols else np.zeros((P, 0))
    lam, a = batch_exponentials(params["cl"], params["v1"], q, vp)
    a = a * _nm_factor(m)
    x = lam * dt_h
    route_arr = np.asarray(routes, dtype=object)
    for r in dict.fromkeys(routes):
        sel = np.flatnonzero(route_arr == r)
        args = (np.ascontiguousarray(shift[sel]), np.ascontiguousarray(amount[:, sel]))
        if r == "iv_bolus":
            # sum_i A_i exp(-lambda_i s): one mode per rate, at s = (k - q + 1/2) dt (or the
            # interval mean: the factor (1 - exp(-x)) / x)
            coef = a * (np.exp(-0.5 * x) if sample == "mid" else _phi(x))
            _kernel("modal_courses")(out, coef, np.ascontiguousarray(x), *args, BLOCK, threads)
            continue
        ka = params[f"ka_{r}"]
        f = params[f"f_{r}"] if f"f_{r}" in params else np.ones(P)
        w = (f * ka)[:, None] * a
        if sample == "mid":
            wg, we, c = w, np.zeros_like(w), 0.5 * dt_h
        else:
            # the mean over an interval starting s after the dose: phi(lambda dt) Gamma(s)
            # + (1/dt) int_0^dt Gamma_sigma dsigma exp(-ka s)
            gam = _gamma_mean(lam, ka[:, None], dt_h)
            wg, we, c = w * _phi(x), w * gam, 0.0
        _kernel("absorbed_courses")(
            out,
            np.ascontiguousarray(lam),
            np.ascontiguousarray(ka, dtype=float),
            np.ascontiguousarray(wg),
            np.ascontiguousarray(we),
            *args,
            float(dt_h),
            float(c),
            BLOCK,
            threads,
        )
    return out
