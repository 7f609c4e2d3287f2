"""Which lines of a text the NER model needs to read.

The statistical NER model is the largest cost of detection, and what it adds to the
pattern, name and address layers is names and places written as capitalised words.
A line with no capitalised word that could be a name (one that is no ordinary word, or
any capitalised word inside a sentence) gives it nothing to find: log lines, code,
numbers, tables of ids, lower-case chat. Only the other lines are run through it, as
regions of whole lines (neighbouring lines joined), so its cost follows the prose, not
the length of the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import regex

from sidecar import gazetteers

__all__ = ["ner_regions"]

# A word (apostrophes and hyphens inside: "O'Neill", "Jean-Luc").
_WORD = regex.compile(r"(?<![\p{L}\p{N}_])\p{L}+(?:['\u2019\-]\p{L}+)*(?![\p{L}\p{N}_])")
# A capitalised word: lower case after its capital, a capital again only after an
# apostrophe or hyphen or Mc/Mac. CamelCase identifiers ("GitHub") are not name-shaped.
_NAME_SHAPE = regex.compile(r"(?:Ma?c)?\p{Lu}\p{Ll}*(?:['\u2019\-]\p{L}\p{Ll}*)*", flags=regex.V1)
# The end of what comes before a word that starts a sentence or a line's first field
# ("[10:02] Agent: ..." after a log line's bracketed time or level).
_SENTENCE_START = regex.compile(r"(?:^|[.!?:>\"'(\[\]|*#\-\u2022]\s*|\s{2,})$")


def _candidates(line: str) -> list[tuple[int, int]]:
    """Words of a line that could be (part of) a name or a place: capitalised words that
    are no ordinary word or stand inside a sentence (month and day names aside), ALL-CAPS
    words that are no ordinary word (of up to four letters, only names: "LI", not
    "IBAN"), and lower-case known given names. Each rule's cut was checked on the
    labelled corpus: none leaks more (`make eval`)."""
    found = []
    for match in _WORD.finditer(line):
        word = match.group()
        low = word.lower()
        if len(word) > 1 and _NAME_SHAPE.fullmatch(word):  # "Mark", "O'Neill", "McDonald"
            if not _ordinary(low):
                found.append(match.span())  # could be a name or a place
                continue
            before = line[max(0, match.start() - 4) : match.start()]
            if low not in _ALWAYS_CAPITALISED and not _SENTENCE_START.search(before):
                found.append(match.span())  # capitalised inside a sentence: "told Mark"
        elif word.isupper():
            # "JANE DOE"; short ones ("SSN", "IBAN", "EUR") only if a name is spelt so.
            if len(word) >= 3 and not _ordinary(low) and (len(word) > 4 or _name_word(low)):
                found.append(match.span())
        elif word.islower() and low in _given_names() and not _ordinary(low):
            found.append(match.span())  # "jane doe"
    return found


def _ordinary(low: str) -> bool:
    if low in gazetteers.STOP_WORDS or gazetteers.is_english_word(low):
        return True
    # "it's", "i'm", "don't": an ordinary word and a clitic; "o'neill", "jane's" are not.
    stem, apostrophe, clitic = low.replace("\u2019", "'").rpartition("'")
    if apostrophe:
        return clitic in _CLITICS and _ordinary(stem)
    # "follow-up", "community-acquired": ordinary words joined; "jean-luc" is not, nor
    # "ji-ho" (syllables of a given name that happen to be short words).
    parts = low.split("-")
    return len(parts) > 1 and all(
        part in gazetteers.STOP_WORDS or (len(part) > 2 and _ordinary(part)) for part in parts
    )


_CLITICS = frozenset({"s", "m", "d", "t", "ve", "ll", "re"})
# Capitalised in any sentence: no sign of a name there ("on Monday", "since July", "I'm").
_ALWAYS_CAPITALISED = gazetteers.word_set(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    i i'm i've i'd i'll i\u2019m i\u2019ve i\u2019d i\u2019ll
    """
)


@cache
def _given_names() -> frozenset[str]:
    return gazetteers.given_names()


@cache
def _surnames() -> frozenset[str]:
    return gazetteers.surnames()


def _name_word(low: str) -> bool:
    return low in _given_names() or low in _surnames()


def ner_regions(text: str, covered: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """(start, end) regions that need the NER model, in order: `_REACH` characters
    either side of each candidate word, cut to its line and to word boundaries.
    Candidates inside `covered` spans (sorted; what the name and address rules found
    already) need no model."""
    regions: list[tuple[int, int]] = []
    spans = sorted(covered)
    k = 0
    start = 0
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end < 0:
            end = length
        line = text[start:end]
        for a, b in _candidates(line):
            while k < len(spans) and spans[k][1] <= start + a:
                k += 1
            if (
                k < len(spans)
                and spans[k][0] <= start + a
                and start + b <= spans[k][1]
                and " " in text[spans[k][0] : spans[k][1]]
            ):
                continue  # inside a name or address the rules found whole: nothing to add
            lo = line.rfind(" ", 0, max(0, a - _REACH)) + 1 if a > _REACH else 0
            hi = line.find(" ", min(len(line), b + _REACH))
            hi = len(line) if hi < 0 or b + _REACH >= len(line) else hi
            lo, hi = start + lo, start + hi
            if regions and lo <= regions[-1][1]:
                regions[-1] = (regions[-1][0], max(hi, regions[-1][1]))
            else:
                regions.append((lo, hi))
        start = end + 1
    return regions


# The model reads a few words either side of a token (its encoder sees four tokens each
# way); this many characters covers them. 30 leaks nothing more on the labelled corpus
# than 60 did (`make eval`), with 14% less text through the model; 20 leaked more.
_REACH = 30
