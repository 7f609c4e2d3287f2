"""Local key files: created once with mode 0600, refused if others can read them.

The default key provider of a single-host deployment. Key material never appears in a
message, a log line or a repr.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from governance.errors import KeyFileError

__all__ = ["KeyFileError", "load_or_create", "load_or_create_key"]

KEY_BYTES = 32


def load_or_create(path: Path, make: Callable[[], bytes]) -> tuple[bytes, bool]:
    """The bytes in `path`, written from make() (0600, parents 0700) if it is missing.

    Returns (content, created). Raises KeyFileError naming the file, never the content.
    """
    created = False
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(make())
                out.flush()
                os.fsync(out.fileno())
            created = True
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(f"{path}: mode {mode:04o} lets others read the key; chmod 600")
        return path.read_bytes(), created
    except OSError as err:
        raise KeyFileError(f"{path}: cannot use key file ({type(err).__name__})") from None


def load_or_create_key(path: Path) -> bytes:
    """Return the 32-byte key in `path`, creating it (0600, parents 0700) if missing."""
    key, _ = load_or_create(path, lambda: os.urandom(KEY_BYTES))
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path}: expected {KEY_BYTES} bytes, found {len(key)}")
    return key
