"""Wrapped keys name the KEK that wraps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.keyprovider import LocalKeyProvider
from governance.vault import DataKeyScope, SealError, Vault


def test_wrapped_key_names_its_kek_and_other_keks_refuse_it(tmp_path: Path) -> None:
    """A DEK wrapped under one key file's KEK is refused by another's, naming both ids."""
    scope = DataKeyScope("t1", "inference_logs", "2026-11-25")
    first = LocalKeyProvider(tmp_path / "a" / "kek.json")
    other = LocalKeyProvider(tmp_path / "b" / "kek.json")
    assert first.key_id() != other.key_id()
    assert len(first.key_id()) == 8
    _, wrapped = Vault(first).new_data_key(scope)
    assert wrapped.blob[3:11] == first.key_id()
    with pytest.raises(SealError) as caught:
        Vault(other).open_data_key(wrapped)
    assert first.key_id().hex() in str(caught.value)
    assert other.key_id().hex() in str(caught.value)
    assert Vault(LocalKeyProvider(tmp_path / "a" / "kek.json")).open_data_key(wrapped)


def test_kek_id_survives_rotation(tmp_path: Path) -> None:
    """Rotation adds versions of the same KEK: its id stays, old wraps still open."""
    provider = LocalKeyProvider(tmp_path / "kek.json")
    kek_id = provider.key_id()
    vault = Vault(provider)
    _, wrapped = vault.new_data_key(DataKeyScope("t", "c", "2026-11-25"))
    provider.promote(provider.add_version())
    assert provider.key_id() == kek_id
    assert LocalKeyProvider(tmp_path / "kek.json").key_id() == kek_id
    assert vault.rewrap(wrapped).blob[3:11] == kek_id
