"""One real `sidecar serve` per module: hardening, health CLI, reflection, its key file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.process._server import (
    ROOT,
    SidecarProcess,
    free_port,
    loopback_channel,
    running,
    serve_args,
    sidecar_command,
)

pytestmark = pytest.mark.slow

# Raise the soft core limit first, so a 0 in the server's limits is its own doing.
_UNLIMITED_CORE = 'ulimit -c unlimited 2>/dev/null || ulimit -S -c "$(ulimit -H -c)"; exec "$@"'


def _with_core_limit_raised(command: list[str]) -> list[str]:
    return ["sh", "-c", _UNLIMITED_CORE, "sh", *command]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served") / "var"


@pytest.fixture(scope="module")
def served(data_dir: Path) -> Iterator[SidecarProcess]:
    """The shared server on the shipped policies.yaml, started with core dumps allowed."""
    with running(_with_core_limit_raised(sidecar_command(*serve_args(data_dir)))) as server:
        yield server


def _core_limits(pid: int | str) -> tuple[str, str]:
    """(soft, hard) "Max core file size" of a process, as /proc prints them."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            soft, hard = line[len("Max core file size") :].split()[:2]
            return soft, hard
    raise AssertionError(f"no core limit in /proc/{pid}/limits")


def _run(*command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False
    )


def test_serve_core_dumps_disabled(served: SidecarProcess) -> None:
    """The running server's RLIMIT_CORE is 0 (soft and hard) though it was started unlimited."""
    control = _run(*_with_core_limit_raised(["cat", "/proc/self/limits"]))
    control_line = next(
        line for line in control.stdout.splitlines() if line.startswith("Max core file size")
    )
    assert "unlimited" in control_line, "the wrapper could not raise the core limit"
    assert _core_limits(served.pid) == ("0", "0")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def test_serve_detects_in_worker_processes_without_core_dumps(served: SidecarProcess) -> None:
    """Detection runs in worker processes (one per core by default), and they too have a
    core limit of 0: request text passes through them."""
    workers = [
        child
        for child in _children(served.pid)
        if "multiprocessing" in Path(f"/proc/{child}/cmdline").read_text()
    ]
    expected = len(os.sched_getaffinity(0))
    # the spawn machinery's resource tracker is a child too; the workers are the rest
    assert len([w for w in workers if "spawn_main" in Path(f"/proc/{w}/cmdline").read_text()]) == (
        expected
    )
    for worker in workers:
        assert _core_limits(worker) == ("0", "0")


def test_hardening_disable_core_dumps_not_dumpable() -> None:
    """disable_core_dumps() leaves the process neither dumpable nor with a core limit."""
    probe = (
        "import json, resource\n"
        "from sidecar.hardening import disable_core_dumps, is_dumpable\n"
        "before = is_dumpable()\n"
        "disable_core_dumps()\n"
        "print(json.dumps([before, is_dumpable(), resource.getrlimit(resource.RLIMIT_CORE)]))\n"
    )
    done = _run(sys.executable, "-c", probe)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, False, [0, 0]]


def test_health_cli_reports_serving(served: SidecarProcess) -> None:
    """`sidecar health` against the running server prints SERVING and exits 0."""
    done = _run(*sidecar_command("health", "--target", served.target))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "SERVING"


def test_health_cli_closed_port_exits_one() -> None:
    """`sidecar health` against a port nobody listens on exits 1 and says why on stderr."""
    target = f"127.0.0.1:{free_port()}"
    done = _run(*sidecar_command("health", "--target", target, "--timeout", "2"))
    assert done.returncode == 1
    assert "SERVING" not in done.stdout
    assert "unhealthy: UNAVAILABLE" in done.stderr
    assert "Traceback" not in done.stderr


def test_reflection_lists_services(served: SidecarProcess) -> None:
    """gRPC reflection lists the sidecar, health and reflection services."""
    with loopback_channel(served.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (reply,) = list(stub.ServerReflectionInfo(iter([request]), timeout=30))
    names = {service.name for service in reply.list_services_response.service}
    assert {"privacy_sidecar.v1.PrivacySidecar", "grpc.health.v1.Health"} <= names


def test_serve_creates_private_hmac_key(served: SidecarProcess, data_dir: Path) -> None:
    """At first start the server creates var/keys/hmac.key: 32 bytes, 0600, dirs 0700."""
    key = data_dir / "keys" / "hmac.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.stat().st_size == 32
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert served.proc.poll() is None
