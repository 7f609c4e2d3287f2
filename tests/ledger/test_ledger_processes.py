"""The audit ledger under several processes at once, and under SIGKILL mid-append.

Every test runs on a SQLite file and on a database of the session's real PostgreSQL
server. Appenders are 'spawn' children (tests/ledger/_appender.py) sharing one database,
as replicas of the sidecar do; the parent then checks the stored ledger against what
each child was told: one linear log (no gap, no duplicate, batches contiguous), the
entries' exact bytes, the root, signed checkpoints that all extend one another, and an
export that the offline verifier accepts.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from governance.database import Database, database_url_for
from governance.export import jsonl_lines, plan_export
from governance.ledger import Ledger
from governance.merkle import leaf_hash, root_hash, verify_consistency, verify_inclusion
from governance.note import Checkpoint, NoteSigner, open_note, parse_checkpoint
from governance.tables import CheckpointRow, LedgerEntryRow, LedgerNodeRow
from governance.verify import verify_export
from tests.ledger import _appender
from tests.pgserver import PgServer

ORIGIN = "ledger.test/processes"
APPENDER = "ledger-appender"  # application_name of the children's PostgreSQL sessions


@dataclass
class Backend:
    kind: str  # "sqlite" or "postgresql"
    url: str
    child_url: str  # the same database; on PostgreSQL its sessions are named APPENDER
    server: PgServer | None = None
    name: str | None = None

    def appenders_gone(self, timeout_s: float = 30.0) -> None:
        """Wait until no killed child's session is left on the server (PostgreSQL).

        A child killed after sending COMMIT may still be committing: the parent reads
        the ledger only once its backend process has ended.
        """
        if self.server is None:
            return
        deadline = time.monotonic() + timeout_s
        with self.server.admin() as admin:
            while time.monotonic() < deadline:
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND application_name = %s",
                    (self.name, APPENDER),
                ).fetchone()
                if row is not None and row[0] == 0:
                    return
                time.sleep(0.01)
        pytest.fail(f"a killed appender's PostgreSQL session outlived it by {timeout_s} s")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        url = database_url_for(tmp_path)
        yield Backend("sqlite", url, url)
        return
    server: PgServer = request.getfixturevalue("postgres")
    name = f"ledger_{uuid.uuid4().hex}"
    url = server.create_database(name)
    try:
        yield Backend("postgresql", url, f"{url}?application_name={APPENDER}", server, name)
    finally:
        server.drop_database(name)


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def ledger(backend: Backend) -> Iterator[Ledger]:
    """The parent's ledger on the test's database, migrated before any child starts."""
    database = Database(backend.url)
    database.migrate()
    yield Ledger(database, origin=ORIGIN)
    database.close()


# -- checks shared by both tests ----------------------------------------------------------


def whole_ledger(ledger: Ledger) -> list[bytes]:
    """Every entry in order, after checking stored leaf hashes, the root and row counts."""
    state = ledger.state()
    assert state.origin == ORIGIN
    entries = [entry for _, entry in ledger.entries(0, state.size)]  # raises on a gap
    leaves = [leaf_hash(entry) for entry in entries]
    assert list(ledger.leaf_hashes(0, state.size)) == leaves
    assert root_hash(leaves) == state.root == ledger.root_at(state.size)
    with ledger.database.reading() as session:
        rows, first, last = session.execute(
            select(func.count(), func.min(LedgerEntryRow.seq), func.max(LedgerEntryRow.seq))
        ).one()
        nodes = session.scalar(select(func.count()).select_from(LedgerNodeRow))
    assert (rows, first, last) == (state.size, 0, state.size - 1)
    # A tree of n leaves has n - popcount(n) complete interior subtrees: none half-written.
    assert nodes == state.size - state.size.bit_count()
    return entries


def opened(note: str, signer: NoteSigner) -> Checkpoint:
    checkpoint = parse_checkpoint(open_note(note, [signer.verifier]))
    assert checkpoint.origin == ORIGIN
    return checkpoint


def check_checkpoints(ledger: Ledger, notes: list[str], signer: NoteSigner) -> None:
    """Each checkpoint matches the tree at its size; every pair is provably consistent."""
    roots: dict[int, bytes] = {}
    for note in notes:
        checkpoint = opened(note, signer)
        assert roots.setdefault(checkpoint.size, checkpoint.root) == checkpoint.root, "fork"
        assert ledger.root_at(checkpoint.size) == checkpoint.root
        stored = ledger.checkpoint_at_least(checkpoint.size)
        assert stored is not None
        assert (stored.size, stored.root, stored.note) == (checkpoint.size, checkpoint.root, note)
    state = ledger.state()
    roots[state.size] = state.root
    sizes = sorted(size for size in roots if size > 0)
    for first, second in itertools.combinations(sizes, 2):
        proof = ledger.consistency_proof(first, second)
        verify_consistency(first, second, proof, roots[first], roots[second])


def check_inclusion(ledger: Ledger, entries: list[bytes], seqs: list[int], size: int) -> None:
    root = ledger.root_at(size)
    for seq in seqs:
        leaf, proof = ledger.inclusion_proof(seq, size)
        assert leaf == leaf_hash(entries[seq])
        verify_inclusion(leaf, seq, size, proof, root)


def export_verifies(ledger: Ledger, signer: NoteSigner, previous_note: str | None) -> None:
    """A full JSONL export, checked offline against the key (and the earlier checkpoint)."""
    now = datetime.now(UTC)
    span = plan_export(ledger, signer, now=now)
    lines = list(jsonl_lines(ledger, span, now=now, actor="test"))
    report = verify_export(lines, signer.verifier, previous_note=previous_note)
    assert report.ok, report.problems
    assert (report.from_seq, report.entries) == (0, ledger.state().size)


def stop(processes: list[BaseProcess]) -> None:
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            process.join()


# -- concurrent appenders -------------------------------------------------------------------


def test_concurrent_appenders_form_one_linear_log(
    backend: Backend, ledger: Ledger, signer: NoteSigner
) -> None:
    """4 processes x 40 batches of 1-8 entries, signing checkpoints as they go."""
    workers, batches = 4, 40
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(
            target=_appender.append_concurrently,
            args=(backend.child_url, signer.key(), n, batches, 1000 + n, start, results),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        reports: dict[int, Any] = dict(results.get(timeout=120) for _ in processes)
    finally:
        stop(processes)
    results.close()
    results.join_thread()
    errors = {n: r for n, r in reports.items() if isinstance(r, str)}
    assert not errors, errors

    owner: dict[int, tuple[int, int, int]] = {}  # seq -> (worker, batch, index)
    notes: list[str] = []
    for worker, report in reports.items():
        assert [batch for batch, _ in report["batches"]] == list(range(batches))
        for batch, seqs in report["batches"]:
            assert 1 <= len(seqs) <= 8
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "batch not contiguous"
            for index, seq in enumerate(seqs):
                assert seq not in owner, f"seq {seq} returned twice"
                owner[seq] = (worker, batch, index)
        notes += report["notes"]

    entries = whole_ledger(ledger)
    size = len(entries)
    assert sorted(owner) == list(range(size))
    for seq, (worker, batch, index) in owner.items():
        assert entries[seq] == _appender.draft(worker, batch, index).encode(seq)
    by_worker = [owner[seq][0] for seq in range(size)]
    switches = sum(a != b for a, b in itertools.pairwise(by_worker))
    assert switches > workers, "the appenders did not interleave; nothing was tested"

    sizes = {opened(note, signer).size for note in notes}
    assert len(sizes) >= 4, sizes
    check_checkpoints(ledger, notes, signer)
    rng = random.Random(7)
    check_inclusion(ledger, entries, rng.sample(range(size), 40), size)
    middle = sorted(sizes)[len(sizes) // 2]
    check_inclusion(ledger, entries, rng.sample(range(middle), 10), middle)
    first_note = min(notes, key=lambda note: opened(note, signer).size)
    export_verifies(ledger, signer, previous_note=first_note)


# -- SIGKILL mid-append ---------------------------------------------------------------------

BATCH = 500
MIN_ROUNDS, MAX_ROUNDS = 8, 20
WANT_ROLLED_BACK = 2  # rounds killed inside append() before its commit


def complete_lines(path: Path) -> list[dict[str, Any]]:
    """The log's lines that were written whole (a kill can tear the last one)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def wait_for_begin(path: Path, batch: int, process: BaseProcess, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(r["event"] == "begin" and r["batch"] >= batch for r in complete_lines(path)):
            return
        assert process.is_alive(), f"appender died on its own (exit code {process.exitcode})"
        time.sleep(0.001)
    pytest.fail(f"appender did not begin batch {batch} within {timeout_s} s")


def kill_round(
    backend: Backend, signer: NoteSigner, round_: int, path: Path, rng: random.Random
) -> None:
    """Start an appender, let it begin batch 0-2, SIGKILL it 0-200 ms later."""
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(
        target=_appender.append_until_killed,
        args=(backend.child_url, signer.key(), round_, BATCH, str(path), ready),
    )
    process.start()
    try:
        assert ready.wait(timeout=60), "appender did not start"
        wait_for_begin(path, rng.randint(0, 2), process)
        time.sleep(rng.uniform(0, 0.2))
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=30)
        assert process.exitcode == -signal.SIGKILL, process.exitcode
    finally:
        if process.is_alive():
            process.kill()
            process.join()
    backend.appenders_gone()


def settle_round(
    ledger: Ledger, round_: int, path: Path, size_before: int
) -> tuple[str, list[dict[str, Any]]]:
    """How the kill landed, after checking the round appended whole batches in order."""
    lines = complete_lines(path)
    begun = [r["batch"] for r in lines if r["event"] == "begin"]
    acks = [r for r in lines if r["event"] == "ack"]
    assert begun, "appender killed before its first batch"
    assert begun == list(range(len(begun)))
    assert [r["batch"] for r in acks] == list(range(len(acks)))
    added = ledger.state().size - size_before
    assert added % BATCH == 0, f"round {round_} left {added} entries: a partial batch"
    committed = added // BATCH
    assert len(acks) <= committed <= len(begun)
    for ack in acks:
        first = size_before + ack["batch"] * BATCH
        assert ack["seqs"] == list(range(first, first + BATCH))
    if len(acks) == len(begun):
        return "between appends", acks
    if committed == len(begun):
        return "committed, not acknowledged", acks
    return "inside append, rolled back", acks


def test_sigkilled_appenders_lose_nothing_acknowledged(
    backend: Backend, ledger: Ledger, signer: NoteSigner, tmp_path: Path
) -> None:
    """Rounds of: start an appender of 500-entry batches, SIGKILL it at a random moment."""
    rng = random.Random(20260314)
    outcomes: Counter[str] = Counter()
    acked: dict[int, tuple[int, int, int]] = {}  # seq -> (round, batch, index)
    round_ = 0
    while round_ < MIN_ROUNDS or (
        outcomes["inside append, rolled back"] < WANT_ROLLED_BACK and round_ < MAX_ROUNDS
    ):
        path = tmp_path / f"acks-{round_}.jsonl"
        size_before = ledger.state().size
        kill_round(backend, signer, round_, path, rng)
        outcome, acks = settle_round(ledger, round_, path, size_before)
        outcomes[outcome] += 1
        for ack in acks:
            for index, (seq, entry_id) in enumerate(zip(ack["seqs"], ack["ids"], strict=True)):
                assert entry_id == _appender.entry_id(round_, ack["batch"], index)
                acked[seq] = (round_, ack["batch"], index)
        # Refuses unless the tree extends every checkpoint signed so far, the children's too.
        ledger.sign_checkpoint(signer, now=datetime.now(UTC))
        round_ += 1
    assert outcomes["inside append, rolled back"] >= WANT_ROLLED_BACK, outcomes
    assert acked, outcomes

    entries = whole_ledger(ledger)
    for seq, (worker, batch, index) in acked.items():
        assert entries[seq] == _appender.draft(worker, batch, index).encode(seq)
    # Every batch in the ledger is whole, in order, and contiguous: acknowledged or not.
    for start in range(0, len(entries), BATCH):
        first = json.loads(entries[start])
        for index in range(BATCH):
            expected = _appender.draft(first["worker"], first["batch"], index)
            assert entries[start + index] == expected.encode(start + index)

    with ledger.database.reading() as session:
        notes = list(session.scalars(select(CheckpointRow.note).order_by(CheckpointRow.size)))
    assert len(notes) >= MIN_ROUNDS
    check_checkpoints(ledger, notes, signer)
    size = len(entries)
    check_inclusion(ledger, entries, random.Random(3).sample(sorted(acked), 20), size)

    # The ledger still takes appends, numbered right after what survived.
    more = _appender.batch_drafts(999, 0, 7)
    assert ledger.append(more, now=datetime.now(UTC)) == list(range(size, size + 7))
    after = whole_ledger(ledger)
    assert after[:size] == entries
    assert after[size:] == [d.encode(size + i) for i, d in enumerate(more)]
    export_verifies(ledger, signer, previous_note=notes[-1])
