"""Network-course settings against a tight reference on a VRd cohort (issue 16, round 9).

For N virtual patients (``bench_regimen.bodies(N, seed=1)``) x C cycles of VRd, runs
``simulate_cohort`` (1 thread) once per setting, each time with ``network_course`` called with
the setting's keyword arguments (JSON, e.g. ``'{"rtol": 1e-3}'``, ``'{"prune": true}'``), and
reports per setting: the network stage's CPU seconds (``time.process_time``), step attempts
per interval, the share of lane attempts spent waiting for the slowest lane of a group, and the
largest differences from a reference run (RODAS4 at rtol 1e-8 / atol 1e-11) of the tumour's
readouts at the interval ends (Proliferation; Apoptosis + ImmuneKilling), of the M-protein
course (g/dL), and the number of changed best responses.

Run: ``python benchmarks/profile_course.py --patients 64 --cycles 12 '{}' '{"rtol": 1e-3}'``
(the reference run takes several times longer than a default one). Results of 2026-12-01 in
docs/dynamics.md, Speed, round 9.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
REFERENCE = {"rtol": 1e-8, "atol": 1e-11}


def run(n, cycles, kw):
    """The cohort with `kw` passed to every ``network_course`` call; (result, cpu, out, steps)."""
    sys.path.insert(0, str(HERE))
    import bench_regimen as B  # deferred: a sibling script, importable once HERE is on the path

    from mmmech.dynamics import cohort

    orig = cohort.network_course
    info = {"cpu": 0.0, "out": [], "steps": []}

    def wrapped(*a, **k):
        t = time.process_time()
        r = orig(*a, **{**k, **kw})
        info["cpu"] += time.process_time() - t
        info["out"].append(r[0])
        info["steps"].append(np.asarray(r[3]))
        return r

    cohort.network_course = wrapped
    try:
        res = cohort.simulate_cohort(
            B.regimen(cycles), B.bodies(n, seed=1), cycles=cycles, num_threads=1
        )
    finally:
        cohort.network_course = orig
    return res, info["cpu"], np.concatenate(info["out"]), np.concatenate(info["steps"])


def lane_waste(steps, lanes):
    """Share of lane attempts idle while a group's slowest lane finishes."""
    groups = [steps[i : i + lanes] for i in range(0, steps.size, lanes)]
    return (sum(lanes * int(g.max()) for g in groups) - int(steps.sum())) / int(steps.sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=64)
    ap.add_argument("--cycles", type=int, default=12)
    ap.add_argument("settings", nargs="*", default=["{}"], help="JSON keyword arguments")
    args = ap.parse_args(argv)
    from mmmech._kernels import _rosenbrock

    ref, _, ref_out, _ = run(args.patients, args.cycles, REFERENCE)
    for spec in args.settings:
        kw = json.loads(spec)
        res, cpu, out, steps = run(args.patients, args.cycles, kw)
        k = out.shape[1] - 1
        e_p = np.abs(out[:, :, 0] - ref_out[:, :, 0]).max()
        e_a = np.abs(out[:, :, 1:].sum(axis=2) - ref_out[:, :, 1:].sum(axis=2)).max()
        e_m = np.abs(res.m_protein - ref.m_protein).max()
        changed = int(np.sum(np.asarray(res.best_response) != np.asarray(ref.best_response)))
        print(
            f"{spec:40s} cpu {cpu:.3f} s  attempts/interval {steps.sum() / steps.size / k:.3f}"
            f"  lane waste {lane_waste(steps, _rosenbrock.LANES):.2%}  Prolif {e_p:.2e}"
            f"  Apopt+IK {e_a:.2e}  M-protein {e_m:.2e} g/dL  best responses changed {changed}",
            flush=True,
        )


if __name__ == "__main__":
    main()
