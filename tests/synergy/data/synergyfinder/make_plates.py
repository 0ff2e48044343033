"""Writes the small test plates of this folder (numpy only; see README.md)."""

import csv
import os

import numpy as np

rng = np.random.default_rng(20261130)
out = os.path.dirname(os.path.abspath(__file__)) + os.sep


def ll(x, e, h, top):
    return top * x**h / (x**h + e**h)


def write(name, rows, K):
    head = (
        ["block_id"]
        + [f"drug{k + 1}" for k in range(K)]
        + [f"conc{k + 1}" for k in range(K)]
        + ["response"]
        + [f"conc_unit{k + 1}" for k in range(K)]
    )
    with open(out + name, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for r in rows:
            w.writerow(r)


def grid2(block, drugs, d1, d2, f, reps=1, noise=0.0):
    rows = []
    for a in d1:
        for b in d2:
            for _ in range(reps):
                v = f(a, b) + (rng.normal(0, noise) if noise else 0.0)
                rows.append([block, drugs[0], drugs[1], a, b, round(float(v), 6), "uM", "uM"])
    return rows


d1 = [0, 0.1, 0.3, 1, 3, 10]
d2 = [0, 0.05, 0.2, 0.8, 3.2]


def bliss(a, b, pot=1.0):
    return 100 * (
        1 - (1 - ll(a * pot if b > 0 else a, 1.0, 1.2, 90) / 100) * (1 - ll(b, 0.5, 0.9, 80) / 100)
    )


# random: two blocks of uniform noise
write(
    "random.csv",
    grid2(1, ("ra", "rb"), d1, d2, lambda a, b: rng.uniform(-5, 100))
    + grid2(2, ("rc", "rd"), d2, d1, lambda a, b: rng.uniform(0, 60)),
    2,
)
# flat: every response the same (SynergyFinder's flat-series rule) and a nearly flat block
write(
    "flat.csv",
    grid2(1, ("fa", "fb"), d1, d2, lambda a, b: 10.0)
    + grid2(2, ("fc", "fd"), d1, d2, lambda a, b: 5.0 + rng.normal(0, 0.5)),
    2,
)
write(
    "potentiated.csv", grid2(1, ("pa", "pb"), d1, d2, lambda a, b: bliss(a, b, 4.0), noise=2.0), 2
)
write(
    "antagonised.csv", grid2(1, ("aa", "ab"), d1, d2, lambda a, b: bliss(a, b, 0.25), noise=2.0), 2
)
rows = []
e1 = [0, 0.2, 1, 5]
e2 = [0, 0.1, 0.5, 2.5]
e3 = [0, 0.3, 3]
for a in e1:
    for b in e2:
        for c in e3:
            v = 100 * (
                1
                - (1 - ll(a, 1, 1, 90) / 100)
                * (1 - ll(b, 0.4, 1.5, 70) / 100)
                * (1 - ll(c, 1, 0.8, 60) / 100)
            ) + rng.normal(0, 3)
            rows.append([1, "ta", "tb", "tc", a, b, c, round(float(v), 6), "uM", "uM", "uM"])
write("three_drug.csv", rows, 3)
write(
    "replicates.csv",
    grid2(1, ("xa", "xb"), d1, d2, lambda a, b: bliss(a, b, 2.0), reps=3, noise=4.0)
    + grid2(2, ("xc", "xd"), d1, d2, lambda a, b: 100 - bliss(a, b, 0.5), reps=2, noise=3.0),
    2,
)
