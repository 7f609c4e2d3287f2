"""`governance`: tools for security teams and compliance officers.

    governance policy check [FILE]          parse policies.yaml; print each policy's version
    governance keys list                    KEK versions and data keys (no key material)
    governance keys rotate [--stage S]      two-phase KEK rotation: add, then promote and
                                            re-wrap every data key (both by default)
    governance keys retire VERSION          destroy an old KEK version's key material
    governance logs read [--since T] [--until T] [--tenant X] [--model M]
                         [--format jsonl|csv]   decrypt retained log records
    governance ledger ...                   export, verify and prove the audit ledger
                                            (cli_ledger.py)
    governance retention run|apply-policy   retention sweeps on demand (cli_retention.py)
    governance erase --subject ID           erase one data subject's records

Key changes and log reads are recorded in the audit ledger (actor cli:<user>@<host>).

Every subcommand takes --data-dir DIR (default ./var, as `sidecar serve`),
--database-url URL, --policies FILE and --out FILE, anywhere after the subcommand.
Exit codes: 0 ok, 1 a failed check or operation (message names the key, line, file or
record id), 2 usage. Tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from governance import cli_ledger, cli_retention
from governance.entries import EntryType, iso_utc
from governance.errors import GovernanceError
from governance.export import spreadsheet_cell
from governance.policy import load_policies_file
from governance.store import OpenedRecord
from governance.workspace import action_entry, open_ledger, open_store, provider_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["main"]


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=Path("var"), help="data directory")
    common.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in data dir)")
    common.add_argument("--policies", type=Path, default=Path("policies.yaml"))
    common.add_argument("--out", type=Path, help="write here instead of stdout")
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    return common


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "must be an ISO 8601 time, e.g. 2026-11-25T12:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="governance", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    policy = sub.add_parser("policy", help="policies.yaml tools").add_subparsers(
        dest="action", required=True
    )
    check = policy.add_parser("check", parents=[common], help="validate a policies file")
    check.add_argument("file", nargs="?", type=Path, help="default: --policies")

    keys = sub.add_parser("keys", help="key-encryption and data keys").add_subparsers(
        dest="action", required=True
    )
    keys.add_parser("list", parents=[common], help="KEK versions and data keys")
    rotate = keys.add_parser("rotate", parents=[common], help="rotate the KEK")
    rotate.add_argument(
        "--stage",
        choices=("add", "promote", "all"),
        default="all",
        help="add: new version (replicas can unwrap with it); promote: make the newest "
        "primary and re-wrap every data key; all: both (default)",
    )
    retire = keys.add_parser("retire", parents=[common], help="destroy an old KEK version")
    retire.add_argument("version", type=int)

    logs = sub.add_parser("logs", help="retained log records").add_subparsers(
        dest="action", required=True
    )
    read = logs.add_parser("read", parents=[common], help="decrypt log records")
    read.add_argument("--since", type=_timestamp, help="created at or after (ISO 8601)")
    read.add_argument("--until", type=_timestamp, help="created before (ISO 8601)")
    read.add_argument("--tenant")
    read.add_argument("--model")
    read.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    _COMMANDS.update(cli_ledger.register(sub, common, _timestamp))
    _COMMANDS.update(cli_retention.register(sub, common, _timestamp))
    return parser


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    try:
        with path.open("w", encoding="utf-8", newline="") as out:
            yield out
    except OSError as err:
        raise GovernanceError(f"{path}: cannot write ({type(err).__name__})") from None


def _policy_check(args: argparse.Namespace, out: IO[str]) -> int:
    file = args.file or args.policies
    policies = load_policies_file(file)
    print(f"{file}: ok, version {policies.version}, sha256 {policies.digest}", file=out)
    for name, policy in sorted(policies.policies.items()):
        marker = " (default)" if name == policies.default_name else ""
        entities = ", ".join(policy.detection.entities)
        print(f"  {name}{marker}: {policy.policy_version}; entities: {entities}", file=out)
    return 0


def _keys_list(args: argparse.Namespace, out: IO[str]) -> int:
    provider = provider_of(args)
    primary = provider.primary_version()
    for version in provider.versions():
        mark = " (primary)" if version.version == primary else ""
        print(
            f"kek v{version.version}{mark}: {version.state}, created {version.created_at}", file=out
        )
    store = open_store(args, provider)
    try:
        for key in store.data_keys():
            state = "destroyed" if key["destroyed"] else f"kek v{key['kek_version']}"
            print(
                f"dek {key['key_id']}: {key['tenant']}/{key['retention_class']}/{key['bucket']}"
                f" gen {key['generation']}, {key['messages']} records, {state}",
                file=out,
            )
    finally:
        store.close()
    return 0


def _keys_rotate(args: argparse.Namespace, out: IO[str]) -> int:
    provider = provider_of(args)
    with open_ledger(args, provider) as (ledger, _, _):
        if args.stage in ("add", "all"):
            version = provider.add_version()
            ledger.append(
                [action_entry(EntryType.KEY_CREATED, {"key": "kek", "kek_version": version})],
                now=datetime.now(UTC),
            )
            print(f"kek v{version} added; primary is still v{provider.primary_version()}", file=out)
        if args.stage in ("promote", "all"):
            newest = max(v.version for v in provider.versions() if v.state == "active")
            provider.promote(newest)
            store = open_store(args, provider)
            try:

                def rewrap(session: Session) -> int:
                    changed = store.rewrap_in(session)
                    entry = {"key": "kek", "kek_version": newest, "rewrapped_data_keys": changed}
                    ledger.append_in(
                        session, [action_entry(EntryType.KEY_ROTATED, entry)], now=datetime.now(UTC)
                    )
                    return changed

                changed = store.database.write(rewrap)
            finally:
                store.close()
            print(f"kek v{newest} is primary; {changed} data keys re-wrapped", file=out)
    return 0


def _keys_retire(args: argparse.Namespace, out: IO[str]) -> int:
    provider = provider_of(args)
    store = open_store(args, provider)
    try:
        still = [
            k["key_id"]
            for k in store.data_keys()
            if not k["destroyed"] and k["kek_version"] == args.version
        ]
    finally:
        store.close()
    if still:
        raise GovernanceError(
            f"kek v{args.version} still wraps {len(still)} data keys (first {still[0]}); "
            "run `governance keys rotate --stage promote` first"
        )
    with open_ledger(args, provider) as (ledger, _, _):
        # Recorded first: key material destroyed without its ledger entry is unaccounted for.
        entry = action_entry(EntryType.KEY_DESTROYED, {"key": "kek", "kek_version": args.version})
        ledger.append([entry], now=datetime.now(UTC))
        provider.retire(args.version)
    print(f"kek v{args.version} retired (key material destroyed)", file=out)
    return 0


_FIELDS = ("record_id", "tenant", "retention_class", "kind", "model", "created_at", "expires_at")


def _record_row(record: OpenedRecord) -> dict[str, Any]:
    try:
        body: Any = json.loads(record.plaintext)
    except ValueError:
        body = record.plaintext.decode("utf-8", "replace")
    return {
        "record_id": record.record_id,
        "tenant": record.tenant,
        "retention_class": record.retention_class,
        "kind": record.kind,
        "model": record.model,
        "created_at": record.created_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "record": body,
    }


def _logs_read(args: argparse.Namespace, out: IO[str]) -> int:
    provider = provider_of(args)
    store = open_store(args, provider)
    try:
        found = list(
            store.read(since=args.since, until=args.until, tenant=args.tenant, model=args.model)
        )
    finally:
        store.close()
    opened = [r for r in found if isinstance(r, OpenedRecord)]
    failed = [r for r in found if not isinstance(r, OpenedRecord)]
    query = {"since": args.since, "until": args.until, "tenant": args.tenant, "model": args.model}
    read = {
        "filter": {k: iso_utc(v) if isinstance(v, datetime) else v for k, v in query.items() if v},
        "count": len(opened),
        "unreadable": len(failed),
        "format": args.format,
    }
    # Recorded before anything is shown: a read cut short is still a read.
    with open_ledger(args, provider) as (ledger, _, _):
        ledger.append([action_entry(EntryType.RECORDS_READ, read)], now=datetime.now(UTC))
    for unreadable in failed:
        print(f"record {unreadable.record_id}: {unreadable.reason}", file=sys.stderr)
    writer = csv.writer(out) if args.format == "csv" else None
    if writer is not None:
        writer.writerow([*_FIELDS, "record"])
    for record in opened:
        row = _record_row(record)
        if writer is not None:
            cells = [*(row[f] for f in _FIELDS), json.dumps(row["record"], sort_keys=True)]
            writer.writerow([spreadsheet_cell(cell) for cell in cells])
        else:
            print(json.dumps(row, sort_keys=True, ensure_ascii=False), file=out)
    if failed:
        print(f"governance: {len(failed)} records could not be read", file=sys.stderr)
        return 1
    return 0


_COMMANDS: dict[tuple[str, str], cli_ledger.Command] = {
    ("policy", "check"): _policy_check,
    ("keys", "list"): _keys_list,
    ("keys", "rotate"): _keys_rotate,
    ("keys", "retire"): _keys_retire,
    ("logs", "read"): _logs_read,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = _COMMANDS[(args.command, args.action)]
    try:
        if (args.command, args.action) == ("ledger", "export"):  # --out is the export itself
            return command(args, sys.stdout)
        with _output(args.out) as out:
            return command(args, out)
    except GovernanceError as err:
        if args.debug:
            raise
        print(f"governance: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
