"""Round-5 regimen files: BELLINI (ven_vd, vd_bellini) and GRIFFIN (dara_vrd, vrd_griffin).

Each file is expanded and its days and doses are checked against the schedule printed in its
sources (the regimen's notes name them), and the control arm against the experimental arm.
"""

import subprocess
import sys

from _helpers import NEUTRAL_CWD

from mmmech import regimens

BODY = {"bsa_m2": 1.8, "weight_kg": 70.0}


def _days(events, drug):
    return [e.day for e in events if e.drug == drug]


def test_ven_vd_bellini_schedule():
    r = regimens.load("ven_vd")
    assert r.drugs == ("venetoclax", "bortezomib", "dexamethasone")
    ev = regimens.expand(r, body=BODY, cycles=9)
    # cycle 1 (21 days) and cycle 9 (the first 35-day cycle, starting on day 8 * 21 + 1)
    c9 = 8 * 21 + 1
    assert _days(ev, "bortezomib")[:4] == [1, 4, 8, 11]
    assert [d for d in _days(ev, "bortezomib") if d >= c9] == [c9, c9 + 7, c9 + 14, c9 + 21]
    assert _days(ev, "dexamethasone")[:8] == [1, 2, 4, 5, 8, 9, 11, 12]
    assert [d - c9 + 1 for d in _days(ev, "dexamethasone") if d >= c9] == [
        1,
        2,
        8,
        9,
        15,
        16,
        22,
        23,
    ]
    ven = _days(ev, "venetoclax")
    assert ven == list(range(1, c9 + 35))  # daily, every day of every cycle
    assert {e.amount for e in ev if e.drug == "venetoclax"} == {800.0}
    assert {round(e.amount, 6) for e in ev if e.drug == "bortezomib"} == {round(1.3 * 1.8, 6)}
    levels = [lv.dose for lv in r.phases[0].drugs[0].dose_levels]
    assert levels == [600, 400, 200]


def test_vd_bellini_is_ven_vd_without_venetoclax():
    a = regimens.expand(regimens.load("ven_vd"), body=BODY, cycles=11)
    b = regimens.expand(regimens.load("vd_bellini"), body=BODY, cycles=11)
    assert [e for e in a if e.drug != "venetoclax"] == list(b)


def test_dara_vrd_griffin_pathway():
    r = regimens.load("dara_vrd")
    assert [p.name for p in r.phases] == ["induction", "transplant", "consolidation", "maintenance"]
    starts = regimens.phase_starts(r)
    assert starts == [1, 4 * 21 + 1, 4 * 21 + 101 + 1, 4 * 21 + 101 + 2 * 21 + 1]
    ev = regimens.expand(r, body=BODY, cycles=4 + 1 + 2 + 30)
    assert _days(ev, "melphalan") == [starts[1]]
    assert [e.amount for e in ev if e.drug == "melphalan"] == [200 * 1.8]
    dara = _days(ev, "daratumumab")
    # weekly in induction cycles 1-4, day 1 of consolidation cycles 5-6, every 4 weeks for 26
    # maintenance cycles
    assert dara[:12] == [1 + 21 * c + d for c in range(4) for d in (0, 7, 14)]
    assert dara[12:14] == [starts[2], starts[2] + 21]
    maint = dara[14:]
    assert maint == [starts[3] + 28 * k for k in range(26)]
    assert {e.amount for e in ev if e.drug == "daratumumab"} == {16 * 70.0}
    len_ind = [e for e in ev if e.drug == "lenalidomide" and e.day < starts[1]]
    assert [e.day for e in len_ind][:14] == list(range(1, 15)) and len_ind[0].amount == 25
    len_m = [e for e in ev if e.drug == "lenalidomide" and e.day >= starts[3]]
    assert len_m[0].amount == 10 and [e.day - starts[3] + 1 for e in len_m[:21]] == list(
        range(1, 22)
    )
    assert _days(ev, "dexamethasone")[:3] == [1, 8, 15]


def test_vrd_griffin_is_dara_vrd_without_daratumumab():
    a = regimens.expand(regimens.load("dara_vrd"), body=BODY, cycles=12)
    b = regimens.expand(regimens.load("vrd_griffin"), body=BODY, cycles=12)
    assert [e for e in a if e.drug != "daratumumab"] == list(b)


def test_regimen_list_shows_the_new_files():
    out = subprocess.run(
        [sys.executable, "-m", "mmmech", "regimen", "list"],
        capture_output=True,
        text=True,
        cwd=NEUTRAL_CWD,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    names = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    assert {"ven_vd", "vd_bellini", "dara_vrd", "vrd_griffin"} <= names
