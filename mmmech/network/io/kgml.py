"""KEGG KGML pathway maps: signed relations between gene products (read only)."""

from __future__ import annotations

import io
import warnings
from xml.etree import ElementTree as ET

from ...exceptions import ModelFileError
from ..model import PathwayModel
from ._build import DefaultRulesWarning, _Namer, build_network, safe_name
from ._xml import _expect_root

__all__ = ["read_kgml", "KGML_SIGNS"]


#: KGML relation subtypes that carry a sign (others -- binding, phosphorylation, ... -- do not)
KGML_SIGNS = {"activation": 1, "expression": 1, "inhibition": -1, "repression": -1}


def _kgml_label(entry):
    """Display symbol of a KGML entry: the first name in its graphics label."""
    g = entry.graphics[0] if getattr(entry, "graphics", None) else None
    text = (getattr(g, "name", "") or "").strip() if g is not None else ""
    first = text.split(",")[0].strip().rstrip(".").strip() if text else ""
    if not first:
        first = (entry.name or f"entry{entry.id}").split()[0]
    return first


def read_kgml(data: bytes, origin: str, name: str) -> PathwayModel:
    """Read a KEGG KGML map: signed relations between gene products, complexes and compounds.

    Gene entries are named by their first symbol (``graphics name``; several genes in one
    box, as KEGG draws paralogs, share that node, their KEGG ids kept in the description);
    entries showing the same symbol are one node. A group (complex) becomes one node named
    by its members joined with ``_`` (e.g. ``NFKB1_RELA``), active when all members are
    (rule: AND of members). activation/expression relations are +1 edges,
    inhibition/repression -1; relations with only unsigned subtypes (binding,
    phosphorylation, ...) or to other maps are dropped, and counted in ``notes``.
    """
    from Bio.KEGG.KGML import KGML_parser  # deferred: Biopython, needed only for KGML

    _expect_root(data, origin, "pathway", "KEGG KGML")
    try:
        pathways = list(KGML_parser.parse(io.BytesIO(data)))
    except (
        KeyError,
        ValueError,
        AttributeError,
        TypeError,
        LookupError,
        IndexError,
        ET.ParseError,
    ) as exc:
        raise ModelFileError(f"{origin}: invalid KGML: {exc!r}") from None
    if not pathways:
        raise ModelFileError(f"{origin}: no <pathway> element")
    pw = pathways[0]
    namer = _Namer()
    node_of: dict[int, str] = {}
    desc: dict[str, str] = {}
    for eid, entry in sorted(pw.entries.items()):
        if entry.type in ("gene", "compound", "ortholog", "enzyme", "reaction", "other"):
            nm = namer(_kgml_label(entry))
            node_of[eid] = nm
            ids = " ".join((entry.name or "").split())
            prev = desc.get(nm, "")
            if ids and ids not in prev:
                desc[nm] = f"{prev}; {ids}".strip("; ") if prev else f"KEGG {ids}"
    rules, extra_edges = {}, []
    for eid, entry in sorted(pw.entries.items()):
        if entry.type != "group":
            continue
        members = []
        for comp in entry.components:
            cid = int(comp.id)
            if cid not in pw.entries:
                raise ModelFileError(
                    f'{origin}, <entry id="{eid}">: component id {cid} is not an entry'
                )
            if cid in node_of and node_of[cid] not in members:
                members.append(node_of[cid])
        if not members:
            continue
        members.sort()
        nm = namer("_".join(members)) if len(members) > 1 else members[0]
        node_of[eid] = nm
        if len(members) > 1:
            desc[nm] = f"complex (KGML group {eid}) of {', '.join(members)}"
            rules[nm] = " AND ".join(members)
            extra_edges += [(mb, nm, 1, "complex member") for mb in members]
    edges: list[tuple] = []
    dropped: dict[str, int] = {}
    to_maps, ambiguous = 0, 0
    for rel in pw.relations:
        try:
            e1, e2 = rel._entry1, rel._entry2
        except AttributeError:  # pragma: no cover - Biopython internals
            raise ModelFileError(f"{origin}: unexpected KGML relation object") from None
        for eid in (e1, e2):
            if eid not in pw.entries:
                raise ModelFileError(
                    f'{origin}, <relation entry1="{e1}" entry2="{e2}">: entry {eid} is not defined'
                )
        if e1 not in node_of or e2 not in node_of:
            to_maps += 1
            continue
        subs = [s[0] for s in rel.subtypes]
        sg = {KGML_SIGNS[s] for s in subs if s in KGML_SIGNS}
        if not sg:
            for s in subs or ["(none)"]:
                dropped[s] = dropped.get(s, 0) + 1
            continue
        if len(sg) > 1:
            ambiguous += 1
        edges.append(
            (
                node_of[e1],
                node_of[e2],
                sg.pop() if len(sg) == 1 else 0,
                f"KGML {rel.type}: {', '.join(subs)}",
            )
        )
    nodes = list(dict.fromkeys(node_of.values()))
    notes = [
        namer.note(),
        f"KEGG {getattr(pw, 'name', '')} {getattr(pw, 'title', '')!s}: {len(edges)} signed "
        f"relations (activation/expression +1, inhibition/repression -1)",
    ]
    if dropped:
        notes.append(
            "relations without a sign dropped: "
            + ", ".join(f"{k} ({v})" for k, v in sorted(dropped.items()))
        )
    if to_maps:
        notes.append(f"{to_maps} relation(s) to pathway-map entries dropped")
    if ambiguous:
        notes.append(f"{ambiguous} relation(s) both activating and inhibiting kept with sign 0")
    # complexes keep their AND rule (OR'ed with any other activators); every other node gets
    # the default rule
    base = build_network(name, nodes, edges + extra_edges, fmt="KGML", warn=False)
    all_rules = {k: n.rule for k, n in base.nodes.items() if n.rule is not None}
    for k, r in rules.items():
        others = [e for e in base.edges if e.target == k and e.note != "complex member"]
        acts = [e.source for e in others if e.sign > 0]
        inhs = [e.source for e in others if e.sign < 0]
        if acts:
            r = f"({r}) OR {' OR '.join(acts)}"
        if inhs:
            r = f"({r})" + "".join(f" AND NOT {i}" for i in inhs)
        all_rules[k] = r
    msg = (
        f"{origin}: the KGML map has no Boolean rules; default rules given to "
        f"{len(all_rules)} of {len(nodes)} nodes (activators OR'ed, inhibitors AND NOT; "
        f"complexes: AND of their members); nodes without signed inputs are inputs held at 0 "
        f"unless set"
    )
    warnings.warn(msg, DefaultRulesWarning, stacklevel=4)
    mname = safe_name(str(getattr(pw, "name", "") or name)).strip("_") or name
    return build_network(
        mname,
        nodes,
        edges + extra_edges,
        origin=origin,
        fmt="KGML",
        rules=all_rules,
        descriptions=desc,
        notes=[msg] + notes,
        description=str(getattr(pw, "title", "") or ""),
    )
