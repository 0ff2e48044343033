"""Per-trial enrolment criteria of the validation trials (``trials/enrolment.toml``).

Each table names a trial of ``trials/combination_trials.toml`` and holds criteria in the format
of a population's ``[eligibility]`` table (:func:`mmmech.populations.read_eligibility`):
``measurable`` thresholds (replacing the population's when given), ``exclude`` and ``require``
(feature names, added to the population's). :func:`trial_population` merges them into the
trial's population, which keeps its name, so every enrolled patient is the same patient it is in
the population's own sequence (docs/populations.md, *Eligibility*).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from importlib import resources
from typing import Any

from .. import populations as _populations
from ..exceptions import InvalidInputError, ModelFileError
from ..populations import Eligibility, Population
from ..populations.reader import _Check, read_eligibility
from ..resources import parse_toml, read_text_file
from ..utils import did_you_mean

__all__ = ["load_trial_enrolment", "trial_population", "describe_eligibility"]

_FUNC = "load_trial_enrolment"


def _parse(text: str, origin: str) -> dict[str, Eligibility]:
    doc = parse_toml(text, origin)
    chk = _Check(origin, text)
    version = doc.get("version")
    if version != "1":
        raise ModelFileError(f"{origin}: top level: 'version' must be \"1\", got {version!r}")
    features = sorted(_populations.known_features())
    out: dict[str, Eligibility] = {}
    for tid, raw in doc.items():
        if tid == "version":
            continue
        elig = read_eligibility(chk, raw, tid, features)
        out[tid] = dataclasses.replace(elig, origin=f"{origin} [{tid}]")
    return out


@functools.cache
def _bundled() -> dict[str, Eligibility]:
    res = resources.files("mmmech._data.trials").joinpath("enrolment.toml")
    return _parse(res.read_text(encoding="utf-8"), "trials/enrolment.toml")


def load_trial_enrolment(path: str | os.PathLike[str] | None = None) -> dict[str, Eligibility]:
    """Trial id -> its enrolment criteria: the bundled ``trials/enrolment.toml`` (`path` None)
    or a file in its format. Bad data give one line naming the file, the line and the field."""
    if path is None:
        return dict(_bundled())
    p = os.fspath(path)
    return _parse(read_text_file(p, _FUNC), p)


def describe_eligibility(e: Eligibility) -> str:
    """A short human-readable summary of `e` (for tables and notes)."""
    parts = []
    if e.measurable:
        parts.append(
            "measurable "
            + ", ".join(
                f"{k} {v}" if isinstance(v, str) else f"{k} >= {v:g} g/dL"
                for k, v in e.measurable.items()
            )
        )
    if e.exclude:
        parts.append("excludes " + ", ".join(e.exclude))
    if e.require:
        parts.append("requires " + ", ".join(e.require))
    return "; ".join(parts) or "M-protein > 0"


def trial_population(
    population: Population | str, trial_id: str, criteria: Mapping[str, Eligibility]
) -> tuple[Population, Eligibility | None]:
    """`population` with trial `trial_id`'s criteria (from `criteria`) merged into its own, and
    those criteria (None when the trial has none: the population is returned unchanged). A
    criterion naming a feature the population does not sample is an error."""
    pop: Any = population if isinstance(population, Population) else _populations.load(population)
    extra = criteria.get(trial_id)
    if extra is None:
        return pop, None
    have = list(pop.prevalences())
    for f in (*extra.exclude, *extra.require):
        if f not in have:
            raise InvalidInputError(
                f"trial_population(): {extra.origin} names feature {f!r}, which population "
                f"{pop.name!r} does not sample{did_you_mean(f, have)}"
            )
    return _populations.with_eligibility(pop, extra), extra
