"""Cumulative-dose bortezomib neuropathy: subcutaneous gives less than intravenous at the same
dose (Moreau 2011, PMID:21507715; cumulative doses at onset from PMID:29625927)."""

import pytest

from mmmech.exceptions import InvalidInputError
from mmmech.toxicity import apply_dose_modifications, neuropathy_grade, toxicity_data


def test_sc_gives_less_neuropathy_than_iv_at_the_same_dose():
    """Moreau 2011 design: 1.3 mg/m2 days 1, 4, 8, 11 of 21-day cycles. Cycle by cycle, the
    SC grade is never above the IV grade and is lower in some cycles; IV reaches grade 1
    after three cycles (15.6 mg/m2), SC after four (20.8 mg/m2)."""
    iv, sc = [], []
    for c in range(1, 9):
        iv.append(neuropathy_grade("bortezomib", [(1.3, "iv")] * 4 * c))
        sc.append(neuropathy_grade("bortezomib", [(1.3, "sc")] * 4 * c))
    assert all(s <= i for s, i in zip(sc, iv, strict=True)) and sum(sc) < sum(iv)
    assert iv.index(1) + 1 == 3 and sc.index(1) + 1 == 4
    rep = toxicity_data().neuropathy["bortezomib"].reported
    assert rep["moreau_any_grade_sc"] < rep["moreau_any_grade_iv"]  # same ordering (secondary)


def test_sc_course_keeps_the_full_dose_longer():
    """Through the vd rules (grade 2 -> reduce): with pre-existing grade 1 neuropathy, IV
    bortezomib is reduced a cycle earlier than SC."""
    from dataclasses import replace

    from mmmech.regimens import load

    vd = load("vd")
    phase = vd.phases[0]
    sc_block = replace(phase.drugs[0], route="sc")
    vd_sc = replace(vd, phases=(replace(phase, drugs=(sc_block,) + phase.drugs[1:]),))
    body = {"bsa_m2": 1.8}
    _, iv = apply_dose_modifications(vd, 8, body, neuropathy_grade=1)
    _, sc = apply_dose_modifications(vd_sc, 8, body, neuropathy_grade=1)
    first = {
        name: min(a["cycle"] for a in c.actions if a["action"] == "reduce")
        for name, c in (("iv", iv), ("sc", sc))
    }
    assert first["iv"] < first["sc"]
    assert iv.worst_grade("neuropathy") >= sc.worst_grade("neuropathy")


def test_grade_adds_to_baseline_and_caps():
    assert neuropathy_grade("bortezomib", [], baseline_grade=2) == 2
    assert neuropathy_grade("bortezomib", [(15.6, "iv")], baseline_grade=1) == 2
    assert neuropathy_grade("bortezomib", [(200.0, "iv")], baseline_grade=3) == 4


def test_errors_are_one_line():
    with pytest.raises(InvalidInputError, match="route 'po'"):
        neuropathy_grade("bortezomib", [(1.3, "po")])
    with pytest.raises(Exception, match="bortezomib"):
        neuropathy_grade("bortezomb", [(1.3, "iv")])
    with pytest.raises(InvalidInputError, match="baseline_grade"):
        neuropathy_grade("bortezomib", [], baseline_grade=5)


def test_thalidomide_neuropathy_follows_time_on_drug_not_dose():
    """Mileshkin 2006 (PMID:16940275): actuarial neuropathy 38% at 6 months, 73% at 12; the
    cumulative dose was not predictive. The Weibull passes through both points, rises with
    time, and a course reports it by months on thalidomide whatever the daily dose."""
    from mmmech.toxicity.neuropathy import neuropathy_probability, weibull_parameters

    assert neuropathy_probability("thalidomide", 6.0) == pytest.approx(0.38, abs=1e-9)
    assert neuropathy_probability("thalidomide", 12.0) == pytest.approx(0.73, abs=1e-9)
    assert neuropathy_probability("thalidomide", 0.0) == 0.0
    shape, scale = weibull_parameters("thalidomide")
    assert shape > 1 and 6 < scale < 12
    _, course = apply_dose_modifications("td", 6)
    probs = [c["neuropathy_probability"]["thalidomide"] for c in course.cycles]
    assert probs == sorted(probs) and 0 < probs[0] < probs[-1] < 0.73
