"""The model path of `mmmech score` (drugs named on the command line)."""

import sys

from ..exceptions import InvalidInputError
from ..units import format_nM, parse_assignment
from ._common import parse_levels, parse_settings

__all__ = ["run_model", "parse_dose_lists", "add_assay_args", "assay_hours_of"]

#: default assay duration of the CLI (hours); equals mmmech.scoring.ASSAY_HOURS (a test checks)
ASSAY_HOURS_DEFAULT = 72.0


def add_assay_args(p):
    """--assay-hours and --readout: the simulated viability assay (score, screen, validate)."""
    p.add_argument(
        "--assay-hours",
        type=float,
        default=None,
        metavar="H",
        help="duration of the simulated viability assay: viability is the relative cell "
        "number N(H)/N_control(H) from the model's growth and death readouts, as a "
        f"CellTiter-Glo plate measures it (default {ASSAY_HOURS_DEFAULT:g})",
    )
    p.add_argument(
        "--readout",
        choices=["cells", "index"],
        default="cells",
        help="'cells' (default): relative cell number after --assay-hours; 'index': the "
        "steady-state Viability index of mmmech 0.2 (growth arrest and death mixed, no time)",
    )


def assay_hours_of(args):
    """The `assay_hours` argument of score/screen/validation.run from --assay-hours/--readout."""
    hours = getattr(args, "assay_hours", None)
    if getattr(args, "readout", "cells") == "index":
        if hours is not None:
            raise InvalidInputError(
                "--assay-hours applies to --readout cells (the index has no duration)"
            )
        return None
    if hours is None:
        return ASSAY_HOURS_DEFAULT
    if not (hours > 0 and hours <= 720):
        raise InvalidInputError(f"--assay-hours: expected hours > 0 and <= 720, got {hours:g}")
    return hours


def parse_dose_lists(items):
    """``['bortezomib=1nM,3nM,10nM', ...]`` -> ``{drug name: [nM, ...]}`` (units required)."""
    from ..drugs import dose_nM, get  # deferred: a command loads its layers only when it runs

    out = {}
    for item in items:
        name, value = parse_assignment(item, what="--doses")
        if value is None:
            raise InvalidInputError(
                f"--doses: expected DRUG=AMOUNT,AMOUNT,... with units, got {item!r}"
            )
        drug = get(name)
        if drug.name in out:
            raise InvalidInputError(f"--doses: {drug.name!r} is given twice")
        out[drug.name] = [
            dose_nM(drug, v.strip(), what=f"--doses for {drug.name!r}") for v in value.split(",")
        ]
    return out


def _table(res):
    syn = res.synergy
    lines = [f"{' + '.join(res.drugs)}  (context: {res.context}, readout: {res.readout})", ""]
    lines.append(
        "doses (nM): "
        + "; ".join(
            f"{d} " + ", ".join(format_nM(x) for x in doses[1:])
            for d, doses in zip(res.drugs, res.doses, strict=False)
        )
    )
    lines.append("")
    lines.append(f"{'metric':<8}{'score':>10}   most synergistic area")
    for m, v in syn.scores.items():
        area = syn.most_synergistic_area.get(m, {})
        extra = f"{area.get('score', float('nan')):>8.2f}" if area else ""
        ens = ""
        if res.ensemble and m in res.ensemble:
            e = res.ensemble[m]
            ens = f"   ensemble mean {e['mean']:.2f} [{e['low']:.2f}, {e['high']:.2f}]"
        lines.append(f"{m:<8}{v:>10.2f}   {extra}{ens}")
    if res.ensemble:
        members = next(iter(res.ensemble.values()))["members"]
        lines.append(
            f"ensemble: mean and central percentile interval [low, high] over {members} "
            f"model variants (set 0 = curated)"
        )
    lines.append("")
    if res.assay_hours is not None and res.readout == "viability":
        lines.append(
            f"viability: relative cell number after {res.assay_hours:g} h (N/N_control); "
            f"--readout index for the steady-state index"
        )
    else:
        lines.append("viability: steady-state index (no assay duration)")
    lines.append("effect at the highest doses (fractional inhibition of viability):")
    for k, v in res.effect.items():
        lines.append(f"  {k:<24}{v:>7.3f}")
    lines.append("")
    lines.append(
        "Scores: percent inhibition, observed minus expected (SynergyFinder "
        "conventions); positive = synergy, negative = antagonism; summary = mean over "
        "the wells where every drug is present."
    )
    for note in res.to_dict()["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _ensemble_kwargs(args):
    """--points, --ensemble, --seed and --interval, passed on only when given (so score()'s
    defaults and checks apply)."""
    kw = {}
    for opt in ("points", "ensemble", "seed", "interval"):
        val = getattr(args, opt, None)
        if val is not None:
            kw[opt] = val
    return kw


def run_model(args):
    """Handler of `mmmech score DRUG DRUG ...`."""
    from ..scoring import score  # deferred: a command loads its layers only when it runs

    if args.response is not None:
        raise InvalidInputError("score: --response applies to measured plates (--data) only")
    if len(args.drugs) < 2:
        raise InvalidInputError(
            f"score: name at least two drugs (or give --data FILE.csv), got "
            f"{len(args.drugs)}: {args.drugs}"
        )
    if args.plot:
        # deferred: a command loads its layers only when it runs
        from ..synergy.plot import check_output_path

        check_output_path(args.plot, "synergy_map")
    res = score(
        args.drugs,
        model=args.model,
        context=args.context,
        doses=parse_dose_lists(args.doses),
        metrics=args.metric,
        knockouts=args.knockout,
        settings=parse_settings(args.set_),
        mutations=args.mutation,
        levels=parse_levels(args.level),
        assay_hours=assay_hours_of(args),
        **_ensemble_kwargs(args),
    )
    if args.plot:
        # deferred: a command loads its layers only when it runs
        from ..synergy.plot import synergy_map

        synergy_map(res, args.plot, metric=None if args.metric == "all" else args.metric)
        print(f"mmmech: wrote {args.plot}", file=sys.stderr)
    from ._report import write_report_for  # deferred: a command loads its layers when it runs

    write_report_for(args, res, seed=args.seed, model=args.model)
    if not res.converged:
        print(
            "mmmech: warning: some simulations did not reach steady state (see notes)",
            file=sys.stderr,
        )
    return res.to_dict(), _table(res)
