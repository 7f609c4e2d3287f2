"""Ledger exports: the entries an auditor verifies offline, and a CSV for spreadsheets.

JSONL (the verifiable form) is a header line, then one entry per line exactly as it was
hashed and stored (canonical JSON, readable as it is). The header holds the signed
checkpoint the entries are checked against and the hashes needed to recompute its root
from the exported range alone: the compact range left of it, the perfect subtrees right
of it, every exported leaf hash (so a verifier can say which entry is wrong, not only
that one is) and any consistency proofs asked for. verify.py reads this format.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from governance.entries import Draft, EntryType, canonical_json, iso_utc
from governance.errors import GovernanceError
from governance.ledger import Ledger, SignedCheckpoint
from governance.merkle import right_nodes
from governance.note import NoteSigner
from governance.verify import EXPORT_FORMAT

__all__ = [
    "EXPORT_FORMAT",
    "ExportRange",
    "ExportRequestError",
    "check_consistency_from",
    "csv_lines",
    "export_recorded",
    "jsonl_lines",
    "plan_export",
    "spreadsheet_cell",
]

_CSV_COLUMNS = ("seq", "at", "type", "actor", "tenant", "model", "outcome", "entry")


class ExportRequestError(GovernanceError):
    """The requested range is impossible (names the bound and the ledger size)."""


@dataclass(frozen=True, slots=True)
class ExportRange:
    """Entries start <= seq < end, checked against `checkpoint` (size >= end)."""

    start: int
    end: int
    checkpoint: SignedCheckpoint


def plan_export(
    ledger: Ledger,
    signer: NoteSigner,
    *,
    now: datetime,
    from_seq: int | None = None,
    to_seq: int | None = None,
    since: datetime | None = None,
    witness: Path | None = None,
) -> ExportRange:
    """Sign a checkpoint of the ledger now and choose the range to export against it.

    to_seq is inclusive, like the CLI's --to-seq. Raises ExportRequestError, LedgerBroken.
    """
    if to_seq is not None and since is not None:
        raise ExportRequestError("--to-seq and --since cannot be combined")
    if (from_seq is not None and from_seq < 0) or (to_seq is not None and to_seq < 0):
        raise ExportRequestError("sequence numbers start at 0")
    if from_seq is not None and to_seq is not None and from_seq > to_seq:
        raise ExportRequestError(f"--from-seq {from_seq} is after --to-seq {to_seq}")
    current = ledger.state().size
    if to_seq is not None and to_seq >= current:  # refused before anything is signed
        raise ExportRequestError(f"--to-seq {to_seq} is beyond the ledger ({current} entries)")
    kept_from = ledger.first_unpruned()
    if from_seq is not None and from_seq < kept_from:
        raise ExportRequestError(
            f"entries before seq {kept_from} were pruned under retention.ledger_keep"
        )
    checkpoint = ledger.sign_checkpoint(signer, now=now, witness=witness)
    start = kept_from if from_seq is None else from_seq
    if since is not None:
        first = ledger.first_seq_since(since)
        # Entries appended after the checkpoint was signed are not in this export.
        start = max(start, checkpoint.size if first is None else min(first, checkpoint.size))
    end = checkpoint.size if to_seq is None else to_seq + 1
    if end > checkpoint.size:
        raise ExportRequestError(
            f"--to-seq {to_seq} is beyond the ledger (entries 0..{checkpoint.size - 1})"
        )
    if start > end:
        raise ExportRequestError(f"--from-seq {start} is after the end of the range ({end - 1})")
    return ExportRange(min(start, end), end, checkpoint)


def check_consistency_from(span: ExportRange, sizes: Sequence[int]) -> None:
    """Refuse consistency proofs the export could not contain. Raises ExportRequestError."""
    size = span.checkpoint.size
    for first in sizes:
        if not 0 < first <= size:
            raise ExportRequestError(f"no consistency proof from size {first} to size {size}")


def _b64(hash_: bytes) -> str:
    return base64.b64encode(hash_).decode()


def jsonl_lines(
    ledger: Ledger,
    span: ExportRange,
    *,
    now: datetime,
    actor: str,
    consistency_from: Sequence[int] = (),
) -> Iterator[bytes]:
    """The header line, then each entry's stored bytes; every line ends with a newline."""
    size = span.checkpoint.size
    left = [(index << level, (index + 1) << level) for level, index in right_nodes(0, span.start)]
    right = [(index << level, (index + 1) << level) for level, index in right_nodes(span.end, size)]
    check_consistency_from(span, consistency_from)
    proofs = []
    for first in sorted(set(consistency_from)):
        proofs.append(
            {"from_size": first, "proof": [_b64(h) for h in ledger.consistency_proof(first, size)]}
        )
    leaves = b"".join(ledger.leaf_hashes(span.start, span.end))
    header = {
        "format": EXPORT_FORMAT,
        "origin": ledger.origin,
        "from_seq": span.start,
        "count": span.end - span.start,
        "checkpoint": span.checkpoint.note,
        "left": [_b64(h) for h in ledger.subtree_hashes(left)],
        "right": [_b64(h) for h in ledger.subtree_hashes(right)],
        "leaf_hashes": _b64(leaves),
        "consistency": proofs,
        "exported_at": iso_utc(now),
        "exported_by": actor,
    }
    yield canonical_json(header) + b"\n"
    for _, entry in ledger.entries(span.start, span.end):
        yield entry + b"\n"


def spreadsheet_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A leading =, +, - or @ makes spreadsheets evaluate the cell (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(ledger: Ledger, span: ExportRange) -> Iterator[bytes]:
    """A header row, then one row per entry with its main fields and its full JSON."""
    buffer = io.StringIO()
    # The default \r\n terminator makes csv quote any field holding \r or \n, so a value
    # cannot start a row of its own (where the injection guard would not see it).
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    for _, entry in ledger.entries(span.start, span.end):
        fields = json.loads(entry)
        writer.writerow(
            [spreadsheet_cell(fields.get(c)) for c in _CSV_COLUMNS[:-1]] + [entry.decode()]
        )
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def export_recorded(span: ExportRange, *, fmt: str, actor: str, now: datetime) -> Draft:
    """The ledger entry that records an export (appended after it was written)."""
    return Draft(
        EntryType.LEDGER_EXPORTED,
        now,
        actor,
        {
            "from_seq": span.start,
            "to_seq": span.end - 1,
            "count": span.end - span.start,
            "tree_size": span.checkpoint.size,
            "checkpoint_sha256": hashlib.sha256(span.checkpoint.note.encode()).hexdigest(),
            "format": fmt,
        },
    )
