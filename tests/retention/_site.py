"""One retention test site: a data dir laid out like `sidecar serve` makes it, a log store
on SQLite or PostgreSQL, the audit ledger on the same database, and seeding through the
journal (so every record has its `record_written` entry).

Plain Python, no pytest: the crash children (tests/retention/_child.py) open the same
site from its data dir and URL.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from governance.entries import Draft, EntryType
from governance.export import jsonl_lines, plan_export
from governance.journal import Journal, Unit
from governance.keyfile import load_or_create_key
from governance.keyprovider import LocalKeyProvider
from governance.ledger import Ledger
from governance.note import NoteSigner
from governance.policy import Policies, load_policies
from governance.retention import Sweeper
from governance.shredkeys import BucketKeys, bucket_id
from governance.store import (
    LogStore,
    NewRecord,
    OpenedRecord,
    UnreadableRecord,
    subject_token,
)
from governance.vault import Vault
from governance.verify import Report, verify_export

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # records are written on this day and after
WRITER = "test-writer"
SWEEPER = "test-sweeper"


def policies_text(
    *,
    classes: str = (
        "    inference_logs: {keep: 30d, tenants: {acme: 90d}}\n    app_logs: {keep: 7d}\n"
    ),
    holds: str = "",
    extra: str = "",
) -> str:
    """A small policies.yaml: the given retention classes (indented 4), holds (indented 4,
    list items) and further retention settings (indented 2)."""
    hold_block = f"  holds:\n{holds}" if holds else ""
    return (
        "version: retention-test\n"
        "default: p\n"
        "retention:\n"
        "  classes:\n"
        f"{classes}"
        f"{hold_block}"
        f"{extra}"
        "policies:\n"
        "  p:\n"
        "    detection: {entities: [PERSON]}\n"
        "    inference: {retention_class: inference_logs}\n"
        "    app_logs: {retention_class: app_logs}\n"
    )


def load(text_: str) -> Policies:
    return load_policies(text_, source="policies.yaml")


@dataclass(frozen=True)
class Spec:
    """A record to write: placement, expiry (or `keep` from the database's clock), subject."""

    tenant: str
    retention_class: str
    created_at: datetime
    expires_at: datetime
    subject: str | None = None
    keep: timedelta | None = None


@dataclass(frozen=True)
class Seeded:
    """A record the test wrote: where it went and when it expires."""

    record_id: str
    tenant: str
    retention_class: str
    created_at: datetime
    expires_at: datetime

    @property
    def bucket(self) -> str:
        return self.created_at.strftime("%Y-%m-%d")

    @property
    def scope(self) -> tuple[str, str, str]:
        return (self.tenant, self.retention_class, self.bucket)


@dataclass
class Site:
    """A data dir, its keys and a store + ledger on one database (SQLite or PostgreSQL)."""

    kind: str
    url: str
    data_dir: Path
    store: LogStore = field(init=False)
    ledger: Ledger = field(init=False)
    signer: NoteSigner = field(init=False)
    subject_key: bytes = field(init=False)
    seeded: dict[str, Seeded] = field(default_factory=dict)
    _raw: Engine | None = None
    _stores: list[LogStore] = field(default_factory=list)

    def __post_init__(self) -> None:
        keys = self.data_dir / "keys"
        provider = LocalKeyProvider(keys / "kek.json")
        self.signer = provider.ledger_signer()[0]
        self.subject_key = load_or_create_key(keys / "subject.key")
        load_or_create_key(keys / "hmac.key")
        self.store = self.open_store()
        self.store.migrate()
        self.ledger = Ledger(self.store.database, origin=self.signer.name)

    # -- opening ---------------------------------------------------------------------------

    @property
    def bucket_keys_path(self) -> Path:
        return self.data_dir / "keys" / "bucket-keys.json"

    def open_store(self, url: str | None = None) -> LogStore:
        """A fresh LogStore (own key cache, bucket keys re-read from the file) on `url`."""
        provider = LocalKeyProvider(self.data_dir / "keys" / "kek.json", create=False)
        store = LogStore(url or self.url, Vault(provider, buckets=provider.bucket_keys()))
        self._stores.append(store)
        return store

    def sweeper(
        self, policies: Policies, *, step: Callable[[str], None] = lambda name: None
    ) -> Sweeper:
        return Sweeper(self.store, self.ledger, policies, actor=SWEEPER, step=step)

    def close(self) -> None:
        for store in self._stores:
            store.close()
        if self._raw is not None:
            self._raw.dispose()
            self._raw = None

    # -- seeding ---------------------------------------------------------------------------

    def token(self, subject: str) -> str:
        return subject_token(self.subject_key, subject)

    def write(
        self,
        tenant: str,
        retention_class: str,
        created_at: datetime,
        expires_at: datetime,
        *,
        count: int = 1,
        subject: str | None = None,
        keep: timedelta | None = None,
    ) -> list[Seeded]:
        """`count` records in one journal commit, each with its record_written entry."""
        spec = Spec(tenant, retention_class, created_at, expires_at, subject, keep)
        return self.write_all([spec] * count)

    def write_all(self, specs: Sequence[Spec]) -> list[Seeded]:
        """One record per spec, all in one journal commit."""
        units = [
            Unit(
                NewRecord(
                    spec.tenant,
                    spec.retention_class,
                    "inference",
                    "model-1",
                    spec.created_at,
                    spec.expires_at,
                    json.dumps({"n": len(self.seeded) + i, "tenant": spec.tenant}).encode(),
                    subject_token=None if spec.subject is None else self.token(spec.subject),
                    keep=spec.keep,
                )
            )
            for i, spec in enumerate(specs)
        ]
        journal = Journal(self.store, self.ledger, actor=WRITER, clock=lambda: datetime.now(UTC))
        committed = journal.commit(units)
        made = []
        for spec, done in zip(specs, committed, strict=True):
            assert done.record_id is not None
            stored = self.expires_of(done.record_id)
            seeded = Seeded(
                done.record_id, spec.tenant, spec.retention_class, spec.created_at, stored
            )
            self.seeded[done.record_id] = seeded
            made.append(seeded)
        return made

    # -- looking -------------------------------------------------------------------------

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Raw SQL in its own transaction on a separate engine; rows if any."""
        if self._raw is None:
            self._raw = create_engine(self.url)
        with self._raw.begin() as connection:
            result = connection.execute(text(sql), params)
            return list(result) if result.returns_rows else []

    def expires_of(self, record_id: str) -> datetime:
        (row,) = self.execute(
            "SELECT expires_us FROM log_records WHERE record_id = :id", id=record_id
        )
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(row[0]))

    def record_ids(self) -> set[str]:
        return {str(row[0]) for row in self.execute("SELECT record_id FROM log_records")}

    def opened(self) -> dict[str, OpenedRecord | UnreadableRecord]:
        """Every stored record read through a fresh store: opened or unreadable, by id."""
        store = self.open_store()
        return {r.record_id: r for r in store.read()}

    def entries(self, kind: EntryType | str | None = None) -> list[dict[str, Any]]:
        """Every ledger entry still stored (from the first one not pruned), parsed."""
        size = self.ledger.state().size
        start = self.ledger.first_unpruned()
        parsed = [json.loads(entry) for _, entry in self.ledger.entries(start, size)]
        return [e for e in parsed if kind is None or e["type"] == str(kind)]

    def deleted_ids(self) -> list[str]:
        """Every record id named by a retention_deletion entry, in ledger order."""
        ids: list[str] = []
        for entry in self.entries(EntryType.RETENTION_DELETION):
            assert entry["count"] == len(entry["record_ids"])
            ids += entry["record_ids"]
        return ids

    def deletion_counts(self) -> Counter[tuple[str, str, str]]:
        counts: Counter[tuple[str, str, str]] = Counter()
        for entry in self.entries(EntryType.RETENTION_DELETION):
            counts[(entry["tenant"], entry["retention_class"], entry["bucket"])] += entry["count"]
        return counts

    def live_buckets(self) -> set[str]:
        return BucketKeys(self.bucket_keys_path).live()

    def bucket_file(self) -> dict[str, str | None]:
        buckets: dict[str, str | None] = json.loads(self.bucket_keys_path.read_bytes())["buckets"]
        return buckets

    def expire_lease(self) -> None:
        """Make the sweeper lease look expired, as five minutes after a crash would."""
        self.execute("UPDATE sweeper_lease SET until_us = 1 WHERE id = 1")

    # -- the auditor's view --------------------------------------------------------------

    def export(self) -> list[bytes]:
        now = datetime.now(UTC)
        span = plan_export(self.ledger, self.signer, now=now)
        return list(jsonl_lines(self.ledger, span, now=now, actor="test-auditor"))

    def verify(self, lines: Sequence[bytes] | None = None) -> Report:
        """A full export (from the first entry not pruned) checked offline with the
        retention check on."""
        return verify_export(
            lines if lines is not None else self.export(),
            self.signer.verifier,
            expected_range=(self.ledger.first_unpruned(), None),
            retention=True,
        )

    def check(self) -> Report:
        """verify(), which must find nothing wrong."""
        report = self.verify()
        assert report.ok, report.problems
        assert report.retention is not None
        return report

    def append(self, kind: EntryType, body: dict[str, object]) -> None:
        """An entry appended behind the sweeper's back (a forgery, for the checks)."""
        now = datetime.now(UTC)
        self.ledger.append([Draft(kind, now, "forger", body)], now=now)


def scope_id(seeded: Seeded) -> str:
    return bucket_id(*seeded.scope)


# -- a sweep scenario shared by the crash and lease tests ----------------------------------

SCENARIO_NOW = T0 + timedelta(days=40)  # 2026-07-11T08:00Z
SCENARIO_POLICIES = policies_text(
    holds="    - {name: globex-hold, tenant: globex, reason: litigation, approver: legal}\n",
    extra="  batch_size: 4\n",
)


@dataclass(frozen=True)
class Scenario:
    """What a complete sweep at SCENARIO_NOW must do to the records seeded for it."""

    expired: frozenset[str]  # unheld and expired: deleted exactly once
    kept: frozenset[str]  # unexpired or held: untouched
    shredded: tuple[tuple[str, str, str], ...]  # buckets whose keys and secrets go


def seed_scenario(site: Site) -> Scenario:
    """11 expired records (3 batches of at most 4) in 3 buckets, 2 of them wholly
    expired; 4 unexpired records; 2 expired but held."""
    day = timedelta(days=1)
    gone = site.write_all(
        [Spec("beta", "inference_logs", T0, T0 + 30 * day)] * 6
        + [Spec("beta", "app_logs", T0 + 2 * day, T0 + 9 * day)] * 3
        + [Spec("gamma", "inference_logs", T0, T0 + 30 * day)] * 2
    )
    kept = site.write_all(
        [Spec("gamma", "inference_logs", T0, T0 + 90 * day)]
        + [Spec("acme", "inference_logs", T0, T0 + 90 * day)] * 3
        + [Spec("globex", "app_logs", T0, T0 + 7 * day)] * 2
    )
    return Scenario(
        frozenset(r.record_id for r in gone),
        frozenset(r.record_id for r in kept),
        (("beta", "app_logs", "2026-06-03"), ("beta", "inference_logs", "2026-06-01")),
    )


def check_scenario_done(site: Site, scenario: Scenario) -> None:
    """Every expired record deleted exactly once across the ledger, nothing else touched,
    the shredded buckets' keys destroyed once (database and key file), and a full export
    that verifies with the retention check."""
    deleted = site.deleted_ids()
    assert len(deleted) == len(set(deleted)), "a record was counted twice"
    assert set(deleted) == scenario.expired
    assert sum(e["count"] for e in site.entries(EntryType.RETENTION_DELETION)) == len(
        scenario.expired
    )
    assert site.record_ids() == scenario.kept
    opened = site.opened()
    assert all(isinstance(r, OpenedRecord) for r in opened.values()), opened
    for record_id in scenario.kept:
        seeded = site.seeded[record_id]
        assert site.expires_of(record_id) == seeded.expires_at

    destroyed = site.entries(EntryType.KEY_DESTROYED)
    scopes = sorted((e["tenant"], e["retention_class"], e["bucket"]) for e in destroyed)
    assert scopes == sorted(scenario.shredded)
    key_ids = [k for e in destroyed for k in e["key_ids"]]
    assert len(key_ids) == len(set(key_ids))
    by_scope = {
        str(k["key_id"]): (k["tenant"], k["retention_class"], k["bucket"], k["destroyed"])
        for k in site.store.data_keys()
    }
    for key_id, (tenant, retention_class, bucket, gone) in by_scope.items():
        assert gone == ((tenant, retention_class, bucket) in scenario.shredded), key_id
    assert set(key_ids) == {k for k, v in by_scope.items() if v[3]}
    buckets = site.bucket_file()
    for scope in scenario.shredded:
        assert buckets[bucket_id(*scope)] is None
    assert site.live_buckets() == {bucket_id(*site.seeded[r].scope) for r in scenario.kept} | {
        bucket_id(*site.seeded[r].scope)
        for r in scenario.expired
        if site.seeded[r].scope not in scenario.shredded
    }

    report = site.verify()
    assert report.ok, report.problems
    assert report.retention is not None
    assert report.retention.receipts == len(scenario.expired)
    assert report.retention.sweeps >= 1
