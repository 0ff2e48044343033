"""Batched synergy metrics on full factorial dose grids (the engine behind mmmech.synergy).

Everything here works on a batch of S response surfaces at once, ``R`` of shape
``(S, n_1, ..., n_K)`` in percent inhibition on one dose grid (``doses[k][0] == 0``), so the
bootstrap copies of a plate are scored by the same vectorised calls as the plate itself.
No input checks happen here: :mod:`mmmech.synergy` validates before calling.

Conventions follow SynergyFinder 3 (Ianevski et al. 2022, doi:10.1093/nar/gkac382; R package
synergyfinder 3.x, ``CalculateSynergy``/``Bliss``/``HSA``/``Loewe``/``ZIP``): a well where at
most one drug is present has expectation = observation (score 0); the monotherapy responses
of drug k are the wells where every other drug is at dose 0, the dose-0 well (the control)
included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._results import MATRICES_DEFAULT, Result
from ._fit import FLAG_NAMES, fit_batch, ll4
from ._sf import RUNAWAY_FOLD, SF_MAXIT, sf_fit_batch, sf_loewe, sf_predict

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from numpy.typing import ArrayLike

__all__ = ["METRICS", "FITS", "Grid", "BatchScores", "score_batch", "most_synergistic_area"]

METRICS = ("bliss", "hsa", "loewe", "zip")
FITS = ("synergyfinder", "robust")  # curve fits behind Loewe and ZIP (see mmmech.synergy._sf)
LOEWE_GRID = 100  # grid points over the effect range before the root is polished
LOEWE_POLISH = 60  # safeguarded Newton/bisection steps at most ...
LOEWE_TOL = 1e-10  # ... until the bracket is this narrow (relative to the effect range)


class Grid:
    """Shape bookkeeping for a K-drug factorial grid (doses sorted, first dose 0)."""

    def __init__(self, doses: Sequence[ArrayLike]) -> None:
        self.doses = [np.asarray(d, dtype=float) for d in doses]
        self.K = len(self.doses)
        self.shape = tuple(len(d) for d in self.doses)
        present = np.zeros(self.shape, dtype=int)
        for k, d in enumerate(self.doses):
            present = present + self._along(d > 0, k).astype(int)
        self.n_present = present  # drugs present per well
        self.combo = present == self.K  # every drug present: the summary wells
        self.multi = present >= 2  # wells with an interaction to score

    def _along(self, v, k):
        """Broadcast the 1-D array `v` along axis k of the grid."""
        sh = [1] * self.K
        sh[k] = len(v)
        return np.asarray(v).reshape(sh)

    def mono(self, R: np.ndarray, k: int) -> np.ndarray:
        """Monotherapy series of drug k (others at dose 0), shape (S, n_k)."""
        idx = [slice(None)] + [0] * self.K
        idx[k + 1] = slice(None)
        return R[tuple(idx)]


def _bliss_combine(singles, grid):
    """100 * (1 - prod_k (1 - y_k / 100)) broadcast over the grid; singles: K arrays (S, n_k)."""
    prod = 1.0
    for k, y in enumerate(singles):
        sh = [y.shape[0]] + [1] * grid.K
        sh[k + 1] = y.shape[1]
        prod = prod * (1.0 - y.reshape(sh) / 100.0)
    return 100.0 * (1.0 - prod)


def _hsa_combine(singles, grid):
    best = None
    for k, y in enumerate(singles):
        sh = [y.shape[0]] + [1] * grid.K
        sh[k + 1] = y.shape[1]
        yk = y.reshape(sh)
        best = yk if best is None else np.maximum(best, yk)
    return np.broadcast_to(best, (singles[0].shape[0],) + grid.shape)


def _finish(ref, R, grid):
    """Expectation = observation where at most one drug is present (SynergyFinder)."""
    return np.where(grid.multi[None], ref, R)


def _fit_all(R, grid, want_zip):
    """One batched fit: K monotherapy curves per surface and, for ZIP, the slices.

    Returns ``(mono, zip_slices)``: ``mono`` is a list of K dicts of fitted parameter arrays
    of shape (S,); ``zip_slices`` a list of ``(k, selected, M, fits)`` per drug k: the slices
    along drug k at every dose combination of the other drugs where at least one of them is
    present (``selected``, a mask over those combinations; M of them), fits of shape (S * M,).
    """
    S = R.shape[0]
    N = max(grid.shape)
    blocks = []  # (dose[B, N], y[B, N], w[B, N], e0[B])

    def pad(y, d):
        B, n = y.shape
        yy = np.zeros((B, N))
        ww = np.zeros((B, N))
        dd = np.zeros((B, N))
        yy[:, :n] = y
        ww[:, :n] = 1.0
        dd[:, :n] = d
        return dd, yy, ww

    for k in range(grid.K):
        y = grid.mono(R, k)
        dd, yy, ww = pad(y, grid.doses[k][None, :])
        blocks.append((dd, yy, ww, np.full(S, np.nan)))
    zip_meta = []
    if want_zip:
        for k in range(grid.K):
            Rk = np.moveaxis(R, k + 1, -1)  # (S, others..., n_k)
            others = np.moveaxis(grid.n_present - grid._along(grid.doses[k] > 0, k), k, -1)
            sel = others[..., 0].reshape(-1) >= 1  # other drugs present
            series = Rk.reshape(S, -1, grid.shape[k])[:, sel, :]  # (S, M, n_k)
            M = series.shape[1]
            flat = series.reshape(S * M, grid.shape[k])
            dd, yy, ww = pad(flat, grid.doses[k][None, :])
            blocks.append((dd, yy, ww, flat[:, 0].copy()))
            zip_meta.append((k, sel, M))
    dose = np.concatenate([b[0] for b in blocks])
    y = np.concatenate([b[1] for b in blocks])
    w = np.concatenate([b[2] for b in blocks])
    e0 = np.concatenate([b[3] for b in blocks])
    fb = fit_batch(dose, y, weights=w, e0=e0)
    out_mono, pos = [], 0
    for _k in range(grid.K):
        out_mono.append(_slice_fit(fb, pos, pos + S))
        pos += S
    out_zip = []
    for k, sel, M in zip_meta:
        out_zip.append((k, sel, M, _slice_fit(fb, pos, pos + S * M)))
        pos += S * M
    return out_mono, out_zip


def _slice_fit(fb, a, b):
    return {
        "e0": fb.e0[a:b],
        "einf": fb.einf[a:b],
        "ec50": fb.ec50[a:b],
        "hill": fb.hill[a:b],
        "ok": fb.ok[a:b],
        "r2": fb.r2[a:b],
        "sse": fb.sse[a:b],
        "n": fb.n[a:b],
        "flag_bits": fb.flag_bits[a:b],
    }


def _predict(fit, dose):
    """fit arrays (B,), dose (N,) or (B, N) -> (B, N)."""
    return ll4(
        dose, fit["e0"][:, None], fit["einf"][:, None], fit["ec50"][:, None], fit["hill"][:, None]
    )


def _zip(R, grid, mono, zslices, notes):
    S = R.shape[0]
    singles = [_predict(mono[k], grid.doses[k]) for k in range(grid.K)]
    ref = _bliss_combine(singles, grid)
    fitted = np.zeros_like(R)
    nfail = 0
    for k, sel, M, fit in zslices:
        nk = grid.shape[k]
        pred = _predict(fit, grid.doses[k])[:, :nk]
        bad = ~fit["ok"]
        Rk = np.moveaxis(R, k + 1, -1)
        full = Rk.reshape(S, -1, nk).copy()
        obs = full[:, sel, :].reshape(S * M, nk)
        pred = np.where(bad[:, None], obs, pred)  # failed slice: observed values
        nfail += int(bad[:M].sum())
        full[:, sel, :] = pred.reshape(S, M, nk)
        fitted += np.moveaxis(full.reshape(Rk.shape), -1, k + 1)
    fitted /= grid.K
    if nfail:
        notes.append(
            f"zip: {nfail} row/column fit(s) failed; their observed responses were used instead"
        )
    ref = _finish(ref, R, grid)
    fitted = _finish(fitted, R, grid)
    return fitted - ref, ref, fitted


def _loewe_terms(yv, x, e0, einf, c50, h):
    """x / D(y) and its y-derivative for one drug (D: SynergyFinder's inverse, see
    :func:`ll4_inverse`); all arguments broadcast. Call inside ``np.errstate(all="ignore")``."""
    amp = einf - e0
    sp = (yv - e0) / amp
    inside = (sp > 0.0) & (sp < 1.0)
    above = yv >= np.maximum(e0, einf)  # never reached: D = inf, term 0
    D = c50 * (sp / (1.0 - sp)) ** (1.0 / h)
    term = np.where(inside, x / D, np.where(above, 0.0, np.inf))
    term = np.where(x > 0, term, 0.0)
    dterm = np.where(inside & (x > 0), -term / (h * sp * (1.0 - sp) * amp), 0.0)
    return term, dterm


def _loewe(R, grid, mono, notes):
    """Loewe expectation: solve sum_k x_k / D_k(y) = 1 on the fitted monotherapy curves.

    The effect range of all drugs is scanned on a 100-point grid (as SynergyFinder's
    ``.SolveLoewe``), the sign change of g(y) = sum_k x_k / D_k(y) - 1 nearest to zero is
    then solved to machine precision by Newton steps safeguarded by bisection. Without a sign
    change the grid point with the smallest |g| is kept (SynergyFinder's answer).
    """
    S = R.shape[0]
    wells = np.argwhere(grid.multi)  # (W, K) grid indices
    W = wells.shape[0]
    X = np.stack([grid.doses[k][wells[:, k]] for k in range(grid.K)], axis=1)  # (W, K)
    yobs = R[(slice(None),) + tuple(wells.T)]  # (S, W)
    pars = [tuple(mono[k][n] for n in ("e0", "einf", "ec50", "hill")) for k in range(grid.K)]
    lo_k = np.stack([np.minimum(p[0], p[1]) for p in pars], axis=1)  # (S, K)
    hi_k = np.stack([np.maximum(p[0], p[1]) for p in pars], axis=1)
    ylo, yhi = lo_k.min(axis=1), hi_k.max(axis=1)  # (S,)
    M = LOEWE_GRID
    ygrid = ylo[:, None] + (yhi - ylo)[:, None] * np.linspace(0.0, 1.0, M)[None, :]  # (S, M)
    with np.errstate(all="ignore"):
        # 1) g on the grid: the single-drug inverse doses D_k(y) do not depend on the well
        g = np.full((S, W, M), -1.0)
        for k, (e0, einf, c50, h) in enumerate(pars):
            term, _ = _loewe_terms(
                ygrid[:, None, :],
                X[None, :, k, None],
                e0[:, None, None],
                einf[:, None, None],
                c50[:, None, None],
                h[:, None, None],
            )
            g += term
        absg = np.where(np.isnan(g), np.inf, np.abs(g))
        pos, neg = g > 0, g <= 0
        br = (pos[..., :-1] & neg[..., 1:]) | (neg[..., :-1] & pos[..., 1:])
        has = br.any(axis=2)
        j = np.argmin(np.where(br, np.minimum(absg[..., :-1], absg[..., 1:]), np.inf), axis=2)
        yg = np.broadcast_to(ygrid[:, None, :], (S, W, M))
        a = np.take_along_axis(yg, j[..., None], 2)[..., 0]
        b = np.take_along_axis(yg, (j + 1)[..., None], 2)[..., 0]
        sa = np.sign(np.take_along_axis(g, j[..., None], 2)[..., 0])
        best = np.take_along_axis(yg, np.argmin(absg, axis=2)[..., None], 2)[..., 0]

        def gfun(yv):
            gy = np.full(yv.shape, -1.0)
            dgy = np.zeros(yv.shape)
            for k, (e0, einf, c50, h) in enumerate(pars):
                term, dterm = _loewe_terms(
                    yv, X[None, :, k], e0[:, None], einf[:, None], c50[:, None], h[:, None]
                )
                gy += term
                dgy += dterm
            return gy, dgy

        tol = LOEWE_TOL * np.maximum(1.0, np.abs(yhi - ylo))[:, None]
        # 2) a drug's term vanishes steeply at its maximum (D_k -> inf): roots often sit right
        #    there, where Newton cannot help; test each maximum (and just below it) first
        for k in range(grid.K):
            for yk in (hi_k[:, k : k + 1] - tol, hi_k[:, k : k + 1]):
                yk = np.broadcast_to(yk, a.shape)
                inside = (yk > np.minimum(a, b)) & (yk < np.maximum(a, b))
                if inside.any():
                    gk, _ = gfun(yk)
                    same = np.sign(gk) == sa
                    a = np.where(inside & same, yk, a)
                    b = np.where(inside & ~same, yk, b)
        # 3) polish inside the bracket: Newton steps safeguarded by bisection
        y = 0.5 * (a + b)
        for _ in range(LOEWE_POLISH):
            gy, dgy = gfun(y)
            same = np.sign(gy) == sa
            a = np.where(same, y, a)
            b = np.where(same, b, y)
            yn = y - gy / dgy
            inside = np.isfinite(yn) & (yn >= np.minimum(a, b)) & (yn <= np.maximum(a, b))
            solved = np.abs(gy) <= 1e-14  # g is dimensionless (sum - 1)
            y_new = np.where(solved, y, np.where(inside, yn, 0.5 * (a + b)))
            done = solved | (np.abs(b - a) <= tol) | (np.abs(y_new - y) <= 1e-3 * tol)
            y = y_new
            if np.all(done | ~has):
                break
    yloewe = np.where(has, y, best)
    # 4) SynergyFinder: an observed effect beyond every drug's maximum cannot be reached by any
    #    drug alone; the expectation is then the largest single-drug effect at the summed dose
    beyond = (yobs[:, :, None] > hi_k[:, None, :]).all(axis=2)  # (S, W)
    if beyond.any():
        tot = X.sum(axis=1)  # (W,)
        alt = np.max(
            np.stack(
                [
                    ll4(tot[None, :], p[0][:, None], p[1][:, None], p[2][:, None], p[3][:, None])
                    for p in pars
                ],
                axis=2,
            ),
            axis=2,
        )
        yloewe = np.where(beyond, alt, yloewe)
    nb, nn = int(beyond[0].sum()), int((~has[0] & ~beyond[0]).sum())
    if nb:
        notes.append(
            f"loewe: in {nb} well(s) the observed effect exceeds every drug's fitted "
            "maximum; their expectation is the largest single-drug effect at the summed "
            "dose (SynergyFinder's rule)"
        )
    if nn:
        notes.append(
            f"loewe: {nn} well(s) have no exact solution of sum d_i/D_i(y) = 1; the "
            "effect closest to it on a 100-point grid is used (SynergyFinder's rule)"
        )
    ref = R.copy()
    ref[(slice(None),) + tuple(wells.T)] = yloewe
    return R - ref, ref


def most_synergistic_area(
    delta: np.ndarray, size: int = 3
) -> tuple[float, tuple[int, ...], tuple[int, ...]]:
    """Most synergistic window of `size` consecutive doses per drug (SynergyFinder's 3x3 area).

    Parameters
    ----------
    delta : ndarray, shape (n_1, ..., n_K)
        Synergy scores on the full grid (zero-dose rows and columns included, where scores
        are 0 by definition), as SynergyFinder slides its 3x3 window over the whole matrix.
    size : int
        Window length per drug (shorter axes use their full length).

    Returns
    -------
    (score, start) : (float, tuple of int)
        The largest window mean and the index of the window's first dose per drug (the first
        such window in C order on ties).
    """
    win = tuple(min(size, n) for n in delta.shape)
    v = sliding_window_view(delta, win)
    means = v.reshape(v.shape[: delta.ndim] + (-1,)).mean(axis=-1)
    flat = int(np.argmax(means))
    start = np.unravel_index(flat, means.shape)
    return float(means.reshape(-1)[flat]), tuple(int(s) for s in start), win


def _flag_bit(name):
    return 1 << FLAG_NAMES.index(name)


def _sf_fit_all(R, grid, want_zip, order=None):
    """SynergyFinder-compatible fits (one batched call): the K monotherapy series of every
    surface and, for ZIP, every series along drug k at each dose combination of the other
    drugs where at least one of them is present, with ``c`` fixed at its observed response at
    dose 0. Returns ``(mono, zip_slices)``: K SFFits of length S and a list of
    ``(k, sel, M, SFFits of length S * M)``."""
    S = R.shape[0]
    N = max(grid.shape)
    D, Y, n, E = [], [], [], []

    def add(series, dk, emin, rank=None):
        B, nk = series.shape
        dd = np.zeros((B, N))
        yy = np.zeros((B, N))
        dd[:, :nk] = dk
        yy[:, :nk] = series
        if rank is not None:  # the points of each series in the order of the file
            perm = np.argsort(rank, axis=1, kind="stable")
            dd[:, :nk] = np.take_along_axis(np.broadcast_to(dd[:, :nk], (B, nk)), perm, 1)
            yy[:, :nk] = np.take_along_axis(yy[:, :nk], perm, 1)
        D.append(dd)
        Y.append(yy)
        n.append(np.full(B, nk))
        E.append(emin)

    ranks = None if order is None else np.broadcast_to(np.asarray(order)[None], R.shape)
    for k in range(grid.K):
        add(
            grid.mono(R, k),
            grid.doses[k][None, :],
            np.full(S, np.nan),
            None if ranks is None else grid.mono(ranks, k),
        )
    meta = []
    if want_zip:
        for k in range(grid.K):
            Rk = np.moveaxis(R, k + 1, -1)
            others = np.moveaxis(grid.n_present - grid._along(grid.doses[k] > 0, k), k, -1)
            sel = others[..., 0].reshape(-1) >= 1
            series = Rk.reshape(S, -1, grid.shape[k])[:, sel, :]
            M = series.shape[1]
            flat = series.reshape(S * M, grid.shape[k])
            rank = None
            if ranks is not None:
                rank = np.moveaxis(ranks, k + 1, -1).reshape(S, -1, grid.shape[k])[:, sel, :]
                rank = rank.reshape(S * M, grid.shape[k])
            add(flat, grid.doses[k][None, :], flat[:, 0].copy(), rank)
            meta.append((k, sel, M))
    fb = sf_fit_batch(np.concatenate(D), np.concatenate(Y), np.concatenate(n), np.concatenate(E))
    mono, pos = [], 0
    for _k in range(grid.K):
        mono.append(fb.take(slice(pos, pos + S)))
        pos += S
    zsl = []
    for k, sel, M in meta:
        zsl.append((k, sel, M, fb.take(slice(pos, pos + S * M))))
        pos += S * M
    return mono, zsl


def _sf_issues(fit, dose):
    """Pathologies of SynergyFinder-compatible fits: (B,) int flag bits."""
    pos = dose[dose > 0]
    bits = np.zeros(len(fit), dtype=np.int64)
    bits |= np.where(fit.model == 1, _flag_bit("sf_fallback"), 0)
    bits |= np.where(fit.iters >= SF_MAXIT, _flag_bit("sf_iteration_limit"), 0)
    bits |= np.where(fit.fixed & (fit.b > 0), _flag_bit("sf_orientation_flipped"), 0)
    ec50 = np.where(fit.model == 1, np.exp(np.clip(fit.e, -700, 700)), fit.e)
    if pos.size:
        run = ~((ec50 >= pos.min() / RUNAWAY_FOLD) & (ec50 <= pos.max() * RUNAWAY_FOLD))
        bits |= np.where(run, _flag_bit("sf_runaway"), 0)
    bits |= np.where(fit.fixed, _flag_bit("e0_fixed"), 0)
    return bits


def _sf_mono_dict(fit, dose, y):
    """SFFits (S,) -> the parameter arrays of mmmech's LogLogistic (E0, Einf, EC50, hill)."""
    with np.errstate(all="ignore"):
        ec50 = np.where(fit.model == 1, np.exp(fit.e), fit.e)
        rising = fit.b < 0  # drc's b < 0: from c at dose 0 to d
        e0 = np.where(rising, fit.c, fit.d)
        einf = np.where(rising, fit.d, fit.c)
        hill = np.abs(fit.b)
        flat = fit.b == 0
        mid = 0.5 * (fit.c + fit.d)
        e0 = np.where(flat, mid, e0)
        einf = np.where(flat, mid, einf)
        hill = np.where(flat, 1.0, hill)
        pred = sf_predict(fit, np.broadcast_to(dose, y.shape))
        sse = np.sum((y - pred) ** 2, axis=1)
        sst = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
        r2 = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 1.0)
    return {
        "e0": e0,
        "einf": einf,
        "ec50": ec50,
        "hill": hill,
        "ok": fit.ok.copy(),
        "r2": r2,
        "sse": sse,
        "n": np.full(len(fit), y.shape[1]),
        "flag_bits": _sf_issues(fit, dose),
    }


def _sf_zip(R, grid, mono, zslices, notes):
    S = R.shape[0]
    singles = [sf_predict(mono[k], grid.doses[k]) for k in range(grid.K)]
    ref = _bliss_combine(singles, grid)
    fitted = np.zeros(R.shape, dtype=np.longdouble)
    nfail = 0
    for k, sel, M, fit in zslices:
        nk = grid.shape[k]
        pred = sf_predict(fit, grid.doses[k])[:, :nk]
        bad = ~fit.ok
        Rk = np.moveaxis(R, k + 1, -1)
        full = Rk.reshape(S, -1, nk).copy()
        obs = full[:, sel, :].reshape(S * M, nk)
        pred = np.where(bad[:, None], obs, pred)
        nfail += int(bad[:M].sum())
        full[:, sel, :] = pred.reshape(S, M, nk)
        fitted += np.moveaxis(full.reshape(Rk.shape), -1, k + 1)
    fitted = (fitted / grid.K).astype(float)
    if nfail:
        notes.append(
            f"zip: {nfail} row/column fit(s) failed; their observed responses were "
            "used instead (SynergyFinder stops with an error there)"
        )
    ref = _finish(ref, R, grid)
    fitted = _finish(fitted, R, grid)
    return fitted - ref, ref, fitted


def _sf2_zip(R, grid, mono, notes):
    """SynergyFinder 2's ZIP (R package synergyfinder 2.4, ``ZIP``; DrugComb's tables), two
    drugs: the monotherapy curves fitted with dose 0 (as version 3); every row and column of
    the combination wells (positive doses only) fitted with ``c`` fixed at the *fitted*
    monotherapy of the other drug at that dose and ``d`` fixed at 100; the two fitted values
    averaged; the expectation Bliss of the fitted monotherapies. A grid with a single positive
    dose of a drug is not fitted (observed values)."""
    S = R.shape[0]
    d1, d2 = grid.doses
    n1, n2 = len(d1) - 1, len(d2) - 1
    rfit = sf_predict(mono[0], d1[1:])  # (S, n1)
    cfit = sf_predict(mono[1], d2[1:])  # (S, n2)
    obs = R[:, 1:, 1:]
    if n1 == 1 or n2 == 1:
        fitted = obs.copy()
    else:
        # series along drug 1 at each positive dose of drug 2, and along drug 2
        s1 = np.moveaxis(obs, 2, 1).reshape(S * n2, n1)
        s2 = obs.reshape(S * n1, n2)
        N = max(n1, n2)
        D = np.zeros((S * (n1 + n2), N))
        Y = np.zeros_like(D)
        D[: S * n2, :n1], Y[: S * n2, :n1] = d1[1:], s1
        D[S * n2 :, :n2], Y[S * n2 :, :n2] = d2[1:], s2
        npts = np.concatenate([np.full(S * n2, n1), np.full(S * n1, n2)])
        emin = np.concatenate([cfit.reshape(-1), rfit.reshape(-1)])
        fb = sf_fit_batch(D, Y, npts, emin, emax=np.full(len(npts), 100.0))
        pred = sf_predict(fb, D)
        pred = np.where(fb.ok[:, None], pred, Y)
        nfail = int((~fb.ok).reshape(S, -1)[0].sum())
        if nfail:
            notes.append(
                f"zip (SynergyFinder 2): {nfail} row/column fit(s) failed; their "
                "observed responses were used, as SynergyFinder 2 does"
            )
        f1 = np.moveaxis(pred[: S * n2, :n1].reshape(S, n2, n1), 1, 2)
        f2 = pred[S * n2 :, :n2].reshape(S, n1, n2)
        fitted = (f1 + f2) / 2
    ref_c = rfit[:, :, None] + cfit[:, None, :] - rfit[:, :, None] * cfit[:, None, :] / 100
    ref = R.copy()
    fit_full = R.copy()
    ref[:, 1:, 1:] = ref_c
    fit_full[:, 1:, 1:] = fitted
    return fit_full - ref, ref, fit_full


def _sf_loewe_scores(R, grid, mono, notes):
    wells = np.argwhere(grid.multi)
    X = np.stack([grid.doses[k][wells[:, k]] for k in range(grid.K)], axis=1)
    yobs = R[(slice(None),) + tuple(wells.T)]
    yl = sf_loewe(yobs, X, mono, notes)
    ref = R.copy()
    ref[(slice(None),) + tuple(wells.T)] = yl
    return R - ref, ref


def _sf_pathologies(grid, mono, zsl):
    """Pathological fits of surface 0: list of dicts ``{series: "mono"|"zip", drug: k,
    at: {j: dose of drug j}, flags: [...]}`` for the notes of mmmech.synergy."""
    out = []
    names = ("sf_fallback", "sf_iteration_limit", "sf_orientation_flipped", "sf_runaway")
    for k in range(grid.K):
        bits = int(_sf_issues(mono[k].take(slice(0, 1)), grid.doses[k])[0])
        fl = [n for n in names if bits & _flag_bit(n)]
        if fl:
            out.append({"series": "mono", "drug": k, "at": {}, "flags": fl})
    for k, sel, M, fit in zsl:
        bits = _sf_issues(fit.take(slice(0, M)), grid.doses[k])
        combos = np.argwhere(
            np.ones(tuple(n for j, n in enumerate(grid.shape) if j != k), dtype=bool)
        )[sel]
        others = [j for j in range(grid.K) if j != k]
        for m in range(M):
            fl = [n for n in names if int(bits[m]) & _flag_bit(n)]
            if fl:
                at = {j: float(grid.doses[j][combos[m][i]]) for i, j in enumerate(others)}
                out.append({"series": "zip", "drug": k, "at": at, "flags": fl})
    return out


@dataclass(frozen=True)
class BatchScores(Result):
    """Scores of S surfaces on one grid (what :func:`score_batch` returns).

    Attributes
    ----------
    grid : Grid
        The dose grid (``grid.doses``, ``grid.combo`` the wells where every drug is present).
    deltas : dict {metric: ndarray (S, n_1, ..., n_K)}
        Score per well (observed minus expected inhibition).
    references : dict {metric: ndarray (S, n_1, ..., n_K)}
        Expected inhibition per well.
    summary : dict {metric: ndarray (S,)}
        Summary score per surface (mean over ``grid.combo``).
    zip_fit : ndarray (S, n_1, ..., n_K) or None
        ZIP's fitted combination surfaces.
    mono : list of K dicts {parameter: ndarray (S,)}
        Fitted monotherapy curves (``e0, einf, ec50, hill, ok, r2, sse, n, flag_bits``).
    notes : list of str
        About surface 0.
    fit : str
        ``"synergyfinder"`` or ``"robust"``.
    pathologies : list of dict
        Flagged SynergyFinder-compatible fits of surface 0.
    boot_summary : dict {metric: ndarray (B,)} or None
        Summary scores of SynergyFinder's bootstrap plates, when these scores are their means.

    ``to_dict()`` gives the doses and everything but the grids (``deltas``, ``references``,
    ``zip_fit``), which come with ``to_dict(matrices=True)``.
    """

    grid: Grid
    deltas: dict[str, np.ndarray]
    references: dict[str, np.ndarray]
    summary: dict[str, np.ndarray]
    zip_fit: np.ndarray | None
    mono: list[dict[str, np.ndarray]]
    notes: list[str]
    fit: str
    pathologies: list[dict[str, Any]]
    boot_summary: dict[str, np.ndarray] | None = None

    _matrices = ("deltas", "references", "zip_fit")
    _not_serialized = ("grid",)

    def to_dict(self, matrices: bool = MATRICES_DEFAULT) -> dict[str, Any]:
        """Plain-Python dictionary (JSON-ready) with ``doses``; ``matrices=True`` includes
        the grids."""
        return {
            "doses": [d.tolist() for d in self.grid.doses],
            **super().to_dict(matrices=matrices),
        }


def score_batch(
    doses: Sequence[ArrayLike],
    R: ArrayLike,
    metrics: Iterable[str] = METRICS,
    fit: str = "synergyfinder",
    order: ArrayLike | None = None,
    zip_version: int = 3,
) -> BatchScores:
    """Score S surfaces on one grid.

    Parameters
    ----------
    doses : list of K 1-D arrays (sorted, first entry 0)
    R : ndarray, shape (S, n_1, ..., n_K), percent inhibition (finite)
    metrics : sequence of str
    fit : {"synergyfinder", "robust"}
        Curve fits behind Loewe and ZIP: SynergyFinder's (its numbers) or mmmech's bounded
        multi-start least squares (better least squares, not SynergyFinder's numbers).
    order : ndarray (n_1, ..., n_K) of int, optional
        Rank of every well in the input table: SynergyFinder fits each series in the order
        of the rows of its table (it matters in the last digits, and through them in fits that
        stop at the iteration limit); default ascending dose.
    zip_version : {3, 2}
        SynergyFinder 3's ZIP (default) or SynergyFinder 2's (two drugs; with
        ``fit="synergyfinder"``), see :func:`_sf2_zip`.

    Returns
    -------
    BatchScores
    """
    grid = Grid(doses)
    R = np.asarray(R, dtype=float)
    notes: list[str] = []
    sf = fit == "synergyfinder"
    patho = []
    if sf:
        sfm, zsl = _sf_fit_all(R, grid, "zip" in metrics and zip_version == 3, order)
        mono = [_sf_mono_dict(sfm[k], grid.doses[k], grid.mono(R, k)) for k in range(grid.K)]
        patho = _sf_pathologies(grid, sfm, zsl)
    else:
        mono, zsl = _fit_all(R, grid, "zip" in metrics)
    deltas, refs = {}, {}
    zfit = None
    obs_singles = [grid.mono(R, k) for k in range(grid.K)]
    for m in metrics:
        if m == "bliss":
            ref = _finish(_bliss_combine(obs_singles, grid), R, grid)
            deltas[m], refs[m] = R - ref, ref
        elif m == "hsa":
            ref = _finish(_hsa_combine(obs_singles, grid), R, grid)
            deltas[m], refs[m] = R - ref, ref
        elif m == "loewe":
            deltas[m], refs[m] = (
                _sf_loewe_scores(R, grid, sfm, notes) if sf else _loewe(R, grid, mono, notes)
            )
        elif m == "zip" and zip_version == 2:
            sfm2 = sfm if order is None else _sf_fit_all(R, grid, False)[0]  # ascending order
            deltas[m], refs[m], zfit = _sf2_zip(R, grid, sfm2, notes)
        elif m == "zip":
            deltas[m], refs[m], zfit = (
                _sf_zip(R, grid, sfm, zsl, notes) if sf else _zip(R, grid, mono, zsl, notes)
            )
    summary = {m: deltas[m][:, grid.combo].mean(axis=1) for m in metrics}
    return BatchScores(
        grid=grid,
        deltas=deltas,
        references=refs,
        summary=summary,
        zip_fit=zfit,
        mono=mono,
        notes=notes,
        fit=fit,
        pathologies=patho,
    )
