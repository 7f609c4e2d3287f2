"""Assembling the three parts of the corpus from the families, seeded per document.

Each document draws from `random.Random(f"{seed}:{part}:{index}")` (string seeds are hashed
with SHA-512, so this is stable across processes and never depends on hash randomisation), and
Faker is re-seeded from it before each use: one document can be regenerated alone, and adding a
family changes only the documents that pick it. A draw that breaks a labelling rule (see
`render.conflicts`, `screen.looks_personal`) is re-drawn from the same generator.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from evaluation.generate.adversarial import ADVERSARIAL, ENTITY_SLOT, KIND_PHRASES, Frame
from evaluation.generate.family import Family
from evaluation.generate.heldout import HELDOUT_ADVERSARIAL, HELDOUT_NEGATIVE, HELDOUT_REALISTIC
from evaluation.generate.negatives import NEGATIVE
from evaluation.generate.obfuscate import APPLIES, KINDS, transform
from evaluation.generate.render import Builder, conflicts, render
from evaluation.generate.screen import looks_personal
from evaluation.generate.templates import REALISTIC
from evaluation.generate.values import Persona
from evaluation.labels import Doc, Part, Span

__all__ = ["COUNTS", "generate", "stream_chunks"]

COUNTS: dict[Part, int] = {"realistic": 600, "adversarial": 600, "negative": 350}
_ATTEMPTS = 200
_MAX_BYTES = 20_000


class _Exhausted(RuntimeError):
    """A family kept breaking a labelling rule: a template bug, not bad luck."""


def _rng(seed: int, part: Part, index: int) -> random.Random:
    return random.Random(f"{seed}:{part}:{index}")


def _by_kind(families: Sequence[Family], rng: random.Random) -> Family:
    """A kind uniformly, then one of its families: kinds with many wordings do not dominate."""
    kinds = sorted({f.kind for f in families})
    kind = rng.choice(kinds)
    return rng.choice([f for f in families if f.kind == kind])


# --- realistic -------------------------------------------------------------------------


def _joined(doc: Builder, sep: str, block: Builder) -> Builder:
    out = Builder()
    out.extend(doc)
    if len(doc):
        out.lit(sep)
    out.extend(block)
    return out


def _grow(rng: random.Random, family: Family, doc: Builder, sep: str) -> Builder:
    """`doc` plus one more block of `family`, re-drawn until no value conflicts."""
    for _ in range(_ATTEMPTS):
        block = Builder()
        text, locale = family.draw(rng)
        render(text, block, rng, {}, locale=locale)
        joined = _joined(doc, sep, block)
        if not conflicts(joined.text, joined.planted):
            return joined
    raise _Exhausted(family.name)


def _realistic(seed: int, index: int) -> Doc:
    rng = _rng(seed, "realistic", index)
    family = _by_kind((*REALISTIC, *HELDOUT_REALISTIC), rng)
    roll = rng.random()
    if roll < 0.04:  # long RAG contexts, log dumps, e-mail threads
        target = int(5000 * 4 ** rng.random())
    elif roll < 0.19:
        target = rng.randrange(1200, 3200)
    else:
        target = 0
    sep = "\n" if family.kind == "log" else "\n\n"
    doc = _grow(rng, family, Builder(), sep)
    while len(doc.text.encode()) < target:
        longer = _grow(rng, family, doc, sep)
        if len(longer.text.encode()) > _MAX_BYTES:
            break
        doc = longer
    return Doc(
        id=f"realistic-{index:05d}",
        part="realistic",
        kind=family.kind,
        template=family.name,
        heldout=family.heldout,
        text=doc.text,
        spans=doc.spans(),
    )


# --- adversarial ---------------------------------------------------------------------------


class _Adversarial:
    """One adversarial document: `kind` planted on 1-3 values inside `frame`'s wording."""

    def __init__(self, rng: random.Random, frame: Frame, kind: str) -> None:
        self.rng, self.frame, self.kind = rng, frame, kind
        self.people: dict[int, Persona] = {}
        self.seen: dict[str, int] = {}

    def _planted(self, entity: str) -> str:
        """A fresh persona slot for another value of `entity` ("card_2" for the second card)."""
        self.seen[entity] = self.seen.get(entity, 0) + 1
        return f"{ENTITY_SLOT[entity]}_{self.seen[entity]}"

    def _value(self, out: Builder, entity: str, slot: str, **shape: str | int) -> None:
        name, who = slot.rsplit("_", 1)
        persona = self.people.setdefault(int(who), Persona(self.rng))
        value = persona.value(name)
        if self.kind == "stream_split":
            out.pii(entity, value, obfuscation=self.kind)
            return
        rendered = transform(self.kind, value, self.rng, **shape)  # type: ignore[arg-type]
        out.pii(entity, rendered, canonical=value, obfuscation=self.kind)

    def _entities(self) -> list[str]:
        usable = [e for e in APPLIES[self.kind] if self._phrases(e)]
        return [self.rng.choice(usable) for _ in range(self.rng.randrange(1, 4))]

    def _phrases(self, entity: str) -> tuple[str, ...]:
        by_kind = KIND_PHRASES.get(self.kind)
        if by_kind is not None:
            return by_kind.get(entity) or by_kind.get("*", ())
        return tuple(self.frame.phrases.get(entity, ()))

    def body(self, out: Builder) -> None:
        rng = self.rng
        items: list[tuple[str, str]] = [(e, rng.choice(self._phrases(e))) for e in self._entities()]
        if self.frame.extras:
            extras = rng.sample(self.frame.extras, min(len(self.frame.extras), rng.randrange(1, 4)))
            items += [("", extra) for extra in extras]
        rng.shuffle(items)
        for position, (entity, phrase) in enumerate(items):
            if position:
                out.lit(self.frame.joiner)
            custom = {}
            if entity:
                slot = self._planted(entity)
                custom["v"] = lambda o, e=entity, s=slot: self._value(o, e, s)
            render(phrase, out, rng, self.people, custom)

    def rows(self, out: Builder) -> None:
        rng, sep = self.rng, self.frame.table
        entity = rng.choice(APPLIES["table_cells"])
        cells = 2 if sep == " | " else rng.choice((2, 3))
        label = ENTITY_SLOT[entity]
        heads = ["name", *(f"{label} ({i + 1}/{cells})" for i in range(cells))]
        if sep == " | ":
            out.lit("| " + " | ".join(heads) + " |\n|" + "---|" * len(heads))
        else:
            out.lit(sep.join(heads))
        for _ in range(rng.randrange(1, 4)):
            slot = self._planted(entity)
            who = slot.rsplit("_", 1)[1]
            out.lit("\n| " if sep == " | " else "\n")
            render(f"{{{{name_{who}}}}}", out, rng, self.people)
            out.lit(sep)
            self._value(out, entity, slot, cell_sep=sep, cells=cells)
            out.lit(" |" if sep == " | " else "")


def stream_chunks(rng: random.Random, length: int, spans: Sequence[Span]) -> tuple[int, ...]:
    """Chunk lengths (1-40 chars) summing to `length`, with a cut inside every span."""
    cuts = sorted({rng.randrange(s.start + 1, s.end) for s in spans} | {0, length})
    points = [0]
    for end in cuts[1:]:
        while end - points[-1] > 40:
            points.append(points[-1] + rng.randrange(1, 41))
        points.append(end)
    return tuple(b - a for a, b in itertools.pairwise(points))


def _adversarial(seed: int, index: int) -> Doc:
    rng = _rng(seed, "adversarial", index)
    kind = KINDS[index % len(KINDS)]
    frames = [
        f for f in (*ADVERSARIAL, *HELDOUT_ADVERSARIAL) if bool(f.table) == (kind == "table_cells")
    ]
    frame = rng.choice(frames)
    for _ in range(_ATTEMPTS):
        doc = Builder()
        state = _Adversarial(rng, frame, kind)
        try:
            render(
                rng.choice(frame.wraps),
                doc,
                rng,
                state.people,
                {"body": state.body, "rows": state.rows},
            )
        except ValueError:  # the value cannot take this obfuscation (no look-alike letter...)
            continue
        if not conflicts(doc.text, doc.planted):
            break
    else:
        raise _Exhausted(frame.name)
    spans = doc.spans()
    chunks: tuple[int, ...] = ()
    if kind == "stream_split":  # every value in a streamed document is cut
        spans = tuple(Span(s.entity, s.start, s.end, kind) for s in spans)
        chunks = stream_chunks(rng, len(doc.text), spans)
    return Doc(
        id=f"adversarial-{index:05d}",
        part="adversarial",
        kind=frame.kind,
        template=frame.name,
        heldout=frame.heldout,
        text=doc.text,
        spans=spans,
        chunks=chunks,
    )


# --- negative --------------------------------------------------------------------------------


def _negative(seed: int, index: int) -> Doc:
    rng = _rng(seed, "negative", index)
    family = _by_kind((*NEGATIVE, *HELDOUT_NEGATIVE), rng)
    for _ in range(_ATTEMPTS):
        doc = Builder()
        while len(doc.text.encode()) < 200:
            if len(doc):
                doc.lit("\n\n")
            text, _locale = family.draw(rng)
            render(text, doc, rng, {})
        if doc.planted:
            raise _Exhausted(f"{family.name} uses a persona slot")
        if len(doc.text.encode()) <= 5000 and not looks_personal(doc.text):
            break
    else:
        raise _Exhausted(family.name)
    return Doc(
        id=f"negative-{index:05d}",
        part="negative",
        kind=family.kind,
        template=family.name,
        heldout=family.heldout,
        text=doc.text,
    )


def generate(seed: int = 0, counts: dict[Part, int] | None = None) -> list[Doc]:
    """The whole corpus, realistic then adversarial then negative; same seed, same bytes."""
    counts = counts or COUNTS
    docs = [_realistic(seed, i) for i in range(counts["realistic"])]
    docs += [_adversarial(seed, i) for i in range(counts["adversarial"])]
    docs += [_negative(seed, i) for i in range(counts["negative"])]
    return docs
