"""Four-parameter log-logistic fits of dose-response curves, one or thousands at a time.

The curve, in percent inhibition (SynergyFinder's scale), is

    y(x) = E0 + (Einf - E0) * x**h / (x**h + EC50**h),      x >= 0 (any dose unit),

with ``E0`` the response at zero dose, ``Einf`` the response at infinite dose, ``EC50 > 0`` the
dose of the half-way point and ``h > 0`` the Hill slope. A falling curve has ``Einf < E0``; the
slope stays positive. This is drc's ``LL.4`` (used by SynergyFinder) with ``b = -h``,
``c = E0``, ``d = Einf``, ``e = EC50``.

Fitting is a batched, bounded Levenberg-Marquardt in NumPy: every curve of a batch moves at
once, so the ZIP row and column fits of a whole plate (or of two hundred bootstrap copies of
it) cost one vectorised loop. Each curve starts from the best point of a small grid over
(log EC50, h), on which E0 and Einf are solved in closed form (they enter linearly).

Bounds keep every fit finite where an unconstrained fit runs away (SynergyFinder's drc fits
are unbounded): ``h`` in [0.05, 20]; ``EC50`` within a factor 1000 of the tested positive
doses; ``E0`` and ``Einf`` within one response span of the observed responses. A fit that
ends on a bound is flagged, not rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _kernels
from .._guards import check_backend
from ..exceptions import FitError, InvalidInputError

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from numpy.typing import ArrayLike

__all__ = [
    "LogLogistic",
    "FitBatch",
    "FLAG_NAMES",
    "decode_flags",
    "ll4",
    "ll4_inverse",
    "fit_batch",
]


def expit(x: ArrayLike) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))`` without overflow (as scipy.special.expit;
    written here so that scoring does not pay for importing scipy)."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


HILL_BOUNDS = (0.05, 20.0)
EC50_FOLD = 1000.0  # EC50 within [min dose / 1000, max dose * 1000]
_ZERO_U = -1.0e6  # log-dose standing for dose 0 (expit of -h * 1e6 is exactly 0)
_C_GRID = 7  # grid starts over log EC50 ...
_H_GRID = (0.5, 1.0, 2.0, 4.0)  # ... and over the Hill slope
_MAX_ITER = 200
N_STARTS = 3
CHUNK = 8192  # curves per pass of fit_batch
FTOL = 1e-10  # converged: relative SSE gain below FTOL ...
XTOL = 1e-9  # ... or fitted values moving less than XTOL * response span


FLAG_NAMES = (
    "e0_fixed",
    "underdetermined",
    "hill_at_bound",
    "ec50_at_bound",
    "asymptote_at_bound",
    "flat",
    # SynergyFinder-compatible fits (mmmech.synergy._sf): drc's log-dose fallback
    # taken, BFGS stopped at its iteration limit, ZIP's fixed zero-dose response
    # turned into the high-dose plateau (positive slope b), EC50 more than 1000-fold
    # outside the tested doses
    "sf_fallback",
    "sf_iteration_limit",
    "sf_orientation_flipped",
    "sf_runaway",
)


def decode_flags(bits: int) -> tuple[str, ...]:
    """Tuple of flag names set in the integer `bits` (see :data:`FLAG_NAMES`)."""
    return tuple(n for i, n in enumerate(FLAG_NAMES) if int(bits) >> i & 1)


def ll4(
    dose: ArrayLike, e0: ArrayLike, einf: ArrayLike, ec50: ArrayLike, hill: ArrayLike
) -> np.ndarray:
    """Evaluate the log-logistic curve (broadcasting over all arguments).

    Parameters
    ----------
    dose : array_like, dose unit, >= 0
    e0, einf : array_like, percent inhibition
        Response at zero and at infinite dose.
    ec50 : array_like, dose unit, > 0
    hill : array_like, > 0

    Returns
    -------
    ndarray, percent inhibition
        ``e0`` exactly at dose 0.

    Examples
    --------
    >>> float(ll4(10.0, 0.0, 100.0, 10.0, 1.0))
    50.0
    """
    dose = np.asarray(dose, dtype=float)
    with np.errstate(divide="ignore"):
        u = np.where(dose > 0, np.log(np.where(dose > 0, dose, 1.0)), _ZERO_U)
    s = expit(np.asarray(hill, dtype=float) * (u - np.log(ec50)))
    return e0 + (np.asarray(einf, dtype=float) - e0) * s


def ll4_inverse(
    effect: ArrayLike, e0: ArrayLike, einf: ArrayLike, ec50: ArrayLike, hill: ArrayLike
) -> np.ndarray:
    """Dose at which the curve reaches `effect` (SynergyFinder's convention outside its range).

    Inside the open interval between ``e0`` and ``einf`` the inverse is exact. An effect at or
    beyond the curve's larger asymptote is never reached, so the dose is ``inf``; an effect at
    or below its smaller asymptote is already there at dose ``0`` (SynergyFinder's
    ``.SolveExpDose``: ``Inf`` above the maximum, 0 below the minimum).

    Returns
    -------
    ndarray, dose unit, in [0, inf]

    Examples
    --------
    >>> ll4_inverse([50.0, 100.0, -5.0], 0.0, 100.0, 10.0, 1.0).tolist()
    [10.0, inf, 0.0]
    """
    y = np.asarray(effect, dtype=float)
    e0 = np.asarray(e0, dtype=float)
    einf = np.asarray(einf, dtype=float)
    lo, hi = np.minimum(e0, einf), np.maximum(e0, einf)
    span = einf - e0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = (y - e0) / np.where(span != 0, span, 1.0)
        inside = (y > lo) & (y < hi) & (s > 0) & (s < 1)
        ss = np.where(inside, s, 0.5)
        x = np.asarray(ec50, dtype=float) * (ss / (1.0 - ss)) ** (1.0 / np.asarray(hill, float))
    return np.where(inside, x, np.where(y >= hi, np.inf, 0.0))


@dataclass(frozen=True)
class LogLogistic:
    """A fitted four-parameter log-logistic curve (percent inhibition against dose).

    Attributes
    ----------
    e0, einf : float, percent inhibition
        Response at zero and at infinite dose.
    ec50 : float, dose unit
    hill : float
        Hill slope, > 0.
    sse : float
        Weighted sum of squared residuals, (percent)^2.
    r2 : float
        Coefficient of determination (1.0 for a perfect fit, also of a flat curve).
    n : int
        Number of points fitted.
    ok : bool
        False when the curve could not be fitted (the parameters are then not usable).
    flags : tuple of str
        Caveats: ``'e0_fixed'``, ``'underdetermined'`` (fewer distinct doses than free
        parameters), ``'hill_at_bound'``, ``'ec50_at_bound'``, ``'asymptote_at_bound'``,
        ``'flat'`` (no dose effect).
    """

    e0: float
    einf: float
    ec50: float
    hill: float
    sse: float = 0.0
    r2: float = 1.0
    n: int = 0
    ok: bool = True
    flags: tuple[str, ...] = field(default_factory=tuple)

    def predict(self, dose: ArrayLike) -> np.ndarray:
        """Response (percent inhibition) at `dose` (array_like, dose unit, >= 0)."""
        return ll4(dose, self.e0, self.einf, self.ec50, self.hill)

    def inverse(self, effect: ArrayLike) -> np.ndarray:
        """Dose reaching `effect`; ``inf`` beyond the larger asymptote, 0 below the smaller."""
        return ll4_inverse(effect, self.e0, self.einf, self.ec50, self.hill)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary (JSON-ready)."""
        return {
            "e0": float(self.e0),
            "einf": float(self.einf),
            "ec50": float(self.ec50),
            "hill": float(self.hill),
            "sse": float(self.sse),
            "r2": float(self.r2),
            "n": int(self.n),
            "ok": bool(self.ok),
            "flags": list(self.flags),
        }


@dataclass
class FitBatch:
    """Parameters of B fitted curves (arrays of shape (B,)); see :class:`LogLogistic`.

    ``flag_bits`` codes the flags of each curve (bit i set: ``FLAG_NAMES[i]``).
    """

    e0: np.ndarray
    einf: np.ndarray
    ec50: np.ndarray
    hill: np.ndarray
    sse: np.ndarray
    r2: np.ndarray
    n: np.ndarray
    ok: np.ndarray
    flag_bits: np.ndarray

    def __len__(self) -> int:
        return len(self.e0)

    def curve(self, i: int) -> LogLogistic:
        """The i-th curve as a :class:`LogLogistic`."""
        return LogLogistic(
            float(self.e0[i]),
            float(self.einf[i]),
            float(self.ec50[i]),
            float(self.hill[i]),
            float(self.sse[i]),
            float(self.r2[i]),
            int(self.n[i]),
            bool(self.ok[i]),
            decode_flags(self.flag_bits[i]),
        )

    def predict(self, dose: ArrayLike) -> np.ndarray:
        """Responses of every curve at doses ``dose`` of shape (B, N) or (N,) -> (B, N)."""
        dose = np.asarray(dose, dtype=float)
        if dose.ndim == 1:
            dose = dose[None, :]
        return ll4(
            dose, self.e0[:, None], self.einf[:, None], self.ec50[:, None], self.hill[:, None]
        )


def _model_jac(p, u):
    """Model values [B, N] and Jacobian [B, N, 4] for p = (E0, Einf, log EC50', log h)."""
    e0, einf, c, h = p[:, 0:1], p[:, 1:2], p[:, 2:3], np.exp(p[:, 3:4])
    s = expit(h * (u - c))
    amp = einf - e0
    f = e0 + amp * s
    ds = s * (1.0 - s)
    jac = np.empty(u.shape + (4,))
    jac[..., 0] = 1.0 - s
    jac[..., 1] = s
    jac[..., 2] = -amp * h * ds
    jac[..., 3] = amp * (u - c) * ds * h
    return f, jac


def _model(p, u):
    s = expit(np.exp(p[:, 3:4]) * (u - p[:, 2:3]))
    return p[:, 0:1] + (p[:, 1:2] - p[:, 0:1]) * s


def _grid_start(u, y, w, e0_fixed, fixed, lo, hi, umin, umax, n_starts):
    """The n_starts best (E0, Einf, c, log h) per curve, shape (B, n_starts, 4), over a grid
    of (c, h) with E0/Einf solved in closed form (they enter the model linearly)."""
    B = u.shape[0]
    t = np.linspace(0.0, 1.0, _C_GRID)
    cg = umin[:, None] + (umax - umin)[:, None] * t[None, :]  # [B, G1]
    hg = np.asarray(_H_GRID)
    cc = np.repeat(cg, len(hg), axis=1)  # [B, G]
    hh = np.tile(hg, (B, _C_GRID))  # [B, G]
    s = expit(hh[:, :, None] * (u[:, None, :] - cc[:, :, None]))  # [B, G, N]
    ww = w[:, None, :]
    yy = y[:, None, :]
    r = 1.0 - s
    a11 = np.sum(ww * r * r, axis=2)
    a12 = np.sum(ww * r * s, axis=2)
    a22 = np.sum(ww * s * s, axis=2)
    b1 = np.sum(ww * r * yy, axis=2)
    b2 = np.sum(ww * s * yy, axis=2)
    wsum = np.sum(w, axis=1)[:, None]
    ymean = np.sum(w * y, axis=1)[:, None] / wsum
    with np.errstate(divide="ignore", invalid="ignore"):
        det = a11 * a22 - a12 * a12
        good = det > 1e-12 * np.maximum(a11 * a22, 1e-300)
        e0_free = np.where(good, (a22 * b1 - a12 * b2) / det, ymean)
        einf_free = np.where(good, (a11 * b2 - a12 * b1) / det, ymean)
        e0c = e0_fixed[:, None]
        einf_fix = np.where(a22 > 1e-12, (b2 - e0c * a12) / a22, e0c)
    e0g = np.where(fixed[:, None], e0c, e0_free)
    einfg = np.where(fixed[:, None], einf_fix, einf_free)
    e0g = np.clip(e0g, lo[:, None, 0], hi[:, None, 0])
    einfg = np.clip(einfg, lo[:, None, 1], hi[:, None, 1])
    f = e0g[:, :, None] + (einfg - e0g)[:, :, None] * s
    sse = np.sum(ww * (yy - f) ** 2, axis=2)
    sse = np.where(np.isfinite(sse), sse, np.inf)
    best = np.argsort(sse, axis=1, kind="stable")[:, :n_starts]  # (B, n_starts)
    take = lambda a: np.take_along_axis(a, best, axis=1)  # noqa: E731
    return np.stack([take(e0g), take(einfg), take(cc), np.log(take(hh))], axis=2)


def _lm_reference(u, y, w, p, lo, hi, free, span, max_iter, ftol, xtol, sse, iters):
    """NumPy reference of the kernel ``_synergy_lm.lm_fit`` (same arguments, same result).

    Refines p (B, 4) in place by bounded Levenberg-Marquardt, curve by curve independently
    (all curves move together; a converged curve stops moving); fills sse (B,) and iters (B,).
    A parameter sitting on a bound with the gradient pointing outwards is held for that step.
    """
    B = u.shape[0]
    free = free.astype(bool)
    eye = np.eye(4)[None, :, :]
    lam = np.full(B, 1e-3)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        f, jac = _model_jac(p, u)
        sse[:] = np.sum(w * (y - f) ** 2, axis=1)
        active = np.isfinite(sse)
        sse[~active] = np.inf
        iters[:] = 0
        for _ in range(max_iter):
            if not active.any():
                break
            ia = np.nonzero(active)[0]
            iters[ia] += 1
            pa = p[ia]
            ja = jac[ia] * w[ia, :, None]
            jt = np.swapaxes(jac[ia], 1, 2)
            g = (jt @ ((y[ia] - f[ia]) * w[ia])[:, :, None])[:, :, 0]
            fr = free[ia] & ~(((pa <= lo[ia]) & (g < 0)) | ((pa >= hi[ia]) & (g > 0)))
            g = np.where(fr, g, 0.0)
            jtj = np.where(fr[:, :, None] & fr[:, None, :], jt @ ja, 0.0)
            d = np.diagonal(jtj, axis1=1, axis2=2)
            dmax = np.max(d, axis=1)
            damp = lam[ia, None] * (d + 1e-9 * dmax[:, None] + 1e-12)
            aug = jtj + eye * (damp + (~fr))[:, None, :]
            step = np.linalg.solve(aug, g[:, :, None])[:, :, 0]
            pn = np.clip(pa + step, lo[ia], hi[ia])
            fn = _model(pn, u[ia])
            ssen = np.sum(w[ia] * (y[ia] - fn) ** 2, axis=1)
            acc = np.isfinite(ssen) & (ssen < sse[ia])
            gain = np.where(acc, sse[ia] - ssen, 0.0)
            dfit = np.max(np.abs(fn - f[ia]) * (w[ia] > 0), axis=1)
            conv = (
                (acc & ((gain <= ftol * sse[ia] + 1e-18) | (dfit <= xtol * span[ia])))
                | (lam[ia] > 1e12)
                | (sse[ia] <= 1e-24)
            )
            ib = ia[acc]
            if ib.size:
                p[ib] = pn[acc]
                sse[ib] = ssen[acc]
                fb, jb = _model_jac(p[ib], u[ib])
                f[ib] = fb
                jac[ib] = jb
            lam[ia] = np.where(acc, lam[ia] * 0.3, lam[ia] * 8.0)
            active[ia[conv]] = False


def fit_batch(
    dose,
    response,
    weights=None,
    e0=None,
    max_iter=_MAX_ITER,
    backend="auto",
    num_threads=1,
    n_starts=N_STARTS,
):
    """Fit B log-logistic curves at once (no input checks: callers validate).

    Parameters
    ----------
    dose : ndarray, shape (B, N) or (N,), dose unit, finite and >= 0
    response : ndarray, shape (B, N), percent inhibition, finite where weighted
    weights : ndarray, shape (B, N), optional
        Non-negative weights; 0 drops a point (padding, missing wells). Default 1.
    e0 : ndarray, shape (B,), optional
        Fixed response at zero dose per curve; NaN leaves E0 free (default: all free).
    max_iter : int
        Levenberg-Marquardt iterations per curve at most.
    backend : {"auto", "cython", "python"}
        The compiled kernel ``_synergy_lm`` or its NumPy reference (``auto``: the kernel
        when it was built).
    num_threads : int
        Threads of the kernel (0: OpenMP decides; default 1, as the batches are small).
    n_starts : int
        Levenberg-Marquardt runs per curve, from the best points of the start grid; the
        lowest end wins (guards against local minima).

    Returns
    -------
    FitBatch
    """
    check_backend(backend, "fit_batch")
    y = np.asarray(response, dtype=float)
    if y.ndim != 2:
        raise InvalidInputError(f"fit_batch(): response must be 2-D (B, N), got shape {y.shape}")
    B, N = y.shape
    if B > CHUNK:  # bound the memory of the start grid (B x 28 x N) on huge batches
        parts = [
            fit_batch(
                np.broadcast_to(np.asarray(dose, dtype=float), (B, N))[i : i + CHUNK],
                y[i : i + CHUNK],
                None
                if weights is None
                else np.broadcast_to(np.asarray(weights, dtype=float), (B, N))[i : i + CHUNK],
                None
                if e0 is None
                else np.broadcast_to(np.asarray(e0, dtype=float), (B,))[i : i + CHUNK],
                max_iter,
                backend,
                num_threads,
                n_starts,
            )
            for i in range(0, B, CHUNK)
        ]
        return FitBatch(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("e0", "einf", "ec50", "hill", "sse", "r2", "n", "ok", "flag_bits")
            )
        )
    x = np.broadcast_to(np.asarray(dose, dtype=float), (B, N))
    w = (
        np.ones((B, N))
        if weights is None
        else np.broadcast_to(np.asarray(weights, dtype=float), (B, N)).copy()
    )
    w = np.where(np.isfinite(y), w, 0.0)
    y = np.where(w > 0, y, 0.0)
    e0_in = (
        np.full(B, np.nan)
        if e0 is None
        else np.broadcast_to(np.asarray(e0, dtype=float), (B,)).copy()
    )
    fixed = np.isfinite(e0_in)

    pos = (x > 0) & (w > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(np.where(pos, x, 1.0))
        npos = pos.sum(axis=1)
        lmean = np.where(
            npos > 0, np.sum(np.where(pos, lx, 0.0), axis=1) / np.maximum(npos, 1), 0.0
        )
    scale = np.exp(lmean)  # per-curve dose scale
    u = np.where(x > 0, lx - lmean[:, None], _ZERO_U)
    umin = np.where(npos > 0, np.min(np.where(pos, u, np.inf), axis=1), 0.0)
    umax = np.where(npos > 0, np.max(np.where(pos, u, -np.inf), axis=1), 0.0)

    yw = np.where(w > 0, y, np.nan)
    with np.errstate(invalid="ignore"):
        ymin = np.nanmin(np.concatenate([yw, e0_in[:, None]], axis=1), axis=1)
        ymax = np.nanmax(np.concatenate([yw, e0_in[:, None]], axis=1), axis=1)
    ymin = np.where(np.isfinite(ymin), ymin, 0.0)
    ymax = np.where(np.isfinite(ymax), ymax, 0.0)
    span = np.maximum(ymax - ymin, 1.0)
    lfold = np.log(EC50_FOLD)
    lo = np.stack(
        [ymin - span, ymin - span, umin - lfold, np.full(B, np.log(HILL_BOUNDS[0]))], axis=1
    )
    hi = np.stack(
        [ymax + span, ymax + span, umax + lfold, np.full(B, np.log(HILL_BOUNDS[1]))], axis=1
    )
    e0_fix = np.where(fixed, e0_in, 0.0)
    lo[:, 0] = np.where(fixed, e0_fix, lo[:, 0])
    hi[:, 0] = np.where(fixed, e0_fix, hi[:, 0])

    free = np.ones((B, 4), dtype=bool)
    free[:, 0] = ~fixed
    ns = max(1, min(int(n_starts), _C_GRID * len(_H_GRID)))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p0 = _grid_start(u, y, w, e0_fix, fixed, lo, hi, umin, umax, ns)  # (B, ns, 4)
    rep = lambda a: np.ascontiguousarray(np.repeat(a, ns, axis=0))  # noqa: E731
    pall = np.ascontiguousarray(np.clip(p0.reshape(B * ns, 4), rep(lo), rep(hi)))
    sse_all = np.full(B * ns, np.inf)
    iters = np.full(B * ns, -1, dtype=np.int32)
    args = (
        rep(u),
        rep(y),
        rep(w),
        pall,
        rep(lo),
        rep(hi),
        rep(free.astype(np.uint8)),
        rep(span),
        int(max_iter),
        FTOL,
        XTOL,
        sse_all,
        iters,
    )
    if backend == "python" or (backend == "auto" and not _kernels.available("_synergy_lm")):
        _lm_reference(*args)
    else:
        _kernels.load("_synergy_lm").lm_fit(*args, int(num_threads))
    # keep, per curve, the start that ended lowest (the first on ties)
    sse_all = np.where(np.isfinite(sse_all) & np.isfinite(pall).all(axis=1), sse_all, np.inf)
    pick = np.argmin(sse_all.reshape(B, ns), axis=1) if B else np.zeros(0, dtype=int)
    rows = np.arange(B) * ns + pick
    p, sse = pall[rows], sse_all[rows]

    ok = np.isfinite(p).all(axis=1) & np.isfinite(sse)
    wsum = np.sum(w, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ymean = np.sum(w * y, axis=1) / np.where(wsum > 0, wsum, 1.0)
        sst = np.sum(w * (y - ymean[:, None]) ** 2, axis=1)
        r2 = np.where(
            sst > 1e-12 * np.maximum(1.0, ymean**2),
            1.0 - sse / np.where(sst > 0, sst, 1.0),
            np.where(sse <= 1e-12 * np.maximum(1.0, ymean**2) + 1e-18, 1.0, 0.0),
        )
    ok &= np.isfinite(r2) & (wsum > 0)

    xs = np.sort(np.where(w > 0, x, np.nan), axis=1)  # NaN (dropped) sort last
    ndist = np.sum(np.isfinite(xs), axis=1) - np.sum(
        np.isfinite(xs[:, 1:]) & (xs[:, 1:] == xs[:, :-1]), axis=1
    )
    tol = 1e-6
    at_lo, at_hi = p <= lo + tol, p >= hi - tol
    bits = np.zeros(B, dtype=np.int64)
    for i, cond in enumerate(
        (
            fixed,
            ndist < free.sum(axis=1),
            at_lo[:, 3] | at_hi[:, 3],
            at_lo[:, 2] | at_hi[:, 2],
            (~fixed & (at_lo[:, 0] | at_hi[:, 0])) | at_lo[:, 1] | at_hi[:, 1],
            np.abs(p[:, 1] - p[:, 0]) <= 1e-6 * span,
        )
    ):
        bits |= cond.astype(np.int64) << i
    ec50 = np.exp(p[:, 2]) * scale
    return FitBatch(
        e0=p[:, 0].copy(),
        einf=p[:, 1].copy(),
        ec50=ec50,
        hill=np.exp(p[:, 3]),
        sse=sse,
        r2=r2,
        n=(w > 0).sum(axis=1),
        ok=ok,
        flag_bits=bits,
    )


def fit_one(dose, response, e0=None, func="fit_loglogistic"):
    """Fit one curve; raises FitError when it cannot be fitted (used by the public wrapper)."""
    fb = fit_batch(
        np.asarray(dose, float)[None, :],
        np.asarray(response, float)[None, :],
        e0=None if e0 is None else np.array([float(e0)]),
    )
    c = fb.curve(0)
    if not c.ok:
        raise FitError(
            f"{func}(): the curve could not be fitted (non-finite result for "
            f"doses {np.asarray(dose).tolist()[:6]} ...)"
        )
    return c
