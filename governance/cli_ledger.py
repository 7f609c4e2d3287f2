"""`governance ledger ...`: the audit ledger for compliance officers and auditors.

    governance ledger export [--from-seq N] [--to-seq M | --since T] [--format jsonl|csv]
                             [--consistency-from SIZE ...] --out FILE
    governance ledger verify FILE --public-key KEY [--previous-checkpoint CP]
                             [--save-checkpoint FILE]     offline: no database, no secrets
    governance ledger public-key                        the note verifier key to hand out
    governance ledger checkpoint [--fresh]              the latest signed checkpoint
    governance ledger inclusion-proof SEQ [--tree-size S]
    governance ledger consistency-proof FIRST [SECOND]

Exports are written atomically (temporary file, fsync, rename) and recorded in the
ledger once written. `verify` imports only governance.verify (standard library and
`cryptography`).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from governance.errors import GovernanceError

__all__ = ["register"]

Command = Callable[[argparse.Namespace, IO[str]], int]


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def register(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]  # argparse's private generic
    common: argparse.ArgumentParser,
    timestamp: Callable[[str], datetime],
) -> dict[tuple[str, str], Command]:
    """Add `ledger` subcommands to the governance parser; returns their handlers."""
    ledger = sub.add_parser("ledger", help="the audit ledger").add_subparsers(
        dest="action", required=True
    )
    export = ledger.add_parser("export", parents=[common], help="export entries to verify")
    export.add_argument("--from-seq", type=_non_negative, help="first entry (default 0)")
    end = export.add_mutually_exclusive_group()
    end.add_argument("--to-seq", type=_non_negative, help="last entry, inclusive")
    end.add_argument("--since", type=timestamp, help="start at entries appended at or after")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument(
        "--consistency-from",
        type=_non_negative,
        action="append",
        default=[],
        metavar="SIZE",
        help="include a consistency proof from this earlier checkpoint size (repeatable)",
    )
    verify = ledger.add_parser("verify", parents=[common], help="verify an export offline")
    verify.add_argument("file", type=Path)
    verify.add_argument("--public-key", required=True, help="verifier key, or a file holding it")
    verify.add_argument("--previous-checkpoint", type=Path, help="a checkpoint you kept before")
    verify.add_argument("--save-checkpoint", type=Path, help="keep the verified checkpoint here")
    ledger.add_parser("public-key", parents=[common], help="print the note verifier key")
    checkpoint = ledger.add_parser("checkpoint", parents=[common], help="print a checkpoint")
    checkpoint.add_argument("--fresh", action="store_true", help="sign one of the ledger now")
    inclusion = ledger.add_parser("inclusion-proof", parents=[common], help="entry in tree")
    inclusion.add_argument("seq", type=_non_negative)
    inclusion.add_argument("--tree-size", type=_non_negative, help="default: latest checkpoint")
    consistency = ledger.add_parser("consistency-proof", parents=[common], help="tree extends")
    consistency.add_argument("first", type=_non_negative)
    consistency.add_argument("second", type=_non_negative, nargs="?", help="default: latest")
    return {
        ("ledger", "export"): _export,
        ("ledger", "verify"): _verify,
        ("ledger", "public-key"): _public_key,
        ("ledger", "checkpoint"): _checkpoint,
        ("ledger", "inclusion-proof"): _inclusion,
        ("ledger", "consistency-proof"): _consistency,
    }


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _write_atomically(path: Path, chunks: Iterator[bytes]) -> int:
    """Write to a temporary file beside `path`, fsync, rename; returns the bytes written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    written = 0
    try:
        with open(temporary, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise GovernanceError(f"{path}: cannot write ({type(err).__name__})") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


def _export(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.entries import cli_actor
    from governance.export import csv_lines, export_recorded, jsonl_lines, plan_export
    from governance.workspace import open_ledger

    if args.out is None:
        raise GovernanceError("ledger export needs --out FILE")
    with open_ledger(args) as (ledger, signer, witness):
        now = datetime.now(UTC)
        span = plan_export(
            ledger,
            signer,
            now=now,
            from_seq=args.from_seq,
            to_seq=args.to_seq,
            since=args.since,
            witness=witness,
        )
        actor = cli_actor()
        lines = (
            jsonl_lines(ledger, span, now=now, actor=actor, consistency_from=args.consistency_from)
            if args.format == "jsonl"
            else csv_lines(ledger, span)
        )
        size = _write_atomically(args.out, lines)
        # Recorded once the file exists: an export that failed half-way is not an export.
        ledger.append(
            [export_recorded(span, fmt=args.format, actor=actor, now=datetime.now(UTC))],
            now=datetime.now(UTC),
        )
    print(
        f"exported entries {span.start}..{span.end - 1} ({span.end - span.start}) against the "
        f"checkpoint of {span.checkpoint.size} entries to {args.out} ({size} bytes)",
        file=out,
    )
    return 0


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise GovernanceError(f"{path}: cannot read {what} ({type(err).__name__})") from None


def _verify(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.note import NoteVerifier
    from governance.verify import verify_export

    key_text = args.public_key
    if Path(key_text).is_file():
        key_text = _read_text(Path(key_text), "public key").strip()
    verifier = NoteVerifier.from_key(key_text)
    previous = (
        _read_text(args.previous_checkpoint, "checkpoint") if args.previous_checkpoint else None
    )
    try:
        with open(args.file, "rb") as lines:
            report = verify_export(lines, verifier, previous)
    except OSError as err:
        raise GovernanceError(f"{args.file}: cannot read ({type(err).__name__})") from None
    if not report.ok:
        for problem in report.problems:
            print(f"{args.file}: {problem}", file=out)
        print(f"{args.file}: NOT VERIFIED ({len(report.problems)} problems)", file=out)
        return 1
    checkpoint = report.checkpoint
    assert checkpoint is not None  # noqa: S101 - ok implies a verified checkpoint
    end = report.from_seq + report.entries - 1
    print(
        f"{args.file}: verified entries {report.from_seq}..{end} ({report.entries}) against "
        f"{checkpoint.origin} checkpoint of {checkpoint.size} entries, root "
        f"{checkpoint.root.hex()}",
        file=out,
    )
    if previous is not None:
        print(f"{args.file}: consistent with {args.previous_checkpoint}", file=out)
    if args.save_checkpoint is not None:
        _write_atomically(args.save_checkpoint, iter([report.checkpoint_note.encode()]))
    return 0


def _public_key(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.workspace import signer_of

    print(signer_of(args).verifier.key(), file=out)
    return 0


def _checkpoint(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.workspace import open_ledger

    with open_ledger(args) as (ledger, signer, witness):
        latest = None if args.fresh else ledger.latest_checkpoint()
        if latest is None:
            latest = ledger.sign_checkpoint(signer, now=datetime.now(UTC), witness=witness)
    out.write(latest.note)
    return 0


def _inclusion(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.workspace import open_ledger

    with open_ledger(args) as (ledger, signer, witness):
        note = None
        size = args.tree_size
        if size is None:
            signed = ledger.checkpoint_at_least(args.seq + 1) or ledger.sign_checkpoint(
                signer, now=datetime.now(UTC), witness=witness
            )
            size, note = signed.size, signed.note
        leaf, proof = ledger.inclusion_proof(args.seq, size)
        ((_, entry),) = list(ledger.entries(args.seq, args.seq + 1))
        root = ledger.root_at(size)
    reply = {
        "seq": args.seq,
        "tree_size": size,
        "leaf_hash": _b64(leaf),
        "proof": [_b64(h) for h in proof],
        "root_hash": _b64(root),
        "entry": json.loads(entry),
        "checkpoint": note,
    }
    print(json.dumps(reply, indent=2, ensure_ascii=False), file=out)
    return 0


def _consistency(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.workspace import open_ledger

    with open_ledger(args) as (ledger, signer, witness):
        note = None
        second = args.second
        if second is None:
            signed = ledger.latest_checkpoint() or ledger.sign_checkpoint(
                signer, now=datetime.now(UTC), witness=witness
            )
            second, note = signed.size, signed.note
        proof = ledger.consistency_proof(args.first, second)
        reply = {
            "first_size": args.first,
            "second_size": second,
            "proof": [_b64(h) for h in proof],
            "first_root_hash": _b64(ledger.root_at(args.first)),
            "second_root_hash": _b64(ledger.root_at(second)),
            "checkpoint": note,
        }
    print(json.dumps(reply, indent=2), file=out)
    return 0
