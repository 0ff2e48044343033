"""The network layer: the curated, sourced pathway model and everything that reads or shows it.

Modules
-------
model     :class:`PathwayModel` with its nodes, signed sourced edges and parameters; validation;
          drug attachment; the TOML model format; :func:`load` and :func:`read`
contexts  cell contexts (cell_line, marrow, patient genetics, resistance)
logic     the Boolean rule language (parser and printer)
io        other formats (BoolNet, SIF, SBML-qual, GraphML, KGML, JSON) behind one registry
draw      layout and rendering of a model and of a regimen's effect

:mod:`mmmech.pathways` is the documented entry point and re-exports :mod:`.model`.
"""
from .model import (
    Node, Edge, Parameter, PathwayModel, load, read, available, SOURCE_PATTERN, NODE_KINDS,
    Attachment, attach_drugs, drug_node_name, ValidationReport,
)
from .contexts import Context, available_contexts, load_context
from .logic import RuleSyntaxError, format_rule, literals, parse_rule, variables

__all__ = ["Node", "Edge", "Parameter", "PathwayModel", "load", "read", "available", "SOURCE_PATTERN", "NODE_KINDS", "Attachment", "attach_drugs", "drug_node_name", "ValidationReport", "Context", "available_contexts", "load_context", "RuleSyntaxError", "format_rule", "literals", "parse_rule", "variables"]
