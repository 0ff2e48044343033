"""The network layer: the curated, sourced pathway model and everything that reads or shows it.

Modules
-------
model     :class:`PathwayModel` with its nodes, signed sourced edges and parameters; validation;
          drug attachment
contexts  cell contexts (cell_line, marrow, patient genetics, resistance)
logic     the Boolean rule language (parser and printer)
io        :func:`load` and :func:`read`: mmmech's TOML and the other formats (BoolNet, SIF,
          SBML-qual, GraphML, KGML), one module per format behind one registry
draw      layout and rendering of a model and of a regimen's effect

:mod:`mmmech.pathways` is the documented entry point (the same names).
"""

from .contexts import Context, available_contexts, load_context
from .io import available, load, read
from .logic import RuleSyntaxError, format_rule, literals, parse_rule, variables
from .model import (
    NODE_KINDS,
    SOURCE_PATTERN,
    Attachment,
    Edge,
    Node,
    Parameter,
    PathwayModel,
    ValidationReport,
    attach_drugs,
    drug_node_name,
)

__all__ = [
    "Node",
    "Edge",
    "Parameter",
    "PathwayModel",
    "load",
    "read",
    "available",
    "SOURCE_PATTERN",
    "NODE_KINDS",
    "Attachment",
    "attach_drugs",
    "drug_node_name",
    "ValidationReport",
    "Context",
    "available_contexts",
    "load_context",
    "RuleSyntaxError",
    "format_rule",
    "literals",
    "parse_rule",
    "variables",
]
