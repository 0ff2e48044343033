"""Versioned parameter files written by ``mmmech calibrate`` and loaded by name.

A parameter file is ``calibration/<name>.toml`` (bundled) or any file in its format::

    [calibration]
    name = "single_agent_fit"
    version = "1"
    date = "2026-12-01"
    command = "mmmech calibrate --patients 16 --seed 1"
    data = "calibration/single_agent.toml"
    arms = ["apex_bortezomib", ...]           # the data used, with their identifiers:
    sources = ["PMID:15958804", ...]
    objective = 41.2                           # deviance at the optimum
    [[parameter]]
    name = "death_scale"
    value = 1.02
    low = 0.95                                 # 95% profile-likelihood interval
    high = 1.10

:func:`cohort_kwargs` turns a loaded file into the keywords the dynamics layer takes
(``tumour=TumourModel(...)``, ``hours_per_model_time=...``, and the per-agent factors as
``exposure_scale={drug: f}`` / ``efficacy_scale={drug: f}``) for
:func:`mmmech.simulate_regimen`, :func:`mmmech.dynamics.simulate_cohort` and
:func:`mmmech.trials.simulate_arm`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import tomllib

from .. import drugs as _drugs
from ..exceptions import InvalidInputError, ModelFileError, UnknownNameError
from ..utils import atomic_output, did_you_mean

__all__ = [
    "FACTOR_BOUNDS",
    "FACTOR_KINDS",
    "FACTOR_LOG_SD",
    "PARAMETERS",
    "ParameterSet",
    "available_parameters",
    "load_parameters",
    "cohort_kwargs",
    "write_parameters",
]

#: the free parameters a file may set: (default, lower bound, upper bound, meaning)
PARAMETERS: dict[str, tuple[float, float, float, str]] = {
    "death_scale": (
        1.0,
        0.05,
        1.3,
        "death rate per unit (Apoptosis + ImmuneKilling) relative to the untreated balance "
        "(TumourModel.death_scale); < (birth - net)/... keeps the untreated tumour growing",
    ),
    "birth_doubling_days": (
        46.8,
        15.0,
        75.4,
        "potential doubling time of marrow myeloma cells (TumourModel.birth_rate = ln 2 / it); "
        "bounds = the range of Ucci et al. 1987 (DOI:10.1111/j.1365-2184.1987.tb01313.x)",
    ),
    "hours_per_model_time": (
        1.0,
        0.25,
        8.0,
        "hours per network time unit (node time constants are 1)",
    ),
}


#: per-agent in-vivo factors: ``exposure_scale.<drug>`` (the drug's concentration reaching its
#: targets x factor) and ``efficacy_scale.<drug>`` (its target occupancies x factor, capped at 1);
#: keywords of the same names of :func:`mmmech.dynamics.simulate_cohort`
FACTOR_KINDS = ("exposure_scale", "efficacy_scale")
#: bounds of a per-agent factor (wide: a fitting range, not a plausibility claim)
FACTOR_BOUNDS = (1e-2, 1e2)
#: SD of ln(factor) of the log-normal prior (median 1 = no correction): ln 10 / 2, so 95% of the
#: prior mass lies within x0.14 to x7.1 (a modelling choice, docs/calibration.md)
FACTOR_LOG_SD = math.log(10.0) / 2.0


def parameter_spec(name: str) -> tuple[float, float, float, str] | None:
    """(default, low, high, meaning) of a parameter name a file may set (None: unknown)."""
    if name in PARAMETERS:
        return PARAMETERS[name]
    kind, _, drug = name.partition(".")
    if kind in FACTOR_KINDS and drug:
        if drug in _drugs.names():
            what = "concentration at its targets" if kind == "exposure_scale" else "occupancies"
            return (1.0, FACTOR_BOUNDS[0], FACTOR_BOUNDS[1], f"{drug}: {what} x factor")
    return None


@dataclass(frozen=True)
class ParameterSet:
    """A loaded parameter file."""

    name: str
    values: Mapping[str, float]
    intervals: Mapping[str, tuple[float | None, float | None]]
    meta: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""


def _root() -> Any:
    return resources.files("mmmech._data.calibration")


def available_parameters() -> list[str]:
    """Names of the bundled parameter files (``calibration/*.toml`` with a [calibration] table)."""
    out = []
    for p in _root().iterdir():
        if p.name.endswith(".toml"):
            try:
                doc = tomllib.loads(p.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError:
                continue
            if isinstance(doc.get("calibration"), dict):
                out.append(p.name.removesuffix(".toml"))
    return sorted(out)


def load_parameters(name_or_path: str | os.PathLike[str] | ParameterSet) -> ParameterSet:
    """A parameter file by bundled name or path (one-line errors naming the file)."""
    if isinstance(name_or_path, ParameterSet):
        return name_or_path
    if isinstance(name_or_path, (str, os.PathLike)) and os.path.isfile(name_or_path):
        with open(name_or_path, encoding="utf-8") as fh:
            text, origin = fh.read(), os.fspath(name_or_path)
    elif isinstance(name_or_path, str):
        names = available_parameters()
        name = name_or_path.removesuffix(".toml")
        if name not in names:
            raise UnknownNameError(
                f"load_parameters(): no parameter file {name_or_path!r} (bundled: "
                f"{', '.join(names) or 'none'}; or give a path){did_you_mean(name, names)}"
            )
        text = _root().joinpath(f"{name}.toml").read_text(encoding="utf-8")
        origin = f"calibration/{name}.toml"
    else:
        raise InvalidInputError(
            f"load_parameters(): expected a parameter-file name or path, got "
            f"{type(name_or_path).__name__}"
        )
    return read_parameters(text, origin)


def read_parameters(text: str, origin: str) -> ParameterSet:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ModelFileError(f"{origin}: not valid TOML: {e}") from None
    meta = doc.get("calibration")
    if not isinstance(meta, dict):
        raise ModelFileError(f"{origin}: not a parameter file (needs a [calibration] table)")
    for key in ("name", "version", "date"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise ModelFileError(f'{origin}: [calibration] needs {key} = "..."')
    rows = doc.get("parameter")
    if not isinstance(rows, list) or not rows:
        raise ModelFileError(f"{origin}: needs [[parameter]] tables")
    values: dict[str, float] = {}
    intervals: dict[str, tuple[float | None, float | None]] = {}
    for i, r in enumerate(rows, 1):
        name = r.get("name") if isinstance(r, dict) else None
        spec = parameter_spec(name) if isinstance(name, str) else None
        if spec is None:
            raise ModelFileError(
                f"{origin}: parameter {i}: unknown name {name!r} (known: "
                f"{', '.join(PARAMETERS)}, exposure_scale.DRUG, efficacy_scale.DRUG)"
                f"{did_you_mean(str(name), list(PARAMETERS))}"
            )
        v = r.get("value")
        _, lo_b, hi_b, _ = spec
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo_b <= v <= hi_b):
            raise ModelFileError(
                f"{origin}: parameter {name}: value must be a number in [{lo_b:g}, {hi_b:g}], "
                f"got {v!r}"
            )
        lo, hi = r.get("low"), r.get("high")
        if (lo is not None and lo > v) or (hi is not None and hi < v):
            raise ModelFileError(f"{origin}: parameter {name}: need low <= value <= high")
        values[str(name)] = float(v)
        intervals[str(name)] = (lo, hi)
    return ParameterSet(str(meta["name"]), values, intervals, dict(meta), origin)


def cohort_kwargs(parameters: str | os.PathLike[str] | ParameterSet | None) -> dict[str, Any]:
    """Keywords for simulate_regimen / simulate_cohort / simulate_arm from a parameter file
    (``{}`` for None: the model's defaults)."""
    if parameters is None:
        return {}
    ps = load_parameters(parameters)
    from ..dynamics import tumour_model  # deferred: the dynamics layer loads on first use

    change: dict[str, Any] = {}
    if "death_scale" in ps.values:
        change["death_scale"] = ps.values["death_scale"]
    if "birth_doubling_days" in ps.values:
        change["birth_rate"] = math.log(2) / ps.values["birth_doubling_days"]
    out: dict[str, Any] = {}
    if change:
        out["tumour"] = tumour_model(**change)
    if "hours_per_model_time" in ps.values:
        out["hours_per_model_time"] = ps.values["hours_per_model_time"]
    for kind in FACTOR_KINDS:
        f = {k.partition(".")[2]: v for k, v in ps.values.items() if k.startswith(kind + ".")}
        if f:
            out[kind] = f
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise InvalidInputError(f"write_parameters(): cannot write non-finite {v!r}")
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise InvalidInputError(f"write_parameters(): cannot write {type(v).__name__}")


def write_parameters(
    path: str | os.PathLike[str],
    meta: Mapping[str, Any],
    parameters: list[Mapping[str, Any]],
    arms: list[Mapping[str, Any]] | None = None,
) -> None:
    """Write a parameter file atomically (the format :func:`load_parameters` reads)."""
    lines = ["# Written by mmmech calibrate (docs/calibration.md). Load: --parameters NAME.", ""]
    lines.append("[calibration]")
    for k, v in meta.items():
        if v is not None:
            lines.append(f"{k} = {_toml_value(v)}")
    for p in parameters:
        lines += ["", "[[parameter]]"]
        for k, v in p.items():
            if v is not None:
                lines.append(f"{k} = {_toml_value(v)}")
    for a in arms or []:
        lines += ["", "[[fit]]"]
        for k, v in a.items():
            if v is not None and not (isinstance(v, float) and not math.isfinite(v)):
                lines.append(f"{k} = {_toml_value(v)}")
    text = "\n".join(lines) + "\n"
    read_parameters(text, os.fspath(path))  # never write a file we could not load back
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
