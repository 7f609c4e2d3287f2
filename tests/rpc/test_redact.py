"""Redact: stateless screening of one text on the shared server (shipped policies.yaml)."""

from __future__ import annotations

import re

import grpc
import pytest

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import Running, SidecarFactory, minimal_policies

NAME = "Maria Garcia"
EMAIL = "maria.garcia@example.com"
CARD = "4111 1111 1111 1111"
TEXT = f"Please ask {NAME} to write to {EMAIL} about card {CARD}."


def _by_type(reply: pb.RedactResponse) -> dict[str, pb.Entity]:
    return {e.type: e for e in reply.entities}


async def test_redact_removes_values_from_redacted_text(stub: pb_grpc.PrivacySidecarStub) -> None:
    """None of the detected values survives in redacted_text; the plain words do."""
    reply = await stub.Redact(pb.RedactRequest(text=TEXT))
    for value in (NAME, EMAIL, CARD, "Maria", "Garcia", "maria.garcia"):
        assert value not in reply.redacted_text
    assert reply.redacted_text.startswith("Please ask ")
    assert reply.outcome == "ok"


async def test_redact_entities_index_the_original_text(stub: pb_grpc.PrivacySidecarStub) -> None:
    """Every entity has the right type and its offsets cut exactly the value from the input."""
    reply = await stub.Redact(pb.RedactRequest(text=TEXT))
    entities = _by_type(reply)
    assert {"PERSON", "EMAIL_ADDRESS", "CREDIT_CARD"} <= set(entities)
    assert TEXT[entities["PERSON"].start : entities["PERSON"].end] == NAME
    assert TEXT[entities["EMAIL_ADDRESS"].start : entities["EMAIL_ADDRESS"].end] == EMAIL
    assert TEXT[entities["CREDIT_CARD"].start : entities["CREDIT_CARD"].end] == CARD
    for entity in reply.entities:
        assert 0 <= entity.start < entity.end <= len(TEXT)
        assert 0.0 < entity.score <= 1.0


async def test_redact_default_policy_applies_chat_actions(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """With no policy named, chat's actions apply: placeholders for names, a masked card."""
    reply = await stub.Redact(pb.RedactRequest(text=TEXT))
    entities = _by_type(reply)
    assert entities["PERSON"].action == "pseudonymize"
    assert entities["EMAIL_ADDRESS"].action == "pseudonymize"
    assert entities["CREDIT_CARD"].action == "mask"
    assert reply.redacted_text == (
        "Please ask <PERSON_1> to write to <EMAIL_ADDRESS_1> about card "
        f"{'*' * (len(CARD) - 4)}1111."
    )


async def test_redact_policy_version_names_version_policy_and_digest(
    stub: pb_grpc.PrivacySidecarStub, server: Running
) -> None:
    """policy_version is `<version>/<policy>/sha256:<digest prefix>` of the loaded file."""
    digest = server.sidecar.policies.digest
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    default = await stub.Redact(pb.RedactRequest(text=TEXT))
    strict = await stub.Redact(pb.RedactRequest(text=TEXT, policy="strict"))
    version = server.sidecar.policies.version
    assert default.policy_version == f"{version}/chat/sha256:{digest[:16]}"
    assert strict.policy_version == f"{version}/strict/sha256:{digest[:16]}"
    assert re.fullmatch(r"[^/]+/chat/sha256:[0-9a-f]{16}", default.policy_version)


async def test_redact_decision_id_is_fresh_per_call(stub: pb_grpc.PrivacySidecarStub) -> None:
    """The same text screened twice gets two different, non-empty decision ids."""
    replies = [await stub.Redact(pb.RedactRequest(text=TEXT)) for _ in range(5)]
    ids = [reply.decision_id for reply in replies]
    assert all(ids)
    assert len(set(ids)) == len(ids)


async def test_redact_strict_policy_applies_its_actions(stub: pb_grpc.PrivacySidecarStub) -> None:
    """Named policy strict replaces names, e-mails and cards with `<TYPE>` tokens."""
    reply = await stub.Redact(pb.RedactRequest(text=TEXT, policy="strict"))
    entities = _by_type(reply)
    assert {e.action for e in reply.entities} == {"replace"}
    assert TEXT[entities["PERSON"].start : entities["PERSON"].end] == NAME
    assert reply.redacted_text == (
        "Please ask <PERSON> to write to <EMAIL_ADDRESS> about card <CREDIT_CARD>."
    )
    assert reply.outcome == "ok"


async def test_redact_strict_policy_redacts_unlisted_types(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """strict's default action (replace) turns an employee badge id into its type name."""
    text = "The staff badge is EMP-123456 for this employee."
    reply = await stub.Redact(pb.RedactRequest(text=text, policy="strict"))
    (badge,) = [e for e in reply.entities if e.type == "EMPLOYEE_ID"]
    assert text[badge.start : badge.end] == "EMP-123456"
    assert badge.action == "replace"
    assert reply.redacted_text == "The staff badge is <EMPLOYEE_ID> for this employee."


async def test_redact_unknown_policy_is_invalid_argument_without_the_name(
    stub: pb_grpc.PrivacySidecarStub,
) -> None:
    """An unknown policy name is INVALID_ARGUMENT; the details name the field, not the value."""
    sent = "zq7-secret-policy-name"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Redact(pb.RedactRequest(text=TEXT, policy=sent))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert "policy" in details
    assert sent not in details
    assert NAME not in details


async def test_redact_empty_text_is_ok(stub: pb_grpc.PrivacySidecarStub) -> None:
    """An empty text screens to an empty text with no entities and outcome ok."""
    reply = await stub.Redact(pb.RedactRequest(text=""))
    assert reply.redacted_text == ""
    assert list(reply.entities) == []
    assert reply.outcome == "ok"
    assert reply.decision_id


async def test_redact_text_without_pii_is_unchanged(stub: pb_grpc.PrivacySidecarStub) -> None:
    """A text with nothing to find comes back exactly as sent."""
    text = "the quick brown fox jumps over the lazy dog"
    reply = await stub.Redact(pb.RedactRequest(text=text))
    assert reply.redacted_text == text
    assert list(reply.entities) == []


async def test_redact_offsets_count_code_points(stub: pb_grpc.PrivacySidecarStub) -> None:
    """Offsets count code points: emoji before a value and a zero-width space inside it."""
    email = "j\u200bohn.smith@example.com"
    text = f"\U0001f44b\U0001f3fd Hi, I'm John Smith, mail {email} now"
    reply = await stub.Redact(pb.RedactRequest(text=text))
    found = {e.type: text[e.start : e.end] for e in reply.entities}
    assert found == {"PERSON": "John Smith", "EMAIL_ADDRESS": email}
    assert reply.redacted_text == (
        "\U0001f44b\U0001f3fd Hi, I'm <PERSON_1>, mail <EMAIL_ADDRESS_1> now"
    )


async def test_redact_oversized_text_is_invalid_argument(sidecar_factory: SidecarFactory) -> None:
    """A text over max_input_bytes is INVALID_ARGUMENT naming the field and the limit."""
    running = await sidecar_factory(
        minimal_policies(inference="ttl_seconds: 60\n      max_input_bytes: 64")
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.stub.Redact(pb.RedactRequest(text="x" * 50 + " " + EMAIL))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert details.startswith("text: ")
    assert "max_input_bytes = 64" in details
    assert EMAIL not in details
