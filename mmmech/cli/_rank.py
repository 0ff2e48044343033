"""mmmech rank --patient FILE|NAME: regimens ranked for one patient (research use only)."""

from ._report import add_report_arg, check_report, write_report_for

__all__ = ["register", "cmd_rank"]


def cmd_rank(args):
    """One patient through each candidate regimen; ranked with intervals and drivers."""
    # deferred: a command loads its layers only when it runs
    from ..ranking import rank  # deferred: as above

    check_report(args)
    res = rank(
        args.patient,
        args.regimens,
        cycles=args.cycles,
        ensemble=args.ensemble,
        seed=args.seed,
        step_hours=args.step_hours,
        toxicity=not args.no_toxicity,
        top=args.top,
    )
    doc = res.to_dict()
    write_report_for(args, doc, seed=args.seed, model="myeloma")
    return doc, res.text()


#: the defaults of mmmech.ranking.rank, repeated so that building the parser imports nothing
#: heavy (tests/cli/test_rank.py checks they agree)
DEFAULT_CYCLES, DEFAULT_ENSEMBLE, DEFAULT_STEP_HOURS = 6, 8, 12.0


def register(sub, common):
    p = sub.add_parser(
        "rank",
        parents=[common],
        help="rank regimens for one patient (research use only)",
        description="Run one patient file through each candidate regimen (toxicity fed back "
        "into efficacy, a small parameter ensemble for intervals), rank by depth of response, "
        "progression-free time and toxicity, and explain the top regimens (docs/ranking.md). "
        "Research use only, not for clinical decisions.",
    )
    p.add_argument(
        "--patient",
        required=True,
        metavar="FILE|NAME",
        help="a patient file or bundled patient (e.g. example; docs/populations.md)",
    )
    p.add_argument(
        "--regimens",
        nargs="+",
        default=None,
        metavar="NAME",
        help="candidate regimens (default: the bundled regimens of the patient's setting)",
    )
    p.add_argument(
        "--cycles",
        type=int,
        default=DEFAULT_CYCLES,
        metavar="N",
        help=f"treatment length in 28-day cycle equivalents (default {DEFAULT_CYCLES})",
    )
    p.add_argument(
        "--ensemble",
        type=int,
        default=DEFAULT_ENSEMBLE,
        metavar="K",
        help=f"ensemble members for the intervals (default {DEFAULT_ENSEMBLE})",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="ensemble seed (default 0)")
    p.add_argument(
        "--step-hours",
        type=float,
        default=DEFAULT_STEP_HOURS,
        metavar="H",
        help=f"network time step (default {DEFAULT_STEP_HOURS:g} h)",
    )
    p.add_argument(
        "--top", type=int, default=3, metavar="T", help="regimens explained with drivers (3)"
    )
    p.add_argument(
        "--no-toxicity",
        action="store_true",
        default=False,
        help="do not feed toxicity back into efficacy (full doses)",
    )
    add_report_arg(p)
    p.set_defaults(func=cmd_rank)
