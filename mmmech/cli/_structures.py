"""mmmech structures binding-site|targets"""
from ._common import not_built


def register(sub, common):
    p = sub.add_parser("structures", help="targets, binding sites and mutations",
                       description="Target registry and structure analysis (Biopython).")
    s = p.add_subparsers(dest="structures_command", metavar="SUBCOMMAND")
    q = s.add_parser("binding-site", parents=[common],
                     help="residues near a ligand in a PDB or mmCIF file")
    q.add_argument("file", metavar="FILE")
    q.add_argument("--ligand", required=True, metavar="RESNAME", help="ligand residue code, e.g. LVY")
    q.add_argument("--cutoff", type=float, default=4.0, metavar="Å",
                   help="distance cutoff in Å (default 4.0)")
    q.set_defaults(func=not_built("structures binding-site"))
    q = s.add_parser("targets", parents=[common], help="the target registry")
    q.set_defaults(func=not_built("structures targets"))
