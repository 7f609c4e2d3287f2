"""Pure redaction: text + findings + policy actions -> safe text.

Holds the per-inference placeholder map (`<PERSON_1>` -> value). A map belongs to one
inference only and is wiped with it; nothing here logs, persists or prints a value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from governance.policy import ActionSpec, Policy
from sidecar.detection import Finding, merge_overlaps

__all__ = [
    "PLACEHOLDER",
    "Applied",
    "Placeholders",
    "Redacted",
    "RenderedOutput",
    "apply",
    "placeholder_spans",
    "render_output",
]

# What pseudonymize writes: `<TYPE_n>`. Restoring and output screening look for it.
PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)_([1-9][0-9]*)>")
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s\-().]+")
# Types whose separators are presentation only: 4111-1111-... is 4111 1111 ...
_FORMATTED_NUMBERS = frozenset(
    {
        "CREDIT_CARD",
        "IBAN_CODE",
        "PHONE_NUMBER",
        "US_SSN",
        "US_BANK_NUMBER",
        "US_ITIN",
        "US_PASSPORT",
        "UK_NHS",
    }
)


def _value_key(entity: str, value: str) -> str:
    """The form under which two spellings count as the same value.

    Case, Unicode compatibility forms, invisible characters and runs of white space never
    make a different value; for formatted numbers (cards, phones, IBANs, SSNs) spaces,
    hyphens, dots and brackets do not either. Elsewhere dots count: 10.1.23.4 is not
    10.12.3.4, and j.doe@x is not jdoe@x.
    """
    folded = unicodedata.normalize("NFKC", value)
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf").casefold()
    if entity in _FORMATTED_NUMBERS:
        return _SEPARATORS.sub("", folded)
    return _SPACES.sub(" ", folded).strip()


class Placeholders:
    """Restorable placeholders of one inference: same value, same placeholder."""

    __slots__ = ("_by_key", "_counters", "_from_input", "_values")

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._values: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._from_input: set[str] = set()

    def placeholder_for(self, entity: str, value: str, *, from_input: bool = True) -> str:
        """The value's placeholder, issued on first sight.

        Only placeholders of values the caller sent (`from_input`) are ever restored;
        values a model made up stay replaced however often they recur.
        """
        key = (entity, _value_key(entity, value))
        found = self._by_key.get(key)
        if found is None:
            number = self._counters.get(entity, 0) + 1
            self._counters[entity] = number
            found = f"<{entity}_{number}>"
            self._by_key[key] = found
            self._values[found] = value  # the first spelling seen is the one restored
            if from_input:
                self._from_input.add(found)
        return found

    def known(self, entity: str, value: str) -> str | None:
        """The placeholder this value got from the caller's input, if any."""
        found = self._by_key.get((entity, _value_key(entity, value)))
        return found if found in self._from_input else None

    def value_of(self, placeholder: str) -> str | None:
        """The value behind a placeholder issued for this inference (any origin)."""
        return self._values.get(placeholder)

    def restorable(self, placeholder: str) -> str | None:
        """The caller's own value behind a placeholder; None for made-up values."""
        return self._values.get(placeholder) if placeholder in self._from_input else None

    def __len__(self) -> int:
        return len(self._values)

    def size_bytes(self) -> int:
        return sum(len(v.encode("utf-8")) + len(k) for k, v in self._values.items())

    def wipe(self) -> None:
        self._by_key.clear()
        self._values.clear()
        self._counters.clear()
        self._from_input.clear()

    def __repr__(self) -> str:
        return f"<Placeholders: {len(self._values)} values>"

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("placeholder maps are not serialisable")


@dataclass(frozen=True, slots=True)
class Applied:
    """A finding and the action taken on it; offsets index the text it was found in."""

    entity: str
    start: int
    end: int
    score: float
    action: str


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    entities: tuple[Applied, ...]

    def __repr__(self) -> str:
        return f"<Redacted: {len(self.text)} chars, {len(self.entities)} entities>"


def _mask(value: str, spec: ActionSpec) -> str:
    visible = [c for c in value if unicodedata.category(c) != "Cf"]
    # Never keep more than half: keep_last=4 on a 5-character value would reveal it.
    keep = min(spec.keep_last, len(visible) // 2)
    shown = "".join(visible[len(visible) - keep :]) if keep else ""
    return spec.mask_char * (len(visible) - keep) + shown


def _hash(entity: str, value: str, key: bytes) -> str:
    digest = hmac.new(key, f"{entity}\x00{_value_key(entity, value)}".encode(), hashlib.sha256)
    return f"<{entity}:{digest.hexdigest()[:16]}>"


def _replacement(
    entity: str,
    value: str,
    spec: ActionSpec,
    placeholders: Placeholders,
    hash_key: bytes,
    *,
    from_input: bool = True,
) -> str:
    match spec.action:
        case "replace":
            return f"<{entity}>"
        case "pseudonymize":
            return placeholders.placeholder_for(entity, value, from_input=from_input)
        case "mask":
            return _mask(value, spec)
        case "hash":
            return _hash(entity, value, hash_key)
        case "redact":
            return ""
    raise AssertionError(spec.action)  # pragma: no cover - Literal is exhaustive


def _splice(text: str, pieces: Sequence[tuple[int, int, str]]) -> str:
    out: list[str] = []
    cursor = 0
    for start, end, replacement in pieces:
        out.append(text[cursor:start])
        out.append(replacement)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def apply(
    text: str,
    findings: Iterable[Finding],
    policy: Policy,
    *,
    placeholders: Placeholders,
    hash_key: bytes,
) -> Redacted:
    """Replace every finding per the policy's action for its type."""
    merged = merge_overlaps(findings)
    pieces = []
    applied = []
    for finding in merged:
        spec = policy.action_for(finding.entity)
        value = text[finding.start : finding.end]
        pieces.append(
            (
                finding.start,
                finding.end,
                _replacement(finding.entity, value, spec, placeholders, hash_key),
            )
        )
        applied.append(
            Applied(finding.entity, finding.start, finding.end, finding.score, spec.action)
        )
    return Redacted(_splice(text, pieces), tuple(applied))


def placeholder_spans(text: str, placeholders: Placeholders) -> list[tuple[int, int]]:
    """Spans of placeholders this inference issued (others are ordinary text)."""
    return [m.span() for m in PLACEHOLDER.finditer(text) if placeholders.value_of(m.group(0))]


def _outside(findings: Iterable[Finding], protected: Sequence[tuple[int, int]]) -> list[Finding]:
    """Findings with the protected spans cut out (a placeholder is not PII)."""
    pieces: list[Finding] = []
    for finding in findings:
        parts = [(finding.start, finding.end)]
        for p_start, p_end in protected:
            next_parts = []
            for start, end in parts:
                if p_end <= start or end <= p_start:
                    next_parts.append((start, end))
                    continue
                if start < p_start:
                    next_parts.append((start, p_start))
                if p_end < end:
                    next_parts.append((p_end, end))
            parts = next_parts
        pieces.extend(Finding(finding.entity, s, e, finding.score) for s, e in parts if e > s)
    return pieces


@dataclass(frozen=True, slots=True)
class RenderedOutput:
    """A model output as the user sees it and as it may be logged."""

    user_text: str
    logged_text: str
    entities: tuple[Applied, ...]

    def __repr__(self) -> str:
        return f"<RenderedOutput: {len(self.user_text)} chars, {len(self.entities)} entities>"


def render_output(
    text: str,
    findings: Iterable[Finding],
    policy: Policy,
    *,
    placeholders: Placeholders,
    hash_key: bytes,
) -> RenderedOutput:
    """Screen a model output of one inference.

    Placeholders the inference issued are restored for the user when the policy allows
    (and stay placeholders in the logged text). PII found in the output is replaced per
    its action in the logged text; for the user it is kept if it was the user's own input
    and restoring is allowed, or if the policy keeps new output entities; otherwise it is
    replaced there too.
    """
    protected = placeholder_spans(text, placeholders)
    merged = merge_overlaps(_outside(findings, protected))
    restore = policy.inference.restore_output
    keep_new = policy.inference.new_output_entities == "keep"
    user_pieces: list[tuple[int, int, str]] = []
    logged_pieces: list[tuple[int, int, str]] = []
    applied: list[Applied] = []
    for finding in merged:
        spec = policy.action_for(finding.entity)
        value = text[finding.start : finding.end]
        own = placeholders.known(finding.entity, value) is not None
        logged = _replacement(finding.entity, value, spec, placeholders, hash_key, from_input=own)
        shown = value if (own and restore) or (not own and keep_new) else logged
        logged_pieces.append((finding.start, finding.end, logged))
        user_pieces.append((finding.start, finding.end, shown))
        applied.append(
            Applied(finding.entity, finding.start, finding.end, finding.score, spec.action)
        )
    for start, end in protected:
        token = text[start:end]
        original = placeholders.restorable(token)
        if restore and original is not None:
            user_pieces.append((start, end, original))
    user_pieces.sort()
    return RenderedOutput(
        user_text=_splice(text, user_pieces),
        logged_text=_splice(text, logged_pieces),
        entities=tuple(applied),
    )
