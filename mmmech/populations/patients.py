"""One patient as a file: ``patients/*.toml`` (bundled) or any file in their format.

:func:`load_patient` returns the same :class:`~mmmech.populations.Patient` record that
:func:`~mmmech.populations.sample` draws, from a file that describes one real or hypothetical
patient: body size (BSA computed from weight and height as the sampler does), renal function,
isotype and baseline M-protein, patient contexts and features (validated against the bundled
contexts and populations, with close matches), ``[levels]`` on model inputs, ``[tumour]``
kinetics multipliers and a ``[health]`` table (ECOG, IMWG frailty, blood counts, neuropathy
grade) for the toxicity layer. Every error
is one :class:`~mmmech.exceptions.ModelFileError` line naming the file, the line and the field.
Format: ``docs/populations.md`` (section "Patient files").
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from typing import Any

from .._readonly import ReadOnlyDict
from ..exceptions import ModelFileError
from ..resources import (
    bundled_name_or_file,
    data_file,
    data_names,
    file_stamp,
    parse_toml,
    read_text_file,
)
from ..utils import did_you_mean
from .library import available as _populations
from .library import load as _population
from .reader import ISOTYPES, _Check, known_nodes
from .records import FRAILTY, TUMOUR_SCALES, Health, Patient
from .sampler import bsa

__all__ = ["available_patients", "load_patient", "read_patient", "known_features"]

_TOP = (
    "name",
    "description",
    "note",
    "age",
    "weight_kg",
    "height_cm",
    "bsa_formula",
    "crcl_ml_min",
    "isotype",
    "m_protein_g_dL",
    "contexts",
    "features",
    "levels",
    "health",
    "tumour",
)
_HEALTH = (
    "ecog",
    "frailty",
    "anc_10e9_L",
    "platelets_10e9_L",
    "hemoglobin_g_dL",
    "neuropathy_grade",
)
#: plausibility bounds of a ``[tumour]`` multiplier (an input check, not a sourced number)
_TUMOUR_BOUNDS = (0.01, 100.0)
#: plausibility bounds (input checks, not sourced numbers): field -> (low, high), inclusive
_BOUNDS = {
    "age": (18.0, 120.0),
    "weight_kg": (20.0, 350.0),
    "height_cm": (100.0, 250.0),
    "crcl_ml_min": (1.0, 250.0),
    "m_protein_g_dL": (0.0, 20.0),
    "anc_10e9_L": (0.0, 100.0),
    "platelets_10e9_L": (0.0, 2000.0),
    "hemoglobin_g_dL": (1.0, 25.0),
}
_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


@functools.cache
def known_features() -> dict[str, tuple[str, ...]]:
    """Feature names of the bundled populations (group members and features) and the contexts
    each adds: the names a patient file's ``features`` may use."""
    out: dict[str, tuple[str, ...]] = {}
    for name in _populations():
        for k, v in _population(name).context_of().items():
            out.setdefault(k, v)
    return out


class _PatientCheck(_Check):
    """The population reader's checks, with the line of the field in every error."""

    def __init__(self, origin: str, text: str) -> None:
        super().__init__(origin)
        self.lines: dict[tuple[str, str], int] = {}
        self.at: tuple[str, str] = ("", "")
        table = ""
        for n, line in enumerate(text.splitlines(), start=1):
            m = _HEADER.match(line)
            if m:
                table = m.group(1)
                self.lines.setdefault((table, ""), n)
                continue
            k = _KEY.match(line)
            if k:
                self.lines.setdefault((table, k.group(1)), n)

    def error(self, where: str, msg: str) -> ModelFileError:
        table, key = self.at
        line = self.lines.get((table, key)) or self.lines.get((table, ""))
        origin = f"{self.origin}, line {line}" if line else self.origin
        return ModelFileError(f"{origin}: {where}: {msg}")

    def field(self, table: str, key: str) -> _PatientCheck:
        self.at = (table, key)
        return self

    def bounded(self, d: Mapping[str, Any], key: str, where: str, table: str = "") -> float:
        self.field(table, key)
        v = self.number(d, key, where)
        low, high = _BOUNDS[key]
        if not low <= v <= high:
            raise self.error(where, f"'{key}' must be in [{low:g}, {high:g}], got {v:g}")
        return v

    def grade(self, d: Mapping[str, Any], key: str, where: str, high: int) -> int | None:
        self.field("health", key)
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= high:
            raise self.error(where, f"'{key}' must be an integer 0-{high}, got {v!r}")
        return int(v)


def read_patient(text: str, origin: str, expect_name: str | None = None) -> Patient:
    """Parse and validate the TOML `text` of a patient file (`origin` names it in errors)."""
    doc = parse_toml(text, origin)
    chk = _PatientCheck(origin, text)
    top = "top level"
    for k in doc:
        chk.field(k if isinstance(doc[k], Mapping) else "", k)
        chk.keys({k: None}, _TOP, top)
    chk.field("", "name")
    name = chk.text(doc, "name", top, required=True)
    if expect_name is not None and name != expect_name:
        raise chk.error(top, f"'name' must match the file name {expect_name!r}, got {name!r}")
    chk.field("", "description")
    description = chk.text(doc, "description", top)
    chk.field("", "note")
    note = chk.text(doc, "note", top)
    age = chk.bounded(doc, "age", top)
    weight = chk.bounded(doc, "weight_kg", top)
    height = chk.bounded(doc, "height_cm", top)
    crcl = chk.bounded(doc, "crcl_ml_min", top)
    chk.field("", "bsa_formula")
    formula = doc.get("bsa_formula", "mosteller")
    if formula not in ("mosteller", "dubois"):
        raise chk.error(top, f"'bsa_formula' must be 'mosteller' or 'dubois', got {formula!r}")
    chk.field("", "isotype")
    isotype = doc.get("isotype")
    if not isinstance(isotype, str) or isotype not in ISOTYPES:
        raise chk.error(
            top,
            f"'isotype' must be one of {', '.join(ISOTYPES)}, got {isotype!r}"
            f"{did_you_mean(isotype, ISOTYPES) if isinstance(isotype, str) else ''}",
        )
    m_protein = chk.bounded(doc, "m_protein_g_dL", top)
    if isotype == "nonsecretory" and m_protein != 0:
        raise chk.error(top, f"a nonsecretory patient has 'm_protein_g_dL' = 0, got {m_protein:g}")
    if isotype != "nonsecretory" and m_protein <= 0:
        raise chk.error(
            top, f"'m_protein_g_dL' must be > 0 for {isotype} disease, got {m_protein:g}"
        )
    chk.field("", "contexts")
    contexts = list(chk.contexts(doc, top))
    chk.field("", "features")
    raw = doc.get("features", [])
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise chk.error(top, f"'features' must be a list of feature names, got {raw!r}")
    known = known_features()
    for f in raw:
        if f not in known:
            raise chk.error(
                top,
                f"unknown feature {f!r}{did_you_mean(f, list(known))} (known from the bundled "
                f"populations: {', '.join(sorted(known))})",
            )
    if len(set(raw)) != len(raw):
        raise chk.error(top, f"'features' lists a name twice: {raw!r}")
    for f in raw:
        contexts.extend(c for c in known[f] if c not in contexts)
    if len(set(contexts)) != len(contexts):
        raise chk.error(top, f"'contexts' lists a name twice: {contexts!r}")

    chk.field("levels", "")
    levels: dict[str, float] = {}
    raw_levels = chk.table(doc.get("levels", {}), "[levels]")
    nodes = known_nodes()
    for node, v in raw_levels.items():
        chk.field("levels", node)
        if node not in nodes:
            raise chk.error("[levels]", f"unknown model node {node!r}{did_you_mean(node, nodes)}")
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not (math.isfinite(v) and v >= 0)
        ):
            raise chk.error(
                "[levels]", f"'{node}' must be a relative level >= 0 (1 = baseline), got {v!r}"
            )
        levels[node] = float(v)

    chk.field("tumour", "")
    tumour: dict[str, float] = {}
    raw_tumour = chk.table(doc.get("tumour", {}), "[tumour]")
    for k, v in raw_tumour.items():
        chk.field("tumour", k)
        chk.keys({k: None}, TUMOUR_SCALES, "[tumour]")
        lo, hi = _TUMOUR_BOUNDS
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not (math.isfinite(v) and lo <= v <= hi)
        ):
            raise chk.error(
                "[tumour]",
                f"'{k}' must be a multiplier in [{lo:g}, {hi:g}] (1 = the typical patient), "
                f"got {v!r}",
            )
        tumour[k] = float(v)

    chk.field("health", "")
    h = chk.table(doc.get("health", {}), "[health]")
    for k in h:
        chk.field("health", k)
        chk.keys({k: None}, _HEALTH, "[health]")
    frailty = h.get("frailty")
    chk.field("health", "frailty")
    if frailty is not None and frailty not in FRAILTY:
        raise chk.error(
            "[health]",
            f"'frailty' must be one of {', '.join(FRAILTY)} (IMWG frailty), got {frailty!r}"
            f"{did_you_mean(frailty, FRAILTY) if isinstance(frailty, str) else ''}",
        )

    def opt(key: str) -> float | None:
        return None if h.get(key) is None else chk.bounded(h, key, "[health]", "health")

    health = Health(
        ecog=chk.grade(h, "ecog", "[health]", 4),
        frailty=frailty,
        anc_10e9_L=opt("anc_10e9_L"),
        platelets_10e9_L=opt("platelets_10e9_L"),
        hemoglobin_g_dL=opt("hemoglobin_g_dL"),
        neuropathy_grade=chk.grade(h, "neuropathy_grade", "[health]", 4),
    )
    notes = []
    if note:
        notes.append(note)
    if isotype == "light_chain":
        notes.append("light-chain myeloma: m_protein_g_dL is a serum-equivalent burden")
    if isotype == "nonsecretory":
        notes.append("nonsecretory myeloma: no M-protein to follow")
    return Patient(
        id=f"patient-{name}",
        index=0,
        contexts=tuple(contexts),
        features=tuple(raw),
        levels=ReadOnlyDict(levels),
        body=ReadOnlyDict(
            {
                "weight_kg": weight,
                "height_cm": height,
                "bsa_m2": bsa(weight, height, formula),
                "crcl_ml_min": crcl,
            }
        ),
        isotype=isotype,
        m_protein_g_dL=m_protein,
        age=age,
        notes=tuple(notes),
        name=name,
        description=description,
        health=health,
        origin=origin,
        tumour=ReadOnlyDict(tumour),
    )


def available_patients() -> list[str]:
    """Names of the bundled patient files, sorted (``load_patient(name)`` reads one)."""
    return data_names("patients")


@functools.cache
def _bundled(name: str) -> Patient:
    res = data_file("patients", f"{name}.toml")
    return read_patient(res.read_text(encoding="utf-8"), f"patients/{name}.toml", expect_name=name)


@functools.lru_cache(maxsize=64)
def _user(stamp: tuple[str, int, int]) -> Patient:
    path = stamp[0]
    return read_patient(read_text_file(path, "load_patient"), path)


def load_patient(name_or_path: str | os.PathLike[str]) -> Patient:
    """The patient called `name_or_path` (bundled ``patients/*.toml``, case-insensitive) or
    read from that file.

    Raises
    ------
    UnknownNameError
        Neither a bundled patient nor an existing file (with the closest bundled names).
    ModelFileError
        The file is malformed (one line naming file, line, field, expected and received).

    Examples
    --------
    >>> from mmmech import populations
    >>> p = populations.load_patient("example")
    >>> p.name, p.isotype, round(p.body["bsa_m2"], 2)
    ('example', 'IgG', 1.93)
    """
    if isinstance(name_or_path, Patient):
        return name_or_path
    name, path = bundled_name_or_file(name_or_path, "patients", "patient")
    return _bundled(name) if name is not None else _user(file_stamp(str(path)))
