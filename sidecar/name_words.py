"""The words of the names found in a text, carried to the other stretches of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NameWords"]


@dataclass(frozen=True, slots=True)
class NameWords:
    """Lower-cased words of names the name layer found: `names` (no ordinary word: any
    capitalised mention is the name) and `wordy` (given names that are also words, such
    as "Grace": a mention counts only mid-sentence or as a speaker)."""

    names: frozenset[str] = frozenset()
    wordy: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.names or self.wordy)

    @staticmethod
    def union(all_words: Iterable[NameWords]) -> NameWords:
        names: set[str] = set()
        wordy: set[str] = set()
        for words in all_words:
            names |= words.names
            wordy |= words.wordy
        return NameWords(frozenset(names), frozenset(wordy))

    def without(self, other: NameWords) -> NameWords:
        return NameWords(self.names - other.names, self.wordy - other.wordy)

    def any_in(self, text: str) -> bool:
        """Whether any of the words occurs in `text` (ignoring case): a cheap test before
        a worker looks for their mentions."""
        low = text.lower()
        return any(word in low for word in self.names | self.wordy)
