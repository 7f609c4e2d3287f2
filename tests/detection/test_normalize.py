"""Normalisation: invisible and look-alike characters cannot hide a value from detection.

Findings on the normalised copy map back to the original text, so the span covers the
invisible characters inside a value. Properties check the offset map on arbitrary text.
"""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.policy import Policies
from sidecar.detection import PresidioDetector
from sidecar.normalize import normalize

INVISIBLE = {
    "zwsp": "\u200b",
    "zwnj": "\u200c",
    "zwj": "\u200d",
    "word-joiner": "\u2060",
    "bom": "\ufeff",
    "soft-hyphen": "\u00ad",
}
# entity, value, positions at which invisible characters are inserted, sentence around it
VALUES = {
    "card": ("CREDIT_CARD", "4111 1111 1111 1111", (2, 9, 16), "My card is {} ok."),
    "email": ("EMAIL_ADDRESS", "john.doe@example.com", (2, 6, 12), "Write to {} about it."),
    "phone": ("PHONE_NUMBER", "(202) 555-0147", (2, 8, 12), "Please call {} now."),
    "ssn": ("US_SSN", "536-22-1234", (1, 5, 8), "My SSN is {}."),
    "iban": ("IBAN_CODE", "DE89 3704 0044 0532 0130 00", (3, 10, 20), "IBAN {} and more."),
}


def _insert(value: str, char: str, positions: tuple[int, ...]) -> str:
    for position in sorted(positions, reverse=True):
        value = value[:position] + char + value[position:]
    return value


def _assert_exact(
    detector: PresidioDetector, policies: Policies, text: str, value: str, entity: str
) -> None:
    start = text.index(value)
    findings = detector.detect(text, policies.default)
    spans = [(f.entity, f.start, f.end) for f in findings]
    assert (entity, start, start + len(value)) in spans, (ascii(text), spans)


@pytest.mark.parametrize("char", list(INVISIBLE.values()), ids=list(INVISIBLE))
@pytest.mark.parametrize("kind", list(VALUES))
def test_invisible_chars_inside_value_still_detected_and_covered(
    detector: PresidioDetector, shipped_policies: Policies, kind: str, char: str
) -> None:
    """A value split by invisible characters is found; its span covers them too."""
    entity, value, positions, sentence = VALUES[kind]
    hidden = _insert(value, char, positions)
    assert len(hidden) == len(value) + len(positions)
    _assert_exact(detector, shipped_policies, sentence.format(hidden), hidden, entity)


def test_invisible_chars_around_value_left_outside_span(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    """Invisible characters before and after a value are not part of its finding."""
    text = "My card is \u200b4111 1111 1111 1111\u200d ok."
    start = text.index("4111")
    findings = detector.detect(text, shipped_policies.default)
    assert [(f.entity, f.start, f.end) for f in findings] == [
        ("CREDIT_CARD", start, start + len("4111 1111 1111 1111"))
    ]


def _styled_digits(value: str, zero: int) -> str:
    """`value` with its ASCII digits replaced by the digits starting at code point `zero`."""
    return "".join(chr(zero + int(c)) if c.isdigit() and c.isascii() else c for c in value)


DIGIT_STYLES = {
    "fullwidth": 0xFF10,
    "math-bold": 0x1D7CE,
    "math-double-struck": 0x1D7D8,
    "math-sans-serif": 0x1D7E2,
    "math-monospace": 0x1D7F6,
}


@pytest.mark.parametrize("zero", list(DIGIT_STYLES.values()), ids=list(DIGIT_STYLES))
@pytest.mark.parametrize("kind", ["card", "phone", "ssn", "iban"])
def test_styled_digits_detected(
    detector: PresidioDetector, shipped_policies: Policies, kind: str, zero: int
) -> None:
    """Full-width and mathematical digits are read as digits; the span covers them all."""
    entity, value, _, sentence = VALUES[kind]
    styled = _styled_digits(value, zero)
    assert styled != value
    _assert_exact(detector, shipped_policies, sentence.format(styled), styled, entity)


def test_fullwidth_email_detected(detector: PresidioDetector, shipped_policies: Policies) -> None:
    """An e-mail written in full-width letters and @ is an EMAIL_ADDRESS over all of it."""
    value = "".join(chr(ord(c) + 0xFEE0) for c in "john.doe@example.com")
    _assert_exact(detector, shipped_policies, f"Write to {value} about it.", value, "EMAIL_ADDRESS")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Ask Jose\u0301 Garci\u0301a about it.", "Jose\u0301 Garci\u0301a"),
        ("I met Maria Jose\u0301 yesterday.", "Maria Jose\u0301"),
        ("I met Chloe\u0308 Martin yesterday.", "Chloe\u0308 Martin"),
    ],
)
def test_combining_marks_detected_and_covered(
    detector: PresidioDetector, shipped_policies: Policies, text: str, value: str
) -> None:
    """Names spelled with combining accents are found; the span includes the marks."""
    _assert_exact(detector, shipped_policies, text, value, "PERSON")


@pytest.mark.parametrize(
    ("kind", "mark"),
    [("card", "\u0336"), ("card", "\u0332"), ("phone", "\u0336"), ("email", "\u0332")],
    ids=["card-strike", "card-underline", "phone-strike", "email-underline"],
)
def test_combining_marks_on_value_chars_detected(
    detector: PresidioDetector, shipped_policies: Policies, kind: str, mark: str
) -> None:
    """Struck-through or underlined characters (a mark after each) still form the value."""
    entity, value, _, sentence = VALUES[kind]
    marked = "".join(c + mark if c.isalnum() else c for c in value)
    _assert_exact(detector, shipped_policies, sentence.format(marked), marked, entity)


def test_normalize_folds_compatibility_and_drops_invisible() -> None:
    """normalize() folds full-width/math digits and drops format characters and selectors."""
    original = "\uff14\u200b\U0001d7cf-a\u00ad\ufe0fe\u0301"
    result = normalize(original)
    assert result.text == "41-a\u00e9"
    assert result.to_original(0, 2) == (0, 3)  # the zero-width space inside is covered
    assert result.to_original(4, 5) == (7, 9)  # é came from e + U+0301


def test_normalize_ascii_is_identity() -> None:
    """ASCII text is its own normalisation and offsets map to themselves."""
    result = normalize("Call 202-555-0147 now")
    assert result.identity
    assert result.text == "Call 202-555-0147 now"
    assert result.to_original(5, 17) == (5, 17)


# --- properties of the offset map ------------------------------------------------------

FORMAT_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u202e\ufe0f\U000e0101"
LOOKALIKES = "\uff10\uff19\U0001d7ce\U0001d7ff\ufb01\u2460\u00bd\u3000\u1100\u1161\uac00"
COMBINING = "\u0301\u0308\u0327\u20dd\u0336"


def _dropped(char: str) -> bool:
    return (
        unicodedata.category(char) == "Cf"
        or "\ufe00" <= char <= "\ufe0f"
        or "\U000e0100" <= char <= "\U000e01ef"
    )


def _fold(text: str) -> str:
    """Format characters and variation selectors dropped, then NFKC."""
    return unicodedata.normalize("NFKC", "".join(c for c in text if not _dropped(c)))


TEXTS = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(FORMAT_CHARS + LOOKALIKES + COMBINING + "e4 @."),
    ),
    max_size=40,
)


@settings(max_examples=300)
@given(TEXTS)
def test_normalize_spans_map_into_original(text: str) -> None:
    """Every span of the normalised text maps into [0, len(original)] with start <= end."""
    result = normalize(text)
    size = len(result.text)
    for start in range(size + 1):
        for end in range(start, size + 1):
            a, b = result.to_original(start, end)
            assert 0 <= a <= b <= len(text), (start, end, a, b)


@settings(max_examples=300)
@given(TEXTS)
def test_normalize_map_is_monotonic(text: str) -> None:
    """Later normalised spans never map before earlier ones; wider spans never map narrower."""
    result = normalize(text)
    size = len(result.text)
    singles = [result.to_original(i, i + 1) for i in range(size)]
    for (a1, b1), (a2, b2) in itertools.pairwise(singles):
        assert a1 <= a2
        assert b1 <= b2
    for start in range(size):
        for end in range(start + 1, size + 1):
            a, b = result.to_original(start, end)
            assert (a, b) == (singles[start][0], singles[end - 1][1])


@settings(max_examples=300)
@given(TEXTS)
def test_normalize_char_comes_from_its_original_slice(text: str) -> None:
    """The original slice of each normalised character folds to a text containing it."""
    result = normalize(text)
    for index, char in enumerate(result.text):
        a, b = result.to_original(index, index + 1)
        assert a < b
        assert char in _fold(text[a:b]), (ascii(char), ascii(text[a:b]))


@settings(max_examples=300)
@given(TEXTS)
def test_normalize_covers_every_visible_char_and_drops_invisible(text: str) -> None:
    """Every kept original character lies in some mapped span; no format character survives."""
    result = normalize(text)
    assert not any(_dropped(c) for c in result.text)
    covered: set[int] = set()
    for index in range(len(result.text)):
        a, b = result.to_original(index, index + 1)
        covered.update(range(a, b))
    kept = {i for i, c in enumerate(text) if not _dropped(c)}
    assert kept <= covered
    if result.identity and result.text:
        assert result.text == text
