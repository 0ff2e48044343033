"""The bundled populations and user population files: :func:`available` and :func:`load`."""

from __future__ import annotations

import functools
import os

from ..resources import bundled_name_or_file, data_file, data_names, file_stamp, read_text_file
from .reader import read_population
from .records import Population

__all__ = ["available", "load"]


def available() -> list[str]:
    """Names of the bundled populations, sorted (``load(name)`` reads one)."""
    return data_names("populations")


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
    name, path = bundled_name_or_file(name_or_path, "populations", "population")
    return _bundled(name) if name is not None else _user(file_stamp(str(path)))
