"""Per-arm calibration verdicts at given parameters, with the untreated growth of chosen arms
scaled to a sourced rate (a sensitivity, not a fit; docs/populations.md, "Untreated growth by
line of therapy").

`mmmech calibrate` has no evaluate-only mode: this runs every simulable single-agent arm once on
the network at its fitted factor (``calibration/single_agent_fit.toml`` by default), exactly as
:func:`mmmech.calibration.calibrate_agents` does (same cohort, draws, keyed sub-streams), and
scores it at the fitted shared constants: as fitted, and with the growth multiplier of the named
arms' virtual patients multiplied so that their typical untreated net rate equals each
``--growth-per-day`` value (e.g. Collins 2023's KGR 0.0174 /day). The growth multiplier acts after
the network (``mmmech.dynamics.tumour.scale_rates``), so both columns come from the same runs.

    python benchmarks/calibration_growth_sensitivity.py --patients 10 --draws 4 \
        --growth-per-day 0.0174 0.0043 --arms mm002_pomalidomide sirius_daratumumab ...
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from mmmech.calibration.agents import (
    _expand,
    agent_parameter,
    resampled_multipliers,
    resampled_resistance,
)
from mmmech.calibration.data import RATE_KEYS, load_single_agent
from mmmech.calibration.fit import (
    _NU,
    _time_key,
    _within,
    arm_deviance,
    predict,
    simulable_arms,
    simulate_courses,
    subgroup_cohorts,
)
from mmmech.calibration.params import load_parameters
from mmmech.trials import enrol


def _verdict(arm: Any, pr: dict[str, Any], horizon: float) -> dict[str, Any]:
    row: dict[str, Any] = {}
    keys = [k for k in RATE_KEYS if arm.value(k) is not None]
    tk = _time_key(arm)
    for k in keys:
        row[k] = (arm.value(k), round(pr[k], 3), _within(arm, k, pr[k], horizon))
    if tk is not None:
        pm = pr["median_ttp_months"]
        row[tk] = (
            arm.value(tk),
            None if pm is None else round(pm, 2),
            _within(arm, tk, pm, horizon),
        )
    row["deviance"] = round(float(sum(arm_deviance(arm, pr, horizon).values())), 3)
    row["within"] = all(v[2] for k, v in row.items() if isinstance(v, tuple))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parameters", default="single_agent_fit")
    ap.add_argument("--patients", type=int, default=10)
    ap.add_argument("--draws", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--population", default="rrmm")
    ap.add_argument("--follow-up-days", type=float, default=180.0)
    ap.add_argument("--step-hours", type=float, default=12.0)
    ap.add_argument("--growth-per-day", type=float, nargs="+", required=True)
    ap.add_argument("--arms", nargs="+", required=True, help="arm ids whose growth is scaled")
    ap.add_argument("--only", nargs="+", default=None, help="evaluate only these arm ids")
    ap.add_argument(
        "--profile",
        type=float,
        nargs="*",
        default=None,
        help="also run each scaled arm at these factor values and report its lowest deviance "
        "(the arm's factor refitted alone, shared constants kept), before and after",
    )
    a = ap.parse_args()

    ps = load_parameters(a.parameters)
    s, tb = ps.values["death_scale"], ps.values["birth_doubling_days"]
    beta = math.log(2) / tb
    r0 = beta - s * (beta - _NU)  # the typical untreated net rate at the fit
    ks = {g: g / r0 for g in a.growth_per_day}
    arms, _ = simulable_arms(load_single_agent("single_agent"), "sensitivity")
    unknown = (set(a.arms) | set(a.only or ())) - {x.id for x in arms}
    if unknown:
        raise SystemExit(f"--arms: unknown arm ids {sorted(unknown)}")
    if a.only:
        arms = [x for x in arms if x.id in a.only]
    cohort, _ = enrol(a.population, a.patients, a.seed)
    G, S = resampled_multipliers(a.population, cohort, a.seed, a.draws)
    L = resampled_resistance(a.population, cohort, a.seed, a.draws)
    kw: dict[str, Any] = dict(
        subgroups=subgroup_cohorts(arms, a.population, a.patients, a.seed),
        follow_up_days=a.follow_up_days,
        step_hours=a.step_hours,
        pk_population=a.population,
        pk_seed=a.seed,
    )
    out: dict[str, Any] = {
        "parameters": a.parameters,
        "death_scale": s,
        "birth_doubling_days": tb,
        "untreated_net_per_day": r0,
        "growth_per_day": a.growth_per_day,
        "growth_factor": ks,
        "arms": {},
    }
    t0 = time.process_time()
    for arm in arms:
        ag = arm.agents[0]
        pname = agent_parameter(ag)
        f = float(ps.values.get(pname, 1.0))
        extra = {} if f == 1.0 else {pname.split(".")[0]: {ag: f}}
        (c,) = simulate_courses([arm], cohort, **kw, **extra)
        c = _expand(c, G, S, L)
        before = _verdict(arm, predict(c, s, tb), c.horizon_days)
        row = {"factor": f, "before": before}
        if arm.id in a.arms:
            assert c.growth is not None
            for g, k in ks.items():
                c2 = replace(c, growth=c.growth * k)
                row[f"after {g:g}"] = _verdict(arm, predict(c2, s, tb), c2.horizon_days)
            if a.profile:
                best: dict[str, Any] = {}
                for fp in sorted({*a.profile, f}):
                    xp = {} if fp == 1.0 else {pname.split(".")[0]: {ag: fp}}
                    (cp,) = simulate_courses([arm], cohort, **kw, **xp)
                    cp = _expand(cp, G, S, L)
                    assert cp.growth is not None
                    for lab, kk in [("before", 1.0), *((f"after {g:g}", k) for g, k in ks.items())]:
                        cq = replace(cp, growth=cp.growth * kk)
                        v = _verdict(arm, predict(cq, s, tb), cq.horizon_days)
                        if lab not in best or v["deviance"] < best[lab]["deviance"]:
                            best[lab] = {"factor": fp, **v}
                row["alone"] = best
        out["arms"][arm.id] = row
        print(json.dumps({arm.id: row}), flush=True)
    out["cpu_seconds"] = round(time.process_time() - t0, 1)
    n_b = sum(r["before"]["within"] for r in out["arms"].values())
    out["within_before"] = n_b
    for g in ks:
        out[f"within_after {g:g}"] = sum(
            r.get(f"after {g:g}", r["before"])["within"] for r in out["arms"].values()
        )
    print(json.dumps({k: v for k, v in out.items() if k != "arms"}))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
