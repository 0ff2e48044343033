"""The population-PK library: ``structures/pk.toml`` read into :class:`PKModel` records.

Every drug's entry names its model structure, parameter values with units (and
between-subject variability as CV% where the source gives it), the population the model was
estimated in, its source identifier and a ``verified`` flag; see ``docs/pk.md`` for the file
format. Covariate effects the source reports are kept: those with a numeric form
(``power``/``linear``) apply when :func:`model` is given the covariate, the others are notes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..exceptions import ModelFileError, UnknownDrugError
from ..resources import data_file, parse_toml
from ..sources import describe_expected, is_source
from ..utils import did_you_mean
from .engine import ROUTES, Absorption, Disposition, exponentials

__all__ = ["Parameter", "Covariate", "Check", "PKModel", "read_models", "models", "names", "model"]

# canonical units: time h, amount mg, volume L, concentration mg/L
_UNITS = {
    "cl": {"L/h": 1.0, "L/day": 1 / 24, "mL/min": 0.06},
    "v": {"L": 1.0, "mL": 1e-3},
    "rate": {"1/h": 1.0, "1/min": 60.0, "1/day": 1 / 24},
    "time": {"h": 1.0, "min": 1 / 60, "day": 24.0},
    "fraction": {"1": 1.0, "%": 0.01},
    "vmax": {"mg/h": 1.0, "mg/day": 1 / 24},
    "conc": {"mg/L": 1.0, "ug/mL": 1.0, "µg/mL": 1.0, "ng/mL": 1e-3},
    "ratio": {"1": 1.0},
}
_KINDS = {
    "cl": "cl",
    "v1": "v",
    "q2": "cl",
    "v2": "v",
    "q3": "cl",
    "v3": "v",
    "ka": "rate",
    "f": "fraction",
    "tlag": "time",
    "vmax": "vmax",
    "km": "conc",
    "kdes": "rate",
    "clm": "ratio",
    "kcl": "time",
    "gamma_cl": "ratio",
}
_DISPOSITION = ("cl", "v1", "q2", "v2", "q3", "v3", "vmax", "km", "kdes", "clm", "kcl", "gamma_cl")
#: time-varying linear clearance (Disposition.clm/kcl/gcl): all three or none
_TIME_CL = ("clm", "kcl", "gamma_cl")
_ABSORPTION = ("ka", "f", "tlag")
CHECK_METRICS = ("cmax", "auc", "trough", "tmax", "half_life")
CHECK_EXPECT = ("agree", "disagree")
COVARIATE_FORMS = ("power", "linear", "note")


@dataclass(frozen=True)
class Parameter:
    """A model parameter in canonical units (h, mg, L), with its between-subject CV% (None when
    not reported) and the value and unit as the source printed them."""

    name: str
    value: float
    cv_percent: float | None = None
    printed: str = ""


@dataclass(frozen=True)
class Covariate:
    """A covariate effect the source reports. ``form`` is ``power``
    (``p * (x / reference) ** coefficient``), ``linear`` (``p * (1 + coefficient * (x -
    reference))``) or ``note`` (described in `text`, not applied)."""

    name: str
    on: str
    form: str
    reference: float | None = None
    coefficient: float | None = None
    unit: str = ""
    text: str = ""


@dataclass(frozen=True)
class Check:
    """A published exposure at a labelled dose, to hold the model to.

    `metric` (cmax, auc, trough, tmax over `window_h` of the dosing `schedule`, or the terminal
    half_life) has a published `value` with its variability (`sd`, or `cv_percent`), or a
    published range (`low`, `high`). The acceptance band is the range, else value +- 1 SD; when
    the source gives no variability, `tolerance_percent` states the band and `text` says why.
    `covariates` (e.g. ``{bsa_m2 = 1.8}``) are applied to the model for the check; with
    `unbound` the metric is of the unbound concentration (the model's fraction unbound times
    the concentration; the model must curate one). `expect`
    records whether the curated model agrees with it (``agree``) or is known not to
    (``disagree``, explained in `text`); the tests hold both."""

    metric: str
    unit: str
    schedule: Mapping[str, Any]
    window_h: tuple[float, float] | None
    source: str
    verified: bool
    value: float | None = None
    cv_percent: float | None = None
    sd: float | None = None
    low: float | None = None
    high: float | None = None
    tolerance_percent: float | None = None
    expect: str = "agree"
    text: str = ""
    covariates: Mapping[str, float] = field(default_factory=dict)
    unbound: bool = False

    def band(self) -> tuple[float, float]:
        """The acceptance band ``(low, high)`` in :attr:`unit`."""
        if self.low is not None and self.high is not None:
            return (self.low, self.high)
        assert self.value is not None
        if self.sd is not None:
            spread = self.sd
        elif self.cv_percent is not None:
            spread = self.value * self.cv_percent / 100
        else:
            assert self.tolerance_percent is not None
            spread = self.value * self.tolerance_percent / 100
        return (self.value - spread, self.value + spread)


@dataclass(frozen=True)
class PKModel:
    """A drug's population-PK model (typical values) with its provenance.

    Attributes
    ----------
    drug : str
    compartments : int
        1, 2 or 3 (mammillary, elimination from the central compartment).
    apparent : bool
        True when the disposition parameters are apparent oral values (CL/F, V/F): F is folded
        in and only the absorbed routes listed in `routes` apply.
    routes : tuple of str
        The routes the source supports.
    disposition : Disposition
    absorption : mapping route -> Absorption
    infusion_h : float or None
        The labelled infusion duration (h), the default for ``iv_infusion`` doses.
    fraction_unbound : float or None
    parameters : mapping name -> Parameter
    covariates : tuple of Covariate
    population, disease : str
    n_subjects : int
    source : str
        Source identifier of the model (PMID/DOI/DailyMed).
    verified : bool
        False when the parameter values were read in a secondary text (see `note`).
    checks : tuple of Check
        Published exposures at the labelled dose, used by the validation tests.
    """

    drug: str
    compartments: int
    apparent: bool
    routes: tuple[str, ...]
    disposition: Disposition
    absorption: Mapping[str, Absorption]
    parameters: Mapping[str, Parameter]
    population: str
    disease: str
    n_subjects: int
    source: str
    verified: bool
    note: str = ""
    infusion_h: float | None = None
    fraction_unbound: float | None = None
    fraction_unbound_source: str = ""
    covariates: tuple[Covariate, ...] = ()
    checks: tuple[Check, ...] = ()
    covariate_values: Mapping[str, float] = field(default_factory=dict)
    #: correlations between etas the source reports: ``(parameter, parameter, r)``
    eta_correlations: tuple[tuple[str, str, float], ...] = ()

    @property
    def linear(self) -> bool:
        return self.disposition.linear

    def half_lives(self) -> tuple[float, ...]:
        """Disposition half-lives ``ln 2 / lambda_i`` (h), shortest first (linear part)."""
        lam, _ = exponentials(self.disposition)
        return tuple(float(math.log(2) / x) for x in lam)

    def with_covariates(self, **values: float) -> PKModel:
        """This model with the numeric covariate effects applied at `values` (names as in
        :attr:`covariates`, e.g. ``bsa_m2=1.9``)."""
        return _apply_covariates(self, values)


def _disposition(params: Mapping[str, Parameter]) -> Disposition:
    """The :class:`Disposition` of canonical-unit `params`."""
    return Disposition(
        cl=params["cl"].value,
        v1=params["v1"].value,
        q=tuple(params[k].value for k in ("q2", "q3") if k in params),
        vp=tuple(params[k].value for k in ("v2", "v3") if k in params),
        vmax=params["vmax"].value if "vmax" in params else 0.0,
        km=params["km"].value if "km" in params else 0.0,
        kdes=params["kdes"].value if "kdes" in params else 0.0,
        clm=params["clm"].value if "clm" in params else 0.0,
        kcl=params["kcl"].value if "kcl" in params else 0.0,
        gcl=params["gamma_cl"].value if "gamma_cl" in params else 1.0,
    )


def _num(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(f"{where}: expected a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ModelFileError(f"{where}: expected a finite number, got {value!r}")
    return v


def _parameter(name: str, raw: object, where: str) -> Parameter:
    kind = _KINDS.get(name)
    if kind is None:
        raise ModelFileError(
            f"{where}: unknown parameter {name!r}{did_you_mean(name, _KINDS)}; expected one of "
            f"{', '.join(_KINDS)}"
        )
    if not isinstance(raw, dict) or "value" not in raw or "unit" not in raw:
        raise ModelFileError(f"{where}: parameter {name!r} needs {{value = ..., unit = ...}}")
    unit = raw["unit"]
    factors = _UNITS[kind]
    if unit not in factors:
        raise ModelFileError(
            f"{where}: parameter {name!r} has unit {unit!r}; expected one of {', '.join(factors)}"
        )
    value = _num(raw["value"], f"{where}: {name}.value")
    if value < 0:
        raise ModelFileError(f"{where}: parameter {name!r} must be >= 0, got {value}")
    cv = raw.get("cv_percent")
    return Parameter(
        name,
        value * factors[unit],
        None if cv is None else _num(cv, f"{where}: {name}.cv_percent"),
        f"{raw['value']} {unit}",
    )


def _source(value: object, where: str) -> str:
    if not is_source(value):
        raise ModelFileError(
            f"{where}: {value!r} is not a source identifier; {describe_expected()}"
        )
    return str(value)


def _entry(raw: dict[str, Any], origin: str) -> PKModel:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ModelFileError(f"{origin}: a [[drug]] entry needs a name")
    where = f"{origin}: drug {name!r}"
    for key in ("compartments", "routes", "population", "disease", "n_subjects", "source"):
        if key not in raw:
            raise ModelFileError(f"{where}: missing {key!r}")
    if "verified" not in raw or not isinstance(raw["verified"], bool):
        raise ModelFileError(f"{where}: needs verified = true|false")
    comps = raw["compartments"]
    if comps not in (1, 2, 3):
        raise ModelFileError(f"{where}: compartments must be 1, 2 or 3, got {comps!r}")
    routes = tuple(raw["routes"])
    bad = [r for r in routes if r not in ROUTES]
    if bad or not routes:
        raise ModelFileError(f"{where}: routes must be among {', '.join(ROUTES)}, got {routes!r}")
    params = {k: _parameter(k, v, where) for k, v in (raw.get("parameters") or {}).items()}
    need = ["cl", "v1", "q2", "v2", "q3", "v3"][: 2 * comps]
    missing = [k for k in need if k not in params]
    extra = [k for k in ("q2", "v2", "q3", "v3")[2 * (comps - 1) :] if k in params]
    if missing or extra:
        raise ModelFileError(
            f"{where}: a {comps}-compartment model needs {', '.join(need)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
        )
    if ("vmax" in params) != ("km" in params):
        raise ModelFileError(f"{where}: saturable elimination needs both vmax and km")
    if any(k in params for k in _TIME_CL) and not all(k in params for k in _TIME_CL):
        raise ModelFileError(
            f"{where}: a time-varying clearance needs all of {', '.join(_TIME_CL)}"
        )
    disp = _disposition(params)
    absorption: dict[str, Absorption] = {}
    for route, block in (raw.get("absorption") or {}).items():
        if route not in ("sc", "oral") or route not in routes:
            raise ModelFileError(
                f"{where}: absorption.{route}: only 'sc' or 'oral', and listed in routes"
            )
        ap = {k: _parameter(k, v, f"{where}, absorption.{route}") for k, v in block.items()}
        if "ka" not in ap:
            raise ModelFileError(f"{where}: absorption.{route} needs ka")
        for k, p in ap.items():
            params[f"{k}_{route}"] = replace(p, name=f"{k}_{route}")
        absorption[route] = Absorption(
            ka=ap["ka"].value,
            f=ap["f"].value if "f" in ap else 1.0,
            tlag=ap["tlag"].value if "tlag" in ap else 0.0,
        )
    for r in routes:
        if r in ("sc", "oral") and r not in absorption:
            raise ModelFileError(f"{where}: route {r!r} needs an [drug.absorption.{r}] block")
    apparent = bool(raw.get("apparent", False))
    if apparent and any(r.startswith("iv") for r in routes):
        raise ModelFileError(f"{where}: an apparent (CL/F) model cannot list IV routes")
    if apparent and any(a.f != 1.0 for a in absorption.values()):
        raise ModelFileError(f"{where}: an apparent (CL/F) model has F folded in; omit f")
    fu = raw.get("fraction_unbound")
    fu_value, fu_source = None, ""
    if fu is not None:
        if not isinstance(fu, dict) or "value" not in fu or "source" not in fu:
            raise ModelFileError(f"{where}: fraction_unbound needs {{value = ..., source = ...}}")
        fu_value = _num(fu["value"], f"{where}: fraction_unbound.value")
        if not 0 < fu_value <= 1:
            raise ModelFileError(f"{where}: fraction_unbound must be in (0, 1], got {fu_value}")
        fu_source = _source(fu["source"], f"{where}: fraction_unbound.source")
    covs = []
    for c in raw.get("covariate") or []:
        form = c.get("form")
        if form not in COVARIATE_FORMS:
            raise ModelFileError(
                f"{where}: covariate form must be one of {', '.join(COVARIATE_FORMS)}, got {form!r}"
            )
        if form != "note":
            if c.get("on") not in params:
                raise ModelFileError(
                    f"{where}: covariate {c.get('name')!r} acts on unknown parameter "
                    f"{c.get('on')!r}"
                )
            for key in ("reference", "coefficient"):
                _num(c.get(key), f"{where}: covariate {c.get('name')!r}.{key}")
        covs.append(
            Covariate(
                name=str(c.get("name")),
                on=str(c.get("on", "")),
                form=form,
                reference=c.get("reference"),
                coefficient=c.get("coefficient"),
                unit=str(c.get("unit", "")),
                text=str(c.get("text", "")),
            )
        )
    checks = []
    corr = _eta_correlations(raw.get("eta_correlation") or [], params, where)
    for i, c in enumerate(raw.get("check") or []):
        cw = f"{where}: check {i + 1}"
        if c.get("metric") not in CHECK_METRICS:
            raise ModelFileError(f"{cw}: metric must be one of {', '.join(CHECK_METRICS)}")
        window = c.get("window_h")
        if c["metric"] != "half_life" and not (isinstance(window, list) and len(window) == 2):
            raise ModelFileError(f"{cw}: window_h must be [start, end] (h)")
        if c.get("expect", "agree") not in CHECK_EXPECT:
            raise ModelFileError(f"{cw}: expect must be one of {', '.join(CHECK_EXPECT)}")
        opt = {
            k: _num(c[k], f"{cw}.{k}")
            for k in ("value", "cv_percent", "sd", "low", "high", "tolerance_percent")
            if k in c
        }
        has_range = "low" in opt and "high" in opt
        has_value = "value" in opt and any(
            k in opt for k in ("sd", "cv_percent", "tolerance_percent")
        )
        if not (has_range or has_value):
            raise ModelFileError(
                f"{cw}: give low and high, or value with sd, cv_percent or tolerance_percent"
            )
        if "tolerance_percent" in opt and not c.get("text"):
            raise ModelFileError(f"{cw}: tolerance_percent needs a text saying where it comes from")
        unbound = c.get("unbound", False)
        if not isinstance(unbound, bool):
            raise ModelFileError(f"{cw}: unbound must be true or false, got {unbound!r}")
        if unbound and fu_value is None:
            raise ModelFileError(f"{cw}: an unbound check needs the drug's fraction_unbound")
        checks.append(
            Check(
                metric=c["metric"],
                unit=str(c.get("unit", "")),
                schedule=MappingProxyType(dict(c.get("schedule") or {})),
                window_h=(
                    None
                    if window is None
                    else (_num(window[0], f"{cw}.window_h"), _num(window[1], f"{cw}.window_h"))
                ),
                source=_source(c.get("source"), f"{cw}.source"),
                verified=bool(c.get("verified", False)),
                expect=c.get("expect", "agree"),
                text=str(c.get("text", "")),
                covariates=MappingProxyType(
                    {
                        k: _num(v, f"{cw}.covariates.{k}")
                        for k, v in (c.get("covariates") or {}).items()
                    }
                ),
                unbound=unbound,
                **opt,
            )
        )
    return PKModel(
        drug=name,
        compartments=comps,
        apparent=apparent,
        routes=routes,
        disposition=disp,
        absorption=MappingProxyType(absorption),
        parameters=MappingProxyType(params),
        population=str(raw["population"]),
        disease=str(raw["disease"]),
        n_subjects=int(raw["n_subjects"]),
        source=_source(raw["source"], f"{where}: source"),
        verified=raw["verified"],
        note=str(raw.get("note", "")),
        infusion_h=(
            None
            if raw.get("infusion_h") is None
            else _num(raw["infusion_h"], f"{where}: infusion_h")
        ),
        fraction_unbound=fu_value,
        fraction_unbound_source=fu_source,
        covariates=tuple(covs),
        checks=tuple(checks),
        eta_correlations=corr,
    )


def _eta_correlations(
    raw: list[Any], params: Mapping[str, Parameter], where: str
) -> tuple[tuple[str, str, float], ...]:
    """``[[drug.eta_correlation]]`` entries (``a``, ``b``, ``r``, ``source``): the correlation
    of two parameters' etas as the source reports it (both need a cv_percent)."""
    out = []
    for i, c in enumerate(raw):
        cw = f"{where}: eta_correlation {i + 1}"
        if not isinstance(c, dict):
            raise ModelFileError(f"{cw}: expected a table {{a, b, r, source}}")
        a, b = c.get("a"), c.get("b")
        for x in (a, b):
            if not isinstance(x, str) or x not in params or params[x].cv_percent is None:
                raise ModelFileError(
                    f"{cw}: {x!r} is not a parameter with a cv_percent"
                    f"{did_you_mean(str(x), list(params))}"
                )
        if a == b:
            raise ModelFileError(f"{cw}: a and b must differ, got {a!r} twice")
        r = _num(c.get("r"), f"{cw}.r")
        if not -1 < r < 1:
            raise ModelFileError(f"{cw}: r must be in (-1, 1), got {r}")
        _source(c.get("source"), f"{cw}.source")
        out.append((str(a), str(b), r))
    return tuple(out)


def read_models(text: str, origin: str = "pk.toml") -> Mapping[str, PKModel]:
    """Parse a PK library in the ``structures/pk.toml`` format (see ``docs/pk.md``)."""
    data = parse_toml(text, origin)
    out: dict[str, PKModel] = {}
    for raw in data.get("drug") or []:
        m = _entry(raw, origin)
        key = m.drug.lower()
        if key in out:
            raise ModelFileError(f"{origin}: drug {m.drug!r} is listed twice")
        out[key] = m
    return MappingProxyType(out)


@functools.lru_cache(maxsize=1)
def models() -> Mapping[str, PKModel]:
    """The bundled PK library (cached per process), keyed by lower-case drug name."""
    res = data_file("structures", "pk.toml")
    return read_models(res.read_text(encoding="utf-8"), "structures/pk.toml")


def names() -> list[str]:
    """Drugs with a PK model, in file order."""
    return [m.drug for m in models().values()]


def model(drug: str | PKModel, **covariates: float) -> PKModel:
    """The PK model record of `drug` (case-insensitive), with numeric covariate effects applied
    for the `covariates` given (e.g. ``model("ixazomib", bsa_m2=2.1)``).

    Raises
    ------
    UnknownDrugError
        When no model is curated for `drug`, with close matches.
    """
    if isinstance(drug, PKModel):
        return _apply_covariates(drug, covariates) if covariates else drug
    if not isinstance(drug, str) or not drug.strip():
        raise UnknownDrugError(f"model(): drug must be a drug name, got {drug!r}")
    found = models().get(drug.strip().lower())
    if found is None:
        raise UnknownDrugError(
            f"model(): no PK model for drug {drug!r}{did_you_mean(drug, names())}; "
            f"curated: {', '.join(names())}"
        )
    return _apply_covariates(found, covariates) if covariates else found


def _apply_covariates(m: PKModel, values: Mapping[str, float]) -> PKModel:
    numeric = [c for c in m.covariates if c.form != "note"]
    known = sorted({c.name for c in numeric})
    for name, x in values.items():
        if name not in known:
            raise ModelFileError(
                f"model(): covariate {name!r} has no numeric effect in the {m.drug} model"
                f"{did_you_mean(name, known)}; available: {', '.join(known) or 'none'}"
            )
        # x > 0, except that an indicator (linear effects with reference 0) may be 0
        power = not all(c.form == "linear" and c.reference == 0 for c in numeric if c.name == name)
        if (
            isinstance(x, bool)
            or not isinstance(x, (int, float))
            or not math.isfinite(x)
            or not (x > 0 if power else x >= 0)
        ):
            raise ModelFileError(
                f"model(): covariate {name!r} must be a number {'> 0' if power else '>= 0'}, "
                f"got {x!r}"
            )
    params = dict(m.parameters)
    for c in numeric:
        if c.name not in values:
            continue
        x = float(values[c.name])
        p = params[c.on]
        assert c.reference is not None and c.coefficient is not None
        if c.form == "power":
            factor = (x / c.reference) ** c.coefficient
        else:
            factor = 1.0 + c.coefficient * (x - c.reference)
        if not factor > 0:
            raise ModelFileError(
                f"model(): covariate {c.name}={x!r} makes {c.on} non-positive (factor {factor:.3g})"
            )
        params[c.on] = replace(p, value=p.value * factor)
    disp = _disposition(params)
    absorption = {
        r: Absorption(
            ka=params[f"ka_{r}"].value,
            f=params[f"f_{r}"].value if f"f_{r}" in params else 1.0,
            tlag=params[f"tlag_{r}"].value if f"tlag_{r}" in params else 0.0,
        )
        for r in m.absorption
    }
    return replace(
        m,
        disposition=disp,
        absorption=MappingProxyType(absorption),
        parameters=MappingProxyType(params),
        covariate_values=MappingProxyType({**m.covariate_values, **values}),
    )
