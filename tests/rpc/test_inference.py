"""BeginInference / EndInference / AbortInference: placeholders, restoring, status codes."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import Running, SidecarFactory, minimal_policies

NAME = "John Smith"
EMAIL = "john.smith@example.com"
INPUT = f"Hello, my name is {NAME} and my email is {EMAIL}."


def _begin(
    text: str = INPUT, *, policy: str | None = None, **fields: object
) -> pb.BeginInferenceRequest:
    request = pb.BeginInferenceRequest(model="m1", tenant="acme", purpose="chat", input=text)
    if policy is not None:
        request.policy = policy
    for key, value in fields.items():
        setattr(request, key, value)
    return request


async def _rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc] - an awaitable unary call
    return caught.value


async def _end(
    stub: pb_grpc.PrivacySidecarStub, inference_id: str, output: str
) -> pb.EndInferenceResponse:
    return await stub.EndInference(pb.EndInferenceRequest(inference_id=inference_id, output=output))


# -- BeginInference ----------------------------------------------------------------------


async def test_begin_inference_replaces_values_with_numbered_placeholders(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """model_input carries `<PERSON_1>` and `<EMAIL_ADDRESS_1>` instead of the values."""
    begun = await stub.BeginInference(_begin())
    assert begun.model_input == "Hello, my name is <PERSON_1> and my email is <EMAIL_ADDRESS_1>."
    assert begun.inference_id
    assert begun.outcome == "ok"
    assert "/chat/sha256:" in begun.policy_version
    found = {e.type: INPUT[e.start : e.end] for e in begun.entities}
    assert found == {"PERSON": NAME, "EMAIL_ADDRESS": EMAIL}
    await stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))


async def test_begin_inference_same_value_twice_gets_same_placeholder(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A value repeated in the input maps to one placeholder; a second value gets `_2`."""
    text = (
        f"Write to {EMAIL} or, if that fails, to {EMAIL} again; "
        "copy mary.jones@example.com as well."
    )
    begun = await stub.BeginInference(_begin(text))
    assert begun.model_input == (
        "Write to <EMAIL_ADDRESS_1> or, if that fails, to <EMAIL_ADDRESS_1> again; "
        "copy <EMAIL_ADDRESS_2> as well."
    )
    await stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))


async def test_begin_inference_ids_are_distinct(stub: pb_grpc.PrivacySidecarStub) -> None:
    """Each BeginInference opens a new context under a new id."""
    ids = [(await stub.BeginInference(_begin())).inference_id for _ in range(5)]
    assert len(set(ids)) == 5
    for inference_id in ids:
        await stub.AbortInference(pb.AbortInferenceRequest(inference_id=inference_id))


# -- EndInference ------------------------------------------------------------------------


async def test_end_inference_restores_placeholders_under_chat(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """Policy chat puts the original values back where the model wrote placeholders."""
    begun = await stub.BeginInference(_begin())
    ended = await _end(
        stub, begun.inference_id, "Nice to meet you, <PERSON_1>! I will mail <EMAIL_ADDRESS_1>."
    )
    assert ended.user_output == f"Nice to meet you, {NAME}! I will mail {EMAIL}."
    assert ended.outcome == "ok"
    assert "/chat/sha256:" in ended.policy_version


async def test_end_inference_strict_policy_does_not_restore(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """Policy strict keeps the model's tokens: no original value reaches user_output."""
    begun = await stub.BeginInference(_begin(policy="strict"))
    assert begun.model_input == "Hello, my name is <PERSON> and my email is <EMAIL_ADDRESS>."
    ended = await _end(stub, begun.inference_id, "Nice to meet you, <PERSON>!")
    assert NAME not in ended.user_output
    assert ended.user_output == "Nice to meet you, <PERSON>!"
    assert "/strict/sha256:" in ended.policy_version


async def test_end_inference_new_output_pii_gets_the_policy_action(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """PII the model made up (not in the input) is acted on, not shown; offsets index output."""
    begun = await stub.BeginInference(_begin())
    output = "Please contact Maria Garcia at maria.garcia@example.org or card 4111 1111 1111 1111."
    ended = await _end(stub, begun.inference_id, output)
    for value in ("Maria Garcia", "maria.garcia@example.org", "4111 1111 1111 1111"):
        assert value not in ended.user_output
    found = {e.type: output[e.start : e.end] for e in ended.entities}
    assert found["PERSON"] == "Maria Garcia"
    assert found["EMAIL_ADDRESS"] == "maria.garcia@example.org"
    assert found["CREDIT_CARD"] == "4111 1111 1111 1111"
    # New values get placeholders of their own, numbered after the input's.
    assert "<PERSON_2>" in ended.user_output
    assert "<EMAIL_ADDRESS_2>" in ended.user_output
    assert "1111." in ended.user_output


async def test_end_inference_new_output_value_repeated_is_never_shown(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A value the model made up is hidden at every occurrence, not only at the first."""
    begun = await stub.BeginInference(_begin())
    output = (
        "Thanks Maria Garcia for the help. Bye Maria Garcia, see you. "
        "Mail zq7.canary@example.org, or else zq7.canary@example.org again."
    )
    ended = await _end(stub, begun.inference_id, output)
    assert "Maria Garcia" not in ended.user_output
    assert "zq7.canary@example.org" not in ended.user_output
    found = [(e.type, output[e.start : e.end]) for e in ended.entities]
    assert found.count(("PERSON", "Maria Garcia")) == 2
    assert found.count(("EMAIL_ADDRESS", "zq7.canary@example.org")) == 2
    assert ended.user_output == (
        "Thanks <PERSON_2> for the help. Bye <PERSON_2>, see you. "
        "Mail <EMAIL_ADDRESS_2>, or else <EMAIL_ADDRESS_2> again."
    )


async def test_end_inference_user_own_value_in_output_is_kept_under_chat(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A value the user sent, echoed raw by the model, is the user's own and is shown."""
    begun = await stub.BeginInference(_begin())
    output = f"I have noted it, {NAME}."
    ended = await _end(stub, begun.inference_id, output)
    assert ended.user_output == output
    (person,) = [e for e in ended.entities if e.type == "PERSON"]
    assert output[person.start : person.end] == NAME


async def test_end_inference_twice_is_not_found(stub: pb_grpc.PrivacySidecarStub) -> None:
    """After EndInference the context is gone: the same id again is NOT_FOUND."""
    begun = await stub.BeginInference(_begin())
    await _end(stub, begun.inference_id, "ok <PERSON_1>")
    err = await _rpc_error(_end(stub, begun.inference_id, "again <PERSON_1>"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "inference_id" in (err.details() or "")


async def test_abort_inference_wipes_the_context(stub: pb_grpc.PrivacySidecarStub) -> None:
    """AbortInference ends the context without an output; a later End is NOT_FOUND."""
    begun = await stub.BeginInference(_begin())
    reply = await stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))
    assert reply == pb.AbortInferenceResponse()
    err = await _rpc_error(_end(stub, begun.inference_id, "<PERSON_1>"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await _rpc_error(
        stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_end_inference_concurrent_ends_let_exactly_one_succeed(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """Two EndInference calls racing on one id: one wins, the other is refused, none remain."""
    for _ in range(10):
        begun = await stub.BeginInference(_begin())
        output = "Thanks <PERSON_1>, I wrote to <EMAIL_ADDRESS_1> and to Maria Garcia today."
        results = await asyncio.gather(
            _end(stub, begun.inference_id, output),
            _end(stub, begun.inference_id, output),
            return_exceptions=True,
        )
        wins = [r for r in results if isinstance(r, pb.EndInferenceResponse)]
        losses = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
        assert len(wins) == 1, results
        assert len(losses) == 1, results
        assert losses[0].code() in (
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.NOT_FOUND,
        )
        assert NAME in wins[0].user_output
        err = await _rpc_error(_end(stub, begun.inference_id, output))
        assert err.code() == grpc.StatusCode.NOT_FOUND


# -- status codes ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["tenant", "model", "purpose"])
async def test_begin_inference_missing_label_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub, field: str
) -> None:
    """A missing tenant, model or purpose is INVALID_ARGUMENT naming that field."""
    request = _begin()
    request.ClearField(field)  # type: ignore[arg-type] - one of the three label fields
    err = await _rpc_error(stub.BeginInference(request))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.details() or "").startswith(f"{field}: ")
    assert NAME not in (err.details() or "")


async def test_begin_inference_tenant_with_spaces_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A tenant label with spaces is INVALID_ARGUMENT naming tenant, without echoing it."""
    err = await _rpc_error(stub.BeginInference(_begin(tenant="acme corp zq7")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.details() or ""
    assert details.startswith("tenant: ")
    assert "acme corp zq7" not in details


async def test_begin_inference_ttl_above_max_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """ttl_ms above the policy's max_ttl_seconds (3600 s for chat) is INVALID_ARGUMENT."""
    err = await _rpc_error(stub.BeginInference(_begin(ttl_ms=3_600_001)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.details() or ""
    assert details.startswith("ttl_ms: ")
    assert "max_ttl_seconds" in details
    assert "3600" in details


async def test_begin_inference_ttl_at_max_is_accepted(stub: pb_grpc.PrivacySidecarStub) -> None:
    """ttl_ms exactly at the maximum is allowed and sets expires_at accordingly."""
    begun = await stub.BeginInference(_begin(ttl_ms=3_600_000))
    default = await stub.BeginInference(_begin())
    assert begun.expires_at_unix_ms - default.expires_at_unix_ms > 3_000_000
    for inference_id in (begun.inference_id, default.inference_id):
        await stub.AbortInference(pb.AbortInferenceRequest(inference_id=inference_id))


async def test_begin_inference_negative_ttl_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """A negative ttl_ms is INVALID_ARGUMENT naming ttl_ms."""
    err = await _rpc_error(stub.BeginInference(_begin(ttl_ms=-1)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.details() or "").startswith("ttl_ms: ")


async def test_end_inference_empty_id_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """EndInference and AbortInference without an inference id are INVALID_ARGUMENT."""
    err = await _rpc_error(_end(stub, "", "hello"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.details() or "").startswith("inference_id: ")
    err = await _rpc_error(stub.AbortInference(pb.AbortInferenceRequest()))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_end_inference_unknown_id_is_not_found(stub: pb_grpc.PrivacySidecarStub) -> None:
    """An id the sidecar never issued is NOT_FOUND, for End and Abort alike."""
    err = await _rpc_error(_end(stub, "0" * 32, "hello"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await _rpc_error(stub.AbortInference(pb.AbortInferenceRequest(inference_id="0" * 32)))
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_begin_inference_unknown_policy_is_invalid_argument(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """An unknown policy name is INVALID_ARGUMENT naming the field, not the value sent."""
    err = await _rpc_error(stub.BeginInference(_begin(policy="zq7-no-such-policy")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.details() or ""
    assert details.startswith("policy: ")
    assert "zq7-no-such-policy" not in details


# -- size limits (a dedicated server with a 64-byte max_input_bytes) ---------------------


@pytest.fixture(scope="module")
async def small(sidecar_factory: SidecarFactory) -> Running:
    """A server whose only policy allows 64 bytes per text."""
    running: Running = await sidecar_factory(
        minimal_policies(inference="ttl_seconds: 60\n      max_input_bytes: 64")
    )
    return running


async def test_begin_inference_oversized_input_names_the_limit(
    small: Running,
) -> None:
    """An input over max_input_bytes is INVALID_ARGUMENT naming max_input_bytes and 64."""
    running = small
    text = "x" * 60 + " zq7.canary@example.org"
    err = await _rpc_error(running.stub.BeginInference(_begin(text)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.details() or ""
    assert details.startswith("input: ")
    assert "max_input_bytes" in details
    assert "= 64" in details
    assert "zq7.canary" not in details
    assert len(running.sidecar.contexts) == 0
    assert running.sidecar.contexts.reserved_bytes == 0


async def test_begin_inference_input_at_limit_is_accepted(
    small: Running,
) -> None:
    """An input of exactly max_input_bytes (counted in UTF-8 bytes) is accepted."""
    running = small
    begun = await running.stub.BeginInference(_begin("é" * 32))  # 64 bytes
    assert begun.inference_id
    err = await _rpc_error(running.stub.BeginInference(_begin("é" * 32 + "!")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_end_inference_oversized_output_keeps_the_context(
    small: Running,
) -> None:
    """An output over max_input_bytes is INVALID_ARGUMENT; a retry with a small one works."""
    running = small
    begun = await running.stub.BeginInference(_begin("I am John Smith."))
    assert begun.model_input == "I am <PERSON_1>."
    err = await _rpc_error(_end(running.stub, begun.inference_id, "<PERSON_1> " + "y" * 100))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.details() or ""
    assert details.startswith("output: ")
    assert "max_input_bytes = 64" in details
    ended = await _end(running.stub, begun.inference_id, "Hi <PERSON_1>.")
    assert ended.user_output == "Hi John Smith."
    err = await _rpc_error(_end(running.stub, begun.inference_id, "Hi <PERSON_1>."))
    assert err.code() == grpc.StatusCode.NOT_FOUND
