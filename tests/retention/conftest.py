"""Retention fixtures: one site per test on SQLite and on PostgreSQL.

`site` is parametrised over both back-ends, so every test taking it runs twice; `pg_site`
is PostgreSQL only (the database clock, several sweepers on one server). A PostgreSQL
site gets an empty database on the session's server, from a session pool emptied with
TRUNCATE before each use (CREATE DATABASE per test would cost more than the tests).
`copy_of(site)` takes a backup of the site's database as it is now (SQLite: the backup
API of the live file; PostgreSQL: CREATE DATABASE ... TEMPLATE) and returns its URL.
`kill_sweep_at` runs the shared scenario's sweep in a 'spawn' child that SIGKILLs itself
at one step (tests/retention/_child.py).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from psycopg import sql

from governance.store import database_url_for
from tests.pgpool import PgPool
from tests.pgserver import PgServer
from tests.retention import _child
from tests.retention._site import SCENARIO_NOW, SCENARIO_POLICIES, Site

CopyOf = Callable[[Site], str]


class Sites:
    """Makes sites of one kind for one test; drops their databases afterwards."""

    def __init__(self, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.kind = kind
        self._request = request
        self._tmp_path = tmp_path
        self._made: list[Site] = []
        self._taken: list[str] = []
        self._copies: list[str] = []

    @property
    def server(self) -> PgServer:
        server: PgServer = self._request.getfixturevalue("postgres")
        return server

    @property
    def pool(self) -> PgPool:
        pool: PgPool = self._request.getfixturevalue("pg_pool")
        return pool

    def create(self, name: str = "site") -> Site:
        data_dir = self._tmp_path / name
        data_dir.mkdir(mode=0o700)
        if self.kind == "sqlite":
            url = database_url_for(data_dir)
        else:
            database, _ = self.pool.take()
            self._taken.append(database)
            url = self.server.url(database)
        site = Site(self.kind, url, data_dir)
        self._made.append(site)
        return site

    def copy_of(self, site: Site) -> str:
        """A consistent copy of the site's database as it is now; returns its URL."""
        if site.kind == "sqlite":
            target = self._tmp_path / f"copy-{uuid.uuid4().hex[:8]}.db"
            source = site.url.removeprefix("sqlite:///")
            with (
                contextlib.closing(sqlite3.connect(source)) as src,
                contextlib.closing(sqlite3.connect(target)) as dst,
            ):
                src.backup(dst)
            return f"sqlite:///{target}"
        name = site.url.rsplit("/", 1)[1]
        # TEMPLATE needs the source without sessions: the site's pools reconnect later.
        site.store.database.close()
        if site._raw is not None:
            site._raw.dispose()
        copy = f"c_{uuid.uuid4().hex}"
        with self.server.admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(copy), sql.Identifier(name)
                )
            )
        self._copies.append(copy)
        return self.server.url(copy)

    def close(self) -> None:
        for site in self._made:
            site.close()  # no connection is left to block the next TRUNCATE
        for name in self._copies:
            self.server.drop_database(name)
        for name in self._taken:
            self.pool.give_back(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def sites(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sites]:
    made = Sites(request.param, request, tmp_path)
    yield made
    made.close()


@pytest.fixture
def site(sites: Sites) -> Site:
    """The test's site: a data dir with keys, and a migrated store + ledger."""
    return sites.create()


@pytest.fixture
def pg_sites(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sites]:
    made = Sites("postgresql", request, tmp_path)
    yield made
    made.close()


@pytest.fixture
def pg_site(pg_sites: Sites) -> Site:
    """A site on the session's PostgreSQL server."""
    return pg_sites.create()


@pytest.fixture
def copy_of(sites: Sites) -> CopyOf:
    return sites.copy_of


CHILD = "retention-crash-child"  # application_name of the child's PostgreSQL sessions


def kill_sweep_at(sites: Sites, site: Site, step: str, nth: int) -> None:
    """Run the scenario's sweep in a child that SIGKILLs itself at `step` (the nth time);
    return once it is dead and (PostgreSQL) its server session has ended."""
    url = site.url if site.kind == "sqlite" else f"{site.url}?application_name={CHILD}"
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=_child.sweep_until_killed,
        args=(
            site.kind,
            url,
            str(site.data_dir),
            SCENARIO_POLICIES,
            SCENARIO_NOW.isoformat(),
            step,
            nth,
        ),
    )
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("the sweeping child did not reach its step within 60 s")
    assert child.exitcode == -signal.SIGKILL, f"the child exited {child.exitcode}"
    if site.kind == "postgresql":
        name = site.url.rsplit("/", 1)[1]
        deadline = time.monotonic() + 30
        with sites.server.admin() as admin:
            while time.monotonic() < deadline:
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND application_name = %s",
                    (name, CHILD),
                ).fetchone()
                if row is not None and row[0] == 0:
                    return
                time.sleep(0.01)
        pytest.fail("the killed child's PostgreSQL session outlived it by 30 s")
