"""Child-process appenders for the ledger process tests (imported by 'spawn' children).

Kept apart from the test module so that a child imports only the ledger, not pytest. The
entries are a pure function of (worker, batch, index), so the parent rebuilds the exact
bytes a child appended at each sequence number without being told them.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from governance.database import Database
from governance.entries import Draft, EntryType
from governance.ledger import Ledger
from governance.note import NoteSigner

BASE_AT = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def entry_id(worker: int, batch: int, index: int) -> str:
    return f"w{worker}-b{batch}-e{index}"


def draft(worker: int, batch: int, index: int) -> Draft:
    """The entry `worker` appends as item `index` of its batch `batch`."""
    return Draft(
        EntryType.SCREENING_DECISION,
        BASE_AT + timedelta(seconds=worker * 10_000 + batch, microseconds=index),
        f"worker-{worker}",
        {
            "id": entry_id(worker, batch, index),
            "worker": worker,
            "batch": batch,
            "index": index,
            "tenant": "acme",
            "entities": {"PERSON": index % 3, "EMAIL_ADDRESS": batch % 2},
            "blocked": index % 5 == 0,
        },
    )


def batch_drafts(worker: int, batch: int, count: int) -> list[Draft]:
    return [draft(worker, batch, index) for index in range(count)]


def append_concurrently(
    url: str,
    signer_key: str,
    worker: int,
    batches: int,
    seed: int,
    start: Barrier,
    results: Queue[tuple[int, dict[str, Any] | str]],
) -> None:
    """Append `batches` batches of 1-8 entries, signing a checkpoint now and then.

    Pauses up to 3 ms between batches, as a server does between requests: SQLite's busy
    handler polls with back-off, so an appender that takes the lock again at once can keep
    it for many batches in a row, and short runs like these would not interleave at all.

    Sends (worker, {"batches": [(batch, seqs)], "notes": [checkpoint notes]}) or
    (worker, traceback text).
    """
    try:
        signer = NoteSigner.from_key(signer_key)
        database = Database(url)
        ledger = Ledger(database, origin=signer.name)
        rng = random.Random(seed)
        appended: list[tuple[int, list[int]]] = []
        notes: list[str] = []
        start.wait(timeout=60)
        for batch in range(batches):
            drafts = batch_drafts(worker, batch, rng.randint(1, 8))
            appended.append((batch, ledger.append(drafts, now=datetime.now(UTC))))
            if batch % 8 == worker % 4 or rng.random() < 0.1:
                notes.append(ledger.sign_checkpoint(signer, now=datetime.now(UTC)).note)
            time.sleep(rng.uniform(0, 0.003))
        database.close()
        results.put((worker, {"batches": appended, "notes": notes}))
    except Exception:  # noqa: BLE001  # any failure goes to the parent, which fails the test
        results.put((worker, traceback.format_exc()))


def _log_line(out: Any, record: dict[str, Any]) -> None:
    out.write(json.dumps(record) + "\n")
    out.flush()
    os.fsync(out.fileno())


def append_until_killed(
    url: str, signer_key: str, worker: int, batch_size: int, ack_path: str, ready: Event
) -> None:
    """Append batches of `batch_size` entries until SIGKILLed; log each one to `ack_path`.

    Before each append: {"event": "begin", "batch": n}; once append returned:
    {"event": "ack", "batch": n, "seqs": [...], "ids": [...]}; every third batch also signs
    a checkpoint. Each line is flushed and fsynced before the next step. `worker` is the
    round: it keeps entries of different rounds apart.
    """
    signer = NoteSigner.from_key(signer_key)
    ledger = Ledger(Database(url), origin=signer.name)
    ledger.state()  # connect before saying so: the kill should land in appends
    with open(ack_path, "a", encoding="utf-8") as out:
        ready.set()
        batch = 0
        while True:
            drafts = batch_drafts(worker, batch, batch_size)
            _log_line(out, {"event": "begin", "batch": batch})
            seqs = ledger.append(drafts, now=datetime.now(UTC))
            ids = [entry_id(worker, batch, index) for index in range(batch_size)]
            _log_line(out, {"event": "ack", "batch": batch, "seqs": seqs, "ids": ids})
            if batch % 3 == 2:
                ledger.sign_checkpoint(signer, now=datetime.now(UTC))
            batch += 1
