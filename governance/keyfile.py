"""Local key files: created once with mode 0600, refused if others can read them; and
the two file primitives every local secret and witness shares: an exclusive lock across
processes, and an atomic replace (temporary file, fsync, rename, directory fsync).

The default key provider of a single-host deployment. Key material never appears in a
message, a log line or a repr. Standard library only (the offline verifier uses it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from governance.errors import KeyFileError

__all__ = ["KeyFileError", "file_lock", "load_or_create", "load_or_create_key", "write_atomically"]

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


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`.lock (another process, the CLI or a replica sharing
    the directory, may be changing the same file). Raises KeyFileError."""
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as err:
        raise KeyFileError(f"{lock}: cannot lock ({type(err).__name__})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_atomically(
    path: Path,
    chunks: Iterable[bytes],
    *,
    opened: Callable[[], None] = lambda: None,
    mode: int = 0o600,
    parents: bool = True,
) -> int:
    """Replace `path` with `chunks`: readers see the old file or the new one, never half.

    A unique temporary file beside it (so concurrent writers cannot collide), fsync,
    rename, directory fsync. `opened` runs once the temporary file exists, before the
    first byte. `parents`: create missing directories (0700). Returns the bytes written.
    Raises KeyFileError naming the file.
    """
    written = 0
    try:
        if parents:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as out:
                opened()
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as err:
        raise KeyFileError(f"{path}: cannot write ({type(err).__name__})") from None
    return written
