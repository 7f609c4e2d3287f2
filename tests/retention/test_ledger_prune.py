"""retention.ledger_keep: a sweep drops the text of ledger entries appended longer ago
than ledger_keep (by the database's clock), recorded as `ledger_pruned`; the leaf hashes
stay, so the tree, checkpoints signed before and the kept entries still verify.

Old history is made by moving `appended_us` of the first entries two years back with raw
SQL, as a ledger written two years ago would have it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance.database import micros
from governance.entries import EntryType, iso_utc
from governance.export import ExportRequestError, jsonl_lines, plan_export
from governance.ledger import EntriesPruned
from governance.verify import verify_export
from tests.retention._site import T0, Site, load, policies_text

TWO_YEARS = timedelta(days=2 * 365)
POLICIES = policies_text(extra="  ledger_keep: 1y\n")
HOLD = "    - {name: beta-hold, tenant: beta, reason: litigation, approver: legal}\n"


def old_history(site: Site) -> tuple[int, set[str], set[str]]:
    """Three beta records written two years ago (expired a week later), then two acme
    records written now; returns (entries in the old history, old ids, fresh ids)."""
    now = site.store.database.now()
    then = now - TWO_YEARS
    old = site.write("beta", "app_logs", then, then + timedelta(days=7), count=3)
    size = site.ledger.state().size
    site.execute(
        "UPDATE ledger_entries SET appended_us = appended_us - :age WHERE seq < :size",
        age=micros(now) - micros(then),
        size=size,
    )
    fresh = site.write("acme", "inference_logs", now, now + timedelta(days=90), count=2)
    return size, {r.record_id for r in old}, {r.record_id for r in fresh}


def test_sweep_prunes_entries_older_than_ledger_keep(site: Site) -> None:
    """Sweeps prune entry text older than ledger_keep; root, proofs and kept entries hold."""
    old, _, fresh = old_history(site)
    before = site.ledger.sign_checkpoint(site.signer, now=datetime.now(UTC))
    report = site.sweeper(load(POLICIES)).run()
    assert report.deleted == 3
    assert site.record_ids() == fresh

    assert site.ledger.first_unpruned() == old
    with pytest.raises(EntriesPruned):
        list(site.ledger.entries(0, 1))
    assert site.ledger.root_at(before.size) == before.root
    (pruned,) = site.entries(EntryType.LEDGER_PRUNED)
    assert (pruned["first_seq"], pruned["last_seq"]) == (0, old - 1)
    assert pruned["ledger_keep_seconds"] == 365 * 86_400
    assert pruned["now"] == iso_utc(report.now)
    assert [e["type"] for e in site.entries()][-2:] == ["ledger_pruned", "retention_sweep"]

    with pytest.raises(ExportRequestError, match=r"pruned"):
        plan_export(site.ledger, site.signer, now=datetime.now(UTC), from_seq=0)
    span = plan_export(site.ledger, site.signer, now=datetime.now(UTC))
    assert span.start == old
    lines = list(
        jsonl_lines(
            site.ledger,
            span,
            now=datetime.now(UTC),
            actor="auditor",
            consistency_from=[before.size],
        )
    )
    verified = verify_export(lines, site.signer.verifier, before.note, expected_range=(old, None))
    assert verified.ok, verified.problems


def test_future_now_never_prunes_recent_entries(site: Site) -> None:
    """A sweep told `now` is 2099 prunes by the database clock: no recent entry goes."""
    site.write("beta", "app_logs", T0, T0 + timedelta(days=7), count=2)
    report = site.sweeper(load(POLICIES)).run(now=T0.replace(year=2099))
    assert report.deleted == 2
    assert site.ledger.first_unpruned() == 0
    assert site.entries(EntryType.LEDGER_PRUNED) == []
    site.check()


def test_retention_check_runs_on_a_pruned_ledger(site: Site) -> None:
    """After pruning, the retention check still runs over the kept entries."""
    # An export can no longer start at seq 0, and verify refuses the retention check then.
    old, _, _ = old_history(site)
    site.sweeper(load(POLICIES)).run()
    assert site.ledger.first_unpruned() == old
    report = site.verify()
    assert report.ok, report.problems
    assert report.retention is not None
    assert report.retention.records == 2


def test_pruning_keeps_the_entries_of_records_still_stored(site: Site) -> None:
    """Pruning keeps the record_written entry of every record still stored (held)."""
    # ledger_keep >= every keep is meant to make the ledger outlive what it accounts for,
    # but a legal hold keeps records longer than any keep.
    _, held, fresh = old_history(site)
    report = site.sweeper(load(policies_text(holds=HOLD, extra="  ledger_keep: 1y\n"))).run()
    assert (report.deleted, report.held) == (0, 3)
    assert site.record_ids() == held | fresh
    accounted = {e["record_id"] for e in site.entries(EntryType.RECORD_WRITTEN)}
    assert site.record_ids() <= accounted, "a stored record lost its record_written entry"
