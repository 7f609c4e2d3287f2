"""RFC 9162 Merkle hashing and proofs: known-answer vectors and properties."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# Public known-answer vectors from transparency-dev/merkle (Apache-2.0; README and LICENSE
# beside them), copied from the shared vectors so the suite runs from any checkout.
VECTORS = Path(__file__).parent / "vectors" / "transparency-dev-merkle"


def _files(kind: str) -> list[Path]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {VECTORS}"
    return files


def _b64(value: str) -> bytes:
    return base64.b64decode(value) if value else b""


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize("path", _files("inclusion"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inclusion_vectors(path: Path) -> None:
    """Each inclusion vector verifies exactly when it is a happy path."""
    case = _load(path)
    proof = [_b64(p) for p in case["proof"] or []]
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _files("consistency"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_consistency_vectors(path: Path) -> None:
    """Each consistency vector verifies exactly when it is a happy path."""
    case = _load(path)
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_rfc_hashing_domain_separation() -> None:
    """Leaves and nodes hash with 0x00 and 0x01 prefixes; the empty tree is SHA-256("")."""
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def _naive_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_naive_root(leaves[:k]), _naive_root(leaves[k:]))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_generated_proofs_verify(size: int, data: st.DataObject) -> None:
    """For any tree, every generated inclusion and consistency proof verifies."""
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(size)]
    root = root_hash(leaves)
    assert root == _naive_root(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    verify_inclusion(leaves[index], index, size, inclusion_proof(leaves, index), root)
    first = data.draw(st.integers(min_value=1, max_value=size))
    proof = consistency_proof(leaves, first, size)
    verify_consistency(first, size, proof, root_hash(leaves[:first]), root)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2, max_value=40), st.data())
def test_tampered_proofs_fail(size: int, data: st.DataObject) -> None:
    """Changing one byte of any proof element, the leaf or the root makes a proof fail."""
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(size)]
    root = root_hash(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(leaves, index)
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof]
        bad[which] = bytes([bad[which][0] ^ 1]) + bad[which][1:]
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, size, bad, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"other"), index, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, size, proof, leaf_hash(b"x"))
    first = data.draw(st.integers(min_value=1, max_value=size - 1))
    consistency = consistency_proof(leaves, first, size)
    with pytest.raises(ProofError):
        verify_consistency(first, size, consistency, leaf_hash(b"fork"), root)


def test_proof_arguments_out_of_range() -> None:
    """Impossible indices and sizes are ProofErrors, not crashes."""
    leaves = [leaf_hash(bytes([i])) for i in range(5)]
    with pytest.raises(ProofError):
        inclusion_proof(leaves, 5)
    with pytest.raises(ProofError):
        consistency_proof(leaves, 0, 5)
    with pytest.raises(ProofError):
        consistency_proof(leaves, 6, 5)
