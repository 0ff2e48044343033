"""mmmech pathway validate|show|draw|export"""

from ._common import ContextAction, add_model_positional

__all__ = ["register", "handle_validate", "handle_show", "handle_export", "handle_draw"]


def handle_validate(args):
    from ..network import load  # deferred: a command loads its layers only when it runs

    model = load(args.model)
    report = model.validate(drugs="library")
    rc = 0 if report.ok else 1  # like a linter: findings are not usage errors
    if getattr(args, "json", False):
        return report.to_dict(), "", rc
    lines = [
        f"{model.name}: {'OK' if report.ok else 'INVALID'} ({len(model.nodes)} nodes, "
        f"{len(model.edges)} edges, {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings)"
    ]
    lines += [f"error: {e}" for e in report.errors]
    lines += [f"warning: {w}" for w in report.warnings]
    return report.to_dict(), "\n".join(lines), rc


def handle_show(args):
    from ..network import load  # deferred: a command loads its layers only when it runs

    model = load(args.model)
    payload = model.to_dict()
    if getattr(args, "json", False):
        return payload, ""
    lines = [
        f"{model.name} {model.version}: {len(model.nodes)} nodes, {len(model.edges)} edges",
        model.description,
        "",
        "readouts: " + ", ".join(f"{k}={v}" for k, v in model.readouts.items()),
        "",
        "rules:",
    ]
    for n in model.nodes.values():
        lines.append(f"  {n.name:<20} = {n.rule if n.rule else f'(input, y0={n.y0:g})'}")
    lines += ["", "edges:"]
    for e in model.edges:
        par = f"  [{e.parameter}]" if e.parameter else ""
        arrow = {1: "->", -1: "-|"}.get(e.sign, "-?")
        lines.append(f"  {e.source:>20} {arrow} {e.target:<20} {', '.join(e.sources)}{par}")
    if model.parameters:
        lines += ["", "parameters (contested edges):"]
        for p in model.parameters.values():
            lines.append(f"  {p.name} = {p.default} in [{p.low}, {p.high}]: {p.description}")
    return payload, "\n".join(lines)


def register(sub, common):
    p = sub.add_parser(
        "pathway",
        help="inspect, convert and draw pathway models",
        description="Inspect, convert and draw pathway models.",
    )
    s = p.add_subparsers(dest="pathway_command", metavar="SUBCOMMAND")
    for name, hlp in (
        ("validate", "check a model: undefined nodes, sources, paths to readouts"),
        ("show", "nodes, edges, rules and sources of a model"),
    ):
        q = s.add_parser(name, parents=[common], help=hlp)
        add_model_positional(q)
        q.set_defaults(func=handle_validate if name == "validate" else handle_show)
    # -- export and draw (interchange/draw engineer) --
    q = s.add_parser(
        "export",
        parents=[common],
        help="write a model in another format",
        description="Write a model as signed SIF, GraphML (every mmmech attribute), "
        "BoolNet .bnet or SBML-qual (docs/formats.md). Without --out the "
        "text goes to stdout; with --out the file is written atomically.",
    )
    add_model_positional(q)
    q.add_argument("--format", required=True, choices=["sif", "graphml", "bnet", "sbml-qual"])
    q.add_argument("--out", default=None, metavar="FILE", help="output file (default: stdout)")
    q.set_defaults(func=handle_export)
    q = s.add_parser(
        "draw",
        parents=[common],
        help="draw a model, optionally under a regimen",
        description="Draw a model (PNG, SVG or PDF by extension): modules grouped, "
        "arrows for activation, bars for inhibition; with --regimen (or "
        "--set) nodes are coloured by their change against untreated. "
        "Large networks: draw the neighbourhood of --focus nodes.",
    )
    add_model_positional(q)
    q.add_argument(
        "--regimen",
        action="append",
        default=[],
        metavar="DRUG[=AMOUNT]",
        help="drug and concentration with a unit, e.g. bortezomib=10nM (repeatable)",
    )
    q.add_argument(
        "--context",
        default="cell_line",
        action=ContextAction,
        metavar="C",
        help="cell_line, marrow, a patient context or a context file (default: cell_line); "
        "repeatable: several compose in order",
    )
    q.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NODE=VALUE",
        dest="set_",
        help="fix NODE at VALUE in [0, 1] in the treated state (for imported models, "
        "which have no drug actions; repeatable)",
    )
    q.add_argument(
        "--focus",
        nargs="+",
        default=[],
        metavar="NODE",
        help="draw only the neighbourhood of these nodes",
    )
    q.add_argument(
        "--radius",
        type=int,
        default=1,
        metavar="K",
        help="steps from the focus nodes, either direction (default: 1)",
    )
    q.add_argument(
        "--max-nodes",
        type=int,
        default=150,
        metavar="N",
        dest="max_nodes",
        help="largest picture drawn whole; bigger networks need --focus (default: 150)",
    )
    q.add_argument("--out", required=True, metavar="FILE.png|svg")
    q.set_defaults(func=handle_draw)


def handle_export(args):
    # warnings (DefaultRulesWarning, ...) become `mmmech: note:` lines in cli.main()
    # deferred: a command loads its layers only when it runs
    from ..network import load  # deferred: a command loads its layers only when it runs
    from ..network.io import atomic_write, dumps

    model = load(args.model)
    text = dumps(model, args.format)
    info = {
        "format": args.format,
        "model": model.name,
        "nodes": len(model.nodes),
        "edges": len(model.edges),
    }
    if args.out is None:
        if getattr(args, "json", False):
            return {**info, "content": text}, ""
        return info, text.rstrip("\n")
    atomic_write(args.out, text.encode("utf-8"))
    info["out"] = args.out
    return info, (f"wrote {args.out} ({args.format}: {info['nodes']} nodes, {info['edges']} edges)")


def handle_draw(args):
    from ..network import load  # deferred: a command loads its layers only when it runs
    from ..network.draw import draw  # deferred: a command loads its layers only when it runs
    from ..units import format_nM  # deferred: a command loads its layers only when it runs

    # deferred: a command loads its layers only when it runs
    from ._common import parse_regimen, parse_settings

    regimen = parse_regimen(args.regimen, "pathway draw", what="--regimen")
    settings = parse_settings(args.set_)
    model = load(args.model)
    info = draw(
        model,
        regimen=regimen,
        context=args.context,
        out=args.out,
        focus=args.focus,
        radius=args.radius,
        max_nodes=args.max_nodes,
        settings=settings,
    )
    lines = [
        f"wrote {info.out}: {info.nodes} of {info.total_nodes} nodes, "
        f"{info.edges} edges" + (f", around {', '.join(info.focus)}" if info.focus else "")
    ]
    if regimen:
        lines.append("regimen: " + ", ".join(f"{k} {format_nM(v)}" for k, v in regimen.items()))
    if info.readouts:
        lines.append(
            "readouts (untreated -> treated): "
            + ", ".join(f"{k} {a:.3f} -> {b:.3f}" for k, (a, b) in info.readouts.items())
        )
    if info.changes:
        top = [(n, d) for n, d in info.changes.items() if abs(d) > 1e-3][:10]
        if top:
            lines.append("most changed: " + ", ".join(f"{n} {d:+.2f}" for n, d in top))
    lines += [f"note: {n}" for n in info.notes]
    payload = info.to_dict()
    for key in ("changes", "readouts"):  # present only with a regimen or settings, as in 0.1
        if payload[key] is None:
            del payload[key]
    return payload, "\n".join(lines)
