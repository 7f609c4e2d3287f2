"""`governance retention ...` and `governance erase`: retention on demand, and erasure of
one data subject.

    governance retention run [--dry-run] [--now ISO8601]
    governance retention apply-policy        re-fix every record's expiry from policies.yaml
    governance erase --subject ID [--tenant X]

Every action is recorded in the audit ledger (a dry run records only a
`retention_dry_run` entry). The subject id is turned into its keyed token here and never
printed, stored or recorded.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import IO

from governance.entries import cli_actor
from governance.errors import GovernanceError

__all__ = ["register"]

Command = Callable[[argparse.Namespace, IO[str]], int]


def register(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]  # argparse's private generic
    common: argparse.ArgumentParser,
    timestamp: Callable[[str], datetime],
) -> dict[tuple[str, str], Command]:
    retention = sub.add_parser("retention", help="retention sweeps").add_subparsers(
        dest="action", required=True
    )
    run = retention.add_parser("run", parents=[common], help="delete what has expired")
    run.add_argument("--dry-run", action="store_true", help="report only; delete nothing")
    run.add_argument(
        "--now", type=timestamp, help="evaluate at this time (default: the database's)"
    )
    retention.add_parser(
        "apply-policy", parents=[common], help="re-fix expiry of existing records from the policy"
    )
    erase = sub.add_parser("erase", parents=[common], help="erase one data subject's records")
    erase.add_argument("--subject", required=True, help="the subject id the service sent")
    erase.add_argument("--tenant", help="only this tenant's records")
    erase.set_defaults(action="subject")
    return {
        ("retention", "run"): _run,
        ("retention", "apply-policy"): _apply_policy,
        ("erase", "subject"): _erase,
    }


def _run(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.policy import load_policies_file
    from governance.retention import Sweeper
    from governance.workspace import open_records

    policies = load_policies_file(args.policies)
    with open_records(args) as (store, ledger):
        sweeper = Sweeper(store, ledger, policies, actor=cli_actor())
        report = sweeper.run(now=args.now, dry_run=args.dry_run)
    if report.busy:
        print("another sweeper is running; nothing done", file=out)
        return 1
    verb = "would delete" if args.dry_run else "deleted"
    for tenant, retention_class, bucket, held, count in report.counts:
        state = "held" if held else verb
        print(f"{tenant}\t{retention_class}\t{bucket}\t{state}\t{count}", file=out)
    deleted = (
        sum(n for *_, held, n in report.counts if not held) if args.dry_run else report.deleted
    )
    print(
        f"{verb} {deleted} records, {report.held} held, "
        f"{'would shred' if args.dry_run else 'shredded'} {len(report.buckets_shredded)} buckets "
        f"(evaluated at {report.now.isoformat()})",
        file=out,
    )
    return 0


def _apply_policy(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.policy import load_policies_file
    from governance.retention import Sweeper
    from governance.workspace import open_records

    policies = load_policies_file(args.policies)
    with open_records(args) as (store, ledger):
        changed = Sweeper(store, ledger, policies, actor=cli_actor()).apply_policy()
    print(f"{changed} records got a new expiry under {policies.file_version}", file=out)
    return 0


def _erase(args: argparse.Namespace, out: IO[str]) -> int:
    from governance.policy import load_policies_file
    from governance.retention import Sweeper
    from governance.store import subject_token
    from governance.workspace import open_records

    key_path = args.data_dir / "keys" / "subject.key"
    try:
        key = key_path.read_bytes()
    except OSError as err:
        raise GovernanceError(f"{key_path}: cannot read ({type(err).__name__})") from None
    policies = load_policies_file(args.policies)
    with open_records(args) as (store, ledger):
        erasure = Sweeper(store, ledger, policies, actor=cli_actor()).erase(
            token=subject_token(key, args.subject), tenant=args.tenant
        )
    print(f"erased {len(erasure.deleted)} records", file=out)
    for hold, count in sorted(erasure.held.items()):
        print(f"kept {count} records under legal hold {hold}", file=out)
    return 0
