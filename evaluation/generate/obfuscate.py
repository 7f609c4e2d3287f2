"""Adversarial renderings of a personal value, and how to undo each one.

Every transform returns the exact text that goes into the document; the span covers all of it
(the whole base64 segment, every spaced digit, both table cells and the separator between them).
`undo` maps a rendering back to something whose `key` equals the value's (or, for base64 of a
sentence, contains it): the tests use it to prove the label still names the planted value.
"""

from __future__ import annotations

import base64
import html
import random
import re
import unicodedata
import urllib.parse
from collections.abc import Callable

__all__ = ["APPLIES", "KINDS", "key", "transform", "undo"]

# Which entity types each obfuscation is planted on (chosen where the trick is seen in the wild).
APPLIES: dict[str, tuple[str, ...]] = {
    "zero_width": ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN"),
    "fullwidth": ("PHONE_NUMBER", "CREDIT_CARD", "EMAIL_ADDRESS", "US_SSN", "IBAN_CODE", "UK_NINO"),
    "math_digits": ("PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IN_AADHAAR", "UK_NHS", "CA_SIN"),
    "homoglyph": ("PERSON", "EMAIL_ADDRESS"),
    "spaced_digits": ("CREDIT_CARD", "PHONE_NUMBER", "US_SSN", "IN_AADHAAR", "UK_NHS", "CA_SIN"),
    "at_dot_email": ("EMAIL_ADDRESS",),
    "line_wrap": ("CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "PHONE_NUMBER", "PERSON"),
    "table_cells": ("CREDIT_CARD", "IBAN_CODE", "PHONE_NUMBER", "US_SSN", "IN_AADHAAR"),
    "base64": ("EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "CREDIT_CARD", "US_SSN"),
    "url_encoded": ("EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER", "LOCATION"),
    "html_entities": ("EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER", "CREDIT_CARD"),
    "spelled_digits": ("PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "CA_SIN", "UK_NHS"),
    "mixed_case": ("PERSON", "EMAIL_ADDRESS", "UK_NINO", "IT_FISCAL_CODE"),
    "stream_split": (
        "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
        "IP_ADDRESS", "LOCATION", "UK_NHS", "ES_NIF",
    ),
}  # fmt: skip
KINDS = tuple(APPLIES)

_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")
_MATH_DIGIT_BASES = (0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6)  # bold ... monospace
# Latin letter -> Cyrillic/Greek look-alikes, as code points (the characters themselves would
# be invisible in review).
_HOMOGLYPHS = {
    "a": "\u0430\u03b1", "c": "\u0441", "e": "\u0435", "i": "\u0456\u03b9",
    "o": "\u043e\u03bf", "p": "\u0440", "s": "\u0455", "x": "\u0445", "y": "\u0443",
    "A": "\u0410\u0391", "B": "\u0412\u0392", "C": "\u0421", "E": "\u0415\u0395",
    "H": "\u041d\u0397", "I": "\u0406\u0399", "K": "\u041a\u039a", "M": "\u041c\u039c",
    "N": "\u039d", "O": "\u041e\u039f", "P": "\u0420\u03a1", "S": "\u0405",
    "T": "\u0422\u03a4", "X": "\u0425\u03a7", "Y": "\u03a5", "Z": "\u0396",
}  # fmt: skip
_UNGLYPH = {look: plain for plain, looks in _HOMOGLYPHS.items() for look in looks}
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_AT_DOT = (
    (" [at] ", " [dot] "), ("(at)", "(dot)"), (" at ", " dot "), (" AT ", " DOT "),
    ("{at}", "{dot}"), (" [@] ", " [.] "),
)  # fmt: skip
_NAMED = {"@": "&commat;", ".": "&period;", "+": "&plus;"}


def _interior(rng: random.Random, value: str, count: int) -> list[int]:
    return sorted(rng.sample(range(1, len(value)), min(count, len(value) - 1)))


def _zero_width(value: str, rng: random.Random) -> str:
    out = list(value)
    for at in reversed(_interior(rng, value, rng.randrange(1, 4))):
        out.insert(at, rng.choice(_ZERO_WIDTH))
    return "".join(out)


def _fullwidth(value: str, rng: random.Random) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in value)


def _math_digits(value: str, rng: random.Random) -> str:
    base = rng.choice(_MATH_DIGIT_BASES)
    return "".join(chr(base + int(ch)) if ch.isdigit() else ch for ch in value)


def _homoglyph(value: str, rng: random.Random) -> str:
    spots = [i for i, ch in enumerate(value) if ch in _HOMOGLYPHS]
    if not spots:
        raise ValueError("no letter with a look-alike")
    out = list(value)
    for at in rng.sample(spots, min(len(spots), rng.randrange(1, 4))):
        out[at] = rng.choice(_HOMOGLYPHS[value[at]])
    return "".join(out)


def _spaced_digits(value: str, rng: random.Random) -> str:
    if rng.random() < 0.5:  # "4 1 1 1 - 1 1 1 1": every character apart
        groups = re.split(r"[\s\-./]+", value)
        return rng.choice((" - ", "  ", " . ")).join(" ".join(g) for g in groups)
    plus = "+" if value.startswith("+") else ""
    digits = "".join(ch for ch in value if ch.isalnum())
    parts, at = [], 0
    while at < len(digits):
        size = rng.choice((2, 2, 3))
        parts.append(digits[at : at + size])
        at += size
    return plus + rng.choice((".", "/", "_", " . ", "·")).join(parts)


def _at_dot_email(value: str, rng: random.Random) -> str:
    at, dot = rng.choice(_AT_DOT)
    local, domain = value.split("@")
    if rng.random() < 0.5:
        local = local.replace(".", dot)
    return local + at + domain.replace(".", dot)


def _line_wrap(value: str, rng: random.Random) -> str:
    spaces = [i for i, ch in enumerate(value) if ch == " "]
    if spaces and rng.random() < 0.5:
        at = rng.choice(spaces)
        return value[:at] + rng.choice(("\n", " \n", "\n  ")) + value[at + 1 :]
    at = _interior(rng, value, 1)[0]
    while value[at - 1] == " " or value[at] == " ":
        at = _interior(rng, value, 1)[0]
    return value[:at] + rng.choice(("\n", "-\n", "=\n")) + value[at:]


def _cells(value: str, rng: random.Random, sep: str, count: int) -> str:
    """Split over `count` adjacent cells, at the value's own groups when it has enough."""
    groups = value.split(" ")
    if len(groups) < count:
        cuts = _interior(rng, value, count - 1)
        groups = [value[a:b] for a, b in zip([0, *cuts], [*cuts, len(value)], strict=True)]
    cuts = sorted(rng.sample(range(1, len(groups)), count - 1))
    bounds = zip([0, *cuts], [*cuts, len(groups)], strict=True)
    return sep.join(" ".join(groups[a:b]) for a, b in bounds)


def _base64(value: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        plain = value
    else:
        plain = rng.choice(
            (
                f'{{"contact": "{value}"}}',
                f"user={value};role=member",
                f"Please reach {value} today",
            )
        )
    raw = plain.encode("utf-8")
    if rng.random() < 0.3:
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    return base64.b64encode(raw).decode("ascii")


def _url_encoded(value: str, rng: random.Random) -> str:
    quoted = urllib.parse.quote_plus if rng.random() < 0.4 else urllib.parse.quote
    text = quoted(value, safe="")
    return text.replace(".", "%2E") if rng.random() < 0.5 else text


def _html_entities(value: str, rng: random.Random) -> str:
    out = []
    for index, ch in enumerate(value):
        forced = ch in "@." or index == 0
        if ch == " " or not (forced or rng.random() < 0.3):
            out.append(ch)
        elif ch in _NAMED and rng.random() < 0.4:
            out.append(_NAMED[ch])
        else:
            out.append(rng.choice((f"&#{ord(ch)};", f"&#x{ord(ch):X};", f"&#x{ord(ch):x};")))
    return "".join(out)


def _spelled_digits(value: str, rng: random.Random) -> str:
    zero = rng.choice(("zero", "oh"))
    groups = [g for g in re.split(r"[^0-9+]+", value) if g]
    words = [
        " ".join("plus" if ch == "+" else zero if ch == "0" else _WORDS[int(ch)] for ch in g)
        for g in groups
    ]
    text = rng.choice((", ", " - ", "; ")).join(words)
    return text[0].upper() + text[1:] if rng.random() < 0.3 else text


def _mixed_case(value: str, rng: random.Random) -> str:
    style = rng.randrange(3)
    if style == 0:
        text = value.lower()
    elif style == 1:
        text = value.upper()
    else:
        text = "".join(ch.upper() if i % 2 else ch.lower() for i, ch in enumerate(value))
    if text == value:  # already in that case: flip the letters' case instead
        text = value.swapcase()
    return text


_TRANSFORMS: dict[str, Callable[[str, random.Random], str]] = {
    "zero_width": _zero_width,
    "fullwidth": _fullwidth,
    "math_digits": _math_digits,
    "homoglyph": _homoglyph,
    "spaced_digits": _spaced_digits,
    "at_dot_email": _at_dot_email,
    "line_wrap": _line_wrap,
    "base64": _base64,
    "url_encoded": _url_encoded,
    "html_entities": _html_entities,
    "spelled_digits": _spelled_digits,
    "mixed_case": _mixed_case,
    "stream_split": lambda value, _rng: value,  # the cut is in Doc.chunks, not in the text
}


def transform(
    kind: str, value: str, rng: random.Random, *, cell_sep: str = " | ", cells: int = 2
) -> str:
    """The rendering of `value` under `kind`; ValueError if the value cannot take it.

    `cell_sep` and `cells` shape table_cells: the separator between cells and their number."""
    if kind == "table_cells":
        return _cells(value, rng, cell_sep, cells)
    rendered = _TRANSFORMS[kind](value, rng)
    if kind != "stream_split" and rendered == value:
        raise ValueError(f"{kind} left the value unchanged")
    return rendered


def key(text: str) -> str:
    """Compatibility form for comparing a value with an undone rendering."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def undo(kind: str, rendered: str) -> str:
    """Best-effort inverse of `transform`: `key(undo(...))` equals `key(value)` (base64 of a
    sentence: contains it)."""
    if kind == "zero_width":
        return "".join(ch for ch in rendered if ch not in _ZERO_WIDTH)
    if kind in ("fullwidth", "math_digits"):
        return unicodedata.normalize("NFKC", rendered)
    if kind == "homoglyph":
        return "".join(_UNGLYPH.get(ch, ch) for ch in rendered)
    if kind == "at_dot_email":
        for at, dot in _AT_DOT:
            rendered = rendered.replace(at, "@").replace(dot, ".")
        return rendered
    if kind == "line_wrap":
        return re.sub(r"[-=]?\n\s*", "", rendered)
    if kind == "base64":
        padded = rendered + "=" * (-len(rendered) % 4)
        raw = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        return raw.decode("utf-8")
    if kind == "url_encoded":
        return urllib.parse.unquote_plus(rendered)
    if kind == "html_entities":
        return html.unescape(rendered)
    if kind == "spelled_digits":
        digits = {w: str(i) for i, w in enumerate(_WORDS)} | {"oh": "0", "plus": "+"}
        return "".join(digits.get(w, "") for w in re.findall(r"[a-z]+", rendered.lower()))
    return rendered
