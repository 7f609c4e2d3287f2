"""Context words read around each match give Presidio's own enhancer's scores."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from bench import corpus
from governance.policy import Policies
from sidecar.context_enhancer import (
    _COLON_RUN,
    LocalContextEnhancer,
    _ColonParts,
    _Occurrences,
)
from sidecar.detection import PresidioDetector


class _Upstream(LemmaContextAwareEnhancer):
    """Presidio's enhancer as shipped, with bisection for the match token (its linear
    scan gives the same index, only slower)."""

    @staticmethod
    def _find_index_of_match_token(word: str, start: int, tokens: Any, indices: list[int]) -> int:
        for i, token in enumerate(tokens):
            if indices[i] == start or start < indices[i] + len(token):
                return i
        raise ValueError("beyond the last token")


def _scores(
    detector: PresidioDetector,
    policies: Policies,
    text: str,
    recognizers: list[Any] | None = None,
) -> tuple[list[float], list[float]]:
    """Upstream's and our scores of the matches of `recognizers` (default: the shipped
    policy's) in `text`."""
    screen = detector._screens[policies.default.name]
    analyzer = screen.analyzer
    engine = analyzer.nlp_engine
    nlp = engine.nlp["en"]
    # Inside the detector's memory zone, as detection runs: the words read stay nowhere.
    with screen.zone():
        if recognizers is None:
            recognizers = analyzer.registry.get_recognizers(language="en", all_fields=True)
        raw = []
        for recognizer in recognizers:
            for result in recognizer.analyze(
                text, recognizer.supported_entities, screen.no_artifacts
            ):
                result.recognition_metadata = result.recognition_metadata or {}
                result.recognition_metadata.setdefault(
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, recognizer.id
                )
                raw.append(result)
        doc = nlp.make_doc(text)
        lemmas = [token.lower_ for token in doc]
        artifacts = NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=lemmas,
            nlp_engine=engine,
            language="en",
        )
        theirs = _Upstream().enhance_using_context(text, copy.deepcopy(raw), artifacts, recognizers)
        ours = LocalContextEnhancer(nlp).enhance_using_context(
            text, copy.deepcopy(raw), screen.no_artifacts, recognizers
        )
    return [r.score for r in theirs], [r.score for r in ours]


def test_same_scores_on_the_bench_corpus(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    texts = [doc.text for doc in corpus.generate(7) if doc.size_class in ("200B", "2KB")]
    boosted = 0
    for text in texts:
        theirs, ours = _scores(detector, shipped_policies, text)
        assert ours == theirs
        boosted += sum(1 for a in ours if a > 0.5)
    assert boosted > 0  # context words did raise scores: the comparison means something


@pytest.mark.parametrize(
    "text",
    [
        # Stop words made keywords by a ':'-joined token elsewhere in the text: they
        # fill the window before the context word is reached.
        "me:x\ncall me me me me me me 202-555-0147",
        "Reply to:ops@example.com\nphone to to to to to to 415 555 0199",
        "To:bob@example.com\nto call 202-555-0147 or 202 555 0148 later",
        "no:1 the number to ring is 415 555 0199, card 4111 1111 1111 1111",
        "phone:555-0100 ... and much later the be: 312 555 0142",
        "see x]:to\nphone to to to to to to (202) 555-0147",
        "ssn: 536-22-8147",
        "   \n\n 536-22-8147 at the end",
        # No context word anywhere in the text (no window is read), then one only in
        # capitals, inside a longer word, or in a ':'-joined token.
        "ring 202-555-0147 or 415 555 0199; ids 536-22-8147",
        "CELL 202-555-0147 and MOBILENUMBER 415 555 0199",
        "reach:CELLPHONE 202-555-0147",
        # The context word five, six and seven plain words (keywords, one token each)
        # before the match: upstream's window holds the nearest six keywords.
        "phone apple grape melon lemon 202-555-0147",
        "phone apple grape melon lemon peach 202-555-0147",
        "phone apple grape melon lemon peach mango 202-555-0147",
        "phone apple grape melon lemon peach mango\n202-555-0147 kiwi",
        # ... with a match token that is no keyword ("("): six plain words, then seven.
        "phone apple grape melon lemon peach (202) 555-0147",
        "phone apple grape melon lemon peach mango (202) 555-0147",
        # Words of letters only that are not one keyword: special cases spaCy splits
        # into stop words ("can" "not"), and stop words.
        "phone cannot cannot cannot cannot cannot cannot cannot 202-555-0147",
        "phone theyre youre whyre theyre youre whyre theyre (202) 555-0147",
        "phone Gonna gotta Cannot the and of apple 202-555-0147",
        # ... and words that only look plain: digits, accents, apostrophes, hyphens.
        "phone apple1 caf\u00e9 o'neill x-ray grape2 melon3 202-555-0147",
        # After the match: the nearest keyword forwards may hold the context word.
        "apple grape melon lemon peach mango 202-555-0147 phone",
        "apple grape melon lemon peach mango 202-555-0147 the of phone",
        "apple grape melon lemon peach mango 202-555-0147 kiwi phone",
        # A plain word holding the context word, near enough to count without reading
        # the tokens between: four one-token words, then five; with the match's token a
        # keyword ("202") or not ("(").
        "phone number is (202) 555-0147",
        "phone x y z w (202) 555-0147",
        "phone x y z w v (202) 555-0147",
        "phone x y z w 202-555-0147",
        "phone x y z w v 202-555-0147",
        "phone a1 b2 (202) 555-0147",
        "phone\n\n\n\n202-555-0147",
        "phone  x  y  z  (202) 555-0147",
        "phone x\ty\tz\tw (202) 555-0147",
        "phone tel:202-555-0147",
        "phone cannot cannot (202) 555-0147",
        "phone gonna gonna gonna (202) 555-0147",
        "phone " + "x" * 300 + " (202) 555-0147",
        "phone x " + "\n" * 300 + " (202) 555-0147",
        # Lower-casing that changes the text's length ("\u0130" becomes two characters):
        # offsets in the lower-cased text are not the text's.
        "\u0130\u0130\u0130 phone apple grape melon lemon 202-555-0147",
        "phone \u0130stanbul apple grape melon lemon peach 202-555-0147",
        "\u0130" * 40 + " apple grape phone (202) 555-0147 kiwi melon",
    ],
)
def test_same_scores_with_colons_and_edges(
    detector: PresidioDetector, shipped_policies: Policies, text: str
) -> None:
    theirs, ours = _scores(detector, shipped_policies, text)
    assert ours == theirs


_WORDS = (
    "call",
    "phone",
    "to",
    "the",
    "ssn:",
    "no:",
    "me:",
    "a",
    "-",
    ".",
    ":",
    "tel",
    "\n",
    "202-555-0147",
    "536-22-8147",
    "4111111111111111",
    "number",
    "be",
    "card",
    "x:y",
    "it's",
    "(",
    ")",
    "bob@example.com",
    "PHONE",
    "Cell:",
    "telephones",
    "apple",
    "Grape",
    "MELON",
    "cannot",
    "Gonna",
    "kiwi",
    "\u0130",
    "\u03a3",
    "to:",
    "youre",
    "(202) 555-0147",
    "x",
    "tel:",
    "  ",
)


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(st.sampled_from(_WORDS), max_size=60),
    separators=st.lists(st.sampled_from([" ", "  ", "\n", "\t", ""]), min_size=60, max_size=60),
)
def test_same_scores_on_generated_texts(
    detector: PresidioDetector, shipped_policies: Policies, words: list[str], separators: list[str]
) -> None:
    text = "".join(w + s for w, s in zip(words, separators, strict=False))
    theirs, ours = _scores(detector, shipped_policies, text)
    assert ours == theirs


class _CountedText(str):
    """A lower-cased text that counts the searches made in it."""

    searches = 0

    def __contains__(self, part: object) -> bool:
        type(self).searches += 1
        return super().__contains__(part)  # type: ignore[operator]


def test_the_colon_parts_search_the_text_once_per_word(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    # A long text asks about the same stop words and marks thousands of times: each
    # search reads the whole text, so a word found next to no ':' is not searched again
    # (a 300 KB text took twice as long before).
    analyzer = detector._screens[shipped_policies.default.name].analyzer
    enhancer = analyzer.context_aware_enhancer
    text = "the call to 202-555-0147, the number. " * 1000
    parts = _ColonParts(enhancer, text, _CountedText(text.lower()))
    for _ in range(500):
        assert "the" not in parts
        assert "," not in parts
        assert "to" not in parts
    assert _CountedText.searches == 6  # "the:" and ":the", for each of the three
    colons = "see x]:to and the rest"
    parts = _ColonParts(enhancer, colons, colons.lower())
    assert "to" in parts  # a part of "x]:to": a keyword everywhere in that text
    assert "the" not in parts


@pytest.mark.parametrize(
    ("context", "text"),
    [
        # Upstream takes the first of the recognizer's words found in a keyword: "" is in
        # every keyword, and an empty word raises nothing.
        ([""], "staff E123456"),
        (["", "staff"], "staff E123456"),
        (["staff", ""], "staff E123456"),
        (["staff"], "staff E123456"),
        ([""], "E123456"),
    ],
)
def test_same_scores_with_a_policys_empty_context_word(
    detector: PresidioDetector, shipped_policies: Policies, context: list[str], text: str
) -> None:
    recognizer = PatternRecognizer(
        supported_entity="EMPLOYEE_ID",
        patterns=[Pattern("employee", r"E\d{6}", 0.3)],
        context=context,
    )
    theirs, ours = _scores(detector, shipped_policies, text, [recognizer])
    assert theirs
    assert ours == theirs


class _CountedSearches(str):
    """A lower-cased text that counts the searches made in it."""

    finds = 0

    def find(self, *args: Any) -> int:
        type(self).finds += 1
        return super().find(*args)


def test_each_context_word_is_searched_for_once_per_text() -> None:
    # A long text can hold thousands of matches; each one's checks are look-ups.
    lowered = "202-555-0147, call the phone number\n" * 2000
    occurring = _Occurrences(_CountedSearches(lowered))
    words = ("phone", "cell", "fax")
    spans = [(at, at + 30) for at in range(0, len(lowered), 36)]  # one a line
    assert all(occurring.within(words, lo, hi) for lo, hi in spans)
    assert not any(occurring.within(("cell", "fax"), lo, hi) for lo, hi in spans)
    assert not occurring.within(words, 0, 20)
    assert occurring.within(words, 0, len(lowered))
    # "phone" 2000 times, then not again; "cell" and "fax" nowhere.
    assert _CountedSearches.finds == 2001 + 1 + 1
    assert occurring.within(("",), 5, 5)  # (as str.find finds "" anywhere)


@given(
    st.lists(
        st.sampled_from(["a", ":", " ", "\n", "b:", "\u00a0", "\t", "x" * 50]), max_size=60
    ).map("".join)
)
def test_colon_runs_are_the_whitespace_runs_holding_a_colon(text: str) -> None:
    assert _COLON_RUN.findall(text) == [run for run in text.split() if ":" in run]


def test_plain_word_shortcuts_only_for_english_rules() -> None:
    assert LocalContextEnhancer(spacy.blank("en"))._plain_words
    assert not LocalContextEnhancer(spacy.blank("de"))._plain_words
