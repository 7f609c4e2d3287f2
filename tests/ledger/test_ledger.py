"""The audit ledger on real SQLite and PostgreSQL: numbering, storage, proofs, checkpoints.

Every test taking `ledger` or `ledger_db` runs once per back-end. Rows are changed behind
the ledger's back with raw SQL, as a restored backup or an attacker would change them.
The hypothesis properties at the end cover the merkle pieces the ledger stores and folds.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance import ledger as ledger_module
from governance.database import micros
from governance.entries import Draft, EntryType
from governance.ledger import Ledger, LedgerBroken
from governance.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    consistency_ranges,
    fold_range,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    perfect_nodes,
    right_nodes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from governance.note import NoteSigner, open_note, parse_checkpoint
from tests.ledger._helpers import ACTOR, NOW, ORIGIN, drafts
from tests.ledger.conftest import LedgerDb, LedgerDbs

BATCHES = (1, 2, 1, 4, 3, 8, 1, 5, 16, 2)  # 43 entries over batches of every shape
TOTAL = sum(BATCHES)
PROOF_SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, TOTAL)


def fill(ledger: Ledger) -> list[Draft]:
    """Append BATCHES; returns every draft appended, index = seq."""
    appended: list[Draft] = []
    for size in BATCHES:
        batch = drafts(size, first=len(appended))
        ledger.append(batch, now=NOW)
        appended += batch
    return appended


def leaves_of(appended: list[Draft]) -> list[bytes]:
    return [leaf_hash(draft.encode(seq)) for seq, draft in enumerate(appended)]


def signed_size(note: str, signer: NoteSigner) -> int:
    return parse_checkpoint(open_note(note, [signer.verifier])).size


# -- appending and storage ------------------------------------------------------------------


def test_append_numbers_entries_without_gaps(ledger_db: LedgerDb, ledger: Ledger) -> None:
    """Batches of any size get consecutive seqs from 0, with no gap or duplicate."""
    total = 0
    for size in BATCHES:
        seqs = ledger.append(drafts(size, first=total), now=NOW)
        assert seqs == list(range(total, total + size))
        total += size
    stored = [seq for (seq,) in ledger_db.execute("SELECT seq FROM ledger_entries ORDER BY seq")]
    assert stored == list(range(TOTAL))
    assert ledger.state().size == TOTAL
    assert ledger.state().origin == ORIGIN


def test_append_stores_canonical_bytes_and_leaf_hashes(ledger_db: LedgerDb, ledger: Ledger) -> None:
    """Each row holds Draft.encode(seq) exactly and SHA-256(0x00 || entry) as its leaf hash."""
    appended = fill(ledger)
    rows = ledger_db.execute(
        "SELECT seq, entry, leaf_hash, appended_us FROM ledger_entries ORDER BY seq"
    )
    assert len(rows) == TOTAL
    for seq, entry, leaf, appended_us in rows:
        assert bytes(entry) == appended[seq].encode(seq)
        assert bytes(leaf) == hashlib.sha256(b"\x00" + bytes(entry)).digest()
        assert appended_us == micros(NOW)
        assert json.loads(bytes(entry))["seq"] == seq


def test_state_root_matches_merkle_root_at_every_size(ledger: Ledger) -> None:
    """The state row's root and root_at(k) equal merkle.root_hash of the first k leaves."""
    appended: list[Draft] = []
    for size in BATCHES:
        batch = drafts(size, first=len(appended))
        ledger.append(batch, now=NOW)
        appended += batch
        assert ledger.state().root == root_hash(leaves_of(appended))
    leaves = leaves_of(appended)
    for size in range(TOTAL + 1):
        assert ledger.root_at(size) == root_hash(leaves[:size]), size


def test_append_stores_every_perfect_subtree_and_the_compact_range(
    ledger_db: LedgerDb, ledger: Ledger
) -> None:
    """ledger_nodes holds each complete subtree (level >= 1); the state its compact range."""
    leaves = leaves_of(fill(ledger))
    expected: dict[int, bytes] = {}
    level = 1
    while 1 << level <= TOTAL:
        for index in range(TOTAL >> level):
            start = index << level
            expected[index << 6 | level] = root_hash(leaves[start : start + (1 << level)])
        level += 1
    stored = {
        int(i): bytes(h) for i, h in ledger_db.execute("SELECT node_id, hash FROM ledger_nodes")
    }
    assert stored == expected
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    assert ledger_db.save().compact == b"".join(compact.hashes)


def test_append_rejects_unencodable_entry_and_appends_nothing(
    ledger_db: LedgerDb, ledger: Ledger
) -> None:
    """A batch with one bad entry (float, reserved field) raises ValueError; nothing is kept."""
    ledger.append(drafts(3), now=NOW)
    before = ledger.state()
    for body in ({"ratio": 0.5}, {"seq": 99}):
        bad = Draft(EntryType.SCREENING_DECISION, NOW, ACTOR, body)
        with pytest.raises(ValueError, match=r"floats are not allowed|redefines"):
            ledger.append([*drafts(2, first=3), bad], now=NOW)
    assert ledger.state() == before
    assert ledger_db.count("ledger_entries") == 3
    assert ledger.append(drafts(1, first=3), now=NOW) == [3]


def test_append_in_follows_the_callers_transaction(ledger_db: LedgerDb, ledger: Ledger) -> None:
    """append_in commits with the caller's transaction and vanishes when it rolls back."""

    class Abandon(Exception):
        pass

    def append_then_fail() -> None:
        with ledger_db.database.transaction() as session:
            assert ledger.append_in(session, drafts(4), now=NOW) == [0, 1, 2, 3]
            raise Abandon

    with pytest.raises(Abandon):
        append_then_fail()
    assert ledger.state().size == 0
    assert ledger_db.count("ledger_entries") == 0
    with ledger_db.database.transaction() as session:
        assert ledger.append_in(session, drafts(2), now=NOW) == [0, 1]
    assert ledger.state().size == 2


def test_append_of_no_entries_changes_nothing(ledger_db: LedgerDb, ledger: Ledger) -> None:
    """An empty batch returns no seqs and writes no row, not even the state row."""
    assert ledger.append([], now=NOW) == []
    assert ledger_db.count("ledger_state") == 0
    assert ledger.state().size == 0
    assert ledger.state().root == EMPTY_ROOT


def test_append_under_another_origin_raises_ledger_broken(
    ledger_db: LedgerDb, ledger: Ledger
) -> None:
    """A Ledger whose origin is not the database's refuses to append or sign."""
    ledger.append(drafts(2), now=NOW)
    other_origin = "other.example.org/audit"
    other = ledger_db.ledger(other_origin)
    with pytest.raises(LedgerBroken, match=re.escape(repr(ORIGIN))):
        other.append(drafts(1, first=2), now=NOW)
    with pytest.raises(LedgerBroken, match=re.escape(repr(ORIGIN))):
        other.sign_checkpoint(NoteSigner.generate(other_origin), now=NOW)
    assert ledger.state().size == 2
    assert ledger_db.count("ledger_checkpoints") == 0


# -- reading and proofs ---------------------------------------------------------------------


def test_inclusion_proofs_verify_at_several_sizes(ledger: Ledger) -> None:
    """Every seq's inclusion proof at each size verifies against root_at(size)."""
    leaves = leaves_of(fill(ledger))
    for size in PROOF_SIZES:
        root = ledger.root_at(size)
        for seq in range(size):
            leaf, proof = ledger.inclusion_proof(seq, size)
            assert leaf == leaves[seq]
            assert proof == inclusion_proof(leaves, seq, size)
            verify_inclusion(leaf, seq, size, proof, root)


def test_consistency_proofs_verify_between_sizes(ledger: Ledger) -> None:
    """Consistency proofs between many size pairs verify and match the in-memory proofs."""
    leaves = leaves_of(fill(ledger))
    roots = {size: ledger.root_at(size) for size in PROOF_SIZES}
    for first in PROOF_SIZES:
        for second in (s for s in PROOF_SIZES if s >= first):
            proof = ledger.consistency_proof(first, second)
            assert proof == consistency_proof(leaves, first, second)
            verify_consistency(first, second, proof, roots[first], roots[second])


def test_subtree_hashes_match_memory(ledger: Ledger) -> None:
    """subtree_hashes gives MTH(D[start:end]) for aligned and unaligned ranges."""
    leaves = leaves_of(fill(ledger))
    ranges = [(0, TOTAL), (0, 1), (3, 4), (8, 16), (5, 21), (1, 3), (32, TOTAL), (17, 42)]
    assert ledger.subtree_hashes(ranges) == [root_hash(leaves[s:e]) for s, e in ranges]
    assert ledger.subtree_hashes([]) == []


def test_proofs_beyond_the_ledger_raise_proof_error(ledger: Ledger) -> None:
    """Sizes past the ledger and leaves outside the tree raise ProofError."""
    fill(ledger)
    calls: list[Any] = [
        lambda: ledger.inclusion_proof(0, TOTAL + 1),
        lambda: ledger.inclusion_proof(TOTAL, TOTAL),
        lambda: ledger.inclusion_proof(-1, TOTAL),
        lambda: ledger.consistency_proof(1, TOTAL + 1),
        lambda: ledger.consistency_proof(0, TOTAL),
        lambda: ledger.consistency_proof(TOTAL, TOTAL - 1),
        lambda: ledger.root_at(TOTAL + 1),
        lambda: ledger.subtree_hashes([(0, 2), (2, TOTAL + 1)]),
    ]
    for call in calls:
        with pytest.raises(ProofError):
            call()


def test_proofs_on_an_empty_ledger_raise_proof_error(ledger: Ledger) -> None:
    """An empty ledger has only the empty root; any proof raises ProofError."""
    assert ledger.root_at(0) == EMPTY_ROOT
    with pytest.raises(ProofError):
        ledger.inclusion_proof(0, 1)
    with pytest.raises(ProofError):
        ledger.root_at(1)


def test_entries_and_leaf_hashes_stream_in_order(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """entries() and leaf_hashes() yield [start, end) in order across read chunks."""
    monkeypatch.setattr(ledger_module, "_READ_CHUNK", 7)
    appended = fill(ledger)
    leaves = leaves_of(appended)
    for start, end in [(0, TOTAL), (5, 20), (7, 14), (40, TOTAL), (3, 3), (TOTAL, TOTAL)]:
        got = list(ledger.entries(start, end))
        assert got == [(seq, appended[seq].encode(seq)) for seq in range(start, end)]
        assert list(ledger.leaf_hashes(start, end)) == leaves[start:end]


def test_reading_past_a_deleted_entry_raises_ledger_broken(
    ledger_db: LedgerDb, ledger: Ledger
) -> None:
    """A row deleted behind the ledger's back makes reads and proofs over it fail loudly."""
    fill(ledger)
    ledger_db.execute("DELETE FROM ledger_entries WHERE seq = 12")
    with pytest.raises(LedgerBroken, match="12"):
        list(ledger.entries(0, TOTAL))
    with pytest.raises(LedgerBroken):
        list(ledger.leaf_hashes(10, 20))
    with pytest.raises(LedgerBroken, match="level 0, index 12"):
        ledger.inclusion_proof(12, TOTAL)
    assert list(ledger.entries(13, 20)) != []


def test_first_seq_since_finds_the_first_entry_appended_then(ledger: Ledger) -> None:
    """first_seq_since(t) is the first seq appended at or after t, None after the last."""
    firsts = []
    for minute, size in enumerate(BATCHES):
        seqs = ledger.append(drafts(size, first=sum(BATCHES[:minute])), now=_minute(minute))
        firsts.append(seqs[0])
    assert ledger.first_seq_since(NOW - timedelta(days=1)) == 0
    for minute, first in enumerate(firsts):
        assert ledger.first_seq_since(_minute(minute)) == first
        assert ledger.first_seq_since(_minute(minute) - timedelta(seconds=30)) == first
    assert ledger.first_seq_since(_minute(len(BATCHES))) is None


def _minute(n: int) -> datetime:
    return NOW + timedelta(minutes=n)


def test_seq_of_leaf_finds_each_entry(ledger: Ledger) -> None:
    """seq_of_leaf maps each stored leaf hash to its seq, and an unknown hash to None."""
    leaves = leaves_of(fill(ledger))
    for seq, leaf in enumerate(leaves):
        assert ledger.seq_of_leaf(leaf) == seq
    assert ledger.seq_of_leaf(leaf_hash(b"never appended")) is None


# -- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_note_verifies_and_parses(ledger: Ledger, signer: NoteSigner) -> None:
    """A checkpoint is a note the verifier key opens, naming origin, size and root."""
    fill(ledger)
    signed = ledger.sign_checkpoint(signer, now=NOW)
    checkpoint = parse_checkpoint(open_note(signed.note, [signer.verifier]))
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
        ORIGIN,
        TOTAL,
        ledger.state().root,
    )
    assert (signed.size, signed.root) == (TOTAL, ledger.state().root)
    assert ledger.latest_checkpoint() == signed


def test_checkpoint_of_an_empty_ledger_is_the_empty_root(
    ledger: Ledger, signer: NoteSigner
) -> None:
    """Signing before any append gives size 0 and SHA-256 of nothing."""
    signed = ledger.sign_checkpoint(signer, now=NOW)
    assert (signed.size, signed.root) == (0, EMPTY_ROOT)
    assert signed_size(signed.note, signer) == 0
    ledger.append(drafts(3), now=NOW)
    assert ledger.sign_checkpoint(signer, now=NOW).size == 3


def test_checkpoint_signed_twice_without_appends_is_the_same_note(
    ledger_db: LedgerDb, ledger: Ledger, signer: NoteSigner
) -> None:
    """Re-signing an unchanged ledger returns the stored note and adds no row."""
    ledger.append(drafts(5), now=NOW)
    first = ledger.sign_checkpoint(signer, now=NOW)
    again = ledger.sign_checkpoint(signer, now=NOW + timedelta(hours=1))
    assert again == first
    assert ledger_db.count("ledger_checkpoints") == 1
    ledger.append(drafts(3, first=5), now=NOW)
    later = ledger.sign_checkpoint(signer, now=NOW)
    assert (later.size, ledger_db.count("ledger_checkpoints")) == (8, 2)
    assert ledger.latest_checkpoint() == later
    assert ledger.checkpoint_at_least(1) == first
    assert ledger.checkpoint_at_least(5) == first
    assert ledger.checkpoint_at_least(6) == later
    assert ledger.checkpoint_at_least(9) is None


def test_sign_after_truncation_raises_ledger_broken(
    ledger_db: LedgerDb, ledger: Ledger, signer: NoteSigner
) -> None:
    """Rows removed behind the ledger's back below a signed size: no signature, no new row."""
    ledger.append(drafts(10), now=NOW)
    saved = ledger_db.save()
    ledger.append(drafts(7, first=10), now=NOW)
    ledger.sign_checkpoint(signer, now=NOW)
    ledger_db.roll_back_to(saved, checkpoints=False)
    assert ledger.state().size == 10
    with pytest.raises(LedgerBroken, match="size 17 was signed, but the ledger now has 10"):
        ledger.sign_checkpoint(signer, now=NOW)
    assert ledger_db.count("ledger_checkpoints") == 1


def test_sign_after_truncation_and_rewrite_raises_ledger_broken(
    ledger_db: LedgerDb, ledger: Ledger, signer: NoteSigner
) -> None:
    """A truncated ledger refilled with other entries contradicts the signed checkpoint."""
    ledger.append(drafts(10), now=NOW)
    saved = ledger_db.save()
    ledger.append(drafts(7, first=10), now=NOW)
    signed = ledger.sign_checkpoint(signer, now=NOW)
    ledger_db.roll_back_to(saved, checkpoints=False)
    ledger.append(drafts(7, first=10, tag="b"), now=NOW)  # the same size, another root
    with pytest.raises(LedgerBroken, match=f"but {signed.root.hex()} was signed"):
        ledger.sign_checkpoint(signer, now=NOW)
    ledger.append(drafts(2, first=17, tag="b"), now=NOW)  # longer, not an extension
    with pytest.raises(LedgerBroken, match="does not extend the signed checkpoint of size 17"):
        ledger.sign_checkpoint(signer, now=NOW)
    assert ledger_db.count("ledger_checkpoints") == 1


def test_sign_after_restore_from_backup_raises_with_witness(
    ledger_db: LedgerDb, ledger: Ledger, signer: NoteSigner, tmp_path: Path
) -> None:
    """A database restored from before the last signature (checkpoints too) fails the witness."""
    witness = tmp_path / "witness" / "checkpoint"
    ledger.append(drafts(5), now=NOW)
    ledger.sign_checkpoint(signer, now=NOW, witness=witness)
    ledger.append(drafts(3, first=5), now=NOW)
    backup = ledger_db.save()  # size 8; its newest checkpoint is the one of size 5
    ledger.append(drafts(4, first=8), now=NOW)
    ledger.sign_checkpoint(signer, now=NOW, witness=witness)
    ledger_db.roll_back_to(backup, checkpoints=True)
    with pytest.raises(LedgerBroken, match="size 12 was signed, but the ledger now has 8"):
        ledger.sign_checkpoint(signer, now=NOW, witness=witness)
    assert ledger_db.count("ledger_checkpoints") == 1
    assert signed_size(witness.read_text(), signer) == 12


def test_sign_after_restore_to_a_checkpointed_size_raises_with_witness(
    ledger_db: LedgerDb, ledger: Ledger, signer: NoteSigner, tmp_path: Path
) -> None:
    """A backup taken right after a signature, restored, fails the witness; it stays newer."""
    witness = tmp_path / "witness" / "checkpoint"
    ledger.append(drafts(5), now=NOW)
    ledger.sign_checkpoint(signer, now=NOW, witness=witness)
    backup = ledger_db.save()  # size 5, and its newest checkpoint is of size 5
    ledger.append(drafts(4, first=5), now=NOW)
    ledger.sign_checkpoint(signer, now=NOW, witness=witness)
    ledger_db.roll_back_to(backup, checkpoints=True)
    with pytest.raises(LedgerBroken, match="size 9 was signed, but the ledger now has 5"):
        ledger.sign_checkpoint(signer, now=NOW, witness=witness)
    assert signed_size(witness.read_text(), signer) == 9


def test_sign_rejects_other_history_under_a_copied_checkpoint(
    ledger_dbs: LedgerDbs, signer: NoteSigner
) -> None:
    """Another history from the same prefix, under the first one's checkpoint, cannot sign."""
    first = ledger_dbs.create()
    first.ledger().append(drafts(10), now=NOW)
    signed = first.ledger().sign_checkpoint(signer, now=NOW)
    same_size, longer = ledger_dbs.create(), ledger_dbs.create()
    for made, extra in ((same_size, 4), (longer, 7)):
        made.ledger().append(drafts(6) + drafts(extra, first=6, tag="b"), now=NOW)
        made.copy_checkpoints_from(first)
    with pytest.raises(LedgerBroken, match=f"but {signed.root.hex()} was signed"):
        same_size.ledger().sign_checkpoint(signer, now=NOW)
    with pytest.raises(LedgerBroken, match="does not extend the signed checkpoint of size 10"):
        longer.ledger().sign_checkpoint(signer, now=NOW)
    assert same_size.count("ledger_checkpoints") == longer.count("ledger_checkpoints") == 1


def test_sign_accepts_an_extension_of_a_copied_checkpoint(
    ledger_dbs: LedgerDbs, signer: NoteSigner
) -> None:
    """The same history grown further extends the copied checkpoint and signs."""
    first = ledger_dbs.create()
    first.ledger().append(drafts(10), now=NOW)
    first.ledger().sign_checkpoint(signer, now=NOW)
    second = ledger_dbs.create()
    second.ledger().append(drafts(13), now=NOW)
    second.copy_checkpoints_from(first)
    assert second.ledger().sign_checkpoint(signer, now=NOW).size == 13


def test_witness_from_another_history_raises_ledger_broken(
    ledger_dbs: LedgerDbs, signer: NoteSigner, tmp_path: Path
) -> None:
    """This host's witness rejects a database holding a different or shorter history."""
    witness = tmp_path / "witness"
    first = ledger_dbs.create()
    first.ledger().append(drafts(10), now=NOW)
    first.ledger().sign_checkpoint(signer, now=NOW, witness=witness)
    forked, shorter = ledger_dbs.create(), ledger_dbs.create()
    forked.ledger().append(drafts(6) + drafts(6, first=6, tag="b"), now=NOW)
    shorter.ledger().append(drafts(8), now=NOW)
    with pytest.raises(LedgerBroken, match="does not extend the signed checkpoint of size 10"):
        forked.ledger().sign_checkpoint(signer, now=NOW, witness=witness)
    with pytest.raises(LedgerBroken, match="size 10 was signed, but the ledger now has 8"):
        shorter.ledger().sign_checkpoint(signer, now=NOW, witness=witness)
    assert forked.count("ledger_checkpoints") == shorter.count("ledger_checkpoints") == 0
    assert signed_size(witness.read_text(), signer) == 10


def test_witness_from_another_history_of_the_same_size_raises_ledger_broken(
    ledger_dbs: LedgerDbs, signer: NoteSigner, tmp_path: Path
) -> None:
    """A database that signed its own different tree of the witness's size cannot sign here."""
    witness = tmp_path / "witness"
    first = ledger_dbs.create()
    first.ledger().append(drafts(10), now=NOW)
    mine = first.ledger().sign_checkpoint(signer, now=NOW, witness=witness)
    forked = ledger_dbs.create()
    forked.ledger().append(drafts(6) + drafts(4, first=6, tag="b"), now=NOW)
    forked.ledger().sign_checkpoint(signer, now=NOW)  # elsewhere, without this host's witness
    with pytest.raises(LedgerBroken, match=mine.root.hex()):
        forked.ledger().sign_checkpoint(signer, now=NOW, witness=witness)
    assert witness.read_text() == mine.note


def test_witness_signed_by_another_key_raises_ledger_broken(
    ledger: Ledger, signer: NoteSigner, tmp_path: Path
) -> None:
    """A witness file that the ledger's key did not sign is refused, not overwritten."""
    witness = tmp_path / "witness"
    impostor = NoteSigner.generate(ORIGIN)
    witness.write_text(impostor.sign(f"{ORIGIN}\n0\n{'A' * 43}=\n"))
    ledger.append(drafts(2), now=NOW)
    with pytest.raises(LedgerBroken, match="not a checkpoint signed by this ledger's key"):
        ledger.sign_checkpoint(signer, now=NOW, witness=witness)
    assert ledger.latest_checkpoint() is None


def test_witness_follows_each_signature(ledger: Ledger, signer: NoteSigner, tmp_path: Path) -> None:
    """The witness file holds the note of the last checkpoint signed on this host."""
    witness = tmp_path / "state" / "witness"
    for size in (3, 9):
        ledger.append(drafts(size - ledger.state().size, first=ledger.state().size), now=NOW)
        signed = ledger.sign_checkpoint(signer, now=NOW, witness=witness)
        assert witness.read_text() == signed.note
        assert signed_size(witness.read_text(), signer) == size


def test_sign_with_a_key_for_another_log_raises_ledger_broken(
    ledger_db: LedgerDb, ledger: Ledger
) -> None:
    """A signer whose name is not the ledger's origin signs nothing."""
    ledger.append(drafts(2), now=NOW)
    with pytest.raises(LedgerBroken, match="not for ledger"):
        ledger.sign_checkpoint(NoteSigner.generate("other.example.org/audit"), now=NOW)
    assert ledger_db.count("ledger_checkpoints") == 0


# -- entries ---------------------------------------------------------------------------------


def test_draft_encode_is_canonical_json() -> None:
    """Sorted keys, no spaces, raw UTF-8 and the time in UTC with microseconds."""
    at = datetime(2026, 3, 14, 9, 26, 53, 589_793, tzinfo=timezone(timedelta(hours=2)))
    draft = Draft(EntryType.POLICY_LOADED, at, "cli:bob@h", {"z": 1, "a": {"é": ["ü", True, None]}})
    assert (
        draft.encode(7)
        == (
            '{"a":{"é":["ü",true,null]},"actor":"cli:bob@h","at":"2026-03-14T07:26:53.589793Z",'
            '"schema":1,"seq":7,"type":"policy_loaded","z":1}'
        ).encode()
    )
    edge = Draft(EntryType.KEY_CREATED, NOW, ACTOR, {"hi": 2**53 - 1, "lo": -(2**53 - 1)})
    assert json.loads(edge.encode(0))["hi"] == 2**53 - 1


@pytest.mark.parametrize(
    "body",
    [
        {"ratio": 1.0},
        {"deep": {"list": [1, 2.5]}},
        {"big": 2**53 + 1},
        {"small": -(2**53 + 1)},
        {"seq": 1},
        {"type": "x"},
        {"schema": 2},
        {"at": "now"},
        {"actor": "someone"},
        {"keys": {1: "a"}},
        {"raw": b"bytes"},
        {"surrogate": "\ud800"},
    ],
    ids=repr,
)
def test_draft_encode_rejects_what_cannot_be_reproduced(body: dict[str, Any]) -> None:
    """Floats, integers beyond 2^53, header fields, non-JSON values: ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011 - the messages differ by cause
        Draft(EntryType.ACCESS_DENIED, NOW, ACTOR, body).encode(0)


def test_draft_encode_writes_times_in_utc() -> None:
    """An aware time in any zone is written as the same instant in UTC."""
    utc = Draft(EntryType.KEY_ROTATED, NOW, ACTOR, {}).encode(0)
    shifted = NOW.astimezone(timezone(timedelta(hours=-5, minutes=-30)))
    assert Draft(EntryType.KEY_ROTATED, shifted, ACTOR, {}).encode(0) == utc
    assert json.loads(utc)["at"] == NOW.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- merkle pieces the ledger is built on (no database) -------------------------------------

HASHES = st.lists(st.binary(min_size=32, max_size=32), max_size=80)


def _perfect(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every aligned perfect subtree of the tree, level 0 (leaves) included."""
    nodes: dict[tuple[int, int], bytes] = {}
    level = 0
    while 1 << level <= len(leaves):
        for index in range(len(leaves) >> level):
            nodes[(level, index)] = root_hash(leaves[index << level : (index + 1) << level])
        level += 1
    return nodes


@settings(max_examples=80, deadline=None)
@given(HASHES)
def test_compact_range_root_matches_root_hash(leaves: list[bytes]) -> None:
    """Appending leaves one by one keeps root() == root_hash of the prefix at every size."""
    compact = CompactRange()
    completed: dict[tuple[int, int], bytes] = {}
    for size, leaf in enumerate(leaves):
        assert compact.root() == root_hash(leaves[:size])
        completed |= dict(compact.append(leaf))
    assert (compact.size, compact.root()) == (len(leaves), root_hash(leaves))
    assert completed == {n: h for n, h in _perfect(leaves).items() if n[0] >= 1}
    assert CompactRange(len(leaves), compact.hashes).root() == compact.root()


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_compact_range_from_left_hashes_and_right_nodes_gives_full_root(
    data: st.DataObject,
) -> None:
    """Left compact range + leaves in [start, end) + right_nodes subtrees: the full root."""
    leaves = data.draw(HASHES.filter(bool))
    size = len(leaves)
    start = data.draw(st.integers(0, size))
    end = data.draw(st.integers(start, size))
    nodes = _perfect(leaves)
    compact = CompactRange(start, [nodes[n] for n in right_nodes(0, start)])
    assert compact.root() == root_hash(leaves[:start])
    for leaf in leaves[start:end]:
        compact.append(leaf)
    covered = end
    for level, index in right_nodes(end, size):
        assert index << level == covered  # contiguous, aligned, within the tree
        covered += 1 << level
        compact.append(nodes[(level, index)], level)
    assert covered == size
    assert (compact.size, compact.root()) == (size, root_hash(leaves))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_fold_range_over_perfect_nodes_matches_subtree_hash(data: st.DataObject) -> None:
    """fold_range reads exactly perfect_nodes(start, end) and gives MTH(D[start:end])."""
    leaves = data.draw(HASHES.filter(bool))
    start = data.draw(st.integers(0, len(leaves) - 1))
    end = data.draw(st.integers(start + 1, len(leaves)))
    stored = _perfect(leaves)
    read: list[tuple[int, int]] = []

    def hash_of(node: tuple[int, int]) -> bytes:
        read.append(node)
        return stored[node]

    assert fold_range(start, end, hash_of) == root_hash(leaves[start:end])
    assert read == perfect_nodes(start, end)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_proof_ranges_make_proofs_that_verify(data: st.DataObject) -> None:
    """Hashes of inclusion_ranges and consistency_ranges verify with the RFC 9162 checks."""
    leaves = data.draw(HASHES.filter(bool))
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    first = data.draw(st.integers(1, size))
    path = [root_hash(leaves[s:e]) for s, e in inclusion_ranges(index, size)]
    assert path == inclusion_proof(leaves, index, size)
    verify_inclusion(leaves[index], index, size, path, root_hash(leaves))  # raises if wrong
    proof = [root_hash(leaves[s:e]) for s, e in consistency_ranges(first, size)]
    assert proof == consistency_proof(leaves, first, size)
    verify_consistency(first, size, proof, root_hash(leaves[:first]), root_hash(leaves))
