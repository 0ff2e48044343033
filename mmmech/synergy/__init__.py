"""The synergy layer: Bliss, HSA, Loewe and ZIP on simulated or measured dose-response surfaces,
as SynergyFinder computes them.

Modules
-------
_api    public functions (:func:`score_surface`, :func:`score_table`, :func:`read_plate`, fits)
_core   the metrics on batches of surfaces
_fit    four-parameter log-logistic fits (batched, compiled)
_io     reading SynergyFinder long tables and plates
plot    synergy maps (matplotlib)
"""

from ._api import (
    FITS,
    METRICS,
    REPLICATES,
    FitBatch,
    LogLogistic,
    SynergyResult,
    check_metrics,
    fit_loglogistic,
    fit_loglogistic_batch,
    most_synergistic_area,
    read_plate,
    score_blocks,
    score_surface,
    score_table,
)

__all__ = [
    "METRICS",
    "FITS",
    "REPLICATES",
    "check_metrics",
    "SynergyResult",
    "LogLogistic",
    "FitBatch",
    "score_surface",
    "score_table",
    "score_blocks",
    "read_plate",
    "fit_loglogistic",
    "fit_loglogistic_batch",
    "most_synergistic_area",
]
