"""The bundled populations and user population files: :func:`available` and :func:`load`."""

from __future__ import annotations

import functools
import os

from ..exceptions import UnknownNameError
from ..resources import data_file, file_stamp, list_data, read_text_file
from ..utils import did_you_mean
from .reader import read_population
from .records import Population

__all__ = ["available", "load"]


def available() -> list[str]:
    """Names of the bundled populations, sorted (``load(name)`` reads one)."""
    return [n[: -len(".toml")] for n in list_data("populations")]


@functools.cache
def _bundled(name: str) -> Population:
    res = data_file("populations", f"{name}.toml")
    return read_population(
        res.read_text(encoding="utf-8"), f"populations/{name}.toml", expect_name=name
    )


@functools.lru_cache(maxsize=64)
def _user(stamp: tuple[str, int, int]) -> Population:
    path = stamp[0]
    return read_population(read_text_file(path, "load"), path)


def load(name_or_path: str | os.PathLike[str]) -> Population:
    """The population called `name_or_path` (bundled, case-insensitive) or read from that file.

    Raises
    ------
    UnknownNameError
        Neither a bundled population nor an existing file (with the closest bundled names).
    ModelFileError
        The file is malformed (one line naming file, field, expected and received).
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise UnknownNameError(
            f"load(): expected a population name or a file path, got {type(name_or_path).__name__}"
        )
    text = os.fspath(name_or_path)
    key = text.strip().lower()
    if key.endswith(".toml") and os.sep not in key and "/" not in key and not os.path.exists(text):
        key = key[: -len(".toml")]
    names = available()
    if key in names:
        return _bundled(key)
    if os.path.isfile(text):
        return _user(file_stamp(text))
    raise UnknownNameError(
        f"load(): unknown population {text!r}{did_you_mean(text, names)} (bundled: "
        f"{', '.join(names)}; or give the path of a population file)"
    )
