"""expand(): the known dose days of the standard regimens, body-size conversion and its refusals."""

import pytest

from mmmech.exceptions import InvalidInputError, MmmechError
from mmmech.regimens import Body, expand, load, phase_starts

BODY = Body(weight_kg=70.0, bsa_m2=1.8)


def days_of(events, drug):
    return [e.day for e in events if e.drug == drug]


def test_vrd_bortezomib_on_days_1_4_8_11_of_21_day_cycles():
    events = expand("vrd", body=BODY, cycles=3)
    assert days_of(events, "bortezomib") == [1, 4, 8, 11, 22, 25, 29, 32, 43, 46, 50, 53]
    assert days_of(events, "lenalidomide")[:14] == list(range(1, 15))
    bort = [e for e in events if e.drug == "bortezomib"]
    assert all(e.amount == pytest.approx(1.3 * 1.8) and e.unit == "mg" for e in bort)


def test_vrd_is_eight_induction_cycles_then_rd_maintenance():
    # SWOG S0777 (PMID:32393732): eight 21-day VRd cycles, then Rd maintenance until progression
    events = expand("vrd", body=BODY, cycles=10)
    bort = days_of(events, "bortezomib")
    assert len(bort) == 8 * 4 and max(bort) <= 8 * 21
    start = 8 * 21  # maintenance day 1 is study day 169
    len_maint = [d for d in days_of(events, "lenalidomide") if d > start]
    assert len_maint == [start + c * 28 + d for c in range(2) for d in range(1, 22)]
    dex_maint = [d for d in days_of(events, "dexamethasone") if d > start]
    assert dex_maint == [start + c * 28 + d for c in range(2) for d in (1, 8, 15, 22)]
    with pytest.raises(InvalidInputError, match=r"runs until progression; give cycles=N"):
        expand("vrd", body=BODY)


def test_rd_lenalidomide_days_1_to_21_of_28_and_weekly_dexamethasone():
    events = expand("rd", cycles=2)  # flat doses: no body needed
    assert days_of(events, "lenalidomide") == list(range(1, 22)) + list(range(29, 50))
    assert days_of(events, "dexamethasone") == [1, 8, 15, 22, 29, 36, 43, 50]
    assert {e.amount for e in events if e.drug == "lenalidomide"} == {25.0}


def test_daratumumab_weekly_then_every_two_weeks_then_every_four():
    events = expand("dara_rd", body=BODY, cycles=8)
    dara = days_of(events, "daratumumab")
    weekly = [1, 8, 15, 22, 29, 36, 43, 50]  # cycles 1-2
    q2w = [c * 28 + d for c in range(2, 6) for d in (1, 15)]  # cycles 3-6
    q4w = [6 * 28 + 1, 7 * 28 + 1]  # cycles 7-8
    assert dara == weekly + q2w + q4w
    gaps = {b - a for a, b in zip(dara, dara[1:], strict=False)}
    assert gaps == {7, 14, 28}
    assert all(e.amount == pytest.approx(16 * 70) for e in events if e.drug == "daratumumab")


def test_carfilzomib_priming_dose_only_in_cycle_1():
    events = expand("kd", body=BODY, cycles=2)
    carf = [(e.day, round(e.amount, 6)) for e in events if e.drug == "carfilzomib"]
    assert carf[:2] == [(1, round(20 * 1.8, 6)), (2, round(20 * 1.8, 6))]
    assert {a for d, a in carf[2:]} == {round(56 * 1.8, 6)}
    assert [d for d, _ in carf] == [1, 2, 8, 9, 15, 16, 29, 30, 36, 37, 43, 44]


def test_phases_run_in_sequence():
    r = load("dara_vmp")
    assert phase_starts(r) == [1, 9 * 42 + 1]
    events = expand(r, body=BODY, cycles=10)
    dara = days_of(events, "daratumumab")
    assert dara[-1] == 9 * 42 + 1  # first 4-weekly dose after the nine 6-week cycles
    assert max(days_of(events, "melphalan")) == 8 * 42 + 4


def test_step_up_doses_come_before_the_treatment_doses():
    events = expand("teclistamab", body={"weight_kg": 80.0}, cycles=3)
    assert [(e.day, e.amount) for e in events] == [
        (1, pytest.approx(0.06 * 80)),
        (4, pytest.approx(0.3 * 80)),
        (7, pytest.approx(1.5 * 80)),
        (14, pytest.approx(1.5 * 80)),
    ]


def test_cells_per_kg_use_the_weight():
    (event,) = expand("cilta_cel", cycles=2, body={"weight_kg": 80.0})
    assert event.unit == "cells"
    assert event.amount == pytest.approx(0.75e6 * 80)


def test_events_unpack_as_plain_tuples():
    day, drug, amount, unit, route = expand("rd", cycles=1)[0]
    assert (day, drug, amount, unit, route) == (1, "dexamethasone", 40.0, "mg", "po")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cycles": 1}, r"^expand\(\): regimen 'vrd' doses bortezomib in mg/m2; give body=Body"),
        ({"cycles": 1, "body": {"weight_kg": 70}}, r"Body\(bsa_m2=\.\.\.\)"),
        ({"body": BODY, "cycles": 0}, r"cycles must be an integer >= 1, got 0"),
        ({"body": {"height_cm": 170}, "cycles": 1}, r"unknown measure 'height_cm'"),
    ],
)
def test_refusals_are_one_line(kwargs, match):
    with pytest.raises(InvalidInputError, match=match) as info:
        expand("vrd", **kwargs)
    assert "\n" not in str(info.value)


def test_until_progression_needs_a_number_of_cycles():
    with pytest.raises(MmmechError, match=r"regimen 'rd' runs until progression; give cycles=N"):
        expand("rd")


def test_body_rejects_nonsense():
    with pytest.raises(InvalidInputError, match=r"Body\(\): weight_kg must be > 0, got -3"):
        Body(weight_kg=-3)


def test_dose_levels_are_kept_in_order():
    (block,) = [b for b in load("vd").phases[0].drugs if b.drug == "bortezomib"]
    assert [(lv.level, lv.dose) for lv in block.dose_levels] == [(-1, 1.0), (-2, 0.7)]
    assert not any(lv.verified for lv in block.dose_levels)
    assert not load("vd").verified  # unverified dose levels make the regimen unverified
