"""One SQLAlchemy engine for the governance tables, on SQLite or PostgreSQL.

Owns connection set-up (SQLite: WAL, full sync, immediate write locks), schema migration
and the transaction boundary that turns driver errors into StoreUnavailable without
their text (a driver message can quote bound values). The sealed-record store and the
audit ledger share one Database, so a record and the ledger entries about it commit in
one transaction.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from governance.errors import GovernanceError
from governance.tables import Base, SchemaVersion

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "StoreUnavailable",
    "WriteConflict",
    "database_url_for",
    "from_micros",
    "micros",
]

_T = TypeVar("_T")
_WRITE_ATTEMPTS = 8
_CLOCK_SYNC = timedelta(seconds=30)
_RETRYABLE = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure

# v1: sealed records and data keys; v2: the audit ledger's tables; v3: the sweeper's lease.
SCHEMA_VERSION = 3


class StoreUnavailable(GovernanceError):
    """The database cannot be reached or refused the operation; nothing was written."""


class WriteConflict(StoreUnavailable):
    """A concurrent writer inserted the same key first; nothing was written, retry."""


def micros(moment: datetime) -> int:
    """Aware datetime -> integer microseconds since the Unix epoch."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, tz=UTC).replace(microsecond=value % 1_000_000)


def database_url_for(data_dir: Path) -> str:
    """The default database: SQLite under the data dir."""
    return f"sqlite:///{data_dir / 'sidecar.db'}"


def _enable_sqlite_pragmas(engine: Engine, *, writer: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed row survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (two writers upgrading from a read lock
        # deadlock); readers begin deferred, so in WAL mode they never wait for a writer.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


class Database:
    """The engine and transaction boundary shared by the log store and the ledger."""

    def __init__(self, url: str) -> None:
        try:
            # hide_parameters: no bound value (ciphertext, tokens) in exception messages.
            self.engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
        except (SQLAlchemyError, ValueError) as err:
            raise StoreUnavailable(f"cannot use database ({type(err).__name__})") from None
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._clock_offset: timedelta | None = None
        self._clock_synced = datetime.min.replace(tzinfo=UTC)
        self._read_engine = self.engine
        if self.is_sqlite:
            _enable_sqlite_pragmas(self.engine)
            self._read_engine = create_engine(url, hide_parameters=True)
            _enable_sqlite_pragmas(self._read_engine, writer=False)

    def __repr__(self) -> str:
        return f"<Database {self.engine.dialect.name}>"

    def close(self) -> None:
        self.engine.dispose()
        self._read_engine.dispose()

    def migrate(self) -> int:
        """Create or upgrade the schema; returns the schema version now in place.

        New tables come from create_all; columns added to existing tables are ordered
        steps below (an Alembic revision would say the same, without the dependency).
        """
        try:
            Base.metadata.create_all(self.engine)
            with self.transaction() as session:
                current = session.scalar(select(SchemaVersion.version))
                if current is None:
                    session.add(SchemaVersion(version=SCHEMA_VERSION))
                elif current > SCHEMA_VERSION:
                    raise StoreUnavailable(
                        f"database schema v{current} is newer than this sidecar (v{SCHEMA_VERSION})"
                    )
                elif current < SCHEMA_VERSION:
                    self._upgrade(session)
                    session.execute(update(SchemaVersion).values(version=SCHEMA_VERSION))
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"cannot migrate database ({type(err).__name__})") from None
        return SCHEMA_VERSION

    def _upgrade(self, session: Session) -> None:
        """Steps for tables that existed before (idempotent: each checks first)."""
        columns = {c["name"] for c in inspect(session.connection()).get_columns("log_records")}
        if "written_us" not in columns:  # v3: expiry counts from the database's commit time
            session.execute(text("ALTER TABLE log_records ADD COLUMN written_us BIGINT"))
        indexes = {i["name"] for i in inspect(session.connection()).get_indexes("log_records")}
        table = Base.metadata.tables["log_records"]
        for index in table.indexes:
            if index.name not in indexes:
                index.create(session.connection())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: commits on exit, rolls back on any error.

        Raises StoreUnavailable for database errors (named by type only).
        """
        try:
            with Session(self.engine) as session, session.begin():
                yield session
        except IntegrityError:
            raise WriteConflict("database write conflict (IntegrityError)") from None
        except OperationalError as err:
            # PostgreSQL aborts one side of a deadlock or serialisation conflict: retry it.
            if getattr(err.orig, "sqlstate", None) in _RETRYABLE:
                raise WriteConflict("database write conflict (deadlock)") from None
            raise StoreUnavailable(f"database operation failed ({type(err).__name__})") from None
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"database operation failed ({type(err).__name__})") from None

    def now_in(self, session: Session) -> datetime:
        """The database's clock: one clock for every replica, so a replica whose clock is
        fast cannot expire or delete anything early. SQLite has one host, hence its clock."""
        if self.is_sqlite:
            return datetime.now(UTC)
        # The server's clock as an offset from ours, re-read every _CLOCK_SYNC: a round
        # trip per write transaction would cost the group commit a fifth of its speed.
        local = datetime.now(UTC)
        if self._clock_offset is None or local - self._clock_synced > _CLOCK_SYNC:
            value = session.scalar(select(func.clock_timestamp()))
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise StoreUnavailable("database clock unavailable")
            self._clock_offset = value.astimezone(UTC) - datetime.now(UTC)
            self._clock_synced = local
        return local + self._clock_offset

    def now(self) -> datetime:
        with self.reading() as session:
            return self.now_in(session)

    def write(self, work: Callable[[Session], _T]) -> _T:
        """Run `work` in one transaction, again (spread out) after a write conflict.

        `work` must be safe to repeat: nothing it did survives a rolled-back attempt.
        Raises StoreUnavailable (nothing written).
        """
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                with self.transaction() as session:
                    return work(session)
            except WriteConflict:
                # e.g. another writer created the same data key generation first
                time.sleep(0.005 * (attempt + 1) * random.random())  # noqa: S311 - jitter
        raise StoreUnavailable("database write failed (write contention)")

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads. Raises StoreUnavailable."""
        try:
            with Session(self._read_engine) as session:
                yield session
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"database read failed ({type(err).__name__})") from None
