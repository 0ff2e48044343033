"""mmmech drugs list|show|infer"""
from ._common import not_built


def register(sub, common):
    p = sub.add_parser("drugs", help="the drug library; infer class and targets of a molecule",
                       description="The curated myeloma drug library.")
    s = p.add_subparsers(dest="drugs_command", metavar="SUBCOMMAND")
    q = s.add_parser("list", parents=[common], help="list the library")
    q.set_defaults(func=not_built("drugs list"))
    q = s.add_parser("show", parents=[common], help="one drug: structure, targets, potencies")
    q.add_argument("name", metavar="NAME", help="drug name or synonym (case-insensitive)")
    q.set_defaults(func=not_built("drugs show"))
    q = s.add_parser("infer", parents=[common],
                     help="class and likely targets of a new molecule from its structure")
    q.add_argument("smiles", metavar="SMILES")
    q.add_argument("--name", default=None, help="a name for the molecule")
    q.set_defaults(func=not_built("drugs infer"))
