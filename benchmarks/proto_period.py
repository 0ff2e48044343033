"""Cycle periodicity of the network course: measurement (docs/dynamics.md, Speed, round 10).

For each regimen, the arguments ``simulate_cohort`` passes to the network stage are captured
(``bench_regimen.bodies(N, seed=1)``, 12 cycles), then the course is run

- in one ``network_course`` call (the course without reuse),
- cycle by cycle without reuse (``periodic_course(reuse_tol=0)``), recording per cycle the
  largest |input(k) - input(k-1)| and |y_start(k) - y_start(k-1)|,
- with reuse at several tolerances: cycles reused, network CPU (``time.process_time``) and the
  largest readout difference from the one-call course.

    python benchmarks/proto_period.py --patients 64 --regimens vrd rd dara_rd krd
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_regimen import bodies  # noqa: E402

from mmmech.dynamics import _course, cohort  # noqa: E402


def capture(regimen, n, cycles):
    got = {}
    real = cohort.periodic_course

    def spy(*args, **kw):
        got["args"], got["kw"] = args, kw
        return real(*args, **kw)

    cohort.periodic_course = spy
    try:
        cohort.simulate_cohort(regimen, bodies(n, seed=1), cycles=cycles, num_threads=1)
    finally:
        cohort.periodic_course = real
    return got["args"], got["kw"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=64)
    ap.add_argument("--cycles", type=int, default=12)
    ap.add_argument("--regimens", nargs="+", default=["vrd", "rd", "dara_rd", "krd"])
    ap.add_argument("--tols", nargs="+", type=float, default=[1e-6, 1e-5, 1e-4])
    a = ap.parse_args()
    for reg in a.regimens:
        args, kw = capture(reg, a.patients, a.cycles)
        kw = dict(kw, num_threads=1)
        kw.pop("reuse_tol")
        base = args[:8]
        t = time.process_time()
        ref = _course.network_course(*base, backend="auto", num_threads=1)
        t_ref = time.process_time() - t
        st = {}
        t = time.process_time()
        seg = _course.periodic_course(*args, reuse_tol=0.0, stats=st, **kw)
        t_seg = time.process_time() - t
        starts = np.asarray(args[8])
        print(f"== {reg}: {a.patients} patients, segments at intervals {starts.tolist()}")
        print(
            f"one call {t_ref:.2f} s CPU; cycle by cycle {t_seg:.2f} s; readouts of the "
            f"two differ by {np.abs(seg[0] - ref[0]).max():.2e}"
        )
        print("cycle  max|dinput|  median|dinput|  max|dy_start|  median|dy_start|")
        for j in range(1, starts.size - 1):
            di, dy = st["d_input"][:, j], st["d_state"][:, j]
            print(
                f"{j + 1:5d}  {np.nanmax(di):10.2e}  {np.nanmedian(di):10.2e}  "
                f"{np.nanmax(dy):10.2e}  {np.nanmedian(dy):10.2e}"
            )
        # contraction: cycle 4 from its start state and from that state + d (free rule nodes), the
        # readouts' largest difference after 1, 6 (one day) and all intervals of the cycle
        a4, b4 = int(starts[3]), int(starts[4])
        y4 = _course.network_course(*base[:5], base[5][:, :a4], *base[6:8], num_threads=1)[1]
        rule = np.diff(np.asarray(base[0].prog_ptr)) > 0  # rule nodes (others never move)
        mask = np.asarray(base[1]).astype(bool) | ~rule[None, :]
        for d in (1e-3, 1e-5):
            yp = np.where(mask, y4, np.clip(y4 + d, 0.0, 1.0))
            o1 = _course.network_course(
                base[0], base[1], base[2], y4, base[4], base[5][:, a4:b4], *base[6:8], num_threads=1
            )[0]
            o2 = _course.network_course(
                base[0], base[1], base[2], yp, base[4], base[5][:, a4:b4], *base[6:8], num_threads=1
            )[0]
            dd = np.abs(o1 - o2).max(axis=(0, 2))
            print(
                f"contraction: start state + {d:.0e} -> readouts differ by {dd[1]:.2e} "
                f"after 4 h, {dd[6]:.2e} after 1 day, {dd[-1]:.2e} at the cycle's end"
            )
        for tol in a.tols:
            s2 = {}
            t = time.process_time()
            res = _course.periodic_course(*args, reuse_tol=tol, stats=s2, **kw)
            tt = time.process_time() - t
            r = s2["reused"]
            print(
                f"tol {tol:.0e}: reused {int(r.sum())} of {r.size} patient-cycles "
                f"(per cycle {r.sum(axis=0).tolist()}); CPU {tt:.2f} s; readouts vs one "
                f"call {np.abs(res[0] - ref[0]).max():.2e}, vs cycle by cycle "
                f"{np.abs(res[0] - seg[0]).max():.2e}"
            )


if __name__ == "__main__":
    main()
