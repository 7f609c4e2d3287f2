"""Turning templates into text plus spans, and the label-completeness rule.

Template syntax: `{{slot}}` or `{{slot_N}}`. A persona slot (`name`, `email`, `address`, ...;
see `values.PERSONA_SLOTS`) is labelled; `_N` picks person N of the document (default 1), so
`{{name_2}}` and `{{email_2}}` belong together. Other slots are unlabelled filler
(`filler.FILLERS`: order numbers, versions, ...) drawn fresh at each use, or custom slots a
caller passes in. Everything else is literal, so JSON and code braces need no escaping.

The scorer counts a value as leaked if its text survives anywhere in the output, so a labelled
value must not also appear unlabelled (`conflicts`): builders re-draw when it does.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from evaluation.generate.filler import FILLERS
from evaluation.generate.values import PERSONA_SLOTS, Persona
from evaluation.labels import Span

__all__ = ["Builder", "Planted", "Slot", "conflicts", "render"]

_SLOT = re.compile(r"\{\{([a-z][a-z0-9]*?)(?:_(\d))?\}\}")


@dataclass(frozen=True, slots=True)
class Planted:
    """A labelled value: where it is, and its plain form when the text shows it obfuscated."""

    span: Span
    canonical: str


class Builder:
    """Appends literal and labelled text; offsets are code points, as in `labels.Span`."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self.planted: list[Planted] = []

    def __len__(self) -> int:
        return self._size

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def lit(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)

    def pii(
        self, entity: str, rendered: str, *, canonical: str = "", obfuscation: str = ""
    ) -> None:
        if not rendered:
            raise ValueError(f"empty {entity} value")
        span = Span(entity, self._size, self._size + len(rendered), obfuscation)
        self.planted.append(Planted(span, canonical or rendered))
        self.lit(rendered)

    def extend(self, other: Builder) -> None:
        shift = self._size
        for planted in other.planted:
            s = planted.span
            moved = Span(s.entity, s.start + shift, s.end + shift, s.obfuscation)
            self.planted.append(Planted(moved, planted.canonical))
        self.lit(other.text)

    def spans(self) -> tuple[Span, ...]:
        return tuple(p.span for p in self.planted)


# A custom slot writes itself into the builder (an obfuscated value, a nested block...).
Slot = Callable[[Builder], None]


def render(
    template: str,
    out: Builder,
    rng: random.Random,
    people: dict[int, Persona],
    custom: Mapping[str, Slot] | None = None,
    *,
    locale: str | None = None,
) -> None:
    """Render `template` into `out`; unknown slot names raise KeyError (a template bug)."""
    at = 0
    for match in _SLOT.finditer(template):
        out.lit(template[at : match.start()])
        at = match.end()
        name, who = match.group(1), int(match.group(2) or 1)
        if custom is not None and name in custom:
            custom[name](out)
        elif name in PERSONA_SLOTS:
            if who not in people:
                people[who] = Persona(rng, locale if who == 1 else None)
            for text, entity in people[who].pieces(name):
                if entity:
                    out.pii(entity, text)
                else:
                    out.lit(text)
        else:
            out.lit(FILLERS[name](rng))
    out.lit(template[at:])


def _fold(text: str) -> str:
    """Lower-case without changing length, so offsets in the folded text stay valid."""
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def conflicts(text: str, planted: list[Planted]) -> list[str]:
    """Labelled values (plain or rendered) that also occur, in any case, outside every span.

    Returns the offending values' entity names (never empty when the text is unusable); also
    reports overlapping or empty spans, and `<ENTITY>` placeholders in the text.
    """
    spans = sorted((p.span for p in planted), key=lambda s: (s.start, s.end))
    problems = [f"{b.entity}: overlap" for a, b in itertools.pairwise(spans) if b.start < a.end]
    problems += [f"{s.entity}: empty" for s in spans if s.end <= s.start]
    folded = _fold(text)
    values = {_fold(text[p.span.start : p.span.end]) for p in planted}
    values |= {_fold(p.canonical) for p in planted}
    for value in sorted(values):
        at = folded.find(value)
        while at >= 0:
            end = at + len(value)
            if not any(s.start <= at and end <= s.end for s in spans):
                problems.append(f"unlabelled copy of a {len(value)}-char value")
                break
            at = folded.find(value, at + 1)
    problems += [f"placeholder {e}" for e in _ENTITIES if f"<{e}>" in text]
    return problems


_ENTITIES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "UK_NHS", "UK_NINO",
    "ES_NIF", "IT_FISCAL_CODE", "CA_SIN", "IN_AADHAAR", "IBAN_CODE", "IP_ADDRESS", "LOCATION",
    "DATE_TIME", "URL",
)  # fmt: skip
