"""Vectors: the sealed-record and wrapped-key formats are pinned by committed JSON files.

seal.json and wrap.json come from generate.py (fixed keys, key ids and nonces). The tests
reproduce them with the product code, open them with it, and also open them with
`cryptography`'s AESGCM directly from the documented layout, so neither the format nor
the associated data can change without a vector changing too.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.keyprovider import LocalKeyProvider
from governance.shredkeys import BucketKeys, bucket_id
from governance.vault import (
    DataKey,
    DataKeyScope,
    KeyDestroyed,
    SealError,
    Vault,
    WrappedKey,
    _seal_with,
    key_id_of,
    record_aad,
)
from tests.vault import generate

SEAL = json.loads((generate.VECTORS / "seal.json").read_text(encoding="utf-8"))
WRAP = json.loads((generate.VECTORS / "wrap.json").read_text(encoding="utf-8"))
SEAL_CASES = {case["name"]: case for case in SEAL["cases"]}
WRAP_CASES = {case["name"]: case for case in WRAP["cases"]}


def _scope(case: dict[str, Any]) -> DataKeyScope:
    return DataKeyScope(**case["scope"])


def _data_key(case: dict[str, Any]) -> DataKey:
    return DataKey(bytes.fromhex(case["key_id"]), _scope(case), bytes.fromhex(case["dek"]))


def _wrapped(case: dict[str, Any]) -> WrappedKey:
    return WrappedKey(
        bytes.fromhex(case["key_id"]),
        _scope(case),
        case["kek_version"],
        bytes.fromhex(case["blob"]),
    )


def _length_prefixed(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def _write_key_file(path: Path, keks: dict[int, bytes | None], primary: int) -> None:
    """A format-1 key file written by hand (not by the provider), mode 0600."""
    versions = [
        {
            "version": version,
            "key": base64.b64encode(kek).decode() if kek is not None else None,
            "created_at": "2026-11-25T00:00:00+00:00",
        }
        for version, kek in sorted(keks.items())
    ]
    document = {"format": 1, "kek_id": WRAP["kek_id"], "primary": primary, "versions": versions}
    path.write_text(json.dumps(document))
    path.chmod(0o600)


@pytest.fixture
def vector_provider(tmp_path: Path) -> LocalKeyProvider:
    """A provider on a key file holding wrap.json's fixed KEKs (v2 retired in between)."""
    keks: dict[int, bytes | None] = {int(v): bytes.fromhex(k) for v, k in WRAP["keks"].items()}
    keks[2] = None
    path = tmp_path / "kek.json"
    _write_key_file(path, keks, primary=max(keks))
    return LocalKeyProvider(path)


def test_vectors_are_current() -> None:
    """Rerunning generate.py reproduces the committed vector files byte for byte."""
    rendered = generate.render()
    committed = sorted(path.name for path in generate.VECTORS.glob("*.json"))
    assert committed == sorted(rendered)
    for name, text in rendered.items():
        assert (generate.VECTORS / name).read_text(encoding="utf-8") == text, name


def test_vectors_cover_the_formats() -> None:
    """The vector files hold the cases the format tests rely on (empty, unicode, 2 keys)."""
    assert SEAL["format"] == WRAP["format"] == 1
    assert {"empty", "utf8-plaintext-and-aad", "second-key"} <= set(SEAL_CASES)
    assert len({case["key_id"] for case in SEAL["cases"]}) == 2
    assert len({case["kek_version"] for case in WRAP["cases"]}) == 2


@pytest.mark.parametrize("name", list(SEAL_CASES))
def test_seal_vectors(name: str, vault: Vault) -> None:
    """_seal_with reproduces each sealed vector exactly and Vault.unseal opens it."""
    case = SEAL_CASES[name]
    key = _data_key(case)
    aad = record_aad(**case["record"])
    assert aad.hex() == case["aad"]

    sealed = _seal_with(
        key, bytes.fromhex(case["plaintext"]), aad=aad, nonce=bytes.fromhex(case["nonce"])
    )

    assert sealed.hex() == case["sealed"]
    assert key_id_of(sealed) == key.key_id
    assert vault.unseal(key, sealed, aad=aad) == bytes.fromhex(case["plaintext"])


@pytest.mark.parametrize("name", list(SEAL_CASES))
def test_seal_vectors_open_with_plain_aesgcm(name: str) -> None:
    """Each vector is b"PS" | 0x01 | key id | nonce | ct | tag, AAD = header + record AAD."""
    case = SEAL_CASES[name]
    sealed = bytes.fromhex(case["sealed"])
    plaintext = bytes.fromhex(case["plaintext"])
    header, body = sealed[:31], sealed[31:]

    assert header[:2] == b"PS"
    assert header[2] == 0x01
    assert header[3:19].hex() == case["key_id"]
    assert header[-12:].hex() == case["nonce"]
    assert len(body) == len(plaintext) + 16
    aad = header + record_aad(**case["record"])
    assert AESGCM(bytes.fromhex(case["dek"])).decrypt(header[-12:], body, aad) == plaintext


@pytest.mark.parametrize("name", list(SEAL_CASES))
def test_record_aad_vectors_are_length_prefixed(name: str) -> None:
    """record_aad is u32-BE-length-prefixed b"record/1", id, tenant, class, created_at."""
    record = SEAL_CASES[name]["record"]
    fields = ("record_id", "tenant", "retention_class", "created_at")
    expected = _length_prefixed(b"record/1", *(record[f].encode("utf-8") for f in fields))
    assert record_aad(**record) == expected
    assert expected.hex() == SEAL_CASES[name]["aad"]


@pytest.mark.parametrize("name", list(WRAP_CASES))
def test_wrap_vectors_open_with_local_provider(
    name: str, vector_provider: LocalKeyProvider
) -> None:
    """A key file holding the fixed KEKs opens each wrapped vector to its exact DEK."""
    case = WRAP_CASES[name]
    wrapped = _wrapped(case)
    assert _scope(case).aad(wrapped.key_id).hex() == case["scope_aad"]
    vault = Vault(vector_provider)

    key = vault.open_data_key(wrapped)

    assert key._secret.hex() == case["dek"]
    assert key.key_id == wrapped.key_id
    assert key.scope == _scope(case)
    sealed = vault.seal(key, b"payload", aad=b"row")
    assert vault.unseal(_data_key(case), sealed, aad=b"row") == b"payload"


@pytest.mark.parametrize("name", list(WRAP_CASES))
def test_wrap_vectors_scope_aad_layout(name: str) -> None:
    """Scope AAD: length-prefixed b"dek/1", key id, tenant, class, bucket; u32 generation."""
    case = WRAP_CASES[name]
    scope = case["scope"]
    expected = _length_prefixed(
        b"dek/1",
        bytes.fromhex(case["key_id"]),
        scope["tenant"].encode(),
        scope["retention_class"].encode(),
        scope["bucket"].encode(),
    ) + struct.pack(">I", scope["generation"])
    assert expected.hex() == case["scope_aad"]


def test_wrap_vectors_refused_after_kek_retired(tmp_path: Path) -> None:
    """The same wrapped vector stops opening once its KEK version is retired in the file."""
    path = tmp_path / "kek.json"
    keks = {int(v): bytes.fromhex(k) for v, k in WRAP["keks"].items()}
    _write_key_file(path, {1: None, 3: keks[3]}, primary=3)
    vault = Vault(LocalKeyProvider(path))

    with pytest.raises(SealError):
        vault.open_data_key(_wrapped(WRAP_CASES["kek-v1"]))
    assert vault.open_data_key(_wrapped(WRAP_CASES["kek-v3-generation-3"])).messages == 0


def test_wrap_written_by_provider_matches_documented_layout(
    vector_provider: LocalKeyProvider, scope: DataKeyScope
) -> None:
    """A fresh wrap is b"PW" | 0x01 | KEK id | u32 version | nonce | AESGCM(kek) over the
    KEK id and scope AAD."""
    vault = Vault(vector_provider)
    key, wrapped = vault.new_data_key(scope)
    blob = wrapped.blob
    version = vector_provider.primary_version()

    assert blob[:2] == b"PW"
    assert blob[2] == 0x01
    kek_id = bytes.fromhex(WRAP["kek_id"])
    assert blob[3:11] == kek_id == vector_provider.key_id()
    assert struct.unpack(">I", blob[11:15]) == (version,) == (wrapped.kek_version,)
    kek = bytes.fromhex(WRAP["keks"][str(version)])
    aad = b"kek/1" + struct.pack(">I", version) + kek_id + scope.aad(wrapped.key_id)
    dek = AESGCM(kek).decrypt(blob[15:27], blob[27:], aad)
    assert len(dek) == 32
    sealed = vault.seal(key, b"payload", aad=b"row")
    assert vault.unseal(DataKey(wrapped.key_id, scope, dek), sealed, aad=b"row") == b"payload"


def test_seal_written_by_vault_matches_documented_layout(vault: Vault, scope: DataKeyScope) -> None:
    """A random-nonce seal opens with plain AESGCM from the documented header layout."""
    key, _ = vault.new_data_key(scope)
    aad = record_aad(
        record_id="r1", tenant="tenant-a", retention_class="audit", created_at="2026-11-25"
    )
    sealed = vault.seal(key, b"some record", aad=aad)
    header = sealed[:31]

    assert header[:3] == b"PS\x01"
    assert header[3:19] == key.key_id
    plain = AESGCM(key._secret).decrypt(header[-12:], sealed[31:], header + aad)
    assert plain == b"some record"


BUCKET_WRAP = json.loads((generate.VECTORS / "wrap-bucket.json").read_text(encoding="utf-8"))
BUCKET_WRAP_CASES = {case["name"]: case for case in BUCKET_WRAP["cases"]}


def _bucket_keys(path: Path, case: dict[str, Any], *, shredded: bool = False) -> BucketKeys:
    """A bucket key file holding the vector's fixed secret (or its tombstone)."""
    scope = case["scope"]
    name = bucket_id(scope["tenant"], scope["retention_class"], scope["bucket"])
    secret = None if shredded else base64.b64encode(bytes.fromhex(case["bucket_secret"])).decode()
    path.write_text(json.dumps({"format": 1, "buckets": {name: secret}}))
    path.chmod(0o600)
    return BucketKeys(path)


@pytest.mark.parametrize("name", list(BUCKET_WRAP_CASES))
def test_bucket_wrap_vectors_open_with_their_bucket_secret(
    name: str, vector_provider: LocalKeyProvider, tmp_path: Path
) -> None:
    """Format 2 vectors open to their exact DEK with the KEK and the bucket's secret."""
    case = BUCKET_WRAP_CASES[name]
    vault = Vault(vector_provider, buckets=_bucket_keys(tmp_path / "buckets.json", case))

    key = vault.open_data_key(_wrapped(case))

    assert key._secret.hex() == case["dek"]


@pytest.mark.parametrize("name", list(BUCKET_WRAP_CASES))
def test_bucket_wrap_vectors_are_dead_once_the_bucket_is_shredded(
    name: str, vector_provider: LocalKeyProvider, tmp_path: Path
) -> None:
    """With the bucket's secret destroyed (or no bucket key file), the same stored blob,
    as a backup would hold it, no longer opens: KEK access alone is not enough."""
    case = BUCKET_WRAP_CASES[name]
    shredded = _bucket_keys(tmp_path / "buckets.json", case, shredded=True)
    with pytest.raises(KeyDestroyed):
        Vault(vector_provider, buckets=shredded).open_data_key(_wrapped(case))
    with pytest.raises(SealError):
        Vault(vector_provider).open_data_key(_wrapped(case))


def test_bucket_wrap_vectors_match_the_documented_layout(
    vector_provider: LocalKeyProvider, tmp_path: Path
) -> None:
    """A DEK the vault wraps with bucket keys opens by hand from the documented layout."""
    case = BUCKET_WRAP_CASES["bucket-kek-v1"]
    buckets = _bucket_keys(tmp_path / "buckets.json", case)
    vault = Vault(vector_provider, buckets=buckets)
    scope = _scope(case)
    key, wrapped = vault.new_data_key(scope)
    blob = wrapped.blob
    assert blob[:3] == b"PW\x02"
    version = struct.unpack(">I", blob[11:15])[0]
    kek = bytes.fromhex(BUCKET_WRAP["keks"][str(version)])
    scope_aad = scope.aad(key.key_id)
    inner = AESGCM(kek).decrypt(
        blob[15:27], blob[27:], b"kek/1" + struct.pack(">I", version) + blob[3:11] + scope_aad
    )
    secret = bytes.fromhex(case["bucket_secret"])
    dek = AESGCM(secret).decrypt(inner[:12], inner[12:], b"bucket/1" + scope_aad)
    assert dek == key._secret
