"""LogStore on real SQLite and PostgreSQL: round trips, tampering, shredding, rotation.

Every test taking `store` or `database` runs once per back-end. Tampering goes through
raw SQL on a separate engine, as an attacker with database access would do it.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import traceback
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from governance.database import SCHEMA_VERSION
from governance.keyprovider import LocalKeyProvider
from governance.store import (
    LogStore,
    NewRecord,
    OpenedRecord,
    StoreUnavailable,
    UnreadableRecord,
)
from governance.vault import Vault
from tests.store import _writer
from tests.store.conftest import Database, Databases, free_port

DAY1 = datetime(2026, 3, 14, 9, 26, 53, 589_793, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
SEAL_HEADER = 2 + 1 + 16 + 12  # magic, format, key id, nonce
TAG = 16

Result = OpenedRecord | UnreadableRecord


def new_record(
    plaintext: bytes | str,
    *,
    tenant: str = "acme",
    retention_class: str = "audit",
    at: datetime = DAY1,
    model: str = "gpt-x",
    kind: str = "inference",
    keep: timedelta = timedelta(days=30),
) -> NewRecord:
    body = plaintext.encode() if isinstance(plaintext, str) else plaintext
    return NewRecord(tenant, retention_class, kind, model, at, at + keep, body)


def by_id(results: Iterable[Result]) -> dict[str, Result]:
    found: dict[str, Result] = {}
    for result in results:
        assert result.record_id not in found, "a record came back twice"
        found[result.record_id] = result
    return found


def assert_opened(result: Result, expected: NewRecord) -> None:
    assert isinstance(result, OpenedRecord), result
    assert result.plaintext == expected.plaintext
    assert (result.tenant, result.retention_class) == (expected.tenant, expected.retention_class)
    assert (result.kind, result.model) == (expected.kind, expected.model)
    assert result.created_at == expected.created_at
    assert result.expires_at == expected.expires_at


def assert_unreadable(result: Result, record_id: str, reason: str) -> None:
    """Unreadable means id and reason only: no plaintext, not even part of it."""
    assert isinstance(result, UnreadableRecord), result
    assert dataclasses.astuple(result) == (record_id, reason)


def sealed_of(database: Database, record_id: str) -> bytes:
    rows = database.execute("SELECT sealed FROM log_records WHERE record_id = :rid", rid=record_id)
    return bytes(rows[0][0])


def set_sealed(database: Database, record_id: str, sealed: bytes) -> None:
    database.execute(
        "UPDATE log_records SET sealed = :sealed WHERE record_id = :rid",
        sealed=sealed,
        rid=record_id,
    )


def flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


def key_of(database: Database, record_id: str) -> str:
    rows = database.execute("SELECT key_id FROM log_records WHERE record_id = :rid", rid=record_id)
    return str(rows[0][0])


# -- round trip -----------------------------------------------------------------------------


def mixed_records() -> list[NewRecord]:
    """Interleaved tenants, classes, days and models, not in creation order."""
    return [
        new_record("alpha one", tenant="acme", retention_class="audit", at=DAY2),
        new_record("beta one", tenant="globex", retention_class="debug", at=DAY1, model="m2"),
        new_record("alpha two", tenant="acme", retention_class="debug", at=DAY1),
        new_record(
            b"\x00binary\xff", tenant="globex", retention_class="audit", at=DAY2 + timedelta(1)
        ),
        new_record("alpha three", tenant="acme", retention_class="audit", at=DAY1, model="m2"),
        new_record("", tenant="acme", retention_class="audit", at=DAY1 + timedelta(hours=1)),
    ]


def test_put_returns_ids_in_input_order(store: LogStore) -> None:
    """put() returns one fresh id per record, in the order the records were given."""
    records = mixed_records()
    ids = store.put(records)
    assert len(ids) == len(records) == len(set(ids))
    found = by_id(store.read())
    assert set(found) == set(ids)
    for record_id, record in zip(ids, records, strict=True):
        assert_opened(found[record_id], record)


def test_put_same_record_object_twice_returns_distinct_ids(store: LogStore) -> None:
    """The same NewRecord object given twice is stored twice under two distinct ids."""
    record = new_record("repeated payload")
    ids = store.put([record, record])
    found = by_id(store.read())
    assert len(found) == 2
    assert len(set(ids)) == 2, f"put() returned {ids} for two stored rows {sorted(found)}"
    assert set(ids) == set(found)


def test_put_nothing_returns_no_ids(store: LogStore) -> None:
    """An empty put writes nothing and returns an empty list."""
    assert store.put([]) == []
    assert list(store.read()) == []
    assert store.data_keys() == []


def test_read_round_trips_plaintext_and_metadata(store: LogStore) -> None:
    """Plaintext, tenant, class, kind, model and both times come back exactly."""
    odd_zone = timezone(timedelta(hours=5, minutes=30))
    records = [
        *mixed_records(),
        new_record("zoned", at=datetime(2026, 3, 15, 1, 2, 3, 4, tzinfo=odd_zone)),
        new_record("early", at=datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        new_record("big" * 20_000, keep=timedelta(days=3650, microseconds=1)),
    ]
    ids = store.put(records)
    found = by_id(store.read())
    for record_id, record in zip(ids, records, strict=True):
        result = found[record_id]
        assert_opened(result, record)
        assert isinstance(result, OpenedRecord)
        assert result.created_at.utcoffset() == timedelta(0)
        assert result.created_at.microsecond == record.created_at.microsecond
        assert result.expires_at.microsecond == record.expires_at.microsecond


def test_read_returns_records_in_creation_order(store: LogStore) -> None:
    """read() yields records ordered by creation time, whatever the insertion order."""
    records = mixed_records()
    ids = store.put(records)
    expected = [i for _, i in sorted(zip((r.created_at for r in records), ids, strict=True))]
    assert [r.record_id for r in store.read()] == expected


def test_read_filters_by_time_tenant_and_model(store: LogStore) -> None:
    """since is inclusive, until exclusive; tenant and model match exactly; filters combine."""
    records = mixed_records()
    ids = dict(zip(store.put(records), records, strict=True))

    def select(**filters: object) -> set[str]:
        results = list(store.read(**filters))  # type: ignore[arg-type]
        assert all(isinstance(r, OpenedRecord) for r in results)
        return {r.record_id for r in results}

    def expect(keep: object) -> set[str]:
        return {i for i, r in ids.items() if keep(r)}  # type: ignore[operator]

    assert select() == set(ids)
    assert select(since=DAY2) == expect(lambda r: r.created_at >= DAY2)
    assert select(until=DAY2) == expect(lambda r: r.created_at < DAY2)
    assert select(since=DAY1, until=DAY1 + timedelta(microseconds=1)) == expect(
        lambda r: r.created_at == DAY1
    )
    assert select(tenant="globex") == expect(lambda r: r.tenant == "globex")
    assert select(model="m2") == expect(lambda r: r.model == "m2")
    assert select(tenant="acme", model="m2", until=DAY2) == expect(
        lambda r: r.tenant == "acme" and r.model == "m2" and r.created_at < DAY2
    )
    assert select(tenant="nobody") == set()


def test_migrate_is_idempotent_and_refuses_newer_schema(
    store: LogStore, database: Database
) -> None:
    """migrate() twice keeps the data; a schema newer than the code is refused."""
    ids = store.put([new_record("kept")])
    assert store.migrate() == SCHEMA_VERSION
    assert [r.record_id for r in store.read()] == ids
    database.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreUnavailable, match="newer"):
        store.migrate()


# -- tampering ------------------------------------------------------------------------------


def test_sealed_byte_flip_reads_as_tampered(store: LogStore, database: Database) -> None:
    """Flipping any one byte of a sealed record (header, body, tag) makes it tampered."""
    records = [new_record(f"secret number {n}") for n in range(7)]
    ids = store.put(records)
    length = len(sealed_of(database, ids[0]))
    # magic, format, key id, nonce, first ciphertext byte, last tag byte
    positions = [0, 2, 3, SEAL_HEADER - 1, SEAL_HEADER, length - 1]
    for record_id, position in zip(ids, positions, strict=False):
        set_sealed(database, record_id, flip(sealed_of(database, record_id), position))
    found = by_id(store.read())
    for record_id in ids[: len(positions)]:
        assert_unreadable(found[record_id], record_id, "tampered")
    assert_opened(found[ids[-1]], records[-1])


def test_swapped_sealed_reads_as_tampered(store: LogStore, database: Database) -> None:
    """Ciphertexts swapped between rows, same scope or not, fail to open on both rows."""
    records = [
        new_record("first"),
        new_record("second"),
        new_record("third", tenant="globex"),
        new_record("untouched"),
    ]
    a, b, c, untouched = store.put(records)
    sealed_a, sealed_b = sealed_of(database, a), sealed_of(database, b)
    set_sealed(database, a, sealed_b)  # same scope, same data key
    set_sealed(database, b, sealed_a)
    set_sealed(database, c, sealed_a)  # another tenant's key and row
    found = by_id(store.read())
    for record_id in (a, b, c):
        assert_unreadable(found[record_id], record_id, "tampered")
    assert_opened(found[untouched], records[3])


MOVED_ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("column", "update"),
    [
        ("tenant", "UPDATE log_records SET tenant = 'globex' WHERE record_id = :rid"),
        (
            "retention_class",
            "UPDATE log_records SET retention_class = 'debug' WHERE record_id = :rid",
        ),
        ("created_us", "UPDATE log_records SET created_us = created_us + 1 WHERE record_id = :rid"),
        (
            "record_id",
            "UPDATE log_records SET record_id = '0123456789abcdef0123456789abcdef'"
            " WHERE record_id = :rid",
        ),
    ],
)
def test_changed_row_binding_reads_as_tampered(
    store: LogStore, database: Database, column: str, update: str
) -> None:
    """A row moved to another tenant, class, time or id no longer opens."""
    records = [new_record("bound to its row"), new_record("neighbour")]
    moved, neighbour = store.put(records)
    database.execute(update, rid=moved)
    found = by_id(store.read())
    moved_id = MOVED_ID if column == "record_id" else moved
    assert_unreadable(found[moved_id], moved_id, "tampered")
    assert_opened(found[neighbour], records[1])


def test_truncated_sealed_reads_as_tampered(store: LogStore, database: Database) -> None:
    """A sealed record cut short anywhere, down to nothing, reads as tampered."""
    records = [new_record(f"a longer secret body {n}" * 3) for n in range(5)]
    ids = store.put(records)
    full = len(sealed_of(database, ids[0]))
    for record_id, keep in zip(ids, [full - 1, full - TAG, SEAL_HEADER, 0], strict=False):
        set_sealed(database, record_id, sealed_of(database, record_id)[:keep])
    found = by_id(store.read())
    for record_id in ids[:4]:
        assert_unreadable(found[record_id], record_id, "tampered")
    assert_opened(found[ids[4]], records[4])


def test_wrapped_key_byte_flip_makes_its_records_tampered(
    store: LogStore, database: Database, vault: Vault
) -> None:
    """A corrupted wrapped data key makes every record under it tampered, no other."""
    records = [
        new_record("under key one"),
        new_record("also under key one"),
        new_record("under key two", tenant="globex"),
    ]
    ids = store.put(records)
    key_id = key_of(database, ids[0])
    (wrapped,) = database.execute("SELECT wrapped FROM data_keys WHERE key_id = :k", k=key_id)[0]
    wrapped = bytes(wrapped)
    database.execute(
        "UPDATE data_keys SET wrapped = :w WHERE key_id = :k",
        w=flip(wrapped, len(wrapped) // 2),
        k=key_id,
    )
    # A store that has not unwrapped the key yet (a restart, another replica): the one that
    # wrote the records keeps their data key in memory.
    fresh = database.open(vault)
    found = by_id(fresh.read())
    assert_unreadable(found[ids[0]], ids[0], "tampered")
    assert_unreadable(found[ids[1]], ids[1], "tampered")
    assert_opened(found[ids[2]], records[2])


# -- shredding ------------------------------------------------------------------------------


def test_shred_destroys_its_records_and_spares_other_scopes(
    store: LogStore, database: Database, vault: Vault
) -> None:
    """Shredding one data key leaves its records unreadable, every other scope intact."""
    records = [
        new_record("doomed one", tenant="acme", at=DAY1),
        new_record("doomed two", tenant="acme", at=DAY1 + timedelta(hours=2)),
        new_record("same tenant, next day", tenant="acme", at=DAY2),
        new_record("same day, other class", tenant="acme", retention_class="debug", at=DAY1),
        new_record("other tenant", tenant="globex", at=DAY1),
    ]
    ids = store.put(records)
    doomed_key = key_of(database, ids[0])
    assert key_of(database, ids[1]) == doomed_key
    store.shred(doomed_key)

    for reader in (store, database.open(vault)):
        found = by_id(reader.read())
        assert_unreadable(found[ids[0]], ids[0], "data key destroyed")
        assert_unreadable(found[ids[1]], ids[1], "data key destroyed")
        for record_id, record in zip(ids[2:], records[2:], strict=True):
            assert_opened(found[record_id], record)
    keys = {k["key_id"]: k for k in store.data_keys()}
    assert keys[doomed_key]["destroyed"] is True
    assert sum(bool(k["destroyed"]) for k in keys.values()) == 1
    assert database.execute("SELECT wrapped FROM data_keys WHERE key_id = :k", k=doomed_key) == [
        (None,)
    ]

    # The scope lives on under a new generation; the shredded records stay destroyed.
    (later,) = store.put([new_record("after the shred", at=DAY1 + timedelta(hours=3))])
    assert key_of(database, later) != doomed_key
    found = by_id(store.read())
    assert isinstance(found[later], OpenedRecord)
    assert_unreadable(found[ids[0]], ids[0], "data key destroyed")


def test_shred_leaves_earlier_backup_readable_with_key_file(
    store: LogStore, database: Database, key_file: Path
) -> None:
    """A database copy taken before a shred still opens: shredding acts on the live DB."""
    records = [new_record("in the backup"), new_record("also backed up", tenant="globex")]
    ids = store.put(records)
    backup_url = database.snapshot()
    store.shred(key_of(database, ids[0]))
    assert_unreadable(next(iter(store.read(tenant="acme"))), ids[0], "data key destroyed")

    # Honest limit: the copy still holds the DEK wrapped under a live KEK version, so it
    # opens with the key file. A backup loses readability only once the KEK version that
    # wrapped its DEKs is rotated out and retired; until then shredding protects the live
    # database, not copies of it.
    backup = database.open(Vault(LocalKeyProvider(key_file)), url=backup_url)
    found = by_id(backup.read())
    for record_id, record in zip(ids, records, strict=True):
        assert_opened(found[record_id], record)


# -- data key generations -------------------------------------------------------------------


def test_put_rolls_over_to_new_generation_at_message_cap(
    database: Database, provider: LocalKeyProvider
) -> None:
    """Past the message cap a scope moves to a new data key generation; all still open."""
    store = database.open(Vault(provider, message_cap=5))
    records = [new_record(f"capped {n}", at=DAY1 + timedelta(seconds=n)) for n in range(12)]
    ids = [store.put([record])[0] for record in records]
    keys = sorted(store.data_keys(), key=lambda k: int(k["generation"]))  # type: ignore[call-overload]
    assert [k["generation"] for k in keys] == [0, 1, 2]
    assert [k["messages"] for k in keys] == [5, 5, 2]
    assert len({k["key_id"] for k in keys}) == 3
    found = by_id(store.read())
    for record_id, record in zip(ids, records, strict=True):
        assert_opened(found[record_id], record)


def test_put_batch_larger_than_message_cap_spreads_over_generations(
    database: Database, provider: LocalKeyProvider
) -> None:
    """One put of more records than a data key may seal succeeds, no key past its cap."""
    store = database.open(Vault(provider, message_cap=5))
    records = [new_record(f"batched {n}", at=DAY1 + timedelta(seconds=n)) for n in range(12)]
    ids = store.put(records)
    keys = store.data_keys()
    assert all(int(k["messages"]) <= 5 for k in keys)  # type: ignore[call-overload]
    assert sum(int(k["messages"]) for k in keys) == 12  # type: ignore[call-overload]
    found = by_id(store.read())
    for record_id, record in zip(ids, records, strict=True):
        assert_opened(found[record_id], record)


# -- KEK rotation ---------------------------------------------------------------------------


def test_rewrap_all_survives_retiring_the_old_kek(
    store: LogStore, database: Database, provider: LocalKeyProvider, key_file: Path
) -> None:
    """After add, promote and rewrap_all, retiring KEK v1 leaves every record readable."""
    records = mixed_records()
    ids = store.put(records)
    key_count = len(store.data_keys())
    assert {k["kek_version"] for k in store.data_keys()} == {1}

    assert provider.add_version() == 2
    provider.promote(2)
    assert store.rewrap_all() == key_count
    assert {k["kek_version"] for k in store.data_keys()} == {2}
    assert store.rewrap_all() == 0
    provider.retire(1)

    # A new store and provider from the key file: nothing cached from before the rotation.
    fresh_provider = LocalKeyProvider(key_file)
    assert fresh_provider.readable_versions() == frozenset({2})
    fresh = database.open(Vault(fresh_provider))
    found = by_id(fresh.read())
    assert len(found) == len(records)
    for record_id, record in zip(ids, records, strict=True):
        assert_opened(found[record_id], record)
    (later,) = fresh.put([new_record("after rotation", tenant="initech")])
    assert isinstance(by_id(fresh.read())[later], OpenedRecord)
    assert {k["kek_version"] for k in fresh.data_keys()} == {2}


# -- nothing in clear at rest ---------------------------------------------------------------


def test_plaintext_canary_never_at_rest(
    store: LogStore, database: Database, key_file: Path
) -> None:
    """A canary in record plaintext appears in no table, no database file, no key file."""
    canary = f"zq7.canary.{uuid.uuid4().hex}@example.org"
    records = [
        new_record(canary),
        new_record(f"reach me at {canary} tomorrow", tenant="globex"),
        new_record((canary + " ") * 50, at=DAY2),  # large, compressible
    ]
    ids = store.put(records)
    store.shred(key_of(database, ids[2]))
    assert isinstance(next(iter(store.read())), OpenedRecord)  # pages touched by a read too
    needle = canary.encode()
    scanned = 0
    for source, blob in database.at_rest():
        scanned += 1
        assert needle not in blob, source
    assert scanned > 0
    assert needle not in key_file.read_bytes()


# -- unavailable databases ------------------------------------------------------------------


def unreachable_url(kind: str, tmp_path: Path) -> str:
    if kind == "postgresql":
        return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database directory should be")
    return f"sqlite:///{blocker / 'missing' / 'sidecar.db'}"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_unreachable_database_raises_store_unavailable(
    kind: str, tmp_path: Path, vault: Vault
) -> None:
    """migrate, put and read on an unreachable database raise StoreUnavailable, sans data."""
    canary = f"canary-{uuid.uuid4().hex}"
    store = LogStore(unreachable_url(kind, tmp_path), vault)
    try:
        raised: list[StoreUnavailable] = []
        with pytest.raises(StoreUnavailable) as migrating:
            store.migrate()
        raised.append(migrating.value)
        with pytest.raises(StoreUnavailable) as putting:
            store.put([new_record(canary, tenant=canary, model=canary)])
        raised.append(putting.value)
        with pytest.raises(StoreUnavailable) as reading:
            list(store.read(tenant=canary))
        raised.append(reading.value)
        for error in raised:
            shown = "".join(traceback.format_exception(error))
            assert canary not in shown
            assert canary not in repr(error)
    finally:
        store.close()


# -- concurrency (PostgreSQL only) ----------------------------------------------------------


def test_concurrent_writers_share_a_scope_on_postgresql(
    databases: Databases, key_file: Path, provider: LocalKeyProvider
) -> None:
    """4 processes x 40 puts x 5 records into one scope: 800 records, no generation twice."""
    workers, puts, per_put, cap = 4, 40, 5, 50
    database = databases.create("postgresql")
    database.open(Vault(provider, message_cap=cap))  # migrate once, and create the key file
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(
            target=_writer.write,
            args=(database.url, str(key_file), n, puts, per_put, cap, start, results),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        reports = dict(results.get(timeout=120) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    results.close()
    results.join_thread()
    errors = {n: r for n, r in reports.items() if isinstance(r, str)}
    assert not errors, errors
    written = [record_id for ids in reports.values() for record_id in ids]
    assert len(written) == len(set(written)) == workers * puts * per_put

    reader = database.open(Vault(LocalKeyProvider(key_file), message_cap=cap))
    found = by_id(reader.read())
    assert set(found) == set(written)
    assert all(isinstance(r, OpenedRecord) for r in found.values())
    keys = reader.data_keys()
    scopes = [(k["tenant"], k["retention_class"], k["bucket"], k["generation"]) for k in keys]
    assert len(scopes) == len(set(scopes))
    assert sum(int(k["messages"]) for k in keys) == 800  # type: ignore[call-overload]
    assert all(int(k["messages"]) <= cap for k in keys)  # type: ignore[call-overload]
    counted = {k["key_id"]: 0 for k in keys}
    for (key_id,) in database.execute("SELECT key_id FROM log_records"):
        counted[key_id] += 1
    assert counted == {k["key_id"]: k["messages"] for k in keys}
