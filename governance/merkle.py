"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

Pure functions over leaf hashes: the audit ledger stores entries and their leaf hashes,
and builds roots and proofs from them; verifiers (offline, with no database) check
proofs with the verify_* functions. Domain separation per RFC 9162 §2.1.1: a leaf hashes
as SHA-256(0x00 || entry), an interior node as SHA-256(0x01 || left || right), so no
leaf can be passed off as a node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from governance.errors import GovernanceError

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "ProofError",
    "consistency_proof",
    "consistency_ranges",
    "fold_range",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "perfect_nodes",
    "right_nodes",
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


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees [start, end) whose hashes make PATH(index, D[size]), nearest first.

    RFC 9162 §2.1.3.1. Raises ProofError for an index outside the tree.
    """
    if not 0 <= index < size:
        raise ProofError(f"no leaf {index} in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # PATH lists the sibling nearest the leaf first
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The subtrees [start, end) whose hashes make PROOF(first, D[second]).

    RFC 9162 §2.1.4.1. Raises ProofError for impossible sizes.
    """
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")

    def subproof(m: int, start: int, end: int, whole: bool) -> list[tuple[int, int]]:
        n = end - start
        if m == n:
            return [] if whole else [(start, end)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), (start + k, end)]
        return [*subproof(m - k, start + k, end, False), (start, start + k)]

    return subproof(first, 0, second, True)


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """PATH(index, D[size]) over leaf hashes in memory. Raises ProofError for bad arguments."""
    size = len(leaves) if size is None else size
    if size > len(leaves):
        raise ProofError(f"no leaf {index} in a tree of size {size}")
    tree = _Tree(tuple(leaves[:size]))
    return [tree.mth(start, end) for start, end in inclusion_ranges(index, size)]


def consistency_proof(
    leaves: Sequence[bytes], first: int, second: int | None = None
) -> list[bytes]:
    """PROOF(first, D[second]) over leaf hashes in memory. Raises ProofError for bad sizes."""
    second = len(leaves) if second is None else second
    if second > len(leaves):
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    tree = _Tree(tuple(leaves[:second]))
    return [tree.mth(start, end) for start, end in consistency_ranges(first, second)]


Node = tuple[
    int, int
]  # (level, index): the perfect subtree over [index << level, (index + 1) << level)


def perfect_nodes(start: int, end: int) -> list[Node]:
    """The perfect, aligned subtrees that MTH(D[start:end]) is built from, left to right.

    A stored tree keeps only perfect subtrees (they never change once complete); any
    subtree a proof needs folds from these with `fold_range`.
    """
    if end - start == 1:
        return [(0, start)]
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return [(n.bit_length() - 1, start // n)]
    k = _split(n)
    return [*perfect_nodes(start, start + k), *perfect_nodes(start + k, end)]


def fold_range(start: int, end: int, hash_of: Callable[[Node], bytes]) -> bytes:
    """MTH(D[start:end]) from the hashes of its perfect subtrees."""
    n = end - start
    if n == 1 or (n & (n - 1) == 0 and start % n == 0):
        return hash_of((n.bit_length() - 1, start // n))
    k = _split(n)
    return node_hash(fold_range(start, start + k, hash_of), fold_range(start + k, end, hash_of))


def right_nodes(start: int, end: int) -> list[Node]:
    """Greedy aligned decomposition of [start, end): what extends a compact range at `start`."""
    nodes: list[Node] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


class CompactRange:
    """The perfect subtrees covering leaves [0, size): what an append-only tree must keep.

    Appending a leaf merges equal-sized neighbours (RFC 9162's tree is left-filled), so a
    tree of size n keeps popcount(n) hashes and its root folds them right to left. The
    ledger keeps one in its state row; the offline verifier streams an export through one.
    """

    __slots__ = ("_hashes", "_levels", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self._hashes = list(hashes)
        self._levels = [node[0] for node in right_nodes(0, size)]
        if len(self._hashes) != len(self._levels):
            raise ProofError(f"a range of size {size} needs {len(self._levels)} hashes")

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, hash_: bytes, level: int = 0) -> list[tuple[Node, bytes]]:
        """Add a perfect subtree at the end; returns the nodes this completed (level >= 1)."""
        if self.size % (1 << level):
            raise ProofError(f"a level-{level} subtree cannot start at leaf {self.size}")
        self.size += 1 << level
        completed: list[tuple[Node, bytes]] = []
        hashes, levels = self._hashes, self._levels
        while levels and levels[-1] == level:
            hash_ = node_hash(hashes.pop(), hash_)
            levels.pop()
            level += 1
            completed.append(((level, (self.size >> level) - 1), hash_))
        hashes.append(hash_)
        levels.append(level)
        return completed

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        root = self._hashes[-1]
        for hash_ in reversed(self._hashes[:-1]):
            root = node_hash(hash_, root)
        return root


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
