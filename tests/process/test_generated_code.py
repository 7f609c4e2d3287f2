"""protos/generate.py --check: the checked-in sidecar/v1 matches a fresh protoc run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.process._server import ROOT

pytestmark = pytest.mark.slow


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "protos" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
        check=False,
    )


def test_generated_code_fresh() -> None:
    """`python protos/generate.py --check` exits 0 on the repository as checked in."""
    done = _check(ROOT)
    assert done.returncode == 0, done.stderr


def test_generated_code_altered_is_stale(tmp_path: Path) -> None:
    """In a copy of the layout with one generated file altered, --check exits 1 naming it."""
    (tmp_path / "protos").mkdir()
    shutil.copy2(ROOT / "protos" / "generate.py", tmp_path / "protos" / "generate.py")
    shutil.copytree(ROOT / "protos" / "privacy_sidecar", tmp_path / "protos" / "privacy_sidecar")
    shutil.copytree(
        ROOT / "sidecar" / "v1",
        tmp_path / "sidecar" / "v1",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    assert _check(tmp_path).returncode == 0, "the unaltered copy should be fresh"

    altered = tmp_path / "sidecar" / "v1" / "sidecar_pb2_grpc.py"
    altered.write_text(altered.read_text(encoding="utf-8") + "# hand edit\n", encoding="utf-8")
    done = _check(tmp_path)

    assert done.returncode == 1
    assert "sidecar_pb2_grpc.py" in done.stderr
    assert "stale" in done.stderr
