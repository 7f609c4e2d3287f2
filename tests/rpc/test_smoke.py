"""Smoke: the shared loopback server answers Redact."""

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc


async def test_redact_replaces_email(stub: pb_grpc.PrivacySidecarStub) -> None:
    """An e-mail address is replaced and its offsets index the original text."""
    text = "write to zq7.canary@example.org please"
    reply = await stub.Redact(pb.RedactRequest(text=text))
    assert "zq7.canary@example.org" not in reply.redacted_text
    (entity,) = [e for e in reply.entities if e.type == "EMAIL_ADDRESS"]
    assert text[entity.start : entity.end] == "zq7.canary@example.org"
