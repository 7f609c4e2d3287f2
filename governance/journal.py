"""One transaction for what a decision leaves behind: sealed records and the ledger
entries about them, both committed or neither.

The sidecar's group-commit recorder hands a batch of units to `Journal.commit`; each unit
is an optional record plus the ledger entries that describe it (the screening decision).
For each record the journal adds a `record_written` entry naming the record, its class
and the data key that sealed it, and a `key_created` entry for every data key the batch
created, so the ledger accounts for every record and key without ever holding content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from governance.entries import Draft, EntryType, iso_utc
from governance.ledger import Ledger
from governance.store import CreatedKey, LogStore, NewRecord, Written

__all__ = ["Committed", "Journal", "Unit", "key_created", "record_written"]


@dataclass(frozen=True, slots=True)
class Unit:
    """A record to seal (or None) and the ledger entries that go with it."""

    record: NewRecord | None = None
    entries: tuple[Draft, ...] = ()
    about: str | None = None  # the inference or decision id the record belongs to

    def __repr__(self) -> str:
        return f"<Unit record={self.record is not None} entries={len(self.entries)}>"


@dataclass(frozen=True, slots=True)
class Committed:
    record_id: str | None
    seqs: tuple[int, ...]


def record_written(record: NewRecord, written: Written, *, actor: str, about: str | None) -> Draft:
    body: dict[str, object] = {
        "record_id": written.record_id,
        "tenant": record.tenant,
        "retention_class": written.retention_class,
        "kind": record.kind,
        "model": record.model,
        "key_id": written.key_id,
        "expires_at": iso_utc(written.expires_at),
    }
    if about is not None:
        body["decision_id"] = about
    return Draft(EntryType.RECORD_WRITTEN, record.created_at, actor, body)


def key_created(key: CreatedKey, *, actor: str, at: datetime) -> Draft:
    return Draft(
        EntryType.KEY_CREATED,
        at,
        actor,
        {
            "key": "data_key",
            "key_id": key.key_id,
            "tenant": key.tenant,
            "retention_class": key.retention_class,
            "bucket": key.bucket,
            "generation": key.generation,
            "kek_version": key.kek_version,
        },
    )


class Journal:
    """Commits units through the log store and (if enabled) the ledger, in one transaction."""

    def __init__(
        self,
        store: LogStore,
        ledger: Ledger | None,
        *,
        actor: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.ledger = ledger
        self._actor = actor
        self._clock = clock

    def __repr__(self) -> str:
        return f"<Journal {self.store!r} {self.ledger!r}>"

    def commit(self, units: Sequence[Unit]) -> list[Committed]:
        """Write every unit; returns, per unit, its record id and ledger sequence numbers.

        Returns only after the commit. Raises StoreUnavailable (nothing written).
        """
        if not units:
            return []
        return self.store.database.write(lambda session: self._commit_in(session, units))

    def _commit_in(self, session: Session, units: Sequence[Unit]) -> list[Committed]:
        # The database's clock: written_us of the records and appended_us of their entries
        # are then the same value (retention prunes the ledger by it).
        now = self.store.database.now_in(session)
        records = [u.record for u in units if u.record is not None]
        written, created = self.store.put_in(session, records, now=now) if records else ([], [])
        if self.ledger is None:  # no entries to build (benchmarks of the store alone)
            places = iter(written)
            return [
                Committed(next(places).record_id if u.record is not None else None, ())
                for u in units
            ]
        drafts = [key_created(key, actor=self._actor, at=self._clock()) for key in created]
        owners: list[int | None] = [None] * len(drafts)
        record_ids: list[str | None] = []
        places = iter(written)
        for index, unit in enumerate(units):
            unit_drafts = list(unit.entries)
            record_id = None
            if unit.record is not None:
                place = next(places)
                record_id = place.record_id
                unit_drafts.append(
                    record_written(unit.record, place, actor=self._actor, about=unit.about)
                )
            record_ids.append(record_id)
            drafts += unit_drafts
            owners += [index] * len(unit_drafts)
        seqs = self.ledger.append_in(session, drafts, now=now)
        by_unit: list[list[int]] = [[] for _ in units]
        for owner, seq in zip(owners, seqs, strict=False):
            if owner is not None:
                by_unit[owner].append(seq)
        return [Committed(rid, tuple(s)) for rid, s in zip(record_ids, by_unit, strict=True)]
