"""mmmech pathway validate|show|draw|export"""
from ._common import not_built


def register(sub, common):
    p = sub.add_parser("pathway", help="inspect, convert and draw pathway models",
                       description="Inspect, convert and draw pathway models.")
    s = p.add_subparsers(dest="pathway_command", metavar="SUBCOMMAND")
    for name, hlp in (("validate", "check a model: undefined nodes, sources, paths to readouts"),
                      ("show", "nodes, edges, rules and sources of a model")):
        q = s.add_parser(name, parents=[common], help=hlp)
        q.add_argument("model", nargs="?", default="myeloma", metavar="MODEL",
                       help="bundled name (default: myeloma) or a model file")
        q.set_defaults(func=not_built(f"pathway {name}"))
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
