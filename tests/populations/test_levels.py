"""Between-patient levels ([levels.NODE]): declared distributions, keyed draws, errors."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from _helpers import fixed_population

from mmmech import populations as P
from mmmech.exceptions import ModelFileError
from mmmech.populations.reader import level_ceiling

#: z-score of the binomial bound: a correct sampler fails one check in ~10^5
Z = 4.5
N = 4000
STD = NormalDist()

BASE = (
    fixed_population("lv", "Levels test population.")
    + """[levels.CD38Expression]
distribution = "lognormal"
median = 1.0
cv = 0.38
high = 1.25
bounds = "clip"
sources = ["PMID:8"]

[levels.NKBasalActivity]
distribution = "normal"
mean = 0.6
sd = 0.2
low = 0.0
high = 1.0
sources = ["PMID:9"]
"""
)


def write(tmp_path, text):
    path = tmp_path / "lv.toml"
    path.write_text(text)
    return path


def ecdf_matches(values, x, q):
    """The share of `values` <= x is q within a 4.5-sigma binomial bound."""
    share = float(np.mean(values <= x))
    return abs(share - q) <= Z * math.sqrt(q * (1 - q) / len(values)) + 1e-12


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_bundled_levels_follow_declared_distribution(name):
    pop = P.load(name)
    assert set(pop.levels) == {"CD38Expression", "TCellCount"}
    pts = P.sample(pop, N, seed=11)
    for node, d in pop.levels.items():
        assert d.kind == "lognormal" and d.bounds == "clip"
        # CD38: median 1 by convention; TCellCount: ALC median / 1.5 (docs/populations.md)
        assert d.median == (1.0 if node == "CD38Expression" else 0.962)
        assert d.provenance.sources or d.provenance.reference
        assert d.high <= level_ceiling(node) + 1e-12
        v = np.array([p.levels[node] for p in pts])
        assert v.max() <= d.high and v.min() > 0
        sigma = math.sqrt(math.log1p(d.cv**2))
        # quantiles of the declared lognormal below the clip bound are kept exactly
        for q in (0.05, 0.1, 0.25, 0.4):
            x = d.median * math.exp(sigma * STD.inv_cdf(q))
            assert x < d.high and ecdf_matches(v, x, q), (node, q)
        # the mass above `high` sits on it
        above = 1 - STD.cdf(math.log(d.high / d.median) / sigma)
        at = float(np.mean(v == d.high))
        assert abs(at - above) <= Z * math.sqrt(above * (1 - above) / N)


def test_ceilings_are_the_model_baselines():
    # CD38Expression: an input with baseline 0.8; NKBasalActivity: an input with baseline 1
    assert level_ceiling("CD38Expression") == pytest.approx(1.25)
    assert level_ceiling("NKBasalActivity") == pytest.approx(1.0)


def test_truncate_and_clip_of_a_normal_level(tmp_path):
    pop = P.load(write(tmp_path, BASE))
    d = pop.levels["NKBasalActivity"]
    assert d.bounds == "truncate"
    v = np.array([p.levels["NKBasalActivity"] for p in P.sample(pop, N, seed=2)])
    lo, hi = STD.cdf((0.0 - 0.6) / 0.2), STD.cdf((1.0 - 0.6) / 0.2)
    assert v.min() > 0 and v.max() < 1
    for x in (0.3, 0.6, 0.8):  # the CDF of the exact truncated normal
        q = (STD.cdf((x - 0.6) / 0.2) - lo) / (hi - lo)
        assert ecdf_matches(v, x, q)
    clip = P.load(write(tmp_path, BASE.replace("low = 0.0", 'low = 0.0\nbounds = "clip"')))
    w = np.array([p.levels["NKBasalActivity"] for p in P.sample(clip, N, seed=2)])
    p_hi = 1 - STD.cdf(2.0)
    assert abs(np.mean(w == 1.0) - p_hi) <= Z * math.sqrt(p_hi * (1 - p_hi) / N)
    assert ecdf_matches(w, 0.6, 0.5)


def test_patient_levels_are_keyed():
    pop = P.load("rrmm")
    a = P.sample(pop, 30, seed=4)
    b = P.sample(P.load("rrmm"), 8, seed=4)
    assert [dict(p.levels) for p in a[:8]] == [dict(p.levels) for p in b]
    assert dict(P.patient(pop, 21, 4).levels) == dict(a[21].levels)
    other = P.sample(pop, 30, seed=5)
    assert [dict(p.levels) for p in other] != [dict(p.levels) for p in a]


def line_of(text, table, key=None):
    """Line of `key` in `[table]` (of the header when `key` is None)."""
    inside = False
    for n, row in enumerate(text.splitlines(), start=1):
        if row.startswith("["):
            inside = row.strip() == f"[{table}]"
            if inside and key is None:
                return n
        elif inside and key and row.startswith(f"{key} ="):
            return n
    raise AssertionError((table, key))


CD38, NK = "levels.CD38Expression", "levels.NKBasalActivity"
BAD = [
    ("cv = 0.38", "cv = -0.38", CD38, "cv", r"'cv' must be > 0, got -0.38"),
    ("median = 1.0", "median = 2.0", CD38, "median", r"'median' 2 must lie within"),
    ('bounds = "clip"', 'bounds = "clamp"', CD38, "bounds", r"'bounds' must be one of .*'clip'"),
    ("high = 1.25", "high = 1.5", CD38, "high", r"'high' must be <= 1.25, the largest level"),
    ("low = 0.0\n", "", NK, None, r"relative level must be >= 0"),
    ("sd = 0.2", "sd = 0", NK, "sd", r"'sd' must be > 0"),
    (
        "[levels.CD38Expression]",
        "[levels.CD38Expresion]",
        "levels.CD38Expresion",
        None,
        r"unknown model node 'CD38Expresion'; did you mean 'CD38Expression'",
    ),
]


@pytest.mark.parametrize("old, new, table, key, message", BAD)
def test_bad_levels_name_file_and_line(tmp_path, old, new, table, key, message):
    assert old in BASE
    text = BASE.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(ModelFileError, match=message) as info:
        P.load(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}, line {line_of(text, table, key)}: [{table}]: ")


def test_bounds_only_on_bounded_normal_or_lognormal(tmp_path):
    text = BASE.replace(
        'value = 3.0\nsources = ["PMID:3"]', 'value = 3.0\nbounds = "clip"\nsources = ["PMID:3"]'
    )
    with pytest.raises(ModelFileError, match=r", line \d+: \[m_protein\]: 'bounds' applies"):
        P.load(write(tmp_path, text))


@pytest.mark.slow
def test_lower_cd38_gives_no_deeper_daratumumab_response():
    """Differential: the patient's CD38 level reaches the simulation and acts in the
    expected direction (less CD38, less daratumumab-driven reduction)."""
    from mmmech.dynamics import simulate_regimen

    p = P.sample("rrmm", 1, seed=1)[0]
    kw = dict(cycles=2, patient=p, drop=["lenalidomide", "dexamethasone"], step_hours=12.0)
    hi = simulate_regimen("dara_rd", levels={"CD38Expression": 1.0}, **kw)
    lo = simulate_regimen("dara_rd", levels={"CD38Expression": 0.25}, **kw)
    assert lo.response.max_reduction < hi.response.max_reduction
    assert any("CD38Expression" in n for n in hi.notes)
