"""C2SP signed notes (c2sp.org/signed-note) and tlog checkpoints (c2sp.org/tlog-checkpoint).

What the audit ledger signs and what an auditor verifies offline, in the formats that
existing transparency-log tooling (Go's sumdb/note, transparency-dev) reads:

    <origin>\\n<tree size>\\n<base64 root hash>\\n[extension lines]\\n
    \\n
    — <key name> base64(key id (4, big-endian) || Ed25519 signature)\\n

key id = SHA-256(key name || 0x0A || 0x01 || public key)[:4]; the verifier key is written
`<name>+<key id hex>+base64(0x01 || public key)`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from governance.errors import GovernanceError

__all__ = [
    "Checkpoint",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "open_note",
    "parse_checkpoint",
]

_ED25519 = 0x01
_EM_DASH = "\u2014"
_MAX_SIGNATURES = 64


class NoteError(GovernanceError):
    """A note, key or checkpoint is malformed, or no trusted signature verifies."""


def _key_id(name: str, public: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([_ED25519]) + public).digest()
    return int(struct.unpack(">I", digest[:4])[0])


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError("key names are non-empty, without spaces or '+'")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted Ed25519 note key: name, key id, public key."""

    name: str
    key_id: int
    public: bytes

    @classmethod
    def from_key(cls, vkey: str) -> NoteVerifier:
        """Parse `<name>+<hex key id>+base64(0x01 || public key)`. Raises NoteError."""
        try:
            name, hex_id, material = vkey.strip().split("+", 2)
            raw = base64.b64decode(material, validate=True)
            key_id = int(hex_id, 16)
        except (ValueError, binascii.Error):
            raise NoteError("verifier key is not name+keyid+base64") from None
        _check_name(name)
        if len(hex_id) != 8 or len(raw) != 33 or raw[0] != _ED25519:
            raise NoteError("verifier key is not an Ed25519 note key")
        if _key_id(name, raw[1:]) != key_id:
            raise NoteError("verifier key id does not match its name and public key")
        return cls(name, key_id, raw[1:])

    def key(self) -> str:
        encoded = base64.b64encode(bytes([_ED25519]) + self.public).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, text)
        except InvalidSignature:
            return False
        return True


class NoteSigner:
    """Signs note texts with an Ed25519 key under a name."""

    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._private = private
        public = _raw_public(private.public_key())
        self.verifier = NoteVerifier(name, _key_id(name, public), public)

    def __repr__(self) -> str:
        return f"<NoteSigner {self.name} {self.verifier.key_id:08x}>"

    @classmethod
    def from_key(cls, skey: str) -> NoteSigner:
        """Parse Go's `PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)` signer keys."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key is not PRIVATE+KEY+name+keyid+base64")
        try:
            raw = base64.b64decode(parts[4], validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("signer key is not valid base64") from None
        if len(raw) != 33 or raw[0] != _ED25519:
            raise NoteError("signer key is not an Ed25519 note key")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if f"{signer.verifier.key_id:08x}" != parts[3]:
            raise NoteError("signer key id does not match its name and key")
        return signer

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.generate())

    def key(self) -> str:
        """This signer as Go's `PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)`: secret."""
        seed = self._private.private_bytes_raw()
        blob = base64.b64encode(bytes([_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{blob}"

    def sign(self, text: str) -> str:
        """The signed note: text (ending in a newline), a blank line, our signature line."""
        if not text.endswith("\n"):
            raise NoteError("note text must end with a newline")
        signature = self._private.sign(text.encode())
        blob = base64.b64encode(struct.pack(">I", self.verifier.key_id) + signature).decode()
        return f"{text}\n{_EM_DASH} {self.name} {blob}\n"


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> str:
    """Verify a signed note; returns its text. Raises NoteError.

    Signatures by unknown keys are ignored; one by a known key that fails rejects the
    note; at least one known key must have signed.
    """
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("note contains control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("note has no signature block")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block[:-1].split("\n")
    if not lines or len(lines) > _MAX_SIGNATURES:
        raise NoteError("note has no or too many signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = False
    for line in lines:
        prefix = f"{_EM_DASH} "
        if not line.startswith(prefix) or line.count(" ") != 2:
            raise NoteError("malformed signature line")
        name, encoded = line[len(prefix) :].split(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("signature is not valid base64") from None
        if len(raw) < 5:
            raise NoteError("signature too short")
        (key_id,) = struct.unpack(">I", raw[:4])
        verifier = known.get((name, key_id))
        if verifier is None:
            continue
        if not verifier.verifies(text.encode(), raw[4:]):
            raise NoteError(f"signature by {name} does not verify")
        verified = True
    if not verified:
        raise NoteError("no signature by a trusted key")
    return text


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tlog checkpoint: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's note text (already verified). Raises NoteError."""
    if not text.endswith("\n"):
        raise NoteError("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[0]:
        raise NoteError("checkpoint needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("checkpoint size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("checkpoint root is not base64") from None
    if len(root) != 32:
        raise NoteError("checkpoint root is not a SHA-256 hash")
    if any(not line for line in extensions):
        raise NoteError("checkpoint has an empty extension line")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))
