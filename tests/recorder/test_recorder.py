"""Group commit: concurrent writes share transactions; each caller hears after commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from governance.journal import Committed, Journal, Unit
from governance.keyprovider import LocalKeyProvider
from governance.store import LogStore, NewRecord, OpenedRecord, StoreUnavailable, database_url_for
from governance.vault import Vault
from sidecar.recorder import Recorder

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _record(n: int) -> NewRecord:
    return NewRecord(
        tenant="t1",
        retention_class="inference_logs",
        kind="inference",
        model="m1",
        created_at=NOW + timedelta(microseconds=n),
        expires_at=NOW + timedelta(days=30),
        plaintext=f'{{"n": {n}}}'.encode(),
    )


@pytest.fixture
def store(tmp_path: Path) -> LogStore:
    log_store = LogStore(
        database_url_for(tmp_path), Vault(LocalKeyProvider(tmp_path / "keys" / "kek.json"))
    )
    log_store.migrate()
    return log_store


def _journal(store: LogStore) -> Journal:
    return Journal(store, None, actor="test", clock=lambda: NOW)


class ExplodingOnceSink:
    """Fault: the first commit fails with a foreign error that quotes its input."""

    def __init__(self, store: LogStore) -> None:
        self._store = store
        self.failed = False

    def commit(self, units: list[Unit]) -> list[Committed]:
        if not self.failed:
            self.failed = True
            raise RuntimeError(f"cannot store {units[0].record!r}")
        return _journal(self._store).commit(units)


async def test_recorder_batches_concurrent_writes(store: LogStore) -> None:
    """200 concurrent writes commit in fewer transactions, and every id reads back."""
    recorder = Recorder(_journal(store), max_batch=64)
    recorder.start()
    try:
        ids = await asyncio.gather(*(recorder.write(_record(n)) for n in range(200)))
    finally:
        await recorder.stop()
    assert len(set(ids)) == 200
    assert recorder.batches < 200
    opened = {r.record_id: r for r in store.read() if isinstance(r, OpenedRecord)}
    assert set(opened) == set(ids)
    for n, record_id in enumerate(ids):
        assert opened[record_id].plaintext == f'{{"n": {n}}}'.encode()


async def test_recorder_failure_reaches_every_caller_unquoted(store: LogStore) -> None:
    """A failed commit answers each caller with StoreUnavailable naming no content; the
    recorder then goes on committing."""
    recorder = Recorder(ExplodingOnceSink(store))
    recorder.start()
    try:
        results = await asyncio.gather(
            *(recorder.write(_record(n)) for n in range(5)), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, StoreUnavailable)]
        assert failed, results
        for error in failed:
            assert "cannot store" not in str(error)
            assert '"n"' not in str(error)
        record_id = await recorder.write(_record(99))
    finally:
        await recorder.stop()
    assert [r.record_id for r in store.read() if isinstance(r, OpenedRecord)].count(record_id) == 1


async def test_recorder_refuses_writes_when_stopped(store: LogStore) -> None:
    """Writing to a recorder that is not running fails at once with StoreUnavailable."""
    recorder = Recorder(_journal(store))
    with pytest.raises(StoreUnavailable):
        await recorder.write(_record(0))


async def test_recorder_stop_commits_queued_records(store: LogStore) -> None:
    """stop() waits until every queued record is committed."""
    recorder = Recorder(_journal(store), max_batch=8)
    recorder.start()
    writes = [asyncio.ensure_future(recorder.write(_record(n))) for n in range(40)]
    await asyncio.sleep(0)
    await recorder.stop()
    ids = [await w for w in writes]
    assert len(set(ids)) == 40
    assert sum(1 for _ in store.read()) == 40
