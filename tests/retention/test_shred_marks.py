"""Shredding is tied to the buckets the sweeper shredded: records go to the database's
day, no key is made again for a shredded bucket, and a key destroyed for another reason
does not destroy its bucket's secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from governance.keyprovider import LocalKeyProvider
from governance.ledger import Ledger
from governance.policy import load_policies
from governance.retention import Sweeper
from governance.shredkeys import BucketShredded, bucket_id
from governance.store import LogStore, NewRecord, OpenedRecord
from governance.vault import Vault

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> tuple[LogStore, Ledger, Sweeper]:
    provider = LocalKeyProvider(tmp_path / "keys" / "kek.json")
    signer, _ = provider.ledger_signer()
    store = LogStore(
        f"sqlite:///{tmp_path / 'db.sqlite'}", Vault(provider, buckets=provider.bucket_keys())
    )
    store.migrate()
    ledger = Ledger(store.database, origin=signer.name)
    policies = load_policies((ROOT / "policies.yaml").read_text())
    yield store, ledger, Sweeper(store, ledger, policies, actor="test")
    store.close()


def _record(created_at: datetime, **extra: object) -> NewRecord:
    return NewRecord(
        "acme",
        "app_logs",
        "app",
        "m",
        created_at,
        created_at + timedelta(days=7),
        b'{"m": 1}',
        **extra,  # type: ignore[arg-type]  # keep=
    )


def test_records_with_a_keep_go_to_the_database_day(site: tuple[LogStore, Ledger, Sweeper]) -> None:
    """A record stamped by a slow writer (created long ago) is sealed under today's bucket
    (the database's clock), so it can never land in a day already shredded."""
    store, _, _ = site
    store.put([_record(T0, keep=timedelta(days=7))])
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert [k["bucket"] for k in store.data_keys()] == [today]


def test_no_key_is_made_again_for_a_shredded_bucket(
    site: tuple[LogStore, Ledger, Sweeper],
) -> None:
    """After the sweeper shredded a day, a record for that day is refused, not sealed
    under a new key generation whose secret would then be destroyed."""
    store, _, sweeper = site
    store.put([_record(T0)])
    report = sweeper.run(now=T0 + timedelta(days=30))
    assert report.buckets_shredded == [("acme", "app_logs", "2026-01-01")]
    with pytest.raises(BucketShredded):
        store.put([_record(T0 + timedelta(hours=2))])


def test_a_key_destroyed_by_hand_keeps_its_bucket_secret(
    site: tuple[LogStore, Ledger, Sweeper], tmp_path: Path
) -> None:
    """Destroying one data key (say, a compromised one) is not a shred: the next sweep
    leaves the bucket's secret alone, and new records of that day still seal and open."""
    store, _, sweeper = site
    now = datetime.now(UTC)
    store.put([_record(now, keep=timedelta(days=7))])
    (key,) = store.data_keys()
    store.shred(str(key["key_id"]))
    sweeper.run()
    scope = bucket_id("acme", "app_logs", str(key["bucket"]))
    assert scope in LocalKeyProvider(tmp_path / "keys" / "kek.json").bucket_keys().live()
    (fresh,) = store.put([_record(now, keep=timedelta(days=7))])
    opened = [r.record_id for r in store.read() if isinstance(r, OpenedRecord)]
    assert opened == [fresh]
