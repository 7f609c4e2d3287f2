"""StreamOutput, token by token: no part of a value leaves early, idle streams expire."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import grpc
import pytest

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import Running, SidecarFactory, minimal_policies

# Each output carries one value whose first word is an ordinary-looking lower-case or
# short word, the shapes a naive "release complete words" rule lets out early.
TOKENISED = [
    ("Please pay into IBAN gb82 west 1234 5698 7654 32 by Friday.", ("gb82", "west 1234")),
    ("Send it to 4111 1111 1111 1111 today.", ("4111",)),
    ("Call me on +1 202 555 0147 after lunch.", ("202 555", "0147")),
    ("Write to zq7.canary@example.org soon.", ("zq7.canary",)),
]


async def _begin(stub: pb_grpc.PrivacySidecarStub, **extra: object) -> str:
    begun = await stub.BeginInference(
        pb.BeginInferenceRequest(
            model="m1", tenant="acme", purpose="chat", input="Hello there.", **extra
        )
    )
    return str(begun.inference_id)


def _words(text: str) -> list[str]:
    """Split like a token stream: each word with the space before it."""
    return [*re.findall(r"\s*\S+", text), ""]


@pytest.mark.parametrize(("output", "fragments"), TOKENISED)
async def test_stream_word_by_word_never_releases_a_value_fragment(
    stub: pb_grpc.PrivacySidecarStub, output: str, fragments: tuple[str, ...]
) -> None:
    """Streamed one word per chunk, a value is never shown in part or in whole."""
    inference_id = await _begin(stub)

    async def chunks() -> AsyncIterator[pb.OutputChunk]:
        yield pb.OutputChunk(inference_id=inference_id)
        for word in _words(output):
            yield pb.OutputChunk(text=word)
        yield pb.OutputChunk(last=True)

    replies = [reply async for reply in stub.StreamOutput(chunks())]
    shown = "".join(reply.text for reply in replies)
    assert replies[-1].last
    for fragment in fragments:
        assert fragment not in shown, shown
    assert shown.startswith(output.split()[0])  # ordinary words around it are released


@pytest.fixture(scope="module")
async def short_lived(sidecar_factory: SidecarFactory) -> Running:
    running: Running = await sidecar_factory(
        minimal_policies(inference="ttl_seconds: 0.4\n      max_ttl_seconds: 10")
    )
    return running


async def test_stream_idle_past_ttl_expires_and_wipes(short_lived: Running) -> None:
    """A stream left open with a held-back value ends NOT_FOUND when the TTL runs out."""
    inference_id = await _begin(short_lived.stub)
    never = asyncio.Event()

    async def chunks() -> AsyncIterator[pb.OutputChunk]:
        yield pb.OutputChunk(inference_id=inference_id, text="Call Jane Doe at +1 202 ")
        await never.wait()  # the caller goes quiet, holding the stream open

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in short_lived.stub.StreamOutput(chunks(), timeout=10):
            pass
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "expired" in (caught.value.details() or "")
    assert len(short_lived.sidecar.contexts) == 0
    assert short_lived.sidecar.contexts.reserved_bytes == 0


async def test_begin_ttl_counts_from_the_reply(short_lived: Running) -> None:
    """A TTL shorter than screening still yields a context; it expires after the reply."""
    begun = await short_lived.stub.BeginInference(
        pb.BeginInferenceRequest(
            model="m1", tenant="acme", purpose="chat", input="I am Jane Doe. " * 200, ttl_ms=1
        )
    )
    assert begun.inference_id
    await asyncio.sleep(0.1)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await short_lived.stub.EndInference(
            pb.EndInferenceRequest(inference_id=begun.inference_id, output="ok")
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("tenant", ["jane.doe@example.com", "+12025550147"])
async def test_begin_label_that_looks_personal_is_rejected(
    stub: pb_grpc.PrivacySidecarStub, tenant: str
) -> None:
    """Labels are logged, so e-mail and phone shapes are refused without being quoted."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.BeginInference(
            pb.BeginInferenceRequest(model="m1", tenant=tenant, purpose="chat", input="hi")
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert details.startswith("tenant:")
    assert tenant not in details


async def test_request_id_is_generated_not_taken_from_the_caller(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A caller's x-request-id never reaches error details (it could carry anything)."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EndInference(
            pb.EndInferenceRequest(inference_id="no-such-inference"),
            metadata=(("x-request-id", "078-05-1120"),),
        )
    details = caught.value.details() or ""
    assert "078-05-1120" not in details
    assert re.search(r"\[request [0-9a-f]{16}\]$", details), details


async def test_abort_stops_a_running_stream(stub: pb_grpc.PrivacySidecarStub) -> None:
    """AbortInference wipes an inference whose output is being streamed; the stream then
    ends NOT_FOUND instead of releasing anything more."""
    inference_id = await _begin(stub)
    queue: asyncio.Queue[pb.OutputChunk | None] = asyncio.Queue()
    await queue.put(pb.OutputChunk(inference_id=inference_id, text="hello there friend "))

    async def chunks() -> AsyncIterator[pb.OutputChunk]:
        while (chunk := await queue.get()) is not None:
            yield chunk

    call = stub.StreamOutput(chunks(), timeout=10)
    first = await call.read()
    assert isinstance(first, pb.OutputChunk)
    assert first.text == "hello there friend "
    await stub.AbortInference(pb.AbortInferenceRequest(inference_id=inference_id))
    await queue.put(pb.OutputChunk(text="Call +1 202 555 0147 now"))
    await queue.put(None)
    released: list[str] = []

    async def rest() -> None:
        while (reply := await call.read()) is not grpc.aio.EOF:
            assert isinstance(reply, pb.OutputChunk)
            released.append(reply.text)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rest()
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert not any("555" in text for text in released)
