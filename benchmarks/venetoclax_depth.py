"""Where venetoclax's depth of response is lost (a diagnostic, not a fit; docs/calibration.md,
"Round 10 (helper venbcl2)").

1. Network: the Apoptosis readout with BCL2 fully blocked (a saturating 1000 nM, and the BCL2
   knockout) in the stroma-free ``cell_line`` context (the ex vivo assay) and in the marrow,
   with and without t(11;14) and 1q gain, and with the marrow's AKT brake on caspase-9 removed.
2. Patients: the two M13-367 venetoclax arms at the bundled fit (the cohort, draws and keyed
   sub-streams of ``mmmech calibrate --agents``): each patient's mean net tumour rate over the
   first 60 days on drug, t(11;14) vs not.
3. Size of the gap: the arms' rates with the drug effect (``ArmCourse.sensitivity``) multiplied
   by k in every patient, or only in the patients the model makes BCL2-dependent (drug-on net
   rate below -0.003 /day). A sensitivity of the tumour model, never a parameter.

    python benchmarks/venetoclax_depth.py --patients 40 --draws 12
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace

import numpy as np

from mmmech import simulate
from mmmech.calibration.agents import _expand, resampled_multipliers, resampled_resistance
from mmmech.calibration.data import load_single_agent
from mmmech.calibration.fit import (
    _B0,
    _NU,
    cohort_key,
    predict,
    simulable_arms,
    simulate_courses,
    subgroup_cohorts,
)
from mmmech.calibration.params import load_parameters
from mmmech.trials import enrol

_NODES = ("BCL2", "MCL1", "BCL2L1", "BAX", "BAK1", "CYCS", "CASP9", "Apoptosis")


def network() -> None:
    print("context | knockouts | untreated Apoptosis | 1000 nM venetoclax: " + " ".join(_NODES))
    cases = [
        (["cell_line"], []),
        (["cell_line", "t11_14"], []),
        (["marrow"], []),
        (["marrow", "t11_14"], []),
        (["marrow", "t11_14"], ["BCL2"]),
        (["marrow", "t11_14"], ["AKT1"]),
        (["marrow", "t11_14", "gain1q"], []),
    ]
    for ctx, ko in cases:
        u = simulate(context=ctx, knockouts=ko, nodes=True)
        v = simulate(regimens={"venetoclax": 1000.0}, context=ctx, knockouts=ko, nodes=True)
        vals = " ".join(f"{v['nodes'][n]:.3f}" for n in _NODES)
        print(f"{'+'.join(ctx)} | {','.join(ko) or '-'} | {u['nodes']['Apoptosis']:.4f} | {vals}")


def patients(n: int, draws: int, seed: int) -> None:
    ps = load_parameters("single_agent_fit")
    s, tb = ps.values["death_scale"], ps.values["birth_doubling_days"]
    beta = math.log(2) / tb
    arms, _ = simulable_arms(load_single_agent("single_agent"), "venetoclax_depth")
    arms = [a for a in arms if a.agents == ("venetoclax",) or list(a.agents) == ["venetoclax"]]
    cohort, _ = enrol("rrmm", n, seed)
    G, S = resampled_multipliers("rrmm", cohort, seed, draws)
    L = resampled_resistance("rrmm", cohort, seed, draws)
    subs = subgroup_cohorts(arms, "rrmm", n, seed)
    print(f"untreated net rate at the fit {beta - s * (beta - _NU):.4f} /day")
    for arm in arms:
        (c0,) = simulate_courses(
            [arm],
            cohort,
            subgroups=subs,
            follow_up_days=180.0,
            step_hours=12.0,
            pk_population="rrmm",
            pk_seed=seed,
        )
        rate = c0.a * (beta / _B0) - s * c0.b * ((beta - _NU) / (_B0 - _NU))
        net = rate[:, : max(1, int(60 / c0.dt_days))].mean(axis=1)
        key = cohort_key(arm)
        pl = subs[key] if key else cohort
        t11 = np.array(["t11_14" in p.contexts for p in pl])
        g1 = np.array(["gain1q" in p.contexts for p in pl])
        dep = net < -0.003
        print(f"== {arm.id}: {len(pl)} patients, t(11;14) {t11.sum()} (1q gain {(t11 & g1).sum()})")
        for lab, m in (("t(11;14), no 1q gain", t11 & ~g1), ("t(11;14) + 1q gain", t11 & g1)):
            if m.any():
                lo, hi = net[m].min(), net[m].max()
                print(f"  {lab}: net /day mean {net[m].mean():.4f} [{lo:.4f}, {hi:.4f}]")
        if (~t11).any():
            print(f"  no t(11;14): net /day mean {net[~t11].mean():.4f}")
        c = _expand(c0, G, S, L)
        assert c.sensitivity is not None
        depx = np.repeat(dep, draws)
        for k in (1.0, 1.5, 2.0, 3.0, 4.0):
            every = predict(replace(c, sensitivity=c.sensitivity * k), s, tb)
            split = predict(
                replace(c, sensitivity=np.where(depx, c.sensitivity * k, c.sensitivity)), s, tb
            )
            f = lambda p: f"ORR {p['orr']:.3f} >=VGPR {p['vgpr_or_better']:.3f}"  # noqa: E731
            print(f"  k {k:g}: every patient {f(every)}; BCL2-dependent only {f(split)}")
        print(f"  observed ORR {arm.value('orr')} >=VGPR {arm.value('vgpr_or_better')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10)
    ap.add_argument("--draws", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    network()
    patients(a.patients, a.draws, a.seed)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
