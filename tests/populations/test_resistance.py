"""The acquired-resistance rate ([resistance] of a population): a keyed draw on its own
sub-stream (every other property of the patient unchanged), the declared lognormal, errors."""

from __future__ import annotations

import math
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pytest
from _helpers import fixed_population

from mmmech import populations as P
from mmmech.exceptions import ModelFileError
from mmmech.populations.sampler import substream

N = 4000
Z = 4.5


def _without(d: dict) -> dict:
    d = dict(d)
    d.pop("resistance_per_day")
    return d


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_removing_the_table_changes_nothing_else(name):
    pop = P.load(name)
    bare = replace(pop, resistance=None)
    for i in (0, 4, 19):
        a, b = P.patient(pop, i, 3), P.patient(bare, i, 3)
        assert _without(a.to_dict()) == _without(b.to_dict())
        assert b.resistance_per_day == 0.0 and a.resistance_per_day > 0.0


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_bundled_rate_is_the_source_value_and_spread(name):
    pop = P.load(name)
    d = pop.resistance
    # Collins 2023 Table 1: TVLAMBDA 0.0024 /day, omega^2 3.04 on log lambda (cv derived)
    assert d.kind == "lognormal" and d.median == 0.0024
    assert math.log1p(d.cv**2) == pytest.approx(3.04, abs=1e-3)
    assert "DOI:10.1002/psp4.13016" in d.provenance.sources and not d.provenance.verified
    lam = np.array([p.resistance_per_day for p in P.sample(pop, N, seed=11)])
    logs = np.log(lam)
    sd = math.sqrt(3.04)
    assert abs(np.median(logs) - math.log(0.0024)) < Z * 1.2533 * sd / math.sqrt(N)
    assert abs(logs.std() - sd) < Z * sd / math.sqrt(2 * N)


def test_patient_i_is_keyed():
    pop = P.load("ndmm")
    many = P.sample(pop, 25, seed=2)
    assert P.patient(pop, 9, 2).resistance_per_day == many[9].resistance_per_day
    assert P.patient(pop, 9, 3).resistance_per_day != many[9].resistance_per_day
    # its own sub-stream, not the tumour multipliers' draws
    rng = substream(pop.name, 9, 2, "resistance")
    z = NormalDist().inv_cdf(rng.random())
    assert many[9].resistance_per_day == pytest.approx(
        0.0024 * math.exp(math.sqrt(math.log1p(pop.resistance.cv**2)) * z), rel=1e-12
    )


def test_fixed_absent_and_bad_tables(tmp_path):
    base = fixed_population("rz", "Resistance test population.")
    path = tmp_path / "rz.toml"
    path.write_text(base, encoding="utf-8")
    assert P.load(path).resistance is None and P.sample(P.load(path), 1)[0].resistance_per_day == 0
    path.write_text(
        base + '[resistance]\ndistribution = "fixed"\nvalue = 0.01\nsources = ["PMID:1"]\n', "utf-8"
    )
    assert P.sample(P.load(path), 2)[1].resistance_per_day == 0.01
    path.write_text(
        base
        + '[resistance]\ndistribution = "normal"\nmean = 0.01\nsd = 0.1\nsources = ["PMID:1"]\n',
        "utf-8",
    )
    with pytest.raises(ModelFileError, match=r"rz\.toml.*\[resistance\].*lognormal or fixed"):
        P.load(path)
