"""Ledger exports verified offline: round trips, every tamper class, forks, CSV, imports.

Round trips, forks and CSV run on SQLite and PostgreSQL (`ledger`, `ledger_dbs`). The
tamper tests edit one module-wide export (SQLite) the way an attacker would edit the
file, and check that the report names the entry (seq) and line at fault; line 1 is the
header, so entry seq s of an export starting at `start` is on line s - start + 2.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.database import Database
from governance.entries import Draft, EntryType, canonical_json
from governance.export import (
    EXPORT_FORMAT,
    ExportRange,
    ExportRequestError,
    csv_lines,
    export_recorded,
    jsonl_lines,
    plan_export,
)
from governance.ledger import Ledger, SignedCheckpoint
from governance.merkle import leaf_hash
from governance.note import NoteSigner
from governance.verify import Report, verify_export
from tests.ledger._helpers import ACTOR, NOW, ORIGIN, drafts, forged, modified
from tests.ledger.conftest import LedgerDb, LedgerDbs

ROOT = Path(__file__).resolve().parents[2]
EXPORTER = "cli:auditor@test-host"


def export(
    ledger: Ledger, span: ExportRange, consistency_from: tuple[int, ...] = ()
) -> list[bytes]:
    return list(
        jsonl_lines(ledger, span, now=NOW, actor=EXPORTER, consistency_from=consistency_from)
    )


def verify(lines: list[bytes], signer: NoteSigner, previous: str | None = None) -> Report:
    """Verify whatever range the export covers (the range check has its own tests)."""
    return verify_export(lines, signer.verifier, previous, expected_range=None)


def header_of(lines: list[bytes]) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(lines[0])
    return header


def with_header(lines: list[bytes], **changes: Any) -> list[bytes]:
    return [canonical_json({**header_of(lines), **changes}) + b"\n", *lines[1:]]


def _minute(n: int) -> datetime:
    return NOW + timedelta(minutes=n)


def fill_by_minute(ledger: Ledger, batches: tuple[int, ...]) -> list[int]:
    """Append batch k at NOW + k minutes; returns the first seq of each batch."""
    firsts, total = [], 0
    for minute, size in enumerate(batches):
        firsts.append(ledger.append(drafts(size, first=total), now=_minute(minute))[0])
        total += size
    return firsts


# -- round trips on both back-ends ----------------------------------------------------------

BATCHES = (3, 1, 5, 8, 2, 7, 4)  # 30 entries, batch k appended at minute k
SIZE = sum(BATCHES)


def test_export_round_trip_full_and_partial_ranges(ledger: Ledger, signer: NoteSigner) -> None:
    """Every range (full, from/to seq, since, empty) exports entries that verify as they are."""
    firsts = fill_by_minute(ledger, BATCHES)
    cases: list[tuple[dict[str, Any], int, int]] = [
        ({}, 0, SIZE),
        ({"from_seq": 5}, 5, SIZE),
        ({"to_seq": 10}, 0, 11),
        ({"from_seq": 5, "to_seq": 10}, 5, 11),
        ({"from_seq": 16, "to_seq": 16}, 16, 17),
        ({"from_seq": 0, "to_seq": 0}, 0, 1),
        ({"to_seq": SIZE - 1}, 0, SIZE),
        ({"from_seq": SIZE}, SIZE, SIZE),
        ({"since": _minute(3)}, firsts[3], SIZE),
        ({"since": _minute(3) - timedelta(seconds=1)}, firsts[3], SIZE),
        ({"since": _minute(3), "from_seq": 2}, firsts[3], SIZE),
        ({"since": _minute(3), "from_seq": 20}, 20, SIZE),
        ({"since": _minute(99)}, SIZE, SIZE),
    ]
    stored = dict(ledger.entries(0, SIZE))
    notes = set()
    for request, start, end in cases:
        span = plan_export(ledger, signer, now=NOW, **request)
        assert (span.start, span.end, span.checkpoint.size) == (start, end, SIZE), request
        lines = export(ledger, span)
        header = header_of(lines)
        assert (header["format"], header["origin"], header["from_seq"], header["count"]) == (
            EXPORT_FORMAT,
            ORIGIN,
            start,
            end - start,
        )
        assert (header["exported_by"], header["checkpoint"]) == (EXPORTER, span.checkpoint.note)
        assert lines[1:] == [stored[seq] + b"\n" for seq in range(start, end)]
        report = verify(lines, signer)
        assert report.problems == [], request
        assert (report.ok, report.from_seq, report.entries) == (True, start, end - start)
        assert report.checkpoint is not None
        assert (report.checkpoint.size, report.checkpoint.root) == (SIZE, ledger.state().root)
        notes.add(span.checkpoint.note)
    assert len(notes) == 1  # the tree did not change: every plan got the same checkpoint


def test_export_of_an_empty_ledger_verifies(ledger: Ledger, signer: NoteSigner) -> None:
    """A ledger with no entries exports a header alone that verifies."""
    span = plan_export(ledger, signer, now=NOW)
    assert (span.start, span.end, span.checkpoint.size) == (0, 0, 0)
    lines = export(ledger, span)
    assert len(lines) == 1
    assert verify(lines, signer).ok


def test_verify_reads_lines_with_or_without_newlines(
    ledger: Ledger, signer: NoteSigner, tmp_path: Path
) -> None:
    """The same export verifies from a file, as split lines, and as lines with newlines."""
    ledger.append(drafts(9), now=NOW)
    lines = export(ledger, plan_export(ledger, signer, now=NOW, from_seq=2))
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(lines))
    with path.open("rb") as handle:
        assert verify_export(handle, signer.verifier, expected_range=(2, None)).ok
    assert verify(path.read_bytes().splitlines(), signer).ok
    assert verify(lines, signer).ok


def test_export_verifies_against_a_previous_checkpoint_inside_the_range(
    ledger: Ledger, signer: NoteSigner
) -> None:
    """A kept checkpoint whose size falls in [start, end] is checked from the entries alone."""
    notes: dict[int, str] = {}
    for size in (4, 9, 16, 23):
        ledger.append(drafts(size - ledger.state().size, first=ledger.state().size), now=NOW)
        notes[size] = ledger.sign_checkpoint(signer, now=NOW).note
    ledger.append(drafts(7, first=23), now=NOW)  # 30 entries, last signed now
    notes[30] = ledger.sign_checkpoint(signer, now=NOW).note
    cases = [(0, None), (4, None), (2, 15), (9, 16), (16, 29), (9, None), (0, 22)]
    for from_seq, to_seq in cases:
        span = plan_export(ledger, signer, now=NOW, from_seq=from_seq, to_seq=to_seq)
        lines = export(ledger, span)
        for size, note in notes.items():
            if span.start <= size <= span.end or size == span.checkpoint.size:
                assert verify(lines, signer, note).problems == [], (from_seq, to_seq, size)


def test_export_needs_a_consistency_proof_for_a_previous_checkpoint_outside_the_range(
    ledger: Ledger, signer: NoteSigner
) -> None:
    """Outside the range a kept checkpoint needs --consistency-from; with it, it verifies."""
    ledger.append(drafts(6), now=NOW)
    before = ledger.sign_checkpoint(signer, now=NOW)
    ledger.append(drafts(14, first=6), now=NOW)
    after = ledger.sign_checkpoint(signer, now=NOW)
    ledger.append(drafts(10, first=20), now=NOW)
    cases: list[tuple[dict[str, Any], SignedCheckpoint]] = [
        ({"from_seq": 12}, before),
        ({"to_seq": 14}, after),
    ]
    for request, previous in cases:
        span = plan_export(ledger, signer, now=NOW, **request)
        report = verify(export(ledger, span), signer, previous.note)
        assert report.problems == [
            f"cannot check consistency with the previous checkpoint ({previous.size} entries): "
            f"the export covers {span.start}..{span.end - 1}; export with --consistency-from "
            f"{previous.size}"
        ]
        proved = export(ledger, span, consistency_from=(previous.size, 3))
        assert [p["from_size"] for p in header_of(proved)["consistency"]] == [3, previous.size]
        assert verify(proved, signer, previous.note).problems == []


def test_plan_export_rejects_impossible_ranges(ledger: Ledger, signer: NoteSigner) -> None:
    """Ranges outside the ledger, reversed, negative or mixing --to-seq and --since raise."""
    ledger.append(drafts(10), now=NOW)
    bad: list[dict[str, Any]] = [
        {"to_seq": 3, "since": NOW},
        {"to_seq": 10},
        {"from_seq": 11},
        {"from_seq": 7, "to_seq": 5},
        {"from_seq": -1},
        {"to_seq": -1},
    ]
    for request in bad:
        with pytest.raises(ExportRequestError):
            plan_export(ledger, signer, now=NOW, **request)
    span = plan_export(ledger, signer, now=NOW)
    for first in (0, 11):
        with pytest.raises(ExportRequestError, match=f"from size {first}"):
            export(ledger, span, consistency_from=(first,))


def test_export_recorded_describes_the_export(ledger: Ledger, signer: NoteSigner) -> None:
    """The ledger_exported entry names the range, tree size and note digest; it verifies later."""
    ledger.append(drafts(12), now=NOW)
    span = plan_export(ledger, signer, now=NOW, from_seq=3, to_seq=8)
    draft = export_recorded(span, fmt="jsonl", actor=EXPORTER, now=NOW)
    assert (draft.type, draft.actor, draft.at) == (EntryType.LEDGER_EXPORTED, EXPORTER, NOW)
    assert dict(draft.body) == {
        "from_seq": 3,
        "to_seq": 8,
        "count": 6,
        "tree_size": 12,
        "checkpoint_sha256": hashlib.sha256(span.checkpoint.note.encode()).hexdigest(),
        "format": "jsonl",
    }
    assert ledger.append([draft], now=NOW) == [12]
    later = export(ledger, plan_export(ledger, signer, now=NOW))
    assert json.loads(later[-1])["type"] == "ledger_exported"
    assert verify(later, signer, span.checkpoint.note).problems == []


def test_export_of_an_entry_changed_in_the_database_names_it(
    ledger_db: LedgerDb, ledger: Ledger, signer: NoteSigner
) -> None:
    """An entry rewritten in the database after signing fails verification at its seq."""
    ledger.append(drafts(15), now=NOW)
    plan_export(ledger, signer, now=NOW)
    (row,) = ledger_db.execute("SELECT entry FROM ledger_entries WHERE seq = 6")
    ledger_db.execute(
        "UPDATE ledger_entries SET entry = :entry WHERE seq = 6", entry=modified(bytes(row[0]))
    )
    report = verify(export(ledger, plan_export(ledger, signer, now=NOW)), signer)
    assert report.problems == [
        "entries 0..14 do not hash to the root signed for 15 entries",
        "entry seq 6 (line 8) was modified",
    ]


# -- forks and rollbacks --------------------------------------------------------------------


@dataclass
class Histories:
    """Two ledgers, one origin and key, sharing 6 entries and then diverging."""

    a: Ledger
    b: Ledger
    a_notes: dict[int, str]


@pytest.fixture
def histories(ledger_dbs: LedgerDbs, signer: NoteSigner) -> Histories:
    a, b = ledger_dbs.create().ledger(), ledger_dbs.create().ledger()
    a_notes = {}
    a.append(drafts(6), now=NOW)
    for size in (8, 10):
        a.append(drafts(size - a.state().size, first=a.state().size), now=NOW)
        a_notes[size] = a.sign_checkpoint(signer, now=NOW).note
    b.append(drafts(6) + drafts(4, first=6, tag="b"), now=NOW)
    return Histories(a, b, a_notes)


def test_verify_detects_a_fork_inside_the_exported_range(
    histories: Histories, signer: NoteSigner
) -> None:
    """History A's checkpoint at 8, against B's entries 0..10: a fork at 8 entries."""
    b = histories.b
    b.append(drafts(1, first=10, tag="b"), now=NOW)
    report = verify(export(b, plan_export(b, signer, now=NOW)), signer, histories.a_notes[8])
    assert len(report.problems) == 1
    assert report.problems[0].startswith("fork: the exported entries give root ")
    assert "at 8 entries" in report.problems[0]


def test_verify_detects_a_fork_through_a_consistency_proof(
    histories: Histories, signer: NoteSigner
) -> None:
    """History A's checkpoint at 8, against B's later entries with a proof from 8: a fork."""
    b = histories.b
    b.append(drafts(1, first=10, tag="b"), now=NOW)
    span = plan_export(b, signer, now=NOW, from_seq=9)
    report = verify(export(b, span, consistency_from=(8,)), signer, histories.a_notes[8])
    assert report.problems == [
        "fork: the checkpoint of 11 entries does not extend the previous checkpoint of 8 entries"
    ]
    report = verify(export(b, span), signer, histories.a_notes[8])
    assert report.problems[0].startswith("cannot check consistency")


def test_verify_detects_a_fork_at_the_same_size(histories: Histories, signer: NoteSigner) -> None:
    """Two different roots signed for 10 entries: a fork, whatever the range exported."""
    b = histories.b
    requests: list[dict[str, Any]] = [{}, {"from_seq": 10}]
    for request in requests:
        report = verify(export(b, plan_export(b, signer, now=NOW, **request)), signer)
        assert report.ok
        report = verify(
            export(b, plan_export(b, signer, now=NOW, **request)), signer, histories.a_notes[10]
        )
        assert len(report.problems) == 1
        assert report.problems[0].startswith("fork: two different roots were signed for 10 entries")


def test_verify_detects_a_rollback(histories: Histories, signer: NoteSigner) -> None:
    """A kept checkpoint newer than the export's: rolled back, or an old export."""
    a = histories.a
    old = ExportRange(0, 8, _checkpoint(a, 8))
    report = verify(export(a, old), signer, histories.a_notes[10])
    assert report.problems == [
        "previous checkpoint has 10 entries, the export's only 8: the log was rolled back, "
        "or this export is older than what you kept"
    ]
    assert verify(export(a, old), signer, histories.a_notes[8]).ok


def _checkpoint(ledger: Ledger, size: int) -> SignedCheckpoint:
    found = ledger.checkpoint_at_least(size)
    assert found is not None
    assert found.size == size
    return found


def test_verify_rejects_a_previous_checkpoint_by_another_key(
    ledger: Ledger, signer: NoteSigner
) -> None:
    """A kept checkpoint that the log's key did not sign is reported, not trusted."""
    ledger.append(drafts(4), now=NOW)
    lines = export(ledger, plan_export(ledger, signer, now=NOW))
    impostor = NoteSigner.generate(ORIGIN)
    note = impostor.sign(f"{ORIGIN}\n2\n{base64.b64encode(bytes(32)).decode()}\n")
    assert verify(lines, signer, note).problems == [
        "previous checkpoint: no signature by a trusted key"
    ]


# -- tampering with the file ----------------------------------------------------------------

GROWN = 25  # entries in the module's ledger; a checkpoint was signed at every size


@dataclass
class Grown:
    """A SQLite ledger grown one entry at a time, with a checkpoint at every size."""

    ledger: Ledger
    checkpoints: dict[int, SignedCheckpoint]

    def lines(self, start: int, end: int, size: int) -> list[bytes]:
        return export(self.ledger, ExportRange(start, end, self.checkpoints[size]))


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory, signer: NoteSigner) -> Iterator[Grown]:
    directory = tmp_path_factory.mktemp("grown")
    database = Database(f"sqlite:///{directory / 'sidecar.db'}")
    database.migrate()
    ledger = Ledger(database, origin=ORIGIN)
    checkpoints = {}
    for seq in range(GROWN):
        ledger.append(drafts(1, first=seq), now=NOW)
        checkpoints[seq + 1] = ledger.sign_checkpoint(signer, now=NOW)
    yield Grown(ledger, checkpoints)
    database.close()


@dataclass
class Exported:
    """One export's lines (header first) and what the next line of the log would be."""

    lines: list[bytes]
    start: int
    end: int
    size: int
    next_entry: bytes  # the log's entry at seq `end`, which this export does not cover

    def at(self, seq: int) -> int:
        """Index in `lines` of entry seq."""
        return seq - self.start + 1

    def line(self, seq: int) -> int:
        """1-based line number of entry seq."""
        return seq - self.start + 2

    def entry(self, seq: int) -> bytes:
        return self.lines[self.at(seq)]

    @property
    def summary(self) -> str:
        return (
            f"entries {self.start}..{self.end - 1} do not hash to the root signed for "
            f"{self.size} entries"
        )


@pytest.fixture(params=["full", "partial"])
def exported(request: pytest.FixtureRequest, grown: Grown) -> Exported:
    """The whole tree of 24 entries, or entries 5..16 of it."""
    start, end = (0, 24) if request.param == "full" else (5, 17)
    (next_entry,) = (entry for _, entry in grown.ledger.entries(end, end + 1))
    return Exported(grown.lines(start, end, 24), start, end, 24, next_entry + b"\n")


def test_verify_accepts_the_untouched_export(exported: Exported, signer: NoteSigner) -> None:
    """The export as written verifies, naming its range and checkpoint."""
    report = verify(exported.lines, signer)
    assert report.problems == []
    assert (report.from_seq, report.entries) == (exported.start, exported.end - exported.start)


def test_verify_names_a_modified_entry(exported: Exported, signer: NoteSigner) -> None:
    """A value changed inside one entry (still valid JSON) names that seq and line."""
    seq = exported.start + 3
    lines = list(exported.lines)
    lines[exported.at(seq)] = modified(exported.entry(seq)[:-1]) + b"\n"
    assert json.loads(lines[exported.at(seq)])["seq"] == seq
    report = verify(lines, signer)
    assert report.problems == [
        exported.summary,
        f"entry seq {seq} (line {exported.line(seq)}) was modified",
    ]


def test_verify_names_a_deleted_entry(exported: Exported, signer: NoteSigner) -> None:
    """An entry removed from the middle is named as missing."""
    seq = exported.start + 4
    lines = list(exported.lines)
    del lines[exported.at(seq)]
    assert verify(lines, signer).problems == [f"entry seq {seq} is missing (deleted)"]


def test_verify_names_an_inserted_entry(exported: Exported, signer: NoteSigner) -> None:
    """A forged entry slipped in before seq s is named by its line as inserted."""
    seq = exported.start + 2
    lines = list(exported.lines)
    lines.insert(exported.at(seq), forged(seq) + b"\n")
    assert verify(lines, signer).problems == [
        exported.summary,
        f"line {exported.line(seq)}: not an entry of this log (inserted)",
    ]


def test_verify_names_a_duplicated_entry(exported: Exported, signer: NoteSigner) -> None:
    """An entry present twice is named with both of its lines."""
    seq = exported.start + 5
    lines = list(exported.lines)
    lines.insert(exported.at(seq) + 1, exported.entry(seq))
    first, second = exported.line(seq), exported.line(seq) + 1
    problems = verify(lines, signer).problems
    assert problems[0] == exported.summary
    assert problems[1:] in (
        [f"line {first}: entry seq {seq} again (also on line {second})"],
        [f"line {second}: entry seq {seq} again (also on line {first})"],
    )


def test_verify_names_swapped_entries(exported: Exported, signer: NoteSigner) -> None:
    """Two entries swapped far apart are both named as out of order, at their lines."""
    low, high = exported.start + 1, exported.start + 7
    lines = list(exported.lines)
    lines[exported.at(low)], lines[exported.at(high)] = exported.entry(high), exported.entry(low)
    assert sorted(verify(lines, signer).problems) == sorted(
        [
            exported.summary,
            f"line {exported.line(low)}: entry seq {high} is out of order (reordered)",
            f"line {exported.line(high)}: entry seq {low} is out of order (reordered)",
        ]
    )


def test_verify_names_adjacent_swapped_entries(exported: Exported, signer: NoteSigner) -> None:
    """Neighbours swapped: one of the two is named as out of order."""
    seq = exported.start + 6
    lines = list(exported.lines)
    here, there = exported.at(seq), exported.at(seq + 1)
    lines[here], lines[there] = lines[there], lines[here]
    problems = verify(lines, signer).problems
    assert problems[0] == exported.summary
    assert problems[1:] in (
        [f"line {exported.line(seq)}: entry seq {seq + 1} is out of order (reordered)"],
        [f"line {exported.line(seq + 1)}: entry seq {seq} is out of order (reordered)"],
    )


def test_verify_names_an_entry_appended_after_the_checkpoint(
    exported: Exported, signer: NoteSigner
) -> None:
    """A real later entry added at the end is named as beyond the signed checkpoint."""
    lines = [*exported.lines, exported.next_entry, forged(exported.end + 1) + b"\n"]
    problems = verify(lines, signer).problems
    for line, seq in ((len(lines) - 1, exported.end - 1), (len(lines), exported.end - 1)):
        assert (
            f"line {line}: an entry after seq {seq}, the end of the signed range this export "
            "covers (appended without a checkpoint)"
        ) in problems


def test_verify_of_appended_entries_does_not_fault_the_covered_ones(
    exported: Exported, signer: NoteSigner
) -> None:
    """With only an extra line at the end, the report does not say the signed entries fail."""
    problems = verify([*exported.lines, exported.next_entry], signer).problems
    assert exported.summary not in problems
    assert len(problems) == 1


@pytest.mark.parametrize("dropped", [1, 3])
def test_verify_names_a_file_truncated_between_lines(
    exported: Exported, signer: NoteSigner, dropped: int
) -> None:
    """Trailing lines dropped: the report says where the file ends and which seqs are lost."""
    lines = exported.lines[:-dropped]
    assert verify(lines, signer).problems == [
        f"file ends after line {len(lines)}: truncated (entries {exported.end - dropped}.."
        f"{exported.end - 1} are missing)"
    ]


def test_verify_names_a_file_truncated_to_its_header(
    exported: Exported, signer: NoteSigner
) -> None:
    """Only the header left: every entry of the range is reported missing."""
    assert verify(exported.lines[:1], signer).problems == [
        f"file ends after line 1: truncated (entries {exported.start}..{exported.end - 1} are "
        "missing)"
    ]


@pytest.mark.parametrize("where", ["last line", "middle line"])
def test_verify_names_a_file_cut_inside_a_line(
    exported: Exported, signer: NoteSigner, where: str
) -> None:
    """A file cut mid-entry is reported as truncated at the entry it cuts."""
    seq = exported.end - 1 if where == "last line" else exported.start + 4
    data = b"".join(exported.lines[: exported.at(seq)]) + exported.entry(seq)[:40]
    problems = verify(data.splitlines(keepends=True), signer).problems
    assert problems, "a cut file verified"
    assert any("truncated" in p for p in problems), problems
    assert any(f"seq {seq}" in p or f"line {exported.line(seq)}" in p for p in problems), problems


def test_verify_rejects_a_changed_checkpoint(exported: Exported, signer: NoteSigner) -> None:
    """A checkpoint note whose size or root was edited no longer verifies."""
    note = header_of(exported.lines)["checkpoint"]
    origin, size, root, rest = note.split("\n", 3)
    other_root = base64.b64encode(leaf_hash(b"x")).decode()
    for changed in (
        f"{origin}\n{int(size) + 1}\n{root}\n{rest}",
        f"{origin}\n{size}\n{other_root}\n{rest}",
    ):
        report = verify(with_header(exported.lines, checkpoint=changed), signer)
        assert report.problems == [f"checkpoint: signature by {ORIGIN} does not verify"]


@pytest.mark.parametrize("name", [ORIGIN, "other.example.org/audit"])
def test_verify_rejects_the_wrong_key(exported: Exported, name: str) -> None:
    """A verifier key other than the log's finds no trusted signature."""
    report = verify(exported.lines, NoteSigner.generate(name))
    assert report.problems == ["checkpoint: no signature by a trusted key"]
    assert not report.ok


def test_verify_cannot_locate_an_entry_changed_with_its_listed_hash(
    exported: Exported, signer: NoteSigner
) -> None:
    """Entry and header leaf hash changed together: the signed root still catches it."""
    seq = exported.start + 3
    changed = modified(exported.entry(seq)[:-1])
    listed = bytearray(base64.b64decode(header_of(exported.lines)["leaf_hashes"]))
    offset = (seq - exported.start) * 32
    listed[offset : offset + 32] = leaf_hash(changed)
    lines = with_header(exported.lines, leaf_hashes=base64.b64encode(bytes(listed)).decode())
    lines[exported.at(seq)] = changed + b"\n"
    assert verify(lines, signer).problems == [
        exported.summary,
        "the header's leaf-hash list is missing or does not match the signed root either, so "
        "the wrong entry cannot be located",
    ]


def test_verify_rejects_a_tampered_header(exported: Exported, signer: NoteSigner) -> None:
    """Header damage (not JSON, wrong format, edited subtree hashes, shifted range) fails."""
    header = header_of(exported.lines)
    entries = exported.lines[1:]
    assert verify([b"not json\n", *entries], signer).problems == [
        f"line 1: not a {EXPORT_FORMAT} header"
    ]
    assert verify([], signer).problems == [f"line 1: not a {EXPORT_FORMAT} header"]
    report = verify(with_header(exported.lines, format="other/v1"), signer)
    assert report.problems == [f"line 1: not a {EXPORT_FORMAT} header"]
    report = verify(with_header(exported.lines, count=-1), signer)
    assert report.problems == ["header: count is not a non-negative integer"]
    report = verify(with_header(exported.lines, count=30), signer)
    assert report.problems[0].startswith("header: entries ")
    report = verify(with_header(exported.lines, right=[*header["right"], "AAAA"]), signer)
    assert report.problems == ["header: right holds a value that is not a SHA-256 hash"]
    report = verify(with_header(exported.lines, from_seq=exported.start + 1), signer)
    assert not report.ok
    bad = base64.b64encode(leaf_hash(b"x")).decode()
    for key in ("left", "right"):
        if header[key]:  # the partial export has both; the full one neither
            report = verify(with_header(exported.lines, **{key: [bad] * len(header[key])}), signer)
            assert report.problems[0] == exported.summary
            assert "cannot be located" in report.problems[1]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_verify_names_exactly_the_modified_entry(
    grown: Grown, signer: NoteSigner, data: st.DataObject
) -> None:
    """Any tree size, any range, any one entry modified: the report names that seq alone."""
    size = data.draw(st.integers(1, GROWN), label="size")
    start = data.draw(st.integers(0, size - 1), label="start")
    end = data.draw(st.integers(start + 1, size), label="end")
    seq = data.draw(st.integers(start, end - 1), label="seq")
    lines = grown.lines(start, end, size)
    assert verify(lines, signer).problems == []
    index = seq - start + 1
    lines[index] = modified(lines[index][:-1]) + b"\n"
    assert verify(lines, signer).problems == [
        f"entries {start}..{end - 1} do not hash to the root signed for {size} entries",
        f"entry seq {seq} (line {index + 1}) was modified",
    ]


# -- CSV ------------------------------------------------------------------------------------


def csv_rows(ledger: Ledger, span: ExportRange) -> list[list[str]]:
    """The CSV export parsed as a spreadsheet would read it (CR, LF and CRLF end rows)."""
    text = b"".join(csv_lines(ledger, span)).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_export_has_a_header_and_one_row_per_entry(ledger: Ledger, signer: NoteSigner) -> None:
    """CSV: the column row, then per entry its main fields and its exact JSON."""
    ledger.append(drafts(12), now=NOW)
    rows = csv_rows(ledger, plan_export(ledger, signer, now=NOW, from_seq=2, to_seq=9))
    assert rows[0] == ["seq", "at", "type", "actor", "tenant", "model", "outcome", "entry"]
    stored = dict(ledger.entries(2, 10))
    assert [int(row[0]) for row in rows[1:]] == list(range(2, 10))
    for row in rows[1:]:
        entry = json.loads(stored[int(row[0])])
        assert row[1:7] == [entry["at"], entry["type"], ACTOR, "acme", "", ""]
        assert row[7].encode() == stored[int(row[0])]


def test_csv_export_guards_against_formula_injection(ledger: Ledger, signer: NoteSigner) -> None:
    """Cells starting with = + - @ or tab get a leading quote; others are untouched."""
    risky = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "\t=1"]
    ledger.append(
        [
            Draft(EntryType.RECORDS_READ, NOW, value, {"tenant": value, "model": value})
            for value in risky
        ]
        + [Draft(EntryType.RECORDS_READ, NOW, "ok", {"tenant": "acme", "outcome": -3})],
        now=NOW,
    )
    rows = csv_rows(ledger, plan_export(ledger, signer, now=NOW))
    assert len(rows) == 1 + len(risky) + 1
    for value, row in zip(risky, rows[1:-1], strict=True):
        assert row[3:6] == ["'" + value] * 3
        assert json.loads(row[7])["tenant"] == value  # the JSON column keeps the exact entry
    assert rows[-1][3:7] == ["ok", "acme", "", "'-3"]


@pytest.mark.parametrize("value", ["\r=1+1", "acme\r=1+1", "acme\n=1+1", "acme\r\n@SUM(A1)"])
def test_csv_export_keeps_line_breaks_inside_their_cell(
    ledger: Ledger, signer: NoteSigner, value: str
) -> None:
    """A CR or LF in a value stays inside its quoted cell: no extra row, no bare formula cell."""
    ledger.append(
        [Draft(EntryType.RECORDS_READ, NOW, ACTOR, {"tenant": value}), *drafts(1, first=1)],
        now=NOW,
    )
    rows = csv_rows(ledger, plan_export(ledger, signer, now=NOW))
    assert [row[0] for row in rows] == ["seq", "0", "1"], rows
    assert rows[1][4] in (value, "'" + value)
    assert not any(cell[:1] in ("=", "+", "-", "@") for row in rows for cell in row), rows


# -- the verifier stands alone ---------------------------------------------------------------


def test_verify_imports_no_server_or_database_code() -> None:
    """Importing governance.verify loads stdlib, cryptography and merkle/note/errors/keyfile
    only (keyfile: the atomic write of --save-checkpoint, standard library only)."""
    done = subprocess.run(
        [sys.executable, "-c", "import governance.verify, sys; print(sorted(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    modules = set(ast.literal_eval(done.stdout))
    forbidden = (
        "sqlalchemy",
        "psycopg",
        "grpc",
        "pydantic",
        "yaml",
        "presidio",
        "spacy",
        "sidecar",
    )
    assert [m for m in modules if m.split(".")[0].startswith(forbidden)] == []
    governance = {m for m in modules if m.split(".")[0] == "governance"}
    assert governance <= {
        "governance",
        "governance.verify",
        "governance.keyfile",
        "governance.receipts",
        "governance.merkle",
        "governance.note",
        "governance.errors",
    }
