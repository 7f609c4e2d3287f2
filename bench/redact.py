"""`python -m bench.redact`: stock Presidio in process vs the sidecar's Redact RPC over gRPC.

One run measures, on the same seeded corpus, stock Presidio (concurrency 1) and the sidecar
served from a subprocess (concurrency 1 and 8). Each system gets a warm-up, then `--rounds`
rounds; in each round every system makes one pass per size class and one pass over the whole
shuffled corpus ("mixed"). Rounds alternate the systems so slow drift on a shared machine hits
all of them alike; the report shows medians across rounds. Writes the figures as JSON.

Exit status: 0 when every system was measured without failed requests, 1 otherwise (the
report and JSON are still written), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import corpus, inference, memory
from bench.corpus import Doc
from bench.inference import Pair, pair_texts
from bench.inprocess import SPACY_MODEL, StockPresidio
from bench.leaks import LeakCount, SystemLeaks, compare_leaks
from bench.memory import SoakResult
from bench.report import (
    INFERENCE,
    MIXED,
    PRESIDIO,
    SIDECAR,
    Row,
    format_report,
    headline,
    machine_info,
)
from bench.rpc import RedactClient
from bench.server import SidecarProcess, SidecarStartError, running_sidecar
from bench.stats import PassResult, PassStats, median_stats, summarize

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO / "bench" / "results" / "redact.json"
QUICK_COUNTS = {"200B": 8, "2KB": 4, "20KB": 1, "100KB": 1}
# Enough small texts to fill 8 workers, plus one large one so spaCy's long-text paths and the
# server's big-message paths are warm too.
_WARMUP_PER_CLASS = {"200B": 8, "2KB": 3, "20KB": 1, "100KB": 1}

Runner = Callable[[Sequence[str]], Awaitable[PassResult]]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.redact", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    parser.add_argument(
        "--quick", action="store_true", help="small corpus and 1 round: a smoke test"
    )
    parser.add_argument("--seed", type=int, default=1234, help="corpus seed (default 1234)")
    parser.add_argument("--skip-sidecar", action="store_true", help="measure stock Presidio only")
    parser.add_argument(
        "--pairs",
        type=int,
        default=40,
        help="BeginInference+EndInference pairs (2 KB input, 1 KB output) per pass (default 40)",
    )
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=0.0,
        help="after the rounds, keep Redact at concurrency 8 for this long and report the "
        "resident memory of the server and each worker (default 0: no soak)",
    )
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if args.soak_minutes < 0:
        parser.error("--soak-minutes must not be negative")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.quick:
        args.rounds = 1
        args.pairs = min(args.pairs, 8)
    return args


def _fresh_corpus(seed: int, number: int) -> list[str]:
    """The soak's pass `number`: a corpus of its own (seeds after the measured one's),
    shuffled, so every pass brings the server words it has not read before."""
    texts = [doc.text for doc in corpus.generate(seed + 1 + number)]
    random.Random(number).shuffle(texts)
    return texts


def _corpus_lines(docs: Sequence[Doc], seed: int) -> list[str]:
    parts = []
    for size_class in corpus.SIZE_CLASSES:
        sizes = [doc.size_bytes for doc in docs if doc.size_class == size_class]
        if sizes:
            parts.append(f"{len(sizes)} x {size_class} (mean {sum(sizes) // len(sizes)} B)")
    spans = sum(len(doc.spans) for doc in docs)
    total = sum(doc.size_bytes for doc in docs)
    return [f"Corpus: seed {seed}; {', '.join(parts)}; {total} B, {spans} labelled PII spans"]


def _corpus_json(docs: Sequence[Doc]) -> dict[str, Any]:
    by_class: dict[str, Any] = {}
    for size_class in corpus.SIZE_CLASSES:
        chosen = [doc for doc in docs if doc.size_class == size_class]
        if chosen:
            by_class[size_class] = {
                "texts": len(chosen),
                "chars": sum(len(doc.text) for doc in chosen),
                "bytes": sum(doc.size_bytes for doc in chosen),
                "spans": sum(len(doc.spans) for doc in chosen),
                "negatives": sum(not doc.spans for doc in chosen),
            }
    return by_class


def _leak_json(count: LeakCount) -> dict[str, Any]:
    return {
        "spans": count.spans,
        "leaked": count.leaked,
        "unscored": count.unscored,
        "by_entity": {e: {"spans": n, "leaked": leaked} for e, n, leaked in count.by_entity},
    }


class _Measurement:
    """Collects the passes of every (system, concurrency) over the rounds."""

    def __init__(self, docs: Sequence[Doc], seed: int, pairs: Sequence[Pair]) -> None:
        self.pairs = list(pairs)
        self.pair_texts = pair_texts(pairs)
        self.classes = [c for c in corpus.SIZE_CLASSES if any(d.size_class == c for d in docs)]
        self.texts = {c: [d.text for d in docs if d.size_class == c] for c in self.classes}
        order = list(range(len(docs)))
        random.Random(seed).shuffle(order)  # one fixed mixed order, the same for every system
        self.mixed_docs = [docs[i] for i in order]
        self.mixed_texts = [doc.text for doc in self.mixed_docs]
        self.warmup = [text for c in self.classes for text in self.texts[c][: _WARMUP_PER_CLASS[c]]]
        self.stats: dict[tuple[str, int, str], list[PassStats]] = {}
        self.errors: dict[tuple[str, int, str], Counter[str]] = {}
        self.outcomes: dict[tuple[str, int, str], Counter[str]] = {}
        # Screened outputs of each system's first mixed pass (None: failed or fail-closed).
        self.screened: dict[str, list[str | None]] = {}
        # Waits for the server to go idle before each pass; None until a server runs.
        self.settle: Callable[[], Awaitable[float]] | None = None
        self.settled_s = 0.0

    async def _run(self, run: Runner, texts: Sequence[str]) -> PassResult:
        if self.settle is not None:
            self.settled_s += await self.settle()
        return await run(texts)

    def _record(self, key: tuple[str, int, str], texts: Sequence[str], result: PassResult) -> None:
        self.stats.setdefault(key, []).append(summarize(texts, result))
        self.errors.setdefault(key, Counter()).update(dict(result.errors))
        self.outcomes.setdefault(key, Counter()).update(dict(result.outcomes))

    async def round(self, system: str, concurrency: int, run: Runner, *, first: bool) -> None:
        for size_class in self.classes:
            result = await self._run(run, self.texts[size_class])
            self._record((system, concurrency, size_class), self.texts[size_class], result)
            _log(f"  {system} c{concurrency} {size_class}: {result.wall_s:.1f} s")
        result = await self._run(run, self.mixed_texts)
        self._record((system, concurrency, MIXED), self.mixed_texts, result)
        _log(f"  {system} c{concurrency} {MIXED}: {result.wall_s:.1f} s")
        if first:  # detection is deterministic; one pass per system is enough for leaks
            self.screened[f"{system} c{concurrency}"] = [
                None if closed else output
                for output, closed in zip(result.outputs, result.fail_closed, strict=True)
            ]

    async def pairs_round(self, system: str, concurrency: int, run: Runner) -> None:
        result = await self._run(run, self.pair_texts)
        self._record((system, concurrency, INFERENCE), self.pair_texts, result)
        _log(f"  {system} c{concurrency} {INFERENCE}: {result.wall_s:.1f} s")

    def leaks(self) -> dict[str, SystemLeaks]:
        return compare_leaks(self.mixed_docs, self.screened)

    def rows(self) -> list[Row]:
        rows = []
        for key, rounds in self.stats.items():
            system, concurrency, size_class = key
            rows.append(
                Row(
                    system=system,
                    concurrency=concurrency,
                    size_class=size_class,
                    median=median_stats(rounds),
                    rounds=tuple(rounds),
                    errors=tuple(sorted(self.errors[key].items())),
                    outcomes=tuple(sorted(self.outcomes[key].items())),
                )
            )
        return rows


async def _measure(args: argparse.Namespace, docs: Sequence[Doc]) -> dict[str, Any]:
    measurement = _Measurement(docs, args.seed, inference.pairs(args.seed, args.pairs))
    notes: list[str] = []
    sidecar: dict[str, Any] = {"measured": False, "error": None}
    server: SidecarProcess | None = None

    _log(f"loading stock Presidio ({SPACY_MODEL})")
    loading = time.perf_counter()
    presidio = StockPresidio()

    async def run_presidio(texts: Sequence[str]) -> PassResult:
        return presidio.run(texts)  # blocks the loop on purpose: nothing else may run now

    systems: list[tuple[str, int, Runner]] = [(PRESIDIO, 1, run_presidio)]
    pair_systems: list[tuple[str, int, Runner]] = []
    for concurrency in (1, 8):

        async def presidio_pairs(
            texts: Sequence[str], concurrency: int = concurrency
        ) -> PassResult:
            return inference.run_presidio_pairs(
                presidio, measurement.pairs, concurrency=concurrency
            )

        pair_systems.append((PRESIDIO, concurrency, presidio_pairs))
    _log(f"  loaded in {time.perf_counter() - loading:.1f} s; warming up")
    await run_presidio(measurement.warmup)
    soaked: SoakResult | None = None

    async with contextlib.AsyncExitStack() as stack:
        if args.skip_sidecar:
            notes.append("sidecar skipped (--skip-sidecar)")
        else:
            _log("starting the sidecar (python -m sidecar serve)")
            log_path = args.json.parent / "redact-sidecar.log"
            try:
                server = await stack.enter_async_context(
                    running_sidecar(REPO, policies=REPO / "policies.yaml", log_path=log_path)
                )
            except SidecarStartError as err:
                sidecar["error"] = str(err)
                notes.append(f"sidecar not measured: {str(err).splitlines()[0]}")
                _log(f"sidecar unavailable: {err}")
            else:
                _log(f"  SERVING on {server.target} after {server.startup_s:.1f} s; warming up")
                sidecar.update(measured=True, target=server.target, startup_s=server.startup_s)
                sidecar["log"] = str(log_path)
                measurement.settle = server.settle
                client = await stack.enter_async_context(RedactClient(server.target))
                for concurrency in (1, 8):
                    run_sidecar = functools.partial(client.run, concurrency=concurrency)
                    await run_sidecar(measurement.warmup)
                    systems.append((SIDECAR, concurrency, run_sidecar))

                    async def sidecar_pairs(
                        texts: Sequence[str], concurrency: int = concurrency
                    ) -> PassResult:
                        assert server is not None
                        return await inference.run_sidecar_pairs(
                            server.target, measurement.pairs, concurrency=concurrency
                        )

                    pair_systems.append((SIDECAR, concurrency, sidecar_pairs))

        for index in range(args.rounds):
            _log(f"round {index + 1}/{args.rounds}")
            for system, concurrency, run in systems:
                await measurement.round(system, concurrency, run, first=index == 0)
            for system, concurrency, run in pair_systems:
                await measurement.pairs_round(system, concurrency, run)
        if server is not None and sidecar["measured"] and args.soak_minutes > 0:
            _log(f"soak: Redact at concurrency 8 for {args.soak_minutes:g} min")
            assert server.pid is not None
            soaked = await memory.soak(
                server.target,
                server.pid,
                functools.partial(_fresh_corpus, args.seed),
                seconds=60 * args.soak_minutes,
            )
    if server is not None and server.startup_s is not None:
        sidecar.update(
            exit_code=server.exit_code, stop_s=server.stop_s, settled_s=measurement.settled_s
        )
        notes.append(
            f"sidecar: SERVING {server.startup_s:.1f} s after start; exited with code "
            f"{server.exit_code} {server.stop_s:.1f} s after SIGTERM; waited "
            f"{measurement.settled_s:.1f} s in all for it to go idle between passes"
        )

    rows = measurement.rows()
    for row in rows:
        if row.errors:
            notes.append(f"{row.system} c{row.concurrency} {row.size_class}: failed {row.errors}")
        other = [(name, n) for name, n in row.outcomes if name != "ok"]
        if other:
            notes.append(f"{row.system} c{row.concurrency} {row.size_class}: outcomes {other}")
    return {
        "rows": rows,
        "leaks": measurement.leaks(),
        "sidecar": sidecar,
        "notes": notes,
        "soak": soaked,
    }


def _json_safe(value: Any) -> Any:
    """NaN (figures of a class whose every request failed) becomes null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    counts = QUICK_COUNTS if args.quick else corpus.DEFAULT_COUNTS
    docs = corpus.generate(seed=args.seed, counts=counts)
    machine = machine_info()
    started_at = datetime.now(UTC)
    measured = asyncio.run(_measure(args, docs))
    rows: list[Row] = measured["rows"]
    head = headline(rows)
    corpus_lines = _corpus_lines(docs, args.seed)
    print(
        format_report(
            machine=machine,
            corpus_lines=corpus_lines,
            rounds=args.rounds,
            rows=rows,
            head=head,
            leaks=measured["leaks"],
            notes=measured["notes"],
            soak=measured["soak"],
        )
    )
    document = {
        "benchmark": "redact",
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine,
        "config": {
            "seed": args.seed,
            "rounds": args.rounds,
            "quick": args.quick,
            "counts": counts,
            "pairs": args.pairs,
            "soak_minutes": args.soak_minutes,
            "spacy_model": SPACY_MODEL,
            "statistic": "median across rounds of each figure",
        },
        "corpus": _corpus_json(docs),
        "rows": [
            {
                "system": row.system,
                "concurrency": row.concurrency,
                "size_class": row.size_class,
                **asdict(row.median),
                "errors": dict(row.errors),
                "outcomes": dict(row.outcomes),
                "rounds": [asdict(stats) for stats in row.rounds],
            }
            for row in rows
        ],
        "headline": asdict(head),
        "leaks": {
            name: {"own": _leak_json(found.own), "shared": _leak_json(found.shared)}
            for name, found in measured["leaks"].items()
        },
        "sidecar": measured["sidecar"],
        "soak": asdict(measured["soak"]) if measured["soak"] is not None else None,
        "notes": measured["notes"],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_json_safe(document), indent=2, allow_nan=False)
    args.json.write_text(text + "\n", encoding="utf-8")
    _log(f"wrote {args.json}")
    complete = measured["sidecar"]["measured"] or args.skip_sidecar
    failed = any(row.errors for row in rows)
    return 0 if complete and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
