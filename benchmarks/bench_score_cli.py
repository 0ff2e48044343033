"""End-to-end time of `mmmech score` on a triplet against the anchor `python -c "import mmmech"`.

Runs each command N times (default 7) as a fresh process, side by side, and reports medians
and ratios; writes benchmarks/results/bench_score_cli.json.

    python benchmarks/bench_score_cli.py [--repeat N]

`import mmmech` is lazy (submodules load on first use), so the anchor measures only the
interpreter start and the package's __init__; the second anchor adds NumPy, which any
computation needs. The triplet is scored with all four metrics on its default 6x6x6 grid
(one dose-ranging call and one 216-regimen kernel call).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "python -c 'import mmmech'": [sys.executable, "-c", "import mmmech"],
    "python -c 'import mmmech, numpy'": [sys.executable, "-c", "import mmmech, numpy"],
    "mmmech score bortezomib lenalidomide dexamethasone --context marrow --json": [
        sys.executable,
        "-m",
        "mmmech",
        "score",
        "bortezomib",
        "lenalidomide",
        "dexamethasone",
        "--context",
        "marrow",
        "--json",
    ],
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    cwd = tempfile.mkdtemp()  # not the source tree: import the installed package
    times = {k: [] for k in COMMANDS}
    for _ in range(args.repeat):  # interleaved, so load changes hit every command alike
        for name, cmd in COMMANDS.items():
            t = time.perf_counter()
            subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    anchor = med["python -c 'import mmmech'"]
    print(f"{'command':<78}{'median s':>10}{'ratio':>9}")
    for k, v in med.items():
        print(f"{k:<78}{v:>10.3f}{v / anchor:>8.1f}x")
    out = {"median_s": med, "runs_s": times, "repeat": args.repeat, "load": os.getloadavg()[0]}
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "bench_score_cli.json"), "w") as fh:
        json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
