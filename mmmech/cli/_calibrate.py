"""mmmech calibrate: fit the free tumour-model parameters to single-agent arms only."""

__all__ = ["register", "cmd_calibrate"]


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def cmd_calibrate(args):
    """Fit to the single-agent data; print the fit per arm; write a parameter file."""
    import shlex  # deferred: a command loads its layers only when it runs
    import sys  # deferred: as above

    from ..calibration import calibrate, calibrate_agents, write_parameters  # deferred: as above
    from ..exceptions import InvalidInputError  # deferred: as above

    if args.patients < 1:
        raise InvalidInputError(f"calibrate: --patients must be >= 1, got {args.patients}")
    if args.seed < 0:
        raise InvalidInputError(f"calibrate: --seed must be >= 0, got {args.seed}")
    if not args.follow_up_days > 0:
        raise InvalidInputError(
            f"calibrate: --follow-up-days must be > 0, got {args.follow_up_days}"
        )
    command = "mmmech " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None
    if getattr(args, "agents", False):
        if args.draws < 1:
            raise InvalidInputError(f"calibrate: --draws must be >= 1, got {args.draws}")
        if args.refine_rounds < 0:
            raise InvalidInputError(
                f"calibrate: --refine-rounds must be >= 0, got {args.refine_rounds}"
            )
        res = calibrate_agents(
            args.data,
            population=args.population,
            patients=args.patients,
            seed=args.seed,
            draws=args.draws,
            follow_up_days=args.follow_up_days,
            step_hours=args.step_hours,
            grid=args.factor_grid or (0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0),
            refine_rounds=args.refine_rounds,
            command=command,
            pk_variability=not getattr(args, "no_pk_variability", False),
            progress=(lambda line: print(line, file=sys.stderr, flush=True))
            if getattr(args, "progress", False)
            else None,
        )
    else:
        res = calibrate(
            args.data,
            population=args.population,
            patients=args.patients,
            seed=args.seed,
            follow_up_days=args.follow_up_days,
            step_hours=args.step_hours,
            hours_grid=args.hours_grid or (1.0,),
            command=command,
            pk_variability=not getattr(args, "no_pk_variability", False),
        )
    payload = res.to_dict()
    import os  # deferred: as above

    name = args.name or (
        os.path.basename(args.out).removesuffix(".toml") if args.out else "calibration"
    )
    meta = {"name": name, "version": args.version_tag, **res.meta}
    meta["command"] = command
    params = [
        {"name": k, "value": v, "low": res.intervals[k][0], "high": res.intervals[k][1],
         "interval": "95% profile likelihood (deviance within 3.84 of the minimum)"}
        for k, v in res.values.items()
    ]  # fmt: skip
    if args.out:
        write_parameters(args.out, meta, params, res.arms)
        payload["out"] = args.out
    if getattr(args, "markdown", None):
        from ..calibration import fit_report  # deferred: as above
        from ..utils import atomic_output  # deferred: as above

        with atomic_output(args.markdown) as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(fit_report({"calibration": meta, "parameter": params, "fit": res.arms}))
        payload["markdown"] = args.markdown
    lines = [
        f"calibrated on {len(res.arms)} single-agent arms, {res.meta['patients']} "
        f"{res.meta['population']} patients (seed {res.meta['seed']}); deviance {res.deviance:.2f}"
    ]
    for k, v in res.values.items():
        lo, hi = res.intervals[k]
        lines.append(f"  {k:<22} {v:.4g}  95% profile interval [{_fmt(lo)}, {_fmt(hi)}]")
    lines.append("")
    lines.append(f"  {'arm':<30} {'observed ORR':>12} {'model':>6}  {'median obs':>10} "
                 f"{'model':>6}  fits")  # fmt: skip
    for r in res.arms:
        mk = "median_ttp_months" if "median_ttp_months_observed" in r else "median_pfs_months"
        lines.append(
            f"  {r['arm']:<30} {_fmt(r.get('orr_observed')):>12} "
            f"{_fmt(r.get('orr_predicted')):>6}  {_fmt(r.get(mk + '_observed')):>10} "
            f"{_fmt(r.get(mk + '_predicted')):>6}  {_fmt(r['fits'])}"
            + (f"  {r['diagnosis']}" if "diagnosis" in r else "")
        )
    lines.append(
        f"  arms within their uncertainty: {sum(1 for r in res.arms if r['fits'])} of "
        f"{len(res.arms)}"
    )
    for n in res.notes:
        lines.append(f"  note: {n}")
    if args.out:
        lines.append(f"  parameter file: {args.out} (load with --parameters {args.out})")
    return payload, "\n".join(lines)


def register(sub, common):
    p = sub.add_parser(
        "calibrate",
        parents=[common],
        help="fit the free tumour-model parameters to single-agent clinical arms",
        description="Fit the parameters the data do not fix (birth doubling time within its "
        "sourced range, death scale, optionally hours per network time unit) to single-agent "
        "arms only (calibration/single_agent.toml; combination trials are validation only). "
        "Prints the fit per arm and, with --out, writes a versioned parameter file that "
        "'regimen simulate --parameters FILE' loads. Method: docs/calibration.md.",
    )
    p.add_argument(
        "--data", default="single_agent", metavar="NAME|FILE",
        help="single-agent data (default: the bundled single_agent)",
    )  # fmt: skip
    p.add_argument("--patients", type=int, default=8, metavar="N", help="patients (default 8)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    p.add_argument(
        "--population", default="rrmm", metavar="NAME|FILE",
        help="virtual population of the arms (default rrmm)",
    )  # fmt: skip
    p.add_argument(
        "--follow-up-days", type=float, default=180.0, metavar="D",
        help="follow-up simulated per arm (default 180)",
    )  # fmt: skip
    p.add_argument(
        "--step-hours", type=float, default=12.0, metavar="H",
        help="network step (default 12 h, coarser than trials' 4 h, for speed)",
    )  # fmt: skip
    p.add_argument(
        "--hours-grid", type=float, nargs="+", default=None, metavar="H",
        help="hours_per_model_time values to profile (default: 1 only, not fitted)",
    )  # fmt: skip
    p.add_argument(
        "--no-pk-variability", action="store_true",
        help="every patient gets the typical PK (default: each patient's own PK random "
        "effects, as in `mmmech trial`)",
    )  # fmt: skip
    p.add_argument(
        "--agents", action="store_true",
        help="also fit one in-vivo factor per agent on its own arm(s) (exposure for small "
        "molecules, efficacy for antibodies, engagers, CAR-T), rates averaged over resampled "
        "tumour multipliers (docs/calibration.md)",
    )  # fmt: skip
    p.add_argument(
        "--draws", type=int, default=64, metavar="M",
        help="with --agents: tumour-multiplier draws per network patient (default 64)",
    )  # fmt: skip
    p.add_argument(
        "--factor-grid", type=float, nargs="+", default=None, metavar="F",
        help="with --agents: factor values each arm runs on (default 0.01 0.1 0.3 1 3 10 100)",
    )  # fmt: skip
    p.add_argument(
        "--refine-rounds", type=int, default=2, metavar="R",
        help="with --agents: most rounds refining each factor between grid values with "
        "network runs (default 2; 0: grid values only, the search before 2026-12-01)",
    )  # fmt: skip
    p.add_argument(
        "--progress", action="store_true", help="with --agents: progress lines on stderr"
    )
    p.add_argument("--out", default=None, metavar="FILE", help="write the parameter file here")
    p.add_argument(
        "--markdown", default=None, metavar="FILE",
        help="write the fit's parameter and per-arm tables as Markdown (docs/calibration.md)",
    )  # fmt: skip
    p.add_argument("--name", default=None, help="name in the parameter file (default: file stem)")
    p.add_argument("--version-tag", default="1", metavar="V", help="version recorded in the file")
    p.set_defaults(func=cmd_calibrate)
