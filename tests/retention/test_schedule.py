"""The sidecar's RetentionSchedule: it sweeps on its own every interval (by the database's
clock), and on stop a sweep in progress ends after its current batch, with no summary."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from governance.entries import EntryType
from sidecar.audit_service import RetentionSchedule
from tests.retention._site import T0, Site, load, policies_text


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_schedule_sweeps_every_interval(site: Site) -> None:
    """The schedule sweeps again and again on its own, at the database's time."""
    policies = load(policies_text())
    site.write("beta", "app_logs", T0, T0 + timedelta(days=7), count=3)
    schedule = RetentionSchedule(site.sweeper(policies), interval_seconds=0.05)
    schedule.start()
    try:
        await wait_for(lambda: not site.record_ids())
        now = datetime.now(UTC)  # written as the sidecar does: expiry by the database's clock
        (late,) = site.write("beta", "app_logs", now, now, keep=timedelta(seconds=1))
        await wait_for(lambda: late.record_id not in site.record_ids())
        await wait_for(lambda: len(site.entries(EntryType.RETENTION_SWEEP)) >= 3)
    finally:
        await schedule.stop()
    summaries = site.entries(EntryType.RETENTION_SWEEP)
    assert sum(s["deleted"] for s in summaries) == 4
    assert all(s["complete"] for s in summaries)
    first = datetime.fromisoformat(summaries[0]["now"])
    assert abs((first - datetime.now(UTC)).total_seconds()) < 60
    report = site.verify()
    assert report.ok, report.problems


async def test_schedule_stop_ends_the_sweep_after_its_batch(site: Site) -> None:
    """Stopping mid-sweep keeps the batch done, deletes no more, writes no summary."""
    policies = load(policies_text(extra="  batch_size: 2\n"))
    site.write("beta", "app_logs", T0, T0 + timedelta(days=7), count=5)
    paused, release = threading.Event(), threading.Event()

    def step(name: str) -> None:
        if name == "batch_committed" and not paused.is_set():
            paused.set()
            assert release.wait(20)

    schedule = RetentionSchedule(site.sweeper(policies, step=step), interval_seconds=0.05)
    schedule.start()
    assert await asyncio.to_thread(paused.wait, 20)
    stopping = asyncio.create_task(schedule.stop())
    await asyncio.sleep(0)  # stop() has asked the sweep to stop
    release.set()
    await asyncio.wait_for(stopping, 20)
    assert len(site.record_ids()) == 3
    assert len(site.deleted_ids()) == 2
    assert site.entries(EntryType.RETENTION_SWEEP) == []
    assert site.execute("SELECT until_us FROM sweeper_lease")[0][0] == 0
    report = site.verify()
    assert report.ok, report.problems
