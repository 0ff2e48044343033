"""The reported-toxicity table (trials/toxicity_trials.toml) and the validation rows."""

import pytest

from mmmech import regimens
from mmmech.exceptions import UnknownNameError
from mmmech.trials.toxicity_validation import (
    MEASURES,
    arm_regimen,
    load_toxicity_trials,
    table_markdown,
    validate_toxicity,
)


def test_every_arm_is_simulable_and_sourced():
    data = load_toxicity_trials()
    ids = [t.id for t in data]
    assert len(ids) == len(set(ids)) and {"moreau2011", "boston", "maia"} <= set(ids)
    for t in data:
        assert t.sources and t.population in ("ndmm", "rrmm")
        for a in t.arms:
            assert a.reported and set(a.reported) <= set(MEASURES)
            reg = arm_regimen(a)  # a bundled regimen, variants applied
            assert set(a.drop).isdisjoint(reg.drugs)
            assert a.role in ("validation", "calibration", "in_sample")
    # TOURMALINE-MM1 was the platelet model's data set: never labelled validation
    mm1 = next(t for t in data if t.id == "tourmaline_mm1")
    assert {a.role for a in mm1.arms} == {"in_sample"}


def test_arm_variants_are_applied():
    moreau = next(t for t in load_toxicity_trials() if t.id == "moreau2011")
    sc = next(a for a in moreau.arms if a.name == "V SC")
    reg = arm_regimen(sc)
    assert reg.drugs == ("bortezomib",)
    assert all(b.route == "sc" for ph in reg.phases for b in ph.drugs)
    len30 = next(t for t in load_toxicity_trials() if t.id == "nct00065351").arms[0]
    blk = next(b for ph in arm_regimen(len30).phases for b in ph.drugs)
    rd = regimens.load("rd")
    base = next(b for ph in rd.phases for b in ph.drugs if b.drug == "lenalidomide")
    assert blk.dose == pytest.approx(1.2 * base.dose) == pytest.approx(30.0)


def test_validation_rows_are_rates_with_intervals():
    rows = validate_toxicity(patients=3, seed=0, trials=["apex"])
    assert len(rows) == 1
    r = rows[0]
    assert r["measure"] == "thrombocytopenia3" and r["reported"] == pytest.approx(0.30)
    assert 0.0 <= r["low"] <= r["predicted"] <= r["high"] <= 1.0 and r["n"] == 3
    assert "apex" in table_markdown(rows)
    with pytest.raises(UnknownNameError, match="boston"):
        validate_toxicity(patients=1, trials=["bostn"])
