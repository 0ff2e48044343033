"""In-vitro pulse (washout) assays in time: a drug for a few hours, then drug-free medium.

Proteasome inhibitors reach myeloma cells in patients as short pulses (bortezomib's plasma
distribution half-life is minutes), so the experiments that speak to the clinic expose cells for
about an hour and wash the drug out (Demo et al. 2007, DOI:10.1158/0008-5472.CAN-06-4086:
"brief treatments that mimic the in vivo pharmacokinetics"; Shabaneh et al. 2013,
DOI:10.1371/journal.pone.0056132: "clinically relevant bolus treatment"). The steady-state
assay of :mod:`mmmech.scoring` holds the drug for the whole assay; :func:`pulse_assay` gives the
same readout, relative cell number ``N(H) / N_control(H)`` after ``H`` hours, for a pulse:

- concentration ``c`` for ``exposure_h`` hours, then 0 (the medium is replaced);
- drug-target pairs with curated binding kinetics (:mod:`mmmech.dynamics.kinetics`) keep their
  occupancy after the washout as their dissociation (reversible) or target recovery (covalent)
  allows; every other target follows the concentration at once (back to 0 at the washout);
- the network runs in time (:func:`mmmech.dynamics._course.network_course`, the course kernel of
  :func:`~mmmech.dynamics.simulate_regimens`) from the untreated steady state;
- cells grow and die with the growth and death readouts and the rate scales of `assay`
  (a :class:`~mmmech.dynamics.tumour.TumourModel`; :func:`mmmech.scoring.assay_model` gives the
  culture's, e.g. ``assay_model("cell_line")``, a myeloma line doubling in about 46 h):
  ``log(N / N_control) = integral of (g (P - P0) - d (D - D0)) dt``.

Continuous exposure (``exposure_h >= hours``) differs from the steady-state assay of
:mod:`mmmech.scoring` only by the network's own transients at the start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import drugs as _drugs
from ..exceptions import ConvergenceError, InvalidInputError
from ..simulation import propagate
from ..simulation.simulator import Simulator
from ._course import network_course
from .kinetics import kinetic_columns, occupancy_course
from .tumour import TumourModel

__all__ = ["PulseResult", "pulse_assay"]

HOURS_PER_MODEL_TIME = 1.0  # as mmmech.dynamics.regimen (not imported: regimen imports widely)


@dataclass(frozen=True)
class PulseResult:
    """Result of :func:`pulse_assay` (arrays on the step edges, hours 0 .. H)."""

    drug: str
    conc_nM: float
    exposure_h: float
    hours: float
    viability: float  # N(H) / N_control(H)
    hour: np.ndarray
    log_ratio: np.ndarray  # log(N / N_control) at each edge
    apoptosis: np.ndarray  # Apoptosis (+ ImmuneKilling) readout at each edge
    proliferation: np.ndarray
    occupancy: dict[str, np.ndarray]  # target -> occupancy at each edge (kinetic targets)
    # record_nodes -> activity at each edge
    nodes: dict[str, np.ndarray] = field(default_factory=dict)


def _positive(x: Any, name: str, func: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): {name} must be a number > 0, got {x!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise InvalidInputError(f"{func}(): {name} must be a number > 0, got {x!r}")
    return v


def pulse_assay(
    drug: str,
    conc_nM: float,
    exposure_h: float,
    assay: TumourModel,
    *,
    hours: float = 72.0,
    context: Any = "cell_line",
    model: Any = "myeloma",
    step_hours: float = 0.25,
    binding_kinetics: bool = True,
    backend: str = "auto",
    record_nodes: Sequence[str] = (),
) -> PulseResult:
    """Relative cell number after a `exposure_h`-hour pulse of `drug` at `conc_nM`, read at
    `hours` (module docstring).

    Parameters
    ----------
    drug : str
        A library drug.
    conc_nM : float
        Concentration in the medium during the pulse (nM, > 0).
    exposure_h : float
        Pulse length (h, > 0); ``>= hours`` is continuous exposure.
    assay : TumourModel
        Growth and death scales of the culture (:func:`mmmech.scoring.assay_model`).
    hours : float
        Assay duration (h), default 72.
    context, model :
        As :class:`~mmmech.simulation.simulator.Simulator` (default ``cell_line``).
    step_hours : float
        Grid of held inputs (h), default 0.25; the pulse's end is placed exactly on it.
    binding_kinetics : bool
        False: every target follows the concentration at once (no retained occupancy).
    record_nodes : sequence of str
        Network nodes whose activity is returned at each edge (``PulseResult.nodes``), e.g.
        ``("PMAIP1", "DDIT3")`` for the timing of the stress response; default none.

    Returns
    -------
    PulseResult
    """
    func = "pulse_assay"
    _drugs.get(drug)  # unknown names: one line with close matches
    c = _positive(conc_nM, "conc_nM", func)
    t_exp = _positive(exposure_h, "exposure_h", func)
    H = _positive(hours, "hours", func)
    dt = _positive(step_hours, "step_hours", func)
    if not isinstance(assay, TumourModel):
        raise InvalidInputError(
            f"{func}(): assay must be a TumourModel (mmmech.scoring.assay_model(...)), got "
            f"{type(assay).__name__}"
        )
    t_exp = min(t_exp, H)
    # a grid with the washout on an edge
    n_exp = max(1, int(math.ceil(t_exp / dt - 1e-9)))
    dt_exp = t_exp / n_exp
    n_rest = int(math.ceil((H - t_exp) / dt - 1e-9)) if H > t_exp else 0
    dt_rest = (H - t_exp) / n_rest if n_rest else 0.0
    widths = np.array([dt_exp] * n_exp + [dt_rest] * n_rest)
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    K = len(widths)
    conc = np.where(np.arange(K) < n_exp, c, 0.0)

    sim = Simulator(model, [drug], context=context)
    cm = sim.compiled
    mask, value = sim.fixed_arrays(conc[:, None])
    occ: dict[str, np.ndarray] = {}
    if binding_kinetics:
        free = getattr(sim, "_col_free", None)
        for kc in kinetic_columns(sim.columns):
            if free is not None and not bool(free[kc.column]):
                continue
            # exact per interval; the pulse and the rest have their own widths
            e1, m1 = occupancy_course(
                conc[None, :n_exp],
                dt_exp,
                kc.K,
                kc.kinetics.half_life_h,
                kc.hill,
                kinetics=kc.kinetics,
            )
            end, mean = e1[0], m1[0]
            if n_rest:
                e2, m2 = occupancy_course(
                    conc[None, n_exp:],
                    dt_rest,
                    kc.K,
                    kc.kinetics.half_life_h,
                    kc.hill,
                    theta0=e1[0, -1],
                    kinetics=kc.kinetics,
                )
                end = np.concatenate([end, e2[0]])
                mean = np.concatenate([mean, m2[0]])
            value[:, cm.index(kc.node)] = mean
            occ.setdefault(kc.target, np.concatenate([[0.0], end]))
    zero_mask, zero_value = sim.fixed_arrays(np.zeros((1, 1)))
    ss = propagate.steady_state(cm, zero_mask, zero_value, backend=backend, max_steps=100000)
    if not bool(np.all(ss.converged)):
        raise ConvergenceError(f"{func}(): the untreated network did not reach a steady state")
    ro = cm.readouts
    for k in ("proliferation", "apoptosis"):
        if k not in ro:
            raise InvalidInputError(f"{func}(): model has no {k} readout")
    cols = [ro["proliferation"], ro["apoptosis"]] + (
        [ro["immune_killing"]] if "immune_killing" in ro else []
    )
    n_ro = len(cols)
    if isinstance(record_nodes, str):
        record_nodes = (record_nodes,)
    for name in record_nodes:
        cols.append(cm.index(str(name)))  # unknown names: UnknownNodeError with close matches
    N = np.empty((K + 1, len(record_nodes)))
    y0 = np.asarray(ss.y)
    P = np.empty(K + 1)
    D = np.empty(K + 1)
    P[0] = y0[0, cols[0]]
    D[0] = float(np.sum(y0[0, cols[1:n_ro]]))
    N[0] = y0[0, cols[n_ro:]]
    varying = np.nonzero(np.any(value != value[:1], axis=0))[0]
    # the course kernel takes one interval length: run the pulse and the rest separately
    y = y0
    k0 = 0
    for n, w in ((n_exp, dt_exp), (n_rest, dt_rest)):
        if n == 0:
            continue
        vals = value[k0 : k0 + n]
        out, yend, _ok, _ = network_course(
            cm,
            np.ascontiguousarray(mask[:1]),
            np.ascontiguousarray(vals[:1]),
            y,
            varying,
            np.ascontiguousarray(vals[None][:, :, varying]),
            w / HOURS_PER_MODEL_TIME,
            np.asarray(cols, dtype=np.int64),
            backend=backend,
        )
        out = np.asarray(out)[0]  # (n + 1, len(cols))
        P[k0 + 1 : k0 + n + 1] = out[1:, 0]
        D[k0 + 1 : k0 + n + 1] = out[1:, 1:n_ro].sum(axis=1)
        N[k0 + 1 : k0 + n + 1] = out[1:, n_ro:]
        y = np.asarray(yend)
        k0 += n
    p0, d0 = float(P[0]), float(D[0])
    g, dscale = assay.rates(p0, d0)
    rate = g * (0.5 * (P[1:] + P[:-1]) - p0) - dscale * (0.5 * (D[1:] + D[:-1]) - d0)
    log_ratio = np.concatenate([[0.0], np.cumsum(rate * widths / 24.0)])
    return PulseResult(
        drug=drug,
        conc_nM=c,
        exposure_h=t_exp,
        hours=H,
        viability=float(math.exp(log_ratio[-1])),
        hour=edges,
        log_ratio=log_ratio,
        apoptosis=D,
        proliferation=P,
        occupancy=occ,
        nodes={name: N[:, j].copy() for j, name in enumerate(record_nodes)},
    )
