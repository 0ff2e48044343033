"""Argument helpers shared by the subcommand modules."""

import argparse
import math

from ..exceptions import InvalidInputError, MmmechError

__all__ = [
    "not_built",
    "add_model_args",
    "add_perturbation_args",
    "add_level_arg",
    "ContextAction",
    "parse_settings",
    "parse_levels",
    "parse_regimen",
]


class LayerUnavailableError(MmmechError, NotImplementedError):
    """A command whose layer is not part of this build yet."""


def not_built(command):
    """Handler for a command whose layer does not exist yet: says so plainly (exit 2)."""

    def handler(args):
        raise LayerUnavailableError(f"'mmmech {command}' is not available in this version yet")

    return handler


class ContextAction(argparse.Action):
    """``--context C`` (repeatable): one context gives the name as before (a string); several
    give the list, composed in order (``--context marrow --context t11_14``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = getattr(namespace, "_context_given", None)
        if seen is None:
            seen = []
            namespace._context_given = seen
        seen.append(values)
        setattr(namespace, self.dest, seen[0] if len(seen) == 1 else list(seen))


def add_model_args(p):
    """--model and --context, as in INTERFACE.md."""
    p.add_argument(
        "--model",
        default="myeloma",
        metavar="NAME|PATH",
        help="pathway model: a bundled name (default: myeloma) or a model file "
        "(.toml, .bnet, .sbml, .sif, .graphml, KGML .xml)",
    )
    p.add_argument(
        "--context",
        default="cell_line",
        action=ContextAction,
        metavar="C",
        help="cell_line (myeloma cells alone), marrow (NK cells, macrophages, "
        "complement, T cells, stromal IL-6), a patient context (t11_14, del17p, crbn_low, "
        "...: 'mmmech contexts list'), none (nothing fixed: for your own models), or a "
        "context file (.toml); repeatable: several compose in order (--context marrow "
        "--context t11_14)",
    )


def add_dask_args(p):
    """``--workers N`` / ``--scheduler ADDRESS`` (mutually exclusive): where a batched command
    (screen, trial) runs its chunks of work."""
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="run on a local Dask cluster of N worker processes (default: in-process)",
    )
    g.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on an existing Dask cluster (e.g. tcp://host:8786; port 1-65535); "
        "a scheduler that does not answer within 30 s is an error",
    )


def add_points_arg(p):
    """--points: the default dose grid's size (score and screen)."""
    p.add_argument(
        "--points",
        type=int,
        default=None,
        metavar="N",
        help="non-zero concentrations per drug in the default dose grid (default 5, at least 3)",
    )


def add_model_positional(p):
    """The optional MODEL positional of the pathway commands."""
    p.add_argument(
        "model",
        nargs="?",
        default="myeloma",
        metavar="MODEL",
        help="bundled name (default: myeloma) or a model file (.toml, .bnet, .sbml, .sif, "
        ".graphml, KGML .xml)",
    )


def add_perturbation_args(p):
    """--knockout, --set and --mutation, as in INTERFACE.md."""
    p.add_argument(
        "--knockout", action="append", default=[], metavar="NODE", help="fix NODE at 0 (repeatable)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NODE=VALUE",
        dest="set_",
        help="fix NODE at VALUE in [0, 1] (repeatable)",
    )
    p.add_argument(
        "--mutation",
        action="append",
        default=[],
        metavar="'GENE A49T'",
        help="target mutation in the numbering the target registry documents for "
        "the gene (PSMB5: mature-chain numbering, Thr1 = catalytic threonine); "
        "see 'mmmech structures targets' (repeatable)",
    )


def add_level_arg(p):
    """--level NODE=VALUE: a relative level the drugs still act on (simulate, score)."""
    p.add_argument(
        "--level",
        action="append",
        default=[],
        metavar="NODE=VALUE",
        help="relative level of NODE (1 = the model's baseline, >= 0); unlike --set the node "
        "stays dynamic, so drugs still act on it (repeatable)",
    )


def parse_settings(items, what="--set", high=1.0):
    """``["NODE=VALUE", ...]`` -> {NODE: float in [0, high]} (InvalidInputError otherwise);
    ``high=None``: any finite number >= 0 (relative levels)."""
    from ..units import parse_assignment  # deferred: a command loads its layers only when it runs

    span = "in [0, 1]" if high == 1.0 else (">= 0" if high is None else f"in [0, {high:g}]")
    out = {}
    for text in items or ():
        name, value = parse_assignment(text, what=what)
        if value is None:
            raise InvalidInputError(f"{what}: expected NODE=VALUE with VALUE {span}, got {text!r}")
        try:
            v = float(value)
        except ValueError:
            raise InvalidInputError(
                f"{what} {name}: VALUE must be a number {span}, got {value!r}"
            ) from None
        if not (math.isfinite(v) and v >= 0.0 and (high is None or v <= high)):
            raise InvalidInputError(
                f"{what} {name}: VALUE must {'lie ' if high == 1.0 else 'be '}{span}, got {v}"
            )
        out[name] = v
    return out


def parse_levels(items):
    """``["NODE=VALUE", ...]`` of ``--level`` -> {NODE: relative level >= 0}."""
    return parse_settings(items, what="--level", high=None)


def parse_regimen(items, command, what="dose"):
    """``["bortezomib=10nM", "lenalidomide", ...]`` -> {drug name: nM} (units required; a drug
    without an amount gets its library reference concentration; each drug once)."""
    from .. import drugs as _drugs  # deferred: a command loads its layers only when it runs

    regimen = {}
    for text in items or ():
        drug, nM = _drugs.parse_dose(text, what=f"{what} {text!r}")
        if drug.name in regimen:
            raise InvalidInputError(f"{command}: {drug.name} is given twice")
        regimen[drug.name] = nM
    return regimen
