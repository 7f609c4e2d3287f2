"""Envelope encryption for retained records: AES-256-GCM under data keys (DEKs), DEKs
wrapped by a key-encryption key (KEK) that a KeyProvider holds.

The only module that imports `cryptography`'s AEAD primitives. Key material never
appears in a repr, a message or a log line; unsealing fails one way only (SealError),
since telling a wrong key from tampering apart would be an oracle.

Sealed record (format 1): b"PS" | 0x01 | key id (16) | nonce (12) | ciphertext | tag (16).
The whole header is authenticated with the caller's associated data (record id, tenant,
retention class, creation time), so a ciphertext moved to another row, tenant or class,
or given another header, fails to open.

Wrapped DEK (format 1): b"PW" | 0x01 | KEK id (8) | KEK version (u32 BE) | nonce (12) |
ciphertext | tag (16), authenticated with the KEK id and the DEK's id and scope, so a
wrapped key cannot be moved to another scope either, and names the KEK that opens it.

Wrapped DEK (format 2, with bucket keys): the same header with 0x02, and the KEK wraps
nonce (12) | AES-256-GCM(bucket secret) of the DEK (associated data b"bucket/1" and the
DEK's id and scope) instead of the DEK itself. The bucket secret lives outside the
database (shredkeys.py): destroying it shreds the bucket in every copy of the database.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.errors import GovernanceError, KeyFileError
from governance.shredkeys import BucketKeys, BucketShredded, bucket_id

__all__ = [
    "MAX_MESSAGES_PER_DEK",
    "DataKey",
    "DataKeyExhausted",
    "DataKeyScope",
    "KeyDestroyed",
    "KeyProvider",
    "SealError",
    "Vault",
    "WrappedKey",
    "key_id_of",
    "record_aad",
]

FORMAT = 1
_BUCKET_WRAPPED = 2
_SEAL_MAGIC = b"PS"
_WRAP_MAGIC = b"PW"
KEY_ID_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
_SEAL_HEADER = len(_SEAL_MAGIC) + 1 + KEY_ID_BYTES + NONCE_BYTES
KEK_ID_BYTES = 8
_WRAP_HEADER = len(_WRAP_MAGIC) + 1 + KEK_ID_BYTES + 4
# NIST SP 800-38D bounds random 96-bit nonces to 2^32 encryptions per key; we stay four
# times below it and roll over to a new DEK generation instead.
MAX_MESSAGES_PER_DEK = 2**30


class SealError(GovernanceError):
    """A sealed record or wrapped key cannot be opened (tampered, moved or wrong key)."""


class KeyDestroyed(SealError):
    """The DEK's bucket was shredded (or the DEK destroyed): it can never be opened."""


class DataKeyExhausted(GovernanceError):
    """A data key sealed as many messages as its nonce budget allows; roll a new one."""


def _field(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def record_aad(*, record_id: str, tenant: str, retention_class: str, created_at: str) -> bytes:
    """Associated data binding a sealed record to its row; length-prefixed, unambiguous."""
    parts = (b"record/1", record_id, tenant, retention_class, created_at)
    return b"".join(_field(p if isinstance(p, bytes) else p.encode("utf-8")) for p in parts)


@dataclass(frozen=True, slots=True)
class DataKeyScope:
    """What one DEK may seal: one tenant's records of one class in one UTC time bucket."""

    tenant: str
    retention_class: str
    bucket: str  # e.g. "2026-11-25" for daily buckets
    generation: int = 0  # a new generation starts when a DEK reaches its message cap

    def aad(self, key_id: bytes) -> bytes:
        parts = (b"dek/1", key_id, self.tenant, self.retention_class, self.bucket)
        encoded = b"".join(_field(p if isinstance(p, bytes) else p.encode("utf-8")) for p in parts)
        return encoded + struct.pack(">I", self.generation)


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A DEK as it is stored: only ever wrapped by a KEK version."""

    key_id: bytes
    scope: DataKeyScope
    kek_version: int
    blob: bytes

    def __repr__(self) -> str:
        return f"<WrappedKey {self.key_id.hex()} kek v{self.kek_version}>"


@dataclass(slots=True, eq=False)
class DataKey:
    """An unwrapped DEK in memory; `messages` counts what it sealed so far."""

    key_id: bytes
    scope: DataKeyScope
    _secret: bytes = field(repr=False)
    messages: int = 0
    _aead: AESGCM | None = field(default=None, repr=False)

    def aead(self) -> AESGCM:
        """The key's AES-GCM cipher, built once (it is stateless and thread-safe)."""
        if self._aead is None:
            self._aead = AESGCM(self._secret)
        return self._aead

    def __repr__(self) -> str:
        return f"<DataKey {self.key_id.hex()} {self.scope.tenant}/{self.scope.retention_class}>"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("data keys are not serialisable")


class KeyProvider(Protocol):
    """Holds the KEK versions; wraps and unwraps DEKs without handing the KEK out.

    A KMS or Vault back-end implements the same four calls with its encrypt/decrypt API;
    see governance/keyprovider.py for the local-file provider.
    """

    def key_id(self) -> bytes:
        """A stable 8-byte id of this KEK (all its versions); written into wrapped keys."""
        ...

    def primary_version(self) -> int: ...

    def wrap(self, plaintext: bytes, *, aad: bytes) -> tuple[int, bytes]:
        """Encrypt under the primary KEK; returns (version used, opaque blob)."""
        ...

    def unwrap(self, version: int, blob: bytes, *, aad: bytes) -> bytes:
        """Decrypt a blob wrapped under `version`. Raises SealError."""
        ...

    def readable_versions(self) -> frozenset[int]: ...


def key_id_of(sealed: bytes) -> bytes:
    """The DEK id in a sealed record's header. Raises SealError if it is no sealed record."""
    if len(sealed) < _SEAL_HEADER + TAG_BYTES or sealed[:2] != _SEAL_MAGIC:
        raise SealError("not a sealed record")
    if sealed[2] != FORMAT:
        raise SealError(f"unsupported sealed format {sealed[2]}")
    return sealed[3 : 3 + KEY_ID_BYTES]


class Vault:
    """Creates, wraps and opens DEKs; seals and unseals records with them."""

    def __init__(
        self,
        provider: KeyProvider,
        *,
        message_cap: int = MAX_MESSAGES_PER_DEK,
        buckets: BucketKeys | None = None,
    ) -> None:
        self._provider = provider
        self._message_cap = message_cap
        self._buckets = buckets

    @property
    def message_cap(self) -> int:
        return self._message_cap

    def primary_kek_version(self) -> int:
        return self._provider.primary_version()

    def new_data_key(self, scope: DataKeyScope) -> tuple[DataKey, WrappedKey]:
        """A fresh random DEK for `scope`, and its wrapped form for storage."""
        key_id = os.urandom(KEY_ID_BYTES)
        secret = AESGCM.generate_key(bit_length=256)
        return DataKey(key_id, scope, secret), self._wrap(key_id, scope, secret)

    def _wrap(self, key_id: bytes, scope: DataKeyScope, secret: bytes) -> WrappedKey:
        kek_id = self._provider.key_id()
        layout, inner = FORMAT, secret
        if self._buckets is not None:
            bucket = self._buckets.secret(_bucket_of(scope), create=True)
            nonce = os.urandom(NONCE_BYTES)
            layout = _BUCKET_WRAPPED
            inner = nonce + AESGCM(bucket).encrypt(nonce, secret, _bucket_aad(scope, key_id))
        version, blob = self._provider.wrap(inner, aad=kek_id + scope.aad(key_id))
        header = _WRAP_MAGIC + bytes([layout]) + kek_id + struct.pack(">I", version)
        return WrappedKey(key_id, scope, version, header + blob)

    def open_data_key(self, wrapped: WrappedKey, *, messages: int = 0) -> DataKey:
        """Unwrap a stored DEK. Raises SealError (tampered, moved, or KEK retired)."""
        blob = wrapped.blob
        if len(blob) < _WRAP_HEADER or blob[:2] != _WRAP_MAGIC:
            raise SealError(f"data key {wrapped.key_id.hex()}: cannot unwrap")
        layout = blob[2]
        if layout not in (FORMAT, _BUCKET_WRAPPED):
            raise SealError(f"data key {wrapped.key_id.hex()}: cannot unwrap")
        kek_id = blob[3 : 3 + KEK_ID_BYTES]
        (version,) = struct.unpack(">I", blob[3 + KEK_ID_BYTES : _WRAP_HEADER])
        if kek_id != self._provider.key_id():
            raise SealError(
                f"data key {wrapped.key_id.hex()}: wrapped under KEK {kek_id.hex()}, "
                f"not this key provider's {self._provider.key_id().hex()}"
            )
        if version != wrapped.kek_version:
            raise SealError(f"data key {wrapped.key_id.hex()}: cannot unwrap")
        secret = self._provider.unwrap(
            version, blob[_WRAP_HEADER:], aad=kek_id + wrapped.scope.aad(wrapped.key_id)
        )
        if layout == _BUCKET_WRAPPED:
            secret = self._open_bucket_layer(wrapped, secret)
        if len(secret) != KEY_BYTES:
            raise SealError(f"data key {wrapped.key_id.hex()}: cannot unwrap")
        return DataKey(wrapped.key_id, wrapped.scope, secret, messages)

    def _open_bucket_layer(self, wrapped: WrappedKey, inner: bytes) -> bytes:
        if self._buckets is None:
            raise SealError(f"data key {wrapped.key_id.hex()}: needs the bucket key file")
        try:
            bucket = self._buckets.secret(_bucket_of(wrapped.scope), create=False)
        except BucketShredded:
            raise KeyDestroyed(
                f"data key {wrapped.key_id.hex()}: its bucket was shredded"
            ) from None
        except KeyFileError:
            raise SealError(f"data key {wrapped.key_id.hex()}: no key for its bucket") from None
        try:
            return AESGCM(bucket).decrypt(
                inner[:NONCE_BYTES], inner[NONCE_BYTES:], _bucket_aad(wrapped.scope, wrapped.key_id)
            )
        except (InvalidTag, ValueError):
            raise SealError(f"data key {wrapped.key_id.hex()}: cannot unwrap") from None

    def shred_buckets(self, scopes: Iterable[DataKeyScope]) -> list[str]:
        """Destroy the bucket secrets of these scopes; returns the bucket ids destroyed now."""
        if self._buckets is None:
            return []
        return self._buckets.destroy(_bucket_of(scope) for scope in scopes)

    def live_buckets(self) -> set[str]:
        return set() if self._buckets is None else self._buckets.live()

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        """The same DEK wrapped under the provider's current primary KEK version."""
        key = self.open_data_key(wrapped)
        return self._wrap(key.key_id, key.scope, key._secret)

    def seal(self, key: DataKey, plaintext: bytes, *, aad: bytes) -> bytes:
        """Encrypt with a fresh random nonce. Raises DataKeyExhausted at the message cap."""
        if key.messages >= self._message_cap:
            raise DataKeyExhausted(
                f"data key {key.key_id.hex()} reached {self._message_cap} messages"
            )
        key.messages += 1
        return _seal_with(key, plaintext, aad=aad, nonce=os.urandom(NONCE_BYTES))

    def unseal(self, key: DataKey, sealed: bytes, *, aad: bytes) -> bytes:
        """Decrypt and authenticate. Raises SealError: "cannot unseal record" for every
        failure that involves the key (wrong key, tampered, moved); only a header that is
        not ours at all is named as such, which needs no key to tell."""
        if key_id_of(sealed) != key.key_id:
            raise SealError("cannot unseal record")
        header, body = sealed[:_SEAL_HEADER], sealed[_SEAL_HEADER:]
        nonce = header[-NONCE_BYTES:]
        try:
            return key.aead().decrypt(nonce, body, header + aad)
        except InvalidTag:
            raise SealError("cannot unseal record") from None


def _bucket_of(scope: DataKeyScope) -> str:
    return bucket_id(scope.tenant, scope.retention_class, scope.bucket)


def _bucket_aad(scope: DataKeyScope, key_id: bytes) -> bytes:
    return b"bucket/1" + scope.aad(key_id)


def _seal_with(key: DataKey, plaintext: bytes, *, aad: bytes, nonce: bytes) -> bytes:
    """Seal with a given nonce: for test vectors only; production nonces are random."""
    header = _SEAL_MAGIC + bytes([FORMAT]) + key.key_id + nonce
    return header + key.aead().encrypt(nonce, plaintext, header + aad)
