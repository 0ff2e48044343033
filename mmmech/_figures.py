"""Pictures: the one way mmmech makes and saves a matplotlib figure.

Figures are made on an Agg canvas (:class:`matplotlib.figure.Figure` with
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`) and never pass through pyplot, so
drawing needs no display, leaves pyplot's figure list and backend alone and leaks nothing.
Pictures are written atomically (a temporary file beside the target, then ``os.replace``):
an interrupted run never leaves a half-written file. The format follows the extension:
``.png``, ``.svg`` or ``.pdf``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ._typing import PathLike
from .exceptions import InvalidInputError
from .utils import atomic_output, output_target

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "check_output_path", "new_figure", "save_figure"]

#: picture formats, named by their file extension
FORMATS = ("png", "svg", "pdf")


def check_output_path(
    path: PathLike, func: str = "save_figure", name: str = "path"
) -> tuple[str, str]:
    """Check a picture path before any work is done; returns ``(path, format)``.

    The extension must be one of :data:`FORMATS` and only a regular file (or a link to one) in
    a folder that exists is ever replaced (:func:`mmmech.utils.output_target`). Errors are one
    line naming `func` and the argument `name`.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        kinds = ", ".join("." + f for f in FORMATS[:-1]) + f" or .{FORMATS[-1]}"
        raise InvalidInputError(f"{func}(): {name} must end in {kinds}, got {path!r}")
    output_target(path, prefix=f"{func}(): ")
    return path, ext


def new_figure(figsize: tuple[float, float], dpi: float | None = None) -> Figure:
    """A matplotlib Figure on its own Agg canvas (pyplot's state untouched)."""
    # deferred: matplotlib costs about 0.3 s; import mmmech stays fast
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # deferred (matplotlib, as above)

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(
    fig: Figure,
    path: PathLike,
    dpi: float = 150,
    func: str = "save_figure",
    name: str = "path",
    **savefig: Any,
) -> str:
    """Write `fig` to `path` atomically (png, svg or pdf by extension); returns the path.

    `savefig` goes to :meth:`matplotlib.figure.Figure.savefig` (``bbox_inches``,
    ``facecolor`` ...). The figure is not closed: it is not registered with pyplot, so it is
    freed with its last reference.
    """
    path, ext = check_output_path(path, func, name)
    with atomic_output(path, suffix="." + ext) as tmp:
        fig.savefig(tmp, dpi=dpi, format=ext, **savefig)
    return path
