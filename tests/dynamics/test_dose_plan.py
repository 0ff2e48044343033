"""simulate_cohort expands a regimen once and multiplies out each body's doses from that plan
(mmmech.regimens.schedule.dose_plan, which expand also walks): the events must be expand's,
equal and in the same order, for every bundled regimen, several bodies and cycle counts."""

import pytest

from mmmech import regimens
from mmmech.dynamics._exposure import _patient_pk
from mmmech.dynamics.regimen import _doses, _item
from mmmech.exceptions import InvalidInputError
from mmmech.regimens.schedule import dose_plan, planned_events

BODIES = [
    regimens.Body(weight_kg=70.0, bsa_m2=1.8),
    regimens.Body(weight_kg=48.3, bsa_m2=1.41),
    regimens.Body(weight_kg=131.7, bsa_m2=2.63),  # large: capped doses (max_dose)
]


@pytest.mark.parametrize("name", sorted(regimens.available()))
def test_plan_gives_expand_events(name):
    reg = regimens.load(name)
    for cycles in (1, 3, 14):
        plan = dose_plan(reg, cycles)
        for body in BODIES:
            try:
                want = regimens.expand(reg, body=body, cycles=cycles)
            except InvalidInputError:
                continue
            got = planned_events(plan, body.known)
            assert got == want
            assert [type(e.amount) for e in got] == [type(e.amount) for e in want]


def test_patient_pk_with_plans_equals_without():
    it = _item({"regimen": "VRd", "dose_scale": {"bortezomib": 0.75}}, "test")
    plans: dict = {}
    for body in BODIES:
        a = _patient_pk(it, 14, body, 0, None, None, None, plans)
        b = _patient_pk(it, 14, body, 0, None, None, None)
        assert a == b
        assert a[0] == _doses(it, 14, body)
    assert len(plans) == 1


def test_body_without_a_needed_measure_falls_back_to_expand_error():
    plan = dose_plan(regimens.load("VRd"), 2)
    assert planned_events(plan, regimens.Body(weight_kg=70.0).known) is None
