"""Upgrading a database written by an earlier release: v1 (sealed records and data keys
only) becomes the current schema with its data intact."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from governance.database import SCHEMA_VERSION
from governance.keyprovider import LocalKeyProvider
from governance.store import LogStore, NewRecord, OpenedRecord, database_url_for
from governance.vault import Vault
from tests.pgserver import PgServer

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# The v1 log_records table, as the encrypted log store release created it.
V1_LOG_RECORDS = """
CREATE TABLE log_records (
    record_id VARCHAR(32) NOT NULL PRIMARY KEY,
    tenant VARCHAR(128) NOT NULL,
    retention_class VARCHAR(64) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    model VARCHAR(128) NOT NULL,
    created_us BIGINT NOT NULL,
    expires_us BIGINT NOT NULL,
    key_id VARCHAR(32) NOT NULL REFERENCES data_keys (key_id),
    sealed BYTEA NOT NULL,
    subject_token VARCHAR(64)
)"""
V1_DATA_KEYS = """
CREATE TABLE data_keys (
    key_id VARCHAR(32) NOT NULL PRIMARY KEY,
    tenant VARCHAR(128) NOT NULL,
    retention_class VARCHAR(64) NOT NULL,
    bucket VARCHAR(16) NOT NULL,
    generation INTEGER NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped BYTEA,
    messages BIGINT NOT NULL,
    created_us BIGINT NOT NULL,
    destroyed_us BIGINT,
    UNIQUE (tenant, retention_class, bucket, generation)
)"""


def _record(n: int, **extra: object) -> NewRecord:
    return NewRecord(
        "acme",
        "inference_logs",
        "inference",
        "m",
        T0 + timedelta(minutes=n),
        T0 + timedelta(days=30),
        f'{{"n": {n}}}'.encode(),
        **extra,  # type: ignore[arg-type]  # keep= for records written after the upgrade
    )


def _upgrade_and_use(url: str, tmp_path: Path) -> None:
    provider = LocalKeyProvider(tmp_path / "keys" / "kek.json")
    store = LogStore(url, Vault(provider, buckets=provider.bucket_keys()))
    try:
        assert store.migrate() == SCHEMA_VERSION
        assert store.migrate() == SCHEMA_VERSION  # idempotent
        ids = store.put([_record(1), _record(2, keep=timedelta(days=7))])
        opened = [r for r in store.read() if isinstance(r, OpenedRecord)]
        assert sorted(r.record_id for r in opened) == sorted(ids)
    finally:
        store.close()


def test_v1_sqlite_database_upgrades_and_takes_new_records(tmp_path: Path) -> None:
    """A v1 SQLite file gains written_us and the expiry-order index; writes and reads work."""
    path = tmp_path / "sidecar.db"
    with sqlite3.connect(path) as db:
        for statement in (V1_DATA_KEYS, V1_LOG_RECORDS):
            db.execute(statement.replace("BYTEA", "BLOB"))
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY)")
        db.execute("INSERT INTO schema_version (version) VALUES (1)")
    _upgrade_and_use(database_url_for(tmp_path), tmp_path)
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(log_records)")}
        indexes = {row[1] for row in db.execute("PRAGMA index_list(log_records)")}
        version = db.execute("SELECT version FROM schema_version").fetchone()[0]
    assert "written_us" in columns
    assert "ix_log_records_expires_us" in indexes
    assert version == SCHEMA_VERSION


@pytest.mark.usefixtures("postgres")
def test_v1_postgresql_database_upgrades_and_takes_new_records(
    postgres: PgServer, tmp_path: Path
) -> None:
    """The same upgrade on PostgreSQL."""
    url = postgres.create_database("migration_v1")
    with psycopg.connect(
        host="127.0.0.1", port=postgres.port, user="postgres", dbname="migration_v1"
    ) as db:
        for statement in (V1_DATA_KEYS, V1_LOG_RECORDS):
            db.execute(statement)
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY)")
        db.execute("INSERT INTO schema_version (version) VALUES (1)")
    _upgrade_and_use(url, tmp_path)
    with psycopg.connect(
        host="127.0.0.1", port=postgres.port, user="postgres", dbname="migration_v1"
    ) as db:
        columns = {
            row[0]
            for row in db.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'log_records'"
            )
        }
        indexes = {
            row[0]
            for row in db.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'log_records'"
            )
        }
        version = db.execute("SELECT version FROM schema_version").fetchone()
    assert "written_us" in columns
    assert "ix_log_records_expires_us" in indexes
    assert version == (SCHEMA_VERSION,)
