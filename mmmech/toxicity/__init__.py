"""Toxicity and dose modifications: myelosuppression, peripheral neuropathy, renal dosing.

Layer 3.7 (after pk, regimens and populations; before structures): the models are driven by
drug concentration-time profiles from :mod:`mmmech.pk` and by cumulative doses, never by the
network. Every parameter is in ``structures/toxicity.toml`` with its source and population
(``docs/toxicity.md``).

Modules
-------
data              the data file: records, reader (:func:`toxicity_data`)
grading           CTCAE grades of counts (:func:`grade`)
myelosuppression  Friberg semi-mechanistic neutrophil model (:func:`simulate`, reference ODE)
platelets         semi-mechanistic platelet model (Srimani 2022 system; ixazomib, lenalidomide-
                  dexamethasone, bortezomib)
neuropathy        cumulative-dose peripheral neuropathy (bortezomib IV vs SC): per-patient
                  log-normal thresholds
renal             lenalidomide clearance by CrCl and the label's starting doses
course            :func:`apply_dose_modifications`: a patient's course through a regimen's
                  dose-modification rules, cycle by cycle (many patients at once:
                  :func:`apply_dose_modifications_batch`)
"""

from __future__ import annotations

from .course import (
    Health,
    ToxicityCourse,
    apply_dose_modifications,
    apply_dose_modifications_batch,
)
from .data import read_toxicity, toxicity_data
from .grading import grade
from .neuropathy import neuropathy_grade, neuropathy_onset_dose
from .renal import RenalAdjustment, renal_adjustment

__all__ = [
    "Health",
    "RenalAdjustment",
    "ToxicityCourse",
    "apply_dose_modifications",
    "apply_dose_modifications_batch",
    "grade",
    "neuropathy_grade",
    "neuropathy_onset_dose",
    "read_toxicity",
    "renal_adjustment",
    "toxicity_data",
]
