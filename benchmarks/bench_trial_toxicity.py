"""Benchmark of the per-arm toxicity of a virtual trial (issue 19): the toxicity courses of the
first N ndmm patients (seed 1) on Rd, VRd and Vd, 12 cycles asked (fixed regimens stop at their
own length), without the efficacy simulation.

Prints per arm the seconds, the cycles, the rates of ``mmmech.trials.tox.arm_toxicity`` and the
1-minute load average before and after. Nothing here is a test: no timing is asserted.

Run: ``python benchmarks/bench_trial_toxicity.py [--patients N] [--backend auto|python]``
(``python``: the NumPy counts, the reference of the compiled kernel; the same rates).
"""

import argparse
import json
import os
import time

from mmmech import trials
from mmmech.trials import tox

RATES = ("grade3_neutropenia", "grade2_neuropathy", "grade3_neuropathy", "dose_reduced")
RATES += ("held", "discontinued")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=50)
    ap.add_argument("--backend", default="auto", choices=("auto", "python", "cython"))
    args = ap.parse_args()
    print("load", os.getloadavg()[0])
    pts, _ = trials.enrol("ndmm", args.patients, seed=1)
    for arm in ("Rd", "VRd", "Vd"):
        cyc = trials.arm_cycles(arm, 12)
        t = time.perf_counter()
        recs = [tox.patient_toxicity(arm, p, cyc, "ndmm", 1, backend=args.backend) for p in pts]
        dt = time.perf_counter() - t
        a = tox.arm_toxicity(arm, recs)
        print(arm, cyc, f"{dt:.1f} s", json.dumps({k: a[k] for k in RATES}))
    print("load", os.getloadavg()[0])


if __name__ == "__main__":
    main()
