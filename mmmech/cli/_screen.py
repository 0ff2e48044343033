"""mmmech screen"""
from ._common import not_built


def register(sub, common):
    p = sub.add_parser("screen", parents=[common],
                       help="rank every K-drug combination, locally or on Dask",
                       description="Score every K-drug combination of the given drugs across "
                                   "contexts and parameter ensembles; resumable.")
    p.add_argument("drugs", nargs="*", metavar="DRUG")
    p.add_argument("--drugs-file", default=None, metavar="FILE", help="one drug name per line")
    p.add_argument("--size", type=int, required=True, metavar="K", help="drugs per combination (2-4)")
    p.add_argument("--context", action="append", default=[], metavar="C")
    p.add_argument("--model", default="myeloma", metavar="NAME|PATH")
    p.add_argument("--ensemble", type=int, default=0, metavar="M")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=0, metavar="N")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS")
    p.add_argument("--out", required=True, metavar="FILE.parquet|FILE.csv")
    p.set_defaults(func=not_built("screen"))
