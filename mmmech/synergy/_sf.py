"""SynergyFinder-compatible curve fits and the ZIP/Loewe/bootstrap rules built on them.

``fit="synergyfinder"`` (the default of :mod:`mmmech.synergy`) reproduces the numbers of
SynergyFinder 3 (R package synergyfinder 3.x, Ianevski et al. 2022, doi:10.1093/nar/gkac382),
whose ZIP and Loewe scores rest on curves fitted by the R package drc (Ritz et al. 2015,
PLoS ONE 10:e0146021). What is reproduced, from the published algorithms and the behaviour
observed when running SynergyFinder's own code (the oracle of the project's tests):

- drc's ``LL.4`` model ``f(x) = c + (d - c) / (1 + exp(b * log(x / e)))``, unbounded, with
  drc's scaling (doses divided by ``10**floor(log10(median dose))``, responses by the same of
  the median response when that is positive), drc's self-starting values (``c``/``d`` the
  response range widened by 0.1 % on each side, ``b`` and ``e`` from the least-squares line
  of ``log((d - y) / (y - c))`` on ``log x``, computed by Householder QR as R's ``lm``), and
  R's ``optim(method = "BFGS")``: the variable-metric method of Nash (Compact Numerical
  Methods, 1990, Algorithm 21) as R's ``vmmin`` implements it, with central-difference
  gradients of step 1e-3 on parameters scaled by their absolute starting values, relative
  tolerance 1e-7 and at most 500 iterations, followed by R's finite-difference Hessian.
- SynergyFinder's fallback when that fit fails (an error in the starting values, a
  non-finite objective or finite difference): drc's ``L.4`` on the natural log of the dose,
  dose 0 replaced by 1e-10.
- A series whose responses are all equal gets 1e-10 added to its last (highest-dose)
  response first, as SynergyFinder does.
- ZIP's row/column fits fix ``c`` at the observed response at dose 0 of the series; with a
  positive fitted slope ``b`` that value becomes the plateau at high dose instead.
- Loewe: the expected effect is the best of 100 equally spaced effect levels between the
  smallest and largest plateau of all drugs (SynergyFinder's ``.SolveLoewe``), and, when the
  observed effect cannot be reached by any drug alone, the largest single-drug effect at the
  summed dose.
- Replicates: SynergyFinder's bootstrap (``CalculateSynergy(iteration = 10, seed = 123)``):
  every well's response is replaced by the mean of as many normal draws as it has
  replicates, with the replicates' mean and standard deviation, ten times, and the scores are
  the means over the ten plates. The draws use R's default generator (Mersenne-Twister seeded
  by ``set.seed``, normal deviates by inversion with Wichura's AS 241), so the ten plates
  are R's.

The compiled kernel is ``mmmech._kernels._synergy_lm.sf_fit``; :func:`_fit_reference` is its
pure-Python reference with the same arithmetic (tests compare them).
"""

import math

import numpy as np

from .. import _kernels
from .._guards import check_backend
from ..exceptions import InvalidInputError

__all__ = [
    "SFFits",
    "sf_fit_batch",
    "sf_predict",
    "sf_solve_dose",
    "sf_loewe",
    "r_bootstrap_surfaces",
    "SF_MAXIT",
    "SF_BOOT_ITER",
    "SF_BOOT_SEED",
]

SF_MAXIT = 500  # drc's drmc(maxIt = 500)
SF_RELTOL = 1e-7  # drc's drmc(relTol = 1e-7)
SF_NDEPS = 1e-3  # optim's default ndeps
SF_ZERO_DOSE = 1e-10  # SynergyFinder's dose 0 in the log-dose fallback
SF_FLAT_BUMP = 1e-10  # added to the last response of a flat series
SF_LOEWE_STEPS = 100  # .SolveLoewe(nsteps = 100)
SF_BOOT_ITER = 10  # CalculateSynergy(iteration = 10)
SF_BOOT_SEED = 123  # CalculateSynergy(seed = 123)
SF_MAXN = 64  # points per series in the kernel
RUNAWAY_FOLD = 1000.0  # flag fits with EC50 this far outside the tested doses

STATUS = {
    0: "fitted",
    1: "self-starting values failed",
    2: "objective not finite at the start",
    3: "non-finite finite-difference gradient",
    4: "non-finite parameters",
    5: "non-finite gradient in the Hessian",
}


class SFFits:
    """B fitted curves in drc's parameters (arrays of shape (B,)).

    ``model`` is 0 for ``LL.4`` (dose) and 1 for the ``L.4`` fallback (natural log dose);
    ``status_ll4`` the outcome of the ``LL.4`` attempt (0: fitted), ``iters`` the BFGS
    iterations of the fit kept, ``ok`` False when no fit succeeded.
    """

    def __init__(self, b, c, d, e, model, status_ll4, status, iters, ok, fixed):
        self.b, self.c, self.d, self.e = b, c, d, e
        self.model, self.status_ll4, self.status = model, status_ll4, status
        self.iters, self.ok, self.fixed = iters, ok, fixed

    def __len__(self):
        return len(self.b)

    def take(self, idx):
        return SFFits(
            *(
                getattr(self, f)[idx]
                for f in (
                    "b",
                    "c",
                    "d",
                    "e",
                    "model",
                    "status_ll4",
                    "status",
                    "iters",
                    "ok",
                    "fixed",
                )
            )
        )


# --------------------------------------------------------------------------- reference (Python)


def _nrm2(v):
    s = 0.0
    for a in v:
        s = s + abs(a) * abs(a)
    return math.sqrt(s)


def _dot(a, b):
    n = len(a)
    m = n % 5
    s = 0.0
    for i in range(m):
        s = s + a[i] * b[i]
    for i in range(m, n, 5):
        s = (
            s
            + a[i] * b[i]
            + a[i + 1] * b[i + 1]
            + a[i + 2] * b[i + 2]
            + a[i + 3] * b[i + 3]
            + a[i + 4] * b[i + 4]
        )
    return s


def _line(xv, yv):
    """Least-squares line by Householder QR in LINPACK's order; None when rank deficient."""
    n = len(xv)
    if n < 2:
        return None
    cols = [[1.0] * n, list(xv)]
    qty = list(yv)
    qraux = [_nrm2(c) for c in cols]
    work2 = [q if q != 0 else 1.0 for q in qraux]
    for lc in range(2):
        if not (qraux[lc] >= work2[lc] * 1e-7):
            return None
        if lc + 1 == n:
            continue
        col = cols[lc]
        nrmxl = _nrm2(col[lc:])
        if nrmxl == 0.0:
            continue
        if col[lc] != 0.0:
            nrmxl = math.copysign(abs(nrmxl), col[lc])
        f = 1.0 / nrmxl
        for i in range(lc, n):
            col[i] = f * col[i]
        col[lc] = 1.0 + col[lc]
        for j in range(lc + 1, 2):
            cj = cols[j]
            t = -_dot(col[lc:], cj[lc:]) / col[lc]
            for i in range(lc, n):
                cj[i] = cj[i] + t * col[i]
            if qraux[j] != 0.0:
                r = abs(cj[lc]) / qraux[j]
                tt = max(1.0 - r * r, 0.0)
                qraux[j] = _nrm2(cj[lc + 1 :]) if abs(tt) < 1e-6 else qraux[j] * math.sqrt(tt)
        qraux[lc] = col[lc]
        col[lc] = -nrmxl
    for j in range(min(2, n - 1)):
        if qraux[j] == 0.0:
            continue
        col = cols[j]
        temp = col[j]
        col[j] = qraux[j]
        t = -_dot(col[j:], qty[j:]) / col[j]
        for i in range(j, n):
            qty[i] = qty[i] + t * col[i]
        col[j] = temp
    if cols[1][1] == 0.0 or cols[0][0] == 0.0:
        return None
    s = qty[1] / cols[1][1]
    a = (qty[0] + (-s) * cols[1][0]) / cols[0][0]
    return a, s


def _flog(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _fexp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


class _Err(Exception):
    def __init__(self, code):
        self.code = code


def _obj(kind, x, y, p):
    s = np.longdouble(0.0)
    for xi, yi in zip(x, y, strict=True):
        if kind == 0:
            q = xi / p[3] if p[3] != 0 else (math.inf if xi > 0 else math.nan)
            t = p[0] * _flog(q) if not (p[0] == 0 and math.isinf(_flog(q))) else math.nan
        else:
            t = p[0] * (xi - p[3])
        f = math.nan if math.isnan(t) else p[1] + (p[2] - p[1]) / (1.0 + _fexp(t))
        r = yi - f
        s += np.longdouble(r * r)
    return float(s)


def _fit_reference(
    kind, x, y, cfix, fixed, maxit=SF_MAXIT, reltol=SF_RELTOL, dfix=0.0, dfixed=False
):
    """One curve, same arithmetic as the kernel: (status, (b, c, d, e), iters, fmin)."""
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    ymin, ymax = min(y), max(y)
    ln = 0.001 * (ymax - ymin)
    cv, dv = ymin - ln, ymax + ln
    xs, ys = [], []
    for xi, yi in zip(x, y, strict=True):
        den = yi - cv
        yt = _flog((dv - yi) / den) if den != 0 else math.nan
        if kind == 0:
            if not (xi > 0 and math.isfinite(xi)):
                continue
            a = math.log(xi)
        else:
            a = xi
        if math.isnan(yt):
            continue
        if not (math.isfinite(yt) and math.isfinite(a)):
            return 1, None, 0, math.nan
        xs.append(a)
        ys.append(yt)
    line = _line(xs, ys)
    if line is None:
        return 1, None, 0, math.nan
    a, s = line
    q = (
        -a / s
        if s != 0
        else (math.nan if a == 0 else math.copysign(math.inf, -a) * math.copysign(1, s))
    )
    e0 = _fexp(q) if kind == 0 else q  # libm's exp, as the kernel (NumPy's may differ)
    st = [s, cv, dv, e0]
    free = [k for k in range(4) if not ((k == 1 and fixed) or (k == 2 and dfixed))]
    full = list(st)
    if fixed:
        full[1] = cfix
    if dfixed:
        full[2] = dfix
    ps = []
    for k in free:
        v = abs(st[k])
        if math.isnan(v):
            return 1, None, 0, math.nan
        ps.append(v if v >= 1e-4 else 1.0)

    def fn(sc):
        p = list(full)
        for j, k in enumerate(free):
            if not math.isfinite(sc[j]):
                raise _Err(4)
            p[k] = sc[j] * ps[j]
        return _obj(kind, x, y, p)

    def gr(bb, code):
        g, xx = [0.0] * len(bb), list(bb)
        for i in range(len(bb)):
            xx[i] = bb[i] + SF_NDEPS
            v1 = fn(xx)
            xx[i] = bb[i] - SF_NDEPS
            v2 = fn(xx)
            g[i] = (v1 - v2) / (2 * SF_NDEPS)
            if not math.isfinite(g[i]):
                raise _Err(code)
            xx[i] = bb[i]
        return g

    b = [st[k] / ps[j] for j, k in enumerate(free)]
    try:
        fmin, it = _vmmin(fn, gr, b, maxit, reltol)
        for i in range(len(b)):
            eps = 1e-3 / ps[i]
            z = list(b)
            z[i] = b[i] + eps
            gr(z, 5)
            z[i] = z[i] - 2 * eps
            gr(z, 5)
    except _Err as err:
        return err.code, None, 0, math.nan
    p = list(full)
    for j, k in enumerate(free):
        p[k] = b[j] * ps[j]
    return 0, p, it, fmin


def _vmmin(fn, gr, b, maxit, reltol):
    """R's vmmin (BFGS), b updated in place; returns (Fmin, iterations)."""
    n = len(b)
    f = fn(b)
    if not math.isfinite(f):
        raise _Err(2)
    fmin = f
    gradcount = 1
    g = gr(b, 3)
    it = 1
    ilast = gradcount
    B = [[0.0] * n for _ in range(n)]
    X, c, t = [0.0] * n, [0.0] * n, [0.0] * n
    while True:
        if ilast == gradcount:
            for i in range(n):
                for j in range(i):
                    B[i][j] = 0.0
                B[i][i] = 1.0
        for i in range(n):
            X[i], c[i] = b[i], g[i]
        gradproj = 0.0
        for i in range(n):
            s = 0.0
            for j in range(i + 1):
                s -= B[i][j] * g[j]
            for j in range(i + 1, n):
                s -= B[j][i] * g[j]
            t[i] = s
            gradproj += s * g[i]
        if gradproj < 0.0:
            steplength, accpoint = 1.0, False
            while True:
                count = 0
                for i in range(n):
                    b[i] = X[i] + steplength * t[i]
                    if 10.0 + X[i] == 10.0 + b[i]:
                        count += 1
                if count < n:
                    f = fn(b)
                    accpoint = math.isfinite(f) and f <= fmin + gradproj * steplength * 1e-4
                    if not accpoint:
                        steplength *= 0.2
                if count == n or accpoint:
                    break
            if not (abs(f - fmin) > reltol * (abs(fmin) + reltol)):
                count = n
                fmin = f
            if count < n:
                fmin = f
                g = gr(b, 3)
                gradcount += 1
                it += 1
                D1 = 0.0
                for i in range(n):
                    t[i] = steplength * t[i]
                    c[i] = g[i] - c[i]
                    D1 += t[i] * c[i]
                if D1 > 0:
                    D2 = 0.0
                    for i in range(n):
                        s = 0.0
                        for j in range(i + 1):
                            s += B[i][j] * c[j]
                        for j in range(i + 1, n):
                            s += B[j][i] * c[j]
                        X[i] = s
                        D2 += s * c[i]
                    D2 = 1.0 + D2 / D1
                    for i in range(n):
                        for j in range(i + 1):
                            B[i][j] += (D2 * t[i] * t[j] - X[i] * t[j] - t[i] * X[j]) / D1
                else:
                    ilast = gradcount
            elif ilast < gradcount:
                count = 0
                ilast = gradcount
        else:
            count = 0
            if ilast == gradcount:
                count = n
            else:
                ilast = gradcount
        if it >= maxit:
            break
        if gradcount - ilast > 2 * n:
            ilast = gradcount
        if count == n and ilast == gradcount:
            break
    return fmin, it


# --------------------------------------------------------------------------- batched fitting


def _pow10_floor(med):
    with np.errstate(all="ignore"):
        k = np.floor(np.log10(med))
        s = np.power(10.0, k)
    return np.where(np.isfinite(s) & (s >= 1e-15), s, 1.0)


def _run(kind, x, y, npts, cfix, fixed, backend, dfix=None, dfixed=None):
    B = x.shape[0]
    par = np.full((B, 4), np.nan)
    status = np.zeros(B, dtype=np.int32)
    iters = np.zeros(B, dtype=np.int32)
    fmin = np.full(B, np.nan)
    dfix = np.zeros(B) if dfix is None else dfix
    dfixed = np.zeros(B, dtype=bool) if dfixed is None else dfixed
    use_py = backend == "python" or (backend == "auto" and not _kernels.available("_synergy_lm"))
    if use_py:
        for i in range(B):
            n = int(npts[i])
            st, p, it, fm = _fit_reference(
                int(kind[i]),
                x[i, :n],
                y[i, :n],
                float(cfix[i]),
                bool(fixed[i]),
                dfix=float(dfix[i]),
                dfixed=bool(dfixed[i]),
            )
            status[i], iters[i], fmin[i] = st, it, fm
            if p is not None:
                par[i] = p
    else:
        _kernels.load("_synergy_lm").sf_fit(
            np.ascontiguousarray(kind, dtype=np.int32),
            np.ascontiguousarray(x),
            np.ascontiguousarray(y),
            np.ascontiguousarray(npts, dtype=np.int32),
            np.ascontiguousarray(cfix, dtype=float),
            np.ascontiguousarray(fixed, dtype=np.uint8),
            np.ascontiguousarray(dfix, dtype=float),
            np.ascontiguousarray(dfixed, dtype=np.uint8),
            SF_MAXIT,
            SF_RELTOL,
            par,
            status,
            iters,
            fmin,
        )
    return par, status, iters


def sf_fit_batch(dose, resp, npts=None, emin=None, backend="auto", emax=None):
    """Fit B series as SynergyFinder's ``FitDoseResponse`` does (no input checks).

    Parameters
    ----------
    dose, resp : ndarray (B, N)
        Doses (>= 0, any unit) and percent inhibition; series b uses its first ``npts[b]``
        points, in the order given (ascending dose: "last" is the highest dose).
    npts : ndarray (B,) of int, optional (default N)
    emin : ndarray (B,), optional
        Fixed ``c`` per series (ZIP's row/column fits); NaN leaves it free.
    emax : ndarray (B,), optional
        Fixed ``d`` per series (SynergyFinder 2's ZIP fixes it at 100); NaN leaves it free.
    backend : {"auto", "cython", "python"}

    Returns
    -------
    SFFits
    """
    check_backend(backend, "sf_fit_batch")
    dose = np.asarray(dose, dtype=float)
    resp = np.array(resp, dtype=float)
    B, N = resp.shape
    npts = np.full(B, N, dtype=np.int32) if npts is None else np.asarray(npts, dtype=np.int32)
    if N > SF_MAXN:
        raise InvalidInputError(
            f"sf_fit_batch(): SynergyFinder-compatible fits take at most "
            f"{SF_MAXN} doses per series, got {N}; use fit='robust'"
        )
    if (
        dose.shape not in ((N,), (1, N), (B, N))
        or np.any(npts < 1)
        or np.any(npts > N)
        or npts.shape != (B,)
    ):
        raise InvalidInputError(
            f"sf_fit_batch(): dose must have shape ({N},) or ({B}, {N}) "
            f"and npts values in [1, {N}], got {dose.shape}, "
            f"{npts.min() if npts.size else None}.."
            f"{npts.max() if npts.size else None}"
        )
    dose = np.broadcast_to(dose, (B, N))
    emin = np.full(B, np.nan) if emin is None else np.asarray(emin, dtype=float)
    fixed = np.isfinite(emin)
    emax = np.full(B, np.nan) if emax is None else np.asarray(emax, dtype=float)
    dfixed = np.isfinite(emax)
    valid = np.arange(N)[None, :] < npts[:, None]
    # a flat series gets 1e-10 added to its last response (SynergyFinder)
    first = resp[:, :1]
    flat = np.all(np.where(valid, resp == first, True), axis=1) & (npts > 1)
    if flat.any():
        rows = np.nonzero(flat)[0]
        resp[rows, npts[rows] - 1] += SF_FLAT_BUMP
    # 1) LL.4 on doses and responses scaled as drm scales them
    big = np.where(valid, dose, np.nan)
    with np.errstate(all="ignore"):
        ds = _pow10_floor(np.nanmedian(big, axis=1))
        rs = _pow10_floor(np.nanmedian(np.where(valid, resp, np.nan), axis=1))
    x = np.where(valid, dose / ds[:, None], 0.0)
    y = np.where(valid, resp / rs[:, None], 0.0)
    cf = np.where(fixed, emin / rs, 0.0)
    dfv = np.where(dfixed, emax / rs, 0.0)
    par, status, iters = _run(np.zeros(B, np.int32), x, y, npts, cf, fixed, backend, dfv, dfixed)
    scale = np.stack([np.ones(B), rs, rs, ds], axis=1)
    par = par * scale
    par[:, 1] = np.where(fixed, emin, par[:, 1])
    par[:, 2] = np.where(dfixed, emax, par[:, 2])
    model = np.zeros(B, dtype=np.int8)
    st_final = status.copy()
    bad = status != 0
    if bad.any():
        # 2) SynergyFinder's fallback: L.4 on log(dose), dose 0 -> 1e-10, unscaled
        idx = np.nonzero(bad)[0]
        with np.errstate(all="ignore"):
            lx = np.log(np.where(dose[idx] == 0, SF_ZERO_DOSE, dose[idx]))
        lx = np.where(valid[idx], lx, 0.0)
        p2, s2, it2 = _run(
            np.ones(len(idx), np.int32),
            lx,
            np.where(valid[idx], resp[idx], 0.0),
            npts[idx],
            np.where(fixed[idx], emin[idx], 0.0),
            fixed[idx],
            backend,
            np.where(dfixed[idx], emax[idx], 0.0),
            dfixed[idx],
        )
        par[idx] = p2
        par[idx, 1] = np.where(fixed[idx], emin[idx], p2[:, 1])
        par[idx, 2] = np.where(dfixed[idx], emax[idx], p2[:, 2])
        iters[idx] = it2
        st_final[idx] = s2
        model[idx] = 1
    ok = (st_final == 0) & np.all(np.isfinite(par), axis=1)
    return SFFits(
        par[:, 0].copy(),
        par[:, 1].copy(),
        par[:, 2].copy(),
        par[:, 3].copy(),
        model,
        status,
        st_final,
        iters,
        ok,
        fixed,
    )


def sf_predict(fits, dose):
    """Responses of the B curves at ``dose`` (N,) or (B, N) -> (B, N), as drc predicts them
    (LL.4 on the dose, L.4 on log(dose) with dose 0 read as 1e-10)."""
    dose = np.asarray(dose, dtype=float)
    if dose.ndim == 1:
        dose = dose[None, :]
    b, c, d, e = (a[:, None] for a in (fits.b, fits.c, fits.d, fits.e))
    m = fits.model[:, None]
    with np.errstate(all="ignore"):
        t_ll = b * np.log(dose / e)
        t_l = b * (np.log(np.where(dose == 0, SF_ZERO_DOSE, dose)) - e)
        t = np.where(m == 0, t_ll, t_l)
        return c + (d - c) / (1.0 + np.exp(t))


def _rpow(x, p):
    """R's ``x ^ p`` where it differs from C's pow: (-Inf) ^ non-integer is NaN."""
    with np.errstate(all="ignore"):
        out = np.power(x, p)
    neg_inf = np.isneginf(x) & (np.floor(p) != p)
    return np.where(neg_inf, np.nan, out)


def sf_solve_dose(y, b, c, d, e, model):
    """Dose at which a drug alone reaches ``y`` (SynergyFinder's ``.SolveExpDose``, all
    arguments broadcast): NaN (unreachable) becomes Inf above the larger plateau, else 0."""
    with np.errstate(all="ignore"):
        ll = e * _rpow((y - d) / (c - y), 1.0 / b)
        l4 = np.exp(e + np.log((d - y) / (y - c)) / b)
        res = np.where(model == 0, ll, l4)
        return np.where(np.isnan(res), np.where(y > np.maximum(d, c), np.inf, 0.0), res)


def sf_loewe(yobs, X, fits_k, notes=None):
    """Loewe expectation as SynergyFinder computes it.

    Parameters
    ----------
    yobs : ndarray (S, W)
        Observed responses of the W wells with at least two drugs.
    X : ndarray (W, K)
        Their doses.
    fits_k : list of K SFFits of length S (the monotherapy fits of each surface)

    Returns
    -------
    ndarray (S, W): expected effect (NaN where SynergyFinder's search finds no level).
    """
    S, W = yobs.shape
    P = [tuple(getattr(f, n)[:, None] for n in ("b", "c", "d", "e", "model")) for f in fits_k]
    # 1) can any drug alone reach the observed effect?
    reach = np.zeros((S, W), dtype=bool)
    for b, c, d, e, m in P:
        reach |= np.isfinite(sf_solve_dose(yobs, b, c, d, e, m))
    # 2) 100 effect levels between the smallest and the largest plateau of all drugs
    lo = np.min(np.stack([np.minimum(p[1], p[2])[:, 0] for p in P]), axis=0)
    hi = np.max(np.stack([np.maximum(p[1], p[2])[:, 0] for p in P]), axis=0)
    n1 = SF_LOEWE_STEPS - 1
    steps = np.arange(1, n1, dtype=float)
    ytest = np.concatenate(
        [lo[:, None], lo[:, None] + steps[None, :] * ((hi - lo) / n1)[:, None], hi[:, None]], axis=1
    )  # (S, 100)
    acc = np.zeros((S, W, SF_LOEWE_STEPS), dtype=np.longdouble)
    with np.errstate(all="ignore"):
        for k, (b, c, d, e, m) in enumerate(P):
            xt = sf_solve_dose(ytest, b, c, d, e, m)  # (S, 100)
            acc += (X[None, :, k, None] / xt[:, None, :]).astype(np.longdouble)
        dist = np.abs(acc.astype(float) - 1.0)
    allnan = np.all(np.isnan(dist), axis=2)
    j = np.argmin(np.where(np.isnan(dist), np.inf, dist), axis=2)
    yl = np.take_along_axis(np.broadcast_to(ytest[:, None, :], dist.shape), j[..., None], 2)[..., 0]
    yl = np.where(allnan, np.nan, yl)
    # 3) beyond every drug: the largest single-drug effect at the summed dose
    if not reach.all():
        tot = X.sum(axis=1)
        alt = np.max(
            np.stack([sf_predict(f, np.broadcast_to(tot, (S, W))) for f in fits_k]), axis=0
        )
        yl = np.where(reach, yl, alt)
    if notes is not None:
        nb = int((~reach[0]).sum())
        if nb:
            notes.append(
                f"loewe: in {nb} well(s) no drug alone reaches the observed effect; "
                "their expectation is the largest single-drug effect at the summed "
                "dose (SynergyFinder's rule)"
            )
        if allnan[0].any():
            notes.append(
                f"loewe: {int(allnan[0].sum())} well(s) have no defined expectation "
                "(every effect level undefined); their score is NaN, as in "
                "SynergyFinder"
            )
    return yl


# --------------------------------------------------------------------------- R's generator

_I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1)
_BIG = 134217728  # 2^27


def _r_mt_state(seed):
    """Mersenne-Twister state after R's ``set.seed(seed)`` (initial scrambling by the
    linear congruential generator 69069 * s + 1, as R's RNG.c documents)."""
    s = int(seed) & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    key = np.empty(625, dtype=np.uint32)
    for j in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        key[j] = s
    return key[1:]  # key[0] is R's position slot, reset to 624


class RNormal:
    """R's ``rnorm`` under ``RNGkind("Mersenne-Twister", "Inversion")`` after set.seed."""

    def __init__(self, seed):
        self.bitgen = np.random.MT19937(0)
        st = self.bitgen.state
        st["state"] = {"key": _r_mt_state(seed), "pos": 624}
        self.bitgen.state = st

    def _unif(self, n):
        u = self.bitgen.random_raw(n).astype(float) * 2.3283064365386963e-10
        u = np.where(u <= 0.0, 0.5 * _I2_32M1, u)
        return np.where(1.0 - u <= 0.0, 1.0 - 0.5 * _I2_32M1, u)

    def norm(self, n):
        u = self._unif(2 * n).reshape(n, 2)
        v = np.floor(_BIG * u[:, 0]) + u[:, 1]
        return _qnorm(v / _BIG)


def _qnorm(p):
    """Standard normal quantile, Wichura's AS 241 (PPND16; Appl. Statist. 37:477, 1988)."""
    p = np.asarray(p, dtype=float)
    q = p - 0.5
    out = np.empty_like(p)
    cen = np.abs(q) <= 0.425
    if cen.any():
        qc = q[cen]
        r = 0.180625 - qc * qc
        out[cen] = (
            qc
            * (
                (
                    (
                        (
                            (
                                (
                                    (r * 2509.0809287301226727 + 33430.575583588128105) * r
                                    + 67265.770927008700853
                                )
                                * r
                                + 45921.953931549871457
                            )
                            * r
                            + 13731.693765509461125
                        )
                        * r
                        + 1971.5909503065514427
                    )
                    * r
                    + 133.14166789178437745
                )
                * r
                + 3.387132872796366608
            )
            / (
                (
                    (
                        (
                            (
                                (
                                    (r * 5226.495278852854561 + 28729.085735721942674) * r
                                    + 39307.89580009271061
                                )
                                * r
                                + 21213.794301586595867
                            )
                            * r
                            + 5394.1960214247511077
                        )
                        * r
                        + 687.1870074920579083
                    )
                    * r
                    + 42.313330701600911252
                )
                * r
                + 1.0
            )
        )
    tail = ~cen
    if tail.any():
        qt = q[tail]
        r = np.where(qt > 0, 0.5 - p[tail] + 0.5, p[tail])
        r = np.sqrt(-np.array([math.log(v) for v in r]))  # libm's log, as R (NumPy's may
        #                                                   differ in the last bit)
        near = r <= 5.0
        r1 = r - 1.6
        v1 = (
            (
                (
                    (
                        (
                            (
                                (r1 * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r1
                                + 0.24178072517745061177
                            )
                            * r1
                            + 1.27045825245236838258
                        )
                        * r1
                        + 3.64784832476320460504
                    )
                    * r1
                    + 5.7694972214606914055
                )
                * r1
                + 4.6303378461565452959
            )
            * r1
            + 1.42343711074968357734
        ) / (
            (
                (
                    (
                        (
                            (
                                (r1 * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r1
                                + 0.0151986665636164571966
                            )
                            * r1
                            + 0.14810397642748007459
                        )
                        * r1
                        + 0.68976733498510000455
                    )
                    * r1
                    + 1.6763848301838038494
                )
                * r1
                + 2.05319162663775882187
            )
            * r1
            + 1.0
        )
        r2 = r - 5.0
        v2 = (
            (
                (
                    (
                        (
                            (
                                (r2 * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r2
                                + 0.0012426609473880784386
                            )
                            * r2
                            + 0.026532189526576123093
                        )
                        * r2
                        + 0.29656057182850489123
                    )
                    * r2
                    + 1.7848265399172913358
                )
                * r2
                + 5.4637849111641143699
            )
            * r2
            + 6.6579046435011037772
        ) / (
            (
                (
                    (
                        (
                            (
                                (r2 * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r2
                                + 1.8463183175100546818e-5
                            )
                            * r2
                            + 7.868691311456132591e-4
                        )
                        * r2
                        + 0.0148753612908506148525
                    )
                    * r2
                    + 0.13692988092273580531
                )
                * r2
                + 0.59983220655588793769
            )
            * r2
            + 1.0
        )
        v = np.where(near, v1, v2)
        out[tail] = np.where(qt < 0, -v, v)
    return out


def _r_mean(v):
    """R's mean(): long double sum / n, then one correction pass."""
    v = np.asarray(v, dtype=np.longdouble)
    n = len(v)
    s = v.sum() / n
    if np.isfinite(s):
        s = s + (v - s).sum() / n
    return float(s)


def _r_sd(v):
    v = np.asarray(v, dtype=float)
    n = len(v)
    if n < 2:
        return math.nan
    m = np.longdouble(_r_mean(v))
    ss = ((v.astype(np.longdouble) - m) ** 2).sum()
    return math.sqrt(float(ss / (n - 1)))


def r_bootstrap_surfaces(wells, iteration=SF_BOOT_ITER, seed=SF_BOOT_SEED):
    """SynergyFinder's bootstrap plates (``.Bootstrapping`` under ``set.seed(seed)``).

    Parameters
    ----------
    wells : list of 1-D arrays
        Replicate responses (percent inhibition) of every well, the wells in SynergyFinder's
        group order (ascending conc1, then conc2, ...).

    Returns
    -------
    ndarray (iteration, n_wells): each well's mean of ``len(replicates)`` normal draws with
    the replicates' mean and standard deviation (R's ``rnorm``: no draw when the standard
    deviation is 0; NaN for a single replicate).
    """
    gen = RNormal(seed)
    stats = [(_r_mean(w), _r_sd(w), len(w)) for w in wells]
    out = np.empty((iteration, len(wells)))
    for it in range(iteration):
        for i, (m, sd, n) in enumerate(stats):
            if not np.isfinite(sd):
                out[it, i] = np.nan
            elif sd == 0.0 or not np.isfinite(m):
                out[it, i] = m
            else:
                out[it, i] = _r_mean(m + sd * gen.norm(n))
    return out
