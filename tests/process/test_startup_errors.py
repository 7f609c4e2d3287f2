"""`sidecar serve` start-up failures: exit code 1, a message naming the cause, no traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.process._server import (
    ROOT,
    SHIPPED_POLICIES,
    START_TIMEOUT,
    child_env,
    serve_args,
    sidecar_command,
)

pytestmark = pytest.mark.slow


def _serve(
    data_dir: Path, *, policies: Path = SHIPPED_POLICIES, listen: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sidecar_command(*serve_args(data_dir, policies=policies, listen=listen)),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(),
        timeout=START_TIMEOUT,
        check=False,
    )


def test_serve_bad_policies_exit(tmp_path: Path) -> None:
    """An unknown key in policies.yaml: exit 1, stderr names the key and its line."""
    lines = SHIPPED_POLICIES.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  max_contexts:"))
    lines.insert(at + 1, "  colour: blue")
    bad = tmp_path / "policies.yaml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    done = _serve(tmp_path / "var", policies=bad)

    assert done.returncode == 1
    assert "colour" in done.stderr
    assert f"{bad}:{at + 2}:" in done.stderr  # 1-based line of the inserted key
    assert "Traceback" not in done.stderr
    assert "sidecar listening" not in done.stdout


def test_serve_missing_policies_exit(tmp_path: Path) -> None:
    """A policies file that does not exist: exit 1, stderr names the file and the reason."""
    missing = tmp_path / "nowhere" / "policies.yaml"

    done = _serve(tmp_path / "var", policies=missing)

    assert done.returncode == 1
    assert str(missing) in done.stderr
    assert "cannot read" in done.stderr
    assert "FileNotFoundError" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_port_in_use_exit(tmp_path: Path) -> None:
    """Listening on a port another socket holds: exit 1 with a clear message, no traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        listen = f"127.0.0.1:{holder.getsockname()[1]}"

        done = _serve(tmp_path / "var", listen=listen)

    assert done.returncode == 1
    assert f"sidecar: OSError: cannot listen on {listen}" in done.stderr
    assert "address in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert "sidecar listening" not in done.stdout
