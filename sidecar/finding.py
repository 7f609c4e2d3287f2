"""A detected value: what every detection layer returns (offsets, never strings)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A detected value: entity type and [start, end) in the analysed text's code points."""

    entity: str
    start: int
    end: int
    score: float
