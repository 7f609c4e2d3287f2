"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

Pure functions over leaf hashes: the audit ledger stores entries and their leaf hashes,
and builds roots and proofs from them; verifiers (offline, with no database) check
proofs with the verify_* functions. Domain separation per RFC 9162 §2.1.1: a leaf hashes
as SHA-256(0x00 || entry), an interior node as SHA-256(0x01 || left || right), so no
leaf can be passed off as a node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from governance.errors import GovernanceError

__all__ = [
    "EMPTY_ROOT",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(GovernanceError):
    """A proof does not verify, or its sizes or indices are impossible."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of leaf hashes (not entries)."""
    if not leaves:
        return EMPTY_ROOT
    return _Tree(tuple(leaves)).mth(0, len(leaves))


class _Tree:
    """Memoised subtree hashes over one tuple of leaf hashes."""

    def __init__(self, leaves: tuple[bytes, ...]) -> None:
        self._leaves = leaves
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self._leaves[start]
        k = _split(end - start)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """PATH(index, D[size]) per RFC 9162 §2.1.3.1. Raises ProofError for bad arguments."""
    size = len(leaves) if size is None else size
    if not 0 <= index < size <= len(leaves):
        raise ProofError(f"no leaf {index} in a tree of size {size}")
    tree = _Tree(tuple(leaves[:size]))
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            proof.append(tree.mth(start + k, end))
            end = start + k
        else:
            proof.append(tree.mth(start, start + k))
            start += k
    proof.reverse()  # PATH lists the sibling nearest the leaf first
    return proof


def consistency_proof(
    leaves: Sequence[bytes], first: int, second: int | None = None
) -> list[bytes]:
    """PROOF(first, D[second]) per RFC 9162 §2.1.4.1. Raises ProofError for bad sizes."""
    second = len(leaves) if second is None else second
    if not 0 < first <= second <= len(leaves):
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    tree = _Tree(tuple(leaves[:second]))

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [tree.mth(start, end)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), tree.mth(start + k, end)]
        return [*subproof(m - k, start + k, end, False), tree.mth(start, start + k)]

    return subproof(first, 0, second, True)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2. Raises ProofError unless `leaf` is at `index` under `root`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_BYTES or len(root) != HASH_BYTES:
        raise ProofError("leaf and root must be SHA-256 hashes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != HASH_BYTES:
            raise ProofError("inclusion proof is too long or malformed")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError(f"inclusion proof gives root {r.hex()}, expected {root.hex()}")


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """RFC 9162 §2.1.4.2. Raises ProofError unless tree `second` extends tree `first`."""
    if not 0 <= first <= second:
        raise ProofError(f"size {first} cannot be extended to size {second}")
    if first == 0:
        raise ProofError("consistency with an empty tree proves nothing")
    if first == second:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if first_root != second_root:
            raise ProofError("equal sizes with different roots")
        return
    if len(first_root) != HASH_BYTES or len(second_root) != HASH_BYTES:
        raise ProofError("roots must be SHA-256 hashes")
    if not proof or any(len(p) != HASH_BYTES for p in proof):
        raise ProofError("consistency proof is empty or malformed")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: its root is the first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != first_root or sr != second_root:
        raise ProofError("consistency proof does not match the roots")
