"""Store fixtures: a real throwaway PostgreSQL server, and one database per test.

`postgres` starts Debian's PostgreSQL binaries once per session (through `runuser -u
postgres` when the tests run as root, since PostgreSQL refuses to run as root) and always
stops it. `database` is parametrised over SQLite and PostgreSQL, so every test that takes
`store` (or `database`) runs on both back-ends; each PostgreSQL test gets a fresh
database. `database.execute()` reaches the rows behind the store's back, for tampering.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
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

_PG_TOOLS = ("initdb", "pg_ctl", "postgres")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _postgres_bindir() -> Path | None:
    """`pg_config --bindir` if it holds the server tools, else the newest Debian one."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))

    def major(path: str) -> float:
        version = Path(path).parent.name
        try:
            return float(version)
        except ValueError:
            return -1.0

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)
    candidates.extend(Path(p) for p in debian)
    for candidate in candidates:
        if all(os.access(candidate / tool, os.X_OK) for tool in _PG_TOOLS):
            return candidate
    return None


@dataclass
class PostgresServer:
    """A running throwaway cluster: trust auth, superuser `postgres`, loopback only."""

    bindir: Path
    root: Path
    port: int
    as_postgres: list[str]

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[Any]:
        """An autocommit connection to the `postgres` maintenance database."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def run(self, *args: str, timeout: float = 60) -> None:
        log = self.root / "ctl.log"
        with log.open("ab") as out:
            done = subprocess.run(
                [*self.as_postgres, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                cwd=self.root,
            )
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{args[0]} exited {done.returncode}:\n{tail}")


def _start_postgres(bindir: Path) -> PostgresServer:
    root = Path(tempfile.mkdtemp(prefix="pgstore-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(bindir, root, free_port(), as_postgres)
    try:
        server.run(
            str(bindir / "initdb"),
            "-D",
            str(server.data_dir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        for _attempt in range(3):
            options = (
                f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c max_connections=50"
            )
            try:
                server.run(
                    str(bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(server.data_dir),
                    "-l",
                    str(root / "server.log"),
                    "-o",
                    options,
                )
                return server
            except RuntimeError:  # most likely the port was taken meanwhile
                server.port = free_port()
        raise RuntimeError("PostgreSQL did not start; see " + str(root / "server.log"))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session, stopped and deleted at the end."""
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.fail(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in `pg_config --bindir`"
            " or /usr/lib/postgresql/*/bin: install Debian's `postgresql` package"
            " (`make test` does so when it is missing)"
        )
    server = _start_postgres(bindir)
    try:
        yield server
    finally:
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            server.run(
                str(bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(server.data_dir)
            )
        shutil.rmtree(server.root, ignore_errors=True)


@dataclass
class Database:
    """One test's database, SQLite file or PostgreSQL database, and its raw access."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    tmp_path: Path
    server: PostgresServer | None = None
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
            server: PostgresServer = self._request.getfixturevalue("postgres")
            name = f"t_{uuid.uuid4().hex}"
            with server.admin() as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            database = Database(kind, server.url(name), self._tmp_path, server, name)
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
