"""Reading regimen files: user files load like bundled ones; a bad file gives one line naming the
file, the line, the field, what was expected and what came (and close matches for drug names)."""

import textwrap

import pytest

from mmmech.exceptions import ModelFileError, UnknownNameError
from mmmech.regimens import available, expand, load, read_regimen

GOOD = textwrap.dedent(
    """\
    [regimen]
    name = "my_vd"
    title = "test regimen"
    indication = "test"
    sources = ["PMID:32482541"]

    [[phase]]
    name = "induction"
    cycles = 2
    cycle_days = 21

    [[phase.drug]]
    drug = "Velcade"
    dose = 1.3
    unit = "mg/m2"
    route = "sc"
    days = [1, 4, 8, 11]

    [[phase.drug]]
    drug = "dexamethasone"
    dose = 20
    unit = "mg"
    route = "po"
    days = ["1-2", "4-5", 8, 9, 11, 12]

    [[phase]]
    name = "maintenance"
    cycles = "until_progression"
    cycle_days = 28
    delay_days = 7

    [[phase.drug]]
    drug = "lenalidomide"
    dose = 10
    unit = "mg"
    route = "po"
    days = ["1-28"]
    """
)


def write(tmp_path, text, name="user.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_user_file_loads_and_expands(tmp_path):
    r = load(write(tmp_path, GOOD))
    assert r.name == "my_vd"
    assert r.drugs == ("bortezomib", "dexamethasone", "lenalidomide")  # synonyms resolve
    assert r.phases[0].drugs[1].days == (1, 2, 4, 5, 8, 9, 11, 12)
    events = expand(r, body={"bsa_m2": 2.0}, cycles=3)
    # maintenance starts 7 days after the two 21-day cycles
    assert [e.day for e in events if e.drug == "lenalidomide"][0] == 42 + 7 + 1


def test_records_are_frozen(tmp_path):
    r = load(write(tmp_path, GOOD))
    with pytest.raises(AttributeError):
        r.name = "x"


def test_bundled_names_are_case_insensitive_and_unknown_names_suggest():
    assert load("VRd") is load("vrd") is load("vrd.toml")
    with pytest.raises(UnknownNameError, match=r"unknown regimen 'vrdd'; did you mean 'vrd'"):
        load("vrdd")
    assert "vrd" in available()


def bad(tmp_path, old, new, count=1):
    assert old in GOOD, old
    return write(tmp_path, GOOD.replace(old, new, count))


def line_of(text, needle, nth=1):
    seen = 0
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError(needle)


@pytest.mark.parametrize(
    "old, new, line_needle, pattern",
    [
        (
            'drug = "Velcade"',
            'drug = "bortezomb"',
            'drug = "bortezomb"',
            r"phase 1 \('induction'\), drug 1 \('bortezomb'\): 'drug' expected a drug of the "
            r"mmmech library .*got 'bortezomb'; did you mean 'bortezomib'",
        ),
        (
            'unit = "mg/m2"\n',
            "",
            "[[phase.drug]]",
            r"drug 1 \('Velcade'\): missing 'unit' \(expected one of mg, mg/m2, mg/kg, cells, "
            r"cells/kg\)",
        ),
        (
            'unit = "mg/m2"',
            'unit = "mg/m^2"',
            'unit = "mg/m^2"',
            r"'unit' expected one of mg, mg/m2, .*got 'mg/m\^2'; did you mean 'mg/m2'",
        ),
        (
            "days = [1, 4, 8, 11]",
            "days = [-1, 4, 8, 11]",
            "days = [-1",
            r"'days' expected days within the cycle 1\.\.21, got -1",
        ),
        (
            "days = [1, 4, 8, 11]",
            "days = [1, 4, 8, 22]",
            "days = [1, 4, 8, 22]",
            r"'days' expected days within the cycle 1\.\.21, got 22",
        ),
        (
            'route = "sc"',
            'route = "oral"',
            'route = "oral"',
            r"'route' expected one of iv, iv_infusion, sc, po, got 'oral'",
        ),
        (
            "cycles = 2\n",
            "cycles = 0\n",
            "cycles = 0",
            r"phase 1 \('induction'\): 'cycles' expected an integer >= 1 or "
            r"'until_progression', got 0",
        ),
        (
            "dose = 1.3",
            "dosse = 1.3",
            "dosse = 1.3",
            r"'dosse' is not a known field .*did you mean 'dose'",
        ),
        (
            'sources = ["PMID:32482541"]',
            'sources = ["PMID 32482541"]',
            "sources = ",
            r"\[regimen\]: 'sources' a source must be PMID:<digits>.*got 'PMID 32482541'",
        ),
        (
            'name = "induction"',
            'name = "inducton"',
            'name = "inducton"',
            r"'name' expected one of induction, .*got 'inducton'; did you mean 'induction'",
        ),
    ],
)
def test_bad_files_give_one_line_with_file_and_line(tmp_path, old, new, line_needle, pattern):
    path = bad(tmp_path, old, new)
    text = path.read_text()
    with pytest.raises(ModelFileError, match=pattern) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, line {line_of(text, line_needle)}: "), message


def test_overlapping_schedule_blocks_are_refused(tmp_path):
    extra = GOOD.replace(
        '[[phase.drug]]\ndrug = "dexamethasone"',
        '[[phase.drug]]\ndrug = "bortezomib"\ndose = 1.0\nunit = "mg/m2"\nroute = "sc"\n'
        'days = [11]\ncycles_apply = [2, 2]\n\n[[phase.drug]]\ndrug = "dexamethasone"',
    )
    path = write(tmp_path, extra)
    with pytest.raises(ModelFileError, match=r"overlaps drug 1 \(line \d+\) of the same drug: "
                       r"both dose cycle 2, day 11") as info:  # fmt: skip
        load(path)
    assert "\n" not in str(info.value)


def test_a_phase_after_an_open_ended_phase_is_refused(tmp_path):
    text = GOOD.replace("cycles = 2\n", 'cycles = "until_progression"\n')
    with pytest.raises(ModelFileError, match=r"a phase running 'until_progression' must be the "
                       r"last, got phase 2 \('maintenance'\) after it"):  # fmt: skip
        load(write(tmp_path, text))


def test_cycles_apply_beyond_the_phase_is_refused(tmp_path):
    text = GOOD.replace("days = [1, 4, 8, 11]", "days = [1, 4, 8, 11]\ncycles_apply = [1, 3]")
    with pytest.raises(ModelFileError, match=r"'cycles_apply' expected a last cycle 1\.\.2, got 3"):
        load(write(tmp_path, text))


def test_unverified_blocks_need_a_note(tmp_path):
    text = GOOD.replace("days = [1, 4, 8, 11]", "days = [1, 4, 8, 11]\nverified = false")
    with pytest.raises(ModelFileError, match=r"missing 'note' \(expected a string\)"):
        load(write(tmp_path, text))


def test_invalid_toml_names_the_file_and_line(tmp_path):
    path = write(tmp_path, GOOD.replace("dose = 1.3", "dose = = 1.3"))
    line = line_of(path.read_text(), "dose = = 1.3")
    with pytest.raises(ModelFileError, match=rf"^{path}: invalid TOML: .*line {line}\b"):
        load(path)


def test_bundled_files_must_be_named_after_their_regimen():
    with pytest.raises(ModelFileError, match=r"'name' expected 'other' \(the file's name\)"):
        read_regimen(GOOD, "regimens/other.toml", expect_name="other")


def test_an_edited_user_file_is_read_again(tmp_path):
    path = write(tmp_path, GOOD)
    assert load(path).title == "test regimen"
    path.write_text(GOOD.replace('title = "test regimen"', 'title = "edited regimen"'))
    assert load(path).title == "edited regimen"
