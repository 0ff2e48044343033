"""mmmech trial, and mmmech trial --validate (virtual against real trials)"""

import json
import sys

from ..exceptions import InvalidInputError
from ._common import add_dask_args
from ._report import add_report_arg, check_report, write_report_for

__all__ = ["register"]


def register(sub, common):
    p = sub.add_parser(
        "trial",
        parents=[common],
        help="virtual trial: the same virtual patients through every arm",
        description="Give every arm's regimen to the same N virtual patients of a population "
        "and report per arm the IMWG response rates (ORR = PR or better, VGPR or better, CR), "
        "median progression-free survival with its 95%% interval (Kaplan-Meier), and between "
        "arms the Cox hazard ratio with its 95%% interval (lifelines).",
        epilog="Arms are bundled regimen names (case-insensitive, e.g. VRd) or regimen files. "
        "PFS is IMWG progression on the serum M-protein; death is not modelled; patients "
        "without progression are censored at the end of follow-up (the longest arm's "
        "treatment span). With --out FILE.json, finished patients are journaled in "
        "FILE.json.partial, so an interrupted trial resumes where it stopped. Method and "
        "limits: docs/trials.md. 'mmmech trial --validate' (no ARM) runs every real "
        "combination trial of trials/combination_trials.toml whose arms have bundled regimens "
        "and sets predicted beside observed results (validation only; docs/trials.md, "
        "'Virtual against real trials').",
    )
    p.add_argument(
        "arms", nargs="*", metavar="ARM", help="regimen name or file, one per arm (at least one)"
    )
    p.add_argument(
        "--validate",
        action="store_true",
        help="virtual against real trials: every combination trial with bundled regimens, "
        "its own population (ndmm or rrmm), same patients in both arms; takes no ARM",
    )
    p.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="ID",
        help="with --validate: only this trial id (repeatable; e.g. maia, candor)",
    )
    p.add_argument(
        "--population", default=None, metavar="NAME|PATH", help="virtual population (ndmm)"
    )
    p.add_argument("--patients", type=int, default=100, metavar="N", help="patients (100)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="population seed (0)")
    p.add_argument(
        "--cycles",
        type=int,
        default=None,
        metavar="N",
        help="treatment cycles (default 12; a fixed regimen stops at its own length)",
    )
    p.add_argument(
        "--follow-up-months",
        type=float,
        default=None,
        metavar="M",
        help="follow every arm at least M months (regimens given until progression are given "
        "throughout; default: the arms' treatment span)",
    )
    p.add_argument("--context", default="marrow", metavar="NAME", help="cellular context (marrow)")
    p.add_argument("--plot", default=None, metavar="FILE", help="KM curves and response bars")
    add_report_arg(p)
    add_dask_args(p)
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="patient courses per batch of work (the result does not depend on it)",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE.json",
        help="write the result there (atomically), journaling finished patients in "
        "FILE.json.partial",
    )
    p.add_argument(
        "--restart",
        action="store_true",
        help="discard an unfinished journal of a different trial at FILE.json.partial",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.add_argument(
        "--no-toxicity",
        dest="toxicity",
        action="store_false",
        help="skip the per-arm toxicity rates (each patient's course through the regimen's "
        "dose-modification rules; it does not change efficacy unless --toxicity-feedback)",
    )
    p.add_argument(
        "--toxicity-feedback",
        action="store_true",
        help="run each patient's toxicity course first and simulate response and PFS on the "
        "doses actually given (holds, reductions, discontinuations, renal starting dose)",
    )
    p.add_argument(
        "--no-pk-variability",
        dest="pk_variability",
        action="store_false",
        help="every patient gets the typical PK of its body size (default: between-patient "
        "random effects from the population-PK sources' CV%%)",
    )
    p.add_argument(
        "--ensemble",
        type=int,
        default=0,
        metavar="K",
        help="also run the same patients under K model-parameter sets (set 0 the defaults, "
        "K-1 a Latin hypercube over the sourced ranges of the tumour constants and of the "
        "network's named parameters, e.g. dex_nk_weight) and report per arm the "
        "5th-95th percentile and range of ORR, >=VGPR, CR, median PFS and each hazard ratio "
        "(0: off; every set runs the network with its own parameters, one network run per set "
        "and arm: costs about K times the trial; docs/trials.md)",
    )
    p.add_argument(
        "--parameters",
        default=None,
        metavar="NAME|FILE",
        help="run every patient course under a calibrated parameter file (e.g. "
        "single_agent_fit; mmmech calibrate --out; docs/calibration.md) instead of the model's "
        "defaults; not with --ensemble",
    )
    p.set_defaults(func=_handle)


def _fmt(x, scale=1.0, digits=1):
    return "not reached" if x is None else f"{x * scale:.{digits}f}"


def _span(v, scale=1.0, digits=1):
    return f"{_fmt(v[0], scale, digits)}-{_fmt(v[1], scale, digits)}"


def _ensemble_line(a):
    e = a["ensemble"]
    return (
        f"  {a['name']:<12} across {e['members']} parameter sets (5th-95th percentile): ORR "
        f"{_span(e['orr'], 100, 0)}%  >=VGPR {_span(e['vgpr_or_better'], 100, 0)}%  CR "
        f"{_span(e['cr_or_better'], 100, 0)}%  median PFS {_span(e['median_pfs_months'])} months"
    )


def _tox_line(a):
    t = a["toxicity"]
    th = t["grade3_thrombocytopenia"]
    tl = t.get("grade3_thrombocytopenia_label")
    plt = "n/a" if th is None else f"{th:.1%}"
    if tl is not None:
        plt += f", label {tl['rate']:.0%} ({', '.join(tl['sources'])})"
    neut = f"{t['grade3_neutropenia']:.1%}" if t["neutropenia_drugs"] else "0 (no modelled drug)"
    nl = t.get("grade3_neutropenia_label")
    if nl is not None and not t["neutropenia_drugs"]:
        neut += f", label {nl['rate']:.0%} ({', '.join(nl['sources'])})"
    line = (
        f"  {a['name']:<12} toxicity: G>=3 neutropenia {neut}  G>=3 "
        f"thrombocytopenia {plt}  PN G>=2 {t['grade2_neuropathy']:.1%} G>=3 "
        f"{t['grade3_neuropathy']:.1%}  dose reduced {t['dose_reduced']:.1%}  held "
        f"{t['held']:.1%}  discontinued {t['discontinued']:.1%}"
    )
    other = [
        f"{label} {b['rate']:.1%} ({', '.join(b['drugs'])}; {', '.join(b['sources'])})"
        for key, label in _OTHER_LABELS
        if (b := t.get(key)) is not None
    ]
    if other:
        line += "\n  " + " " * 12 + " label incidence, not modelled: " + "  ".join(other)
    return line


#: the other dose-limiting toxicities of an arm (label incidences only) and their CLI labels
_OTHER_LABELS = (
    ("crs_any", "CRS any grade"),
    ("crs_grade3", "CRS G>=3"),
    ("infection_grade3", "infection G>=3"),
    ("cardiac_failure", "cardiac failure G>=3"),
)


def _parameter_file(args):
    """(simulate_cohort keywords, {"name", "file", "version"}) of --parameters, or (None,
    None). The calibration layer ranks above trials, so the file is read here."""
    if args.parameters is None:
        return None, None
    if args.ensemble:
        raise InvalidInputError(
            "trial: --parameters and --ensemble cannot be combined yet (the ensemble's "
            "parameter sets are drawn around the model's defaults)"
        )
    # deferred: the calibration layer loads only with --parameters
    from ..calibration import cohort_kwargs, load_parameters

    ps = load_parameters(args.parameters)
    info = {"name": ps.name, "file": ps.origin, "version": str(ps.meta.get("version"))}
    return cohort_kwargs(ps), info


def _handle(args):
    # deferred: a command loads its layers only when it runs
    from .._figures import check_output_path
    from ..trials import run_trial  # deferred: as above

    if args.validate:
        return _handle_validate(args)
    if not args.arms:
        raise InvalidInputError(
            "trial: give at least one ARM (regimen name or file), or --validate"
        )
    if args.only:
        raise InvalidInputError("trial: --only needs --validate")
    if args.plot:
        check_output_path(args.plot, "trial", "--plot")
    check_report(args)
    cohort, pfile = _parameter_file(args)
    res = run_trial(
        args.arms,
        population="ndmm" if args.population is None else args.population,
        patients=args.patients,
        seed=args.seed,
        cycles=args.cycles,
        follow_up_months=args.follow_up_months,
        context=args.context,
        workers=args.workers,
        scheduler=args.scheduler,
        batch_size=args.batch_size,
        out=args.out,
        restart=args.restart,
        progress=False if args.quiet else None,
        toxicity=args.toxicity,
        ensemble=args.ensemble,
        pk_variability=args.pk_variability,
        toxicity_feedback=args.toxicity_feedback,
        cohort_kwargs=cohort,
        parameter_file=pfile,
    )
    payload = res.to_dict()
    if args.plot:
        res.plot(args.plot)
    write_report_for(args, payload, seed=args.seed)
    lines = [
        f"virtual trial: {payload['population']}, {payload['patients']} patients, seed "
        f"{payload['seed']}, follow-up {payload['follow_up_months']:.1f} months"
    ]
    for a in payload["arms"]:
        med = a["median_pfs_months"]
        ci = (
            ""
            if med is None
            else f" (95% CI {_fmt(a['median_pfs_low'])}-{_fmt(a['median_pfs_high'])})"
        )
        lines.append(
            f"  {a['name']:<12} ORR {a['orr']:.1%}  >=VGPR {a['vgpr_or_better']:.1%}  CR "
            f"{a['cr_or_better']:.1%}  median PFS {_fmt(med)} months{ci}  progressed "
            f"{a['progressed']}/{a['patients']}"
        )
    lines += [_ensemble_line(a) for a in payload["arms"] if a.get("ensemble")]
    lines += [_tox_line(a) for a in payload["arms"] if a.get("toxicity")]
    for h in payload["hazard_ratios"]:
        if h["value"] is None:
            lines.append(f"  HR {h['arm']} vs {h['versus']}: {h['note']}")
        else:
            lines.append(
                f"  HR {h['arm']} vs {h['versus']}: {h['value']:.3f} (95% CI {h['low']:.3f}-"
                f"{h['high']:.3f})"
            )
    for h in payload["hazard_ratios"]:
        e = h.get("ensemble")
        if e and e["not_estimable"] == e["members"]:
            lines.append(
                f"  HR {h['arm']} vs {h['versus']}: not estimable in any of the {e['members']} "
                f"parameter sets"
            )
        elif e:
            lines.append(
                f"  HR {h['arm']} vs {h['versus']} across {e['members']} parameter sets: "
                f"{_span(e['value'], digits=3)} (range {_span(e['value_range'], digits=3)})"
                + (f", not estimable in {e['not_estimable']}" if e["not_estimable"] else "")
            )
    for n in payload["notes"]:
        lines.append(f"  note: {n}")
    if args.plot:
        lines.append(f"  plot: {args.plot}")
    if args.out:
        lines.append(f"  written: {args.out}")
    return payload, "\n".join(lines)


def _handle_validate(args):
    from ..trials.validation import validate_trials  # deferred: as in _handle
    from ..utils import atomic_write  # deferred: as above

    if args.arms:
        raise InvalidInputError(
            f"trial --validate: takes no ARM (each trial names its arms), got {args.arms[0]!r}"
        )
    for opt in ("population", "plot", "report"):
        if getattr(args, opt):
            raise InvalidInputError(
                f"trial --validate: --{opt} does not apply (each trial uses the population of "
                f"its setting)"
                if opt == "population"
                else f"trial --validate: --{opt} does not apply"
            )
    if args.restart:
        raise InvalidInputError("trial --validate: --restart does not apply (nothing is journaled)")
    if args.patients < 1:
        raise InvalidInputError(f"trial --validate: --patients must be >= 1, got {args.patients}")
    if args.out and not str(args.out).endswith(".json"):
        raise InvalidInputError(f"trial --validate: --out must end in .json, got {args.out!r}")

    def said(row):
        if not args.quiet:
            what = "simulated" if row.predicted is not None else "not simulated"
            print(f"  {row.id}: {what}", file=sys.stderr, flush=True)

    cohort, info = _parameter_file(args)
    extra = {"cohort_kwargs": cohort, "parameter_file": info} if cohort is not None else {}
    res = validate_trials(
        **extra,
        patients=args.patients,
        seed=args.seed,
        cycles=args.cycles,
        follow_up_months=args.follow_up_months,
        ids=args.only,
        context=args.context,
        workers=args.workers,
        scheduler=args.scheduler,
        batch_size=args.batch_size,
        on_trial=said,
    )
    payload = res.to_dict()
    if args.out:
        atomic_write(args.out, (json.dumps(payload, indent=2) + "\n").encode())
    s = payload["summary"]
    lines = [
        f"virtual against real trials: {res.patients} patients per arm, seed {res.seed}, "
        f"{s['simulated']} simulated, {s['not_simulated']} not simulated (validation only)"
        + (f"; parameters {info['file']}" if info else ""),
        res.markdown(),
    ]
    for key in ("spearman_hr", "spearman_orr_difference"):
        c = s[key]
        rho = "n/a" if c["rho"] is None else f"{c['rho']:.2f} (p {c['p']:.2g})"
        lines.append(
            f"Spearman {c['what']}: {rho}, n = {c['n']}" + (f" ({c['note']})" if c["note"] else "")
        )
    sa = s["sign_agreement"]
    lines.append(f"sign agreement (experimental arm better): {sa['agree']}/{sa['judged']}")
    for r in res.rows:
        if r.population_gap:
            lines.append(f"  population, {r.id}: {r.population_gap}")
    if args.out:
        lines.append(f"  written: {args.out}")
    return payload, "\n".join(lines)
