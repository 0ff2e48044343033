"""Documented entry point for the network layer: ``mmmech.pathways.load("myeloma")``.

A thin re-export of :mod:`mmmech.network.model`; new code may import from :mod:`mmmech.network`.
"""
from .network.model import (
    Node, Edge, Parameter, PathwayModel, load, read, available, SOURCE_PATTERN, NODE_KINDS,
    Attachment, attach_drugs, drug_node_name, ValidationReport,
)

__all__ = ["Node", "Edge", "Parameter", "PathwayModel", "load", "read", "available", "SOURCE_PATTERN", "NODE_KINDS", "Attachment", "attach_drugs", "drug_node_name", "ValidationReport"]
