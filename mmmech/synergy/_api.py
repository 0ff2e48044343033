"""Synergy scores of drug combinations: Bliss, HSA, Loewe and ZIP, as SynergyFinder computes them.

Works on simulated surfaces (arrays) and on measured plates (SynergyFinder's long table).

Conventions (SynergyFinder 3; Ianevski et al. 2022, Nucleic Acids Res 50:W739,
doi:10.1093/nar/gkac382, and its R package ``synergyfinder``):

- Responses are **percent inhibition** (0 = no effect, 100 = no viable cells). Viability is
  converted only when asked: ``response_kind="viability"`` gives ``inhibition = 100 -
  viability``. Nothing is guessed from the numbers.
- A score is observed minus expected inhibition: **positive = synergy**, negative = antagonism.
- Wells where at most one drug is present score 0 (expectation = observation).
- The **summary score** of a metric is the mean over the wells where every drug is present
  (dose > 0).
- The **most synergistic area** is the window of 3 consecutive doses per drug (3x3 for two
  drugs, 3x3x3 for three ...) with the largest mean score, slid over the whole grid, the
  zero-dose rows and columns included (as SynergyFinder's web application does).

The four expectations (``y_k`` is drug k's monotherapy response at its dose in the well):

- **HSA**: ``max_k y_k`` on the observed monotherapies.
- **Bliss**: ``100 * (1 - prod_k (1 - y_k / 100))`` on the observed monotherapies (the control
  well is drug k's "monotherapy" at dose 0, which matters for wells where some drugs are
  absent in three-drug grids).
- **Loewe**: the effect ``y`` solving ``sum_k d_k / D_k(y) = 1`` on the fitted monotherapy
  curves, ``D_k(y)`` being the dose of drug k alone that gives ``y``. Beyond a drug's fitted
  maximum that drug cannot reach ``y`` alone, so ``D_k = inf`` and its term is 0 (below its
  minimum ``D_k = 0``); this is SynergyFinder's ``.SolveExpDose`` convention. When the
  observed combination effect exceeds *every* drug's fitted maximum, SynergyFinder takes as
  expectation the largest single-drug effect at the summed dose ``max_k f_k(sum_j d_j)``
  (doses added as numbers, in the units given); mmmech does the same, and says so in
  :attr:`SynergyResult.notes`. By default (``fit="synergyfinder"``) the effect is the best of
  SynergyFinder's 100 effect levels; with ``fit="robust"`` the equation is solved to 1e-10 of
  the effect range.
- **ZIP** (Yadav et al. 2015, Comput Struct Biotechnol J 13:504,
  doi:10.1016/j.csbj.2015.09.001): the expectation is Bliss on the *fitted* monotherapy
  curves; the "observed" side is, for every drug k, a log-logistic curve fitted along drug k
  at each fixed dose of the other drugs with its zero-dose response fixed at the *observed*
  response there (the other drugs' observed effect), and the K fitted values of a well are
  averaged (SynergyFinder 3's ``ZIP``).

Curves are four-parameter log-logistic (:class:`LogLogistic`). By default
(``fit="synergyfinder"``) they are fitted as SynergyFinder fits them (drc's ``LL.4`` from its
self-starting values with R's BFGS, :mod:`mmmech.synergy._sf`), so ZIP and Loewe equal
SynergyFinder 3's numbers; ``fit="robust"`` uses mmmech's bounded multi-start
Levenberg-Marquardt (:mod:`mmmech.synergy._fit`): better least squares, not SynergyFinder's
numbers. Plates with replicates get SynergyFinder's bootstrap by default
(``replicates="synergyfinder"``) or the mean surface (``replicates="mean"``).
docs/synergy.md states what matches SynergyFinder and to what tolerance.

Examples
--------
>>> import numpy as np
>>> d1, d2 = np.array([0, 1, 3, 10.]), np.array([0, 2, 6, 20.])
>>> y1, y2 = 100 * d1 / (d1 + 3), 100 * d2 / (d2 + 6)
>>> bliss = 100 * (1 - (1 - y1[:, None] / 100) * (1 - y2[None, :] / 100))
>>> r = score_surface([d1, d2], bliss, metrics=("bliss", "hsa"))
>>> round(r.scores["bliss"], 9), r.scores["hsa"] > 0
(0.0, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .._guards import check_backend
from .._results import MATRICES_DEFAULT, Result
from .._typing import PathLike, SeedLike
from ..exceptions import InvalidInputError
from ..utils import check_random_state, did_you_mean
from ._core import FITS, METRICS, score_batch
from ._core import most_synergistic_area as _msa
from ._fit import FitBatch, LogLogistic, decode_flags, fit_batch, fit_one
from ._sf import SF_BOOT_ITER, SF_BOOT_SEED, r_bootstrap_surfaces

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    import pandas as pd
    from numpy.typing import ArrayLike

__all__ = [
    "METRICS",
    "FITS",
    "REPLICATES",
    "check_metrics",
    "SynergyResult",
    "LogLogistic",
    "FitBatch",
    "score_surface",
    "score_table",
    "score_blocks",
    "read_plate",
    "fit_loglogistic",
    "fit_loglogistic_batch",
    "most_synergistic_area",
]

RESPONSE_KINDS = ("inhibition", "viability")
# treatment of replicate wells: SynergyFinder's bootstrap (its default) or mmmech's mean surface
REPLICATES = ("synergyfinder", "mean")


# plate reading needs pandas: imported on first use so that scoring a simulated surface does not
# pay for it
def read_table(*args: Any, **kwargs: Any) -> Any:
    from ._io import read_table as f  # deferred: pandas, see above

    return f(*args, **kwargs)


def canonical_table(*args: Any, **kwargs: Any) -> Any:
    from ._io import canonical_table as f  # deferred: pandas, see above

    return f(*args, **kwargs)


def iter_blocks(*args: Any, **kwargs: Any) -> Any:
    from ._io import iter_blocks as f  # deferred: pandas, see above

    return f(*args, **kwargs)


AREA_SIZE = 3
BOOT_WELLS = 20000  # wells scored per batch of bootstrap plates (bounds the memory)


@dataclass
class SynergyResult(Result):
    """Synergy scores of one combination on one dose grid.

    ``to_dict()`` gives the JSON document; the grids (``response``, ``matrices``,
    ``references``, ``zip_fit``) only with ``to_dict(matrices=True)``, the default of every
    mmmech result (:data:`mmmech._results.MATRICES_DEFAULT`).

    Attributes
    ----------
    drugs : tuple of str, length K
    doses : tuple of K ndarrays
        Doses of each drug (first 0), in the unit they were given in.
    units : tuple of str or None
        Dose unit per drug when known.
    response : ndarray, shape (n_1, ..., n_K)
        Percent inhibition per well (replicate mean for measured plates).
    scores : dict {metric: float}
        Summary score: mean over the wells where every drug is present (positive = synergy).
    matrices : dict {metric: ndarray (n_1, ..., n_K)}
        Score per well (observed minus expected inhibition; 0 where at most one drug).
    references : dict {metric: ndarray (n_1, ..., n_K)}
        Expected inhibition per well.
    zip_fit : ndarray (n_1, ..., n_K) or None
        ZIP's fitted combination surface.
    most_synergistic_area : dict {metric: dict}
        ``score`` (window mean), ``rows`` and ``cols`` (the window's doses of drug 1 and
        drug 2), ``doses`` {drug: window doses} and ``start`` (first grid index per drug).
    fits : dict {drug: LogLogistic}
        Fitted monotherapy curves (percent inhibition against dose).
    intervals : dict {metric: (low, high)} or None
        Bootstrap percentile interval of the summary score (plates with replicates).
    n_boot : int
        Bootstrap resamples behind ``intervals`` (0 without).
    replicates : int
        Largest number of replicates of a well (1 for a plain surface).
    notes : list of str
        What the scores rest on beyond the plain definitions (fallbacks, flagged fits).
    fit : str
        Curve fits behind Loewe and ZIP: ``"synergyfinder"`` (SynergyFinder's numbers) or
        ``"robust"`` (mmmech's bounded multi-start fits: better least squares, not
        SynergyFinder's numbers).
    replicates_treatment : str
        ``"none"`` (one value per well), ``"synergyfinder-bootstrap"`` (scores are the means
        over SynergyFinder's 10 bootstrap plates, seed 123) or ``"mean-surface"`` (the
        replicate means scored; ``intervals`` from resampling the replicates).
    zip_version : int
        3 (SynergyFinder 3's ZIP, default) or 2 (SynergyFinder 2's, as in DrugComb's tables).
    """

    drugs: tuple[str, ...]
    doses: tuple[np.ndarray, ...]
    response: np.ndarray
    scores: dict[str, float]
    matrices: dict[str, np.ndarray]
    references: dict[str, np.ndarray]
    most_synergistic_area: dict[str, dict[str, Any]]
    fits: dict[str, LogLogistic]
    zip_fit: np.ndarray | None = None
    units: tuple[str, ...] | None = None
    intervals: dict[str, tuple[float, float]] | None = None
    n_boot: int = 0
    replicates: int = 1
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    fit: str = "synergyfinder"
    replicates_treatment: str = "none"
    zip_version: int = 3

    #: what to_dict() leaves out: the grids unless asked, the table's other columns
    _matrices = ("response", "matrices", "references", "zip_fit")
    _not_serialized = ("extra",)

    def to_dict(self, matrices: bool = MATRICES_DEFAULT) -> dict[str, Any]:
        """Plain-Python dictionary (JSON-ready); ``matrices=True`` includes the grids
        (``response``, ``matrices``, ``references``, ``zip_fit``)."""
        out = {
            "drugs": list(self.drugs),
            "doses": {
                d: np.asarray(x).tolist() for d, x in zip(self.drugs, self.doses, strict=True)
            },
            "units": None if self.units is None else dict(zip(self.drugs, self.units, strict=True)),
            "response_kind": "inhibition",
            "scores": {m: float(v) for m, v in self.scores.items()},
            "intervals": None
            if self.intervals is None
            else {m: [float(lo), float(hi)] for m, (lo, hi) in self.intervals.items()},
            "n_boot": int(self.n_boot),
            "replicates": int(self.replicates),
            "most_synergistic_area": self.most_synergistic_area,
            "fits": {d: f.to_dict() for d, f in self.fits.items()},
            "notes": list(self.notes),
            "fit": self.fit,
            "replicates_treatment": self.replicates_treatment,
            "zip_version": int(self.zip_version),
        }
        if matrices:
            out["response"] = self.response.tolist()
            out["matrices"] = {m: v.tolist() for m, v in self.matrices.items()}
            out["references"] = {m: v.tolist() for m, v in self.references.items()}
            out["zip_fit"] = None if self.zip_fit is None else self.zip_fit.tolist()
        return out


def check_metrics(metrics: str | Iterable[str], func: str = "check_metrics") -> tuple[str, ...]:
    """Normalise a metric selection (``"all"``, one name or a sequence) to a list of names;
    InvalidInputError naming `func` for unknown metrics."""
    if isinstance(metrics, str):
        metrics = METRICS if metrics == "all" else (metrics,)
    try:
        metrics = [str(m).lower() for m in metrics]
    except TypeError:
        raise InvalidInputError(
            f"{func}(): metrics must be a metric name or a sequence of "
            f"names from {METRICS}, got {metrics!r}"
        ) from None
    if not metrics:
        raise InvalidInputError(f"{func}(): metrics is empty; choose from {', '.join(METRICS)}")
    for m in metrics:
        if m not in METRICS:
            raise InvalidInputError(
                f"{func}(): unknown metric {m!r}; expected one of "
                f"{', '.join(METRICS)}{did_you_mean(m, METRICS)}"
            )
    return tuple(dict.fromkeys(metrics))


def _check_choice(value, choices, func, arg):
    if value not in choices:
        raise InvalidInputError(
            f"{func}(): {arg} must be one of {', '.join(map(repr, choices))}, "
            f"got {value!r}{did_you_mean(str(value), choices)}"
        )
    return value


def _check_kind(kind, func, arg):
    if kind is None:
        raise InvalidInputError(
            f"{func}(): say what the responses are with {arg}='viability' (percent of untreated "
            f"cells alive) or {arg}='inhibition' (percent inhibition); it is never guessed"
        )
    if kind not in RESPONSE_KINDS:
        raise InvalidInputError(
            f"{func}(): {arg} must be 'viability' or 'inhibition', got "
            f"{kind!r}{did_you_mean(kind, RESPONSE_KINDS)}"
        )
    return kind


def _to_inhibition(y, kind):
    return 100.0 - y if kind == "viability" else y


def _check_doses(doses, func, names=None):
    if isinstance(doses, np.ndarray) and doses.ndim == 1:
        doses = [doses]
    try:
        doses = list(doses)
    except TypeError:
        raise InvalidInputError(
            f"{func}(): doses must be a list of K 1-D arrays (one per drug), "
            f"got {type(doses).__name__}"
        ) from None
    if len(doses) < 2:
        raise InvalidInputError(
            f"{func}(): a combination needs at least two drugs, got "
            f"{len(doses)} dose array(s) (a single drug)"
        )
    out = []
    for k, d in enumerate(doses):
        name = repr(names[k]) if names else f"drug {k + 1}"
        try:
            a = np.asarray(d, dtype=float)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{func}(): doses of {name} must be numeric, got {d!r:.80}"
            ) from None
        if a.ndim != 1 or a.size < 2:
            raise InvalidInputError(
                f"{func}(): doses of {name} must be a 1-D array with 0 and at "
                f"least one positive dose, got shape {a.shape}"
            )
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            bad = a[~np.isfinite(a) | (a < 0)][:3].tolist()
            raise InvalidInputError(f"{func}(): doses of {name} must be finite and >= 0, got {bad}")
        if a[0] != 0:
            raise InvalidInputError(
                f"{func}(): the first dose of {name} must be 0 (the "
                f"monotherapies of the other drugs), got {a[0]:g}"
            )
        if np.any(np.diff(a) <= 0):
            raise InvalidInputError(
                f"{func}(): doses of {name} must be strictly increasing, got {a.tolist()[:8]}"
            )
        out.append(a)
    return out


def _check_names(drugs, K, func):
    if drugs is None:
        return tuple(f"drug{k + 1}" for k in range(K))
    if isinstance(drugs, str):
        drugs = [drugs]
    drugs = [str(d) for d in drugs]
    if len(drugs) != K:
        raise InvalidInputError(f"{func}(): {len(drugs)} drug name(s) for {K} dose arrays")
    low = [d.lower() for d in drugs]
    for i, d in enumerate(low):
        if d in low[:i]:
            raise InvalidInputError(
                f"{func}(): drug {drugs[i]!r} appears twice; each drug of a "
                "combination must be different"
            )
    return tuple(drugs)


def _area(delta, drugs, doses):
    score, start, win = _msa(delta, AREA_SIZE)
    sel = [doses[k][start[k] : start[k] + win[k]].tolist() for k in range(len(doses))]
    return {
        "score": score,
        "rows": sel[0],
        "cols": sel[1],
        "doses": dict(zip(drugs, sel, strict=True)),
        "start": list(start),
    }


def _fits(mono, drugs):
    fits = {}
    for k, name in enumerate(drugs):
        f = mono[k]
        fits[name] = LogLogistic(
            float(f["e0"][0]),
            float(f["einf"][0]),
            float(f["ec50"][0]),
            float(f["hill"][0]),
            float(f["sse"][0]),
            float(f["r2"][0]),
            int(f["n"][0]),
            bool(f["ok"][0]),
            decode_flags(f["flag_bits"][0]),
        )
    return fits


def _fmt_at(at, drugs, doses, units):
    parts = []
    for j, v in sorted(at.items()):
        u = f" {units[j]}" if units else ""
        parts.append(f"{drugs[j]}={v:g}{u}")
    return ", ".join(parts)


_PATHO_TEXT = {
    "sf_fallback": "log-dose fallback taken",
    "sf_iteration_limit": "BFGS stopped at its iteration limit",
    "sf_orientation_flipped": "orientation flipped (the observed zero-dose response "
    "became the high-dose plateau)",
    "sf_runaway": "runaway curve (EC50 >1000-fold outside the tested doses)",
}


def _patho_notes(patho, drugs, doses, units, shown=3):
    """Notes on flagged SynergyFinder-compatible fits, naming the series (their wells).

    A monotherapy fit gets its own note; ZIP's row/column fits with the same drug and the same
    flags share one note that names the first `shown` series and counts the rest.
    """
    hint = (
        "(SynergyFinder-compatible fit; --fit robust / fit='robust' gives better least "
        "squares, not SynergyFinder's numbers)"
    )
    notes, groups = [], {}
    for p in patho:
        what = ", ".join(_PATHO_TEXT[f] for f in p["flags"])
        name = drugs[p["drug"]]
        if p["series"] == "mono":
            notes.append(f"monotherapy fit of {name!r}: {what} {hint}")
        else:
            groups.setdefault((name, what), []).append(_fmt_at(p["at"], drugs, doses, units))
    for (name, what), places in groups.items():
        listed = "; ".join(places[:shown])
        more = f"; and {len(places) - shown} more" if len(places) > shown else ""
        notes.append(
            f"ZIP fit of the {name!r} series at {listed}{more}: {what} "
            f"({len(places)} series) {hint}"
        )
    return notes


def _check_zip_version(zip_version, fit, K, metrics, func):
    if zip_version not in (2, 3) or isinstance(zip_version, bool):
        raise InvalidInputError(
            f"{func}(): zip_version must be 3 (SynergyFinder 3) or 2 "
            f"(SynergyFinder 2), got {zip_version!r}"
        )
    if zip_version == 2 and "zip" in metrics:
        if fit != "synergyfinder":
            raise InvalidInputError(
                f"{func}(): zip_version=2 is SynergyFinder 2's ZIP on its own "
                f"fits; it needs fit='synergyfinder', got fit={fit!r}"
            )
        if K != 2:
            raise InvalidInputError(
                f"{func}(): zip_version=2 (SynergyFinder 2's ZIP) scores two drugs, got {K}"
            )
    return int(zip_version)


def _result(
    out,
    drugs,
    doses,
    R0,
    metrics,
    units=None,
    replicates=1,
    n_boot=0,
    ci=None,
    fit="synergyfinder",
    treatment="none",
    patho=None,
    zip_version=3,
):
    notes = list(out.notes)
    if patho is None:
        patho = out.pathologies
    notes += _patho_notes(patho, drugs, doses, units)
    fits = _fits(out.mono, drugs)
    for name, f in fits.items():
        shown = [fl for fl in f.flags if fl in ("underdetermined", "flat")]
        if shown:
            notes.append(f"fit of {name!r}: {', '.join(shown)}")
        if not f.ok:
            notes.append(f"fit of {name!r} failed; Loewe and ZIP scores are not reliable")
    if np.all(np.abs(R0) <= 1.5):
        notes.append(
            "every response lies within +-1.5: if these are fractions, multiply by 100 "
            "(SynergyFinder's scale is percent)"
        )
    intervals = None
    if n_boot and treatment == "synergyfinder-bootstrap":
        # spread of SynergyFinder's bootstrap plates: percentiles of their summary scores
        lo_q, hi_q = 100 * (1 - ci) / 2, 100 * (1 - (1 - ci) / 2)
        intervals = {m: tuple(np.percentile(out.boot_summary[m], [lo_q, hi_q])) for m in metrics}
    elif n_boot:
        lo_q, hi_q = 100 * (1 - ci) / 2, 100 * (1 - (1 - ci) / 2)
        intervals = {m: tuple(np.percentile(out.summary[m][1:], [lo_q, hi_q])) for m in metrics}
    return SynergyResult(
        drugs=tuple(drugs),
        doses=tuple(doses),
        units=None if units is None else tuple(units),
        response=R0.copy(),
        scores={m: float(out.summary[m][0]) for m in metrics},
        matrices={m: out.deltas[m][0] for m in metrics},
        references={m: out.references[m][0] for m in metrics},
        zip_fit=None if out.zip_fit is None else out.zip_fit[0],
        most_synergistic_area={m: _area(out.deltas[m][0], drugs, doses) for m in metrics},
        fits=fits,
        intervals=intervals,
        n_boot=int(n_boot),
        replicates=int(replicates),
        notes=notes,
        fit=fit,
        replicates_treatment=treatment,
        zip_version=zip_version,
    )


def score_surface(
    doses: Sequence[ArrayLike],
    response: ArrayLike,
    metrics: str | Iterable[str] = METRICS,
    response_kind: str = "inhibition",
    drugs: str | Sequence[str] | None = None,
    fit: str = "synergyfinder",
    zip_version: int = 3,
) -> SynergyResult:
    """Score a dose-response surface with Bliss, HSA, Loewe and ZIP.

    Parameters
    ----------
    doses : list of K 1-D array_like
        Doses of each drug (nM or any unit), strictly increasing, first entry 0. K >= 2.
    response : array_like, shape (len(doses[0]), ..., len(doses[K-1])), percent
        Response of every well of the full factorial grid, finite.
    metrics : str or sequence of str
        Any of ``"bliss"``, ``"hsa"``, ``"loewe"``, ``"zip"`` (or ``"all"``).
    response_kind : {"inhibition", "viability"}
        What `response` holds; viability becomes ``100 - viability``.
    drugs : sequence of K str, optional
        Drug names (default ``drug1``, ``drug2`` ...); must be different.
    fit : {"synergyfinder", "robust"}
        Curve fits behind Loewe and ZIP (docs/synergy.md): SynergyFinder's own fitting path
        (its numbers; default) or mmmech's bounded multi-start fits (better least squares,
        not SynergyFinder's numbers).
    zip_version : {3, 2}
        SynergyFinder 3's ZIP (default) or SynergyFinder 2's (two drugs; its row/column fits
        anchored at the fitted monotherapies with the top fixed at 100), as in DrugComb.

    Returns
    -------
    SynergyResult

    Raises
    ------
    InvalidInputError
        Fewer than two drugs, bad doses (negative, not increasing, first not 0), a response
        of the wrong shape or with NaN/inf, unknown metric or response kind, duplicate names.
    """
    func = "score_surface"
    metrics = check_metrics(metrics, func)
    fit = _check_choice(fit, FITS, func, "fit")
    kind = _check_kind(response_kind, func, "response_kind")
    names = None if drugs is None else ([drugs] if isinstance(drugs, str) else list(drugs))
    dl = _check_doses(doses, func, names if names and len(names) == len(doses) else None)
    names = _check_names(drugs, len(dl), func)
    try:
        y = np.asarray(response, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{func}(): response must be numeric, got {response!r:.80}"
        ) from None
    shape = tuple(len(d) for d in dl)
    if y.shape != shape:
        raise InvalidInputError(
            f"{func}(): response must have shape {shape} (one value per "
            f"dose of each drug), got {y.shape}"
        )
    if not np.all(np.isfinite(y)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(y))[0])
        raise InvalidInputError(
            f"{func}(): response must be finite, got {y[where]} at index {where}"
        )
    R = _to_inhibition(y, kind)
    zv = _check_zip_version(zip_version, fit, len(dl), metrics, func)
    out = score_batch(dl, R[None], metrics, fit=fit, zip_version=zv)
    return _result(out, names, dl, R, metrics, fit=fit, zip_version=zv)


def read_plate(path: PathLike) -> pd.DataFrame:
    """Read and check a measured plate in SynergyFinder's long format.

    Parameters
    ----------
    path : str or os.PathLike
        CSV (``.tsv``: tab-separated) with a header line: ``block_id``, ``drug1``, ``drug2``
        [, ...], ``conc1``, ``conc2`` [, ...], ``response``, ``conc_unit`` (or
        ``conc_unit1``, ``conc_unit2`` ...). The old names ``drug_row``/``drug_col``,
        ``conc_r``/``conc_c``, ``conc_r_unit``/``conc_c_unit`` are renamed.

    Returns
    -------
    pandas.DataFrame
        The canonical table: ``block_id``, ``drug1..K``, ``conc1..K`` (float),
        ``conc_unit1..K``, ``response`` (float, as given: say what it is when scoring), other
        columns unchanged, and ``_line`` (the file line of each row, for messages).

    Raises
    ------
    InvalidInputError, ModelFileError, UnitError
        With the column and file line: missing columns, non-numeric or empty cells,
        negative doses, unknown units, a single drug, the same drug twice, blocks without
        control, monotherapy or with an incomplete dose grid.
    """
    df = read_table(path)
    table, K = canonical_table(df, func="read_plate")
    for _ in iter_blocks(table, K, func="read_plate"):
        pass
    return table


def _bootstrap(block, shape, n_boot, rng):
    """n_boot surfaces: every well's replicates resampled with replacement and averaged."""
    counts = np.array([len(v) for v in block.values])
    maxr = counts.max()
    vals = np.zeros((len(counts), maxr))
    for i, v in enumerate(block.values):
        vals[i, : len(v)] = v
    u = rng.random((n_boot, len(counts), maxr))
    pick = np.floor(u * counts[None, :, None]).astype(int)
    draws = np.take_along_axis(np.broadcast_to(vals, (n_boot,) + vals.shape), pick, axis=2)
    mask = np.arange(maxr)[None, None, :] < counts[None, :, None]
    means = np.where(mask, draws, 0.0).sum(axis=2) / counts[None, :]
    return means.reshape((n_boot,) + shape)


def _sf_bootstrap(block, kind, metrics, fit, zip_version=3):
    """SynergyFinder's treatment of replicates: score its 10 bootstrap plates (R's generator,
    seed 123) and average every well's scores over them."""
    shape = tuple(len(d) for d in block.doses)
    wells = []
    for v in block.values:
        v = _to_inhibition(np.asarray(v, dtype=float), kind)
        # SynergyFinder duplicates a single replicate in a replicated block: sd 0, no draw
        wells.append(np.repeat(v, 2) if len(v) == 1 else v)
    boot = r_bootstrap_surfaces(wells, SF_BOOT_ITER, SF_BOOT_SEED).reshape((SF_BOOT_ITER,) + shape)
    out = score_batch(block.doses, boot, metrics, fit=fit, zip_version=zip_version)
    grid = out.grid
    lmean = lambda a: a.astype(np.longdouble).mean(axis=0).astype(float)  # noqa: E731
    deltas = {m: lmean(out.deltas[m])[None] for m in metrics}
    res = replace(
        out,
        boot_summary=out.summary,
        deltas=deltas,
        references={m: lmean(out.references[m])[None] for m in metrics},
        zip_fit=None if out.zip_fit is None else lmean(out.zip_fit)[None],
        summary={m: deltas[m][:, grid.combo].mean(axis=1) for m in metrics},
        notes=[
            f"replicates: scores are the means over SynergyFinder's {SF_BOOT_ITER} "
            f"bootstrap plates (seed {SF_BOOT_SEED}, R's generator); replicates='mean' "
            "scores the mean surface instead"
        ]
        + list(out.notes),
    )
    return res, SF_BOOT_ITER


def _mean_surface(block, R0, kind, metrics, fit, zv, n_boot, rng):
    """mmmech's treatment: the mean surface scored, plus (with replicates) `n_boot` resampled
    plates for an interval, in batches of about BOOT_WELLS wells. Returns ``(scores, n_boot)``."""
    nb = n_boot if block.replicates > 1 else 0
    order = getattr(block, "file_order", None) if block.replicates == 1 else None
    out = score_batch(block.doses, R0[None], metrics, fit=fit, order=order, zip_version=zv)
    if nb:
        boot = _to_inhibition(_bootstrap(block, R0.shape, nb, rng), kind)
        step = max(1, BOOT_WELLS // R0.size)
        parts = [
            score_batch(block.doses, boot[i : i + step], metrics, fit=fit, zip_version=zv).summary
            for i in range(0, nb, step)
        ]
        out = replace(
            out,
            summary={m: np.concatenate([out.summary[m]] + [p[m] for p in parts]) for m in metrics},
        )
    return out, nb


def score_blocks(
    df: pd.DataFrame,
    response: str | None = None,
    metrics: str | Iterable[str] = METRICS,
    n_boot: int = 200,
    ci: float = 0.95,
    seed: SeedLike = 0,
    func: str = "score_blocks",
    fit: str = "synergyfinder",
    replicates: str = "synergyfinder",
    zip_version: int = 3,
) -> list[tuple[Any, SynergyResult]]:
    """Score every block of a long table; returns a list of ``(block_id, SynergyResult)``.

    Parameters are those of :func:`score_table`. Each result's ``doses`` are in the block's
    units (``units``); ``response`` is the replicate mean in percent inhibition.
    """
    metrics = check_metrics(metrics, func)
    kind = _check_kind(response, func, "response")
    fit = _check_choice(fit, FITS, func, "fit")
    replicates = _check_choice(replicates, REPLICATES, func, "replicates")
    if not (isinstance(n_boot, (int, np.integer)) and not isinstance(n_boot, bool) and n_boot >= 0):
        raise InvalidInputError(f"{func}(): n_boot must be an integer >= 0, got {n_boot!r}")
    if n_boot == 1:
        raise InvalidInputError(f"{func}(): n_boot must be 0 (no interval) or >= 2, got 1")
    if not (isinstance(ci, (float, int)) and 0 < ci < 1):
        raise InvalidInputError(f"{func}(): ci must be a fraction in (0, 1), got {ci!r}")
    rng = check_random_state(seed)
    table, K = canonical_table(df, func=func)
    results = []
    for block in iter_blocks(table, K, func=func):
        R0 = _to_inhibition(block.mean, kind)
        zv = _check_zip_version(zip_version, fit, len(block.doses), metrics, func)
        if block.replicates > 1 and replicates == "synergyfinder":
            out, nb = _sf_bootstrap(block, kind, metrics, fit, zv)
            treatment = "synergyfinder-bootstrap"
        else:
            out, nb = _mean_surface(block, R0, kind, metrics, fit, zv, n_boot, rng)
            treatment = "mean-surface" if block.replicates > 1 else "none"
        res = _result(
            out,
            block.drugs,
            block.doses,
            R0,
            metrics,
            units=block.units,
            replicates=block.replicates,
            n_boot=nb,
            ci=ci,
            fit=fit,
            treatment=treatment,
            zip_version=zv,
        )
        res.extra = dict(block.extra)
        results.append((block.block_id, res))
    return results


def score_table(
    df: pd.DataFrame,
    response: str | None = None,
    metrics: str | Iterable[str] = METRICS,
    n_boot: int = 200,
    ci: float = 0.95,
    seed: SeedLike = 0,
    fit: str = "synergyfinder",
    replicates: str = "synergyfinder",
    zip_version: int = 3,
) -> pd.DataFrame:
    """Score a measured plate in SynergyFinder's long format: one row per block.

    Parameters
    ----------
    df : pandas.DataFrame
        Long table (see :func:`read_plate`; a table straight from ``pandas.read_csv`` works).
        Replicate rows of a well (same block and doses) are averaged.
    response : {"viability", "inhibition"}
        What the ``response`` column holds (percent). Required: never guessed.
    metrics : str or sequence of str
        Metrics to compute (default all four).
    n_boot : int
        With ``replicates="mean"``: bootstrap resamples for blocks with replicates (each
        well's replicates resampled with replacement, then every metric recomputed); 0
        switches intervals off.
    ci : float
        Coverage of the percentile interval (default 0.95).
    seed : None, int or numpy.random.Generator
        Random state of that bootstrap (default 0: reproducible).
    fit : {"synergyfinder", "robust"}
        Curve fits behind Loewe and ZIP: SynergyFinder's fitting path (default; its numbers)
        or mmmech's bounded multi-start fits (better least squares, not SynergyFinder's
        numbers).
    replicates : {"synergyfinder", "mean"}
        Blocks with replicates: SynergyFinder's bootstrap (default: each well redrawn as the
        mean of normal draws with its replicates' mean and SD, 10 plates with R's generator
        at seed 123; the scores are the means over the plates, the interval their 2.5-97.5 %
        range) or mmmech's mean surface (the replicate means scored; interval from
        `n_boot` resamples of the replicates).
    zip_version : {3, 2}
        SynergyFinder 3's ZIP (default) or SynergyFinder 2's (two drugs; DrugComb's tables;
        SynergyFinder 2 averaged replicates, so pair it with ``replicates="mean"``).

    Returns
    -------
    pandas.DataFrame
        One row per block: ``block_id``, ``drug1..K``, ``conc_unit1..K``, ``replicates``,
        for every metric m the summary score ``m``, ``m_ci_low`` and ``m_ci_high`` (NaN
        without replicates: no interval) and ``m_area`` (most synergistic area score), plus
        the other columns that are constant within the block (``cell_line_name`` ...).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(1, "a", "b", c1, c2, 100 * (1 - (1 - c1 / (c1 + 1)) * (1 - c2 / (c2 + 2))))
    ...         for c1 in (0, 1, 3) for c2 in (0, 2, 6)]
    >>> df = pd.DataFrame(rows, columns=["block_id", "drug1", "drug2", "conc1", "conc2",
    ...                                  "response"]).assign(conc_unit="uM")
    >>> abs(float(score_table(df, response="inhibition", metrics="bliss")["bliss"].iloc[0])) < 1e-9
    True
    """
    results = score_blocks(
        df,
        response=response,
        metrics=metrics,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        func="score_table",
        fit=fit,
        replicates=replicates,
        zip_version=zip_version,
    )
    metrics = check_metrics(metrics, "score_table")
    rows = []
    for bid, res in results:
        row = {"block_id": bid}
        for k, d in enumerate(res.drugs):
            row[f"drug{k + 1}"] = d
        for k, u in enumerate(res.units or ()):  # a plate's blocks always have units
            row[f"conc_unit{k + 1}"] = u
        row["replicates"] = res.replicates
        row["fit"] = res.fit
        row["replicates_treatment"] = res.replicates_treatment
        row["zip_version"] = res.zip_version
        for m in metrics:
            row[m] = res.scores[m]
            lo, hi = res.intervals[m] if res.intervals else (np.nan, np.nan)
            row[f"{m}_ci_low"], row[f"{m}_ci_high"] = lo, hi
            row[f"{m}_area"] = res.most_synergistic_area[m]["score"]
        for c, v in res.extra.items():
            row.setdefault(c, v)
        rows.append(row)
    import pandas as pd  # deferred: pandas costs about 0.3 s; import mmmech stays fast

    return pd.DataFrame(rows)


def most_synergistic_area(delta: ArrayLike, size: int = AREA_SIZE) -> tuple[float, tuple[int, ...]]:
    """Largest mean score over windows of `size` consecutive doses per drug.

    Parameters
    ----------
    delta : array_like, shape (n_1, ..., n_K)
        Scores on the full grid (zero-dose rows and columns included).
    size : int
        Window length per drug (3: SynergyFinder's 3x3 area; shorter axes use their length).

    Returns
    -------
    (score, start) : (float, tuple of int)
        Window mean and the grid index of its first dose per drug.
    """
    a = np.asarray(delta, dtype=float)
    if a.ndim < 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise InvalidInputError(
            f"most_synergistic_area(): delta must be a finite, non-empty array, got shape {a.shape}"
        )
    if not (isinstance(size, (int, np.integer)) and size >= 1):
        raise InvalidInputError(
            f"most_synergistic_area(): size must be an integer >= 1, got {size!r}"
        )
    score, start, _ = _msa(a, int(size))
    return score, start


def fit_loglogistic(dose: ArrayLike, response: ArrayLike, e0: float | None = None) -> LogLogistic:
    """Fit a four-parameter log-logistic curve (percent inhibition against dose).

    Parameters
    ----------
    dose : array_like, shape (N,), dose unit, finite and >= 0
    response : array_like, shape (N,), percent inhibition, finite
    e0 : float, optional
        Fix the response at dose 0 (ZIP's anchored fits); free by default.

    Returns
    -------
    LogLogistic

    Raises
    ------
    InvalidInputError
        Bad shapes or values, fewer than two distinct doses.
    FitError
        The curve could not be fitted.

    Examples
    --------
    >>> x = [0, 1, 3, 10, 30, 100]
    >>> c = fit_loglogistic(x, [100 * v / (v + 10) for v in x])
    >>> round(c.ec50, 6), round(c.hill, 6), round(c.einf, 4)
    (10.0, 1.0, 100.0)
    """
    func = "fit_loglogistic"
    x, y = _check_curve(dose, response, func)
    if e0 is not None and not np.isfinite(float(e0)):
        raise InvalidInputError(f"{func}(): e0 must be finite, got {e0!r}")
    return fit_one(x, y, e0=e0, func=func)


def _check_curve(dose, response, func):
    try:
        x = np.asarray(dose, dtype=float)
        y = np.asarray(response, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): dose and response must be numeric") from None
    if x.ndim != 1 or y.shape != x.shape:
        raise InvalidInputError(
            f"{func}(): dose and response must be 1-D of the same length, "
            f"got shapes {x.shape} and {y.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(x >= 0)):
        raise InvalidInputError(
            f"{func}(): doses must be finite and >= 0, got "
            f"{x[~np.isfinite(x) | (x < 0)][:3].tolist()}"
        )
    if not np.all(np.isfinite(y)):
        raise InvalidInputError(
            f"{func}(): responses must be finite, got {y[~np.isfinite(y)][:3].tolist()}"
        )
    if len(np.unique(x)) < 2:
        raise InvalidInputError(
            f"{func}(): need at least two distinct doses, got {np.unique(x).tolist()}"
        )
    return x, y


def fit_loglogistic_batch(
    dose: ArrayLike,
    response: ArrayLike,
    weights: ArrayLike | None = None,
    e0: ArrayLike | None = None,
    backend: str = "auto",
) -> FitBatch:
    """Fit B log-logistic curves in one vectorised call.

    Parameters
    ----------
    dose : array_like, shape (N,) or (B, N), dose unit, finite and >= 0
    response : array_like, shape (B, N), percent inhibition (NaN: missing point)
    weights : array_like, shape (B, N), optional
        Non-negative weights (0 drops a point).
    e0 : array_like, shape (B,), optional
        Fixed zero-dose response per curve (NaN: free).
    backend : {"auto", "cython", "python"}

    Returns
    -------
    FitBatch
        Arrays of shape (B,); ``ok`` is False for curves that could not be fitted.
    """
    func = "fit_loglogistic_batch"
    try:
        y = np.asarray(response, dtype=float)
        x = np.asarray(dose, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{func}(): dose and response must be numeric") from None
    if y.ndim != 2:
        raise InvalidInputError(f"{func}(): response must be 2-D (B, N), got shape {y.shape}")
    if x.shape not in ((y.shape[1],), y.shape):
        raise InvalidInputError(
            f"{func}(): dose must have shape ({y.shape[1]},) or {y.shape}, got {x.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(x >= 0)):
        raise InvalidInputError(f"{func}(): doses must be finite and >= 0")
    if np.any(np.isinf(y)):
        raise InvalidInputError(f"{func}(): responses must be finite or NaN (missing), got inf")
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != y.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InvalidInputError(
                f"{func}(): weights must be finite, >= 0 and of shape {y.shape}"
            )
    check_backend(backend, func)
    return fit_batch(x, y, weights=weights, e0=e0, backend=backend)
