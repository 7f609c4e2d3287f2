"""One sweeper per database at a time (the lease row): a second sweeper finds it busy and
the outcome is that of one sweeper; a sweeper whose lease was taken over stops before its
next batch; a dead sweeper's lease is taken over once it has expired."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from governance.database import micros
from governance.entries import EntryType
from governance.ledger import Ledger
from governance.retention import RetentionError, Sweeper, SweepReport
from tests.retention._site import (
    SCENARIO_NOW,
    SCENARIO_POLICIES,
    Site,
    check_scenario_done,
    load,
    seed_scenario,
)
from tests.retention.conftest import Sites, kill_sweep_at

WAIT = 30.0


def other_sweeper(site: Site, actor: str, step: Callable[[str], None]) -> Sweeper:
    """A sweeper with its own store, engine and ledger object: another replica."""
    store = site.open_store()
    ledger = Ledger(store.database, origin=site.signer.name)
    return Sweeper(store, ledger, load(SCENARIO_POLICIES), actor=actor, step=step)


@dataclass
class Pausing:
    """A step hook that stops the sweep after its nth committed batch until released."""

    nth: int = 1
    paused: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    batches: int = 0

    def __call__(self, name: str) -> None:
        if name == "batch_committed":
            self.batches += 1
            if self.batches == self.nth:
                self.paused.set()
                assert self.release.wait(WAIT)


@dataclass
class Running:
    """A sweep on a thread; `report` or `error` once joined."""

    sweeper: Sweeper
    report: SweepReport | None = None
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.report = self.sweeper.run(now=SCENARIO_NOW)
        except BaseException as err:  # noqa: BLE001 - handed to the test
            self.error = err

    def join(self) -> None:
        self.thread.join(WAIT)
        assert not self.thread.is_alive()


def test_second_sweeper_is_busy_while_the_first_sweeps(site: Site) -> None:
    """While one sweeper runs, another reports busy; the result is that of one sweeper."""
    scenario = seed_scenario(site)
    pause = Pausing()
    first = Running(other_sweeper(site, "replica-a", pause))
    assert pause.paused.wait(WAIT)
    size = site.ledger.state().size
    second = other_sweeper(site, "replica-b", lambda name: None).run(now=SCENARIO_NOW)
    assert (second.busy, second.deleted, second.batches) == (True, 0, 0)
    assert site.ledger.state().size == size
    pause.release.set()
    first.join()
    assert first.error is None
    assert first.report is not None
    assert (first.report.deleted, first.report.batches) == (11, 3)
    summaries = site.entries(EntryType.RETENTION_SWEEP)
    assert [s["actor"] for s in summaries] == ["replica-a"]
    check_scenario_done(site, scenario)


def test_sweepers_started_together_delete_each_record_once(pg_site: Site) -> None:
    """Three sweepers started at once on PostgreSQL delete each expired record once."""
    site = pg_site
    scenario = seed_scenario(site)
    start = threading.Barrier(3)
    reports: list[SweepReport] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def sweep(i: int) -> None:
        sweeper = other_sweeper(site, f"replica-{i}", lambda name: None)
        start.wait(WAIT)
        try:
            report = sweeper.run(now=SCENARIO_NOW)
        except BaseException as err:  # noqa: BLE001 - handed to the test
            with lock:
                errors.append(err)
            return
        with lock:
            reports.append(report)

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert errors == []
    assert len(reports) == 3
    assert sum(r.deleted for r in reports) == len(scenario.expired)
    assert all(r.deleted == 0 for r in reports if r.busy)
    assert any(not r.busy for r in reports)
    check_scenario_done(site, scenario)


def test_sweeper_whose_lease_was_taken_over_stops(site: Site) -> None:
    """A sweeper whose lease was taken over stops with RetentionError; the other finishes."""
    scenario = seed_scenario(site)
    pause_a, pause_b = Pausing(), Pausing()
    first = Running(other_sweeper(site, "replica-a", pause_a))
    assert pause_a.paused.wait(WAIT)
    site.expire_lease()  # replica-a stalled beyond its lease
    second = Running(other_sweeper(site, "replica-b", pause_b))
    assert pause_b.paused.wait(WAIT)
    pause_a.release.set()
    first.join()
    assert isinstance(first.error, RetentionError)
    assert "another sweeper took the lease over" in str(first.error)
    pause_b.release.set()
    second.join()
    assert second.error is None
    assert second.report is not None
    assert second.report.deleted == len(scenario.expired) - 4
    assert [s["actor"] for s in site.entries(EntryType.RETENTION_SWEEP)] == ["replica-b"]
    check_scenario_done(site, scenario)


def test_dead_sweepers_lease_expires_and_is_taken_over(pg_sites: Sites, pg_site: Site) -> None:
    """A killed sweeper's lease runs 5 minutes; once expired another sweeper takes over."""
    site = pg_site
    scenario = seed_scenario(site)
    kill_sweep_at(pg_sites, site, "batch_committed", 1)
    ((owner, until_us),) = site.execute("SELECT owner, until_us FROM sweeper_lease")
    assert str(owner).startswith("test-sweeper/")
    ((server_now,),) = site.execute("SELECT now()")
    left = (until_us - micros(server_now)) / 1e6
    assert 280 < left <= 300, left
    policies = load(SCENARIO_POLICIES)
    assert site.sweeper(policies).run(now=SCENARIO_NOW).busy
    site.execute("UPDATE sweeper_lease SET until_us = :t", t=micros(server_now) - 1)
    report = site.sweeper(policies).run(now=SCENARIO_NOW)
    assert (report.busy, report.deleted) == (False, len(scenario.expired) - 4)
    ((after_owner, after_until),) = site.execute("SELECT owner, until_us FROM sweeper_lease")
    assert after_owner != owner
    assert after_until == 0
    check_scenario_done(site, scenario)


@pytest.mark.parametrize("until_offset_s", [-1, 120])
def test_foreign_lease_row_blocks_until_it_ends(site: Site, until_offset_s: int) -> None:
    """Another owner's lease blocks sweeps until its until_us passes the database clock."""
    scenario = seed_scenario(site)
    now_us = micros(site.store.database.now())
    site.execute(
        "INSERT INTO sweeper_lease (id, owner, until_us) VALUES (1, 'elsewhere', :until)",
        until=now_us + until_offset_s * 1_000_000,
    )
    report = site.sweeper(load(SCENARIO_POLICIES)).run(now=SCENARIO_NOW)
    assert report.busy == (until_offset_s > 0)
    if report.busy:
        assert site.deleted_ids() == []
    else:
        check_scenario_done(site, scenario)
