"""`python -m bench.ledger`: how fast does the audit ledger append, prove and verify?

One run measures:

- entries appended per second through `Ledger.append` on SQLite (a file in a temporary
  directory, with the Database's own pragmas: WAL, synchronous=FULL) and on a throwaway
  PostgreSQL server (tests/pgserver.py, fsync on, as a production server runs):
  `single` is one entry per transaction, appended one after another by one caller;
  `batched` is 256 entries per transaction. Each pass starts on a fresh database and is
  timed after a short warm-up; the figure is the median across rounds, and rounds
  alternate which mode goes first.
- the ledger at scale: SQLite filled to --entries (default 1,000,000) with 10,000 entries
  per append (the fill time is reported too), then the latency of inclusion proofs for
  random sequence numbers at the full size, of consistency proofs between random sizes and
  of `root_at` for random sizes (median and p99 over --proofs calls each; every proof is
  then checked with merkle.verify_*, outside the timing), the time to export the whole
  ledger as JSONL (`plan_export` + `jsonl_lines` into a file in the temporary directory)
  and the time to verify that file offline (`verify_export` streaming it from disk, with
  the public key only). The same on PostgreSQL at --pg-entries (default 100,000; 0 skips).

Entries are made-up screening decisions: about 300 bytes of body JSON (inference id,
tenant, model, purpose, entity counts in and out, actions, policy version, outcome),
canonically encoded by the ledger with its schema, seq, type, time and actor fields.

The table goes to stdout, progress to stderr, the figures as JSON to --json. Exit status: 0
when every back-end was measured and every proof and the exports verified; 1 otherwise (the
report and JSON are still written, with the reason under `notes`); 2 for bad flags.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import machine_info, optional_postgres, package_versions, text_table
from bench.stats import percentile
from governance.database import Database, database_url_for
from governance.entries import Draft, EntryType
from governance.errors import GovernanceError
from governance.export import jsonl_lines, plan_export
from governance.ledger import Ledger
from governance.merkle import ProofError, verify_consistency, verify_inclusion
from governance.note import NoteSigner
from governance.verify import verify_export
from tests.pgserver import PgServer

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO / "bench" / "results" / "ledger.json"
ORIGIN = "bench.example/ledger"
BACKENDS = ("sqlite", "postgresql")
MODES = {"single": 1, "batched": 256}  # entries per transaction
FILL_BATCH = 10_000
_DEFAULTS = {"rounds": 5, "single": 500, "batched": 40, "entries": 1_000_000}
_DEFAULT_PG_ENTRIES = 100_000
_DEFAULT_PROOFS = 1000
_WARMUP_APPENDS = 8
_PACKAGES = ("SQLAlchemy", "psycopg", "psycopg-binary", "cryptography")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- entries --------------------------------------------------------------------------------

_TENANTS = tuple(f"tenant-{n:04d}" for n in range(40))
_MODELS = ("chat-small-2026-01", "chat-large-2026-02", "embed-v3", "summarize-v2")
_PURPOSES = ("customer-support", "claims-triage", "code-review", "marketing-copy")
_ENTITIES = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "LOCATION")
_ACTIONS = ("pseudonymize", "redact", "hash", "allow")
_OUTCOMES = ("ok", "ok", "ok", "ok", "blocked", "fail_closed")


class Drafts:
    """Screening decisions of about 300 body bytes, from one seeded random stream."""

    def __init__(self, seed: int, start_at: datetime) -> None:
        self._rng = random.Random(seed)
        self._at = start_at
        self._made = 0

    def take(self, count: int) -> list[Draft]:
        return [self._one() for _ in range(count)]

    def _one(self) -> Draft:
        rng = self._rng
        found = rng.sample(_ENTITIES, rng.randint(1, 3))
        body = {
            "inference_id": f"{rng.getrandbits(128):032x}",
            "tenant": rng.choice(_TENANTS),
            "model": rng.choice(_MODELS),
            "purpose": rng.choice(_PURPOSES),
            "entities": {
                "input": {entity: rng.randint(1, 4) for entity in found},
                "output": {found[0]: rng.randint(0, 2)},
            },
            "actions": {entity: rng.choice(_ACTIONS) for entity in found},
            "policy_version": "2026-03-01.4",
            "outcome": rng.choice(_OUTCOMES),
        }
        at = self._at + timedelta(microseconds=self._made)
        self._made += 1
        return Draft(EntryType.SCREENING_DECISION, at, "sidecar@bench-host", body)


def _sizes(drafts: Sequence[Draft]) -> tuple[float, float]:
    """Mean (body bytes, entry bytes) of canonical JSON, the entry at a 7-digit seq."""
    bodies = [len(json.dumps(d.body, sort_keys=True, separators=(",", ":"))) for d in drafts]
    entries = [len(d.encode(1_234_567)) for d in drafts]
    return statistics.mean(bodies), statistics.mean(entries)


# -- databases ------------------------------------------------------------------------------


class _Databases:
    """A fresh database per use: a SQLite file in a temp dir, or a PostgreSQL database."""

    def __init__(self, root: Path, server: PgServer | None) -> None:
        self._root = root
        self._server = server
        self._made = 0

    def new(self, backend: str) -> tuple[str, Callable[[], int], Callable[[], None]]:
        """(URL, bytes on disk, drop) of a new empty database."""
        self._made += 1
        if backend == "sqlite":
            directory = self._root / f"sqlite-{self._made}"
            directory.mkdir()

            def disk_bytes() -> int:
                return sum(p.stat().st_size for p in directory.glob("sidecar.db*"))

            return database_url_for(directory), disk_bytes, lambda: shutil.rmtree(directory)
        assert self._server is not None
        server, name = self._server, f"bench_{self._made}"
        url = server.create_database(name)
        with server.admin() as admin:
            admin.execute("CHECKPOINT")  # no pass pays for flushing an earlier pass's pages

        def pg_bytes() -> int:
            with server.admin() as admin:
                row = admin.execute("SELECT pg_database_size(%s)", (name,)).fetchone()
            return int(row[0]) if row else 0

        return url, pg_bytes, lambda: server.drop_database(name)


def _open(url: str) -> tuple[Database, Ledger]:
    database = Database(url)
    database.migrate()
    return database, Ledger(database, origin=ORIGIN)


# -- appends --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppendPass:
    backend: str
    mode: str
    round_index: int
    transactions: int
    entries: int
    wall_s: float
    cpu_s: float  # this process only; a PostgreSQL server's own CPU is not in it
    p50_ms: float
    p99_ms: float

    @property
    def entries_per_s(self) -> float:
        return self.entries / self.wall_s


class PassFailed(Exception):
    """A pass left a ledger of another size than it appended."""


def _append_pass(
    url: str, backend: str, mode: str, round_index: int, transactions: int, drafts: Drafts
) -> AppendPass:
    per = MODES[mode]
    database, ledger = _open(url)
    try:
        for _ in range(_WARMUP_APPENDS):
            ledger.append(drafts.take(per), now=datetime.now(UTC))
        batches = [drafts.take(per) for _ in range(transactions)]
        latencies: list[float] = []
        gc.collect()
        cpu_started, started = time.process_time(), time.perf_counter()
        for batch in batches:
            begun = time.perf_counter()
            ledger.append(batch, now=datetime.now(UTC))
            latencies.append(time.perf_counter() - begun)
        wall_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
        state = ledger.state()
    finally:
        database.close()
    if state.size != (_WARMUP_APPENDS + transactions) * per:
        raise PassFailed(f"appended {(_WARMUP_APPENDS + transactions) * per}, size {state.size}")
    ordered = sorted(latencies)
    return AppendPass(
        backend=backend,
        mode=mode,
        round_index=round_index,
        transactions=transactions,
        entries=transactions * per,
        wall_s=wall_s,
        cpu_s=cpu_s,
        p50_ms=1e3 * percentile(ordered, 50),
        p99_ms=1e3 * percentile(ordered, 99),
    )


def _measure_appends(
    databases: _Databases,
    backends: Sequence[str],
    *,
    rounds: int,
    transactions: dict[str, int],
    notes: list[str],
) -> dict[tuple[str, str], list[AppendPass]]:
    drafts = Drafts(seed=1234, start_at=datetime(2026, 3, 14, 12, tzinfo=UTC))
    passes: dict[tuple[str, str], list[AppendPass]] = {}
    for index in range(rounds):
        _log(f"appends: round {index + 1}/{rounds}")
        for backend in backends:
            order = list(MODES) if index % 2 == 0 else list(reversed(MODES))
            for mode in order:
                url, _disk, drop = databases.new(backend)
                try:
                    measured = _append_pass(url, backend, mode, index, transactions[mode], drafts)
                except (PassFailed, GovernanceError) as err:
                    notes.append(f"appends {backend} {mode}: {err}")
                    continue
                finally:
                    drop()
                passes.setdefault((backend, mode), []).append(measured)
                _log(f"  {backend} {mode}: {measured.entries_per_s:,.0f} entries/s")
    return passes


def _append_rows(passes: dict[tuple[str, str], list[AppendPass]]) -> list[dict[str, Any]]:
    rows = []
    for (backend, mode), rounds in passes.items():
        rates = [p.entries_per_s for p in rounds]
        median = statistics.median(rates)
        rows.append(
            {
                "backend": backend,
                "mode": mode,
                "entries_per_transaction": MODES[mode],
                "transactions": rounds[0].transactions,
                "entries_per_s": median,
                "transactions_per_s": median / MODES[mode],
                "spread_pct": 100 * (max(rates) - min(rates)) / median,
                "cpu_us_per_entry": statistics.median(1e6 * p.cpu_s / p.entries for p in rounds),
                "p50_ms": statistics.median(p.p50_ms for p in rounds),
                "p99_ms": statistics.median(p.p99_ms for p in rounds),
                "rounds": [asdict(p) | {"entries_per_s": p.entries_per_s} for p in rounds],
            }
        )
    return rows


# -- the ledger at scale --------------------------------------------------------------------


def _latency(samples_s: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(samples_s)
    return {
        "calls": len(ordered),
        "p50_ms": 1e3 * percentile(ordered, 50),
        "p99_ms": 1e3 * percentile(ordered, 99),
        "max_ms": 1e3 * ordered[-1],
    }


def _fill(ledger: Ledger, entries: int, backend: str) -> dict[str, float]:
    drafts = Drafts(seed=99, start_at=datetime(2026, 1, 1, tzinfo=UTC))
    spent = 0.0
    reported = 0
    wall_started = time.perf_counter()
    while (done := ledger.state().size) < entries:
        batch = drafts.take(min(FILL_BATCH, entries - done))
        started = time.perf_counter()
        ledger.append(batch, now=datetime.now(UTC))
        spent += time.perf_counter() - started
        if done + len(batch) - reported >= 100_000 or done + len(batch) == entries:
            reported = done + len(batch)
            _log(f"  {backend} fill: {reported:,} entries, {spent:.1f} s appending")
    return {
        "append_s": spent,
        "wall_s": time.perf_counter() - wall_started,
        "entries_per_s": entries / spent,
    }


def _proofs(
    ledger: Ledger, size: int, count: int, rng: random.Random, failures: list[str]
) -> dict[str, Any]:
    """Time `count` calls of each proof kind at random positions; check every result."""
    root = ledger.root_at(size)
    if root != ledger.state().root:
        failures.append(f"root_at({size}) differs from the stored root")
    inclusion: list[float] = []
    lengths: list[int] = []
    for seq in (rng.randrange(size) for _ in range(count)):
        started = time.perf_counter()
        leaf, proof = ledger.inclusion_proof(seq, size)
        inclusion.append(time.perf_counter() - started)
        lengths.append(len(proof))
        try:
            verify_inclusion(leaf, seq, size, proof, root)
        except ProofError as err:
            failures.append(f"inclusion of {seq} at {size}: {err}")
    consistency: list[float] = []
    roots: list[float] = []
    for _ in range(count):
        first = rng.randint(1, size - 1)
        second = rng.randint(first + 1, size)
        started = time.perf_counter()
        proof = ledger.consistency_proof(first, second)
        consistency.append(time.perf_counter() - started)
        started = time.perf_counter()
        first_root = ledger.root_at(first)
        roots.append(time.perf_counter() - started)
        try:
            verify_consistency(first, second, proof, first_root, ledger.root_at(second))
        except ProofError as err:
            failures.append(f"consistency {first} -> {second}: {err}")
    return {
        "inclusion": _latency(inclusion) | {"hashes_median": statistics.median(lengths)},
        "consistency": _latency(consistency),
        "root_at": _latency(roots),
    }


def _export_and_verify(
    ledger: Ledger, signer: NoteSigner, path: Path, size: int, failures: list[str]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    started = time.perf_counter()
    span = plan_export(ledger, signer, now=now)
    with path.open("wb") as out:
        for line in jsonl_lines(ledger, span, now=now, actor="bench"):
            out.write(line)
    export_s = time.perf_counter() - started
    file_bytes = path.stat().st_size
    gc.collect()
    started = time.perf_counter()
    with path.open("rb") as lines:
        report = verify_export(lines, signer.verifier)
    verify_s = time.perf_counter() - started
    if not report.ok or report.entries != size:
        failures.append(f"export of {size} entries: {report.entries} verified, {report.problems}")
    path.unlink()
    return {
        "export_s": export_s,
        "export_entries_per_s": size / export_s,
        "file_bytes": file_bytes,
        "verify_s": verify_s,
        "verify_entries_per_s": size / verify_s,
        "verified": report.ok,
    }


def _measure_scale(
    databases: _Databases, backend: str, entries: int, proofs: int, root: Path, notes: list[str]
) -> dict[str, Any] | None:
    _log(f"{backend} at {entries:,} entries")
    url, disk_bytes, drop = databases.new(backend)
    database, ledger = _open(url)
    signer = NoteSigner.generate(ORIGIN)
    failures: list[str] = []
    try:
        fill = _fill(ledger, entries, backend)
        size = ledger.state().size
        if size != entries:
            failures.append(f"filled to {size}, not {entries}")
        _log(f"  {backend}: proofs")
        timed = _proofs(ledger, size, proofs, random.Random(entries), failures)
        _log(f"  {backend}: export and verify")
        exported = _export_and_verify(ledger, signer, root / f"{backend}.jsonl", size, failures)
        on_disk = disk_bytes()
    except GovernanceError as err:
        notes.append(f"{backend} at {entries:,}: {err}")
        return None
    finally:
        database.close()
        drop()
    notes += [f"{backend} at {entries:,}: {failure}" for failure in failures[:20]]
    return {
        "backend": backend,
        "entries": size,
        "fill": fill,
        "database_bytes": on_disk,
        **timed,
        **exported,
        "failures": len(failures),
    }


# -- report ---------------------------------------------------------------------------------


def _report(document: dict[str, Any]) -> str:
    machine, config = document["machine"], document["config"]
    lines = [
        f"Machine: {machine['cpu_model']}, {machine['usable_cpus']} usable CPUs, load "
        f"{machine['load_avg_1m_at_start']:.2f} at start; Python {machine['python']}, SQLite "
        f"{machine['sqlite']}, PostgreSQL {machine.get('postgresql') or 'not run'}",
        "",
        f"Appends through Ledger.append, one caller; entries ~{config['entry_bytes']:.0f} B "
        f"(body ~{config['body_bytes']:.0f} B); fresh database per pass, "
        f"median of {config['rounds']} rounds",
    ]
    append_lines = [
        [
            row["backend"],
            row["mode"],
            str(row["entries_per_transaction"]),
            str(row["transactions"]),
            f"{row['entries_per_s']:,.0f}",
            f"{row['transactions_per_s']:,.0f}",
            f"{row['cpu_us_per_entry']:.0f}",
            f"{row['p50_ms']:.2f} / {row['p99_ms']:.2f}",
            f"{row['spread_pct']:.0f}%",
        ]
        for row in document["appends"]
    ]
    lines += text_table(
        (
            "backend",
            "mode",
            "entries/txn",
            "txns",
            "entries/s",
            "txns/s",
            "CPU µs/entry",
            "append p50/p99 ms",
            "spread",
        ),
        append_lines,
    )
    lines += [
        "",
        f"At scale: fill {FILL_BATCH:,} entries per append; {config['proofs']:,} calls of each"
        " proof at random positions (each checked, outside the timing); full JSONL export",
    ]
    scale_lines = []
    for row in document["scale"]:
        scale_lines.append(
            [
                row["backend"],
                f"{row['entries']:,}",
                f"{row['fill']['append_s']:.1f}",
                f"{row['fill']['entries_per_s']:,.0f}",
                f"{row['database_bytes'] / 1e6:,.0f}",
                f"{row['inclusion']['p50_ms']:.2f} / {row['inclusion']['p99_ms']:.2f}",
                f"{row['consistency']['p50_ms']:.2f} / {row['consistency']['p99_ms']:.2f}",
                f"{row['root_at']['p50_ms']:.2f} / {row['root_at']['p99_ms']:.2f}",
                f"{row['export_s']:.1f}",
                f"{row['file_bytes'] / 1e6:,.0f}",
                f"{row['verify_s']:.1f}",
                f"{row['verify_entries_per_s']:,.0f}",
            ]
        )
    lines += text_table(
        (
            "backend",
            "entries",
            "fill s",
            "fill entries/s",
            "DB MB",
            "inclusion p50/p99 ms",
            "consistency p50/p99 ms",
            "root_at p50/p99 ms",
            "export s",
            "file MB",
            "verify s",
            "verify entries/s",
        ),
        scale_lines,
    )
    lines += [
        "",
        "single = one entry per transaction (each commit durable: SQLite synchronous=FULL, "
        "PostgreSQL fsync=on); batched = 256 per transaction.",
        "CPU = this process only. Proof times are a Ledger call each (its own read "
        "transaction), on a warm cache; MB = 10^6 B.",
        "export = plan_export (signs a checkpoint) + jsonl_lines written to a file; verify = "
        "verify_export streaming that file, public key only.",
    ]
    lines += [f"note: {note}" for note in document["notes"]]
    return "\n".join(lines)


def _machine() -> dict[str, Any]:
    machine = machine_info()
    packages = package_versions(_PACKAGES)
    machine |= {
        "packages": packages,
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,  # filled in once the server runs
        "temp_dir": tempfile.gettempdir(),
    }
    return machine


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--entries",
        type=int,
        default=_DEFAULTS["entries"],
        help=f"SQLite ledger size for proofs and export (default {_DEFAULTS['entries']:,})",
    )
    parser.add_argument(
        "--pg-entries",
        type=int,
        default=_DEFAULT_PG_ENTRIES,
        help=f"PostgreSQL ledger size (default {_DEFAULT_PG_ENTRIES:,}; 0 skips)",
    )
    parser.add_argument(
        "--proofs",
        type=int,
        default=_DEFAULT_PROOFS,
        help=f"calls of each proof kind (default {_DEFAULT_PROOFS})",
    )
    parser.add_argument(
        "--rounds", type=int, default=_DEFAULTS["rounds"], help="append rounds (default 5)"
    )
    parser.add_argument(
        "--single",
        type=int,
        default=_DEFAULTS["single"],
        help=f"single-entry appends per pass (default {_DEFAULTS['single']})",
    )
    parser.add_argument(
        "--batched",
        type=int,
        default=_DEFAULTS["batched"],
        help=f"256-entry appends per pass (default {_DEFAULTS['batched']})",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    args = parser.parse_args(argv)
    if args.entries < 2 or (args.pg_entries != 0 and args.pg_entries < 2):
        parser.error("--entries and --pg-entries must be at least 2 (--pg-entries 0 skips)")
    if min(args.rounds, args.single, args.batched, args.proofs) < 1:
        parser.error("--rounds, --single, --batched and --proofs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    started_at = datetime.now(UTC)
    machine = _machine()
    notes: list[str] = []
    backends = list(BACKENDS)
    sample = Drafts(seed=7, start_at=started_at).take(2000)
    body_bytes, entry_bytes = _sizes(sample)
    with (
        tempfile.TemporaryDirectory(prefix="bench-ledger-") as temp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(temp)
        server = optional_postgres(stack, notes=notes, machine=machine)
        if server is None:
            backends.remove("postgresql")
        databases = _Databases(root, server)
        passes = _measure_appends(
            databases,
            backends,
            rounds=args.rounds,
            transactions={"single": args.single, "batched": args.batched},
            notes=notes,
        )
        sizes = {"sqlite": args.entries, "postgresql": args.pg_entries}
        scale = []
        for backend in backends:
            if sizes[backend]:
                row = _measure_scale(databases, backend, sizes[backend], args.proofs, root, notes)
                if row is not None:
                    scale.append(row)
    appends = _append_rows(passes)
    machine["load_avg_1m_at_end"] = os.getloadavg()[0]
    document: dict[str, Any] = {
        "benchmark": "ledger",
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine,
        "config": {
            "rounds": args.rounds,
            "single_transactions": args.single,
            "batched_transactions": args.batched,
            "batch_entries": MODES["batched"],
            "sqlite_entries": args.entries,
            "postgresql_entries": args.pg_entries,
            "fill_batch": FILL_BATCH,
            "proofs": args.proofs,
            "body_bytes": body_bytes,
            "entry_bytes": entry_bytes,
            "postgresql_fsync": True,
            "sqlite": "WAL, synchronous=FULL (Database's own pragmas)",
            "statistic": "appends: median across rounds; proofs: percentiles over all calls",
        },
        "appends": appends,
        "scale": scale,
        "notes": notes,
    }
    print(_report(document))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    _log(f"wrote {args.json}")
    wanted_scale = sum(1 for backend in backends if sizes[backend])
    complete = (
        len(backends) == len(BACKENDS)
        and len(appends) == len(BACKENDS) * len(MODES)
        and len(scale) == wanted_scale
        and all(row["failures"] == 0 and row["verified"] for row in scale)
    )
    return 0 if complete and not notes else 1


if __name__ == "__main__":
    sys.exit(main())
