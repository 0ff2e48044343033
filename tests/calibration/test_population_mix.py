"""Single-agent arms that declare their enrolled patient mix ([arm.population_mix]): M13-367's
46% t(11;14), the engager trials' lower T-cell count. The arm runs on the same patient indices
with the mix applied; the file is checked with one-line errors."""

import dataclasses

import numpy as np
import pytest

from mmmech import calibration, populations, trials
from mmmech.calibration.fit import cohort_key, simulate_courses, subgroup_cohorts
from mmmech.dynamics import simulate_regimen
from mmmech.exceptions import InvalidInputError, ModelFileError

ARMS = {a.id: a for a in calibration.load_single_agent()}


def test_bundled_mixes_and_their_provenance():
    ven = ARMS["kumar2017_venetoclax_all"]
    assert ven.population_mix["features"] == {"t11_14": 0.46}
    assert ven.population_mix["refs"] and ven.population_mix["verified"] is False
    for rid in ("majestec1_teclistamab", "magnetismm3_elranatamab"):
        assert ARMS[rid].population_mix["level_medians"] == {"TCellCount": 0.6}
    assert ARMS["kumar2017_venetoclax_t11_14"].population_mix is None
    assert cohort_key(ven) == "mix:kumar2017_venetoclax_all"
    assert cohort_key(ARMS["kumar2017_venetoclax_t11_14"]) == "t11_14"
    assert cohort_key(ARMS["apex_bortezomib"]) is None


def test_the_mixed_cohort_is_the_same_patients_with_the_trials_share():
    ven = ARMS["kumar2017_venetoclax_all"]
    base, _ = trials.enrol("rrmm", 300, 1)
    (mixed,) = subgroup_cohorts([ven], "rrmm", 300, 1).values()
    assert [p.index for p in mixed] == [p.index for p in base]
    share = sum("t11_14" in p.contexts for p in mixed) / 300
    assert abs(share - 0.46) < 4.5 * (0.46 * 0.54 / 300) ** 0.5
    assert sum("t11_14" in p.contexts for p in base) / 300 < 0.3
    for p, q in zip(base, mixed, strict=True):
        assert (p.isotype, p.m_protein_g_dL, p.tumour, p.levels) == (
            q.isotype,
            q.m_protein_g_dL,
            q.tumour,
            q.levels,
        )


def test_a_mixed_arm_needs_its_cohort():
    base, _ = trials.enrol("rrmm", 2, 1)
    with pytest.raises(InvalidInputError, match=r"enrolled mix.*subgroup_cohorts") as e:
        simulate_courses([ARMS["kumar2017_venetoclax_all"]], base, follow_up_days=21.0)
    assert "\n" not in str(e.value)


GOOD = """
version = "1"
[[arm]]
id = "a"
trial = "T"
agents = ["bortezomib"]
setting = "rrmm"
orr = 0.3
sources = ["PMID:15958804"]
verified = true
[arm.population_mix]
features = { t11_14 = 0.46 }
refs = ["Kumar et al., Blood 2017;130(22):2401"]
verified = false
"""


@pytest.mark.parametrize(
    "change, needle",
    [
        (("t11_14 = 0.46", "t11_14 = 1.46"), "in [0, 1]"),
        (("features = {", "featurs = {"), "did you mean 'features'"),
        (('refs = ["Kumar et al., Blood 2017;130(22):2401"]\n', ""), "needs a source"),
        (("features = { t11_14 = 0.46 }", "features = {}"), "needs features or level_medians"),
        (("features = { t11_14 = 0.46 }", "level_medians = { TCellCount = -1 }"), "> 0"),
    ],
)
def test_bad_mix_tables_give_one_line_errors(tmp_path, change, needle):
    (tmp_path / "x.toml").write_text(GOOD)
    (arm,) = calibration.load_single_agent(tmp_path / "x.toml")
    assert arm.population_mix["features"] == {"t11_14": 0.46}
    p = tmp_path / "y.toml"
    p.write_text(GOOD.replace(*change))
    with pytest.raises(ModelFileError) as e:
        calibration.load_single_agent(p)
    msg = str(e.value)
    assert needle in msg and "population_mix" in msg and "\n" not in msg


def test_tcell_count_scales_engager_killing_only():
    """TCellCount 1 is the model without it (bit-identical); a lower count never deepens
    teclistamab's effect, and a regimen without a T-cell engager is unchanged (to the
    integrator's tolerance)."""
    p = populations.sample("rrmm", 1, seed=1)[0]
    lv = {k: v for k, v in p.levels.items() if k != "TCellCount"}
    p = dataclasses.replace(p, levels=lv)

    def burden(regimen, count):
        levels = {**lv, "TCellCount": count} if count is not None else lv
        r = simulate_regimen(regimen, cycles=2, patient=p, levels=levels, step_hours=12)
        return r.timecourse["tumour_burden"].to_numpy()

    tec = {c: burden("teclistamab", c) for c in (None, 1.0, 0.5, 0.1)}
    assert (tec[None] == tec[1.0]).all()
    assert (tec[0.5][-1] > tec[1.0][-1]) and (tec[0.1][-1] > tec[0.5][-1])
    # no engager: the level moves only the adaptive step control (the held TCellFitness state)
    np.testing.assert_allclose(burden("vd", 0.1), burden("vd", 1.0), rtol=1e-7)


def test_the_fit_notes_name_each_mix():
    from mmmech.calibration.fit import mix_note

    note = mix_note([a for a in ARMS.values() if a.population_mix])
    assert "kumar2017_venetoclax_all (t11_14 0.46)" in note
    assert "majestec1_teclistamab (TCellCount median 0.6)" in note and "\n" not in note
