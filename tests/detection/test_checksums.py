"""Check-digit algorithms against published examples, and single-digit changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.checksums import (
    iban_valid,
    luhn_valid,
    mod97,
    nhs_check,
    nhs_valid,
    spanish_ccc_control,
    verhoeff_check_digit,
    verhoeff_valid,
)

# Published examples: the Luhn article's 79927398713 and the test Visa number; NHS
# Digital's 943 476 5919; Verhoeff's 236 -> 2363 (Wikipedia); the ECBS IBAN examples.
LUHN = ("79927398713", "4111111111111111", "5555555555554444", "046454286")
NHS = ("9434765919", "4010232137")
VERHOEFF = ("2363", "123451")
IBANS = ("GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606")


@pytest.mark.parametrize("number", LUHN)
def test_luhn_examples(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", NHS)
def test_nhs_examples(number: str) -> None:
    assert nhs_valid(number)
    assert nhs_check(number[:9]) % 11 == int(number[9])


@pytest.mark.parametrize("number", VERHOEFF)
def test_verhoeff_examples(number: str) -> None:
    assert verhoeff_valid(number)
    assert verhoeff_check_digit(number[:-1]) == number[-1]


@pytest.mark.parametrize("iban", IBANS)
def test_iban_examples(iban: str) -> None:
    assert iban_valid(iban)
    assert mod97(iban[4:] + iban[:4]) == 1


def _changed(number: str, index: int, digit: int) -> str:
    return number[:index] + str(digit) + number[index + 1 :]


@given(st.sampled_from(LUHN + NHS + VERHOEFF), st.data())
def test_any_single_digit_change_is_caught(number: str, data: st.DataObject) -> None:
    """Luhn, mod 11 and Verhoeff all catch every single-digit error."""
    index = data.draw(st.integers(0, len(number) - 1))
    digit = data.draw(st.integers(0, 9).filter(lambda d: d != int(number[index])))
    changed = _changed(number, index, digit)
    valid = {"luhn": luhn_valid, "nhs": nhs_valid, "verhoeff": verhoeff_valid}
    kind = "luhn" if number in LUHN else "nhs" if number in NHS else "verhoeff"
    assert not valid[kind](changed)


@given(st.sampled_from(IBANS), st.data())
def test_iban_single_character_change_is_caught(iban: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(4, len(iban) - 1))
    alphabet = "0123456789" if iban[index].isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    other = data.draw(st.sampled_from(alphabet).filter(lambda c: c != iban[index]))
    assert not iban_valid(iban[:index] + other + iban[index + 1 :])


def test_spanish_ccc_control_digits() -> None:
    """The CCC 2100 0418 45 0200051332 (the ES91 2100 0418 4502 0005 1332 IBAN example)."""
    assert spanish_ccc_control("00" + "2100" + "0418") == 4
    assert spanish_ccc_control("0200051332") == 5
    assert iban_valid("ES9121000418450200051332")
