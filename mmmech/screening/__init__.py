"""Screens: every combination of a drug list scored in every context, locally or on Dask,
with a journal that survives interruption."""
from ._screen import (
    screen, ensemble_params, read_drug_list, plan, ScreenPlan, OUT_FORMATS, JOURNAL_SUFFIX,
    SIZES, JournalWarning, SCHEDULER_TIMEOUT,
)

__all__ = ["screen", "ensemble_params", "read_drug_list", "plan", "ScreenPlan", "OUT_FORMATS", "JOURNAL_SUFFIX", "SIZES", "JournalWarning", "SCHEDULER_TIMEOUT"]
