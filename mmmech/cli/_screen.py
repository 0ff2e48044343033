"""mmmech screen"""

import argparse
import math
import sys
import warnings

from ..exceptions import InvalidInputError
from ._common import add_dask_args, add_perturbation_args, add_points_arg
from ._report import add_report_arg, check_report, write_report_for
from ._score_model import add_assay_args, assay_hours_of

__all__ = ["register", "parse_sizes"]


def parse_sizes(text):
    """``'2'`` or ``'2,3'`` -> [2] or [2, 3] (checked by mmmech.screen: 2..4)."""
    out = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            out.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected K or K,K,... with K in 2..4, got {text!r}"
            ) from None
    return out


def register(sub, common):
    p = sub.add_parser(
        "screen",
        parents=[common],
        help="rank every K-drug combination, locally or on Dask",
        description="Score every K-drug combination of the given drugs across "
        "contexts and parameter ensembles, as 'mmmech score' does, and "
        "rank them (within each context, most synergistic first). "
        "Finished rows are journaled in FILE.partial, so an "
        "interrupted run resumes where it stopped when run again; the "
        "output file is written atomically at the end.",
        epilog="Scores: percent inhibition, observed minus expected "
        "(SynergyFinder conventions); positive = synergy. With --ensemble M "
        "each metric also gets the mean and a percentile interval over M "
        "model variants (set 0 = curated), the same variants for every "
        "combination; rows are then ranked by the mean. Limits: at most "
        "100,000 rows (combinations x contexts) and 100,000 simulations "
        "(dose-grid points x ensemble members) per row; larger screens are "
        "refused before any work, saying how to reduce them.",
    )
    p.add_argument("drugs", nargs="*", metavar="DRUG")
    p.add_argument(
        "--drugs-file",
        default=None,
        metavar="FILE",
        help="one drug name per line ('#' starts a comment)",
    )
    p.add_argument(
        "--size",
        type=parse_sizes,
        action="append",
        required=True,
        metavar="K",
        help="drugs per combination: 2, 3 or 4 (repeat or give K,K for several sizes)",
    )
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="C",
        help="cell_line, marrow, a patient context or a context file (repeatable: one screen "
        "per context; default cell_line); compose contexts as A+B (marrow+t11_14)",
    )
    p.add_argument("--model", default="myeloma", metavar="NAME|PATH")
    p.add_argument(
        "--metric",
        default="all",
        choices=["bliss", "hsa", "loewe", "zip", "all"],
        help="metrics to compute (default all)",
    )
    p.add_argument(
        "--rank-by",
        default="bliss",
        choices=["bliss", "hsa", "loewe", "zip"],
        help="metric the ranking uses (default bliss: needs no curve fit)",
    )
    p.add_argument(
        "--doses",
        action="append",
        default=[],
        metavar="DRUG=AMOUNT,AMOUNT,...",
        help="dose series of one drug, each amount with its unit (repeatable); other "
        "drugs get the default grid of 'mmmech score'",
    )
    add_perturbation_args(p)
    p.add_argument(
        "--ensemble",
        type=int,
        default=0,
        metavar="M",
        help="score M model variants (M >= 2; set 0 = curated) for a mean and an "
        "interval per metric",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the ensemble")
    p.add_argument(
        "--interval",
        type=float,
        default=0.9,
        metavar="P",
        help="central percentile interval of the ensemble (default 0.9)",
    )
    add_points_arg(p)
    add_assay_args(p)
    add_dask_args(p)
    p.add_argument(
        "--chunk-size",
        type=int,
        default=1,
        metavar="N",
        help="combinations per chunk of work (default 1)",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE.parquet|FILE.csv",
        help="output table, format by extension (.parquet, .pq or .csv)",
    )
    p.add_argument(
        "--restart",
        action="store_true",
        help="discard an unfinished journal of a different screen at FILE.partial",
    )
    p.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="rows per context shown on stdout (default 10)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    add_report_arg(p)
    p.add_argument(
        "--timings",
        action="store_true",
        help="report where the time went (seconds per stage): on stderr, and in the "
        "JSON document as 'timings_s' (left out by default, so identical runs "
        "print identical JSON)",
    )
    p.set_defaults(func=_handle)


def _fmt(x, width=8):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return f"{'n/a':>{width}}"
    return f"{x:>{width}.2f}"


def _table(df, rank_col, top, out):
    metric = rank_col[:-5] if rank_col.endswith("_mean") else rank_col
    ens = rank_col.endswith("_mean")
    lines = [
        f"{len(df)} rows written to {out}; ranked by {rank_col} (percent inhibition, "
        f"positive = synergy)",
        "",
    ]
    for ctx, block in df.groupby("context", sort=False):
        lines.append(f"context: {ctx}")
        head = f"{'rank':>4}  {'combination':<48}{metric:>8}"
        if ens:
            head += f"{'mean':>9}  {'interval':<19}"
        head += f"{'effect':>8}"
        lines.append(head)
        for r in block.head(top).itertuples(index=False):
            row = r._asdict()
            s = f"{row['rank']:>4}  {row['combination'][:47]:<48}{_fmt(row[metric])}"
            if ens:
                s += (
                    f" {_fmt(row[f'{metric}_mean'])}  [{_fmt(row[f'{metric}_low'], 7)}, "
                    f"{_fmt(row[f'{metric}_high'], 7)}]"
                )
            s += f"{_fmt(row['effect_combination'])}"
            if not row["converged"]:
                s += "  (not converged)"
            lines.append(s)
        if len(block) > top:
            lines.append(f"  ... {len(block) - top} more in {out}")
        lines.append("")
    lines.append("effect: fractional inhibition of viability at the highest doses (curated model)")
    return "\n".join(lines)


def _handle(args):
    # deferred: a command loads its layers only when it runs
    from ..screening import read_drug_list, screen
    from ._common import parse_settings  # deferred: a command loads its layers only when it runs

    # deferred: a command loads its layers only when it runs
    from ._score_model import parse_dose_lists

    names = list(args.drugs)
    if args.drugs_file:
        names += read_drug_list(args.drugs_file)
    if not names:
        raise InvalidInputError("screen: name the drugs (DRUG DRUG ... or --drugs-file FILE)")
    if args.top < 0:
        raise InvalidInputError(f"screen: --top must be >= 0, got {args.top}")
    sizes = [k for group in args.size for k in group]
    check_report(args)
    from ..screening import JournalWarning  # deferred: a command loads its layers only when it runs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JournalWarning)
        df = screen(
            names,
            size=sizes,
            contexts=args.context or ["cell_line"],
            model=args.model,
            ensemble=args.ensemble,
            seed=args.seed,
            metrics=args.metric,
            rank_by=args.rank_by,
            doses=parse_dose_lists(args.doses),
            knockouts=args.knockout,
            settings=parse_settings(args.set_),
            mutations=args.mutation,
            interval=args.interval,
            out=args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            chunk_size=args.chunk_size,
            restart=args.restart,
            progress=not args.quiet,
            points=args.points,
            assay_hours=assay_hours_of(args),
        )
    for w in caught:  # one line each, not a raw Python warning
        kind = "warning" if issubclass(w.category, JournalWarning) else "note"
        print(f"mmmech: {kind}: {' '.join(str(w.message).split())}", file=sys.stderr)
    at = df.attrs
    if at.get("resumed"):
        print(
            f"mmmech: resumed {at['resumed']} finished rows from the journal, computed "
            f"{at['computed']}",
            file=sys.stderr,
        )
    print(f"mmmech: wrote {args.out} ({len(df)} rows)", file=sys.stderr)
    write_report_for(args, df, seed=args.seed)
    top = df.groupby("context", sort=False).head(args.top)
    payload = {
        "out": args.out,
        "rows": int(len(df)),
        "columns": list(df.columns),
        "contexts": list(dict.fromkeys(df["context"])),
        "sizes": sorted(set(sizes)),
        "drugs": at["config"]["drugs"],
        "ensemble": at["config"]["ensemble"],
        "seed": at["config"]["seed"],
        "rank_by": at["rank_by"],
        "resumed": at["resumed"],
        "computed": at["computed"],
        "notes": at["notes"],
        "top": top.to_dict(orient="records"),
    }
    if args.timings:  # run-dependent: only when asked (JSON stays reproducible)
        timings = {k: v for k, v in at["timings"].items() if k != "tasks"}
        payload["timings_s"] = timings
        print(
            "mmmech: timings (s): " + ", ".join(f"{k} {v:.3f}" for k, v in timings.items()),
            file=sys.stderr,
        )
    return payload, _table(df, at["rank_by"], args.top, args.out)
