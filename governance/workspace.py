"""What the governance CLI opens from --data-dir and --database-url: the key provider,
the log store, the ledger and its signer, and the ledger entries its actions leave.

Reading tools never create keys: a missing key file is an error (the sidecar creates
them on first start), not a silent fresh start that would orphan existing data.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from governance.entries import Draft, EntryType, cli_actor
from governance.keyprovider import LocalKeyProvider
from governance.ledger import Ledger
from governance.note import NoteSigner
from governance.store import LogStore, database_url_for
from governance.vault import Vault

__all__ = [
    "WITNESS_FILE",
    "action_entry",
    "open_ledger",
    "open_records",
    "open_store",
    "provider_of",
    "signer_of",
]

# What this host last signed (see Ledger.sign_checkpoint); shared with `sidecar serve`.
WITNESS_FILE = "ledger-checkpoint.note"


def provider_of(args: argparse.Namespace) -> LocalKeyProvider:
    return LocalKeyProvider(args.data_dir / "keys" / "kek.json", create=False)


def signer_of(args: argparse.Namespace) -> NoteSigner:
    return provider_of(args).ledger_signer(create=False)[0]


def open_store(args: argparse.Namespace, provider: LocalKeyProvider) -> LogStore:
    store = LogStore(
        args.database_url or database_url_for(args.data_dir),
        Vault(provider, buckets=provider.bucket_keys()),
    )
    store.migrate()
    return store


@contextmanager
def open_records(args: argparse.Namespace) -> Iterator[tuple[LogStore, Ledger]]:
    """The log store (with bucket keys) and the ledger, sharing one database."""
    provider = provider_of(args)
    signer = provider.ledger_signer(create=False)[0]
    store = open_store(args, provider)
    try:
        yield store, Ledger(store.database, origin=signer.name)
    finally:
        store.close()


@contextmanager
def open_ledger(
    args: argparse.Namespace, provider: LocalKeyProvider | None = None
) -> Iterator[tuple[Ledger, NoteSigner, Path]]:
    """(ledger, its signer, this host's witness file) on the configured database."""
    provider = provider or provider_of(args)
    signer = provider.ledger_signer(create=False)[0]
    store = open_store(args, provider)
    try:
        yield Ledger(store.database, origin=signer.name), signer, args.data_dir / WITNESS_FILE
    finally:
        store.close()


def action_entry(kind: EntryType, body: dict[str, object]) -> Draft:
    """A ledger entry for something an operator did through the CLI."""
    return Draft(kind, datetime.now(UTC), cli_actor(), body)


def record_actions(ledger: Ledger, drafts: Sequence[Draft]) -> list[int]:
    return ledger.append(drafts, now=datetime.now(UTC))
