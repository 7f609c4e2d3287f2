"""Crypto-shredding by the sweeper: a bucket (tenant, class, UTC day) whose records are all
gone and whose every possible record has expired loses its data keys in the database and
its secret outside it, so even a copy of the database taken before the sweep can no
longer open its records; buckets not shredded still open there."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.entries import EntryType
from governance.shredkeys import BucketShredded, bucket_id
from governance.store import OpenedRecord, UnreadableRecord
from tests.retention._site import T0, Site, Spec, load, policies_text, scope_id
from tests.retention.conftest import CopyOf

HOLD = "reason: litigation, approver: legal@example.com"
NOW = T0 + timedelta(days=40)  # 2026-07-11T08:00Z


def key_ids(site: Site, scope: tuple[str, str, str]) -> list[str]:
    return sorted(
        str(k["key_id"])
        for k in site.store.data_keys()
        if (k["tenant"], k["retention_class"], k["bucket"]) == scope
    )


def test_shredded_buckets_cannot_be_opened_in_an_earlier_copy(site: Site, copy_of: CopyOf) -> None:
    """A copy taken before the sweep opens no shredded record; other buckets still open."""
    policies = load(policies_text(holds=f"    - {{name: g, tenant: globex, {HOLD}}}\n"))
    day = timedelta(days=1)
    gone_inference = site.write("beta", "inference_logs", T0, T0 + 30 * day, count=3)
    gone_app = site.write("beta", "app_logs", T0 + 2 * day, T0 + 9 * day, count=2)
    # Created 2026-06-11T00:30Z: expired at NOW, but a record written later that day
    # would not be, so the bucket is emptied and kept.
    late = T0.replace(day=11, hour=0, minute=30)
    emptied = site.write("beta", "inference_logs", late, late + 30 * day)
    held = site.write("globex", "inference_logs", T0, T0 + 30 * day, count=2)
    live = site.write("acme", "inference_logs", T0, T0 + 90 * day, count=2)
    shredded_scopes = sorted({gone_inference[0].scope, gone_app[0].scope})
    shredded_keys = {scope: key_ids(site, scope) for scope in shredded_scopes}
    assert all(shredded_keys.values())

    backup = copy_of(site)
    report = site.sweeper(policies).run(now=NOW)

    assert report.buckets_shredded == shredded_scopes
    assert report.deleted == 6
    destroyed = site.entries(EntryType.KEY_DESTROYED)
    assert [(e["tenant"], e["retention_class"], e["bucket"]) for e in destroyed] == shredded_scopes
    for entry in destroyed:
        scope = (entry["tenant"], entry["retention_class"], entry["bucket"])
        assert entry["key_ids"] == shredded_keys[scope]
        assert (entry["key"], entry["reason"]) == ("data_key", "retention")
        assert entry["policy_version"] == policies.file_version
    buckets = site.bucket_file()
    for scope in shredded_scopes:
        assert buckets[bucket_id(*scope)] is None  # a tombstone, never re-created
    for kept in (emptied[0], held[0], live[0]):
        assert buckets[scope_id(kept)] is not None
    (summary,) = site.entries(EntryType.RETENTION_SWEEP)
    assert summary["buckets_shredded"] == [list(s) for s in shredded_scopes]

    # The copy: every record of before the sweep, wrapped keys intact, bucket secrets gone.
    copy = site.open_store(backup)
    wrapped = {str(k["key_id"]) for k in copy.data_keys() if not k["destroyed"]}
    assert {k for keys in shredded_keys.values() for k in keys} <= wrapped
    found = {r.record_id: r for r in copy.read()}
    assert set(found) == set(site.seeded)
    for record in gone_inference + gone_app:
        assert found[record.record_id] == UnreadableRecord(record.record_id, "data key destroyed")
    for record in emptied + held + live:
        opened = found[record.record_id]
        assert isinstance(opened, OpenedRecord)
        assert opened.tenant == record.tenant

    # The live database: what is left still opens.
    now_there = site.opened()
    assert set(now_there) == {r.record_id for r in held + live}
    assert all(isinstance(r, OpenedRecord) for r in now_there.values())
    report_ = site.verify()
    assert report_.ok, report_.problems


def test_shred_waits_for_the_tenant_override(site: Site) -> None:
    """An emptied bucket is shredded only once its tenant's keep after its day has passed."""
    policies = load(policies_text())
    day = timedelta(days=1)
    acme = site.write("acme", "inference_logs", T0, T0 + 90 * day, subject="s")
    beta = site.write("beta", "inference_logs", T0, T0 + 30 * day, subject="s")
    sweeper = site.sweeper(policies)
    erased = sweeper.erase(token=site.token("s"), tenant=None, now=T0 + day)
    assert sorted(erased.deleted) == sorted([acme[0].record_id, beta[0].record_id])

    first = sweeper.run(now=T0.replace(hour=0) + 31 * day)
    assert first.buckets_shredded == [beta[0].scope]
    second = sweeper.run(now=T0.replace(hour=0) + 91 * day - timedelta(microseconds=1))
    assert second.buckets_shredded == []
    third = sweeper.run(now=T0.replace(hour=0) + 91 * day)
    assert third.buckets_shredded == [acme[0].scope]
    assert site.live_buckets() == set()
    report = site.verify()
    assert report.ok, report.problems


def test_held_bucket_is_not_shredded_until_the_hold_ends(site: Site) -> None:
    """An emptied bucket under a hold is not shredded until the hold ends."""
    (record,) = site.write("beta", "app_logs", T0, T0 + timedelta(days=7))
    site.sweeper(load(policies_text())).run(now=T0 + timedelta(days=7, hours=1))
    assert site.record_ids() == set()
    hold = f"    - {{name: audit, class: app_logs, until: 2026-07-31, {HOLD}}}\n"
    policies = load(policies_text(holds=hold))
    sweeper = site.sweeper(policies)
    assert sweeper.run(now=NOW).buckets_shredded == []
    assert scope_id(record) in site.live_buckets()
    after = sweeper.run(now=T0.replace(month=8, day=1, hour=0))
    assert after.buckets_shredded == [record.scope]
    assert scope_id(record) not in site.live_buckets()
    report = site.verify()
    assert report.ok, report.problems


def test_shredded_bucket_refuses_new_records(site: Site) -> None:
    """A record for a shredded bucket is refused: its secret is never re-created."""
    (record,) = site.write("beta", "app_logs", T0, T0 + timedelta(days=7))
    site.sweeper(load(policies_text())).run(now=NOW)
    assert scope_id(record) not in site.live_buckets()
    size = site.ledger.state().size
    with pytest.raises(BucketShredded):
        site.write_all([Spec("beta", "app_logs", T0 + timedelta(hours=1), NOW)])
    assert site.record_ids() == set()
    assert site.ledger.state().size == size
    assert site.bucket_file()[scope_id(record)] is None
    site.check()
