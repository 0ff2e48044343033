"""The untreated-growth sensitivity of the single-agent arms (docs/populations.md, "Untreated
growth by line of therapy", and benchmarks/calibration_growth_sensitivity.py): a faster
untreated growth never improves an arm, and the sourced rates it compares map onto the fitted
parameters as the docs state."""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from _helpers import NEUTRAL_CWD
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech.calibration import fit as cfit
from mmmech.calibration.data import load_single_agent
from mmmech.calibration.fit import untreated_doubling
from mmmech.calibration.params import load_parameters

ARM = {a.id: a for a in load_single_agent("single_agent")}["mm002_pomalidomide"]

#: Collins 2023 (DOI:10.1002/psp4.13016) Table 1 TVKGR and Li 2025 (DOI:10.1111/cts.70296)
#: Table 3 kg 0.0303 /week, as read in the nlmixr2lib model files (verified = false)
KGR_COLLINS, KG_LI = 0.0174, 0.0303 / 7


def _course(seed: int, P: int = 12, K: int = 60) -> cfit.ArmCourse:
    rng = np.random.default_rng(seed)
    # split rates as simulate_courses returns them: growth part a >= 0, death part b, so that
    # the drug lowers the net rate for part of the course
    a = np.full((P, K), cfit._B0) * rng.uniform(0.6, 1.0, (P, 1))
    b = np.full((P, K), cfit._B0 - cfit._NU) * rng.uniform(1.0, 12.0, (P, 1))
    b[:, K // 2 :] *= rng.uniform(0.2, 1.0, (P, 1))  # a weaker drug effect later
    return cfit.ArmCourse(
        ARM, a, b, 3.0, np.array(["IgG"] * P, dtype=object), rng.uniform(1, 5, P), 1.0,
        growth=rng.lognormal(0, 0.5, P), sensitivity=rng.lognormal(0, 0.5, P),
        resistance=rng.lognormal(math.log(0.0024), 1.0, P),
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.floats(1.0, 8.0),
    s=st.floats(0.9, 1.0),
    tb=st.floats(30.0, 75.0),
)
def test_faster_untreated_growth_never_improves_an_arm(seed, k, s, tb):
    c = _course(seed)
    assert c.growth is not None
    fast = dataclasses.replace(c, growth=c.growth * k)
    p0, p1 = cfit.predict(c, s, tb), cfit.predict(fast, s, tb)
    for key in ("orr", "vgpr_or_better", "cr_or_better"):
        assert p1[key] <= p0[key] + 1e-12
    assert np.all(p1["ttp_days"] <= p0["ttp_days"])  # each patient progresses no later


def test_factor_one_is_the_course_itself():
    c = _course(3)
    same = dataclasses.replace(c, growth=c.growth * 1.0)
    p0, p1 = cfit.predict(c, 0.977, 56.2), cfit.predict(same, 0.977, 56.2)
    assert np.array_equal(p0["best_response"], p1["best_response"])
    assert np.array_equal(p0["ttp_days"], p1["ttp_days"])
    # informative synthetic courses: some patients respond, and Collins's rate costs responses
    assert 0 < p0["orr"] < 1
    fast = cfit.predict(dataclasses.replace(c, growth=c.growth * 4.36), 0.977, 56.2)
    assert fast["orr"] < p0["orr"]


def test_sourced_rates_against_the_bundled_fit():
    """The numbers docs/populations.md quotes: the bundled fit's typical untreated doubling
    (174 d, net 0.0040 /day) and the factors that give Collins's and Li's growth rates."""
    v = load_parameters("single_agent_fit").values
    td = untreated_doubling(v["death_scale"], v["birth_doubling_days"])
    assert td == pytest.approx(174, abs=1)
    r0 = math.log(2) / td
    assert KGR_COLLINS / r0 == pytest.approx(4.36, abs=0.01)
    assert KG_LI / r0 == pytest.approx(1.08, abs=0.01)
    # Collins's KGR is a doubling of 40 d, Li's kg one of 160 d (a factor of 4 apart)
    assert math.log(2) / KGR_COLLINS == pytest.approx(39.8, abs=0.1)
    assert math.log(2) / KG_LI == pytest.approx(160.1, abs=0.2)


def test_sensitivity_script_end_to_end():
    """The evaluate-only script on one arm, 2 patients x 2 draws: a growth equal to the fit's
    own typical untreated rate reproduces the arm as fitted exactly (factor 1), and Collins's
    rate never lengthens its median TTP."""
    script = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
    script = script / "calibration_growth_sensitivity.py"
    if not script.is_file():
        pytest.skip("benchmarks/ not in this checkout")
    v = load_parameters("single_agent_fit").values
    r0 = math.log(2) / untreated_doubling(v["death_scale"], v["birth_doubling_days"])
    arm = "apex_dexamethasone"
    out = subprocess.run(
        [sys.executable, str(script), "--patients", "2", "--draws", "2", "--growth-per-day",
         repr(r0), repr(KGR_COLLINS), "--arms", arm, "--only", arm],
        cwd=NEUTRAL_CWD, capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    row = lines[0][arm]
    same = row[f"after {r0:g}"]
    assert same == row["before"]
    assert lines[-1]["growth_factor"][repr(r0)] == pytest.approx(1.0)
    ttp0 = row["before"]["median_ttp_months"][1]
    ttp1 = row[f"after {KGR_COLLINS:g}"]["median_ttp_months"][1]
    assert ttp1 is not None and (ttp0 is None or ttp1 <= ttp0)
