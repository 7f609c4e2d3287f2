"""The audit ledger: an append-only RFC 9162 Merkle tree of entries, with signed checkpoints.

Storage (tables.py): each entry's exact bytes and leaf hash under its sequence number,
every complete interior subtree (they never change once complete), and one state row
holding size, root and compact range. An append locks the state row (SELECT ... FOR
UPDATE; on SQLite the transaction's write lock) for the length of its transaction, so
appends from every replica sharing a database form one linear log: no gap, no duplicate,
no fork. No database sequence is used (sequences leave gaps) and no session-level lock
(PgBouncer in transaction mode would break it).

Proofs fold the stored perfect subtrees, so any proof at any size reads O(log² n) hashes.
The ledger signs a checkpoint only after proving it consistent with the last one signed,
both the database's and the one this host remembers in its witness file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from governance.database import Database, StoreUnavailable, micros
from governance.entries import Draft
from governance.errors import GovernanceError
from governance.keyfile import file_lock, write_atomically
from governance.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Node,
    ProofError,
    consistency_ranges,
    fold_range,
    inclusion_ranges,
    leaf_hash,
    perfect_nodes,
    verify_consistency,
)
from governance.note import Checkpoint, NoteError, NoteSigner, open_note, parse_checkpoint
from governance.tables import Base, CheckpointRow, LedgerEntryRow, LedgerNodeRow, LedgerStateRow

__all__ = ["EntriesPruned", "Ledger", "LedgerBroken", "LedgerState", "SignedCheckpoint"]

_HASH = 32
_READ_CHUNK = 5000


class EntriesPruned(GovernanceError):
    """The entry's text was pruned under retention.ledger_keep (its hash remains)."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"entry {seq} was pruned under retention.ledger_keep")
        self.seq = seq


class LedgerBroken(GovernanceError):
    """The stored ledger contradicts itself or a signed checkpoint; names sizes and digests."""


@dataclass(frozen=True, slots=True)
class LedgerState:
    origin: str
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str  # the C2SP signed note text


# Appends use the tables, not the ORM: they are on the path of every screening call, and
# the ORM's unit of work cost more CPU than the database's commit did.
_STATE = Base.metadata.tables[LedgerStateRow.__tablename__]
_ENTRIES = Base.metadata.tables[LedgerEntryRow.__tablename__]
_NODES = Base.metadata.tables[LedgerNodeRow.__tablename__]
_LOCK_STATE = select(_STATE).where(_STATE.c.id == 1).with_for_update()
_UPDATE_STATE = update(_STATE).where(_STATE.c.id == 1)
_INSERT_ENTRIES = insert(_ENTRIES)
_INSERT_NODES = insert(_NODES)


@dataclass(frozen=True, slots=True)
class _State:
    """The ledger_state row, read under its lock."""

    origin: str
    size: int
    root: bytes
    compact: bytes


def _node_id(node: Node) -> int:
    level, index = node
    return index << 6 | level


class Ledger:
    """Append entries, sign checkpoints and serve proofs over one Database."""

    def __init__(self, database: Database, *, origin: str) -> None:
        self.database = database
        self.origin = origin

    def __repr__(self) -> str:
        return f"<Ledger {self.origin}>"

    # -- appending ------------------------------------------------------------------------

    def append(self, drafts: Sequence[Draft], *, now: datetime) -> list[int]:
        """Append entries in one transaction; returns their sequence numbers once committed.

        Raises StoreUnavailable (nothing appended) or ValueError (unencodable entry).
        """
        return self.database.write(lambda session: self.append_in(session, drafts, now=now))

    def append_in(self, session: Session, drafts: Sequence[Draft], *, now: datetime) -> list[int]:
        """Append inside the caller's transaction, which then holds the ledger's lock."""
        if not drafts:
            return []
        state = self._locked_state(session)
        try:
            compact = CompactRange(state.size, _split_hashes(state.compact))
        except ProofError:
            raise LedgerBroken(
                f"ledger_state holds a compact range that does not fit {state.size} entries"
            ) from None
        appended_us = micros(now)
        entries: list[dict[str, object]] = []
        nodes: list[dict[str, object]] = []
        seqs: list[int] = []
        for draft in drafts:
            seq = compact.size
            seqs.append(seq)
            entry = draft.encode(seq)
            leaf = leaf_hash(entry)
            entries.append(
                {"seq": seq, "appended_us": appended_us, "entry": entry, "leaf_hash": leaf}
            )
            for node, hash_ in compact.append(leaf):
                nodes.append({"node_id": _node_id(node), "hash": hash_})
        connection = session.connection()
        connection.execute(_INSERT_ENTRIES, entries)
        if nodes:
            connection.execute(_INSERT_NODES, nodes)
        connection.execute(
            _UPDATE_STATE,
            {"size": compact.size, "root": compact.root(), "compact": b"".join(compact.hashes)},
        )
        return seqs

    def lock_in(self, session: Session) -> None:
        """Take the ledger's append lock in the caller's transaction (held to its end)."""
        self._locked_state(session)

    def _locked_state(self, session: Session) -> _State:
        row = session.connection().execute(_LOCK_STATE).first()
        if row is None:
            # Two first appends race here; the loser's primary-key conflict is retried.
            state = _State(self.origin, 0, EMPTY_ROOT, b"")
            session.execute(
                insert(_STATE).values(
                    id=1, origin=state.origin, size=0, root=state.root, compact=state.compact
                )
            )
            return state
        state = _State(row.origin, row.size, bytes(row.root), bytes(row.compact))
        if state.origin != self.origin:
            raise LedgerBroken(
                f"this database's ledger is {state.origin!r}; the signing key is for "
                f"{self.origin!r}"
            )
        return state

    # -- reading --------------------------------------------------------------------------

    def state(self) -> LedgerState:
        with self.database.reading() as session:
            row = session.get(LedgerStateRow, 1)
        if row is None:
            return LedgerState(self.origin, 0, EMPTY_ROOT)
        return LedgerState(row.origin, row.size, row.root)

    def entries(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """(seq, entry bytes) for start <= seq < end, in order, read in chunks."""
        for chunk_start in range(start, end, _READ_CHUNK):
            chunk_end = min(end, chunk_start + _READ_CHUNK)
            with self.database.reading() as session:
                rows = session.execute(
                    select(LedgerEntryRow.seq, LedgerEntryRow.entry)
                    .where(LedgerEntryRow.seq >= chunk_start, LedgerEntryRow.seq < chunk_end)
                    .order_by(LedgerEntryRow.seq)
                ).all()
            expected = chunk_start
            for seq, entry in rows:
                if seq != expected:
                    raise LedgerBroken(f"entry {expected} is missing from the database")
                if entry is None:
                    raise EntriesPruned(seq)
                yield seq, bytes(entry)
                expected += 1
            if expected != chunk_end:
                raise LedgerBroken(f"entry {expected} is missing from the database")

    def leaf_hashes(self, start: int, end: int) -> Iterator[bytes]:
        """Stored leaf hashes for start <= seq < end, in order."""
        for chunk_start in range(start, end, _READ_CHUNK):
            chunk_end = min(end, chunk_start + _READ_CHUNK)
            with self.database.reading() as session:
                rows = session.scalars(
                    select(LedgerEntryRow.leaf_hash)
                    .where(LedgerEntryRow.seq >= chunk_start, LedgerEntryRow.seq < chunk_end)
                    .order_by(LedgerEntryRow.seq)
                ).all()
            if len(rows) != chunk_end - chunk_start:
                raise LedgerBroken(f"entries {chunk_start}..{chunk_end - 1} are incomplete")
            yield from (bytes(row) for row in rows)

    def first_unpruned(self) -> int:
        """The first entry whose text is still stored (0 unless ledger_keep pruned some)."""
        with self.database.reading() as session:
            value = session.scalar(
                select(func.max(LedgerEntryRow.seq)).where(LedgerEntryRow.entry.is_(None))
            )
        return 0 if value is None else int(value) + 1

    def prune_in(self, session: Session, *, before_us: int) -> tuple[int, int] | None:
        """Drop the text of the entries before the first one appended at or after
        `before_us` (a prefix: hashes stay); returns the (first, last) seq pruned now."""
        # appended_us is a transaction's start time on PostgreSQL, so it does not rise
        # strictly with seq: cut at the first recent entry, never past it.
        first_recent = session.scalar(
            select(func.min(LedgerEntryRow.seq)).where(LedgerEntryRow.appended_us >= before_us)
        )
        limit = self._state_size(session) if first_recent is None else int(first_recent)
        found = session.execute(
            select(func.min(LedgerEntryRow.seq), func.max(LedgerEntryRow.seq)).where(
                LedgerEntryRow.seq < limit, LedgerEntryRow.entry.is_not(None)
            )
        ).one()
        if found[0] is None:
            return None
        session.execute(
            update(LedgerEntryRow)
            .where(LedgerEntryRow.seq < limit, LedgerEntryRow.entry.is_not(None))
            .values(entry=None)
        )
        return int(found[0]), int(found[1])

    def _state_size(self, session: Session) -> int:
        row = session.get(LedgerStateRow, 1)
        return 0 if row is None else row.size

    def first_seq_since(self, moment: datetime) -> int | None:
        """The first entry appended at or after `moment`, if any."""
        with self.database.reading() as session:
            value = session.scalar(
                select(func.min(LedgerEntryRow.seq)).where(
                    LedgerEntryRow.appended_us >= micros(moment)
                )
            )
        return None if value is None else int(value)

    def _hashes(self, session: Session, nodes: Iterable[Node]) -> dict[Node, bytes]:
        wanted = set(nodes)
        leaves = sorted(index for level, index in wanted if level == 0)
        inner = {_node_id(node): node for node in wanted if node[0] > 0}
        found: dict[Node, bytes] = {}
        for i in range(0, len(leaves), 500):
            rows = session.execute(
                select(LedgerEntryRow.seq, LedgerEntryRow.leaf_hash).where(
                    LedgerEntryRow.seq.in_(leaves[i : i + 500])
                )
            ).all()
            found |= {(0, int(seq)): bytes(hash_) for seq, hash_ in rows}
        ids = sorted(inner)
        for i in range(0, len(ids), 500):
            rows = session.execute(
                select(LedgerNodeRow.node_id, LedgerNodeRow.hash).where(
                    LedgerNodeRow.node_id.in_(ids[i : i + 500])
                )
            ).all()
            found |= {inner[int(node_id)]: bytes(hash_) for node_id, hash_ in rows}
        missing = wanted - found.keys()
        if missing:
            level, index = min(missing)
            raise LedgerBroken(f"stored subtree at level {level}, index {index} is missing")
        return found

    def _subtrees(self, session: Session, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        hashes = self._hashes(session, (n for s, e in ranges for n in perfect_nodes(s, e)))
        return [fold_range(start, end, hashes.__getitem__) for start, end in ranges]

    def subtree_hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """MTH(D[start:end]) for each range, from stored subtrees."""
        if not ranges:
            return []
        with self.database.reading() as session:
            self._checked_size(session, max(end for _, end in ranges))
            return self._subtrees(session, ranges)

    def _checked_size(self, session: Session, size: int) -> int:
        row = session.get(LedgerStateRow, 1)
        current = 0 if row is None else row.size
        if size > current:
            raise ProofError(f"the ledger has {current} entries; no tree of size {size}")
        return current

    def inclusion_proof(self, seq: int, size: int) -> tuple[bytes, list[bytes]]:
        """(leaf hash, PATH(seq, D[size])). Raises ProofError for impossible arguments."""
        with self.database.reading() as session:
            self._checked_size(session, size)
            ranges = inclusion_ranges(seq, size)
            leaf = self._hashes(session, [(0, seq)])[(0, seq)]
            return leaf, self._subtrees(session, ranges)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """PROOF(first, D[second]). Raises ProofError for impossible sizes."""
        with self.database.reading() as session:
            self._checked_size(session, second)
            return self._subtrees(session, consistency_ranges(first, second))

    def root_at(self, size: int) -> bytes:
        """MTH(D[size]) from stored subtrees. Raises ProofError beyond the current size."""
        if size == 0:
            return EMPTY_ROOT
        with self.database.reading() as session:
            self._checked_size(session, size)
            return self._subtrees(session, [(0, size)])[0]

    def seq_of_leaf(self, leaf: bytes) -> int | None:
        with self.database.reading() as session:
            value = session.scalar(
                select(func.min(LedgerEntryRow.seq)).where(LedgerEntryRow.leaf_hash == leaf)
            )
        return None if value is None else int(value)

    # -- checkpoints ----------------------------------------------------------------------

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        with self.database.reading() as session:
            row = session.scalars(
                select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1)
            ).first()
        return None if row is None else SignedCheckpoint(row.size, bytes(row.root), row.note)

    def checkpoint_at_least(self, size: int) -> SignedCheckpoint | None:
        """The smallest signed checkpoint covering `size` entries."""
        with self.database.reading() as session:
            row = session.scalars(
                select(CheckpointRow)
                .where(CheckpointRow.size >= size)
                .order_by(CheckpointRow.size)
                .limit(1)
            ).first()
        return None if row is None else SignedCheckpoint(row.size, bytes(row.root), row.note)

    def sign_checkpoint(
        self, signer: NoteSigner, *, now: datetime, witness: Path | None = None
    ) -> SignedCheckpoint:
        """Sign the current tree head, unless it contradicts a checkpoint signed before.

        Checks the newest checkpoint in the database and the one in `witness` (what this
        host last signed: a database restored from an older backup cannot make it sign a
        second history). Raises LedgerBroken when a check fails, StoreUnavailable.
        """
        if signer.name != self.origin:
            raise LedgerBroken(f"signing key {signer.name!r} is not for ledger {self.origin!r}")
        with _witness_lock(witness):
            return self._sign_locked(signer, now=now, witness=witness)

    def _sign_locked(
        self, signer: NoteSigner, *, now: datetime, witness: Path | None
    ) -> SignedCheckpoint:
        remembered = _read_witness(witness, signer) if witness is not None else None

        def sign(session: Session) -> SignedCheckpoint:
            state = self._locked_state(session)
            size, root = state.size, bytes(state.root)
            latest = session.scalars(
                select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1)
            ).first()
            # The witness first: a restored database may carry its own (older) checkpoints.
            if remembered is not None:
                self._check_extends(session, remembered.size, remembered.root, size, root)
            if latest is not None:
                self._check_extends(session, latest.size, bytes(latest.root), size, root)
                if latest.size == size:
                    return SignedCheckpoint(size, root, latest.note)
            note = signer.sign(Checkpoint(self.origin, size, root).text())
            session.add(CheckpointRow(size=size, root=root, note=note, signed_us=micros(now)))
            return SignedCheckpoint(size, root, note)

        signed = self.database.write(sign)
        if witness is not None:
            _write_witness(witness, signed.note)
        return signed

    def _check_extends(
        self, session: Session, old_size: int, old_root: bytes, size: int, root: bytes
    ) -> None:
        if old_size > size:
            raise LedgerBroken(
                f"a checkpoint of size {old_size} was signed, but the ledger now has {size} "
                "entries: it was truncated or restored from an older copy"
            )
        if old_size == 0:
            return
        if old_size == size:
            if old_root != root:
                raise LedgerBroken(
                    f"tree of size {size} has root {root.hex()}, but {old_root.hex()} was signed"
                )
            return
        try:
            proof = self._subtrees(session, consistency_ranges(old_size, size))
            verify_consistency(old_size, size, proof, old_root, root)
        except ProofError:
            raise LedgerBroken(
                f"tree of size {size} (root {root.hex()}) does not extend the signed "
                f"checkpoint of size {old_size} (root {old_root.hex()})"
            ) from None


def _split_hashes(blob: bytes) -> list[bytes]:
    return [blob[i : i + _HASH] for i in range(0, len(blob), _HASH)]


def _read_witness(path: Path, signer: NoteSigner) -> Checkpoint | None:
    try:
        note = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StoreUnavailable(f"{path}: cannot read ({type(err).__name__})") from None
    try:
        return parse_checkpoint(open_note(note, [signer.verifier]))
    except NoteError:
        raise LedgerBroken(f"{path}: not a checkpoint signed by this ledger's key") from None


def _write_witness(path: Path, note: str) -> None:
    write_atomically(path, [note.encode("utf-8")])


@contextlib.contextmanager
def _witness_lock(path: Path | None) -> Iterator[None]:
    """Hold the witness's lock from reading it to replacing it: the sidecar and the CLI
    (or two replicas sharing a data dir) sign on one host, and the witness must only grow."""
    if path is None:
        yield
        return
    with file_lock(path):
        yield
