"""The KEK file and key objects: private modes, refusals that never quote keys, no leaks.

A key file is created 0600 in a 0700 directory; a wider mode, broken JSON, bad base64 or
a wrong key length is a KeyFileError naming the file, never the key material. Reprs of
providers, data keys and wrapped keys hold no key bytes, and data keys refuse pickling.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import stat
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from governance.errors import KeyFileError
from governance.keyprovider import LocalKeyProvider
from governance.vault import DataKey, DataKeyScope, Vault


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _forms(secret: bytes) -> tuple[str, ...]:
    """Ways key bytes could show up in text: hex, base64 (with and without padding), repr."""
    encoded = base64.b64encode(secret).decode()
    return (
        secret.hex(),
        secret.hex().upper(),
        encoded,
        encoded.rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret),
    )


def _keks(path: Path) -> list[bytes]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [base64.b64decode(entry["key"]) for entry in data["versions"] if entry["key"]]


def _assert_no_key_material(text: str, secrets: list[bytes], raw: Sequence[str] = ()) -> None:
    for secret in secrets:
        for form in _forms(secret):
            assert form not in text
    for value in raw:
        assert value not in text


def test_key_file_created_private(key_path: Path) -> None:
    """A missing key file is created with v1 as primary, mode 0600, directory 0700."""
    provider = LocalKeyProvider(key_path)

    assert _mode(key_path) == 0o600
    assert _mode(key_path.parent) == 0o700
    assert provider.primary_version() == 1
    assert provider.readable_versions() == {1}
    assert [len(kek) for kek in _keks(key_path)] == [32]
    assert [p.name for p in key_path.parent.iterdir()] == [key_path.name]


def test_key_file_created_private_under_open_umask(key_path: Path) -> None:
    """Even with umask 000 the key file is 0600 and its directory 0700."""
    previous = os.umask(0)
    try:
        provider = LocalKeyProvider(key_path)
        provider.add_version()
    finally:
        os.umask(previous)

    assert _mode(key_path) == 0o600
    assert _mode(key_path.parent) == 0o700


def test_key_file_reopened_same_keks(key_path: Path, scope: DataKeyScope) -> None:
    """Reopening an existing key file neither rewrites it nor changes its keys."""
    _, wrapped = Vault(LocalKeyProvider(key_path)).new_data_key(scope)
    before = key_path.read_bytes()
    modified = key_path.stat().st_mtime_ns

    reopened = LocalKeyProvider(key_path)

    assert Vault(reopened).open_data_key(wrapped).key_id == wrapped.key_id
    assert key_path.read_bytes() == before
    assert key_path.stat().st_mtime_ns == modified


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_key_file_wide_mode_refused(key_path: Path, mode: int) -> None:
    """A key file readable or writable by group or others is refused, naming path and mode."""
    provider = LocalKeyProvider(key_path)
    secrets = _keks(key_path)
    before = key_path.read_bytes()
    key_path.chmod(mode)

    for attempt in (lambda: LocalKeyProvider(key_path), provider.reload):
        with pytest.raises(KeyFileError) as refused:
            attempt()
        message = str(refused.value)
        assert str(key_path) in message
        assert f"{mode:04o}" in message
        _assert_no_key_material(message + repr(refused.value), secrets)
    assert key_path.read_bytes() == before  # refused, not replaced


def _edit(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        data = json.loads(text)
        mutate(data)
        return json.dumps(data)

    return edit


def _set_key(version_index: int, value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["versions"][version_index]["key"] = value

    return mutate


def _bad_base64(data: dict[str, Any]) -> None:
    key = data["versions"][0]["key"]
    data["versions"][0]["key"] = key[:10] + "*" + key[11:]


CORRUPTIONS: dict[str, Callable[[str], str]] = {
    "truncated-json": lambda text: text[: len(text) // 2],
    "not-json": lambda text: "kek = " + text,
    "not-utf8": lambda text: "\udcff" + text,
    "top-level-array": lambda text: "[" + text + "]",
    "top-level-null": lambda text: "null",
    "top-level-string": lambda text: json.dumps(text),
    "format-2": _edit(lambda data: data.update(format=2)),
    "versions-missing": _edit(lambda data: data.pop("versions")),
    "versions-not-list": _edit(lambda data: data.update(versions=7)),
    "primary-missing": _edit(lambda data: data.pop("primary")),
    "primary-unknown": _edit(lambda data: data.update(primary=9)),
    "primary-retired": _edit(_set_key(0, None)),
    "bad-base64": _edit(_bad_base64),
    "key-not-string": _edit(_set_key(0, 12345)),
    "key-31-bytes": _edit(_set_key(0, base64.b64encode(bytes(31)).decode())),
    "key-33-bytes": _edit(_set_key(0, base64.b64encode(bytes(33)).decode())),
    "non-primary-key-16-bytes": _edit(_set_key(1, base64.b64encode(bytes(16)).decode())),
    "non-primary-key-empty": _edit(_set_key(1, "")),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_key_file_corrupt_refused_without_key_material(key_path: Path, corruption: str) -> None:
    """A malformed key file is a KeyFileError naming the file, quoting no key material."""
    provider = LocalKeyProvider(key_path)
    provider.add_version()
    text = key_path.read_text(encoding="utf-8")
    secrets = _keks(key_path)
    stored = [entry["key"] for entry in json.loads(text)["versions"]]
    corrupted = CORRUPTIONS[corruption](text)
    key_path.write_bytes(corrupted.encode("utf-8", errors="surrogateescape"))
    assert _mode(key_path) == 0o600

    for attempt in (lambda: LocalKeyProvider(key_path), provider.reload):
        with pytest.raises(KeyFileError) as refused:
            attempt()
        assert str(key_path) in str(refused.value)
        shown = "".join(traceback.format_exception(refused.value)) + repr(refused.value)
        _assert_no_key_material(shown, secrets, raw=[s[4:24] for s in stored if s])


def test_provider_kept_state_after_refused_reload(
    key_path: Path, provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """A reload that fails leaves the provider working with the keys it already had."""
    _, wrapped = vault.new_data_key(scope)
    key_path.write_text("{", encoding="utf-8")

    with pytest.raises(KeyFileError):
        provider.reload()

    assert provider.primary_version() == 1
    assert vault.open_data_key(wrapped).key_id == wrapped.key_id


def test_reprs_hold_no_key_bytes(
    key_path: Path, provider: LocalKeyProvider, vault: Vault, scope: DataKeyScope
) -> None:
    """repr and str of provider, versions, DataKey and WrappedKey contain no key bytes."""
    provider.add_version()
    key, wrapped = vault.new_data_key(scope)
    secrets = [*_keks(key_path), key._secret, wrapped.blob, wrapped.blob[7:]]

    shown = [provider, *provider.versions(), key, wrapped, vault.open_data_key(wrapped)]
    text = "\n".join(repr(obj) + str(obj) + f"{obj!r}" for obj in shown)

    _assert_no_key_material(text, secrets)
    assert repr(key) == f"<DataKey {key.key_id.hex()} tenant-a/audit>"
    assert repr(wrapped) == f"<WrappedKey {wrapped.key_id.hex()} kek v1>"


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_data_key_refuses_pickling(vault: Vault, scope: DataKeyScope, protocol: int) -> None:
    """pickle.dumps of a DataKey raises TypeError at every protocol, quoting no key bytes."""
    key, _ = vault.new_data_key(scope)

    with pytest.raises(TypeError) as refused:
        pickle.dumps(key, protocol=protocol)

    _assert_no_key_material(str(refused.value), [key._secret])


def test_wrapped_key_pickles(vault: Vault, scope: DataKeyScope) -> None:
    """A WrappedKey is storable: it pickles and still opens after a round trip."""
    _, wrapped = vault.new_data_key(scope)

    restored = pickle.loads(pickle.dumps(wrapped))  # noqa: S301  # our own bytes, just made

    assert restored == wrapped
    assert vault.open_data_key(restored).key_id == wrapped.key_id


def test_data_key_scope_equal_by_value() -> None:
    """Scopes compare by value, so a scope rebuilt from stored fields matches the original."""
    assert DataKeyScope("t", "c", "b", 1) == DataKeyScope("t", "c", "b", 1)
    assert DataKeyScope("t", "c", "b", 1) != DataKeyScope("t", "c", "b", 2)
    assert DataKey(bytes(16), DataKeyScope("t", "c", "b"), bytes(32)) != DataKey(
        bytes(16), DataKeyScope("t", "c", "b"), bytes(32)
    )  # eq=False: data keys are never compared by secret
