"""Documented entry point for simulations: ``mmmech.model.Simulator``, ``simulate``.

A thin re-export of :mod:`mmmech.simulation.simulator`; new code may import from
:mod:`mmmech.simulation`.
"""

from .simulation.simulator import (
    Attachment,
    EnsembleParams,
    SimulationResult,
    Simulator,
    attach_drugs,
    drug_node_name,
    resolve_drug,
    sample_params,
    simulate,
    simulate_batch,
)

__all__ = [
    "Simulator",
    "SimulationResult",
    "EnsembleParams",
    "simulate",
    "simulate_batch",
    "sample_params",
    "attach_drugs",
    "Attachment",
    "resolve_drug",
    "drug_node_name",
]
