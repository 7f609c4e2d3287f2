"""Vault fixtures: a real LocalKeyProvider on a key file in tmp_path, and a Vault on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.keyprovider import LocalKeyProvider
from governance.vault import DataKeyScope, Vault


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    """Where the provider keeps its KEKs; the `keys` directory does not exist yet."""
    return tmp_path / "keys" / "kek.json"


@pytest.fixture
def provider(key_path: Path) -> LocalKeyProvider:
    return LocalKeyProvider(key_path)


@pytest.fixture
def vault(provider: LocalKeyProvider) -> Vault:
    return Vault(provider)


@pytest.fixture
def scope() -> DataKeyScope:
    return DataKeyScope("tenant-a", "audit", "2026-11-25")
