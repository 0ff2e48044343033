"""Regimens added in round 4 (DPd, MP, lenalidomide maintenance, the VRd -> high-dose melphalan
+ ASCT -> lenalidomide transplant pathway) and the bispecific step-up schedules: each file's
expanded days and doses against the statement of its source (quoted in the comments)."""

from mmmech import regimens

BODY = {"weight_kg": 70.0, "bsa_m2": 1.8}


def _doses(name, drug, cycles):
    return [
        (e.day, round(e.amount, 6))
        for e in regimens.expand(name, body=BODY, cycles=cycles)
        if e.drug == drug
    ]


def test_lenalidomide_maintenance_is_10_mg_days_1_to_21_of_28_until_progression():
    # RADAR Table 1 (PMC:PMC7993167): "lenalidomide 10 mg PO 1-21", 28-day cycles, until progression
    r = regimens.load("len_maintenance")
    assert r.until_progression and r.phases[0].name == "maintenance"
    doses = _doses("len_maintenance", "lenalidomide", cycles=2)
    assert doses == [(d, 10.0) for d in range(1, 22)] + [(d, 10.0) for d in range(29, 50)]


def test_transplant_pathway_runs_induction_then_melphalan_200_then_maintenance():
    r = regimens.load("vrd_asct_len")
    assert [p.name for p in r.phases] == ["induction", "transplant", "maintenance"]
    starts = regimens.phase_starts(r)
    # six 21-day induction cycles, then the transplant phase (day 1 = day -1), then maintenance
    assert starts == [1, 1 + 6 * 21, 1 + 6 * 21 + 101]
    events = regimens.expand(r, body=BODY, cycles=6 + 1 + 1)
    mel = [(e.day, e.amount, e.route) for e in events if e.drug == "melphalan"]
    # RADAR Table 1: melphalan 200 mg/m2 IV on day -1; day 0 (stem cells) is the next day
    assert mel == [(starts[1], 200 * 1.8, "iv_infusion")]
    day0 = starts[1] + 1
    len_maint = [e.day for e in events if e.drug == "lenalidomide" and e.day >= starts[2]]
    assert len_maint[0] - day0 == 100  # maintenance from day 100 after the transplant
    assert len_maint == list(range(starts[2], starts[2] + 21))
    assert {e.amount for e in events if e.drug == "lenalidomide" and e.day >= starts[2]} == {10.0}
    # induction: bortezomib 1.3 mg/m2 SC days 1, 4, 8, 11; lenalidomide 25 mg days 1-14
    c1 = [e for e in events if e.day <= 21]
    assert [e.day for e in c1 if e.drug == "bortezomib"] == [1, 4, 8, 11]
    assert {round(e.amount, 6) for e in c1 if e.drug == "bortezomib"} == {round(1.3 * 1.8, 6)}
    assert [e.day for e in c1 if e.drug == "lenalidomide"] == list(range(1, 15))
    # nothing is given between the melphalan day and maintenance
    assert not [e for e in events if starts[1] < e.day < starts[2]]


def test_dpd_daratumumab_weekly_then_every_2_weeks_then_every_4_weeks():
    # APOLLO: 1800 mg SC weekly in cycles 1-2, every 2 weeks in cycles 3-6, every 4 weeks after;
    # pomalidomide 4 mg days 1-21, dexamethasone 40 mg days 1, 8, 15, 22; 28-day cycles
    dara = [d for d, a in _doses("dara_pd", "daratumumab", cycles=8)]
    assert {a for _, a in _doses("dara_pd", "daratumumab", cycles=8)} == {1800.0}
    assert dara == [1, 8, 15, 22, 29, 36, 43, 50, 57, 71, 85, 99, 113, 127, 141, 155, 169, 197]
    assert _doses("dara_pd", "pomalidomide", cycles=1) == [(d, 4.0) for d in range(1, 22)]
    assert _doses("dara_pd", "dexamethasone", cycles=1) == [(d, 40.0) for d in (1, 8, 15, 22)]
    assert not regimens.load("dara_pd").verified  # daratumumab read without an identifier


def test_mp_is_melphalan_9_and_prednisone_60_mg_m2_days_1_to_4_of_nine_42_day_cycles():
    r = regimens.load("mp")
    assert r.phases[0].cycles == 9 and r.phases[0].cycle_days == 42
    assert _doses("mp", "melphalan", cycles=2) == [
        (d, round(9 * 1.8, 6)) for d in (1, 2, 3, 4, 43, 44, 45, 46)
    ]
    assert _doses("mp", "prednisone", cycles=1) == [(d, round(60 * 1.8, 6)) for d in (1, 2, 3, 4)]


def test_teclistamab_steps_up_0_06_and_0_3_then_1_5_mg_kg_weekly_from_day_7():
    # MajesTEC-1 / label: 0.06 mg/kg day 1, 0.3 mg/kg day 4, 1.5 mg/kg weekly from day 7
    assert _doses("teclistamab", "teclistamab", cycles=4) == [
        (1, 0.06 * 70),
        (4, round(0.3 * 70, 6)),
        (7, 1.5 * 70),
        (14, 1.5 * 70),
        (21, 1.5 * 70),
    ]


def test_talquetamab_weekly_and_every_2_weeks_step_up():
    # Talvey label: 0.01 mg/kg day 1, 0.06 mg/kg day 4, then 0.4 mg/kg weekly from day 7; or
    # 0.4 mg/kg on day 7 and 0.8 mg/kg every 2 weeks from day 10
    assert _doses("talquetamab", "talquetamab", cycles=3) == [
        (1, 0.7),
        (4, round(0.06 * 70, 6)),
        (7, round(0.4 * 70, 6)),
        (14, round(0.4 * 70, 6)),
    ]
    assert _doses("talquetamab_q2w", "talquetamab", cycles=3) == [
        (1, 0.7), (4, round(0.06 * 70, 6)), (7, round(0.4 * 70, 6)),
        (10, round(0.8 * 70, 6)), (24, round(0.8 * 70, 6)),
    ]  # fmt: skip


def test_step_up_doses_rise_and_precede_the_first_treatment_dose():
    for name in ("teclistamab", "talquetamab", "talquetamab_q2w", "elranatamab"):
        r = regimens.load(name)
        assert r.phases[0].name == "step_up", name
        steps = r.phases[0].drugs[0].step_up
        full = r.phases[1].drugs[0].dose
        assert [s.dose for s in steps] == sorted(s.dose for s in steps), name
        assert steps[-1].dose < full, name
        # the first full dose follows the last step-up dose by 2-4 days (labels)
        gap = r.phases[0].cycle_days + 1 - steps[-1].day
        assert 2 <= gap <= 4, (name, gap)


def test_isa_krd_follows_the_skylark_abstract():
    # PMID:38677302: isatuximab 10 mg/kg weekly for 8 weeks then every other week; carfilzomib
    # 56 mg/m2 days 1, 8, 15 (20 mg/m2 cycle 1 day 1); lenalidomide 25 mg days 1-21;
    # dexamethasone 20 mg on the day of and after every carfilzomib and isatuximab dose
    isa = _doses("isa_krd", "isatuximab", cycles=4)
    assert [d for d, _ in isa] == [1, 8, 15, 22, 29, 36, 43, 50, 57, 71, 85, 99]
    assert {a for _, a in isa} == {700.0}
    k = _doses("isa_krd", "carfilzomib", cycles=2)
    assert k == [(1, 36.0), (8, round(56 * 1.8, 6)), (15, round(56 * 1.8, 6))] + [
        (d, round(56 * 1.8, 6)) for d in (29, 36, 43)
    ]
    dex = {d for d, _ in _doses("isa_krd", "dexamethasone", cycles=4)}
    drug_days = {d for d, _ in isa} | {d for d, _ in _doses("isa_krd", "carfilzomib", cycles=4)}
    assert dex == drug_days | {d + 1 for d in drug_days}
    assert _doses("isa_krd", "lenalidomide", cycles=1) == [(d, 25.0) for d in range(1, 22)]
