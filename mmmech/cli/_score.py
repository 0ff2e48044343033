"""mmmech score"""

import sys

from ..exceptions import InvalidInputError
from ._common import add_level_arg, add_model_args, add_perturbation_args, add_points_arg
from ._report import add_report_arg, check_report, write_report_for
from ._score_model import add_assay_args

__all__ = ["register"]

SIGN_CONVENTION = (
    "SynergyFinder conventions: responses in percent inhibition; score = observed "
    "minus expected; positive = synergy, negative = antagonism; summary = mean "
    "over the wells where every drug is present"
)


def register(sub, common):
    p = sub.add_parser(
        "score",
        parents=[common],
        help="synergy of a combination (Bliss, HSA, Loewe, ZIP)",
        description="Synergy of a drug combination from the model's simulated "
        "dose-response surface, or of a measured plate (--data). "
        "Scores follow SynergyFinder: percent inhibition, positive = "
        "synergy, negative = antagonism.",
        epilog="Limit: dose-grid points x ensemble members may not exceed "
        "100,000 simulations per combination (about 0.6 GiB and 35 s of "
        "one core); a larger request is refused up front. The default "
        "grid has 6 doses per drug (0 and --points 5), so up to 6 drugs, "
        "or 2 drugs with --ensemble up to 2,777.",
    )
    p.add_argument("drugs", nargs="*", metavar="DRUG")
    add_model_args(p)
    p.add_argument("--metric", default="all", choices=["bliss", "hsa", "loewe", "zip", "all"])
    p.add_argument(
        "--doses",
        action="append",
        default=[],
        metavar="DRUG=AMOUNT,AMOUNT,...",
        help="dose grid of one drug, each amount with its unit (repeatable)",
    )
    add_perturbation_args(p)
    add_level_arg(p)
    add_points_arg(p)
    add_assay_args(p)
    p.add_argument(
        "--ensemble",
        type=int,
        default=None,
        metavar="M",
        help="also score M model variants (M >= 2; set 0 = curated; the same "
        "sampler and variants as 'mmmech screen'): ensemble mean and a "
        "percentile interval per metric (JSON keys 'ensemble', 'intervals')",
    )
    p.add_argument(
        "--seed", type=int, default=None, metavar="S", help="seed of the ensemble (default 0)"
    )
    p.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="P",
        help="central percentile interval of the ensemble (default 0.9: 5th to 95th percentile)",
    )
    p.add_argument("--plot", default=None, metavar="FILE", help="write a synergy map (png/svg/pdf)")
    add_report_arg(p)
    p.add_argument(
        "--data",
        default=None,
        metavar="FILE.csv",
        help="score a measured plate in SynergyFinder's long format instead "
        "(block_id, drug1, drug2[, drug3 ...], conc1, conc2[, ...], response, "
        "conc_unit); plates with replicates go through SynergyFinder's "
        "bootstrap unless --replicates mean",
    )
    p.add_argument(
        "--response",
        choices=["viability", "inhibition"],
        default=None,
        help="what the response column of --data holds, in percent (required with "
        "--data: it is never guessed)",
    )
    p.add_argument(
        "--fit",
        choices=["synergyfinder", "robust"],
        default=None,
        help="curve fits behind Loewe and ZIP with --data: 'synergyfinder' (default) "
        "reproduces SynergyFinder 3's numbers; 'robust' is mmmech's bounded "
        "multi-start fit: better least squares, not SynergyFinder's numbers",
    )
    p.add_argument(
        "--replicates",
        choices=["synergyfinder", "mean"],
        default=None,
        help="plates with replicates (--data): 'synergyfinder' (default) reports the "
        "means over SynergyFinder's 10 bootstrap plates (seed 123, R's "
        "generator); 'mean' scores the replicate-mean surface with a 95%% "
        "bootstrap interval",
    )
    p.add_argument(
        "--zip-version",
        type=int,
        choices=[3, 2],
        default=None,
        help="ZIP of SynergyFinder 3 (default) or 2 (two drugs; as in DrugComb's "
        "published tables; pair with --replicates mean)",
    )
    p.set_defaults(func=_handle)


def _handle(args):
    """--data scores a measured plate; otherwise the model's surface is scored."""
    check_report(args)
    if getattr(args, "data", None):
        if getattr(args, "assay_hours", None) is not None or getattr(args, "readout", "cells") != (
            "cells"
        ):
            raise InvalidInputError(
                "mmmech score: --assay-hours and --readout apply to the model's predicted "
                "surface, not to a measured plate (--data)"
            )
        return _score_data(args)
    given = [
        o
        for o, v in (
            ("--fit", getattr(args, "fit", None)),
            ("--replicates", getattr(args, "replicates", None)),
            ("--zip-version", getattr(args, "zip_version", None)),
        )
        if v
    ]

    if given:
        raise InvalidInputError(
            f"mmmech score: {', '.join(given)} apply to a measured plate (--data FILE.csv)"
        )
    return _score_model(args)


def _score_model(args):
    """Drugs named on the command line: the model's predicted surface (mmmech.scoring)."""
    from ._score_model import run_model  # deferred: a command loads its layers only when it runs

    return run_model(args)


def _score_data(args):
    # deferred: a command loads its layers only when it runs
    from ..synergy import METRICS, read_plate, score_blocks

    if args.response is None:
        raise InvalidInputError(
            "mmmech score --data: say what the response column holds with --response viability "
            "or --response inhibition (percent); it is never guessed"
        )
    if args.drugs:
        raise InvalidInputError(
            f"mmmech score --data: the drugs come from the file; remove {' '.join(args.drugs)!r}"
        )
    model_only = [
        opt
        for opt, val in (
            ("--doses", args.doses),
            ("--knockout", args.knockout),
            ("--set", args.set_),
            ("--mutation", args.mutation),
            ("--level", args.level),
            ("--points", args.points is not None),
            ("--ensemble", args.ensemble is not None),
            ("--seed", args.seed is not None),
            ("--interval", args.interval is not None),
        )
        if val
    ]
    if model_only:
        raise InvalidInputError(
            f"mmmech score --data: {', '.join(model_only)} apply to the "
            "model's surface, not to a measured plate"
        )
    if args.plot:
        # deferred: a command loads its layers only when it runs
        from ..synergy.plot import check_output_path

        check_output_path(args.plot, "synergy_map")
    metrics = METRICS if args.metric == "all" else (args.metric,)
    table = read_plate(args.data)
    results = score_blocks(
        table,
        response=args.response,
        metrics=metrics,
        func="mmmech score",
        fit=args.fit or "synergyfinder",
        replicates=args.replicates or "synergyfinder",
        zip_version=args.zip_version or 3,
    )
    payload = []
    for bid, res in results:
        item = {
            "block_id": bid,
            "drugs": list(res.drugs),
            "units": dict(zip(res.drugs, res.units, strict=False)),
            "replicates": res.replicates,
            "scores": dict(res.scores),
            "intervals": None
            if res.intervals is None
            else {m: [float(lo), float(hi)] for m, (lo, hi) in res.intervals.items()},
            "most_synergistic_area": res.most_synergistic_area,
            "notes": list(res.notes),
            "fit": res.fit,
            "replicates_treatment": res.replicates_treatment,
            "zip_version": res.zip_version,
        }
        if res.extra:
            item["annotations"] = dict(res.extra)
        payload.append(item)
    if args.plot:
        # deferred: a command loads its layers only when it runs
        from ..synergy.plot import block_paths, synergy_map

        for (bid, res), path, item in zip(
            results, block_paths(args.plot, [b for b, _ in results]), payload, strict=False
        ):
            synergy_map(
                res,
                path,
                metric=None if args.metric == "all" else args.metric,
                title=f"block {bid}: {' + '.join(res.drugs)}",
            )
            item["plot"] = path
            print(f"mmmech: wrote {path}", file=sys.stderr)
    write_report_for(args, results)
    return payload, _text(payload, metrics, args.response)


def _cell(p, m):
    c = f"{p['scores'][m]:.2f}"
    ci = (p["intervals"] or {}).get(m)
    return c + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def _text(payload, metrics, kind):
    lines = [
        f"Synergy scores of {len(payload)} block(s) (response given as percent {kind}).",
        SIGN_CONVENTION + ".",
    ]
    fits = sorted({p["fit"] for p in payload})
    treat = sorted({p["replicates_treatment"] for p in payload})
    lines.append(
        f"Fit: {', '.join(fits)}"
        + (
            " (SynergyFinder 3's fitting path: its numbers)"
            if fits == ["synergyfinder"]
            else " (mmmech's bounded multi-start fits: better least "
            "squares, not SynergyFinder's numbers)"
        )
        + f"; replicates: {', '.join(treat)}"
        + ("; ZIP of SynergyFinder 2." if any(p.get("zip_version") == 2 for p in payload) else ".")
    )
    lines.append("")
    rows = [
        [str(p["block_id"]), " + ".join(p["drugs"]), str(p["replicates"])]
        + [_cell(p, m) for m in metrics]
        for p in payload
    ]
    head = ["block", "drugs", "reps"] + list(metrics)
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    fmt = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))
    )
    lines += [fmt(head), "-" * len(fmt(head))] + [fmt(r) for r in rows]
    any_ci = any(p["intervals"] for p in payload)
    if any_ci:
        if any(p["replicates_treatment"] == "synergyfinder-bootstrap" for p in payload):
            lines.append(
                "[low, high]: 2.5-97.5% range of the summary over SynergyFinder's 10 "
                "bootstrap plates"
            )
        else:
            lines.append("[low, high]: bootstrap 95% interval over the replicates of each well")
    lines += ["", "Most synergistic area (window of 3 doses per drug, mean score):"]
    for p in payload:
        for m in metrics:
            a = p["most_synergistic_area"][m]
            where = " x ".join(f"{d} {_span(v)} {p['units'][d]}" for d, v in a["doses"].items())
            lines.append(f"  block {p['block_id']} {m:<5} {a['score']:8.2f}  at {where}")
    notes = [(p["block_id"], n) for p in payload for n in p["notes"]]
    if notes:
        lines += ["", "Notes:"] + [f"  block {b}: {n}" for b, n in notes]
    return "\n".join(lines)


def _span(v):
    return f"{v[0]:g}-{v[-1]:g}" if len(v) > 1 else f"{v[0]:g}"
