"""`python -m bench.ledger_overhead`: what does the audit ledger cost the screening path?

Two servers, both started exactly as operators start them, on a throwaway data dir:
`sidecar serve` (ledger on: every screening decision, record and data key is appended to
the ledger in the same group-commit transaction, before the caller is answered) and
`python -m bench.ledgerless serve` (the same code with no ledger). Each round measures
both, alternating which goes first, with the same workload at concurrency 8:

- `redact`: Redact of 2 KB corpus texts (one ledger entry per call);
- `inference`: BeginInference (2 KB input) + EndInference (1 KB output), one record and
  three or more ledger entries per pair.

It prints calls per second and p50/p99 latency per variant and workload (medians across
rounds) and the ratio ledger-on / ledger-off, and writes JSON. The target is a ratio of
at least 0.90. Exit status: 0 when every variant was measured without errors, 1
otherwise, 2 for bad flags.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import grpc

from bench.corpus import generate
from bench.report import machine_info
from bench.server import SidecarStartError, running_sidecar
from bench.stats import percentile
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO / "bench" / "results" / "ledger_overhead.json"
VARIANTS = {"ledger on": "sidecar", "ledger off": "bench.ledgerless"}
CONCURRENCY = 8


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _texts(seed: int, count: int) -> tuple[list[str], list[str]]:
    docs = generate(seed, {"2KB": count})
    inputs = [d.text for d in docs]
    outputs = [d.text[: len(d.text) // 2] for d in docs]  # ~1 KB model outputs
    return inputs, outputs


async def _drive(
    calls: int, work: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float], int]:
    """Run `calls` units, CONCURRENCY at a time; (seconds, latencies, errors)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(calls):
        queue.put_nowait(index)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            index = queue.get_nowait()
            before = time.perf_counter()
            try:
                await work(index)
            except grpc.aio.AioRpcError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - before)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started, latencies, errors


async def _measure(target: str, inputs: Sequence[str], outputs: Sequence[str]) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.PrivacySidecarStub(channel)

        async def redact(index: int) -> None:
            await stub.Redact(pb.RedactRequest(text=inputs[index % len(inputs)]), timeout=600)

        async def inference(index: int) -> None:
            begun = await stub.BeginInference(
                pb.BeginInferenceRequest(
                    tenant="bench",
                    model="m",
                    purpose="bench",
                    input=inputs[index % len(inputs)],
                ),
                timeout=600,
            )
            await stub.EndInference(
                pb.EndInferenceRequest(
                    inference_id=begun.inference_id, output=outputs[index % len(outputs)]
                ),
                timeout=600,
            )

        await _drive(CONCURRENCY * 2, redact)  # warm-up: pipelines, caches, first data key
        await _drive(CONCURRENCY, inference)
        results: dict[str, Any] = {}
        for name, work in (("redact", redact), ("inference", inference)):
            seconds, latencies, errors = await _drive(len(inputs), work)
            ordered = sorted(latencies)
            results[name] = {
                "per_s": len(latencies) / seconds,
                "p50_ms": percentile(ordered, 50) * 1000 if ordered else None,
                "p99_ms": percentile(ordered, 99) * 1000 if ordered else None,
                "errors": errors,
            }
        return results


def _median(rounds: list[dict[str, Any]], workload: str, key: str) -> float | None:
    values = [r[workload][key] for r in rounds if r[workload][key] is not None]
    return statistics.median(values) if values else None


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    inputs, outputs = _texts(args.seed, args.calls)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    notes: list[str] = []
    for round_index in range(args.rounds):
        order = list(VARIANTS) if round_index % 2 == 0 else list(reversed(VARIANTS))
        for name in order:
            _log(f"round {round_index + 1}/{args.rounds}: {name}")
            with tempfile.TemporaryDirectory(prefix="bench-ledger-") as scratch:
                try:
                    async with running_sidecar(
                        REPO,
                        policies=REPO / "policies.yaml",
                        log_path=Path(scratch) / "server.log",
                        module=VARIANTS[name],
                    ) as server:
                        rounds[name].append(await _measure(server.target, inputs, outputs))
                except SidecarStartError as err:
                    notes.append(f"{name}: {str(err).splitlines()[0]}")
    summary: dict[str, Any] = {}
    for workload in ("redact", "inference"):
        row: dict[str, Any] = {}
        for name in VARIANTS:
            row[name] = {
                key: _median(rounds[name], workload, key) for key in ("per_s", "p50_ms", "p99_ms")
            }
            row[name]["errors"] = sum(r[workload]["errors"] for r in rounds[name])
        on, off = row["ledger on"]["per_s"], row["ledger off"]["per_s"]
        row["ratio"] = on / off if on and off else None
        summary[workload] = row
    return {
        "machine": machine_info(),
        "rounds": args.rounds,
        "calls_per_workload": args.calls,
        "concurrency": CONCURRENCY,
        "summary": summary,
        "raw": rounds,
        "notes": notes,
    }


def _table(result: dict[str, Any]) -> str:
    lines = [
        f"Screening path with the audit ledger on vs off (concurrency {CONCURRENCY}, "
        f"medians of {result['rounds']} rounds, {result['calls_per_workload']} calls each)",
        "",
        f"{'workload':<12}{'variant':<12}{'calls/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}",
    ]
    for workload, row in result["summary"].items():
        for name in VARIANTS:
            cell = row[name]
            fmt = [f"{cell[k]:.1f}" if cell[k] is not None else "-" for k in ("per_s", "p50_ms")]
            p99 = f"{cell['p99_ms']:.1f}" if cell["p99_ms"] is not None else "-"
            lines.append(
                f"{workload:<12}{name:<12}{fmt[0]:>10}{fmt[1]:>10}{p99:>10}{cell['errors']:>8}"
            )
        ratio = row["ratio"]
        shown = f"{ratio:.3f}" if ratio is not None else "-"
        lines.append(f"{workload:<12}{'on / off':<12}{shown:>10}   (target >= 0.90)")
    for note in result["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_overhead", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--calls", type=int, default=48, help="calls per workload (default 48)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.calls < CONCURRENCY:
        parser.error(f"--rounds must be >= 1 and --calls >= {CONCURRENCY}")
    result = asyncio.run(_run(args))
    print(_table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    failed = result["notes"] or any(
        row[name]["errors"] for row in result["summary"].values() for name in VARIANTS
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
