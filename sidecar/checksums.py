"""Check-digit algorithms of the identifiers we find and generate: Luhn, NHS mod 11,
Verhoeff and ISO 13616 (IBAN) mod 97. Pure functions on strings of digits (letters for
IBANs); callers strip separators first."""

from __future__ import annotations

__all__ = [
    "iban_valid",
    "luhn_remainder",
    "luhn_valid",
    "mod97",
    "nhs_check",
    "nhs_valid",
    "spanish_ccc_control",
    "verhoeff_check_digit",
    "verhoeff_remainder",
    "verhoeff_valid",
]


def luhn_remainder(digits: str) -> int:
    """The Luhn sum mod 10 (0 for a valid number): cards, Canadian SINs."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10


def luhn_valid(digits: str) -> bool:
    return luhn_remainder(digits) == 0


def nhs_check(body: str) -> int:
    """The NHS number check digit of a 9-digit body; 10 means no valid number, 11 is 0."""
    return 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11


def nhs_valid(digits: str) -> bool:
    check = nhs_check(digits[:9])
    return len(digits) == 10 and check != 10 and check % 11 == int(digits[9])


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)  # fmt: skip
_VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_remainder(digits: str, *, shift: int = 0) -> int:
    """Verhoeff's running check over `digits` (0 for a valid number at shift 0)."""
    check = 0
    for index, char in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[(index + shift) % 8][int(char)]]
    return check


def verhoeff_valid(digits: str) -> bool:
    """Aadhaar numbers carry a Verhoeff check digit."""
    return verhoeff_remainder(digits) == 0


def verhoeff_check_digit(body: str) -> str:
    return str(_VERHOEFF_INV[verhoeff_remainder(body, shift=1)])


def spanish_ccc_control(digits: str) -> int:
    """A Spanish bank account's (CCC) control digit over ten digits, with the Spanish
    banking standard's weights; inside Spanish IBANs."""
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    check = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return {10: 1, 11: 0}.get(check, check)


def mod97(text: str) -> int:
    """ISO 7064 mod 97-10 of a string of digits and letters (A=10 ... Z=35)."""
    return int("".join(str(int(char, 36)) for char in text)) % 97


def iban_valid(compact: str) -> bool:
    """An IBAN without separators: the country and check digits moved to the end, mod 97
    is 1."""
    return len(compact) >= 15 and mod97(compact[4:] + compact[:4]) == 1
