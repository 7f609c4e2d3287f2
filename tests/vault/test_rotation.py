"""KEK rotation on a real key file: add_version, promote, rewrap, retire, reload.

Two-phase: a new version unwraps before it wraps; promoting it moves new wraps over;
rewrap keeps the DEK (records need no rewriting); retiring a version destroys its key
material, so only what was rewrapped stays readable. The file stays 0600, atomic, and
free of temporary files throughout.
"""

from __future__ import annotations

import contextlib
import json
import stat
from pathlib import Path

import pytest

from governance.errors import KeyFileError
from governance.keyprovider import LocalKeyProvider
from governance.vault import DataKeyScope, SealError, Vault, record_aad

AAD = record_aad(
    record_id="rec-0001", tenant="tenant-a", retention_class="audit", created_at="2026-11-25"
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _kek_material(path: Path) -> dict[int, str | None]:
    """Version -> base64 key material as stored in the key file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {entry["version"]: entry["key"] for entry in data["versions"]}


def test_add_version_readable_but_not_primary(
    provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """add_version creates v2 that can unwrap while v1 stays primary and keeps wrapping."""
    assert provider.add_version() == 2

    assert provider.primary_version() == 1
    assert provider.readable_versions() == {1, 2}
    assert [(v.version, v.state) for v in provider.versions()] == [(1, "active"), (2, "active")]
    _, wrapped = vault.new_data_key(scope)
    assert wrapped.kek_version == 1


def test_promote_moves_new_wraps_old_still_open(
    provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """After promote(2) new wraps use v2 and keys wrapped under v1 still open."""
    old_key, old = vault.new_data_key(scope)
    provider.add_version()

    provider.promote(2)

    assert provider.primary_version() == 2
    new_key, new = vault.new_data_key(scope)
    assert new.kek_version == 2
    assert vault.open_data_key(old)._secret == old_key._secret
    assert vault.open_data_key(new)._secret == new_key._secret


def test_rewrap_same_dek_under_primary(
    provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """rewrap gives kek_version 2 and the same DEK: records sealed before open unchanged."""
    key, old = vault.new_data_key(scope)
    sealed = vault.seal(key, b"sealed before rotation", aad=AAD)
    provider.add_version()
    provider.promote(2)

    rewrapped = vault.rewrap(old)

    assert rewrapped.kek_version == 2
    assert (rewrapped.key_id, rewrapped.scope) == (old.key_id, old.scope)
    assert rewrapped.blob != old.blob
    opened = vault.open_data_key(rewrapped)
    assert opened._secret == key._secret
    assert vault.unseal(opened, sealed, aad=AAD) == b"sealed before rotation"


def test_retire_destroys_old_version(
    key_path: Path, provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """After retire(1) a v1-wrapped key is refused; its rewrapped copy still opens."""
    key, old = vault.new_data_key(scope)
    sealed = vault.seal(key, b"record", aad=AAD)
    provider.add_version()
    provider.promote(2)
    rewrapped = vault.rewrap(old)
    v1_material = _kek_material(key_path)[1]
    assert v1_material is not None

    provider.retire(1)

    with pytest.raises(SealError):
        vault.open_data_key(old)
    with pytest.raises(SealError):
        vault.rewrap(old)
    assert vault.unseal(vault.open_data_key(rewrapped), sealed, aad=AAD) == b"record"
    assert provider.readable_versions() == {2}
    assert [(v.version, v.state) for v in provider.versions()] == [(1, "retired"), (2, "active")]
    assert _kek_material(key_path)[1] is None
    assert v1_material not in key_path.read_text(encoding="utf-8")


def test_retire_persists_and_numbering_continues(
    key_path: Path, provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """A provider reopened after a retire keeps v1 retired; the next version is 3, not 1."""
    _, old = vault.new_data_key(scope)
    provider.add_version()
    provider.promote(2)
    provider.retire(1)

    reopened = LocalKeyProvider(key_path)

    assert reopened.primary_version() == 2
    assert reopened.readable_versions() == {2}
    with pytest.raises(SealError):
        Vault(reopened).open_data_key(old)
    assert reopened.add_version() == 3


def test_retire_primary_refused(key_path: Path, provider: LocalKeyProvider) -> None:
    """retire(primary) raises KeyFileError and leaves the key file untouched."""
    before = key_path.read_bytes()
    provider.add_version()
    after_add = key_path.read_bytes()

    with pytest.raises(KeyFileError, match="primary"):
        provider.retire(1)

    assert before != after_add == key_path.read_bytes()
    assert provider.primary_version() == 1
    assert provider.readable_versions() == {1, 2}


def test_retire_unknown_version_refused(key_path: Path, provider: LocalKeyProvider) -> None:
    """retire of a version that never existed raises KeyFileError; nothing changes."""
    before = key_path.read_bytes()

    with pytest.raises(KeyFileError):
        provider.retire(5)

    assert key_path.read_bytes() == before


@pytest.mark.parametrize("target", ["unknown", "retired"])
def test_promote_unknown_or_retired_refused(
    key_path: Path, provider: LocalKeyProvider, target: str
) -> None:
    """promote of a version that does not exist or is retired raises KeyFileError."""
    provider.add_version()
    provider.promote(2)
    provider.retire(1)
    before = key_path.read_bytes()

    with pytest.raises(KeyFileError):
        provider.promote(9 if target == "unknown" else 1)

    assert provider.primary_version() == 2
    assert key_path.read_bytes() == before


def test_second_provider_sees_rotation_after_reload(
    key_path: Path, provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """A second provider on the same file follows add, promote and retire after reload()."""
    replica = LocalKeyProvider(key_path)
    replica_vault = Vault(replica)
    _, old = vault.new_data_key(scope)

    provider.add_version()
    assert replica.readable_versions() == {1}  # not re-read yet
    replica.reload()
    assert replica.primary_version() == 1
    assert replica.readable_versions() == {1, 2}

    provider.promote(2)
    _, new = vault.new_data_key(scope)
    replica.reload()
    assert replica.primary_version() == 2
    assert replica_vault.new_data_key(scope)[1].kek_version == 2
    assert replica_vault.open_data_key(new).key_id == new.key_id

    rewrapped = vault.rewrap(old)
    provider.retire(1)
    replica.reload()
    assert replica.readable_versions() == {2}
    with pytest.raises(SealError):
        replica_vault.open_data_key(old)
    assert replica_vault.open_data_key(rewrapped).key_id == old.key_id


def test_stale_provider_never_destroys_newer_versions(
    key_path: Path, provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """A provider that has not re-read the file cannot overwrite versions added since."""
    stale = LocalKeyProvider(key_path)
    provider.add_version()
    provider.promote(2)
    _, wrapped = vault.new_data_key(scope)  # wrapped under v2

    with contextlib.suppress(KeyFileError):  # building on the file's v2 or refusing: both fine
        stale.add_version()

    current = LocalKeyProvider(key_path)
    assert current.primary_version() == 2
    assert Vault(current).open_data_key(wrapped).key_id == wrapped.key_id


def test_rotation_keeps_file_private_without_temp_files(
    key_path: Path, provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """Every rotation step leaves only the 0600 key file (and its 0600 lock file, which
    serialises rotations between processes) in its 0700 directory: no temp files."""
    _, old = vault.new_data_key(scope)
    steps = (
        provider.add_version,
        lambda: provider.promote(2),
        lambda: vault.rewrap(old),
        lambda: provider.retire(1),
        provider.add_version,
        lambda: provider.promote(3),
        provider.reload,
    )
    for step in steps:
        step()
        assert _mode(key_path) == 0o600
        assert _mode(key_path.parent) == 0o700
        names = sorted(p.name for p in key_path.parent.iterdir())
        assert set(names) <= {key_path.name, f"{key_path.name}.lock"}, names
        for path in key_path.parent.iterdir():
            assert _mode(path) == 0o600
    assert [(v.version, v.state) for v in LocalKeyProvider(key_path).versions()] == [
        (1, "retired"),
        (2, "active"),
        (3, "active"),
    ]
