"""The local key provider: KEK versions in one key file under the data dir (mode 0600).

Implements vault.KeyProvider. A KMS or HashiCorp Vault back-end implements the same
calls (primary_version, wrap, unwrap, readable_versions) over its encrypt/decrypt API,
keeping the KEK outside this process; nothing else in the package touches KEKs.

Rotation is two-phase: add_version() creates a new version that can already unwrap but
is not used to wrap; promote() makes it primary once every replica has re-read the file;
old versions stay readable until retire() destroys their key material (re-wrap the DEKs
first: what only a retired version can unwrap is unreadable for good).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.errors import KeyFileError
from governance.keyfile import file_lock, load_or_create, write_atomically
from governance.note import NoteError, NoteSigner
from governance.shredkeys import BucketKeys
from governance.vault import KEK_ID_BYTES, KEY_BYTES, NONCE_BYTES, SealError

__all__ = ["KekVersion", "LocalKeyProvider"]

_FILE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class KekVersion:
    version: int
    state: str  # "active" (can unwrap) or "retired" (key material destroyed)
    created_at: str

    def __repr__(self) -> str:
        return f"<KekVersion v{self.version} {self.state}>"


def _aad(version: int, aad: bytes) -> bytes:
    return b"kek/1" + struct.pack(">I", version) + aad


class LocalKeyProvider:
    """KEK versions kept in `path` (JSON, 0600), created with version 1 on first use."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self._path = path
        if not path.exists() and not create:
            raise KeyFileError(f"{path}: no key file (the sidecar creates it on first start)")
        if not path.exists():
            self._kek_id = os.urandom(KEK_ID_BYTES)
            self._primary = 1
            self._keys: dict[int, bytes | None] = {1: AESGCM.generate_key(bit_length=256)}
            self._created: dict[int, str] = {1: _now()}
            self._save(create=True)
        else:
            self._load()

    def __repr__(self) -> str:
        return f"<LocalKeyProvider {self._path} primary v{self._primary}>"

    # -- KeyProvider ------------------------------------------------------------------

    def key_id(self) -> bytes:
        return self._kek_id

    def primary_version(self) -> int:
        return self._primary

    def readable_versions(self) -> frozenset[int]:
        return frozenset(v for v, key in self._keys.items() if key is not None)

    def wrap(self, plaintext: bytes, *, aad: bytes) -> tuple[int, bytes]:
        version = self._primary
        nonce = os.urandom(NONCE_BYTES)
        key = self._keys[version]
        if key is None:  # cannot happen: retire() refuses the primary
            raise KeyFileError(f"{self._path}: primary KEK version {version} is retired")
        return version, nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(version, aad))

    def unwrap(self, version: int, blob: bytes, *, aad: bytes) -> bytes:
        key = self._keys.get(version)
        if key is None or len(blob) < NONCE_BYTES + 16:
            raise SealError(f"KEK version {version} cannot unwrap this key")
        try:
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(version, aad))
        except InvalidTag:
            raise SealError(f"KEK version {version} cannot unwrap this key") from None

    # -- bucket keys --------------------------------------------------------------------

    def bucket_keys(self) -> BucketKeys:
        """The per-bucket secrets beside the KEK file (governance/shredkeys.py)."""
        return BucketKeys(self._path.with_name("bucket-keys.json"))

    # -- the ledger's signing key -----------------------------------------------------

    def ledger_signer(self, *, create: bool = True) -> tuple[NoteSigner, bool]:
        """The audit ledger's Ed25519 note signer; (signer, created now).

        Kept beside the KEK file as a Go-style note signer key (0600). Its name is the
        ledger's origin line, unique per deployment; replicas sharing a database share
        this file. A KMS back-end would sign remotely behind the same NoteSigner shape.
        """
        path = self._path.with_name("ledger-signing.key")
        if not create and not path.exists():
            raise KeyFileError(f"{path}: no ledger signing key (the sidecar creates it)")

        def make() -> bytes:
            name = f"privacy-sidecar.local/ledger/{secrets.token_hex(8)}"
            return NoteSigner.generate(name).key().encode() + b"\n"

        content, created = load_or_create(path, make)
        try:
            return NoteSigner.from_key(content.decode("ascii")), created
        except (NoteError, UnicodeDecodeError):
            raise KeyFileError(f"{path}: not a note signer key") from None

    # -- rotation ---------------------------------------------------------------------

    def versions(self) -> tuple[KekVersion, ...]:
        return tuple(
            KekVersion(v, "active" if key is not None else "retired", self._created[v])
            for v, key in sorted(self._keys.items())
        )

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Re-read the file under an exclusive lock, change it, write it back.

        Another process (a replica, the CLI) may have rotated since we loaded: changing
        our stale copy would overwrite its new versions and lose keys for good.
        """
        with file_lock(self._path):
            self._load()
            yield
            self._save()

    def add_version(self) -> int:
        """Phase 1: a new KEK version that can unwrap but does not wrap yet."""
        with self._changing():
            version = max(self._keys) + 1
            self._keys[version] = AESGCM.generate_key(bit_length=256)
            self._created[version] = _now()
        return version

    def promote(self, version: int) -> None:
        """Phase 2: wrap new DEKs with `version` from now on."""
        with self._changing():
            if self._keys.get(version) is None:
                raise KeyFileError(f"KEK version {version} does not exist or is retired")
            self._primary = version

    def retire(self, version: int) -> None:
        """Destroy a non-primary version's key material."""
        with self._changing():
            if version == self._primary:
                raise KeyFileError(f"KEK version {version} is primary; promote another first")
            if version not in self._keys:
                raise KeyFileError(f"KEK version {version} does not exist")
            self._keys[version] = None

    def reload(self) -> None:
        """Re-read the key file (another process may have rotated)."""
        self._load()

    # -- file -------------------------------------------------------------------------

    def _load(self) -> None:
        failure = ""
        loaded: tuple[bytes, dict[int, bytes | None], dict[int, str], int] | None = None
        try:
            loaded = self._parse()
        except KeyFileError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            # Raised outside this block: a JSON error's context holds the file's text.
            failure = type(err).__name__
        if failure or loaded is None:
            raise KeyFileError(f"{self._path}: cannot read key file ({failure})")
        self._kek_id, self._keys, self._created, self._primary = loaded

    def _parse(self) -> tuple[bytes, dict[int, bytes | None], dict[int, str], int]:
        mode = stat.S_IMODE(self._path.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(f"{self._path}: mode {mode:04o} lets others read keys; chmod 600")
        data = json.loads(self._path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != _FILE_FORMAT:
            raise KeyFileError(f"{self._path}: unsupported key file format")
        kek_id = bytes.fromhex(data["kek_id"])
        if len(kek_id) != KEK_ID_BYTES:
            raise KeyFileError(f"{self._path}: kek_id must be {KEK_ID_BYTES} bytes")
        keys: dict[int, bytes | None] = {}
        created: dict[int, str] = {}
        for entry in data["versions"]:
            version = int(entry["version"])
            material = entry["key"]
            if material is None:  # retired: the key material was destroyed
                keys[version] = None
            else:
                key = base64.b64decode(material, validate=True)
                if len(key) != KEY_BYTES:
                    raise KeyFileError(f"{self._path}: KEK version {version} has a bad length")
                keys[version] = key
            created[version] = str(entry["created_at"])
        primary = int(data["primary"])
        if keys.get(primary) is None:
            raise KeyFileError(f"{self._path}: primary KEK version {primary} is missing")
        return kek_id, keys, created, primary

    def _save(self, *, create: bool = False) -> None:
        data = {
            "format": _FILE_FORMAT,
            "kek_id": self._kek_id.hex(),
            "primary": self._primary,
            "versions": [
                {
                    "version": v,
                    "key": base64.b64encode(key).decode() if key is not None else None,
                    "created_at": self._created[v],
                }
                for v, key in sorted(self._keys.items())
            ],
        }
        if create and self._path.exists():
            raise KeyFileError(f"{self._path}: already exists")
        write_atomically(self._path, [json.dumps(data, indent=1).encode()])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
