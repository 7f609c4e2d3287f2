"""The leak rules (properties), span matching, F2 and aggregation of the scorer."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.labels import Doc, Span
from evaluation.leaks import Screened, decoded_plain, leaks
from evaluation.score import (
    Accuracy,
    DocOutcome,
    Figures,
    Predicted,
    Rate,
    figures,
    judge,
    match_spans,
    score,
)
from tests.evaluation.tiny_corpus import DOCS

_digits = st.text(alphabet="0123456789", min_size=6, max_size=20)
_separators = st.text(alphabet=" -.\n|,/\t_*", min_size=0, max_size=3)
_words = st.text(alphabet="abcdefghij ", min_size=0, max_size=20)
_FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _respaced(digits: str, separators: list[str]) -> str:
    return (
        "".join(d + s for d, s in zip(digits, separators, strict=False)) + digits[len(separators) :]
    )


@given(digits=_digits, seps=st.lists(_separators, max_size=20), before=_words, after=_words)
def test_leak_digits_respaced_any_way_leak(
    digits: str, seps: list[str], before: str, after: str
) -> None:
    """A value of 6+ digits leaks however its digits are re-spaced in the output."""
    output = f"{before} {_respaced(digits, seps)} {after}"
    assert leaks(digits, Screened.of(output))
    assert leaks(" ".join(digits), Screened.of(output))


@given(digits=_digits, drop=st.integers(min_value=0), seps=st.lists(_separators, max_size=20))
def test_leak_digits_with_one_removed_do_not_leak(digits: str, drop: int, seps: list[str]) -> None:
    """Removing one digit of the value (the rest re-spaced) is not a leak."""
    index = drop % len(digits)
    shorter = digits[:index] + digits[index + 1 :]
    output = f"ref x{_respaced(shorter, seps)}y end"
    assert not leaks(digits, Screened.of(output))


@given(
    value=st.text(alphabet="abcdefghijklm@.0123", min_size=3, max_size=20),
    output=st.text(alphabet="NOPQRSTUVWXYZnopqrstuvwxyz <>_456789", max_size=60),
)
def test_leak_absent_value_does_not_leak(value: str, output: str) -> None:
    """A value none of whose letters or digits are in the output does not leak."""
    assert not leaks(value, Screened.of(output))


@given(
    value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789@.", min_size=3, max_size=20),
    upper=st.booleans(),
    wide=st.booleans(),
)
def test_leak_case_and_width_variants_leak(value: str, upper: bool, wide: bool) -> None:
    """The value in another case or in full-width forms, between spaces, leaks."""
    variant = value.upper() if upper else value.swapcase()
    if wide:
        variant = "".join(_FULLWIDTH.get(c, c) for c in variant)
    assert leaks(value, Screened.of(f"see {variant} here"))


@given(value=st.text(alphabet="abcdefghij@.", min_size=3, max_size=20), at=st.integers(0))
def test_leak_zero_width_inside_leaks(value: str, at: int) -> None:
    """Zero-width characters inside the value do not hide it."""
    cut = at % len(value)
    assert leaks(value, Screened.of(f"x {value[:cut]}\u200b{value[cut:]} y"))


def test_leak_homoglyphs_leak() -> None:
    """Cyrillic and Greek lookalikes are read as the Latin letters they imitate."""
    assert leaks("john.doe@example.com", Screened.of("jоhn.dое@ехаmple.cοm"))  # noqa: RUF001 - the test


def test_leak_short_name_inside_word_does_not_leak() -> None:
    """A name glued into a longer word (or a placeholder) is not a leak; on its own it is."""
    assert not leaks("Ann", Screened.of("Annual report"))
    assert not leaks("Tim", Screened.of("at <DATE_TIME> today"))
    assert leaks("Ann", Screened.of("ask ann, please"))


def test_leak_digits_inside_longer_run_leak() -> None:
    """The decided rule: a digit value inside a longer digit run still leaks."""
    assert leaks("4111111111111111", Screened.of("n 94111-1111-1111-11112"))


def test_leak_letters_break_digit_runs() -> None:
    """Digits split by letters are not one run; the masked card keeps too few digits."""
    assert not leaks("4111111111111111", Screened.of("4111 abc 1111 1111 1111"))
    assert not leaks("4111 1111 1111 1111", Screened.of("************1111"))


def test_leak_respaced_values_with_letters_leak() -> None:
    """A value with letters and 6+ digits leaks re-spaced (alphanumeric skeleton)."""
    assert leaks("GB82 WEST 1234 5698 7654 32", Screened.of("GB82-WEST-12345698-765432"))
    assert leaks("QQ 12 34 56 C", Screened.of("nino qq123456c"))


@pytest.mark.parametrize(
    ("rendering", "obfuscation", "plain"),
    [
        (base64.b64encode(b"4111111111111111").decode(), "base64", "4111111111111111"),
        ("jane%40example.org", "url_encoded", "jane@example.org"),
        ("jane&#64;example&#46;org", "html_entities", "jane@example.org"),
        ("four one one one two two", "spelled_digits", "4 1 1 1 2 2"),
    ],
)
def test_leak_decoded_plain_form_leaks(rendering: str, obfuscation: str, plain: str) -> None:
    """An encoded value leaks if its decoded plain form is in the output."""
    assert decoded_plain(rendering, obfuscation) == plain
    assert leaks(rendering, Screened.of(f"out {plain} end"), obfuscation=obfuscation)
    assert leaks(rendering, Screened.of(f"out {rendering} end"), obfuscation=obfuscation)
    assert not leaks(rendering, Screened.of("out <REDACTED> end"), obfuscation=obfuscation)


def test_leak_undecodable_base64_adds_no_check() -> None:
    """A rendering that does not decode is only checked as it is."""
    assert decoded_plain("!!not base64!!", "base64") is None
    assert not leaks("!!not base64!!", Screened.of("nothing"), obfuscation="base64")


def test_spans_overlap_same_type_only() -> None:
    """Overlap of the same type is a true positive and a recall; another type is neither."""
    gold = (Span("PERSON", 0, 10), Span("EMAIL_ADDRESS", 20, 30))
    predicted = (
        Predicted("PERSON", 5, 12),
        Predicted("ORGANIZATION", 0, 10),
        Predicted("EMAIL_ADDRESS", 30, 35),
    )
    judged, recalled = match_spans(gold, predicted)
    assert judged == [("PERSON", True), ("ORGANIZATION", False), ("EMAIL_ADDRESS", False)]
    assert recalled == [("PERSON", True), ("EMAIL_ADDRESS", False)]


def test_accuracy_f2() -> None:
    """F2 = 5PR/(4P+R); undefined without predictions or gold; 0 when both are 0."""
    assert Accuracy(predicted=4, correct=2, gold=2, recalled=2).f2 == pytest.approx(
        5 * 0.5 * 1.0 / (4 * 0.5 + 1.0)
    )
    assert Accuracy(predicted=0, correct=0, gold=3, recalled=0).f2 is None
    assert Accuracy(predicted=2, correct=0, gold=3, recalled=0).f2 == 0.0


def _perfect(doc: Doc) -> DocOutcome:
    """Every value replaced by a marker; spans predicted exactly."""
    text = doc.text
    for span in sorted(doc.spans, key=lambda s: -s.start):
        text = text[: span.start] + "<X>" + text[span.end :]
    return DocOutcome(doc, text, tuple(Predicted(s.entity, s.start, s.end) for s in doc.spans))


def test_score_perfect_system() -> None:
    """A system that replaces exactly the gold spans leaks nothing and over-redacts nothing."""
    slices = score(_perfect(doc) for doc in DOCS)
    everything = slices["all"]
    assert everything.leaks == Rate(0, 8)
    assert everything.direct == Rate(0, 7)
    assert everything.over_redaction == Rate(0, 2)
    assert everything.spans.precision == 1.0
    assert everything.spans.recall == 1.0
    assert slices["heldout"].documents == 3
    assert slices["heldout:negative"].over_redaction == Rate(0, 1)
    assert slices["adversarial"].by_obfuscation["base64"] == Rate(0, 1)


def test_score_identity_system_and_failures() -> None:
    """Output = input leaks everything; a failed document is counted, its values unscored."""
    outcomes = [DocOutcome(doc, doc.text, ()) for doc in DOCS[1:]]
    outcomes.append(DocOutcome(DOCS[0], None, None))
    everything = score(outcomes)["all"]
    assert everything.failures == 1
    assert everything.unscored_values == 3
    assert everything.leaks == Rate(5, 5)
    assert everything.over_redaction == Rate(0, 2)
    assert everything.spans.recall == 0.0


def test_score_extra_types_are_false_positives() -> None:
    """Predicted types outside the gold ones count as false positives under their name."""
    negative = DOCS[-1]
    outcome = DocOutcome(negative, "<ORGANIZATION> the build.", (Predicted("ORGANIZATION", 0, 7),))
    result = figures([judge(outcome)])
    assert result.by_entity["ORGANIZATION"].spans == Accuracy(predicted=1, correct=0)
    assert result.over_redaction == Rate(1, 1)
    assert result.spans.precision == 0.0


def test_figures_json_round_trip() -> None:
    """Figures survive JSON unchanged (the baseline is read back this way)."""
    slices = score(_perfect(doc) for doc in DOCS)
    for value in slices.values():
        assert Figures.from_json(value.to_json()) == value
