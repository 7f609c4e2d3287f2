"""Child-process writer for the concurrency test (imported by 'spawn' children).

Kept apart from the test module so that a child imports only the store, not pytest.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from governance.keyprovider import LocalKeyProvider
from governance.store import LogStore, NewRecord
from governance.vault import Vault

SCOPE_DAY = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def write(
    url: str,
    key_file: str,
    worker: int,
    puts: int,
    per_put: int,
    message_cap: int,
    start: Barrier,
    results: Queue[tuple[int, list[str] | str]],
) -> None:
    """`puts` puts of `per_put` records into one shared scope; sends (worker, ids or error)."""
    try:
        store = LogStore(url, Vault(LocalKeyProvider(Path(key_file)), message_cap=message_cap))
        ids: list[str] = []
        start.wait(timeout=60)
        for n in range(puts):
            batch = [
                NewRecord(
                    tenant="shared",
                    retention_class="audit",
                    kind="inference",
                    model="m",
                    created_at=SCOPE_DAY + timedelta(microseconds=worker * 100_000 + n * 10 + i),
                    expires_at=SCOPE_DAY + timedelta(days=30),
                    plaintext=f"w{worker} put{n} rec{i}".encode(),
                )
                for i in range(per_put)
            ]
            ids.extend(store.put(batch))
        store.close()
        results.put((worker, ids))
    except Exception:  # noqa: BLE001  # any failure goes to the parent, which fails the test
        results.put((worker, traceback.format_exc()))
