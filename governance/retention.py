"""Retention and erasure: expired records deleted on time, in bounded batches, provably.

`plan_*` functions are pure (what is expired, held, shreddable, and the ledger entries
that say so); `Sweeper` applies them. Every deletion batch commits in one transaction
with its `retention_deletion` ledger entry (record ids and their hash), so a crash at any
point leaves either both or neither, and a rerun deletes what is left: each record is
counted exactly once. A bucket (tenant, class, UTC day) whose records are all gone and
whose every possible record has expired is shredded: its data keys are destroyed in the
database (with a `key_destroyed` entry), then its bucket secret outside the database
(shredkeys.py), so copies of the database cannot open it either; a rerun finishes a
shred that a crash interrupted. Several replicas: one sweeper at a time (a lease row).
Time is the database's clock unless an operator passes `now` explicitly.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from governance.database import micros
from governance.entries import Draft, EntryType, iso_utc
from governance.errors import GovernanceError
from governance.expiry import Candidate, Expiry, HoldSpec, Scope
from governance.ledger import Ledger
from governance.policy import LegalHold, Policies
from governance.store import LogStore, micros_of
from governance.vault import DataKeyScope

__all__ = [
    "Erasure",
    "RetentionError",
    "SweepReport",
    "Sweeper",
    "deletion_entries",
    "plan_shreds",
]

_LEASE = timedelta(minutes=5)
_BUCKET_FORMAT = "%Y-%m-%d"


def _hold_specs(holds: Iterable[LegalHold]) -> list[HoldSpec]:
    return [(h.tenant, h.retention_class) for h in holds]


def _active(policies: Policies, now: datetime) -> list[LegalHold]:
    return [h for h in policies.retention.holds if h.until is None or now < h.until]


def _ids_hash(record_ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(record_ids)).encode()).hexdigest()


def deletion_entries(
    deleted: Sequence[Candidate],
    *,
    policies: Policies,
    now: datetime,
    at: datetime,
    actor: str,
    holds: Sequence[LegalHold],
) -> list[Draft]:
    """One `retention_deletion` entry per bucket scope of a committed batch."""
    by_scope: dict[Scope, list[str]] = {}
    for record in deleted:
        scope = (record.tenant, record.retention_class, record.bucket)
        by_scope.setdefault(scope, []).append(record.record_id)
    return [
        Draft(
            EntryType.RETENTION_DELETION,
            at,
            actor,
            {
                "tenant": tenant,
                "retention_class": retention_class,
                "bucket": bucket,
                "count": len(ids),
                "record_ids": sorted(ids),
                "record_ids_sha256": _ids_hash(ids),
                "policy_version": policies.file_version,
                "holds_checked": sorted(h.name for h in holds),
                "now": iso_utc(now),
            },
        )
        for (tenant, retention_class, bucket), ids in sorted(by_scope.items())
    ]


def plan_shreds(
    live: dict[Scope, list[tuple[str, int]]], *, policies: Policies, now: datetime
) -> list[Scope]:
    """Buckets to shred: no record left, and every record the bucket could hold expired.

    A bucket is a UTC day: a record written during it expires at most `keep` after its
    end (the keep in force now; held buckets are never shredded).
    """
    shreds = []
    for scope in sorted(live):
        tenant, retention_class, bucket = scope
        if any(count for _, count in live[scope]):
            continue
        if retention_class not in policies.retention.classes:
            continue  # a class no longer configured: nobody can say when it ends
        try:
            day = datetime.strptime(bucket, _BUCKET_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            continue
        keep = policies.retention.keep_for(retention_class, tenant)
        if day + timedelta(days=1) + keep > now:
            continue
        if policies.retention.holds_on(tenant, retention_class, now=now):
            continue
        shreds.append(scope)
    return shreds


@dataclass(slots=True)
class SweepReport:
    now: datetime
    dry_run: bool
    busy: bool = False  # another sweeper holds the lease; nothing was done
    stopped: bool = False  # asked to stop between batches; the rest is left for next time
    clock: datetime | None = None  # the database's clock when the sweep began
    deleted: int = 0
    batches: int = 0
    buckets_shredded: list[Scope] = field(default_factory=list)
    counts: list[tuple[str, str, str, bool, int]] = field(default_factory=list)

    @property
    def held(self) -> int:
        return sum(n for *_, held, n in self.counts if held)


@dataclass(frozen=True, slots=True)
class Erasure:
    deleted: list[str]
    held: dict[str, int]  # hold name -> records it kept


Step = Callable[[str], None]


class Sweeper:
    """Applies retention and erasure to one store and its ledger."""

    def __init__(
        self,
        store: LogStore,
        ledger: Ledger,
        policies: Policies,
        *,
        actor: str,
        step: Step = lambda name: None,
    ) -> None:
        self._store = store
        self._database = store.database
        self._ledger = ledger
        self._policies = policies
        self._actor = actor
        self._owner = f"{actor}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._expiry = Expiry(is_sqlite=self._database.is_sqlite)
        self._step = step  # called after each durable step: crash tests kill here

    def __repr__(self) -> str:
        return f"<Sweeper {self._owner}>"

    def _entry(self, kind: EntryType, at: datetime, body: dict[str, object]) -> Draft:
        return Draft(kind, at, self._actor, body)

    # -- the sweep ------------------------------------------------------------------------

    def run(
        self,
        *,
        now: datetime | None = None,
        dry_run: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> SweepReport:
        """Delete what expired by `now` (default: the database's clock), shred what is
        wholly expired, record it all. `should_stop` is asked between batches (shutdown);
        a stopped sweep records no summary and the next one goes on from there.
        Raises StoreUnavailable, LedgerBroken, RetentionError."""
        clock = self._database.now()
        moment = now or clock
        report = SweepReport(moment, dry_run)
        # A hold in force now stays in force even when an operator evaluates a later
        # `now`: evaluating ahead may delete what the policy would, never what a hold keeps.
        holds = _active(self._policies, min(moment, clock))
        report.clock = clock
        with self._database.reading() as session:
            report.counts = self._expiry.expired_counts(
                session, now_us=micros(moment), holds=_hold_specs(holds)
            )
        if dry_run:
            self._dry_run(report, holds)
            return report
        if not self._database.write(self._lease):
            report.busy = True
            return report
        try:
            while (
                count := self._database.write(lambda s: self._batch(s, moment, holds))
            ) is not None:
                report.deleted += count
                report.batches += 1
                self._step("batch_committed")
                if should_stop():
                    report.stopped = True
                    return report
            self._shred(moment, report)
            self._database.write(lambda s: self._prune_ledger(s, moment))
            final = self._database.write(lambda s: self._summary(s, moment, holds, report))
            report.deleted += final[0]
            report.batches += final[1]
            self._step("summary_committed")
        finally:
            # Best effort: a lease we cannot end (database gone) runs out by itself.
            with contextlib.suppress(GovernanceError):
                self._database.write(lambda s: self._expiry.end_lease(s, owner=self._owner))
        return report

    def _lease(self, session: Session) -> bool:
        return self._expiry.take_lease(
            session,
            owner=self._owner,
            now_us=micros(self._database.now_in(session)),
            ttl_us=micros_of(_LEASE),
        )

    def _batch(self, session: Session, now: datetime, holds: list[LegalHold]) -> int | None:
        """Delete one batch and record it; the count deleted, or None when nothing is left.

        Counts are returned, not added to the report here: a retried transaction would
        count twice."""
        if not self._lease(session):
            raise RetentionError("another sweeper took the lease over; this one stopped")
        batch = self._expiry.expired(
            session,
            now_us=micros(now),
            holds=_hold_specs(holds),
            limit=self._policies.retention.batch_size,
        )
        if not batch:
            return None
        gone = set(self._expiry.delete(session, [c.record_id for c in batch]))
        deleted = [c for c in batch if c.record_id in gone]
        at = self._database.now_in(session)
        entries = deletion_entries(
            deleted, policies=self._policies, now=now, at=at, actor=self._actor, holds=holds
        )
        self._ledger.append_in(session, entries, now=at)
        return len(deleted)

    def _shred(self, now: datetime, report: SweepReport) -> None:
        def in_database(session: Session) -> list[Scope]:
            if not self._lease(session):
                raise RetentionError("another sweeper took the lease over; this one stopped")
            live = self._expiry.live_keys(session)
            scopes = plan_shreds(live, policies=self._policies, now=now)
            at = self._database.now_in(session)
            entries = []
            done = []
            for scope in scopes:
                key_ids = [key_id for key_id, _ in live[scope]]
                destroyed = self._expiry.destroy_if_empty(session, key_ids, now_us=micros(at))
                if not destroyed:
                    continue  # a record arrived since: not wholly expired after all
                # Marked in the same transaction: no data key is made for it again, and
                # its secret is destroyed below, and by every later sweep until it is.
                self._expiry.mark_shredded(session, scope, now_us=micros(at))
                done.append(scope)
                tenant, retention_class, bucket = scope
                entries.append(
                    self._entry(
                        EntryType.KEY_DESTROYED,
                        at,
                        {
                            "key": "data_key",
                            "key_ids": destroyed,
                            "tenant": tenant,
                            "retention_class": retention_class,
                            "bucket": bucket,
                            "reason": "retention",
                            "policy_version": self._policies.file_version,
                            "now": iso_utc(now),
                        },
                    )
                )
            self._ledger.append_in(session, entries, now=at)
            return done

        shredded = self._database.write(in_database)
        self._step("keys_destroyed")
        report.buckets_shredded = shredded
        # Then the secrets outside the database; also those a crash left behind last time.
        with self._database.reading() as session:
            finished = self._expiry.shredded_scopes(session)
        self._store.shred_buckets(DataKeyScope(t, c, b) for t, c, b in sorted(finished))
        self._step("bucket_keys_destroyed")

    def _prune_ledger(self, session: Session, now: datetime) -> None:
        """Drop the text of ledger entries older than retention.ledger_keep (if set); their
        hashes stay, so the tree, its proofs and later entries still verify."""
        keep = self._policies.retention.ledger_keep
        if keep is None:
            return
        # Entries are stamped with the database's clock: prune by it, never by an
        # operator's `now` (a future `now` would prune the receipts just written).
        if not self._lease(session):
            raise RetentionError("another sweeper took the lease over; this one stopped")
        at = self._database.now_in(session)
        before_us = micros(min(now, at) - keep)
        oldest = self._expiry.oldest_written_us(session)
        if oldest is not None:
            # A record still stored (held, or not yet expired) keeps its record_written
            # entry: a later deletion receipt must name a record the ledger shows.
            before_us = min(before_us, oldest)
        pruned = self._ledger.prune_in(session, before_us=before_us)
        if pruned is None:
            return
        body: dict[str, object] = {
            "first_seq": pruned[0],
            "last_seq": pruned[1],
            "ledger_keep_seconds": int(keep.total_seconds()),
            "policy_version": self._policies.file_version,
            "now": iso_utc(now),
        }
        self._ledger.append_in(session, [self._entry(EntryType.LEDGER_PRUNED, at, body)], now=at)

    def _summary(
        self, session: Session, now: datetime, holds: list[LegalHold], report: SweepReport
    ) -> tuple[int, int]:
        # The summary says "everything expired by `now` and not held is gone". Take the
        # ledger's lock first, so every record committed before it is visible, and delete
        # what is still expired in this same transaction: the claim holds at its seq.
        self._ledger.lock_in(session)
        deleted = batches = 0
        while (count := self._batch(session, now, holds)) is not None:
            deleted, batches = deleted + count, batches + 1
        at = self._database.now_in(session)
        body: dict[str, object] = {
            "now": iso_utc(now),
            "clock": iso_utc(report.clock or at),  # differs from `now` under --now
            "policy_version": self._policies.file_version,
            "holds": [
                {"name": h.name, "tenant": h.tenant, "retention_class": h.retention_class}
                for h in holds
            ],
            "deleted": report.deleted + deleted,
            "batches": report.batches + batches,
            "held": report.held,
            "buckets_shredded": [list(scope) for scope in report.buckets_shredded],
            "complete": True,
        }
        self._ledger.append_in(session, [self._entry(EntryType.RETENTION_SWEEP, at, body)], now=at)
        return deleted, batches

    def _dry_run(self, report: SweepReport, holds: list[LegalHold]) -> None:
        with self._database.reading() as session:
            live = self._expiry.live_keys(session)
        # What a run would shred: buckets with nothing left but what it would delete.
        doomed: dict[Scope, int] = {}
        for tenant, retention_class, bucket, held, count in report.counts:
            if not held:
                doomed[(tenant, retention_class, bucket)] = count
        after = {
            scope: [(key, 0) for key, _ in keys]
            for scope, keys in live.items()
            if sum(n for _, n in keys) == doomed.get(scope, 0)
        }
        report.buckets_shredded = plan_shreds(after, policies=self._policies, now=report.now)

        def record(session: Session) -> None:
            at = self._database.now_in(session)
            body: dict[str, object] = {
                "now": iso_utc(report.now),
                "policy_version": self._policies.file_version,
                "holds": sorted(h.name for h in holds),
                "would_delete": [
                    {"tenant": t, "retention_class": c, "bucket": b, "count": n}
                    for t, c, b, held, n in report.counts
                    if not held
                ],
                "held": [
                    {"tenant": t, "retention_class": c, "bucket": b, "count": n}
                    for t, c, b, held, n in report.counts
                    if held
                ],
                "would_shred": [list(scope) for scope in report.buckets_shredded],
            }
            entry = self._entry(EntryType.RETENTION_DRY_RUN, at, body)
            self._ledger.append_in(session, [entry], now=at)

        self._database.write(record)

    # -- erasure and re-evaluation --------------------------------------------------------

    def erase(self, *, token: str, tenant: str | None, now: datetime | None = None) -> Erasure:
        """Delete every record of one data subject (by HMAC token), except what a legal
        hold covers; recorded with counts and record ids, never the subject's id."""

        def work(session: Session) -> Erasure:
            moment = now or self._database.now_in(session)
            # The ledger's lock first, as a sweep's summary takes it: the two never wait
            # on each other's rows in opposite order.
            self._ledger.lock_in(session)
            found = self._expiry.of_subject(session, token=token, tenant=tenant)
            kept: dict[str, int] = {}
            deletable = []
            for record in found:
                holds = self._policies.retention.holds_on(
                    record.tenant, record.retention_class, now=moment
                )
                if holds:
                    for hold in holds:
                        kept[hold.name] = kept.get(hold.name, 0) + 1
                else:
                    deletable.append(record.record_id)
            deleted = self._expiry.delete(session, deletable)
            at = self._database.now_in(session)
            body: dict[str, object] = {
                "tenant": tenant,
                "count": len(deleted),
                "record_ids": deleted,
                "record_ids_sha256": _ids_hash(deleted),
                "held": kept,
                "policy_version": self._policies.file_version,
                "now": iso_utc(moment),
            }
            self._ledger.append_in(session, [self._entry(EntryType.ERASURE, at, body)], now=at)
            return Erasure(deleted, kept)

        return self._database.write(work)

    def apply_policy(self, *, batch: int = 1000) -> int:
        """Re-fix every record's expiry from the policy now in force; returns how many
        changed. Each batch commits with a `retention_policy_applied` entry listing them."""
        retention = self._policies.retention

        def expiry_of(tenant: str, retention_class: str, written_us: int) -> int:
            if retention_class not in retention.classes:
                raise RetentionError(
                    f"records of retention class {retention_class!r} exist, but "
                    "retention.classes does not define it"
                )
            return written_us + micros_of(retention.keep_for(retention_class, tenant))

        total, after = 0, ""
        if not self._database.write(self._lease):
            raise RetentionError("a sweep is running; apply the policy when it has finished")

        def work(session: Session) -> str | None:
            if not self._lease(session):
                raise RetentionError("another sweeper took the lease over; stopped")
            nonlocal total
            changed, last = self._expiry.reexpire(session, expiry_of, after=after, limit=batch)
            if changed:
                at = self._database.now_in(session)
                body: dict[str, object] = {
                    "policy_version": self._policies.file_version,
                    "count": len(changed),
                    "changes": [
                        [record_id, iso_utc(_from_us(new))] for record_id, _, new in changed
                    ],
                }
                entry = self._entry(EntryType.RETENTION_POLICY_APPLIED, at, body)
                self._ledger.append_in(session, [entry], now=at)
            total += len(changed)
            return last

        try:
            while True:
                last = self._database.write(work)
                if last is None:
                    return total
                after = last
        finally:
            with contextlib.suppress(GovernanceError):
                self._database.write(lambda s: self._expiry.end_lease(s, owner=self._owner))


def _from_us(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


class RetentionError(GovernanceError):
    """A sweep or re-evaluation cannot go on; the message names the class or the lease."""
