"""Virtual populations: bundled files load with sources, sampling is keyed per patient and
matches the declared distributions, bodies are consistent, bad files give one-line errors."""

import hashlib
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from _helpers import NEUTRAL_CWD

from mmmech import populations as P
from mmmech.exceptions import InvalidInputError, ModelFileError, UnknownNameError
from mmmech.populations.reader import known_contexts
from mmmech.regimens import Body

N_LARGE = 4000
#: z-score of the binomial bound: a correct sampler fails one check in ~10^5
Z = 4.5

MINIMAL = """
[population]
name = "mini"
description = "A small test population."

[[group]]
name = "primary"
sources = ["PMID:1"]

[[group.member]]
name = "a"
contexts = ["t11_14"]
probability = 0.3

[[group.member]]
name = "b"
contexts = ["t4_14"]
probability = 0.2

[[feature]]
name = "c"
contexts = ["del17p"]
probability = 0.1
modelling_choice = true
note = "test"

[isotype]
shares = { IgG = 0.6, IgA = 0.4 }
sources = ["PMID:2"]

[m_protein]
distribution = "uniform"
low = 1.0
high = 2.0
sources = ["PMID:3"]

[age]
distribution = "normal"
mean = 70.0
sd = 8.0
low = 40.0
high = 95.0
sources = ["PMID:4"]

[body]
correlation = 0.5
correlation_note = "test"

[body.weight]
distribution = "lognormal"
median = 75.0
cv = 0.2
sources = ["PMID:5"]

[body.height]
distribution = "normal"
mean = 168.0
sd = 9.0
sources = ["PMID:6"]

[crcl]
distribution = "bands"
bands = [[30.0, 60.0, 0.5], [60.0, 120.0, 0.5]]
sources = ["PMID:7"]

[levels.CD38Expression]
distribution = "lognormal"
median = 1.0
cv = 0.3
low = 0.2
high = 1.25
bounds = "clip"
sources = ["PMID:8"]
"""


def write(tmp_path, text, name="pop.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def digest(patients):
    rows = [
        [
            p.id,
            p.contexts,
            p.features,
            dict(p.body),
            dict(p.levels),
            p.isotype,
            p.m_protein_g_dL,
            p.age,
        ]
        for p in patients
    ]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


# --- bundled data ---------------------------------------------------------------------------


def test_bundled_populations():
    assert P.available() == ["ndmm", "rrmm"]


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_every_number_has_provenance(name):
    pop = P.load(name)
    assert pop.name == name
    provs = [pop.isotype.provenance, pop.m_protein.provenance, pop.age.provenance]
    provs += [pop.crcl.provenance, pop.body.weight.provenance, pop.body.height.provenance]
    for g in pop.groups:
        for m in g.members:
            provs.append(m.provenance if _has(m.provenance) else g.provenance)
    provs += [f.provenance for f in pop.features]
    for prov in provs:
        assert _has(prov), prov
        if not prov.sources or prov.reference:
            # a number without a seen identifier is marked unverified or a modelling choice
            assert not prov.verified or prov.modelling_choice or prov.sources
        if prov.modelling_choice:
            assert prov.note
    assert pop.body.correlation_note
    for ctx in {c for cs in pop.context_of().values() for c in cs}:
        assert ctx in known_contexts()


def _has(prov):
    return bool(prov.sources or prov.reference or prov.modelling_choice)


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_cytogenetics_map_to_contexts(name):
    ctx = P.load(name).context_of()
    assert ctx["t11_14"] == ("t11_14",)
    assert ctx["t4_14"] == ("t4_14",)
    assert ctx["maf"] == ("maf",)
    assert ctx["del17p"] == ("del17p",)
    assert ctx["gain1q"] == ("gain1q",)
    assert ctx["hyperdiploid"] == ()
    assert ctx["ras"] == ("ras",)


def test_rrmm_prior_therapy_is_recorded():
    prev = P.load("rrmm").prevalences()
    assert prev["lenalidomide_refractory"] == pytest.approx(154 / 466, abs=0.001)
    assert prev["bortezomib_refractory"] == pytest.approx(135 / 466, abs=0.001)
    assert prev["one_prior_line"] + prev["two_or_three_prior_lines"] == pytest.approx(1.0)


def test_load_is_case_insensitive_and_accepts_paths(tmp_path):
    assert P.load("NDMM") is P.load("ndmm")
    pop = P.load(write(tmp_path, MINIMAL))
    assert pop.name == "mini" and set(pop.levels) == {"CD38Expression"}


# --- keyed sampling ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_first_patients_do_not_depend_on_n(name):
    k = 25
    assert P.sample(name, k, seed=3) == P.sample(name, 2 * k, seed=3)[:k]
    assert P.patient(P.load(name), 7, seed=3) == P.sample(name, 8, seed=3)[7]


def test_same_patients_in_another_process():
    here = digest(P.sample("ndmm", 40, seed=11))
    code = (
        "import hashlib, json; from mmmech import populations as P; "
        "ps = P.sample('ndmm', 40, seed=11); "
        "rows = [[p.id, p.contexts, p.features, dict(p.body), dict(p.levels), p.isotype, "
        "p.m_protein_g_dL, p.age] for p in ps]; "
        "print(hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest())"
    )
    # from a neutral folder: in the source tree `python -c` would import the unbuilt mmmech/
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=NEUTRAL_CWD
    )
    assert out.stdout.strip() == here


def test_seeds_and_populations_differ():
    a, b = P.sample("ndmm", 30, seed=1), P.sample("ndmm", 30, seed=2)
    assert sum(x.body["weight_kg"] == y.body["weight_kg"] for x, y in zip(a, b, strict=True)) == 0
    assert digest(a) != digest(b)
    assert a[0].id == "ndmm-s1-0" and b[0].id == "ndmm-s2-0"
    # the same body distribution in both files, but each population has its own streams
    r = P.sample("rrmm", 30, seed=1)
    assert all(x.body["weight_kg"] != y.body["weight_kg"] for x, y in zip(a, r, strict=True))


def test_bad_arguments():
    for n in (0, -1, 2.5, True):
        with pytest.raises(InvalidInputError, match=r"sample\(\): n must be an integer >= 1"):
            P.sample("ndmm", n, seed=1)
    with pytest.raises(InvalidInputError, match=r"seed must be an integer >= 0"):
        P.sample("ndmm", 3, seed=-1)
    with pytest.raises(UnknownNameError, match="did you mean 'ndmm'"):
        P.load("ndm")


# --- sampled distributions -----------------------------------------------------------------


def _within(observed, p, n):
    return abs(observed - p) <= Z * math.sqrt(p * (1 - p) / n) + 1e-12


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_marginal_frequencies_match_declared(name):
    pop = P.load(name)
    patients = P.sample(pop, N_LARGE, seed=2026)
    for feat, p in pop.prevalences().items():
        freq = np.mean([feat in x.features for x in patients])
        assert _within(freq, p, N_LARGE), (feat, freq, p)
    for iso, share in pop.isotype.shares.items():
        freq = np.mean([x.isotype == iso for x in patients])
        assert _within(freq, share, N_LARGE), (iso, freq, share)
    for spec, values in (
        (pop.age, [x.age for x in patients]),
        (pop.crcl, [x.body["crcl_ml_min"] for x in patients]),
    ):
        values = np.array(values)
        for low, high, p in spec.bands:
            freq = np.mean((values >= low) & (values < high))
            assert _within(freq, p, N_LARGE), (low, high, freq, p)
    # group members are exclusive; contexts follow the features
    primary = {m.name for m in pop.groups[0].members}
    ctx = pop.context_of()
    for x in patients:
        assert len(primary & set(x.features)) <= 1
        assert set(x.contexts) == {c for f in x.features for c in ctx[f]}
        assert (x.m_protein_g_dL == 0) == (x.isotype == "nonsecretory")


def test_continuous_distributions_and_levels(tmp_path):
    pop = P.load(write(tmp_path, MINIMAL))
    patients = P.sample(pop, N_LARGE, seed=5)
    age = np.array([x.age for x in patients])
    assert age.min() >= 40 and age.max() <= 95
    assert abs(age.mean() - 70.0) < Z * 8.0 / math.sqrt(N_LARGE)
    m = np.array([x.m_protein_g_dL for x in patients])
    assert m.min() >= 1 and m.max() <= 2
    cd38 = np.array([x.levels["CD38Expression"] for x in patients])
    assert cd38.min() >= 0.2 and cd38.max() <= 3.0
    assert abs(np.median(np.log(cd38))) < 0.05
    df = P.to_dataframe(patients[:10])
    assert list(df["level_CD38Expression"]) == list(cd38[:10])
    assert df["a"].dtype == bool and len(df) == 10


def test_bsa_follows_weight_and_height():
    pop = P.load("ndmm")
    patients = P.sample(pop, N_LARGE, seed=9)
    w = np.array([x.body["weight_kg"] for x in patients])
    h = np.array([x.body["height_cm"] for x in patients])
    b = np.array([x.body["bsa_m2"] for x in patients])
    np.testing.assert_allclose(b, np.sqrt(w * h / 3600.0), rtol=1e-12)
    assert w.min() >= pop.body.weight.low and w.max() <= pop.body.weight.high
    assert h.min() >= pop.body.height.low and h.max() <= pop.body.height.high
    r = np.corrcoef(np.log(w), h)[0, 1]
    assert abs(r - pop.body.correlation) < 0.05
    assert np.corrcoef(w, b)[0, 1] > 0.8
    assert abs(np.median(w) - pop.body.weight.median) < 1.5
    assert P.bsa(70.0, 170.0, "dubois") == pytest.approx(0.007184 * 70**0.425 * 170**0.725)
    body = patients[0].regimen_body()
    assert isinstance(body, Body) and body.bsa_m2 == patients[0].body["bsa_m2"]


# --- bad files -----------------------------------------------------------------------------

BAD = [
    (
        'contexts = ["t11_14"]',
        'contexts = ["t11_41"]',
        r"unknown context 't11_41'; did you mean 't11_14'",
    ),
    (
        "probability = 0.3",
        "probability = 1.3",
        r"'probability' must be a probability in \[0, 1\], got 1.3",
    ),
    (
        "probability = 0.2",
        "probability = 0.8",
        r"group 'primary': member probabilities sum to 1.1 > 1",
    ),
    (
        'sources = ["PMID:1"]',
        'total = 0.6\nsources = ["PMID:1"]',
        r"sum to 0.5, not the declared total 0.6",
    ),
    ("IgA = 0.4", "IgA = 0.3", r"'shares' must sum to 1, got 0.9"),
    ("IgA = 0.4", "IgX = 0.4", r"unknown isotype 'IgX'"),
    ('sources = ["PMID:4"]\n', "", r"\[age\]: missing sources"),
    (
        'sources = ["PMID:4"]',
        'reference = "a paper"',
        r"a reference without source ids must say verified = false",
    ),
    ('sources = ["PMID:4"]', 'sources = ["PubMed 4"]', r"a source must be PMID"),
    ('modelling_choice = true\nnote = "test"', "", r"feature 'c': missing sources"),
    (
        "[levels.CD38Expression]",
        "[levels.CD38Expresion]",
        r"unknown model node 'CD38Expresion'; did you mean 'CD38Expression'",
    ),
    (
        'distribution = "bands"',
        'distribution = "band"',
        r"'distribution' must be one of .*did you mean 'bands'",
    ),
    (
        "bands = [[30.0, 60.0, 0.5], [60.0, 120.0, 0.5]]",
        "bands = [[30.0, 60.0, 0.5], [60.0, 120.0, 0.4]]",
        r"band probabilities must sum to 1, got 0.9",
    ),
    ("correlation = 0.5", "correlation = 1.5", r"'correlation' must be a number in \(-1, 1\)"),
    ('name = "c"', 'name = "c"\ncolour = "red"', r"'colour' is not a known field"),
    ("[m_protein]", "[m_protien]", r"'m_protien' is not a known field .*did you mean 'm_protein'"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_bad_files_give_one_line_errors(tmp_path, old, new, message):
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(ModelFileError, match=message) as info:
        P.load(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path))


def test_invalid_toml_is_one_line(tmp_path):
    path = write(tmp_path, MINIMAL + "\n[broken\n")
    with pytest.raises(ModelFileError, match="invalid TOML") as info:
        P.load(path)
    assert "\n" not in str(info.value)


def test_bundled_name_must_match(tmp_path):
    with pytest.raises(ModelFileError, match="must match the file name 'other'"):
        P.read_population(MINIMAL, "populations/other.toml", expect_name="other")


def test_patients_and_populations_pickle_and_are_read_only():
    import pickle

    pop = P.load("rrmm")
    patients = P.sample(pop, 5, seed=4)
    assert pickle.loads(pickle.dumps(patients)) == patients
    assert pickle.loads(pickle.dumps(pop)) == pop
    with pytest.raises(TypeError, match="read-only"):
        patients[0].body["weight_kg"] = 1.0
