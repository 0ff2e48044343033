"""IMWG classification on synthetic M-protein courses with answers read off the criteria
(Kumar et al., Lancet Oncol 2016, DOI:10.1016/S1470-2045(16)30206-6)."""

import pytest

from mmmech.dynamics import CATEGORIES, classify
from mmmech.exceptions import InvalidInputError

DAYS = [0, 28, 56, 84, 112]


@pytest.mark.parametrize(
    ("course", "best"),
    [
        ([4.0, 3.5, 3.2, 3.1, 3.05], "SD"),  # 24% reduction: not MR
        ([4.0, 3.5, 3.0, 3.0, 3.0], "MR"),  # exactly 25%
        ([4.0, 3.0, 2.05, 2.1, 2.2], "MR"),  # 49%
        ([4.0, 3.0, 2.0, 2.1, 2.2], "PR"),  # exactly 50%
        ([4.0, 2.0, 0.41, 0.41, 0.41], "PR"),  # 89.75%
        ([4.0, 2.0, 0.4, 0.3, 0.3], "VGPR"),  # 90%
        ([4.0, 1.0, 0.1, 0.03, 0.03], "CR"),  # >= 99% (the model's approximation)
        ([4.0, 4.5, 5.0, 5.5, 6.0], "PD"),  # 25% and +1 g/dL from baseline on day 56
    ],
)
def test_best_response(course, best):
    assert classify(DAYS, course).best == best


def test_progression_needs_25_percent_and_half_a_gram():
    # nadir 1.0: 1.2 is +20% (no), 1.3 is +30% but only +0.3 g/dL (no), 1.5 is +50% and +0.5
    r = classify([0, 30, 60, 90, 120], [4.0, 1.0, 1.2, 1.3, 1.5])
    assert r.best == "PR"  # 75% reduction before progression
    assert r.progression_day == 120.0
    # nadir 0.2 g/dL: tripling to 0.6 is +0.4 g/dL, not progression
    assert classify([0, 30, 60], [3.0, 0.2, 0.6]).progression_day is None
    assert classify([0, 30, 60], [3.0, 0.2, 0.7]).progression_day == 60.0


def test_progression_from_high_nadir_needs_one_gram():
    # lowest value >= 5 g/dL: the absolute increase must be >= 1 g/dL
    assert classify([0, 30, 60], [6.0, 6.0, 7.5]).progression_day == 60.0
    assert classify([0, 30, 60], [5.0, 5.0, 5.9]).progression_day is None  # +18%
    assert classify([0, 30, 60], [8.0, 8.0, 9.9]).progression_day is None  # +0.24 but < +25%
    assert classify([0, 30, 60], [5.0, 5.0, 6.25]).progression_day == 60.0


def test_best_response_is_before_progression():
    r = classify([0, 30, 60, 90, 120, 150], [4.0, 1.8, 1.9, 2.5, 0.1, 0.1])
    assert r.best == "PR"
    assert r.progression_day == 90.0
    assert r.nadir_g_per_dL == pytest.approx(1.8)


def test_categories_and_errors():
    assert CATEGORIES == ("CR", "VGPR", "PR", "MR", "SD", "PD")
    with pytest.raises(InvalidInputError, match="classify"):
        classify([0, 1], [1.0])
    with pytest.raises(InvalidInputError, match="increasing"):
        classify([0, 0], [1.0, 1.0])
    with pytest.raises(InvalidInputError, match="baseline"):
        classify([0, 1], [0.0, 0.0])
