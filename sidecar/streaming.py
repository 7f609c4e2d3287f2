"""Where a streamed output may be cut: hold back only what could still become an entity.

Pure functions over the not-yet-released text of a stream. A value split across chunks
("4111 11" + "11 1111 1111 1111", "John" + " Smith", "<PERS" + "ON_1>") must stay
together until it is complete, while ordinary words are released at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["hold_from", "safe_cut"]

_TOKEN = re.compile(r"\S+")
_OPEN_PLACEHOLDER = re.compile(r"<[A-Z0-9_]*\Z")
_TRAILING_PUNCT = ".,;:!?)]}\"'»”’"  # noqa: RUF001 - typographic quotes end words too
_SENTENCE_END = (".", "!", "?", ";")
# Lower-case words this short may join the parts of one value ("of", "rue", "west").
_CONNECTOR_CHARS = 4
# Lower-case words that sit inside names and addresses ("Ludwig van Beethoven").
_PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "da",
        "di",
        "du",
        "la",
        "le",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "st",
        "rd",
        "apt",
        "suite",
    }
)


def _entity_like(token: str) -> bool:
    """Could this word be part of a multi-word value (name, number, address, e-mail)?"""
    core = token.rstrip(_TRAILING_PUNCT)
    if not core:
        return False
    if core.lower() in _PARTICLES:
        return True
    if any(c.isdigit() for c in core) or any(c in "@+#/:%_=<>&\\" for c in core):
        return True
    if "." in core or "-" in core:
        return True
    return core[0].isupper() or (not core[0].isalpha() and not core[0].isspace())


_NOT_SENTENCE_END = re.compile(
    r"^(?:[A-Z]\.|(?:Dr|Mr|Mrs|Ms|Mx|Prof|Sr|Jr|St|Rev|Gen|Col|Capt|Lt|Sgt|Hon|No)\.)$"
)


def _ends_sentence(word: str) -> bool:
    """A word that closes a sentence: "home." does, an initial "F." or "Dr." does not."""
    return word.endswith(_SENTENCE_END) and not _NOT_SENTENCE_END.match(word)


def _joins(word: str, before: str) -> bool:
    """Is `word` a short connector inside a value that `before` starts?

    "the 5th of", "Bank of", "12 rue", "gb82 west": the value may go on in the next
    chunk, so the connector and what precedes it stay held.
    """
    core = word.rstrip(_TRAILING_PUNCT)
    return (
        0 < len(core) <= _CONNECTOR_CHARS
        and core == word
        and _entity_like(before)
        and not _ends_sentence(before)
    )


def hold_from(text: str) -> int:
    """Index from which `text` (unreleased stream text) must be held back.

    The last word is always held while it may continue in the next chunk, together with
    the run of entity-like words before it on the same line (short connector words
    between them included), unless a sentence ends between. An unfinished placeholder
    (`<PERS`) is held too.
    """
    if not text:
        return 0
    opened = _OPEN_PLACEHOLDER.search(text)
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return len(text) if not opened else opened.start()
    cut = len(text)
    index = len(tokens) - 1
    last = tokens[index].group()
    ends_open = tokens[index].end() == len(text)
    held = ends_open or (_entity_like(last) and not _ends_sentence(last))
    if not held and index > 0 and _joins(last, tokens[index - 1].group()):
        held = True
    if held:
        cut = tokens[index].start()
        while index > 0:
            previous = tokens[index - 1]
            gap = text[previous.end() : tokens[index].start()]
            if "\n" in gap or _ends_sentence(previous.group()):
                break
            if _entity_like(previous.group()):
                cut = previous.start()
                index -= 1
                continue
            if index > 1 and _joins(previous.group(), tokens[index - 2].group()):
                cut = previous.start()  # the connector; its entity-like word comes next
                index -= 1
                continue
            break
    if opened:
        cut = min(cut, opened.start())
    return cut


def safe_cut(
    text: str,
    findings: Iterable[tuple[int, int]],
    atoms: Sequence[tuple[int, int]],
    *,
    max_holdback: int,
    final: bool,
) -> int:
    """How much of `text` can be released now, given detected spans and placeholders.

    Normally the cut moves back to the start of any value it would split. When more than
    `max_holdback` characters are held, it moves forward past such a value instead
    (releasing it redacted) so a stream always makes progress.
    """
    if final:
        return len(text)
    cut = hold_from(text)
    forced = len(text) - cut > max_holdback
    if forced:
        cut = len(text) - max_holdback
    spans = sorted([*findings, *atoms])
    changed = True
    while changed:
        changed = False
        for start, end in spans:
            if start < cut < end:
                cut = end if forced else start
                changed = True
    return max(0, min(cut, len(text)))
