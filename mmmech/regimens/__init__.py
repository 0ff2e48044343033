"""Treatment regimens as data: the bundled ``regimens/*.toml`` and any file in their format.

A regimen names its drugs (library names), doses with units (mg, mg/m2, mg/kg, cells,
cells/kg), routes, days within each cycle, cycle length and number, and its phases (induction,
transplant, consolidation, maintenance until progression, ...). Every bundled regimen cites the
pivotal trial or the FDA label it was read from; a schedule that could not be confirmed says
``verified = false`` with a note. The format: ``docs/regimens.md``.

Modules
-------
records   :class:`Regimen`, :class:`Phase`, :class:`DrugSchedule`, :class:`DoseLevel`,
          :class:`StepUp`, :class:`Body` and the vocabularies (:data:`ROUTES`,
          :data:`DOSE_UNITS`, :data:`PHASE_KINDS`)
reader    :func:`read_regimen` (parsing and validation, one-line errors with file and line)
schedule  :func:`expand` (the dose list of the first N cycles) and :class:`DoseEvent`

Examples
--------
>>> from mmmech import regimens
>>> "vrd" in regimens.available()
True
>>> r = regimens.load("rd")
>>> r.drugs
('lenalidomide', 'dexamethasone')
>>> [e.day for e in regimens.expand(r, cycles=1) if e.drug == "dexamethasone"]
[1, 8, 15, 22]
"""

from __future__ import annotations

import functools
import os

from ..resources import bundled_name_or_file, data_file, data_names, file_stamp, read_text_file
from .reader import read_regimen
from .records import (
    DOSE_UNITS,
    PHASE_KINDS,
    ROUTES,
    UNTIL_PROGRESSION,
    Body,
    DoseLevel,
    DoseModification,
    DrugSchedule,
    Phase,
    Regimen,
    StepUp,
)
from .schedule import DoseEvent, expand, phase_starts

__all__ = [
    "ROUTES",
    "DOSE_UNITS",
    "PHASE_KINDS",
    "UNTIL_PROGRESSION",
    "Body",
    "DoseEvent",
    "DoseLevel",
    "DoseModification",
    "DrugSchedule",
    "Phase",
    "Regimen",
    "StepUp",
    "available",
    "load",
    "expand",
    "phase_starts",
    "read_regimen",
]


def available() -> list[str]:
    """Names of the bundled regimens, sorted (``load(name)`` reads one)."""
    return data_names("regimens")


@functools.cache
def _bundled(name: str) -> Regimen:
    res = data_file("regimens", f"{name}.toml")
    return read_regimen(res.read_text(encoding="utf-8"), f"regimens/{name}.toml", expect_name=name)


@functools.lru_cache(maxsize=64)
def _user(stamp: tuple[str, int, int]) -> Regimen:
    path = stamp[0]
    return read_regimen(read_text_file(path, "load"), path)


def load(name_or_path: str | os.PathLike[str]) -> Regimen:
    """The regimen called `name_or_path` (bundled, case-insensitive) or read from that file.

    Bundled regimens are cached for the process; a user's file is read again when it changes.

    Raises
    ------
    UnknownNameError
        Neither a bundled regimen nor an existing file (with the closest bundled names).
    ModelFileError
        The file is malformed (one line naming file, line, field, expected and received).
    """
    name, path = bundled_name_or_file(name_or_path, "regimens", "regimen")
    return _bundled(name) if name is not None else _user(file_stamp(str(path)))
