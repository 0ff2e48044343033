"""Benchmark: `mmmech screen` throughput in-process vs a 2-worker local Dask cluster.

Anchor: the loop a user would otherwise write, ``mmmech.score(combo, context=...,
ensemble=M, seed=S)`` for every combination, run side by side in the same process on the same
combinations. Ours: ``mmmech.screen`` in-process (the kernel parallel over regimens with OpenMP)
and on a ``LocalCluster`` of 2 worker processes with one thread each (kernel serial in each).

For each problem size (drugs, K, ensemble M) it prints combinations per second, the ratio to
the anchor, and where the time goes: per-task stages summed over all tasks (``setup``:
Simulator + ensemble parameters; ``ranging``: the dose-ranging kernel call of the default grid;
``kernel``: the grid x ensemble kernel call; ``scoring``: Bliss/HSA/Loewe/ZIP of the curated
surface and of the ensemble) and ``scheduling``: wall time not spent in tasks (journal,
progress, chunk dispatch and result transfer; for Dask ``wall - sum(task time) / workers``).
Cluster start-up is timed separately.

``--full`` then runs the screen the issue asks for: every pair and triplet of 12 library drugs
with a 16-member ensemble in both contexts (``--contexts cell_line`` to halve it), writing the
table and a JSON summary to /tmp (not into the repository). Run it in the background::

    nohup python benchmarks/bench_screen.py --full --workers 0 > /tmp/screen12.log 2>&1 &

Run: ``python benchmarks/bench_screen.py [--quick] [--json-out FILE]``.
"""

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import time

import mmmech
from mmmech.screening import screen

#: 12 library drugs across the classes (proteasome inhibitors, IMiDs/CELMoDs, glucocorticoid,
#: anti-CD38 antibodies, alkylator, HDAC and XPO1 inhibitors, BCL-2 inhibitor)
DRUGS12 = [
    "bortezomib",
    "carfilzomib",
    "lenalidomide",
    "pomalidomide",
    "iberdomide",
    "dexamethasone",
    "daratumumab",
    "isatuximab",
    "melphalan",
    "panobinostat",
    "selinexor",
    "venetoclax",
]
SIZES = [  # (number of drugs, K, ensemble M)
    (6, 2, 4),
    (6, 2, 16),
    (6, 3, 4),
]
QUICK = [(4, 2, 4)]


def _stages(t):
    return {k: round(float(t.get(k, 0.0)), 3) for k in ("setup", "ranging", "kernel", "scoring")}


def anchor(drugs, K, M, seed, context):
    """The naive loop: one mmmech.score() per combination."""
    t0 = time.perf_counter()
    n = 0
    for combo in itertools.combinations(drugs, K):
        mmmech.score(list(combo), context=context, ensemble=M, seed=seed)
        n += 1
    return time.perf_counter() - t0, n


def run_case(n_drugs, K, M, seed=0, context="cell_line", client=None):
    drugs = DRUGS12[:n_drugs]
    out = {"drugs": n_drugs, "K": K, "ensemble": M}
    t_anchor, n = anchor(drugs, K, M, seed, context)
    out["combinations"] = n
    out["anchor"] = {"wall_s": round(t_anchor, 3), "per_s": round(n / t_anchor, 3)}
    for name, kw in (("in_process", {}), ("dask_2_workers", {"client": client})):
        if name.startswith("dask") and client is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            df = screen(
                drugs,
                size=K,
                contexts=[context],
                ensemble=M,
                seed=seed,
                out=os.path.join(tmp, "s.parquet"),
                progress=False,
                **kw,
            )
            wall = time.perf_counter() - t0
        t = df.attrs["timings"]
        busy = sum(t[k] for k in ("setup", "ranging", "kernel", "scoring"))
        par = 2 if name.startswith("dask") else 1
        out[name] = {
            "wall_s": round(wall, 3),
            "per_s": round(n / wall, 3),
            "vs_anchor": round(t_anchor / wall, 2),
            "stages_s": _stages(t),
            "scheduling_s": round(max(wall - busy / par, 0.0), 3),
        }
        out[name + "_frame"] = df
    a, b = out.get("in_process_frame"), out.get("dask_2_workers_frame")
    if a is not None and b is not None:
        out["identical"] = bool(a.equals(b))
    out.pop("in_process_frame", None)
    out.pop("dask_2_workers_frame", None)
    return out


def print_case(r):
    print(
        f"\n{r['drugs']} drugs, K={r['K']}, ensemble {r['ensemble']}: "
        f"{r['combinations']} combinations (cell_line)"
    )
    print(
        f"  {'runner':<16}{'wall s':>8}{'comb/s':>8}{'x anchor':>9}   "
        f"{'setup':>6}{'ranging':>8}{'kernel':>8}{'scoring':>8}{'sched':>7}"
    )
    a = r["anchor"]
    print(f"  {'anchor (score)':<16}{a['wall_s']:>8.2f}{a['per_s']:>8.2f}{1.0:>9.2f}")
    for name in ("in_process", "dask_2_workers"):
        if name not in r:
            continue
        x = r[name]
        s = x["stages_s"]
        print(
            f"  {name:<16}{x['wall_s']:>8.2f}{x['per_s']:>8.2f}{x['vs_anchor']:>9.2f}   "
            f"{s['setup']:>6.2f}{s['ranging']:>8.2f}{s['kernel']:>8.2f}{s['scoring']:>8.2f}"
            f"{x['scheduling_s']:>7.2f}"
        )
    if "identical" in r:
        print(f"  in-process and Dask tables identical: {r['identical']}")


def full(args):
    contexts = args.contexts.split(",")
    out = "/tmp/screen12.parquet"
    print(
        f"full screen: {len(DRUGS12)} drugs, pairs and triplets, ensemble 16, contexts "
        f"{contexts}, workers {args.workers} -> {out}",
        flush=True,
    )
    t0 = time.perf_counter()
    df = screen(
        DRUGS12,
        size=(2, 3),
        contexts=contexts,
        ensemble=16,
        seed=0,
        out=out,
        workers=args.workers,
        progress=True,
    )
    wall = time.perf_counter() - t0
    t = df.attrs["timings"]
    summary = {
        "drugs": DRUGS12,
        "sizes": [2, 3],
        "contexts": contexts,
        "ensemble": 16,
        "workers": args.workers,
        "rows": int(len(df)),
        "wall_s": round(wall, 1),
        "resumed": df.attrs["resumed"],
        "computed": df.attrs["computed"],
        "stages_s": _stages(t),
        "rows_per_s": round(df.attrs["computed"] / wall, 3),
        "converged_all": bool(df["converged"].all()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "top": df.groupby("context")
        .head(5)[
            ["context", "rank", "combination", "bliss", "bliss_mean", "bliss_low", "bliss_high"]
        ]
        .to_dict(orient="records"),
    }
    with open("/tmp/screen12.json", "w") as fh:
        json.dump(summary, fh, indent=2)
    print(json.dumps({k: v for k, v in summary.items() if k != "top"}, indent=2))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one small case only")
    ap.add_argument(
        "--full",
        action="store_true",
        help="the 12-drug pairs+triplets screen with a 16-member ensemble",
    )
    ap.add_argument("--contexts", default="cell_line,marrow")
    ap.add_argument("--workers", type=int, default=0, help="for --full (0: in-process)")
    ap.add_argument("--json-out", default="/tmp/bench_screen.json")
    args = ap.parse_args(argv)
    if args.full:
        return full(args)
    import logging

    from dask.distributed import Client, LocalCluster

    print(f"mmmech {mmmech.__version__}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    startup = time.perf_counter() - t0
    # warm both runners (imports, drug library, model, kernels) so the cases measure throughput
    t0 = time.perf_counter()
    screen(DRUGS12[:2], size=2, ensemble=2, client=client, chunk_size=1)
    screen(DRUGS12[2:4], size=2, ensemble=2, client=client, chunk_size=1)
    warm = time.perf_counter() - t0
    screen(DRUGS12[:2], size=2, ensemble=2)
    print(
        f"LocalCluster(2 processes, 1 thread each) start-up: {startup:.2f} s; first tasks "
        f"on fresh workers (imports, drug library, model): {warm:.2f} s"
    )
    results = {
        "cluster_startup_s": round(startup, 3),
        "worker_warmup_s": round(warm, 3),
        "cpus": os.cpu_count(),
        "cases": [],
    }
    try:
        for n_drugs, K, M in QUICK if args.quick else SIZES:
            r = run_case(n_drugs, K, M, client=client)
            print_case(r)
            results["cases"].append(r)
    finally:
        client.close()
        cluster.close()
    with open(args.json_out, "w") as fh:
        json.dump(results, fh, indent=2)
    print(f"\nwrote {args.json_out}")


if __name__ == "__main__":
    sys.exit(main())
