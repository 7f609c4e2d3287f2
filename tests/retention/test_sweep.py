"""Retention sweeps on SQLite and PostgreSQL: exact expiry boundaries, per-tenant
overrides, legal holds, bounded batches, dry runs and the database's clock. Every
scenario ends with a full ledger export that verifies with the retention check on."""

from __future__ import annotations

import hashlib
import itertools
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, tzinfo

import pytest

import governance.database
from governance.entries import EntryType, iso_utc
from tests.retention._site import T0, Seeded, Site, Spec, load, policies_text

HOLD = "reason: litigation, approver: legal@example.com"
NOW = T0 + timedelta(days=40)
US = timedelta(microseconds=1)


def assert_verifies(site: Site) -> None:
    report = site.verify()
    assert report.ok, report.problems
    assert report.retention is not None
    assert report.retention.records == len(site.seeded)


def test_expiry_boundary_is_inclusive(site: Site) -> None:
    """expires_at == now is deleted; a sweep 1 µs earlier or a record 1 µs later is not."""
    policies = load(policies_text())
    expiry = T0 + timedelta(days=30, microseconds=123_457)
    (due,) = site.write("beta", "inference_logs", T0, expiry)
    (later,) = site.write("beta", "inference_logs", T0, expiry + US)
    sweeper = site.sweeper(policies)

    early = sweeper.run(now=expiry - US, dry_run=True)
    assert early.counts == []
    before = sweeper.run(now=expiry - US)
    assert (before.deleted, before.batches) == (0, 0)
    assert site.record_ids() == {due.record_id, later.record_id}

    dry = sweeper.run(now=expiry, dry_run=True)
    assert dry.counts == [("beta", "inference_logs", "2026-06-01", False, 1)]
    at = sweeper.run(now=expiry)
    assert (at.deleted, at.batches) == (1, 1)
    assert site.record_ids() == {later.record_id}
    assert site.deleted_ids() == [due.record_id]
    (last,) = site.entries(EntryType.RETENTION_DELETION)
    assert last["now"] == iso_utc(expiry)
    assert_verifies(site)


def test_tenant_override_keeps_its_records_longer(site: Site) -> None:
    """inference_logs 30d with acme 90d: day 31 deletes beta's records, day 90 acme's."""
    policies = load(policies_text())
    keep = policies.retention.keep_for
    acme = site.write("acme", "inference_logs", T0, T0 + keep("inference_logs", "acme"), count=2)
    beta = site.write("beta", "inference_logs", T0, T0 + keep("inference_logs", "beta"), count=3)
    sweeper = site.sweeper(policies)

    first = sweeper.run(now=T0 + timedelta(days=31))
    assert first.deleted == 3
    assert site.record_ids() == {r.record_id for r in acme}
    assert sorted(site.deleted_ids()) == sorted(r.record_id for r in beta)
    assert sweeper.run(now=T0 + timedelta(days=90) - US).deleted == 0
    assert sweeper.run(now=T0 + timedelta(days=90)).deleted == 2
    assert site.record_ids() == set()
    assert site.deletion_counts() == {
        ("beta", "inference_logs", "2026-06-01"): 3,
        ("acme", "inference_logs", "2026-06-01"): 2,
    }
    assert_verifies(site)


GRID = [(t, c) for t in ("acme", "beta") for c in ("inference_logs", "app_logs")]


@pytest.mark.parametrize(
    ("hold", "kept", "active"),
    [
        pytest.param(
            f"{{name: h, tenant: acme, {HOLD}}}",
            {("acme", "inference_logs"), ("acme", "app_logs")},
            True,
            id="tenant",
        ),
        pytest.param(
            f"{{name: h, class: app_logs, {HOLD}}}",
            {("acme", "app_logs"), ("beta", "app_logs")},
            True,
            id="class",
        ),
        pytest.param(
            f"{{name: h, tenant: acme, class: app_logs, {HOLD}}}",
            {("acme", "app_logs")},
            True,
            id="tenant-and-class",
        ),
        pytest.param(
            f"{{name: h, tenant: acme, until: 2026-07-10, {HOLD}}}",  # NOW is 2026-07-11
            set(),
            False,
            id="ended",
        ),
        pytest.param(
            f"{{name: h, tenant: acme, until: '2026-07-11T08:00:00.000001Z', {HOLD}}}",
            {("acme", "inference_logs"), ("acme", "app_logs")},
            True,
            id="ends-a-microsecond-after-now",
        ),
    ],
)
def test_holds_keep_what_they_cover(
    site: Site, hold: str, kept: set[tuple[str, str]], active: bool
) -> None:
    """Expired records a running hold covers survive, counted as held; ended holds don't."""
    policies = load(policies_text(holds=f"    - {hold}\n"))
    written = {scope: site.write(*scope, T0, T0 + timedelta(days=1))[0] for scope in GRID}
    report = site.sweeper(policies).run(now=NOW)
    survivors = {
        scope for scope, record in written.items() if record.record_id in site.record_ids()
    }
    assert survivors == kept
    assert report.held == len(kept)
    assert report.deleted == len(GRID) - len(kept)
    assert {(t, c) for t, c, _, held, _ in report.counts if held} == kept
    (summary,) = site.entries(EntryType.RETENTION_SWEEP)
    assert summary["complete"] is True
    assert [h["name"] for h in summary["holds"]] == (["h"] if active else [])
    assert (summary["deleted"], summary["held"]) == (len(GRID) - len(kept), len(kept))
    for entry in site.entries(EntryType.RETENTION_DELETION):
        assert entry["holds_checked"] == [h["name"] for h in summary["holds"]]
    assert_verifies(site)


def test_hold_until_ends_exactly(site: Site) -> None:
    """A record held until U survives a sweep at U - 1 µs and is deleted by one at U."""
    until = datetime(2026, 7, 11, 8, 30, 0, 250_000, tzinfo=UTC)
    policies = load(
        policies_text(
            holds=f"    - {{name: h, tenant: acme, until: '{until.isoformat()}', {HOLD}}}\n"
        )
    )
    (record,) = site.write("acme", "app_logs", T0, T0 + timedelta(days=7))
    sweeper = site.sweeper(policies)
    held = sweeper.run(now=until - US)
    assert (held.deleted, held.held) == (0, 1)
    assert site.record_ids() == {record.record_id}
    freed = sweeper.run(now=until)
    assert (freed.deleted, freed.held) == (1, 0)
    assert site.record_ids() == set()
    assert_verifies(site)


def test_batches_are_bounded_and_each_has_its_entries(site: Site) -> None:
    """batch_size 3 over 10 records: 4 batches, oldest first, each with its own entries."""
    policies = load(policies_text(extra="  batch_size: 3\n"))
    expired: list[Seeded] = []
    for i in range(10):
        tenant = "beta" if i % 2 else "gamma"
        created = T0 + timedelta(hours=i)
        expired += site.write(tenant, "app_logs", created, created + timedelta(days=7, minutes=i))
    fresh = site.write("beta", "app_logs", NOW, NOW + timedelta(days=7), count=2)
    sizes: list[int] = []

    def step(name: str) -> None:
        if name == "batch_committed":
            sizes.append(site.ledger.state().size)

    start = site.ledger.state().size
    report = site.sweeper(policies, step=step).run(now=NOW)
    assert (report.deleted, report.batches) == (10, 4)
    assert site.record_ids() == {r.record_id for r in fresh}

    by_expiry = [r.record_id for r in sorted(expired, key=lambda r: r.expires_at)]
    seen: list[str] = []
    bounds = [start, *sizes]
    for batch, (low, high) in enumerate(itertools.pairwise(bounds)):
        entries = [e for e in site.entries() if low <= e["seq"] < high]
        assert entries
        assert all(e["type"] == "retention_deletion" for e in entries)
        ids = [i for e in entries for i in e["record_ids"]]
        assert len(ids) == (3 if batch < 3 else 1)
        assert sorted(ids) == sorted(by_expiry[3 * batch : 3 * batch + 3])  # oldest first
        for entry in entries:
            assert entry["count"] == len(entry["record_ids"])
            assert entry["record_ids"] == sorted(entry["record_ids"])
            digest = hashlib.sha256("\n".join(entry["record_ids"]).encode()).hexdigest()
            assert entry["record_ids_sha256"] == digest
            assert entry["policy_version"] == policies.file_version
            assert entry["now"] == iso_utc(NOW)
            assert entry["actor"] == "test-sweeper"
        seen += ids
    assert len(seen) == len(set(seen)) == 10
    (summary,) = site.entries(EntryType.RETENTION_SWEEP)
    assert (summary["deleted"], summary["batches"]) == (10, 4)
    assert summary["seq"] >= sizes[-1]
    assert_verifies(site)


def _random_site(site: Site, seed: int) -> None:
    """About 80 records over 4 tenants, 2 classes and 12 days, expiring 7, 30 or 90 days on."""
    rng = random.Random(seed)
    specs = []
    for _ in range(40):
        tenant = rng.choice(["acme", "beta", "gamma", "globex"])
        retention_class = rng.choice(["inference_logs", "app_logs"])
        created = T0 + timedelta(days=rng.randrange(12), minutes=rng.randrange(1440))
        expires = created + timedelta(days=rng.choice([7, 30, 90]), seconds=rng.randrange(60))
        specs += [Spec(tenant, retention_class, created, expires)] * rng.randint(1, 3)
    site.write_all(specs)


@pytest.mark.parametrize("seed", [1, 2])
def test_dry_run_counts_what_the_run_then_deletes(site: Site, seed: int) -> None:
    """A dry run changes nothing but one entry; the run then deletes exactly its counts."""
    policies = load(
        policies_text(
            holds=f"    - {{name: g, tenant: globex, {HOLD}}}\n"
            f"    - {{name: ga, tenant: gamma, class: app_logs, {HOLD}}}\n",
            extra="  batch_size: 7\n",
        )
    )
    _random_site(site, seed)
    records, keys = site.record_ids(), site.store.data_keys()
    buckets, size = site.bucket_file(), site.ledger.state().size
    sweeper = site.sweeper(policies)

    dry = sweeper.run(now=NOW, dry_run=True)
    assert (dry.dry_run, dry.deleted, dry.batches) == (True, 0, 0)
    assert site.record_ids() == records
    assert site.store.data_keys() == keys
    assert site.bucket_file() == buckets
    assert site.execute("SELECT count(*) FROM sweeper_lease")[0][0] == 0
    assert site.ledger.state().size == size + 1
    (entry,) = site.entries(EntryType.RETENTION_DRY_RUN)
    assert entry["seq"] == size
    assert entry["now"] == iso_utc(NOW)
    assert entry["holds"] == ["g", "ga"]

    would = Counter({(t, c, b): n for t, c, b, held, n in dry.counts if not held})
    assert would, "the scenario should expire something"
    assert [
        [d["tenant"], d["retention_class"], d["bucket"], d["count"]] for d in entry["would_delete"]
    ] == [[*scope, n] for scope, n in sorted(would.items())]
    assert entry["would_shred"] == [list(scope) for scope in dry.buckets_shredded]

    real = sweeper.run(now=NOW)
    assert site.deletion_counts() == would
    assert real.deleted == sum(would.values())
    assert real.held == dry.held == sum(d["count"] for d in entry["held"])
    assert real.buckets_shredded == dry.buckets_shredded
    assert_verifies(site)


def test_stopped_sweep_records_no_summary_and_frees_the_lease(site: Site) -> None:
    """A sweep stopped after a batch writes no summary, frees the lease; the next finishes."""
    policies = load(policies_text(extra="  batch_size: 2\n"))
    site.write("beta", "app_logs", T0, T0 + timedelta(days=7), count=5)
    stopped = site.sweeper(policies).run(now=NOW, should_stop=lambda: True)
    assert (stopped.stopped, stopped.deleted, stopped.batches) == (True, 2, 1)
    assert site.entries(EntryType.RETENTION_SWEEP) == []
    assert len(site.record_ids()) == 3
    other = site.sweeper(policies).run(now=NOW)  # a new owner: the lease was released
    assert (other.busy, other.deleted) == (False, 3)
    assert len(site.deleted_ids()) == len(set(site.deleted_ids())) == 5
    assert_verifies(site)


def test_sweep_without_now_uses_the_database_clock(
    pg_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With this host's clock a day fast, PostgreSQL sweeps by the server's clock."""
    site = pg_site
    policies = load(policies_text())

    class AnyDatetime(type):
        def __instancecheck__(cls, instance: object) -> bool:
            return isinstance(instance, datetime)

    class FastClock(datetime, metaclass=AnyDatetime):
        """This host's clock, a day fast (a fault no test can set up for real)."""

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> FastClock:
            return super().now(tz) + timedelta(days=1)

    monkeypatch.setattr(governance.database, "datetime", FastClock)

    def server_now() -> datetime:
        moment: datetime = site.execute("SELECT now()")[0][0]
        return moment.astimezone(UTC)

    before = server_now()
    hour = site.write("beta", "app_logs", before, before, count=2, keep=timedelta(hours=1))
    second = site.write("beta", "app_logs", before, before, count=1, keep=timedelta(seconds=1))
    after = server_now()
    for record in hour:
        assert before + timedelta(hours=1) <= record.expires_at <= after + timedelta(hours=1)
    time.sleep(max(0.0, (second[0].expires_at - server_now()).total_seconds()) + 0.05)

    report = site.sweeper(policies).run()
    assert abs((report.now - server_now()).total_seconds()) < 5
    assert report.deleted == 1
    assert site.record_ids() == {r.record_id for r in hour}
    (summary,) = site.entries(EntryType.RETENTION_SWEEP)
    assert summary["now"] == iso_utc(report.now)
    assert_verifies(site)
