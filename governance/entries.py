"""What the audit ledger records: typed entries encoded as canonical JSON.

An entry is the exact byte string the ledger hashes, stores and exports: UTF-8 JSON with
sorted keys and no insignificant white space, integers only (a float can print
differently from one library to the next, and a verifier must reproduce bytes, not
values). Every entry has a schema version, its sequence number, a type, a UTC timestamp
and the actor that caused it. Entries carry ids, labels, counts, hashes and policy
versions: never request text, a detected value, a subject id or key material.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "ENTRY_SCHEMA",
    "Draft",
    "EntryType",
    "canonical_json",
    "cli_actor",
    "iso_utc",
    "service_actor",
]

ENTRY_SCHEMA = 1
_SAFE_INT = 2**53  # beyond this, JSON readers in other languages lose precision


class EntryType(StrEnum):
    SCREENING_DECISION = "screening_decision"
    RECORD_WRITTEN = "record_written"
    RECORDS_READ = "records_read"
    POLICY_LOADED = "policy_loaded"
    KEY_CREATED = "key_created"
    KEY_ROTATED = "key_rotated"
    KEY_DESTROYED = "key_destroyed"
    RETENTION_DELETION = "retention_deletion"
    RETENTION_SWEEP = "retention_sweep"
    RETENTION_DRY_RUN = "retention_dry_run"
    RETENTION_POLICY_APPLIED = "retention_policy_applied"
    ERASURE = "erasure"
    LEDGER_PRUNED = "ledger_pruned"
    LEDGER_EXPORTED = "ledger_exported"
    ACCESS_DENIED = "access_denied"


def _check(value: Any, where: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not -_SAFE_INT < value < _SAFE_INT:
            raise ValueError(f"{where}: integer out of the exactly representable range")
        return
    if isinstance(value, float):
        raise ValueError(f"{where}: floats are not allowed in ledger entries")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: keys must be strings")
            _check(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
        return
    raise ValueError(f"{where}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Mapping[str, Any], *, strict: bool = False) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: the same value, the same bytes.

    strict (ledger entries): integers within ±2^53 and no floats. Raises ValueError.
    """
    if strict:
        _check(value, "entry")
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")  # lone surrogates raise UnicodeEncodeError (a ValueError)


def iso_utc(moment: datetime) -> str:
    """2026-11-25T22:48:15.123456Z: fixed precision, so the text is the time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def service_actor() -> str:
    return f"sidecar@{socket.gethostname()}"


def cli_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}"


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry before the ledger numbers it."""

    type: EntryType
    at: datetime
    actor: str
    body: Mapping[str, Any]

    def encode(self, seq: int) -> bytes:
        """The entry's bytes at position seq. Raises ValueError for an unencodable body."""
        if self.at.tzinfo is None:
            raise ValueError("entry time must be timezone-aware")
        fields = {"schema", "seq", "type", "at", "actor"} & set(self.body)
        if fields:
            raise ValueError(f"entry body redefines {sorted(fields)}")
        return canonical_json(
            {
                **self.body,
                "schema": ENTRY_SCHEMA,
                "seq": seq,
                "type": str(self.type),
                "at": iso_utc(self.at),
                "actor": self.actor,
            },
            strict=True,
        )
