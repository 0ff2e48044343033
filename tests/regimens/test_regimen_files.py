"""The bundled regimens: every file loads, names library drugs exactly, cites readable sources and
says where a schedule could not be confirmed."""

import pytest

from mmmech import drugs, regimens, resources
from mmmech.sources import is_source

NAMES = regimens.available()


def test_the_standard_regimens_are_shipped():
    expected = {
        "rd", "vd", "kd", "pd", "td", "d", "vmp", "dara_vmp", "vrd", "krd", "ird", "dara_rd",
        "elo_rd", "dara_vd", "dara_kd", "pvd", "pano_vd", "isa_pd", "isa_kd", "teclistamab",
        "talquetamab", "ide_cel", "cilta_cel", "svd", "elo_pd", "elranatamab",
        "dara_pd", "mp", "len_maintenance", "vrd_asct_len", "isa_krd", "vtd", "d_vtd",
    }  # fmt: skip
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_file_loads_and_is_named_after_itself(name):
    r = regimens.load(name)
    assert r.name == name
    assert r.title and r.indication
    assert r.phases and all(p.drugs or p.name == "follow_up" for p in r.phases)


@pytest.mark.parametrize("name", NAMES)
def test_every_drug_is_an_exact_library_name(name):
    library = set(drugs.names())
    for phase in regimens.load(name).phases:
        for block in phase.drugs:
            assert block.drug in library, (name, block.drug)


@pytest.mark.parametrize("name", NAMES)
def test_every_regimen_cites_sources_and_explains_what_is_unverified(name):
    r = regimens.load(name)
    assert r.sources and all(is_source(s) for s in r.sources)
    for phase in r.phases:
        for block in phase.drugs:
            assert all(is_source(s) for s in block.sources)
            if not block.verified:
                assert block.note, (name, block.drug)
            for level in block.dose_levels:
                assert level.verified or level.note


@pytest.mark.parametrize("name", NAMES)
def test_every_regimen_expands_for_a_typical_adult(name):
    events = regimens.expand(name, body={"weight_kg": 70.0, "bsa_m2": 1.8}, cycles=2)
    assert events
    assert [e.day for e in events] == sorted(e.day for e in events)
    assert all(e.amount > 0 and e.unit in ("mg", "cells") for e in events)
    assert {e.drug for e in events} <= set(regimens.load(name).drugs)


def test_the_files_are_package_data_found_through_importlib_resources():
    names = resources.list_data("regimens")
    assert "vrd.toml" in names and len(names) == len(NAMES)
    assert resources.load_toml("regimens", "rd.toml")["regimen"]["name"] == "rd"


def _days(name, drug, cycles=1, body=None):
    body = body or {"weight_kg": 70.0, "bsa_m2": 1.8}
    return [
        (e.day, round(e.amount, 6))
        for e in regimens.expand(name, body=body, cycles=cycles)
        if e.drug == drug
    ]


def test_svd_is_once_weekly_selinexor_and_bortezomib_in_35_day_cycles():
    assert _days("svd", "selinexor") == [(d, 100.0) for d in (1, 8, 15, 22, 29)]
    assert [d for d, _ in _days("svd", "bortezomib")] == [1, 8, 15, 22]
    assert [d for d, _ in _days("svd", "dexamethasone")] == [1, 2, 8, 9, 15, 16, 22, 23, 29, 30]
    # cycle 2 starts on day 36
    assert [d for d, _ in _days("svd", "selinexor", cycles=2)][5] == 36


def test_elranatamab_steps_up_12_32_then_76_mg_weekly_from_day_8():
    # three cycles: the step-up week and two weekly treatment cycles
    assert _days("elranatamab", "elranatamab", cycles=3) == [
        (1, 12.0), (4, 32.0), (8, 76.0), (15, 76.0),
    ]  # fmt: skip


def test_epd_elotuzumab_weekly_10_mg_kg_then_20_mg_kg_every_4_weeks():
    ev = _days("elo_pd", "elotuzumab", cycles=3, body={"weight_kg": 70.0})
    assert ev == [
        (1, 700.0), (8, 700.0), (15, 700.0), (22, 700.0),
        (29, 700.0), (36, 700.0), (43, 700.0), (50, 700.0),
        (57, 1400.0),
    ]  # fmt: skip
    assert len(_days("elo_pd", "pomalidomide", body={"weight_kg": 70.0})) == 21
