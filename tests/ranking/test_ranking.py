"""mmmech.rank: one patient, several regimens, ranked with intervals and drivers."""

from __future__ import annotations

import numpy as np
import pytest

import mmmech
from mmmech import regimens
from mmmech.dynamics import simulate_regimens
from mmmech.dynamics.tumour import BIRTH_DOUBLING_DAYS, HALF_LIVES, tumour_model
from mmmech.exceptions import InvalidInputError, MmmechError, ModelFileError, UnknownNameError
from mmmech.ranking import default_regimens, rank
from mmmech.ranking.core import _cycles_for, _Member, _reintegrate

FAST = {"cycles": 1, "ensemble": 2, "step_hours": 12.0}
ORDER = ["PD", "SD", "MR", "PR", "VGPR", "CR"]


@pytest.fixture(scope="module")
def ranking():
    return rank("example", ["rd", "dara_rd", "kd"], top=1, **FAST)


def test_json_shape_and_research_note(ranking):
    d = ranking.to_dict()
    assert set(d) >= {"patient", "regimens", "notes"}
    assert d["patient"]["name"] == "example"
    assert [r["rank"] for r in d["regimens"]] == [1, 2, 3]
    assert {r["name"] for r in d["regimens"]} == {"rd", "dara_rd", "kd"}
    for r in d["regimens"]:
        assert set(r) >= {"name", "rank", "best_response", "pfs_months", "toxicity", "drivers"}
        assert r["best_response"] in ORDER
        lo, hi = r["best_response_interval"]
        assert ORDER.index(lo) <= ORDER.index(r["best_response"]) <= ORDER.index(hi)
        assert r["pfs_months_interval"][0] <= r["pfs_months"] <= r["pfs_months_interval"][1]
    assert any("research use only, not for clinical decisions" in n for n in d["notes"])
    assert "ordering" in d


def test_order_follows_the_stated_rule(ranking):
    """Lexicographic: deeper response, longer PFS, lower toxicity burden, deeper reduction."""
    rows = ranking.to_dict()["regimens"]
    keys = [
        (
            -ORDER.index(r["best_response"]),
            -r["pfs_months"],
            r["toxicity"]["burden"],
            -r["m_protein_reduction"],
            r["name"],
        )
        for r in rows
    ]
    assert keys == sorted(keys)


def test_drivers_of_the_top_regimen(ranking):
    rows = ranking.to_dict()["regimens"]
    top = rows[0]
    reg = regimens.load(top["name"])
    kinds = {d["kind"] for d in top["drivers"]}
    assert "context" in kinds  # the example patient carries gain1q
    drug_names = [d["name"] for d in top["drivers"] if d["kind"] == "drug"]
    if len(reg.drugs) >= 2:
        assert sorted(drug_names) == sorted(reg.drugs)
    assert all(r["drivers"] == [] for r in rows[1:])


def test_member_zero_reintegration_matches_the_simulation():
    """Differential: the ensemble's tumour re-integration with the typical parameters gives
    the same M-protein response as simulate_regimens."""
    pat = mmmech.populations.load_patient("example")
    res = simulate_regimens(["dara_rd"], cycles=1, patient=pat, step_hours=12.0)[0]
    tm = tumour_model(isotype="IgG", m0_g_per_dL=pat.m_protein_g_dL)
    m0 = _Member(BIRTH_DOUBLING_DAYS.value, HALF_LIVES["IgG"].value, 1.0)
    resp = _reintegrate(res.timecourse, m0, tm, 0.99)
    assert resp.best == res.best_response
    assert resp.max_reduction == pytest.approx(res.response.max_reduction, rel=1e-9, abs=1e-12)


def test_cycles_cover_the_same_treatment_time():
    assert _cycles_for(regimens.load("rd"), 168) == 6  # 28-day cycles
    assert _cycles_for(regimens.load("vd"), 168) == 8  # 21-day cycles
    vd = regimens.load("vd")
    total = sum(p.cycles or 0 for p in vd.phases)
    assert _cycles_for(vd, 100 * 28) == total  # a fixed-length regimen stops at its end


def test_default_regimens_follow_the_setting(tmp_path):
    rel = default_regimens("example")  # one prior line (features)
    assert "rd" in rel and "kd" in rel
    assert not {"cilta_cel", "ide_cel", "teclistamab", "talquetamab"} & set(rel)
    assert "vrd_asct_len" not in rel
    nd = tmp_path / "nd.toml"
    nd.write_text(
        'name = "nd"\nage = 60\nweight_kg = 70.0\nheight_cm = 170.0\ncrcl_ml_min = 90.0\n'
        'isotype = "IgG"\nm_protein_g_dL = 2.0\n',
        encoding="utf-8",
    )
    new = default_regimens(str(nd))
    assert "vrd" in new and "kd" not in new


def test_bad_patient_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nage = 500\n', encoding="utf-8")
    with pytest.raises(ModelFileError) as e:
        rank(str(bad), ["rd"], **FAST)
    msg = str(e.value)
    assert "\n" not in msg and "line 2" in msg and "age" in msg
    with pytest.raises(UnknownNameError, match="example"):
        rank("exampel", ["rd"], **FAST)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"cycles": 0}, "cycles must be an integer >= 1"),
        ({"ensemble": 0}, "ensemble must be an integer >= 1"),
        ({"toxicity": "no"}, "toxicity must be True or False"),
    ],
)
def test_argument_errors(kw, match):
    with pytest.raises(InvalidInputError, match=match):
        rank("example", ["rd"], **{**FAST, **kw})


def test_unknown_and_duplicate_regimens():
    with pytest.raises(MmmechError, match="did you mean 'rd'"):
        rank("example", ["rdd"], **FAST)
    with pytest.raises(InvalidInputError, match="given twice"):
        rank("example", ["rd", "rd"], **FAST)


def test_toxicity_feedback_never_improves_the_typical_course():
    """The same regimen with and without toxicity feedback: the fed-back doses are never more
    than the full schedule, so the M-protein reduction is never deeper."""
    a = rank("example", ["rd"], top=0, toxicity=True, **{**FAST, "ensemble": 1})
    b = rank("example", ["rd"], top=0, toxicity=False, **{**FAST, "ensemble": 1})
    ra = a.to_dict()["regimens"][0]
    rb = b.to_dict()["regimens"][0]
    assert ra["m_protein_reduction"] <= rb["m_protein_reduction"] + 1e-9
    assert ra["toxicity"]["modelled"] and not rb["toxicity"]["modelled"]
    assert np.isfinite(ra["pfs_months"])
