"""Benchmark: all four synergy scores of a plate against the `synergy` package's ZIP alone.

Anchor: ``synergy.combination.ZIP().fit(d1, d2, E)`` (the `synergy` Python package, GPL,
installed for tests only) on the same plate. Ours: ``mmmech.synergy.score_surface`` with
Bliss, HSA, Loewe and ZIP, with the default SynergyFinder-compatible fits (``fit=
"synergyfinder"``; compiled kernel and its pure-Python reference) and with ``fit="robust"``
(compiled kernel and its NumPy reference). Targets: the default path at least 20x faster on a
6x6 plate; SynergyFinder's three-drug NCATS example (two blocks) scored in
under 1 s; the ONEIL example with replicates (SynergyFinder's 10-plate bootstrap) timed too.

Plates: the two 6x6 blocks of SynergyFinder's mathews example (../shared/data/synergy, when
present) and synthetic Bliss-plus-noise plates of 4x4 to 10x10 doses.

Run: ``python benchmarks/bench_synergy.py [--budget SECONDS]``; prints a table of median
times and ratios and writes benchmarks/results/bench_synergy.json.
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile
import time
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("MMMECH_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "benchmarks" / "results" / "bench_synergy.json"


def median_time(func, budget, min_runs=5):
    """Median wall time of func() over repeated calls within `budget` seconds."""
    func()  # warm-up (imports, caches)
    times = []
    t_end = time.perf_counter() + budget
    while len(times) < min_runs or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
        if len(times) >= 2000:
            break
    return float(np.median(times)), len(times)


def synthetic(n, seed=0):
    rng = np.random.default_rng(seed)
    d1 = np.concatenate([[0.0], np.geomspace(0.3, 100, n - 1)])
    d2 = np.concatenate([[0.0], np.geomspace(0.03, 10, n - 1)])
    y1 = 90 * d1**1.2 / (d1**1.2 + 10**1.2)
    y2 = 80 * d2**1.5 / (d2**1.5 + 1.0)
    R = 100 * (1 - (1 - y1[:, None] / 100) * (1 - y2[None, :] / 100))
    return d1, d2, R + rng.normal(0, 3, R.shape)


def plates():
    out = []
    path = SHARED / "synergy" / "mathews_screening_data.csv"
    if path.exists():
        import pandas as pd

        df = pd.read_csv(path)
        for b, g in df.groupby("block_id"):
            p = g.pivot_table(index="conc_r", columns="conc_c", values="response")
            out.append(
                (
                    f"mathews block {b} 6x6",
                    p.index.to_numpy(float),
                    p.columns.to_numpy(float),
                    100 - p.to_numpy(float),
                )
            )
    for n in (4, 6, 8, 10):
        d1, d2, R = synthetic(n)
        out.append((f"synthetic {n}x{n}", d1, d2, R))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--budget", type=float, default=1.0, help="seconds of repeated runs per timing (default 1)"
    )
    args = ap.parse_args(argv)

    import mmmech.synergy._core as core
    import mmmech.synergy._fit as fit
    from mmmech import _kernels
    from mmmech.synergy import score_surface

    try:
        from synergy.combination import ZIP
    except ImportError:
        sys.exit("bench_synergy: the `synergy` package (the anchor) is not installed")

    has_kernel = _kernels.available("_synergy_lm")
    real_fit_batch = fit.fit_batch
    real_sf_batch = core.sf_fit_batch

    def use_backend(name):
        core.fit_batch = lambda *a, **k: real_fit_batch(*a, **{**k, "backend": name})
        core.sf_fit_batch = lambda *a, **k: real_sf_batch(*a, **{**k, "backend": name})

    rows = []
    for name, d1, d2, R in plates():
        x1, x2 = np.meshgrid(d1, d2, indexing="ij")
        E = 1 - R.ravel() / 100  # the package works on fractional viability

        def anchor(x1=x1, x2=x2, E=E):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ZIP().fit(x1.ravel(), x2.ravel(), E)

        t_anchor, n_anchor = median_time(anchor, args.budget)
        row = {
            "plate": name,
            "shape": list(R.shape),
            "synergy_zip_s": t_anchor,
            "synergy_zip_runs": n_anchor,
        }
        for backend in ("cython", "python") if has_kernel else ("python",):
            use_backend(backend)
            t, n = median_time(lambda d1=d1, d2=d2, R=R: score_surface([d1, d2], R), args.budget)
            row[f"mmmech_all4_{backend}_s"] = t
            row[f"mmmech_all4_{backend}_runs"] = n
            row[f"ratio_{backend}"] = t_anchor / t
            t, n = median_time(
                lambda d1=d1, d2=d2, R=R: score_surface([d1, d2], R, fit="robust"), args.budget
            )
            row[f"mmmech_all4_robust_{backend}_s"] = t
            row[f"ratio_robust_{backend}"] = t_anchor / t
        core.fit_batch = real_fit_batch
        core.sf_fit_batch = real_sf_batch
        rows.append(row)

    print(
        "default fit='synergyfinder' (kernel / pure-Python reference); fit='robust' "
        "(kernel / NumPy reference)"
    )
    print(
        f"{'plate':<22} {'synergy ZIP':>12} {'sf cython':>11} {'ratio':>7} {'sf python':>11} "
        f"{'ratio':>7} {'robust cy':>11} {'ratio':>7} {'robust np':>11} {'ratio':>7}"
    )
    for r in rows:
        line = f"{r['plate']:<22} {r['synergy_zip_s'] * 1e3:10.2f}ms "
        for key in ("", "robust_"):
            for be in ("cython", "python"):
                t = r.get(f"mmmech_all4_{key}{be}_s")
                line += (
                    f"{t * 1e3:9.2f}ms {r[f'ratio_{key}{be}']:6.1f}x "
                    if t
                    else f"{'-':>11} {'-':>7} "
                )
        print(line)
    key = "ratio_cython" if has_kernel else "ratio_python"
    six = [r[key] for r in rows if r["shape"] == [6, 6]]
    verdict = min(six) >= 20
    print(
        f"\n6x6 plates, all four metrics vs the package's ZIP alone: worst ratio "
        f"{min(six):.1f}x (target >= 20x: {'met' if verdict else 'NOT met'})"
    )

    extra = {}
    import pandas as pd

    from mmmech.synergy import score_blocks

    for name, fname, kind in (
        ("NCATS 3 drugs", "NCATS_screening_data.csv", "viability"),
        ("ONEIL replicates", "ONEIL_screening_data.csv", "inhibition"),
    ):
        path = SHARED / "synergy" / fname
        if path.exists():
            df = pd.read_csv(path)
            t, n = median_time(
                lambda df=df, kind=kind: score_blocks(df, response=kind, n_boot=0),
                args.budget,
                min_runs=3,
            )
            extra[name] = t
            print(
                f"{name}: all four metrics of every block (default path) {t:.3f} s"
                + (
                    "  (target < 1 s: " + ("met" if t < 1 else "NOT met") + ")"
                    if name.startswith("NCATS")
                    else ""
                )
            )
    doc = {
        "benchmark": "synergy: mmmech all four metrics vs synergy.ZIP alone",
        "target_ratio_6x6": 20.0,
        "worst_ratio_6x6": min(six),
        "target_met": verdict,
        "plates_s": extra,
        "kernel_built": has_kernel,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "budget_s": args.budget,
        "rows": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, prefix=".bench_synergy.", suffix=".partial")
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
    os.replace(tmp, OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
