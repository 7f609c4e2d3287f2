"""A template family: the unit the held-out rule works on.

`name` is what `Doc.template` records ("chat.invoice_reminder", "heldout.crm_vcard"); a family
is held out or not as a whole, so tuning never sees any of a held-out family's wording.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Body", "Family"]

# A template string (see `render`), or a function drawing one, for families whose shape
# varies (how many log lines, which transcript turns).
Body = str | Callable[[random.Random], str]


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    kind: str
    bodies: tuple[Body, ...]
    heldout: bool = False
    locales: tuple[str, ...] = ()  # person 1's Faker locale is drawn from these when set

    def draw(self, rng: random.Random) -> tuple[str, str | None]:
        """One template text of the family, and the locale for its first person."""
        body = rng.choice(self.bodies)
        text = body if isinstance(body, str) else body(rng)
        return text, rng.choice(self.locales) if self.locales else None
