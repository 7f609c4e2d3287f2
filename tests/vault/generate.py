"""Generate the vault test vectors in tests/vault/vectors/ from fixed keys and nonces.

`python tests/vault/generate.py` rewrites seal.json and wrap.json; `--check` exits 1 when
the committed files differ from what this script produces (test_vectors_are_current does
the same in memory, so a silent change of either format fails CI).

seal.json: records sealed by `governance.vault._seal_with` (format 1), each cross-checked
here against the documented layout built with a fixed-key AESGCM:
    b"PS" | 0x01 | key id (16) | nonce (12) | AESGCM(dek).encrypt(nonce, pt, header + aad)
wrap.json: DEKs wrapped the way LocalKeyProvider does it under fixed KEKs and nonces:
    b"PW" | 0x01 | KEK id (8) | KEK version (u32 BE) | nonce (12) |
    AESGCM(kek).encrypt(nonce, dek, b"kek/1" | version (u32 BE) | KEK id | scope.aad(key id))
wrap-bucket.json: format 2, the DEK first sealed with its bucket's secret (see
governance/shredkeys.py), then wrapped by the KEK as above (header byte 0x02).
Every key here is a public test value; none is used anywhere else.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.vault import DataKey, DataKeyScope, _seal_with, record_aad

VECTORS = Path(__file__).resolve().parent / "vectors"

DEK_A = bytes(range(32))
DEK_B = bytes(range(0xA0, 0xC0))
KEY_ID_A = bytes.fromhex("00112233445566778899aabbccddeeff")
KEY_ID_B = bytes.fromhex("f0e1d2c3b4a5968778695a4b3c2d1e0f")
SCOPE_A = DataKeyScope("tenant-a", "audit", "2026-11-25")
SCOPE_B = DataKeyScope("tenant-b", "chat-log", "2026-11-26", generation=3)
KEKS = {1: bytes(range(0x40, 0x60)), 3: bytes([0x5A]) * 32}

RECORD_1 = {
    "record_id": "rec-0001",
    "tenant": "tenant-a",
    "retention_class": "audit",
    "created_at": "2026-11-25T10:00:00+00:00",
}
RECORD_2 = {
    "record_id": "rec-0002",
    "tenant": "tenant-b",
    "retention_class": "chat-log",
    "created_at": "2026-11-26T23:59:59+00:00",
}
RECORD_UNICODE = {
    "record_id": "rec-ü-0003",
    "tenant": "Mandant-Größe",
    "retention_class": "audit",
    "created_at": "2026-11-25T10:00:01+00:00",
}

# name, key id, DEK, scope, record fields, nonce, plaintext
SEAL_CASES: tuple[tuple[str, bytes, bytes, DataKeyScope, dict[str, str], bytes, bytes], ...] = (
    ("empty", KEY_ID_A, DEK_A, SCOPE_A, RECORD_1, bytes(12), b""),
    ("short-ascii", KEY_ID_A, DEK_A, SCOPE_A, RECORD_1, bytes(range(1, 13)), b"hello, vault"),
    ("one-block", KEY_ID_A, DEK_A, SCOPE_A, RECORD_1, bytes([0xFF]) * 12, b"0123456789abcdef"),
    ("all-bytes", KEY_ID_A, DEK_A, SCOPE_A, RECORD_1, bytes(range(12, 24)), bytes(range(256))),
    (
        "utf8-plaintext-and-aad",
        KEY_ID_A,
        DEK_A,
        SCOPE_A,
        RECORD_UNICODE,
        bytes(range(24, 36)),
        "Grüße aus 東京 — ✓".encode(),
    ),
    ("second-key", KEY_ID_B, DEK_B, SCOPE_B, RECORD_2, bytes(range(36, 48)), b"{}"),
)

KEK_ID = bytes.fromhex("6b656b2d74657374")  # "kek-test"
# name, KEK version, key id, scope, DEK, nonce
WRAP_CASES: tuple[tuple[str, int, bytes, DataKeyScope, bytes, bytes], ...] = (
    ("kek-v1", 1, KEY_ID_A, SCOPE_A, DEK_A, bytes(range(100, 112))),
    ("kek-v3-generation-3", 3, KEY_ID_B, SCOPE_B, DEK_B, bytes([0x01]) * 12),
)


def _scope_json(scope: DataKeyScope) -> dict[str, Any]:
    return {
        "tenant": scope.tenant,
        "retention_class": scope.retention_class,
        "bucket": scope.bucket,
        "generation": scope.generation,
    }


def seal_vectors() -> dict[str, Any]:
    """Sealed records from `_seal_with`, refused unless they match the documented layout."""
    cases = []
    for name, key_id, secret, scope, record, nonce, plaintext in SEAL_CASES:
        aad = record_aad(**record)
        sealed = _seal_with(DataKey(key_id, scope, secret), plaintext, aad=aad, nonce=nonce)
        header = b"PS" + bytes([1]) + key_id + nonce
        expected = header + AESGCM(secret).encrypt(nonce, plaintext, header + aad)
        if sealed != expected:
            raise RuntimeError(f"seal vector {name}: _seal_with differs from the format")
        cases.append(
            {
                "name": name,
                "key_id": key_id.hex(),
                "dek": secret.hex(),
                "scope": _scope_json(scope),
                "record": record,
                "aad": aad.hex(),
                "nonce": nonce.hex(),
                "plaintext": plaintext.hex(),
                "sealed": sealed.hex(),
            }
        )
    return {"format": 1, "cases": cases}


def wrap_vectors() -> dict[str, Any]:
    """DEKs wrapped under fixed KEK versions as LocalKeyProvider and Vault lay them out."""
    cases = []
    for name, version, key_id, scope, dek, nonce in WRAP_CASES:
        scope_aad = scope.aad(key_id)
        inner = AESGCM(KEKS[version]).encrypt(
            nonce, dek, b"kek/1" + struct.pack(">I", version) + KEK_ID + scope_aad
        )
        blob = b"PW" + bytes([1]) + KEK_ID + struct.pack(">I", version) + nonce + inner
        cases.append(
            {
                "name": name,
                "kek_version": version,
                "key_id": key_id.hex(),
                "scope": _scope_json(scope),
                "scope_aad": scope_aad.hex(),
                "dek": dek.hex(),
                "nonce": nonce.hex(),
                "blob": blob.hex(),
            }
        )
    keks = {str(version): kek.hex() for version, kek in sorted(KEKS.items())}
    return {"format": 1, "kek_id": KEK_ID.hex(), "keks": keks, "cases": cases}


BUCKET_SECRETS = {
    "tenant-a/audit/2026-11-25": bytes(range(0x80, 0xA0)),
    "tenant-b/chat-log/2026-11-26": bytes([0xC3]) * 32,
}
# name, KEK version, key id, scope, DEK, outer nonce (KEK), inner nonce (bucket secret)
BUCKET_WRAP_CASES: tuple[tuple[str, int, bytes, DataKeyScope, bytes, bytes, bytes], ...] = (
    ("bucket-kek-v1", 1, KEY_ID_A, SCOPE_A, DEK_A, bytes(range(112, 124)), bytes(range(12))),
    (
        "bucket-kek-v3-generation-3",
        3,
        KEY_ID_B,
        SCOPE_B,
        DEK_B,
        bytes([0x02]) * 12,
        bytes([0x03]) * 12,
    ),
)


def _bucket_name(scope: DataKeyScope) -> str:
    return f"{scope.tenant}/{scope.retention_class}/{scope.bucket}"


def bucket_wrap_vectors() -> dict[str, Any]:
    """Format 2: the KEK wraps inner nonce | AESGCM(bucket secret)(DEK, b"bucket/1" | scope
    AAD); shredding a bucket destroys the secret, which is never in the database."""
    cases = []
    for name, version, key_id, scope, dek, outer, inner_nonce in BUCKET_WRAP_CASES:
        scope_aad = scope.aad(key_id)
        secret = BUCKET_SECRETS[_bucket_name(scope)]
        inner = inner_nonce + AESGCM(secret).encrypt(inner_nonce, dek, b"bucket/1" + scope_aad)
        wrapped = AESGCM(KEKS[version]).encrypt(
            outer, inner, b"kek/1" + struct.pack(">I", version) + KEK_ID + scope_aad
        )
        blob = b"PW" + bytes([2]) + KEK_ID + struct.pack(">I", version) + outer + wrapped
        cases.append(
            {
                "name": name,
                "kek_version": version,
                "key_id": key_id.hex(),
                "scope": _scope_json(scope),
                "scope_aad": scope_aad.hex(),
                "bucket_secret": secret.hex(),
                "dek": dek.hex(),
                "blob": blob.hex(),
            }
        )
    keks = {str(version): kek.hex() for version, kek in sorted(KEKS.items())}
    return {"format": 2, "kek_id": KEK_ID.hex(), "keks": keks, "cases": cases}


def render() -> dict[str, str]:
    """File name -> exact JSON text of every vector file."""
    documents = {
        "seal.json": seal_vectors(),
        "wrap.json": wrap_vectors(),
        "wrap-bucket.json": bucket_wrap_vectors(),
    }
    return {
        name: json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        for name, document in documents.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file would change")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render().items():
        path = VECTORS / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            VECTORS.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale vectors: {', '.join(stale)}; run python tests/vault/generate.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
