"""Between-patient PK variability: each patient's random effects (etas) on the model parameters.

A population-PK source reports the between-subject variability of a parameter as a CV%
(``cv_percent`` in ``structures/pk.toml``). The models are log-normal in their parameters
(``P_i = P_typical * exp(eta_i)``, ``eta_i ~ N(0, omega^2)``), so a CV of ``c`` is
``omega^2 = ln(1 + c^2)`` (the exact CV of a log-normal variable). Etas are independent
between parameters unless the source gives their correlation (``[[drug.eta_correlation]]``;
none is curated yet, :func:`correlations`).

Patient ``i`` of a population under a seed draws its etas of each drug from a stream of its
own, ``SeedSequence(seed, spawn_key=(crc32(population), i, crc32("pk"), crc32(drug)))``: a
sub-stream beside the one that made the patient (:func:`mmmech.populations.stream`), so the
patient's other properties stay the same, and the same etas in every arm, run, batch and worker
(and for one drug whatever other drugs the arm has).

Examples
--------
>>> from mmmech import pk
>>> e = pk.patient_etas("ndmm", 0, 1, ["lenalidomide"])
>>> sorted(e["lenalidomide"])
['cl', 'v1']
>>> m = pk.with_etas(pk.model("lenalidomide"), {"cl": 0.0, "v1": 0.0})
>>> m.disposition.cl == pk.model("lenalidomide").disposition.cl
True
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

import numpy as np

from ..exceptions import InvalidInputError
from .engine import Absorption
from .library import PKModel, model, models

__all__ = [
    "omegas",
    "correlations",
    "eta_stream",
    "sample_etas",
    "patient_etas",
    "with_etas",
]

#: the sub-stream key of PK etas (beside the patient's own draws)
PK_STREAM = zlib.crc32(b"pk")
#: disposition parameters that sit in tuples of the Disposition (peripheral compartments)
_PERIPHERAL = {"q2": ("q", 0), "q3": ("q", 1), "v2": ("vp", 0), "v3": ("vp", 1)}


def _model(drug: str | PKModel) -> PKModel:
    return drug if isinstance(drug, PKModel) else model(drug)


def omegas(drug: str | PKModel) -> dict[str, float]:
    """``{parameter: omega}`` (SD of eta) for every parameter of `drug` with a reported CV%,
    in the model's parameter order: ``omega = sqrt(ln(1 + (cv/100)^2))``."""
    m = _model(drug)
    return {
        k: math.sqrt(math.log1p((p.cv_percent / 100.0) ** 2))
        for k, p in m.parameters.items()
        if p.cv_percent is not None and p.cv_percent > 0
    }


def correlations(drug: str | PKModel) -> np.ndarray:
    """The correlation matrix of the etas of :func:`omegas` (identity unless the model records
    ``eta_correlation`` entries from its source)."""
    m = _model(drug)
    names = list(omegas(m))
    r = np.eye(len(names))
    for a, b, rho in getattr(m, "eta_correlations", ()):
        if a in names and b in names:
            i, j = names.index(a), names.index(b)
            r[i, j] = r[j, i] = rho
    return r


def eta_stream(population: str, index: int, seed: int, drug: str) -> np.random.Generator:
    """The random stream of patient `index`'s etas of `drug` (module docstring)."""
    if not isinstance(population, str) or isinstance(index, bool) or not isinstance(index, int):
        raise InvalidInputError(
            f"eta_stream(): population must be a name and index an integer, got "
            f"{population!r}, {index!r}"
        )
    key = zlib.crc32(population.encode("utf-8"))
    dkey = zlib.crc32(drug.strip().lower().encode("utf-8"))
    seq = np.random.SeedSequence(int(seed), spawn_key=(key, int(index), PK_STREAM, dkey))
    return np.random.Generator(np.random.PCG64(seq))


def sample_etas(drug: str | PKModel, rng: np.random.Generator) -> dict[str, float]:
    """One patient's etas ``{parameter: eta}`` of `drug` from `rng` (standard normals in the
    order of :func:`omegas`, correlated by the Cholesky factor of :func:`correlations`)."""
    om = omegas(drug)
    if not om:
        return {}
    z = rng.standard_normal(len(om))
    r = correlations(drug)
    if not np.array_equal(r, np.eye(len(om))):
        z = np.linalg.cholesky(r) @ z
    return {k: float(w * zi) for (k, w), zi in zip(om.items(), z, strict=True)}


def patient_etas(
    population: str, index: int, seed: int, drugs: Iterable[str]
) -> dict[str, dict[str, float]]:
    """Patient `index`'s etas ``{drug: {parameter: eta}}`` for the `drugs` that have a PK model
    with reported variability (others are left out)."""
    out: dict[str, dict[str, float]] = {}
    lib = models()
    for d in drugs:
        m = lib.get(str(d).strip().lower())
        if m is None:
            continue
        e = sample_etas(m, eta_stream(population, index, seed, m.drug))
        if e:
            out[str(d)] = e
    return out


def with_etas(m: PKModel, etas: Mapping[str, float]) -> PKModel:
    """`m` with each parameter multiplied by ``exp(eta)`` (on top of covariate effects and of
    a renal clearance scaling already in `m`); a bioavailability is capped at 1."""
    if not etas:
        return m
    disp = m.disposition
    d_new: dict[str, object] = {}
    q, vp = list(disp.q), list(disp.vp)
    absorption = {r: a for r, a in m.absorption.items()}
    params = dict(m.parameters)
    for name, eta in etas.items():
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not math.isfinite(eta):
            raise InvalidInputError(f"with_etas(): eta of {name!r} must be a finite number")
        f = math.exp(float(eta))
        if name in ("cl", "v1", "vmax", "km", "kdes", "clm", "kcl", "gamma_cl"):
            attr = "gcl" if name == "gamma_cl" else name
            d_new[attr] = getattr(disp, attr) * f
        elif name in _PERIPHERAL:
            attr, i = _PERIPHERAL[name]
            seq = q if attr == "q" else vp
            if i >= len(seq):
                raise InvalidInputError(f"with_etas(): {m.drug} has no parameter {name!r}")
            seq[i] *= f
        elif "_" in name and name.split("_", 1)[1] in absorption:
            kind, route = name.split("_", 1)
            a = absorption[route]
            if kind == "ka":
                absorption[route] = Absorption(ka=a.ka * f, f=a.f, tlag=a.tlag)
            elif kind == "f":
                absorption[route] = Absorption(ka=a.ka, f=min(1.0, a.f * f), tlag=a.tlag)
            elif kind == "tlag":
                absorption[route] = Absorption(ka=a.ka, f=a.f, tlag=a.tlag * f)
            else:
                raise InvalidInputError(f"with_etas(): {m.drug} has no parameter {name!r}")
        else:
            raise InvalidInputError(
                f"with_etas(): {m.drug} has no parameter {name!r}; parameters: "
                f"{', '.join(m.parameters)}"
            )
        if name in params:
            v = params[name].value * f
            params[name] = replace(params[name], value=min(1.0, v) if name.startswith("f_") else v)
    # a fresh _cache: the disposition caches its eigen-decomposition
    new_disp = replace(disp, q=tuple(q), vp=tuple(vp), _cache={}, **d_new)  # type: ignore[arg-type]
    return replace(
        m,
        disposition=new_disp,
        absorption=MappingProxyType(absorption),
        parameters=MappingProxyType(params),
    )
