"""Store fixtures: a real throwaway PostgreSQL server, and one database per test.

`postgres` starts Debian's PostgreSQL binaries once per session with tests/pgserver.py
(through `runuser -u postgres` when the tests run as root, since PostgreSQL refuses to run
as root) and always stops it. `database` is parametrised over SQLite and PostgreSQL, so
every test that takes `store` (or `database`) runs on both back-ends; each PostgreSQL test
gets a fresh database. `database.execute()` reaches the rows behind the store's back, for
tampering.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, create_engine, text

from governance.keyprovider import LocalKeyProvider
from governance.store import LogStore, database_url_for
from governance.vault import Vault
from tests.pgserver import PgServer
from tests.pgserver import free_port as free_port  # re-exported: test_store.py imports it


@dataclass
class Database:
    """One test's database, SQLite file or PostgreSQL database, and its raw access."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    tmp_path: Path
    server: PgServer | None = None
    name: str | None = None
    stores: list[LogStore] = field(default_factory=list)
    _raw: Engine | None = None
    _copies: list[str] = field(default_factory=list)

    def open(self, vault: Vault, url: str | None = None) -> LogStore:
        """A migrated LogStore on this database (or on `url`), disposed at teardown."""
        store = LogStore(url or self.url, vault)
        self.stores.append(store)
        store.migrate()
        return store

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Run raw SQL in its own transaction on a separate engine; rows if any."""
        if self._raw is None:
            self._raw = create_engine(self.url)
        with self._raw.begin() as connection:
            result = connection.execute(text(sql), params)
            return list(result) if result.returns_rows else []

    def snapshot(self) -> str:
        """A consistent copy of the database as it is now (a backup); returns its URL."""
        if self.kind == "sqlite":
            target = self.tmp_path / "backup" / "sidecar.db"
            target.parent.mkdir()
            with (
                contextlib.closing(sqlite3.connect(self.url.removeprefix("sqlite:///"))) as src,
                contextlib.closing(sqlite3.connect(target)) as dst,
            ):
                src.backup(dst)
            return f"sqlite:///{target}"
        assert self.server is not None
        # CREATE DATABASE ... TEMPLATE needs the source idle: drop our pooled connections.
        self._dispose()
        copy = f"c_{uuid.uuid4().hex}"
        with self.server.admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(copy), sql.Identifier(str(self.name))
                )
            )
        self._copies.append(copy)
        return self.server.url(copy)

    def at_rest(self) -> Iterator[tuple[str, bytes]]:
        """(source, bytes) of everything this database keeps: files, and for PostgreSQL
        every column of every table plus the cluster's files after a checkpoint."""
        if self.kind == "sqlite":
            for path in sorted(self.tmp_path.glob("sidecar.db*")):
                yield str(path), path.read_bytes()
            return
        assert self.server is not None
        with psycopg.connect(
            host="127.0.0.1", port=self.server.port, user="postgres", dbname=self.name
        ) as connection:
            columns = connection.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
            ).fetchall()
            assert columns, "no tables in the store's database"
            for table, column, data_type in columns:
                if data_type == "bytea":
                    template = "SELECT encode({}, 'hex') FROM {}"
                else:
                    template = "SELECT {}::text FROM {}"
                query = sql.SQL(template).format(sql.Identifier(column), sql.Identifier(table))
                for (value,) in connection.execute(query):
                    if value is None:
                        continue
                    raw = bytes.fromhex(value) if data_type == "bytea" else value.encode()
                    yield f"{table}.{column}", raw
        with self.server.admin() as admin:
            admin.execute("CHECKPOINT")  # write shared buffers out to the data files
        for path in sorted(self.server.root.rglob("*")):
            if path.is_file():
                with contextlib.suppress(OSError):  # files may vanish while we walk
                    yield str(path), path.read_bytes()

    def _dispose(self) -> None:
        for store in self.stores:
            store.close()
        if self._raw is not None:
            self._raw.dispose()
            self._raw = None

    def close(self) -> None:
        self._dispose()
        if self.server is not None:
            with self.server.admin() as admin:
                for name in [self.name, *self._copies]:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(str(name))
                        )
                    )


class Databases:
    """Creates databases of either kind for one test and closes them all afterwards."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self._request = request
        self._tmp_path = tmp_path
        self._made: list[Database] = []

    def create(self, kind: str) -> Database:
        if kind == "sqlite":
            database = Database(kind, database_url_for(self._tmp_path), self._tmp_path)
        elif kind == "postgresql":
            server: PgServer = self._request.getfixturevalue("postgres")
            name = f"t_{uuid.uuid4().hex}"
            url = server.create_database(name)
            database = Database(kind, url, self._tmp_path, server, name)
        else:
            raise ValueError(kind)
        self._made.append(database)
        return database

    def close(self) -> None:
        for database in self._made:
            database.close()


@pytest.fixture
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    made = Databases(request, tmp_path)
    yield made
    made.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, databases: Databases) -> Database:
    """The test's database on each back-end in turn: this parametrises `store`."""
    kind: str = request.param
    return databases.create(kind)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "kek.json"


@pytest.fixture
def provider(key_file: Path) -> LocalKeyProvider:
    return LocalKeyProvider(key_file)


@pytest.fixture
def vault(provider: LocalKeyProvider) -> Vault:
    return Vault(provider)


@pytest.fixture
def store(database: Database, vault: Vault) -> LogStore:
    """A migrated LogStore on SQLite and on PostgreSQL (via `database`), disposed after."""
    return database.open(vault)
