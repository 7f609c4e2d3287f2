"""`python -m bench.retention`: how fast does the retention sweeper delete, and does a sweep
slow the screening path down?

One run measures two things.

1. Sweep throughput. A store is seeded with --records (default 1,000,000) expired records
   of about 1000 bytes of redacted JSON each, over 5 tenants x 2 retention classes x 30
   UTC days (300 buckets, every one wholly expired, so the sweep shreds them all), written
   through `Journal.commit` in transactions of 10,000 records, exactly as the sidecar's
   group commit writes them (each record with its `record_written` ledger entry). Then one
   `Sweeper.run(now=...)` is timed on a copy of that store: records deleted per second,
   batches, the interval between batch commits, the time spent shredding, buckets
   shredded and ledger entries added. This happens for each batch size (the
   `retention.batch_size` of policies.yaml, 1000, and 5000), once per round on a fresh
   copy; the figures are medians across rounds. Once per back-end, the whole ledger is
   then exported and verified offline with the retention check (`verify_export(...,
   retention=True)`): every record written must have its deletion receipt. On SQLite (a
   file in a temporary directory, the Database's own pragmas: WAL, synchronous=FULL) and
   on a throwaway PostgreSQL server (tests/pgserver.py, fsync on) seeded with
   --pg-records (default 1,000,000; 0 skips it).

2. Screening latency during a sweep, on SQLite. A data directory is seeded, before the
   sidecar starts, with --screen-rounds x --screen-records records (default 3 x 400,000),
   using the key files the sidecar then reuses (KEK, bucket keys, ledger signer). Round k's
   records are in buckets of their own and expire k+1 days from now, so the sidecar's own
   scheduled sweep (database clock, first run 30 s after start) finds nothing to delete;
   the benchmark waits for that first sweep to pass before measuring. `python -m sidecar
   serve` then runs on that data dir with the repository's policies.yaml, and each round
   measures Redact of ~2 KB corpus texts (bench/corpus.py), --calls calls at concurrency
   4, (a) with no sweep running and (b) while `governance retention run --now <k+1 days
   on>` (a subprocess on the same data dir) deletes round k's records. Pass (b) starts
   when that sweep has taken the sweeper lease (it is deleting from then on); the report
   says which share of the pass the sweep overlapped. Rounds alternate which of (a) and
   (b) goes first; the figures are medians across rounds, and the ratio (b)/(a) is shown
   per figure and per round. SQLite has one writer: each Redact commits its screening
   decision to the ledger through the group commit, which waits for whatever sweep batch
   holds the write lock; on 2 cores the sweep process also takes CPU from the sidecar.
   Both are in (b): that is what a caller sees.

Records are made up; no real data is involved. The table goes to stdout, progress to
stderr, the figures as JSON to --json (default bench/results/retention.json) and the
sidecar's log next to it (retention-sidecar.log). Exit status: 0 when every part was
measured and every check passed (all records deleted and receipted, buckets shredded,
no failed call, sweeps overlapping their passes); 1 otherwise (the report and JSON are
still written, with the reason under `notes`); 2 for bad flags.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import gc
import itertools
import json
import math
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import sql
from sqlalchemy import func, select

from bench.corpus import generate
from bench.report import machine_info, optional_postgres, package_versions, text_table
from bench.rpc import RedactClient
from bench.server import SidecarProcess, SidecarStartError, _stop, _wait_serving
from bench.stats import PassStats, median_stats, percentile, summarize
from governance.database import database_url_for
from governance.errors import GovernanceError
from governance.export import jsonl_lines, plan_export
from governance.journal import Journal, Unit
from governance.keyprovider import LocalKeyProvider
from governance.ledger import Ledger
from governance.note import NoteSigner
from governance.policy import Policies, load_policies_file
from governance.retention import Sweeper, SweepReport
from governance.store import LogStore, NewRecord
from governance.tables import DataKeyRow, RecordRow
from governance.vault import Vault
from governance.verify import verify_export
from tests.pgserver import PgServer, free_port

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies.yaml"
DEFAULT_JSON = REPO / "bench" / "results" / "retention.json"
TENANTS = tuple(f"tenant-{n}" for n in range(5))
DAYS = 30  # part 1: days of records (UTC buckets) per tenant and class
SCREEN_DAYS = 10  # part 2: days per round, so each round's sweep shreds its own buckets
SEED_BATCH = 10_000  # records per Journal.commit while seeding
RECORD_BYTES = 1000
EXTRA_BATCH_SIZE = 5000
CONCURRENCY = 4
SEED_ACTOR = "bench-seed"
SWEEP_ACTOR = "bench-sweeper"
_FULL = {
    "records": 1_000_000,
    "pg_records": 1_000_000,
    "rounds": 3,
    "screen_records": 400_000,
    "screen_rounds": 3,
    "calls": 160,
}
_QUICK = {
    "records": 20_000,
    "pg_records": 20_000,
    "rounds": 1,
    "screen_records": 80_000,
    "screen_rounds": 2,
    "calls": 24,
}
_WARMUP_CALLS = 16
_MIN_OVERLAP = 0.95  # share of a (b) pass the sweep must cover, else a note (and exit 1)
_FIRST_SWEEP_WAIT_S = 150.0  # the sidecar sweeps 30 s after start; allow a slow start
_SWEEP_TIMEOUT_S = 1800.0
_PACKAGES = ("SQLAlchemy", "psycopg", "psycopg-binary", "cryptography", "grpcio")
_SWEEP_LINE = re.compile(r"deleted (\d+) records, (\d+) held, shredded (\d+) buckets")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- records --------------------------------------------------------------------------------

_WORDS = ("the", "a", "of", "order", "refund", "account", "payment", "delivery", "issue", "thanks")
_PLACEHOLDERS = ("<PERSON_1>", "<EMAIL_ADDRESS_1>", "<PHONE_NUMBER_1>", "<LOCATION_1>", "<IBAN_1>")


def _body(rng: random.Random, at: datetime, tenant: str, retention_class: str) -> bytes:
    """About RECORD_BYTES of canonical JSON shaped like the sidecar's inference records."""
    body: dict[str, Any] = {
        "schema": 1,
        "kind": "inference",
        "tenant": tenant,
        "model": "chat-small",
        "retention_class": retention_class,
        "policy_version": "bench-1",
        "created_at": at.isoformat(timespec="microseconds"),
        "inference_id": f"{rng.getrandbits(128):032x}",
        "purpose": "support",
        "outcome": "ok",
        "latency_ms": {"begin": round(rng.uniform(2, 40), 3), "end": round(rng.uniform(2, 40), 3)},
        "entities": {"input": {"PERSON": 1, "EMAIL_ADDRESS": 1}, "output": {"PERSON": 1}},
        "actions": {"PERSON": "pseudonymize", "EMAIL_ADDRESS": "redact"},
        "input": " ".join(rng.choices(_WORDS + _PLACEHOLDERS, k=14)),
        "output": " ".join(rng.choices(_WORDS + _PLACEHOLDERS, k=12)),
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    while len(encoded) < RECORD_BYTES:  # top up the output text to just over the size
        body["output"] += " " + " ".join(
            rng.choices(_WORDS, k=(RECORD_BYTES - len(encoded)) // 5 + 1)
        )
        encoded = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return encoded


@dataclass(frozen=True, slots=True)
class Plan:
    """`count` records, created evenly over `days` UTC days from `first_day`, cycling
    through every (tenant, class); `expires(at, tenant, class, index)` fixes expiry."""

    count: int
    first_day: datetime
    days: int
    classes: tuple[str, ...]
    expires: Callable[[datetime, str, str, int], datetime]
    seed: int

    @property
    def buckets(self) -> int:
        return len(TENANTS) * len(self.classes) * self.days

    def batches(self) -> Iterator[list[NewRecord]]:
        rng = random.Random(self.seed)
        step = timedelta(days=self.days) / self.count
        combos = [(t, c) for t in TENANTS for c in self.classes]
        for start in range(0, self.count, SEED_BATCH):
            batch = []
            for index in range(start, min(start + SEED_BATCH, self.count)):
                at = self.first_day + step * index
                tenant, retention_class = combos[index % len(combos)]
                batch.append(
                    NewRecord(
                        tenant=tenant,
                        retention_class=retention_class,
                        kind="inference",
                        model="chat-small",
                        created_at=at,
                        expires_at=self.expires(at, tenant, retention_class, index),
                        plaintext=_body(rng, at, tenant, retention_class),
                    )
                )
            yield batch


def _in_hour_before(
    slot: datetime, count: int, _at: datetime, _tenant: str, _class: str, index: int
) -> datetime:
    """Expiry spread evenly over the hour before `slot` (Plan.expires for part 2)."""
    return slot - timedelta(hours=1) * (1 - index / count)


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


# -- workspaces: a data dir (keys, and the SQLite file) plus its database -------------------


@dataclass(frozen=True, slots=True)
class Workspace:
    data_dir: Path
    url: str
    pg_name: str | None  # the PostgreSQL database, None on SQLite


@dataclass(slots=True)
class Opened:
    store: LogStore
    ledger: Ledger
    signer: NoteSigner
    provider: LocalKeyProvider

    def close(self) -> None:
        self.store.close()


def _open(workspace: Workspace) -> Opened:
    """The store and ledger as the sidecar opens them; key files created when missing."""
    provider = LocalKeyProvider(workspace.data_dir / "keys" / "kek.json")
    signer, _created = provider.ledger_signer()
    store = LogStore(workspace.url, Vault(provider, buckets=provider.bucket_keys()))
    store.migrate()
    return Opened(store, Ledger(store.database, origin=signer.name), signer, provider)


class Workspaces:
    """Fresh and copied workspaces under one temporary root, on SQLite or PostgreSQL."""

    def __init__(self, root: Path, server: PgServer | None) -> None:
        self._root = root
        self._server = server
        self._made = 0

    def new(self, backend: str) -> Workspace:
        self._made += 1
        data_dir = self._root / f"{backend}-{self._made}"
        data_dir.mkdir(mode=0o700)
        if backend == "sqlite":
            return Workspace(data_dir, database_url_for(data_dir), None)
        assert self._server is not None
        name = f"bench_{self._made}"
        return Workspace(data_dir, self._server.create_database(name), name)

    def copy(self, seed: Workspace) -> Workspace:
        """A copy of a closed workspace: its files (key files too: a sweep destroys bucket
        secrets) and, on PostgreSQL, its database (CREATE DATABASE ... TEMPLATE)."""
        self._made += 1
        data_dir = self._root / f"copy-{self._made}"
        shutil.copytree(seed.data_dir, data_dir)
        if seed.pg_name is None:
            return Workspace(data_dir, database_url_for(data_dir), None)
        assert self._server is not None
        name = f"bench_{self._made}"
        with self._server.admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(seed.pg_name)
                )
            )
            admin.execute("CHECKPOINT")  # the sweep does not pay for flushing the copy
        return Workspace(data_dir, self._server.url(name), name)

    def drop(self, workspace: Workspace) -> None:
        if workspace.pg_name is not None and self._server is not None:
            self._server.drop_database(workspace.pg_name)
        shutil.rmtree(workspace.data_dir, ignore_errors=True)


# -- seeding --------------------------------------------------------------------------------


def _seed(opened: Opened, plan: Plan, label: str) -> dict[str, Any]:
    """Write the plan's records through Journal.commit; time the commits only."""
    journal = Journal(
        opened.store, opened.ledger, actor=SEED_ACTOR, clock=lambda: datetime.now(UTC)
    )
    commit_s = 0.0
    written = 0
    reported = 0
    wall_started = time.perf_counter()
    for batch in plan.batches():
        started = time.perf_counter()
        journal.commit([Unit(record) for record in batch])
        commit_s += time.perf_counter() - started
        written += len(batch)
        if written - reported >= 100_000 or written == plan.count:
            reported = written
            _log(f"  {label} seed: {written:,} records, {commit_s:.1f} s committing")
    return {
        "records": written,
        "commit_s": commit_s,
        "wall_s": time.perf_counter() - wall_started,
        "records_per_s": written / commit_s,
        "transaction_records": SEED_BATCH,
        "ledger_entries": opened.ledger.state().size,
    }


def _database_bytes(workspace: Workspace, server: PgServer | None) -> int:
    if workspace.pg_name is None:
        return sum(p.stat().st_size for p in workspace.data_dir.glob("sidecar.db*"))
    assert server is not None
    with server.admin() as admin:
        row = admin.execute("SELECT pg_database_size(%s)", (workspace.pg_name,)).fetchone()
    return int(row[0]) if row else 0


# -- part 1: sweep throughput ---------------------------------------------------------------


class Steps:
    """The Sweeper's step hook: when each durable step happened (perf_counter)."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []

    def __call__(self, name: str) -> None:
        self.times.append((name, time.perf_counter()))

    def of(self, name: str) -> list[float]:
        return [at for step, at in self.times if step == name]


@dataclass(frozen=True, slots=True)
class SweepPass:
    backend: str
    batch_size: int
    round_index: int
    records: int
    deleted: int
    wall_s: float
    cpu_s: float  # this process; a PostgreSQL server's own CPU is not in it
    batches: int
    batch_p50_ms: float | None  # None with fewer than two batches
    batch_p99_ms: float | None
    batch_max_ms: float | None
    shred_s: float | None  # from the last batch commit to the bucket secrets destroyed
    buckets_shredded: int
    ledger_entries_added: int
    records_left: int
    live_data_keys: int
    live_bucket_secrets: int

    @property
    def records_per_s(self) -> float:
        return self.deleted / self.wall_s


def _count(opened: Opened) -> tuple[int, int]:
    """(records left, data keys not destroyed)."""
    with opened.store.database.reading() as session:
        records = session.scalar(select(func.count()).select_from(RecordRow)) or 0
        keys = (
            session.scalar(
                select(func.count()).select_from(DataKeyRow).where(DataKeyRow.wrapped.is_not(None))
            )
            or 0
        )
    return int(records), int(keys)


def _sweep_pass(
    workspace: Workspace,
    policies: Policies,
    *,
    backend: str,
    batch_size: int,
    round_index: int,
    records: int,
) -> tuple[SweepPass, Opened]:
    """One timed Sweeper.run on `workspace`; returns it still open (for the export)."""
    tuned = dataclasses.replace(
        policies, retention=policies.retention.model_copy(update={"batch_size": batch_size})
    )
    opened = _open(workspace)
    before = opened.ledger.state().size
    steps = Steps()
    sweeper = Sweeper(opened.store, opened.ledger, tuned, actor=SWEEP_ACTOR, step=steps)
    now = datetime.now(UTC)
    gc.collect()
    cpu_started, started = time.process_time(), time.perf_counter()
    report: SweepReport = sweeper.run(now=now)
    wall_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    commits = steps.of("batch_committed")
    intervals = sorted(1e3 * (b - a) for a, b in itertools.pairwise(commits))
    shredded_at = steps.of("bucket_keys_destroyed")
    left, live_keys = _count(opened)
    measured = SweepPass(
        backend=backend,
        batch_size=batch_size,
        round_index=round_index,
        records=records,
        deleted=report.deleted,
        wall_s=wall_s,
        cpu_s=cpu_s,
        batches=report.batches,
        batch_p50_ms=percentile(intervals, 50) if intervals else None,
        batch_p99_ms=percentile(intervals, 99) if intervals else None,
        batch_max_ms=intervals[-1] if intervals else None,
        shred_s=(shredded_at[0] - commits[-1]) if commits and shredded_at else None,
        buckets_shredded=len(report.buckets_shredded),
        ledger_entries_added=opened.ledger.state().size - before,
        records_left=left,
        live_data_keys=live_keys,
        live_bucket_secrets=len(opened.provider.bucket_keys().live()),
    )
    return measured, opened


def _export_and_verify(opened: Opened, path: Path, seeded: int) -> dict[str, Any]:
    """The whole ledger as JSONL, then verify_export with the retention check."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    span = plan_export(opened.ledger, opened.signer, now=now)
    with path.open("wb") as out:
        for line in jsonl_lines(opened.ledger, span, now=now, actor="bench"):
            out.write(line)
    export_s = time.perf_counter() - started
    file_bytes = path.stat().st_size
    started = time.perf_counter()
    with path.open("rb") as lines:
        report = verify_export(lines, opened.signer.verifier, retention=True)
    verify_s = time.perf_counter() - started
    path.unlink()
    retention = report.retention
    return {
        "entries": report.entries,
        "export_s": export_s,
        "file_bytes": file_bytes,
        "verify_s": verify_s,
        "ok": report.ok,
        "records_written": retention.records if retention else None,
        "receipts": retention.receipts if retention else None,
        "sweeps": retention.sweeps if retention else None,
        "every_record_receipted": bool(retention and retention.receipts == seeded),
        "problems": report.problems[:10],
    }


def _check_sweep(measured: SweepPass, buckets: int, notes: list[str]) -> None:
    where = f"{measured.backend} batch {measured.batch_size} round {measured.round_index + 1}"
    if measured.deleted != measured.records or measured.records_left:
        notes.append(
            f"{where}: deleted {measured.deleted} of {measured.records}, "
            f"{measured.records_left} left"
        )
    if measured.buckets_shredded != buckets or measured.live_data_keys:
        notes.append(
            f"{where}: shredded {measured.buckets_shredded} of {buckets} buckets, "
            f"{measured.live_data_keys} data keys left"
        )
    if measured.live_bucket_secrets:
        notes.append(f"{where}: {measured.live_bucket_secrets} bucket secrets left")


def _throughput(
    workspaces: Workspaces,
    server: PgServer | None,
    backend: str,
    records: int,
    *,
    policies: Policies,
    batch_sizes: Sequence[int],
    rounds: int,
    root: Path,
    notes: list[str],
) -> dict[str, Any] | None:
    _log(f"{backend}: sweep throughput at {records:,} records")
    started_at = datetime.now(UTC)
    classes = tuple(list(policies.retention.classes)[:2])
    # Created 100..70 days ago, kept as the policy says: all expired, every bucket over.
    plan = Plan(
        count=records,
        first_day=_midnight(started_at) - timedelta(days=100),
        days=DAYS,
        classes=classes,
        expires=lambda at, tenant, c, _i: at + policies.retention.keep_for(c, tenant),
        seed=records,
    )
    seed = workspaces.new(backend)
    try:
        opened = _open(seed)
        try:
            seeding = _seed(opened, plan, backend)
        finally:
            opened.close()
        seeding["database_bytes"] = _database_bytes(seed, server)
        passes: list[SweepPass] = []
        verified: dict[str, Any] | None = None
        for index in range(rounds):
            order = list(batch_sizes) if index % 2 == 0 else list(reversed(batch_sizes))
            for batch_size in order:
                copy = workspaces.copy(seed)
                try:
                    measured, opened = _sweep_pass(
                        copy,
                        policies,
                        backend=backend,
                        batch_size=batch_size,
                        round_index=index,
                        records=records,
                    )
                    try:
                        _log(
                            f"  {backend} batch {batch_size} round {index + 1}/{rounds}: "
                            f"{measured.deleted:,} deleted in {measured.wall_s:.1f} s "
                            f"({measured.records_per_s:,.0f}/s)"
                        )
                        _check_sweep(measured, plan.buckets, notes)
                        passes.append(measured)
                        if verified is None:
                            _log(f"  {backend}: export and verify the whole ledger")
                            verified = _export_and_verify(opened, root / "export.jsonl", records)
                            verified["batch_size"] = batch_size
                            if not verified["ok"] or not verified["every_record_receipted"]:
                                notes.append(
                                    f"{backend}: ledger export did not verify: "
                                    f"{verified['problems'][:3]}, receipts "
                                    f"{verified['receipts']} of {records}"
                                )
                    finally:
                        opened.close()
                finally:
                    workspaces.drop(copy)
    except GovernanceError as err:  # names classes, sizes, digests: never content
        notes.append(f"{backend} throughput: {err}")
        return None
    finally:
        workspaces.drop(seed)
    return {
        "backend": backend,
        "records": records,
        "buckets": plan.buckets,
        "seeding": seeding,
        "rows": _sweep_rows(passes, batch_sizes),
        "verify": verified,
    }


def _sweep_rows(passes: Sequence[SweepPass], batch_sizes: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for batch_size in batch_sizes:
        rounds = [p for p in passes if p.batch_size == batch_size]
        if not rounds:
            continue

        def median(name: str, rounds: Sequence[SweepPass] = rounds) -> float | None:
            values = [float(v) for p in rounds if (v := getattr(p, name)) is not None]
            return statistics.median(values) if values else None

        rates = [p.records_per_s for p in rounds]
        rows.append(
            {
                "batch_size": batch_size,
                "rounds": len(rounds),
                "records_per_s": statistics.median(rates),
                "spread_pct": 100 * (max(rates) - min(rates)) / statistics.median(rates),
                **{
                    name: median(name)
                    for name in (
                        "wall_s",
                        "cpu_s",
                        "deleted",
                        "batches",
                        "batch_p50_ms",
                        "batch_p99_ms",
                        "batch_max_ms",
                        "shred_s",
                        "buckets_shredded",
                        "ledger_entries_added",
                    )
                },
                "passes": [asdict(p) | {"records_per_s": p.records_per_s} for p in rounds],
            }
        )
    return rows


# -- part 2: screening latency while a sweep runs -------------------------------------------


@contextlib.asynccontextmanager
async def _sidecar_on(
    data_dir: Path, *, policies: Path, log_path: Path, startup_timeout_s: float = 180.0
) -> AsyncIterator[tuple[SidecarProcess, subprocess.Popen[bytes]]]:
    """`python -m sidecar serve` on a data dir we prepared (bench/server.py's
    running_sidecar always makes a fresh one); stopped with SIGTERM on exit."""
    target = f"127.0.0.1:{free_port()}"
    server = SidecarProcess(target, log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        command = [
            sys.executable, "-m", "sidecar", "serve",
            "--listen", target,
            "--data-dir", str(data_dir),
            "--policies", str(policies),
        ]  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        server.pid = process.pid
        try:
            await _wait_serving(process, server, timeout_s=startup_timeout_s)
            server.startup_s = time.perf_counter() - started
            yield server, process
        finally:
            stopping = time.perf_counter()
            server.exit_code = _stop(process)
            server.stop_s = time.perf_counter() - stopping


class SweepFailed(Exception):
    """The `governance retention run` subprocess failed or did not start deleting."""


async def _first_own_sweep(log_path: Path, process: subprocess.Popen[bytes]) -> str | None:
    """Wait for the sidecar's own scheduled sweep to log its result; return that message."""
    deadline = time.monotonic() + _FIRST_SWEEP_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SidecarStartError(f"sidecar exited with code {process.returncode}")
        text = log_path.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if "retention sweep" in line:
                return line.split(" ", 4)[-1]  # after date, time, level, logger
        await asyncio.sleep(0.5)
    return None


@dataclass(frozen=True, slots=True)
class SweepRun:
    """One `governance retention run` during a (b) pass."""

    round_index: int
    now: str
    exit_code: int
    deleted: int
    shredded: int
    wall_s: float  # spawn to exit
    lease_to_exit_s: float  # deleting (lease taken) to exit
    cpu_s: float  # the subprocess's user + system CPU
    overlap: float  # share of the (b) pass's wall time with the sweep still running

    @property
    def records_per_s(self) -> float:
        return self.deleted / self.lease_to_exit_s if self.lease_to_exit_s > 0 else 0.0


async def _wait_lease(database: Path, process: subprocess.Popen[bytes]) -> float:
    """perf_counter when the sweep subprocess holds the sweeper lease (it deletes next)."""
    marker = f"/{process.pid}/"
    deadline = time.monotonic() + 300
    with contextlib.closing(
        sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    ) as connection:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SweepFailed(f"sweep exited ({process.returncode}) before taking the lease")
            row = connection.execute(
                "SELECT owner, until_us FROM sweeper_lease WHERE id = 1"
            ).fetchone()
            if row is not None and marker in str(row[0]) and int(row[1]) > 0:
                return time.perf_counter()
            await asyncio.sleep(0.02)
    raise SweepFailed("sweep did not take the lease within 300 s")


async def _wait_exit(process: subprocess.Popen[bytes]) -> float:
    """perf_counter when the subprocess was seen to have exited (polled every 10 ms)."""
    deadline = time.monotonic() + _SWEEP_TIMEOUT_S
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            raise SweepFailed(f"sweep still running after {_SWEEP_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.01)
    return time.perf_counter()


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _swept_pass(
    client: RedactClient,
    texts: Sequence[str],
    *,
    data_dir: Path,
    policies: Path,
    now: datetime,
    round_index: int,
    out_path: Path,
) -> tuple[PassStats, SweepRun]:
    """Pass (b): start the sweep, wait until it deletes, run the calls, wait for its end."""
    cpu_before = _children_cpu_s()  # the sidecar is not reaped yet: only the sweep counts
    command = [
        sys.executable, "-m", "governance", "retention", "run",
        "--data-dir", str(data_dir),
        "--policies", str(policies),
        "--now", now.isoformat(),
    ]  # fmt: skip
    with out_path.open("wb") as out:
        spawned = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            lease_at = await _wait_lease(data_dir / "sidecar.db", process)
            exited = asyncio.create_task(_wait_exit(process))
            started = time.perf_counter()
            result = await client.run(texts, concurrency=CONCURRENCY)
            ended = time.perf_counter()
            exit_at = await exited
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    output = out_path.read_text(encoding="utf-8", errors="replace")
    found = _SWEEP_LINE.search(output)
    run = SweepRun(
        round_index=round_index,
        now=now.isoformat(),
        exit_code=process.returncode,
        deleted=int(found.group(1)) if found else -1,
        shredded=int(found.group(3)) if found else -1,
        wall_s=exit_at - spawned,
        lease_to_exit_s=exit_at - lease_at,
        cpu_s=_children_cpu_s() - cpu_before,
        overlap=min(1.0, max(0.0, (exit_at - started) / (ended - started))),
    )
    return summarize(texts, result), run


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _stats_dict(stats: PassStats) -> dict[str, Any]:
    """A pass's figures; latencies None when no call was answered."""
    return {
        "calls": stats.texts + stats.fail_closed + stats.failed,
        "p50_ms": _finite(stats.p50_ms),
        "p95_ms": _finite(stats.p95_ms),
        "p99_ms": _finite(stats.p99_ms),
        "calls_per_s": (stats.texts + stats.fail_closed) / stats.wall_s,
        "wall_s": stats.wall_s,
        "fail_closed": stats.fail_closed,
        "failed": stats.failed,
    }


class ScreeningRounds:
    """The passes of part 2 and what they found; (a) and (b) in the order asked."""

    def __init__(
        self,
        *,
        data_dir: Path,
        texts: Sequence[str],
        t0: datetime,
        per_round: int,
        root: Path,
        notes: list[str],
    ) -> None:
        self._data_dir = data_dir
        self._texts = texts
        self._t0 = t0
        self._per_round = per_round
        self._root = root
        self._notes = notes
        self.idle: list[PassStats] = []
        self.swept: list[PassStats] = []
        self.sweeps: list[SweepRun] = []
        self.order: list[str] = []

    async def measure(self, client: RedactClient, index: int, condition: str, rounds: int) -> None:
        label = f"  round {index + 1}/{rounds}"
        self.order.append(f"{index + 1}{condition}")
        if condition == "a":
            result = await client.run(self._texts, concurrency=CONCURRENCY)
            self.idle.append(summarize(self._texts, result))
            _log(f"{label} (a) no sweep: {_latency_text(_stats_dict(self.idle[-1]))}")
            return
        stats, run = await _swept_pass(
            client,
            self._texts,
            data_dir=self._data_dir,
            policies=POLICIES,
            now=self._t0 + timedelta(days=index + 1, minutes=1),
            round_index=index,
            out_path=self._root / f"sweep-{index + 1}.out",
        )
        self.swept.append(stats)
        self.sweeps.append(run)
        _log(
            f"{label} (b) during sweep: {_latency_text(_stats_dict(stats))}; sweep "
            f"{run.deleted:,} in {run.lease_to_exit_s:.1f} s, overlap {100 * run.overlap:.0f}%"
        )
        if run.exit_code != 0 or run.deleted != self._per_round:
            self._notes.append(
                f"screening round {index + 1}: sweep exited {run.exit_code}, "
                f"deleted {run.deleted} of {self._per_round}"
            )
        if run.overlap < _MIN_OVERLAP:
            self._notes.append(
                f"screening round {index + 1}: the sweep ended after {100 * run.overlap:.0f}% "
                "of pass (b); raise --screen-records or lower --calls"
            )


async def _screening(
    workspaces: Workspaces,
    *,
    per_round: int,
    rounds: int,
    calls: int,
    log_path: Path,
    root: Path,
    notes: list[str],
) -> dict[str, Any] | None:
    _log(f"screening during sweeps: seeding {rounds} x {per_round:,} records")
    policies = load_policies_file(POLICIES)
    workspace = workspaces.new("sqlite")
    data_dir = workspace.data_dir
    t0 = datetime.now(UTC).replace(microsecond=0)
    base = _midnight(t0) - timedelta(days=200)
    classes = tuple(list(policies.retention.classes)[:2])
    seeding: list[dict[str, Any]] = []
    opened = _open(workspace)  # the key files the sidecar will reuse
    try:
        for index in range(rounds):
            slot = t0 + timedelta(days=index + 1)  # round k's records expire just before
            plan = Plan(
                count=per_round,
                first_day=base + timedelta(days=SCREEN_DAYS * index),
                days=SCREEN_DAYS,
                classes=classes,
                expires=functools.partial(_in_hour_before, slot, per_round),
                seed=10_000 + index,
            )
            seeding.append(_seed(opened, plan, f"screening round {index + 1}"))
    finally:
        opened.close()
    database_bytes = _database_bytes(workspace, None)
    texts = [doc.text for doc in generate(4321, {"2KB": calls})]
    warmup = [doc.text for doc in generate(8765, {"2KB": _WARMUP_CALLS})]
    rounds_run = ScreeningRounds(
        data_dir=data_dir, texts=texts, t0=t0, per_round=per_round, root=root, notes=notes
    )
    server_info: dict[str, Any] = {"log": str(log_path)}
    try:
        _log("starting the sidecar on the seeded data dir")
        async with _sidecar_on(data_dir, policies=POLICIES, log_path=log_path) as (
            server,
            process,
        ):
            server_info["startup_s"] = server.startup_s
            _log(f"  serving after {server.startup_s:.1f} s; waiting for its own first sweep")
            own = await _first_own_sweep(log_path, process)
            server_info["own_first_sweep"] = own
            _log(f"  sidecar's own sweep: {own}")
            if own is None:
                notes.append("screening: the sidecar's own first sweep was not seen in its log")
            async with RedactClient(server.target) as client:
                await client.run(warmup, concurrency=CONCURRENCY)
                for index in range(rounds):
                    order = ("a", "b") if index % 2 == 0 else ("b", "a")
                    for condition in order:
                        await server.settle()
                        await rounds_run.measure(client, index, condition, rounds)
        server_info |= {"exit_code": server.exit_code, "stop_s": server.stop_s}
        if server.exit_code != 0:
            notes.append(f"screening: the sidecar exited with code {server.exit_code}")
    except (SidecarStartError, SweepFailed, OSError) as err:
        notes.append(f"screening: {str(err).splitlines()[0]}")
        _log(f"screening failed: {err}")
        workspaces.drop(workspace)
        return None
    _log("  screening: export and verify the ledger (retention check)")
    try:
        opened = _open(workspace)
        try:
            verified = _export_and_verify(opened, root / "export.jsonl", per_round * rounds)
            left, _keys = _count(opened)
        finally:
            opened.close()
    except GovernanceError as err:
        notes.append(f"screening verify: {err}")
        verified, left = None, -1
    finally:
        workspaces.drop(workspace)
    if verified is not None and not (verified["ok"] and verified["every_record_receipted"]):
        notes.append(
            f"screening: ledger export did not verify: {verified['problems'][:3]}, "
            f"receipts {verified['receipts']} of {per_round * rounds}"
        )
    if left:
        notes.append(f"screening: {left} records left after every sweep")
    failed = sum(s.failed for s in [*rounds_run.idle, *rounds_run.swept])
    if failed:
        notes.append(f"screening: {failed} Redact calls failed")
    return _screening_document(
        rounds_run.idle,
        rounds_run.swept,
        rounds_run.sweeps,
        order=rounds_run.order,
        seeding=seeding,
        database_bytes=database_bytes,
        per_round=per_round,
        calls=calls,
        server=server_info,
        verified=verified,
    )


def _latency_text(figures: dict[str, Any]) -> str:
    return f"p50 {_fmt(figures['p50_ms'], '.1f')} ms, p99 {_fmt(figures['p99_ms'], '.1f')} ms"


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _screening_document(
    idle: Sequence[PassStats],
    swept: Sequence[PassStats],
    sweeps: Sequence[SweepRun],
    **facts: Any,
) -> dict[str, Any]:
    document: dict[str, Any] = dict(facts)
    document["seeded_records"] = sum(s["records"] for s in facts["seeding"])
    document["seed_commit_s"] = sum(s["commit_s"] for s in facts["seeding"])
    document["a_rounds"] = [_stats_dict(s) for s in idle]
    document["b_rounds"] = [_stats_dict(s) for s in swept]
    document["sweeps"] = [asdict(r) | {"records_per_s": r.records_per_s} for r in sweeps]
    if not idle or not swept:
        document |= {"a": None, "b": None, "ratio": None, "paired_ratios": []}
        return document
    a, b = _stats_dict(median_stats(idle)), _stats_dict(median_stats(swept))
    # calls/s of the medians: median_stats takes each figure's own median.
    a["calls_per_s"] = statistics.median(x["calls_per_s"] for x in document["a_rounds"])
    b["calls_per_s"] = statistics.median(x["calls_per_s"] for x in document["b_rounds"])
    figures = ("p50_ms", "p95_ms", "p99_ms", "calls_per_s")
    document["a"], document["b"] = a, b
    document["ratio"] = {name: _ratio(b[name], a[name]) for name in figures}
    document["paired_ratios"] = [
        {name: _ratio(y[name], x[name]) for name in figures}
        for x, y in zip(document["a_rounds"], document["b_rounds"], strict=False)
    ]
    document["sweep_median"] = {
        "lease_to_exit_s": statistics.median(r.lease_to_exit_s for r in sweeps),
        "records_per_s": statistics.median(r.records_per_s for r in sweeps),
        "cpu_s": statistics.median(r.cpu_s for r in sweeps),
        "cpu_share": statistics.median(r.cpu_s / r.wall_s for r in sweeps),
        "overlap": min(r.overlap for r in sweeps),
        "shredded": statistics.median(r.shredded for r in sweeps),
    }
    return document


# -- report ---------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _report(document: dict[str, Any]) -> str:
    machine, config = document["machine"], document["config"]
    lines = [
        f"Machine: {machine['cpu_model']}, {machine['usable_cpus']} usable CPUs, load "
        f"{machine['load_avg_1m_at_start']:.2f} at start; Python {machine['python']}, SQLite "
        f"{machine['sqlite']}, PostgreSQL {machine.get('postgresql') or 'not run'}; "
        f"code {machine.get('git_commit') or 'unknown'}",
    ]
    throughput = document["throughput"]
    if throughput:
        lines += [
            "",
            f"1. Sweeper.run over expired records (~{RECORD_BYTES} B JSON each, "
            f"{len(TENANTS)} tenants x 2 classes x {DAYS} days), fresh copy of the seeded store "
            f"per pass; median of {config['rounds']} round(s)",
        ]
        rows = []
        for part in throughput:
            seeding = part["seeding"]
            for row in part["rows"]:
                rows.append(
                    [
                        part["backend"],
                        f"{part['records']:,}",
                        f"{seeding['commit_s']:.0f}",
                        f"{seeding['records_per_s']:,.0f}",
                        str(row["batch_size"]),
                        f"{row['wall_s']:.1f}",
                        f"{row['records_per_s']:,.0f}",
                        f"{row['spread_pct']:.0f}%",
                        f"{row['batches']:,.0f}",
                        f"{_fmt(row['batch_p50_ms'], '.0f')} / {_fmt(row['batch_p99_ms'], '.0f')}",
                        _fmt(row["shred_s"], ".2f"),
                        f"{row['buckets_shredded']:.0f}/{part['buckets']}",
                        f"{row['ledger_entries_added']:,.0f}",
                        f"{row['cpu_s']:.1f}",
                    ]
                )
        lines += text_table(
            (
                "backend",
                "records",
                "seed s",
                "seed rec/s",
                "batch",
                "sweep s",
                "deleted/s",
                "spread",
                "batches",
                "batch ms p50/p99",
                "shred s",
                "shredded",
                "+ledger",
                "CPU s",
            ),
            rows,
        )
        verify_rows = [
            [
                part["backend"],
                f"{v['entries']:,}",
                f"{v['file_bytes'] / 1e6:,.0f}",
                f"{v['export_s']:.1f}",
                f"{v['verify_s']:.1f}",
                f"{v['receipts']:,} / {v['records_written']:,}",
                "yes" if v["ok"] and v["every_record_receipted"] else "NO",
            ]
            for part in throughput
            if (v := part["verify"]) is not None
        ]
        if verify_rows:
            lines += ["", "Whole ledger after the first sweep: export, then verify --retention"]
            lines += text_table(
                ("backend", "entries", "MB", "export s", "verify s", "receipts/records", "ok"),
                verify_rows,
            )
        lines += [
            "",
            "seed s / seed rec/s = Journal.commit time of 10,000-record transactions (record + "
            "record_written entry each); sweep s = one Sweeper.run (counts, batches, shred, "
            "summary);",
            "batch ms = interval between batch commits (one batch's select + delete + ledger "
            "entry + commit); shred s = last batch to bucket secrets destroyed; +ledger = "
            "entries the sweep appended;",
            "CPU = this process only (a PostgreSQL server's own CPU is not in it); spread = "
            "(max - min) / median of deleted/s across rounds.",
        ]
    screening = document["screening"]
    if screening and screening.get("a"):
        a, b, ratio = screening["a"], screening["b"], screening["ratio"]
        sweep = screening["sweep_median"]
        rounds = len(screening["b_rounds"])
        lines += [
            "",
            f"2. Redact latency, 2 KB texts, concurrency {CONCURRENCY}, {screening['calls']} calls "
            f"per pass; sidecar on SQLite seeded with {screening['seeded_records']:,} records; "
            f"median of {rounds} rounds",
        ]
        lines += text_table(
            ("condition", "p50 ms", "p95 ms", "p99 ms", "calls/s", "fail_closed", "failed"),
            [
                [
                    name,
                    _fmt(x["p50_ms"], ".1f"),
                    _fmt(x["p95_ms"], ".1f"),
                    _fmt(x["p99_ms"], ".1f"),
                    _fmt(x["calls_per_s"], ".1f"),
                    str(x["fail_closed"]),
                    str(x["failed"]),
                ]
                for name, x in (("(a) no sweep", a), ("(b) during sweep", b))
            ]
            + [
                [
                    "ratio (b)/(a)",
                    _fmt(ratio["p50_ms"], ".2f") + "x",
                    _fmt(ratio["p95_ms"], ".2f") + "x",
                    _fmt(ratio["p99_ms"], ".2f") + "x",
                    _fmt(ratio["calls_per_s"], ".2f") + "x",
                    "",
                    "",
                ]
            ],
        )
        paired = screening["paired_ratios"]
        lines += [
            "",
            "per round (b)/(a): "
            + "; ".join(
                f"p50 {_fmt(r['p50_ms'], '.2f')}x p99 {_fmt(r['p99_ms'], '.2f')}x" for r in paired
            ),
            f"order: {' '.join(screening['order'])} (a = no sweep, b = during sweep)",
            f"sweeps during (b): {screening['per_round']:,} records each, deleting for "
            f"{sweep['lease_to_exit_s']:.1f} s ({sweep['records_per_s']:,.0f} records/s under "
            f"load), {sweep['shredded']:.0f} buckets shredded, {sweep['cpu_s']:.1f} s CPU "
            f"({sweep['cpu_share']:.2f} of a core from spawn to exit); the "
            f"sweep ran for at least {100 * sweep['overlap']:.0f}% of every (b) pass",
            "SQLite has one writer: each Redact's ledger entry commits through the group "
            "commit, which waits while a sweep batch holds the write lock; the sweep process "
            "also takes CPU from the sidecar.",
        ]
        verified = screening.get("verified")
        if verified:
            lines.append(
                f"ledger afterwards: {verified['entries']:,} entries, verified "
                f"{'ok' if verified['ok'] else 'NOT ok'}, {verified['receipts']:,} receipts for "
                f"{verified['records_written']:,} records written, {verified['sweeps']} sweeps"
            )
    lines += [f"note: {note}" for note in document["notes"]]
    return "\n".join(lines)


def _machine() -> dict[str, Any]:
    machine = machine_info()
    packages = package_versions(_PACKAGES)
    machine |= {
        "git_commit": _git_commit(),
        "packages": packages,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,  # filled in once the server runs
        "temp_dir": tempfile.gettempdir(),
    }
    return machine


def _git_commit() -> str | None:
    """The repository's HEAD, with "+dirty" when tracked files differ: which code ran."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def _batch_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of integers") from None
    if not sizes or min(sizes) < 1 or max(sizes) > 100_000:
        raise argparse.ArgumentTypeError("batch sizes must be 1..100000")
    return list(dict.fromkeys(sizes))


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.retention",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    def default(name: str) -> str:
        return f"default {_FULL[name]:,}, --quick {_QUICK[name]:,}"

    parser.add_argument(
        "--records", type=int, help=f"SQLite records to sweep ({default('records')})"
    )
    parser.add_argument(
        "--pg-records",
        type=int,
        help=f"PostgreSQL records to sweep, 0 skips ({default('pg_records')})",
    )
    parser.add_argument(
        "--batch-sizes",
        type=_batch_sizes,
        help=f"sweep batch sizes, e.g. 1000,5000 (default: policies.yaml's, then "
        f"{EXTRA_BATCH_SIZE})",
    )
    parser.add_argument("--rounds", type=int, help=f"sweep rounds ({default('rounds')})")
    parser.add_argument(
        "--screen-records",
        type=int,
        help=f"records each screening round's sweep deletes ({default('screen_records')})",
    )
    parser.add_argument(
        "--screen-rounds", type=int, help=f"screening rounds ({default('screen_rounds')})"
    )
    parser.add_argument("--calls", type=int, help=f"Redact calls per pass ({default('calls')})")
    parser.add_argument("--only", choices=("throughput", "screening"), help="run only this part")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    args = parser.parse_args(argv)
    preset = _QUICK if args.quick else _FULL
    for name, value in preset.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.records < 1 or args.pg_records < 0:
        parser.error("--records must be at least 1 and --pg-records at least 0")
    if min(args.rounds, args.screen_rounds, args.calls, args.screen_records) < 1:
        parser.error("--rounds, --screen-rounds, --screen-records and --calls must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    started_at = datetime.now(UTC)
    machine = _machine()
    notes: list[str] = []
    policies = load_policies_file(POLICIES)
    batch_sizes = args.batch_sizes or list(
        dict.fromkeys([policies.retention.batch_size, EXTRA_BATCH_SIZE])
    )
    sizes = {"sqlite": args.records, "postgresql": args.pg_records}
    throughput: list[dict[str, Any]] = []
    screening: dict[str, Any] | None = None
    wanted_pg = args.only != "screening" and args.pg_records > 0
    with (
        tempfile.TemporaryDirectory(prefix="bench-retention-") as temp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(temp)
        server: PgServer | None = None
        if wanted_pg:
            server = optional_postgres(stack, notes=notes, machine=machine)
        workspaces = Workspaces(root, server)
        if args.only != "screening":
            backends = ["sqlite"] + (["postgresql"] if server is not None else [])
            for backend in backends:
                part = _throughput(
                    workspaces,
                    server,
                    backend,
                    sizes[backend],
                    policies=policies,
                    batch_sizes=batch_sizes,
                    rounds=args.rounds,
                    root=root,
                    notes=notes,
                )
                if part is not None:
                    throughput.append(part)
        if args.only != "throughput":
            if server is not None:  # not needed any more: free its memory and CPU
                stack.close()
                server = None
            screening = asyncio.run(
                _screening(
                    workspaces,
                    per_round=args.screen_records,
                    rounds=args.screen_rounds,
                    calls=args.calls,
                    log_path=args.json.parent / "retention-sidecar.log",
                    root=root,
                    notes=notes,
                )
            )
    machine["load_avg_1m_at_end"] = os.getloadavg()[0]
    document: dict[str, Any] = {
        "benchmark": "retention",
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine,
        "config": {
            "records": args.records,
            "pg_records": args.pg_records,
            "batch_sizes": batch_sizes,
            "policy_batch_size": policies.retention.batch_size,
            "rounds": args.rounds,
            "tenants": len(TENANTS),
            "days": DAYS,
            "record_bytes": RECORD_BYTES,
            "seed_transaction_records": SEED_BATCH,
            "screen_records": args.screen_records,
            "screen_rounds": args.screen_rounds,
            "screen_days_per_round": SCREEN_DAYS,
            "calls": args.calls,
            "concurrency": CONCURRENCY,
            "only": args.only,
            "quick": args.quick,
            "postgresql_fsync": True,
            "sqlite": "WAL, synchronous=FULL (Database's own pragmas)",
            "statistic": "median across rounds of each figure",
        },
        "throughput": throughput,
        "screening": screening,
        "notes": notes,
    }
    print(_report(document))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    _log(f"wrote {args.json}")
    complete = (args.only == "screening" or len(throughput) == 1 + wanted_pg) and (
        args.only == "throughput" or (screening is not None and screening.get("a") is not None)
    )
    return 0 if complete and not notes else 1


if __name__ == "__main__":
    sys.exit(main())
