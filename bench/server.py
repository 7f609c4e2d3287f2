"""The sidecar under test, as a subprocess: start it, wait for SERVING, always stop it.

Starts `python -m sidecar serve` exactly as an operator would, on a free loopback port, with
a throwaway data directory. Never touches the server's code or configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.memory import worker_pids

__all__ = ["SidecarProcess", "SidecarStartError", "running_sidecar"]

_STOP_GRACE_S = 30.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_IDLE_WINDOW_S = 0.5
_IDLE_SHARE = 0.05
_LOG_TAIL_CHARS = 4000


class SidecarStartError(Exception):
    """The server exited or did not report SERVING in time; the message ends with its log."""


class SidecarProcess:
    """A started server: where to reach it, how long it took to serve, how it ended."""

    def __init__(self, target: str, log_path: Path) -> None:
        self.target = target
        self.log_path = log_path
        self.pid: int | None = None
        self.startup_s: float | None = None
        self.exit_code: int | None = None
        self.stop_s: float | None = None

    def _cpu_s(self) -> float | None:
        """User + system CPU time of the server and its detection workers so far; None
        once /proc no longer has the server."""
        if self.pid is None:
            return None
        total = _process_cpu_s(self.pid)
        if total is None:
            return None
        for worker in worker_pids(self.pid):
            total += _process_cpu_s(worker) or 0.0
        return total

    async def settle(self, *, timeout_s: float = 120.0) -> float:
        """Wait until the server is idle; return the seconds waited.

        A request answered fail-closed may leave its detection running in a worker thread;
        measuring the next pass while that burns CPU would charge it to whichever system
        runs next. Idle means under _IDLE_SHARE of one core over _IDLE_WINDOW_S.
        """
        started = time.monotonic()
        before = self._cpu_s()
        while before is not None and time.monotonic() - started < timeout_s:
            await asyncio.sleep(_IDLE_WINDOW_S)
            after = self._cpu_s()
            if after is None or after - before < _IDLE_SHARE * _IDLE_WINDOW_S:
                break
            before = after
        return time.monotonic() - started


def _process_cpu_s(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # Fields after the ")" that closes the command name; utime and stime are 14 and 15.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _free_port() -> int:
    # The port is free when we look; the server binds it a moment later. Good enough on a
    # benchmark machine, and the health wait reports it if another process took it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        return f"(no server log: {type(err).__name__})"
    return text[-_LOG_TAIL_CHARS:] or "(server log is empty)"


async def _wait_serving(
    process: subprocess.Popen[bytes], server: SidecarProcess, *, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            code = process.poll()
            if code is not None:
                raise SidecarStartError(
                    f"server exited with code {code} before serving; log tail:\n"
                    + _log_tail(server.log_path)
                )
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            except grpc.aio.AioRpcError:
                reply = None  # not listening yet, or still loading: keep polling
            if reply is not None and reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
            if time.monotonic() > deadline:
                raise SidecarStartError(
                    f"server not SERVING after {timeout_s:.0f} s; log tail:\n"
                    + _log_tail(server.log_path)
                )
            await asyncio.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM (the graceful path under test), then SIGKILL if it overstays its grace."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


@contextlib.asynccontextmanager
async def running_sidecar(
    repo: Path,
    *,
    policies: Path,
    log_path: Path,
    startup_timeout_s: float = 120.0,
    module: str = "sidecar",
) -> AsyncIterator[SidecarProcess]:
    """A sidecar serving on 127.0.0.1, stopped with SIGTERM when the block exits.

    Raises SidecarStartError if it exits or is not SERVING within `startup_timeout_s`.
    """
    target = f"127.0.0.1:{_free_port()}"
    server = SidecarProcess(target, log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-sidecar-") as data_dir,
        log_path.open("wb") as log,
    ):
        command = [
            sys.executable, "-m", module, "serve",
            "--listen", target,
            "--data-dir", data_dir,
            "--policies", str(policies),
        ]  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=repo, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        server.pid = process.pid
        try:
            await _wait_serving(process, server, timeout_s=startup_timeout_s)
            server.startup_s = time.perf_counter() - started
            yield server
        finally:
            stopping = time.perf_counter()
            server.exit_code = _stop(process)
            server.stop_s = time.perf_counter() - stopping
