"""mmmech simulate"""

from ._common import (
    add_level_arg,
    add_model_args,
    add_perturbation_args,
    parse_levels,
    parse_regimen,
    parse_settings,
)

__all__ = ["register", "handle"]


def register(sub, common):
    p = sub.add_parser(
        "simulate",
        parents=[common],
        help="steady state of a model under a regimen",
        description="Steady state of a pathway model under a regimen. With no "
        "drug, the untreated state.",
    )
    p.add_argument(
        "drugs",
        nargs="*",
        metavar="DRUG[=AMOUNT]",
        help="drug with a concentration and unit (e.g. bortezomib=10nM); without "
        "=AMOUNT, the library reference concentration",
    )
    add_model_args(p)
    add_perturbation_args(p)
    add_level_arg(p)
    p.add_argument(
        "--initial",
        action="append",
        default=[],
        metavar="NODE=VALUE",
        help="start NODE at VALUE in [0, 1] (inputs hold it): the resting state of "
        "an imported Boolean model, which carries none (repeatable)",
    )
    p.set_defaults(func=handle)


def handle(args):
    from ..simulation import simulate  # deferred: a command loads its layers only when it runs
    from ..units import format_nM  # deferred: a command loads its layers only when it runs

    regimen = parse_regimen(args.drugs, "simulate")
    kw = dict(
        context=args.context,
        knockouts=tuple(args.knockout),
        settings=parse_settings(args.set_),
        mutations=tuple(args.mutation),
        levels=parse_levels(args.level),
    )
    model = args.model
    if args.initial:
        # deferred: a command loads its layers only when it runs
        from ..network.io import with_initial

        model = with_initial(model, parse_settings(args.initial, what="--initial"))
    out = simulate(model, regimen, **kw)
    payload = {
        "context": out["context"],
        "drugs": out["drugs"],
        "readouts": out["readouts"],
        "nodes": out["nodes"],
        "converged": out["converged"],
        "notes": out["notes"],
        "levels": out["levels"],
    }
    if getattr(args, "json", False):
        return payload, ""
    base = simulate(model, {}, **kw) if regimen else out
    lines = [
        f"context: {out['context']}   model: {args.model}",
        "regimen: "
        + (", ".join(f"{k} {format_nM(v)}" for k, v in out["drugs"].items()) or "untreated"),
    ]
    if not out["converged"]:
        lines.append("WARNING: the simulation did not reach steady state")
    lines.append("")
    lines.append(f"{'readout':<16}{'value':>8}{'untreated':>11}{'change':>9}")
    for k, v in out["readouts"].items():
        b = base["readouts"][k]
        lines.append(f"{k:<16}{v:>8.3f}{b:>11.3f}{v - b:>+9.3f}")
    changed = sorted(out["nodes"], key=lambda n: -abs(out["nodes"][n] - base["nodes"][n]))
    changed = [n for n in changed if abs(out["nodes"][n] - base["nodes"][n]) > 1e-3][:12]
    if changed:
        lines += ["", "most changed nodes:"]
        for n in changed:
            lines.append(f"  {n:<20}{base['nodes'][n]:>7.3f} -> {out['nodes'][n]:.3f}")
    if out["levels"]:
        lines.append("levels: " + ", ".join(f"{n} x{v:g}" for n, v in out["levels"].items()))
    for note in out["notes"]:
        lines.append(f"note: {note}")
    return payload, "\n".join(lines)
