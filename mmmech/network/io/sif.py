"""SIF: nodes and signed edges (``A 1 B``, ``A -1 B``; also the OmniPath-like table
``source interaction target``). Read and write."""

from __future__ import annotations

from ...exceptions import ModelFileError
from ..model import PathwayModel
from ._build import _Namer, _sign_of, build_network

__all__ = ["read_sif", "write_sif"]


_HEADER_2ND = {"interaction", "sign", "effect", "type", "relation", "consensus_sign"}
_HEADER_1ST = {"source", "from", "source_genesymbol", "node1", "source_node"}


def read_sif(text: str, origin: str, name: str) -> PathwayModel:
    namer = _Namer()
    nodes, edges = [], []
    unsigned_kinds: dict[str, int] = {}
    first = True
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in (raw.split("\t") if "\t" in raw else raw.split())]
        fields = [f for f in fields if f]
        if first:
            first = False
            if len(fields) >= 2 and (
                fields[1].lower() in _HEADER_2ND or fields[0].lower() in _HEADER_1ST
            ):
                continue
        if len(fields) == 1:
            nodes.append(namer(fields[0]))
            continue
        if len(fields) == 2:
            raise ModelFileError(
                f"{origin}, line {lineno}: expected 'source interaction target' "
                f"(or a single node), got 2 fields {fields!r}"
            )
        sign = _sign_of(fields[1])
        if sign is None:
            unsigned_kinds[fields[1]] = unsigned_kinds.get(fields[1], 0) + 1
            sign = 0
        s = namer(fields[0])
        nodes.append(s)
        for tgt in fields[2:]:
            t = namer(tgt)
            nodes.append(t)
            edges.append((s, t, sign))
    if not nodes:
        raise ModelFileError(
            f"{origin}: no nodes or edges found (expected lines "
            f"'source interaction target', e.g. 'A\\t1\\tB')"
        )
    notes = [namer.note()]
    if unsigned_kinds:
        kinds = ", ".join(f"{k!r} ({v})" for k, v in sorted(unsigned_kinds.items())[:5])
        notes.append(f"interactions without a sign read as unknown-sign edges: {kinds}")
    descriptions = {b: a for a, b in namer.renamed}
    return build_network(
        name, nodes, edges, origin=origin, fmt="SIF", notes=notes, descriptions=descriptions
    )


def write_sif(m: PathwayModel) -> str:
    lines = []
    linked: set[str] = set()
    for e in m.edges:
        linked.update((e.source, e.target))
        signs = (e.sign,) if e.sign in (1, -1) else (1, -1)
        for s in signs:
            lines.append(f"{e.source}\t{s}\t{e.target}")
    for n in m.nodes:
        if n not in linked:
            lines.append(n)
    return "\n".join(lines) + "\n"
