"""Latency and throughput figures for one measured pass, and their medians across rounds.

Pure arithmetic on timings the drivers took; never sees text.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PassResult", "PassStats", "median_stats", "percentile", "summarize"]


@dataclass(frozen=True, slots=True)
class PassResult:
    """What a driver saw in one pass over a list of texts, index-aligned with that list.

    `latencies_s[i]` is None and `outputs[i]` is None when request i failed; `errors` counts
    failures by kind (a gRPC status name). `fail_closed[i]` is True when the answer was the
    whole text replaced because detection gave up, not a screening of it.
    """

    latencies_s: tuple[float | None, ...]
    outputs: tuple[str | None, ...]
    fail_closed: tuple[bool, ...]
    wall_s: float
    errors: tuple[tuple[str, int], ...] = ()
    outcomes: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class PassStats:
    """Summary of one pass (or the median of several): sizes, latency percentiles, rates."""

    texts: int  # screened: answered with outcome ok
    chars: int
    bytes: int
    fail_closed: int  # answered, but replaced whole instead of screened
    failed: int  # no answer (RPC error)
    wall_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    texts_per_s: float
    chars_per_s: float


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of an ascending sequence.

    Raises ValueError on an empty sequence or q outside [0, 100].
    """
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(texts: Sequence[str], result: PassResult) -> PassStats:
    """Stats of `result`, a pass over `texts`; rates use the pass's wall time.

    Latency percentiles cover every answered request, as a caller waits for each. Rates credit
    only screened texts: a failed request or a fail-closed answer took time but did not do
    the work, so neither can look like speed.
    """
    answered = [latency * 1000 for latency in result.latencies_s if latency is not None]
    screened = [
        text
        for text, latency, closed in zip(texts, result.latencies_s, result.fail_closed, strict=True)
        if latency is not None and not closed
    ]
    ordered = sorted(answered)
    chars = sum(len(text) for text in screened)
    wall = result.wall_s
    nan = float("nan")
    return PassStats(
        texts=len(screened),
        chars=chars,
        bytes=sum(len(text.encode("utf-8")) for text in screened),
        fail_closed=len(answered) - len(screened),
        failed=len(texts) - len(answered),
        wall_s=wall,
        p50_ms=percentile(ordered, 50) if ordered else nan,
        p95_ms=percentile(ordered, 95) if ordered else nan,
        p99_ms=percentile(ordered, 99) if ordered else nan,
        texts_per_s=len(screened) / wall if wall > 0 else nan,
        chars_per_s=chars / wall if wall > 0 else nan,
    )


def median_stats(rounds: Sequence[PassStats]) -> PassStats:
    """Field-by-field median across rounds (each figure's own median, as the report shows).

    Raises ValueError when `rounds` is empty.
    """
    if not rounds:
        raise ValueError("median of no rounds")

    def median(name: str) -> float:
        return float(statistics.median(getattr(stats, name) for stats in rounds))

    return PassStats(
        texts=round(median("texts")),
        chars=round(median("chars")),
        bytes=round(median("bytes")),
        fail_closed=round(median("fail_closed")),
        failed=round(median("failed")),
        wall_s=median("wall_s"),
        p50_ms=median("p50_ms"),
        p95_ms=median("p95_ms"),
        p99_ms=median("p99_ms"),
        texts_per_s=median("texts_per_s"),
        chars_per_s=median("chars_per_s"),
    )
