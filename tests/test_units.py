"""Concentrations with units: every boundary carries one; nM inside."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmmech.exceptions import InvalidInputError, UnitError
from mmmech.units import format_nM, parse_assignment, parse_concentration


@pytest.mark.parametrize(
    "text, nM",
    [
        ("10nM", 10.0),
        ("10 nM", 10.0),
        ("1.5uM", 1500.0),
        ("1.5µM", 1500.0),
        ("2mM", 2e6),
        ("250pM", 0.25),
        ("1e-9M", 1.0),
        (".5 uM", 500.0),
    ],
)
def test_molar_units(text, nM):
    assert parse_concentration(text) == pytest.approx(nM)


def test_mass_units_use_molecular_weight():
    # bortezomib label Cmax 112 ng/mL at MW 384.24 g/mol is about 291 nM
    assert parse_concentration("112ng/mL", mol_weight=384.24) == pytest.approx(291.48, abs=0.01)
    # 1 ug/mL == 1 mg/L
    assert parse_concentration("1ug/mL", 500.0) == parse_concentration("1mg/L", 500.0) == 2000.0


@pytest.mark.parametrize(
    "text, needle",
    [
        ("10", "no unit"),
        ("", "expected"),
        ("nM", "expected"),
        ("10 furlongs", "unknown unit"),
        ("10nm", "did you mean 'nM'"),
    ],
)
def test_bad_concentrations(text, needle):
    with pytest.raises(UnitError, match=needle):
        parse_concentration(text, what="dose")


def test_mass_unit_without_weight():
    with pytest.raises(UnitError, match="molecular weight"):
        parse_concentration("1ug/mL")


def test_negative_is_rejected():
    with pytest.raises(InvalidInputError, match=">= 0"):
        parse_concentration("-1nM")


def test_assignment():
    assert parse_assignment("bortezomib=10nM") == ("bortezomib", "10nM")
    assert parse_assignment("bortezomib") == ("bortezomib", None)
    with pytest.raises(InvalidInputError):
        parse_assignment("bortezomib=")


@given(st.floats(min_value=1e-3, max_value=1e6, allow_nan=False))
def test_round_trip_through_format(v):
    text = format_nM(v).replace(" ", "")
    assert math.isclose(parse_concentration(text), v, rel_tol=5e-3)
