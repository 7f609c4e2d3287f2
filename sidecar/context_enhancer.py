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
whitespace runs that hold a ':', and only when a stop word or punctuation mark in a window
could be one of those parts.

Most matches need no window at all. Their recognizer's context words are nowhere in the
text; or, from plain words alone, none can be among the keywords the match looks at, or
a plain word just before the match holds one and is surely among them (`_SureKeywords`).
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
# A whole run holding a ':'. Anchored at a run's start: unanchored, a long run with no ':'
# was searched again from each of its characters.
_COLON_RUN = re.compile(r"(?<!\S)\S*:\S*")
_PLAIN_WORD = re.compile(r"(?<!\S)[A-Za-z]+(?!\S)")
_RUN = re.compile(r"\s+|\S+")
# Characters between a plain word and a match beyond which `_few_tokens` gives up.
_FEW_TOKENS_SPAN = 200
_SIGMA = frozenset("\u03c3\u03c2")  # lower-case sigma, medial and final

_Tokens = tuple[list[int], list[int], list[str]]  # starts, lengths, lower-cased words


class LocalContextEnhancer(LemmaContextAwareEnhancer):
    """`LemmaContextAwareEnhancer` with upstream's settings and answers, tokenising only
    windows around the matches that have context words to look for."""

    def __init__(self, nlp: Any) -> None:
        super().__init__()
        self._tokenizer = nlp.tokenizer
        # spaCy's rule-based tokenizer with English rules: its special cases (a plain word
        # is one token unless it is one of them, `_SureKeywords`). Other tokenizers: none
        # of the shortcuts that rely on it.
        rules = getattr(nlp.tokenizer, "rules", None)
        self._plain_words = nlp.lang == "en" and rules is not None
        self._specials = frozenset(rules or ())
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
        occurring = _Occurrences(lowered)
        sure: _SureKeywords | None = None
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
            stretch = None
            if not extra:  # (words given with the request count wherever the match is)
                context_words = self._lowered_context(recognizer)
                if not occurring.within(context_words, 0, len(lowered)):
                    continue  # none of its context words is in the text: none is near it
                if sure is None:
                    sure = _SureKeywords(self, text, lowered)
                stretch = sure.around(result.start)
                if stretch is not None and not occurring.within(context_words, *stretch):
                    continue  # none is where its keywords can be
                held = sure.held_near(context_words, result.start)
                if held is not None:  # one is surely among them
                    self._raise(result, recognizer, held)
                    continue
            lo, hi = _bounds(text, result.start, _BACK, _AHEAD)
            if stretch is not None:  # no keyword it looks at lies outside the stretch
                lo, hi = max(lo, stretch[0]), min(hi, stretch[1])
            wanted.append((result, recognizer, lo, hi))
        if not wanted:
            return raw_results
        windows = self._windows(text, sorted((lo, hi) for _, _, lo, hi in wanted))
        window_starts = [lo for lo, _, _ in windows]
        parts = _ColonParts(self, text, lowered)
        for result, recognizer, _, _ in wanted:
            window = windows[bisect.bisect_right(window_starts, result.start) - 1]
            words = self._surrounding_words(text, window, result.start, parts) + extra
            supportive = self._find_supportive_word_in_context(
                words, recognizer.context, self.context_matching_mode
            )
            if supportive:
                self._raise(result, recognizer, supportive)
        return raw_results

    def _raise(self, result: RecognizerResult, recognizer: Any, supportive: str) -> None:
        """Upstream's score for a match with a context word near it."""
        score = max(
            result.score + self.context_similarity_factor,
            self.min_score_with_context_similarity,
        )
        result.score = min(score, self.MAX_SCORE)
        result.analysis_explanation.set_supportive_context_word(supportive)
        result.analysis_explanation.set_improved_score(result.score)

    def _lowered_context(self, recognizer: Any) -> tuple[str, ...]:
        words = self._context_words.get(recognizer.id)
        if words is None:
            words = tuple(word.lower() for word in recognizer.context)
            self._context_words[recognizer.id] = words
        return words

    def _windows(
        self, text: str, bounds: Iterable[tuple[int, int]]
    ) -> list[tuple[int, int, _Tokens]]:
        """Tokens of the merged windows `bounds` (sorted), each window (lo, hi, tokens)."""
        spans: list[list[int]] = []
        for lo, hi in bounds:
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
        self, text: str, window: tuple[int, int, _Tokens], start: int, parts: _ColonParts
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

    def _keywords(self, words: Iterable[str], wanted: int, parts: _ColonParts) -> list[str]:
        found: list[str] = []
        for word in words:
            if len(found) == wanted:
                break
            # (A part holds no ':'.)
            if ":" not in word and (self._is_keyword(word) or word in parts):
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


class _Occurrences:
    """Where context words occur in the text, lower-cased (`lowered`): each word's places
    found once per text, so that each match's checks cost a look-up, not a search of
    the whole text (a long text can hold thousands of matches)."""

    def __init__(self, lowered: str) -> None:
        self._lowered = lowered
        self._places: dict[str, list[int]] = {}

    def within(self, words: Iterable[str], lo: int, hi: int) -> bool:
        """Whether one of the context `words` could be in a keyword of the text lying in
        `lowered[lo:hi]`. Upstream looks for each word, lower-cased, in each keyword,
        lower-cased; a keyword is a lower-cased token or a part of one, and lower-casing
        maps character by character (only Greek capital sigma depends on its
        neighbours), so a word in a keyword is in the lower-cased text too."""
        for word in words:
            if not word or not _SIGMA.isdisjoint(word):
                return True
            places = self._places.get(word)
            if places is None:
                places = self._places[word] = _places(self._lowered, word)
            index = bisect.bisect_left(places, lo)
            if index < len(places) and places[index] + len(word) <= hi:
                return True
        return False


def _places(text: str, word: str) -> list[int]:
    """Where `word` starts in `text`, overlaps included."""
    places = []
    at = text.find(word)
    while at >= 0:
        places.append(at)
        at = text.find(word, at + 1)
    return places


class _SureKeywords:
    """The text's plain words: whitespace-delimited runs of ASCII letters that spaCy
    makes one token of (no special case such as "cannot" covers them; its prefix,
    suffix and infix rules all need some other character) and that are keywords (no
    stop word). They bound where a match's keywords can lie: its nearest
    `context_prefix_count` + 1 keywords backwards all come after the as many plain words
    before it, and its nearest `context_suffix_count` + 1 forwards end by as many plain
    words after it, whatever the tokens between are. Only where the lower-cased text
    maps character for character onto the text (the same length) do offsets agree."""

    def __init__(self, enhancer: LocalContextEnhancer, text: str, lowered: str) -> None:
        self._text = text
        self._lowered = lowered
        self._specials = enhancer._specials
        self._back = enhancer.context_prefix_count + 1
        self._ahead = enhancer.context_suffix_count + 1
        self._usable = enhancer._plain_words and len(lowered) == len(text)
        self._starts: list[int] = []
        self._ends: list[int] = []
        if not self._usable:
            return
        for match in _PLAIN_WORD.finditer(text):
            word = match.group()
            if word not in self._specials and enhancer._is_keyword(word.lower()):
                self._starts.append(match.start())
                self._ends.append(match.end())

    def held_near(self, words: Sequence[str], start: int) -> str | None:
        """A context word in `words` that a plain word before a match at `start` holds,
        when that plain word is surely among the keywords the match looks at backwards:
        too few characters lie between the two for the tokens there (each a keyword or
        not, the match's own token one too) to push it out; None when there is no such
        word. Upstream names the first of the recognizer's context words found in any
        keyword near the match in its explanation, this the first in the nearest plain
        word; the score is the same."""
        if not self._usable or not all(words):
            return None  # (upstream's first word found may be "", which raises nothing)
        before = bisect.bisect_right(self._ends, start)
        for index in range(before - 1, max(before - self._back, 0) - 1, -1):
            plain = self._lowered[self._starts[index] : self._ends[index]]
            held = next((word for word in words if word in plain), None)
            if held is not None:
                return held if self._few_tokens(self._ends[index], start) else None
        return None

    def _few_tokens(self, lo: int, hi: int) -> bool:
        """Whether `text[lo:hi]` (from the end of a plain word to a match's start) holds
        at most `context_prefix_count` - 1 tokens. A plain word or other run of ASCII
        letters that is no special case is one token, a single space after a word none,
        any other run of whitespace one; other runs at most one per character (the last
        may be the first part of the match's own run)."""
        allowed = self._back - 2
        if hi - lo > _FEW_TOKENS_SPAN:
            return False  # too far to count cheaply for every match: the window decides
        count = 0
        for run in _RUN.finditer(self._text, lo, hi):
            chars = run.group()
            if chars.isspace():
                count += chars != " "
            elif run.end() == hi and hi < len(self._text) and not self._text[hi].isspace():
                count += len(chars)
            elif chars.isascii() and chars.isalpha() and chars not in self._specials:
                count += 1
            else:
                count += len(chars)
            if count > allowed:
                return False
        return True

    def around(self, start: int) -> tuple[int, int] | None:
        """The stretch (lo, hi) of the text holding every keyword a match at `start`
        looks at, from the start of a whitespace/non-whitespace run to the end of one;
        None if offsets in the lower-cased text are not the text's. A plain word ending
        by `start` comes before the match's token, one starting after `start` after it."""
        if not self._usable:
            return None
        before = bisect.bisect_right(self._ends, start)
        lo = self._starts[before - self._back] if before >= self._back else 0
        after = bisect.bisect_right(self._starts, start) + self._ahead - 1
        hi = self._ends[after] if after < len(self._ends) else len(self._lowered)
        return lo, hi


class _ColonParts:
    """Upstream's keywords that are parts of a ':'-joined token, found on demand: the
    colon runs are tokenised only when a word in a window (a stop word or punctuation
    mark) stands next to a ':' somewhere in the text, as a part would."""

    def __init__(self, enhancer: LocalContextEnhancer, text: str, lowered: str) -> None:
        self._enhancer = enhancer
        self._text = text
        self._lowered = lowered
        self._parts: frozenset[str] | None = None
        # Words found next to no ':' (each search reads the whole text): a long text
        # asks about the same few stop words and marks thousands of times.
        self._apart: set[str] = set()

    def __contains__(self, word: object) -> bool:
        assert isinstance(word, str)  # noqa: S101 - for the type checker
        if self._parts is None:
            if word in self._apart:
                return False
            # A part of a token is bounded by a ':' on at least one side. (A sigma's
            # lower case depends on its neighbours: then read the runs anyway.)
            if _SIGMA.isdisjoint(word) and not (
                word + ":" in self._lowered or ":" + word in self._lowered
            ):
                self._apart.add(word)
                return False
            self._parts = self._enhancer._colon_parts(self._text)
        return word in self._parts


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
