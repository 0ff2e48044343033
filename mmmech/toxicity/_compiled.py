"""The compiled path of the toxicity courses: each cycle's neutrophil and platelet counts of
many patients in one kernel call each (:mod:`mmmech._kernels._toxicity`).

The per-patient rules, doses and grades stay in :class:`mmmech.toxicity.course._Course`
(sequential in time, patient by patient); only the counts move: the doses given so far and
each patient's PK exponentials go to the kernel, which builds the drug effect on the fine
grid, its RK4 stage means and the integration for every patient. The NumPy path
(``backend="python"``: :func:`mmmech.toxicity.myelosuppression.simulate`,
:func:`mmmech.toxicity.platelets.simulate`) is the reference; the two agree within 1e-12
(tests/toxicity/test_toxicity_kernel.py). :func:`supported` says when the kernel applies
(linear PK models, bolus or first-order absorbed doses); otherwise the caller keeps the
NumPy path.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _kernels, pk
from . import myelosuppression as ms
from . import platelets as _plt

__all__ = ["KernelCycles", "supported", "available"]

#: one patient's counts over a cycle: (grid times h, counts), None where not modelled
Counts = tuple[np.ndarray, np.ndarray] | None

#: a regimen block's route -> the PK route of its doses (used by mmmech.toxicity.course)
PK_ROUTE = {"po": "oral", "sc": "sc", "iv": "iv_bolus", "iv_infusion": "iv_infusion"}
#: route codes of the kernel (``_toxicity.pyx``: NR routes)
ROUTE_CODE = {"iv_bolus": 0, "oral": 1, "sc": 2}
#: columns of a term's parameter row (``_toxicity.pyx``)
_MAXE, _NPAR = 4, 20
_SINCE, _COEF, _NEXP, _LAM, _A, _KA, _F, _TLAG = 0, 1, 2, 3, 7, 11, 14, 17
#: term kinds
_CONC, _CONC_AUC, _KPD = 0, 1, 2
#: an absorption rate this close (relative) to a disposition rate takes the NumPy path (the
#: kernel's (exp(-lam d) - exp(-ka d)) / (ka - lam) loses digits there)
_KA_NEAR = 1e-6


def available() -> bool:
    """Whether the compiled toxicity kernel is built."""
    return _kernels.available("_toxicity")


def _routes(course: Any, drug: str) -> set[str]:
    """The PK routes of `drug`'s blocks in the regimen of `course` (a ``course._Course``)."""
    return {
        PK_ROUTE.get(b.route, b.route)
        for ph in course.reg.phases
        for b in ph.drugs
        if b.drug == drug
    }


def _pk_row(model: pk.PKModel, routes: set[str]) -> np.ndarray | None:
    """A term's static parameter row for a linear PK model (None when the kernel cannot
    take it: saturable elimination, an infusion, more than four exponentials, a route
    without absorption parameters, or ka next to a disposition rate)."""
    if not model.disposition.linear:
        return None
    lam, a = pk.exponentials(model.disposition)
    if len(lam) > _MAXE:
        return None
    row = np.zeros(_NPAR)
    row[_NEXP] = len(lam)
    row[_LAM : _LAM + len(lam)] = lam
    row[_A : _A + len(a)] = a
    row[_F : _F + 3] = 1.0
    for route in routes:
        code = ROUTE_CODE.get(route)
        if code is None:
            return None
        if code == 0:
            continue
        ab = model.absorption.get(route)
        if ab is None or not ab.ka > 0:
            return None
        ka = float(ab.ka)
        if any(abs(ka - float(x)) <= _KA_NEAR * max(ka, float(x)) for x in lam):
            return None
        row[_KA + code] = ka
        row[_F + code] = float(ab.f)
        row[_TLAG + code] = float(ab.tlag)
    return row


def _kpd_row(rate: float) -> np.ndarray:
    """A K-PD term: ``k A(t)``, every dose a bolus into A: one exponential, lam = a = k."""
    row = np.zeros(_NPAR)
    row[_NEXP] = 1
    row[_LAM] = rate
    row[_A] = rate
    row[_F : _F + 3] = 1.0
    return row


def supported(runs: Sequence[Any]) -> bool:
    """Whether the kernel can integrate these patients' counts (see :func:`_pk_row`)."""
    if not runs or not available():
        return False
    first = runs[0]
    drugs = [d for d in first.reg.drugs if d in first.lineage_drugs or d in first.plt_drugs]
    for d in drugs:
        routes = _routes(first, d)
        if any(r not in ROUTE_CODE for r in routes):
            return False
        kpd = d in first.plt_drugs and _plt.platelet_effect(d).form == "kpd"
        if kpd and d not in first.lineage_drugs:
            continue
        for r in runs:
            if _pk_row(pk.model(r.pk_models.get(d, d)), routes) is None:
                return False
    return True


class KernelCycles:
    """The counts of `runs` (one regimen, the same cycle plan) cycle by cycle through the
    kernel: :meth:`cycle` after every patient's ``begin_cycle`` returns what
    ``end_cycle`` takes for each patient."""

    def __init__(self, runs: Sequence[Any], dt_h: float, num_threads: int = 1) -> None:
        self.runs = list(runs)
        self.k = _kernels.load("_toxicity")
        self.dt_h = float(dt_h)
        self.num_threads = int(num_threads)
        first = self.runs[0]
        n = len(self.runs)
        self.n = n
        reg_drugs = list(first.reg.drugs)
        self.anc_drugs = [d for d in reg_drugs if d in first.lineage_drugs] if first.use_anc else []
        self.plt_drugs = [d for d in reg_drugs if d in first.plt_drugs] if first.use_plt else []
        self.drugs = list(dict.fromkeys(self.anc_drugs + self.plt_drugs))
        # static parameter rows per (drug, patient) and channel
        self.anc_rows: dict[str, np.ndarray] = {}
        self.windows: dict[str, np.ndarray] = {}
        for d in self.anc_drugs:
            routes = _routes(first, d)
            slope = ms.drug_effect(d, "neutrophils").slope
            rows = np.empty((n, _NPAR))
            win = np.empty(n)
            for j, r in enumerate(self.runs):
                model = pk.model(r.pk_models.get(d, d))
                row = _pk_row(model, routes)
                assert row is not None  # supported() was checked
                row[_COEF] = slope
                rows[j] = row
                if d not in r._windows:  # as _Course.anc_doses keeps it
                    r._windows[d] = ms.recent_window(r.pk_models.get(d, d))
                win[j] = r._windows[d]
            self.anc_rows[d] = rows
            self.windows[d] = win
        self.plt_rows: dict[str, np.ndarray] = {}
        self.plt_kind: dict[str, int] = {}
        self.auc_slope: dict[str, float] = {}
        for d in self.plt_drugs:
            e = _plt.platelet_effect(d)
            rows = np.empty((n, _NPAR))
            if e.form == "kpd":
                rows[:] = _kpd_row(float(e.kpd_rate_per_h))
                self.plt_kind[d] = _KPD
            else:
                routes = _routes(first, d)
                for j, r in enumerate(self.runs):
                    row = _pk_row(pk.model(r.pk_models.get(d, d)), routes)
                    assert row is not None
                    rows[j] = row
                self.plt_kind[d] = _CONC_AUC if e.form == "concentration_and_auc" else _CONC
                if e.form == "concentration_and_auc":
                    self.auc_slope[d] = e.slope * e.auc_scale_per_h
            rows[:, _COEF] = e.slope
            rows[:, _SINCE] = -np.inf
            self.plt_rows[d] = rows
        # the dose store (_doses)
        self._cap = 0
        self._count = [np.zeros(n, np.intp) for _ in self.drugs]
        self._t = np.zeros((len(self.drugs), n, 0))
        self._mg = np.zeros((len(self.drugs), n, 0))
        self._rc = np.zeros((len(self.drugs), n, 0), np.intp)
        self._ends: dict[str, np.ndarray] = {}
        self.scale = np.array([r.neutrophil_sensitivity for r in self.runs], dtype=float)
        self.pscale = np.array([r.platelet_sensitivity for r in self.runs], dtype=float)
        if first.use_anc:
            p = first.params
            self.ktr = float(p.ktr)
            self.gamma = float(p.gamma)
            self.baseline = np.array([float(r.params.baseline) for r in self.runs])
            self.anc_state = np.ascontiguousarray(np.repeat(self.baseline[:, None], 5, axis=1))
        if first.use_plt:
            s = _plt.system()
            self.kprp, self.kin = float(s.kprp_per_h), float(s.kin_per_h)
            y0 = _plt.steady_state()
            self.plt_state = np.ascontiguousarray(np.tile(y0, (n, 1)))

    def _doses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Every patient's doses so far of the model drugs (time h, mg, route code), kept in
        one (drug, patient, capacity) store that only this cycle's new doses are added to,
        flat, and per drug the patients' start offsets into it (n + 1; patient j's doses are
        ``[ptr[j], ptr[j] + count[j])``, so ``ptr[j + 1]`` is replaced by that end)."""
        n, nd = self.n, len(self.drugs)
        code = ROUTE_CODE.__getitem__
        news = []
        total_new = 0
        for di, d in enumerate(self.drugs):
            had = self._count[di].tolist()
            new = [r.pk_doses[d][c:] for r, c in zip(self.runs, had, strict=True)]
            cnt = np.fromiter(map(len, new), np.intp, n)
            news.append((new, cnt))
            total_new += int(cnt.sum())
        need = int(max(((self._count[di] + news[di][1]).max() for di in range(nd)), default=0))
        if need > self._cap:
            cap = max(need, 2 * self._cap, 8)
            for name in ("_t", "_mg", "_rc"):
                old = getattr(self, name)
                grown = np.zeros((nd, n, cap), old.dtype)
                grown[:, :, : self._cap] = old
                setattr(self, name, grown)
            self._cap = cap
        if total_new:
            for di in range(nd):
                new, cnt = news[di]
                k = int(cnt.sum())
                if not k:
                    continue
                flat = list(itertools.chain.from_iterable(new))
                rows = np.repeat(np.arange(n), cnt)
                starts = np.cumsum(cnt) - cnt
                cols = self._count[di][rows] + (np.arange(k) - starts[rows])
                self._t[di, rows, cols] = np.fromiter(map(ms._FIRST, flat), float, k)
                self._mg[di, rows, cols] = np.fromiter(map(ms._SECOND, flat), float, k)
                self._rc[di, rows, cols] = np.fromiter(map(code, map(ms._THIRD, flat)), np.intp, k)
                self._count[di] += cnt
        ptrs: dict[str, np.ndarray] = {}
        for di, d in enumerate(self.drugs):
            base = (di * n + np.arange(n)) * self._cap
            ptrs[d] = np.concatenate([base, [0]]).astype(np.intp)
            self._ends[d] = base + self._count[di]
        return self._t.reshape(-1), self._mg.reshape(-1), self._rc.reshape(-1), ptrs

    def _terms(
        self,
        drugs: Sequence[str],
        rows: dict[str, np.ndarray],
        kinds: dict[str, int],
        ptrs: dict[str, np.ndarray],
        since: dict[str, np.ndarray] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The terms of one channel (a patient's drugs with doses, in the regimen's drug
        order): CSR offsets per patient, (dose start, dose end, kind) and parameter rows."""
        pats: list[np.ndarray] = []
        idx: list[np.ndarray] = []
        par: list[np.ndarray] = []
        for order, d in enumerate(drugs):
            ptr, end = ptrs[d], self._ends[d]
            has = np.flatnonzero(end > ptr[:-1])
            if not has.size:
                continue
            pats.append(has * len(drugs) + order)
            ix = np.empty((has.size, 3), np.intp)
            ix[:, 0] = ptr[has]
            ix[:, 1] = end[has]
            ix[:, 2] = kinds[d]
            idx.append(ix)
            pr = rows[d][has]
            if since is not None:
                pr[:, _SINCE] = since[d][has]
            par.append(pr)
        term_ptr = np.zeros(self.n + 1, np.intp)
        if not pats:
            return term_ptr, np.zeros((0, 3), np.intp), np.zeros((0, _NPAR))
        key = np.concatenate(pats)
        o = np.argsort(key, kind="stable")
        np.cumsum(np.bincount(key[o] // len(drugs), minlength=self.n), out=term_ptr[1:])
        return (
            term_ptr,
            np.ascontiguousarray(np.concatenate(idx)[o]),
            np.ascontiguousarray(np.concatenate(par)[o]),
        )

    def cycle(self, c0: float, c1: float) -> tuple[list[Counts], list[Counts]]:
        """The counts of every patient over the cycle [c0, c1] (h): per patient ``(grid times,
        ANC)`` and ``(grid times, normalised platelets)`` (None where not modelled), as
        :func:`mmmech.toxicity.myelosuppression.simulate` and
        :func:`mmmech.toxicity.platelets.simulate` return them."""
        n = self.n
        if not (self.anc_drugs or self.plt_drugs):  # nothing modelled: nothing integrated
            return [None] * n, [None] * n
        if not (c1 > c0 and self.dt_h > 0):
            ms.simulate(None, ms.parameters(), c0, c1, dt_h=self.dt_h)  # raises the same error
        nsteps = max(1, int(np.ceil((c1 - c0) / self.dt_h - 1e-9)))
        h = (c1 - c0) / nsteps
        m = ms._SUB
        fine = c0 + np.arange(nsteps * m + 1) * (h / m)
        step = float((fine[-1] - fine[0]) / (fine.size - 1))
        grid = fine[::m]
        dt, dmg, drt, ptrs = self._doses()
        anc: list[Counts] = [None] * n
        plt: list[Counts] = [None] * n
        if self.anc_drugs:
            since = {d: c0 - self.windows[d] for d in self.anc_drugs}
            kinds = dict.fromkeys(self.anc_drugs, _CONC)
            tp, ti, tpar = self._terms(self.anc_drugs, self.anc_rows, kinds, ptrs, since)
            out = np.empty((n, nsteps + 1))
            self.k.friberg_cycle(
                float(c0), float(h), nsteps, m, step, dt, dmg, drt, tp, ti, tpar,
                self.scale, self.ktr, self.gamma, self.baseline, self.anc_state, out,
                self.num_threads,
            )  # fmt: skip
            anc = [(grid, row) for row in out]
        if self.plt_drugs:
            tp, ti, tpar = self._terms(self.plt_drugs, self.plt_rows, self.plt_kind, ptrs, None)
            coef = np.zeros(n)
            for d, v in self.auc_slope.items():
                coef[self._ends[d] > ptrs[d][:-1]] += v
            out = np.empty((n, nsteps + 1))
            self.k.platelet_cycle(
                float(c0), float(h), nsteps, m, step, dt, dmg, drt, tp, ti, tpar,
                self.pscale, coef, self.kprp, self.kin, self.plt_state, out, self.num_threads,
            )  # fmt: skip
            plt = [(grid, row) for row in out]
        return anc, plt


def state_arrays(kc: KernelCycles) -> dict[str, Any]:
    """The kernel's carried states (for tests): ``anc`` (n, 5) and ``platelets`` (n, 5)."""
    out: dict[str, Any] = {}
    if kc.anc_drugs:
        out["anc"] = kc.anc_state.copy()
    if kc.plt_drugs:
        out["platelets"] = kc.plt_state.copy()
    return out
