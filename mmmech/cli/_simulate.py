"""mmmech simulate"""
from ._common import add_model_args, add_perturbation_args, not_built


def register(sub, common):
    p = sub.add_parser("simulate", parents=[common],
                       help="steady state of a model under a regimen",
                       description="Steady state of a pathway model under a regimen. With no "
                                   "drug, the untreated state.")
    p.add_argument("drugs", nargs="*", metavar="DRUG[=AMOUNT]",
                   help="drug with a concentration and unit (e.g. bortezomib=10nM); without "
                        "=AMOUNT, the library reference concentration")
    add_model_args(p)
    add_perturbation_args(p)
    p.set_defaults(func=not_built("simulate"))
