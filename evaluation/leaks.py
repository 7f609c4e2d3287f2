"""Does a labelled value survive in a system's output? The leak rules, as pure functions.

Never returns, prints or logs a value: only booleans.

Leak rules. A labelled value (the document text under one gold span) leaks from an output
text when any of these holds:

(a) exact: the value occurs in the output verbatim;
(b) normalised: norm(value) occurs in norm(output), where norm = NFKC, format characters
    (category Cf: zero-width spaces and joiners, soft hyphens, BOM) removed, common
    Cyrillic and Greek homoglyphs folded to the Latin letters they imitate (`_HOMOGLYPHS`),
    then case-folded. Full-width and mathematical digits and letters fold under NFKC.
    For (a) and (b) an occurrence glued to a letter or digit on a side where the value
    itself begins or ends with one does not count ("Ann" in "Annual", "tim" in the
    placeholder "<DATE_TIME>"): short names would otherwise leak from every long word;
(c) re-spaced: for a value with at least 6 digits (after norm; any Unicode decimal digit
    counts as its ASCII digit), either
    - its digit sequence occurs in the output's digit runs, where a digit run is a
      maximal stretch of norm(output) whose digits are separated only by characters that
      are neither letters nor digits (spaces, dashes, dots, newlines, pipes, commas,
      mask characters). Decision: the sequence may sit anywhere inside a longer run
      ("4111111111111111" glued to further digits still leaks: the value is readable);
    - or its alphanumeric skeleton (norm(value) without the characters that are not
      letters or digits) occurs in the output's skeleton: re-spaced values that contain
      letters ("GB82-WEST-1234..." for "GB82 WEST 1234 ...").
(d) decoded: for values whose obfuscation is base64, url_encoded, html_entities or
    spelled_digits, the rendering as it appears in the document is decoded to its plain
    form (base64 -> UTF-8, percent-decoding, HTML entities, number words -> digits) and
    the plain form is checked against the output with (a)-(c) as well. The output itself
    is never decoded. A rendering that does not decode adds no check.

An empty value (after norm, for (b)) never leaks.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

__all__ = ["DECODED_OBFUSCATIONS", "Screened", "decoded_plain", "leaks", "normalise"]

_MIN_DIGITS = 6  # fewer digits re-spaced would match dates, prices and counts by chance
DECODED_OBFUSCATIONS = frozenset({"base64", "url_encoded", "html_entities", "spelled_digits"})

# Lookalikes that NFKC leaves alone. Upper and lower case are mapped separately, before
# case-folding, since a Greek capital nu looks like N and a small nu like v.
_HOMOGLYPHS = str.maketrans(
    "АВЕКМНОРСТУХЅІЈԚԜаеорсухѕіјԁԛԝһӏΑΒΕΖΗΙΚΜΝΟΡΤΥΧαονικρυχ",
    "ABEKMHOPCTYXSIJQWaeopcyxsijdqwhlABEZHIKMNOPTYXaovikpux",
)
_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "nought": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_WORD = re.compile(r"[A-Za-z]+")


def normalise(text: str) -> str:
    """NFKC, format characters dropped, homoglyphs folded, case-folded; decimal digits of
    any script become ASCII digits."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    folded = folded.translate(_HOMOGLYPHS).casefold()
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in folded)


def _skeleton(normalised: str) -> str:
    return "".join(c for c in normalised if c.isalnum())


def _digit_runs(normalised: str) -> str:
    """Digit runs of a normalised text, joined by '|': letters end a run, other
    characters (separators of any kind and length) do not."""
    out: list[str] = []
    for char in normalised:
        if char.isdecimal():
            out.append(char)
        elif char.isalnum() and out and out[-1] != "|":
            out.append("|")
    return "".join(out)


def _occurs(needle: str, haystack: str) -> bool:
    """`needle` occurs in `haystack`, not glued to a letter or digit where it begins or
    ends with one."""
    if not needle:
        return False
    glue_start = needle[0].isalnum()
    glue_end = needle[-1].isalnum()
    at = haystack.find(needle)
    while at >= 0:
        end = at + len(needle)
        before_ok = not (glue_start and at > 0 and haystack[at - 1].isalnum())
        after_ok = not (glue_end and end < len(haystack) and haystack[end].isalnum())
        if before_ok and after_ok:
            return True
        at = haystack.find(needle, at + 1)
    return False


@dataclass(frozen=True, slots=True)
class Screened:
    """One output text, with the forms the leak rules compare against, computed once."""

    text: str
    normalised: str
    skeleton: str
    digit_runs: str

    @classmethod
    def of(cls, text: str) -> Screened:
        normalised = normalise(text)
        return cls(text, normalised, _skeleton(normalised), _digit_runs(normalised))

    def __repr__(self) -> str:
        return f"<Screened: {len(self.text)} chars>"


def _leaks_plain(value: str, output: Screened) -> bool:
    if _occurs(value, output.text):
        return True
    normalised = normalise(value)
    if _occurs(normalised, output.normalised):
        return True
    digits = "".join(c for c in normalised if c.isdecimal())
    if len(digits) < _MIN_DIGITS:
        return False
    skeleton = _skeleton(normalised)
    return digits in output.digit_runs or skeleton in output.skeleton


def _spelled(text: str) -> str:
    return _WORD.sub(lambda m: _DIGIT_WORDS.get(m.group(0).lower(), m.group(0)), text)


def decoded_plain(rendering: str, obfuscation: str) -> str | None:
    """The plain value behind an encoded rendering; None if it is not encoded or does not
    decode."""
    match obfuscation:
        case "base64":
            compact = "".join(rendering.split())
            padded = compact + "=" * (-len(compact) % 4)
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    return decode(padded.encode("ascii")).decode("utf-8")
                except (binascii.Error, UnicodeError, ValueError):
                    continue
            return None
        case "url_encoded":
            return urllib.parse.unquote(rendering)
        case "html_entities":
            return html.unescape(rendering)
        case "spelled_digits":
            return _spelled(rendering)
    return None


def leaks(value: str, output: Screened, *, obfuscation: str = "") -> bool:
    """Does the labelled `value` (as it appears in the document) survive in `output`?

    Rules (a)-(d) of the module docstring.
    """
    if _leaks_plain(value, output):
        return True
    if obfuscation in DECODED_OBFUSCATIONS:
        plain = decoded_plain(value, obfuscation)
        if plain and plain != value:
            return _leaks_plain(plain, output)
    return False
