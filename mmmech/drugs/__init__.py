"""The drug layer: sourced drug records, the bundled library, doses and structure inference.

Small molecules are RDKit molecules (imported only when a structure is parsed); biologics
(antibodies, bispecifics, CAR T cells) are described records. Every potency, target action and
structure carries its source.

Modules
-------
records    :class:`Drug`, :class:`TargetAction`, :class:`Potency`, :class:`CellularPotency`,
           :class:`FractionUnbound`, :class:`Reference` and the
           vocabularies (:data:`ACTIONS`, :data:`DRUG_TYPES`, :data:`DRUG_CLASSES`, ...)
catalog    library loading (:func:`read_library`, :func:`library`, :func:`get`, :func:`names`)
doses      dose parsing (:func:`parse_dose`, :func:`dose_nM`)
infer      class and target inference from a structure (:func:`from_smiles`, :data:`CLASS_RULES`)
_chem      RDKit chemistry (parsing, standardization, fingerprints, warheads)
"""

from __future__ import annotations

from typing import Any

from .catalog import get, library, names, read_library
from .doses import dose_nM, parse_dose
from .infer import CLASS_RULES, from_smiles, standardize, warheads
from .records import (
    ACTIONS,
    DRUG_CLASSES,
    DRUG_TYPES,
    EFFECTORS,
    POTENCY_UNITS,
    CellularPotency,
    Drug,
    FractionUnbound,
    Potency,
    Reference,
    TargetAction,
)

__all__ = [
    "ACTIONS",
    "DRUG_TYPES",
    "DRUG_CLASSES",
    "POTENCY_UNITS",
    "CLASS_RULES",
    "Potency",
    "CellularPotency",
    "FractionUnbound",
    "Reference",
    "TargetAction",
    "Drug",
    "library",
    "get",
    "names",
    "parse_dose",
    "dose_nM",
    "from_smiles",
    "standardize",
    "warheads",
    "read_library",
    "WARHEADS",
    "EFFECTORS",
]


def __getattr__(name: str) -> Any:
    if name == "WARHEADS":
        # WARHEADS lives in _chem, which imports RDKit: resolved on first use
        from . import _chem  # deferred: so that ``import mmmech.drugs`` stays fast

        return _chem.WARHEADS
    raise AttributeError(f"module 'mmmech.drugs' has no attribute {name!r}")
