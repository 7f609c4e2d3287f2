"""A throwaway PostgreSQL server from Debian's binaries, for tests and benchmarks.

`running_postgres()` runs `initdb` into a fresh temporary directory, starts the server on
a free loopback port (trust authentication, superuser `postgres`, no Unix socket outside
that directory) and always stops it and deletes the directory on exit. PostgreSQL refuses
to run as root, so as root every server command goes through `runuser -u postgres`.

Plain Python, no pytest: the store tests (tests/store/conftest.py) and `python -m
bench.store` both import it. Never point it at a real cluster: everything it makes is
deleted with the directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

__all__ = [
    "PgServer",
    "PostgresUnavailable",
    "free_port",
    "postgres_bindir",
    "running_postgres",
]

_PG_TOOLS = ("initdb", "pg_ctl", "postgres")
_START_ATTEMPTS = 3


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the server did not start."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bindir() -> Path | None:
    """`pg_config --bindir` if it holds the server tools, else the newest Debian one."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))

    def major(path: str) -> float:
        version = Path(path).parent.name
        try:
            return float(version)
        except ValueError:
            return -1.0

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)
    candidates.extend(Path(p) for p in debian)
    for candidate in candidates:
        if all(os.access(candidate / tool, os.X_OK) for tool in _PG_TOOLS):
            return candidate
    return None


@dataclass
class PgServer:
    """A running throwaway cluster: trust auth, superuser `postgres`, loopback only."""

    bindir: Path
    root: Path
    port: int
    as_postgres: list[str]
    fsync: bool = False
    max_connections: int = 50

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of database `dbname` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def admin(self) -> psycopg.Connection[Any]:
        """An autocommit connection to the `postgres` maintenance database."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name`; returns its SQLAlchemy URL."""
        with self.admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name` if it exists, closing any connection still open to it."""
        with self.admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def server_version(self) -> str:
        """The server's `server_version` setting, e.g. "17.6 (Debian 17.6-1)"."""
        with self.admin() as admin:
            row = admin.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"

    def run(self, *args: str, timeout: float = 60) -> None:
        """Run a server tool as the cluster's owner; output goes to `root/ctl.log`.

        Raises RuntimeError with the log's tail when the tool fails.
        """
        log = self.root / "ctl.log"
        with log.open("ab") as out:
            done = subprocess.run(
                [*self.as_postgres, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                cwd=self.root,
            )
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{args[0]} exited {done.returncode}:\n{tail}")

    def start(self) -> None:
        """(Re)start the server on its port and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            f" -c fsync={'on' if self.fsync else 'off'} -c max_connections={self.max_connections}"
        )
        self.run(
            str(self.bindir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        """Stop the server at once (`pg_ctl stop -m immediate`); no error if it is down."""
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            self.run(
                str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(self.data_dir)
            )


def _start(bindir: Path, *, fsync: bool, max_connections: int) -> PgServer:
    root = Path(tempfile.mkdtemp(prefix="pgstore-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    server = PgServer(bindir, root, free_port(), as_postgres, fsync, max_connections)
    try:
        server.run(
            str(bindir / "initdb"),
            "-D",
            str(server.data_dir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        for _attempt in range(_START_ATTEMPTS):
            try:
                server.start()
                return server
            except RuntimeError:  # most likely the port was taken meanwhile
                server.port = free_port()
        raise PostgresUnavailable("PostgreSQL did not start; see " + str(root / "server.log"))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


@contextlib.contextmanager
def running_postgres(
    bindir: Path | None = None, *, fsync: bool = False, max_connections: int = 50
) -> Iterator[PgServer]:
    """A fresh PostgreSQL server for the block; stopped and deleted afterwards.

    `fsync=False` (the tests' default) trades crash safety for speed; pass `fsync=True` for
    a server that flushes its WAL at each commit, as a production one does.
    Raises PostgresUnavailable without server binaries or when the server does not start,
    and RuntimeError (with the tool's output) when `initdb` fails.
    """
    if bindir is None:
        bindir = postgres_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in `pg_config --bindir`"
            " or /usr/lib/postgresql/*/bin: install Debian's `postgresql` package"
        )
    server = _start(bindir, fsync=fsync, max_connections=max_connections)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
