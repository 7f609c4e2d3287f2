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

    def __reduce__(self) -> tuple[type[Finding], tuple[str, int, int, float]]:
        # Pickled as its fields: a slotted dataclass's own state methods call fields()
        # for every object, four times slower, and findings cross the detection workers'
        # pipes by the hundred per text.
        return (Finding, (self.entity, self.start, self.end, self.score))
