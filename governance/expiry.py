"""Queries the retention sweeper and erasure need: expired and subject records, the data
keys of buckets, the re-evaluation of expiry, and the single-sweeper lease.

Row-level only; the decisions (what is expired, held, shreddable) are in retention.py.
Everything here runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from governance.tables import DataKeyRow, RecordRow, ShreddedBucketRow, SweeperLeaseRow

__all__ = ["Candidate", "Expiry", "Scope"]

_DAY_US = 86_400_000_000

Scope = tuple[str, str, str]  # tenant, retention class, bucket
HoldSpec = tuple[str | None, str | None]  # a hold's tenant and class (None: any)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record the sweeper or an erasure may delete: ids and placement, no content."""

    record_id: str
    tenant: str
    retention_class: str
    bucket: str
    key_id: str
    expires_us: int


def _held(holds: Iterable[HoldSpec]) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    for tenant, retention_class in holds:
        parts = []
        if tenant is not None:
            parts.append(RecordRow.tenant == tenant)
        if retention_class is not None:
            parts.append(RecordRow.retention_class == retention_class)
        clauses.append(and_(*parts))
    return or_(*clauses) if clauses else false()


def _candidates(rows: Sequence[Any]) -> list[Candidate]:
    return [
        Candidate(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), int(r[5])) for r in rows
    ]


_COLUMNS = (
    RecordRow.record_id,
    RecordRow.tenant,
    RecordRow.retention_class,
    DataKeyRow.bucket,
    RecordRow.key_id,
    RecordRow.expires_us,
)


class Expiry:
    """Row-level operations for retention and erasure, one Database dialect aware."""

    def __init__(self, *, is_sqlite: bool) -> None:
        self._is_sqlite = is_sqlite

    def expired(
        self, session: Session, *, now_us: int, holds: Iterable[HoldSpec], limit: int
    ) -> list[Candidate]:
        """Up to `limit` unheld records with expires_at <= now, oldest first, locked.

        SKIP LOCKED on PostgreSQL: a row another transaction holds is left to it.
        """
        query = (
            select(*_COLUMNS)
            .join(DataKeyRow, RecordRow.key_id == DataKeyRow.key_id)
            .where(RecordRow.expires_us <= now_us, not_(_held(holds)))
            .order_by(RecordRow.expires_us, RecordRow.record_id)
            .limit(limit)
        )
        if not self._is_sqlite:
            query = query.with_for_update(skip_locked=True, of=RecordRow)
        return _candidates(session.execute(query).all())

    def expired_counts(
        self, session: Session, *, now_us: int, holds: Iterable[HoldSpec]
    ) -> list[tuple[str, str, str, bool, int]]:
        """(tenant, class, bucket, held, count) of every expired record, for reports."""
        specs = list(holds)
        # A constant (no holds) cannot be grouped by: SQLite reads it as a column number.
        held = _held(specs).label("held") if specs else literal(False).label("held")
        keys = [RecordRow.tenant, RecordRow.retention_class, DataKeyRow.bucket]
        query = (
            select(*keys, held, func.count())
            .join(DataKeyRow, RecordRow.key_id == DataKeyRow.key_id)
            .where(RecordRow.expires_us <= now_us)
            .group_by(*keys, *([held] if specs else []))
            .order_by(*keys)
        )
        rows = session.execute(query).all()
        return [(str(r[0]), str(r[1]), str(r[2]), bool(r[3]), int(r[4])) for r in rows]

    def of_subject(self, session: Session, *, token: str, tenant: str | None) -> list[Candidate]:
        query = (
            select(*_COLUMNS)
            .join(DataKeyRow, RecordRow.key_id == DataKeyRow.key_id)
            .where(RecordRow.subject_token == token)
            .order_by(RecordRow.created_us, RecordRow.record_id)
        )
        if tenant is not None:
            query = query.where(RecordRow.tenant == tenant)
        if not self._is_sqlite:
            query = query.with_for_update(of=RecordRow)
        return _candidates(session.execute(query).all())

    def delete(self, session: Session, record_ids: Sequence[str]) -> list[str]:
        """Delete these records; returns the ids actually deleted (others were gone)."""
        deleted: list[str] = []
        for start in range(0, len(record_ids), 500):
            chunk = record_ids[start : start + 500]
            result = session.execute(
                delete(RecordRow)
                .where(RecordRow.record_id.in_(chunk))
                .returning(RecordRow.record_id)
            )
            deleted += [str(row) for row in result.scalars().all()]
        return sorted(deleted)

    def live_keys(self, session: Session) -> dict[Scope, list[tuple[str, int]]]:
        """Undestroyed data keys by bucket scope: [(key id, records still sealed by it)]."""
        counts = {
            str(key_id): int(count)
            for key_id, count in session.execute(
                select(RecordRow.key_id, func.count()).group_by(RecordRow.key_id)
            ).all()
        }
        rows = session.execute(
            select(
                DataKeyRow.tenant, DataKeyRow.retention_class, DataKeyRow.bucket, DataKeyRow.key_id
            )
            .where(DataKeyRow.wrapped.is_not(None))
            .order_by(DataKeyRow.key_id)
        ).all()
        scopes: dict[Scope, list[tuple[str, int]]] = {}
        for tenant, retention_class, bucket, key_id in rows:
            scopes.setdefault((tenant, retention_class, bucket), []).append(
                (key_id, int(counts.get(key_id, 0)))
            )
        return scopes

    def mark_shredded(self, session: Session, scope: Scope, *, now_us: int) -> None:
        tenant, retention_class, bucket = scope
        if session.get(ShreddedBucketRow, (tenant, retention_class, bucket)) is None:
            session.add(
                ShreddedBucketRow(
                    tenant=tenant,
                    retention_class=retention_class,
                    bucket=bucket,
                    shredded_us=now_us,
                )
            )
            session.flush()

    def shredded_scopes(self, session: Session) -> set[Scope]:
        """Buckets the sweeper shredded (recorded with their key_destroyed entries)."""
        rows = session.execute(
            select(
                ShreddedBucketRow.tenant,
                ShreddedBucketRow.retention_class,
                ShreddedBucketRow.bucket,
            )
        ).all()
        return {(str(t), str(c), str(b)) for t, c, b in rows}

    def destroy_if_empty(
        self, session: Session, key_ids: Sequence[str], *, now_us: int
    ) -> list[str]:
        """Destroy these data keys if no record uses them; returns the ones destroyed now.

        The key rows are locked first, then the records counted: a writer sealing with
        one of them holds the same row lock, so no record can slip in between.
        """
        if not key_ids:
            return []
        locked = session.scalars(
            select(DataKeyRow.key_id)
            .where(DataKeyRow.key_id.in_(key_ids), DataKeyRow.wrapped.is_not(None))
            .order_by(DataKeyRow.key_id)
            .with_for_update()
        ).all()
        if locked and self.records_left(session, list(locked)):
            return []
        if locked:
            session.execute(
                update(DataKeyRow)
                .where(DataKeyRow.key_id.in_(locked))
                .values(wrapped=None, destroyed_us=now_us)
            )
        return sorted(locked)

    def oldest_written_us(self, session: Session) -> int | None:
        """When the oldest record still stored was committed (a day before its creation
        for records written with an explicit expiry, whose commit time is unknown)."""
        value = session.scalar(
            select(func.min(func.coalesce(RecordRow.written_us, RecordRow.created_us - _DAY_US)))
        )
        return None if value is None else int(value)

    def records_left(self, session: Session, key_ids: Sequence[str]) -> int:
        return int(session.scalar(select(func.count()).where(RecordRow.key_id.in_(key_ids))) or 0)

    def reexpire(
        self, session: Session, expiry_of: Callable[[str, str, int], int], *, after: str, limit: int
    ) -> tuple[list[tuple[str, int, int]], str | None]:
        """Recompute expires_at for up to `limit` records after id `after`.

        Returns ([(record id, old, new)] for those that changed, the last id seen or None
        when done). `expiry_of(tenant, class, created_us)` gives the new expiry.
        """
        rows = session.execute(
            select(
                RecordRow.record_id,
                RecordRow.tenant,
                RecordRow.retention_class,
                # Expiry counts from when the database committed the record (its clock),
                # or, for a record written with an explicit expiry, from its creation.
                func.coalesce(RecordRow.written_us, RecordRow.created_us),
                RecordRow.expires_us,
            )
            .where(RecordRow.record_id > after)
            .order_by(RecordRow.record_id)
            .limit(limit)
        ).all()
        changed = []
        for record_id, tenant, retention_class, created_us, expires_us in rows:
            new = expiry_of(tenant, retention_class, created_us)
            if new != expires_us:
                session.execute(
                    update(RecordRow).where(RecordRow.record_id == record_id).values(expires_us=new)
                )
                changed.append((record_id, int(expires_us), new))
        return changed, (rows[-1][0] if len(rows) == limit else None)

    # -- the single-sweeper lease ---------------------------------------------------------

    def take_lease(self, session: Session, *, owner: str, now_us: int, ttl_us: int) -> bool:
        """Take or renew the sweeper lease; False while another owner's lease runs."""
        lease = session.scalars(
            select(SweeperLeaseRow).where(SweeperLeaseRow.id == 1).with_for_update()
        ).first()
        if lease is None:
            session.add(SweeperLeaseRow(id=1, owner=owner, until_us=now_us + ttl_us))
            session.flush()
            return True
        if lease.owner != owner and lease.until_us > now_us:
            return False
        lease.owner, lease.until_us = owner, now_us + ttl_us
        return True

    def end_lease(self, session: Session, *, owner: str) -> None:
        session.execute(
            update(SweeperLeaseRow)
            .where(SweeperLeaseRow.id == 1, SweeperLeaseRow.owner == owner)
            .values(until_us=0)
        )
