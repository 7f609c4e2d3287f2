"""Seeded benchmark corpus: mixed realistic texts of four sizes, with labelled PII spans.

`generate(seed)` is deterministic: the same seed gives a byte-identical corpus on any machine
and Python process, because every draw comes from a `random.Random` seeded from (seed, size
class, index) and nothing reads the clock, the environment or hash order. Deriving one stream
per document also makes a smaller `counts` a prefix of a larger one, so `--quick` runs measure
documents that full runs measure too.

Labels cover the values we planted (`Span.start`/`end` are `str` indices into `Doc.text`, end
exclusive). Log timestamps, order numbers, UUIDs, versions and the like are deliberate
look-alike negatives and carry no label.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench import pii
from bench.templates import BLOCKS, KINDS, NEGATIVE_KIND, SHORT, Template

__all__ = ["DEFAULT_COUNTS", "ENTITIES", "SIZE_CLASSES", "Doc", "Span", "generate"]

# Target size of each class in UTF-8 bytes; documents land within _TOLERANCE of it.
SIZE_CLASSES: dict[str, int] = {"200B": 200, "2KB": 2_000, "20KB": 20_000, "100KB": 100_000}
DEFAULT_COUNTS: dict[str, int] = {"200B": 40, "2KB": 20, "20KB": 6, "100KB": 2}
_TOLERANCE = 0.15
_NEGATIVE_SHARE = 0.12  # documents with no PII at all
_FOREIGN_BLOCK_SHARE = 0.25  # blocks of another kind inside a larger document

ENTITIES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
    "IP_ADDRESS", "LOCATION", "DATE_TIME", "URL",
)  # fmt: skip

# Template slot (without its tag) -> the Presidio entity it plants; other slots are unlabelled.
_ENTITY_OF_SLOT = {
    "name": "PERSON",
    "first": "PERSON",
    "last": "PERSON",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "card": "CREDIT_CARD",
    "ssn": "US_SSN",
    "iban": "IBAN_CODE",
    "ip": "IP_ADDRESS",
    "ip6": "IP_ADDRESS",
    "city": "LOCATION",
    "street": "LOCATION",
    "date": "DATE_TIME",
    "dob": "DATE_TIME",
    "url": "URL",
    "profile": "URL",
}
_PERSON_SLOTS = frozenset({"name", "first", "last", "email", "profile"})
_COMPANIES = (
    "Northwind Traders", "Globex GmbH", "Initech Ltd", "Contoso BV", "Acme Logistics",
    "Umbrella Health", "Stark Freight", "Wayne Analytics", "Tyrell Systems",
)  # fmt: skip
_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class Span:
    """One planted PII value: its Presidio entity type and `str` offsets (end exclusive)."""

    entity: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Doc:
    """One corpus text. `kind` names the template family it was mostly built from."""

    size_class: str
    text: str
    spans: tuple[Span, ...]
    kind: str = "mixed"

    @property
    def size_bytes(self) -> int:
        return len(self.text.encode("utf-8"))


class _Clock:
    """Log timestamps that move forward within a document, as a real log's do."""

    def __init__(self, rng: random.Random) -> None:
        self._at = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(3 * 10**7))

    def tick(self, rng: random.Random) -> str:
        self._at += timedelta(milliseconds=rng.randrange(1, 4000))
        return self._at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Slots:
    """Values for one block: the same slot name (with its tag) always gets the same value."""

    def __init__(self, rng: random.Random, clock: _Clock) -> None:
        self._rng = rng
        self._clock = clock
        self._values: dict[str, str] = {}
        self._people: dict[str, pii.Person] = {}

    def fill(self, field: str) -> tuple[str, str | None]:
        """The value for `field` and the entity it plants (None for unlabelled slots)."""
        base, _, tag = field.partition("_")
        entity = _ENTITY_OF_SLOT.get(base)
        if base == "time":  # every log line moves the clock, even with the same slot
            return self._clock.tick(self._rng), None
        if field not in self._values:
            self._values[field] = self._draw(base, tag)
        return self._values[field], entity

    def _draw(self, base: str, tag: str) -> str:
        rng = self._rng
        if base in _PERSON_SLOTS:
            if tag not in self._people:
                self._people[tag] = pii.person(rng)
            who = self._people[tag]
            if base == "name":
                middle = f" {rng.choice(string.ascii_uppercase)}." if rng.random() < 0.15 else ""
                return f"{who.first}{middle} {who.last}"
            if base == "email":
                return pii.email_for(rng, who)
            if base == "profile":
                return pii.profile_url(rng, who)
            return who.first if base == "first" else who.last
        draw = _DRAWS.get(base)
        if draw is None:
            raise KeyError(f"template slot {base!r} has no generator")
        return draw(rng)


def _version(rng: random.Random) -> str:
    core = f"{rng.randrange(0, 12)}.{rng.randrange(0, 30)}.{rng.randrange(0, 20)}"
    return rng.choice(("", "v")) + core + rng.choice(("", "", "", "-rc.1", "-beta.2"))


def _order(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"ORD-{rng.randrange(2019, 2026)}-{rng.randrange(10**5, 10**6)}"
    return str(rng.randrange(10**7, 10**8))


def _alnum(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(count))


_DRAWS: dict[str, Callable[[random.Random], str]] = {
    "phone": pii.phone,
    "card": pii.card_number,
    "ssn": pii.ssn,
    "iban": pii.iban,
    "ip": pii.ipv4,
    "ip6": pii.ipv6,
    "city": pii.city,
    "street": pii.street,
    "url": pii.url,
    "date": lambda rng: pii.date_text(rng, first_year=2015, last_year=2025, timed=True),
    "dob": lambda rng: pii.date_text(rng, first_year=1940, last_year=2005),
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "order": _order,
    "version": _version,
    "build": lambda rng: str(rng.randrange(1000, 99999)),
    "sha": lambda rng: f"{rng.getrandbits(160):040x}"[: rng.choice((12, 40))],
    "ticket": lambda rng: str(rng.randrange(10_000, 999_999)),
    "amount": lambda rng: f"{rng.randrange(5, 5000)}.{rng.randrange(100):02d}",
    "company": lambda rng: rng.choice(_COMPANIES),
    "mrn": lambda rng: str(rng.randrange(10**6, 10**7)),
    "n": lambda rng: str(rng.randrange(2, 9999)),
    "ms": lambda rng: str(rng.randrange(1, 3000)),
    "pod": lambda rng: f"api-{rng.getrandbits(40):010x}-{_alnum(rng, 5).lower()}",
    "sku": lambda rng: f"SKU-{_alnum(rng, 3)}-{rng.randrange(100, 999)}",
    "tracking": lambda rng: "1Z" + _alnum(rng, 16),
    "invoice": lambda rng: f"INV-{rng.randrange(2019, 2026)}-{rng.randrange(10**4, 10**5)}",
    "po": lambda rng: f"45{rng.randrange(10**8):08d}",
    "port": lambda rng: str(rng.choice((8080, 8443, 9090, 50051))),
}


class _Builder:
    """Text plus spans, appended block by block, keeping offsets in `str` indices."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.chars = 0
        self.size_bytes = 0

    def add(self, text: str, spans: list[Span], *, separator: str) -> None:
        if self.parts:
            self.parts.append(separator)
            self.chars += len(separator)
            self.size_bytes += len(separator.encode("utf-8"))
        self.spans.extend(Span(s.entity, s.start + self.chars, s.end + self.chars) for s in spans)
        self.parts.append(text)
        self.chars += len(text)
        self.size_bytes += len(text.encode("utf-8"))

    def doc(self, size_class: str, kind: str) -> Doc:
        return Doc(size_class, "".join(self.parts), tuple(self.spans), kind)


def _render(template: Template, rng: random.Random, clock: _Clock) -> tuple[str, list[Span]]:
    text = template(rng) if callable(template) else template
    slots = _Slots(rng, clock)
    out: list[str] = []
    spans: list[Span] = []
    at = 0
    for literal, field, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        at += len(literal)
        if field is None:
            continue
        value, entity = slots.fill(field)
        if entity is not None:
            spans.append(Span(entity, at, at + len(value)))
        out.append(value)
        at += len(value)
    return "".join(out), spans


def _separator(kind: str) -> str:
    return "\n" if kind == "log" else "\n\n"


def _short_doc(rng: random.Random, size_class: str, kind: str, target: int) -> Doc:
    """One short message, topped up with more of its kind; the draw closest to target wins."""
    low, high = int(target * (1 - _TOLERANCE)), int(target * (1 + _TOLERANCE))
    best: _Builder | None = None
    for _ in range(30):
        clock = _Clock(rng)
        built = _Builder()
        while built.size_bytes < low:
            built.add(*_render(rng.choice(SHORT[kind]), rng, clock), separator=_separator(kind))
        if best is None or abs(built.size_bytes - target) < abs(best.size_bytes - target):
            best = built
        if built.size_bytes <= high:
            break
    assert best is not None  # the loop runs at least once
    return best.doc(size_class, kind)


def _long_doc(rng: random.Random, size_class: str, kind: str, target: int) -> Doc:
    """Blocks mostly of `kind` until the target size; short ones fill the last gap."""
    high = int(target * (1 + _TOLERANCE))
    clock = _Clock(rng)
    built = _Builder()
    separator = _separator(kind)
    others = tuple(k for k in KINDS if k not in (kind, NEGATIVE_KIND))
    misses = 0
    while built.size_bytes < target:
        if misses < 8:
            foreign = kind != NEGATIVE_KIND and rng.random() < _FOREIGN_BLOCK_SHARE
            template = rng.choice(BLOCKS[rng.choice(others) if foreign else kind])
        else:  # near the top of the range only a short template still fits
            template = rng.choice(SHORT[kind])
        text, spans = _render(template, rng, clock)
        if built.size_bytes + len(separator) + len(text.encode("utf-8")) > high:
            misses += 1
            if misses > 40:
                break
            continue
        built.add(text, spans, separator=separator)
    return built.doc(size_class, kind)


def _doc(seed: int, size_class: str, index: int) -> Doc:
    # A str seed is hashed with SHA-512 by random.seed, so it is stable across processes.
    rng = random.Random(f"{seed}/{size_class}/{index}")
    target = SIZE_CLASSES[size_class]
    positive = tuple(k for k in KINDS if k != NEGATIVE_KIND)
    kind = NEGATIVE_KIND if rng.random() < _NEGATIVE_SHARE else rng.choice(positive)
    if target < 1000:
        return _short_doc(rng, size_class, kind, target)
    return _long_doc(rng, size_class, kind, target)


def generate(seed: int = 1234, counts: dict[str, int] | None = None) -> list[Doc]:
    """The corpus for `seed`: `counts[size_class]` documents per class, smallest class first.

    Raises ValueError for a size class not in SIZE_CLASSES or a negative count.
    """
    wanted = dict(DEFAULT_COUNTS) if counts is None else counts
    for size_class, count in wanted.items():
        if size_class not in SIZE_CLASSES:
            raise ValueError(f"unknown size class {size_class!r}; use one of {list(SIZE_CLASSES)}")
        if count < 0:
            raise ValueError(f"count for {size_class} must be >= 0, got {count}")
    return [
        _doc(seed, size_class, index)
        for size_class in SIZE_CLASSES
        for index in range(wanted.get(size_class, 0))
    ]
