"""Measured record (issue 16, round 8): explicit and integrating-factor Runge-Kutta pairs against
RODAS4 on the network course, in NumPy (derivative evaluations per 4-h interval at matched
accuracy; no timing).

The inputs are the ones ``simulate_cohort`` passes to ``network_course`` for N virtual patients
(``bench_regimen.bodies(N, seed=1)``) x 12 cycles of VRd. Each candidate integrates the same
reduced model (frozen nodes held, as ``network_course`` does) with the same error norm and step
rules as the kernel (``_rosenbrock_ref``), and is scored by the largest difference of the
tumour's readouts (Proliferation; Apoptosis + ImmuneKilling) from an RODAS4 run at rtol 1e-8 /
atol 1e-11. Candidates (``--spec tableau:form:rtol:jump_q``, jump_q 0 = no first-step
prediction):

- tableaux: ``tsit5`` (Tsitouras 2011, DOI:10.1016/j.camwa.2011.06.002; coefficients and error
  weights as reproduced in public implementations of the pair, not checked against the paper
  itself), ``dp5`` (Dormand & Prince 1980,
  DOI:10.1016/0771-050X(80)90013-3; as in SciPy's ``RK45``), ``bs3`` (Bogacki & Shampine 1989,
  DOI:10.1016/0893-9659(89)90079-7; as in SciPy's ``RK23``);
- forms: ``plain`` (the pair on dy/dt = N(y) - L y), ``lawson`` (Lawson's integrating factor
  exp(L t): the relaxation -L y exact), ``shift`` (Lawson about the step's start:
  dy/dt = -L (y - g) + (N(y) - N(y_n)), g = N(y_n) / L; exact for constant N; what the kernel
  implements as ``method="expdp5"`` with ``dp5``).

Run: ``python benchmarks/proto_course_methods.py [--patients 16] [--spec dp5:shift:6e-5:4 ...]``
(several minutes per candidate on one core: the derivative is a NumPy program). Results of
2026-12-01 in ``benchmarks/README.md`` (round 8).
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib

import numpy as np

from mmmech._kernels import _rosenbrock_ref as RR
from mmmech._kernels._bytecode import OP_AND, OP_CONST, OP_LIT, OP_NOT, OP_OR
from mmmech.dynamics import _course as C
from mmmech.simulation import propagate

HERE = pathlib.Path(__file__).resolve().parent

# (c, A rows (the last one = b: FSAL), error weights (order p minus order p-1), p)
TABLEAUX = {
    "tsit5": (
        [0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0],
        [
            [],
            [0.161],
            [-0.008480655492356989, 0.335480655492357],
            [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
            [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
            [
                5.86145544294642,
                -12.92096931784711,
                8.159367898576159,
                -0.071584973281401,
                -0.028269050394068383,
            ],
            [
                0.09646076681806523,
                0.01,
                0.4798896504144996,
                1.379008574103742,
                -3.290069515436081,
                2.324710524099774,
            ],
        ],
        [
            -0.00178001105222577714,
            -0.0008164344596567469,
            0.007880878010261995,
            -0.1447110071732629,
            0.5823571654525552,
            -0.45808210592918697,
            1 / 66,
        ],
        5.0,
    ),
    "dp5": (RR.EXP_C, RR.EXP_A, RR.EXP_E, RR.EXP_ELO),
    "bs3": (
        [0.0, 1 / 2, 3 / 4, 1.0],
        [[], [1 / 2], [0.0, 3 / 4], [2 / 9, 1 / 3, 4 / 9]],
        [5 / 72, -1 / 12, -1 / 9, 1 / 8],
        3.0,
    ),
}


class Model:
    """The reduced model's N(y) = free ymax F(y) / tau, the rule ops level by level."""

    def __init__(self, cm, reg):
        st = RR.structure(cm)
        m = RR._Model(cm, reg, st)
        self.lam = np.where(m.free, 1.0 / m.tau, 0.0)
        self.gain = np.where(m.free, m.ymax / m.tau, 0.0)
        ops, a1, a2 = m.ops, st["arg1"], st["arg2"]
        lvl = np.zeros(ops.size, dtype=int)
        for a in range(ops.size):
            if ops[a] == OP_NOT:
                lvl[a] = lvl[a1[a]] + 1
            elif ops[a] in (OP_AND, OP_OR):
                lvl[a] = max(lvl[a1[a]], lvl[a2[a]]) + 1
        self.lit = np.nonzero(ops == OP_LIT)[0]
        e = m.args[self.lit]
        self.const = np.nonzero(ops == OP_CONST)[0]
        self.cval = m.args[self.const].astype(float)
        self.levels = [
            (o, idx, a1[idx], a2[idx])
            for L in range(1, int(lvl.max(initial=0)) + 1)
            for o in (OP_NOT, OP_AND, OP_OR)
            if (idx := np.nonzero((lvl == L) & (ops == o))[0]).size
        ]
        rt = st["root"]
        self.has = np.nonzero(rt >= 0)[0]
        self.rt = rt[self.has]
        self.n_ops = ops.size
        self.w, self.n, self.B = m.w[:, e], m.n[:, e], m.B[:, e]
        self.Kn, self.lin, self.src = m.Kn[:, e], m.lin[:, e], m.src[e]

    def N(self, y):
        v = np.empty((y.shape[0], self.n_ops))
        x = np.clip(y[:, self.src], 0.0, 1.0)
        with np.errstate(all="ignore"):
            xn = x**self.n
            v[:, self.lit] = self.w * np.where(self.lin, x, self.B * xn / (self.Kn + xn))
        v[:, self.const] = self.cval
        for o, idx, i1, i2 in self.levels:
            if o == OP_NOT:
                v[:, idx] = 1.0 - v[:, i1]
            elif o == OP_AND:
                v[:, idx] = v[:, i1] * v[:, i2]
            else:
                v[:, idx] = 1.0 - (1.0 - v[:, i1]) * (1.0 - v[:, i2])
        F = np.zeros_like(y)
        F[:, self.has] = v[:, self.rt]
        return self.gain * F


def course_rk(fm, y0, cols, vals, dt, outn, tab, form, rtol, atol, jump_q, norm_n, stretch=1.1):
    """The adaptive course of one candidate; returns (out, attempts (R,), evaluations (R,))."""
    cc, AA, EE, elo = TABLEAUX[tab]
    S = len(cc)
    y = y0.copy()
    R, n = y.shape
    NN = max(norm_n, n)
    K = vals.shape[1]
    out = np.empty((R, K + 1, outn.size))
    out[:, 0] = y[:, outn]
    lam = fm.lam
    h = np.full(R, 0.05)
    ev = np.zeros(R, dtype=np.int64)
    att = np.zeros(R, dtype=np.int64)
    hj = np.zeros(R)
    nfj = np.zeros(R)
    for k in range(K):
        y[:, cols] = vals[:, k]
        t = np.zeros(R)
        rejected = np.zeros(R, bool)
        first = np.ones(R, bool)
        N0 = fm.N(y)
        ev += 1
        nf = np.sqrt(np.sum(((N0 - lam * y) / (atol + rtol * np.abs(y))) ** 2, axis=1) / NN)
        if jump_q > 0:
            use = (hj > 0) & (nfj > 0) & (nf > 0)
            hp = np.where(use, hj * (nfj / np.where(use, nf, 1.0)) ** (1.0 / jump_q), h)
            h = np.where(use & (hp < h), hp, h)
        while True:
            active = t < dt * (1 - 1e-12)
            if not active.any():
                break
            rem = dt - t
            hh = np.where(active, np.where(rem <= stretch * h, rem, h), 1.0)[:, None]
            if form == "plain":
                Ks = [N0 - lam * y]
                for s in range(1, S):
                    X = y + hh * sum(a * Ks[j] for j, a in enumerate(AA[s]) if a != 0.0)
                    Ks.append(fm.N(X) - lam * X)
                Nn = Ks[-1] + lam * X
                err = hh * sum(e * Ks[j] for j, e in enumerate(EE) if e != 0.0)
            else:
                sh = form == "shift"
                g = np.where(lam > 0, N0 / np.where(lam > 0, lam, 1.0), 0.0) if sh else 0.0
                z = y - g
                Ns = [N0 - N0 if sh else N0]
                for s in range(1, S):
                    acc = np.exp(-lam * cc[s] * hh) * z
                    for j, a in enumerate(AA[s]):
                        if a != 0.0:
                            acc = acc + hh * a * np.exp(-lam * (cc[s] - cc[j]) * hh) * Ns[j]
                    X = g + acc
                    Nn = fm.N(X)
                    Ns.append(Nn - N0 if sh else Nn)
                err = hh * sum(
                    e * np.exp(-lam * (1.0 - cc[j]) * hh) * Ns[j] for j, e in enumerate(EE) if e
                )
            ev += active * (S - 1)
            scale = atol + rtol * np.maximum(np.abs(y), np.abs(X))
            with np.errstate(all="ignore"):
                en = np.sqrt(np.sum((err / scale) ** 2, axis=1) / NN)
                fac = np.clip(0.9 * np.maximum(en, 1e-10) ** (-1.0 / elo), 0.2, 5.0)
                q = jump_q if jump_q else elo
                facj = np.clip(0.9 * np.maximum(en, 1e-10) ** (-1.0 / q), 0.2, 5.0)
            good = np.isfinite(en)
            ok = active & good & (en <= 1.0)
            if jump_q:
                fac = np.where(first & ~ok, facj, fac)
                hj = np.where(ok & first, hh[:, 0] * facj, hj)
                nfj = np.where(ok & first, nf, nfj)
                first = first & ~ok
            fac = np.where(good, fac, 0.2)
            fac = np.where(ok & rejected, np.minimum(fac, 1.0), fac)
            yc = np.clip(X, 0.0, 1.0)
            y = np.where(ok[:, None], yc, y)
            N0 = np.where(ok[:, None], Nn, N0)
            redo = ok & np.any(yc != X, axis=1)
            if redo.any():
                N0 = np.where(redo[:, None], fm.N(y), N0)
                ev += redo
            h1 = hh[:, 0]
            capped = ok & (h1 < h)
            h = np.where(active & ~capped, np.maximum(h1 * fac, 1e-10), h)
            h = np.where(capped, np.maximum(h, h1 * fac), h)
            t = np.where(ok, np.where(dt - (t + h1) <= 1e-12 * dt, dt, t + h1), t)
            rejected = np.where(active, ~ok, rejected)
            att += active
        out[:, k + 1] = y[:, outn]
    return out, att, ev


def capture(n):
    """The arguments simulate_cohort passes to network_course (n patients x 12 cycles VRd)."""
    spec = importlib.util.spec_from_file_location("bench_regimen", HERE / "bench_regimen.py")
    br = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(br)
    import mmmech.dynamics.cohort as co

    got = []
    orig = co.network_course

    def spy(*a, **k):
        got.append(a)
        return orig(*a, **k)

    co.network_course = spy
    try:
        co.simulate_cohort("vrd", br.bodies(n, seed=1), cycles=12, num_threads=1)
    finally:
        co.network_course = orig
    return got[0]


def readouts(out):
    return np.concatenate([out[:, :, :1], out[:, :, 1:].sum(axis=2, keepdims=True)], axis=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=16)
    ap.add_argument("--spec", nargs="*", default=["dp5:shift:6e-5:4", "tsit5:plain:1e-4:0"])
    args = ap.parse_args()
    cm, mask, value, y0, cols, vals, dt, outn = capture(args.patients)
    R, K = vals.shape[:2]
    ref = C.network_course(cm, mask, value, y0, cols, vals, dt, outn, rtol=1e-8, atol=1e-11)
    r4 = C.network_course(cm, mask, value, y0, cols, vals, dt, outn, method="rodas4")
    e4 = np.abs(readouts(r4[0]) - readouts(ref[0])).max()
    a4 = r4[3].sum() / R / K
    print(f"rodas4 rtol 3e-4: {a4:.3f} attempts, {6 * a4:.2f} derivatives per interval, {e4:.3g}")
    reg = propagate._prepare(cm, mask, value, y0, None, None, None, "proto")
    fz = C._frozen(cm, reg, np.asarray(cols), C.COURSE_ATOL)
    keep = np.zeros(cm.n_nodes, bool)
    keep[cols] = True
    keep[outn] = True
    cm2, reg2, kept = C._reduced(cm, reg, fz[0], keep)
    where = np.full(cm.n_nodes, -1)
    where[kept] = np.arange(kept.size)
    ys = np.where(reg2.fixed_mask.astype(bool), reg2.fixed_value, reg2.y0).astype(float)
    fm = Model(cm2, reg2)
    for s in args.spec:
        tab, form, rtol, jq = s.split(":")
        out, att, ev = course_rk(
            fm, ys, where[cols], vals, dt, where[outn], tab, form, float(rtol),
            float(rtol) * 1e-3, float(jq), cm.n_nodes,
        )  # fmt: skip
        err = np.abs(readouts(out) - readouts(ref[0])).max()
        print(
            f"{tab} {form} rtol {rtol} jump_q {jq}: {att.sum() / R / K:.3f} attempts, "
            f"{ev.sum() / R / K:.2f} derivatives per interval, {err:.3g}"
        )


if __name__ == "__main__":
    main()
