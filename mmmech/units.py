"""Concentrations with units.

Inside mmmech every concentration is in nM. At every boundary (CLI, files) a concentration
carries its unit; a bare number is an error, never a guess.

Molar units: ``pM nM uM µM μM mM M``. Mass units (``pg/mL ng/mL ug/mL µg/mL mg/mL mg/L
ug/L g/L``) need the drug's molecular weight in g/mol (Da).

Examples
--------
>>> parse_concentration("10nM")
10.0
>>> parse_concentration("1.5 uM")
1500.0
>>> round(parse_concentration("112 ng/mL", mol_weight=384.24), 1)   # bortezomib Cmax
291.5
"""

from __future__ import annotations

import math
import re

from .exceptions import InvalidInputError, UnitError

__all__ = [
    "MOLAR_UNITS",
    "MASS_UNITS",
    "parse_concentration",
    "parse_assignment",
    "to_nM",
    "format_nM",
]

# factor to nM
MOLAR_UNITS = {"pM": 1e-3, "nM": 1.0, "uM": 1e3, "µM": 1e3, "μM": 1e3, "mM": 1e6, "M": 1e9}
# factor to g/L
MASS_UNITS = {
    "pg/mL": 1e-9,
    "ng/mL": 1e-6,
    "ug/mL": 1e-3,
    "µg/mL": 1e-3,
    "μg/mL": 1e-3,
    "mg/mL": 1.0,
    "ug/L": 1e-6,
    "µg/L": 1e-6,
    "mg/L": 1e-3,
    "g/L": 1.0,
}
_ALL_UNITS = {**MOLAR_UNITS, **MASS_UNITS}
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RX = re.compile(rf"^\s*({_NUM})\s*([^\d\s].*?)?\s*$")


def to_nM(
    value: float, unit: str, mol_weight: float | None = None, what: str = "concentration"
) -> float:
    """Convert `value` in `unit` to nM (mass units need `mol_weight` in g/mol)."""
    if unit in MOLAR_UNITS:
        return float(value) * MOLAR_UNITS[unit]
    if unit in MASS_UNITS:
        if mol_weight is None or not (mol_weight > 0):
            raise UnitError(
                f"{what}: mass unit {unit!r} needs a molecular weight, and none is known"
            )
        return float(value) * MASS_UNITS[unit] / float(mol_weight) * 1e9
    close = [u for u in _ALL_UNITS if u.lower() == str(unit).lower()]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnitError(
        f"{what}: unknown unit {unit!r}; expected one of "
        f"{', '.join(k for k in _ALL_UNITS if k not in ('μM', 'μg/mL'))}{hint}"
    )


def parse_concentration(
    text: str, mol_weight: float | None = None, what: str = "concentration"
) -> float:
    """Parse a concentration such as ``'10nM'``, ``'2.5 uM'`` or ``'405 ug/mL'`` into nM.

    Parameters
    ----------
    text : str
        A number followed by a unit.
    mol_weight : float, optional
        Molecular weight in g/mol, needed for mass units.
    what : str
        Names the argument in error messages (for example ``"dose of 'bortezomib'"``).

    Returns
    -------
    float
        The concentration in nM (finite, >= 0).
    """
    if not isinstance(text, str) or not text.strip():
        raise UnitError(f"{what}: expected a number with a unit such as '10nM', got {text!r}")
    m = _RX.match(text)
    if not m:
        raise UnitError(f"{what}: expected a number with a unit such as '10nM', got {text!r}")
    number, unit = m.group(1), m.group(2)
    if unit is None:
        raise UnitError(
            f"{what}: {text!r} has no unit; write it with one, e.g. '{number}nM' or '{number}uM'"
        )
    value = to_nM(float(number), unit.strip(), mol_weight, what)
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"{what}: must be finite and >= 0, got {text!r}")
    return value


def parse_assignment(text: str, what: str = "argument") -> tuple[str, str | None]:
    """Split ``'NAME=VALUE'`` into ``(NAME, VALUE)``; ``'NAME'`` gives ``(NAME, None)``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{what}: expected NAME or NAME=VALUE, got {text!r}")
    name, sep, value = text.partition("=")
    name = name.strip()
    if not name:
        raise InvalidInputError(f"{what}: expected NAME or NAME=VALUE, got {text!r}")
    if sep and not value.strip():
        raise InvalidInputError(f"{what}: {text!r} has '=' but no value after it")
    return name, (value.strip() if sep else None)


def format_nM(value: float) -> str:
    """Human-readable concentration from nM, e.g. ``format_nM(1500) == '1.5 µM'``."""
    v = float(value)
    for unit, f in (("mM", 1e6), ("µM", 1e3)):
        if abs(v) >= f:
            return f"{v / f:.3g} {unit}"
    if 0 < abs(v) < 1:
        return f"{v * 1e3:.3g} pM"
    return f"{v:.3g} nM"
