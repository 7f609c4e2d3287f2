"""A sweep SIGKILLed at each of its durable steps, then run again: on SQLite and on
PostgreSQL, every expired record ends up deleted exactly once across the ledger, nothing
unexpired is touched, shredded buckets lose their secrets in keys/bucket-keys.json, and
the full export verifies with the retention check.

The sweep runs in a 'spawn' child (tests/retention/_child.py) whose step hook kills its
own process; the dead sweeper's lease keeps others out until it expires (five minutes:
the test moves it into the past with raw SQL, as waiting would).
"""

from __future__ import annotations

import pytest

from governance.entries import EntryType, iso_utc
from governance.shredkeys import bucket_id
from tests.retention._site import (
    SCENARIO_NOW,
    SCENARIO_POLICIES,
    Site,
    check_scenario_done,
    load,
    seed_scenario,
)
from tests.retention.conftest import Sites, kill_sweep_at


@pytest.mark.parametrize(
    ("step", "nth"),
    [
        ("batch_committed", 2),
        ("keys_destroyed", 1),
        ("bucket_keys_destroyed", 1),
        ("summary_committed", 1),
    ],
)
def test_sweep_killed_at_a_step_is_finished_by_the_next(
    sites: Sites, site: Site, step: str, nth: int
) -> None:
    """A sweep killed after `step` is finished by the next one, nothing counted twice."""
    scenario = seed_scenario(site)
    policies = load(SCENARIO_POLICIES)
    kill_sweep_at(sites, site, step, nth)

    deleted = site.deleted_ids()
    summaries = site.entries(EntryType.RETENTION_SWEEP)
    destroyed = site.entries(EntryType.KEY_DESTROYED)
    secrets = site.bucket_file()
    shredded_secrets = [secrets[bucket_id(*scope)] for scope in scenario.shredded]
    if step == "batch_committed":
        assert len(deleted) == len(set(deleted)) == 8  # two batches of four
        assert site.record_ids() == scenario.kept | (scenario.expired - set(deleted))
        assert (summaries, destroyed) == ([], [])
        assert all(shredded_secrets)
    else:
        assert sorted(deleted) == sorted(scenario.expired)
        assert len(destroyed) == len(scenario.shredded)
        if step == "keys_destroyed":  # in the database only: the key file is next
            assert all(shredded_secrets)
        else:
            assert not any(shredded_secrets)
        assert len(summaries) == (1 if step == "summary_committed" else 0)

    # The dead sweeper still holds the lease: a sweep now does nothing.
    size = site.ledger.state().size
    busy = site.sweeper(policies).run(now=SCENARIO_NOW)
    assert (busy.busy, busy.deleted) == (True, 0)
    assert site.ledger.state().size == size

    site.expire_lease()
    report = site.sweeper(policies).run(now=SCENARIO_NOW)
    assert not report.busy
    assert report.deleted == len(scenario.expired) - len(deleted)
    check_scenario_done(site, scenario)
    last = site.entries(EntryType.RETENTION_SWEEP)[-1]
    assert (last["complete"], last["now"]) == (True, iso_utc(SCENARIO_NOW))
    assert last["deleted"] == report.deleted
