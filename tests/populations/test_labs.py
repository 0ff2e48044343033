"""Baseline laboratory values ([labs.NAME]): declared distributions, their own sub-stream (every
other draw unchanged), one-line errors, and the toxicity course starting from them."""

from __future__ import annotations

import math
import re
from statistics import NormalDist

import numpy as np
import pytest

from mmmech import populations as P
from mmmech.dynamics.feedback import patient_health
from mmmech.exceptions import ModelFileError
from mmmech.resources import data_file
from mmmech.toxicity import apply_dose_modifications

Z = 4.5  # binomial bound: a correct sampler fails one check in ~10^5
N = 4000
STD = NormalDist()

LABS = """
[labs.platelets]
distribution = "lognormal"
median = 197.0
cv = 0.42
low = 35.0
high = 666.0
unit = "10^9/L"
sources = ["PMID:10"]

[labs.anc]
distribution = "normal"
mean = 3.5
sd = 1.2
low = 1.0
high = 9.0
unit = "10^9/L"
sources = ["PMID:11"]
"""

BASE = """
[population]
name = "lb"
description = "Labs test population."

[[feature]]
name = "del17p"
contexts = ["del17p"]
probability = 0.3
sources = ["PMID:1"]

[isotype]
shares = { IgG = 0.6, IgA = 0.4 }
sources = ["PMID:2"]

[m_protein]
distribution = "lognormal"
median = 3.0
cv = 0.5
sources = ["PMID:3"]

[age]
distribution = "normal"
mean = 70.0
sd = 8.0
sources = ["PMID:4"]

[body.weight]
distribution = "fixed"
value = 75.0
sources = ["PMID:5"]

[body.height]
distribution = "fixed"
value = 170.0
sources = ["PMID:6"]

[crcl]
distribution = "uniform"
low = 30.0
high = 120.0
sources = ["PMID:7"]
"""


def write(tmp_path, text, name="lb.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def other_fields(p):
    return (p.id, p.contexts, p.features, dict(p.levels), dict(p.body), p.isotype)


def test_labs_leave_every_other_draw_unchanged(tmp_path):
    with_labs = P.sample(P.load(write(tmp_path, BASE + LABS)), 50, seed=3)
    without = P.sample(P.load(write(tmp_path, BASE, "plain.toml")), 50, seed=3)
    assert [other_fields(p) for p in with_labs] == [other_fields(p) for p in without]
    assert [(p.age, p.m_protein_g_dL) for p in with_labs] == [
        (p.age, p.m_protein_g_dL) for p in without
    ]
    assert all(p.health.platelets_10e9_L is None for p in without)
    assert all(35.0 <= p.health.platelets_10e9_L <= 666.0 for p in with_labs)
    assert all(1.0 <= p.health.anc_10e9_L <= 9.0 for p in with_labs)


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_bundled_labs_leave_the_bundled_patients_unchanged(tmp_path, name):
    """Differential: the bundled file without its [labs.*] tables gives the same patients."""
    text = data_file("populations", f"{name}.toml").read_text()
    stripped = re.sub(r"\n\[labs\.[a-z]+\]\n(?:[^\[\n].*\n|\n)*", "\n", text + "\n")
    assert "[labs." in text and "[labs." not in stripped
    a = P.sample(P.load(name), 40, seed=7)
    b = P.sample(P.load(write(tmp_path, stripped, f"{name}.toml")), 40, seed=7)
    assert [other_fields(p) for p in a] == [other_fields(p) for p in b]
    assert [(p.age, p.m_protein_g_dL) for p in a] == [(p.age, p.m_protein_g_dL) for p in b]


def test_labs_are_keyed():
    pop = P.load("rrmm")
    a = P.sample(pop, 30, seed=4)
    assert [p.health for p in a[:8]] == [p.health for p in P.sample(pop, 8, seed=4)]
    assert P.patient(pop, 21, 4).health == a[21].health
    assert [p.health for p in P.sample(pop, 30, seed=5)] != [p.health for p in a]


def truncated_lognormal_cdf(x, median, cv, low, high):
    s = math.sqrt(math.log1p(cv**2))

    def F(v):
        return STD.cdf(math.log(v / median) / s)

    return (F(x) - F(low)) / (F(high) - F(low))


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_bundled_platelets_follow_the_declared_distribution(name):
    pop = P.load(name)
    d = pop.labs["platelets"]
    assert d.kind == "lognormal" and d.unit == "10^9/L"
    assert d.provenance.sources and not d.provenance.verified
    v = np.array([p.health.platelets_10e9_L for p in P.sample(pop, N, seed=11)])
    assert d.low <= v.min() and v.max() <= d.high
    # median, quartiles and the 150 x 10^9/L threshold of the source (25% below it)
    s = math.sqrt(math.log1p(d.cv**2))
    quartiles = (d.median * math.exp(-0.6745 * s), d.median * math.exp(0.6745 * s))
    for x in (150.0, d.median, *quartiles):
        q = truncated_lognormal_cdf(x, d.median, d.cv, d.low, d.high)
        share = float(np.mean(v <= x))
        assert abs(share - q) <= Z * math.sqrt(q * (1 - q) / N), (x, share, q)
    assert abs(truncated_lognormal_cdf(150.0, d.median, d.cv, d.low, d.high) - 0.25) < 0.01
    df = P.to_dataframe(P.sample(pop, 5, seed=11))
    assert list(df["platelets_10e9_L"]) == list(v[:5])


def line_of(text, table, key):
    inside = False
    for n, row in enumerate(text.splitlines(), start=1):
        if row.startswith("["):
            inside = row.strip() == f"[{table}]"
            if inside and key is None:
                return n
        elif inside and key and row.startswith(f"{key} ="):
            return n
    raise AssertionError((table, key))


PLT, ANC = "labs.platelets", "labs.anc"
BAD = [
    (
        "[labs.platelets]",
        "[labs.platelet]",
        "labs.platelet",
        None,
        r"unknown laboratory value 'platelet'; did you mean 'platelets'",
    ),
    ("low = 1.0", "low = 0.0", ANC, "low", r"a cell count must be > 0"),
    ("high = 666.0", "high = 2500.0", PLT, "high", r"'high' must be <= 2000"),
    ('unit = "10^9/L"', 'unit = "/uL"', PLT, "unit", r"'unit' must be '10\^9/L'"),
    ("cv = 0.42", "cv = 0", PLT, "cv", r"'cv' must be > 0"),
    ("median = 197.0", "median = 20.0", PLT, "median", r"'median' 20 must lie within"),
    ('sources = ["PMID:10"]\n', "", PLT, None, r"missing sources"),
]


@pytest.mark.parametrize("old, new, table, key, message", BAD)
def test_bad_labs_name_file_and_line(tmp_path, old, new, table, key, message):
    text = (BASE + LABS).replace(old, new, 1)
    assert text != BASE + LABS
    path = write(tmp_path, text)
    with pytest.raises(ModelFileError, match=message) as info:
        P.load(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}, line {line_of(text, table, key)}: [{table}]: ")


def test_sampled_baseline_reaches_the_toxicity_course():
    p = P.sample("rrmm", 1, seed=0)[0]
    h = patient_health(p)
    assert h["platelets_10e9_L"] == p.health.platelets_10e9_L
    _, a = apply_dose_modifications("vd", 1, p.regimen_body(), h)
    _, b = apply_dose_modifications("vd", 1, p.regimen_body(), {**h, "platelets_10e9_L": 400.0})
    assert a.platelets[0] < b.platelets[0]


def test_lower_baseline_never_lowers_thrombocytopenia_grade():
    """Invariant: the same patient (same drug-effect draw) with a lower baseline platelet
    count reaches a worst platelet grade at least as high; grade >= 3 (< 50 x 10^9/L) is reached
    from the low end of the sourced range but not from its median."""
    p = P.sample("rrmm", 1, seed=0)[0]
    h = {**patient_health(p), "crcl_ml_min": 90.0}
    grades = []
    for base in (40.0, 80.0, 150.0, 197.0, 400.0):
        _, c = apply_dose_modifications("vd", 1, p.regimen_body(), {**h, "platelets_10e9_L": base})
        grades.append(c.worst_grade("platelets"))
    assert grades == sorted(grades, reverse=True)
    assert grades[0] >= 3 > grades[3]
