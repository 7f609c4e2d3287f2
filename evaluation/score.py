"""Scoring one system's outputs against the labelled corpus: leaks, spans, over-redaction.

Pure functions over texts and offsets; no Presidio or spaCy. Results are counts, rates,
ids and type names only: nothing here returns, prints or logs a value or a document text.

Leaks: a labelled value leaks by the rules of `evaluation.leaks`; leak rate = leaked
values / labelled values (of documents the system did not fail on).

Spans: a predicted span is a true positive if it overlaps a gold span of the same entity
type; a gold span is recalled if a predicted span of its type overlaps it. Predicted types
outside the gold types (ORGANIZATION, NRP, ...) count as false positives under their own
names. F2 = 5PR / (4P + R), per type and micro-averaged over all types.

Over-redaction: share of negative documents (no labelled values) whose output differs
from the input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evaluation.labels import PARTS, Doc, Span
from evaluation.leaks import Screened, leaks

__all__ = [
    "DIRECT_IDENTIFIERS",
    "ENTITY_TYPES",
    "Accuracy",
    "DocOutcome",
    "EntityFigures",
    "Figures",
    "Judgement",
    "Predicted",
    "Rate",
    "figures",
    "judge",
    "match_spans",
    "score",
]

ENTITY_TYPES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "UK_NHS",
    "UK_NINO",
    "ES_NIF",
    "IT_FISCAL_CODE",
    "CA_SIN",
    "IN_AADHAAR",
    "IBAN_CODE",
    "IP_ADDRESS",
    "LOCATION",
    "DATE_TIME",
    "URL",
)
# Values that identify a person on their own: the strictest targets apply to these.
DIRECT_IDENTIFIERS = frozenset(ENTITY_TYPES) - {"PERSON", "LOCATION", "DATE_TIME", "URL"}


@dataclass(frozen=True, slots=True)
class Predicted:
    """A span a system reported: entity type and [start, end) in the document text."""

    entity: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DocOutcome:
    """What one system made of one document.

    `output` is None if the system raised (a failure: nothing of the document is scored);
    `predicted` is None when the system reported no spans for it (streamed documents).
    """

    doc: Doc
    output: str | None
    predicted: tuple[Predicted, ...] | None

    def __repr__(self) -> str:
        return f"<DocOutcome {self.doc.id} failed={self.output is None}>"


def _overlaps(a: Predicted | Span, b: Predicted | Span) -> bool:
    return a.entity == b.entity and a.start < b.end and b.start < a.end


def match_spans(
    gold: Sequence[Span], predicted: Iterable[Predicted]
) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """(entity, true positive?) per predicted span and (entity, recalled?) per gold span."""
    predicted = tuple(predicted)
    judged = [(p.entity, any(_overlaps(p, g) for g in gold)) for p in predicted]
    recalled = [(g.entity, any(_overlaps(p, g) for p in predicted)) for g in gold]
    return judged, recalled


@dataclass(frozen=True, slots=True)
class Rate:
    """`hits` of `total`; the rate is None when there is nothing to divide by."""

    hits: int = 0
    total: int = 0

    @property
    def rate(self) -> float | None:
        return self.hits / self.total if self.total else None

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.hits + other.hits, self.total + other.total)

    def to_json(self) -> dict[str, Any]:
        return {"hits": self.hits, "total": self.total, "rate": self.rate}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rate:
        return cls(int(data["hits"]), int(data["total"]))


def _f2(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    if precision == 0 and recall == 0:
        return 0.0
    return 5 * precision * recall / (4 * precision + recall)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Span counts: predicted spans (`correct` of them true positives), gold spans
    (`recalled` of them found)."""

    predicted: int = 0
    correct: int = 0
    gold: int = 0
    recalled: int = 0

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.recalled / self.gold if self.gold else None

    @property
    def f2(self) -> float | None:
        return _f2(self.precision, self.recall)

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(
            self.predicted + other.predicted,
            self.correct + other.correct,
            self.gold + other.gold,
            self.recalled + other.recalled,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "predicted": self.predicted,
            "correct": self.correct,
            "gold": self.gold,
            "recalled": self.recalled,
            "precision": self.precision,
            "recall": self.recall,
            "f2": self.f2,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Accuracy:
        return cls(
            int(data["predicted"]), int(data["correct"]), int(data["gold"]), int(data["recalled"])
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    """One document judged: per gold span whether it leaked; spans matched; changed?

    All None when the system failed on the document (nothing of it is scored).
    """

    doc: Doc
    leaked: tuple[bool, ...] | None
    judged: tuple[tuple[str, bool], ...] | None  # (entity, true positive?) per prediction
    recalled: tuple[tuple[str, bool], ...] | None  # (entity, recalled?) per gold span
    changed: bool | None  # output differs from the input (over-redaction on negatives)

    def __repr__(self) -> str:
        return f"<Judgement {self.doc.id}>"


def judge(outcome: DocOutcome) -> Judgement:
    """Apply the leak rules and the span matching to one document's outcome."""
    doc = outcome.doc
    if outcome.output is None:
        return Judgement(doc, None, None, None, None)
    output = Screened.of(outcome.output)
    leaked = tuple(leaks(doc.value(s), output, obfuscation=s.obfuscation) for s in doc.spans)
    judged: tuple[tuple[str, bool], ...] | None = None
    recalled: tuple[tuple[str, bool], ...] | None = None
    if outcome.predicted is not None:
        matched = match_spans(doc.spans, outcome.predicted)
        judged, recalled = tuple(matched[0]), tuple(matched[1])
    return Judgement(doc, leaked, judged, recalled, outcome.output != doc.text)


@dataclass(frozen=True, slots=True)
class EntityFigures:
    leaks: Rate = Rate()
    spans: Accuracy = Accuracy()

    def to_json(self) -> dict[str, Any]:
        return {"leaks": self.leaks.to_json(), "spans": self.spans.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntityFigures:
        return cls(Rate.from_json(data["leaks"]), Accuracy.from_json(data["spans"]))


@dataclass(frozen=True, slots=True)
class Figures:
    """One system on one set of documents.

    Leak rates count scored values only: `unscored_values` are the labelled values of the
    `failures` (documents the system raised on). Over-redaction counts negative documents.
    """

    documents: int = 0
    failures: int = 0
    unscored_values: int = 0
    leaks: Rate = Rate()
    direct: Rate = Rate()
    over_redaction: Rate = Rate()
    spans: Accuracy = Accuracy()  # micro-averaged over every type, extra types included
    by_entity: Mapping[str, EntityFigures] = field(default_factory=dict)
    by_obfuscation: Mapping[str, Rate] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "failures": self.failures,
            "unscored_values": self.unscored_values,
            "leaks": self.leaks.to_json(),
            "direct": self.direct.to_json(),
            "over_redaction": self.over_redaction.to_json(),
            "spans": self.spans.to_json(),
            "by_entity": {k: v.to_json() for k, v in sorted(self.by_entity.items())},
            "by_obfuscation": {k: v.to_json() for k, v in sorted(self.by_obfuscation.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Figures:
        return cls(
            documents=int(data["documents"]),
            failures=int(data["failures"]),
            unscored_values=int(data["unscored_values"]),
            leaks=Rate.from_json(data["leaks"]),
            direct=Rate.from_json(data["direct"]),
            over_redaction=Rate.from_json(data["over_redaction"]),
            spans=Accuracy.from_json(data["spans"]),
            by_entity={k: EntityFigures.from_json(v) for k, v in data["by_entity"].items()},
            by_obfuscation={k: Rate.from_json(v) for k, v in data["by_obfuscation"].items()},
        )


def figures(judgements: Iterable[Judgement]) -> Figures:
    """Aggregate judged documents into one set of figures."""
    documents = failures = unscored = 0
    leaked: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    obf_leaked: Counter[str] = Counter()
    obf_labelled: Counter[str] = Counter()
    negatives = Rate()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for judgement in judgements:
        documents += 1
        doc = judgement.doc
        if judgement.leaked is None:
            failures += 1
            unscored += len(doc.spans)
            continue
        for span, hit in zip(doc.spans, judgement.leaked, strict=True):
            labelled[span.entity] += 1
            leaked[span.entity] += hit
            if span.obfuscation:
                obf_labelled[span.obfuscation] += 1
                obf_leaked[span.obfuscation] += hit
        if doc.part == "negative":
            negatives += Rate(int(bool(judgement.changed)), 1)
        for entity, hit in judgement.judged or ():
            predicted[entity] += 1
            correct[entity] += hit
        for entity, hit in judgement.recalled or ():
            gold[entity] += 1
            found[entity] += hit
    by_entity = {
        entity: EntityFigures(
            Rate(leaked[entity], labelled[entity]),
            Accuracy(predicted[entity], correct[entity], gold[entity], found[entity]),
        )
        for entity in sorted(labelled.keys() | predicted.keys())
    }
    return Figures(
        documents=documents,
        failures=failures,
        unscored_values=unscored,
        leaks=sum((f.leaks for f in by_entity.values()), Rate()),
        direct=sum((f.leaks for e, f in by_entity.items() if e in DIRECT_IDENTIFIERS), Rate()),
        over_redaction=negatives,
        spans=sum((f.spans for f in by_entity.values()), Accuracy()),
        by_entity=by_entity,
        by_obfuscation={k: Rate(obf_leaked[k], obf_labelled[k]) for k in sorted(obf_labelled)},
    )


def score(outcomes: Iterable[DocOutcome]) -> dict[str, Figures]:
    """Figures for every slice the report and the targets use.

    Slices: "all", each part, "heldout", and "heldout:<part>".
    """
    judgements = [judge(outcome) for outcome in outcomes]
    slices: dict[str, Figures] = {"all": figures(judgements)}
    for part in PARTS:
        slices[part] = figures(j for j in judgements if j.doc.part == part)
    held = [j for j in judgements if j.doc.heldout]
    slices["heldout"] = figures(held)
    for part in PARTS:
        slices[f"heldout:{part}"] = figures(j for j in held if j.doc.part == part)
    return slices
