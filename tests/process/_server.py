"""Start the real `sidecar serve` as a subprocess and talk to it over loopback.

`SidecarProcess` reads stdout and stderr on background threads (so a chatty server never
blocks on a full pipe), finds the "sidecar listening on port N" banner and always stops
the process, by SIGKILL if it must.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import grpc

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_POLICIES = ROOT / "policies.yaml"
START_TIMEOUT = 120.0
BANNER = re.compile(r"sidecar listening on port (\d+)")
_MAX_MESSAGE = 64 << 20


def serve_args(data_dir: Path, *, policies: Path = SHIPPED_POLICIES, listen: str = "") -> list[str]:
    """Arguments after `sidecar`: serve on a loopback port (0 = any free one)."""
    return [
        "serve",
        "--listen",
        listen or "127.0.0.1:0",
        "--data-dir",
        str(data_dir),
        "--policies",
        str(policies),
    ]


def sidecar_command(*args: str) -> list[str]:
    """`python -m sidecar ARGS` with the interpreter running the tests."""
    return [sys.executable, "-m", "sidecar", *args]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Lines:
    """Lines of one pipe, collected by a daemon thread; waitable."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self.closed = False
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                with self._changed:
                    self._lines.append(line)
                    self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float) -> re.Match[str] | None:
        """The first match of `pattern` in the text so far, waiting up to `timeout`."""
        compiled = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = compiled.search("".join(self._lines))
                remaining = deadline - time.monotonic()
                if found or self.closed or remaining <= 0:
                    return found
                self._changed.wait(min(remaining, 0.5))

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class SidecarProcess:
    """A running server subprocess with its collected output."""

    def __init__(self, command: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.command = list(command)
        self.proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=ROOT,
            env=env or child_env(),
        )
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._stdout = _Lines(self.proc.stdout)
        self._stderr = _Lines(self.proc.stderr)
        self.port = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def stdout(self) -> str:
        return self._stdout.text

    @property
    def stderr(self) -> str:
        return self._stderr.text

    def wait_listening(self, timeout: float = START_TIMEOUT) -> int:
        """Wait for the start-up banner; returns the port. Fails with the server's stderr."""
        found = self._stdout.wait_for(BANNER, timeout)
        if found is None:
            raise AssertionError(
                f"server did not start within {timeout:.0f}s (exit code {self.proc.poll()})\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
            )
        self.port = int(found.group(1))
        return self.port

    def wait_stderr(self, text: str, timeout: float) -> bool:
        return self._stderr.wait_for(text, timeout) is not None

    def send_signal(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def wait_exit(self, timeout: float) -> int | None:
        """Exit code, or None if still running after `timeout` seconds."""
        try:
            return self.proc.wait(max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; reap the process and drain its pipes."""
        if self.proc.poll() is None:
            self.proc.terminate()
            if self.wait_exit(5.0) is None:
                self.proc.kill()
                self.proc.wait(10.0)
        self._stdout.join(5.0)
        self._stderr.join(5.0)


@contextlib.contextmanager
def running(
    command: Sequence[str], *, env: dict[str, str] | None = None
) -> Iterator[SidecarProcess]:
    """Start `command`, wait for the banner, yield the process; always stop it."""
    server = SidecarProcess(command, env=env)
    try:
        server.wait_listening()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def loopback_channel(target: str) -> Iterator[grpc.Channel]:
    """A sync channel to a loopback target; never through an HTTP proxy."""
    channel = grpc.insecure_channel(
        target,
        options=[
            ("grpc.enable_http_proxy", 0),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
        ],
    )
    try:
        yield channel
    finally:
        channel.close()
