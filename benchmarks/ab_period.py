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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--cycles", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--regimens", nargs="+", default=["vrd", "rd", "dara_rd"])
    ap.add_argument("--tol", default="default")
    a = ap.parse_args()
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
