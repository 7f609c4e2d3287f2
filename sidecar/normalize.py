"""Text normalisation for detection, with a map back to the original code points.

Detection runs on a normalised copy: Unicode NFKC (full-width and mathematical digits
become ASCII); format characters such as zero-width spaces and soft hyphens, variation
selectors, and decorative combining marks on ASCII characters removed. Every normalised
character remembers the original span it came from, so a finding on the copy replaces
exactly the original characters, including any invisible ones inside the value.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Normalized", "normalize"]


def _dropped(char: str) -> bool:
    # Cf: zero-width space/joiners, soft hyphen, bidi controls, BOM. Variation
    # selectors (Mn) change glyphs only; both are used to split values invisibly.
    return (
        unicodedata.category(char) == "Cf"
        or "\ufe00" <= char <= "\ufe0f"
        or ("\U000e0100" <= char <= "\U000e01ef")
    )


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised copy of a text; `starts`/`ends` are empty when it is the original."""

    text: str
    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    @property
    def identity(self) -> bool:
        return not self.starts

    def __reduce__(self) -> tuple[type[Normalized], tuple[str, tuple[int, ...], tuple[int, ...]]]:
        # As its fields (see Finding.__reduce__): a detection worker sends views back.
        return (Normalized, (self.text, self.starts, self.ends))

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span [start, end) of the copy to the original text's code points."""
        if self.identity:
            return start, end
        if end <= start:
            position = self.starts[start] if start < len(self.starts) else self.ends[-1]
            return position, position
        return self.starts[start], self.ends[end - 1]

    @classmethod
    def from_map(
        cls, original: str, text: str, starts: Sequence[int], ends: Sequence[int]
    ) -> Normalized:
        """A copy of `original` whose character i came from original[starts[i]:ends[i]].

        The map must have one entry per character of `text`; an unchanged text with the
        one-to-one map is returned as the identity.
        """
        if len(starts) != len(text) or len(ends) != len(text):
            raise ValueError("offset map length does not match the text")
        starts, ends = tuple(starts), tuple(ends)
        if (
            text == original
            and starts == tuple(range(len(text)))
            and ends == (*starts[1:], len(text))
        ):
            return cls(text)
        return cls(text, starts, ends)

    def compose(self, view: Normalized) -> Normalized:
        """`view`, a copy of this copy's text, mapped down to this copy's original."""
        if view.identity:
            # Only an emptied text is "identity" with a different text (see normalize()).
            return self if view.text == self.text else Normalized(view.text)
        if self.identity:
            return view
        if not any(map(operator.ge, view.starts, view.ends)):  # no empty span: the usual case
            starts = tuple(map(self.starts.__getitem__, view.starts))
            ends = tuple(map(self.ends.__getitem__, map((-1).__add__, view.ends)))
            return Normalized(view.text, starts, ends)
        spans = [self.to_original(s, e) for s, e in zip(view.starts, view.ends, strict=True)]
        return Normalized(view.text, tuple(a for a, _ in spans), tuple(b for _, b in spans))

    def __repr__(self) -> str:
        return f"<Normalized: {len(self.text)} chars>"


def _plain(char: str) -> bool:
    """Whether `char` normalises to itself on its own and neither joins the character
    before it (a combining mark) nor is dropped: it is its own one-character cluster."""
    return (
        not unicodedata.combining(char)
        and not _dropped(char)
        and unicodedata.is_normalized("NFKC", char)
    )


_ASCII = re.compile(r"[\x00-\x7f]+")


def normalize(text: str) -> Normalized:
    """Normalise `text` for detection, keeping the offset map."""
    if text.isascii():  # ASCII is already NFKC and has no format characters
        return Normalized(text)
    # Only stretches of characters that are not plain (see _plain) change, each together
    # with the plain character before it (its cluster's base, if it is a mark); the rest
    # is copied with a one-to-one map. ASCII characters are all plain.
    special = [c for c in set(_ASCII.sub("", text)) if not _plain(c)]
    if not special:
        return Normalized(text)
    runs = re.compile("[" + "".join(map(re.escape, special)) + "]+")
    offsets = list(range(len(text) + 1))  # int objects shared by both maps
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for run in runs.finditer(text):
        start, end = run.span()
        if start:
            start -= 1  # the plain character before: a cluster starts there
        if start > position:
            out.append(text[position:start])
            starts.extend(offsets[position:start])
            ends.extend(offsets[position + 1 : start + 1])
        _normalize_stretch(text, start, end, out, starts, ends)
        position = end
    if position < len(text):
        out.append(text[position:])
        starts.extend(offsets[position : len(text)])
        ends.extend(offsets[position + 1 :])
    normalized = "".join(out)
    if normalized == text:
        return Normalized(text)
    return Normalized(normalized, tuple(starts), tuple(ends))


def _normalize_stretch(
    text: str, begin: int, stop: int, out: list[str], starts: list[int], ends: list[int]
) -> None:
    """Normalise text[begin:stop], which starts a cluster and is followed by a plain
    character (or the end), appending to the copy and its offset map."""
    cluster: list[str] = []
    cluster_start = 0
    cluster_end = 0

    def flush() -> None:
        if not cluster:
            return
        piece = "".join(cluster)
        folded = unicodedata.normalize("NFKC", piece) if not piece.isascii() else piece
        if cluster[0].isascii() and len(folded) > 1:
            # Marks NFKC cannot compose onto an ASCII base (strike-through U+0336, low
            # line U+0332) only decorate it; they are used to hide digits from patterns.
            folded = "".join(c for c in folded if not unicodedata.combining(c))
        out.append(folded)
        starts.extend([cluster_start] * len(folded))
        ends.extend([cluster_end] * len(folded))
        cluster.clear()

    for index in range(begin, stop):
        char = text[index]
        if _dropped(char):
            continue
        # A base character and its combining marks normalise together (é = e + U+0301).
        if cluster and unicodedata.combining(char):
            cluster.append(char)
            cluster_end = index + 1
            continue
        flush()
        cluster.append(char)
        cluster_start, cluster_end = index, index + 1
    flush()
