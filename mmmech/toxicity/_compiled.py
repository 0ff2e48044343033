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
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _kernels
from .. import pk
from . import myelosuppression as ms
from . import platelets as _plt

if TYPE_CHECKING:  # pragma: no cover
    from .course import _Course

__all__ = ["KernelCycles", "supported", "available"]

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


def _routes(course: _Course, drug: str) -> set[str]:
    """The PK routes of `drug`'s blocks in the regimen."""
    from .course import _PK_ROUTE  # deferred: course imports this module

    return {
        _PK_ROUTE.get(b.route, b.route)
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


def supported(runs: Sequence[_Course]) -> bool:
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

    def __init__(self, runs: Sequence[_Course], dt_h: float, num_threads: int = 1) -> None:
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
        """Every patient's doses so far of the model drugs, flat (time h, mg, route code),
        and per drug the patients' start offsets into them (n + 1)."""
        ts: list[np.ndarray] = []
        mg: list[np.ndarray] = []
        rc: list[np.ndarray] = []
        ptrs: dict[str, np.ndarray] = {}
        off = 0
        code = ROUTE_CODE.__getitem__
        for d in self.drugs:
            lists = [r.pk_doses[d] for r in self.runs]
            cnt = np.fromiter(map(len, lists), np.intp, self.n)
            ptr = np.empty(self.n + 1, np.intp)
            ptr[0] = off
            np.cumsum(cnt, out=ptr[1:])
            ptr[1:] += off
            total = int(ptr[-1] - off)
            flat = list(itertools.chain.from_iterable(lists))
            ts.append(np.fromiter(map(ms._FIRST, flat), float, total))
            mg.append(np.fromiter(map(ms._SECOND, flat), float, total))
            rc.append(np.fromiter(map(code, map(ms._THIRD, flat)), np.intp, total))
            ptrs[d] = ptr
            off += total
        if not ts:
            z = np.zeros(0)
            return z, z, np.zeros(0, np.intp), ptrs
        return np.concatenate(ts), np.concatenate(mg), np.concatenate(rc), ptrs

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
            ptr = ptrs[d]
            has = np.flatnonzero(ptr[1:] > ptr[:-1])
            if not has.size:
                continue
            pats.append(has * len(drugs) + order)
            ix = np.empty((has.size, 3), np.intp)
            ix[:, 0] = ptr[has]
            ix[:, 1] = ptr[has + 1]
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

    def cycle(
        self, c0: float, c1: float
    ) -> tuple[list[tuple[np.ndarray, np.ndarray] | None], list[tuple[np.ndarray, np.ndarray] | None]]:
        """The counts of every patient over the cycle [c0, c1] (h): per patient ``(grid times,
        ANC)`` and ``(grid times, normalised platelets)`` (None where not modelled), as
        :func:`mmmech.toxicity.myelosuppression.simulate` and
        :func:`mmmech.toxicity.platelets.simulate` return them."""
        if not (c1 > c0 and self.dt_h > 0):
            ms.simulate(None, ms.parameters(), c0, c1, dt_h=self.dt_h)  # raises the same error
        nsteps = max(1, int(np.ceil((c1 - c0) / self.dt_h - 1e-9)))
        h = (c1 - c0) / nsteps
        m = ms._SUB
        fine = c0 + np.arange(nsteps * m + 1) * (h / m)
        step = float((fine[-1] - fine[0]) / (fine.size - 1))
        grid = fine[::m]
        dt, dmg, drt, ptrs = self._doses()
        n = self.n
        anc: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n
        plt: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n
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
                ptr = ptrs[d]
                coef[ptr[1:] > ptr[:-1]] += v
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

