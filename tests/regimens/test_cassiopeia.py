"""VTd and D-VTd as in CASSIOPEIA (NCT02541383, PMID:31171419), round 7.

Known answers are the schedule as printed on the sources named in regimens/vtd.toml and
regimens/d_vtd.toml: four 28-day induction cycles, transplant, two 28-day consolidation cycles;
bortezomib 1.3 mg/m2 days 1, 4, 8, 11; thalidomide 100 mg daily; dexamethasone 40 mg days 1, 2,
8, 9, 15, 16, 22, 23 (induction cycles 1-2), 40 mg days 1-2 and 20 mg days 8, 9, 15, 16 (cycles
3-4), 20 mg days 1, 2, 8, 9, 15, 16 (consolidation); daratumumab 16 mg/kg weekly (cycles 1-2),
every 2 weeks (cycles 3-4) and every 2 weeks for 8 weeks in consolidation.
"""

from collections import Counter, defaultdict

import pytest

from mmmech import dynamics, regimens

BODY = {"bsa_m2": 1.8, "weight_kg": 75.0}
CYCLE = 28


def _by_phase(name):
    r = regimens.load(name)
    starts = regimens.phase_starts(r)
    ev = regimens.expand(r, body=BODY, cycles=7)  # 4 induction + transplant + 2 consolidation
    return r, starts, ev


def _cycle_of(day, start):
    return (day - start) // CYCLE + 1, (day - start) % CYCLE + 1


@pytest.mark.parametrize("name", ["vtd", "d_vtd"])
def test_phases_are_four_induction_cycles_transplant_and_two_consolidation_cycles(name):
    r, starts, ev = _by_phase(name)
    assert [(p.name, p.cycles, p.cycle_days) for p in r.phases] == [
        ("induction", 4, 28),
        ("transplant", 1, 45),
        ("consolidation", 2, 28),
    ]
    induction, transplant, consolidation = starts
    assert (induction, transplant) == (1, 1 + 4 * 28)
    # melphalan on the transplant phase's day 1 (= day -1); consolidation ends on day +99, before
    # the stringent-CR assessment 100 days after ASCT
    mel = [e for e in ev if e.drug == "melphalan"]
    assert [(e.day, e.amount) for e in mel] == [(transplant, 200 * 1.8)]
    asct_day0 = transplant + 1
    assert consolidation + 2 * CYCLE - 1 - asct_day0 == 99


@pytest.mark.parametrize("name", ["vtd", "d_vtd"])
def test_bortezomib_thalidomide_and_dexamethasone_follow_the_cassiopeia_schedule(name):
    _, (ind, _, cons), ev = _by_phase(name)
    bort, thal, dex = defaultdict(list), defaultdict(list), defaultdict(float)
    for e in ev:
        start = cons if e.day >= cons else ind
        phase = "c" if e.day >= cons else "i"
        cyc, day = _cycle_of(e.day, start)
        if e.drug == "bortezomib":
            assert e.amount == pytest.approx(1.3 * 1.8) and e.route == "sc"
            bort[(phase, cyc)].append(day)
        elif e.drug == "thalidomide":
            assert e.amount == 100 and e.route == "po"
            thal[(phase, cyc)].append(day)
        elif e.drug == "dexamethasone":
            dex[(phase, cyc)] += e.amount
    cycles = [("i", 1), ("i", 2), ("i", 3), ("i", 4), ("c", 1), ("c", 2)]
    assert sorted(bort) == sorted(cycles) and sorted(thal) == sorted(cycles)
    assert all(bort[c] == [1, 4, 8, 11] for c in cycles)
    assert all(thal[c] == list(range(1, 29)) for c in cycles)
    # dexamethasone per cycle: 8 x 40 mg; 2 x 40 + 4 x 20 mg; consolidation 6 x 20 mg
    assert [dex[c] for c in cycles] == [320, 320, 160, 160, 120, 120]


def test_d_vtd_is_vtd_plus_daratumumab_weekly_then_every_two_weeks():
    _, (ind, trans, cons), ev = _by_phase("d_vtd")
    _, _, ev_vtd = _by_phase("vtd")
    without = Counter((e.day, e.drug, e.amount) for e in ev if e.drug != "daratumumab")
    assert without == Counter((e.day, e.drug, e.amount) for e in ev_vtd)
    dara = [e for e in ev if e.drug == "daratumumab"]
    assert all(e.amount == pytest.approx(16 * 75.0) for e in dara)
    days = [e.day for e in dara]
    induction = [d - ind for d in days if d < trans]
    assert induction == [0, 7, 14, 21, 28, 35, 42, 49] + [56, 70, 84, 98]
    assert [d - cons for d in days if d >= cons] == [0, 14, 28, 42]  # every 2 weeks for 8 weeks


def test_d_vtd_runs_with_daratumumab_and_thalidomide_concentrations():
    res = dynamics.simulate_regimen("d_vtd", cycles=1, step_hours=12.0)
    for drug in ("daratumumab", "thalidomide", "bortezomib", "dexamethasone"):
        assert res.pk[drug]["cmax_nM"] > 0, drug
