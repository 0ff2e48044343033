"""The bundled populations and user population files: :func:`available` and :func:`load`."""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any

from ..exceptions import InvalidInputError
from ..resources import bundled_name_or_file, data_file, data_names, file_stamp, read_text_file
from ..utils import did_you_mean
from .reader import read_population
from .records import Population

__all__ = ["available", "load", "subgroup_population"]


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


def subgroup_population(population: Any, context: str) -> Any:
    """`population` (a name, path or Population) with `context` forced on every patient.

    The exclusive group (or independent feature) whose member adds `context` is replaced by
    that member alone with probability 1, so every patient has it; the population keeps its
    name, so patient ``i`` keeps every other draw (the sampler spends one uniform per group
    and feature whatever its members). A context no member adds is an error naming the
    contexts the population has.
    """
    pop = population if isinstance(population, Population) else (load(population))
    groups = list(pop.groups)
    features = list(pop.features)
    hit = False
    for gi, g in enumerate(groups):
        for m in g.members:
            if context in m.contexts:
                groups[gi] = dataclasses.replace(
                    g, members=(dataclasses.replace(m, probability=1.0, low=None, high=None),)
                )
                hit = True
                break
        if hit:
            break
    if not hit:
        for fi, f in enumerate(features):
            if context in f.contexts:
                # forced on every patient: no longer drawn jointly with a partner
                features[fi] = dataclasses.replace(
                    f, probability=1.0, low=None, high=None, joint_with=None, joint_probability=None
                )
                hit = True
                break
    if not hit:
        have = sorted({c for cs in pop.context_of().values() for c in cs})
        raise InvalidInputError(
            f"subgroup_population(): context must be one the population {pop.name!r} "
            f"samples ({', '.join(have)}), got {context!r}{did_you_mean(context, have)}"
        )
    return dataclasses.replace(
        pop,
        groups=tuple(groups),
        features=tuple(features),
        note=f"{pop.note} Subgroup: context {context!r} forced on every patient.",
    )
