"""structures/toxicity.toml: every record sourced; CTCAE grades; bad files are one line."""

import pytest

from mmmech.exceptions import ModelFileError
from mmmech.sources import is_source
from mmmech.toxicity import grade, read_toxicity, toxicity_data


def test_every_record_names_a_source_and_population():
    d = toxicity_data()
    records = [*d.grades.values(), *d.systems.values(), *d.effects, *d.incidences]
    records += [*d.neuropathy.values(), *d.renal.values(), *d.neuropathy_time.values()]
    assert records
    for r in records:
        assert is_source(r.source) or r.source.startswith("NCT"), r
        assert r.note
        if not r.verified:
            assert len(r.note) > 40  # an unverified number says where it was read
    assert all(i.basis == "label_incidence" for i in d.incidences)


@pytest.mark.parametrize(
    "measure, value, expected",
    [
        ("anc", 1.6, 0),
        ("anc", 1.49, 2),
        ("anc", 1.0, 2),
        ("anc", 0.99, 3),
        ("anc", 0.5, 3),
        ("anc", 0.49, 4),
        ("platelets", 80, 0),
        ("platelets", 74, 2),
        ("platelets", 49.9, 3),
        ("platelets", 25, 3),
        ("platelets", 24, 4),
    ],
)
def test_ctcae_grades(measure, value, expected):
    assert grade(measure, value) == expected


def test_grade_errors():
    with pytest.raises(Exception, match="'anc'"):
        grade("anx", 1.0)
    with pytest.raises(Exception, match="finite"):
        grade("anc", float("nan"))


@pytest.mark.parametrize(
    "text, match",
    [
        ('[[grade_scale]]\nmeasure = "anc"\n', "'unit'"),
        (
            '[[system]]\nlineage = "n"\nmtt_h = -1\ngamma = 0.1\nbaseline = 5\n',
            "'mtt_h'",
        ),
        (
            '[[incidence]]\ndrug = "x"\ntoxicity = "t"\ngrade = 3\nbasis = "label_incidence"\n'
            'dose_mg = 1\nschedule = "s"\nincidence = 1.5\n',
            "fraction",
        ),
        ('[[neuropathy]]\ndrug = "x"\n', "onset_"),
        ("[[system]\n", "line"),
    ],
)
def test_bad_files_are_one_line(text, match):
    with pytest.raises(ModelFileError, match=match) as err:
        read_toxicity(text, "my.toml")
    assert "\n" not in str(err.value) and str(err.value).startswith("my.toml")
