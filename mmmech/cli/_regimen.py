"""mmmech regimen list|show|simulate"""

from ._common import ContextAction
from ._report import add_report_arg, check_report, write_report_for

__all__ = ["register", "cmd_list", "cmd_show", "cmd_simulate"]


def _block(b):
    return {
        "drug": b.drug,
        "dose": b.dose,
        "unit": b.unit,
        "route": b.route,
        "days": list(b.days),
        "first_cycle": b.first_cycle,
        "last_cycle": b.last_cycle,
        "step_up": [{"day": s.day, "dose": s.dose} for s in b.step_up],
        "verified": b.verified,
        "note": b.note,
        "sources": list(b.sources),
    }


def _summary(reg, pk_names):
    return {
        "name": reg.name,
        "title": reg.title,
        "indication": reg.indication,
        "drugs": list(reg.drugs),
        "until_progression": reg.until_progression,
        "verified": reg.verified,
        "sources": list(reg.sources),
        "pk_model": {d: d.lower() in pk_names for d in reg.drugs},
    }


def _pk_names():
    from ..pk import names  # deferred: a command loads its layers only when it runs

    return {n.lower() for n in names()}


def cmd_list(args):
    """The bundled regimens: one row each."""
    from .. import regimens  # deferred: a command loads its layers only when it runs

    pk_names = _pk_names()
    payload, lines = [], []
    names = regimens.available()
    width = max((len(n) for n in names), default=4)
    for name in names:
        reg = regimens.load(name)
        payload.append(_summary(reg, pk_names))
        lines.append(f"{name:<{width}}  {reg.title}")
    lines += ["", f"{len(names)} regimens. 'mmmech regimen show NAME' gives the schedule."]
    return payload, "\n".join(lines)


def cmd_show(args):
    """One regimen (bundled name or file): phases, drugs, doses, days, sources."""
    from .. import regimens  # deferred: a command loads its layers only when it runs

    reg = regimens.load(args.name)
    payload = _summary(reg, _pk_names())
    payload.update(
        notes=reg.notes,
        omitted=list(reg.omitted),
        origin=reg.origin,
        phases=[
            {
                "name": p.name,
                "cycles": p.cycles,
                "cycle_days": p.cycle_days,
                "delay_days": p.delay_days,
                "note": p.note,
                "drugs": [_block(b) for b in p.drugs],
            }
            for p in reg.phases
        ],
    )
    lines = [f"{reg.name}: {reg.title}", f"  indication: {reg.indication}"]
    lines.append(f"  sources: {', '.join(reg.sources)}")
    for p in reg.phases:
        n = "until progression" if p.cycles is None else f"{p.cycles} cycle(s)"
        lines.append(f"  phase {p.name}: {n} of {p.cycle_days} days")
        for b in p.drugs:
            days = ",".join(str(d) for d in b.days)
            cyc = f" cycles {b.first_cycle}-{b.last_cycle or 'last'}"
            dose = "-" if b.dose is None else f"{b.dose:g}"
            flag = "" if b.verified else "  (not verified)"
            lines.append(f"    {b.drug:<16} {dose} {b.unit} {b.route} days {days}{cyc}{flag}")
    if reg.omitted:
        lines.append(f"  not represented: {'; '.join(reg.omitted)}")
    pk = payload["pk_model"]
    lines.append(
        "  PK model: "
        + ", ".join(f"{d} {'yes' if v else 'no (reference exposure)'}" for d, v in pk.items())
    )
    return payload, "\n".join(lines)


def cmd_simulate(args):
    """Regimen in time: concentrations, key nodes, M-protein, IMWG best response, progression."""
    # deferred: a command loads its layers only when it runs
    from .._figures import check_output_path
    from ..dynamics import simulate_regimen  # deferred: as above
    from ..exceptions import InvalidInputError  # deferred: as above

    if args.plot:
        check_output_path(args.plot, "regimen simulate", "--plot")
    check_report(args)
    body = {}
    if args.weight_kg is not None:
        body["weight_kg"] = args.weight_kg
    if args.bsa is not None:
        body["bsa_m2"] = args.bsa
    if args.cycles is not None and args.cycles < 1:
        raise InvalidInputError(f"regimen simulate: --cycles must be >= 1, got {args.cycles}")
    subclones = {}
    for spec in args.subclone or []:
        name, sep, frac = spec.partition("=")
        try:
            value = float(frac) if sep else None
        except ValueError:
            value = None
        if not name.strip() or value is None:
            raise InvalidInputError(
                f"regimen simulate: --subclone expects CONTEXT=FRACTION (e.g. crbn_low=0.05), "
                f"got {spec!r}"
            )
        if name.strip() in subclones:
            raise InvalidInputError(f"regimen simulate: --subclone {name.strip()!r} given twice")
        subclones[name.strip()] = value
    param_kwargs: dict[str, object] = {}
    if args.parameters is not None:
        from ..calibration import cohort_kwargs  # deferred: loads only with --parameters

        param_kwargs = cohort_kwargs(args.parameters)
    res = simulate_regimen(
        args.regimen,
        cycles=args.cycles,
        context=args.context,
        body=body or None,
        step_hours=args.step_hours,
        patient=args.patient,
        subclones=subclones or None,
        toxicity=args.toxicity,
        **param_kwargs,
    )
    if args.plot:
        res.plot(args.plot)
    write_report_for(args, res)
    payload = res.to_dict()
    tc = res.timecourse
    lines = [f"{res.regimen}: {res.cycles} cycle(s), {tc['day'].iloc[-1]:g} days"]
    if res.patient is not None:
        p = res.patient
        lines.append(
            f"  patient: {p.name or p.id} ({p.age:g} y, {p.body['weight_kg']:g} kg, "
            f"BSA {p.body['bsa_m2']:.2f} m2, CrCl {p.body['crcl_ml_min']:g} mL/min, {p.isotype} "
            f"{p.m_protein_g_dL:g} g/dL)"
        )
    if res.subclones:
        lines.append(
            "  subclones: "
            + ", ".join(f"{k} {v:.3g}" for k, v in res.subclones.items())
            + " of the starting cells"
        )
    lines.append(f"  best response (IMWG, serum M-protein): {res.best_response}")
    ttp = res.time_to_progression_days
    lines.append(
        "  time to progression: " + ("none within the course" if ttp is None else f"{ttp:g} days")
    )
    m = tc["m_protein_g_per_dL"]
    lines.append(
        f"  M-protein: {m.iloc[0]:.2f} -> nadir {m.min():.2f} (day {tc['day'][m.idxmin()]:g}) "
        f"-> {m.iloc[-1]:.2f} g/dL; tumour burden at the end {tc['tumour_burden'].iloc[-1]:.3g}"
    )
    if res.toxicity is not None:
        t = res.toxicity
        for c in t.cycles:
            anc = (
                ""
                if c["anc_nadir"] is None
                else f"ANC nadir {c['anc_nadir']:.2f} (grade {c['anc_grade']}), "
            )
            doses = ", ".join(f"{d} {v:g} mg" for d, v in c["doses_mg"].items())
            extra = "; ".join(c["actions"] + [f"held {h}" for h in c["held"]])
            lines.append(
                f"  cycle {c['cycle']} (day {c['start_day']}): {anc}neuropathy grade "
                f"{c['neuropathy_grade']}; {doses}" + (f"; {extra}" if extra else "")
            )
    for d, v in res.pk.items():
        lines.append(
            f"  {d:<16} cycle 1: Cmax {v['cmax_nM']:.4g} nM, trough {v['trough_nM']:.3g} nM, "
            f"AUC {v['auc_nM_h']:.4g} nM*h"
        )
    for note in res.notes:
        lines.append(f"  note: {note}")
    if args.plot:
        lines.append(f"  plot: {args.plot}")
    return payload, "\n".join(lines)


def register(sub, common):
    p = sub.add_parser(
        "regimen",
        help="treatment regimens: list, show, simulate in time",
        description="Treatment regimens (bundled or from a file): their schedules, and "
        "simulations in time (PK, network, tumour, M-protein, IMWG response).",
    )
    s = p.add_subparsers(dest="regimen_command", metavar="SUBCOMMAND")
    q = s.add_parser("list", parents=[common], help="list the bundled regimens")
    q.set_defaults(func=cmd_list)
    q = s.add_parser("show", parents=[common], help="one regimen: phases, doses and days")
    q.add_argument("name", metavar="NAME|FILE", help="bundled regimen name or regimen file")
    q.set_defaults(func=cmd_show)
    q = s.add_parser(
        "simulate",
        parents=[common],
        help="simulate a regimen in time: M-protein, IMWG response, time to progression",
    )
    q.add_argument("regimen", metavar="NAME|FILE", help="bundled regimen name or regimen file")
    q.add_argument(
        "--cycles",
        type=int,
        default=None,
        metavar="N",
        help="cycles to simulate (default: all; needed for regimens until progression)",
    )
    q.add_argument(
        "--context",
        default="marrow",
        action=ContextAction,
        metavar="C",
        help="network context (default: marrow); repeatable, composed in order",
    )
    q.add_argument(
        "--step-hours",
        type=float,
        default=4.0,
        metavar="H",
        help="time step of the piecewise-constant drug inputs (default 4 h)",
    )
    q.add_argument(
        "--patient",
        default=None,
        metavar="FILE|NAME",
        help="a patient file or bundled patient (e.g. example): body, CrCl and age, contexts, "
        "levels, isotype and baseline M-protein (docs/populations.md)",
    )
    q.add_argument(
        "--subclone",
        action="append",
        default=None,
        metavar="CONTEXT=FRACTION",
        help="a resistant subclone: FRACTION of the starting cells carry the bundled CONTEXT "
        "(e.g. crbn_low=0.05), simulated as its own network column; repeatable",
    )
    q.add_argument(
        "--toxicity",
        action="store_true",
        default=False,
        help="feed toxicity back into efficacy: follow the regimen's dose-modification rules "
        "for the patient (--patient's health, CrCl) and simulate the doses actually given "
        "(docs/toxicity.md)",
    )
    q.add_argument(
        "--parameters",
        default=None,
        metavar="NAME|FILE",
        help="calibrated parameter file (mmmech calibrate --out; docs/calibration.md)",
    )
    q.add_argument("--weight-kg", type=float, default=None, metavar="KG", help="body weight")
    q.add_argument("--bsa", type=float, default=None, metavar="M2", help="body-surface area")
    q.add_argument(
        "--plot", default=None, metavar="FILE", help="write a picture (.png, .svg or .pdf)"
    )
    add_report_arg(q)
    q.set_defaults(func=cmd_simulate)
