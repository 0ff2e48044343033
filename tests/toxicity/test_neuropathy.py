"""Cumulative-dose bortezomib neuropathy: subcutaneous gives less than intravenous at the same
dose (Moreau 2011, PMID:21507715; cumulative doses at onset from PMID:29625927)."""

import math
from statistics import NormalDist

import pytest

from mmmech.exceptions import InvalidInputError
from mmmech.toxicity import apply_dose_modifications, neuropathy_grade, toxicity_data


def test_sc_gives_less_neuropathy_than_iv_at_the_same_dose():
    """Moreau 2011 design: 1.3 mg/m2 days 1, 4, 8, 11 of 21-day cycles. Cycle by cycle and for
    any patient (z), the SC grade is never above the IV grade and is lower for some."""
    for z in (-1.5, -0.5, 0.0, 0.5):
        iv, sc = [], []
        for c in range(1, 9):
            iv.append(neuropathy_grade("bortezomib", [(1.3, "iv")] * 4 * c, z=z))
            sc.append(neuropathy_grade("bortezomib", [(1.3, "sc")] * 4 * c, z=z))
        assert all(s <= i for s, i in zip(sc, iv, strict=True))
        if z <= -0.5:
            assert sum(sc) < sum(iv)
    rep = toxicity_data().neuropathy["bortezomib"].reported
    assert rep["moreau_any_grade_sc"] < rep["moreau_any_grade_iv"]  # same ordering (secondary)


def _incidence(grade: int, dose_iv: float) -> float:
    from mmmech.toxicity.neuropathy import population_parameters

    p = population_parameters("bortezomib")
    return NormalDist().cdf((math.log(dose_iv) - math.log(p["d50"][grade])) / p["sigma"])


def test_population_model_reproduces_its_single_agent_calibration():
    """Moreau 2011 IV arm (calibration, single agent): after eight cycles (41.6 mg/m2) any grade
    53%, grade >= 2 41%, grade >= 3 16%; among patients with neuropathy the median onset dose
    is 15.6 mg/m2 IV (PMID:29625927)."""
    for g, p in ((1, 0.53), (2, 0.41)):
        assert _incidence(g, 41.6) == pytest.approx(p, abs=1e-9)
    # conditional median of the onset dose among the affected = 15.6
    assert _incidence(1, 15.6) == pytest.approx(0.53 / 2, abs=1e-9)
    # grade >= 3 on the trial's dose path: 1.3 mg/m2 x 4 per cycle, 1.0 mg/m2 from the cycle
    # after grade 2 (the label algorithm the trial followed), eight cycles -> 16%
    n, hit = 800, 0
    for i in range(n):
        z = NormalDist().inv_cdf((i + 0.5) / n)
        doses: list[tuple[float, str]] = []
        for _ in range(8):
            reduced = neuropathy_grade("bortezomib", doses, z=z) >= 2
            doses += [(1.0 if reduced else 1.3, "iv")] * 4
        hit += neuropathy_grade("bortezomib", doses, z=z) >= 3
    assert hit / n == pytest.approx(0.16, abs=0.01)


def test_sc_arm_of_moreau_is_a_validation_not_a_fit():
    """Moreau 2011 SC arm (not used to set any number): grade >= 2 PN 24% SC vs 41% IV.
    The route factor 15.6/20.8 (PMID:29625927) predicts SC below IV but not as far below
    (33% at the full dose): the model under-states the route benefit (docs/toxicity.md)."""
    sc = _incidence(2, 41.6 * 15.6 / 20.8)
    assert 0.24 < sc < 0.41
    assert sc == pytest.approx(0.332, abs=0.005)


def test_virtual_population_rates_follow_the_thresholds():
    """Through apply_dose_modifications without rules firing (no pre-existing neuropathy, z
    quantiles of 400 patients): the fraction with grade >= 2 after eight IV cycles of single-
    agent bortezomib equals the calibration 41% within sampling error. Rules are removed so
    that the exposure is the planned one, as in the calibration."""
    from dataclasses import replace

    from mmmech.regimens import load

    vd = load("vd")
    ph = vd.phases[0]
    blocks = tuple(replace(b, dose_modifications=()) for b in ph.drugs if b.drug == "bortezomib")
    reg = replace(vd, phases=(replace(ph, drugs=blocks),))
    zs = [NormalDist().inv_cdf((i + 0.5) / 400) for i in range(400)]
    g2 = 0
    for z in zs[::8]:  # 50 evenly spaced quantiles keep the test fast
        _, c = apply_dose_modifications(reg, 8, {"bsa_m2": 1.8}, neuropathy_z=z, dt_h=24.0)
        g2 += c.worst_grade("neuropathy") >= 2
    assert g2 / 50 == pytest.approx(0.41, abs=0.03)


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
    _, iv = apply_dose_modifications(vd, 8, body, neuropathy_grade=1, neuropathy_z=-1.0)
    _, sc = apply_dose_modifications(vd_sc, 8, body, neuropathy_grade=1, neuropathy_z=-1.0)
    first = {
        name: min(a["cycle"] for a in c.actions if a["action"] == "reduce")
        for name, c in (("iv", iv), ("sc", sc))
    }
    assert first["iv"] < first["sc"]
    assert iv.worst_grade("neuropathy") >= sc.worst_grade("neuropathy")


def test_grade_adds_to_baseline_and_caps():
    assert neuropathy_grade("bortezomib", [], baseline_grade=2) == 2
    # the median patient reaches grade >= 1 at d50_1 = 37.5 mg/m2 IV (no longer 15.6)
    assert neuropathy_grade("bortezomib", [(15.6, "iv")], baseline_grade=1) == 1
    assert neuropathy_grade("bortezomib", [(37.5, "iv")], baseline_grade=1) == 2
    assert neuropathy_grade("bortezomib", [(200.0, "iv")], baseline_grade=3) == 4
    # no grade 4 threshold: a patient without neuropathy stops at grade 3
    assert neuropathy_grade("bortezomib", [(1e4, "iv")]) == 3


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
