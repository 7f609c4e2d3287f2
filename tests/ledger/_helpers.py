"""Plain helpers shared by the ledger tests: entries to append, and entry tampering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from governance.entries import Draft, EntryType, canonical_json

ORIGIN = "ledger.example.org/audit"
NOW = datetime(2026, 3, 14, 9, 26, 53, 589_793, tzinfo=UTC)
ACTOR = "sidecar@test-host"
_TYPES = list(EntryType)


def drafts(count: int, *, first: int = 0, tag: str = "a", at: datetime = NOW) -> list[Draft]:
    """`count` varied entries; `tag` makes two histories differ entry for entry."""
    return [
        Draft(
            _TYPES[n % len(_TYPES)],
            at + timedelta(milliseconds=n),
            ACTOR,
            {
                "tag": tag,
                "n": n,
                "tenant": "acme",
                "labels": ["EMAIL_ADDRESS", "PERSON"][: n % 3],
                "allowed": n % 2 == 0,
                "policy": {"version": "test-1", "note": "café ✓"},
                "big": -(2**53 - 1) + n,
            },
        )
        for n in range(first, first + count)
    ]


def modified(entry: bytes) -> bytes:
    """The entry with one value inside it changed: still canonical, valid JSON, same seq."""
    fields = json.loads(entry)
    fields["n"] += 1000
    return canonical_json(fields)


def forged(seq: int) -> bytes:
    """A plausible entry the ledger never held."""
    return drafts(1, first=seq, tag="forged")[0].encode(seq)
