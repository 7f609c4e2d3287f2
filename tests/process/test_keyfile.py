"""governance.keyfile.load_or_create_key: private modes, stable key, refusals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from governance.keyfile import KEY_BYTES, KeyFileError, load_or_create_key


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keyfile_created_private(tmp_path: Path) -> None:
    """A missing key is created: 32 random bytes, file mode 0600, parent directory 0700."""
    path = tmp_path / "keys" / "hmac.key"

    key = load_or_create_key(path)

    assert len(key) == KEY_BYTES == 32
    assert path.read_bytes() == key
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert key != bytes(32)


def test_keyfile_created_private_under_open_umask(tmp_path: Path) -> None:
    """Even with umask 000 the new key is 0600 and its directory 0700."""
    path = tmp_path / "keys" / "hmac.key"
    previous = os.umask(0)
    try:
        load_or_create_key(path)
    finally:
        os.umask(previous)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


def test_keyfile_second_call_same_key(tmp_path: Path) -> None:
    """A second call returns the key created by the first, leaving the file untouched."""
    path = tmp_path / "keys" / "hmac.key"
    first = load_or_create_key(path)
    modified = path.stat().st_mtime_ns

    assert load_or_create_key(path) == first
    assert path.stat().st_mtime_ns == modified


def test_keyfile_group_readable_refused(tmp_path: Path) -> None:
    """A key file with mode 0644 is refused; the error names path and mode, not the key."""
    path = tmp_path / "keys" / "hmac.key"
    key = load_or_create_key(path)
    path.chmod(0o644)

    with pytest.raises(KeyFileError) as refused:
        load_or_create_key(path)

    message = str(refused.value)
    assert str(path) in message
    assert "0644" in message
    for form in (key.hex(), repr(key), key.decode("latin-1")):
        assert form not in message
        assert form not in repr(refused.value)
    assert path.read_bytes() == key  # refused, not replaced


def test_keyfile_wrong_length_refused(tmp_path: Path) -> None:
    """A 0600 key file that does not hold exactly 32 bytes is refused, naming the path."""
    path = tmp_path / "hmac.key"
    for content in (b"", b"k" * 16, b"k" * 33):
        path.write_bytes(content)
        path.chmod(0o600)
        with pytest.raises(KeyFileError) as refused:
            load_or_create_key(path)
        message = str(refused.value)
        assert str(path) in message
        assert f"found {len(content)}" in message
