"""A cheap leak count: labelled PII whose exact text still appears in the redacted output.

Informational only. It misses partial leaks (half a card number) and can over-count a short
value that also occurs elsewhere in the text unlabelled (a first name, a city); a proper
span-level scorer replaces it later. Works on counts only: never prints a value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.corpus import Doc

__all__ = ["LeakCount", "SystemLeaks", "compare_leaks", "count_leaks"]


@dataclass(frozen=True, slots=True)
class LeakCount:
    """Labelled spans checked, how many survived verbatim, and the same per entity type.

    `unscored` counts spans of documents with no screened output to check: the request
    failed, or the answer was fail-closed (the whole text replaced, which would look
    leak-free without any detection having run).
    """

    spans: int
    leaked: int
    unscored: int
    by_entity: tuple[tuple[str, int, int], ...]  # (entity, spans, leaked), sorted by entity


def count_leaks(docs: Sequence[Doc], outputs: Sequence[str | None]) -> LeakCount:
    """Compare each doc's labelled values with its redacted output (index-aligned).

    Pass None for a document without a screened output; its spans count as unscored.
    """
    checked: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    unscored = 0
    for doc, output in zip(docs, outputs, strict=True):
        if output is None:
            unscored += len(doc.spans)
            continue
        for span in doc.spans:
            checked[span.entity] += 1
            if doc.text[span.start : span.end] in output:
                leaked[span.entity] += 1
    return LeakCount(
        spans=sum(checked.values()),
        leaked=sum(leaked.values()),
        unscored=unscored,
        by_entity=tuple((entity, checked[entity], leaked[entity]) for entity in sorted(checked)),
    )


@dataclass(frozen=True, slots=True)
class SystemLeaks:
    """One system's leaks on all it screened, and on the documents every system screened.

    `own` is the system's fullest picture; `shared` puts all systems on one denominator, so a
    system that fail-closed on the hard documents cannot look better for skipping them.
    """

    own: LeakCount
    shared: LeakCount


def compare_leaks(
    docs: Sequence[Doc], outputs_by_system: Mapping[str, Sequence[str | None]]
) -> dict[str, SystemLeaks]:
    """Leak counts per system; each output list is index-aligned with `docs`, None unscreened."""
    everyone = [
        all(outputs[index] is not None for outputs in outputs_by_system.values())
        for index in range(len(docs))
    ]
    return {
        name: SystemLeaks(
            own=count_leaks(docs, outputs),
            shared=count_leaks(
                docs, [out if keep else None for out, keep in zip(outputs, everyone, strict=True)]
            ),
        )
        for name, outputs in outputs_by_system.items()
    }
