"""Virtual populations as data: the bundled ``populations/*.toml`` and any file in their format.

A population is a set of distributions over patient properties, each with its source:
cytogenetic groups and features mapped to the bundled patient contexts (``t11_14``, ``t4_14``,
``maf``, ``del17p``, ``gain1q``, ...), M-protein isotype and baseline level, age, body size
(weight and height, BSA computed from them) and renal function (creatinine clearance), prior
therapy, and optional levels on model inputs. Sampling is seeded and keyed per patient:
patient ``i`` is the same for any ``n > i``, in every arm and every run. Format and every
number with its source: ``docs/populations.md``.

Modules
-------
records   :class:`Population`, :class:`Patient` and the parts of a population
reader    :func:`read_population` (parsing and validation, one-line errors)
library   :func:`available`, :func:`load`, :func:`subgroup_population`, :func:`with_mix` (a
          trial's enrolled share of a feature or median of a level)
patients  :func:`load_patient`, :func:`available_patients`, :func:`read_patient` (one patient
          as a file: ``patients/*.toml``)
sampler   :func:`sample`, :func:`patient`, :func:`to_dataframe`, :func:`bsa`
eligibility :func:`enrol` (the first eligible patients of the keyed sequence),
          :func:`with_eligibility` (a trial's criteria merged into the population's)

Examples
--------
>>> from mmmech import populations
>>> populations.available()
['ndmm', 'rrmm']
>>> first = populations.sample("ndmm", 3, seed=1)
>>> first[:2] == populations.sample("ndmm", 2, seed=1)
True
"""

from __future__ import annotations

from .eligibility import (
    DEFAULT_ELIGIBILITY,
    Enrolment,
    eligibility_reason,
    enrol,
    with_eligibility,
)
from .library import available, load, subgroup_population, with_mix
from .patients import available_patients, known_features, load_patient, read_patient
from .reader import DISTRIBUTIONS, ISOTYPES, known_contexts, read_population
from .records import (
    UNCHECKED,
    BodySpec,
    Distribution,
    Eligibility,
    Feature,
    Group,
    Health,
    Isotypes,
    Member,
    Patient,
    Population,
    Provenance,
)
from .sampler import bsa, patient, sample, stream, to_dataframe

__all__ = [
    "DEFAULT_ELIGIBILITY",
    "UNCHECKED",
    "Eligibility",
    "Enrolment",
    "eligibility_reason",
    "enrol",
    "with_eligibility",
    "subgroup_population",
    "with_mix",
    "DISTRIBUTIONS",
    "ISOTYPES",
    "BodySpec",
    "Distribution",
    "Feature",
    "Group",
    "Health",
    "Isotypes",
    "Member",
    "Patient",
    "Population",
    "Provenance",
    "available",
    "available_patients",
    "bsa",
    "known_contexts",
    "known_features",
    "load_patient",
    "read_patient",
    "load",
    "patient",
    "read_population",
    "sample",
    "stream",
    "to_dataframe",
]
