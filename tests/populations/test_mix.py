"""A trial's enrolled patient mix (populations.with_mix) and the T-cell count level.

Known answers: the enrolled share of a feature, the declared shares of the others rescaled
(``p_j (1 - q) / (1 - p)``), every other draw of patient i unchanged, and the two quantiles
of the Veterans Affairs absolute-lymphocyte-count distribution (24% below 1.0, 53% below
1.5 x 10^3/uL; PMID:39471425) that the bundled TCellCount level is derived from.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import populations
from mmmech.exceptions import InvalidInputError

N = 3000
BASE = populations.sample("rrmm", N, seed=4)


def _share(pts, name):
    return sum(name in p.features for p in pts) / len(pts)


def _bound(p, n=N):
    return 4.5 * math.sqrt(max(p * (1 - p), 1e-4) / n)


@pytest.mark.parametrize("q", [0.46, 0.05])
def test_enrolled_share_and_the_rest_rescaled(q):
    pop = populations.load("rrmm")
    mixed = populations.sample(populations.with_mix(pop, {"t11_14": q}), N, seed=4)
    prev = pop.prevalences()
    p = prev["t11_14"]
    assert abs(_share(mixed, "t11_14") - q) < _bound(q)
    for other in ("t4_14", "maf", "hyperdiploid"):
        want = prev[other] * (1 - q) / (1 - p)
        assert abs(_share(mixed, other) - want) < _bound(want)
    for indep in ("del17p", "gain1q", "lenalidomide_refractory"):  # not in the group: unchanged
        assert [indep in a.features for a in BASE] == [indep in b.features for b in mixed]


def test_an_independent_feature_mix():
    pop = populations.load("rrmm")
    mixed = populations.sample(populations.with_mix(pop, {"del17p": 0.3}), N, seed=4)
    assert abs(_share(mixed, "del17p") - 0.3) < _bound(0.3)
    # only patients without del(17p) move (q > p): nobody loses it
    assert all(
        "del17p" in b.features for a, b in zip(BASE, mixed, strict=True) if "del17p" in a.features
    )


def test_patient_i_keeps_every_other_draw_and_only_movers_move():
    pop = populations.load("rrmm")
    mixed = populations.sample(populations.with_mix(pop, {"t11_14": 0.46}), N, seed=4)
    moved = 0
    for a, b in zip(BASE, mixed, strict=True):
        assert (a.id, a.isotype, a.m_protein_g_dL, a.age) == (
            b.id,
            b.isotype,
            b.m_protein_g_dL,
            b.age,
        )
        assert dict(a.body) == dict(b.body) and dict(a.levels) == dict(b.levels)
        assert dict(a.tumour) == dict(b.tumour) and a.health == b.health
        if "t11_14" in a.features:  # q > p: every t(11;14) patient keeps it
            assert a.features == b.features and a.contexts == b.contexts
        moved += a.features != b.features
        # contexts follow the features
        assert ("t11_14" in b.contexts) == ("t11_14" in b.features)
        assert ("t4_14" in b.contexts) == ("t4_14" in b.features)
    # the share of patients that must move: (q - p) of them, within sampling error
    assert abs(moved / N - (0.46 - 0.21)) < _bound(0.25)


def test_no_mix_is_the_population():
    pop = populations.with_mix("rrmm")
    assert populations.sample(pop, 50, seed=4) == BASE[:50]


@settings(max_examples=15, deadline=None)
@given(st.floats(0.0, 1.0), st.integers(0, 40))
def test_a_mixed_patient_is_the_same_in_any_cohort_size(q, i):
    pop = populations.with_mix("rrmm", {"maf": q})
    assert populations.patient(pop, i, 7) == populations.sample(pop, i + 1, seed=7)[i]


def test_level_median_keeps_each_patients_quantile():
    pop = populations.with_mix("rrmm", level_medians={"TCellCount": 0.6})
    moved = populations.sample(pop, 400, seed=4)
    base = BASE[:400]
    old_med = populations.load("rrmm").levels["TCellCount"].median
    for a, b in zip(base, moved, strict=True):
        x, y = a.levels["TCellCount"], b.levels["TCellCount"]
        if y < 1.0 and x < 1.0:  # neither clipped at the ceiling: the same quantile
            assert y == pytest.approx(x * 0.6 / old_med, rel=1e-9)
        assert y <= x
        assert a.levels["CD38Expression"] == b.levels["CD38Expression"]
        assert a.features == b.features


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"features": {"t11_4": 0.4}}, "did you mean 't11_14'"),
        ({"features": {"t11_14": 1.4}}, "in [0, 1]"),
        ({"level_medians": {"TCellCont": 0.5}}, "did you mean 'TCellCount'"),
        ({"level_medians": {"TCellCount": 1.5}}, "within"),
        ({"level_medians": {"TCellCount": 0.0}}, "> 0"),
    ],
)
def test_bad_mixes_give_one_line_errors(kwargs, needle):
    with pytest.raises(InvalidInputError) as e:
        populations.with_mix("rrmm", **kwargs)
    assert needle in str(e.value) and "\n" not in str(e.value) and "with_mix()" in str(e.value)


@pytest.mark.parametrize("name", ["rrmm", "ndmm"])
def test_tcell_count_level_reproduces_the_sourced_quantiles(name):
    """level = ALC / 1.5: ALC < 1.0 (severely low) in 24% and < 1.5 (lymphopenia, level < 1)
    in 53% of the VA cohort; the derived lognormal must give both back."""
    v = np.array([p.levels["TCellCount"] for p in populations.sample(name, N, seed=2)])
    assert abs(np.mean(v < 1.0 / 1.5) - 0.24) < _bound(0.24)
    assert abs(np.mean(v < 1.0) - 0.53) < _bound(0.53)
    assert v.max() <= 1.0 and v.min() > 0
