"""The retention check of an exported ledger (verify_export(..., retention=True)) against
forged or incomplete histories: a completed sweep that left an expired, unheld record
without a deletion receipt before it is named, with the record, its seq and the sweep."""

from __future__ import annotations

import re
from datetime import timedelta

from governance.entries import EntryType, iso_utc
from tests.retention._site import T0, Site, load, policies_text

NOW = T0 + timedelta(days=40)


def sweep_claim(now: str, holds: list[dict[str, str | None]] | None = None) -> dict[str, object]:
    return {
        "now": now,
        "policy_version": "forged",
        "holds": holds or [],
        "deleted": 0,
        "batches": 0,
        "held": 0,
        "buckets_shredded": [],
        "complete": True,
    }


def test_forged_complete_sweep_with_expired_record_is_reported(site: Site) -> None:
    """A forged complete sweep leaving an expired record unreceipted is named exactly."""
    (record,) = site.write("beta", "app_logs", T0, T0 + timedelta(days=7))
    (fresh,) = site.write("beta", "app_logs", T0, NOW + timedelta(days=1))
    assert site.verify().ok  # no sweep claimed anything yet
    site.append(EntryType.RETENTION_SWEEP, sweep_claim(iso_utc(NOW)))
    report = site.verify()
    assert not report.ok
    (problem,) = report.problems
    written = next(
        e["seq"]
        for e in site.entries(EntryType.RECORD_WRITTEN)
        if e["record_id"] == record.record_id
    )
    sweep = site.entries(EntryType.RETENTION_SWEEP)[0]["seq"]
    assert problem == (
        f"retention: record {record.record_id} (written at seq {written}) expired at "
        f"{iso_utc(record.expires_at)}, was not held, and the sweep at seq {sweep} "
        f"(now {iso_utc(NOW)}) left no deletion receipt for it"
    )
    assert fresh.record_id not in problem


def test_claims_that_hold_are_not_violations(site: Site) -> None:
    """Sweeps before expiry, with a covering hold or not complete are no violation."""
    (record,) = site.write("acme", "app_logs", T0, T0 + timedelta(days=7))
    site.append(
        EntryType.RETENTION_SWEEP,
        sweep_claim(iso_utc(record.expires_at - timedelta(microseconds=1))),
    )
    hold = {"name": "h", "tenant": "acme", "retention_class": None}
    site.append(EntryType.RETENTION_SWEEP, sweep_claim(iso_utc(NOW), [hold]))
    incomplete = sweep_claim(iso_utc(NOW))
    incomplete["complete"] = False
    site.append(EntryType.RETENTION_SWEEP, incomplete)
    report = site.verify()
    assert report.ok, report.problems
    assert report.retention is not None
    assert report.retention.sweeps == 2


def test_record_deleted_without_receipt_is_reported_after_a_real_sweep(site: Site) -> None:
    """A record deleted behind the ledger's back is named after the next real sweep."""
    (lost,) = site.write("beta", "app_logs", T0, T0 + timedelta(days=7))
    (swept,) = site.write("beta", "app_logs", T0, T0 + timedelta(days=7))
    site.execute("DELETE FROM log_records WHERE record_id = :id", id=lost.record_id)
    report = site.sweeper(load(policies_text())).run(now=NOW)
    assert report.deleted == 1
    verified = site.verify()
    assert not verified.ok
    assert len(verified.problems) == 1
    assert lost.record_id in verified.problems[0]
    assert swept.record_id not in verified.problems[0]


def test_receipt_after_the_claim_does_not_count(site: Site) -> None:
    """A deletion receipt appended after the sweep that needed it does not excuse it."""
    (record,) = site.write("beta", "app_logs", T0, T0 + timedelta(days=7))
    site.append(EntryType.RETENTION_SWEEP, sweep_claim(iso_utc(NOW)))
    site.append(
        EntryType.RETENTION_DELETION,
        {
            "tenant": "beta",
            "retention_class": "app_logs",
            "count": 1,
            "record_ids": [record.record_id],
        },
    )
    report = site.verify()
    assert len(report.problems) == 1
    assert record.record_id in report.problems[0]


def test_many_violations_are_listed_then_counted(site: Site) -> None:
    """25 records without receipts: 20 are named, then `... and 5 more`."""
    site.write("beta", "app_logs", T0, T0 + timedelta(days=7), count=25)
    site.append(EntryType.RETENTION_SWEEP, sweep_claim(iso_utc(NOW)))
    report = site.verify()
    assert len(report.problems) == 21
    assert all(re.match(r"retention: record [0-9a-f]{32} ", p) for p in report.problems[:20])
    assert report.problems[20] == "retention: ... and 5 more records without receipts"
