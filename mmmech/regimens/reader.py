"""Reading and validating regimen files (format: ``docs/regimens.md``).

A file is read whole and checked whole before a :class:`~mmmech.regimens.records.Regimen` is
built: nothing is returned from a half-read file. A rejected file gives one
:class:`~mmmech.exceptions.ModelFileError` line naming the file, the line, the table (phase,
drug), the field, what was expected and what came; an unknown drug suggests the closest library
names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ..drugs import library
from ..exceptions import ModelFileError
from ..resources import parse_toml
from ..sources import describe_expected, is_source
from ..utils import did_you_mean
from .records import (
    DOSE_UNITS,
    FOLLOW_UP,
    MODIFICATION_ACTIONS,
    PHASE_KINDS,
    ROUTES,
    TOXICITY_MEASURES,
    UNTIL_PROGRESSION,
    DoseLevel,
    DoseModification,
    DrugSchedule,
    Phase,
    Regimen,
    StepUp,
)

__all__ = ["read_regimen"]

_REGIMEN_KEYS = ("name", "title", "indication", "sources", "notes", "omitted")
_PHASE_KEYS = ("name", "cycles", "cycle_days", "delay_days", "note", "drug")
_DRUG_KEYS = (
    "drug",
    "dose",
    "unit",
    "route",
    "days",
    "cycles_apply",
    "step_up",
    "infusion_hours",
    "max_dose",
    "dose_levels",
    "dose_modification",
    "verified",
    "note",
    "sources",
)
_LEVEL_KEYS = ("level", "dose", "note", "verified")
_MOD_KEYS = (
    "trigger",
    "action",
    "resume",
    "resume_at",
    "first_resume_at",
    "note",
    "verified",
    "sources",
)
_RESUME_AT = ("same", "next_level")
_CONDITION = re.compile(r"^\s*([a-z]+)_grade\s*(>=|<=|==|>|<)\s*(\d)\s*$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_HEADER = re.compile(r"^\s*(\[\[|\[)\s*([A-Za-z0-9_.\s]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")

Path = tuple[Any, ...]


class _Lines:
    """Line numbers of the tables and keys of a TOML text, by table path.

    A path is ``("regimen",)``, ``("phase", i)``, ``("phase", i, "drug", j)`` or
    ``("phase", i, "drug", j, "dose_levels", k)`` (0-based indices, in file order).
    """

    def __init__(self, text: str) -> None:
        self.tables: dict[Path, int] = {}
        self.keys: dict[tuple[Path, str], int] = {}
        current: Path = ()
        counts: dict[Path, int] = {}
        last: dict[str, Path] = {}
        for lineno, line in enumerate(text.splitlines(), start=1):
            m = _HEADER.match(line)
            if m:
                array = m.group(1) == "[["
                parts = [p.strip() for p in m.group(2).split(".")]
                parent: Path = ()
                if len(parts) > 1:
                    parent = last.get(".".join(parts[:-1]), ())
                if array:
                    key = parent + (parts[-1],)
                    index = counts.get(key, 0)
                    counts[key] = index + 1
                    current = key + (index,)
                else:
                    current = parent + (parts[-1],)
                last[".".join(parts)] = current
                self.tables.setdefault(current, lineno)
                continue
            k = _KEY.match(line)
            if k and current:
                self.keys.setdefault((current, k.group(1)), lineno)

    def of(self, path: Path, key: str | None = None) -> int:
        """The line of `key` in the table at `path` (its header line when the key is absent)."""
        if key is not None and (path, key) in self.keys:
            return self.keys[(path, key)]
        return self.tables.get(path, 0)


class _Checker:
    """Validation of one file; every error names the file and the line."""

    def __init__(self, text: str, origin: str) -> None:
        self.origin = origin
        self.lines = _Lines(text)

    def error(self, path: Path, key: str | None, where: str, msg: str) -> ModelFileError:
        line = self.lines.of(path, key)
        at = f"{self.origin}, line {line}" if line else self.origin
        field = f"'{key}' " if key else ""
        return ModelFileError(f"{at}: {where}: {field}{msg}")

    def keys(self, d: Mapping[str, Any], allowed: tuple[str, ...], path: Path, where: str) -> None:
        for k in d:
            if k not in allowed:
                raise self.error(
                    path,
                    k,
                    where,
                    f"is not a known field (expected one of {', '.join(allowed)})"
                    f"{did_you_mean(k, allowed)}",
                )

    def text(
        self, d: Mapping[str, Any], key: str, path: Path, where: str, required: bool = True
    ) -> str:
        v = d.get(key)
        if v is None:
            if required:
                raise self.error(path, None, where, f"missing '{key}' (expected a string)")
            return ""
        if not isinstance(v, str) or (required and not v.strip()):
            raise self.error(path, key, where, f"expected a non-empty string, got {v!r}")
        return v.strip()

    def number(self, v: Any, path: Path, key: str, where: str, what: str = "a number > 0") -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise self.error(path, key, where, f"expected {what}, got {v!r}")
        return float(v)

    def integer(self, v: Any, path: Path, key: str, where: str, low: int = 1) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise self.error(path, key, where, f"expected an integer >= {low}, got {v!r}")
        return v

    def sources(self, v: Any, path: Path, key: str, where: str, required: bool) -> tuple[str, ...]:
        if v is None:
            if required:
                raise self.error(
                    path, None, where, f"missing '{key}' (expected a list of source ids)"
                )
            return ()
        if not isinstance(v, list) or (required and not v):
            raise self.error(path, key, where, f"expected a non-empty list of ids, got {v!r}")
        for s in v:
            if not is_source(s):
                raise self.error(path, key, where, f"{describe_expected()}; got {s!r}")
        return tuple(v)


def _days(chk: _Checker, v: Any, cycle_days: int, path: Path, where: str) -> tuple[int, ...]:
    """Parse ``days``: integers and ``"a-b"`` ranges, each within 1..cycle_days, no repeats."""
    if not isinstance(v, list) or not v:
        raise chk.error(
            path,
            "days",
            where,
            f"expected a list of days of the cycle (1..{cycle_days}), got {v!r}",
        )
    out: list[int] = []
    for item in v:
        if isinstance(item, bool):
            raise chk.error(path, "days", where, f"expected a day number, got {item!r}")
        if isinstance(item, int):
            out.append(item)
            continue
        m = _RANGE.match(item) if isinstance(item, str) else None
        if not m or int(m.group(1)) > int(m.group(2)):
            raise chk.error(
                path, "days", where, f'expected a day or a range like "1-21", got {item!r}'
            )
        out.extend(range(int(m.group(1)), int(m.group(2)) + 1))
    for day in out:
        if not 1 <= day <= cycle_days:
            raise chk.error(
                path, "days", where, f"expected days within the cycle 1..{cycle_days}, got {day}"
            )
    dup = sorted({d for d in out if out.count(d) > 1})
    if dup:
        raise chk.error(path, "days", where, f"expected each day once, got day {dup[0]} twice")
    return tuple(sorted(out))


def _cycles_apply(
    chk: _Checker, v: Any, cycles: int | None, path: Path, where: str
) -> tuple[int, int | None]:
    if v is None:
        return 1, None
    if isinstance(v, int) and not isinstance(v, bool):
        v = [v, v]
    ok = (
        isinstance(v, list)
        and len(v) == 2
        and isinstance(v[0], int)
        and not isinstance(v[0], bool)
        and (v[1] == "last" or (isinstance(v[1], int) and not isinstance(v[1], bool)))
    )
    if not ok:
        raise chk.error(
            path,
            "cycles_apply",
            where,
            f'expected [first, last] cycles or [first, "last"], got {v!r}',
        )
    first, last = v[0], (None if v[1] == "last" else v[1])
    top = f"1..{cycles}" if cycles is not None else ">= 1"
    if first < 1 or (cycles is not None and first > cycles):
        raise chk.error(path, "cycles_apply", where, f"expected a first cycle {top}, got {first}")
    if last is not None and (last < first or (cycles is not None and last > cycles)):
        raise chk.error(
            path,
            "cycles_apply",
            where,
            f"expected a last cycle {first}..{cycles or 'any'}, got {last}",
        )
    return first, last


def _drug_name(chk: _Checker, v: Any, path: Path, where: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise chk.error(path, "drug", where, f"expected a drug name, got {v!r}")
    lib = library()
    if v not in lib:
        choices = [n for d in lib.values() for n in (d.name, *d.synonyms)]
        raise chk.error(
            path,
            "drug",
            where,
            f"expected a drug of the mmmech library ('mmmech drugs list'), got {v!r}"
            f"{did_you_mean(v, choices)}",
        )
    return lib[v].name


def _dose_levels(
    chk: _Checker, v: Any, dose: float | None, path: Path, where: str
) -> tuple[DoseLevel, ...]:
    if v is None:
        return ()
    if not isinstance(v, list):
        raise chk.error(
            path, "dose_levels", where, f"expected [[...dose_levels]] tables, got {v!r}"
        )
    out: list[DoseLevel] = []
    for k, t in enumerate(v):
        lpath = path + ("dose_levels", k)
        lwhere = f"{where}, dose level {k + 1}"
        if not isinstance(t, dict):
            raise chk.error(path, "dose_levels", where, f"expected a table, got {t!r}")
        chk.keys(t, _LEVEL_KEYS, lpath, lwhere)
        if "level" not in t:
            raise chk.error(lpath, None, lwhere, "missing 'level' (expected -1, -2, ...)")
        level = t["level"]
        if isinstance(level, bool) or not isinstance(level, int) or level >= 0:
            raise chk.error(lpath, "level", lwhere, f"expected a negative integer, got {level!r}")
        if "dose" not in t:
            raise chk.error(lpath, None, lwhere, "missing 'dose' (expected a number > 0)")
        ldose = chk.number(t["dose"], lpath, "dose", lwhere)
        lver = t.get("verified", True)
        if not isinstance(lver, bool):
            raise chk.error(lpath, "verified", lwhere, f"expected true or false, got {lver!r}")
        lnote = chk.text(t, "note", lpath, lwhere, required=not lver)
        out.append(DoseLevel(level, ldose, lnote, lver))
    out.sort(key=lambda x: -x.level)
    for k, lv in enumerate(out):
        if lv.level != -(k + 1):
            raise chk.error(
                path, "dose_levels", where, f"expected levels -1, -2, ... in turn, got {lv.level}"
            )
        above = dose if k == 0 else out[k - 1].dose
        if above is not None and lv.dose >= above:
            raise chk.error(
                path,
                "dose_levels",
                where,
                f"expected level {lv.level} below {above:g}, got {lv.dose:g}",
            )
    return tuple(out)


def _condition(chk: _Checker, v: Any, path: Path, key: str, where: str) -> tuple[str, str, int]:
    """Parse ``<measure>_grade<op><grade>`` into (measure, op, grade)."""
    m = _CONDITION.match(v) if isinstance(v, str) else None
    if not m or m.group(1) not in TOXICITY_MEASURES:
        raise chk.error(
            path,
            key,
            where,
            f'expected a condition like "anc_grade>=3" (measures: '
            f"{', '.join(TOXICITY_MEASURES)}; grades 0-4), got {v!r}",
        )
    grade = int(m.group(3))
    if grade > 4:
        raise chk.error(path, key, where, f"expected a CTCAE grade 0-4, got {grade}")
    return m.group(1), m.group(2), grade


def _dose_modifications(
    chk: _Checker, v: Any, path: Path, where: str
) -> tuple[DoseModification, ...]:
    if v is None:
        return ()
    if not isinstance(v, list):
        raise chk.error(
            path, "dose_modification", where, f"expected [[...dose_modification]] tables, got {v!r}"
        )
    out: list[DoseModification] = []
    for k, t in enumerate(v):
        mpath = path + ("dose_modification", k)
        mwhere = f"{where}, dose modification {k + 1}"
        if not isinstance(t, dict):
            raise chk.error(path, "dose_modification", where, f"expected a table, got {t!r}")
        chk.keys(t, _MOD_KEYS, mpath, mwhere)
        for req in ("trigger", "action"):
            if req not in t:
                raise chk.error(mpath, None, mwhere, f"missing '{req}'")
        measure, op, grade = _condition(chk, t["trigger"], mpath, "trigger", mwhere)
        action = t["action"]
        if action not in MODIFICATION_ACTIONS:
            raise chk.error(
                mpath,
                "action",
                mwhere,
                f"expected one of {', '.join(MODIFICATION_ACTIONS)}, got {action!r}"
                f"{did_you_mean(str(action), MODIFICATION_ACTIONS)}",
            )
        resume = t.get("resume", "")
        rmeasure, rop, rgrade = "", "", 0
        if resume:
            rmeasure, rop, rgrade = _condition(chk, resume, mpath, "resume", mwhere)
        elif action == "hold":
            raise chk.error(
                mpath, None, mwhere, "missing 'resume' (a hold needs a condition like anc_grade<=2)"
            )
        resume_at = t.get("resume_at", "next_level")
        first = t.get("first_resume_at", "")
        for key, val, allowed in (
            ("resume_at", resume_at, _RESUME_AT),
            ("first_resume_at", first, ("",) + _RESUME_AT),
        ):
            if val not in allowed:
                raise chk.error(
                    mpath, key, mwhere, f"expected one of {', '.join(_RESUME_AT)}, got {val!r}"
                )
        mver = t.get("verified", True)
        if not isinstance(mver, bool):
            raise chk.error(mpath, "verified", mwhere, f"expected true or false, got {mver!r}")
        out.append(
            DoseModification(
                trigger=t["trigger"].replace(" ", ""),
                measure=measure,
                op=op,
                grade=grade,
                action=action,
                resume=str(resume).replace(" ", ""),
                resume_measure=rmeasure,
                resume_op=rop,
                resume_grade=rgrade,
                resume_at=resume_at,
                first_resume_at=first,
                note=chk.text(t, "note", mpath, mwhere, required=not mver),
                verified=mver,
                sources=chk.sources(t.get("sources"), mpath, "sources", mwhere, required=False),
            )
        )
    return tuple(out)


def _drug_block(chk: _Checker, d: Any, phase: Phase, i: int, j: int, pwhere: str) -> DrugSchedule:
    path: Path = ("phase", i, "drug", j)
    if not isinstance(d, dict):
        raise chk.error(("phase", i), "drug", pwhere, f"expected [[phase.drug]] tables, got {d!r}")
    label = d.get("drug") if isinstance(d.get("drug"), str) else "?"
    where = f"{pwhere}, drug {j + 1} ({label!r})"
    chk.keys(d, _DRUG_KEYS, path, where)
    if "drug" not in d:
        raise chk.error(path, None, where, "missing 'drug' (expected a library drug name)")
    name = _drug_name(chk, d["drug"], path, where)
    unit = d.get("unit")
    if unit is None:
        raise chk.error(
            path, None, where, f"missing 'unit' (expected one of {', '.join(DOSE_UNITS)})"
        )
    if unit not in DOSE_UNITS:
        raise chk.error(
            path,
            "unit",
            where,
            f"expected one of {', '.join(DOSE_UNITS)}, got {unit!r}"
            f"{did_you_mean(unit, DOSE_UNITS)}",
        )
    route = d.get("route")
    if route is None:
        raise chk.error(path, None, where, f"missing 'route' (expected one of {', '.join(ROUTES)})")
    if route not in ROUTES:
        raise chk.error(
            path,
            "route",
            where,
            f"expected one of {', '.join(ROUTES)}, got {route!r}{did_you_mean(route, ROUTES)}",
        )
    step: list[StepUp] = []
    raw_step = d.get("step_up")
    if raw_step is not None:
        if not isinstance(raw_step, list) or not raw_step:
            raise chk.error(
                path,
                "step_up",
                where,
                f"expected a list of {{day = .., dose = ..}}, got {raw_step!r}",
            )
        for s in raw_step:
            if not isinstance(s, dict) or set(s) != {"day", "dose"}:
                raise chk.error(
                    path, "step_up", where, f"expected {{day = .., dose = ..}} entries, got {s!r}"
                )
            day = _days(chk, [s["day"]], phase.cycle_days, path, where)[0]
            step.append(StepUp(day, chk.number(s["dose"], path, "step_up", where)))
    dose: float | None = None
    days: tuple[int, ...] = ()
    if "dose" in d or not step:
        if "dose" not in d:
            raise chk.error(path, None, where, f"missing 'dose' (expected a number in {unit})")
        dose = chk.number(d["dose"], path, "dose", where)
        if "days" not in d:
            raise chk.error(
                path, None, where, f"missing 'days' (expected days 1..{phase.cycle_days})"
            )
        days = _days(chk, d["days"], phase.cycle_days, path, where)
    elif "days" in d:
        raise chk.error(path, "days", where, "expected no 'days' without a 'dose' (step-up only)")
    sdays = [s.day for s in step]
    if len(set(sdays)) != len(sdays) or set(sdays) & set(days):
        raise chk.error(
            path, "step_up", where, "expected step-up days apart from each other and 'days'"
        )
    first, last = _cycles_apply(chk, d.get("cycles_apply"), phase.cycles, path, where)
    hours = None
    if "infusion_hours" in d:
        if route not in ("iv", "iv_infusion"):
            raise chk.error(
                path,
                "infusion_hours",
                where,
                f"expected only with route iv or iv_infusion, got route {route!r}",
            )
        hours = chk.number(d["infusion_hours"], path, "infusion_hours", where)
    max_dose = None
    if "max_dose" in d:
        max_dose = chk.number(d["max_dose"], path, "max_dose", where)
    verified = d.get("verified", True)
    if not isinstance(verified, bool):
        raise chk.error(path, "verified", where, f"expected true or false, got {verified!r}")
    note = chk.text(d, "note", path, where, required=not verified)
    return DrugSchedule(
        drug=name,
        dose=dose,
        unit=unit,
        route=route,
        days=days,
        first_cycle=first,
        last_cycle=last,
        step_up=tuple(sorted(step, key=lambda s: s.day)),
        infusion_hours=hours,
        max_dose=max_dose,
        dose_levels=_dose_levels(chk, d.get("dose_levels"), dose, path, where),
        dose_modifications=_dose_modifications(chk, d.get("dose_modification"), path, where),
        verified=verified,
        note=note,
        sources=chk.sources(d.get("sources"), path, "sources", where, required=False),
        line=chk.lines.of(path),
    )


def _check_overlaps(chk: _Checker, phase: Phase, i: int, where: str) -> None:
    """Two blocks of one drug must not dose on the same day of the same cycle."""
    blocks = phase.drugs
    for a in range(len(blocks)):
        for b in range(a + 1, len(blocks)):
            x, y = blocks[a], blocks[b]
            if x.drug != y.drug:
                continue
            lo = max(x.first_cycle, y.first_cycle)
            his = [c for c in (x.last_cycle, y.last_cycle, phase.cycles) if c is not None]
            hi = min(his) if his else lo
            for cycle in range(lo, hi + 1):
                dx = {day for day, _ in x.doses_in(cycle)}
                dy = {day for day, _ in y.doses_in(cycle)}
                common = sorted(dx & dy)
                if common:
                    raise chk.error(
                        ("phase", i, "drug", b),
                        None,
                        f"{where}, drug {b + 1} ({y.drug!r})",
                        f"schedule overlaps drug {a + 1} (line {x.line}) of the same drug: "
                        f"both dose cycle {cycle}, day {common[0]} (give each block its own "
                        f"'cycles_apply' or days)",
                    )


def _phase(chk: _Checker, p: Any, i: int) -> Phase:
    path: Path = ("phase", i)
    if not isinstance(p, dict):
        raise chk.error((), None, "file", f"expected [[phase]] tables, got {p!r}")
    label = p.get("name") if isinstance(p.get("name"), str) else "?"
    where = f"phase {i + 1} ({label!r})"
    chk.keys(p, _PHASE_KEYS, path, where)
    name = chk.text(p, "name", path, where)
    if name not in PHASE_KINDS:
        raise chk.error(
            path,
            "name",
            where,
            f"expected one of {', '.join(PHASE_KINDS)}, got {name!r}"
            f"{did_you_mean(name, PHASE_KINDS)}",
        )
    if "cycles" not in p:
        raise chk.error(
            path, None, where, f"missing 'cycles' (expected an integer or {UNTIL_PROGRESSION!r})"
        )
    raw = p["cycles"]
    cycles: int | None
    if raw == UNTIL_PROGRESSION:
        cycles = None
    elif isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        cycles = raw
    else:
        raise chk.error(
            path, "cycles", where, f"expected an integer >= 1 or {UNTIL_PROGRESSION!r}, got {raw!r}"
        )
    if "cycle_days" not in p:
        raise chk.error(path, None, where, "missing 'cycle_days' (expected an integer >= 1)")
    cycle_days = chk.integer(p["cycle_days"], path, "cycle_days", where)
    delay = chk.integer(p.get("delay_days", 0), path, "delay_days", where, low=0)
    drugs_raw = p.get("drug")
    if name == FOLLOW_UP:
        # observation only: a follow-up phase doses nothing
        if drugs_raw is not None:
            raise chk.error(
                path, None, where, "a 'follow_up' phase doses nothing: remove its [[phase.drug]]"
            )
        drugs_raw = []
    elif not isinstance(drugs_raw, list) or not drugs_raw:
        raise chk.error(path, None, where, "expected at least one [[phase.drug]] table")
    shell = Phase(name, cycles, cycle_days, (), delay, "", chk.lines.of(path))
    blocks = tuple(_drug_block(chk, d, shell, i, j, where) for j, d in enumerate(drugs_raw))
    phase = Phase(
        name=name,
        cycles=cycles,
        cycle_days=cycle_days,
        drugs=blocks,
        delay_days=delay,
        note=chk.text(p, "note", path, where, required=False),
        line=shell.line,
    )
    _check_overlaps(chk, phase, i, where)
    return phase


def read_regimen(text: str, origin: str, expect_name: str | None = None) -> Regimen:
    """Parse and validate the regimen document `text` (`origin` names it in messages).

    Parameters
    ----------
    text
        The TOML text of one regimen (format: ``docs/regimens.md``).
    origin
        The file name used in error messages.
    expect_name
        When given, ``[regimen] name`` must equal it (bundled files are named after it).

    Raises
    ------
    ModelFileError
        One line: file, line, table, field, what was expected and what came.
    """
    doc = parse_toml(text, origin)
    chk = _Checker(text, origin)
    for k in doc:
        if k not in ("regimen", "phase"):
            raise chk.error(
                (k,) if k in chk.lines.tables or (k,) in chk.lines.tables else (),
                k,
                "file",
                f"is not a known table (expected [regimen] and [[phase]])"
                f"{did_you_mean(k, ('regimen', 'phase'))}",
            )
    head = doc.get("regimen")
    if not isinstance(head, dict):
        raise chk.error((), None, "file", "missing the [regimen] table")
    path: Path = ("regimen",)
    where = "[regimen]"
    chk.keys(head, _REGIMEN_KEYS, path, where)
    name = chk.text(head, "name", path, where)
    if not _NAME.match(name):
        raise chk.error(
            path, "name", where, f"expected lower-case letters, digits and '_', got {name!r}"
        )
    if expect_name is not None and name != expect_name:
        raise chk.error(
            path, "name", where, f"expected {expect_name!r} (the file's name), got {name!r}"
        )
    omitted = head.get("omitted", [])
    if not isinstance(omitted, list) or not all(isinstance(o, str) and o.strip() for o in omitted):
        raise chk.error(path, "omitted", where, f"expected a list of strings, got {omitted!r}")
    phases_raw = doc.get("phase")
    if not isinstance(phases_raw, list) or not phases_raw:
        raise chk.error((), None, "file", "expected at least one [[phase]] table")
    phases = tuple(_phase(chk, p, i) for i, p in enumerate(phases_raw))
    for i, ph in enumerate(phases[:-1]):
        if ph.until_progression:
            raise chk.error(
                ("phase", i),
                "cycles",
                f"phase {i + 1} ({ph.name!r})",
                f"expected a number: a phase running {UNTIL_PROGRESSION!r} must be the last, "
                f"got phase {i + 2} ({phases[i + 1].name!r}) after it",
            )
    return Regimen(
        name=name,
        title=chk.text(head, "title", path, where),
        indication=chk.text(head, "indication", path, where),
        sources=chk.sources(head.get("sources"), path, "sources", where, required=True),
        phases=phases,
        notes=chk.text(head, "notes", path, where, required=False),
        omitted=tuple(o.strip() for o in omitted),
        origin=origin,
    )
