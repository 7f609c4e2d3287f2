"""`governance ledger ...` end to end on data dirs a real sidecar server filled.

Each test works on its own copy of a data dir (keys, SQLite database, witness file)
populated through gRPC by a real server, or next to a live server; verification runs with
no data dir and no database at all.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from governance.cli import main
from governance.database import Database, database_url_for
from governance.entries import canonical_json
from governance.keyprovider import LocalKeyProvider
from governance.ledger import Ledger
from governance.merkle import leaf_hash, verify_consistency, verify_inclusion
from governance.note import Checkpoint, NoteVerifier, open_note, parse_checkpoint
from sidecar.v1 import governance_pb2 as gpb
from sidecar.v1 import sidecar_pb2 as pb
from tests.conftest import Running, SidecarFactory, minimal_policies
from tests.pgserver import PgServer

NAME = "Eleanor Quillfeather"
EMAIL = "zq7.ledgercli@example.org"
INPUT = f"I am {NAME}, write to {EMAIL}."
POLICIES = minimal_policies(inference="ttl_seconds: 60\n      max_ttl_seconds: 600")
WITNESS = "ledger-checkpoint.note"


# -- helpers ----------------------------------------------------------------------------


async def _traffic(running: Running) -> list[str]:
    """Redacts, two inferences and a log line; returns the Redact decision ids."""
    decisions = []
    for _ in range(2):
        decisions.append((await running.stub.Redact(pb.RedactRequest(text=INPUT))).decision_id)
    for tenant in ("acme", "globex"):
        begun = await running.stub.BeginInference(
            pb.BeginInferenceRequest(model="m1", tenant=tenant, purpose="support", input=INPUT)
        )
        await running.stub.EndInference(
            pb.EndInferenceRequest(inference_id=begun.inference_id, output=f"Hi {NAME}")
        )
    await running.stub.Log(
        pb.LogRequest(tenant="acme", source="chat-api", level="info", message=f"mail {EMAIL}")
    )
    return decisions


@pytest.fixture(scope="module")
async def populated(sidecar_factory: SidecarFactory) -> tuple[Running, list[str]]:
    """A server's data dir after some traffic and a clean stop (final checkpoint signed)."""
    running: Running = await sidecar_factory(POLICIES)
    decisions = await _traffic(running)
    await running.sidecar.stop(grace_seconds=1.0)
    return running, decisions


@pytest.fixture
def data_dir(populated: tuple[Running, list[str]], tmp_path: Path) -> Path:
    """This test's own copy of the populated data dir."""
    copy = tmp_path / "data"
    shutil.copytree(populated[0].data_dir, copy)
    return copy


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = _run(capsys, *argv)
    assert code == 0, (argv, out, err)
    return out


def _ledger(data_dir: Path, url: str | None = None) -> tuple[Ledger, Database]:
    signer = LocalKeyProvider(data_dir / "keys" / "kek.json", create=False).ledger_signer(
        create=False
    )[0]
    database = Database(url or database_url_for(data_dir))
    return Ledger(database, origin=signer.name), database


def _entries(data_dir: Path, url: str | None = None) -> list[dict[str, Any]]:
    ledger, database = _ledger(data_dir, url)
    try:
        size = ledger.state().size
        return [json.loads(entry) for _, entry in ledger.entries(0, size)]
    finally:
        database.close()


def _public_key(capsys: pytest.CaptureFixture[str], data_dir: Path) -> str:
    return _ok(capsys, "ledger", "public-key", "--data-dir", str(data_dir)).strip()


def _export(
    capsys: pytest.CaptureFixture[str], data_dir: Path, out: Path, *flags: str
) -> tuple[str, bytes]:
    message = _ok(
        capsys, "ledger", "export", "--data-dir", str(data_dir), "--out", str(out), *flags
    )
    return message, out.read_bytes()


def _header(data: bytes) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(data.split(b"\n", 1)[0])
    return header


def _checkpoint(note: str, key: str) -> Checkpoint:
    return parse_checkpoint(open_note(note, [NoteVerifier.from_key(key)]))


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


# -- export and verify ---------------------------------------------------------------------


async def test_export_verifies_with_no_data_dir_or_database(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """export writes the whole ledger and records it; verify then needs only the file and
    the public key: it passes with the data dir deleted, run where no database exists."""
    size = len(_entries(data_dir))
    key = _public_key(capsys, data_dir)
    exports = tmp_path / "exports"
    exports.mkdir()
    target = exports / "ledger.jsonl"
    message, data = _export(capsys, data_dir, target)
    assert f"exported entries 0..{size - 1} ({size})" in message
    assert f"checkpoint of {size} entries" in message
    assert sorted(p.name for p in exports.iterdir()) == ["ledger.jsonl"]  # no temporary left
    assert len(data.splitlines()) == size + 1
    exported = _entries(data_dir)[-1]
    assert exported["type"] == "ledger_exported"
    assert exported["actor"].startswith("cli:")
    assert (exported["from_seq"], exported["to_seq"], exported["count"]) == (0, size - 1, size)
    assert (exported["tree_size"], exported["format"]) == (size, "jsonl")

    key_file = tmp_path / "ledger.pub"
    key_file.write_text(key + "\n")
    shutil.rmtree(data_dir)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    for public_key in (str(key_file), key):
        out = _ok(capsys, "ledger", "verify", str(target), "--public-key", public_key)
        assert f"verified entries 0..{size - 1} ({size})" in out
        assert f"checkpoint of {size} entries" in out
    assert list(empty.iterdir()) == []
    assert not data_dir.exists()


async def test_verify_names_a_modified_and_a_deleted_entry(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tampered export fails with exit 1, naming the modified or deleted entry's seq."""
    key = _public_key(capsys, data_dir)
    target = tmp_path / "ledger.jsonl"
    _, data = _export(capsys, data_dir, target)
    lines = data.splitlines(keepends=True)
    seq = next(
        json.loads(line)["seq"] for line in lines[1:] if json.loads(line).get("rpc") == "Redact"
    )
    entry = json.loads(lines[seq + 1])
    entry["entities"] = {}
    modified = tmp_path / "modified.jsonl"
    modified.write_bytes(
        b"".join([*lines[: seq + 1], canonical_json(entry) + b"\n", *lines[seq + 2 :]])
    )
    code, out, _ = _run(capsys, "ledger", "verify", str(modified), "--public-key", key)
    assert code == 1
    assert f"entry seq {seq} (line {seq + 2}) was modified" in out
    assert "NOT VERIFIED" in out

    deleted = tmp_path / "deleted.jsonl"
    deleted.write_bytes(b"".join([*lines[: seq + 1], *lines[seq + 2 :]]))
    code, out, _ = _run(capsys, "ledger", "verify", str(deleted), "--public-key", key)
    assert code == 1
    assert f"entry seq {seq} is missing (deleted)" in out


async def test_verify_with_another_key_fails(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An export checked with another ledger's key fails naming the checkpoint."""
    target = tmp_path / "ledger.jsonl"
    _export(capsys, data_dir, target)
    other = tmp_path / "other"
    LocalKeyProvider(other / "keys" / "kek.json").ledger_signer()
    code, out, _ = _run(
        capsys, "ledger", "verify", str(target), "--public-key", _public_key(capsys, other)
    )
    assert code == 1
    assert f"{target}: checkpoint: no signature by a trusted key" in out


async def test_previous_checkpoint_and_save_checkpoint_round_trip(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify --save-checkpoint keeps the verified checkpoint; a later export verifies
    against it with --previous-checkpoint, whole or from a later seq with the consistency
    proof it asked for; without that proof verify says what to ask for."""
    key = _public_key(capsys, data_dir)
    first = tmp_path / "first.jsonl"
    _, data = _export(capsys, data_dir, first)
    kept = tmp_path / "kept.note"
    _ok(capsys, "ledger", "verify", str(first), "--public-key", key, "--save-checkpoint", str(kept))
    assert kept.read_text() == _header(data)["checkpoint"]
    kept_size = _checkpoint(kept.read_text(), key).size

    _ok(capsys, "logs", "read", "--data-dir", str(data_dir))  # the ledger grows
    second = tmp_path / "second.jsonl"
    _export(capsys, data_dir, second)
    out = _ok(
        capsys,
        "ledger",
        "verify",
        str(second),
        "--public-key",
        key,
        "--previous-checkpoint",
        str(kept),
    )
    assert f"consistent with {kept}" in out

    later = tmp_path / "later.jsonl"
    _, data = _export(
        capsys,
        data_dir,
        later,
        "--from-seq",
        str(kept_size + 1),
        "--consistency-from",
        str(kept_size),
    )
    assert _header(data)["from_seq"] == kept_size + 1
    _ok(
        capsys,
        "ledger",
        "verify",
        str(later),
        "--public-key",
        key,
        "--previous-checkpoint",
        str(kept),
        "--from-seq",
        str(kept_size + 1),
    )

    unproven = tmp_path / "unproven.jsonl"
    _export(capsys, data_dir, unproven, "--from-seq", str(kept_size + 1))
    code, out, _ = _run(
        capsys,
        "ledger",
        "verify",
        str(unproven),
        "--public-key",
        key,
        "--previous-checkpoint",
        str(kept),
        "--from-seq",
        str(kept_size + 1),
    )
    assert code == 1
    assert f"--consistency-from {kept_size}" in out


async def test_previous_checkpoint_of_another_history_is_a_fork(
    populated: tuple[Running, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two copies of one ledger grow apart under the same key: an export of one fails
    against a checkpoint of the other, of the same size, as a fork."""
    one, two = tmp_path / "one", tmp_path / "two"
    shutil.copytree(populated[0].data_dir, one)
    shutil.copytree(populated[0].data_dir, two)
    key = _public_key(capsys, one)
    _ok(capsys, "logs", "read", "--data-dir", str(one))
    kept = tmp_path / "one.note"
    kept.write_text(_ok(capsys, "ledger", "checkpoint", "--fresh", "--data-dir", str(one)))
    _ok(capsys, "keys", "rotate", "--stage", "add", "--data-dir", str(two))
    target = tmp_path / "two.jsonl"
    _, data = _export(capsys, two, target)
    assert (
        _checkpoint(_header(data)["checkpoint"], key).size
        == _checkpoint(kept.read_text(), key).size
    )
    code, out, _ = _run(
        capsys,
        "ledger",
        "verify",
        str(target),
        "--public-key",
        key,
        "--previous-checkpoint",
        str(kept),
    )
    assert code == 1
    assert "fork: two different roots were signed" in out


async def test_export_ranges_and_csv(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from-seq/--to-seq (inclusive) and --since select entries and verify; --format csv
    has one row per entry with its JSON; each export is recorded with its range."""
    key = _public_key(capsys, data_dir)
    ranged = tmp_path / "ranged.jsonl"
    message, data = _export(capsys, data_dir, ranged, "--from-seq", "1", "--to-seq", "3")
    assert "exported entries 1..3 (3)" in message
    assert [json.loads(line)["seq"] for line in data.splitlines()[1:]] == [1, 2, 3]
    _ok(
        capsys,
        "ledger",
        "verify",
        str(ranged),
        "--public-key",
        key,
        "--from-seq",
        "1",
        "--to-seq",
        "3",
    )
    # Without the range asked for, verify refuses an export that leaves entries out.
    code, out, _ = _run(capsys, "ledger", "verify", str(ranged), "--public-key", key)
    assert code == 1
    assert "export covers entries 1..3, not 0.." in out
    assert (_entries(data_dir)[-1]["from_seq"], _entries(data_dir)[-1]["to_seq"]) == (1, 3)

    since = datetime.now(UTC).isoformat()
    _ok(capsys, "logs", "read", "--data-dir", str(data_dir))
    recent = tmp_path / "recent.jsonl"
    _, data = _export(capsys, data_dir, recent, "--since", since)
    assert [json.loads(line)["type"] for line in data.splitlines()[1:]] == ["records_read"]
    out = _ok(capsys, "ledger", "verify", str(recent), "--public-key", key, "--partial")
    assert "verified entries" in out

    size = len(_entries(data_dir))
    table = tmp_path / "ledger.csv"
    _, data = _export(capsys, data_dir, table, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert [int(r["seq"]) for r in rows] == list(range(size))
    assert [json.loads(r["entry"])["seq"] for r in rows] == list(range(size))
    assert _entries(data_dir)[-1]["format"] == "csv"


async def test_failed_export_writes_and_records_nothing(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An export that cannot be written, or asks beyond the ledger, exits 1 and leaves no
    file and no ledger_exported entry; --out is required."""
    size = len(_entries(data_dir))
    missing = tmp_path / "no" / "such" / "dir" / "ledger.jsonl"
    code, _, err = _run(
        capsys, "ledger", "export", "--data-dir", str(data_dir), "--out", str(missing)
    )
    assert code == 1
    assert "cannot write" in err
    code, _, err = _run(
        capsys,
        "ledger",
        "export",
        "--data-dir",
        str(data_dir),
        "--to-seq",
        "100000",
        "--out",
        str(tmp_path / "x"),
    )
    assert code == 1
    assert "--to-seq 100000 is beyond the ledger" in err
    assert not (tmp_path / "x").exists()
    code, _, err = _run(capsys, "ledger", "export", "--data-dir", str(data_dir))
    assert code == 1
    assert "--out" in err
    assert [e["type"] for e in _entries(data_dir)[size:]] == []


# -- keys, checkpoints, proofs --------------------------------------------------------------


async def test_public_key_matches_the_running_server(
    sidecar_factory: SidecarFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """public-key prints the running server's verifier key; an export made by the CLI
    beside the live server and the server's own checkpoints stay one consistent log."""
    running: Running = await sidecar_factory(POLICIES)
    assert running.signer is not None
    await _traffic(running)
    key = _public_key(capsys, running.data_dir)
    assert key == running.signer.verifier.key()
    served = await running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    assert served.verifier_key == key

    target = tmp_path / "ledger.jsonl"
    _, data = _export(capsys, running.data_dir, target)
    cli_size = _checkpoint(_header(data)["checkpoint"], key).size
    await running.stub.Redact(pb.RedactRequest(text=INPUT))
    fresh = await running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    assert fresh.size == cli_size + 2  # + ledger_exported (CLI) + the Redact decision
    proof = json.loads(
        _ok(
            capsys,
            "ledger",
            "consistency-proof",
            str(cli_size),
            "--data-dir",
            str(running.data_dir),
        )
    )
    assert proof["second_size"] == fresh.size
    assert proof["checkpoint"] == fresh.note
    verify_consistency(
        cli_size,
        fresh.size,
        [_b64(h) for h in proof["proof"]],
        _checkpoint(_header(data)["checkpoint"], key).root,
        fresh.root_hash,
    )
    assert (running.data_dir / WITNESS).read_text() == fresh.note


async def test_checkpoint_command(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """checkpoint prints the latest signed note (the server's shutdown checkpoint);
    --fresh signs the grown ledger and updates the witness file."""
    key = _public_key(capsys, data_dir)
    size = len(_entries(data_dir))
    latest = _ok(capsys, "ledger", "checkpoint", "--data-dir", str(data_dir))
    assert _checkpoint(latest, key).size == size
    assert latest == (data_dir / WITNESS).read_text()
    _ok(capsys, "logs", "read", "--data-dir", str(data_dir))
    fresh = _ok(capsys, "ledger", "checkpoint", "--fresh", "--data-dir", str(data_dir))
    ledger, database = _ledger(data_dir)
    try:
        state = ledger.state()
    finally:
        database.close()
    opened = _checkpoint(fresh, key)
    assert (opened.origin, opened.size, opened.root) == (state.origin, size + 1, state.root)
    assert fresh == (data_dir / WITNESS).read_text()
    assert _ok(capsys, "ledger", "checkpoint", "--data-dir", str(data_dir)) == fresh


async def test_inclusion_proof_command(
    populated: tuple[Running, list[str]], data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """inclusion-proof SEQ prints JSON whose proof verifies the Redact decision's entry
    against the covering checkpoint; --tree-size S proves it in the tree of size S."""
    key = _public_key(capsys, data_dir)
    entries = _entries(data_dir)
    seq = next(e["seq"] for e in entries if e.get("decision_id") == populated[1][0])
    reply = json.loads(
        _ok(capsys, "ledger", "inclusion-proof", str(seq), "--data-dir", str(data_dir))
    )
    assert reply["seq"] == seq
    assert reply["entry"] == entries[seq]
    leaf = _b64(reply["leaf_hash"])
    assert leaf == leaf_hash(canonical_json(reply["entry"]))
    opened = _checkpoint(reply["checkpoint"], key)
    assert (opened.size, opened.root) == (reply["tree_size"], _b64(reply["root_hash"]))
    assert opened.size == len(entries)
    verify_inclusion(leaf, seq, opened.size, [_b64(h) for h in reply["proof"]], opened.root)

    at = json.loads(
        _ok(
            capsys,
            "ledger",
            "inclusion-proof",
            str(seq),
            "--tree-size",
            str(seq + 1),
            "--data-dir",
            str(data_dir),
        )
    )
    assert at["checkpoint"] is None
    assert at["tree_size"] == seq + 1
    verify_inclusion(leaf, seq, seq + 1, [_b64(h) for h in at["proof"]], _b64(at["root_hash"]))
    code, _, err = _run(capsys, "ledger", "inclusion-proof", "100000", "--data-dir", str(data_dir))
    assert code == 1
    assert err.startswith("governance: ")


async def test_consistency_proof_command(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """consistency-proof FIRST [SECOND] prints a proof that verifies between the roots it
    names; without SECOND it proves against the latest signed checkpoint."""
    key = _public_key(capsys, data_dir)
    before = _checkpoint(_ok(capsys, "ledger", "checkpoint", "--data-dir", str(data_dir)), key)
    _ok(capsys, "logs", "read", "--data-dir", str(data_dir))
    _ok(capsys, "keys", "rotate", "--stage", "add", "--data-dir", str(data_dir))
    after_note = _ok(capsys, "ledger", "checkpoint", "--fresh", "--data-dir", str(data_dir))
    after = _checkpoint(after_note, key)
    assert after.size == before.size + 2
    latest = json.loads(
        _ok(capsys, "ledger", "consistency-proof", str(before.size), "--data-dir", str(data_dir))
    )
    assert latest["checkpoint"] == after_note
    assert (latest["first_size"], latest["second_size"]) == (before.size, after.size)
    assert (_b64(latest["first_root_hash"]), _b64(latest["second_root_hash"])) == (
        before.root,
        after.root,
    )
    verify_consistency(
        before.size, after.size, [_b64(h) for h in latest["proof"]], before.root, after.root
    )
    explicit = json.loads(
        _ok(
            capsys, "ledger", "consistency-proof", "3", str(after.size), "--data-dir", str(data_dir)
        )
    )
    assert explicit["checkpoint"] is None
    verify_consistency(
        3,
        after.size,
        [_b64(h) for h in explicit["proof"]],
        _b64(explicit["first_root_hash"]),
        after.root,
    )


async def test_key_rotation_and_retirement_are_recorded(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """keys rotate appends key_created (kek) and key_rotated naming the re-wrapped data
    keys; keys retire appends key_destroyed; the ledger still exports and verifies."""
    size = len(_entries(data_dir))
    data_keys = [e for e in _entries(data_dir) if e["type"] == "key_created"]
    assert {e["key"] for e in data_keys} == {"data_key"}
    out = _ok(capsys, "keys", "rotate", "--data-dir", str(data_dir))
    assert f"{len(data_keys)} data keys re-wrapped" in out
    _ok(capsys, "keys", "retire", "1", "--data-dir", str(data_dir))
    added = _entries(data_dir)[size:]
    assert [e["type"] for e in added] == ["key_created", "key_rotated", "key_destroyed"]
    assert all(e["actor"].startswith("cli:") for e in added)
    assert {k: added[0][k] for k in ("key", "kek_version")} == {"key": "kek", "kek_version": 2}
    assert {k: added[1][k] for k in ("key", "kek_version", "rewrapped_data_keys")} == {
        "key": "kek",
        "kek_version": 2,
        "rewrapped_data_keys": len(data_keys),
    }
    assert {k: added[2][k] for k in ("key", "kek_version")} == {"key": "kek", "kek_version": 1}
    target = tmp_path / "ledger.jsonl"
    _export(capsys, data_dir, target)
    _ok(capsys, "ledger", "verify", str(target), "--public-key", _public_key(capsys, data_dir))


async def test_logs_read_is_recorded_without_content(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """logs read appends records_read with its filter, count, unreadable and format; no
    record content reaches the ledger."""
    size = len(_entries(data_dir))
    out = _ok(
        capsys, "logs", "read", "--tenant", "acme", "--format", "csv", "--data-dir", str(data_dir)
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows
    _ok(capsys, "logs", "read", "--since", "2026-01-01T00:00Z", "--data-dir", str(data_dir))
    first, second = _entries(data_dir)[size:]
    assert first["type"] == "records_read"
    assert first["actor"].startswith("cli:")
    assert (first["filter"], first["count"], first["unreadable"], first["format"]) == (
        {"tenant": "acme"},
        len(rows),
        0,
        "csv",
    )
    assert second["filter"] == {"since": "2026-01-01T00:00:00.000000Z"}
    assert second["format"] == "jsonl"
    ledger, database = _ledger(data_dir)
    try:
        raw = b"".join(entry for _, entry in ledger.entries(0, ledger.state().size))
    finally:
        database.close()
    for text in (NAME, EMAIL, "Quillfeather", "Hi "):
        assert text.encode() not in raw


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_ledger_commands_on_each_database(
    backend: str,
    sidecar_factory: SidecarFactory,
    postgres: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On SQLite and PostgreSQL (--database-url): a server's ledger exports and verifies,
    proofs verify, and CLI actions are appended to the same ledger."""
    url = None
    if backend == "postgresql":
        url = postgres.create_database(f"ledgercli_{uuid.uuid4().hex[:12]}")
    running: Running = await sidecar_factory(POLICIES, database_url=url)
    decisions = await _traffic(running)
    await running.sidecar.stop(grace_seconds=1.0)
    url = url or database_url_for(running.data_dir)
    where = ("--data-dir", str(running.data_dir), "--database-url", url)
    key = _public_key(capsys, running.data_dir)
    entries = _entries(running.data_dir, url)
    size = len(entries)
    assert entries[0]["type"] == "policy_loaded"

    _ok(capsys, "logs", "read", *where)
    target = tmp_path / "ledger.jsonl"
    message = _ok(capsys, "ledger", "export", "--out", str(target), *where)
    assert f"exported entries 0..{size} ({size + 1})" in message
    out = _ok(capsys, "ledger", "verify", str(target), "--public-key", key)
    assert f"verified entries 0..{size} ({size + 1})" in out
    assert [e["type"] for e in _entries(running.data_dir, url)[size:]] == [
        "records_read",
        "ledger_exported",
    ]

    seq = next(e["seq"] for e in entries if e.get("decision_id") == decisions[1])
    reply = json.loads(_ok(capsys, "ledger", "inclusion-proof", str(seq), *where))
    opened = _checkpoint(reply["checkpoint"], key)
    verify_inclusion(
        _b64(reply["leaf_hash"]), seq, opened.size, [_b64(h) for h in reply["proof"]], opened.root
    )
    proof = json.loads(_ok(capsys, "ledger", "consistency-proof", "1", *where))
    second = _checkpoint(proof["checkpoint"], key)
    verify_consistency(
        1,
        second.size,
        [_b64(h) for h in proof["proof"]],
        _b64(proof["first_root_hash"]),
        second.root,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["ledger"],
        ["ledger", "export", "--to-seq", "1", "--since", "2026-01-01"],
        ["ledger", "export", "--format", "xml"],
        ["ledger", "export", "--from-seq", "-1"],
        ["ledger", "export", "--since", "yesterday"],
        ["ledger", "verify", "ledger.jsonl"],
        ["ledger", "inclusion-proof"],
        ["ledger", "inclusion-proof", "one"],
        ["ledger", "consistency-proof", "1", "2", "3"],
    ],
)
def test_ledger_usage_errors_exit_two(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Malformed ledger command lines exit 2 with usage on stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: governance" in capsys.readouterr().err


def test_ledger_commands_refuse_to_create_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ledger commands on an empty data dir fail naming the missing key; none is made."""
    for argv in (["public-key"], ["checkpoint"], ["export", "--out", str(tmp_path / "x")]):
        code, _, err = _run(capsys, "ledger", *argv, "--data-dir", str(tmp_path / "data"))
        assert code == 1
        assert "governance: " in err
    assert not (tmp_path / "data").exists()
