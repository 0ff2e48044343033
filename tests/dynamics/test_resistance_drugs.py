"""Drug-specific acquired-resistance rates (structures/resistance.toml) and the "min" rule that
gives a regimen's rate from its drugs' rates (mmmech.dynamics.resistance.regimen_factor;
docs/populations.md, "Acquired resistance: drug-specific rates")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import populations
from mmmech.dynamics import resistance as R
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.exceptions import InvalidInputError, ModelFileError
from mmmech.regimens import Body

#: Collins 2023 Table 1 (belantamab mafodotin monotherapy): TVLAMBDA 0.0024 /day, 95% CI
#: 0.00123-0.00480 (read in nlmixr2lib Collins_2023_belantamab_mprotein.R)
COLLINS = (0.0024, 0.00123, 0.00480)
DRUGS = ["lenalidomide", "dexamethasone", "bortezomib", "daratumumab", "carfilzomib"]

_rate = st.floats(min_value=0.0, max_value=0.05, allow_nan=False)
_table = st.dictionaries(st.sampled_from(DRUGS), _rate, max_size=len(DRUGS))
_subset = st.lists(st.sampled_from(DRUGS), unique=True, max_size=len(DRUGS))


@pytest.mark.parametrize("name", ["ndmm", "rrmm"])
def test_reference_is_the_populations_median(name):
    # the drug rates are relative to the median every bundled population draws from
    pop = populations.load(name)
    assert pop.resistance is not None
    assert R.reference_rate() == pytest.approx(pop.resistance.median, rel=1e-12)


def test_bundled_entries_are_single_agent_fits_with_sources():
    rates = R.drug_rates()
    bela = rates["belantamab mafodotin"]
    assert (bela.median_per_day, bela.low, bela.high) == COLLINS
    assert bela.sources == ("DOI:10.1002/psp4.13016",)
    assert "MONOTHERAPY" in bela.data
    for r in rates.values():
        assert r.sources and r.data and r.reference
    # today: belantamab's own fit is the reference, so every regimen keeps the population rate
    assert R.regimen_factor(["belantamab mafodotin"]) == 1.0
    assert R.regimen_factor(["lenalidomide", "dexamethasone"]) == 1.0
    assert R.regimen_factor([]) == 1.0


@settings(max_examples=200, deadline=None)
@given(_table, _subset.filter(bool), _subset)
def test_adding_a_drug_never_raises_the_factor(rates, a, b):
    # removing a drug never slows the loss of the drug effect (a regimen keeps >= 1 drug: an
    # empty one has no drug effect to lose, its factor 1 is a convention)
    ref = 0.0024
    assert R.regimen_factor(a + [d for d in b if d not in a], rates, ref) <= R.regimen_factor(
        a, rates, ref
    )


@settings(max_examples=200, deadline=None)
@given(_table, _subset, st.sampled_from(DRUGS), _rate)
def test_a_larger_drug_rate_never_lowers_the_factor(rates, drugs, drug, extra):
    ref = 0.0024
    base = R.regimen_factor(drugs, rates, ref)
    more = dict(rates)
    more[drug] = rates.get(drug, ref) + extra
    assert R.regimen_factor(drugs, more, ref) >= base


def test_a_drug_rate_of_zero_means_no_resistance_and_missing_drugs_are_the_reference():
    ref = 0.0024
    assert R.regimen_factor(["lenalidomide", "dexamethasone"], {"lenalidomide": 0.0}, ref) == 0
    assert R.regimen_factor(["lenalidomide"], {"dexamethasone": 0.001}, ref) == 1.0
    assert R.regimen_factor(["lenalidomide", "dexamethasone"], {"dexamethasone": 0.0012}, ref) == (
        0.5
    )
    assert R.scale_resistance(None, ["lenalidomide"]) is None
    lam = np.array([0.001, 0.0])
    assert R.scale_resistance(lam, ["lenalidomide"]) is lam  # factor 1: today's rates untouched
    with pytest.raises(InvalidInputError, match="reference must be > 0"):
        R.regimen_factor(["lenalidomide"], {}, 0.0)


def _patched(monkeypatch, table):
    rates = {k: _entry(k, v) for k, v in table.items()}
    monkeypatch.setattr(R, "_bundled", lambda: (COLLINS[0], rates))


def _entry(name, v):
    return R.DrugResistance(name, v, None, None, ("DOI:10.0/test",), False, "test", "test")


def test_rd_course_follows_the_min_rule(monkeypatch):
    # one patient on continuous Rd with a fast lambda: a slower lenalidomide rate alone keeps
    # dexamethasone's reference rate as the regimen's (min: the course is unchanged only when the
    # slower drug is dexamethasone's own); slowing both drugs never raises the M-protein, and
    # speeding both up never lowers it; lambda 0 for one drug gives the course without resistance
    lam = 0.0081  # Li 2025 typical rate per day (a sourced single-agent value)
    kw = dict(cycles=12, context="marrow", step_hours=12.0)
    body = [Body(weight_kg=70.0, bsa_m2=1.8)]

    def run(table):
        _patched(monkeypatch, table)
        return simulate_cohort("rd", body, resistance_per_day=[lam], **kw).m_protein[0]

    base = run({})
    none = simulate_cohort("rd", body, **kw).m_protein[0]
    fast_len_only = run({"lenalidomide": 2 * lam})
    np.testing.assert_array_equal(fast_len_only, base)
    slow = run({"lenalidomide": COLLINS[0] / 2})
    assert np.all(slow <= base * (1 + 1e-12)) and slow[-1] < base[-1]
    fast = run({"lenalidomide": 2 * COLLINS[0], "dexamethasone": 2 * COLLINS[0]})
    assert np.all(fast >= base * (1 - 1e-12)) and fast[-1] > base[-1]
    np.testing.assert_array_equal(run({"dexamethasone": 0.0}), none)


def test_single_patient_path_uses_the_regimen_factor(monkeypatch):
    from mmmech.dynamics import simulate_regimen
    from mmmech.dynamics import tumour as T

    _patched(monkeypatch, {"lenalidomide": 0.0012, "dexamethasone": 0.0012})  # factor 0.5
    tm = T.tumour_model(resistance_per_day=0.0081)
    one = simulate_regimen("rd", cycles=2, step_hours=12.0, tumour=tm)
    monkeypatch.setattr(R, "_bundled", lambda: (COLLINS[0], {}))
    coh = simulate_cohort(
        "rd",
        [Body(weight_kg=70.0, bsa_m2=1.8)],
        cycles=2,
        context="marrow",
        step_hours=12.0,
        resistance_per_day=[0.0081 * 0.5],
        reuse_tol=None,  # one network call as simulate_regimen (no cycle periodicity)
    )
    np.testing.assert_allclose(one.timecourse["m_protein_g_per_dL"], coh.m_protein[0], rtol=1e-9)


@pytest.mark.parametrize(
    "drug, message",
    [
        ({"name": "lenalidomid", "median_per_day": 0.001}, "did you mean 'lenalidomide'"),
        ({"name": "lenalidomide", "median_per_day": -1.0}, "must be a number > 0"),
        ({"name": "lenalidomide", "median_per_day": 0.001}, "'sources' must be"),
        (
            {"name": "lenalidomide", "median_per_day": 0.001, "sources": ["PMID:1"], "x": 1},
            "unknown key",
        ),
        (
            {"name": "lenalidomide", "median_per_day": 0.001, "sources": ["PMID:1"]},
            "'data'",
        ),
    ],
)
def test_bad_entries_are_one_line_errors(drug, message):
    doc = {"meta": {"reference_per_day": 0.0024}, "drug": [drug]}
    with pytest.raises(ModelFileError, match=message) as exc:
        R._parse(doc)
    assert "structures/resistance.toml" in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ModelFileError, match="rule must be 'min'"):
        R._parse({"meta": {"reference_per_day": 0.0024, "rule": "max"}})


@pytest.mark.slow
def test_removing_a_drug_never_helps_with_drug_specific_rates(monkeypatch):
    # the trials' drug-removal invariant (tests/trials) under a table where the drugs' rates
    # differ (not sourced values: a stress case of the rule), lenalidomide the most durable
    from mmmech import trials

    _patched(monkeypatch, {"lenalidomide": 0.0006, "dexamethasone": 0.0048, "bortezomib": 0.0096})
    pts, _ = trials.enrol("ndmm", 6, seed=5)
    full = trials.simulate_arm("vrd", pts, cycles=3, follow_up_days=360)
    for drop in ("bortezomib", "lenalidomide"):
        less = trials.simulate_arm(
            {"regimen": "vrd", "drop": [drop]}, pts, cycles=3, follow_up_days=360
        )
        assert np.all(less.max_reduction <= full.max_reduction + 1e-9), drop
        assert np.all(less.pfs_days <= full.pfs_days), drop
