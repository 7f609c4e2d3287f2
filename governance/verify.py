"""Offline verification of a ledger export: the auditor's tool.

Needs the export file, the ledger's public note key and, optionally, a checkpoint the
auditor kept from before. No database, no secrets, no server code: only the standard
library, `cryptography` (via note.py) and the RFC 9162 hashing in merkle.py, so it can
be read in one sitting. It streams the file once; memory grows by about 150 bytes per
entry (the header's leaf-hash list and the recomputed hashes). Runs on its own too:

    python -m governance.verify EXPORT --public-key KEY [--previous-checkpoint CP]
        [--save-checkpoint FILE] [--from-seq N] [--to-seq M | --partial]

What it establishes, or names as wrong:
- the checkpoint is signed by the given key (else: which checkpoint);
- recomputing every entry's leaf hash, with the header's left and right subtree hashes,
  gives the checkpoint's root; when it does not, the header's leaf-hash list (itself
  checked against the signed root) says which entry was modified, deleted, inserted or
  moved;
- the file is complete (truncation) and has nothing beyond the checkpoint (appended
  entries that no checkpoint covers);
- the export's history extends the previous checkpoint (a fork, a rollback).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from governance.errors import GovernanceError
from governance.keyfile import write_atomically
from governance.merkle import CompactRange, ProofError, right_nodes, verify_consistency
from governance.merkle import leaf_hash as _leaf_hash
from governance.note import Checkpoint, NoteError, NoteVerifier, open_note, parse_checkpoint
from governance.receipts import RetentionCheck

__all__ = ["EXPORT_FORMAT", "Range", "Report", "add_arguments", "main", "run", "verify_export"]

EXPORT_FORMAT = "privacy-sidecar-ledger-export/v1"
_HASH = 32
_MAX_LISTED = 20  # problems of one kind listed before "and N more"


@dataclass(slots=True)
class Report:
    """The outcome: ok only when `problems` is empty."""

    problems: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    checkpoint_note: str = ""
    from_seq: int = 0
    entries: int = 0
    retention: RetentionCheck | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


class _Abort(Exception):
    """Verification cannot go on; the reason is already in the report."""


def _hashes(values: object, what: str, report: Report) -> list[bytes]:
    if not isinstance(values, list):
        report.problems.append(f"header: {what} is not a list")
        raise _Abort
    out = []
    for item in values:
        try:
            raw = base64.b64decode(item, validate=True) if isinstance(item, str) else b""
        except (ValueError, binascii.Error):
            raw = b""
        if len(raw) != _HASH:
            report.problems.append(f"header: {what} holds a value that is not a SHA-256 hash")
            raise _Abort
        out.append(raw)
    return out


def _open_checkpoint(note: object, verifier: NoteVerifier, what: str, report: Report) -> Checkpoint:
    if not isinstance(note, str):
        report.problems.append(f"{what}: missing")
        raise _Abort
    try:
        checkpoint = parse_checkpoint(open_note(note, [verifier]))
    except NoteError as err:
        report.problems.append(f"{what}: {err}")
        raise _Abort from None
    if checkpoint.origin != verifier.name:
        report.problems.append(
            f"{what}: origin {checkpoint.origin!r} is not the key's log {verifier.name!r}"
        )
        raise _Abort
    return checkpoint


def _header(line: bytes | None, report: Report) -> dict[str, object]:
    try:
        header = json.loads(line) if line is not None else None
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        report.problems.append(f"line 1: not a {EXPORT_FORMAT} header")
        raise _Abort
    for key in ("from_seq", "count"):
        value = header.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            report.problems.append(f"header: {key} is not a non-negative integer")
            raise _Abort
    return header


def _int(header: dict[str, object], key: str) -> int:
    value = header[key]
    assert isinstance(value, int)  # noqa: S101 - _header checked it
    return value


Range = tuple[int, int | None]


def verify_export(
    lines: Iterable[bytes],
    verifier: NoteVerifier,
    previous_note: str | None = None,
    *,
    expected_range: Range | None = (0, None),
    retention: bool = False,
) -> Report:
    """Check an export read as lines (newline included or not). Never raises for bad data.

    expected_range (first seq, last seq or None for "to the checkpoint's last entry") is
    what the auditor asked for: the header's range is not signed, so an export trimmed
    at either end with its header rewritten is only caught by comparing it with what was
    asked. None accepts any range (the report says which one was verified).

    retention: also check that every record that expired unheld before a completed
    sweep has a deletion receipt (receipts.py); needs an export from seq 0.
    """
    report = Report()
    if retention:
        report.retention = RetentionCheck()
    with contextlib.suppress(_Abort):
        _verify(iter(lines), verifier, previous_note, expected_range, report)
    if report.retention is not None:
        report.retention.finish()
        report.problems += report.retention.problems
    return report


def _verify(
    lines: Iterable[bytes],
    verifier: NoteVerifier,
    previous_note: str | None,
    expected: Range | None,
    report: Report,
) -> None:
    iterator = iter(lines)
    header = _header(next(iterator, None), report)
    checkpoint = _open_checkpoint(header.get("checkpoint"), verifier, "checkpoint", report)
    report.checkpoint, report.checkpoint_note = checkpoint, str(header["checkpoint"])
    start, count = _int(header, "from_seq"), _int(header, "count")
    report.from_seq = start
    end, size = start + count, checkpoint.size
    if report.retention is not None:
        # Records written before the export's first entry are unknown here: only those
        # the export shows are checked (an export from seq 0, or from the first entry a
        # pruned ledger keeps, shows every record still accounted for).
        report.retention.first_seq = start
    if end > size:
        report.problems.append(
            f"header: entries {start}..{end - 1} go beyond the checkpoint's {size} entries"
        )
        raise _Abort
    if expected is not None:
        want_end = size if expected[1] is None else expected[1] + 1
        if (start, end) != (expected[0], want_end):
            report.problems.append(
                f"export covers entries {start}..{end - 1}, not {expected[0]}..{want_end - 1} "
                f"as expected (the checkpoint has {size} entries): entries were left out"
            )
    previous = None
    if previous_note is not None:
        previous = _open_checkpoint(previous_note, verifier, "previous checkpoint", report)
    try:
        compact = CompactRange(start, _hashes(header.get("left"), "left", report))
    except ProofError:
        report.problems.append(f"header: left does not fit an export starting at {start}")
        raise _Abort from None
    listed = _listed_leaves(header.get("leaf_hashes"), count)

    computed = bytearray()  # every line's leaf hash, 32 bytes each
    root_at_previous = compact.root() if previous is not None and previous.size == start else None
    lines_read = 0
    cut: int | None = None  # a last line without its newline: the file may end mid-entry
    for line in iterator:
        complete = line.endswith(b"\n")
        entry = line[:-1] if complete else line
        cut = None if complete else lines_read
        lines_read += 1
        leaf = _leaf_hash(entry)
        computed += leaf
        if lines_read <= count:
            compact.append(leaf)
            if report.retention is not None:
                report.retention.see(start + lines_read - 1, entry)
            if previous is not None and compact.size == previous.size:
                root_at_previous = compact.root()
    report.entries = min(lines_read, count)
    right = _hashes(header.get("right"), "right", report)
    levels = [level for level, _ in right_nodes(end, size)]
    if len(right) != len(levels):
        report.problems.append(
            f"header: right holds {len(right)} hashes; a tree of {size} entries needs {len(levels)}"
        )
        raise _Abort
    root_ok = lines_read >= count and _root(compact, right, levels) == checkpoint.root
    if lines_read >= count and not root_ok:
        report.problems.append(
            f"entries {start}..{end - 1} do not hash to the root signed for {size} entries"
        )
    if not root_ok or lines_read != count:
        _locate(header, listed, bytes(computed), cut, checkpoint, right, levels, report)
    if previous is not None:
        _check_previous(header, previous, checkpoint, root_at_previous, start, end, report)


def _root(compact: CompactRange, right: list[bytes], levels: list[int]) -> bytes:
    full = CompactRange(compact.size, compact.hashes)
    for hash_, level in zip(right, levels, strict=True):
        full.append(hash_, level)
    return full.root()


def _listed_leaves(value: object, count: int) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) == count * _HASH else None


def _authentic(
    header: dict[str, object],
    listed: bytes,
    checkpoint: Checkpoint,
    right: list[bytes],
    levels: list[int],
    report: Report,
) -> bool:
    """Whether the header's leaf-hash list itself reproduces the signed root."""
    start = _int(header, "from_seq")
    compact = CompactRange(start, _hashes(header.get("left"), "left", report))
    for i in range(0, len(listed), _HASH):
        compact.append(listed[i : i + _HASH])
    return _root(compact, right, levels) == checkpoint.root


def _locate(
    header: dict[str, object],
    listed: bytes | None,
    computed: bytes,
    cut: int | None,
    checkpoint: Checkpoint,
    right: list[bytes],
    levels: list[int],
    report: Report,
) -> None:
    """Say which entries are wrong, using the leaf-hash list once it proves authentic."""
    start, count = _int(header, "from_seq"), _int(header, "count")
    lines = len(computed) // _HASH
    if listed is None or not _authentic(header, listed, checkpoint, right, levels, report):
        report.problems.append(
            "the header's leaf-hash list is missing or does not match the signed root either, "
            "so the wrong entry cannot be located"
        )
        if cut is not None:
            report.problems.append(f"file ends inside line {cut + 2}: truncated")
        elif lines < count:
            report.problems.append(f"file holds {lines} of {count} entries: truncated")
        elif lines > count:
            report.problems.append(f"file holds {lines - count} entries beyond the checkpoint")
        return
    want = [listed[i : i + _HASH] for i in range(0, len(listed), _HASH)]
    got = [computed[i : i + _HASH] for i in range(0, len(computed), _HASH)]
    position = {h: i for i, h in enumerate(want)}
    present = set(got)
    unknown = [i for i, h in enumerate(got) if h not in position]
    missing = [i for i, h in enumerate(want) if h not in present]
    found: list[str] = []
    if cut is not None and cut in unknown:
        # A partial last line is where the file was cut, not a modified or forged entry.
        unknown.remove(cut)
        gone = [i for i in missing if i >= cut]
        missing = [i for i in missing if i < cut]
        if gone:
            found.append(
                f"file ends inside line {cut + 2}: truncated (entries {start + gone[0]}.."
                f"{start + gone[-1]} are missing)"
            )
        else:
            found.append(f"file ends inside line {cut + 2}: truncated")
    modified = sorted(set(unknown) & set(missing))
    found += [f"entry seq {start + i} (line {i + 2}) was modified" for i in modified]
    if missing and not unknown and missing == list(range(lines, count)):
        found.append(
            f"file ends after line {lines + 1}: truncated (entries {start + lines}.."
            f"{start + count - 1} are missing)"
        )
    else:
        found += [
            f"entry seq {start + i} is missing (deleted)" for i in missing if i not in modified
        ]
    for i in unknown:
        if i in modified:
            continue
        if i >= count and all(j >= count for j in unknown if j not in modified):
            found.append(
                f"line {i + 2}: an entry after seq {start + count - 1}, the end of the signed "
                "range this export covers (appended without a checkpoint)"
            )
        else:
            found.append(f"line {i + 2}: not an entry of this log (inserted)")
    known = [(i, position[h]) for i, h in enumerate(got) if h in position]
    in_order = _longest_increasing({i: j for i, j in known})
    lines_of: dict[int, list[int]] = {}
    for i, j in known:
        lines_of.setdefault(j, []).append(i)
    for i, j in known:
        if i in in_order:
            continue
        others = [k + 2 for k in lines_of[j] if k != i]
        if others:
            found.append(f"line {i + 2}: entry seq {start + j} again (also on line {others[0]})")
        else:
            found.append(f"line {i + 2}: entry seq {start + j} is out of order (reordered)")
    if len(found) > _MAX_LISTED:
        found = [*found[:_MAX_LISTED], f"... and {len(found) - _MAX_LISTED} more"]
    report.problems += found


def _longest_increasing(seq_of_line: dict[int, int]) -> set[int]:
    """Lines (keys, in order) of a longest run whose seqs strictly increase: the others moved."""
    lines = sorted(seq_of_line)
    tails: list[int] = []  # tails[k]: index into `lines` ending the best run of length k+1
    parent: list[int] = [-1] * len(lines)
    for n, line in enumerate(lines):
        value = seq_of_line[line]
        low, high = 0, len(tails)
        while low < high:
            mid = (low + high) // 2
            if seq_of_line[lines[tails[mid]]] < value:
                low = mid + 1
            else:
                high = mid
        parent[n] = tails[low - 1] if low else -1
        if low == len(tails):
            tails.append(n)
        else:
            tails[low] = n
    keep: set[int] = set()
    n = tails[-1] if tails else -1
    while n >= 0:
        keep.add(lines[n])
        n = parent[n]
    return keep


def _check_previous(
    header: dict[str, object],
    previous: Checkpoint,
    checkpoint: Checkpoint,
    root_at_previous: bytes | None,
    start: int,
    end: int,
    report: Report,
) -> None:
    """The export's history must extend the checkpoint the auditor kept."""
    size = checkpoint.size
    if previous.size > size:
        report.problems.append(
            f"previous checkpoint has {previous.size} entries, the export's only {size}: "
            "the log was rolled back, or this export is older than what you kept"
        )
        return
    if previous.size == size:
        if previous.root != checkpoint.root:
            report.problems.append(
                f"fork: two different roots were signed for {size} entries "
                f"({previous.root.hex()} kept, {checkpoint.root.hex()} now)"
            )
        return
    if previous.size == 0:
        return
    proofs = header.get("consistency")
    for item in proofs if isinstance(proofs, list) else []:
        if isinstance(item, dict) and item.get("from_size") == previous.size:
            proof = _hashes(item.get("proof"), "consistency proof", report)
            try:
                verify_consistency(previous.size, size, proof, previous.root, checkpoint.root)
            except ProofError:
                report.problems.append(
                    f"fork: the checkpoint of {size} entries does not extend the previous "
                    f"checkpoint of {previous.size} entries"
                )
            return
    if start <= previous.size <= end and root_at_previous is not None:
        if root_at_previous != previous.root:
            report.problems.append(
                f"fork: the exported entries give root {root_at_previous.hex()} at "
                f"{previous.size} entries; the previous checkpoint signed {previous.root.hex()}"
            )
        return
    report.problems.append(
        f"cannot check consistency with the previous checkpoint ({previous.size} entries): "
        f"the export covers {start}..{end - 1}; export with --consistency-from {previous.size}"
    )


# -- command line: `python -m governance.verify` and `governance ledger verify` ----------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a JSONL export")
    parser.add_argument("--public-key", required=True, help="verifier key, or a file holding it")
    parser.add_argument("--previous-checkpoint", type=Path, help="a checkpoint you kept before")
    parser.add_argument("--save-checkpoint", type=Path, help="keep the verified checkpoint here")
    parser.add_argument("--from-seq", type=int, default=0, help="first entry you asked for")
    span = parser.add_mutually_exclusive_group()
    span.add_argument("--to-seq", type=int, help="last entry you asked for (default: all)")
    span.add_argument("--partial", action="store_true", help="accept whatever range it covers")
    parser.add_argument(
        "--retention",
        action="store_true",
        help="also check every record that expired unheld has a deletion receipt",
    )


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise GovernanceError(f"{path}: cannot read {what} ({type(err).__name__})") from None


def run(args: argparse.Namespace, out: IO[str]) -> int:
    """Verify args.file; print what holds or every problem. 0 only when everything holds.

    Raises GovernanceError for unreadable inputs or a malformed key.
    """
    key_text = args.public_key
    if Path(key_text).is_file():
        key_text = _read(Path(key_text), "public key").strip()
    verifier = NoteVerifier.from_key(key_text)
    previous = _read(args.previous_checkpoint, "checkpoint") if args.previous_checkpoint else None
    expected = None if args.partial else (args.from_seq, args.to_seq)
    try:
        with open(args.file, "rb") as lines:
            report = verify_export(
                lines, verifier, previous, expected_range=expected, retention=args.retention
            )
    except OSError as err:
        raise GovernanceError(f"{args.file}: cannot read ({type(err).__name__})") from None
    if not report.ok or report.checkpoint is None:
        for problem in report.problems:
            print(f"{args.file}: {problem}", file=out)
        print(f"{args.file}: NOT VERIFIED ({len(report.problems)} problems)", file=out)
        return 1
    checkpoint = report.checkpoint
    print(
        f"{args.file}: verified entries {report.from_seq}..{report.from_seq + report.entries - 1}"
        f" ({report.entries}) against {checkpoint.origin} checkpoint of {checkpoint.size} "
        f"entries, root {checkpoint.root.hex()}",
        file=out,
    )
    if previous is not None:
        print(f"{args.file}: consistent with {args.previous_checkpoint}", file=out)
    if report.retention is not None:
        check = report.retention
        print(
            f"{args.file}: retention holds: {check.records} records written, "
            f"{check.receipts} deletion receipts, {check.sweeps} completed sweeps checked",
            file=out,
        )
    if args.save_checkpoint is not None:
        write_atomically(
            args.save_checkpoint, [report.checkpoint_note.encode()], mode=0o644, parents=False
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m governance.verify", description="Verify a ledger export offline."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, sys.stdout)
    except GovernanceError as err:
        print(f"verify: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
