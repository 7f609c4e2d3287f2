"""sidecar.client: typed sync and asyncio clients against real loopback servers.

The servers run on the session's event loop, so the blocking client is driven from a
worker thread (asyncio.to_thread) while the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import grpc
import pytest

from governance.policy import Policy
from sidecar.client import (
    AsyncInference,
    AsyncSidecarClient,
    CapacityExhausted,
    EndResult,
    Entity,
    Inference,
    InferenceNotFound,
    InvalidRequest,
    RedactResult,
    ScreeningUnavailable,
    SidecarClient,
    SidecarClientError,
)
from sidecar.detection import Finding
from sidecar.v1 import sidecar_pb2 as pb
from tests.conftest import Running, SidecarFactory, minimal_policies

NAME = "John Smith"
EMAIL = "john.smith@example.com"
INPUT = f"Hello, my name is {NAME} and my email is {EMAIL}."
LABELS = {"model": "m1", "tenant": "acme", "purpose": "chat"}


class RaisingDetector:
    """Detection that always fails."""

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        raise RuntimeError("detector crashed")


class BlockLeftEarly(Exception):
    """Raised inside an inference block to leave it by an exception."""


@pytest.fixture(scope="module")
async def raising(sidecar_factory: SidecarFactory, server: Running) -> Running:
    """A server on the shared server's policies whose detector always raises."""
    running: Running = await sidecar_factory(server.sidecar.policies, detector=RaisingDetector())
    return running


@pytest.fixture(scope="module")
async def one_slot(sidecar_factory: SidecarFactory) -> Running:
    """A server that holds at most one live inference."""
    running: Running = await sidecar_factory(
        minimal_policies(limits="max_contexts: 1\n  max_context_bytes: 67108864")
    )
    return running


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def _status_of_end(running: Running, inference_id: str) -> grpc.StatusCode:
    """The status a raw EndInference on `inference_id` gets (OK if it ended it)."""
    try:
        await running.stub.EndInference(
            pb.EndInferenceRequest(inference_id=inference_id, output="x")
        )
    except grpc.aio.AioRpcError as err:
        return err.code()
    return grpc.StatusCode.OK


def _assert_ours(err: SidecarClientError, code: grpc.StatusCode) -> None:
    assert not isinstance(err, grpc.RpcError)
    assert err.code == code
    assert err.__cause__ is None
    assert err.__suppress_context__
    assert str(err).startswith(f"{code.name}: ")


# -- sync client ---------------------------------------------------------------------------


async def test_sync_client_redact_returns_typed_result(server: Running) -> None:
    """SidecarClient.redact returns a RedactResult whose entities index the input."""

    def run() -> RedactResult:
        with SidecarClient(server.target) as client:
            return client.redact(INPUT)

    result = await asyncio.to_thread(run)
    assert isinstance(result, RedactResult)
    assert result.redacted_text == "Hello, my name is <PERSON_1> and my email is <EMAIL_ADDRESS_1>."
    assert all(isinstance(e, Entity) for e in result.entities)
    assert {INPUT[e.start : e.end] for e in result.entities} == {NAME, EMAIL}
    assert result.outcome == "ok"
    assert result.decision_id
    assert "/chat/sha256:" in result.policy_version


async def test_sync_client_redact_named_policy(server: Running) -> None:
    """redact(policy="strict") applies strict's replace action."""

    def run() -> RedactResult:
        with SidecarClient(server.target) as client:
            return client.redact(INPUT, policy="strict")

    result = await asyncio.to_thread(run)
    assert result.redacted_text == "Hello, my name is <PERSON> and my email is <EMAIL_ADDRESS>."


async def test_sync_client_inference_block_ends_and_restores(server: Running) -> None:
    """Inside `with client.inference(...)`, end() restores placeholders and ends the inference."""

    def run() -> tuple[Inference, EndResult]:
        with (
            SidecarClient(server.target) as client,
            client.inference(**LABELS, input=INPUT) as inference,
        ):
            assert inference.model_input == (
                "Hello, my name is <PERSON_1> and my email is <EMAIL_ADDRESS_1>."
            )
            return inference, inference.end("Hi <PERSON_1>, I mailed <EMAIL_ADDRESS_1>.")

    inference, result = await asyncio.to_thread(run)
    assert isinstance(result, EndResult)
    assert result.user_output == f"Hi {NAME}, I mailed {EMAIL}."
    assert result.outcome == "ok"
    assert inference.ended
    assert await _status_of_end(server, inference.inference_id) == grpc.StatusCode.NOT_FOUND


async def test_sync_client_exception_in_block_aborts(server: Running) -> None:
    """An exception inside the block aborts the inference; the exception propagates."""
    seen: list[str] = []

    def run() -> None:
        with (
            SidecarClient(server.target) as client,
            client.inference(**LABELS, input=INPUT) as inference,
        ):
            seen.append(inference.inference_id)
            assert inference.inference_id in server.sidecar.contexts._contexts
            raise BlockLeftEarly

    with pytest.raises(BlockLeftEarly):
        await asyncio.to_thread(run)
    (inference_id,) = seen
    assert inference_id not in server.sidecar.contexts._contexts
    assert await _status_of_end(server, inference_id) == grpc.StatusCode.NOT_FOUND


async def test_sync_client_block_left_without_end_aborts(server: Running) -> None:
    """Leaving the block without end() aborts the inference as well."""

    def run() -> Inference:
        with (
            SidecarClient(server.target) as client,
            client.inference(**LABELS, input=INPUT) as inference,
        ):
            assert inference.inference_id in server.sidecar.contexts._contexts
        return inference

    inference = await asyncio.to_thread(run)
    assert inference.ended
    assert inference.inference_id not in server.sidecar.contexts._contexts
    assert await _status_of_end(server, inference.inference_id) == grpc.StatusCode.NOT_FOUND


async def test_sync_client_failed_end_in_block_still_aborts(server: Running) -> None:
    """An end() refused for its output leaves the block by exception and the block aborts."""
    seen: list[str] = []

    def run() -> None:
        with (
            SidecarClient(server.target) as client,
            client.inference(**LABELS, input=INPUT) as inference,
        ):
            seen.append(inference.inference_id)
            inference.end("x" * (1_048_576 + 1))

    with pytest.raises(InvalidRequest) as caught:
        await asyncio.to_thread(run)
    _assert_ours(caught.value, grpc.StatusCode.INVALID_ARGUMENT)
    assert "max_input_bytes" in caught.value.details
    assert await _status_of_end(server, seen[0]) == grpc.StatusCode.NOT_FOUND


async def test_sync_client_stream_yields_user_text(server: Running) -> None:
    """stream() yields screened text; a placeholder split over pieces is restored."""

    def run() -> tuple[Inference, list[str]]:
        with (
            SidecarClient(server.target) as client,
            client.inference(**LABELS, input=INPUT) as inference,
        ):
            pieces = ["hello there friend ", "Dear <PERS", "ON_1>, card 4111 11", "11 1111 1111."]
            return inference, list(inference.stream(pieces))

    inference, texts = await asyncio.to_thread(run)
    assert "".join(texts) == f"hello there friend Dear {NAME}, card ***************1111."
    assert all(texts)
    assert inference.ended
    assert inference.outcome == "ok"
    assert [e.type for e in inference.output_entities] == ["CREDIT_CARD"]
    assert await _status_of_end(server, inference.inference_id) == grpc.StatusCode.NOT_FOUND


async def test_sync_client_errors_are_typed(server: Running, one_slot: Running) -> None:
    """Failed calls raise InvalidRequest / InferenceNotFound / CapacityExhausted, not RpcError."""

    def run() -> list[SidecarClientError]:
        errors: list[SidecarClientError] = []
        with SidecarClient(server.target) as client:
            try:
                client.redact(INPUT, policy="no-such-policy")
            except SidecarClientError as err:
                errors.append(err)
            try:
                client.begin(model="m1", tenant="has spaces", purpose="chat", input=INPUT)
            except SidecarClientError as err:
                errors.append(err)
            inference = client.begin(**LABELS, input=INPUT)
            inference.end("bye")
            try:
                inference.end("again")
            except SidecarClientError as err:
                errors.append(err)
        with SidecarClient(one_slot.target) as client:
            held = client.begin(**LABELS, input=INPUT)
            try:
                client.begin(**LABELS, input=INPUT)
            except SidecarClientError as err:
                errors.append(err)
            held.abort()
        return errors

    errors = await asyncio.to_thread(run)
    assert [type(err) for err in errors] == [
        InvalidRequest,
        InvalidRequest,
        InferenceNotFound,
        CapacityExhausted,
    ]
    codes = [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ]
    for err, code in zip(errors, codes, strict=True):
        _assert_ours(err, code)
    assert errors[1].details.startswith("tenant: ")
    assert "max_contexts" in errors[3].details


async def test_sync_client_stream_unknown_inference_is_not_found(server: Running) -> None:
    """A stream for an ended inference raises InferenceNotFound."""

    def run() -> tuple[Inference, SidecarClientError]:
        with SidecarClient(server.target) as client:
            inference = client.begin(**LABELS, input=INPUT)
            inference.end("bye")
            with pytest.raises(InferenceNotFound) as caught:
                list(inference.stream(["hello"]))
            return inference, caught.value

    inference, err = await asyncio.to_thread(run)
    _assert_ours(err, grpc.StatusCode.NOT_FOUND)
    assert inference.ended


async def test_sync_client_screening_unavailable_under_reject(raising: Running) -> None:
    """A detector failure under a reject policy raises ScreeningUnavailable."""

    def run() -> SidecarClientError:
        with SidecarClient(raising.target) as client, pytest.raises(ScreeningUnavailable) as c:
            client.redact(INPUT, policy="strict")
        return c.value

    err = await asyncio.to_thread(run)
    _assert_ours(err, grpc.StatusCode.UNAVAILABLE)
    assert "on_detector_failure=reject" in err.details


async def test_sync_client_unreachable_sidecar_is_screening_unavailable() -> None:
    """A sidecar that is not listening raises ScreeningUnavailable, not grpc.RpcError."""
    target = f"127.0.0.1:{_closed_port()}"

    def run() -> SidecarClientError:
        with SidecarClient(target, timeout=2.0) as client, pytest.raises(SidecarClientError) as c:
            client.redact(INPUT)
        return c.value

    err = await asyncio.to_thread(run)
    assert isinstance(err, ScreeningUnavailable)
    _assert_ours(err, grpc.StatusCode.UNAVAILABLE)


# -- asyncio client ------------------------------------------------------------------------


async def test_async_client_redact_returns_typed_result(server: Running) -> None:
    """AsyncSidecarClient.redact returns a RedactResult whose entities index the input."""
    async with AsyncSidecarClient(server.target) as client:
        result = await client.redact(INPUT)
    assert result.redacted_text == "Hello, my name is <PERSON_1> and my email is <EMAIL_ADDRESS_1>."
    assert {INPUT[e.start : e.end] for e in result.entities} == {NAME, EMAIL}
    assert result.outcome == "ok"


async def test_async_client_inference_block_ends_and_restores(server: Running) -> None:
    """`async with client.inference(...)`: end() restores and ends the inference."""
    async with (
        AsyncSidecarClient(server.target) as client,
        client.inference(**LABELS, input=INPUT) as inference,
    ):
        assert isinstance(inference, AsyncInference)
        result = await inference.end("Hi <PERSON_1>.")
    assert result.user_output == f"Hi {NAME}."
    assert inference.ended
    assert await _status_of_end(server, inference.inference_id) == grpc.StatusCode.NOT_FOUND


async def test_async_client_exception_in_block_aborts(server: Running) -> None:
    """An exception inside the async block aborts the inference; the exception propagates."""
    seen: list[str] = []

    async def leave_early() -> None:
        async with (
            AsyncSidecarClient(server.target) as client,
            client.inference(**LABELS, input=INPUT) as inference,
        ):
            seen.append(inference.inference_id)
            assert inference.inference_id in server.sidecar.contexts._contexts
            raise BlockLeftEarly

    with pytest.raises(BlockLeftEarly):
        await leave_early()
    assert seen[0] not in server.sidecar.contexts._contexts
    assert await _status_of_end(server, seen[0]) == grpc.StatusCode.NOT_FOUND


async def test_async_client_block_left_without_end_aborts(server: Running) -> None:
    """Leaving the async block without end() aborts the inference."""
    async with (
        AsyncSidecarClient(server.target) as client,
        client.inference(**LABELS, input=INPUT) as inference,
    ):
        assert inference.inference_id in server.sidecar.contexts._contexts
    assert inference.ended
    assert await _status_of_end(server, inference.inference_id) == grpc.StatusCode.NOT_FOUND


async def test_async_client_stream_yields_user_text(server: Running) -> None:
    """stream() over an async iterable yields screened text as it becomes safe."""

    async def pieces() -> AsyncIterator[str]:
        for piece in [
            "hello there friend ",
            "Dear <PERS",
            "ON_1>, mail ",
            "zq7.canary@ex",
            "ample.org.",
        ]:
            yield piece

    async with (
        AsyncSidecarClient(server.target) as client,
        client.inference(**LABELS, input=INPUT) as inference,
    ):
        texts = [text async for text in inference.stream(pieces())]
    shown = "".join(texts)
    assert shown == f"hello there friend Dear {NAME}, mail <EMAIL_ADDRESS_2>."
    assert "zq7" not in shown
    assert inference.ended
    assert inference.outcome == "ok"


async def test_async_client_errors_are_typed(
    server: Running, one_slot: Running, raising: Running
) -> None:
    """The asyncio client raises the same typed errors, never grpc.RpcError."""
    async with AsyncSidecarClient(server.target) as client:
        with pytest.raises(InvalidRequest) as invalid:
            await client.begin(**LABELS, input=INPUT, ttl_ms=-1)
        _assert_ours(invalid.value, grpc.StatusCode.INVALID_ARGUMENT)
        assert invalid.value.details.startswith("ttl_ms: ")
        inference = await client.begin(**LABELS, input=INPUT)
        await inference.abort()
        with pytest.raises(InferenceNotFound) as missing:
            await inference.end("x")
        _assert_ours(missing.value, grpc.StatusCode.NOT_FOUND)
        with pytest.raises(InferenceNotFound) as missing_stream:
            async for _ in inference.stream(["x"]):
                pass
        _assert_ours(missing_stream.value, grpc.StatusCode.NOT_FOUND)
    async with AsyncSidecarClient(one_slot.target) as client:
        held = await client.begin(**LABELS, input=INPUT)
        with pytest.raises(CapacityExhausted) as full:
            await client.begin(**LABELS, input=INPUT)
        _assert_ours(full.value, grpc.StatusCode.RESOURCE_EXHAUSTED)
        await held.abort()
        await (await client.begin(**LABELS, input=INPUT)).abort()
    async with AsyncSidecarClient(raising.target) as client:
        with pytest.raises(ScreeningUnavailable) as unavailable:
            await client.redact(INPUT, policy="strict")
        _assert_ours(unavailable.value, grpc.StatusCode.UNAVAILABLE)


async def test_async_client_abort_after_end_is_a_no_op(server: Running) -> None:
    """abort() on an ended inference sends nothing and raises nothing."""
    async with AsyncSidecarClient(server.target) as client:
        inference = await client.begin(**LABELS, input=INPUT)
        await inference.end("bye")
        await inference.abort()
        await inference.abort()
    assert inference.ended
