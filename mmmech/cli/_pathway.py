"""mmmech pathway validate|show|draw|export"""
from ._common import not_built

__all__ = ["register", "handle_validate", "handle_show"]


def handle_validate(args):
    from ..pathways import load
    model = load(args.model)
    report = model.validate(drugs="library")
    if getattr(args, "json", False):
        return report, ""
    lines = [f"{model.name}: {'OK' if report['ok'] else 'INVALID'} ({len(model.nodes)} nodes, "
             f"{len(model.edges)} edges, {len(report['errors'])} errors, "
             f"{len(report['warnings'])} warnings)"]
    lines += [f"error: {e}" for e in report["errors"]]
    lines += [f"warning: {w}" for w in report["warnings"]]
    return report, "\n".join(lines)


def handle_show(args):
    from ..pathways import load
    model = load(args.model)
    payload = model.to_dict()
    if getattr(args, "json", False):
        return payload, ""
    lines = [f"{model.name} {model.version}: {len(model.nodes)} nodes, {len(model.edges)} edges",
             model.description, "", "readouts: " + ", ".join(f"{k}={v}" for k, v in
                                                            model.readouts.items()), "",
             "rules:"]
    for n in model.nodes.values():
        lines.append(f"  {n.name:<20} = {n.rule if n.rule else '(input, y0=%g)' % n.y0}")
    lines += ["", "edges:"]
    for e in model.edges:
        par = f"  [{e.parameter}]" if e.parameter else ""
        lines.append(f"  {e.source:>20} {'->' if e.sign > 0 else '-|'} {e.target:<20} "
                     f"{', '.join(e.sources)}{par}")
    if model.parameters:
        lines += ["", "parameters (contested edges):"]
        for p in model.parameters.values():
            lines.append(f"  {p.name} = {p.default} in [{p.low}, {p.high}]: {p.description}")
    return payload, "\n".join(lines)


def register(sub, common):
    p = sub.add_parser("pathway", help="inspect, convert and draw pathway models",
                       description="Inspect, convert and draw pathway models.")
    s = p.add_subparsers(dest="pathway_command", metavar="SUBCOMMAND")
    for name, hlp in (("validate", "check a model: undefined nodes, sources, paths to readouts"),
                      ("show", "nodes, edges, rules and sources of a model")):
        q = s.add_parser(name, parents=[common], help=hlp)
        q.add_argument("model", nargs="?", default="myeloma", metavar="MODEL",
                       help="bundled name (default: myeloma) or a model file")
        q.set_defaults(func=handle_validate if name == "validate" else handle_show)
    q = s.add_parser("export", parents=[common], help="write a model in another format")
    q.add_argument("model", nargs="?", default="myeloma", metavar="MODEL")
    q.add_argument("--format", required=True, choices=["sif", "graphml", "bnet", "sbml-qual"])
    q.add_argument("--out", default=None, metavar="FILE", help="output file (default: stdout)")
    q.set_defaults(func=not_built("pathway export"))
    q = s.add_parser("draw", parents=[common], help="draw a model, optionally under a regimen")
    q.add_argument("model", nargs="?", default="myeloma", metavar="MODEL")
    q.add_argument("--regimen", action="append", default=[], metavar="DRUG[=AMOUNT]")
    q.add_argument("--context", default="cell_line", metavar="C")
    q.add_argument("--out", required=True, metavar="FILE.png|svg")
    q.set_defaults(func=not_built("pathway draw"))
