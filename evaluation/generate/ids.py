"""Checksum-valid structured identifiers, and the checks that prove them valid.

A detector that verifies checksums (Presidio does for cards, IBANs, NHS, Aadhaar, SIN, the
Italian fiscal code) would skip an invalid number, and the corpus would then measure the
generator's mistakes instead of the detector. So every number here passes its real check, and
the matching `*_ok` function is what the tests run. Values are drawn from the given
`random.Random` only, so a seed fixes them.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import date

from sidecar.checksums import (
    luhn_remainder,
    mod97,
    nhs_check,
    spanish_ccc_control,
    verhoeff_check_digit,
    verhoeff_valid,
)

__all__ = [
    "IBAN_COUNTRIES",
    "aadhaar",
    "aadhaar_ok",
    "card",
    "card_ok",
    "digits",
    "fiscal_code",
    "fiscal_code_ok",
    "iban",
    "iban_ok",
    "nhs",
    "nhs_ok",
    "nif",
    "nif_ok",
    "nino",
    "nino_ok",
    "sin",
    "sin_ok",
    "ssn",
    "ssn_ok",
]


def digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _only_alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum()).upper()


def _group(text: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(text[at : at + size])
        at += size
    if at < len(text):
        parts.append(text[at:])
    return sep.join(p for p in parts if p)


# --- cards (Luhn) -------------------------------------------------------------------------


def _luhn_complete(body: str) -> str:
    return next(body + c for c in "0123456789" if luhn_remainder(body + c) == 0)


def card(rng: random.Random) -> str:
    """Visa, Mastercard (51-55 and the 2221-2720 range) or Amex, in a common written form."""
    brand = rng.choice(("visa", "visa", "mc", "mc2", "amex"))
    if brand == "visa":
        prefix, length = "4", 16
    elif brand == "mc":
        prefix, length = str(rng.randrange(51, 56)), 16
    elif brand == "mc2":
        prefix, length = str(rng.randrange(2221, 2721)), 16
    else:
        prefix, length = rng.choice(("34", "37")), 15
    number = _luhn_complete(prefix + digits(rng, length - len(prefix) - 1))
    sizes = (4, 6, 5) if length == 15 else (4, 4, 4, 4)
    return _group(number, sizes, rng.choice(("", " ", " ", "-")))


def card_ok(text: str) -> bool:
    digits = _only_alnum(text)
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn_remainder(digits) == 0


# --- IBAN (mod-97 plus national check digits where they exist) ---------------------------

# Odd/even position values of the Italian CIN and fiscal-code check character (same tables).
_ODD_DIGITS = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)  # also the values of A-J
_IT_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (*_ODD_DIGITS, *_ODD_DIGITS, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
        strict=True,
    )
)  # fmt: skip
_IT_EVEN = {ch: (int(ch) if ch.isdigit() else ord(ch) - ord("A")) for ch in _IT_ODD}


def _it_check_char(text: str) -> str:
    total = sum(_IT_ODD[ch] if i % 2 == 0 else _IT_EVEN[ch] for i, ch in enumerate(text))
    return chr(ord("A") + total % 26)


def _bban(rng: random.Random, country: str) -> str:
    if country == "DE":
        return rng.choice(("10070000", "37040044", "50010517", "70150000")) + digits(rng, 10)
    if country == "GB":
        bank, sort_prefix = rng.choice((("NWBK", "60"), ("BARC", "20"), ("MIDL", "40")))
        return bank + sort_prefix + digits(rng, 12)
    if country == "FR":
        bank = rng.choice(("30004", "30003", "20041", "30002", "10278"))
        branch, account = digits(rng, 5), digits(rng, 11)
        # RIB key, per the French RIB standard.
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        return f"{bank}{branch}{account}{key:02d}"
    if country == "NL":
        bank = rng.choice(("ABNA", "INGB", "RABO", "TRIO", "SNSB"))
        while True:  # the Dutch "elfproef": digit-weighted sum divisible by 11
            account = digits(rng, 10)
            if sum(int(d) * (10 - i) for i, d in enumerate(account)) % 11 == 0:
                return bank + account
    if country == "IT":
        abi = rng.choice(("03069", "02008", "05034", "03062"))
        body = abi + digits(rng, 5) + digits(rng, 12)
        return _it_check_char(body) + body
    bank = rng.choice(("2100", "0049", "0182", "0081", "2085"))
    branch, account = digits(rng, 4), digits(rng, 10)
    control = f"{spanish_ccc_control('00' + bank + branch)}{spanish_ccc_control(account)}"
    return f"{bank}{branch}{control}{account}"


IBAN_COUNTRIES = ("DE", "FR", "ES", "NL", "GB", "IT")


def iban(rng: random.Random, country: str | None = None) -> str:
    """An IBAN of one of IBAN_COUNTRIES, electronic or grouped (print) format."""
    country = country or rng.choice(IBAN_COUNTRIES)
    bban = _bban(rng, country)
    value = f"{country}{98 - mod97(bban + country + '00'):02d}{bban}"
    return value if rng.random() < 0.45 else _group(value, (4,) * 8, " ")


def iban_ok(text: str) -> bool:
    value = _only_alnum(text)
    return len(value) >= 15 and mod97(value[4:] + value[:4]) == 1


# --- US SSN --------------------------------------------------------------------------------


def ssn(rng: random.Random) -> str:
    """An SSN the SSA could issue (area 001-899 except 666, group and serial non-zero)."""
    while True:
        area = rng.randrange(1, 900)
        text = f"{area:03d}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"
        if ssn_ok(text):
            break
    return _group(text, (3, 2, 4), rng.choice(("-", "-", "-", " ", "")))


def ssn_ok(text: str) -> bool:
    digits = _only_alnum(text)
    return (
        len(digits) == 9
        and digits.isdigit()
        and digits[:3] not in ("000", "666")
        and digits[0] != "9"
        and digits[3:5] != "00"
        and digits[5:] != "0000"
        and len(set(digits)) > 1
        and digits not in ("123456789", "078051120")
    )


# --- UK NHS (mod 11) and NINO ----------------------------------------------------------------


def nhs(rng: random.Random) -> str:
    while True:
        body = str(rng.randrange(4, 7)) + digits(rng, 8)
        check = nhs_check(body)
        if check != 10:  # 10 means no valid number with this body
            return _group(body + str(check % 11), (3, 3, 4), rng.choice((" ", " ", "-", "")))


def nhs_ok(text: str) -> bool:
    digits = _only_alnum(text)
    return len(digits) == 10 and digits.isdigit() and nhs_check(digits[:9]) % 11 == int(digits[9])


_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NINO_BAD = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")
_NINO = re.compile(rf"[{_NINO_FIRST}][{_NINO_SECOND}]\d{{6}}[A-D]")


def nino(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
        if prefix not in _NINO_BAD:
            break
    value = prefix + digits(rng, 6) + rng.choice("ABCD")
    return value if rng.random() < 0.4 else _group(value, (2, 2, 2, 2, 1), " ")


def nino_ok(text: str) -> bool:
    value = _only_alnum(text)
    return bool(_NINO.fullmatch(value)) and value[:2] not in _NINO_BAD


# --- ES NIF (DNI letter) ---------------------------------------------------------------------

_NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def nif(rng: random.Random) -> str:
    number = rng.randrange(10**6, 10**8)
    return f"{number:08d}{rng.choice(('', '', '-'))}{_NIF_LETTERS[number % 23]}"


def nif_ok(text: str) -> bool:
    value = _only_alnum(text)
    return len(value) == 9 and value[:8].isdigit() and _NIF_LETTERS[int(value[:8]) % 23] == value[8]


# --- IT fiscal code ------------------------------------------------------------------------

_MONTH_LETTERS = "ABCDEHLMPRST"
_COMUNI = ("H501", "F205", "A944", "L219", "F839", "G273", "D612", "L736", "B157", "C351")


def _letters(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.upper() if ch.isalpha())


def _name_code(name: str, *, given: bool) -> str:
    letters = _letters(name)
    consonants = [ch for ch in letters if ch not in "AEIOU"]
    vowels = [ch for ch in letters if ch in "AEIOU"]
    if given and len(consonants) >= 4:
        return consonants[0] + consonants[2] + consonants[3]
    # The codice fiscale pads a name with fewer than three letters with X (DM 345/1976).
    return ("".join(consonants + vowels) + "XXX")[:3]


def fiscal_code(rng: random.Random, *, first: str, last: str, born: date, female: bool) -> str:
    """The codice fiscale of a person: surname, name, birth date, comune, check character."""
    day = born.day + (40 if female else 0)
    body = (
        _name_code(last, given=False)
        + _name_code(first, given=True)
        + f"{born.year % 100:02d}{_MONTH_LETTERS[born.month - 1]}{day:02d}"
        + rng.choice(_COMUNI)
    )
    return body + _it_check_char(body)


def fiscal_code_ok(text: str) -> bool:
    value = _only_alnum(text)
    return len(value) == 16 and _it_check_char(value[:15]) == value[15]


# --- CA SIN (Luhn) and IN Aadhaar (Verhoeff) ----------------------------------------------


def sin(rng: random.Random) -> str:
    number = _luhn_complete(rng.choice("1234567") + digits(rng, 7))
    return _group(number, (3, 3, 3), rng.choice((" ", "-", "-", "")))


def sin_ok(text: str) -> bool:
    digits = _only_alnum(text)
    return len(digits) == 9 and digits.isdigit() and digits[0] in "1234567" and card_ok(digits)


def aadhaar(rng: random.Random) -> str:
    """First digit 2-9, Verhoeff check digit; never a palindrome (Presidio rejects those)."""
    while True:
        body = str(rng.randrange(2, 10)) + digits(rng, 10)
        number = body + verhoeff_check_digit(body)
        if number != number[::-1]:
            return _group(number, (4, 4, 4), rng.choice((" ", " ", "-", "")))


def aadhaar_ok(text: str) -> bool:
    digits = _only_alnum(text)
    return (len(digits) == 12 and digits.isdigit() and digits[0] in "23456789") and verhoeff_valid(
        digits
    )
