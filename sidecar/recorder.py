"""Group commit for what decisions leave behind: many RPCs, one transaction, each
answered after it.

Concurrent calls queue a unit (an optional log record plus its audit-ledger entries);
one writer task takes whatever is queued (up to `max_batch`), commits it in a single
transaction on a worker thread (governance.journal), then answers every caller with its
record id and ledger sequence numbers, or with the same error if the commit failed. A
caller is answered only after its unit is committed: an acknowledged decision is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from governance.entries import Draft
from governance.errors import GovernanceError
from governance.journal import Committed, Unit
from governance.store import NewRecord, StoreUnavailable

__all__ = ["Recorder", "UnitSink"]

_log = logging.getLogger(__name__)


class UnitSink(Protocol):
    def commit(self, units: list[Unit]) -> list[Committed]: ...


class Recorder:
    """Batches units to a UnitSink (the Journal) on one writer thread."""

    def __init__(self, sink: UnitSink, *, max_batch: int = 256) -> None:
        self._sink = sink
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Unit, asyncio.Future[Committed]]] = asyncio.Queue()
        # One writer: batches commit in order, and SQLite has one writer anyway.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder")
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._executor.shutdown(wait=True)

    async def write(self, record: NewRecord, entries: tuple[Draft, ...] = ()) -> str:
        """Queue a record (and ledger entries); returns its id once committed.

        Raises StoreUnavailable.
        """
        committed = await self.commit(Unit(record, entries))
        assert committed.record_id is not None  # noqa: S101 - the journal returns one per record
        return committed.record_id

    async def commit(self, unit: Unit) -> Committed:
        """Queue a unit; returns once it is committed. Raises StoreUnavailable."""
        if self._task is None:
            raise StoreUnavailable("the recorder is not running")
        future: asyncio.Future[Committed] = asyncio.get_running_loop().create_future()
        await self._queue.put((unit, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            units = [unit for unit, _ in batch]
            try:
                results = await loop.run_in_executor(self._executor, self._sink.commit, units)
            except GovernanceError as err:
                failure: Exception = err
            except Exception as err:  # noqa: BLE001 - answer callers; never quote the error
                _log.error("record batch failed: %s", type(err).__name__)
                failure = StoreUnavailable(f"record write failed ({type(err).__name__})")
            else:
                self.batches += 1
                for (_, future), committed in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(committed)
                for _ in batch:
                    self._queue.task_done()
                continue
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            for _ in batch:
                self._queue.task_done()
