"""Streaming cut points: a value split across chunks is never released in part.

`hold_from` decides from the words alone how much unreleased text must wait; `safe_cut`
adds detected spans and placeholders and the max_holdback guarantee of progress.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.streaming import hold_from, safe_cut

VALUES = {
    "card-spaces": "4111 1111 1111 1111",
    "card-dashes": "4111-1111-1111-1111",
    "card-plain": "4111111111111111",
    "amex": "3782 822463 10005",
    "iban": "DE89 3704 0044 0532 0130 00",
    "email": "john.doe@example.com",
    "email-plus": "a.b+tag@sub.example.co.uk",
    "phone-e164": "+1 202 555 0147",
    "phone-parens": "(202) 555-0147",
    "phone-uk": "+44 20 7946 0958",
    "phone-dots": "202.555.0147",
    "ip": "192.168.1.20",
    "name": "John Smith",
    "name-three": "Mary Ann Jones",
    "name-particles": "Maria del Carmen Garcia",
    "name-van": "Ludwig van Beethoven",
    "name-hyphen": "Jean-Luc Picard",
    "name-apostrophe": "Mary O'Brien",
    "name-middle-initial": "John F. Kennedy",
    "name-initials": "J. R. R. Tolkien",
    "placeholder": "<PERSON_1>",
    "placeholder-long": "<EMAIL_ADDRESS_12>",
}
# Text released before the value; lower-case ones must be released in full.
LOWER_CONTEXTS = ["", "please send it to ", "my number is ", "ok so\n", "it was done. then "]
OTHER_CONTEXTS = ["Contact: ", "Hi, ", "We met. ", "Dear "]


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_hold_from_never_releases_part_of_value(value: str) -> None:
    """For a text ending anywhere inside a value, nothing of the value is released."""
    leaks = []
    for context in LOWER_CONTEXTS + OTHER_CONTEXTS:
        for split in range(1, len(value) + 1):
            text = context + value[:split]
            cut = hold_from(text)
            if cut > len(context):
                leaks.append((text, text[len(context) : cut]))
    assert not leaks, leaks


@pytest.mark.parametrize("context", LOWER_CONTEXTS)
@pytest.mark.parametrize("value", ["John Smith", "4111 1111 1111 1111", "<PERSON_1>"])
def test_hold_from_releases_lower_case_words_before_value(context: str, value: str) -> None:
    """The lower-case words before a value are released while the value is held."""
    for split in range(1, len(value) + 1):
        assert hold_from(context + value[:split]) == len(context)


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("the quick brown fox ", ""),
        ("the quick brown fo", "fo"),
        ("John Smith said hi ", ""),
        ("we met John Smith. then we left ", ""),
        ("we met Paris. John Sm", "John Sm"),
        ("we met Paris\nJohn Sm", "John Sm"),
        ("call me at 202 555", "202 555"),
        ("that is all.", "all."),
        ("done, <PERS", "<PERS"),
        ("done, <", "<"),
        ("   ", ""),
        ("", ""),
    ],
)
def test_hold_from_holds_only_what_may_continue(text: str, held: str) -> None:
    """Finished lower-case words go out; the open last word and entity-like runs wait."""
    assert text[hold_from(text) :] == held


def test_safe_cut_final_releases_everything() -> None:
    """The final chunk is released whole, spans or not."""
    text = "call John Sm"
    assert safe_cut(text, [(5, 12)], [], max_holdback=16, final=True) == len(text)


def test_safe_cut_moves_back_before_split_finding() -> None:
    """A detected span the word-based cut would split is held back whole."""
    text = "I paid on the first of may and"
    start = text.index("the first")
    assert hold_from(text) == text.index("and")
    assert safe_cut(text, [(start, len(text))], [], max_holdback=512, final=False) == start


def test_safe_cut_follows_chained_spans_back() -> None:
    """Moving back into another span keeps moving back to that span's start."""
    text = "a" * 10 + "b" * 20 + " and"
    cut = safe_cut(text, [(15, 33), (5, 20)], [], max_holdback=512, final=False)
    assert hold_from(text) == 31
    assert cut == 5


def test_safe_cut_forced_progress_when_holdback_exceeded() -> None:
    """Held text longer than max_holdback is released up to max_holdback from the end."""
    text = " ".join(["Name"] * 40)  # all entity-like: words alone would hold everything
    assert hold_from(text) == 0
    cut = safe_cut(text, [], [], max_holdback=16, final=False)
    assert cut == len(text) - 16


def test_safe_cut_forced_moves_past_split_placeholder() -> None:
    """When forced, an issued placeholder the cut would split is released whole."""
    text = "Name " * 10 + "<PERSON_1> Name Name Na"
    atom = (50, 60)
    assert text[atom[0] : atom[1]] == "<PERSON_1>"
    assert atom[0] < len(text) - 16 < atom[1]
    assert safe_cut(text, [], [atom], max_holdback=16, final=False) == atom[1]


def test_safe_cut_forced_moves_past_split_finding() -> None:
    """When forced, a span the cut would split is released whole (to be redacted)."""
    text = " ".join(["Name"] * 40)
    span = (len(text) - 30, len(text) - 5)
    cut = safe_cut(text, [span], [], max_holdback=16, final=False)
    assert cut == span[1]


SPANS = st.lists(st.tuples(st.integers(0, 80), st.integers(0, 80)), max_size=6)
WORDS = st.sampled_from(["the", "and", "John", "Smith", "4111", "a@b.co", "<PERSON_1>", "x.", "\n"])
STREAM_TEXTS = st.lists(WORDS, max_size=20).map(" ".join)


@settings(max_examples=300)
@given(STREAM_TEXTS, SPANS, SPANS, st.integers(16, 64))
def test_safe_cut_property_never_splits_a_span(
    text: str,
    raw_findings: list[tuple[int, int]],
    raw_atoms: list[tuple[int, int]],
    max_holdback: int,
) -> None:
    """The cut never falls inside a span; it holds back at least what words require unless
    forced, and when forced it keeps no more than max_holdback characters."""

    def clip(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(min(a, b, len(text)), min(max(a, b), len(text))) for a, b in spans]

    findings, atoms = clip(raw_findings), clip(raw_atoms)
    cut = safe_cut(text, findings, atoms, max_holdback=max_holdback, final=False)
    assert 0 <= cut <= len(text)
    assert not [(a, b) for a, b in findings + atoms if a < cut < b]
    words_cut = hold_from(text)
    if len(text) - words_cut > max_holdback:
        assert cut >= len(text) - max_holdback
    else:
        assert cut <= words_cut
