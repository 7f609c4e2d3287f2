"""Bucket keys: what makes crypto-shredding reach copies of the database.

A data key (DEK) stored in the database is wrapped twice: by the KEK (key provider) and,
inside that, by a secret of its bucket (tenant, retention class, UTC day) kept here, in a
key file beside the KEK file and never in the database. Destroying a bucket's secret
makes every DEK of that bucket unreadable wherever the database was copied: a backup
taken before the sweep still holds the wrapped DEKs and ciphertext, but not this secret.

The file (`keys/bucket-keys.json`, mode 0600) maps bucket ids to base64 secrets; a
destroyed bucket keeps a tombstone (null) so that it is never silently re-created.
Replicas sharing a database must share this file, like the KEK file. Changes happen
under a file lock after re-reading the file, so concurrent processes never lose a key.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from governance.errors import KeyFileError
from governance.keyfile import file_lock, write_atomically

__all__ = ["BucketKeys", "BucketShredded", "bucket_id"]

_FORMAT = 1
_SECRET_BYTES = 32


class BucketShredded(KeyFileError):
    """The bucket's secret was destroyed: its data keys can never be opened again."""


def bucket_id(tenant: str, retention_class: str, bucket: str) -> str:
    """One string per bucket (JSON, so no separator can be forged by a label)."""
    return json.dumps([tenant, retention_class, bucket], separators=(",", ":"))


class BucketKeys:
    """Per-bucket secrets in a local key file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._secrets: dict[str, bytes | None] = {}
        if path.exists():
            self._secrets = self._read()

    def __repr__(self) -> str:
        return f"<BucketKeys {self._path} {len(self._secrets)} buckets>"

    def secret(self, bucket: str, *, create: bool) -> bytes:
        """The bucket's secret, created (under the file lock) if asked and missing.

        Raises BucketShredded if it was destroyed, KeyFileError if it is missing.
        """
        found = self._secrets.get(bucket, b"")
        if found == b"":  # unknown here: another process may have added it
            with file_lock(self._path):
                self._secrets = self._read() if self._path.exists() else {}
                found = self._secrets.get(bucket, b"")
                if found == b"" and create:
                    found = os.urandom(_SECRET_BYTES)
                    self._secrets[bucket] = found
                    self._write()
        if found is None:
            raise BucketShredded(f"bucket {bucket} was shredded")
        if found == b"":
            raise KeyFileError(f"{self._path}: no key for bucket {bucket}")
        return found

    def destroy(self, buckets: Iterable[str]) -> list[str]:
        """Destroy these buckets' secrets for good; returns the ones destroyed now."""
        wanted = set(buckets)
        if not wanted:
            return []
        with file_lock(self._path):
            self._secrets = self._read() if self._path.exists() else {}
            destroyed = sorted(b for b in wanted if self._secrets.get(b, b"") is not None)
            for bucket in destroyed:
                self._secrets[bucket] = None
            if destroyed:
                self._write()
        return destroyed

    def live(self) -> set[str]:
        """Buckets whose secret still exists (re-read from the file)."""
        with file_lock(self._path):
            self._secrets = self._read() if self._path.exists() else {}
        return {b for b, secret in self._secrets.items() if secret is not None}

    def _read(self) -> dict[str, bytes | None]:
        failure = ""
        try:
            mode = stat.S_IMODE(self._path.stat().st_mode)
            if mode & 0o077:
                raise KeyFileError(f"{self._path}: mode {mode:04o} lets others read keys")
            data = json.loads(self._path.read_bytes())
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                raise KeyFileError(f"{self._path}: unsupported bucket key file format")
            secrets: dict[str, bytes | None] = {}
            for bucket, value in data["buckets"].items():
                secrets[bucket] = None if value is None else base64.b64decode(value, validate=True)
                if value is not None and len(secrets[bucket] or b"") != _SECRET_BYTES:
                    raise KeyFileError(f"{self._path}: a bucket key has a bad length")
            return secrets
        except KeyFileError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            failure = type(err).__name__  # raised below: a JSON error's context quotes text
        raise KeyFileError(f"{self._path}: cannot read bucket keys ({failure})")

    def _write(self) -> None:
        data = {
            "format": _FORMAT,
            "buckets": {
                bucket: None if secret is None else base64.b64encode(secret).decode()
                for bucket, secret in sorted(self._secrets.items())
            },
        }
        write_atomically(self._path, [json.dumps(data, indent=1).encode()])
