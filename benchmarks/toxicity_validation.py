"""Predicted versus reported toxicity per trial arm (issue 19's validation table).

Runs :func:`mmmech.trials.toxicity_validation.validate_toxicity` over every arm of
``trials/toxicity_trials.toml`` (the first N patients of each trial's virtual population, seed
S) and prints the markdown table that docs/toxicity.md carries; ``--json FILE`` also writes the
rows (atomically). Nothing is fitted: reported rates are compared, not used.

Run: ``python benchmarks/toxicity_validation.py [--patients 60] [--seed 0] [--json FILE]``.
"""

import argparse
import json
import os
import time

from mmmech.trials.toxicity_validation import table_markdown, validate_toxicity
from mmmech.utils import atomic_write


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trial", action="append", help="only this trial id (repeatable)")
    ap.add_argument("--json", help="write the rows to this JSON file")
    args = ap.parse_args()
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    rows = validate_toxicity(args.patients, args.seed, args.trial)
    print(table_markdown(rows))
    print(
        f"\n{args.patients} patients per arm, seed {args.seed}: "
        f"{time.perf_counter() - t0:.0f} s wall, load {load0:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    if args.json:
        atomic_write(args.json, json.dumps(rows, indent=1).encode("utf-8"))


if __name__ == "__main__":
    main()
