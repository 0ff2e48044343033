"""A/B of cycle periodicity on ``simulate_cohort`` (docs/dynamics.md, Speed, round 10).

Old = ``reuse_tol=None`` (one network kernel call through the course), new = the default
(``COURSE_REUSE_TOL``); alternated `--repeats` times per regimen on the same patients
(``bench_regimen.bodies(N, seed=1)``). CPU seconds (``time.process_time``, all threads) of the
whole cohort and of its network stage; best responses and progression days compared, and the
largest M-protein difference (g/dL).

    python benchmarks/ab_period.py --patients 200 --regimens vrd rd dara_rd --repeats 2
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_regimen import bodies  # noqa: E402

from mmmech.dynamics import cohort  # noqa: E402


def timed_network():
    acc = {"cpu": 0.0}
    real = (cohort.network_course, cohort.periodic_course)

    def wrap(f):
        def g(*a, **k):
            t = time.process_time()
            try:
                return f(*a, **k)
            finally:
                acc["cpu"] += time.process_time() - t

        return g

    cohort.network_course, cohort.periodic_course = wrap(real[0]), wrap(real[1])
    return acc, real


def run(reg, b, cycles, threads, tol):
    acc, real = timed_network()
    try:
        t = time.process_time()
        kw = {} if tol == "default" else {"reuse_tol": tol}
        res = cohort.simulate_cohort(reg, b, cycles=cycles, num_threads=threads, **kw)
        total = time.process_time() - t
    finally:
        cohort.network_course, cohort.periodic_course = real
    return res, total, acc["cpu"]


def trial(n, repeats):
    """The bench_trial run (VRd vs Rd, ndmm, seed 1, 12 cycles) of `n` patients in-process,
    old (no reuse: ``_cycle_segments`` patched to give none) and new alternately."""
    import json

    from mmmech.trials import run_trial

    real = cohort._cycle_segments
    got = {}
    for _ in range(repeats):
        for lab in ("old", "new"):
            if lab == "old":
                cohort._cycle_segments = lambda *a, **k: []
            acc, saved = timed_network()
            load = os.getloadavg()[0]
            try:
                t = time.process_time()
                d = run_trial(["VRd", "Rd"], "ndmm", patients=n, seed=1, cycles=12).to_dict()
                total = time.process_time() - t
            finally:
                cohort._cycle_segments = real
                cohort.network_course, cohort.periodic_course = saved
            got.setdefault(lab, []).append((total, acc["cpu"], load, d))
    print(f"== trial VRd vs Rd, ndmm, {n} patients x 12 cycles (in-process)")
    for lab in ("old", "new"):
        s = "; ".join(
            f"total {x:.2f} s, network {y:.2f} s (load {z:.1f})" for x, y, z, _ in got[lab]
        )
        print(f"  {lab}: {s}")
    do, dn = got["old"][-1][3], got["new"][-1][3]
    same = json.dumps(do, sort_keys=True) == json.dumps(dn, sort_keys=True)
    print(f"  identical JSON: {same}")
    for ao, an in zip(do["arms"], dn["arms"], strict=True):
        print(
            f"  {ao['name']}: ORR {ao['orr']} / {an['orr']}, median PFS "
            f"{ao['median_pfs_months']} / {an['median_pfs_months']}"
        )
    print(f"  HR {do['hazard_ratios'][0]} / {dn['hazard_ratios'][0]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--cycles", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--regimens", nargs="+", default=["vrd", "rd", "dara_rd"])
    ap.add_argument("--tol", default="default")
    ap.add_argument("--trial", type=int, default=0, help="A/B of a trial of N patients")
    a = ap.parse_args()
    if a.trial:
        trial(a.trial, a.repeats)
        return
    tol = a.tol if a.tol == "default" else float(a.tol)
    b = bodies(a.patients, seed=1)
    for reg in a.regimens:
        rows = {"old": [], "new": []}
        res = {}
        for _ in range(a.repeats):
            for lab, t in (("old", None), ("new", tol)):
                load = os.getloadavg()[0]
                r, total, net = run(reg, b, a.cycles, a.threads, t)
                rows[lab].append((total, net, load))
                res[lab] = r
        o, n = res["old"], res["new"]
        same_best = bool(np.array_equal(o.best_response, n.best_response))
        tp_o, tp_n = o.time_to_progression_days, n.time_to_progression_days
        same_prog = bool(
            np.array_equal(np.asarray(tp_o, float), np.asarray(tp_n, float), equal_nan=True)
        )
        dm = float(np.abs(o.m_protein - n.m_protein).max())
        rel = float((np.abs(o.m_protein - n.m_protein) / o.m_protein).max())
        best = dict(zip(*np.unique(o.best_response, return_counts=True), strict=True))
        nprog = int(np.isfinite(np.asarray(tp_o, float)).sum())
        print(f"== {reg}: {a.patients} patients x {a.cycles} cycles, {a.threads} threads")
        for lab in ("old", "new"):
            s = "; ".join(
                f"total {x:.2f} s, network {y:.2f} s (load {z:.1f})" for x, y, z in rows[lab]
            )
            print(f"  {lab}: {s}")
        print(
            f"  best responses identical: {same_best} {best}; progression days identical: "
            f"{same_prog} ({nprog} progressed); M-protein max diff {dm:.2e} g/dL "
            f"({rel:.2e} relative)"
        )


if __name__ == "__main__":
    main()
