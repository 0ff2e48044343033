"""Doses: ``'DRUG=AMOUNT'`` text and amounts with units, converted to nM for a known drug."""

from __future__ import annotations

from ..exceptions import InvalidInputError, UnitError
from ..units import parse_assignment, parse_concentration
from .catalog import get
from .records import NOMINAL_UNIT, Drug

__all__ = ["parse_dose", "dose_nM"]


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def parse_dose(text: str, what: str = "dose") -> tuple[Drug, float]:
    """Parse ``'DRUG=AMOUNT'`` or ``'DRUG'`` into ``(Drug, concentration in nM)``.

    Without an amount the drug's reference concentration is used. Mass units (``ng/mL``,
    ``ug/mL``, ``mg/L`` ...) are converted with the drug's molecular weight. A bare number is
    an error, never a guess.

    Parameters
    ----------
    text : str
        ``'bortezomib=10nM'``, ``'daratumumab=400ug/mL'``, ``'lenalidomide'``.
    what : str
        Names the argument in error messages.

    Returns
    -------
    (Drug, float)
        The drug and its concentration in nM (nM-equivalents for CAR-T).

    Examples
    --------
    >>> parse_dose("bortezomib=1.5uM")[1]
    1500.0
    """
    name, amount = parse_assignment(text, what=what)
    if _looks_numeric(name):
        raise UnitError(
            f"{what}: {text!r} is a bare number; write DRUG=AMOUNT with a unit, "
            f"e.g. 'bortezomib={name}nM'"
        )
    drug = get(name)
    if amount is None:
        if drug.reference_nM is None:
            raise InvalidInputError(
                f"{what}: {drug.name!r} has no reference concentration; "
                f"give one, e.g. '{drug.name}=10nM'"
            )
        return drug, float(drug.reference_nM)
    return drug, dose_nM(drug, amount, what=f"{what} of {drug.name!r}")


def dose_nM(drug: Drug, amount: str, what: str = "dose") -> float:
    """One amount of a known drug in nM: ``'10nM'``, ``'400ug/mL'`` (mass units with the
    drug's molecular weight) or, for cell therapies only, ``'9nM-eq'`` (nominal
    occupancy-equivalents). A bare number or an unknown unit is an error naming `what`.

    Examples
    --------
    >>> dose_nM(get("bortezomib"), "1.5uM")
    1500.0
    """
    if not isinstance(amount, str):
        raise InvalidInputError(
            f"{what}: an amount must be text with a unit such as '10nM', got "
            f"{type(amount).__name__} {amount!r:.40}"
        )
    compact = amount.replace(" ", "")
    if compact.endswith(NOMINAL_UNIT):
        if drug.type != "cell_therapy":
            raise UnitError(
                f"{what}: the unit {NOMINAL_UNIT!r} is reserved for cell therapies; "
                f"use a concentration such as '10nM'"
            )
        return parse_concentration(compact[: -len(NOMINAL_UNIT)] + "nM", what=what)
    if drug.type == "cell_therapy":
        # still reject bare numbers and unknown units with the usual messages first
        parse_concentration(amount, mol_weight=1.0, what=what)
        raise UnitError(
            f"{what}: {drug.name!r} is a cell therapy, dosed in nominal "
            f"occupancy-equivalents; write e.g. '{drug.name}=9{NOMINAL_UNIT}' "
            f"(reference {drug.reference_nM:g} {NOMINAL_UNIT})"
        )
    return parse_concentration(amount, mol_weight=drug.mol_weight, what=what)
