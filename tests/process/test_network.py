"""The real server makes no outbound network use: audit-hooked, and in a loopback-only netns."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.process import netguard
from tests.process._server import (
    ROOT,
    SHIPPED_POLICIES,
    child_env,
    loopback_channel,
    running,
    serve_args,
)

HERE = Path(__file__).resolve().parent
EMAILS = ("zq7.canary@example.org", "ana.lima@correo.example.co.uk")
PHONE = "+1 202 555 0147"
URL = "https://www.example.com/users/ana-lima"  # a personal URL: the policy redacts those
TEXT = f"Write to {EMAILS[0]} or {EMAILS[1]}, call {PHONE}, or see {URL} today."


def _spans(text: str, entities: list[tuple[str, int, int]], entity: str) -> set[str]:
    return {text[start:end] for kind, start, end in entities if kind == entity}


def _assert_screened(redacted: str, entities: list[tuple[str, int, int]]) -> None:
    """E-mails (TLD-validated by tldextract), the phone number and the URL were found."""
    assert _spans(TEXT, entities, "EMAIL_ADDRESS") == set(EMAILS), entities
    assert _spans(TEXT, entities, "PHONE_NUMBER") == {PHONE}, entities
    urls = _spans(TEXT, entities, "URL")
    assert any(s.startswith("https://www.example.com") and URL.startswith(s) for s in urls), urls
    for value in (*EMAILS, PHONE, URL):
        assert value not in redacted


@pytest.mark.slow
def test_serve_no_outbound_network(tmp_path: Path) -> None:
    """Under an audit hook refusing non-loopback sockets, serving e-mails needs no network."""
    cache = tmp_path / "cache"  # empty: no cached public-suffix list can hide a download
    env = child_env(XDG_CACHE_HOME=str(cache), HOME=str(tmp_path / "home"))
    command = [sys.executable, str(HERE / "netguard.py"), *serve_args(tmp_path / "var")]
    with running(command, env=env) as server, loopback_channel(server.target) as channel:
        reply = pb_grpc.PrivacySidecarStub(channel).Redact(pb.RedactRequest(text=TEXT), timeout=60)
        entities = [(e.type, e.start, e.end) for e in reply.entities]
        assert reply.outcome == "ok"
        _assert_screened(reply.redacted_text, entities)
        assert netguard.ARMED in server.stderr
        server.stop()
        assert server.proc.returncode == 0, server.stderr
    assert netguard.REFUSED not in server.stderr, server.stderr
    assert "Traceback" not in server.stderr
    assert not list(cache.rglob("*")), "a cache file was written"


def _netns_usable() -> str:
    """Why the network-namespace variant cannot run here, or '' when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root for unshare --net"
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    return f"{', '.join(missing)} not installed" if missing else ""


@pytest.mark.slow
def test_serve_no_network_namespace(tmp_path: Path) -> None:
    """In a network namespace with only loopback up, the server starts and detects e-mails."""
    reason = _netns_usable()
    if reason:
        pytest.skip(reason)
    env = child_env(XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path / "home"))
    command = [
        "unshare",
        "--net",
        "sh",
        "-c",
        'ip link set lo up && exec "$@"',
        "sh",
        sys.executable,
        str(HERE / "netns_client.py"),
        str(tmp_path / "var"),
        str(SHIPPED_POLICIES),
        TEXT,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=180, check=False
    )
    if done.returncode != 0 and "Operation not permitted" in done.stderr:
        pytest.skip(f"unshare --net is not permitted here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "error" not in report, report
    assert report["outbound_possible"] is False, "the namespace has a route out"
    assert report["outcome"] == "ok"
    _assert_screened(report["redacted_text"], [tuple(e) for e in report["entities"]])
    assert report["exit_code"] == 0, report["stderr"]
    assert "Traceback" not in report["stderr"]
    assert "suffix" not in report["stderr"].lower()  # tldextract never tried to fetch the PSL
