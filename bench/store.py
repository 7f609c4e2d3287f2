"""`python -m bench.store`: what does encryption cost the encrypted log store?

One run measures:

- seal and open throughput of `Vault.seal` / `Vault.unseal` with one data key, for 1 KiB
  and 64 KiB plaintexts, next to copying the same bytes and next to raw AES-GCM from
  `cryptography` (one cipher object, no header);
- log records written per second through the sidecar's group-commit `Recorder` at
  concurrency 1 and 32, on SQLite (a file in a temporary directory) and on a throwaway
  PostgreSQL server (tests/pgserver.py), once with the real `Vault` and once with
  `NoEncryptionVault`, which stores the plaintext in the same framing, so that only the
  encryption differs between the two.

Every figure is the median across rounds; rounds alternate which variant goes first. The
table goes to stdout, progress to stderr, the figures as JSON to --json. Records are made
up (~1 KiB of JSON shaped like the sidecar's inference records); no real data is involved.

Exit status: 0 when every back-end was measured and every pass wrote what it was asked to;
1 otherwise (the report and JSON are still written, with the reason under `notes`); 2 for
bad flags.
"""

from __future__ import annotations

import argparse
import asyncio
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.backends.openssl import backend as openssl_backend
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.report import machine_info, optional_postgres, package_versions, text_table
from bench.stats import percentile
from governance.errors import GovernanceError
from governance.journal import Journal
from governance.keyprovider import LocalKeyProvider
from governance.store import LogStore, NewRecord, database_url_for
from governance.vault import (
    FORMAT,
    NONCE_BYTES,
    TAG_BYTES,
    DataKey,
    DataKeyExhausted,
    DataKeyScope,
    SealError,
    Vault,
    key_id_of,
    record_aad,
)
from sidecar.recorder import Recorder
from tests.pgserver import PgServer

__all__ = ["NoEncryptionVault", "main"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO / "bench" / "results" / "store.json"
SIZES = {"1 KiB": 1024, "64 KiB": 64 * 1024}
CONCURRENCIES = (1, 32)
VAULT, PLAIN = "vault", "no-encryption"
GOAL_PCT = 10.0  # the issue's goal: encryption costs under 10 % of write throughput
_MAX_BATCH = 256  # Recorder's default, as the sidecar runs it
_C1_SHARE = 8  # a concurrency-1 pass writes records/8: each record is its own transaction
_FULL = {"rounds": 6, "records": 16000, "crypto_s": 0.2}
_QUICK = {"rounds": 4, "records": 1600, "crypto_s": 0.03}
_PACKAGES = ("cryptography", "SQLAlchemy", "psycopg", "psycopg-binary")
_SEAL_MAGIC = b"PS"  # vault.py's sealed-record magic; key_id_of() checks ours parses


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class NoEncryptionVault(Vault):
    """BENCHMARK ONLY: 'seals' by storing the plaintext unencrypted, in the same framing.

    Returns magic | format | key id | zero nonce | plaintext | zero tag: the same length and
    header as a real sealed record, with the same message counting, so a store using it
    differs from a real one only by the encryption. Anyone who reads the rows reads the
    records; never use it outside this benchmark.
    """

    def seal(self, key: DataKey, plaintext: bytes, *, aad: bytes) -> bytes:
        if key.messages >= self.message_cap:
            raise DataKeyExhausted(f"data key {key.key_id.hex()} reached {self.message_cap}")
        key.messages += 1
        header = _SEAL_MAGIC + bytes([FORMAT]) + key.key_id + bytes(NONCE_BYTES)
        return header + plaintext + bytes(TAG_BYTES)

    def unseal(self, key: DataKey, sealed: bytes, *, aad: bytes) -> bytes:
        if key_id_of(sealed) != key.key_id:
            raise SealError("cannot unseal record")
        return sealed[len(_SEAL_MAGIC) + 1 + len(key.key_id) + NONCE_BYTES : -TAG_BYTES]


def _check_variants(vault: Vault, plain: NoEncryptionVault) -> None:
    """Both variants frame a record alike and open what they sealed; else RuntimeError."""
    aad = record_aad(record_id="check", tenant="bench", retention_class="audit", created_at="0")
    plaintext = b'{"check":true}'
    sealed = {}
    for name, variant in ((VAULT, vault), (PLAIN, plain)):
        key, _wrapped = variant.new_data_key(DataKeyScope("bench", "audit", "check"))
        sealed[name] = variant.seal(key, plaintext, aad=aad)
        if key_id_of(sealed[name]) != key.key_id:
            raise RuntimeError(f"{name}: sealed record does not name its key")
        if variant.unseal(key, sealed[name], aad=aad) != plaintext:
            raise RuntimeError(f"{name}: does not open what it sealed")
    if len(sealed[VAULT]) != len(sealed[PLAIN]) or sealed[VAULT][:3] != sealed[PLAIN][:3]:
        raise RuntimeError("NoEncryptionVault's framing differs from Vault's")


# -- seal and open ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CryptoRow:
    """Median MB/s (10^6 plaintext bytes per second) of one operation on one size."""

    size: str
    size_bytes: int
    operation: str  # "seal" or "open"
    ops_per_round: dict[str, int]
    mb_per_s: dict[str, float]  # by method: "copy", "aes-gcm-raw", "vault"
    rounds_mb_per_s: dict[str, list[float]]

    @property
    def vault_us_per_op(self) -> float:
        return self.size_bytes / self.mb_per_s["vault"]


def _time_ops(operation: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        operation()
    return time.perf_counter() - started


def _calibrate(operation: Callable[[], object], target_s: float) -> int:
    """How many calls take about `target_s`; the probing doubles as the warm-up."""
    count = 16
    elapsed = _time_ops(operation, count)
    while elapsed < target_s / 4 and count < 1 << 24:
        count *= 4
        elapsed = _time_ops(operation, count)
    return max(16, round(count * target_s / max(elapsed, 1e-9)))


def _crypto_cases(vault: Vault, size_bytes: int) -> dict[tuple[str, str], Callable[[], object]]:
    """(operation, method) -> one call on a `size_bytes` plaintext; "copy" serves both."""
    key, _wrapped = vault.new_data_key(DataKeyScope("bench", "audit", "2026-01-01"))
    aad = record_aad(
        record_id="0" * 32, tenant="bench", retention_class="audit", created_at="1767225600000000"
    )
    raw = AESGCM(AESGCM.generate_key(bit_length=256))  # built once: the cheapest possible use
    raw_nonce = os.urandom(NONCE_BYTES)
    plaintext = os.urandom(size_bytes)
    sealed = vault.seal(key, plaintext, aad=aad)
    raw_sealed = raw.encrypt(raw_nonce, plaintext, aad)
    return {
        ("both", "copy"): lambda: bytearray(plaintext),
        ("seal", "aes-gcm-raw"): lambda: raw.encrypt(os.urandom(NONCE_BYTES), plaintext, aad),
        ("seal", "vault"): lambda: vault.seal(key, plaintext, aad=aad),
        ("open", "aes-gcm-raw"): lambda: raw.decrypt(raw_nonce, raw_sealed, aad),
        ("open", "vault"): lambda: vault.unseal(key, sealed, aad=aad),
    }


def _measure_crypto(vault: Vault, *, rounds: int, target_s: float) -> list[CryptoRow]:
    rows = []
    for size, size_bytes in SIZES.items():
        cases = _crypto_cases(vault, size_bytes)
        counts = {case: _calibrate(call, target_s) for case, call in cases.items()}
        rates: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
        order = list(cases)
        for index in range(rounds):
            for case in order[index % len(order) :] + order[: index % len(order)]:
                elapsed = _time_ops(cases[case], counts[case])
                rates[case].append(size_bytes * counts[case] / elapsed / 1e6)
        for operation in ("seal", "open"):
            chosen = [("both", "copy"), (operation, "aes-gcm-raw"), (operation, "vault")]
            rows.append(
                CryptoRow(
                    size=size,
                    size_bytes=size_bytes,
                    operation=operation,
                    ops_per_round={method: counts[(op, method)] for op, method in chosen},
                    mb_per_s={m: statistics.median(rates[(op, m)]) for op, m in chosen},
                    rounds_mb_per_s={m: rates[(op, m)] for op, m in chosen},
                )
            )
        _log(f"  seal/open {size}: done")
    return rows


# -- writes through the Recorder ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WritePass:
    """One timed pass: `records` writes through a fresh Recorder on a fresh database."""

    round_index: int
    records: int
    wall_s: float
    cpu_s: float  # this process, every thread; a PostgreSQL server's own CPU is not in it
    batches: int
    p50_ms: float
    p99_ms: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s

    @property
    def cpu_us_per_record(self) -> float:
        return 1e6 * self.cpu_s / self.records


_WORDS = ("the", "a", "of", "order", "refund", "account", "payment", "delivery", "issue", "thanks")
_PLACEHOLDERS = ("<PERSON_1>", "<EMAIL_ADDRESS_1>", "<PHONE_NUMBER_1>", "<LOCATION_1>", "<IBAN_1>")


class PassFailed(Exception):
    """A pass wrote a different number of records than it was asked to."""


def _record_body(rng: random.Random, index: int, at: datetime) -> bytes:
    """About 1 KiB of canonical JSON shaped like the sidecar's inference records."""
    body: dict[str, Any] = {
        "schema": 1,
        "kind": "inference",
        "tenant": "bench",
        "model": "chat-small",
        "retention_class": "audit",
        "policy_version": "bench-1",
        "created_at": at.isoformat(timespec="microseconds"),
        "inference_id": f"{rng.getrandbits(128):032x}",
        "purpose": "support",
        "outcome": "ok",
        "started_at": (at - timedelta(milliseconds=850)).isoformat(timespec="microseconds"),
        "ended_at": at.isoformat(timespec="microseconds"),
        "latency_ms": {"begin": round(rng.uniform(2, 40), 3), "end": round(rng.uniform(2, 40), 3)},
        "entities": {"input": {"PERSON": 1, "EMAIL_ADDRESS": 1}, "output": {"PERSON": 1}},
        "actions": {"PERSON": "pseudonymize", "EMAIL_ADDRESS": "redact"},
        "final_scan": {"redactions": 0},
        "input": "",
        "output": "",
    }
    for field in ("input", "output"):
        picks = rng.choices(_WORDS + _PLACEHOLDERS, k=12 + index % 5)
        body[field] = " ".join(picks)
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    while len(encoded) < 1000:  # top up the output text to just over 1000 bytes
        body["output"] += " " + rng.choice(_WORDS)
        encoded = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return encoded


def _make_records(count: int, *, seed: int, start_at: datetime) -> list[NewRecord]:
    rng = random.Random(seed)
    records = []
    for index in range(count):
        at = start_at + timedelta(microseconds=index)
        records.append(
            NewRecord(
                tenant="bench",
                retention_class="audit",
                kind="inference",
                model="chat-small",
                created_at=at,
                expires_at=at + timedelta(days=30),
                plaintext=_record_body(rng, index, at),
            )
        )
    return records


async def _drive(
    recorder: Recorder, records: Sequence[NewRecord], concurrency: int
) -> tuple[list[str], list[float]]:
    """`concurrency` tasks write `records` through `recorder`, each taking the next one."""
    pending: Iterator[NewRecord] = iter(records)
    ids: list[str] = []
    latencies: list[float] = []

    async def writer() -> None:
        for record in pending:
            started = time.perf_counter()
            ids.append(await recorder.write(record))
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(writer() for _ in range(concurrency)))
    return ids, latencies


async def _write_pass(
    url: str,
    vault: Vault,
    *,
    round_index: int,
    concurrency: int,
    records: Sequence[NewRecord],
    warmup: Sequence[NewRecord],
) -> WritePass:
    """Migrate a fresh database, warm up (connections, first data key), time `records`."""
    store = LogStore(url, vault)
    try:
        store.migrate()
        # The store alone, no ledger: this measures what encryption costs the records.
        journal = Journal(store, None, actor="bench", clock=lambda: datetime.now(UTC))
        recorder = Recorder(journal, max_batch=_MAX_BATCH)
        recorder.start()
        try:
            await _drive(recorder, warmup, concurrency)
            batches_before = recorder.batches
            gc.collect()
            cpu_started, started = time.process_time(), time.perf_counter()
            ids, latencies = await _drive(recorder, records, concurrency)
            wall_s = time.perf_counter() - started
            cpu_s = time.process_time() - cpu_started
            batches = recorder.batches - batches_before
        finally:
            await recorder.stop()
        sealed = sum(int(str(key["messages"])) for key in store.data_keys())
    finally:
        store.close()
    if len(set(ids)) != len(records) or sealed != len(records) + len(warmup):
        raise PassFailed(f"asked for {len(records)} records: {len(set(ids))} ids, {sealed} rows")
    ordered = sorted(latencies)
    return WritePass(
        round_index=round_index,
        records=len(records),
        wall_s=wall_s,
        cpu_s=cpu_s,
        batches=batches,
        p50_ms=1e3 * percentile(ordered, 50),
        p99_ms=1e3 * percentile(ordered, 99),
    )


class _Databases:
    """A fresh database per pass: a SQLite file in a temp dir, or a PostgreSQL database."""

    def __init__(self, root: Path, server: PgServer | None) -> None:
        self._root = root
        self._server = server
        self._made = 0

    def new(self, backend: str) -> tuple[str, Callable[[], None]]:
        """(URL, drop): the database's URL and how to delete it afterwards."""
        self._made += 1
        if backend == "sqlite":
            directory = self._root / f"sqlite-{self._made}"
            directory.mkdir()
            return database_url_for(directory), lambda: shutil.rmtree(directory)
        assert self._server is not None
        server, name = self._server, f"bench_{self._made}"
        url = server.create_database(name)
        with server.admin() as admin:
            admin.execute("CHECKPOINT")  # no pass pays for flushing an earlier pass's pages
        return url, lambda: server.drop_database(name)


async def _measure_writes(
    vaults: dict[str, Vault],
    databases: _Databases,
    backends: Sequence[str],
    *,
    pool: Sequence[NewRecord],
    rounds: int,
    notes: list[str],
) -> dict[tuple[str, int, str], list[WritePass]]:
    """Every (back-end, concurrency, variant) once per round; the pool's first records."""
    records = len(pool)
    warmup = _make_records(64, seed=4321, start_at=pool[0].created_at - timedelta(seconds=1))
    passes: dict[tuple[str, int, str], list[WritePass]] = {}
    for index in range(rounds):
        _log(f"round {index + 1}/{rounds}")
        for backend in backends:
            for position, concurrency in enumerate(CONCURRENCIES):
                count = records if concurrency > 1 else records // _C1_SHARE
                order = [VAULT, PLAIN] if (index + position) % 2 == 0 else [PLAIN, VAULT]
                for variant in order:
                    url, drop = databases.new(backend)
                    try:
                        measured = await _write_pass(
                            url,
                            vaults[variant],
                            round_index=index,
                            concurrency=concurrency,
                            records=pool[:count],
                            warmup=warmup[: 2 * concurrency],
                        )
                    except (PassFailed, GovernanceError) as err:
                        # Our messages and the store's name ids and counts, never records.
                        notes.append(f"{backend} c{concurrency} {variant}: {err}")
                        continue
                    finally:
                        drop()
                    passes.setdefault((backend, concurrency, variant), []).append(measured)
                    _log(
                        f"  {backend} c{concurrency} {variant}: "
                        f"{measured.records_per_s:,.0f} records/s"
                    )
    return passes


# -- report -------------------------------------------------------------------------------


def _median_of(rounds: Sequence[WritePass], figure: str) -> float:
    return statistics.median(float(getattr(p, figure)) for p in rounds)


def _write_rows(
    passes: dict[tuple[str, int, str], list[WritePass]], seal_us: float
) -> list[dict[str, Any]]:
    """Medians per (back-end, concurrency) and variant, and what encryption cost.

    `seal_us`: Vault.seal's time for one ~1 KiB record, for the estimated cost.
    """
    rows = []
    for backend, concurrency in dict.fromkeys((b, c) for b, c, _ in passes):
        sides = {v: passes.get((backend, concurrency, v), []) for v in (VAULT, PLAIN)}
        row: dict[str, Any] = {"backend": backend, "concurrency": concurrency}
        for variant, rounds in sides.items():
            if not rounds:
                row[variant] = None
                continue
            rates = [p.records_per_s for p in rounds]
            row[variant] = {
                "records": rounds[0].records,
                "records_per_s": statistics.median(rates),
                "spread_pct": 100 * (max(rates) - min(rates)) / statistics.median(rates),
                "cpu_us_per_record": _median_of(rounds, "cpu_us_per_record"),
                "mean_batch": _median_of(rounds, "records") / _median_of(rounds, "batches"),
                "p50_ms": _median_of(rounds, "p50_ms"),
                "p99_ms": _median_of(rounds, "p99_ms"),
                "rounds": [asdict(p) | {"records_per_s": p.records_per_s} for p in rounds],
            }
        row |= {"encryption_cost_pct": None, "paired_cost_pct": [], "estimated_cost_pct": None}
        row["cpu_cost_us_per_record"] = None
        if row[VAULT] and row[PLAIN]:
            plain, sealed = row[PLAIN]["records_per_s"], row[VAULT]["records_per_s"]
            row["encryption_cost_pct"] = 100 * (1 - sealed / plain)
            # Each round's vault pass against the same round's plain pass: the spread of
            # these says how much of the median cost is noise.
            plain_by_round = {p.round_index: p.records_per_s for p in sides[PLAIN]}
            row["paired_cost_pct"] = [
                100 * (1 - p.records_per_s / plain_by_round[p.round_index])
                for p in sides[VAULT]
                if p.round_index in plain_by_round
            ]
            # Sealing runs on the one writer thread inside each batch's transaction, so at
            # most it adds seal_us per record to that thread's time.
            row["estimated_cost_pct"] = 100 * seal_us * plain / 1e6
            row["cpu_cost_us_per_record"] = (
                row[VAULT]["cpu_us_per_record"] - row[PLAIN]["cpu_us_per_record"]
            )
        rows.append(row)
    return rows


def _report(
    document: dict[str, Any], crypto: Sequence[CryptoRow], writes: Sequence[dict[str, Any]]
) -> str:
    machine, config = document["machine"], document["config"]
    lines = [
        f"Machine: {machine['cpu_model']}, {machine['usable_cpus']} usable CPUs, AES-NI "
        f"{'yes' if machine['aes_ni'] else 'no'}, load {machine['load_avg_1m_at_start']:.2f} "
        f"at start; Python {machine['python']}, {machine['openssl']}, SQLite "
        f"{machine['sqlite']}, PostgreSQL {machine.get('postgresql') or 'not run'}",
        "",
        f"Seal / open, one data key: MB/s of plaintext (MB = 10^6 B), "
        f"median of {config['rounds']} rounds",
    ]
    crypto_lines = [
        [
            row.size,
            row.operation,
            f"{row.mb_per_s['copy']:,.0f}",
            f"{row.mb_per_s['aes-gcm-raw']:,.0f}",
            f"{row.mb_per_s['vault']:,.0f}",
            f"{row.vault_us_per_op:.2f}",
            f"{100 * (row.mb_per_s['vault'] / row.mb_per_s['aes-gcm-raw'] - 1):+.0f}%",
        ]
        for row in crypto
    ]
    lines += text_table(
        ("size", "op", "copy", "AES-GCM raw", "vault", "vault µs/op", "vault vs raw"), crypto_lines
    )
    lines += [
        "",
        f"Records written through Recorder (group commit), ~{config['record_bytes']} B JSON "
        f"each, fresh database per pass; median of {config['rounds']} rounds",
    ]
    write_lines = []
    for row in writes:
        plain, sealed = row[PLAIN] or {}, row[VAULT] or {}

        def cell(side: dict[str, Any], key: str, spec: str) -> str:
            return format(side[key], spec) if side else "n/a"

        cost, paired = row["encryption_cost_pct"], row["paired_cost_pct"]
        estimate = row["estimated_cost_pct"]
        write_lines.append(
            [
                row["backend"],
                str(row["concurrency"]),
                cell(sealed or plain, "records", "d"),
                cell(plain, "records_per_s", ",.0f"),
                cell(sealed, "records_per_s", ",.0f"),
                "n/a" if cost is None else f"{cost:+.1f}%",
                f"{min(paired):+.0f}..{max(paired):+.0f}%" if paired else "n/a",
                "n/a" if estimate is None else f"{estimate:.1f}%",
                f"{cell(plain, 'cpu_us_per_record', '.0f')} / "
                f"{cell(sealed, 'cpu_us_per_record', '.0f')}",
                cell(sealed, "mean_batch", ".1f"),
                f"{cell(sealed, 'p50_ms', '.2f')} / {cell(sealed, 'p99_ms', '.2f')}",
            ]
        )
    write_header = (
        "backend",
        "conc",
        "records",
        "plain rec/s",
        "vault rec/s",
        "enc. cost",
        "per round",
        "est.",
        "CPU µs/rec p/v",
        "batch",
        "vault p50/p99 ms",
    )
    lines += text_table(write_header, write_lines)
    lines += [
        "",
        "plain = NoEncryptionVault (same rows and framing, plaintext stored); vault = the real"
        " Vault (AES-256-GCM).",
        "enc. cost = 1 - vault/plain of the median records/s; per round = the same for each "
        "round's pair of passes (min..max);",
        "est. = 1 KiB seal µs x plain records/s (sealing's share of the single writer thread)"
        "; CPU = this process, all threads;",
        "batch = records per commit; p50/p99 = one write's latency as its caller saw it.",
        _goal_line(document["goal"]),
    ]
    lines += [f"note: {note}" for note in document["notes"]]
    return "\n".join(lines)


def _goal(writes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Is the median encryption cost under GOAL_PCT on every row, and does every round agree?"""
    judged = [row for row in writes if row["encryption_cost_pct"] is not None]
    if not judged:
        return {"threshold_pct": GOAL_PCT, "met": None}
    worst = max(judged, key=lambda row: row["encryption_cost_pct"])
    return {
        "threshold_pct": GOAL_PCT,
        "met": all(row["encryption_cost_pct"] < GOAL_PCT for row in judged),
        "worst_cost_pct": worst["encryption_cost_pct"],
        "worst_row": f"{worst['backend']} c{worst['concurrency']}",
        "worst_estimated_pct": max(row["estimated_cost_pct"] for row in judged),
        "rows_with_a_round_over": [
            f"{row['backend']} c{row['concurrency']}"
            for row in judged
            if max(row["paired_cost_pct"], default=0.0) >= GOAL_PCT
        ],
    }


def _goal_line(goal: dict[str, Any]) -> str:
    head = f"Goal (encryption costs < {GOAL_PCT:.0f}% of write throughput):"
    if goal["met"] is None:
        return f"{head} not judged (no row has both variants)"
    worst = f"worst median {goal['worst_cost_pct']:+.1f}% ({goal['worst_row']})"
    estimate = f"estimate at most {goal['worst_estimated_pct']:.1f}%"
    if not goal["met"]:
        return f"{head} NOT met on medians; {worst}, {estimate}; rerun with more --rounds"
    over = goal["rows_with_a_round_over"]
    if over:
        return f"{head} met on medians ({worst}), but single rounds reached it in {', '.join(over)}"
    return f"{head} met; {worst}, {estimate}"


def _machine() -> dict[str, Any]:
    machine = machine_info()
    packages = package_versions(_PACKAGES)
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        cpuinfo = ""
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    machine |= {
        "packages": packages,
        "aes_ni": "aes" in flags.split(),
        "openssl": openssl_backend.openssl_version_text(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,  # filled in once the server runs
        "temp_dir": tempfile.gettempdir(),
    }
    return machine


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__)
    parser.add_argument(
        "--records",
        type=int,
        help=f"records per pass at concurrency 32; concurrency 1 writes 1/{_C1_SHARE} of it"
        f" (default {_FULL['records']}, --quick {_QUICK['records']})",
    )
    parser.add_argument(
        "--rounds", type=int, help=f"rounds (default {_FULL['rounds']}, --quick {_QUICK['rounds']})"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    parser.add_argument("--quick", action="store_true", help="fewer records, shorter timings")
    args = parser.parse_args(argv)
    preset = _QUICK if args.quick else _FULL
    args.rounds = int(preset["rounds"]) if args.rounds is None else args.rounds
    args.records = int(preset["records"]) if args.records is None else args.records
    args.crypto_s = float(preset["crypto_s"])
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.records < _C1_SHARE:
        parser.error(f"--records must be at least {_C1_SHARE}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    started_at = datetime.now(UTC)
    machine = _machine()
    notes: list[str] = []
    backends = ["sqlite", "postgresql"]
    with (
        tempfile.TemporaryDirectory(prefix="bench-store-") as temp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(temp)
        provider = LocalKeyProvider(root / "keys" / "kek.json")
        plain = NoEncryptionVault(provider)
        vaults: dict[str, Vault] = {VAULT: Vault(provider), PLAIN: plain}
        _check_variants(vaults[VAULT], plain)
        _log("seal / open")
        crypto = _measure_crypto(vaults[VAULT], rounds=args.rounds, target_s=args.crypto_s)
        server = optional_postgres(stack, notes=notes, machine=machine)
        if server is None:
            backends.remove("postgresql")
        # Noon UTC: the warm-up (a second earlier) and the pool share one daily data key.
        noon = started_at.replace(hour=12, minute=0, second=0, microsecond=0)
        pool = _make_records(args.records, seed=1234, start_at=noon)
        passes = asyncio.run(
            _measure_writes(
                vaults,
                _Databases(root, server),
                backends,
                pool=pool,
                rounds=args.rounds,
                notes=notes,
            )
        )
    seal_us = next(r.vault_us_per_op for r in crypto if (r.size, r.operation) == ("1 KiB", "seal"))
    writes = _write_rows(passes, seal_us)
    machine["load_avg_1m_at_end"] = os.getloadavg()[0]
    document: dict[str, Any] = {
        "benchmark": "store",
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine,
        "config": {
            "rounds": args.rounds,
            "records_c32": args.records,
            "records_c1": args.records // _C1_SHARE,
            "quick": args.quick,
            "crypto_target_s": args.crypto_s,
            "record_bytes": round(statistics.mean(len(r.plaintext) for r in pool)),
            "recorder_max_batch": _MAX_BATCH,
            "postgresql_fsync": True,
            "sqlite": "WAL, synchronous=FULL (LogStore's own pragmas)",
            "statistic": "median across rounds of each figure",
        },
        "crypto": [asdict(row) | {"vault_us_per_op": row.vault_us_per_op} for row in crypto],
        "writes": writes,
        "goal": _goal(writes),
        "notes": notes,
    }
    print(_report(document, crypto, writes))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    _log(f"wrote {args.json}")
    complete = len(writes) == 2 * len(CONCURRENCIES) and all(
        row["encryption_cost_pct"] is not None for row in writes
    )
    return 0 if complete and not notes else 1


if __name__ == "__main__":
    sys.exit(main())
