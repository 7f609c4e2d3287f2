"""Presidio's context enhancement, reading only the words around each match.

Presidio raises a pattern match's score when one of its recognizer's context words
("phone", "ssn", "card") is among the nearest keywords before it. Upstream does that on
the whole text turned into a spaCy Doc, a Python object per token and a keyword list
built from all of them, and deep-copies every result first: on long texts more time than
the NER model itself. This enhancer gives the same answers from the tokens of short
windows around the matches.

Why the answers are the same: spaCy's tokenizer cuts the text into whitespace and
non-whitespace runs and handles each run alone, so tokenising from the start of a run to
the end of one gives exactly the tokens the whole text has there. Keywords are
upstream's: lower-cased tokens (no lemmatizer runs, so a lemma is the token) that are no
stop word or punctuation and not "be" or "-PRON-", split at ':'. So a token holding ':' is
never one, and the parts of such a token anywhere in the text are keywords everywhere
("to" after "To:bob@example.com"): those tokens are found by tokenising only the
whitespace runs that hold a ':'.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from typing import Any

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.attrs import IS_PUNCT, IS_STOP

__all__ = ["LocalContextEnhancer"]

# Characters either side of a match tokenised first; a window is widened when its
# keywords run out before the text does.
_BACK = 96
_AHEAD = 32
_RUN_START = regex.compile(r"(?<=\s)\S", flags=regex.REVERSE)
_RUN_END = regex.compile(r"\S(?=\s)")
_COLON_RUN = re.compile(r"\S*:\S*")
_SIGMA = frozenset("\u03c3\u03c2")  # lower-case sigma, medial and final

_Tokens = tuple[list[int], list[int], list[str]]  # starts, lengths, lower-cased words


class LocalContextEnhancer(LemmaContextAwareEnhancer):
    """`LemmaContextAwareEnhancer` with upstream's settings and answers, tokenising only
    windows around the matches that have context words to look for."""

    def __init__(self, nlp: Any) -> None:
        super().__init__()
        self._tokenizer = nlp.tokenizer
        self._vocab = nlp.vocab
        self._is_stop = nlp.vocab.lex_attr_getters[IS_STOP]
        self._is_punct = nlp.vocab.lex_attr_getters[IS_PUNCT]
        self._context_words: dict[str, tuple[str, ...]] = {}  # lower-cased, per recognizer

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts | None,
        recognizers: list[Any],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        extra = [word.lower() for word in context or ()]
        lowered = text.lower()
        wanted = []
        for result in raw_results:
            metadata = result.recognition_metadata or {}
            recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if recognizer is None or not recognizer.context:
                continue
            if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            if result.score >= self.MAX_SCORE:
                continue  # a context word could not raise it: no need to read around it
            if not extra and not self._may_occur(recognizer, lowered):
                continue  # none of its context words is in the text: none is near it
            wanted.append((result, recognizer))
        if not wanted:
            return raw_results
        windows = self._windows(text, sorted({result.start for result, _ in wanted}))
        window_starts = [lo for lo, _, _ in windows]
        parts = self._colon_parts(text)
        for result, recognizer in wanted:
            window = windows[bisect.bisect_right(window_starts, result.start) - 1]
            words = self._surrounding_words(text, window, result.start, parts) + extra
            supportive = self._find_supportive_word_in_context(
                words, recognizer.context, self.context_matching_mode
            )
            if supportive:
                score = max(
                    result.score + self.context_similarity_factor,
                    self.min_score_with_context_similarity,
                )
                result.score = min(score, self.MAX_SCORE)
                result.analysis_explanation.set_supportive_context_word(supportive)
                result.analysis_explanation.set_improved_score(result.score)
        return raw_results

    def _may_occur(self, recognizer: Any, lowered: str) -> bool:
        """Whether one of `recognizer`'s context words could be in a keyword of the text
        (`lowered`: the text lower-cased). Upstream looks for each word, lower-cased, in
        each keyword, lower-cased; a keyword is a lower-cased token or a part of one, and
        lower-casing maps character by character (only Greek capital sigma depends on
        its neighbours), so a word in a keyword is in the lower-cased text too. Reading
        the text's tokens costs far more than these look-ups."""
        words = self._context_words.get(recognizer.id)
        if words is None:
            words = tuple(word.lower() for word in recognizer.context)
            self._context_words[recognizer.id] = words
        return any(word in lowered or not _SIGMA.isdisjoint(word) for word in words)

    def _windows(self, text: str, starts: Sequence[int]) -> list[tuple[int, int, _Tokens]]:
        """Tokens of the merged windows around `starts` (sorted), each window
        (lo, hi, tokens)."""
        spans: list[list[int]] = []
        for start in starts:
            lo, hi = _bounds(text, start, _BACK, _AHEAD)
            if spans and lo <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], hi)
            else:
                spans.append([lo, hi])
        return [(lo, hi, self._tokens(text, lo, hi)) for lo, hi in spans]

    def _tokens(self, text: str, lo: int, hi: int) -> _Tokens:
        starts, lengths, words = [], [], []
        for token in self._tokenizer(text[lo:hi]):
            starts.append(token.idx + lo)
            lengths.append(len(token))
            words.append(token.lower_)
        return starts, lengths, words

    def _colon_parts(self, text: str) -> frozenset[str]:
        """The parts of the text's keyword tokens that hold a ':' (upstream's split)."""
        parts: set[str] = set()
        for run in _COLON_RUN.findall(text):
            for token in self._tokenizer(run):
                word = token.lower_
                if ":" in word and self._is_keyword(word):
                    parts.update(word.split(":"))
        return frozenset(parts)

    def _surrounding_words(
        self, text: str, window: tuple[int, int, _Tokens], start: int, parts: frozenset[str]
    ) -> list[str]:
        """Upstream's context words for a match at `start` (inside `window`): from the token
        there, the nearest `context_prefix_count` + 1 keywords backwards and
        `context_suffix_count` + 1 forwards."""
        lo, hi, tokens = window
        back, ahead = _BACK, _AHEAD
        while True:
            index = _token_at(tokens, start)
            if index is None:
                return []
            words = tokens[2]
            backward = self._keywords(words[index::-1], self.context_prefix_count + 1, parts)
            forward = self._keywords(words[index:], self.context_suffix_count + 1, parts)
            short_before = len(backward) <= self.context_prefix_count and lo > 0
            short_after = len(forward) <= self.context_suffix_count and hi < len(text)
            if not (short_before or short_after):
                return list(set(backward + forward))
            # Rare (a long run of stop words or punctuation): a wider window of its own.
            back, ahead = back * 4, ahead * 4
            lo, hi = _bounds(text, start, back, ahead)
            tokens = self._tokens(text, lo, hi)

    def _keywords(self, words: Iterable[str], wanted: int, parts: frozenset[str]) -> list[str]:
        found: list[str] = []
        for word in words:
            if len(found) == wanted:
                break
            if word in parts or (":" not in word and self._is_keyword(word)):
                found.append(word)
        return found

    def _is_keyword(self, word: str) -> bool:
        """Upstream's filter on a lemma before the split at ':'."""
        if word in ("-pron-", "be"):
            return False
        if word in self._vocab:
            lexeme = self._vocab[word]
            return not lexeme.is_stop and not lexeme.is_punct
        # The flags a new lexeme would get, without making one: a lexeme for each word
        # read would cost most of this enhancer's time (inside the detection's memory
        # zone, none outlives the text anyway).
        return not self._is_stop(word) and not self._is_punct(word)


def _bounds(text: str, start: int, back: int, ahead: int) -> tuple[int, int]:
    """A window around `start` from the start of a whitespace/non-whitespace run to the
    end of one, so its tokens are the whole text's."""
    before = _RUN_START.search(text, 0, max(0, start - back) + 1) if start > back else None
    after = _RUN_END.search(text, min(len(text), start + ahead))
    return (before.start() if before else 0), (after.end() if after else len(text))


def _token_at(tokens: _Tokens, start: int) -> int | None:
    """Upstream's match token: the first whose range ends after `start`."""
    starts, lengths, _ = tokens
    index = bisect.bisect_right(starts, start) - 1
    if index < 0:
        return 0 if starts else None
    if start < starts[index] + lengths[index]:
        return index
    return index + 1 if index + 1 < len(starts) else None
