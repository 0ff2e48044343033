"""Tumour burden and M-protein of a chunk of patients from their network readouts (the tumour
stage of :func:`mmmech.dynamics.cohort.simulate_cohort`).

:func:`readout_course` forms each patient's net rate on every step from the readouts at the
step's ends (``g * mean Proliferation - d * mean(Apoptosis + ImmuneKilling)``), applies the
patient's tumour scales (:func:`~mmmech.dynamics.tumour.scale_rates`) and acquired resistance
(:func:`~mmmech.dynamics.resistance.apply_resistance`) and integrates burden and M-protein
exactly (:func:`~mmmech.dynamics.tumour.integrate`, with each patient's isotype and starting
M-protein where given). The compiled kernel (``mmmech._kernels._tumour``, OpenMP over
patients; round 11) does it in two passes over each row; :func:`readout_course_ref` is the
NumPy path it replaced (the reference, and the path without the compiled kernels). Both give
the same bits: the kernel does the same operations in the same order, and the step factors
``exp(rate * dt)`` are NumPy's in both (tested, tests/dynamics/test_tumour_course.py).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .. import _kernels
from ..exceptions import InvalidInputError
from .resistance import apply_resistance, resistance_terms
from .tumour import HALF_LIVES, TumourModel, integrate, scale_rates

__all__ = ["readout_course", "readout_course_ref"]


def _integrate_patients(
    rate: np.ndarray, dt_days: float, iso: np.ndarray, m0: np.ndarray, tumour: TumourModel
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~mmmech.dynamics.tumour.integrate` with each patient's isotype (half-life) and
    starting M-protein: the course of a unit start scaled row by row (it is linear in it)."""
    nb = np.empty((rate.shape[0], rate.shape[1] + 1))
    mp = np.empty_like(nb)
    for name in dict.fromkeys(iso.tolist()):
        rows = np.flatnonzero(iso == name)
        k = math.log(2) / HALF_LIVES[name].value
        n_, m_ = integrate(rate[rows], dt_days, k, 1.0)
        nb[rows] = n_
        mp[rows] = m_ * m0[rows, None]
    return nb, mp


def readout_course_ref(
    out: np.ndarray,
    g: np.ndarray,
    d: np.ndarray,
    r0: np.ndarray,
    dt_days: float,
    tumour: TumourModel,
    iso: np.ndarray | None = None,
    m0: np.ndarray | None = None,
    scales: tuple[np.ndarray, np.ndarray] | None = None,
    resist: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Burden and M-protein (R, K + 1) of R patients from their readouts `out` (R, K + 1, M):
    column 0 Proliferation, the others the death readouts; `g`, `d`, `r0` (R,) the growth and
    death scales and the untreated net rate; `iso`, `m0` (R,) each patient's isotype and
    starting M-protein (None: the tumour model's); `scales` (growth, sensitivity) (R,) each;
    `resist` (R,) the resistance rates per day. The NumPy path (before round 11)."""
    Pr, Ar = out[:, :, 0], out[:, :, 1:].sum(axis=2)
    gg, dd = g[:, None], d[:, None]
    rate = gg * 0.5 * (Pr[:, 1:] + Pr[:, :-1]) - dd * 0.5 * (Ar[:, 1:] + Ar[:, :-1])
    if scales is not None:
        rate = scale_rates(rate, r0, scales[0], scales[1])
    if resist is not None:
        g_i = 1.0 if scales is None else scales[0]
        rate = apply_resistance(rate, r0, resist, dt_days, g_i)
    if iso is None:
        return integrate(rate, dt_days, tumour.clearance_rate, tumour.m0_g_per_dL)
    assert m0 is not None
    return _integrate_patients(rate, dt_days, iso, m0, tumour)


def readout_course(
    out: np.ndarray,
    g: np.ndarray,
    d: np.ndarray,
    r0: np.ndarray,
    dt_days: float,
    tumour: TumourModel,
    iso: np.ndarray | None = None,
    m0: np.ndarray | None = None,
    scales: tuple[np.ndarray, np.ndarray] | None = None,
    resist: np.ndarray | None = None,
    *,
    num_threads: int = 1,
    backend: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`readout_course_ref` by the compiled kernel (the same bits), in `num_threads`
    OpenMP threads over the patients (0: one per CPU); ``backend="python"`` (or no compiled
    kernel): the reference."""
    if backend == "python" or not _kernels.available("_tumour"):
        return readout_course_ref(out, g, d, r0, dt_days, tumour, iso, m0, scales, resist)
    kern = _kernels.load("_tumour")
    o = np.ascontiguousarray(out, dtype=np.float64)
    R, K = o.shape[0], o.shape[1] - 1
    f64 = np.float64

    def row(x: Any) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=f64), (R,)))

    growth = row(1.0 if scales is None else scales[0])
    sens = row(1.0 if scales is None else scales[1])
    if scales is not None and not (np.all(growth > 0) and np.all(sens > 0)):
        raise InvalidInputError("scale_rates(): growth and sensitivity must be > 0")
    terms = None
    if resist is not None:
        terms = resistance_terms(r0, resist, dt_days, (R, K), growth)
    r0_res, lost = terms if terms is not None else (row(0.0), np.zeros((0, 0)))
    rate = np.empty((R, K))
    nt = int(num_threads) if int(num_threads) > 0 else (os.cpu_count() or 1)
    kern.rates(
        o, row(g), row(d), row(r0), growth, sens, scales is not None, row(r0_res),
        np.ascontiguousarray(lost, dtype=f64), terms is not None, rate, nt,
    )  # fmt: skip
    er = np.multiply(rate, dt_days)
    np.exp(er, out=er)  # NumPy's exp, as the reference
    if iso is None:
        k = float(tumour.clearance_rate)
        m_0 = float(tumour.m0_g_per_dL)
        kk, ek, s = row(k), row(math.exp(-k * dt_days)), row(k * m_0)
        start, post = row(m_0), row(1.0)
    else:
        assert m0 is not None
        kk, ek, s = np.empty(R), np.empty(R), np.empty(R)
        for name in dict.fromkeys(iso.tolist()):
            rows = iso == name
            k = math.log(2) / HALF_LIVES[name].value
            kk[rows], ek[rows], s[rows] = k, math.exp(-k * dt_days), k * 1.0
        start, post = row(1.0), row(m0)
    nb = np.empty((R, K + 1))
    mp = np.empty((R, K + 1))
    kern.integrate(rate, er, float(dt_days), kk, ek, s, start, post, nb, mp, nt)
    return nb, mp
