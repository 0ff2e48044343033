"""mmmech contexts list|show"""

__all__ = ["register", "cmd_list", "cmd_show"]


def _kinds(ctx):
    """Short summary: what the context sets, levels, knocks out, overexpresses and mutates."""
    parts = []
    entries = ctx.entries()
    for kind, label in (
        ("set", "sets"),
        ("level", "levels"),
        ("knockout", "knocks out"),
        ("overexpress", "overexpresses"),
        ("mutation", "mutations"),
    ):
        names = [e["entry"] for e in entries if e["kind"] == kind]
        if names:
            parts.append(f"{label} {', '.join(names)}")
    return "; ".join(parts) or "nothing fixed"


def _payload(ctx):
    d = ctx.to_dict()
    d["entries"] = ctx.entries()
    return d


def cmd_list(args):
    """The bundled contexts: one row per context."""
    # deferred: a command loads its layers only when it runs
    from ..network.contexts import available_contexts, load_context

    payload, lines = [], []
    names = available_contexts()
    width = max((len(n) for n in names), default=4)
    for name in names:
        ctx = load_context(name)
        payload.append(_payload(ctx))
        lines.append(f"{name:<{width}}  {ctx.description}")
        lines.append(f"{'':<{width}}  {_kinds(ctx)}")
    lines += [
        "",
        f"{len(names)} contexts. Compose them in order: --context marrow --context t11_14. "
        f"'mmmech contexts show NAME' gives every entry with its sources.",
    ]
    return payload, "\n".join(lines)


def cmd_show(args):
    """One context (bundled name, file, or NAME+NAME): every entry with value and sources."""
    # deferred: a command loads its layers only when it runs
    from ..network.contexts import load_context

    given = args.name if len(args.name) > 1 else args.name[0]
    ctx = load_context(given)
    lines = [ctx.name]
    if ctx.description:
        lines.append(f"  {ctx.description}")
    lines.append(f"  origin: {ctx.origin}")
    if ctx.note:
        lines.append(f"  note: {ctx.note}")
    if ctx.references:
        lines.append(f"  sources: {', '.join(ctx.references)}")
    entries = ctx.entries()
    if not entries:
        lines.append("  nothing fixed")
    for e in entries:
        if e["kind"] == "mutation":
            head = f"  mutation  {e['entry']}"
        elif e["kind"] == "level":
            head = f"  level     {e['entry']} x{e['value']:g} (relative to the model's baseline)"
        elif e["kind"] == "set":
            head = f"  set       {e['entry']} = {e['value']:g}"
        else:
            head = f"  {e['kind']:<9} {e['entry']}"
        lines.append(head)
        if e["sources"]:
            lines.append(f"              sources: {', '.join(e['sources'])}")
        if e["note"]:
            lines.append(f"              note: {e['note']}")
    return _payload(ctx), "\n".join(lines)


def register(sub, common):
    p = sub.add_parser(
        "contexts",
        help="the bundled contexts: cellular surroundings and patient genetics",
        description="The bundled contexts (cell_line, marrow, and patient contexts such as "
        "t11_14 or crbn_low): what each sets, its levels, knockouts and mutations, with "
        "sources.",
    )
    s = p.add_subparsers(dest="contexts_command", metavar="SUBCOMMAND")
    q = s.add_parser("list", parents=[common], help="list the bundled contexts")
    q.set_defaults(func=cmd_list)
    q = s.add_parser(
        "show", parents=[common], help="one context: every entry with its value and sources"
    )
    q.add_argument(
        "name",
        nargs="+",
        metavar="NAME",
        help="bundled name or context file; several (or NAME+NAME) show their composition",
    )
    q.set_defaults(func=cmd_show)
