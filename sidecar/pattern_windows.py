"""Presidio's pattern recognizers, run only where their patterns can match.

Presidio runs every pattern over the whole text: the URL patterns try a domain at every
letter of a 100 KB text, the e-mail pattern a local part at every word. A match of most
patterns can only lie inside a run of a few kinds of characters (no whitespace in a URL,
only letters, digits and spaces in a NINO) and must hold something rarer (an '@', a dot
before a letter, seven digits in a row). `Windows` finds the maximal runs that hold it
(with the standard `re` module, a fast scanner), and the recognizers here run their
patterns only there, with the same compiled patterns, validation, scores, explanations
and de-duplication as Presidio's `PatternRecognizer` (and `IbanRecognizer`'s own loop).
Patterns that are cheap over the whole text (a literal prefix) still scan all of it.

Why the matches are the same. For a window (lo, hi), a maximal run of `chars`, the
patterns run from `pos=lo` to `endpos=hi + 1`:
- no match of the whole text lies across a window's edge or between windows: every
  character a match consumes is one of `chars`, and every match holds the needle;
- a scan of the whole text reaches each window with nothing consumed inside it (the last
  match ended in an earlier window), so the matches found inside it, left to right and
  not overlapping, are the same;
- look-behinds and `\b` at `lo` see the text before it (the `regex` module reads the
  whole string before `pos`), and a look-ahead or `\b` at a position up to `hi` sees the
  character at `hi` (included by `endpos`); no pattern here looks further ahead from a
  position a match can reach than its run and that one character.
`chars` and the needles are supersets of what the patterns need, in the terms of the
`regex` module they are compiled with (case-insensitively, Unicode): every non-ASCII
character counts as a possible letter or digit, so the two modules' Unicode tables
cannot disagree about a window.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import regex
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS
from presidio_analyzer.predefined_recognizers import (
    CryptoRecognizer,
    EmailRecognizer,
    EsNifRecognizer,
    IbanRecognizer,
    IpRecognizer,
    ItFiscalCodeRecognizer,
    MedicalLicenseRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsPassportRecognizer,
)

__all__ = ["WINDOWED", "WindowedPatternRecognizer", "Windows", "windowed"]

logger = logging.getLogger("presidio-analyzer")

# Windows longer than this are scanned with Presidio's regex timeout (which costs some
# microseconds a call); a pattern here cannot take seconds on a shorter one.
_UNTIMED = 4096
_NON_ASCII = "\x80-\U0010ffff"


class Windows:
    """The maximal runs of `chars` (a `re` character-class body) holding a match of
    `needle` (a `re` pattern whose matches are made of `chars`)."""

    def __init__(self, chars: str, needle: str) -> None:
        self._needle = re.compile(needle)
        self._run = re.compile(f"[{chars}]*")

    def __call__(self, text: str) -> list[tuple[int, int]]:
        """(pos, endpos) of each window: its run and the character after it."""
        windows: list[tuple[int, int]] = []
        length = len(text)
        backwards = ""
        pos = 0
        while (found := self._needle.search(text, pos)) is not None:
            if not backwards:
                backwards = text[::-1]
            # The run before the needle: a run forwards in the reversed text.
            before = length - found.start()
            lo = found.start() - (self._run_end(backwards, before) - before)
            hi = self._run_end(text, found.end())
            windows.append((lo, min(hi + 1, length)))
            pos = hi + 1
        return windows

    def _run_end(self, text: str, pos: int) -> int:
        run = self._run.match(text, pos)  # `[...]*`: always a match
        return pos if run is None else run.end()


def _matches(compiled: Any, text: str, windows: list[tuple[int, int]] | None) -> Iterator[Any]:
    """`compiled.finditer` over the whole text (`windows` None), or over each window."""
    if windows is None:
        yield from compiled.finditer(text, timeout=REGEX_TIMEOUT_SECONDS)
        return
    for pos, endpos in windows:
        if endpos - pos > _UNTIMED:
            yield from compiled.finditer(text, pos, endpos, timeout=REGEX_TIMEOUT_SECONDS)
            continue
        # finditer as one search a match (finditer's set-up costs more in a short
        # window); on an empty match (none of the patterns here has one) finditer itself.
        found = []
        at = pos
        while (match := compiled.search(text, at, endpos)) is not None:
            if match.end() == match.start():
                found = list(compiled.finditer(text, pos, endpos))
                break
            found.append(match)
            at = match.end()
        yield from found


def _pattern_results(
    recognizer: Any,  # a PatternRecognizer (Presidio leaves its attributes untyped)
    text: str,
    windows: dict[str, list[tuple[int, int]] | None],
    flags: int | None,
) -> list[RecognizerResult]:
    """`PatternRecognizer.__analyze_patterns` with each pattern's scan limited to its
    `windows` (by pattern name; None: the whole text)."""
    flags = flags if flags else recognizer.global_regex_flags
    results = []
    for pattern in recognizer.patterns:
        # Compiled, and cached on the pattern, as Presidio does.
        if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
            pattern.compiled_with_flags = flags
            pattern.compiled_regex = regex.compile(pattern.regex, flags=flags)
        try:
            for match in _matches(pattern.compiled_regex, text, windows[pattern.name]):
                start, end = match.span()
                current_match = text[start:end]
                if current_match == "":
                    continue
                pattern_result, description = _validated(
                    recognizer, pattern, current_match, start, end, flags
                )
                invalidation_result = recognizer.invalidate_result(current_match)
                if invalidation_result is not None and invalidation_result:
                    pattern_result.score = EntityRecognizer.MIN_SCORE
                if pattern_result.score > EntityRecognizer.MIN_SCORE:
                    results.append(pattern_result)
                description.score = pattern_result.score
        except TimeoutError:
            logger.warning(
                "Regex pattern '%s' timed out after %s seconds, skipping.",
                pattern.name,
                REGEX_TIMEOUT_SECONDS,
            )
    return EntityRecognizer.remove_duplicates(results)


def _validated(
    recognizer: Any, pattern: Any, value: str, start: int, end: int, flags: int
) -> tuple[RecognizerResult, Any]:
    """A match as Presidio's loops make it: the pattern's score, then the maximum or the
    minimum if the recognizer validates the value (checksum) one way or the other; and
    its explanation."""
    validation_result = recognizer.validate_result(value)
    description = PatternRecognizer.build_regex_explanation(
        recognizer.name, pattern.name, pattern.regex, pattern.score, validation_result, flags
    )
    result = RecognizerResult(
        entity_type=recognizer.supported_entities[0],
        start=start,
        end=end,
        score=pattern.score,
        analysis_explanation=description,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        },
    )
    if validation_result is not None:
        valid = bool(validation_result)
        result.score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
    return result, description


class WindowedPatternRecognizer(PatternRecognizer):
    """A pattern recognizer whose patterns run only in `WINDOWS` (or, for the
    patterns named in `SCAN_WHOLE`, over the whole text)."""

    WINDOWS: Windows
    SCAN_WHOLE: frozenset[str] = frozenset()

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        recognizer: Any = self
        if not recognizer.patterns:
            return []
        return self._scan(text, regex_flags)

    def _scan(self, text: str, regex_flags: int | None) -> list[RecognizerResult]:
        recognizer: Any = self
        windows = self.WINDOWS(text)
        by_pattern = {
            pattern.name: None if pattern.name in self.SCAN_WHOLE else windows
            for pattern in recognizer.patterns
        }
        return _pattern_results(recognizer, text, by_pattern, regex_flags)


# Needles and the characters of their runs, per recognizer (see the module docstring).
# Not in a URL, an e-mail or IP address, a wallet, a licence, passport, account number,
# NIF or fiscal code: ASCII whitespace (the `regex` module's `\s` holds it).
_NO_SPACE = "^ \t\n\r\f\v"
# ASCII letters or digits, or any non-ASCII character (a letter or digit, perhaps).
_ALNUM = "0-9A-Za-z" + _NON_ASCII
_DIGIT = "0-9" + _NON_ASCII


class WindowedUrlRecognizer(WindowedPatternRecognizer, UrlRecognizer):
    # A dot before the top-level domain's first letter.
    WINDOWS = Windows(_NO_SPACE, rf"\.[A-Za-z{_NON_ASCII}]")


class WindowedEmailRecognizer(WindowedPatternRecognizer, EmailRecognizer):
    WINDOWS = Windows(_NO_SPACE, "@")


class WindowedIpRecognizer(WindowedPatternRecognizer, IpRecognizer):
    # Every IPv6 shape has a hex digit before a colon, or two colons; the IPv4 and
    # "::"-led patterns are quick over the whole text (a literal start).
    WINDOWS = Windows(_NO_SPACE, rf"[0-9A-Fa-f{_NON_ASCII}]:|::")
    SCAN_WHOLE = frozenset({"IPv4_mapped", "IPv4", "IPv6_unspecified"})


class WindowedCryptoRecognizer(WindowedPatternRecognizer, CryptoRecognizer):
    WINDOWS = Windows(_NO_SPACE, f"[{_ALNUM}]{{26}}")


class WindowedMedicalLicenseRecognizer(WindowedPatternRecognizer, MedicalLicenseRecognizer):
    WINDOWS = Windows(_NO_SPACE, f"[{_DIGIT}]{{7}}")


class WindowedUsPassportRecognizer(WindowedPatternRecognizer, UsPassportRecognizer):
    WINDOWS = Windows(_NO_SPACE, "[0-9]{8}")


class WindowedUsBankRecognizer(WindowedPatternRecognizer, UsBankRecognizer):
    WINDOWS = Windows(_NO_SPACE, "[0-9]{8}")


class WindowedEsNifRecognizer(WindowedPatternRecognizer, EsNifRecognizer):
    WINDOWS = Windows(_NO_SPACE, "[0-9]{7}")


class WindowedItFiscalCodeRecognizer(WindowedPatternRecognizer, ItFiscalCodeRecognizer):
    WINDOWS = Windows(_NO_SPACE, f"[{_ALNUM}]{{16}}")


class WindowedUkNinoRecognizer(WindowedPatternRecognizer, UkNinoRecognizer):
    # Letters, digits and single spaces; three pairs of digits.
    WINDOWS = Windows(_ALNUM + " ", "[0-9]{2} ?[0-9]{2} ?[0-9]{2}")


class WindowedIbanRecognizer(WindowedPatternRecognizer, IbanRecognizer):
    """Presidio's IbanRecognizer (its own loop: the longest group combination that
    validates) with the scan limited to runs of letters, digits, spaces and dashes
    holding a country code and check digits."""

    WINDOWS = Windows(_ALNUM + " \\-", f"[A-Za-z{_NON_ASCII}]{{2}}[0-9]{{2}}")

    def _scan(self, text: str, regex_flags: int | None) -> list[RecognizerResult]:
        return _iban_results(self, text, self.WINDOWS(text))


def _iban_results(
    self: Any,  # an IbanRecognizer
    text: str,
    windows: list[tuple[int, int]],
) -> list[RecognizerResult]:
    """`IbanRecognizer.__analyze_patterns` with the scan limited to `windows`."""
    flags = self.global_regex_flags
    results = []
    for pattern in self.patterns:
        compiled = regex.compile(pattern.regex, flags=flags)
        try:
            for match in _matches(compiled, text, windows):
                for grp_num in reversed(range(1, len(match.groups()) + 1)):
                    start = match.span(0)[0]
                    end = match.span(grp_num)[1] if match.span(grp_num)[1] > 0 else match.span(0)[1]
                    current_match = text[start:end]
                    if current_match == "":
                        continue
                    pattern_result, _ = _validated(self, pattern, current_match, start, end, flags)
                    if pattern_result.score > EntityRecognizer.MIN_SCORE:
                        results.append(pattern_result)
                        break
        except TimeoutError:
            logger.warning(
                "Regex pattern '%s' timed out after %s seconds, skipping.",
                pattern.name,
                REGEX_TIMEOUT_SECONDS,
            )
    return results  # as Presidio's: not de-duplicated


# Presidio's class -> ours.
WINDOWED: dict[type[Any], type[Any]] = {
    UrlRecognizer: WindowedUrlRecognizer,
    EmailRecognizer: WindowedEmailRecognizer,
    IpRecognizer: WindowedIpRecognizer,
    CryptoRecognizer: WindowedCryptoRecognizer,
    MedicalLicenseRecognizer: WindowedMedicalLicenseRecognizer,
    UsPassportRecognizer: WindowedUsPassportRecognizer,
    UsBankRecognizer: WindowedUsBankRecognizer,
    EsNifRecognizer: WindowedEsNifRecognizer,
    ItFiscalCodeRecognizer: WindowedItFiscalCodeRecognizer,
    UkNinoRecognizer: WindowedUkNinoRecognizer,
    IbanRecognizer: WindowedIbanRecognizer,
}


def windowed(recognizer: EntityRecognizer) -> EntityRecognizer:
    """`recognizer` (if exactly of one of Presidio's classes above) as its windowed
    counterpart: the same name, patterns, context, flags and settings."""
    cls = WINDOWED.get(type(recognizer))
    if cls is None:
        return recognizer
    copy: Any = object.__new__(cls)
    copy.__dict__.update(recognizer.__dict__)
    copy._id = f"{copy.name}_{id(copy)}"  # as EntityRecognizer.__init__ makes it
    result: EntityRecognizer = copy
    return result
