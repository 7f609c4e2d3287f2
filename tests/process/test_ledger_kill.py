"""SIGKILL the real `sidecar serve` under concurrent Redact calls: nothing acknowledged is
lost from the audit ledger, the ledger has no gap, and it still exports and verifies."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from governance.cli import main
from governance.database import Database, database_url_for
from governance.keyprovider import LocalKeyProvider
from governance.ledger import Ledger
from governance.merkle import leaf_hash, root_hash
from governance.note import NoteVerifier
from governance.verify import verify_export
from sidecar.v1 import governance_pb2 as gpb
from sidecar.v1 import governance_pb2_grpc as gpb_grpc
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.process._server import (
    SidecarProcess,
    loopback_channel,
    running,
    serve_args,
    sidecar_command,
)

CLIENTS = 8
KILLS = 3
ACKS_BEFORE_KILL = 40  # per round: the kill comes once this many calls were answered
TEXT = "Ask Eleanor Quillfeather at zq7.kill@example.org or +1 202 555 0188 about it."


@dataclass
class Round:
    """What the clients of one server life saw: answered decision ids and failed calls."""

    acknowledged: list[str] = field(default_factory=list)
    failed: list[grpc.StatusCode] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(target: str, seen: Round, stop: threading.Event) -> None:
    """Redact in a loop until the server goes away (or `stop`), recording every OK answer."""
    with loopback_channel(target) as channel:
        stub = pb_grpc.PrivacySidecarStub(channel)
        while not stop.is_set():
            try:
                reply = stub.Redact(pb.RedactRequest(text=TEXT), timeout=30)
            except grpc.RpcError as err:
                with seen.lock:
                    seen.failed.append(err.code())
                return
            assert reply.decision_id
            with seen.lock:
                seen.acknowledged.append(reply.decision_id)


def _checkpoint(target: str) -> gpb.Checkpoint:
    with loopback_channel(target) as channel:
        reply: gpb.Checkpoint = gpb_grpc.GovernanceStub(channel).GetCheckpoint(
            gpb.GetCheckpointRequest(fresh=True), timeout=30
        )
        return reply


def _kill_under_load(server: SidecarProcess) -> tuple[Round, gpb.Checkpoint]:
    """Run the clients, sign a checkpoint mid-way, SIGKILL the server with calls in flight."""
    seen = Round()
    stop = threading.Event()
    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = [pool.submit(_client, server.target, seen, stop) for _ in range(CLIENTS)]
        deadline = time.monotonic() + 30
        signed: gpb.Checkpoint | None = None
        while len(seen.acknowledged) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
            if signed is None and len(seen.acknowledged) >= ACKS_BEFORE_KILL // 2:
                signed = _checkpoint(server.target)
            time.sleep(0.01)
        time.sleep(random.uniform(0.0, 0.2))
        in_flight = sum(not c.done() for c in clients)
        server.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        for client in clients:
            client.result(timeout=30)
        stop.set()
    assert server.wait_exit(10) == -signal.SIGKILL
    assert len(seen.acknowledged) >= ACKS_BEFORE_KILL, server.stderr
    assert signed is not None
    assert in_flight == CLIENTS, "a client had stopped before the kill"
    assert len(seen.failed) == CLIENTS  # each client's last call was cut by the kill
    assert time.monotonic() - killed < 30
    return seen, signed


def _ledger_of(data_dir: Path) -> tuple[Ledger, Database, NoteVerifier]:
    provider = LocalKeyProvider(data_dir / "keys" / "kek.json", create=False)
    signer = provider.ledger_signer(create=False)[0]
    database = Database(database_url_for(data_dir))
    return Ledger(database, origin=signer.name), database, signer.verifier


@pytest.mark.slow
def test_sigkill_under_load_loses_no_acknowledged_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three SIGKILLs with 8 clients mid-call, restarting on the same data dir each time:
    every answered decision_id is in the ledger exactly once, seqs have no gap, the root
    is the stored entries' root, the restarted server signs checkpoints extending those
    signed before each kill, and an export verifies against each of them."""
    data_dir = tmp_path / "var"
    command = sidecar_command(*serve_args(data_dir))
    acknowledged: list[str] = []
    kept: list[gpb.Checkpoint] = []
    for _ in range(KILLS):
        server = SidecarProcess(command)
        try:
            server.wait_listening()
            seen, signed = _kill_under_load(server)
        finally:
            server.stop()
        acknowledged += seen.acknowledged
        kept.append(signed)

    with running(command) as server:
        after = _checkpoint(server.target)  # extends the checkpoints signed before (witness)
        server.send_signal(signal.SIGTERM)
        assert server.wait_exit(15) == 0, server.stderr
    assert after.size > kept[-1].size

    ledger, database, verifier = _ledger_of(data_dir)
    try:
        size = ledger.state().size
        rows = list(ledger.entries(0, size))  # raises LedgerBroken at a missing seq
        assert [seq for seq, _ in rows] == list(range(size))
        assert list(ledger.leaf_hashes(0, size)) == [leaf_hash(entry) for _, entry in rows]
        assert ledger.state().root == root_hash([leaf_hash(entry) for _, entry in rows])
        latest = ledger.latest_checkpoint()
    finally:
        database.close()
    assert latest is not None
    assert latest.size == size  # signed at the clean shutdown
    entries = [json.loads(entry) for _, entry in rows]
    assert [e["seq"] for e in entries] == list(range(size))
    decided = [e["decision_id"] for e in entries if e.get("rpc") == "Redact"]
    assert len(decided) == len(set(decided))
    missing = set(acknowledged) - set(decided)
    assert not missing, f"{len(missing)} acknowledged decisions are not in the ledger"
    assert [e["type"] for e in entries].count("policy_loaded") == KILLS + 1
    assert entries[0]["type"] == "policy_loaded"
    signing = [e for e in entries if e.get("key") == "ledger_signing"]
    assert [(e["seq"], e["verifier_key"]) for e in signing] == [(1, verifier.key())]

    export = tmp_path / "ledger.jsonl"
    assert main(["ledger", "export", "--data-dir", str(data_dir), "--out", str(export)]) == 0
    key = tmp_path / "ledger.pub"
    assert main(["ledger", "public-key", "--data-dir", str(data_dir), "--out", str(key)]) == 0
    previous = tmp_path / "kept.note"
    previous.write_text(kept[-1].note, encoding="utf-8")
    capsys.readouterr()
    code = main(
        [
            "ledger",
            "verify",
            str(export),
            "--public-key",
            str(key),
            "--previous-checkpoint",
            str(previous),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"verified entries 0..{size - 1} ({size})" in out
    lines = export.read_bytes().splitlines(keepends=True)
    for checkpoint in kept:
        report = verify_export(lines, verifier, checkpoint.note)
        assert report.ok, report.problems
