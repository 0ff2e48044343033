"""Access to the curated data shipped with mmmech (structures/, pathways/, regimens/ and
populations/).

The top-level folders ``structures/``, ``pathways/``, ``regimens/`` and ``populations/`` of the
source tree are installed as ``mmmech._data.structures``, ``mmmech._data.pathways``,
``mmmech._data.regimens`` and ``mmmech._data.populations``; this module finds them through
:mod:`importlib.resources`, so they work from any installed copy (wheel, sdist, editable).
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ._typing import PathLike
from .exceptions import ModelFileError, UnknownNameError
from .utils import did_you_mean

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from importlib.abc import Traversable  # importlib.resources.abc only from Python 3.11

__all__ = ["data_file", "list_data", "load_toml", "parse_toml", "read_text_file", "file_stamp"]

_PACKAGES = {
    "structures": "mmmech._data.structures",
    "pathways": "mmmech._data.pathways",
    "contexts": "mmmech._data.pathways.contexts",
    "validation": "mmmech._data.pathways.validation",
    "regimens": "mmmech._data.regimens",
    "populations": "mmmech._data.populations",
    "patients": "mmmech._data.patients",
}


def data_file(folder: str, name: str) -> Traversable:
    """Return a Traversable for `name` in a curated data `folder` ('structures', 'pathways',
    'contexts', 'validation', 'regimens', 'populations')."""
    return resources.files(_PACKAGES[folder]).joinpath(name)


def list_data(folder: str, suffix: str = ".toml") -> list[str]:
    """Names of the files in a curated data folder that end with `suffix`, sorted."""
    root = resources.files(_PACKAGES[folder])
    return sorted(p.name for p in root.iterdir() if p.name.endswith(suffix))


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """Parse TOML `text`; a syntax error becomes :class:`ModelFileError` naming `origin` and the
    line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(f"{origin}: invalid TOML: {exc}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: a few hundred levels of
        # '[[[...' exhaust Python's stack. No model or context nests more than a few levels.
        raise ModelFileError(
            f"{origin}: invalid TOML: arrays or inline tables nested too "
            f"deeply (Python's parser gives up after a few hundred "
            f"levels)"
        ) from None


def read_text_file(path: PathLike, func: str = "read") -> str:
    """The text of a UTF-8 file (a BOM is dropped); ModelFileError naming the file and the line
    of the first byte that is not UTF-8, or why the file cannot be read."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ModelFileError(
            f"{func}(): cannot read {os.fspath(path)!r}: {exc.strerror or exc}"
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ModelFileError(
            f"{os.fspath(path)}, line {line}: not UTF-8 text (byte "
            f"0x{data[exc.start]:02x}: {exc.reason}); save the file as "
            f"UTF-8"
        ) from None


def load_toml(folder: str, name: str) -> dict[str, Any]:
    """Load a bundled TOML file from a curated data folder."""
    res = data_file(folder, name)
    return parse_toml(res.read_text(encoding="utf-8"), f"{folder}/{name}")


def file_stamp(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    """The cache key of a user's file: ``(real path, modification time in ns, size)``.

    mmmech's one caching rule: bundled data are cached by name for the process
    (``functools.lru_cache``); a user's file is cached under its stamp, so an edited file is read
    again and two names of one file share an entry.
    """
    st = os.stat(path)
    return (os.path.realpath(path), st.st_mtime_ns, st.st_size)


def data_names(folder: str) -> list[str]:
    """Names (without ``.toml``) of the bundled TOML files of a curated data folder, sorted."""
    return [n[: -len(".toml")] for n in list_data(folder)]


def bundled_name_or_file(
    name_or_path: str | os.PathLike[str], folder: str, what: str
) -> tuple[str | None, str | None]:
    """Resolve what a ``load(name_or_path)`` of a curated data folder was given.

    Returns ``(name, None)`` for a bundled file of `folder` (the name case-insensitive, with or
    without ``.toml``) or ``(None, path)`` for an existing user file. `what` names the kind of
    file in the one-line :class:`UnknownNameError` otherwise (with the closest bundled names).
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise UnknownNameError(
            f"load(): expected a {what} name or a file path, got {type(name_or_path).__name__}"
        )
    text = os.fspath(name_or_path)
    key = text.strip().lower()
    if key.endswith(".toml") and os.sep not in key and "/" not in key and not os.path.exists(text):
        key = key[: -len(".toml")]
    names = data_names(folder)
    if key in names:
        return key, None
    if os.path.isfile(text):
        return None, text
    raise UnknownNameError(
        f"load(): unknown {what} {text!r}{did_you_mean(text, names)} (bundled: "
        f"{', '.join(names)}; or give the path of a {what} file)"
    )
