"""Per-patient tumour-kinetics multipliers ([tumour.growth], [tumour.sensitivity]): keyed draws on
their own sub-stream (existing draws unchanged), declared distributions, patient files, errors."""

from __future__ import annotations

import json
import math
import pathlib
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pytest
from _helpers import fixed_population

from mmmech import populations as P
from mmmech.exceptions import ModelFileError
from mmmech.populations.records import TumourSpec

Z = 4.5  # a correct sampler fails one check in ~10^5
N = 4000
STD = NormalDist()
BEFORE = pathlib.Path(__file__).parent / "data" / "sampler_before_tumour.json"

BASE = (
    fixed_population("tk", "Tumour-kinetics test population.")
    + """[tumour]
correlation = 0.6
correlation_note = "test"

[tumour.growth]
distribution = "lognormal"
median = 1.0
cv = 0.5
sources = ["PMID:8"]

[tumour.sensitivity]
distribution = "lognormal"
median = 2.0
cv = 0.8
sources = ["PMID:9"]
"""
)


def write(tmp_path, text):
    path = tmp_path / "tk.toml"
    path.write_text(text)
    return path


# contexts that features gained after the snapshot (round 6: rrmm's refractory features map to
# len_refractory / pi_refractory); the draws themselves are unchanged, which is what is checked
LATER_FEATURE_CONTEXTS = ("len_refractory", "pi_refractory")


LATER_LEVELS = ("TCellCount",)


def _old_fields(p):
    return dict(
        id=p.id,
        contexts=[c for c in p.contexts if c not in LATER_FEATURE_CONTEXTS],
        features=list(p.features),
        # levels added after the stored output (TCellCount, round 8) are drawn last
        levels={k: v for k, v in p.levels.items() if k not in LATER_LEVELS},
        body=dict(p.body),
        isotype=p.isotype,
        m_protein_g_dL=p.m_protein_g_dL,
        age=p.age,
    )


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_existing_draws_equal_the_sampler_before_the_multipliers(name):
    # differential: the sampler's output before [tumour] existed (main f563e0f, stored JSON)
    before = json.loads(BEFORE.read_text())["patients"][name]
    now = [_old_fields(p) for p in P.sample(name, len(before), seed=7)]
    assert now == before
    # and every patient now carries both multipliers
    assert all(set(p.tumour) == {"growth", "sensitivity"} for p in P.sample(name, 5, seed=7))


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_removing_the_table_changes_nothing_else(name):
    pop = P.load(name)
    bare = replace(pop, tumour=TumourSpec())
    for i in (0, 3, 17):
        a, b = P.patient(pop, i, 5), P.patient(bare, i, 5)
        assert _old_fields(a) == _old_fields(b)
        assert b.tumour == {} and b.tumour_scale("growth") == 1.0
        assert a.tumour_scale("sensitivity") == a.tumour["sensitivity"]


def test_patient_i_is_keyed():
    pop = P.load("rrmm")
    many = P.sample(pop, 30, seed=4)
    assert dict(P.patient(pop, 12, 4).tumour) == dict(many[12].tumour)
    assert dict(P.sample(pop, 13, seed=4)[12].tumour) == dict(many[12].tumour)
    assert dict(P.patient(pop, 12, 5).tumour) != dict(many[12].tumour)
    # the sub-stream is its own: not the first draws of the patient's main stream
    rng = P.stream(pop.name, 12, 4)
    u = rng.random()
    assert abs(math.exp(0.55 * STD.inv_cdf(u)) - many[12].tumour["growth"]) > 1e-9


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_bundled_multipliers_follow_the_file(name):
    pop = P.load(name)
    pts = P.sample(pop, N, seed=21)
    for key in ("growth", "sensitivity"):
        d = getattr(pop.tumour, key)
        assert d.kind == "lognormal" and d.median == 1.0
        prov = d.provenance
        assert prov.sources or prov.reference
        if not prov.sources or prov.modelling_choice:
            assert not prov.verified and prov.note
        v = np.log([p.tumour[key] for p in pts])
        sigma = math.sqrt(math.log1p(d.cv**2))
        # sample median and SD of log within sampling error (4.5 SE)
        assert abs(np.median(v) - math.log(d.median)) < Z * 1.2533 * sigma / math.sqrt(N)
        assert abs(v.std(ddof=1) / sigma - 1) < Z / math.sqrt(2 * (N - 1))
    r = np.corrcoef(
        np.log([p.tumour["growth"] for p in pts]), np.log([p.tumour["sensitivity"] for p in pts])
    )[0, 1]
    assert abs(r - pop.tumour.correlation) < Z / math.sqrt(N)
    assert pop.tumour.correlation_note


def test_declared_median_cv_and_correlation(tmp_path):
    pop = P.load(write(tmp_path, BASE))
    pts = P.sample(pop, N, seed=3)
    g = np.log([p.tumour["growth"] for p in pts])
    s = np.log([p.tumour["sensitivity"] for p in pts])
    sg, ss = math.sqrt(math.log1p(0.25)), math.sqrt(math.log1p(0.64))
    assert abs(np.median(s) - math.log(2.0)) < Z * 1.2533 * ss / math.sqrt(N)
    assert abs(g.std(ddof=1) / sg - 1) < Z / math.sqrt(2 * (N - 1))
    assert abs(s.std(ddof=1) / ss - 1) < Z / math.sqrt(2 * (N - 1))
    # Fisher z of the correlation of the logs
    r = np.corrcoef(g, s)[0, 1]
    assert abs(math.atanh(r) - math.atanh(0.6)) < Z / math.sqrt(N - 3)
    df = P.to_dataframe(pts[:5])
    assert list(df["tumour_growth"]) == [p.tumour["growth"] for p in pts[:5]]
    assert "tumour_sensitivity" in df.columns


def test_clip_and_truncate_bounds(tmp_path):
    text = BASE.replace("cv = 0.5\n", 'cv = 0.5\nlow = 0.5\nhigh = 1.5\nbounds = "clip"\n')
    g = np.array([p.tumour["growth"] for p in P.sample(P.load(write(tmp_path, text)), N, 1)])
    assert g.min() == 0.5 and g.max() == 1.5
    sg = math.sqrt(math.log1p(0.25))
    at_low = STD.cdf(math.log(0.5) / sg)
    assert abs(np.mean(g == 0.5) - at_low) < Z * math.sqrt(at_low * (1 - at_low) / N)
    text = BASE.replace("cv = 0.5\n", "cv = 0.5\nlow = 0.5\nhigh = 1.5\n")
    g = np.array([p.tumour["growth"] for p in P.sample(P.load(write(tmp_path, text)), N, 1)])
    assert 0.5 < g.min() and g.max() < 1.5


def test_fixed_and_absent_multipliers(tmp_path):
    text = BASE.split("[tumour]")[0] + (
        '[tumour.growth]\ndistribution = "fixed"\nvalue = 1.5\nsources = ["PMID:8"]\n'
    )
    p = P.sample(P.load(write(tmp_path, text)), 1, 0)[0]
    assert dict(p.tumour) == {"growth": 1.5}
    assert p.tumour_scale("sensitivity") == 1.0
    p = P.sample(P.load(write(tmp_path, BASE.split("[tumour]")[0])), 1, 0)[0]
    assert dict(p.tumour) == {} and p.to_dict()["tumour"] == {}


@pytest.mark.parametrize(
    "old,new,table,key,message",
    [
        ("cv = 0.5", "cv = -0.5", "tumour.growth", "cv", "'cv' must be > 0"),
        (
            'median = 1.0\ncv = 0.5\nsources = ["PMID:8"]',
            'mean = 1.0\nsd = 0.5\nsources = ["PMID:8"]',
            "tumour.growth",
            "distribution",
            "must be lognormal or fixed",
        ),
        ("correlation = 0.6", "correlation = 1.5", "tumour", "correlation", r"in \(-1, 1\)"),
        ('correlation_note = "test"', "", "tumour", "correlation", "needs a 'correlation_note'"),
        ("[tumour.sensitivity]", "[tumour.sensitivty]", "tumour", "", "did you mean"),
        ('cv = 0.8\nsources = ["PMID:9"]', "cv = 0.8", "tumour.sensitivity", "", "sources"),
    ],
)
def test_bad_tumour_tables_name_file_and_line(tmp_path, old, new, table, key, message):
    if new.startswith("mean"):
        text = BASE.replace('distribution = "lognormal"\nmedian = 1.0', 'distribution = "normal"')
        text = text.replace("cv = 0.5\n", "sd = 0.5\nmean = 1.0\n", 1)
    else:
        assert old in BASE
        text = BASE.replace(old, new)
    path = write(tmp_path, text)
    with pytest.raises(ModelFileError, match=message) as info:
        P.load(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and f"[{table}" in msg
    lines = text.splitlines()
    header = next(i for i, ln in enumerate(lines, 1) if ln.strip() == f"[{table}]")
    line = header
    if key:  # the field's own line inside the table
        line = next(i for i, ln in enumerate(lines, 1) if i > header and ln.startswith(key))
    assert msg.startswith(f"{path}, line {line}: [{table}]"), msg


def test_patient_file_tumour_table(tmp_path):
    ex = P.load_patient("example")
    assert dict(ex.tumour) == {"growth": 1.0, "sensitivity": 1.0}
    src = pathlib.Path(P.__file__).parent.parent / "_data" / "patients" / "example.toml"
    text = src.read_text() if src.exists() else None
    if text is None:  # source checkout: the bundled file lives in patients/
        text = (pathlib.Path(__file__).parents[2] / "patients" / "example.toml").read_text()
    path = tmp_path / "p.toml"
    path.write_text(text.replace("sensitivity = 1.0", "sensitivity = 0.4"))
    assert P.load_patient(path).tumour_scale("sensitivity") == 0.4
    bad = text.replace("sensitivity = 1.0", "sensitivity = -1")
    path.write_text(bad)
    with pytest.raises(ModelFileError, match="'sensitivity' must be a multiplier") as info:
        P.load_patient(path)
    line = next(i for i, ln in enumerate(bad.splitlines(), 1) if ln.startswith("sensitivity"))
    assert f"line {line}" in str(info.value) and "\n" not in str(info.value)
    path.write_text(text.replace("growth = 1.0", "growht = 1.0"))
    with pytest.raises(ModelFileError, match="did you mean 'growth'"):
        P.load_patient(path)
