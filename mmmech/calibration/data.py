"""Calibration and validation data: single-agent clinical arms and combination trials.

``calibration/single_agent.toml`` (installed as ``mmmech._data.calibration``) holds the
single-agent arms :func:`mmmech.calibration.calibrate` fits; ``trials/combination_trials.toml``
(``mmmech._data.trials``) holds the randomised combination trials that are validation only.
Both are read here with one-line errors naming the file (and the line where TOML gives one) and
checked: every record has a source, rates lie in [0, 1], ``low <= value <= high``.

The combination rule (:func:`is_single_agent`): an arm is calibration data only when it gives
one active anti-myeloma agent, or dexamethasone alone. Dexamethasone as a *backbone* (Rd, Pd,
Vd) makes a combination; premedication is not part of ``agents``. The loader refuses a
calibration arm whose ``agents`` or virtual-arm drugs break the rule.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import tomllib

from ..exceptions import ModelFileError, UnknownNameError
from ..sources import is_source
from ..utils import did_you_mean
from .params import available_parameters

__all__ = [
    "RATE_KEYS",
    "TIME_KEYS",
    "SETTINGS",
    "SingleAgentArm",
    "TrialArm",
    "CombinationTrial",
    "is_single_agent",
    "is_source_id",
    "load_single_agent",
    "load_combination_trials",
    "data_path",
]

#: response rates (fractions) an arm may report, each with optional ``_low`` / ``_high``
RATE_KEYS = ("orr", "vgpr_or_better", "cr_or_better")
#: times (months) an arm may report, each with optional ``_low`` / ``_high``
TIME_KEYS = ("median_pfs_months", "median_ttp_months")
#: disease settings of the data (a trial's eligibility)
SETTINGS = ("ndmm", "rrmm")
#: the agent that may stand alone or not count as a second one
DEXAMETHASONE = "dexamethasone"

_NCT = re.compile(r"^NCT\d{8}$")
_PACKAGES = {"calibration": "mmmech._data.calibration", "trials": "mmmech._data.trials"}


def is_source_id(text: object) -> bool:
    """A source identifier of these files: PMID/DOI/PMC/... (:mod:`mmmech.sources`) or a
    ClinicalTrials.gov number ``NCT`` + 8 digits."""
    return is_source(text) or (isinstance(text, str) and _NCT.match(text) is not None)


def is_single_agent(agents: Sequence[str]) -> bool:
    """True for one active agent, or dexamethasone alone (the calibration rule).

    >>> is_single_agent(["bortezomib"]), is_single_agent(["dexamethasone"])
    (True, True)
    >>> is_single_agent(["lenalidomide", "dexamethasone"])
    False
    """
    names = [str(a).strip().lower() for a in agents]
    return len(set(names)) == 1 and len(names) == 1


def data_path(folder: str, name: str) -> Any:
    """The bundled file `name` of ``calibration`` or ``trials`` (a Traversable)."""
    return resources.files(_PACKAGES[folder]).joinpath(name)


@dataclass(frozen=True)
class SingleAgentArm:
    """One single-agent clinical arm (calibration data)."""

    id: str
    trial: str
    agents: tuple[str, ...]
    setting: str
    values: Mapping[str, float]
    sources: tuple[str, ...]
    refs: tuple[str, ...]
    verified: bool
    n: int | None = None
    subgroup: str | None = None
    virtual_arm: Mapping[str, Any] | None = None
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: the arm's enrolled patient mix (``[arm.population_mix]``): ``features`` {name: share},
    #: ``level_medians`` {node: median}, with its provenance; None = the population's own
    population_mix: Mapping[str, Any] | None = None

    def value(self, key: str) -> float | None:
        return self.values.get(key)

    def interval(self, key: str) -> tuple[float | None, float | None]:
        return self.values.get(f"{key}_low"), self.values.get(f"{key}_high")

    def regimen_spec(self) -> dict[str, Any] | None:
        """The virtual arm as a regimen variant mapping for the dynamics layer, or None."""
        if not self.virtual_arm:
            return None
        spec: dict[str, Any] = {"regimen": self.virtual_arm["regimen"], "label": self.id}
        if self.virtual_arm.get("drop"):
            spec["drop"] = list(self.virtual_arm["drop"])
        if self.virtual_arm.get("dose_scale"):
            spec["dose_scale"] = dict(self.virtual_arm["dose_scale"])
        return spec


@dataclass(frozen=True)
class TrialArm:
    name: str
    role: str
    values: Mapping[str, float]
    n: int | None = None
    regimen: str | None = None


@dataclass(frozen=True)
class CombinationTrial:
    """One randomised combination trial (validation only)."""

    id: str
    name: str
    setting: str
    eligibility: str
    arms: tuple[TrialArm, ...]
    sources: tuple[str, ...]
    refs: tuple[str, ...]
    verified: bool
    hr: Mapping[str, float]
    subgroup: str | None = None
    note: str = ""


class _Reader:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def error(self, where: str, msg: str) -> ModelFileError:
        return ModelFileError(f"{self.origin}: {where}: {msg}")

    def parse(self, text: str) -> dict[str, Any]:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            # tomllib's message ends with "(at line L, column C)"
            raise ModelFileError(f"{self.origin}: not valid TOML: {e}") from None

    def text(self, d: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
        v = d.get(key)
        if v is None and not required:
            return ""
        if not isinstance(v, str) or not v.strip():
            raise self.error(where, f"{key} must be a non-empty string, got {v!r}")
        return v

    def number(self, v: Any, key: str, where: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.error(where, f"{key} must be a finite number, got {v!r}")
        return float(v)

    def n(self, d: Mapping[str, Any], where: str) -> int | None:
        v = d.get("n")
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise self.error(where, f"n must be an integer >= 1, got {v!r}")
        return v

    def values(self, d: Mapping[str, Any], where: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for key in (*RATE_KEYS, *TIME_KEYS):
            for suffix in ("", "_low", "_high"):
                k = key + suffix
                if k in d:
                    out[k] = self.number(d[k], k, where)
            if key in RATE_KEYS:
                for k in (key, f"{key}_low", f"{key}_high"):
                    if k in out and not (0.0 <= out[k] <= 1.0):
                        raise self.error(where, f"{k} must be a fraction in [0, 1], got {out[k]!r}")
            else:
                for k in (key, f"{key}_low", f"{key}_high"):
                    if k in out and not out[k] > 0:
                        raise self.error(where, f"{k} must be > 0 months, got {out[k]!r}")
            lo, v, hi = out.get(f"{key}_low"), out.get(key), out.get(f"{key}_high")
            if v is None and (lo is not None or hi is not None):
                raise self.error(where, f"{key}_low/{key}_high given without {key}")
            if v is not None and lo is not None and lo > v:
                raise self.error(where, f"need {key}_low <= {key}, got {lo!r} > {v!r}")
            if v is not None and hi is not None and hi < v:
                raise self.error(where, f"need {key} <= {key}_high, got {v!r} > {hi!r}")
        return out

    def provenance(
        self, d: Mapping[str, Any], where: str
    ) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        src = d.get("sources", [])
        refs = d.get("refs", [])
        if not isinstance(src, list) or not all(isinstance(s, str) for s in src):
            raise self.error(where, f"sources must be a list of identifiers, got {src!r}")
        if not isinstance(refs, list) or not all(isinstance(s, str) and s for s in refs):
            raise self.error(where, f"refs must be a list of citations, got {refs!r}")
        for s in src:
            if not is_source_id(s):
                raise self.error(
                    where,
                    f"source {s!r} is not an identifier (PMID:, DOI:10..., PMC:PMC..., NCT + 8 "
                    f"digits)",
                )
        verified = d.get("verified")
        if not isinstance(verified, bool):
            raise self.error(where, f"verified must be true or false, got {verified!r}")
        if not src and not refs:
            raise self.error(where, "every record needs a source (sources or refs)")
        if not src and verified:
            raise self.error(
                where, "a record citing only refs (no identifier) must be verified = false"
            )
        return tuple(src), tuple(refs), verified

    def setting(self, d: Mapping[str, Any], where: str) -> str:
        s = d.get("setting")
        if s not in SETTINGS:
            raise self.error(
                where,
                f"setting must be one of {', '.join(SETTINGS)}, got {s!r}"
                f"{did_you_mean(str(s), SETTINGS)}",
            )
        return str(s)


def _read_text(name_or_path: str | os.PathLike[str], folder: str, func: str) -> tuple[str, str]:
    """``(text, origin)`` of a bundled file of `folder` (by name) or a user file (by path)."""
    if isinstance(name_or_path, (str, os.PathLike)) and os.path.isfile(name_or_path):
        with open(name_or_path, encoding="utf-8") as fh:
            return fh.read(), os.fspath(name_or_path)
    if not isinstance(name_or_path, str):
        raise UnknownNameError(f"{func}(): no such file {os.fspath(name_or_path)!r}")
    name = name_or_path.removesuffix(".toml")
    root = resources.files(_PACKAGES[folder])
    names = sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))
    if folder == "calibration":  # parameter files share the folder; they are not data
        names = [n for n in names if n not in available_parameters()]
    if name not in names:
        raise UnknownNameError(
            f"{func}(): no {folder} data file {name_or_path!r} (bundled: {', '.join(names)})"
            f"{did_you_mean(name, names)}"
        )
    return root.joinpath(f"{name}.toml").read_text(encoding="utf-8"), f"{folder}/{name}.toml"


_ARM_KEYS = {
    "id", "trial", "agents", "setting", "subgroup", "prior_lines", "refractory", "schedule",
    "n", "sources", "refs", "verified", "note", "virtual_arm", "population_mix",
    *RATE_KEYS, *TIME_KEYS,
    *(f"{k}_{s}" for k in (*RATE_KEYS, *TIME_KEYS) for s in ("low", "high")),
}  # fmt: skip


def load_single_agent(
    name_or_path: str | os.PathLike[str] = "single_agent",
) -> tuple[SingleAgentArm, ...]:
    """The single-agent calibration arms (bundled ``single_agent`` or a file in its format)."""
    text, origin = _read_text(name_or_path, "calibration", "load_single_agent")
    chk = _Reader(origin)
    doc = chk.parse(text)
    if "trial" in doc and "arm" not in doc:
        raise chk.error(
            "top level",
            "this is a combination-trial file ([[trial]]): combination results are validation "
            "only, never calibration data",
        )
    arms = doc.get("arm")
    if not isinstance(arms, list) or not arms:
        raise chk.error("top level", "needs [[arm]] tables")
    out: list[SingleAgentArm] = []
    seen: set[str] = set()
    for i, a in enumerate(arms, 1):
        where = f"arm {i}"
        if not isinstance(a, dict):
            raise chk.error(where, "must be a table")
        aid = chk.text(a, "id", where)
        where = f"arm {i} ({aid})"
        unknown = sorted(set(a) - _ARM_KEYS)
        if unknown:
            raise chk.error(
                where, f"unknown key {unknown[0]!r}{did_you_mean(unknown[0], sorted(_ARM_KEYS))}"
            )
        if aid in seen:
            raise chk.error(where, f"duplicate id {aid!r}")
        seen.add(aid)
        agents = a.get("agents")
        if (
            not isinstance(agents, list)
            or not agents
            or not all(isinstance(x, str) for x in agents)
        ):
            raise chk.error(where, f"agents must be a non-empty list of drug names, got {agents!r}")
        if not is_single_agent(agents):
            raise chk.error(
                where,
                f"agents {agents!r} is a combination: calibration data are one drug or "
                f"dexamethasone alone (combination results are validation only)",
            )
        src, refs, verified = chk.provenance(a, where)
        va = a.get("virtual_arm")
        if va is not None:
            va = _virtual_arm(chk, va, agents[0], where)
        extra = {k: a[k] for k in ("prior_lines", "refractory", "schedule") if k in a}
        mix = a.get("population_mix")
        if mix is not None:
            mix = _population_mix(chk, mix, where)
        out.append(
            SingleAgentArm(
                id=aid,
                trial=chk.text(a, "trial", where),
                agents=tuple(agents),
                setting=chk.setting(a, where),
                values=chk.values(a, where),
                sources=src,
                refs=refs,
                verified=verified,
                n=chk.n(a, where),
                subgroup=a.get("subgroup"),
                virtual_arm=va,
                note=chk.text(a, "note", where, required=False),
                extra=extra,
                population_mix=mix,
            )
        )
    return tuple(out)


_MIX_KEYS = ("features", "level_medians", "sources", "refs", "verified", "note")


def _population_mix(chk: _Reader, mix: Any, where: str) -> dict[str, Any]:
    """Check ``[arm.population_mix]``: ``features = {name = share}`` (shares in [0, 1]) and/or
    ``level_medians = {node = median}`` (> 0), with sources or refs. Whether the names exist
    in the population is checked when the arm's cohort is drawn
    (:func:`mmmech.populations.with_mix`)."""
    w = f"{where}: population_mix"
    if not isinstance(mix, dict):
        raise chk.error(w, "must be a table")
    unknown = sorted(set(mix) - set(_MIX_KEYS))
    if unknown:
        raise chk.error(w, f"unknown key {unknown[0]!r}{did_you_mean(unknown[0], _MIX_KEYS)}")
    out: dict[str, Any] = {}
    for key, low, high in (("features", 0.0, 1.0), ("level_medians", 0.0, math.inf)):
        t = mix.get(key, {})
        if not isinstance(t, dict):
            raise chk.error(w, f"{key} must be a table {{name = number}}, got {t!r}")
        vals = {}
        for k, v in t.items():
            x = chk.number(v, f"{key}.{k}", w)
            if not (low <= x <= high) or (key == "level_medians" and x <= 0):
                rng = "in [0, 1]" if key == "features" else "> 0"
                raise chk.error(w, f"{key}.{k} must be {rng}, got {v!r}")
            vals[k] = x
        out[key] = vals
    if not out["features"] and not out["level_medians"]:
        raise chk.error(w, "needs features or level_medians")
    src, refs, verified = chk.provenance(mix, w)
    out.update(sources=src, refs=refs, verified=verified, note=mix.get("note", ""))
    return out


def _virtual_arm(chk: _Reader, va: Any, agent: str, where: str) -> dict[str, Any]:
    """Check a virtual arm: a bundled regimen whose drugs after `drop` are exactly `agent`."""
    from .. import regimens as _regimens  # deferred: regimen files load only when checked

    w = f"{where}: virtual_arm"
    if not isinstance(va, dict):
        raise chk.error(w, "must be a table")
    allowed = {"regimen", "drop", "dose_scale", "schedule_match"}
    unknown = sorted(set(va) - allowed)
    if unknown:
        raise chk.error(w, f"unknown key {unknown[0]!r}{did_you_mean(unknown[0], sorted(allowed))}")
    name = chk.text(va, "regimen", w)
    try:
        reg = _regimens.load(name)
    except UnknownNameError as e:
        raise chk.error(w, str(e)) from None
    drop = va.get("drop", [])
    if not isinstance(drop, list) or not all(isinstance(d, str) for d in drop):
        raise chk.error(w, f"drop must be a list of drug names, got {drop!r}")
    for d in drop:
        if d not in reg.drugs:
            raise chk.error(
                w, f"drop names {d!r}, not a drug of {name}{did_you_mean(d, list(reg.drugs))}"
            )
    left = [d for d in reg.drugs if d not in drop]
    if left != [agent]:
        raise chk.error(
            w,
            f"{name} without {drop} gives {left}, not the arm's single agent {agent!r} "
            f"(calibration runs one drug, or dexamethasone alone)",
        )
    scale = va.get("dose_scale", {})
    if not isinstance(scale, dict):
        raise chk.error(w, f"dose_scale must be a table, got {scale!r}")
    for d, f in scale.items():
        if d != agent or isinstance(f, bool) or not isinstance(f, (int, float)) or not f > 0:
            raise chk.error(w, f"dose_scale must scale {agent!r} by a number > 0, got {d}={f!r}")
    return dict(va)


_TRIAL_KEYS = {
    "id", "name", "setting", "subgroup", "eligibility", "sources", "refs", "verified", "note",
    "hr", "hr_low", "hr_high", "hr_ci_level", "arm",
}  # fmt: skip
_TARM_KEYS = {
    "name", "role", "regimen", "n", *RATE_KEYS, *TIME_KEYS,
    *(f"{k}_{s}" for k in (*RATE_KEYS, *TIME_KEYS) for s in ("low", "high")),
}  # fmt: skip


def load_combination_trials(
    name_or_path: str | os.PathLike[str] = "combination_trials",
) -> tuple[CombinationTrial, ...]:
    """The combination trials (validation only; bundled ``combination_trials`` or a file)."""
    text, origin = _read_text(name_or_path, "trials", "load_combination_trials")
    chk = _Reader(origin)
    doc = chk.parse(text)
    trials = doc.get("trial")
    if not isinstance(trials, list) or not trials:
        raise chk.error("top level", "needs [[trial]] tables")
    out: list[CombinationTrial] = []
    for i, t in enumerate(trials, 1):
        where = f"trial {i}"
        if not isinstance(t, dict):
            raise chk.error(where, "must be a table")
        tid = chk.text(t, "id", where)
        where = f"trial {i} ({tid})"
        unknown = sorted(set(t) - _TRIAL_KEYS)
        if unknown:
            raise chk.error(
                where, f"unknown key {unknown[0]!r}{did_you_mean(unknown[0], sorted(_TRIAL_KEYS))}"
            )
        src, refs, verified = chk.provenance(t, where)
        hr: dict[str, float] = {}
        for k in ("hr", "hr_low", "hr_high", "hr_ci_level"):
            if k in t:
                hr[k] = chk.number(t[k], k, where)
                if not hr[k] > 0:
                    raise chk.error(where, f"{k} must be > 0, got {hr[k]!r}")
        if "hr" in hr and not (
            hr.get("hr_low", hr["hr"]) <= hr["hr"] <= hr.get("hr_high", hr["hr"])
        ):
            raise chk.error(where, "need hr_low <= hr <= hr_high")
        arms_in = t.get("arm")
        if not isinstance(arms_in, list) or len(arms_in) < 2:
            raise chk.error(where, "needs at least two [[trial.arm]] tables")
        arms: list[TrialArm] = []
        for j, a in enumerate(arms_in, 1):
            aw = f"{where}: arm {j}"
            if not isinstance(a, dict):
                raise chk.error(aw, "must be a table")
            unk = sorted(set(a) - _TARM_KEYS)
            if unk:
                raise chk.error(
                    aw, f"unknown key {unk[0]!r}{did_you_mean(unk[0], sorted(_TARM_KEYS))}"
                )
            role = a.get("role")
            if role not in ("experimental", "control"):
                raise chk.error(aw, f"role must be 'experimental' or 'control', got {role!r}")
            arms.append(
                TrialArm(
                    name=chk.text(a, "name", aw),
                    role=str(role),
                    values=chk.values(a, aw),
                    n=chk.n(a, aw),
                    regimen=a.get("regimen"),
                )
            )
        out.append(
            CombinationTrial(
                id=tid,
                name=chk.text(t, "name", where),
                setting=chk.setting(t, where),
                eligibility=chk.text(t, "eligibility", where),
                arms=tuple(arms),
                sources=src,
                refs=refs,
                verified=verified,
                hr=hr,
                subgroup=t.get("subgroup"),
                note=chk.text(t, "note", where, required=False),
            )
        )
    return tuple(out)
