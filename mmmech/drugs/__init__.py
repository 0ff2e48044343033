"""The drug layer: sourced drug records, the bundled library, doses and structure inference.

Small molecules are RDKit molecules (imported only when a structure is parsed); biologics
(antibodies, bispecifics, CAR T cells) are described records. Every potency, target action and
structure carries its source.

Modules
-------
_library   records (:class:`Drug`, :class:`TargetAction`, :class:`Potency`), library loading,
           dose parsing (:func:`parse_dose`, :func:`dose_nM`), class and target inference
           (:func:`from_smiles`)
_chem      RDKit chemistry (parsing, standardization, fingerprints, warheads)
"""
from . import _library
from ._library import (
    ACTIONS, DRUG_TYPES, DRUG_CLASSES, POTENCY_UNITS, CLASS_RULES, Potency, Reference,
    TargetAction, Drug, library, get, names, parse_dose, dose_nM, from_smiles, standardize,
    warheads, read_library, EFFECTORS,
)

__all__ = ["ACTIONS", "DRUG_TYPES", "DRUG_CLASSES", "POTENCY_UNITS", "CLASS_RULES", "Potency", "Reference", "TargetAction", "Drug", "library", "get", "names", "parse_dose", "dose_nM", "from_smiles", "standardize", "warheads", "read_library", "WARHEADS", "EFFECTORS"]


def __getattr__(name):
    # WARHEADS needs RDKit: resolved on first use so that ``import mmmech.drugs`` stays fast.
    if name == "WARHEADS":
        return _library.WARHEADS
    raise AttributeError(f"module 'mmmech.drugs' has no attribute {name!r}")
