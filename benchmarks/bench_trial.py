"""Benchmark of a virtual trial (issue 17, Speed): two arms (VRd vs Rd) of N ndmm patients x
12 cycles, in-process and on a local Dask cluster of 2 worker processes.

Both runs are ``mmmech.trials.run_trial(["VRd", "Rd"], "ndmm", patients=N, seed=1,
cycles=12)``: VRd's own eight 21-day cycles and Rd's twelve 28-day cycles, both arms followed
to day 336. Reports seconds, patient courses per second (N patients x 2 arms), the 1-minute load
average before and after each run, and checks that both runs give the identical JSON. The issue's
target is N = 1,000 in under 30 s on the 2-core machine; ``--patients`` scales it down on a
busy machine (say so when quoting it). Nothing here is a test: no timing is asserted.

Run: ``python benchmarks/bench_trial.py [--patients N] [--workers W] [--json-out FILE]``.
"""

import argparse
import json
import os
import pathlib
import platform
import time

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "results" / "trial.json"


def load():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not POSIX
        return None


def run(patients, workers):
    from mmmech.trials import run_trial

    before = load()
    t0 = time.perf_counter()
    res = run_trial(["VRd", "Rd"], "ndmm", patients=patients, seed=1, cycles=12, workers=workers)
    seconds = time.perf_counter() - t0
    d = res.to_dict()
    return d, {
        "workers": workers,
        "patients": patients,
        "courses": 2 * patients,
        "seconds": round(seconds, 2),
        "patients_per_second": round(patients / seconds, 3),
        "courses_per_second": round(2 * patients / seconds, 3),
        "load_before": before,
        "load_after": load(),
        "orr": {a["name"]: a["orr"] for a in d["arms"]},
        "median_pfs_months": {a["name"]: a["median_pfs_months"] for a in d["arms"]},
        "hazard_ratio": d["hazard_ratios"][0],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json-out", default=str(OUT))
    args = ap.parse_args(argv)
    d0, local = run(args.patients, 0)
    print(json.dumps(local, indent=1), flush=True)
    d1, dask = run(args.patients, args.workers)
    print(json.dumps(dask, indent=1), flush=True)
    out = {
        "benchmark": "bench_trial",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "target": "1,000 patients x 12 cycles, two arms, under 30 s (issue 17)",
        "scaled": args.patients != 1000,
        "in_process": local,
        "dask": dask,
        "identical_json": json.dumps(d0, sort_keys=True) == json.dumps(d1, sort_keys=True),
    }
    path = pathlib.Path(args.json_out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=2) + "\n")
    os.replace(tmp, path)
    print(json.dumps({k: out[k] for k in ("scaled", "identical_json")}))


if __name__ == "__main__":
    main()
