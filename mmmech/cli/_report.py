"""mmmech report, and the ``--report FILE.html`` option the result commands share."""

import sys

__all__ = ["register", "add_report_arg", "check_report", "write_report_for"]


def add_report_arg(p):
    """Add ``--report FILE.html`` to a result command's parser."""
    p.add_argument(
        "--report",
        default=None,
        metavar="FILE.html",
        help="also write a self-contained interactive HTML report (plots, tables, sources; "
        "opens offline); written atomically",
    )


def check_report(args):
    """Check the ``--report`` path before any work (nothing to do without the option)."""
    path = getattr(args, "report", None)
    if path:
        from ..reports import check_report_path  # deferred: plotly loads only for a report

        check_report_path(path, f"mmmech {args.command} --report")


def _argv(args):
    argv = getattr(args, "argv", None)
    return list(sys.argv[1:] if argv is None else argv)


def write_report_for(args, result, seed=None, model=None):
    """Write ``--report`` for `result` (a result object or document); says so on stderr."""
    path = getattr(args, "report", None)
    if not path:
        return None
    from ..reports import write_report  # deferred: plotly and jinja2 load only for a report

    write_report(result, path, command=_argv(args), seed=seed, model=model)
    print(f"mmmech: wrote {path}", file=sys.stderr)
    return path


def register(sub, common):
    p = sub.add_parser(
        "report",
        parents=[common],
        help="an interactive HTML report of a saved result (score, screen, regimen, trial, rank)",
        description="Write a self-contained interactive HTML report of a result saved "
        "earlier: the JSON of 'mmmech score|regimen simulate|trial|rank --json' or a screen table "
        "(.parquet, .pq, .csv). The kind is told from the document. The page embeds "
        "plotly.js and the result (no network needed to open it).",
    )
    p.add_argument("result", metavar="RESULT.json|RESULT.parquet")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the report to write")
    p.set_defaults(func=_handle)


def _handle(args):
    # deferred: plotly and jinja2 load only for a report
    from ..reports import check_report_path, detect_kind, document, load_result, write_report

    check_report_path(args.out, "mmmech report --out")
    doc = document(load_result(args.result, func="mmmech report"))
    kind = detect_kind(doc)
    write_report(doc, args.out, kind=kind, command=_argv(args))
    print(f"mmmech: wrote {args.out}", file=sys.stderr)
    return {"out": args.out, "kind": kind, "result": args.result}, f"{kind} report: {args.out}"
