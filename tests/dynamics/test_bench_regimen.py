"""The regimen benchmark script runs end to end in its tiny mode (no timing is asserted)."""

import importlib.util
import json
import math
import pathlib

import numpy as np
import pytest

from mmmech import _kernels

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_regimen.py"


def _bench():
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ not in this checkout")
    spec = importlib.util.spec_from_file_location("bench_regimen", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.skipif(not _kernels.available("_logic"), reason="kernels not built")
def test_benchmark_smoke_run_writes_json(tmp_path, capsys, monkeypatch):
    bench = _bench()
    monkeypatch.chdir(tmp_path)  # runs from any working directory
    out_path = tmp_path / "regimen.json"
    bench.main(["--smoke", "--json-out", str(out_path)])
    printed = capsys.readouterr().out
    assert "[regimen in time]" in printed and "solve_ivp BDF" in printed
    data = json.loads(out_path.read_text())
    assert not list(tmp_path.glob("*.partial"))
    assert {r["threads"] for r in data["mmmech"]} == {1, 2}
    for row in data["mmmech"]:
        assert row["all_ok"] and row["seconds"] > 0 and "load_before" in row
        assert set(row["stage_seconds"]) == {"pk", "occupancy", "network", "tumour_imwg"}
    for per in data["ratios_anchor_over_mmmech_per_patient"].values():
        assert set(per) == {"rtol 1e-6", "matched"}
        assert all(math.isfinite(v) and v > 0 for v in per.values())
    # the general path and the cohort path give the same M-protein (to rounding, amplified at
    # most to the integrator's tolerance)
    assert data["general_path"]["max_abs_diff_m_protein_vs_cohort"] < 1e-6
    # the previous kernel and the course kernel integrate the same network
    ab = data["previous_kernel_vs_course_kernel"]
    assert ab["all_ok"] and ab["max_abs_diff_readouts"] < 1e-3
    for key in ("anchor", "anchor_matched_tolerance"):
        run = data[key]["runs"][0]
        # the anchor integrates the same network (binding kinetics included): readouts agree
        # to the tolerances (mmmech's course kernel: rtol 3e-4) ...
        assert run["max_abs_diff_m_protein_same_tumour_step_g_per_dL"] < 1e-3
        # ... and its continuous tumour ODE is close to mmmech's step-exact one (4 h steps)
        assert run["max_abs_diff_m_protein_g_per_dL"] < 0.05


def test_exported_tumour_rhs_matches_the_tumour_model():
    """The anchor's two extra lines are dN/dt = (g P - d (A + IK)) N and
    dM/dt = k (M0 N - M), per hour."""
    bench = _bench()
    inp = bench.anchor_inputs(bench.bodies(1)[0], 1)
    cm = inp["cm"]
    N = cm.n_nodes
    rhs = bench.compile_rhs(bench.export_with_tumour(cm, inp["tumour"]))
    p, a, ik, g, d, kel, m0 = inp["tumour"]
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.uniform(0, 1, N), [0.7, 2.2]])
    free = [1.0] * N
    dz = rhs(0.0, z, free)
    assert dz.shape == (N + 2,)
    np.testing.assert_allclose(dz[N], (g * z[p] - d * (z[a] + z[ik])) * 0.7 / 24.0, rtol=1e-13)
    np.testing.assert_allclose(dz[N + 1], kel * (m0 * 0.7 - 2.2) / 24.0, rtol=1e-13)
