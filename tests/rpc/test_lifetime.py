"""Context lifetime over gRPC: TTL expiry, capacity limits, byte accounting, wipe on stop.

Each test starts its own server (sidecar_factory) so the store it inspects holds only
its own contexts; the reaper runs every 0.05 s.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from sidecar.contexts import InferenceContext
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import Running, SidecarFactory, minimal_policies

INPUT = "Hello, my name is John Smith and my email is john.smith@example.com."
INPUT_BYTES = len(INPUT.encode("utf-8"))


def _begin(text: str = INPUT, **fields: object) -> pb.BeginInferenceRequest:
    request = pb.BeginInferenceRequest(model="m1", tenant="acme", purpose="chat", input=text)
    for key, value in fields.items():
        setattr(request, key, value)
    return request


async def _rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc] - an awaitable unary call
    return caught.value


async def _end(stub: pb_grpc.PrivacySidecarStub, inference_id: str, output: str = "ok") -> None:
    await stub.EndInference(pb.EndInferenceRequest(inference_id=inference_id, output=output))


async def _warm(running: Running) -> None:
    """Run detection once, so a short TTL is not spent on loading the spaCy pipeline."""
    await running.stub.Redact(pb.RedactRequest(text=INPUT))


def _live(running: Running) -> dict[str, InferenceContext]:
    return dict(running.sidecar.contexts._contexts)


# -- TTL -----------------------------------------------------------------------------------


async def test_context_expires_after_its_ttl(sidecar_factory: SidecarFactory) -> None:
    """A context begun with ttl_ms=200 is reaped and wiped; ending it later is NOT_FOUND."""
    running = await sidecar_factory(minimal_policies())
    await _warm(running)
    begun = await running.stub.BeginInference(_begin(ttl_ms=200))
    context = _live(running)[begun.inference_id]
    assert len(running.sidecar.contexts) == 1
    await asyncio.sleep(0.5)
    assert len(running.sidecar.contexts) == 0  # the reaper ran, nobody asked
    assert context.wiped
    assert context.expired
    assert context.input.reveal() == ""
    assert running.sidecar.contexts.reserved_bytes == 0
    err = await _rpc_error(
        running.stub.EndInference(
            pb.EndInferenceRequest(inference_id=begun.inference_id, output="<PERSON_1>")
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_context_expired_before_reaping_is_not_found(
    sidecar_factory: SidecarFactory,
) -> None:
    """With a slow reaper, EndInference itself notices the spent TTL and wipes the context."""
    running = await sidecar_factory(minimal_policies(), reaper_interval_seconds=3600)
    await _warm(running)
    begun = await running.stub.BeginInference(_begin(ttl_ms=100))
    context = _live(running)[begun.inference_id]
    await asyncio.sleep(0.3)
    assert len(running.sidecar.contexts) == 1  # not reaped yet
    err = await _rpc_error(
        running.stub.EndInference(
            pb.EndInferenceRequest(inference_id=begun.inference_id, output="hi")
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert len(running.sidecar.contexts) == 0
    assert context.wiped
    assert running.sidecar.contexts.reserved_bytes == 0


async def test_context_expires_at_matches_the_requested_ttl(
    sidecar_factory: SidecarFactory,
) -> None:
    """expires_at_unix_ms reflects ttl_ms when given and the policy's ttl_seconds otherwise."""
    running = await sidecar_factory(minimal_policies())
    before_ms = time.time() * 1000
    short = await running.stub.BeginInference(_begin(ttl_ms=5_000))
    default = await running.stub.BeginInference(_begin())
    after_ms = time.time() * 1000
    assert before_ms + 5_000 - 1 <= short.expires_at_unix_ms <= after_ms + 5_000 + 1
    # The policy default (ttl_seconds: 60).
    assert before_ms + 60_000 - 1 <= default.expires_at_unix_ms <= after_ms + 60_000 + 1


# -- capacity ------------------------------------------------------------------------------


async def test_capacity_max_contexts_refuses_the_extra_inference(
    sidecar_factory: SidecarFactory,
) -> None:
    """With max_contexts: 3 the 4th BeginInference is RESOURCE_EXHAUSTED naming the limit."""
    running = await sidecar_factory(
        minimal_policies(limits="max_contexts: 3\n  max_context_bytes: 67108864")
    )
    ids = [(await running.stub.BeginInference(_begin())).inference_id for _ in range(3)]
    err = await _rpc_error(running.stub.BeginInference(_begin()))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = err.details() or ""
    assert "max_contexts" in details
    assert "3" in details
    assert len(running.sidecar.contexts) == 3
    await _end(running.stub, ids[0])
    freed = await running.stub.BeginInference(_begin())
    assert freed.inference_id not in ids
    err = await _rpc_error(running.stub.BeginInference(_begin()))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    await running.stub.AbortInference(pb.AbortInferenceRequest(inference_id=ids[1]))
    await running.stub.BeginInference(_begin())


async def test_capacity_max_context_bytes_refuses_the_extra_inference(
    sidecar_factory: SidecarFactory,
) -> None:
    """Inputs that would hold more than max_context_bytes are RESOURCE_EXHAUSTED; ending frees."""
    limit = 2 * INPUT_BYTES + INPUT_BYTES // 2
    running = await sidecar_factory(
        minimal_policies(limits=f"max_contexts: 1000\n  max_context_bytes: {limit}")
    )
    first = await running.stub.BeginInference(_begin())
    await running.stub.BeginInference(_begin())
    assert running.sidecar.contexts.reserved_bytes == 2 * INPUT_BYTES
    err = await _rpc_error(running.stub.BeginInference(_begin()))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = err.details() or ""
    assert "max_context_bytes" in details
    assert str(limit) in details
    assert "John Smith" not in details
    assert running.sidecar.contexts.reserved_bytes == 2 * INPUT_BYTES
    await _end(running.stub, first.inference_id)
    await running.stub.BeginInference(_begin())
    assert running.sidecar.contexts.reserved_bytes == 2 * INPUT_BYTES


async def test_capacity_small_input_fits_beside_held_bytes(
    sidecar_factory: SidecarFactory,
) -> None:
    """The byte limit counts bytes, not contexts: a short input still fits when a long won't."""
    limit = 2 * INPUT_BYTES + 10
    running = await sidecar_factory(
        minimal_policies(limits=f"max_contexts: 1000\n  max_context_bytes: {limit}")
    )
    await running.stub.BeginInference(_begin())
    await running.stub.BeginInference(_begin())
    err = await _rpc_error(running.stub.BeginInference(_begin()))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    await running.stub.BeginInference(_begin("hello"))
    assert running.sidecar.contexts.reserved_bytes == 2 * INPUT_BYTES + 5


async def test_capacity_expired_contexts_do_not_hold_slots(
    sidecar_factory: SidecarFactory,
) -> None:
    """A context past its TTL is not live: it frees its slot even before the reaper runs."""
    running = await sidecar_factory(
        minimal_policies(limits="max_contexts: 1\n  max_context_bytes: 67108864"),
        reaper_interval_seconds=3600,
    )
    await _warm(running)
    await running.stub.BeginInference(_begin(ttl_ms=100))
    await asyncio.sleep(0.3)
    begun = await running.stub.BeginInference(_begin())
    assert begun.inference_id in running.sidecar.contexts._contexts


async def test_capacity_expired_contexts_do_not_hold_bytes(
    sidecar_factory: SidecarFactory,
) -> None:
    """Bytes of a context past its TTL count no more against max_context_bytes."""
    running = await sidecar_factory(
        minimal_policies(limits=f"max_contexts: 1000\n  max_context_bytes: {INPUT_BYTES}"),
        reaper_interval_seconds=3600,
    )
    await _warm(running)
    await running.stub.BeginInference(_begin(ttl_ms=100))
    await asyncio.sleep(0.3)
    await running.stub.BeginInference(_begin())
    assert running.sidecar.contexts.reserved_bytes == INPUT_BYTES


# -- byte accounting -----------------------------------------------------------------------


async def test_store_reserved_bytes_return_to_zero_after_end_abort_expiry(
    sidecar_factory: SidecarFactory,
) -> None:
    """Reserved bytes grow by each input's UTF-8 size and fall back to 0 however contexts go."""
    running = await sidecar_factory(minimal_policies())
    store = running.sidecar.contexts
    text = "Grüße, ich bin John Smith."
    size = len(text.encode("utf-8"))
    await _warm(running)
    ended = await running.stub.BeginInference(_begin(text))
    aborted = await running.stub.BeginInference(_begin(text))
    await running.stub.BeginInference(_begin(text, ttl_ms=150))
    assert store.reserved_bytes == 3 * size
    await _end(running.stub, ended.inference_id, "Hallo <PERSON_1>")
    assert store.reserved_bytes == 2 * size
    await running.stub.AbortInference(pb.AbortInferenceRequest(inference_id=aborted.inference_id))
    assert store.reserved_bytes == size
    await asyncio.sleep(0.4)
    assert store.reserved_bytes == 0
    assert len(store) == 0


async def test_store_reserved_bytes_return_to_zero_after_stream(
    sidecar_factory: SidecarFactory,
) -> None:
    """Bytes a stream adds while running are released with the context at stream end."""
    running = await sidecar_factory(minimal_policies())
    begun = await running.stub.BeginInference(_begin())

    async def chunks() -> object:
        yield pb.OutputChunk(inference_id=begun.inference_id, text="Hello <PERSON_1>, ")
        yield pb.OutputChunk(text="nice day.", last=True)

    replies = [reply async for reply in running.stub.StreamOutput(chunks())]
    assert replies[-1].last
    assert running.sidecar.contexts.reserved_bytes == 0
    assert len(running.sidecar.contexts) == 0


async def test_store_failed_begin_holds_no_bytes(sidecar_factory: SidecarFactory) -> None:
    """A BeginInference refused for a bad field reserves nothing and leaves no context."""
    running = await sidecar_factory(minimal_policies())
    with pytest.raises(grpc.aio.AioRpcError):
        await running.stub.BeginInference(_begin(ttl_ms=-5))
    with pytest.raises(grpc.aio.AioRpcError):
        await running.stub.BeginInference(_begin(tenant="has spaces"))
    assert running.sidecar.contexts.reserved_bytes == 0
    assert len(running.sidecar.contexts) == 0


# -- stop ----------------------------------------------------------------------------------


async def test_sidecar_stop_wipes_all_live_contexts(sidecar_factory: SidecarFactory) -> None:
    """Sidecar.stop() wipes every live context: inputs reveal "", placeholders are gone."""
    running = await sidecar_factory(minimal_policies())
    begun = [await running.stub.BeginInference(_begin()) for _ in range(3)]
    held = _live(running)
    assert set(held) == {b.inference_id for b in begun}
    assert all(c.input.reveal() == INPUT for c in held.values())
    await running.sidecar.stop(grace_seconds=0.5)
    assert len(running.sidecar.contexts) == 0
    assert running.sidecar.contexts.reserved_bytes == 0
    for context in held.values():
        assert context.wiped
        assert context.input.reveal() == ""
        assert len(context.placeholders) == 0
        assert context.placeholders.value_of("<PERSON_1>") is None
