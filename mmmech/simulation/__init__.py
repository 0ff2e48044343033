"""The simulation layer: drugs + network + context -> batched simulations on the Cython kernels.

Modules
-------
compiled    rules compiled to flat arrays, the only thing the kernels see
propagate   steady states and time courses of the logic ODE (kernel or NumPy reference)
occupancy   target occupancy from unbound concentration and potency
diffusion   linear signed propagation on large networks
simulator   :class:`Simulator`, :func:`simulate`, ensembles of parameters

:mod:`mmmech.model` is the documented entry point and re-exports :mod:`.simulator`.
"""

from .simulator import (
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
