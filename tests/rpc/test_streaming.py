"""StreamOutput: values split across chunks stay whole, safe text is released early."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import grpc
import pytest

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import Running, SidecarFactory, minimal_policies

INPUT = "Hello, my name is John Smith."
REPLY_TIMEOUT_SECONDS = 10.0


async def _begin(stub: pb_grpc.PrivacySidecarStub, text: str = INPUT) -> str:
    begun = await stub.BeginInference(
        pb.BeginInferenceRequest(model="m1", tenant="acme", purpose="chat", input=text)
    )
    return begun.inference_id


async def _chunks(items: Sequence[pb.OutputChunk]) -> AsyncIterator[pb.OutputChunk]:
    for item in items:
        yield item


async def _stream(
    stub: pb_grpc.PrivacySidecarStub, inference_id: str, pieces: Sequence[str]
) -> list[pb.OutputChunk]:
    """Stream `pieces` (the first names the inference, the last says last=True)."""
    items = [pb.OutputChunk(text=piece) for piece in pieces]
    items[0].inference_id = inference_id
    items[-1].last = True
    return [reply async for reply in stub.StreamOutput(_chunks(items))]


async def _stream_error(
    stub: pb_grpc.PrivacySidecarStub, items: Sequence[pb.OutputChunk]
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.StreamOutput(_chunks(items)):
            pass
    return caught.value


@dataclass(frozen=True)
class Split:
    """A model output with one value in it, and what the user must see for it."""

    name: str
    output: str
    value: str
    entity: str | None  # the entity type reported for the value; None for a placeholder
    user_text: str
    never_shown: tuple[str, ...]


CASES = (
    Split(
        "card",
        "Your card 4111 1111 1111 1111 is on file.",
        "4111 1111 1111 1111",
        "CREDIT_CARD",
        "Your card ***************1111 is on file.",
        ("4111 1111 1111 1111", "4111", "1111 1111"),
    ),
    Split(
        "email",
        "We will write to zq7.canary@example.org soon.",
        "zq7.canary@example.org",
        "EMAIL_ADDRESS",
        "We will write to <EMAIL_ADDRESS_1> soon.",
        ("zq7", "canary", "example.org"),
    ),
    Split(
        "phone",
        "Call me at +1 202 555 0147 please.",
        "+1 202 555 0147",
        "PHONE_NUMBER",
        "Call me at <PHONE_NUMBER_1> please.",
        ("+1 202 555 0147", "202", "555", "0147"),
    ),
    Split(
        "placeholder",
        "Dear <PERSON_1>, your order shipped.",
        "<PERSON_1>",
        None,
        "Dear John Smith, your order shipped.",
        ("<PERSON", "ON_1>", "<", ">"),
    ),
    Split(
        "person",
        "Thanks Maria Garcia for the help.",
        "Maria Garcia",
        "PERSON",
        "Thanks <PERSON_2> for the help.",
        ("Maria", "Garcia"),
    ),
)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_stream_output_value_split_at_every_position_stays_whole(
    stub: pb_grpc.PrivacySidecarStub, case: Split
) -> None:
    """A value cut into two chunks anywhere is screened as if it had arrived in one piece."""
    at = case.output.index(case.value)
    for cut in range(at, at + len(case.value) + 1):
        pieces = [case.output[:cut], case.output[cut:]]
        replies = await _stream(stub, await _begin(stub), pieces)
        where = f"{case.name} cut at {cut}: {pieces!r}"
        shown = "".join(reply.text for reply in replies)
        assert shown == case.user_text, where
        for secret in case.never_shown:
            assert secret not in shown, where
        assert replies[-1].last, where
        assert replies[-1].outcome == "ok", where
        assert not any(reply.last for reply in replies[:-1]), where
        entities = [e for reply in replies for e in reply.entities]
        if case.entity is None:
            assert entities == [], where
        else:
            (entity,) = [e for e in entities if e.type == case.entity]
            assert case.output[entity.start : entity.end] == case.value, where
        for entity in entities:
            assert 0 <= entity.start < entity.end <= len(case.output), where


async def test_stream_output_entities_index_the_whole_output(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """Entity offsets count from the start of the streamed output, across many chunks."""
    output = (
        "First, mail zq7.canary@example.org today. Then call +1 202 555 0147 please. "
        "Finally charge 4111 1111 1111 1111 and thank Maria Garcia for it."
    )
    pieces = [output[i : i + 7] for i in range(0, len(output), 7)]
    replies = await _stream(stub, await _begin(stub), pieces)
    found = {e.type: output[e.start : e.end] for reply in replies for e in reply.entities}
    assert found["EMAIL_ADDRESS"] == "zq7.canary@example.org"
    assert found["PHONE_NUMBER"] == "+1 202 555 0147"
    assert found["CREDIT_CARD"] == "4111 1111 1111 1111"
    assert found["PERSON"] == "Maria Garcia"
    shown = "".join(reply.text for reply in replies)
    for secret in ("zq7.canary@example.org", "555 0147", "4111 1111", "Maria Garcia"):
        assert secret not in shown


async def test_stream_output_new_output_value_repeated_later_is_never_shown(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A value the model made up stays hidden when it comes again in a later chunk."""
    replies = await _stream(
        stub,
        await _begin(stub),
        ["Thanks Maria Garcia for the help. ", "Bye Maria Garcia, see you."],
    )
    shown = "".join(reply.text for reply in replies)
    assert "Maria Garcia" not in shown
    assert shown == "Thanks <PERSON_2> for the help. Bye <PERSON_2>, see you."


async def test_stream_output_placeholder_of_an_output_value_is_not_restored(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """Only the input's placeholders are restored: one minted for a made-up value is not."""
    replies = await _stream(
        stub,
        await _begin(stub),
        ["Thanks Maria Garcia for the help. ", "Regards, <PERSON_2>. Hi <PERSON_1>."],
    )
    shown = "".join(reply.text for reply in replies)
    assert "Maria Garcia" not in shown
    assert shown == "Thanks <PERSON_2> for the help. Regards, <PERSON_2>. Hi John Smith."


async def test_stream_output_releases_safe_text_before_the_end(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """Words that cannot be part of a value are sent back while the stream is still open."""
    inference_id = await _begin(stub)
    queue: asyncio.Queue[pb.OutputChunk | None] = asyncio.Queue()

    async def requests() -> AsyncIterator[pb.OutputChunk]:
        while (item := await queue.get()) is not None:
            yield item

    call = stub.StreamOutput(requests())
    await queue.put(pb.OutputChunk(inference_id=inference_id, text="hello there friend "))
    await queue.put(pb.OutputChunk(text="your card is 4111 11"))
    first = await asyncio.wait_for(call.read(), REPLY_TIMEOUT_SECONDS)
    assert isinstance(first, pb.OutputChunk)
    assert first.text.startswith("hello there friend ")
    assert "4111" not in first.text
    assert not first.last
    await queue.put(pb.OutputChunk(text="11 1111 1111 on file."))
    await queue.put(pb.OutputChunk(last=True))
    await queue.put(None)
    rest = []
    while (reply := await asyncio.wait_for(call.read(), REPLY_TIMEOUT_SECONDS)) is not (
        grpc.aio.EOF
    ):
        assert isinstance(reply, pb.OutputChunk)
        rest.append(reply)
    shown = first.text + "".join(reply.text for reply in rest)
    assert shown == "hello there friend your card is ***************1111 on file."
    assert rest[-1].last
    assert rest[-1].outcome == "ok"
    assert await call.code() == grpc.StatusCode.OK


async def test_stream_output_first_reply_arrives_before_the_last_chunk(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A reply for the first safe words comes back before the caller has sent anything more."""
    inference_id = await _begin(stub)
    queue: asyncio.Queue[pb.OutputChunk | None] = asyncio.Queue()

    async def requests() -> AsyncIterator[pb.OutputChunk]:
        while (item := await queue.get()) is not None:
            yield item

    call = stub.StreamOutput(requests())
    await queue.put(pb.OutputChunk(inference_id=inference_id, text="hello there friend "))
    first = await asyncio.wait_for(call.read(), REPLY_TIMEOUT_SECONDS)
    assert isinstance(first, pb.OutputChunk)
    assert first.text == "hello there friend "
    await queue.put(pb.OutputChunk(text="bye.", last=True))
    await queue.put(None)
    replies = []
    while (reply := await asyncio.wait_for(call.read(), REPLY_TIMEOUT_SECONDS)) is not (
        grpc.aio.EOF
    ):
        assert isinstance(reply, pb.OutputChunk)
        replies.append(reply)
    assert "".join(r.text for r in replies) == "bye."
    assert replies[-1].last


async def test_stream_output_closing_without_last_flushes_and_ends(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """Half-closing the stream without last=True releases what was held and ends the stream."""
    inference_id = await _begin(stub)
    items = [
        pb.OutputChunk(inference_id=inference_id, text="Goodbye <PERSON_1>, see you at "),
        pb.OutputChunk(text="Maria Garcia"),
    ]
    replies = [reply async for reply in stub.StreamOutput(_chunks(items))]
    shown = "".join(reply.text for reply in replies)
    assert shown == "Goodbye John Smith, see you at <PERSON_2>"
    assert replies[-1].last
    assert replies[-1].outcome == "ok"


async def test_stream_output_chunk_naming_another_inference_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A later chunk naming a different inference is INVALID_ARGUMENT; the other one survives."""
    streamed, other = await _begin(stub), await _begin(stub)
    err = await _stream_error(
        stub,
        [
            pb.OutputChunk(inference_id=streamed, text="hello "),
            pb.OutputChunk(inference_id=other, text="there <PERSON_1>", last=True),
        ],
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.details() or ""
    assert details.startswith("inference_id: ")
    assert other not in details
    ended = await stub.EndInference(
        pb.EndInferenceRequest(inference_id=other, output="Bye <PERSON_1>.")
    )
    assert ended.user_output == "Bye John Smith."


async def test_stream_output_empty_stream_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A stream closed before any chunk is INVALID_ARGUMENT naming inference_id."""
    err = await _stream_error(stub, [])
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.details() or "").startswith("inference_id: ")


async def test_stream_output_first_chunk_without_id_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A first chunk that names no inference is INVALID_ARGUMENT."""
    err = await _stream_error(stub, [pb.OutputChunk(text="hello", last=True)])
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.details() or "").startswith("inference_id: ")


async def test_stream_output_unknown_inference_is_not_found(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A stream naming an id the sidecar never issued is NOT_FOUND."""
    err = await _stream_error(
        stub, [pb.OutputChunk(inference_id="f" * 32, text="hello", last=True)]
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_stream_output_ends_the_inference(stub: pb_grpc.PrivacySidecarStub) -> None:
    """After a stream has ended, EndInference and a second stream on the id are NOT_FOUND."""
    inference_id = await _begin(stub)
    replies = await _stream(stub, inference_id, ["Bye <PERSON_1>."])
    assert "".join(r.text for r in replies) == "Bye John Smith."
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EndInference(pb.EndInferenceRequest(inference_id=inference_id, output="x"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    err = await _stream_error(
        stub, [pb.OutputChunk(inference_id=inference_id, text="again", last=True)]
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_stream_output_failed_stream_ends_the_inference(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A stream that fails midway wipes its inference too: EndInference is NOT_FOUND."""
    inference_id, other = await _begin(stub), await _begin(stub)
    await _stream_error(
        stub,
        [
            pb.OutputChunk(inference_id=inference_id, text="hello "),
            pb.OutputChunk(inference_id=other, text="there", last=True),
        ],
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EndInference(pb.EndInferenceRequest(inference_id=inference_id, output="x"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    await stub.AbortInference(pb.AbortInferenceRequest(inference_id=other))


async def test_stream_output_completes_at_last_without_half_close(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """The call ends with OK at the last=True chunk although the caller keeps its side open."""
    inference_id = await _begin(stub)
    queue: asyncio.Queue[pb.OutputChunk | None] = asyncio.Queue()

    async def requests() -> AsyncIterator[pb.OutputChunk]:
        while (item := await queue.get()) is not None:
            yield item

    call = stub.StreamOutput(requests())
    await queue.put(pb.OutputChunk(inference_id=inference_id, text="Bye <PERSON_1>.", last=True))
    replies = []
    while (reply := await asyncio.wait_for(call.read(), REPLY_TIMEOUT_SECONDS)) is not (
        grpc.aio.EOF
    ):
        assert isinstance(reply, pb.OutputChunk)
        replies.append(reply)
    code = await asyncio.wait_for(call.code(), REPLY_TIMEOUT_SECONDS)
    await queue.put(None)  # the caller's side closes only now
    assert code == grpc.StatusCode.OK
    assert "".join(r.text for r in replies) == "Bye John Smith."
    assert replies[-1].last
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EndInference(pb.EndInferenceRequest(inference_id=inference_id, output="x"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.fixture(scope="module")
async def small(sidecar_factory: SidecarFactory) -> Running:
    """A server whose only policy allows 64 bytes per text, whole streams included."""
    running: Running = await sidecar_factory(
        minimal_policies(inference="ttl_seconds: 60\n      max_input_bytes: 64")
    )
    return running


async def test_stream_output_over_max_input_bytes_is_invalid_argument(small: Running) -> None:
    """A stream whose chunks together pass max_input_bytes is refused and its inference wiped."""
    inference_id = await _begin(small.stub, "hi")
    err = await _stream_error(
        small.stub,
        [
            pb.OutputChunk(inference_id=inference_id, text="a" * 30 + " "),
            pb.OutputChunk(text="b" * 30 + " "),
            pb.OutputChunk(text="c" * 30, last=True),
        ],
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.details() or ""
    assert details.startswith("text: ")
    assert "max_input_bytes = 64" in details
    assert "aaa" not in details
    assert len(small.sidecar.contexts) == 0
    assert small.sidecar.contexts.reserved_bytes == 0


async def test_stream_output_at_max_input_bytes_is_accepted(small: Running) -> None:
    """Chunks adding up to exactly max_input_bytes are screened and released."""
    inference_id = await _begin(small.stub, "hi")
    replies = await _stream(small.stub, inference_id, ["a" * 31 + " ", "b" * 31 + "."])
    assert "".join(r.text for r in replies) == "a" * 31 + " " + "b" * 31 + "."
    assert replies[-1].outcome == "ok"
