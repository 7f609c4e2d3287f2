"""The retention check of an exported ledger: every record that expired and was not held
has a deletion receipt.

Read entry by entry in ledger order (verify.py feeds it while it hashes); records whose
`record_written` entry is not in the export (before its first seq) are not checked. A
`record_written` entry says when a record expires; `retention_policy_applied` changes
that; `retention_deletion` and `erasure` entries are receipts naming the record ids they
deleted. A completed `retention_sweep` entry says "at `now`, with these holds, I deleted
everything expired": any record written before it, expired by its `now`, not covered by
one of its holds and without a receipt before it, is named as a violation. Standard
library only, like the rest of the verifier.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field

__all__ = ["RetentionCheck"]

_MAX_LISTED = 20


@dataclass(slots=True)
class _Record:
    expires_at: str  # ISO 8601 UTC with a fixed precision: compares as text
    tenant: str
    retention_class: str
    seq: int


@dataclass(slots=True)
class RetentionCheck:
    """Feed every entry with `see`; `problems` holds the violations found."""

    problems: list[str] = field(default_factory=list)
    first_seq: int = 0  # the first entry seen: records written before it are not checked
    records: int = 0
    receipts: int = 0
    sweeps: int = 0
    _pending: dict[str, _Record] = field(default_factory=dict)
    _heap: list[tuple[str, str]] = field(default_factory=list)
    _violations: int = 0

    def see(self, seq: int, entry: bytes) -> None:
        try:
            fields = json.loads(entry)
        except (ValueError, RecursionError):
            return  # the hash check reports a broken entry
        if not isinstance(fields, dict):
            return
        kind = fields.get("type")
        if kind == "record_written":
            self._written(seq, fields)
        elif kind in ("retention_deletion", "erasure"):
            for record_id in fields.get("record_ids") or []:
                if self._pending.pop(str(record_id), None) is not None:
                    self.receipts += 1
        elif kind == "retention_policy_applied":
            for change in fields.get("changes") or []:
                if isinstance(change, list) and len(change) == 2:
                    self._reexpire(str(change[0]), str(change[1]))
        elif kind == "retention_sweep" and fields.get("complete") is True:
            self._sweep(seq, fields)

    def _written(self, seq: int, fields: dict[str, object]) -> None:
        record_id, expires_at = fields.get("record_id"), fields.get("expires_at")
        if not isinstance(record_id, str) or not isinstance(expires_at, str):
            return
        self.records += 1
        self._pending[record_id] = _Record(
            expires_at, str(fields.get("tenant")), str(fields.get("retention_class")), seq
        )
        heapq.heappush(self._heap, (expires_at, record_id))

    def _reexpire(self, record_id: str, expires_at: str) -> None:
        record = self._pending.get(record_id)
        if record is not None:
            record.expires_at = expires_at
            heapq.heappush(self._heap, (expires_at, record_id))

    def _sweep(self, seq: int, fields: dict[str, object]) -> None:
        self.sweeps += 1
        now = fields.get("now")
        holds = fields.get("holds")
        if not isinstance(now, str) or not isinstance(holds, list):
            return
        held_specs = [
            (h.get("tenant"), h.get("retention_class")) for h in holds if isinstance(h, dict)
        ]
        kept: list[tuple[str, str]] = []
        while self._heap and self._heap[0][0] <= now:
            expires_at, record_id = heapq.heappop(self._heap)
            record = self._pending.get(record_id)
            if record is None or record.expires_at != expires_at:
                continue  # deleted already, or re-expired (a newer heap item stands for it)
            if any(
                tenant in (None, record.tenant)
                and retention_class in (None, record.retention_class)
                for tenant, retention_class in held_specs
            ):
                kept.append((expires_at, record_id))  # held now; due again at the next sweep
                continue
            self._violations += 1
            if self._violations <= _MAX_LISTED:
                self.problems.append(
                    f"retention: record {record_id} (written at seq {record.seq}) expired at "
                    f"{expires_at}, was not held, and the sweep at seq {seq} (now {now}) left "
                    "no deletion receipt for it"
                )
            del self._pending[record_id]
        for item in kept:
            heapq.heappush(self._heap, item)

    def finish(self) -> None:
        if self._violations > _MAX_LISTED:
            self.problems.append(
                f"retention: ... and {self._violations - _MAX_LISTED} more records without receipts"
            )
