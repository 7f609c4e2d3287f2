"""Cutting a long text into stretches that detection workers screen at the same time.

One worker on a 100 KB prompt leaves the other cores idle for over a second. The text is
cut at paragraph breaks (else line breaks, else spaces) into one stretch per worker;
each worker reads its stretch plus a margin of whole lines either side, so what sits
near a cut is read with its context, and answers only for findings that start in its
own stretch. What depends on the whole text is settled by the caller: whether the text
is personal (its dates, `detection.combine`) and the other mentions of a name found in
another stretch (`NameRecognizer.mentions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from sidecar.finding import Finding

__all__ = ["MARGIN_CHARS", "SPLIT_MIN_CHARS", "Stretch", "stretches"]

# Below this a text is screened whole: splitting costs a round trip per stretch and the
# margins, and small texts are already fast.
SPLIT_MIN_CHARS = 16_000
# Context read beyond a stretch's own characters on each side, widened to whole lines.
MARGIN_CHARS = 1_000
# How far from the even cut point a paragraph or line break is looked for.
_SEEK_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class Stretch:
    """`text[lo:hi]` is what a worker reads; it answers for findings starting in
    `[own_lo, own_hi)`."""

    lo: int
    hi: int
    own_lo: int
    own_hi: int

    def owned(self, findings: Iterable[Finding]) -> tuple[Finding, ...]:
        """`findings` (offsets into the stretch) that are this stretch's, moved to offsets
        into the whole text."""
        return tuple(
            Finding(f.entity, f.start + self.lo, f.end + self.lo, f.score)
            for f in findings
            if self.own_lo <= f.start + self.lo < self.own_hi
        )


def stretches(text: str, count: int, *, margin: int = MARGIN_CHARS) -> list[Stretch]:
    """`count` stretches (fewer if the text has too few places to cut) covering `text`."""
    length = len(text)
    cuts = sorted({0, length, *(_cut_near(text, length * k // count) for k in range(1, count))})
    out = []
    for own_lo, own_hi in pairwise(cuts):
        if own_hi <= own_lo:
            continue
        lo = 0 if own_lo == 0 else text.rfind("\n", 0, max(0, own_lo - margin)) + 1
        hi = length if own_hi == length else text.find("\n", min(length, own_hi + margin))
        out.append(Stretch(lo, length if hi < 0 else hi, own_lo, own_hi))
    return out


def _cut_near(text: str, target: int) -> int:
    """A cut close to `target`: after a blank line, else after a line break, else after a
    space, else at `target`."""
    lo, hi = max(0, target - _SEEK_CHARS), min(len(text), target + _SEEK_CHARS)
    for separator in ("\n\n", "\n", " "):
        before = text.rfind(separator, lo, min(hi, target + len(separator)))
        after = text.find(separator, target, hi)
        candidates = [i for i in (before, after) if i >= 0]
        if candidates:
            best = min(candidates, key=lambda i: abs(i - target))
            return best + len(separator)
    return target
