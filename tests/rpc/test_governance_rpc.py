"""The audit ledger behind the RPCs, and the Governance service in front of it.

Every answered RPC has its ledger entries committed (matched here by decision, inference
and record ids), contiguous per RPC and free of request text; checkpoints, inclusion and
consistency proofs and exports round-trip through the offline verifiers; database
outages, rolled-back databases and shutdown behave as documented.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from governance.entries import canonical_json, iso_utc
from governance.merkle import leaf_hash, root_hash, verify_consistency, verify_inclusion
from governance.note import Checkpoint, NoteVerifier, open_note, parse_checkpoint
from governance.verify import Report, verify_export
from sidecar.v1 import governance_pb2 as gpb
from sidecar.v1 import sidecar_pb2 as pb
from tests.conftest import Running, SidecarFactory, minimal_policies
from tests.pgserver import PgServer, running_postgres

NAME = "Eleanor Quillfeather"
EMAIL = "zq7.ledger@example.org"
PHONE = "+1 202 555 0188"
SUBJECT = "subject-ledger-7"
INPUT = f"I am {NAME}, write to {EMAIL}."
OUTPUT = f"Sure {NAME}, I will call {PHONE}."
CANARIES = (NAME, "Quillfeather", EMAIL, PHONE, SUBJECT, "write to", "I will call")
POLICIES = minimal_policies(inference="ttl_seconds: 60\n      max_ttl_seconds: 600")
ENTRY_FIELDS = {"schema", "seq", "type", "at", "actor"}
DECISION_FIELDS = {"rpc", "policy", "policy_version", "outcome", "entities", "actions"}
RECORD_FIELDS = {"record_id", "tenant", "retention_class", "kind", "model", "key_id", "expires_at"}
KEY_FIELDS = {"key", "key_id", "tenant", "retention_class", "bucket", "generation", "kek_version"}
WITNESS = "ledger-checkpoint.note"


# -- helpers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def audited(sidecar_factory: SidecarFactory) -> Running:
    """A server of this module's own, so the ledger holds only what these tests did."""
    running: Running = await sidecar_factory(POLICIES)
    return running


@pytest.fixture
def postgres_for_outage() -> Iterator[PgServer]:
    """A PostgreSQL server of this test's own, since the test stops and restarts it."""
    with running_postgres() as server:
        yield server


def _tenant() -> str:
    """A tenant no other test used: its first record creates a fresh data key."""
    return f"t-{uuid.uuid4().hex[:12]}"


def _about(entries: list[dict[str, Any]], key: str, value: str) -> list[dict[str, Any]]:
    return [e for e in entries if e.get(key) == value]


def _one(entries: list[dict[str, Any]], **match: str) -> dict[str, Any]:
    found = [e for e in entries if all(e.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def _raw_entries(running: Running) -> list[bytes]:
    size = running.ledger.state().size
    return [entry for _, entry in running.ledger.entries(0, size)]


def _assert_no_text(running: Running) -> None:
    for entry in _raw_entries(running):
        for canary in CANARIES:
            assert canary.encode() not in entry, entry


def _assert_decision(entry: dict[str, Any], *, rpc: str, id_key: str) -> None:
    assert entry["type"] == "screening_decision"
    assert entry["rpc"] == rpc
    assert entry["schema"] == 1
    assert entry["actor"] == f"sidecar@{socket.gethostname()}"
    assert DECISION_FIELDS | ENTRY_FIELDS | {id_key} <= entry.keys()


def _counts(entities: Any) -> dict[str, int]:
    return dict(Counter(e.type for e in entities))


def _actions(entities: Any) -> dict[str, str]:
    return {e.type: e.action for e in entities}


def _record_entry_matches(running: Running, entry: dict[str, Any], record_id: str) -> None:
    """A record_written entry names the record as it is stored (class, key, expiry)."""
    (record,) = [r for r in running.records() if r.record_id == record_id]
    assert entry["type"] == "record_written"
    assert entry.keys() >= RECORD_FIELDS | ENTRY_FIELDS
    assert entry["record_id"] == record_id
    assert entry["tenant"] == record.tenant
    assert entry["retention_class"] == record.retention_class
    assert entry["kind"] == record.kind
    assert entry["model"] == record.model
    assert entry["expires_at"] == iso_utc(record.expires_at)


def _unit_before(entries: list[dict[str, Any]], first_seq: int) -> list[dict[str, Any]]:
    """The key_created entries right before `first_seq` (a unit's new data keys)."""
    keys = []
    seq = first_seq - 1
    while seq >= 0 and entries[seq]["type"] == "key_created":
        keys.insert(0, entries[seq])
        seq -= 1
    return keys


async def _begin(running: Running, tenant: str = "acme", **extra: Any) -> pb.BeginInferenceResponse:
    return await running.stub.BeginInference(
        pb.BeginInferenceRequest(
            model="m1", tenant=tenant, purpose="support", input=INPUT, subject_id=SUBJECT, **extra
        )
    )


async def _export(running: Running, **request: Any) -> bytes:
    chunks = [
        c.data async for c in running.governance.ExportLedger(gpb.ExportLedgerRequest(**request))
    ]
    return b"".join(chunks)


def _verify(running: Running, data: bytes, previous: str | None = None) -> Report:
    assert running.signer is not None
    verifier = NoteVerifier.from_key(running.signer.verifier.key())
    return verify_export(data.splitlines(keepends=True), verifier, previous, expected_range=None)


def _header(data: bytes) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(data.split(b"\n", 1)[0])
    return header


async def _code(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def _stream_code(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in call:
            pass
    return caught.value


def _opened(running: Running, note: str) -> Checkpoint:
    assert running.signer is not None
    return parse_checkpoint(open_note(note, [running.signer.verifier]))


# -- what each RPC leaves -----------------------------------------------------------------


async def test_policy_loaded_is_entry_zero_of_a_fresh_server(audited: Running) -> None:
    """A fresh server's ledger opens with policy_loaded: version, digest, policy versions
    and retention in seconds of the policies it serves."""
    policies = audited.sidecar.policies
    first = audited.ledger_entries()[0]
    assert first["seq"] == 0
    assert first["type"] == "policy_loaded"
    assert first["schema"] == 1
    assert first["actor"] == f"sidecar@{socket.gethostname()}"
    assert first["version"] == policies.version == "test-1"
    assert first["sha256"] == policies.digest
    assert first["default"] == "test"
    assert first["policy_versions"] == {"test": policies.get("test").policy_version}
    assert first["retention"] == {"inference_logs": 30 * 86400, "app_logs": 7 * 86400}
    assert first["at"].endswith("Z")


async def test_redact_leaves_one_screening_decision(audited: Running) -> None:
    """Redact's decision_id names exactly one screening_decision: counts and actions by
    type, policy and version, outcome; no text."""
    reply = await audited.stub.Redact(pb.RedactRequest(text=INPUT))
    assert reply.entities
    entries = audited.ledger_entries()
    (entry,) = _about(entries, "decision_id", reply.decision_id)
    _assert_decision(entry, rpc="Redact", id_key="decision_id")
    assert entry.keys() == DECISION_FIELDS | ENTRY_FIELDS | {"decision_id"}
    assert entry["policy"] == "test"
    assert entry["policy_version"] == reply.policy_version
    assert entry["outcome"] == reply.outcome == "ok"
    assert entry["entities"] == _counts(reply.entities) == {"PERSON": 1, "EMAIL_ADDRESS": 1}
    assert entry["actions"] == _actions(reply.entities)
    _assert_no_text(audited)


async def test_begin_inference_leaves_a_decision_with_labels(audited: Running) -> None:
    """BeginInference leaves one screening_decision naming the inference, tenant, model
    and purpose, before it answers; the subject id is nowhere."""
    tenant = _tenant()
    begun = await _begin(audited, tenant)
    entries = audited.ledger_entries()
    (entry,) = _about(entries, "inference_id", begun.inference_id)
    _assert_decision(entry, rpc="BeginInference", id_key="inference_id")
    assert entry["tenant"] == tenant
    assert entry["model"] == "m1"
    assert entry["purpose"] == "support"
    assert entry["policy_version"] == begun.policy_version
    assert entry["outcome"] == begun.outcome
    assert entry["entities"] == _counts(begun.entities)
    assert entry["actions"] == _actions(begun.entities)
    await audited.stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))
    _assert_no_text(audited)


async def test_end_inference_leaves_key_decision_and_record_entries(audited: Running) -> None:
    """EndInference commits, at contiguous seqs, a key_created for the new data key, its
    screening_decision and a record_written naming the returned record; the next end of
    the same tenant reuses the key and leaves just the decision and the record."""
    tenant = _tenant()
    begun = await _begin(audited, tenant)
    ended = await audited.stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output=OUTPUT)
    )
    entries = audited.ledger_entries()
    about = _about(entries, "inference_id", begun.inference_id)
    assert [e["rpc"] for e in about] == ["BeginInference", "EndInference"]
    decision = about[1]
    _assert_decision(decision, rpc="EndInference", id_key="inference_id")
    assert decision["outcome"] == ended.outcome == "ok"
    assert decision["entities"] == _counts(ended.entities)
    assert (decision["tenant"], decision["model"], decision["purpose"]) == (tenant, "m1", "support")
    record = _one(entries, type="record_written", record_id=ended.log_record_id)
    _record_entry_matches(audited, record, ended.log_record_id)
    assert record["decision_id"] == begun.inference_id
    assert record["retention_class"] == "inference_logs"
    assert record["kind"] == "inference"
    assert record["seq"] == decision["seq"] + 1
    (key,) = _unit_before(entries, decision["seq"])
    assert key.keys() == KEY_FIELDS | ENTRY_FIELDS
    assert key["key"] == "data_key"
    assert key["key_id"] == record["key_id"]
    assert (key["tenant"], key["retention_class"]) == (tenant, "inference_logs")

    again = await _begin(audited, tenant)
    ended_again = await audited.stub.EndInference(
        pb.EndInferenceRequest(inference_id=again.inference_id, output="ok")
    )
    entries = audited.ledger_entries()
    decision = _one(entries, rpc="EndInference", inference_id=again.inference_id)
    record = _one(entries, type="record_written", record_id=ended_again.log_record_id)
    assert record["seq"] == decision["seq"] + 1
    new_keys = _unit_before(entries, decision["seq"])
    if record["key_id"] == key["key_id"]:
        assert new_keys == []
    else:  # the day's bucket changed between the two calls
        assert [k["key_id"] for k in new_keys] == [record["key_id"]]
    _assert_no_text(audited)


async def test_stream_output_leaves_decision_and_record(audited: Running) -> None:
    """StreamOutput's last reply names a record; its decision and record_written follow
    each other in the ledger."""
    begun = await _begin(audited)

    async def chunks() -> AsyncIterator[pb.OutputChunk]:
        yield pb.OutputChunk(inference_id=begun.inference_id, text="Hello <PERS")
        yield pb.OutputChunk(text=f"ON_1>, call {PHONE} please.")
        yield pb.OutputChunk(last=True)

    replies = [reply async for reply in audited.stub.StreamOutput(chunks())]
    record_id = replies[-1].log_record_id
    assert record_id
    entries = audited.ledger_entries()
    decision = _one(entries, rpc="StreamOutput", inference_id=begun.inference_id)
    _assert_decision(decision, rpc="StreamOutput", id_key="inference_id")
    assert decision["outcome"] == replies[-1].outcome
    assert decision["entities"] == {"PHONE_NUMBER": 1}
    record = _one(entries, type="record_written", record_id=record_id)
    _record_entry_matches(audited, record, record_id)
    assert record["decision_id"] == begun.inference_id
    assert record["seq"] == decision["seq"] + 1
    _assert_no_text(audited)


async def test_abort_inference_leaves_aborted_decision_and_record(audited: Running) -> None:
    """AbortInference leaves an "aborted" decision and the input-only record's entry."""
    begun = await _begin(audited)
    await audited.stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))
    entries = audited.ledger_entries()
    decision = _one(entries, rpc="AbortInference", inference_id=begun.inference_id)
    _assert_decision(decision, rpc="AbortInference", id_key="inference_id")
    assert decision["outcome"] == "aborted"
    assert decision["entities"] == {}
    record = _one(entries, type="record_written", decision_id=begun.inference_id)
    _record_entry_matches(audited, record, record["record_id"])
    assert record["seq"] == decision["seq"] + 1
    _assert_no_text(audited)


async def test_log_leaves_decision_and_record(audited: Running) -> None:
    """Log leaves a screening_decision (tenant, source as model) and, right after it,
    the record_written of the returned record (kind app, class app_logs)."""
    tenant = _tenant()
    reply = await audited.stub.Log(
        pb.LogRequest(
            tenant=tenant,
            source="chat-api",
            level="info",
            message=f"reset mail sent to {EMAIL}",
            attributes={"route": "/reset"},
        )
    )
    entries = audited.ledger_entries()
    record = _one(entries, type="record_written", record_id=reply.log_record_id)
    _record_entry_matches(audited, record, reply.log_record_id)
    assert (record["kind"], record["retention_class"], record["model"]) == (
        "app",
        "app_logs",
        "chat-api",
    )
    decision = entries[record["seq"] - 1]
    _assert_decision(decision, rpc="Log", id_key="decision_id")
    assert (decision["tenant"], decision["model"]) == (tenant, "chat-api")
    assert decision["entities"] == _counts(reply.entities) == {"EMAIL_ADDRESS": 1}
    (key,) = _unit_before(entries, decision["seq"])
    assert (key["key_id"], key["tenant"], key["retention_class"]) == (
        record["key_id"],
        tenant,
        "app_logs",
    )
    _assert_no_text(audited)


async def test_log_record_entry_names_its_decision(audited: Running) -> None:
    """A Log record's record_written names the Log decision it belongs to, as inference
    records name theirs (journal.Unit.about: "the inference or decision id")."""
    reply = await audited.stub.Log(
        pb.LogRequest(tenant="acme", source="chat-api", level="info", message="started")
    )
    entries = audited.ledger_entries()
    record = _one(entries, type="record_written", record_id=reply.log_record_id)
    decision = entries[record["seq"] - 1]
    assert decision["rpc"] == "Log"
    assert record.get("decision_id") == decision["decision_id"]


async def test_ttl_expiry_leaves_expired_decision_and_record(audited: Running) -> None:
    """An inference whose TTL runs out leaves an "expiry" decision (outcome expired) and
    its record's entry, contiguous."""
    begun = await _begin(audited, ttl_ms=100)
    record: dict[str, Any] | None = None
    for _ in range(100):
        await asyncio.sleep(0.05)
        found = _about(audited.ledger_entries(), "decision_id", begun.inference_id)
        if found:
            (record,) = found
            break
    assert record is not None, "no record_written for the expired inference"
    entries = audited.ledger_entries()
    decision = _one(entries, rpc="expiry", inference_id=begun.inference_id)
    _assert_decision(decision, rpc="expiry", id_key="inference_id")
    assert decision["outcome"] == "expired"
    assert record["type"] == "record_written"
    assert record["seq"] == decision["seq"] + 1
    _record_entry_matches(audited, record, record["record_id"])
    _assert_no_text(audited)


async def test_concurrent_calls_leave_contiguous_units(audited: Running) -> None:
    """Group commit: 24 concurrent ends and redacts, each answered unit is in the ledger
    once, its decision and record at adjacent seqs; keys come before their records."""
    begun = await asyncio.gather(*(_begin(audited, _tenant()) for _ in range(12)))
    ends = [
        audited.stub.EndInference(
            pb.EndInferenceRequest(inference_id=b.inference_id, output=OUTPUT)
        )
        for b in begun
    ]
    redacts = [audited.stub.Redact(pb.RedactRequest(text=INPUT)) for _ in range(12)]
    replies = await asyncio.gather(*ends, *redacts)
    entries = audited.ledger_entries()
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    keys = {e["key_id"]: e["seq"] for e in entries if e["type"] == "key_created"}
    for b, ended in zip(begun, replies[:12], strict=True):
        decision = _one(entries, rpc="EndInference", inference_id=b.inference_id)
        record = _one(entries, type="record_written", record_id=ended.log_record_id)
        assert record["seq"] == decision["seq"] + 1
        assert record["decision_id"] == b.inference_id
        assert keys[record["key_id"]] < decision["seq"]
    for reply in replies[12:]:
        _one(entries, type="screening_decision", decision_id=reply.decision_id)
    _assert_no_text(audited)


# -- Governance RPCs ----------------------------------------------------------------------


async def test_get_checkpoint_verifies_and_matches_the_ledger(audited: Running) -> None:
    """GetCheckpoint(fresh) signs the current tree: the note opens with the server's
    verifier and names the ledger's size and root; without fresh, the same is returned."""
    assert audited.signer is not None
    await audited.stub.Redact(pb.RedactRequest(text=INPUT))
    fresh = await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    state = audited.ledger.state()
    opened = _opened(audited, fresh.note)
    assert (opened.origin, opened.size, opened.root) == (state.origin, state.size, state.root)
    assert (fresh.origin, fresh.size, fresh.root_hash) == (state.origin, state.size, state.root)
    assert fresh.origin == audited.signer.name
    assert fresh.verifier_key == audited.signer.verifier.key()
    assert NoteVerifier.from_key(fresh.verifier_key) == audited.signer.verifier
    latest = await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest())
    assert latest == fresh
    again = await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    assert again.note == fresh.note  # nothing appended: the same signed note


async def test_inclusion_proof_of_a_redact_decision(audited: Running) -> None:
    """An inclusion proof for a Redact decision, asked by seq and by leaf hash, verifies
    against the smallest checkpoint covering it; the entry bytes hash to the leaf."""
    reply = await audited.stub.Redact(pb.RedactRequest(text=INPUT))
    seq = _one(audited.ledger_entries(), decision_id=reply.decision_id)["seq"]
    covering = await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    await audited.stub.Redact(pb.RedactRequest(text="more traffic"))
    await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))

    by_seq = await audited.governance.GetInclusionProof(gpb.GetInclusionProofRequest(seq=seq))
    assert by_seq.seq == seq
    assert json.loads(by_seq.entry)["decision_id"] == reply.decision_id
    assert leaf_hash(by_seq.entry) == by_seq.leaf_hash
    assert canonical_json(json.loads(by_seq.entry)) == by_seq.entry
    assert by_seq.tree_size == covering.size
    assert by_seq.root_hash == covering.root_hash
    assert by_seq.checkpoint == covering
    opened = _opened(audited, by_seq.checkpoint.note)
    verify_inclusion(by_seq.leaf_hash, seq, opened.size, list(by_seq.hashes), opened.root)

    by_leaf = await audited.governance.GetInclusionProof(
        gpb.GetInclusionProofRequest(leaf_hash=by_seq.leaf_hash)
    )
    assert by_leaf == by_seq

    size = audited.ledger.state().size
    at_size = await audited.governance.GetInclusionProof(
        gpb.GetInclusionProofRequest(seq=seq, tree_size=size)
    )
    assert at_size.tree_size == size
    assert at_size.root_hash == audited.ledger.root_at(size)
    assert not at_size.HasField("checkpoint")
    verify_inclusion(at_size.leaf_hash, seq, size, list(at_size.hashes), at_size.root_hash)


async def test_consistency_proof_between_two_checkpoints(audited: Running) -> None:
    """A checkpoint taken before more traffic is proven a prefix of one taken after, by
    explicit sizes and by second_size 0 (the latest signed checkpoint)."""
    before = await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    for _ in range(5):
        await audited.stub.Redact(pb.RedactRequest(text=INPUT))
    after = await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    assert after.size == before.size + 5
    proof = await audited.governance.GetConsistencyProof(
        gpb.GetConsistencyProofRequest(first_size=before.size, second_size=after.size)
    )
    assert (proof.first_size, proof.second_size) == (before.size, after.size)
    assert (proof.first_root_hash, proof.second_root_hash) == (before.root_hash, after.root_hash)
    first, second = _opened(audited, before.note), _opened(audited, after.note)
    verify_consistency(first.size, second.size, list(proof.hashes), first.root, second.root)
    assert not proof.HasField("checkpoint")

    latest = await audited.governance.GetConsistencyProof(
        gpb.GetConsistencyProofRequest(first_size=before.size)
    )
    assert latest.checkpoint == after
    assert latest.second_size == after.size
    assert list(latest.hashes) == list(proof.hashes)


async def test_export_jsonl_verifies_and_is_recorded(audited: Running) -> None:
    """ExportLedger (jsonl) is the whole ledger against a fresh checkpoint; it verifies
    offline, and a ledger_exported entry naming that checkpoint follows it."""
    await audited.stub.Redact(pb.RedactRequest(text=INPUT))
    size = audited.ledger.state().size
    data = await _export(audited)
    header = _header(data)
    assert (header["from_seq"], header["count"]) == (0, size)
    report = _verify(audited, data)
    assert report.ok, report.problems
    assert report.entries == size
    assert report.checkpoint is not None
    assert report.checkpoint.size == size
    assert data.splitlines()[1:] == _raw_entries(audited)[:size]
    entries = audited.ledger_entries()
    exported = entries[-1]
    assert exported["type"] == "ledger_exported"
    assert exported["seq"] == size
    assert (
        exported["checkpoint_sha256"] == hashlib.sha256(header["checkpoint"].encode()).hexdigest()
    )
    assert (exported["from_seq"], exported["to_seq"], exported["count"]) == (0, size - 1, size)
    assert (exported["tree_size"], exported["format"]) == (size, "jsonl")
    assert exported["actor"].startswith("grpc:")


async def test_export_verifies_against_a_previous_checkpoint(audited: Running) -> None:
    """An export checked against a checkpoint kept from before: whole, or a later range
    carrying the consistency proof it asked for; without the proof it says what to ask."""
    kept = await audited.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    for _ in range(3):
        await audited.stub.Redact(pb.RedactRequest(text=INPUT))

    whole = await _export(audited)
    report = _verify(audited, whole, kept.note)
    assert report.ok, report.problems

    later = await _export(audited, from_seq=kept.size + 1, consistency_from=[kept.size])
    assert _header(later)["from_seq"] == kept.size + 1
    report = _verify(audited, later, kept.note)
    assert report.ok, report.problems

    unproven = await _export(audited, from_seq=kept.size + 1)
    report = _verify(audited, unproven, kept.note)
    assert not report.ok
    assert any(f"--consistency-from {kept.size}" in p for p in report.problems), report.problems


async def test_export_ranges_verify(audited: Running) -> None:
    """from_seq/to_seq (inclusive) and since_unix_ms select the range; each verifies, an
    empty one (since after the last entry) too."""
    await audited.stub.Redact(pb.RedactRequest(text=INPUT))
    ranged = await _export(audited, from_seq=2, to_seq=4)
    assert (_header(ranged)["from_seq"], _header(ranged)["count"]) == (2, 3)
    assert [json.loads(line)["seq"] for line in ranged.splitlines()[1:]] == [2, 3, 4]
    assert _verify(audited, ranged).ok

    await asyncio.sleep(0.01)
    since_ms = int(time.time() * 1000)
    await asyncio.sleep(0.01)
    reply = await audited.stub.Redact(pb.RedactRequest(text=INPUT))
    recent = await _export(audited, since_unix_ms=since_ms)
    lines = [json.loads(line) for line in recent.splitlines()[1:]]
    assert lines[0]["decision_id"] == reply.decision_id
    report = _verify(audited, recent)
    assert report.ok, report.problems

    future = await _export(audited, since_unix_ms=since_ms + 3_600_000)
    assert _header(future)["count"] == 0
    assert len(future.splitlines()) == 1
    report = _verify(audited, future)
    assert report.ok, report.problems


async def test_export_csv_has_a_row_per_entry(audited: Running) -> None:
    """ExportLedger (csv) has a header and one row per entry, the entry's JSON in full;
    the export is recorded with format csv."""
    size = audited.ledger.state().size
    data = await _export(audited, format="csv")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert [int(r["seq"]) for r in rows] == list(range(size))
    raw = _raw_entries(audited)
    assert [r["entry"].encode() for r in rows] == raw[:size]
    assert {r["type"] for r in rows} >= {"policy_loaded", "screening_decision", "record_written"}
    exported = audited.ledger_entries()[-1]
    assert (exported["type"], exported["format"], exported["count"]) == (
        "ledger_exported",
        "csv",
        size,
    )


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (gpb.GetInclusionProofRequest(leaf_hash=b"\x01" * 31), grpc.StatusCode.INVALID_ARGUMENT),
        (gpb.GetInclusionProofRequest(), grpc.StatusCode.INVALID_ARGUMENT),
        (gpb.GetInclusionProofRequest(seq=10**6), grpc.StatusCode.OUT_OF_RANGE),
        (gpb.GetInclusionProofRequest(seq=0, tree_size=10**6), grpc.StatusCode.OUT_OF_RANGE),
        (gpb.GetInclusionProofRequest(seq=5, tree_size=5), grpc.StatusCode.OUT_OF_RANGE),
        (gpb.GetInclusionProofRequest(leaf_hash=b"\x02" * 32), grpc.StatusCode.NOT_FOUND),
        (
            gpb.GetConsistencyProofRequest(first_size=1, second_size=10**6),
            grpc.StatusCode.OUT_OF_RANGE,
        ),
        (gpb.GetConsistencyProofRequest(first_size=10**6), grpc.StatusCode.OUT_OF_RANGE),
    ],
    ids=[
        "short-leaf-hash",
        "no-leaf",
        "seq-beyond",
        "size-beyond",
        "seq-outside-size",
        "unknown-leaf-hash",
        "second-size-beyond",
        "first-size-beyond-latest",
    ],
)
async def test_proof_errors(audited: Running, request_: Any, code: grpc.StatusCode) -> None:
    """Malformed proof requests are INVALID_ARGUMENT; sizes and seqs the ledger does not
    have are OUT_OF_RANGE; the message carries a request id."""
    method = (
        audited.governance.GetInclusionProof
        if isinstance(request_, gpb.GetInclusionProofRequest)
        else audited.governance.GetConsistencyProof
    )
    error = await _code(method(request_))
    assert error.code() == code, error.details()
    assert "[request " in (error.details() or "")


@pytest.mark.parametrize(
    "request_",
    [
        gpb.ExportLedgerRequest(format="xml"),
        gpb.ExportLedgerRequest(to_seq=1, since_unix_ms=1),
        gpb.ExportLedgerRequest(to_seq=10**6),
        gpb.ExportLedgerRequest(from_seq=10**6),
        gpb.ExportLedgerRequest(consistency_from=[10**6]),
    ],
    ids=["bad-format", "to-seq-with-since", "to-seq-beyond", "from-seq-beyond", "proof-beyond"],
)
async def test_export_request_errors(audited: Running, request_: gpb.ExportLedgerRequest) -> None:
    """Impossible export requests are INVALID_ARGUMENT (ExportRequestError) and nothing
    is recorded as exported."""
    before = audited.ledger.state().size
    error = await _stream_code(audited.governance.ExportLedger(request_))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert not [e for e in audited.ledger_entries()[before:] if e["type"] == "ledger_exported"]


# -- shutdown, outages and a broken database -----------------------------------------------


async def test_shutdown_signs_a_final_checkpoint(sidecar_factory: SidecarFactory) -> None:
    """Stopping the server signs a checkpoint of the final tree, kept in the database
    and in the host's witness file."""
    running: Running = await sidecar_factory(POLICIES)
    for _ in range(3):
        await running.stub.Redact(pb.RedactRequest(text=INPUT))
    await running.sidecar.stop(grace_seconds=1.0)
    state = running.ledger.state()
    assert state.size == 4
    latest = running.ledger.latest_checkpoint()
    assert latest is not None
    assert (latest.size, latest.root) == (state.size, state.root)
    witness = (running.data_dir / WITNESS).read_text(encoding="utf-8")
    assert witness == latest.note
    opened = _opened(running, witness)
    assert (opened.size, opened.root) == (state.size, state.root)


async def test_database_outage_refuses_decisions_and_leaves_no_gap(
    sidecar_factory: SidecarFactory, postgres_for_outage: PgServer
) -> None:
    """PostgreSQL down: Redact, BeginInference, GetCheckpoint and ExportLedger are
    UNAVAILABLE and no inference context is kept; back up: the ledger has no gap, holds
    every acknowledged decision and verifies against the checkpoint kept from before."""
    server = postgres_for_outage
    running: Running = await sidecar_factory(
        POLICIES, database_url=server.create_database(f"ledger_{uuid.uuid4().hex[:12]}")
    )
    try:
        acknowledged = [(await running.stub.Redact(pb.RedactRequest(text=INPUT))).decision_id]
        kept = await running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
        server.stop()
        try:
            for call in (
                running.stub.Redact(pb.RedactRequest(text=INPUT)),
                _begin(running),
                running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True)),
            ):
                error = await _code(call)
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
                assert not any(c in (error.details() or "") for c in CANARIES)
            error = await _stream_code(running.governance.ExportLedger(gpb.ExportLedgerRequest()))
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            assert len(running.sidecar.contexts) == 0
        finally:
            server.start()
        acknowledged.append((await running.stub.Redact(pb.RedactRequest(text=INPUT))).decision_id)
        begun = await _begin(running)
        ended = await running.stub.EndInference(
            pb.EndInferenceRequest(inference_id=begun.inference_id, output="bye")
        )
        entries = running.ledger_entries()
        assert [e["seq"] for e in entries] == list(range(len(entries)))
        redacts = [e["decision_id"] for e in entries if e.get("rpc") == "Redact"]
        assert redacts == acknowledged
        assert [e.get("rpc") for e in _about(entries, "inference_id", begun.inference_id)] == [
            "BeginInference",
            "EndInference",
        ]
        _one(entries, type="record_written", record_id=ended.log_record_id)
        assert running.ledger.state().root == root_hash(
            [leaf_hash(e) for e in _raw_entries(running)]
        )
        report = _verify(running, await _export(running, consistency_from=[kept.size]), kept.note)
        assert report.ok, report.problems
    finally:
        await running.sidecar.stop(grace_seconds=1.0)


def _saved_state(running: Running) -> tuple[int, bytes, bytes]:
    with running.store.database.engine.connect() as db:
        row = db.execute(sa.text("SELECT size, root, compact FROM ledger_state WHERE id = 1")).one()
    return int(row[0]), bytes(row[1]), bytes(row[2])


def _roll_back(running: Running, saved: tuple[int, bytes, bytes], *, checkpoints: bool) -> None:
    """Make the ledger's tables what they were at `saved`, behind the server's back (a
    truncation, or with `checkpoints` a restored backup)."""
    size, root, compact = saved
    with running.store.database.engine.begin() as db:
        db.execute(sa.text("DELETE FROM ledger_entries WHERE seq >= :size"), {"size": size})
        for (node_id,) in db.execute(sa.text("SELECT node_id FROM ledger_nodes")).all():
            level, index = node_id & 63, node_id >> 6
            if (index + 1) << level > size:
                db.execute(sa.text("DELETE FROM ledger_nodes WHERE node_id = :id"), {"id": node_id})
        if checkpoints:
            db.execute(sa.text("DELETE FROM ledger_checkpoints WHERE size > :size"), {"size": size})
        db.execute(
            sa.text("UPDATE ledger_state SET size = :size, root = :root, compact = :compact"),
            {"size": size, "root": root, "compact": compact},
        )


async def test_truncated_ledger_is_data_loss(sidecar_factory: SidecarFactory) -> None:
    """Entries deleted behind the server's back, below a signed checkpoint: fresh
    checkpoints and exports fail with DATA_LOSS naming the sizes."""
    running: Running = await sidecar_factory(POLICIES)
    await running.stub.Redact(pb.RedactRequest(text=INPUT))
    saved = _saved_state(running)
    for _ in range(3):
        await running.stub.Redact(pb.RedactRequest(text=INPUT))
    signed = await running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    _roll_back(running, saved, checkpoints=False)
    error = await _code(running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True)))
    assert error.code() == grpc.StatusCode.DATA_LOSS, error.details()
    assert f"size {signed.size} was signed" in (error.details() or "")
    error = await _stream_code(running.governance.ExportLedger(gpb.ExportLedgerRequest()))
    assert error.code() == grpc.StatusCode.DATA_LOSS


async def test_witness_beyond_the_ledger_is_data_loss(sidecar_factory: SidecarFactory) -> None:
    """The host's witness file holds a checkpoint bigger than the database's ledger (the
    database went back in time): GetCheckpoint(fresh) is DATA_LOSS."""
    running: Running = await sidecar_factory(POLICIES)
    assert running.signer is not None
    await running.stub.Redact(pb.RedactRequest(text=INPUT))
    await running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    size = running.ledger.state().size
    bigger = running.signer.sign(Checkpoint(running.signer.name, size + 5, os.urandom(32)).text())
    (running.data_dir / WITNESS).write_text(bigger, encoding="utf-8")
    await running.stub.Redact(pb.RedactRequest(text=INPUT))
    error = await _code(running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True)))
    assert error.code() == grpc.StatusCode.DATA_LOSS, error.details()
    assert f"size {size + 5} was signed" in (error.details() or "")
    assert (running.data_dir / WITNESS).read_text(encoding="utf-8") == bigger


async def test_restored_backup_at_a_checkpointed_size_is_data_loss(
    sidecar_factory: SidecarFactory,
) -> None:
    """A database restored from a backup taken right after a checkpoint (entries and
    checkpoints both rolled back) contradicts the witness file: GetCheckpoint(fresh) is
    DATA_LOSS rather than the old checkpoint served as the current one."""
    running: Running = await sidecar_factory(POLICIES)
    await running.stub.Redact(pb.RedactRequest(text=INPUT))
    old = await running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    backup = _saved_state(running)
    for _ in range(3):
        await running.stub.Redact(pb.RedactRequest(text=INPUT))
    newer = await running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    _roll_back(running, backup, checkpoints=True)
    assert running.ledger.state().size == old.size
    assert _opened(running, (running.data_dir / WITNESS).read_text()).size == newer.size
    error = await _code(running.governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True)))
    assert error.code() == grpc.StatusCode.DATA_LOSS, error.details()
