"""The Log RPC: application log lines screened, attributes allow-listed, retained sealed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest

from sidecar.client import InvalidRequest, SidecarClient
from sidecar.v1 import sidecar_pb2 as pb
from tests.conftest import Running

EMAIL = "zq7.logline@example.org"


def _body(running: Running, record_id: str) -> dict[str, Any]:
    (record,) = [r for r in running.records() if r.record_id == record_id]
    assert record.kind == "app"
    body: dict[str, Any] = json.loads(record.plaintext)
    return body


async def test_log_screens_message_and_allowed_attributes(server: Running) -> None:
    """Message and allowed attribute values are redacted; other keys are dropped unstored."""
    reply = await server.stub.Log(
        pb.LogRequest(
            tenant="acme",
            source="chat-api",
            level="error",
            message=f"password reset failed for {EMAIL}",
            attributes={
                "route": "/reset",
                "error": f"no account for {EMAIL}",
                "secret_token": "tok-123-should-not-be-kept",
            },
        )
    )
    assert reply.log_record_id
    assert reply.outcome == "ok"
    assert reply.dropped_attributes == 1
    assert reply.attribute_entities == 1
    (entity,) = reply.entities
    message = f"password reset failed for {EMAIL}"
    assert message[entity.start : entity.end] == EMAIL
    body = _body(server, reply.log_record_id)
    assert body["message"] == "password reset failed for <EMAIL_ADDRESS_1>"
    assert body["attributes"] == {"error": "no account for <EMAIL_ADDRESS_1>", "route": "/reset"}
    assert body["dropped_attributes"] == 1
    assert body["level"] == "error"
    assert body["source"] == "chat-api"
    assert body["retention_class"] == "app_logs"
    text = json.dumps(body)
    assert EMAIL not in text
    assert "secret_token" not in text
    assert "tok-123" not in text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": "loud"}, "level"),
        ({"tenant": ""}, "tenant"),
        ({"source": "has space"}, "source"),
        ({"retention_class": "forever"}, "retention_class"),
        ({"policy": "nope"}, "policy"),
        ({"attributes": {f"k{i}": "v" for i in range(65)}}, "attributes"),
    ],
)
async def test_log_bad_fields_are_invalid_argument(
    server: Running, change: dict[str, Any], field: str
) -> None:
    """Each malformed field is refused naming it, quoting nothing of the message."""
    fields: dict[str, Any] = {
        "tenant": "acme",
        "source": "svc",
        "level": "info",
        "message": f"hello {EMAIL}",
    } | change
    before = len(server.records())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.stub.Log(pb.LogRequest(**fields))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert details.startswith(f"{field}:")
    assert EMAIL not in details
    assert len(server.records()) == before  # nothing half-written


async def test_log_through_the_sync_client(server: Running) -> None:
    """SidecarClient.log returns a typed result; a bad level raises InvalidRequest."""

    def call() -> tuple[str, int]:
        with SidecarClient(server.target) as client:
            result = client.log(
                f"user {EMAIL} signed in",
                tenant="acme",
                source="auth",
                attributes={"status": "200", "ip": "203.0.113.9"},
            )
            with pytest.raises(InvalidRequest):
                client.log("x", tenant="acme", source="auth", level="shout")
            return result.log_record_id, result.dropped_attributes

    record_id, dropped = await asyncio.to_thread(call)
    assert dropped == 1
    body = _body(server, record_id)
    assert body["message"] == "user <EMAIL_ADDRESS_1> signed in"
    assert body["attributes"] == {"status": "200"}
