"""Small helpers shared by every layer: close-match suggestions, random state, checks."""

from __future__ import annotations

import contextlib
import difflib
import numbers
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ._typing import PathLike, SeedLike
from .exceptions import InvalidInputError, MmmechError, OutputError

_T = TypeVar("_T")

__all__ = [
    "suggest",
    "did_you_mean",
    "check_random_state",
    "check_finite_array",
    "atomic_output",
    "atomic_write",
    "output_target",
    "file_mode",
]


def suggest(name: object, choices: Iterable[_T], n: int = 3, cutoff: float = 0.6) -> list[_T]:
    """Return up to `n` entries of `choices` closest to `name` (case-insensitive).

    Examples
    --------
    >>> suggest("bortezomb", ["bortezomib", "carfilzomib", "ixazomib"])
    ['bortezomib']
    """
    lowered = {str(c).lower(): c for c in choices}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=cutoff)
    if not hits:  # fall back to substring matches ("zomib" -> the proteasome inhibitors)
        key = str(name).lower()
        hits = [k for k in lowered if key and (key in k or k in key)][:n]
    return [lowered[h] for h in hits]


def did_you_mean(name: object, choices: Iterable[object], n: int = 3) -> str:
    """A sentence fragment suggesting close matches, or '' when there are none."""
    hits = suggest(name, choices, n=n)
    return f"; did you mean {', '.join(repr(h) for h in hits)}?" if hits else ""


def check_random_state(seed: SeedLike = None) -> np.random.Generator:
    """Turn ``None | int | numpy.random.Generator`` into a ``numpy.random.Generator``.

    Examples
    --------
    >>> int(check_random_state(1).integers(0, 10)) == int(check_random_state(1).integers(0, 10))
    True
    """
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise InvalidInputError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise InvalidInputError(
        f"seed must be None, a non-negative int or a numpy Generator, got {type(seed).__name__}"
    )


def check_finite_array(
    x: npt.ArrayLike,
    name: str,
    func: str,
    ndim: int | None = None,
    dtype: npt.DTypeLike = np.float64,
    min_value: float | None = None,
) -> np.ndarray:
    """Coerce `x` to a C-contiguous array of `dtype` and check shape and finiteness.

    Raises :class:`InvalidInputError` naming `func` and `name` when `x` is not numeric,
    has the wrong number of dimensions, is empty, holds NaN/inf, or falls below `min_value`.
    """
    try:
        arr = np.ascontiguousarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{func}(): {name} must be numeric, got {x!r:.80}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(
            f"{func}(): {name} must be {ndim}-dimensional, got shape {arr.shape}"
        )
    if arr.size == 0:
        raise InvalidInputError(f"{func}(): {name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[:3].tolist()
        raise InvalidInputError(f"{func}(): {name} must be finite, got {bad}")
    if min_value is not None and np.any(arr < min_value):
        bad = arr[arr < min_value].ravel()[:3].tolist()
        raise InvalidInputError(f"{func}(): {name} must be >= {min_value}, got {bad}")
    return arr


def file_mode() -> int:
    """Permissions of a new file under the current umask (mkstemp's own files are private)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode):
    """What a non-regular file is, in words."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def _output_error(path, exc, what="cannot write"):
    """OSError -> OutputError naming `path` and the operating system's reason."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return OutputError(f"{what} {path!r}: {reason}")


def output_target(path: PathLike, prefix: str = "") -> str:
    """The regular file that writing `path` replaces, checked before any work is written.

    Returns `path` itself, or for a symbolic link the file it points to (the link is kept and
    its target replaced; a dangling link creates its target). Raises
    :class:`InvalidInputError` when the path (or the link's target) exists and is anything but
    a regular file (a folder, a device, a pipe, a socket), or when its folder does not exist,
    and :class:`OutputError` when the operating system refuses to look (a link loop, ...).
    Nothing but a regular file is ever replaced. `prefix` starts each message (for example
    ``"draw(): "``).
    """
    path = os.fspath(path)
    target = os.path.realpath(path) if os.path.islink(path) else path
    shown = repr(path) if target == path else f"{path!r} (a link to {target!r})"
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None  # a parent is a regular file: reported below ("is not a folder")
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OutputError(f"{prefix}cannot write {shown}: {reason}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(
            f"{prefix}cannot write {shown}: it is {_kind(st.st_mode)}, "
            f"not a regular file; only a regular file is replaced"
        )
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise InvalidInputError(f"{prefix}cannot write {shown}: {folder!r} is not a folder")
        raise InvalidInputError(f"{prefix}cannot write {shown}: folder {folder!r} does not exist")
    return target


@contextlib.contextmanager
def atomic_output(path: PathLike, suffix: str = ".tmp", fsync: bool = False) -> Iterator[str]:
    """Write an output file atomically: yield a temporary path beside `path`.

    When the block ends normally the temporary file gets the permissions of the file it
    replaces (or the usual ones for a new file) and replaces `path` in one ``os.replace``; when
    it raises (or is interrupted) the temporary file is removed, so `path` is never
    half-written.

    Only a regular file is replaced: a folder, device node, named pipe or socket at `path` is
    refused (:class:`InvalidInputError`) before anything is written. A symbolic link is
    followed: the file it points to is replaced and the link kept. An operating-system error
    (no permission, disk full, ...) while creating, writing or renaming the temporary file
    becomes an :class:`OutputError` naming `path` and the reason, with nothing left behind.

    Examples
    --------
    >>> import os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> with atomic_output(out) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> open(out).read()
    'done'
    """
    path = os.fspath(path)
    target = output_target(path)
    folder = os.path.dirname(os.path.abspath(target))
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=suffix, dir=folder
        )
        os.close(fd)
    except OSError as exc:
        raise _output_error(path, exc) from None
    try:
        try:
            yield tmp
        except OSError as exc:
            if isinstance(exc, MmmechError) or exc.filename not in (None, tmp):
                raise  # already explained, or not about the output (an input, ...)
            raise _output_error(path, exc) from exc
        try:
            if fsync:
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
            if output_target(path) != target:  # a link was changed while the block ran
                raise InvalidInputError(f"cannot write {path!r}: it changed while being written")
            try:
                mode = stat.S_IMODE(os.stat(target).st_mode)
            except FileNotFoundError:
                mode = file_mode()
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except MmmechError:
            raise
        except OSError as exc:
            raise _output_error(path, exc) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: PathLike, data: bytes) -> None:
    """Write bytes to `path` atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
