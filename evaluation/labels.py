"""The labelled corpus's document format, and reading/writing it as JSON lines.

One JSON object per line, keys sorted, UTF-8. Offsets are `str` indices (code points) into
`text`, end exclusive. A document of the negative part has no spans and must come out of
screening unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["PARTS", "Doc", "Part", "Span", "read_corpus", "write_corpus"]

Part = Literal["realistic", "adversarial", "negative"]
PARTS: tuple[Part, ...] = ("realistic", "adversarial", "negative")


@dataclass(frozen=True, slots=True)
class Span:
    """One planted personal value.

    `obfuscation` names the transform applied to it on the adversarial part ("" if none):
    zero_width, fullwidth, math_digits, homoglyph, spaced_digits, at_dot_email, line_wrap,
    table_cells, base64, url_encoded, html_entities, spelled_digits, mixed_case,
    stream_split.
    """

    entity: str
    start: int
    end: int
    obfuscation: str = ""


@dataclass(frozen=True, slots=True)
class Doc:
    """One corpus text. `template` names the template it came from (held-out ones are never
    used while tuning); `chunks`, when set, are the stream chunk lengths it is fed in."""

    id: str
    part: Part
    kind: str
    template: str
    heldout: bool
    text: str
    spans: tuple[Span, ...] = ()
    chunks: tuple[int, ...] = field(default=())

    def value(self, span: Span) -> str:
        return self.text[span.start : span.end]


def _to_json(doc: Doc) -> str:
    data = {
        "id": doc.id,
        "part": doc.part,
        "kind": doc.kind,
        "template": doc.template,
        "heldout": doc.heldout,
        "text": doc.text,
        "spans": [[s.entity, s.start, s.end, s.obfuscation] for s in doc.spans],
        "chunks": list(doc.chunks),
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _from_json(line: str) -> Doc:
    data = json.loads(line)
    if data["part"] not in PARTS:
        raise ValueError(f"unknown corpus part {data['part']!r}")
    return Doc(
        id=data["id"],
        part=data["part"],
        kind=data["kind"],
        template=data["template"],
        heldout=bool(data["heldout"]),
        text=data["text"],
        spans=tuple(Span(e, int(s), int(t), o) for e, s, t, o in data["spans"]),
        chunks=tuple(int(n) for n in data["chunks"]),
    )


def write_corpus(path: Path, docs: Iterable[Doc]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for doc in docs:
            out.write(_to_json(doc) + "\n")


def read_corpus(path: Path) -> Iterator[Doc]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield _from_json(line)
                except (KeyError, ValueError, TypeError) as exc:
                    raise ValueError(f"{path}:{number}: bad corpus line ({exc})") from None
