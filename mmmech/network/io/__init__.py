"""Read and write the network formats modelers use: SIF, GraphML, BoolNet, SBML-qual, KEGG KGML,
and mmmech's own TOML. One module per format (:mod:`.sif`, :mod:`.bnet`, :mod:`.graphml`,
:mod:`.sbml`, :mod:`.kgml`, :mod:`.toml`) behind one registry (:mod:`.registry`).

========== ============ ===== ===== ==========================================================
format     extensions   read  write what it carries
========== ============ ===== ===== ==========================================================
sif        .sif .tsv    yes   yes   nodes and signed edges (``A 1 B``, ``A -1 B``; also the
           .txt                     OmniPath-like table ``source interaction target``)
graphml    .graphml     yes   yes   everything mmmech has (nodes with module, kind, rule, tau,
                                    ymax, y0; edges with sign, sources, w, n, EC50; readouts,
                                    parameters, drug actions as graph attributes)
bnet       .bnet        yes   yes   Boolean rules (BoolNet / PyBoolNet ``target, factors``)
sbml-qual  .sbml .xml   yes   yes   Boolean rules as SBML-qual transitions (python-libsbml)
kgml       .kgml .xml   yes   no    KEGG pathway maps: signed relations between gene products
========== ============ ===== ===== ==========================================================

What an imported model is
-------------------------
A :class:`~mmmech.pathways.PathwayModel` with ``curated=False``: its edges carry no literature
sources (validation warns instead of failing), it has no drug actions (drugs cannot attach; set
nodes instead), and ``notes`` says what happened on import. Rules from ``.bnet`` and SBML-qual
files are kept and simulated under mmmech's continuous semantics (``docs/semantics.md``).
Networks without rules (SIF, KGML, GraphML without a ``rule`` attribute) get **default rules**:
a node's activators are combined with OR and its inhibitors enter as AND NOT::

    T = (A1 OR A2 ...) AND NOT I1 AND NOT I2 ...      (only inhibitors: NOT I1 AND NOT I2 ...)

Edges of unknown or both signs (``sign = 0``) are kept in the graph but left out of default
rules. Nodes nobody regulates are inputs: they hold their initial activity, 0 unless the file
says otherwise (SBML-qual ``initialLevel``; mmmech's own comments and annotations), so set them
(``--set NODE=1``) to switch a pathway on. Reading such a network emits a
:class:`DefaultRulesWarning` and records the fact in ``model.notes``.

Names: node names must be identifiers for rules (letters, digits, ``_`` and ``.``); other
characters become ``_`` (``HLA-A`` -> ``HLA_A``), a leading digit gets a ``_`` prefix, the words
AND/OR/NOT/TRUE/FALSE get a ``_`` suffix; the original label stays in the node description.

Safety: files are parsed as data, never executed. XML is checked first with a parser that
refuses entity declarations and never fetches external DTDs or entities (KGML's DOCTYPE line is
allowed and ignored). Malformed files raise :class:`~mmmech.exceptions.ModelFileError` naming
the file, the line (or the XML element) and what is wrong.

Examples
--------
>>> m = loads("A, A\\nB, A & !C\\nC, C\\n", "bnet")
>>> m.nodes["B"].rule, sorted((e.source, e.sign) for e in m.edges)
('A AND NOT C', [('A', 1), ('C', -1)])
>>> dumps(m, "sif").splitlines()
['A\\t1\\tB', 'C\\t-1\\tB']
>>> net = loads("A\\t1\\tC\\nB\\t-1\\tC\\n", "sif")
>>> net.nodes["C"].rule, net.nodes["A"].kind
('A AND NOT B', 'input')
"""

from ...utils import atomic_write
from ._build import (
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    DefaultRulesWarning,
    build_network,
    default_rule,
    safe_name,
)
from ._xml import check_xml
from .registry import (
    FORMATS,
    READ_FORMATS,
    REGISTRY,
    WRITE_FORMATS,
    Format,
    available,
    detect_format,
    dumps,
    load,
    loads,
    read,
    with_initial,
    write,
)
from .toml import parse_model

__all__ = [
    "read",
    "write",
    "loads",
    "dumps",
    "detect_format",
    "load",
    "available",
    "build_network",
    "default_rule",
    "safe_name",
    "with_initial",
    "atomic_write",
    "DefaultRulesWarning",
    "Format",
    "REGISTRY",
    "FORMATS",
    "READ_FORMATS",
    "WRITE_FORMATS",
    "POSITIVE_WORDS",
    "NEGATIVE_WORDS",
    "parse_model",
    "check_xml",
]
