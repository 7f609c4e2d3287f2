"""Detector failures: fail closed (the policy's marker) or UNAVAILABLE, never the text.

A detector that raises or hangs cannot be produced with the real Presidio pipeline, so
these tests use stand-ins named after their fault.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

import grpc
import pytest

from governance.policy import Policy
from sidecar.detection import Finding
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import Running, SidecarFactory, minimal_policies

CANARY = "zq7.canary@example.org"
INPUT = f"Hello, I am John Smith, write to {CANARY}."
CHAT_MARKER = "[REDACTED: screening unavailable]"  # policies.yaml, policies.chat


class RaisingDetector:
    """Detection that always fails, quoting the text as careless libraries do."""

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        raise RuntimeError(f"detector crashed while reading {text!r}")


class SlowDetector:
    """Detection that takes longer than any policy's timeout_ms used with it."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        time.sleep(self._seconds)
        return ()


_REJECTING = minimal_policies(
    timeout_ms="100",
    extra="""\
  rejecting:
    extends: test
    on_detector_failure: reject
""",
)


@pytest.fixture(scope="module")
async def raising(sidecar_factory: SidecarFactory, server: Running) -> Running:
    """A server on the shared server's (shipped) policies whose detector always raises."""
    running: Running = await sidecar_factory(server.sidecar.policies, detector=RaisingDetector())
    return running


@pytest.fixture(scope="module")
async def slow(sidecar_factory: SidecarFactory) -> Running:
    """A server whose detector needs 0.5 s while its policies allow 100 ms."""
    running: Running = await sidecar_factory(_REJECTING, detector=SlowDetector(0.5), workers=16)
    return running


def _begin(text: str = INPUT, *, policy: str | None = None) -> pb.BeginInferenceRequest:
    request = pb.BeginInferenceRequest(model="m1", tenant="acme", purpose="chat", input=text)
    if policy is not None:
        request.policy = policy
    return request


async def _rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc] - an awaitable unary call
    return caught.value


def _assert_no_text(err: grpc.aio.AioRpcError, *texts: str) -> None:
    details = err.details() or ""
    debug = err.debug_error_string() or ""
    # The exception's type may be named; its message (which quotes the text) never.
    for text in (*texts, CANARY, "John Smith", "crashed", "while reading"):
        assert text not in details
        assert text not in debug


async def _chunks(items: Sequence[pb.OutputChunk]) -> AsyncIterator[pb.OutputChunk]:
    for item in items:
        yield item


# -- fail closed (policy chat: on_detector_failure: redact_all) ----------------------------


async def test_redact_raising_detector_fails_closed(raising: Running) -> None:
    """Redact returns the failure marker, outcome fail_closed, and no entities."""
    reply = await raising.stub.Redact(pb.RedactRequest(text=INPUT))
    assert reply.redacted_text == CHAT_MARKER
    assert reply.outcome == "fail_closed"
    assert list(reply.entities) == []
    assert reply.decision_id
    assert "/chat/sha256:" in reply.policy_version


async def test_begin_inference_raising_detector_fails_closed(raising: Running) -> None:
    """BeginInference sends the marker as model_input; EndInference returns the marker."""
    begun = await raising.stub.BeginInference(_begin())
    assert begun.model_input == CHAT_MARKER
    assert begun.outcome == "fail_closed"
    assert list(begun.entities) == []
    ended = await raising.stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output=f"Sure, {CANARY}!")
    )
    assert ended.user_output == CHAT_MARKER
    assert ended.outcome == "fail_closed"
    assert list(ended.entities) == []
    assert len(raising.sidecar.contexts) == 0


async def test_stream_output_raising_detector_fails_closed(raising: Running) -> None:
    """A stream whose screening fails sends the marker, ends with fail_closed, and wipes."""
    begun = await raising.stub.BeginInference(_begin())
    replies = [
        reply
        async for reply in raising.stub.StreamOutput(
            _chunks(
                [
                    pb.OutputChunk(inference_id=begun.inference_id, text=f"Mail {CANARY} "),
                    pb.OutputChunk(text="now.", last=True),
                ]
            )
        )
    ]
    shown = "".join(reply.text for reply in replies)
    assert CANARY not in shown
    assert CHAT_MARKER in shown
    assert replies[-1].last
    assert replies[-1].outcome == "fail_closed"
    err = await _rpc_error(
        raising.stub.EndInference(pb.EndInferenceRequest(inference_id=begun.inference_id))
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


# -- reject (policy strict: on_detector_failure: reject) -----------------------------------


async def test_redact_raising_detector_rejects_under_reject_policy(raising: Running) -> None:
    """Policy strict turns a detector failure into UNAVAILABLE, quoting nothing sent."""
    err = await _rpc_error(raising.stub.Redact(pb.RedactRequest(text=INPUT, policy="strict")))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert "on_detector_failure=reject" in (err.details() or "")
    _assert_no_text(err, INPUT)


async def test_begin_inference_raising_detector_rejects_and_keeps_nothing(
    raising: Running,
) -> None:
    """BeginInference under strict is UNAVAILABLE and leaves no context or bytes behind."""
    before = len(raising.sidecar.contexts)
    err = await _rpc_error(raising.stub.BeginInference(_begin(policy="strict")))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    _assert_no_text(err, INPUT)
    assert len(raising.sidecar.contexts) == before


# -- timeouts ------------------------------------------------------------------------------


async def test_redact_slow_detector_fails_closed(slow: Running) -> None:
    """Detection past timeout_ms fails closed with the policy's marker."""
    started = time.monotonic()
    reply = await slow.stub.Redact(pb.RedactRequest(text=INPUT))
    assert time.monotonic() - started < 0.45  # the caller did not wait for the detector
    assert reply.redacted_text == "[REDACTED]"
    assert reply.outcome == "fail_closed"
    assert list(reply.entities) == []


async def test_inference_slow_detector_fails_closed(slow: Running) -> None:
    """Begin and End past timeout_ms return the marker with outcome fail_closed."""
    begun = await slow.stub.BeginInference(_begin())
    assert begun.model_input == "[REDACTED]"
    assert begun.outcome == "fail_closed"
    ended = await slow.stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output=f"Sure, {CANARY}!")
    )
    assert ended.user_output == "[REDACTED]"
    assert ended.outcome == "fail_closed"


async def test_redact_slow_detector_rejects_under_reject_policy(slow: Running) -> None:
    """A policy with on_detector_failure: reject turns a timeout into UNAVAILABLE."""
    err = await _rpc_error(slow.stub.Redact(pb.RedactRequest(text=INPUT, policy="rejecting")))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert "timeout" in (err.details() or "")
    _assert_no_text(err, INPUT)


async def test_end_inference_slow_detector_reject_keeps_the_context(slow: Running) -> None:
    """A rejected EndInference is UNAVAILABLE; the inference stays for a retry or an abort."""
    begun = await slow.stub.BeginInference(_begin("", policy="rejecting"))  # nothing to screen
    err = await _rpc_error(
        slow.stub.EndInference(
            pb.EndInferenceRequest(inference_id=begun.inference_id, output=INPUT)
        )
    )
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    _assert_no_text(err, INPUT)
    assert len(slow.sidecar.contexts) >= 1
    await slow.stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))
    err = await _rpc_error(
        slow.stub.EndInference(pb.EndInferenceRequest(inference_id=begun.inference_id, output="x"))
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


# -- error details -------------------------------------------------------------------------


async def test_error_details_never_contain_request_text(
    stub: pb_grpc.PrivacySidecarStub, raising: Running
) -> None:
    """Every refused request's details name fields and limits, never the text sent."""
    calls = [
        stub.Redact(pb.RedactRequest(text=INPUT, policy=CANARY)),
        stub.BeginInference(_begin(policy=CANARY)),
        stub.BeginInference(
            pb.BeginInferenceRequest(model="m", tenant=CANARY + " x", purpose="p", input=INPUT)
        ),
        stub.EndInference(pb.EndInferenceRequest(inference_id=CANARY, output=INPUT)),
        stub.AbortInference(pb.AbortInferenceRequest(inference_id=CANARY)),
        raising.stub.Redact(pb.RedactRequest(text=INPUT, policy="strict")),
    ]
    for call in calls:
        err = await _rpc_error(call)
        _assert_no_text(err, INPUT)
