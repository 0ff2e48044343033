"""mmmech score"""
from ._common import add_model_args, add_perturbation_args, not_built


def register(sub, common):
    p = sub.add_parser("score", parents=[common],
                       help="synergy of a combination (Bliss, HSA, Loewe, ZIP)",
                       description="Synergy of a drug combination from the model's simulated "
                                   "dose-response surface, or of a measured plate (--data). "
                                   "Scores follow SynergyFinder: percent inhibition, positive = "
                                   "synergy, negative = antagonism.")
    p.add_argument("drugs", nargs="*", metavar="DRUG")
    add_model_args(p)
    p.add_argument("--metric", default="all", choices=["bliss", "hsa", "loewe", "zip", "all"])
    p.add_argument("--doses", action="append", default=[], metavar="DRUG=AMOUNT,AMOUNT,...",
                   help="dose grid of one drug, each amount with its unit (repeatable)")
    add_perturbation_args(p)
    p.add_argument("--plot", default=None, metavar="FILE", help="write a synergy map (png/svg/pdf)")
    p.add_argument("--data", default=None, metavar="FILE.csv",
                   help="score a measured plate in SynergyFinder's long format instead")
    p.add_argument("--response", choices=["viability", "inhibition"], default=None,
                   help="what the response column of --data holds (required with --data)")
    p.set_defaults(func=not_built("score"))
