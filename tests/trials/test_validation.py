"""Virtual against real trials (mmmech.trials.validation, mmmech trial --validate)."""

import json
import pathlib
import subprocess
import sys

import pytest
import tomllib
from _helpers import NEUTRAL_CWD, assert_one_line_error

import mmmech
import mmmech.populations
import mmmech.regimens
from mmmech.calibration import load_combination_trials
from mmmech.exceptions import InvalidInputError
from mmmech.trials import validation as tv
from mmmech.trials.enrolment import load_trial_enrolment, trial_population
from mmmech.trials.validation import validate_trials

DATA = pathlib.Path(__file__).resolve().parents[2] / "trials" / "combination_trials.toml"
KW = {"patients": 2, "seed": 3, "cycles": 1}


def _raw():
    """The data file read directly (not through the package's loader)."""
    return {t["id"]: t for t in tomllib.loads(DATA.read_text(encoding="utf-8"))["trial"]}


@pytest.fixture(scope="module")
def small():
    return validate_trials(ids=["bellini", "maia"], **KW)


def test_one_row_per_trial_in_data_order(small):
    assert [r.id for r in small.rows] == ["maia", "bellini"]  # the data file's order
    table = small.markdown().splitlines()
    assert len(table) == 2 + len(small.rows)
    assert table[2].startswith("| MAIA") and table[3].startswith("| BELLINI")


def test_every_trial_of_the_data_names_bundled_regimens():
    raw = _raw()
    for tid, t in raw.items():
        for a in t["arm"]:
            assert a.get("regimen"), (tid, a["name"])
            mmmech.regimens.load(a["regimen"])  # loads: a bundled name
    assert raw["bellini"]["arm"][0]["regimen"] == "ven_vd"
    assert raw["perseus"]["arm"][0]["regimen"] == "dara_vrd"


def test_an_arm_without_regimen_is_listed_with_a_reason(tmp_path):
    raw = DATA.read_text(encoding="utf-8")
    start = raw.index('[[trial]]\nid = "perseus"')
    end = raw.index("[[trial]]", start + 5)
    block = raw[start:end].replace('regimen = "dara_vrd"\n', "")
    path = tmp_path / "one.toml"
    path.write_text('version = "1"\n' + block, encoding="utf-8")
    res = validate_trials(str(path), **KW)  # nothing to simulate: fast
    (r,) = res.rows
    assert r.predicted is None and r.not_simulated == "no bundled regimen for D-VRd"
    assert res.summary["simulated"] == 0 and res.summary["not_simulated"] == 1
    assert "not simulated: no bundled regimen for D-VRd" in res.markdown()
    assert "transplant-eligible" in r.population_gap


def test_subgroup_population_forces_the_context_and_keeps_the_other_draws():
    pops = mmmech.populations
    forced = tv.subgroup_population("rrmm", "t11_14")
    base = pops.load("rrmm")
    a = [pops.patient(forced, i, 5) for i in range(40)]
    b = [pops.patient(base, i, 5) for i in range(40)]
    assert all("t11_14" in x.contexts for x in a)
    assert sum("t11_14" in y.contexts for y in b) < 40  # not so without forcing
    for x, y in zip(a, b, strict=True):
        assert (x.m_protein_g_dL, x.isotype, x.age) == (y.m_protein_g_dL, y.isotype, y.age)
        assert dict(x.body) == dict(y.body) and dict(x.levels) == dict(y.levels)
        # secondary events (independent features) are the same patient's
        others = {c for c in y.contexts if c not in ("t11_14", "t4_14", "maf")}
        assert others <= set(x.contexts)
    with pytest.raises(InvalidInputError, match="did you mean 't11_14'"):
        tv.subgroup_population("rrmm", "t11_13")


def test_the_subgroup_trial_runs_on_forced_patients():
    res = validate_trials(ids=["bellini_t11_14"], **KW)
    (r,) = res.rows
    # round 7: BELLINI's enrolment criteria (trials/enrolment.toml: PI-refractory patients
    # excluded) apply to its subgroup too, on the forced population
    assert r.predicted is not None
    assert r.population == "rrmm (t11_14 forced; excludes bortezomib_refractory)"
    assert r.regimens == ("ven_vd", "vd_bellini")
    pop, extra = trial_population(
        tv.subgroup_population("rrmm", "t11_14"), "bellini_t11_14", load_trial_enrolment()
    )
    assert extra is not None and extra.exclude == ("bortezomib_refractory",)
    ref = mmmech.trial(["ven_vd", "vd_bellini"], population=pop, progress=False, **KW).to_dict()
    assert r.predicted["experimental"]["orr"] == ref["arms"][0]["orr"]
    assert r.predicted["hr_note"] == ref["hazard_ratios"][0]["note"]


def test_observed_values_are_the_data_file(small):
    raw = _raw()
    for r in small.rows:
        t = raw[r.id]
        exp = next(a for a in t["arm"] if a["role"] == "experimental")
        ctl = next(a for a in t["arm"] if a["role"] == "control")
        for side, arm in (("experimental", exp), ("control", ctl)):
            obs = r.observed[side]
            for k in ("orr", "vgpr_or_better", "cr_or_better", "median_pfs_months", "n"):
                assert obs.get(k) == arm.get(k), (r.id, side, k)
        for k in ("hr", "hr_low", "hr_high"):
            assert r.observed[k] == t.get(k)
        assert r.population.split(" ")[0] == t["setting"]
        assert (r.experimental, r.control) == (exp["name"], ctl["name"])


def test_predicted_values_equal_an_independent_trial(small):
    row = small.row("maia")
    assert row.regimens == ("dara_rd", "rd") and row.population == "ndmm"
    ref = mmmech.trial(["dara_rd", "rd"], population="ndmm", progress=False, **KW).to_dict()
    p = row.predicted
    for side, arm in (("experimental", ref["arms"][0]), ("control", ref["arms"][1])):
        for k in ("orr", "vgpr_or_better", "cr_or_better", "median_pfs_months"):
            assert p[side][k] == arm[k], (side, k)
        assert p[side]["n"] == arm["patients"] == 2
    hr = ref["hazard_ratios"][0]
    assert (hr["arm"], hr["versus"]) == ("dara_rd", "rd")  # experimental against control
    assert (p["hr"], p["hr_low"], p["hr_high"], p["hr_note"]) == (
        hr["value"],
        hr["low"],
        hr["high"],
        hr["note"],
    )
    assert p["follow_up_months"] == ref["follow_up_months"]


def test_same_seed_same_result(small):
    again = validate_trials(ids=["maia"], **KW)
    assert again.row("maia").predicted == small.row("maia").predicted


def _row(i, hr_o, hr_p, orr_o=None, orr_p=(0.5, 0.5), progressed=(0, 0)):
    o = {"experimental": {}, "control": {}, "hr": hr_o}
    if orr_o is not None:
        o["experimental"]["orr"], o["control"]["orr"] = orr_o
    p = {
        "experimental": {"orr": orr_p[0]},
        "control": {"orr": orr_p[1]},
        "hr": hr_p,
        "progressed": list(progressed),
    }
    return tv.TrialComparison(
        id=f"t{i}",
        name=f"T{i}",
        population="ndmm",
        experimental="E",
        control="C",
        regimens=("e", "c"),
        observed=o,
        predicted=p,
        not_simulated=None,
        population_gap="",
        sources=(),
        verified=True,
    )


def test_spearman_and_sign_agreement_on_known_rows():
    # predicted HRs in the same order as observed: rho = 1; reversed: rho = -1
    rows = [_row(i, h, 0.1 + h) for i, h in enumerate([0.5, 0.7, 0.9, 1.1])]
    s = tv._summary(rows)
    assert s["spearman_hr"]["rho"] == pytest.approx(1.0)
    assert s["spearman_hr"]["n"] == 4
    # observed HR < 1 in three trials, predicted (h + 0.1) < 1 in two of them; 1.1 agrees
    assert s["sign_agreement"]["agree"] == 3 and s["sign_agreement"]["judged"] == 4
    rev = [_row(i, h, 2.0 - h) for i, h in enumerate([0.5, 0.7, 0.9, 1.1])]
    assert tv._summary(rev)["spearman_hr"]["rho"] == pytest.approx(-1.0)
    # ORR differences; without a predicted HR the sign comes from progressions, then responses
    rows = [
        _row(0, 0.6, None, (0.9, 0.8), (0.9, 0.7)),
        _row(1, 0.8, None, (0.7, 0.65), (0.6, 0.55), progressed=(0, 5)),
        _row(2, None, None, (0.6, 0.6), (0.5, 0.6)),
        _row(3, 0.7, None, (0.8, 0.6), (1.0, 1.0)),
    ]
    s = tv._summary(rows)
    # observed ranks 3, 2, 1, 4; predicted 4, 3, 1, 2: 1 - 6 * 6 / (4 * 15) = 0.4
    assert s["spearman_orr_difference"]["rho"] == pytest.approx(0.4)
    assert s["spearman_hr"]["rho"] is None and "at least 3" in s["spearman_hr"]["note"]
    per = s["sign_agreement"]["per_trial"]
    bases = ["response", "progressions", "response", "response"]
    assert [x["predicted_basis"] for x in per] == bases
    assert [x["predicted"] for x in per] == ["better", "better", "worse", "same"]
    assert [x["observed"] for x in per] == ["better", "better", "same", "better"]
    # trial 2: observed ORR equal ("same"), predicted worse; trial 3: a tie is disagreement
    assert [x["agree"] for x in per] == [True, True, False, False]
    assert s["sign_agreement"]["agree"] == 2 and s["sign_agreement"]["judged"] == 4


def test_bad_arguments():
    with pytest.raises(InvalidInputError, match="did you mean 'maia'"):
        validate_trials(ids=["mai"], **KW)
    with pytest.raises(InvalidInputError, match="patients"):
        validate_trials(ids=["maia"], patients=0)
    assert len(load_combination_trials()) == len(_raw())


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "mmmech", "trial", *args],
        capture_output=True,
        text=True,
        cwd=NEUTRAL_CWD,
        timeout=300,
    )


def test_cli_json_shape_and_out(tmp_path):
    out = tmp_path / "v.json"
    proc = _cli(
        "--validate", "--only", "bellini", "--only", "perseus", "--json", "--quiet",
        "--out", str(out), "--patients", "2", "--cycles", "1", "--seed", "3",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert json.loads(out.read_text()) == d
    assert set(d) == {
        "patients",
        "seed",
        "cycles",
        "follow_up_months",
        "trials",
        "summary",
        "notes",
        "parameters",
    }
    assert d["parameters"] is None  # the model's defaults (no --parameters)
    assert [t["id"] for t in d["trials"]] == ["bellini", "perseus"]
    for t in d["trials"]:
        assert t["simulated"] is True and t["predicted"] is not None and not t["not_simulated"]
        assert set(t["observed"]) >= {"experimental", "control", "hr", "hr_low", "hr_high"}
    assert set(d["summary"]) == {
        "simulated",
        "not_simulated",
        "spearman_hr",
        "spearman_orr_difference",
        "sign_agreement",
    }


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--validate", "VRd"], ["takes no ARM", "VRd"]),
        (["--validate", "--only", "mai"], ["unknown trial", "maia"]),
        (["--validate", "--patients", "0"], ["--patients", ">= 1"]),
        (["--validate", "--population", "rrmm"], ["--population"]),
        ([], ["at least one ARM"]),
        (["VRd", "Rd", "--only", "maia"], ["--only needs --validate"]),
    ],
)
def test_cli_one_line_errors(args, needles):
    assert_one_line_error(_cli(*args), *needles)
