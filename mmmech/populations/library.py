"""The bundled populations and user population files: :func:`available` and :func:`load`."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Mapping
from typing import Any

from .._readonly import ReadOnlyDict
from ..exceptions import InvalidInputError
from ..resources import bundled_name_or_file, data_file, data_names, file_stamp, read_text_file
from ..utils import did_you_mean
from .reader import read_population
from .records import Population

__all__ = ["available", "load", "subgroup_population", "with_mix"]


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


def with_mix(
    population: Any,
    features: Mapping[str, float] | None = None,
    level_medians: Mapping[str, float] | None = None,
) -> Any:
    """`population` (a name, path or Population) as a trial enrolled it: `features` gives the
    enrolled share of group members or features (``{"t11_14": 0.46}``) and `level_medians` the
    enrolled median of lognormal levels (``{"TCellCount": 0.6}``).

    Patient ``i`` keeps every draw of the population; a feature's share moves only the
    patients the mix needs to move, with uniforms from their own sub-stream ``mix/<feature>``
    (:func:`mmmech.populations.sampler._mixed`); a level keeps the patient's quantile (the same
    uniform) under the new median. The population keeps its name (the patients' keys).
    Unknown names suggest close matches; a share outside [0, 1], a median <= 0 or outside the
    level's bounds, or a level that is not lognormal is an error.
    """
    func = "with_mix()"
    pop = population if isinstance(population, Population) else load(population)
    shares = dict(pop.mix)
    known = pop.prevalences()
    for name, q in (features or {}).items():
        if name not in known:
            raise InvalidInputError(
                f"{func}: features must name group members or features of {pop.name!r}, got "
                f"{name!r}{did_you_mean(name, sorted(known))}"
            )
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 <= q <= 1.0:
            raise InvalidInputError(
                f"{func}: the share of {name!r} must be a number in [0, 1], got {q!r}"
            )
        shares[name] = float(q)
    levels = dict(pop.levels)
    for node, m in (level_medians or {}).items():
        if node not in levels:
            have = sorted(levels)
            raise InvalidInputError(
                f"{func}: level_medians must name levels of {pop.name!r} "
                f"({', '.join(have) or 'none'}), got {node!r}{did_you_mean(node, have)}"
            )
        d = levels[node]
        if d.kind != "lognormal":
            raise InvalidInputError(
                f"{func}: level {node!r} must be lognormal to take a median, got {d.kind!r}"
            )
        if (
            isinstance(m, bool)
            or not isinstance(m, (int, float))
            or not math.isfinite(m)
            or m <= 0
            or (d.low is not None and m < d.low)
            or (d.high is not None and m > d.high)
        ):
            raise InvalidInputError(
                f"{func}: the median of {node!r} must be a number > 0 within "
                f"[{d.low}, {d.high}], got {m!r}"
            )
        levels[node] = dataclasses.replace(d, median=float(m))
    parts = [f"{k} {v:g}" for k, v in shares.items()]
    parts += [f"{k} median {v:g}" for k, v in (level_medians or {}).items()]
    return dataclasses.replace(
        pop,
        mix=ReadOnlyDict(shares),
        levels=ReadOnlyDict(levels),
        note=f"{pop.note} Enrolled mix: {', '.join(parts) or 'none'}.",
    )
