"""Ledger fixtures: fresh databases on SQLite and PostgreSQL, a fixed signing key.

`ledger_db` is parametrised over both back-ends, so every test taking it runs twice;
`ledger_dbs.create()` makes further databases of the same kind in the same test (a second
history for fork tests). PostgreSQL databases come from a session pool and are emptied
(TRUNCATE) before each use: CREATE DATABASE per test would cost more than the tests.
`LedgerDb.execute()` reaches the rows behind the ledger's back, as an operator restoring a
backup or an attacker with database access would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from governance.database import Database
from governance.ledger import Ledger
from governance.note import NoteSigner
from tests.ledger._helpers import ORIGIN
from tests.pgpool import PgPool


@dataclass(frozen=True)
class Saved:
    """The ledger's state row at one moment, for rolling the database back to it."""

    size: int
    root: bytes
    compact: bytes


@dataclass
class LedgerDb:
    """One test database with a migrated governance Database on it."""

    kind: str
    url: str
    database: Database
    ledgers: list[Ledger] = field(default_factory=list)

    def ledger(self, origin: str = ORIGIN) -> Ledger:
        ledger = Ledger(self.database, origin=origin)
        self.ledgers.append(ledger)
        return ledger

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Raw SQL in its own transaction, bypassing the ledger; rows if any."""
        with self.database.engine.begin() as connection:
            result = connection.execute(text(sql), params)
            return list(result) if result.returns_rows else []

    def count(self, table: str) -> int:
        (row,) = self.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - test tables
        return int(row[0])

    def save(self) -> Saved:
        (row,) = self.execute("SELECT size, root, compact FROM ledger_state WHERE id = 1")
        return Saved(int(row[0]), bytes(row[1]), bytes(row[2]))

    def roll_back_to(self, saved: Saved, *, checkpoints: bool) -> None:
        """Make the tables what they were at `saved`, as a restored backup would be.

        Entries and stored subtrees beyond `saved.size` go; with `checkpoints`, so do the
        checkpoints signed since (a full restore); without, they stay (a truncation).
        """
        self.execute("DELETE FROM ledger_entries WHERE seq >= :size", size=saved.size)
        for (node_id,) in self.execute("SELECT node_id FROM ledger_nodes"):
            level, index = node_id & 63, node_id >> 6
            if (index + 1) << level > saved.size:
                self.execute("DELETE FROM ledger_nodes WHERE node_id = :id", id=node_id)
        if checkpoints:
            self.execute("DELETE FROM ledger_checkpoints WHERE size > :size", size=saved.size)
        self.execute(
            "UPDATE ledger_state SET size = :size, root = :root, compact = :compact WHERE id = 1",
            size=saved.size,
            root=saved.root,
            compact=saved.compact,
        )

    def copy_checkpoints_from(self, other: LedgerDb) -> None:
        """Insert `other`'s checkpoint rows here, as if this database had signed them."""
        for size, root, note, signed_us in other.execute(
            "SELECT size, root, note, signed_us FROM ledger_checkpoints"
        ):
            self.execute(
                "INSERT INTO ledger_checkpoints (size, root, note, signed_us)"
                " VALUES (:size, :root, :note, :signed_us)",
                size=size,
                root=bytes(root),
                note=note,
                signed_us=signed_us,
            )


class LedgerDbs:
    """Creates migrated, empty databases of one kind for one test; releases them after."""

    def __init__(self, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.kind = kind
        self._request = request
        self._tmp_path = tmp_path
        self._made: list[LedgerDb] = []
        self._taken: list[str] = []

    def create(self) -> LedgerDb:
        if self.kind == "sqlite":
            directory = self._tmp_path / f"db{len(self._made)}"
            directory.mkdir()
            url = f"sqlite:///{directory / 'sidecar.db'}"
        else:
            pool: PgPool = self._request.getfixturevalue("pg_pool")
            name, url = pool.take()
            self._taken.append(name)
        database = Database(url)
        database.migrate()
        made = LedgerDb(self.kind, url, database)
        self._made.append(made)
        return made

    def close(self) -> None:
        for made in self._made:
            made.database.close()  # no connection is left to block the next TRUNCATE
        if self._taken:
            pool: PgPool = self._request.getfixturevalue("pg_pool")
            for name in self._taken:
                pool.give_back(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_dbs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerDbs]:
    """A database factory on each back-end in turn: this parametrises `ledger_db`."""
    made = LedgerDbs(request.param, request, tmp_path)
    yield made
    made.close()


@pytest.fixture
def ledger_db(ledger_dbs: LedgerDbs) -> LedgerDb:
    """The test's migrated database, SQLite file or PostgreSQL database."""
    return ledger_dbs.create()


@pytest.fixture
def ledger(ledger_db: LedgerDb) -> Ledger:
    return ledger_db.ledger()


@pytest.fixture(scope="session")
def signer() -> NoteSigner:
    """The ledger's note key: fixed, so notes and exports are reproducible."""
    return NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
