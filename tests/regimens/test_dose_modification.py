"""The optional [[phase.drug.dose_modification]] rules of regimen files: parsed from the bundled
label rules, refused in one line (file, line, field) when malformed."""

import textwrap

import pytest

from mmmech.exceptions import ModelFileError
from mmmech.regimens import load, read_regimen

HEAD = textwrap.dedent(
    """\
    [regimen]
    name = "t"
    title = "t"
    indication = "t"
    sources = ["PMID:19853510"]

    [[phase]]
    name = "treatment"
    cycles = 2
    cycle_days = 28

    [[phase.drug]]
    drug = "lenalidomide"
    dose = 25
    unit = "mg"
    route = "po"
    days = ["1-21"]

    [[phase.drug.dose_levels]]
    level = -1
    dose = 15
    """
)


def _rule(body: str) -> str:
    return HEAD + "\n[[phase.drug.dose_modification]]\n" + textwrap.dedent(body)


def test_bundled_label_rules_are_read():
    rd = load("rd").phases[0].drugs[0]
    assert rd.drug == "lenalidomide"
    anc = rd.dose_modifications[0]
    assert (anc.measure, anc.op, anc.grade, anc.action) == ("anc", ">=", 3, "hold")
    assert anc.resumes({"anc": 2}) and not anc.resumes({"anc": 3})
    assert anc.fires({"anc": 3}) and not anc.fires({"anc": 2}) and not anc.fires({})
    assert anc.first_resume_at == "same" and anc.resume_at == "next_level"
    pd = load("pd").phases[0].drugs[0]
    assert [m.trigger for m in pd.dose_modifications] == ["anc_grade>=4", "platelets_grade>=4"]
    assert [lv.dose for lv in pd.dose_levels] == [3.0, 2.0, 1.0]
    for name in ("vd", "vrd"):
        btz = load(name).phases[0].drugs[0]
        assert btz.drug == "bortezomib"
        actions = [(m.trigger, m.action) for m in btz.dose_modifications]
        assert actions == [
            ("neuropathy_grade==2", "reduce"),
            ("neuropathy_grade==3", "hold"),
            ("neuropathy_grade>=4", "discontinue"),
        ]
        assert all("PMC:PMC1936263" in m.sources for m in btz.dose_modifications)


def test_a_file_without_rules_still_reads():
    r = read_regimen(HEAD, "t.toml")
    assert r.phases[0].drugs[0].dose_modifications == ()


@pytest.mark.parametrize(
    "body, expected",
    [
        ('trigger = "anc_grade>=3"\naction = "pause"\nresume = "anc_grade<=2"\n', "'action'"),
        ('trigger = "hb_grade>=3"\naction = "reduce"\n', "'trigger'"),
        ('trigger = "anc_grade>=7"\naction = "reduce"\n', "grade 0-4"),
        ('trigger = "anc_grade>=3"\naction = "hold"\n', "missing 'resume'"),
        ('trigger = "anc_grade>=3"\naction = "reduce"\nresume_at = "up"\n', "'resume_at'"),
        ('trigger = "anc_grade>=3"\naction = "reduce"\ncolour = 1\n', "'colour'"),
        ('action = "reduce"\n', "missing 'trigger'"),
        ('trigger = "anc_grade>=3"\naction = "reduce"\nverified = false\n', "'note'"),
    ],
)
def test_bad_rules_are_one_line_errors(body, expected):
    with pytest.raises(ModelFileError) as err:
        read_regimen(_rule(body), "bad.toml")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("bad.toml, line ") and expected in msg
    assert "dose modification 1" in msg


def test_error_line_points_at_the_rule():
    text = _rule('trigger = "anc_grade>=3"\naction = "pause"\n')
    line = text.splitlines().index('action = "pause"') + 1
    with pytest.raises(ModelFileError, match=rf"bad.toml, line {line}:"):
        read_regimen(text, "bad.toml")
