"""mmmech validate"""

import sys

from ..exceptions import MmmechError
from ._score_model import add_assay_args, assay_hours_of

__all__ = ["register", "handle"]


def register(sub, common):
    p = sub.add_parser(
        "validate",
        parents=[common],
        help="compare the model with published in-vitro combination results",
        description="Score every entry of the bundled table of published in-vitro "
        "combination results in myeloma cells (pathways/validation/"
        "invitro_combinations.toml) with the model, in the context of each experiment, and "
        "compare the predicted direction (summary Bliss: > +2 synergy, < -2 antagonism, else "
        "additive) with the reported one. Prints the table, the strict and sign agreement "
        "fractions and, per entry, the knock-out that removes the predicted interaction. "
        "With --out FILE.md the table is written as Markdown (atomically); when FILE.md "
        "already holds the markers '<!-- BEGIN mmmech validate -->' and "
        "'<!-- END mmmech validate -->', only the text between them is replaced "
        "(docs/validation.md keeps its prose).",
    )
    p.add_argument(
        "--model",
        default="myeloma",
        metavar="NAME|PATH",
        help="pathway model: a bundled name (default: myeloma) or a model file",
    )
    p.add_argument(
        "--table",
        default=None,
        metavar="FILE",
        help="a table file of the same format (default: the bundled table)",
    )
    p.add_argument(
        "--ensemble",
        type=int,
        default=0,
        metavar="M",
        help="M >= 2 sampled parameter sets (set 0 curated): Bliss is their mean, with a 90%% "
        "interval (default 0: the curated model)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="ensemble seed (default 0)")
    add_assay_args(p)
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE.md",
        help="also write the table as Markdown to FILE.md (see 'Output files' in docs/cli.md)",
    )
    p.set_defaults(func=handle)


BEGIN, END = "<!-- BEGIN mmmech validate -->", "<!-- END mmmech validate -->"


def _document(path, md):
    """The text written to `path`: `md` alone, or the existing file with the part between the
    BEGIN and END markers replaced by `md` (the prose around them is kept)."""
    from ..resources import read_text_file  # deferred: loads with the command

    try:
        old = read_text_file(path, "validate")
    except MmmechError:
        return md  # a new file (or one that cannot be read: it is replaced whole)
    i, j = old.find(BEGIN), old.find(END)
    if i < 0 or j < i:
        return md
    return old[: i + len(BEGIN)] + "\n" + md + old[j:]


def handle(args):
    from .. import validation  # deferred: a command loads its layers only when it runs
    from ..utils import atomic_write, output_target  # deferred: loads with the command

    if args.out is not None:
        output_target(args.out, prefix="validate: ")  # checked before the work
    hours = assay_hours_of(args)
    rows = validation.run(
        model=args.model,
        ensemble=args.ensemble,
        seed=args.seed,
        table=args.table,
        assay_hours=hours,
    )
    s = validation.summary(rows)
    md = validation.to_markdown(rows, model=str(args.model))
    if args.out is not None:
        atomic_write(args.out, _document(args.out, md).encode("utf-8"))
        print(f"mmmech: wrote {args.out} ({len(rows)} entries)", file=sys.stderr)
    payload = {
        "model": str(args.model),
        "ensemble": args.ensemble,
        "seed": args.seed,
        "threshold": validation.THRESHOLD,
        "points": validation.POINTS,
        "assay_hours": hours,
        "readout": "index" if hours is None else "cells",
        "summary": s,
        "rows": [r.to_dict() for r in rows],
        "out": args.out,
    }
    if getattr(args, "json", False):
        return payload, ""
    return payload, md.rstrip("\n")
