"""An inference's two screenings: BeginInference (input) + EndInference (output) over gRPC,
against stock Presidio redacting the same two texts in process.

Each pair is a ~2 KB input and a ~1 KB output from the seeded corpus. The sidecar's time
for a pair is BeginInference's latency plus EndInference's, as a model service sees them
around its model call; Presidio's is `redact(input)` plus `redact(output)`. Both run at
concurrency 1 and 8: Presidio's eight callers share one interpreter (threads), as they
would in a model service that calls the library in process.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc

from bench import corpus
from bench.inprocess import StockPresidio
from bench.rpc import CALL_TIMEOUT_S, drain
from bench.stats import PassResult
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

__all__ = ["Pair", "pairs", "run_presidio_pairs", "run_sidecar_pairs"]

_OUTPUT_CHARS = 1_000


@dataclass(frozen=True, slots=True)
class Pair:
    input: str
    output: str


def pairs(seed: int, count: int) -> list[Pair]:
    """`count` (2 KB input, 1 KB output) pairs from the seeded corpus; the output is the
    first kilobyte of another 2 KB text, cut at a word."""
    docs = corpus.generate(seed=seed + 1, counts={"2KB": 2 * count})
    out = []
    for n in range(count):
        reply = docs[2 * n + 1].text
        cut = reply.rfind(" ", 0, _OUTPUT_CHARS)
        out.append(Pair(docs[2 * n].text, reply[: cut if cut > 0 else _OUTPUT_CHARS]))
    return out


def pair_texts(chosen: Sequence[Pair]) -> list[str]:
    """Input and output of each pair as one text, for the size and rate figures."""
    return [pair.input + pair.output for pair in chosen]


def run_presidio_pairs(
    presidio: StockPresidio, chosen: Sequence[Pair], *, concurrency: int
) -> PassResult:
    """redact(input) then redact(output) for every pair, `concurrency` callers in threads."""
    latencies: list[float | None] = [None] * len(chosen)

    def one(index: int) -> None:
        before = time.perf_counter()
        presidio.redact(chosen[index].input)
        presidio.redact(chosen[index].output)
        latencies[index] = time.perf_counter() - before

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(len(chosen))))
    wall = time.perf_counter() - started
    return PassResult(tuple(latencies), (None,) * len(chosen), (False,) * len(chosen), wall)


async def run_sidecar_pairs(target: str, chosen: Sequence[Pair], *, concurrency: int) -> PassResult:
    """BeginInference then EndInference for every pair, `concurrency` pairs in flight."""
    latencies: list[float | None] = [None] * len(chosen)
    errors: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.PrivacySidecarStub(channel)

        async def call(index: int) -> None:
            pair = chosen[index]
            before = time.perf_counter()
            try:
                begun = await stub.BeginInference(
                    pb.BeginInferenceRequest(
                        model="bench", tenant="bench", purpose="benchmark", input=pair.input
                    ),
                    timeout=CALL_TIMEOUT_S,
                )
                await stub.EndInference(
                    pb.EndInferenceRequest(inference_id=begun.inference_id, output=pair.output),
                    timeout=CALL_TIMEOUT_S,
                )
            except grpc.aio.AioRpcError as err:
                errors[err.code().name] += 1
                return
            latencies[index] = time.perf_counter() - before
            outcomes[begun.outcome or "(empty)"] += 1

        wall = await drain(len(chosen), concurrency, call)
    return PassResult(
        tuple(latencies),
        (None,) * len(chosen),
        (False,) * len(chosen),
        wall,
        errors=tuple(sorted(errors.items())),
        outcomes=tuple(sorted(outcomes.items())),
    )
