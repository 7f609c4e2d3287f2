"""Drives the sidecar's Redact RPC over gRPC at a fixed concurrency and times every call."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

import grpc

from bench.stats import PassResult
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

__all__ = ["CALL_TIMEOUT_S", "RedactClient", "drain"]

_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# Generous: a 100 KB text queued behind seven others on two cores can take a while, and a
# timeout here would count as an error rather than as the slow answer it is.
CALL_TIMEOUT_S = 600.0
# RedactResponse.outcome when detection failed and the whole text was replaced (sidecar.proto).
_FAIL_CLOSED = "fail_closed"


class RedactClient:
    """One grpc.aio channel to the sidecar; `run` sends a list of texts through Redact."""

    def __init__(self, target: str) -> None:
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ],
        )
        self._stub = pb_grpc.PrivacySidecarStub(self._channel)

    async def __aenter__(self) -> RedactClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._channel.close(grace=None)

    async def run(self, texts: Sequence[str], *, concurrency: int) -> PassResult:
        """Send every text once, `concurrency` calls in flight, workers sharing one queue.

        A failed call is recorded by status name and leaves a None in the result; anything
        other than an RPC error propagates.
        """
        latencies: list[float | None] = [None] * len(texts)
        outputs: list[str | None] = [None] * len(texts)
        fail_closed = [False] * len(texts)
        errors: Counter[str] = Counter()
        outcomes: Counter[str] = Counter()

        async def call(index: int) -> None:
            request = pb.RedactRequest(text=texts[index])
            before = time.perf_counter()
            try:
                reply = await self._stub.Redact(request, timeout=CALL_TIMEOUT_S)
            except grpc.aio.AioRpcError as err:
                errors[err.code().name] += 1
                return
            latencies[index] = time.perf_counter() - before
            outputs[index] = reply.redacted_text
            fail_closed[index] = reply.outcome == _FAIL_CLOSED
            outcomes[reply.outcome or "(empty)"] += 1

        wall = await drain(len(texts), concurrency, call)
        return PassResult(
            tuple(latencies),
            tuple(outputs),
            tuple(fail_closed),
            wall,
            errors=tuple(sorted(errors.items())),
            outcomes=tuple(sorted(outcomes.items())),
        )


async def drain(count: int, concurrency: int, call: Callable[[int], Awaitable[None]]) -> float:
    """Run call(0) ... call(count - 1), `concurrency` at a time from one shared queue;
    return the wall seconds."""
    pending: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        pending.put_nowait(index)

    async def worker() -> None:
        while True:
            try:
                index = pending.get_nowait()
            except asyncio.QueueEmpty:
                return
            await call(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started
