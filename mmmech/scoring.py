"""Synergy of a combination predicted by the model: dose grid -> simulations -> scores.

For a regimen of K drugs, every point of the full factorial dose grid (``n_1 x ... x n_K``
points, each drug's monotherapy and the untreated well included) is simulated in **one**
batched kernel call in the chosen context; the Viability readout becomes percent inhibition
against the untreated well, ``100 * (1 - V / V_untreated)``; then Bliss, HSA, Loewe and ZIP
are computed exactly as for a measured plate (:mod:`mmmech.synergy`, SynergyFinder's
conventions: positive = synergy, summary = mean over the wells where every drug is present).

**Readout: relative cell number after the assay (default).** A CellTiter-Glo plate measures the
ATP of the viable cells in each well after the assay's duration, relative to the untreated
wells, i.e. ``N(t) / N_control(t)``. With ``assay_hours=H`` (default :data:`ASSAY_HOURS`, 72 h)
the Viability of each well is that ratio, from the network's growth and death readouts with the
rate mapping of :mod:`mmmech.dynamics.tumour` (:meth:`TumourModel.rates`):

    N' = (g * Proliferation - d * (Apoptosis + ImmuneKilling)) * N
    N(H) / N_control(H) = exp(((g * (P - P0) - d * (D - D0)) * H)

with ``P0, D0`` the readouts of the untreated well (of each ensemble member) and ``g, d`` set so
the untreated culture grows with the context's doubling time (:func:`assay_model`: a myeloma
cell line's in-vitro doubling time for ``cell_line`` and patient contexts, the marrow
plasma-cell rates of :mod:`mmmech.dynamics.tumour` for ``marrow``). The drug effect is the
network's steady state, held over the assay (see ``docs/model-notes.md``: the network's time
scale is not sourced, drugs are at constant concentration in a plate). ``assay_hours=None``
(``--readout index``) gives the earlier steady-state index instead: the model's Viability node
(NOT Apoptosis AND NOT ImmuneKilling AND NOT GrowthArrest), which mixes growth arrest and death
without a time.

Default dose grid (:func:`dose_range`): zero plus five concentrations log-spaced over the
drug's own simulated monotherapy EC10-EC90 in the chosen context (the concentrations giving
10% and 90% of its maximal single-drug inhibition), found by one batched dose-ranging
simulation of every drug alone at 41 concentrations from 1e-4 to 10 times its library
reference concentration ``c_ref`` (the clinical Cmax or the usual in-vitro range). This is
how a plate is designed after a range-finding experiment: the grid covers each drug's
informative range, not its saturated plateau (proteasome inhibitors, for example, fully
occupy their target well below their Cmax). A drug with less than 5% inhibition alone in the
context (an antibody without effector cells, a glucocorticoid in a cell line) gets the 3-fold
series ``c_ref * 3**k``, ``k = -3 .. 1`` around its reference concentration instead
(:func:`default_doses`). Override either with ``doses={drug: [...]}`` (nM) or
``--doses DRUG=1nM,3nM,...``.

With an ensemble (``ensemble=M``), M parameter sets are sampled around the curated ones
(:func:`mmmech.simulation.sample_params`, keyed by the seed and by each edge, parameter and
drug, so ``mmmech score`` and ``mmmech screen`` see the same variants; set 0 is the curated
model), every grid point is simulated
under each set in the same batched call, and each summary score is reported with its ensemble
mean and a percentile interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import synergy
from ._guards import (
    check_backend,
    check_dose_list,
    check_ensemble,
    check_fraction,
    check_int,
    check_seed,
    check_simulations,
)
from ._typing import ContextLike, DrugLike, ModelLike
from .dynamics.tumour import Rate, TumourModel
from .exceptions import InvalidInputError
from .simulation.simulator import Simulator, resolve_drug, sample_params
from .synergy import _core

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from .simulation.compiled import ParamSet
    from .synergy import SynergyResult

__all__ = [
    "default_doses",
    "dose_range",
    "score",
    "score_grid",
    "ScoreResult",
    "ensemble_summary",
    "DEFAULT_DILUTION",
    "DEFAULT_POINTS",
    "ASSAY_HOURS",
    "CELL_LINE_DOUBLING_HOURS",
    "CULTURE_LOSS",
    "assay_model",
    "assay_cells",
    "check_assay_hours",
]

DEFAULT_DILUTION = 3.0
DEFAULT_POINTS = 5

#: default duration of a simulated viability assay (hours): the usual 72-h CellTiter-Glo plate
ASSAY_HOURS = 72.0
#: in-vitro (net) doubling time of myeloma cell lines, hours
CELL_LINE_DOUBLING_HOURS = Rate(
    46.5,
    "hour",
    "PMID:2506399",
    low=30.0,
    high=72.0,
    verified=False,
    note="Range of the myeloma-cell-line doubling times read (abstracts only): SK-MM-1 32 h "
    "and SK-MM-2 60 h in RPMI complete medium (Eton et al., 'Establishment and characterization "
    "of two human myeloma cell lines secreting kappa light chains', Leukemia 1989; abstract read "
    "on vivo.weill.cornell.edu, pubid2506399, taken as the PMID; not confirmed); ACB-885 and "
    "ACB-1085 30-35 h, growth fraction near 100% (abstract read on yyws.alljournals.cn, no "
    "identifier seen); EJM 72 h, labelling index 36% (Br J Haematol abstract read on "
    "scilit.com, no identifier seen). Value: the geometric mean of the range, 30 and 72 h. "
    "Doubling times of MM.1S, RPMI-8226 and U266 (ATCC, DSMZ, Cellosaurus) were searched for "
    "and not found in the texts available.",
)
#: fraction of births lost to spontaneous death in an untreated culture (modelling choice)
CULTURE_LOSS = Rate(
    0.1,
    "fraction",
    "modelling choice (docs/model-notes.md)",
    low=0.05,
    high=0.25,
    verified=False,
    note="No source was found for the spontaneous death rate of myeloma lines in culture. It "
    "sets the death scale: the untreated culture's Apoptosis readout stands for this loss, so "
    "d = birth * loss / (A0 + IK0) (TumourModel.rates). 0.1 (10% of births) is a modelling "
    "choice; docs/model-notes.md reports the validation at 0.05 and 0.25.",
)


def check_assay_hours(hours: Any, func: str) -> float | None:
    """`hours` as a float > 0 (at most 30 days), or None (the steady-state index)."""
    if hours is None:
        return None
    if isinstance(hours, bool) or not isinstance(hours, (int, float)):
        raise InvalidInputError(
            f"{func}(): assay_hours must be a number of hours > 0 or None, got {hours!r}"
        )
    h = float(hours)
    if not (math.isfinite(h) and 0 < h <= 720):
        raise InvalidInputError(
            f"{func}(): assay_hours must be > 0 and at most 720 (30 days), got {hours!r}"
        )
    return h


def _is_marrow(context: Any) -> bool:
    names = {str(getattr(context, "name", context))}
    names.update(str(p) for p in getattr(context, "parts", ()) or ())
    return any(n == "marrow" or n.split("+")[0] == "marrow" for n in names)


def assay_model(context: Any = "cell_line", loss: float | None = None) -> TumourModel:
    """Growth and death scales of an in-vitro assay in `context`, as a
    :class:`~mmmech.dynamics.tumour.TumourModel` (rates per day).

    ``marrow`` (a context named so, or composed with it): the marrow plasma-cell rates of
    :mod:`mmmech.dynamics.tumour` (birth ln 2 / 46.8 d, net ln 2 / 182.6 d). Any other context
    (``cell_line``, patient genotypes, user files): a myeloma cell line in culture, net growth
    ``ln 2 / CELL_LINE_DOUBLING_HOURS`` and birth ``net / (1 - loss)`` (`loss` default
    :data:`CULTURE_LOSS`).

    Examples
    --------
    >>> m = assay_model("cell_line")
    >>> round(math.log(2) / m.net_rate * 24, 1)  # doubling time, hours
    46.5
    >>> round(assay_model("marrow").net_rate, 5)
    0.0038
    """
    if _is_marrow(context):
        return TumourModel()
    lo = CULTURE_LOSS.value if loss is None else float(loss)
    if not (0 < lo < 1):
        raise InvalidInputError(f"assay_model(): loss must be in (0, 1), got {loss!r}")
    net = math.log(2) / (CELL_LINE_DOUBLING_HOURS.value / 24.0)
    return TumourModel(birth_rate=net / (1.0 - lo), net_rate=net)


def _death(readouts: Mapping[str, np.ndarray]) -> np.ndarray:
    d = np.asarray(readouts["apoptosis"], dtype=float)
    if "immune_killing" in readouts:
        d = d + np.asarray(readouts["immune_killing"], dtype=float)
    return d


def assay_cells(
    readouts: Mapping[str, np.ndarray],
    hours: float,
    model: TumourModel,
    untreated: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Relative cell number ``N(hours) / N_control(hours)`` of every well.

    Parameters
    ----------
    readouts : mapping with "proliferation", "apoptosis" (and "immune_killing") arrays (M, G)
        Steady-state readouts of M parameter sets (or cell variants) over G wells.
    hours : float
        Assay duration.
    model : TumourModel
        From :func:`assay_model`.
    untreated : mapping of arrays (M,), optional
        Readouts of the untreated culture setting the scales ``g, d`` and the control growth
        (default: well 0 of each row).

    Returns
    -------
    ndarray (M, G): ``exp((g (P - P0) - d (D - D0)) * hours / 24)``, 1 for the untreated well.

    Examples
    --------
    >>> r = {"proliferation": np.array([[1.0, 0.5]]), "apoptosis": np.array([[0.02, 0.02]])}
    >>> m = assay_model("cell_line")
    >>> v = assay_cells(r, 72.0, m)
    >>> float(v[0, 0]), round(float(v[0, 1]), 3)  # half the birth rate for 72 h
    (1.0, 0.551)
    """
    for k in ("proliferation", "apoptosis"):
        if k not in readouts:
            raise InvalidInputError(
                f"assay_cells(): the model has no {k!r} readout; the cell-number readout needs "
                f"proliferation and apoptosis (use the steady-state index: assay_hours=None)"
            )
    P = np.atleast_2d(np.asarray(readouts["proliferation"], dtype=float))
    D = np.atleast_2d(_death(readouts))
    if untreated is None:
        p0, d0 = P[:, 0], D[:, 0]
    else:
        p0 = np.asarray(untreated["proliferation"], dtype=float).reshape(-1)
        d0 = _death(untreated).reshape(-1)
    out = np.empty_like(P)
    days = float(hours) / 24.0
    for m in range(P.shape[0]):
        try:
            g, d = model.rates(float(p0[m]), float(d0[m]))
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"assay_cells(): {exc} (the untreated culture must grow and die to set the "
                f"cell-number readout; use the steady-state index: assay_hours=None, "
                f"--readout index)"
            ) from None
        out[m] = np.exp((g * (P[m] - p0[m]) - d * (D[m] - d0[m])) * days)
    return out


def default_doses(
    drug: DrugLike, points: int = DEFAULT_POINTS, dilution: float = DEFAULT_DILUTION
) -> np.ndarray:
    """Default dose series of a drug in nM: 0 and `points` concentrations ``c_ref * dilution**k``
    with ``k = -(points - 2) .. 1`` (see the module docstring).

    Examples
    --------
    >>> d = default_doses("bortezomib")
    >>> float(d[0]), len(d)
    (0.0, 6)
    """
    d = resolve_drug(drug)
    ref = math.nan if d.reference_nM is None else float(d.reference_nM)
    if not (ref > 0 and math.isfinite(ref)):
        raise InvalidInputError(
            f"default_doses(): {d.name!r} has no usable reference "
            f"concentration ({ref!r}); give its doses explicitly"
        )
    ks = np.arange(-(points - 2), 2, dtype=float)
    return np.concatenate([[0.0], ref * dilution**ks])


RANGE_POINTS = 41  # dose-ranging simulation: concentrations per drug
RANGE_SPAN = (1e-4, 10.0)  # ... from 1e-4 to 10 x the reference concentration
RANGE_LEVELS = (0.1, 0.9)  # grid from EC10 to EC90 of the monotherapy curve
MIN_EFFECT = 5.0  # percent inhibition below which a drug is "inactive alone"


def dose_range(
    simulator: Simulator,
    points: int = DEFAULT_POINTS,
    readout: str = "viability",
    backend: str = "auto",
    assay_hours: float | None = ASSAY_HOURS,
) -> list[np.ndarray]:
    """Default dose grids of the simulator's drugs from a dose-ranging simulation.

    Parameters
    ----------
    simulator : mmmech.model.Simulator
        With the drugs attached (in the context that will be scored).
    points : int
        Non-zero concentrations per drug (default 5).
    assay_hours : float or None
        The Viability readout is the relative cell number after this many hours (default 72);
        None: the steady-state index (see :func:`score_grid`).

    Returns
    -------
    list of ndarray
        One dose series per drug (nM), each starting with 0 (see the module docstring).
    """
    drugs = simulator.drugs
    D = len(drugs)
    refs = np.array([math.nan if d.reference_nM is None else float(d.reference_nM) for d in drugs])
    for d, r in zip(drugs, refs, strict=True):
        if not (r > 0 and math.isfinite(r)):
            raise InvalidInputError(
                f"score(): {d.name!r} has no usable reference concentration "
                f"({r!r}); give its doses explicitly"
            )
    scan = np.geomspace(RANGE_SPAN[0], RANGE_SPAN[1], RANGE_POINTS)
    conc = np.zeros((1 + D * RANGE_POINTS, D))
    for k in range(D):
        conc[1 + k * RANGE_POINTS : 1 + (k + 1) * RANGE_POINTS, k] = refs[k] * scan
    res = simulator.run(conc, backend=backend)
    v = _response(simulator, res.readouts, readout, assay_hours, 1)[0]
    if not v[0] > 0:
        raise InvalidInputError(
            f"score(): the untreated {readout} is 0 in this context, so inhibition is undefined"
        )
    inhib = 100.0 * (1.0 - v[1:].reshape(D, RANGE_POINTS) / v[0])
    grids = []
    for k, d in enumerate(drugs):
        curve = np.maximum.accumulate(inhib[k])  # monotone envelope for the level search
        top = curve[-1]
        if top < MIN_EFFECT:
            grids.append(default_doses(d, points))
            continue
        c = refs[k] * scan
        lo = np.interp(RANGE_LEVELS[0] * top, curve, np.log(c))
        hi = np.interp(RANGE_LEVELS[1] * top, curve, np.log(c))
        if hi - lo < np.log(9.0):  # very steep curve: at least 3-fold spacing
            mid = 0.5 * (lo + hi)
            lo, hi = mid - np.log(9.0), mid + np.log(9.0)
        grids.append(np.concatenate([[0.0], np.exp(np.linspace(lo, hi, points))]))
    return grids


def _check_dose_list(name: str, values: Sequence[float], func: str) -> np.ndarray:
    return check_dose_list(name, values, func)


def ensemble_summary(
    values: npt.ArrayLike, interval: float, metric: str
) -> tuple[dict[str, float | int], str | None]:
    """Ensemble mean and central percentile interval of one metric's summary scores.

    The one summary used by :func:`score` and :func:`mmmech.screen`. Members whose score is
    undefined (not finite: a failed curve fit, an undefined expectation) are left out and
    counted, with a note; when no member is defined, mean and interval are NaN.

    Parameters
    ----------
    values : sequence of float
        The metric's summary score under each parameter set (set 0 = curated).
    interval : float in (0, 1)
        Coverage of the central percentile interval (0.9: 5th to 95th percentile).
    metric : str
        Metric name, for the note.

    Returns
    -------
    summary : dict
        ``{"mean", "low", "high", "members", "undefined"}`` (``members``: parameter sets scored,
        ``undefined``: how many of them were left out).
    note : str or None

    Examples
    --------
    >>> s, note = ensemble_summary([1.0, 2.0, float("nan"), 3.0], 0.5, "bliss")
    >>> s["mean"], s["low"], s["high"], s["members"], s["undefined"]
    (2.0, 1.5, 2.5, 4, 1)
    >>> note
    'bliss is undefined for 1 of 4 ensemble members; mean and interval use the others'
    """
    s = np.asarray(values, dtype=float).ravel()
    ok = s[np.isfinite(s)]
    lo_q, hi_q = 50.0 * (1.0 - interval), 50.0 * (1.0 + interval)
    note = None
    if ok.size < s.size:
        note = (
            f"{metric} is undefined for {s.size - ok.size} of {s.size} ensemble members; "
            f"mean and interval use the others"
        )
    if ok.size:
        mean, low, high = (
            float(ok.mean()),
            float(np.percentile(ok, lo_q)),
            float(np.percentile(ok, hi_q)),
        )
    else:
        mean = low = high = float("nan")
    return (
        {
            "mean": mean,
            "low": low,
            "high": high,
            "members": int(s.size),
            "undefined": int(s.size - ok.size),
        },
        note,
    )


@dataclass
class ScoreResult:
    """Model-predicted synergy of one combination (see :func:`score`).

    ``to_dict()`` gives the JSON of ``mmmech score --json`` (INTERFACE.md).
    """

    drugs: tuple[str, ...]
    context: str
    readout: str
    doses: tuple[np.ndarray, ...]
    viability: np.ndarray  # grid of the Viability readout (curated parameters)
    inhibition: np.ndarray  # percent inhibition grid
    synergy: SynergyResult  # curated parameters
    effect: dict[str, float]
    converged: bool
    #: {metric: {"mean", "low", "high", "members", "undefined"}}
    ensemble: dict[str, dict[str, float | int]] | None = None
    notes: list[str] = field(default_factory=list)
    #: with an ensemble: {metric: ndarray (M,)} summary score under each parameter set (set 0 =
    #: the curated model), behind the means and intervals of `ensemble`
    member_scores: dict[str, np.ndarray] | None = None
    #: assay duration (h) of the relative-cell-number readout; None: the steady-state index
    assay_hours: float | None = ASSAY_HOURS
    #: growth/death scales of the assay (None with the index)
    assay: TumourModel | None = None

    @property
    def scores(self) -> dict[str, float]:
        return self.synergy.scores

    def _assay_dict(self) -> dict[str, Any]:
        if self.assay_hours is None or self.readout != "viability":
            return {"response": "index", "hours": None}
        m = self.assay
        out: dict[str, Any] = {"response": "cells", "hours": float(self.assay_hours)}
        if m is not None:
            out["doubling_hours"] = 24.0 * math.log(2) / m.net_rate
            out["birth_doubling_hours"] = 24.0 * math.log(2) / m.birth_rate
        return out

    def to_dict(self, matrices: bool = False) -> dict[str, Any]:
        syn = self.synergy
        out: dict[str, Any] = {
            "drugs": list(self.drugs),
            "context": self.context,
            "readout": self.readout,
            "units": {
                "doses": "nM",
                "scores": "percent inhibition (observed - expected); "
                "positive = synergy, negative = antagonism",
                "effect": "fractional inhibition of viability (0 = none, 1 = no viable cells)",
            },
            "doses": {
                d: np.asarray(x).tolist() for d, x in zip(self.drugs, self.doses, strict=False)
            },
            "scores": {m: float(v) for m, v in syn.scores.items()},
            "effect": self.effect,
            "most_synergistic_area": syn.most_synergistic_area,
            "converged": bool(self.converged),
            "notes": list(self.notes) + list(syn.notes),
            "assay": self._assay_dict(),
        }
        if self.ensemble is not None:
            out["ensemble"] = self.ensemble
            out["intervals"] = {m: [e["low"], e["high"]] for m, e in self.ensemble.items()}
        if matrices:
            out["viability"] = self.viability.tolist()
            out["inhibition"] = self.inhibition.tolist()
            out["matrices"] = {m: v.tolist() for m, v in syn.matrices.items()}
        return out


def _response(
    simulator: Simulator,
    readouts: Mapping[str, np.ndarray],
    readout: str,
    assay_hours: float | None,
    M: int,
) -> np.ndarray:
    """The scored response (M, G): relative cell number (viability with a duration) or the
    steady-state readout."""
    if readout not in readouts:
        raise InvalidInputError(
            f"score(): the model has no readout {readout!r}; it has {sorted(readouts)}"
        )
    if readout != "viability" or assay_hours is None:
        return np.asarray(readouts[readout], dtype=float).reshape(M, -1)
    rows = {k: np.asarray(v, dtype=float).reshape(M, -1) for k, v in readouts.items()}
    return assay_cells(rows, assay_hours, assay_model(simulator.context))


def score_grid(
    simulator: Simulator,
    doses: Sequence[Sequence[float] | np.ndarray],
    params: ParamSet | None = None,
    readout: str = "viability",
    backend: str = "auto",
    assay_hours: float | None = ASSAY_HOURS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate a full factorial dose grid for every parameter set in one batched call.

    Parameters
    ----------
    simulator : mmmech.model.Simulator
        With the K drugs attached (columns in the order of `doses`).
    doses : list of K 1-D arrays (nM, first entry 0)
    params : EnsembleParams or ParamSet with M sets, optional
    readout : str
        The readout turned into inhibition (default "viability").
    assay_hours : float or None
        With the "viability" readout: relative cell number after this many hours
        (:func:`assay_cells`, default 72); None: the steady-state Viability index. Other
        readouts are always their steady-state value.

    Returns
    -------
    viability : ndarray (M, n_1, ..., n_K)
    inhibition : ndarray (M, n_1, ..., n_K), percent against the untreated well of each set
    converged : ndarray (M, n_1, ..., n_K) of bool
    """
    shape = tuple(len(d) for d in doses)
    check_simulations(
        shape,
        1 if params is None else params.w.shape[0],
        "score_grid",
        "use fewer drugs, fewer doses per drug or fewer parameter sets",
    )
    mesh = np.meshgrid(*doses, indexing="ij")
    conc = np.stack([m.ravel() for m in mesh], axis=1)  # (G, K)
    G = conc.shape[0]
    M = 1 if params is None else params.w.shape[0]
    conc_all = np.tile(conc, (M, 1))
    pidx = None if params is None else np.repeat(np.arange(M), G)
    res = simulator.run(conc_all, backend=backend, params=params, param_index=pidx)
    if readout not in res.readouts:
        raise InvalidInputError(
            f"score(): the model has no readout {readout!r}; it has {sorted(res.readouts)}"
        )
    v = _response(simulator, res.readouts, readout, assay_hours, M).reshape((M,) + shape)
    conv = res.converged.reshape((M,) + shape)
    v0 = v.reshape(M, -1)[:, 0].reshape((M,) + (1,) * len(shape))  # untreated well
    if np.any(v0 <= 0):
        raise InvalidInputError(
            f"score(): the untreated {readout} is 0 in this context, so inhibition is undefined"
        )
    inhib = 100.0 * (1.0 - v / v0)
    return v, inhib, conv


def score(
    drugs: Sequence[DrugLike],
    model: ModelLike = "myeloma",
    context: ContextLike = "cell_line",
    doses: Mapping[str, Sequence[float]] | None = None,
    metrics: str | Sequence[str] = "all",
    knockouts: Sequence[str] = (),
    settings: Mapping[str, float] | None = None,
    mutations: Sequence[Any] = (),
    readout: str = "viability",
    ensemble: int = 0,
    seed: int = 0,
    backend: str = "auto",
    interval: float = 0.9,
    points: int = DEFAULT_POINTS,
    levels: Mapping[str, float] | None = None,
    assay_hours: float | None = ASSAY_HOURS,
) -> ScoreResult:
    """Model-predicted synergy of a drug combination.

    Parameters
    ----------
    drugs : sequence of K >= 2 drug names (or Drug objects), all different
    model : PathwayModel, bundled name or path
    context : "cell_line", "marrow", a context file, or a list of them composed in order
    doses : mapping drug -> sequence of nM, optional
        Dose series per drug (0 is added when missing); others get :func:`default_doses`.
    metrics : "all" or a metric name or a sequence of them (bliss, hsa, loewe, zip)
    knockouts, settings, mutations, levels : as in :func:`mmmech.simulate`
    readout : str
        Readout to score (default "viability").
    ensemble : int
        0 (or 1): the curated model only; M > 1: M sampled parameter sets (set 0 is curated),
        with ensemble means and `interval` percentile intervals of each summary score
        (:func:`ensemble_summary`: members whose score is undefined are left out, with a note).
    seed : int >= 0
        Seed of the ensemble sampling.
    backend : {"auto", "cython", "python"}
    interval : float in (0, 1)
        Coverage of the ensemble's central percentile interval (default 0.9).
    points : int >= 3
        Non-zero concentrations per drug in the default grid (default 5).
    assay_hours : float or None
        Duration of the simulated viability assay: the Viability response is the relative cell
        number after this many hours (default 72, a CellTiter-Glo plate; module docstring).
        None: the steady-state Viability index of earlier versions.

    Limits: dose-grid points x ensemble members may not exceed
    ``mmmech._guards.MAX_SIMULATIONS`` (100,000: about 0.6 GiB and 35 s of one core); a larger
    request is refused before anything is allocated, saying how to reduce it.

    Returns
    -------
    ScoreResult

    Examples
    --------
    >>> r = score(["bortezomib", "lenalidomide"], context="marrow")   # doctest: +SKIP
    >>> sorted(r.scores)                                              # doctest: +SKIP
    ['bliss', 'hsa', 'loewe', 'zip']
    """
    func = "score"
    if isinstance(drugs, str) or not hasattr(drugs, "__iter__"):
        raise InvalidInputError(
            f"{func}(): drugs must be a list of at least two drug names, got {drugs!r}"
        )
    drug_objs = [resolve_drug(d) for d in drugs]
    names = [d.name for d in drug_objs]
    if len(names) < 2:
        raise InvalidInputError(f"{func}(): a combination needs at least two drugs, got {names}")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError(f"{func}(): each drug may appear once, got {dup} more than once")
    metrics = synergy.check_metrics(metrics, func)
    doses = dict(doses or {})
    by_name = {}
    for key, vals in doses.items():
        d = resolve_drug(key)
        if d.name not in names:
            raise InvalidInputError(
                f"{func}(): doses given for {d.name!r}, which is not in the combination {names}"
            )
        by_name[d.name] = _check_dose_list(d.name, vals, func)
    ens = check_ensemble(ensemble, func)
    seed = check_seed(seed, func)
    interval = check_fraction(interval, func, "interval")
    points = check_int(
        points,
        func,
        "points",
        minimum=3,
        what="non-zero concentrations per drug in the default grid",
    )
    backend = check_backend(backend, func)
    assay_hours = check_assay_hours(assay_hours, func)
    # refuse a grid x ensemble too large for memory and time before allocating anything
    check_simulations(
        [len(by_name[n]) if n in by_name else points + 1 for n in names],
        ens if ens > 1 else 1,
        func,
        "use fewer drugs, fewer doses per drug (points=, --points, or shorter "
        "doses=/--doses lists) or a smaller ensemble (ensemble=, --ensemble); "
        "the limit is mmmech._guards.MAX_SIMULATIONS",
    )
    sim = Simulator(
        model,
        drug_objs,
        context=context,
        knockouts=knockouts,
        settings=settings,
        mutations=mutations,
        levels=levels,
    )
    auto = (
        []
        if len(by_name) == len(names)
        else dose_range(
            sim, points=points, readout=readout, backend=backend, assay_hours=assay_hours
        )
    )
    grid = [by_name[n] if n in by_name else auto[k] for k, n in enumerate(names)]
    params = sample_params(sim, ens, seed=seed, spread=0.2) if ens > 1 else None
    v, inhib, conv = score_grid(
        sim, grid, params=params, readout=readout, backend=backend, assay_hours=assay_hours
    )
    notes = list(getattr(sim, "notes", []) or [])
    cells = readout == "viability" and assay_hours is not None
    assay = assay_model(sim.context) if cells else None
    if assay is not None:
        td = 24.0 * math.log(2) / assay.net_rate
        kind = "marrow plasma-cell rates" if _is_marrow(sim.context) else "myeloma cell line"
        notes.append(
            f"viability = relative cell number after {assay_hours:g} h (N/N_control, as a "
            f"CellTiter-Glo plate); untreated doubling {td:.3g} h ({td / 24.0:.3g} d, {kind}); "
            f"steady-state drug effect held over the assay"
        )
    converged = bool(conv.all())
    if not converged:
        notes.append(
            f"{int((~conv).sum())} of {conv.size} simulations did not reach steady "
            f"state; their scores rest on the last state reached"
        )
    syn = synergy.score_surface(grid, inhib[0], metrics=metrics, drugs=names)
    idx_top = tuple(len(g) - 1 for g in grid)
    effect = {"combination": float(inhib[0][idx_top] / 100.0)}
    for k, n in enumerate(names):
        idx = [0] * len(names)
        idx[k] = len(grid[k]) - 1
        effect[n] = float(inhib[0][tuple(idx)] / 100.0)
    ens_out = member_scores = None
    if params is not None:
        out = _core.score_batch(grid, inhib, metrics)
        ens_out = {}
        member_scores = {m: np.asarray(out.summary[m], dtype=float).copy() for m in metrics}
        for m in metrics:
            ens_out[m], note = ensemble_summary(out.summary[m], interval, m)
            if note:
                notes.append(note)
    return ScoreResult(
        drugs=tuple(names),
        context=sim.context.name,
        readout=readout,
        doses=tuple(grid),
        viability=v[0],
        inhibition=inhib[0],
        synergy=syn,
        effect=effect,
        converged=converged,
        ensemble=ens_out,
        notes=notes,
        member_scores=member_scores,
        assay_hours=assay_hours if cells else None,
        assay=assay,
    )
