"""Seeded, per-patient keyed sampling of a population.

Patient ``i`` of population ``P`` under seed ``s`` draws from its own random stream,
``numpy.random.SeedSequence(s, spawn_key=(crc32(P), i))``: the same patient whatever ``n``
(as long as ``n > i``), in every arm of a trial and in every run. Properties added later draw
from named sub-streams of the same key (:func:`substream`: the tumour-kinetics multipliers use
``spawn_key=(crc32(P), i, crc32(b"tumour"))``), so adding them changes no existing draw; a
trial's enrolled mix (:func:`mmmech.populations.with_mix`) draws from ``mix/<feature>``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from .._readonly import ReadOnlyDict
from ..exceptions import InvalidInputError
from .library import load
from .reader import LABS
from .records import Distribution, Feature, Health, Patient, Population

__all__ = ["sample", "patient", "to_dataframe", "bsa", "stream", "substream", "lab_stream"]

_STD = NormalDist()
_EPS = 1e-12


def bsa(weight_kg: float, height_cm: float, formula: str = "mosteller") -> float:
    """Body surface area in m2: Mosteller ``sqrt(W H / 3600)`` or DuBois
    ``0.007184 W^0.425 H^0.725`` (W in kg, H in cm)."""
    if formula == "mosteller":
        return math.sqrt(weight_kg * height_cm / 3600.0)
    if formula == "dubois":
        return 0.007184 * weight_kg**0.425 * height_cm**0.725
    raise InvalidInputError(f"bsa(): formula must be 'mosteller' or 'dubois', got {formula!r}")


def stream(population: str, index: int, seed: int) -> np.random.Generator:
    """The random stream of patient `index` of `population` under `seed`."""
    key = zlib.crc32(population.encode("utf-8"))
    seq = np.random.SeedSequence(seed, spawn_key=(key, index))
    return np.random.Generator(np.random.PCG64(seq))


def substream(population: str, index: int, seed: int, name: str) -> np.random.Generator:
    """The named sub-stream `name` of patient `index` of `population` under `seed`: its own
    draws, independent of :func:`stream` and of the other sub-streams."""
    key = zlib.crc32(population.encode("utf-8"))
    sub = zlib.crc32(name.encode("utf-8"))
    seq = np.random.SeedSequence(seed, spawn_key=(key, index, sub))
    return np.random.Generator(np.random.PCG64(seq))


def lab_stream(population: str, index: int, seed: int) -> np.random.Generator:
    """The named sub-stream of patient `index` for baseline laboratory values (``[labs.*]``):
    ``SeedSequence(seed, spawn_key=(crc32(population), index, crc32(b"labs")))``, so adding
    labs to a population changes no other property of any patient."""
    key = zlib.crc32(population.encode("utf-8"))
    seq = np.random.SeedSequence(seed, spawn_key=(key, index, zlib.crc32(b"labs")))
    return np.random.Generator(np.random.PCG64(seq))


def _labs(population: Population, index: int, seed: int) -> Health:
    """The patient's sampled baseline counts (``Health()`` when the population has none);
    two uniforms per lab, in the order of the file's tables."""
    if not population.labs:
        return Health()
    rng = lab_stream(population.name, index, seed)
    values = {LABS[k][0]: _draw(d, rng.random(), rng.random()) for k, d in population.labs.items()}
    return Health(
        anc_10e9_L=values.get("anc_10e9_L"), platelets_10e9_L=values.get("platelets_10e9_L")
    )


def _z(u: float) -> float:
    return _STD.inv_cdf(min(max(u, _EPS), 1.0 - _EPS))


def _truncated_z(u: float, zlow: float | None, zhigh: float | None) -> float:
    """A standard-normal quantile restricted to [zlow, zhigh] from one uniform `u`."""
    a = 0.0 if zlow is None else _STD.cdf(zlow)
    b = 1.0 if zhigh is None else _STD.cdf(zhigh)
    return _z(a + u * (b - a))


def _draw(d: Distribution, u: float, u2: float) -> float:
    """One value of `d` from two uniforms (the second is used by ``bands`` only)."""
    if d.kind == "fixed":
        return d.value
    if d.kind == "uniform":
        assert d.low is not None and d.high is not None
        return d.low + u * (d.high - d.low)
    if d.kind == "bands":
        acc = 0.0
        total = sum(b[2] for b in d.bands)
        for low, high, p in d.bands:
            acc += p / total
            if u < acc:
                return low + u2 * (high - low)
        low, high, _ = d.bands[-1]
        return low + u2 * (high - low)
    loc, scale, lo, hi = _loc_scale(d)
    if d.bounds == "clip":
        # one uniform as for truncation (the stream order does not depend on `bounds`)
        x = _back(d, loc + scale * _z(u))
        if d.low is not None:
            x = max(x, d.low)
        if d.high is not None:
            x = min(x, d.high)
        return x
    return _back(d, loc + scale * _truncated_z(u, lo, hi))


def _loc_scale(d: Distribution) -> tuple[float, float, float | None, float | None]:
    """Location and scale on the normal scale, and the truncation bounds as z-scores."""
    if d.kind == "normal":
        loc, scale = d.mean, d.sd
        lo = None if d.low is None else (d.low - loc) / scale
        hi = None if d.high is None else (d.high - loc) / scale
        return loc, scale, lo, hi
    loc, scale = math.log(d.median), math.sqrt(math.log1p(d.cv**2))
    lo = None if d.low is None else (math.log(d.low) - loc) / scale
    hi = None if d.high is None else (math.log(d.high) - loc) / scale
    return loc, scale, lo, hi


def _back(d: Distribution, x: float) -> float:
    return math.exp(x) if d.kind == "lognormal" else x


def _body(pop: Population, u1: float, u2: float) -> dict[str, float]:
    """Weight and height with correlation r between log weight (or weight) and height: the
    weight from its truncated marginal, the height from its truncated conditional given it."""
    w, h, r = pop.body.weight, pop.body.height, pop.body.correlation
    if w.kind == "fixed":
        zw, weight = 0.0, w.value
    else:
        loc, scale, lo, hi = _loc_scale(w)
        zw = _truncated_z(u1, lo, hi)
        weight = _back(w, loc + scale * zw)
    if h.kind == "fixed":
        height = h.value
    else:
        loc, scale, lo, hi = _loc_scale(h)
        cscale = math.sqrt(1.0 - r * r)
        shift = r * zw
        clo = None if lo is None else (lo - shift) / cscale
        chi = None if hi is None else (hi - shift) / cscale
        zh = shift + cscale * _truncated_z(u2, clo, chi)
        height = _back(h, loc + scale * zh)
    return {
        "weight_kg": weight,
        "height_cm": height,
        "bsa_m2": bsa(weight, height, pop.body.bsa_formula),
    }


def _bounded(d: Distribution, z: float, zshift: float = 0.0, cscale: float = 1.0) -> float:
    """A lognormal (or fixed) value at standard-normal draw `z` (``bounds = "clip"``), or the
    truncated conditional ``zshift + cscale * Z`` from the uniform ``Phi(z)`` (``truncate``)."""
    if d.kind == "fixed":
        return d.value
    loc, scale, lo, hi = _loc_scale(d)
    if d.bounds == "clip" or (lo is None and hi is None):
        x = _back(d, loc + scale * (zshift + cscale * z))
        if d.low is not None:
            x = max(x, d.low)
        if d.high is not None:
            x = min(x, d.high)
        return x
    clo = None if lo is None else (lo - zshift) / cscale
    chi = None if hi is None else (hi - zshift) / cscale
    zz = zshift + cscale * _truncated_z(_STD.cdf(z), clo, chi)
    return _back(d, loc + scale * zz)


def _tumour_scales(population: Population, index: int, seed: int) -> dict[str, float]:
    """The patient's tumour-kinetics multipliers from the ``tumour`` sub-stream: growth from
    the first standard-normal draw, sensitivity from the second, correlated with it on the log
    scale (correlation r: ``z_s = r z_g + sqrt(1 - r^2) z``)."""
    spec = population.tumour
    if spec.growth is None and spec.sensitivity is None:
        return {}
    rng = substream(population.name, index, seed, "tumour")
    zg, z2 = _z(rng.random()), _z(rng.random())
    out: dict[str, float] = {}
    if spec.growth is not None:
        out["growth"] = _bounded(spec.growth, zg)
    if spec.sensitivity is not None:
        r = spec.correlation
        out["sensitivity"] = _bounded(spec.sensitivity, z2, r * zg, math.sqrt(1.0 - r * r))
    return out


def _resistance(population: Population, index: int, seed: int) -> float:
    """The patient's acquired-resistance rate (per day) from its own ``resistance`` sub-stream
    (0 when the population has no ``[resistance]``), so it changes no other draw."""
    if population.resistance is None:
        return 0.0
    rng = substream(population.name, index, seed, "resistance")
    return _bounded(population.resistance, _z(rng.random()))


def _feature_probability(f: Feature, drawn: list[str]) -> float:
    """The probability of feature `f` given the features `drawn` so far: its marginal, or for
    a joint feature (``[feature.joint]``) its conditional on the partner drawn earlier,
    ``P(f | partner) = p11 / pa`` and ``P(f | no partner) = (pf - p11) / (1 - pa)``, which keeps
    the marginal ``pf`` and gives the declared share ``p11`` with both. The feature still
    spends one uniform of the patient's stream, so the partner and every later draw of the
    patient are those of the independent sampler."""
    if f.joint_with is None or f.joint_probability is None:
        return f.probability
    pa = f.partner_probability
    if f.joint_with in drawn:
        return f.joint_probability / pa if pa > 0 else 0.0
    return (f.probability - f.joint_probability) / (1.0 - pa) if pa < 1 else 0.0


def _mixed(population: Population, index: int, seed: int, features: list[str]) -> list[str]:
    """`features` with the population's enrolled mix (``Population.mix``) applied.

    For a feature or group member with declared probability ``p`` and enrolled share ``q``:
    if ``q > p`` a patient without it gets it with probability ``(q - p) / (1 - p)`` (in a
    group it replaces the member the patient had); if ``q < p`` a patient with it loses it with
    probability ``(p - q) / p`` (in a group the patient then gets another member, or none, in
    proportion to their declared shares). The marginal becomes ``q`` and every other member
    keeps its share relative to the others (``p_j (1 - q) / (1 - p)``). The uniforms come from
    the patient's sub-stream ``mix/<feature>`` (:func:`substream`), so patient ``i`` keeps
    every other draw and changes only where the mix moves them."""
    out = list(features)
    for name, share in population.mix.items():
        rng = substream(population.name, index, seed, f"mix/{name}")
        u1, u2 = rng.random(), rng.random()
        group = next((g for g in population.groups if any(m.name == name for m in g.members)), None)
        if group is None:
            f = next(f for f in population.features if f.name == name)
            p = f.probability
            if name in out:
                if share < p and u1 < (p - share) / p:
                    out.remove(name)
            elif share > p and u1 < (share - p) / (1.0 - p):
                out.append(name)
            continue
        members = {m.name: m.probability for m in group.members}
        p = members[name]
        had = next((k for k in out if k in members), None)
        if had != name:
            if share > p and u1 < (share - p) / (1.0 - p):
                if had is None:
                    out.append(name)  # a group member is placed where the group's draw sits
                    out = _group_order(population, out)
                else:
                    out[out.index(had)] = name
            continue
        if share < p and u1 < (p - share) / p:
            # another member (or none) in proportion to the declared shares of the rest
            acc, pick = 0.0, None
            rest = 1.0 - p
            for k, pk in members.items():
                if k == name:
                    continue
                acc += pk / rest if rest > 0 else 0.0
                if u2 < acc:
                    pick = k
                    break
            if pick is None:
                out.remove(name)
            else:
                out[out.index(name)] = pick
    return out


def _group_order(population: Population, features: list[str]) -> list[str]:
    """`features` in the sampler's order (groups in file order, then features)."""
    order = [m.name for g in population.groups for m in g.members]
    order += [f.name for f in population.features]
    rank = {k: i for i, k in enumerate(order)}
    return sorted(features, key=lambda k: rank.get(k, len(order)))


def patient(population: Population, index: int, seed: int) -> Patient:
    """Patient `index` of `population` under `seed` (what ``sample(...)[index]`` returns)."""
    rng = stream(population.name, index, seed)
    contexts: list[str] = []
    features: list[str] = []
    for g in population.groups:
        u = rng.random()
        acc = 0.0
        for m in g.members:
            acc += m.probability
            if u < acc:
                features.append(m.name)
                contexts.extend(c for c in m.contexts if c not in contexts)
                break
    for f in population.features:
        if rng.random() < _feature_probability(f, features):
            features.append(f.name)
            contexts.extend(c for c in f.contexts if c not in contexts)
    if population.mix:
        features = _group_order(population, _mixed(population, index, seed, features))
        adds = population.context_of()
        contexts = []
        for name in features:
            contexts.extend(c for c in adds.get(name, ()) if c not in contexts)
    u = rng.random()
    acc, isotype = 0.0, ""
    for name, share in population.isotype.shares.items():
        acc += share
        isotype = name
        if u < acc:
            break
    u_m = rng.random()
    m_protein = 0.0 if isotype == "nonsecretory" else _draw(population.m_protein, u_m, 0.0)
    age = _draw(population.age, rng.random(), rng.random())
    body = _body(population, rng.random(), rng.random())
    body["crcl_ml_min"] = _draw(population.crcl, rng.random(), rng.random())
    levels = {node: _draw(d, rng.random(), rng.random()) for node, d in population.levels.items()}
    notes = []
    if isotype == "light_chain":
        notes.append("light-chain myeloma: m_protein_g_dL is a serum-equivalent burden")
    if isotype == "nonsecretory":
        notes.append("nonsecretory myeloma: no M-protein to follow")
    return Patient(
        id=f"{population.name}-s{seed}-{index}",
        index=index,
        contexts=tuple(contexts),
        features=tuple(features),
        levels=ReadOnlyDict(levels),
        body=ReadOnlyDict(body),
        isotype=isotype,
        m_protein_g_dL=m_protein,
        age=age,
        notes=tuple(notes),
        tumour=ReadOnlyDict(_tumour_scales(population, index, seed)),
        resistance_per_day=_resistance(population, index, seed),
        health=_labs(population, index, seed),
    )


def _check_int(func: str, name: str, v: Any, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise InvalidInputError(f"{func}(): {name} must be an integer >= {low}, got {v!r}")
    return int(v)


def sample(population: Population | str, n: int, seed: int = 0) -> list[Patient]:
    """`n` patients of `population` (a :class:`Population` or a name/path for
    :func:`mmmech.populations.load`) under `seed`; patient ``i`` is the same for every ``n > i``
    and in every run."""
    if not isinstance(population, Population):
        population = load(population)
    n = _check_int("sample", "n", n, 1)
    seed = _check_int("sample", "seed", seed, 0)
    return [patient(population, i, seed) for i in range(n)]


def to_dataframe(patients: Sequence[Patient]) -> Any:
    """One row per patient: id, index, age, body measures, isotype, M-protein, contexts and
    features (';'-joined), one boolean column per feature, one column per sampled level, one
    per tumour-kinetics multiplier (``tumour_growth``, ``tumour_sensitivity``) and the baseline
    counts (``platelets_10e9_L``, ``anc_10e9_L``) where the patients have them."""
    import pandas as pd  # deferred: pandas is slow to import and only tables need it

    names: list[str] = []
    for p in patients:
        names.extend(f for f in p.features if f not in names)
    rows = []
    for p in patients:
        row: dict[str, Any] = {
            "id": p.id,
            "index": p.index,
            "age": p.age,
            **dict(p.body),
            "isotype": p.isotype,
            "m_protein_g_dL": p.m_protein_g_dL,
            "contexts": ";".join(p.contexts),
            "features": ";".join(p.features),
        }
        row.update({f: f in p.features for f in names})
        row.update({f"level_{k}": v for k, v in p.levels.items()})
        row.update({f"tumour_{k}": v for k, v in p.tumour.items()})
        row.update(
            {
                k: v
                for k, v in (
                    ("anc_10e9_L", p.health.anc_10e9_L),
                    ("platelets_10e9_L", p.health.platelets_10e9_L),
                )
                if v is not None
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)
