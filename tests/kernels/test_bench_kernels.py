"""The kernel benchmark script runs end to end on tiny problems (no timing is asserted)."""

import importlib.util
import json
import math
import pathlib

import pytest

from mmmech import _kernels

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_kernels.py"


def _bench():
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ not in this checkout")
    spec = importlib.util.spec_from_file_location("bench_kernels", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.skipif(
    not (_kernels.available("_logic") and _kernels.available("_linear")), reason="kernels not built"
)
def test_benchmark_smoke_run_writes_json(tmp_path, capsys, monkeypatch):
    bench = _bench()
    monkeypatch.chdir(tmp_path)  # benchmarks run from any working directory
    out_path = tmp_path / "kernels.json"
    bench.main(["--smoke", "--json-out", str(out_path)])
    printed = capsys.readouterr().out
    assert "[logic ODE]" in printed and "[linear]" in printed
    data = json.loads(out_path.read_text())
    assert not list(tmp_path.glob("*.partial"))
    logic = data["logic"]
    for key in (
        "per_regimen_vs_lsoda_1thread",
        "per_regimen_vs_exported_lsoda_1thread",
        "vs_numpy_backend_1thread",
        "threads_2_over_1",
    ):
        assert math.isfinite(logic["ratios"][key]) and logic["ratios"][key] > 0
    assert "bundled myeloma model" in logic["model"]
    sc = logic["thread_scaling"]
    assert len(sc["runs_1thread"]) == len(sc["runs_2threads"]) >= 1
    assert all("load" in r for r in sc["runs_1thread"] + sc["runs_2threads"])
    # the kernel agrees with the anchors it is timed against
    assert logic["numpy_max_abs_diff"] < 1e-6
    assert logic["lsoda_max_abs_diff"] < 1e-4
    assert logic["exported_max_abs_diff"] < 1e-4 and logic["exported_failures"] == 0
    assert data["linear"][0]["max_abs_diff"] < 1e-12
    assert data["sizes"][0]["ns_per_edge_eval_1thread"] > 0


@pytest.mark.parametrize("which", ["myeloma", "random"])
def test_exported_model_equals_the_reference_derivative(which):
    """The fair LSODA anchor integrates exactly the kernel's model: the generated straight-line
    right-hand side equals the NumPy reference's derivative."""
    import numpy as np

    from mmmech._kernels import _logic_ref
    from mmmech.simulation import propagate

    bench = _bench()
    if which == "myeloma":
        (cm, mask, value), _ = bench.myeloma_case(16)
    else:
        from mmmech.testing import random_logic_model, random_regimens

        cm = random_logic_model(60, n_inputs=6, seed=4)
        mask, value = random_regimens(cm, 16, p_fixed=0.2, seed=5)
    src = bench.export_source(cm)
    assert "def rhs(t, y, free):" in src and src.count("  # ") == cm.n_nodes
    rhs = bench.export_rhs(cm)
    rng = np.random.default_rng(0)
    y = rng.uniform(-0.1, 1.1, (16, cm.n_nodes))  # also outside [0, 1]: clipping
    reg = propagate._prepare(cm, mask, value, None, None, None, None, "t")
    batch = _logic_ref._Batch(cm, reg.params, reg.param_index, reg.fixed_mask, reg.fixed_value)
    want = _logic_ref.derivative(batch, y)
    has_rule = np.diff(cm.prog_ptr) > 0
    for r in range(16):
        free = (has_rule & ~(mask[r] > 0)).astype(float).tolist()
        np.testing.assert_allclose(rhs(0.0, y[r], free), want[r], rtol=1e-13, atol=1e-15)


def test_benchmark_stops_when_the_model_cannot_load(monkeypatch):
    """No silent fallback to a random network: the reason is reported instead."""
    bench = _bench()
    import mmmech.model

    def broken(*a, **k):
        raise FileNotFoundError("pathways/myeloma.toml is missing")

    monkeypatch.setattr(mmmech.model, "Simulator", broken)
    with pytest.raises(bench.BenchmarkSetupError, match="myeloma.toml is missing"):
        bench.bench_logic(16, 1, 16, 1)
