"""SIGTERM / SIGINT on the real `sidecar serve`: in-flight calls finish, contexts are wiped."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import grpc
import pytest

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.process._server import loopback_channel, running, serve_args, sidecar_command

EMAIL = "zq7.canary@example.org"
_UNIT = (
    f"Please write to {EMAIL} or call +1 202 555 0147 about invoice 77, see https://example.com/x. "
)
# Large enough to still be in flight when SIGTERM comes (two idle workers share a text:
# 80 KB once took over half a second, now less), small enough to finish in grace.
LARGE_TEXT = (_UNIT * (300_000 // len(_UNIT) + 1))[:300_000]
WIPED_ONE = "sidecar stopped; wiped 1 inference contexts"
EXIT_WITHIN_SECONDS = 10.0  # default --grace; the in-flight call itself ends in ~2 s


def _begin(stub: pb_grpc.PrivacySidecarStub) -> str:
    begun = stub.BeginInference(
        pb.BeginInferenceRequest(
            model="m1", tenant="t1", purpose="support", input=f"reach Ana Lima at {EMAIL}"
        ),
        timeout=30,
    )
    assert begun.inference_id
    return str(begun.inference_id)


@pytest.mark.slow
def test_serve_sigterm_graceful(tmp_path: Path) -> None:
    """SIGTERM lets an in-flight Redact finish OK, wipes the live context and exits 0 promptly."""
    with (
        running(sidecar_command(*serve_args(tmp_path / "var"))) as server,
        loopback_channel(server.target) as channel,
    ):
        stub = pb_grpc.PrivacySidecarStub(channel)
        _begin(stub)
        in_flight = stub.Redact.future(pb.RedactRequest(text=LARGE_TEXT), timeout=60)
        time.sleep(0.5)  # the 80 KB request has reached the server and is being screened
        assert not in_flight.done(), "the Redact finished before SIGTERM: nothing was in flight"
        server.send_signal(signal.SIGTERM)
        signalled = time.monotonic()

        reply = in_flight.result()  # raises grpc.RpcError unless the call completed OK
        assert reply.redacted_text
        assert EMAIL not in reply.redacted_text
        assert server.wait_stderr(WIPED_ONE, timeout=15), server.stderr

        code = server.wait_exit(signalled + EXIT_WITHIN_SECONDS - time.monotonic())
        assert code is not None, (
            f"still running {EXIT_WITHIN_SECONDS:.0f}s after SIGTERM, although it logged "
            f"{WIPED_ONE!r}\nstderr:\n{server.stderr}"
        )
        assert code == 0
        assert "Traceback" not in server.stderr


@pytest.mark.slow
def test_serve_sigint_exits_zero(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) stops the server like SIGTERM: contexts wiped, exit code 0."""
    with (
        running(sidecar_command(*serve_args(tmp_path / "var"))) as server,
        loopback_channel(server.target) as channel,
    ):
        _begin(pb_grpc.PrivacySidecarStub(channel))
        server.send_signal(signal.SIGINT)
        assert server.wait_exit(EXIT_WITHIN_SECONDS) == 0, server.stderr
        assert WIPED_ONE in server.stderr
        assert "Traceback" not in server.stderr
        assert "KeyboardInterrupt" not in server.stderr


@pytest.mark.slow
def test_serve_sigterm_idle_exits_zero(tmp_path: Path) -> None:
    """An idle server stops on SIGTERM with exit code 0, nothing to wipe, its port closed."""
    with running(sidecar_command(*serve_args(tmp_path / "var"))) as server:
        server.send_signal(signal.SIGTERM)
        assert server.wait_exit(EXIT_WITHIN_SECONDS) == 0, server.stderr
        with loopback_channel(server.target) as channel:
            stub = pb_grpc.PrivacySidecarStub(channel)
            with pytest.raises(grpc.RpcError) as refused:
                stub.Redact(pb.RedactRequest(text="hello"), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "sidecar stopped; wiped 0 inference contexts" in server.stderr
