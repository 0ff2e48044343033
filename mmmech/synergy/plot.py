"""Pictures: synergy maps of dose-response surfaces (matplotlib, Agg backend, loaded lazily).

Files are written atomically: to a temporary file beside the target, then renamed, so an
interrupted run never leaves a half-written picture.
"""
import itertools
import os

import numpy as np

from ..exceptions import InvalidInputError

__all__ = ["synergy_map", "save_figure", "check_output_path", "block_paths"]

_FORMATS = ("png", "svg", "pdf")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def check_output_path(path):
    """Check a picture path before any work is done; returns ``(path, format)``."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in _FORMATS:
        raise InvalidInputError(f"plot: output file {path!r} must end with one of "
                                f"{', '.join('.' + f for f in _FORMATS)}")
    # only a regular file (or a link to one) is replaced, in a folder that exists
    from ..utils import output_target
    output_target(path, prefix="plot: ")
    return path, ext


def save_figure(fig, path, dpi=150):
    """Save `fig` to `path` (png, svg or pdf by extension) atomically; closes the figure."""
    from ..utils import atomic_output
    path, ext = check_output_path(path)
    try:
        with atomic_output(path, suffix="." + ext) as tmp:
            fig.savefig(tmp, dpi=dpi, format=ext, bbox_inches="tight")
    finally:
        _pyplot().close(fig)
    return path


def _fmt(v, unit=None):
    """Tick label of a dose: simulated grids are in nM (shown with a readable unit); measured
    plates keep the unit of the file."""
    from ..units import format_nM
    if v == 0:
        return "0"
    if unit in (None, "", "nM"):
        return format_nM(v).replace(" ", "")
    return f"{v:.3g}{unit}"


def block_paths(path, block_ids):
    """Output file of each block: `path` itself for one block, else ``<stem>.block<ID><ext>``."""
    block_ids = list(block_ids)
    if len(block_ids) == 1:
        return [os.fspath(path)]
    stem, ext = os.path.splitext(os.fspath(path))
    safe = ["".join(c if c.isalnum() or c in "-_" else "_" for c in str(b)) for b in block_ids]
    return [f"{stem}.block{b}{ext}" for b in safe]


def synergy_map(result, path, metric=None, title=None):
    """Draw the synergy map of a scored combination and write it to `path`.

    Two drugs: a heat map of the per-well score (red = synergy, blue = antagonism) with the
    most synergistic 3x3 area outlined. Three or more drugs: one panel per drug pair, each
    showing the score averaged over the other drugs' doses where every drug is present.

    Parameters
    ----------
    result : mmmech.scoring.ScoreResult or mmmech.synergy.SynergyResult
    path : str or path-like (.png, .svg, .pdf)
    metric : {"bliss", "hsa", "loewe", "zip"}, optional
        Default: ZIP when scored, else the first scored metric.
    """
    syn = getattr(result, "synergy", result)
    mats = syn.matrices
    if not mats:
        raise InvalidInputError("synergy_map(): the result holds no score matrices")
    metric = metric or ("zip" if "zip" in mats else next(iter(mats)))
    if metric not in mats:
        raise InvalidInputError(f"synergy_map(): metric {metric!r} was not scored; scored: "
                                f"{sorted(mats)}")
    plt = _pyplot()
    delta = np.asarray(mats[metric], dtype=float)
    drugs, doses = list(syn.drugs), [np.asarray(d) for d in syn.doses]
    units = list(syn.units) if getattr(syn, "units", None) else [None] * len(drugs)
    K = len(drugs)
    pairs = list(itertools.combinations(range(K), 2))
    ncol = min(3, len(pairs))
    nrow = int(np.ceil(len(pairs) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 4.2 * nrow), squeeze=False)
    fig.subplots_adjust(wspace=0.55, hspace=0.6)
    lim = max(1.0, float(np.nanmax(np.abs(delta))))
    im = None
    for ax, (a, b) in zip(axes.ravel(), pairs):
        if K == 2:
            grid = delta
        else:
            others = tuple(k for k in range(K) if k not in (a, b))
            sl = tuple(slice(1, None) if k in others else slice(None) for k in range(K))
            grid = delta[sl].mean(axis=others)
            if a > b:
                grid = grid.T
        im = ax.imshow(grid.T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim,
                       aspect="auto")
        ax.set_xticks(range(len(doses[a])), [_fmt(v, units[a]) for v in doses[a]], rotation=45,
                      ha="right", fontsize=8)
        ax.set_yticks(range(len(doses[b])), [_fmt(v, units[b]) for v in doses[b]], fontsize=8)
        ax.set_xlabel(drugs[a])
        ax.set_ylabel(drugs[b])
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                ax.text(i, j, f"{grid[i, j]:.1f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(grid[i, j]) > 0.6 * lim else "black")
        area = (syn.most_synergistic_area or {}).get(metric) if K == 2 else None
        if area and "start" in area:
            i0, j0 = area["start"][0], area["start"][1]
            ax.add_patch(plt.Rectangle((i0 - 0.5, j0 - 0.5), 3, 3, fill=False, lw=2,
                                       ec="black", ls="--"))
    for ax in axes.ravel()[len(pairs):]:
        ax.axis("off")
    cb = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.85)
    cb.set_label(f"{metric.upper()} score (% inhibition; > 0 synergy)")
    summary = syn.scores.get(metric)
    ctx = getattr(result, "context", None)
    fig.suptitle(title or f"{' + '.join(drugs)}" + (f" ({ctx})" if ctx else "")
                 + (f": {metric.upper()} {summary:.2f}" if summary is not None else ""))
    return save_figure(fig, path)
