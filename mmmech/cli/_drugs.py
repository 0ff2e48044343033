"""mmmech drugs list|show|infer"""

__all__ = ["register", "cmd_list", "cmd_show", "cmd_infer"]


def _fmt_nM(value):
    from ..units import format_nM  # deferred: a command loads its layers only when it runs

    return "-" if value is None else format_nM(value)


def _table(rows, headers):
    """Plain-text table: columns padded to their widest cell."""
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


def cmd_list(args):
    """The library: one row per drug."""
    from .. import drugs  # deferred: a command loads its layers only when it runs

    lib = drugs.library()
    payload, rows = [], []
    for d in lib.values():
        payload.append(
            {
                "name": d.name,
                "type": d.type,
                "drug_class": d.drug_class,
                "targets": list(dict.fromkeys(t.target for t in d.targets)),
                "synonyms": list(d.synonyms),
                "reference_nM": d.reference_nM,
            }
        )
        acts = ", ".join(f"{t.target} ({t.action})" for t in d.targets)
        rows.append([d.name, d.type, d.drug_class, acts])
    text = _table(rows, ["name", "type", "class", "targets (action)"])
    text += (
        f"\n\n{len(payload)} drugs. 'mmmech drugs show NAME' gives structure, potencies "
        f"and sources."
    )
    return payload, text


def cmd_show(args):
    """One drug: structure, targets with potencies and sources, reference concentration."""
    from .. import drugs  # deferred: a command loads its layers only when it runs

    d = drugs.get(args.name)
    payload = d.to_dict()
    lines = [
        f"{d.name}  ({', '.join(d.synonyms)})" if d.synonyms else d.name,
        f"  type            {d.type}",
        f"  class           {d.drug_class}",
        f"  mechanism       {d.mechanism}",
    ]
    if d.smiles:
        desc = d.descriptors()
        payload["descriptors"] = desc
        lines += [
            f"  SMILES          {d.smiles}",
            f"  InChIKey        {d.inchikey}",
            f"  formula         {d.formula}",
            f"  MW              {d.mol_weight:.2f} g/mol (RDKit)",
            f"  structure       {d.structure_source}"
            f"{'' if d.structure_verified else '  [not verified]'}",
            f"  descriptors     cLogP {desc['clogp']:.2f}, TPSA {desc['tpsa']:.1f}, "
            f"HBD {desc['hbd']}, HBA {desc['hba']}, rotatable {desc['rotatable_bonds']}, "
            f"Lipinski {'pass' if desc['lipinski'] else 'fail'}, "
            f"Veber {'pass' if desc['veber'] else 'fail'}",
        ]
    elif d.mol_weight is not None:
        lines.append(f"  MW              {d.mol_weight:,.0f} Da ({d.mol_weight_source})")
    rows = []
    for t in d.targets:
        extra = f" -> {'/'.join(t.neo_substrates)} via {t.e3}" if t.e3 else ""
        used = t.potency_used
        c = t.cellular
        rows.append(
            [
                t.target,
                t.action + extra,
                _fmt_nM(t.potency_nM) if used.unit != "nM-eq" else f"{t.potency_nM:g} nM-eq",
                t.potency_basis,
                "-" if c is None else f"{c.value:g} {c.unit} ({c.cell_line})",
                f"{t.potency.value:g} {t.potency.unit}",
                used.source,
                "" if used.verified else "unverified",
            ]
        )
    headers = ["target", "action", "potency", "basis", "cellular", "biochemical", "source", ""]
    lines += ["", _table(rows, headers)]
    fu = d.fraction_unbound
    if fu is not None:
        has_range = fu.low is not None and fu.high is not None
        rng = f" (range {fu.low:g}-{fu.high:g})" if has_range else ""
        lines += [
            "",
            f"  fraction unbound {fu.value:g}{rng}; {fu.source}"
            f"{'' if fu.verified else '  [unverified]'}",
        ]
        if fu.note:
            lines.append(f"                  {fu.note}")
    else:
        why = "not curated" if d.type == "small_molecule" else f"{d.type.replace('_', ' ')}"
        lines += ["", f"  fraction unbound 1 ({why}; the model treats the drug as fully unbound)"]
    r = d.reference
    ref_txt = f"{r.value:g} {r.unit}" + (
        f" (range {r.low:g}-{r.high:g})" if r.low is not None and r.high is not None else ""
    )
    lines += [
        "",
        f"  reference       {ref_txt} = "
        f"{_fmt_nM(d.reference_nM) if r.unit != 'nM-eq' else f'{d.reference_nM:g} nM-eq'}"
        f"; {r.kind}; {r.source}{'' if r.verified else '  [unverified]'}",
    ]
    if r.note:
        lines.append(f"                  {r.note}")
    lines.append(f"  sources         {', '.join(d.sources)}")
    return payload, "\n".join(lines)


def cmd_infer(args):
    """Class and likely targets of a molecule from its warheads and nearest library drugs."""
    from .. import drugs  # deferred: a command loads its layers only when it runs

    d = drugs.from_smiles(args.smiles, name=args.name)
    inf = d.inference
    payload = {
        "drug_class": d.drug_class,
        "targets": [
            {
                "target": t.target,
                "action": t.action,
                "confidence": t.confidence,
                "potency_nM": t.potency_nM,
                "potency_source": t.potency.source,
            }
            for t in d.targets
        ],
        "nearest": [
            {"name": n["name"], "similarity": n["similarity"], "drug_class": n["drug_class"]}
            for n in inf["nearest"]
        ],
        "warheads": list(inf["warheads"]),
        "confidence": inf["confidence"],
        "evidence": inf["rule"],
        "alternatives": [dict(a) for a in inf["alternatives"]],
        "library_match": inf["library_match"],
        "same_connectivity": inf["same_connectivity"],
        "name": d.name,
        "smiles": d.smiles,
        "inchikey": d.inchikey,
        "formula": d.formula,
        "mol_weight": round(d.mol_weight, 3),
        "descriptors": d.descriptors(),
    }
    lines = [
        f"{d.name}: {d.smiles}",
        f"  formula {d.formula}, MW {d.mol_weight:.2f} g/mol, InChIKey {d.inchikey}",
        f"  class       {d.drug_class} (confidence {inf['confidence']:.2f})",
        f"  evidence    {inf['rule'] or 'none sufficient'}",
        f"  warheads    {', '.join(inf['warheads']) or 'none'}",
    ]
    if inf["library_match"]:
        lines.append(f"  identical to library drug {inf['library_match']!r}")
    elif inf["same_connectivity"]:
        lines.append(
            f"  same connectivity as library drug {inf['same_connectivity']!r} "
            f"(different stereochemistry or tautomer)"
        )
    if d.targets:
        rows = [
            [t.target, t.action, f"{t.confidence:.2f}", f"{_fmt_nM(t.potency_nM)} (by analogy)"]
            for t in d.targets
        ]
        lines += ["", _table(rows, ["target", "action", "confidence", "potency"])]
    rows = [[n["name"], f"{n['similarity']:.3f}", n["drug_class"]] for n in inf["nearest"]]
    lines += [
        "",
        "nearest library drugs (Morgan r=2 Tanimoto):",
        _table(rows, ["name", "similarity", "class"]),
    ]
    return payload, "\n".join(lines)


def register(sub, common):
    p = sub.add_parser(
        "drugs",
        help="the drug library; infer class and targets of a molecule",
        description="The curated myeloma drug library.",
    )
    s = p.add_subparsers(dest="drugs_command", metavar="SUBCOMMAND")
    q = s.add_parser("list", parents=[common], help="list the library")
    q.set_defaults(func=cmd_list)
    q = s.add_parser("show", parents=[common], help="one drug: structure, targets, potencies")
    q.add_argument("name", metavar="NAME", help="drug name or synonym (case-insensitive)")
    q.set_defaults(func=cmd_show)
    q = s.add_parser(
        "infer",
        parents=[common],
        help="class and likely targets of a new molecule from its structure",
    )
    q.add_argument("smiles", metavar="SMILES")
    q.add_argument("--name", default=None, help="a name for the molecule")
    q.set_defaults(func=cmd_infer)
