"""Benchmark of a virtual trial (issue 17, Speed): two arms (VRd vs Rd) of N ndmm patients x
12 cycles, in-process and on a local Dask cluster of 2 worker processes.

Both runs are ``mmmech.trials.run_trial(["VRd", "Rd"], "ndmm", patients=N, seed=1,
cycles=12)``: VRd's own eight 21-day cycles and Rd's twelve 28-day cycles, both arms followed
to day 336. Reports seconds, patient courses per second (N patients x 2 arms), the 1-minute load
average before and after each run, and checks that both runs give the identical JSON. The issue's
target is N = 1,000 in under 30 s on the 2-core machine; ``--patients`` scales it down on a
busy machine (say so when quoting it). Nothing here is a test: no timing is asserted.

``--stages N`` instead runs the trial once in-process for N patients and prints where its CPU
time goes (seconds of CPU, all threads): enrolment, the toxicity courses and PK random effects
(``_arm_exposure``), and inside :func:`~mmmech.dynamics.simulate_cohort` its stages (``pk``,
``occupancy``, ``network``, ``tumour_imwg``) and the rest (simulators, steady states).

``--no-reuse`` turns the network's cycle periodicity off in this process (``simulate_cohort``'s
course in one kernel call, as before round 10; in-process runs and ``--stages`` only: Dask
workers keep the default), for A/B timings.

Run: ``python benchmarks/bench_trial.py [--patients N] [--workers W] [--json-out FILE]
[--stages N] [--no-reuse]``.
"""

import argparse
import collections
import json
import os
import pathlib
import platform
import time
import types

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


def stages(patients):
    """CPU seconds per stage of one in-process trial of `patients` patients (see the module
    docstring); the trial's result is not changed by the timers."""
    from mmmech.dynamics import cohort
    from mmmech.trials import arms
    from mmmech.trials import run as trial_run

    cpu = collections.defaultdict(float)

    def timed(mod, name, label, keep=None):
        f = getattr(mod, name)

        def g(*a, **k):
            c0 = time.process_time()
            try:
                out = f(*a, **k)
            finally:
                cpu[label] += time.process_time() - c0
            if keep is not None:
                keep(out)
            return out

        setattr(mod, name, g)
        return f

    def keep_stages(res):
        for k, v in res.seconds.items():
            cpu[f"simulate_cohort.{k}"] += v

    saved = [
        (trial_run, "_enrolment", timed(trial_run, "_enrolment", "enrolment")),
        (trial_run, "_arm_exposure", timed(trial_run, "_arm_exposure", "toxicity_and_etas")),
        (arms, "simulate_cohort", timed(arms, "simulate_cohort", "simulate_cohort", keep_stages)),
        (cohort, "time", cohort.time),
    ]
    # the cohort's stage clocks read CPU time (all threads) instead of wall time
    cohort.time = types.SimpleNamespace(perf_counter=time.process_time)
    try:
        before = load()
        t0, c0 = time.perf_counter(), time.process_time()
        trial_run.run_trial(["VRd", "Rd"], "ndmm", patients=patients, seed=1, cycles=12)
        wall, total = time.perf_counter() - t0, time.process_time() - c0
    finally:
        for mod, name, f in saved:
            setattr(mod, name, f)
    inner = sum(v for k, v in cpu.items() if k.startswith("simulate_cohort."))
    cpu["simulate_cohort.other"] = cpu["simulate_cohort"] - inner
    named = cpu["enrolment"] + cpu["toxicity_and_etas"] + cpu["simulate_cohort"]
    cpu["rest (patients, survival, results)"] = total - named
    return {
        "patients": patients,
        "courses": 2 * patients,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(total, 2),
        "load_before": before,
        "load_after": load(),
        "cpu_by_stage": {k: round(v, 3) for k, v in cpu.items()},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json-out", default=str(OUT))
    ap.add_argument("--stages", type=int, default=0, help="print the CPU per stage of N patients")
    ap.add_argument(
        "--no-reuse", action="store_true", help="cycle periodicity off (in this process)"
    )
    args = ap.parse_args(argv)
    if args.no_reuse:
        from mmmech.dynamics import cohort  # deferred: only for this A/B switch

        cohort._cycle_segments = lambda *a, **k: []  # one network call, as before round 10
    if args.stages:
        print(json.dumps(stages(args.stages), indent=1))
        return
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
