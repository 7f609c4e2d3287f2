"""What the NER model reads: regions around possible names and places, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.policy import Policies, load_policies
from sidecar.detection import PresidioDetector
from sidecar.ner_regions import ner_regions
from tests.conftest import SHIPPED_POLICIES, detector_for


def _read(text: str, covered: list[tuple[int, int]] | None = None) -> str:
    return "\n".join(text[a:b] for a, b in ner_regions(text, covered or []))


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-05T10:22:01Z INFO worker started pid=4411 queue=default",
        "def handler(event, context):\n    return {'status': 200}",
        "The release adds retries. It also fixes the timeout.",
        "ok thanks, will do tomorrow",
        "| id | amount | status |\n| 17 | 12.50 | paid |",
        # Contractions, joined ordinary words, month and day names, short acronyms,
        # a speaker label after a log line's bracketed time.
        "so then I'm sure it's fine, a follow-up on Monday in July",
        "It's fine. Follow-up later. Can't say.",
        "wire the EUR amount in USD with the SSN and DOB checked",
        "[10:02] Agent: the refund is on its way",
    ],
)
def test_lines_without_a_possible_name_are_not_read(text: str) -> None:
    assert ner_regions(text) == []


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("The ticket went to Wojtek yesterday.", "Wojtek"),  # no ordinary word
        ("Please ask Mark about the refund.", "Mark"),  # a word, inside a sentence
        ("Transfer from OMKAAR RAMASWAMY", "OMKAAR"),  # ALL CAPS, no word
        ("thanks to priya for the help", "priya"),  # a lower-case given name
        ("wire it to KIM now", "KIM"),  # a short ALL-CAPS name
        ("the note from O'Neill arrived", "O'Neill"),  # an apostrophe inside a name
        ("then Jean-Luc signed", "Jean-Luc"),  # a hyphen inside a name
        ("[00:01:10] Agent (Ji-ho): Can you confirm", "Ji-ho"),  # short syllables
        ("the memo to McDonald went out", "McDonald"),  # a capital inside a name
        ("then it went to Jane's desk", "Jane's"),  # a name with a clitic
    ],
)
def test_possible_names_are_read_with_their_neighbours(text: str, word: str) -> None:
    read = _read(text)
    assert word in read
    assert read == text  # a short line is read whole


def test_regions_stay_on_their_line_and_near_the_word() -> None:
    filler = "the quick brown fox jumps over the lazy dog " * 6
    text = f"log line one\n{filler}then Wojtek called {filler}\nlast line"
    (region,) = ner_regions(text)
    start, end = region
    assert "Wojtek" in text[start:end]
    assert "\n" not in text[start:end]
    assert end - start < 200  # not the whole 560-character line
    assert text[start - 1] in " \n"  # whole words
    assert text[end] in " \n"


def test_names_the_rules_found_whole_are_not_read_again() -> None:
    text = "Contact: Wojtek Szczepaniak"
    at = text.index("Wojtek")
    assert ner_regions(text, [(at, len(text))]) == []
    # A one-word finding may be part of a longer name: the model still reads it.
    assert ner_regions(text, [(at, at + len("Wojtek"))]) != []


@given(st.text(alphabet="abcXYZ Élodie\n.,:-0123456789", max_size=300))
def test_regions_are_ordered_disjoint_and_inside_the_text(text: str) -> None:
    previous = -1
    for start, end in ner_regions(text):
        assert previous < start < end <= len(text)
        assert "\n" not in text[start:end]
        previous = end


def test_candidates_scope_finds_what_reading_everything_finds(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    text = SHIPPED_POLICIES.read_text()
    assert "ner_scope: candidates" in text
    all_policies = load_policies(text.replace("ner_scope: candidates", "ner_scope: all"))
    everything = detector_for(all_policies)
    texts = [
        "2024-01-05 INFO login ok\nThe ticket went to Wojtek Szczepaniak in Gdansk yesterday.",
        "Hi team,\nplease ask Mark Ruffalo about the refund for order 1234.\nThanks",
        "Patient: Oskar Wieczorek\nDOB: 03 MAR 1984\nSeen by Dr. Amara Okafor at St Mary's.",
    ]
    for sample in texts:
        scoped = detector.detect(sample, shipped_policies.default)
        whole = everything.detect(sample, all_policies.default)
        # Scores may differ (a date found by the pattern instead of the model): not spans.
        assert [(f.entity, f.start, f.end) for f in scoped] == [
            (f.entity, f.start, f.end) for f in whole
        ]
