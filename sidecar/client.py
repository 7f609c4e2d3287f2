"""Typed Python clients (sync and asyncio) for the PrivacySidecar service.

    with SidecarClient("127.0.0.1:50051") as client:
        with client.inference(model="m", tenant="acme", purpose="chat", input=text) as inf:
            final = inf.end(model(inf.model_input))

The context manager aborts the inference (wiping its data in the sidecar) when the block
raises or exits without ending it. Errors are raised as SidecarClientError subclasses,
never as grpc.RpcError.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

__all__ = [
    "AsyncInference",
    "AsyncSidecarClient",
    "CapacityExhausted",
    "EndResult",
    "Entity",
    "Inference",
    "InferenceNotFound",
    "InvalidRequest",
    "LogResult",
    "RedactResult",
    "ScreeningUnavailable",
    "SidecarClient",
    "SidecarClientError",
]

_MIB = 1_048_576
_OPTIONS = (
    ("grpc.max_receive_message_length", 64 * _MIB),
    ("grpc.max_send_message_length", 64 * _MIB),
)


class SidecarClientError(Exception):
    """A failed call. `code` is the gRPC status; the message is the sidecar's own."""

    code: grpc.StatusCode

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class InvalidRequest(SidecarClientError):
    """INVALID_ARGUMENT: a field broke a documented limit."""


class InferenceNotFound(SidecarClientError):
    """NOT_FOUND: the inference is unknown, ended, aborted or expired."""


class CapacityExhausted(SidecarClientError):
    """RESOURCE_EXHAUSTED: the sidecar holds as many inferences as its policy allows."""


class ScreeningUnavailable(SidecarClientError):
    """UNAVAILABLE: the sidecar is unreachable or screening failed under a reject policy."""


_BY_CODE: dict[grpc.StatusCode, type[SidecarClientError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest,
    grpc.StatusCode.NOT_FOUND: InferenceNotFound,
    grpc.StatusCode.RESOURCE_EXHAUSTED: CapacityExhausted,
    grpc.StatusCode.UNAVAILABLE: ScreeningUnavailable,
}


def _translate(err: grpc.RpcError) -> SidecarClientError:
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = (err.details() if hasattr(err, "details") else "") or ""
    return _BY_CODE.get(code, SidecarClientError)(code, details)


async def _translate_stream(call: Any, err: grpc.RpcError) -> SidecarClientError:
    """The stream's own final status, not a local error from writing into a call that the
    sidecar already ended (grpc reports that race as INTERNAL "Internal error from Core")."""
    try:
        code = await call.code()
        details = await call.details()
    except (grpc.RpcError, asyncio.CancelledError):
        return _translate(err)
    if code is None or code == grpc.StatusCode.OK:
        return _translate(err)
    return _BY_CODE.get(code, SidecarClientError)(code, details or "")


@dataclass(frozen=True, slots=True)
class Entity:
    type: str
    start: int
    end: int
    score: float
    action: str


def _entities(items: Iterable[pb.Entity]) -> tuple[Entity, ...]:
    return tuple(Entity(e.type, e.start, e.end, e.score, e.action) for e in items)


@dataclass(frozen=True, slots=True)
class RedactResult:
    redacted_text: str
    entities: tuple[Entity, ...]
    policy_version: str
    decision_id: str
    outcome: str


def _redact_result(reply: pb.RedactResponse) -> RedactResult:
    return RedactResult(
        reply.redacted_text,
        _entities(reply.entities),
        reply.policy_version,
        reply.decision_id,
        reply.outcome,
    )


@dataclass(frozen=True, slots=True)
class LogResult:
    log_record_id: str
    entities: tuple[Entity, ...]
    attribute_entities: int
    dropped_attributes: int
    policy_version: str
    outcome: str


def _log_request(
    message: str,
    *,
    tenant: str,
    source: str,
    level: str,
    attributes: dict[str, str] | None,
    retention_class: str,
    policy: str,
) -> pb.LogRequest:
    return pb.LogRequest(
        message=message,
        tenant=tenant,
        source=source,
        level=level,
        attributes=attributes or {},
        retention_class=retention_class,
        policy=policy,
    )


def _log_result(reply: pb.LogResponse) -> LogResult:
    return LogResult(
        reply.log_record_id,
        _entities(reply.entities),
        reply.attribute_entities,
        reply.dropped_attributes,
        reply.policy_version,
        reply.outcome,
    )


@dataclass(frozen=True, slots=True)
class EndResult:
    user_output: str
    entities: tuple[Entity, ...]
    log_record_id: str
    policy_version: str
    outcome: str


def _begin_request(
    *,
    model: str,
    tenant: str,
    purpose: str,
    input: str,
    policy: str | None,
    ttl_ms: int | None,
    subject_id: str | None,
) -> pb.BeginInferenceRequest:
    request = pb.BeginInferenceRequest(model=model, tenant=tenant, purpose=purpose, input=input)
    if policy is not None:
        request.policy = policy
    if ttl_ms is not None:
        request.ttl_ms = ttl_ms
    if subject_id is not None:
        request.subject_id = subject_id
    return request


class _InferenceState:
    """What both inference handles share: ids, the screened input, whether it ended."""

    def __init__(self, reply: pb.BeginInferenceResponse) -> None:
        self.inference_id: str = reply.inference_id
        self.model_input: str = reply.model_input
        self.entities: tuple[Entity, ...] = _entities(reply.entities)
        self.policy_version: str = reply.policy_version
        self.outcome: str = reply.outcome
        self.expires_at_unix_ms: int = reply.expires_at_unix_ms
        self.ended = False
        self.output_entities: list[Entity] = []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.inference_id} ended={self.ended}>"

    def _end_result(self, reply: pb.EndInferenceResponse) -> EndResult:
        self.ended = True
        return EndResult(
            reply.user_output,
            _entities(reply.entities),
            reply.log_record_id,
            reply.policy_version,
            reply.outcome,
        )

    def _chunks(self, pieces: Iterable[str]) -> Iterator[pb.OutputChunk]:
        yield pb.OutputChunk(inference_id=self.inference_id)
        for piece in pieces:
            yield pb.OutputChunk(text=piece)
        yield pb.OutputChunk(last=True)

    def _take(self, reply: pb.OutputChunk) -> str:
        self.output_entities.extend(_entities(reply.entities))
        if reply.last:
            self.ended = True
            self.outcome = reply.outcome or self.outcome
        return reply.text


class Inference(_InferenceState):
    """A live inference (sync). End it, stream its output, or abort it."""

    def __init__(self, client: SidecarClient, reply: pb.BeginInferenceResponse) -> None:
        super().__init__(reply)
        self._client = client

    def end(self, output: str) -> EndResult:
        """Screen the model output and end the inference (its data is wiped)."""
        reply = self._client._call(
            self._client._stub.EndInference,
            pb.EndInferenceRequest(inference_id=self.inference_id, output=output),
        )
        return self._end_result(reply)

    def stream(self, pieces: Iterable[str]) -> Iterator[str]:
        """Screen a streamed output; yields user text as soon as it is safe to show."""
        try:
            for reply in self._client._stub.StreamOutput(
                self._chunks(pieces), timeout=self._client._timeout
            ):
                text = self._take(reply)
                if text:
                    yield text
        except grpc.RpcError as err:
            self.ended = True  # the sidecar wipes the inference when a stream fails
            raise _translate(err) from None

    def abort(self) -> None:
        """Wipe the inference without an output; a no-op once it has ended."""
        if self.ended:
            return
        self.ended = True
        with contextlib.suppress(InferenceNotFound):
            self._client._call(
                self._client._stub.AbortInference,
                pb.AbortInferenceRequest(inference_id=self.inference_id),
            )


class SidecarClient:
    """Blocking client. Use as a context manager or call close()."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        timeout: float | None = 30.0,
        channel: grpc.Channel | None = None,
    ) -> None:
        self._channel = channel or grpc.insecure_channel(target, options=_OPTIONS)
        self._own_channel = channel is None
        self._stub = pb_grpc.PrivacySidecarStub(self._channel)
        self._timeout = timeout

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise _translate(err) from None

    def redact(self, text: str, *, policy: str = "") -> RedactResult:
        return _redact_result(
            self._call(self._stub.Redact, pb.RedactRequest(text=text, policy=policy))
        )

    def begin(
        self,
        *,
        model: str,
        tenant: str,
        purpose: str,
        input: str,
        policy: str | None = None,
        ttl_ms: int | None = None,
        subject_id: str | None = None,
    ) -> Inference:
        request = _begin_request(
            model=model,
            tenant=tenant,
            purpose=purpose,
            input=input,
            policy=policy,
            ttl_ms=ttl_ms,
            subject_id=subject_id,
        )
        return Inference(self, self._call(self._stub.BeginInference, request))

    def log(
        self,
        message: str,
        *,
        tenant: str,
        source: str,
        level: str = "info",
        attributes: dict[str, str] | None = None,
        retention_class: str = "",
        policy: str = "",
    ) -> LogResult:
        """Retain one application log line, screened and encrypted like any record."""
        request = _log_request(
            message,
            tenant=tenant,
            source=source,
            level=level,
            attributes=attributes,
            retention_class=retention_class,
            policy=policy,
        )
        return _log_result(self._call(self._stub.Log, request))

    @contextlib.contextmanager
    def inference(self, **begin_args: Any) -> Iterator[Inference]:
        """Begin an inference; abort it if the block raises or leaves it open."""
        inference = self.begin(**begin_args)
        try:
            yield inference
        finally:
            inference.abort()

    def close(self) -> None:
        if self._own_channel:
            self._channel.close()

    def __enter__(self) -> SidecarClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncInference(_InferenceState):
    """A live inference (asyncio)."""

    def __init__(self, client: AsyncSidecarClient, reply: pb.BeginInferenceResponse) -> None:
        super().__init__(reply)
        self._client = client

    async def end(self, output: str) -> EndResult:
        reply = await self._client._call(
            self._client._stub.EndInference,
            pb.EndInferenceRequest(inference_id=self.inference_id, output=output),
        )
        return self._end_result(reply)

    async def stream(self, pieces: AsyncIterable[str] | Iterable[str]) -> AsyncIterator[str]:
        async def chunks() -> AsyncIterator[pb.OutputChunk]:
            yield pb.OutputChunk(inference_id=self.inference_id)
            if isinstance(pieces, AsyncIterable):
                async for piece in pieces:
                    yield pb.OutputChunk(text=piece)
            else:
                for piece in pieces:
                    yield pb.OutputChunk(text=piece)
            yield pb.OutputChunk(last=True)

        call = self._client._stub.StreamOutput(chunks(), timeout=self._client._timeout)
        try:
            async for reply in call:
                text = self._take(reply)
                if text:
                    yield text
        except grpc.RpcError as err:
            self.ended = True
            raise await _translate_stream(call, err) from None

    async def abort(self) -> None:
        if self.ended:
            return
        self.ended = True
        with contextlib.suppress(InferenceNotFound):
            await self._client._call(
                self._client._stub.AbortInference,
                pb.AbortInferenceRequest(inference_id=self.inference_id),
            )


class AsyncSidecarClient:
    """asyncio client. Use `async with` or await close()."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        timeout: float | None = 30.0,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        self._channel = channel or grpc.aio.insecure_channel(target, options=_OPTIONS)
        self._own_channel = channel is None
        self._stub = pb_grpc.PrivacySidecarStub(self._channel)
        self._timeout = timeout

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise _translate(err) from None

    async def redact(self, text: str, *, policy: str = "") -> RedactResult:
        return _redact_result(
            await self._call(self._stub.Redact, pb.RedactRequest(text=text, policy=policy))
        )

    async def begin(
        self,
        *,
        model: str,
        tenant: str,
        purpose: str,
        input: str,
        policy: str | None = None,
        ttl_ms: int | None = None,
        subject_id: str | None = None,
    ) -> AsyncInference:
        request = _begin_request(
            model=model,
            tenant=tenant,
            purpose=purpose,
            input=input,
            policy=policy,
            ttl_ms=ttl_ms,
            subject_id=subject_id,
        )
        return AsyncInference(self, await self._call(self._stub.BeginInference, request))

    async def log(
        self,
        message: str,
        *,
        tenant: str,
        source: str,
        level: str = "info",
        attributes: dict[str, str] | None = None,
        retention_class: str = "",
        policy: str = "",
    ) -> LogResult:
        """Retain one application log line, screened and encrypted like any record."""
        request = _log_request(
            message,
            tenant=tenant,
            source=source,
            level=level,
            attributes=attributes,
            retention_class=retention_class,
            policy=policy,
        )
        return _log_result(await self._call(self._stub.Log, request))

    @contextlib.asynccontextmanager
    async def inference(self, **begin_args: Any) -> AsyncIterator[AsyncInference]:
        inference = await self.begin(**begin_args)
        try:
            yield inference
        finally:
            await inference.abort()

    async def close(self) -> None:
        if self._own_channel:
            await self._channel.close(None)

    async def __aenter__(self) -> AsyncSidecarClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
