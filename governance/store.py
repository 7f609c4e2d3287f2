"""Encrypted log store: sealed records and wrapped data keys, on SQLite or PostgreSQL.

The only module that imports SQLAlchemy. Rows hold ciphertext, wrapped keys and
metadata (ids, tenant, class, times, subject token); never plaintext. Times are stored
as integer microseconds since the epoch so that the value bound into a record's
associated data survives the database unchanged, whatever its timestamp precision.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.database import (
    Database,
    StoreUnavailable,
    WriteConflict,
    database_url_for,
    from_micros,
    micros,
)
from governance.shredkeys import BucketShredded
from governance.tables import Base, DataKeyRow, RecordRow, ShreddedBucketRow
from governance.vault import (
    DataKey,
    DataKeyScope,
    KeyDestroyed,
    SealError,
    Vault,
    WrappedKey,
    record_aad,
)

__all__ = [
    "CreatedKey",
    "LogStore",
    "NewRecord",
    "OpenedRecord",
    "StoreUnavailable",
    "UnreadableRecord",
    "Written",
    "database_url_for",
    "micros",
    "micros_of",
    "subject_token",
]


# Every log record's write runs these, so they use the tables, not the ORM (whose object
# loading and update synchronising cost more CPU than the statements themselves); built
# once. Bound names differ from column names: an UPDATE reserves those for its SET.
_DATA_KEYS = Base.metadata.tables[DataKeyRow.__tablename__]
_CURRENT_KEY = (
    select(_DATA_KEYS)
    .where(
        _DATA_KEYS.c.tenant == bindparam("b_tenant"),
        _DATA_KEYS.c.retention_class == bindparam("b_class"),
        _DATA_KEYS.c.bucket == bindparam("b_bucket"),
    )
    .order_by(_DATA_KEYS.c.generation.desc())
    .limit(1)
    .with_for_update()
)
_COUNT_MESSAGES = (
    update(_DATA_KEYS)
    .where(_DATA_KEYS.c.key_id == bindparam("b_key"))
    .values(messages=_DATA_KEYS.c.messages + bindparam("b_count"))
)
_INSERT_RECORDS = insert(Base.metadata.tables[RecordRow.__tablename__])


class _KeyColumns(Protocol):
    """A data_keys row: the ORM object of a key just created, or a row read by Core."""

    key_id: str
    tenant: str
    retention_class: str
    bucket: str
    generation: int
    kek_version: int
    wrapped: bytes | None
    messages: int
    destroyed_us: int | None


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
    # When set, the record expires this long after the database's clock at commit
    # (expires_at is then only the writer's estimate): one clock for every replica.
    keep: timedelta | None = None

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


def subject_token(key: bytes, subject_id: str) -> str:
    """Keyed HMAC of a data-subject id: erasure can find records, nobody can read it."""
    return hmac.new(key, subject_id.encode("utf-8"), hashlib.sha256).hexdigest()


def micros_of(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def _aad_of(record_id: str, tenant: str, retention_class: str, created_us: int) -> bytes:
    return record_aad(
        record_id=record_id,
        tenant=tenant,
        retention_class=retention_class,
        created_at=str(created_us),
    )


@dataclass(frozen=True, slots=True)
class Written:
    """Where a record went: its id and the data key that sealed it."""

    record_id: str
    key_id: str
    retention_class: str
    expires_at: datetime  # as stored (the database's clock when `keep` was given)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A data key created while writing (for the audit ledger); metadata only."""

    key_id: str
    tenant: str
    retention_class: str
    bucket: str
    generation: int
    kek_version: int


class LogStore:
    """Sealed records and their data keys in a Database."""

    def __init__(
        self, database: Database | str, vault: Vault, *, bucket_format: str = "%Y-%m-%d"
    ) -> None:
        self.database = database if isinstance(database, Database) else Database(database)
        self._vault = vault
        self._bucket_format = bucket_format
        self._keys: dict[str, DataKey] = {}

    def __repr__(self) -> str:
        return f"<LogStore {self.database.engine.dialect.name}>"

    @property
    def is_sqlite(self) -> bool:
        return self.database.is_sqlite

    def close(self) -> None:
        self.database.close()

    def migrate(self) -> int:
        """Create or upgrade the schema; returns the schema version now in place."""
        return self.database.migrate()

    # -- writing --------------------------------------------------------------------------

    def put(self, records: Sequence[NewRecord]) -> list[str]:
        """Seal and insert records in one transaction; returns their ids.

        Returns only after the commit. Raises StoreUnavailable (nothing written).
        """
        if not records:
            return []
        written = self.database.write(lambda session: self.put_in(session, records)[0])
        return [w.record_id for w in written]

    def put_in(
        self, session: Session, records: Sequence[NewRecord], *, now: datetime | None = None
    ) -> tuple[list[Written], list[CreatedKey]]:
        """Seal and insert records inside the caller's transaction.

        Returns where each record went and the data keys created for them. Raises
        WriteConflict when another writer created the same key generation first.
        """
        # `now`: the caller's reading of the database clock in this transaction (the
        # journal stamps its ledger entries with the same value).
        now_us = micros(now or self.database.now_in(session))
        today = from_micros(now_us).strftime(self._bucket_format)
        by_scope: dict[tuple[str, str, str], list[tuple[int, NewRecord]]] = {}
        for index, record in enumerate(records):
            # Records that expire by the database's clock go to the database's day: a
            # slow writer or a backlog can never put one into a day already shredded.
            bucket = (
                today
                if record.keep
                else record.created_at.astimezone(UTC).strftime(self._bucket_format)
            )
            scope = (record.tenant, record.retention_class, bucket)
            by_scope.setdefault(scope, []).append((index, record))
        written: list[Written | None] = [None] * len(records)
        created: list[CreatedKey] = []
        rows: list[dict[str, object]] = []
        cap = self._vault.message_cap
        # Scopes in a fixed order: two writers locking data-key rows never wait on each other
        # in a cycle (PostgreSQL would abort one as a deadlock).
        for (tenant, retention_class, bucket), entries in sorted(by_scope.items()):
            # A batch larger than one DEK's message cap spreads over generations.
            for start in range(0, len(entries), cap):
                chunk = entries[start : start + cap]
                key = self._data_key_for(
                    session, tenant, retention_class, bucket, len(chunk), created
                )
                rows.extend(self._seal(key, chunk, written, now_us))
        try:
            session.flush()
            if rows:
                session.connection().execute(_INSERT_RECORDS, rows)
        except IntegrityError:
            raise WriteConflict("database write conflict (IntegrityError)") from None
        return [w for w in written if w is not None], created

    def _seal(
        self,
        key: DataKey,
        entries: Sequence[tuple[int, NewRecord]],
        written: list[Written | None],
        now_us: int,
    ) -> list[dict[str, object]]:
        """The log_records rows of `entries`, sealed with `key`."""
        tenant, retention_class = key.scope.tenant, key.scope.retention_class
        rows: list[dict[str, object]] = []
        for index, record in entries:
            record_id = uuid.uuid4().hex
            created_us = micros(record.created_at)
            keep = record.keep
            expires_us = now_us + micros_of(keep) if keep else micros(record.expires_at)
            sealed = self._vault.seal(
                key,
                record.plaintext,
                aad=_aad_of(record_id, tenant, retention_class, created_us),
            )
            rows.append(
                {
                    "record_id": record_id,
                    "tenant": tenant,
                    "retention_class": retention_class,
                    "kind": record.kind,
                    "model": record.model,
                    "created_us": created_us,
                    "expires_us": expires_us,
                    "written_us": now_us if keep else None,
                    "key_id": key.key_id.hex(),
                    "sealed": sealed,
                    "subject_token": record.subject_token,
                }
            )
            written[index] = Written(
                record_id, key.key_id.hex(), retention_class, from_micros(expires_us)
            )
        return rows

    def _data_key_for(
        self,
        session: Session,
        tenant: str,
        retention_class: str,
        bucket: str,
        count: int,
        created: list[CreatedKey],
    ) -> DataKey:
        """The scope's current DEK with room for `count` more messages, locked for us."""
        connection = session.connection()
        row: _KeyColumns | None = connection.execute(
            _CURRENT_KEY, {"b_tenant": tenant, "b_class": retention_class, "b_bucket": bucket}
        ).first()
        cap = self._vault.message_cap
        if row is None or row.destroyed_us is not None or row.messages + count > cap:
            if session.get(ShreddedBucketRow, (tenant, retention_class, bucket)) is not None:
                raise BucketShredded(
                    f"bucket {tenant}/{retention_class}/{bucket} was shredded; "
                    "no record can be sealed into it"
                )
            generation = 0 if row is None else row.generation + 1
            scope = DataKeyScope(tenant, retention_class, bucket, generation)
            key, wrapped = self._vault.new_data_key(scope)
            row = added = DataKeyRow(
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
            session.add(added)
            try:
                session.flush()
            except IntegrityError:
                raise WriteConflict("database write conflict (IntegrityError)") from None
            self._keys[row.key_id] = key
            created.append(
                CreatedKey(row.key_id, tenant, retention_class, bucket, generation, row.kek_version)
            )
        key = self._open(row)
        key.messages = row.messages
        connection.execute(_COUNT_MESSAGES, {"b_key": row.key_id, "b_count": count})
        return key

    def _open(self, row: _KeyColumns) -> DataKey:
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
        query = select(RecordRow, DataKeyRow).join(
            DataKeyRow, RecordRow.key_id == DataKeyRow.key_id
        )
        if since is not None:
            query = query.where(RecordRow.created_us >= micros(since))
        if until is not None:
            query = query.where(RecordRow.created_us < micros(until))
        if tenant is not None:
            query = query.where(RecordRow.tenant == tenant)
        if model is not None:
            query = query.where(RecordRow.model == model)
        query = query.order_by(RecordRow.created_us, RecordRow.record_id)
        with self.database.reading() as session:
            rows = session.execute(query).all()
        for record, key_row in rows:
            yield self._unseal(record, key_row)

    def _unseal(self, record: RecordRow, key_row: DataKeyRow) -> OpenedRecord | UnreadableRecord:
        if key_row.wrapped is None:
            return UnreadableRecord(record.record_id, "data key destroyed")
        try:
            key = self._open(key_row)
        except KeyDestroyed:
            return UnreadableRecord(record.record_id, "data key destroyed")
        except SealError:
            return UnreadableRecord(record.record_id, "tampered")
        try:
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
            from_micros(record.created_us),
            from_micros(record.expires_us),
            plaintext,
        )

    # -- keys -----------------------------------------------------------------------------

    def shred(self, key_id: str) -> None:
        """Crypto-shred: destroy a DEK; every record sealed under it becomes unreadable."""
        with self.database.transaction() as session:
            self.shred_in(session, key_id)
        self._keys.pop(key_id, None)

    def shred_in(self, session: Session, key_id: str) -> bool:
        """Destroy a DEK inside the caller's transaction; False if it was already gone."""
        result = session.execute(
            update(DataKeyRow)
            .where(DataKeyRow.key_id == key_id, DataKeyRow.wrapped.is_not(None))
            .values(wrapped=None, destroyed_us=micros(datetime.now(UTC)))
        )
        self._keys.pop(key_id, None)
        return bool(getattr(result, "rowcount", 0))

    def shred_buckets(self, scopes: Iterable[DataKeyScope]) -> list[str]:
        """Destroy the bucket secrets of these scopes (outside the database); returns the
        buckets destroyed now. Their data keys no longer open, in any copy."""
        wanted = list(scopes)
        for key_id, key in list(self._keys.items()):
            if any(
                (key.scope.tenant, key.scope.retention_class, key.scope.bucket)
                == (s.tenant, s.retention_class, s.bucket)
                for s in wanted
            ):
                del self._keys[key_id]
        return self._vault.shred_buckets(wanted)

    def rewrap_all(self) -> int:
        """Re-wrap every live DEK under the primary KEK version; returns how many changed."""
        with self.database.transaction() as session:
            return self.rewrap_in(session)

    def rewrap_in(self, session: Session) -> int:
        """rewrap_all inside the caller's transaction."""
        changed = 0
        rows = session.scalars(
            select(DataKeyRow)
            .where(DataKeyRow.wrapped.is_not(None))
            # The writers' order (scope, then generation): no lock cycle with them.
            .order_by(
                DataKeyRow.tenant,
                DataKeyRow.retention_class,
                DataKeyRow.bucket,
                DataKeyRow.generation,
            )
            .with_for_update()
        ).all()
        for row in rows:
            if row.wrapped is None or row.kek_version == self._vault.primary_kek_version():
                continue
            wrapped = self._vault.rewrap(
                WrappedKey(
                    bytes.fromhex(row.key_id),
                    DataKeyScope(row.tenant, row.retention_class, row.bucket, row.generation),
                    row.kek_version,
                    row.wrapped,
                )
            )
            row.kek_version, row.wrapped = wrapped.kek_version, wrapped.blob
            changed += 1
        return changed

    def data_keys(self) -> list[Mapping[str, object]]:
        """Metadata of every DEK (no key material): for CLI listings and tests."""
        with self.database.reading() as session:
            rows = session.scalars(select(DataKeyRow).order_by(DataKeyRow.created_us)).all()
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
