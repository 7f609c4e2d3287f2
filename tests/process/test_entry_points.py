"""`sidecar` console script and `python -m sidecar`; `governance` when it exists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.process._server import ROOT, sidecar_command

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )


def test_python_m_and_console_script() -> None:
    """`sidecar --help` and `python -m sidecar --help` exit 0 and show serve and health."""
    for command in ([str(BIN / "sidecar"), "--help"], sidecar_command("--help")):
        done = _run(*command)
        assert done.returncode == 0, (command, done.stderr)
        assert "serve" in done.stdout
        assert "health" in done.stdout


def test_sidecar_usage_error_exits_two() -> None:
    """An unknown subcommand is a usage error: exit code 2, usage on stderr."""
    done = _run(*sidecar_command("no-such-command"))
    assert done.returncode == 2
    assert "usage: sidecar" in done.stderr


@pytest.mark.parametrize(
    ("flag", "value", "phrase"),
    [
        ("--workers", "0", "between 1 and 64"),
        ("--workers", "many", "whole number"),
        ("--grace", "-1", "between 0 and 3600"),
        ("--detect-processes", "-1", "between 0 and 64"),
        ("--detect-processes", "two", "whole number"),
    ],
)
def test_serve_bad_flag_values_exit_two(flag: str, value: str, phrase: str) -> None:
    """Out-of-range serve flags are usage errors naming the flag, before anything loads."""
    done = _run(*sidecar_command("serve", flag, value))
    assert done.returncode == 2
    assert flag in done.stderr
    assert phrase in done.stderr
    assert "Traceback" not in done.stderr


def test_governance_policy_check(tmp_path: Path) -> None:
    """`governance policy check` accepts the shipped file and names key and line otherwise."""
    done = _run(str(BIN / "governance"), "policy", "check", str(ROOT / "policies.yaml"))
    assert done.returncode == 0, done.stderr
    assert "chat (default)" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\ndefault: a\npolicies:\n  a:\n    detection: {entities: [X]}\n    colour: red\n"
    )
    done = _run(str(BIN / "governance"), "policy", "check", str(bad))
    assert done.returncode == 1
    assert f"{bad}:6: policies.a.colour" in done.stderr
    assert "Traceback" not in done.stderr


def test_governance_console_script_help() -> None:
    """`governance --help` exits 0 and shows usage."""
    done = _run(str(BIN / "governance"), "--help")
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower()
