"""Nonlinear PK per virtual patient: SciPy LSODA (``pk.ode_concentrations``, the reference)
against the compiled batched solver (``pk.ode_batch``), 12 cycles of each nonlinear mAb at its
labelled schedule, each patient with its own PK etas.

    python benchmarks/bench_pkode.py [--patients 40] [--rounds 3] [--threads 1]

A/B in one process, alternating rounds (LSODA, kernel one call per patient, kernel one batched
call); CPU seconds per patient (``time.process_time``, all threads) and the largest difference
to LSODA (relative, where the concentration is above 1e-6 of the peak). Report the machine load
(``uptime``) beside the figures.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from mmmech import pk
from mmmech import regimens as R
from mmmech.pk.engine import Dose, ode_batch, ode_concentrations

DRUGS = {"daratumumab": "dara_rd", "isatuximab": "isa_pd", "elotuzumab": "elo_rd"}


def _problems(drug: str, n: int, seed: int):
    base = pk.model(drug)
    evs = [
        e
        for e in R.expand(R.load(DRUGS[drug]), body=R.Body(weight_kg=70.0, bsa_m2=1.8), cycles=12)
        if e.drug == drug
    ]
    doses = [Dose((e.day - 1) * 24.0, e.amount, e.route, base.infusion_h or 0.5) for e in evs]
    rng = np.random.default_rng(seed)
    models = [pk.with_etas(base, pk.sample_etas(base, rng)) for _ in range(n)]
    return models, doses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    times = np.arange(0.0, 12 * 28 * 24.0, 1.0) + 0.5  # hourly, 12 cycles of 28 days
    print(f"load: {os.getloadavg()}; {a.patients} patients x 12 cycles, {times.size} samples")
    for drug in DRUGS:
        models, doses = _problems(drug, a.patients, 1)
        disps = [m.disposition for m in models]
        abs_ = [dict(m.absorption) for m in models]
        cpu = {"lsoda": [], "kernel_each": [], "kernel_batch": []}
        ref = got = None
        for _ in range(a.rounds):
            c0 = time.process_time()
            ref = np.stack([ode_concentrations(d, doses, times) for d in disps])
            c1 = time.process_time()
            for d, ab in zip(disps, abs_, strict=True):
                ode_batch([d], [doses], times, [ab])
            c2 = time.process_time()
            got = ode_batch(disps, [doses] * len(disps), times, abs_, num_threads=a.threads)
            c3 = time.process_time()
            cpu["lsoda"].append((c1 - c0) / a.patients)
            cpu["kernel_each"].append((c2 - c1) / a.patients)
            cpu["kernel_batch"].append((c3 - c2) / a.patients)
        assert ref is not None and got is not None
        peak = ref.max(axis=1, keepdims=True)
        rel = np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-6 * peak))
        med = {k: float(np.median(v)) for k, v in cpu.items()}
        print(
            f"{drug:12s} {len(doses)} doses  CPU s/patient: LSODA {med['lsoda']:.4f}  "
            f"kernel (per patient) {med['kernel_each']:.5f}  kernel (batched) "
            f"{med['kernel_batch']:.5f}  speed-up {med['lsoda'] / med['kernel_batch']:.0f}x  "
            f"max rel diff {rel:.1e}"
        )
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
