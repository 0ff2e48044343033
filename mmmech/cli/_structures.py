"""mmmech structures binding-site|targets|show|mutation

The CLI holds no science: it parses arguments, calls :mod:`mmmech.structures` and prints.
"""

import warnings

__all__ = ["register"]

_MUTATION_HELP = (
    "a mutation such as 'PSMB5 A49T', 'PSMB5:A49T' or 'PSMB5 p.Ala49Thr', numbered in the scheme "
    "the target registry documents for the gene (PSMB5: mature chain, Thr1 = catalytic threonine; "
    "'PSMB5 A108T precursor' for precursor/UniProt numbering); append 'x20' to set the potency "
    "fold yourself"
)


def register(sub, common):
    p = sub.add_parser(
        "structures",
        help="targets, binding sites and mutations",
        description="Target registry and structure analysis (Biopython).",
    )
    s = p.add_subparsers(dest="structures_command", metavar="SUBCOMMAND")
    q = s.add_parser(
        "binding-site",
        parents=[common],
        help="residues near a ligand in a PDB or mmCIF file",
        description="Residues within CUTOFF Å (heavy atoms) of every copy of a ligand "
        "in a PDB or mmCIF file (format by extension or content; first "
        "model; amino acids only unless --all-residues).",
    )
    q.add_argument("file", metavar="FILE")
    q.add_argument(
        "--ligand", required=True, metavar="RESNAME", help="ligand residue code, e.g. LVY"
    )
    q.add_argument(
        "--cutoff", type=float, default=4.0, metavar="Å", help="distance cutoff in Å (default 4.0)"
    )
    q.add_argument(
        "--all-residues",
        action="store_true",
        help="also report non-protein residues (other ligands, ions, waters)",
    )
    q.set_defaults(func=_binding_site)
    q = s.add_parser("targets", parents=[common], help="the target registry")
    q.set_defaults(func=_targets)
    q = s.add_parser(
        "show",
        parents=[common],
        help="one target: structures, sites, mutations",
        description="Everything the registry holds for one gene (symbol or alias).",
    )
    q.add_argument("gene", metavar="GENE", help="gene symbol or alias, e.g. PSMB5, CRBN, BCMA")
    q.set_defaults(func=_show)
    q = s.add_parser(
        "mutation",
        parents=[common],
        help="check a mutation: wild type, numbering, binding site, potency shifts",
        description="Parse and check a mutation against the target registry and "
        "list the potency folds it imposes on the drugs acting there.",
    )
    q.add_argument("mutation", metavar="'GENE VARIANT'", help=_MUTATION_HELP)
    q.add_argument(
        "--scheme",
        default=None,
        metavar="NAME",
        help="numbering scheme of the position (default: the gene's documented one)",
    )
    q.set_defaults(func=_mutation)


def _binding_site(args):
    from .. import structures  # deferred: a command loads its layers only when it runs

    rows = structures.binding_site(
        args.file, ligand=args.ligand, cutoff=args.cutoff, protein_only=not args.all_residues
    )
    lines = [f"{'ligand':<10} {'chain':<5} {'residue':<9} {'min Å':>6}"]
    for r in rows:
        lig = f"{r['ligand_chain']}{r['ligand_resnum']}"
        res = f"{r['resname']}{r['resnum']}{r['icode']}"
        lines.append(f"{lig:<10} {r['chain']:<5} {res:<9} {r['min_distance']:>6.2f}")
    copies = len({(r["ligand_chain"], r["ligand_resnum"]) for r in rows})
    lines.append(
        f"{len(rows)} residue contacts within {args.cutoff:g} Å of {copies} "
        f"{args.ligand.upper()} copies"
    )
    return rows, "\n".join(lines)


def _targets(args):
    from .. import structures  # deferred: a command loads its layers only when it runs

    payload = [t.to_dict() for t in structures.targets().values()]
    lines = [
        f"{'gene':<9} {'UniProt':<8} {'scheme':<9} {'PDB':<4} {'sites':>5} {'muts':>4}  protein"
    ]
    for t in structures.targets().values():
        lines.append(
            f"{t.gene:<9} {t.uniprot:<8} {t.default_scheme:<9} {len(t.structures):>4} "
            f"{len(t.binding_sites):>5} {len(t.mutations):>4}  {t.protein}"
        )
    return payload, "\n".join(lines)


def _show(args):
    from .. import structures  # deferred: a command loads its layers only when it runs

    t = structures.get_target(args.gene)
    d = t.to_dict()
    lines = [
        f"{t.gene} ({t.uniprot}): {t.protein}",
        f"  role: {t.role}",
        f"  numbering: default {t.default_scheme}; schemes "
        + "; ".join(f"{k} (UniProt = position {s.offset:+d})" for k, s in t.schemes.items()),
    ]
    for s in t.structures:
        flag = "" if s.verified else "  [UNVERIFIED]"
        res = f"{s.resolution:g} Å" if s.resolution is not None else "resolution n/a"
        chains = ", ".join(f"{k}: {'/'.join(v)}" for k, v in s.chains.items())
        lines.append(
            f"  PDB {s.pdb_id}: {s.method}, {res}, {s.drug or '-'} ({s.ligand or '-'}); "
            f"{chains}; {s.source}{flag}"
        )
    for b in t.binding_sites:
        lines.append(
            f"  site {b.name} [{b.scheme}]: {' '.join(f'{a}{p}' for a, p in b.residues)} "
            f"({b.source})"
        )
    for m in t.mutations:
        folds = ", ".join(f"{k} x{v:g}" for k, v in m.folds.items()) or "no fold"
        lines.append(f"  mutation {m.text} [{m.scheme}]: {folds} ({'; '.join(m.sources)})")
    return d, "\n".join(lines)


def _mutation(args):
    from .. import structures  # deferred: a command loads its layers only when it runs

    info = structures.check_mutation(args.mutation, scheme=args.scheme)
    m = structures.parse_mutation(args.mutation, scheme=args.scheme)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", structures.MutationWarning)
        shifts = structures.potency_shifts([m])
    info["potency_shifts"] = {k: dict(v) for k, v in shifts.items()}
    info["shift_details"] = shifts.details
    info["warnings"] = list(shifts.warnings)
    pos = ", ".join(f"{k} {v}" for k, v in info["positions"].items() if v is not None)
    lines = [
        f"{info['mutation']}: {pos} (UniProt {info['uniprot_position']})",
        "  wild type: "
        + (
            f"{info['wild_type']} confirmed ({info['wild_type_source']})"
            if info["wild_type_checked"]
            else f"{info['wild_type']} not checked (no sequence for this position)"
        ),
        "  binding site: "
        + (
            ", ".join(info["binding_sites"])
            if info["in_binding_site"]
            else "outside the known binding sites"
        ),
    ]
    for doc in info["documented"]:
        lines.append(f"  documented: {doc['effect']} ({'; '.join(doc['sources'])})")
    for drug, per in info["potency_shifts"].items():
        for gene, fold in per.items():
            lines.append(f"  {drug}: potency at {gene} x{fold:g}")
    for w in info["warnings"]:
        lines.append(f"  warning: {w}")
    return info, "\n".join(lines)
