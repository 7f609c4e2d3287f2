"""Encrypted log store: sealed records and wrapped data keys, on SQLite or PostgreSQL.

The only module that imports SQLAlchemy. Rows hold ciphertext, wrapped keys and
metadata (ids, tenant, class, times, subject token); never plaintext. Times are stored
as integer microseconds since the epoch so that the value bound into a record's
associated data survives the database unchanged, whatever its timestamp precision.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from governance.errors import GovernanceError
from governance.vault import (
    DataKey,
    DataKeyScope,
    SealError,
    Vault,
    WrappedKey,
    record_aad,
)

__all__ = [
    "LogStore",
    "NewRecord",
    "OpenedRecord",
    "StoreUnavailable",
    "UnreadableRecord",
    "database_url_for",
    "micros",
]

SCHEMA_VERSION = 1
_PUT_ATTEMPTS = 8


class StoreUnavailable(GovernanceError):
    """The database cannot be reached or refused the operation; nothing was written."""


class _Base(DeclarativeBase):
    pass


class _SchemaVersion(_Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class _DataKeyRow(_Base):
    __tablename__ = "data_keys"
    __table_args__ = (UniqueConstraint("tenant", "retention_class", "bucket", "generation"),)
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128))
    retention_class: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(16))
    generation: Mapped[int] = mapped_column(Integer)
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    created_us: Mapped[int] = mapped_column(BigInteger)
    destroyed_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class _RecordRow(_Base):
    __tablename__ = "log_records"
    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128), index=True)
    retention_class: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    created_us: Mapped[int] = mapped_column(BigInteger, index=True)
    expires_us: Mapped[int] = mapped_column(BigInteger, index=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.key_id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    subject_token: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


def micros(moment: datetime) -> int:
    """Aware datetime -> integer microseconds since the Unix epoch."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, tz=UTC).replace(microsecond=value % 1_000_000)


def database_url_for(data_dir: Path) -> str:
    """The default database: SQLite under the data dir."""
    return f"sqlite:///{data_dir / 'sidecar.db'}"


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to retain: already redacted plaintext plus its row metadata."""

    tenant: str
    retention_class: str
    kind: str
    model: str
    created_at: datetime
    expires_at: datetime
    plaintext: bytes
    subject_token: str | None = None

    def __repr__(self) -> str:
        return f"<NewRecord {self.kind} {self.tenant}/{self.retention_class}>"


@dataclass(frozen=True, slots=True)
class OpenedRecord:
    record_id: str
    tenant: str
    retention_class: str
    kind: str
    model: str
    created_at: datetime
    expires_at: datetime
    plaintext: bytes

    def __repr__(self) -> str:
        return f"<OpenedRecord {self.record_id}>"


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A record that failed authentication or whose data key is gone; never shown."""

    record_id: str
    reason: str  # "tampered" or "data key destroyed"


def _aad_of(record_id: str, tenant: str, retention_class: str, created_us: int) -> bytes:
    return record_aad(
        record_id=record_id,
        tenant=tenant,
        retention_class=retention_class,
        created_at=str(created_us),
    )


def _enable_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed record survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: two writers upgrading from a read lock deadlock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class LogStore:
    """Sealed records and their data keys behind one SQLAlchemy engine."""

    def __init__(self, url: str, vault: Vault, *, bucket_format: str = "%Y-%m-%d") -> None:
        self._vault = vault
        self._bucket_format = bucket_format
        self._keys: dict[str, DataKey] = {}
        try:
            # hide_parameters: no bound value (ciphertext, tokens) in exception messages.
            self._engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
        except (SQLAlchemyError, ValueError) as err:
            raise StoreUnavailable(f"cannot use database ({type(err).__name__})") from None
        self.is_sqlite = self._engine.dialect.name == "sqlite"
        if self.is_sqlite:
            _enable_sqlite_pragmas(self._engine)

    def __repr__(self) -> str:
        return f"<LogStore {self._engine.dialect.name}>"

    def close(self) -> None:
        self._engine.dispose()

    def migrate(self) -> int:
        """Create or upgrade the schema; returns the schema version now in place."""
        try:
            _Base.metadata.create_all(self._engine)
            with Session(self._engine) as session, session.begin():
                current = session.scalar(select(_SchemaVersion.version))
                if current is None:
                    session.add(_SchemaVersion(version=SCHEMA_VERSION))
                elif current > SCHEMA_VERSION:
                    raise StoreUnavailable(
                        f"database schema v{current} is newer than this sidecar (v{SCHEMA_VERSION})"
                    )
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"cannot migrate database ({type(err).__name__})") from None
        return SCHEMA_VERSION

    # -- writing --------------------------------------------------------------------------

    def put(self, records: Sequence[NewRecord]) -> list[str]:
        """Seal and insert records in one transaction; returns their ids.

        Returns only after the commit. Raises StoreUnavailable (nothing written).
        """
        if not records:
            return []
        for attempt in range(_PUT_ATTEMPTS):
            try:
                return self._put_once(records)
            except IntegrityError:
                # Another writer created the same DEK generation first: retry, spread out.
                time.sleep(0.005 * (attempt + 1) * random.random())  # noqa: S311 - jitter
                continue
            except OperationalError as err:
                raise StoreUnavailable(f"database unavailable ({type(err).__name__})") from None
            except SQLAlchemyError as err:
                raise StoreUnavailable(f"database write failed ({type(err).__name__})") from None
        raise StoreUnavailable("database write failed (data key contention)")

    def _put_once(self, records: Sequence[NewRecord]) -> list[str]:
        by_scope: dict[tuple[str, str, str], list[tuple[int, NewRecord]]] = {}
        for index, record in enumerate(records):
            bucket = record.created_at.astimezone(UTC).strftime(self._bucket_format)
            scope = (record.tenant, record.retention_class, bucket)
            by_scope.setdefault(scope, []).append((index, record))
        ids = [""] * len(records)
        cap = self._vault.message_cap
        with Session(self._engine) as session, session.begin():
            for (tenant, retention_class, bucket), entries in by_scope.items():
                # A batch larger than one DEK's message cap spreads over generations.
                for start in range(0, len(entries), cap):
                    chunk = entries[start : start + cap]
                    key = self._data_key_for(session, tenant, retention_class, bucket, len(chunk))
                    self._seal_into(session, key, chunk, ids)
        return ids

    def _seal_into(
        self,
        session: Session,
        key: DataKey,
        entries: Sequence[tuple[int, NewRecord]],
        ids: list[str],
    ) -> None:
        tenant, retention_class = key.scope.tenant, key.scope.retention_class
        for index, record in entries:
            record_id = uuid.uuid4().hex
            created_us = micros(record.created_at)
            sealed = self._vault.seal(
                key,
                record.plaintext,
                aad=_aad_of(record_id, tenant, retention_class, created_us),
            )
            session.add(
                _RecordRow(
                    record_id=record_id,
                    tenant=tenant,
                    retention_class=retention_class,
                    kind=record.kind,
                    model=record.model,
                    created_us=created_us,
                    expires_us=micros(record.expires_at),
                    key_id=key.key_id.hex(),
                    sealed=sealed,
                    subject_token=record.subject_token,
                )
            )
            ids[index] = record_id

    def _data_key_for(
        self, session: Session, tenant: str, retention_class: str, bucket: str, count: int
    ) -> DataKey:
        """The scope's current DEK with room for `count` more messages, locked for us."""
        query = (
            select(_DataKeyRow)
            .where(
                _DataKeyRow.tenant == tenant,
                _DataKeyRow.retention_class == retention_class,
                _DataKeyRow.bucket == bucket,
            )
            .order_by(_DataKeyRow.generation.desc())
            .limit(1)
            .with_for_update()
        )
        row = session.scalars(query).first()
        cap = self._vault.message_cap
        if row is None or row.destroyed_us is not None or row.messages + count > cap:
            generation = 0 if row is None else row.generation + 1
            scope = DataKeyScope(tenant, retention_class, bucket, generation)
            key, wrapped = self._vault.new_data_key(scope)
            row = _DataKeyRow(
                key_id=key.key_id.hex(),
                tenant=tenant,
                retention_class=retention_class,
                bucket=bucket,
                generation=generation,
                kek_version=wrapped.kek_version,
                wrapped=wrapped.blob,
                messages=0,
                created_us=micros(datetime.now(UTC)),
            )
            session.add(row)
            session.flush()
            self._keys[row.key_id] = key
        key = self._open(row)
        key.messages = row.messages
        session.execute(
            update(_DataKeyRow)
            .where(_DataKeyRow.key_id == row.key_id)
            .values(messages=_DataKeyRow.messages + count)
        )
        return key

    def _open(self, row: _DataKeyRow) -> DataKey:
        cached = self._keys.get(row.key_id)
        if cached is not None:
            return cached
        if row.wrapped is None:
            raise SealError(f"data key {row.key_id} was destroyed")
        wrapped = WrappedKey(
            bytes.fromhex(row.key_id),
            DataKeyScope(row.tenant, row.retention_class, row.bucket, row.generation),
            row.kek_version,
            row.wrapped,
        )
        key = self._vault.open_data_key(wrapped, messages=row.messages)
        self._keys[row.key_id] = key
        return key

    # -- reading --------------------------------------------------------------------------

    def read(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        tenant: str | None = None,
        model: str | None = None,
    ) -> Iterator[OpenedRecord | UnreadableRecord]:
        """Decrypt matching records in creation order; failures come back by id only."""
        query = select(_RecordRow, _DataKeyRow).join(
            _DataKeyRow, _RecordRow.key_id == _DataKeyRow.key_id
        )
        if since is not None:
            query = query.where(_RecordRow.created_us >= micros(since))
        if until is not None:
            query = query.where(_RecordRow.created_us < micros(until))
        if tenant is not None:
            query = query.where(_RecordRow.tenant == tenant)
        if model is not None:
            query = query.where(_RecordRow.model == model)
        query = query.order_by(_RecordRow.created_us, _RecordRow.record_id)
        try:
            with Session(self._engine) as session:
                rows = session.execute(query).all()
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"database read failed ({type(err).__name__})") from None
        for record, key_row in rows:
            yield self._unseal(record, key_row)

    def _unseal(self, record: _RecordRow, key_row: _DataKeyRow) -> OpenedRecord | UnreadableRecord:
        if key_row.wrapped is None:
            return UnreadableRecord(record.record_id, "data key destroyed")
        try:
            key = self._open(key_row)
            plaintext = self._vault.unseal(
                key,
                record.sealed,
                aad=_aad_of(
                    record.record_id, record.tenant, record.retention_class, record.created_us
                ),
            )
        except SealError:
            return UnreadableRecord(record.record_id, "tampered")
        return OpenedRecord(
            record.record_id,
            record.tenant,
            record.retention_class,
            record.kind,
            record.model,
            _from_micros(record.created_us),
            _from_micros(record.expires_us),
            plaintext,
        )

    # -- keys -----------------------------------------------------------------------------

    def shred(self, key_id: str) -> None:
        """Crypto-shred: destroy a DEK; every record sealed under it becomes unreadable."""
        try:
            with Session(self._engine) as session, session.begin():
                session.execute(
                    update(_DataKeyRow)
                    .where(_DataKeyRow.key_id == key_id)
                    .values(wrapped=None, destroyed_us=micros(datetime.now(UTC)))
                )
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"database write failed ({type(err).__name__})") from None
        self._keys.pop(key_id, None)

    def rewrap_all(self) -> int:
        """Re-wrap every live DEK under the primary KEK version; returns how many changed."""
        changed = 0
        try:
            with Session(self._engine) as session, session.begin():
                rows = session.scalars(
                    select(_DataKeyRow).where(_DataKeyRow.wrapped.is_not(None)).with_for_update()
                ).all()
                for row in rows:
                    if row.wrapped is None or row.kek_version == self._vault.primary_kek_version():
                        continue
                    wrapped = self._vault.rewrap(
                        WrappedKey(
                            bytes.fromhex(row.key_id),
                            DataKeyScope(
                                row.tenant, row.retention_class, row.bucket, row.generation
                            ),
                            row.kek_version,
                            row.wrapped,
                        )
                    )
                    row.kek_version, row.wrapped = wrapped.kek_version, wrapped.blob
                    changed += 1
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"database write failed ({type(err).__name__})") from None
        return changed

    def data_keys(self) -> list[Mapping[str, object]]:
        """Metadata of every DEK (no key material): for CLI listings and tests."""
        try:
            with Session(self._engine) as session:
                rows = session.scalars(select(_DataKeyRow).order_by(_DataKeyRow.created_us)).all()
        except SQLAlchemyError as err:
            raise StoreUnavailable(f"database read failed ({type(err).__name__})") from None
        return [
            {
                "key_id": r.key_id,
                "tenant": r.tenant,
                "retention_class": r.retention_class,
                "bucket": r.bucket,
                "generation": r.generation,
                "kek_version": r.kek_version,
                "messages": r.messages,
                "destroyed": r.destroyed_us is not None,
            }
            for r in rows
        ]
