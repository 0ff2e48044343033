"""Own PK courses (patients with etas) superposed directly or by FFT: the same courses.

``_exposure._own_courses`` adds each dose's shifted single-dose course directly when that is
cheaper than the FFT (``DIRECT_COST``; few doses, e.g. bortezomib on the 15-min grid), else by
FFT. The direct sums are exact up to one rounding per dose; the FFT's rounding is about 1e-16
of the course's maximum. Differential tests against the FFT path (``DIRECT_COST = 0``) and the
PK engine on all doses.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmmech import pk, regimens
from mmmech.dynamics import _exposure, simulate_cohort
from mmmech.dynamics._exposure import _direct_ok, _own_fine, _own_sub
from mmmech.dynamics.kinetics import interval_means
from mmmech.dynamics.regimen import _pk_doses

BODY = {"weight_kg": 72.0, "bsa_m2": 1.85}
DRUGS = ("lenalidomide", "bortezomib", "dexamethasone")


def _plan(reg: str, cycles: int) -> list:
    return regimens.expand(regimens.load(reg), body=regimens.Body(**BODY), cycles=cycles)


def _courses(monkeypatch, cost, drug, events, etas, times, grid_h, edges):
    monkeypatch.setattr(_exposure, "DIRECT_COST", cost)
    covs = [dict(BODY)] * len(events)
    sub = _own_sub(drug, events, covs, etas, times, grid_h, "reference", [])
    fine = _own_fine(drug, events, covs, etas, edges, "reference")
    return sub, fine


@pytest.mark.parametrize("reg,cycles", [("vrd", 2), ("rd", 2)])
def test_direct_equals_fft_and_the_engine(monkeypatch, reg, cycles):
    """Direct (every course), FFT (every course) and the PK engine on all doses agree to
    1e-12 of the course's maximum, for every drug, patients with their own etas and one with
    a held dose (its own dose vector)."""
    ev = _plan(reg, cycles)
    held = [e for e in ev if not (e.drug in ("bortezomib", "lenalidomide") and e.day == 8)]
    events = [ev, ev, held]
    grid_h = 1.0
    days = 28 * cycles
    times = (np.arange(days * 24) + 0.5) * grid_h
    edges = np.arange(days * 24 * 4 + 1) * 0.25
    for drug in sorted({e.drug for e in ev} & set(DRUGS)):
        etas = [pk.patient_etas("ndmm", i, 1, [drug]).get(drug) for i in range(3)]
        d_sub, d_fine = _courses(monkeypatch, 1e12, drug, events, etas, times, grid_h, edges)
        f_sub, f_fine = _courses(monkeypatch, 0.0, drug, events, etas, times, grid_h, edges)
        for i, (e, eta) in enumerate(zip(events, etas, strict=True)):
            cov = {k: v for k, v in BODY.items()}
            m = _exposure._own_model(drug, cov, eta)
            mine = [x for x in e if x.drug == drug]
            ref = pk.concentration(m, _pk_doses(m, mine), times, unit="nM")
            tol = 1e-12 * ref.max()
            np.testing.assert_allclose(d_sub[i], f_sub[i], rtol=0, atol=tol)
            np.testing.assert_allclose(d_sub[i], ref, rtol=1e-7, atol=1e-9 * ref.max())
            ref_f = interval_means(m, _pk_doses(m, mine), edges)
            if ref_f is not None:
                np.testing.assert_allclose(d_fine[i], f_fine[i], rtol=0, atol=1e-12 * ref_f.max())
                np.testing.assert_allclose(d_fine[i], ref_f, rtol=1e-7, atol=1e-9 * ref_f.max())
            assert np.all(d_sub[i] >= 0) and np.all(d_fine[i] >= 0)


def test_direct_rows_do_not_depend_on_the_others(monkeypatch):
    """A row's direct course is the same bits alone or among other patients."""
    ev = _plan("vrd", 1)
    times = (np.arange(21 * 24) + 0.5) * 1.0
    edges = np.arange(21 * 96 + 1) * 0.25
    etas = [pk.patient_etas("ndmm", i, 3, ["bortezomib"]).get("bortezomib") for i in range(3)]
    many = _courses(monkeypatch, 6.0, "bortezomib", [ev] * 3, etas, times, 1.0, edges)
    one = _courses(monkeypatch, 6.0, "bortezomib", [ev], etas[1:2], times, 1.0, edges)
    assert np.array_equal(many[0][1], one[0][0]) and np.array_equal(many[1][1], one[1][0])


def test_the_cheaper_path_is_chosen():
    """FFT cost ~ nfft log2 nfft per row, direct ~ doses x grid points: 32 bortezomib doses on
    the 15-min grid of 336 days go direct, daily doses on it for 336 days go by FFT."""
    T = 336 * 96
    nfft = 1 << (2 * T - 1).bit_length()
    assert _direct_ok(32, T, nfft)
    assert not _direct_ok(336, T, nfft)


def test_cohort_outcomes_unchanged(monkeypatch):
    """simulate_cohort with PK etas and a dose modification: the M-protein course within 1e-9
    (relative) of the FFT path's, the best responses and progression days identical."""
    bodies = [BODY, {"weight_kg": 58.0, "bsa_m2": 1.6}, {"weight_kg": 95.0, "bsa_m2": 2.2}]
    etas = [pk.patient_etas("ndmm", i, 7, list(DRUGS)) for i in range(3)]
    held = [e for e in _plan("vrd", 2) if not (e.drug == "bortezomib" and e.day in (8, 11))]
    kw = {"cycles": 2, "step_hours": 12.0, "pk_etas": etas, "doses": [None, held, None]}
    monkeypatch.setattr(_exposure, "DIRECT_COST", 0.0)
    a = simulate_cohort("vrd", bodies, **kw)
    monkeypatch.setattr(_exposure, "DIRECT_COST", 6.0)
    b = simulate_cohort("vrd", bodies, **kw)
    np.testing.assert_allclose(b.m_protein, a.m_protein, rtol=1e-9, atol=0)
    assert b.best_response.tolist() == a.best_response.tolist()
    np.testing.assert_array_equal(b.time_to_progression_days, a.time_to_progression_days)
