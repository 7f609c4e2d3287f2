"""De-obfuscation: values hidden by spacing, spelling, encoding or look-alikes appear
plainly in the analysis view, and a finding on the view maps back to exactly the
original characters of the value (for base64, the whole segment).

Examples for each rule, positive and negative; ordinary text (prose, code, logs,
versions, UUIDs, dates, tables, binary base64, Russian) comes out unchanged; properties
check the offset map on arbitrary text and the round trip of generated values.
"""

from __future__ import annotations

import base64
import itertools
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sidecar.checksums import luhn_valid
from sidecar.deobfuscate import DeobfuscationOptions, deobfuscate
from sidecar.normalize import Normalized, normalize


def _span_of(text: str, value: str) -> tuple[int, int]:
    """The original span a finding of `value` on the view of `text` redacts."""
    view = deobfuscate(text)
    start = view.text.index(value)
    return view.to_original(start, start + len(value))


def _assert_found(text: str, value: str, rendering: str) -> None:
    view = deobfuscate(text)
    assert value in view.text, (ascii(text), ascii(view.text))
    start = text.index(rendering)
    assert _span_of(text, value) == (start, start + len(rendering)), ascii(text)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


# --- examples, rule by rule -------------------------------------------------------------

POSITIVE = {
    # split digits
    "spaced-digits": ("Card: {} ok.", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "4111111111111111"),
    "wrapped": ("My card is {}\nthanks", "4111 1111\n1111 1111", "4111111111111111"),
    "crlf-wrapped": ("card {} end", "4111 1111 1111\r\n1111", "4111111111111111"),
    "table-cells": ("| {} |", "4111 1111 | 1111 1111", "4111111111111111"),
    "spaced-dashes": ("call {} now", "5 5 5 - 1 2 3 - 4 5 6 7", "5551234567"),
    "two-spaces": ("card {} now", "4111  1111 1111  111", "411111111111111"),
    "irregular-groups": ("card {} now", "41 1111 11 111 1111", "411111111111111"),
    "mixed-separators": ("phone {} now", "555 123-4567", "5551234567"),
    "underscores": ("ssn {} ok", "437_87_00_70", "437870070"),
    "middle-dots": ("sin {} ok", "134\u00b7666\u00b7692", "134666692"),
    "slashes": ("card {} ok", "53/778/65/21/96/541/83", "5377865219654183"),
    "dots": ("card {} ok", "529.518.59.37.83.26.91", "5295185937832691"),
    "dots-after-plus": ("tel +{} ok", "447.55.13.82.66.8", "447551382668"),
    "spaced-dots": ("ssn {}. ok", "4 9 5 . 1 8 . 4 8 3 0", "495184830"),
    # values wrapped across lines (joined when valid: checksum, phone, e-mail)
    "wrap-mid-group": ("card is {} ok", "4111 1111 1111 111\n1", "4111 1111 1111 1111"),
    "wrap-soft-break": ("pan={}\nname: x", "4111-1111-1111-1=\n111", "4111-1111-1111-1111"),
    "wrap-hyphen": ("Card no.: {}\nname", "4-\n111111111111111", "4111111111111111"),
    "wrap-iban": (
        "My IBAN is {}. Thanks",
        "DE89 37\n04 0044 0532 0130 00",
        "DE89 3704 0044 0532 0130 00",
    ),
    "wrap-phone": ("Tel: {}\nnext", "+34 938 77\n74 49", "+34 938 7774 49"),
    "wrap-email-soft-break": ("email: {}\nx", "jane.doe@exam=\nple.com", "jane.doe@example.com"),
    "wrap-email-after-at": ("contact: {}\nname", "jane@\nexample.com", "jane@example.com"),
    "wrap-email-before-at": (
        "mail me at {}. Bye",
        "jane.doe\n@example.org",
        "jane.doe@example.org",
    ),
    "wrap-email-hyphen": ("email: {}\nx", "jane@mail.exa-\nmple.org", "jane@mail.example.org"),
    # values split over table columns named as parts
    "table-parts-md": (
        "| name | card (1/2) | card (2/2) |\n|---|---|---|\n| Ann | {} |\n",
        "4111-111 | 1-1111-1111",
        "4111111111111111",
    ),
    "table-parts-csv": ("name,ssn (1/2),ssn (2/2)\nAnn Lee,{}\n", "471,42 7581", "471 42 7581"),
    "table-parts-hyphen": ("name;ssn part 1;ssn part 2\nAnn;{}\n", "314-;92-9198", "314-92-9198"),
    "table-parts-iban": (
        "name | iban (1/2) | iban (2/2)\nAnn | {}\n",
        "DE89 3704 | 0044 0532 0130 00",
        "DE89370400440532013000",
    ),
    # spelled digits
    "spelled": ("call {} now", "four one five five five five one two three four", "4155551234"),
    "spelled-commas": ("ssn: {}.", "Zero, seven, eight - zero five, one one two oh", "078051120"),
    "spelled-double": ("call {} now", "four one double five triple two one", "41552221"),
    "spelled-and": ("pin {} end", "one two three and four five six and seven", "1234567"),
    "spelled-semicolons": ("ssn: {}.", "seven one three; oh five; oh two six six", "713050266"),
    "spelled-slashes": ("ssn: {}.", "seven one three / oh five / oh two six six", "713050266"),
    "spelled-plus": (
        "call {} now",
        "Plus four four; two oh; seven nine four six; oh nine five eight",
        "+442079460958",
    ),
    # e-mail
    "email-brackets": ("write {} now", "john [at] example [dot] com", "john@example.com"),
    "email-parens": (
        "write {} now",
        "john.doe(at)mail(dot)example(dot)org",
        "john.doe@mail.example.org",
    ),
    "email-braces": ("write {} now", "john{at}example{dot}io", "john@example.io"),
    "email-angles": ("write {} now", "jane <AT> example <DOT> de", "jane@example.de"),
    "email-words": ("mail {} today", "john at example dot com", "john@example.com"),
    "email-spaced": ("mail {} today", "john.smith @ example . com", "john.smith@example.com"),
    "email-dot-local": (
        "mail {} today",
        "john [dot] smith [at] example.co.uk",
        "john.smith@example.co.uk",
    ),
    "email-plain-at-dot-word": ("mail {} today", "john@example [dot] com", "john@example.com"),
    "email-bracketed-symbols": (
        "write {} now",
        "maxi.s [@] mail [.] example [.] org",
        "maxi.s@mail.example.org",
    ),
    "email-parens-symbols": ("write {} now", "jane(@)example(.)com", "jane@example.com"),
    # encoded
    "html-decimal": ("mail {} today", "john&#64;example&#46;com", "john@example.com"),
    "html-hex": ("mail {} today", "john&#x40;example.com", "john@example.com"),
    "html-named": ("mail {} today", "john&commat;example&period;com", "john@example.com"),
    "percent": ("GET /?to={} HTTP/1.1", "john%40example%2Ecom", "john@example.com"),
    "percent-digits": (
        "id={}&x=1",
        "%34%31%31%31%31%31%31%31%31%31%31%31%31%31%31%31",
        "4111111111111111",
    ),
    "percent-query-plus": ("/callback?number={}&retry=1", "%2B44+20+7946+0958", "+44 20 7946 0958"),
    "percent-query-plus-brackets": ("?to={}&x=1", "%2821%29+92830-0660", "(21) 92830-0660"),
    "base64": ("token {} end", _b64("john@example.com"), "john@example.com"),
    "base64-url-unpadded": (
        "jwt {} end",
        "eyJlbWFpbCI6ImpvaG5AZXhhbXBsZS5jb20ifQ",
        '"john@example.com"',
    ),
    "base64-of-percent": ("token {} end", _b64("john%40example.com"), "john@example.com"),
    "base64-of-digits": ("token {} end", _b64("444444444"), "444444444"),
    # homoglyphs
    "cyrillic-email": ("mail {} today", "j\u043ehn@\u0435x\u0430mple.c\u043em", "john@example.com"),
    "greek-email": ("mail {} today", "j\u03bfhn@example.c\u03bfm", "john@example.com"),
    "all-cyrillic-word-in-english": ("Dear {}, thanks", "\u0441\u0430\u0440\u0435", "cape"),
    "combined": ("mail {} today", "j\u043ehn [at] \u0435xample [dot] com", "john@example.com"),
}


@pytest.mark.parametrize(("sentence", "rendering", "value"), POSITIVE.values(), ids=POSITIVE)
def test_obfuscated_value_is_plain_in_view_and_maps_to_its_rendering(
    sentence: str, rendering: str, value: str
) -> None:
    """The value is plain in the view; its view span maps to the whole rendering."""
    _assert_found(sentence.format(rendering), value, rendering)


def test_invisible_characters_inside_a_spread_value_are_covered() -> None:
    """A zero-width space inside spaced digits is dropped, and inside the span."""
    text = "card 4 1 1 1\u200b 1 1 1 1 1 1 1 1 1 1 1 1 ok"
    rendering = "4 1 1 1\u200b 1 1 1 1 1 1 1 1 1 1 1 1"
    _assert_found(text, "4111111111111111", rendering)


def test_percent_encoded_invisible_character_is_dropped_inside_value() -> None:
    text = "id=%34%31%E2%80%8B%31%31%31%31%31%31%31 end"
    _assert_found(text, "411111111", "%34%31%E2%80%8B%31%31%31%31%31%31%31")


def test_base64_value_maps_to_whole_segment() -> None:
    """Any value inside a decoded segment redacts the entire segment."""
    segment = _b64("name John, card 4111111111111111, mail john@example.com")
    text = f"payload={segment};"
    view = deobfuscate(text)
    start = view.text.index("john@example.com")
    assert view.to_original(start, start + 3) == (8, 8 + len(segment))
    assert text[8 : 8 + len(segment)] == segment


def test_nested_encoding_needs_depth() -> None:
    text = f"token {_b64('john%40example.com')} end"
    assert "john@example.com" in deobfuscate(text).text
    shallow = deobfuscate(text, DeobfuscationOptions(max_decoded_depth=1)).text
    assert "john%40example.com" in shallow


def test_html_entity_chars_map_to_the_entity() -> None:
    text = "a&amp;b &#x1D7CF;"
    view = deobfuscate(text)
    assert view.text == "a&b 1"  # the decoded mathematical digit is normalised too
    assert view.to_original(1, 2) == (1, 6)
    assert view.to_original(4, 5) == (8, 17)


# --- negatives: ordinary text stays as it is --------------------------------------------

ORDINARY = {
    "prose": "Meet me at the office at noon; one of the two rooms is free. Thanks, Anna.",
    "prose-dot": "Put a dot at the end of the line. I will be at home, dot the i's.",
    "code": "def get_user_by_id(user_id: int) -> User:\n    return self.session.get(User, user_id)",
    "log": "2024-03-05T10:30:45.123Z INFO [worker-3] request_id=8f14e45f status=200 took=12ms",
    "log-line": "2024-01-15 12:30:45 GET /api/v1/users/12345 200 1532 0.023",
    "versions": "Upgraded from 1.2.3 to 2.14.1 (build 1.2.3.4567), python 3.11.7",
    "ip": "Connected to 192.168.100.200 and 10.0.0.1 on port 8080",
    "uuid": "job 550e8400-e29b-41d4-a716-446655440000 done",
    "hash": "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "md5": "etag d41d8cd98f00b204e9800998ecf8427e",
    "dates": "Due 2024-01-15, paid 12/05/2024, shipped 15.01.2024, 2024-01-15 2024-02-01.",
    "order": "Order #12345678 shipped; invoice INV-2024-000123; ticket 48213.",
    "money": "Total 1,234,567.89 USD, up 12.5% from 1 099 000.",
    "standard-card": "Card 4111 1111 1111 1111 and 4111-1111-1111-1111.",
    "standard-phone": "Call 555-123-4567, (202) 555-0147, +44 20 7946 0958 or 1 800 555 0199.",
    "standard-ssn": "SSN 078-05-1120 or 078 05 1120.",
    "years": "Revenue 2021 2022 2023 2024 rose.",
    "number-list": "Scores: 3, 5, 2, 4, 1, 5, 3 and 7.",
    "table": (
        "| id | qty | price |\n|----|-----|-------|\n| 1  | 20  | 3.50  |\n| 2  | 115 | 12.00 |"
    ),
    "aligned-table": "  PID  TTY      TIME\n 1024  pts/0   00:01\n 2048  pts/1   00:02",
    "tsv": "10\t250\t3000\n20\t125\t1500",
    "column": "1001\n1002\n1003\n1004",
    "pipe-row": "| 2023 | 2024 | 2025 | 2026 |",
    "identifiers": "ConfigurationManager getElementById XMLHttpRequest internationalization",
    "iban": "IBAN DE89370400440532013000 and GB82WEST12345698765432",
    "url": "https://example.com/path/to/resource?query=value&sort=asc#section-2",
    "base64-binary": "blob " + base64.b64encode(bytes(range(0, 256, 7))).decode(),
    "russian": "Привет! Меня зовут Иван, я живу в Москве с 2015 года. Москва-2024.",  # noqa: RUF001
    "greek": "Καλημέρα, ο Γιάννης μένει στην Αθήνα.",  # noqa: RUF001
    "turkish": "Işık ılık süt içti.",  # noqa: RUF001
    "html-text": "Use a & b; 50% off; R&D",
    "percent-prose": "CPU at 95% and 100%!",
    "spelled-short": "one of the two, three or four of them",
    "dotted": "the anecdote was at best a dotted line",
    "year-range": "Copyright (C) 1997 - 2002, (2000 - 1970) * 365 - (1972 - 1600)",
    "negative-numbers": "[[-10  -1  -1  -1]\n [-10 -10 -10 -10]]",
    "sid": 'if text in ("S-1-5-18", "S-1-5-32-544", "S-1-3-0"):',
    "enumeration": "# index | 0  1  2  3  4  5  6  7\nscale: 1 2 3 4 5 6 7 8 9 10 11",
    "aligned-columns": "   226 4   2   211\n   555  123 4567",
    "phone-template": '"+44(0)7700 900 ###", "+44(0)115 496 0###"',
    "matmul": "assert_allclose(u @ u.T.conj(), np.eye(2))",
    "decorator": "Can't apply @pytest.fixture() to a class; use @pytest.mark.skip instead.",
    "prose-at-dot": "scanning backwards, stop at first dot after last separator",
    "printf": 'prnt("/* %2d */ %s" % (i, x)); tail = "%09d" % n; "%20s" % name',
    "python-underscores": "x = 1_000_000 + 2_500_000; y = 12_345_678",
    "oid": "OID 1.3.6.1.4.1.311.21.7 and 2.5.4.3, build 1.2.3.4567",
    "separated-dates": "on 2024.01.15, 2024_01_15, 15.01.2024 and 2024/01/15/1200",
    "decimal-list": "Prices 1.25 1.50 2.75 3.00 rose; ratio 3.5/4.5/5.5/6.5/7.5",
    "enumerated-underscores": "cols c_0_1_2_3_4_5_6_7 and 0_1_2_3_4_5_6_7",
    "prose-wrap": "a well-\nknown fact, see\n@app.route and x =\n5 and key=\nvalue",
    "value-then-date-line": "SSN=857-57-3258\n2025-12-02T04:11:37.000Z INFO",
    "value-then-number-line": "nhs_number: 4477720149\n2023 report",
    "isbn-line": "see page 12\n978-3-16-148410-0 for details",
    "iban-line": "IBAN: GB82WEST12345698765432\nAssunzione: 2024-01-11",
    "amount-then-date-line": "CARD PAYMENT Hooli   -$17.22\n10/08/2025  SEPA TRANSFER",
    "email-then-line": "mail john@example.com\nnet income rose",
    "line-then-email": "Account Executive, Acme Corp\njane.doe@example.com\nBank\nx@y.de",
    "number-column": "Totals\n4111111111\n111111\n",
    "part-headers-prose": "| note (1/2) | note (2/2) |\n|---|---|\n| hello world | again |",
    "part-headers-short": "id,qty (1/2),qty (2/2)\n7,12,30\n",
    "query-leading-plus": "sms:send?to=+4915112345678&x=1",
    "regex-dot": "match a[.]b or (.) in the pattern",
    "spelled-plus-short": "plus one two and minus three",
}


@pytest.mark.parametrize("text", ORDINARY.values(), ids=ORDINARY)
def test_ordinary_text_is_unchanged(text: str) -> None:
    result = deobfuscate(text)
    assert result.text == normalize(text).text, ascii(result.text)


def test_ascii_ordinary_text_is_identity() -> None:
    result = deobfuscate(ORDINARY["log"])
    assert result.identity
    assert result.to_original(3, 9) == (3, 9)


@pytest.mark.parametrize(
    "text",
    [
        "meet at home dot",  # no TLD after dot
        "we met at google.com",  # a bare `at` needs a `dot` word
        "jo [at] ex [dot] c",  # one-letter TLD
        "a..b [at] ex [dot] com",  # invalid local part
        "john [at] [dot] com",  # no domain label
        "look (at) this",  # no domain
    ],
)
def test_not_an_email(text: str) -> None:
    assert "@" not in deobfuscate(text).text


@pytest.mark.parametrize(
    "text",
    [
        "4 1 1 1 1 1",  # fewer than 7 digits
        "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0",  # more than 19: data
        "12345 6 7 8 9",  # a group of 5 digits
        "v1 2 3 4 5 6 7",  # glued to a letter
        "3.1 4 1 5 9 2 6",  # after a decimal point
        "1 2 3 4 5 6 7.5",  # before a decimal
        "4111\n\n1111 1111 1111",  # a paragraph break is no line wrap
        "4111    1111 1111 1111",  # a separator longer than 3 characters
    ],
)
def test_digits_not_joined(text: str) -> None:
    assert deobfuscate(text).text == text


def test_whole_cyrillic_sentence_stays_cyrillic() -> None:
    text = "Сергей и Ася ехали в село, а Оксана с сестрой остались."  # noqa: RUF001
    assert deobfuscate(text).text == text


def test_cyrillic_word_with_non_lookalike_stays() -> None:
    """A Cyrillic word in English text is folded only if all its letters are look-alikes."""
    text = "The word мама and сосна and соса appear here in English text."  # noqa: RUF001
    view = deobfuscate(text).text
    assert "мама" in view
    assert "сосна" in view  # н has no ASCII look-alike
    assert "coca" in view


def test_digits_of_other_scripts_fold_by_value() -> None:
    """Bengali four looks like 8 but is 4."""
    assert deobfuscate("id 12\u09ea5").text == "id 1245"


def test_short_spelled_runs_stay_words() -> None:
    text = "one two three four five six"
    assert deobfuscate(text).text == text
    assert deobfuscate(text, DeobfuscationOptions(min_joined_digits=6)).text == "123456"


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("split_digits", "card 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
        ("spelled_digits", "call four one five five five five one two three four"),
        ("obfuscated_email", "john [at] example [dot] com"),
        ("encoded", f"token {_b64('john@example.com')}"),
        ("homoglyphs", "j\u043ehn@example.com"),
        ("split_values", "name,ssn (1/2),ssn (2/2)\nAnn Lee,471,42 7581\n"),
    ],
)
def test_each_rule_can_be_switched_off(field: str, text: str) -> None:
    assert deobfuscate(text).text != text
    off = DeobfuscationOptions(**{field: False})
    assert deobfuscate(text, off).text == text


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="min_joined_digits"):
        DeobfuscationOptions(min_joined_digits=1)
    with pytest.raises(ValueError, match="max_decoded_depth"):
        DeobfuscationOptions(max_decoded_depth=-1)


# --- Normalized.from_map and compose ----------------------------------------------------


def test_from_map_identity_and_validation() -> None:
    assert Normalized.from_map("abc", "abc", [0, 1, 2], [1, 2, 3]).identity
    changed = Normalized.from_map("a-b", "ab", [0, 2], [1, 3])
    assert not changed.identity
    assert changed.to_original(0, 2) == (0, 3)
    with pytest.raises(ValueError, match="length"):
        Normalized.from_map("abc", "ab", [0], [1])


def test_compose_maps_through_both_copies() -> None:
    inner = normalize("\uff14\u200b\uff11x")  # "41x", 4 from 0, 1 from 2 (ZWSP skipped)
    assert inner.text == "41x"
    outer = Normalized.from_map(inner.text, "4-1", [0, 0, 1], [1, 2, 2])
    composed = inner.compose(outer)
    assert composed.text == "4-1"
    assert [composed.to_original(i, i + 1) for i in range(3)] == [(0, 1), (0, 3), (2, 3)]
    assert inner.compose(Normalized(inner.text)) is inner
    assert Normalized("abc").compose(outer) is outer


# --- properties of the offset map -------------------------------------------------------

TRIGGERS = [
    "4",
    "1",
    " ",
    "\n",
    "|",
    "-",
    "@",
    ".",
    "%40",
    "%E2%82%AC",
    "&#64;",
    "&amp;",
    " [at] ",
    " at ",
    " dot ",
    " (dot) ",
    "john",
    "example",
    "com",
    "four",
    "one",
    "double",
    "\u043e",
    "\u0430",
    "\u200b",
    "\uff14",
    "e\u0301",
    _b64("john@example.com"),
    _b64("a%40b.com"),
]
TEXTS = st.lists(st.one_of(st.sampled_from(TRIGGERS), st.text(max_size=3)), max_size=25).map(
    "".join
)


def _format(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or "\ufe00" <= char <= "\ufe0f"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_view_chars_map_to_valid_monotonic_spans(text: str) -> None:
    """Every view character maps to a non-empty span within the original; starts and
    ends never decrease; any span maps to (first char's start, last char's end)."""
    view = deobfuscate(text)
    singles = [view.to_original(i, i + 1) for i in range(len(view.text))]
    for a, b in singles:
        assert 0 <= a < b <= len(text), ascii(text)
    for (a1, b1), (a2, b2) in itertools.pairwise(singles):
        assert a1 <= a2
        assert b1 <= b2
    for start in range(0, len(view.text), 3):
        for end in range(start + 1, len(view.text) + 1, 4):
            assert view.to_original(start, end) == (singles[start][0], singles[end - 1][1])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_whole_view_covers_every_visible_original_char(text: str) -> None:
    """The whole view maps to a span holding every original character but invisible ones
    (format characters and their encodings) before or after all visible text."""
    view = deobfuscate(text)
    if not view.text:
        return
    a, b = view.to_original(0, len(view.text))
    outside = text[:a] + text[b:]
    rest = outside.replace("%E2%80%8B", "")
    assert all(_format(c) for c in rest), ascii(text)


# --- properties: generated values, obfuscated and embedded in prose ---------------------

WORDS = [
    "the", "report", "was", "sent", "to", "team", "please", "call", "me", "about",
    "it", "my", "card", "number", "is", "here", "and", "then", "we", "meet",
    "again", "soon", "thanks", "for", "your", "help", "with", "this", "order", "mail",
]  # fmt: skip
PROSE = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=16)
SPELLED = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _groups(value: str, size: int) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)]


def _wrapped(value: str) -> str:
    groups = _groups(value, 4)
    return " ".join(groups[:-2]) + " " + groups[-2] + "\n" + groups[-1]


DIGIT_RENDERINGS = {
    "spaced": " ".join,
    "wrapped": _wrapped,
    "cells": lambda v: " | ".join(" ".join(_groups(half, 4)) for half in (v[:8], v[8:])),
    "spaced-dashes": lambda v: " - ".join(_groups(v, 3)),
    "spelled": lambda v: " ".join(SPELLED[int(c)] for c in v),
    "percent": lambda v: "".join(f"%{ord(c):02X}" for c in v),
    "html": lambda v: "".join(f"&#{ord(c)};" for c in v),
    "base64": _b64,
}


@pytest.mark.parametrize("kind", list(DIGIT_RENDERINGS))
@settings(max_examples=60)
@given(value=DIGITS, before=PROSE, after=PROSE)
def test_generated_digits_round_trip(kind: str, value: str, before: str, after: str) -> None:
    # Digits counting up or down ("0 0 1 2 3 4 5 6 7") read as a list, and stay spaced.
    steps = [int(b) - int(a) for a, b in itertools.pairwise(value)]
    assume(max(steps.count(1), steps.count(-1)) < 0.8 * len(steps))
    rendering = DIGIT_RENDERINGS[kind](value)
    text = f"{before} {rendering} {after}"
    _assert_found(text, value, rendering)


LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)
EMAILS = st.tuples(
    LOCAL, st.none() | LOCAL, LOCAL, st.sampled_from(["com", "org", "net", "de", "io"])
)
CYRILLIC = str.maketrans("aeopcxy", "\u0430\u0435\u043e\u0440\u0441\u0445\u0443")


def _email(parts: tuple[str, str | None, str, str], at: str, dot: str) -> str:
    first, second, domain, tld = parts
    local = first if second is None else f"{first}{dot}{second}"
    return f"{local}{at}{domain}{dot}{tld}"


EMAIL_RENDERINGS = {
    "brackets": lambda p: _email(p, " [at] ", " [dot] "),
    "parens": lambda p: _email(p, "(at)", "(dot)"),
    "words": lambda p: _email(p, " at ", " dot "),
    "spaced": lambda p: _email(p, " @ ", " . "),
    "homoglyph": lambda p: _email(p, "@", ".").translate(CYRILLIC),
    "percent": lambda p: _email(p, "%40", "%2E"),
    "html": lambda p: _email(p, "&#64;", "&period;"),
    "base64": lambda p: _b64(_email(p, "@", ".")),
}


@pytest.mark.parametrize("kind", list(EMAIL_RENDERINGS))
@settings(max_examples=60)
@given(parts=EMAILS, before=PROSE, after=PROSE)
def test_generated_emails_round_trip(
    kind: str, parts: tuple[str, str | None, str, str], before: str, after: str
) -> None:
    rendering = EMAIL_RENDERINGS[kind](parts)
    text = f"{before} {rendering} {after}"
    _assert_found(text, _email(parts, "@", "."), rendering)


ORDINARY_WORDS = [*WORDS, "at", "office", "home", "version", "Anna", "noon", "I", "a"]
PUNCTUATION = [" ", " ", " ", ", ", ". ", "; ", ": ", "! ", "? ", " - ", "\n"]
NUMBERS = st.integers(min_value=0, max_value=999_999).map(str)
# A number is always followed by a word: two numbers side by side may be one spread.
ORDINARY_PROSE = st.lists(
    st.tuples(
        st.sampled_from(ORDINARY_WORDS) | NUMBERS.map(lambda n: f"{n} items"),
        st.sampled_from(PUNCTUATION),
    ),
    max_size=40,
).map(lambda pairs: "".join(word + sep for word, sep in pairs))


@settings(max_examples=300)
@given(ORDINARY_PROSE)
def test_ordinary_ascii_prose_is_identity(text: str) -> None:
    """Words and lone numbers between them: nothing to de-obfuscate."""
    result = deobfuscate(text)
    assert result.identity, ascii(result.text)
    assert result.text == text


def test_address_in_a_url_query_is_set_apart() -> None:
    """Presidio's e-mail pattern would take `users?filter=` along and then reject the
    whole; the view writes the `=` as a space, mapped to the `=`. A `key=` address
    outside a URL stays as it is."""
    text = "GET /api/users?filter=jane.doe%40example.com HTTP/1.1"
    view = deobfuscate(text)
    assert "?filter jane.doe@example.com " in view.text
    _assert_found(text, "jane.doe@example.com", "jane.doe%40example.com")
    assert deobfuscate("auth.failed user=jane@example.com").identity


def test_table_parts_need_matching_headers_and_rows() -> None:
    """Parts join only below a header naming them, in rows with as many cells."""
    rows = "| Ann | 4111-111 | 1-1111-1111 |\n"
    assert "4111111111111111" not in deobfuscate("| name | card | card |\n" + rows).text
    header = "| name | card (1/2) | card (2/2) |\n"
    assert "4111111111111111" in deobfuscate(header + rows).text
    ragged = header + "| Ann | 4111-111 | 1-1111-1111 | extra |\n"
    assert "4111111111111111" not in deobfuscate(ragged).text


def test_wrap_needs_a_valid_value() -> None:
    """A break inside digits joins only when the joined number is valid."""
    assert deobfuscate("card is 4111 1111 1111 111\n2 ok").text.count("\n") == 1
    assert deobfuscate("Tel: +34 938 77\n74 49\n").text == "Tel: +34 938 7774 49\n"


def test_a_line_ending_in_a_date_is_not_wrapped_into_the_next() -> None:
    """A CSV row ending in a date and a row starting with digits: the year and the next
    row's digits may pass a checksum together (1981 + 4111... does Luhn), yet the date is
    whole on its line."""
    for date in ("12/03/1981", "1981-03-12", "12.03.1981", "March 12, 1981", "12 Mar 1981"):
        text = f"name;dob\nJane Roe;{date}\n{_luhn_tail(date)};x\n"
        assert deobfuscate(text).text == text, date


def _luhn_tail(date: str) -> str:
    """Digits that make the date's last number plus them a Luhn-valid card number."""
    ending = re.search(r"\d+$", date)
    assert ending is not None
    for last in range(10):
        tail = "4111111111111"[: 16 - len(ending.group()) - 1] + str(last)
        if luhn_valid(ending.group() + tail):
            # Without the date rule the wrap would be joined: the joined digits validate.
            assert _wrapped_number_joins(ending.group(), tail)
            return tail
    raise AssertionError("no Luhn completion")


def _wrapped_number_joins(left: str, right: str) -> bool:
    text = f"id: {left}\n{right};x\n"
    return deobfuscate(text).text != text
