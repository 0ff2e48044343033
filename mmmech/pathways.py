"""Documented entry point for the network layer: ``mmmech.pathways.load("myeloma")``.

The names of :mod:`mmmech.network` (models, loading and reading, validation, drug attachment);
new code may import from :mod:`mmmech.network` directly.
"""

from .network import (
    NODE_KINDS,
    SOURCE_PATTERN,
    Attachment,
    Edge,
    Node,
    Parameter,
    PathwayModel,
    ValidationReport,
    attach_drugs,
    available,
    drug_node_name,
    load,
    read,
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
]
