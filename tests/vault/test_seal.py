"""Sealing records: round trips through a real key file, tampering, moved rows, caps, nonces.

Every way a sealed record or wrapped key can be altered (a bit, a length, a header field,
the row it is bound to) fails with SealError; a moved record fails with the one message
"cannot unseal record", so a caller cannot tell a wrong key from tampering.
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.keyprovider import LocalKeyProvider
from governance.vault import (
    MAX_MESSAGES_PER_DEK,
    DataKey,
    DataKeyExhausted,
    DataKeyScope,
    SealError,
    Vault,
    _seal_with,
    key_id_of,
    record_aad,
)

ROW = {
    "record_id": "rec-0001",
    "tenant": "tenant-a",
    "retention_class": "audit",
    "created_at": "2026-11-25T10:00:00+00:00",
}
AAD = record_aad(**ROW)
UNSEAL_FAILED = "cannot unseal record"

# A fixed DEK for the property tests (hypothesis cannot use function-scoped fixtures).
FIXED_KEY = DataKey(
    bytes(range(16)), DataKeyScope("tenant-a", "audit", "2026-11-25"), bytes(range(32))
)


@pytest.fixture(scope="module")
def shared_vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    """One real vault for the property tests, which run many examples per test call."""
    return Vault(LocalKeyProvider(tmp_path_factory.mktemp("vault") / "keys" / "kek.json"))


def _flip(data: bytes, index: int, bit: int) -> bytes:
    return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]


# -- round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4096, 1 << 20], ids=["empty", "1B", "4KiB", "1MiB"])
def test_round_trip_through_key_file(key_path: Path, scope: DataKeyScope, size: int) -> None:
    """new_data_key -> seal -> open_data_key(wrapped) on a reloaded key file -> unseal."""
    plaintext = bytes(i % 251 for i in range(size))
    writer = Vault(LocalKeyProvider(key_path))
    key, wrapped = writer.new_data_key(scope)
    sealed = writer.seal(key, plaintext, aad=AAD)

    reader = Vault(LocalKeyProvider(key_path))  # a new process: only the file is shared
    opened = reader.open_data_key(wrapped)

    assert len(sealed) == 2 + 1 + 16 + 12 + size + 16
    assert opened.key_id == key.key_id == key_id_of(sealed)
    assert opened.scope == scope
    assert reader.unseal(opened, sealed, aad=AAD) == plaintext


def test_new_data_key_fresh_every_time(vault: Vault, scope: DataKeyScope) -> None:
    """Each new_data_key has its own random id and secret and a wrapped form for the scope."""
    keys = [vault.new_data_key(scope) for _ in range(20)]

    assert len({key.key_id for key, _ in keys}) == 20
    assert len({key._secret for key, _ in keys}) == 20
    for key, wrapped in keys:
        assert len(key.key_id) == 16
        assert len(key._secret) == 32
        assert key.messages == 0
        assert (wrapped.key_id, wrapped.scope, wrapped.kek_version) == (key.key_id, scope, 1)
        assert key._secret not in wrapped.blob


# -- tampering with a sealed record ------------------------------------------------------


def test_unseal_every_bit_flip_refused(vault: Vault, scope: DataKeyScope) -> None:
    """Flipping any single bit of any byte of a short sealed record raises SealError."""
    key, _ = vault.new_data_key(scope)
    sealed = vault.seal(key, b"hello", aad=AAD)

    for index in range(len(sealed)):
        for bit in range(8):
            with pytest.raises(SealError):
                vault.unseal(key, _flip(sealed, index, bit), aad=AAD)
    assert vault.unseal(key, sealed, aad=AAD) == b"hello"


@settings(max_examples=300, deadline=None)
@given(
    plaintext=st.binary(max_size=300),
    nonce=st.binary(min_size=12, max_size=12),
    position=st.floats(min_value=0, max_value=1, exclude_max=True),
    bit=st.integers(min_value=0, max_value=7),
)
def test_unseal_bit_flip_property(
    shared_vault: Vault, plaintext: bytes, nonce: bytes, position: float, bit: int
) -> None:
    """For any plaintext and nonce, one flipped bit anywhere makes unseal raise SealError."""
    vault = shared_vault
    sealed = _seal_with(FIXED_KEY, plaintext, aad=AAD, nonce=nonce)
    index = int(position * len(sealed))

    with pytest.raises(SealError):
        vault.unseal(FIXED_KEY, _flip(sealed, index, bit), aad=AAD)
    assert vault.unseal(FIXED_KEY, sealed, aad=AAD) == plaintext


def test_unseal_every_truncation_refused(vault: Vault, scope: DataKeyScope) -> None:
    """A sealed record cut to any shorter length, down to empty, raises SealError."""
    key, _ = vault.new_data_key(scope)
    sealed = vault.seal(key, b"a short record", aad=AAD)

    for length in range(len(sealed)):
        with pytest.raises(SealError):
            vault.unseal(key, sealed[:length], aad=AAD)


@pytest.mark.parametrize("extra", [b"\x00", b"\xff", b"PS"])
def test_unseal_appended_bytes_refused(vault: Vault, scope: DataKeyScope, extra: bytes) -> None:
    """Bytes appended after the tag make unseal raise SealError."""
    key, _ = vault.new_data_key(scope)
    sealed = vault.seal(key, b"record", aad=AAD)

    with pytest.raises(SealError):
        vault.unseal(key, sealed + extra, aad=AAD)


def test_unseal_other_key_id_refused(vault: Vault, scope: DataKeyScope) -> None:
    """A header naming another key id fails with the one unseal message."""
    key, _ = vault.new_data_key(scope)
    other, _ = vault.new_data_key(scope)
    sealed = vault.seal(key, b"record", aad=AAD)
    relabelled = sealed[:3] + other.key_id + sealed[19:]

    with pytest.raises(SealError) as under_key:
        vault.unseal(key, relabelled, aad=AAD)
    with pytest.raises(SealError) as under_other:
        vault.unseal(other, relabelled, aad=AAD)
    with pytest.raises(SealError) as wrong_key:
        vault.unseal(other, sealed, aad=AAD)

    assert str(under_key.value) == str(under_other.value) == str(wrong_key.value) == UNSEAL_FAILED


MOVES = {
    "record_id": {**ROW, "record_id": "rec-0002"},
    "tenant": {**ROW, "tenant": "tenant-b"},
    "retention_class": {**ROW, "retention_class": "chat-log"},
    "created_at": {**ROW, "created_at": "2026-11-25T10:00:01+00:00"},
    # the same characters split differently between fields: length prefixes tell them apart
    "field_boundary": {**ROW, "record_id": "rec-0001t", "tenant": "enant-a"},
}


@pytest.mark.parametrize("moved_to", list(MOVES))
def test_unseal_moved_record_refused_one_message(
    vault: Vault, scope: DataKeyScope, moved_to: str
) -> None:
    """A record presented with another row's AAD fails with exactly "cannot unseal record"."""
    key, _ = vault.new_data_key(scope)
    sealed = vault.seal(key, b"record", aad=AAD)

    with pytest.raises(SealError) as refused:
        vault.unseal(key, sealed, aad=record_aad(**MOVES[moved_to]))

    assert str(refused.value) == UNSEAL_FAILED


def test_unseal_same_id_wrong_secret_same_message(vault: Vault, scope: DataKeyScope) -> None:
    """A key with the right id but a wrong secret fails exactly like a moved record (no oracle)."""
    key, _ = vault.new_data_key(scope)
    sealed = vault.seal(key, b"record", aad=AAD)
    impostor = DataKey(key.key_id, scope, bytes(32))

    with pytest.raises(SealError) as wrong_secret:
        vault.unseal(impostor, sealed, aad=AAD)
    with pytest.raises(SealError) as moved:
        vault.unseal(key, sealed, aad=record_aad(**MOVES["tenant"]))

    assert str(wrong_secret.value) == str(moved.value) == UNSEAL_FAILED


@settings(max_examples=200, deadline=None)
@given(
    first=st.tuples(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8), st.text()),
    second=st.tuples(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8), st.text()),
)
def test_record_aad_distinct_rows_distinct_aad(
    first: tuple[str, str, str, str], second: tuple[str, str, str, str]
) -> None:
    """record_aad is injective: two different rows never share associated data."""
    names = ("record_id", "tenant", "retention_class", "created_at")
    same = record_aad(**dict(zip(names, first, strict=True))) == record_aad(
        **dict(zip(names, second, strict=True))
    )
    assert same == (first == second)


# -- tampering with a wrapped key --------------------------------------------------------


def test_open_data_key_every_bit_flip_refused(vault: Vault, scope: DataKeyScope) -> None:
    """Flipping any single bit of a wrapped key's blob makes open_data_key raise SealError."""
    _, wrapped = vault.new_data_key(scope)

    for index in range(len(wrapped.blob)):
        for bit in range(8):
            altered = dataclasses.replace(wrapped, blob=_flip(wrapped.blob, index, bit))
            with pytest.raises(SealError):
                vault.open_data_key(altered)
    assert vault.open_data_key(wrapped).key_id == wrapped.key_id


def test_open_data_key_truncated_or_extended_refused(vault: Vault, scope: DataKeyScope) -> None:
    """A wrapped blob cut to any shorter length, or with a byte appended, raises SealError."""
    _, wrapped = vault.new_data_key(scope)

    for blob in [wrapped.blob[:n] for n in range(len(wrapped.blob))] + [wrapped.blob + b"\0"]:
        with pytest.raises(SealError):
            vault.open_data_key(dataclasses.replace(wrapped, blob=blob))


SCOPE_MOVES: dict[str, dict[str, Any]] = {
    "tenant": {"tenant": "tenant-b"},
    "retention_class": {"retention_class": "chat-log"},
    "bucket": {"bucket": "2026-11-26"},
    "generation": {"generation": 1},
}


@pytest.mark.parametrize("change", list(SCOPE_MOVES))
def test_open_data_key_other_scope_refused(vault: Vault, scope: DataKeyScope, change: str) -> None:
    """A wrapped key relabelled with another tenant, class, bucket or generation is refused."""
    _, wrapped = vault.new_data_key(scope)
    moved = dataclasses.replace(wrapped, scope=dataclasses.replace(scope, **SCOPE_MOVES[change]))

    with pytest.raises(SealError):
        vault.open_data_key(moved)


def test_open_data_key_other_key_id_refused(vault: Vault, scope: DataKeyScope) -> None:
    """A wrapped key relabelled with another key id is refused."""
    _, wrapped = vault.new_data_key(scope)
    other, _ = vault.new_data_key(scope)

    with pytest.raises(SealError):
        vault.open_data_key(dataclasses.replace(wrapped, key_id=other.key_id))


def test_open_data_key_wrong_kek_version_refused(
    provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """A wrapped key claiming another (existing or unknown) KEK version is refused."""
    _, wrapped = vault.new_data_key(scope)
    provider.add_version()
    header_v2 = wrapped.blob[:3] + struct.pack(">I", 2) + wrapped.blob[7:]

    for altered in (
        dataclasses.replace(wrapped, kek_version=2),  # field and header disagree
        dataclasses.replace(wrapped, kek_version=7),
        dataclasses.replace(wrapped, kek_version=2, blob=header_v2),  # consistently v2
        dataclasses.replace(wrapped, blob=header_v2),
    ):
        with pytest.raises(SealError):
            vault.open_data_key(altered)
    assert vault.open_data_key(wrapped).key_id == wrapped.key_id


def test_open_data_key_other_key_file_refused(
    tmp_path: Path, vault: Vault, scope: DataKeyScope
) -> None:
    """A key wrapped under another key file's KEK (same version number) is refused."""
    _, wrapped = Vault(LocalKeyProvider(tmp_path / "other" / "kek.json")).new_data_key(scope)

    with pytest.raises(SealError):
        vault.open_data_key(wrapped)


# -- message cap -------------------------------------------------------------------------


def test_seal_message_cap_exhausts_key(provider: LocalKeyProvider, scope: DataKeyScope) -> None:
    """With message_cap=3 the fourth seal raises DataKeyExhausted; earlier records still open."""
    vault = Vault(provider, message_cap=3)
    key, _ = vault.new_data_key(scope)
    sealed = [vault.seal(key, bytes([i]), aad=AAD) for i in range(3)]

    with pytest.raises(DataKeyExhausted):
        vault.seal(key, b"fourth", aad=AAD)
    with pytest.raises(DataKeyExhausted):
        vault.seal(key, b"fifth", aad=AAD)

    assert key.messages == 3
    assert [vault.unseal(key, s, aad=AAD) for s in sealed] == [b"\0", b"\1", b"\2"]


def test_open_data_key_carries_message_count(
    provider: LocalKeyProvider, scope: DataKeyScope
) -> None:
    """open_data_key(wrapped, messages=3) is exhausted at cap 3; messages=2 allows one more."""
    vault = Vault(provider, message_cap=3)
    _, wrapped = vault.new_data_key(scope)

    exhausted = vault.open_data_key(wrapped, messages=3)
    with pytest.raises(DataKeyExhausted):
        vault.seal(exhausted, b"record", aad=AAD)

    nearly = vault.open_data_key(wrapped, messages=2)
    vault.seal(nearly, b"record", aad=AAD)
    with pytest.raises(DataKeyExhausted):
        vault.seal(nearly, b"record", aad=AAD)


def test_message_cap_default_within_gcm_nonce_bound(vault: Vault) -> None:
    """The default cap keeps random 96-bit nonces under NIST's 2^32 messages per key."""
    assert MAX_MESSAGES_PER_DEK <= 2**32
    key = DataKey(FIXED_KEY.key_id, FIXED_KEY.scope, FIXED_KEY._secret, MAX_MESSAGES_PER_DEK)
    with pytest.raises(DataKeyExhausted):
        vault.seal(key, b"record", aad=AAD)


# -- nonces ------------------------------------------------------------------------------


def test_seal_nonces_distinct(vault: Vault, scope: DataKeyScope) -> None:
    """1000 seals of the same plaintext under one key use 1000 distinct nonces."""
    key, _ = vault.new_data_key(scope)
    sealed = [vault.seal(key, b"same", aad=AAD) for _ in range(1000)]

    assert len({s[19:31] for s in sealed}) == 1000
    assert len(set(sealed)) == 1000
    assert {key_id_of(s) for s in sealed} == {key.key_id}
    assert key.messages == 1000
