"""The kernel benchmark script runs end to end on tiny problems (no timing is asserted)."""
import importlib.util
import json
import math
import pathlib

import pytest

from mmmech import _kernels

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_kernels.py"


@pytest.mark.skipif(not (_kernels.available("_logic") and _kernels.available("_linear")),
                    reason="kernels not built")
def test_benchmark_smoke_run_writes_json(tmp_path, capsys):
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ not in this checkout")
    spec = importlib.util.spec_from_file_location("bench_kernels", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out_path = tmp_path / "kernels.json"
    bench.main(["--smoke", "--json-out", str(out_path)])
    printed = capsys.readouterr().out
    assert "[logic ODE]" in printed and "[linear]" in printed
    data = json.loads(out_path.read_text())
    assert not list(tmp_path.glob("*.partial"))
    logic = data["logic"]
    for key in ("per_regimen_vs_lsoda_1thread", "vs_numpy_backend_1thread", "threads_2_over_1"):
        assert math.isfinite(logic["ratios"][key]) and logic["ratios"][key] > 0
    # the kernel agrees with the anchors it is timed against
    assert logic["numpy_max_abs_diff"] < 1e-6
    assert logic["lsoda_max_abs_diff"] < 1e-4
    assert data["linear"][0]["max_abs_diff"] < 1e-12
    assert data["sizes"][0]["ns_per_edge_eval_1thread"] > 0
