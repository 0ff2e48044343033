"""Pictures: synergy maps of dose-response surfaces (matplotlib on an Agg canvas, loaded lazily).

Figures never pass through pyplot (no display needed, pyplot's figure list untouched) and are
written atomically by :func:`mmmech._figures.save_figure`: to a temporary file beside the
target, then renamed, so an interrupted run never leaves a half-written picture.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import _figures
from .._typing import PathLike
from ..exceptions import InvalidInputError
from ..units import format_nM

__all__ = ["synergy_map", "save_figure", "check_output_path", "block_paths"]

#: the one figure writer and path check of mmmech (:mod:`mmmech._figures`), re-exported
save_figure = _figures.save_figure
check_output_path = _figures.check_output_path


def _fmt(v: float, unit: str | None = None) -> str:
    """Tick label of a dose: simulated grids are in nM (shown with a readable unit); measured
    plates keep the unit of the file."""
    if v == 0:
        return "0"
    if unit in (None, "", "nM"):
        return format_nM(v).replace(" ", "")
    return f"{v:.3g}{unit}"


def block_paths(path: PathLike, block_ids: Iterable[Any]) -> list[str]:
    """Output file of each block: `path` itself for one block, else ``<stem>.block<ID><ext>``."""
    block_ids = list(block_ids)
    if len(block_ids) == 1:
        return [os.fspath(path)]
    stem, ext = os.path.splitext(os.fspath(path))
    safe = ["".join(c if c.isalnum() or c in "-_" else "_" for c in str(b)) for b in block_ids]
    return [f"{stem}.block{b}{ext}" for b in safe]


def synergy_map(
    result: Any, path: PathLike, metric: str | None = None, title: str | None = None
) -> str:
    """Draw the synergy map of a scored combination and write it to `path`.

    Two drugs: a heat map of the per-well score (red = synergy, blue = antagonism) with the
    most synergistic 3x3 area outlined. Three or more drugs: one panel per drug pair, each
    showing the score averaged over the other drugs' doses where every drug is present.

    Parameters
    ----------
    result : mmmech.scoring.ScoreResult or mmmech.synergy.SynergyResult
    path : str or path-like (.png, .svg, .pdf)
        Written atomically; checked before anything is drawn.
    metric : {"bliss", "hsa", "loewe", "zip"}, optional
        Default: ZIP when scored, else the first scored metric.
    """
    path = _figures.check_output_path(path, "synergy_map")[0]
    syn = getattr(result, "synergy", result)
    mats = syn.matrices
    if not mats:
        raise InvalidInputError("synergy_map(): the result holds no score matrices")
    metric = metric or ("zip" if "zip" in mats else next(iter(mats)))
    if metric not in mats:
        raise InvalidInputError(
            f"synergy_map(): metric {metric!r} was not scored; scored: {sorted(mats)}"
        )
    # deferred: matplotlib costs about 0.3 s; import mmmech stays fast
    from matplotlib.patches import Rectangle

    delta = np.asarray(mats[metric], dtype=float)
    drugs, doses = list(syn.drugs), [np.asarray(d) for d in syn.doses]
    units = list(syn.units) if getattr(syn, "units", None) else [None] * len(drugs)
    K = len(drugs)
    pairs = list(itertools.combinations(range(K), 2))
    ncol = min(3, len(pairs))
    nrow = int(np.ceil(len(pairs) / ncol))
    fig = _figures.new_figure((5.2 * ncol, 4.2 * nrow))
    axes = fig.subplots(nrow, ncol, squeeze=False)
    fig.subplots_adjust(wspace=0.55, hspace=0.6)
    lim = max(1.0, float(np.nanmax(np.abs(delta))))
    images = []
    for ax, (a, b) in zip(axes.ravel(), pairs, strict=False):  # spare panels stay empty
        if K == 2:
            grid = delta
        else:
            others = tuple(k for k in range(K) if k not in (a, b))
            sl = tuple(slice(1, None) if k in others else slice(None) for k in range(K))
            grid = delta[sl].mean(axis=others)
            if a > b:
                grid = grid.T
        images.append(
            ax.imshow(grid.T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        )
        ax.set_xticks(
            range(len(doses[a])),
            [_fmt(v, units[a]) for v in doses[a]],
            rotation=45,
            ha="right",
            fontsize=8,
        )
        ax.set_yticks(range(len(doses[b])), [_fmt(v, units[b]) for v in doses[b]], fontsize=8)
        ax.set_xlabel(drugs[a])
        ax.set_ylabel(drugs[b])
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                ax.text(
                    i,
                    j,
                    f"{grid[i, j]:.1f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if abs(grid[i, j]) > 0.6 * lim else "black",
                )
        area = (syn.most_synergistic_area or {}).get(metric) if K == 2 else None
        if area and "start" in area:
            i0, j0 = area["start"][0], area["start"][1]
            ax.add_patch(
                Rectangle((i0 - 0.5, j0 - 0.5), 3, 3, fill=False, lw=2, ec="black", ls="--")
            )
    for ax in axes.ravel()[len(pairs) :]:
        ax.axis("off")
    cb = fig.colorbar(images[-1], ax=axes.ravel().tolist(), shrink=0.85)
    cb.set_label(f"{metric.upper()} score (% inhibition; > 0 synergy)")
    summary = syn.scores.get(metric)
    ctx = getattr(result, "context", None)
    fig.suptitle(
        title
        or f"{' + '.join(drugs)}"
        + (f" ({ctx})" if ctx else "")
        + (f": {metric.upper()} {summary:.2f}" if summary is not None else "")
    )
    return _figures.save_figure(fig, path, func="synergy_map", bbox_inches="tight")
