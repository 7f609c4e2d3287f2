"""`governance ledger ...`: the audit ledger for compliance officers and auditors.

    governance ledger export [--from-seq N] [--to-seq M | --since T] [--format jsonl|csv]
                             [--consistency-from SIZE ...] --out FILE
    governance ledger verify FILE --public-key KEY [--previous-checkpoint CP]
                             [--save-checkpoint FILE] [--from-seq N] [--to-seq M | --partial]
                             offline: no database, no secrets (also `python -m
                             governance.verify`, which needs only `cryptography`)
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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO

from governance.errors import GovernanceError
from governance.keyfile import write_atomically
from governance.verify import add_arguments as add_verify_arguments

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
    add_verify_arguments(verify)
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


def _export(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.entries import cli_actor
    from governance.export import (
        check_consistency_from,
        csv_lines,
        export_recorded,
        jsonl_lines,
        plan_export,
    )
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
        check_consistency_from(span, args.consistency_from)
        lines = (
            jsonl_lines(ledger, span, now=now, actor=actor, consistency_from=args.consistency_from)
            if args.format == "jsonl"
            else csv_lines(ledger, span)
        )

        def record() -> None:
            # Once the file can be written and before a byte is: an export cut short is
            # still an export.
            entry = export_recorded(span, fmt=args.format, actor=actor, now=datetime.now(UTC))
            ledger.append([entry], now=datetime.now(UTC))

        size = write_atomically(args.out, lines, opened=record, mode=0o644, parents=False)
    print(
        f"exported entries {span.start}..{span.end - 1} ({span.end - span.start}) against the "
        f"checkpoint of {span.checkpoint.size} entries to {args.out} ({size} bytes)",
        file=out,
    )
    return 0


def _verify(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.verify import run

    return run(args, out)


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
        current = ledger.state().size
        if args.seq >= current:  # before signing anything
            raise GovernanceError(f"the ledger has {current} entries; no entry {args.seq}")
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
