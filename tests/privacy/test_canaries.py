"""The canary test: unique PII values through every RPC and error path leave no trace.

Canaries of every entity type go through Redact, BeginInference, EndInference,
StreamOutput and AbortInference, through bad arguments, unknown and expired ids,
oversized texts, a full context store and injected detector failures. Then every log
record (all loggers, DEBUG), span, metric data point, std stream, gRPC error message
and file the sidecar wrote is scanned for them: zero hits.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from functools import partial
from pathlib import Path

import grpc
import psycopg
import pytest

from governance.policy import Policies, Policy
from sidecar import workers
from sidecar.detection import Finding, PresidioDetector
from sidecar.v1 import governance_pb2 as gpb
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.conftest import ROOT, Captured, Running, SidecarFactory, minimal_policies
from tests.pgserver import PgServer

# Every canary is one the detector finds in TEXT (checked by the records scan below): a
# hit in a decrypted record then means a plumbing fault, not a detection miss, which is
# the detection-quality suite's business.
CANARIES = (
    "Margaret Whitfield",
    "zq7.canary@example.org",
    "+1 202 555 0147",
    "4111 1111 1111 1111",
    "4111111111111111",
    "536-22-8147",
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
    "203.0.113.77",
    "https://zq7-canary.example.net/users/zq7canary",
    "subject-zq7-canary-42",
    "Kalamazoo",
    # Obfuscated forms, found through the de-obfuscation view: each rendering and what
    # it decodes to are canaries.
    "enE4LmNhbmFyeUBleGFtcGxlLm9yZw==",
    "zq8.canary@example.org",
    "zq9.canary&#64;example&#46;org",
    "zq9.canary@example.org",
    "two zero two five five five zero one eight three",
    "2025550183",
    "Rosal\u0456nd Pemberton",
    "Rosalind Pemberton",
)
TEXT = (
    "Hi, I am Margaret Whitfield from Kalamazoo. Mail zq7.canary@example.org or call "
    "+1 202 555 0147. Card 4111 1111 1111 1111, SSN 536-22-8147, IBAN "
    "DE89 3704 0044 0532 0130 00, from 203.0.113.77, see "
    "https://zq7-canary.example.net/users/zq7canary. Backup: enE4LmNhbmFyeUBleGFtcGxlLm9yZw== "
    "or zq9.canary&#64;example&#46;org, phone two zero two five five five zero one eight "
    "three, ask Rosal\u0456nd Pemberton."
)
# A long text (20 KB), the canaries at both ends and in the middle. Its place names give
# the NER model 16 KB of regions to read: enough for two idle workers to share them.
_FILLER = (
    "The rollout checklist from Quarry Lane and Morrow Heights covers caches, retries and "
    "the build pipeline."
)
LONG_TEXT = "\n\n".join([TEXT, *[_FILLER] * 90, TEXT, *[_FILLER] * 90, TEXT])
SUBJECT = "subject-zq7-canary-42"
# Words of TEXT as spaCy tokenises them (the model's regions, the windows the context
# enhancer reads) that its vocabulary does not hold before a text brings them.
CANARY_WORDS = (
    "zq7.canary@example.org",
    "https://zq7-canary.example.net/users/zq7canary",
    "203.0.113.77",
    "DE89",
    "0147",
    "8147",
)
CANARY_BYTES = (CANARIES[0].encode() * 3)[:32]  # sent where a leaf hash belongs


class LeakyRaisingDetector:
    """Fault: a detector that raises with the input in its message (as foreign code may)."""

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        raise RuntimeError(f"cannot parse {text!r}")


class HangingDetector:
    """Fault: a detector that runs past the policy's time budget."""

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        time.sleep(policy.detection.budget_seconds(len(text)) + 0.3)
        return ()


def _kept(words: Sequence[str]) -> tuple[list[str], int]:
    """In a detection worker: which of `words` its spaCy pipelines hold, and how many
    strings they hold in all."""
    detector = workers._detector
    assert detector is not None
    return [word for word in words if detector.holds(word)], detector.held_strings()


def test_the_detection_pipelines_keep_no_word_of_a_text(
    detector: PresidioDetector, shipped_policies: Policies
) -> None:
    """spaCy keeps every new word it tokenises for the life of the process, unless told
    otherwise: each detection leaves its vocabulary as it found it."""
    policy = shipped_policies.default
    assert [word for word in CANARY_WORDS if detector.holds(word)] == []
    before = detector.held_strings()
    for text in (TEXT, LONG_TEXT):
        assert detector.detect(text, policy)
    assert [word for word in CANARY_WORDS if detector.holds(word)] == []
    assert detector.held_strings() == before


def test_detection_workers_keep_no_word_of_a_text(shipped_policies: Policies) -> None:
    """The same in worker processes, for a text screened whole and one two workers
    share (its model regions in halves)."""
    policy = shipped_policies.default
    processes = workers.ProcessDetector(shipped_policies, processes=2)
    try:
        before = processes.each(partial(_kept, CANARY_WORDS))
        assert [kept for kept, _ in before] == [[], []]
        for text in (TEXT, LONG_TEXT, TEXT, LONG_TEXT):
            assert processes.detect(text, policy)
        assert sorted(processes.each(partial(_kept, CANARY_WORDS))) == sorted(before)
    finally:
        processes.close()


def _hits(blob: str) -> list[str]:
    return [canary for canary in CANARIES if canary in blob]


async def _expect_error(call: object, errors: list[str]) -> None:
    try:
        await call  # type: ignore[misc] - grpc.aio unary call objects are awaitable
    except grpc.aio.AioRpcError as err:
        errors.append(f"{err.code().name}: {err.details()} {err.debug_error_string()}")
    else:
        raise AssertionError("call was expected to fail")


async def _stream(
    stub: pb_grpc.PrivacySidecarStub, first: pb.OutputChunk, rest: list[str]
) -> list[pb.OutputChunk]:
    async def chunks() -> AsyncIterator[pb.OutputChunk]:
        yield first
        for piece in rest:
            yield pb.OutputChunk(text=piece)
        yield pb.OutputChunk(last=True)

    return [reply async for reply in stub.StreamOutput(chunks())]


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


async def _every_path(stub: pb_grpc.PrivacySidecarStub, errors: list[str]) -> None:
    """Every RPC and every error path a canary can take on a healthy server."""
    begin = pb.BeginInferenceRequest(model="m-1", tenant="t1", purpose="support", input=TEXT)
    await stub.Redact(pb.RedactRequest(text=TEXT))
    await stub.Redact(pb.RedactRequest(text=TEXT, policy="strict"))
    begun = await stub.BeginInference(
        pb.BeginInferenceRequest(
            model="m-1", tenant="t1", purpose="support", input=TEXT, subject_id=SUBJECT
        )
    )
    await stub.EndInference(pb.EndInferenceRequest(inference_id=begun.inference_id, output=TEXT))
    await stub.Redact(pb.RedactRequest(text=LONG_TEXT))
    begun = await stub.BeginInference(
        pb.BeginInferenceRequest(model="m-1", tenant="t1", purpose="support", input=LONG_TEXT)
    )
    await stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output=LONG_TEXT)
    )
    begun = await stub.BeginInference(begin)
    await _stream(stub, pb.OutputChunk(inference_id=begun.inference_id), _split(TEXT, 7))
    begun = await stub.BeginInference(begin)
    await stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))
    await stub.Log(
        pb.LogRequest(
            tenant="t1",
            source="svc",
            level="warning",
            message=TEXT,
            attributes={"error": TEXT, "route": "/chat", "unlisted": TEXT},
        )
    )
    await _expect_error(
        stub.Log(pb.LogRequest(tenant="t1", source="svc", level=CANARIES[1], message=TEXT)),
        errors,
    )
    # Bad arguments, unknown ids, expired contexts.
    await _expect_error(stub.Redact(pb.RedactRequest(text=TEXT, policy=CANARIES[1])), errors)
    await _expect_error(
        stub.BeginInference(
            pb.BeginInferenceRequest(model="m", tenant="", purpose="p", input=TEXT)
        ),
        errors,
    )
    await _expect_error(
        stub.BeginInference(
            pb.BeginInferenceRequest(model="m", tenant=CANARIES[0], purpose="p", input=TEXT)
        ),
        errors,
    )
    await _expect_error(
        stub.BeginInference(
            pb.BeginInferenceRequest(
                model=CANARIES[2], tenant=CANARIES[1], purpose=CANARIES[9], input=TEXT
            )
        ),
        errors,
    )
    await _expect_error(
        stub.BeginInference(
            pb.BeginInferenceRequest(model="m", tenant="t", purpose="p", input=TEXT, ttl_ms=10**12)
        ),
        errors,
    )
    await _expect_error(
        stub.EndInference(pb.EndInferenceRequest(inference_id=CANARIES[1], output=TEXT)), errors
    )
    await _expect_error(
        stub.EndInference(pb.EndInferenceRequest(inference_id="", output=TEXT)), errors
    )
    await _expect_error(
        stub.AbortInference(pb.AbortInferenceRequest(inference_id=CANARIES[2])), errors
    )
    short = await stub.BeginInference(
        pb.BeginInferenceRequest(
            model="m", tenant="t", purpose="p", input=TEXT, ttl_ms=50, subject_id=SUBJECT
        )
    )
    await asyncio.sleep(0.3)
    await _expect_error(
        stub.EndInference(pb.EndInferenceRequest(inference_id=short.inference_id, output=TEXT)),
        errors,
    )
    for first in (
        pb.OutputChunk(inference_id=CANARIES[1], text=TEXT),
        pb.OutputChunk(text=TEXT),
    ):
        try:
            await _stream(stub, first, [TEXT])
        except grpc.aio.AioRpcError as err:
            errors.append(f"{err.code().name}: {err.details()}")
        else:
            raise AssertionError("stream was expected to fail")
    other = await stub.BeginInference(begin)
    try:
        await _stream(
            stub,
            pb.OutputChunk(inference_id=other.inference_id, text=TEXT[:20]),
            [TEXT[20:40], "x"],
        )
        await _stream(stub, pb.OutputChunk(inference_id=other.inference_id), [TEXT])
    except grpc.aio.AioRpcError as err:
        errors.append(f"{err.code().name}: {err.details()}")


async def test_canaries_never_leave_memory(
    sidecar_factory: SidecarFactory, captured: Captured, capfd: pytest.CaptureFixture[str]
) -> None:
    """Canaries through every RPC and error path appear in no log, span, metric or error."""
    errors: list[str] = []
    healthy = await sidecar_factory()
    servers = [healthy]
    await _every_path(healthy.stub, errors)

    small = await sidecar_factory(
        minimal_policies(
            limits="max_contexts: 1\n  max_context_bytes: 100000",
            inference="ttl_seconds: 60\n      max_input_bytes: 300",
        )
    )
    servers.append(small)
    held = await small.stub.BeginInference(
        pb.BeginInferenceRequest(model="m", tenant="t", purpose="p", input=TEXT[:250])
    )
    await _expect_error(
        small.stub.BeginInference(
            pb.BeginInferenceRequest(model="m", tenant="t", purpose="p", input=TEXT)
        ),
        errors,
    )  # over max_input_bytes
    await _expect_error(
        small.stub.BeginInference(
            pb.BeginInferenceRequest(model="m", tenant="t", purpose="p", input=TEXT[:200])
        ),
        errors,
    )  # store full
    await _expect_error(
        small.stub.EndInference(
            pb.EndInferenceRequest(inference_id=held.inference_id, output=TEXT + TEXT)
        ),
        errors,
    )  # output too big
    await _expect_error(small.stub.Redact(pb.RedactRequest(text=TEXT * 3)), errors)

    for detector, extra in (
        (LeakyRaisingDetector(), ""),
        (HangingDetector(), ""),
        (LeakyRaisingDetector(), "    on_detector_failure: reject\n"),
    ):
        faulty = await sidecar_factory(
            minimal_policies(timeout_ms="200", extra=extra), detector=detector
        )
        servers.append(faulty)
        for call in (
            faulty.stub.Redact(pb.RedactRequest(text=TEXT)),
            faulty.stub.BeginInference(
                pb.BeginInferenceRequest(
                    model="m", tenant="t", purpose="p", input=TEXT, subject_id=SUBJECT
                )
            ),
        ):
            try:
                reply = await call
            except grpc.aio.AioRpcError as err:
                errors.append(f"{err.code().name}: {err.details()}")
            else:
                assert not _hits(str(reply)), "fail-closed reply carried raw text"

    assert len(errors) >= 15, errors
    # Records were written (decrypted, they hold only redacted text), then the files.
    assert len(healthy.records()) >= 3
    exports = await _ledger_paths(healthy, errors)
    for running in servers:
        await running.sidecar.recorder.stop()  # flush; the session teardown stops the rest
        running.sidecar.recorder.start()
    out, err = capfd.readouterr()
    sources = [("stdout", out), ("stderr", err), ("grpc errors", "\n".join(errors))]
    sources += list(captured.blobs())
    sources += [("record " + r.record_id, r.plaintext.decode()) for r in healthy.records()]
    sources += exports
    entries = [json.dumps(e, ensure_ascii=False) for r in servers for e in r.ledger_entries()]
    assert any('"screening_decision"' in e for e in entries)
    sources += [("ledger entries", "\n".join(entries))]
    for running in servers:
        for path in sorted(running.data_dir.rglob("*")):
            if path.is_file():  # the SQLite database, its WAL, the key files
                sources.append((str(path), path.read_bytes().decode("utf-8", "replace")))
    assert any("sidecar.db" in source for source, _ in sources)
    assert any(s.startswith("log:sidecar.decisions") for s, _ in sources)
    assert any(s.startswith("span:") for s, _ in sources)
    leaks = [(source, _hits(blob)) for source, blob in sources if _hits(blob)]
    assert leaks == []


async def _ledger_paths(running: Running, errors: list[str]) -> list[tuple[str, str]]:
    """Every Governance RPC, failures included; returns the exports it produced."""
    governance = running.governance
    checkpoint = await governance.GetCheckpoint(gpb.GetCheckpointRequest(fresh=True))
    blobs = [("checkpoint", str(checkpoint))]
    for seq in range(checkpoint.size):
        proof = await governance.GetInclusionProof(gpb.GetInclusionProofRequest(seq=seq))
        blobs.append((f"inclusion proof {seq}", str(proof) + proof.entry.decode()))
    consistency = await governance.GetConsistencyProof(gpb.GetConsistencyProofRequest(first_size=1))
    blobs.append(("consistency proof", str(consistency)))
    for fmt in ("jsonl", "csv"):
        data = b"".join(
            [c.data async for c in governance.ExportLedger(gpb.ExportLedgerRequest(format=fmt))]
        )
        blobs.append((f"export {fmt}", data.decode("utf-8", "replace")))
    for call in (
        governance.GetInclusionProof(gpb.GetInclusionProofRequest(seq=10**9)),
        governance.GetInclusionProof(gpb.GetInclusionProofRequest(leaf_hash=CANARY_BYTES)),
        governance.ExportLedger(gpb.ExportLedgerRequest(format=CANARIES[0])),
    ):
        try:
            if isinstance(call, grpc.aio.UnaryStreamCall):
                _ = [c async for c in call]
            else:
                await call
        except grpc.aio.AioRpcError as err:
            errors.append(f"{err.code().name}: {err.details()}")
        else:
            raise AssertionError("a bad Governance request succeeded")
    return blobs


@pytest.mark.slow
def test_canaries_absent_from_process_output_and_data_dir(tmp_path: Path) -> None:
    """A real `sidecar serve` process at DEBUG: std streams and data dir hold no canary."""
    data_dir = tmp_path / "var"
    out_path, err_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRPC_VERBOSITY": "debug"}
    outputs: list[tuple[str, str]] = []
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sidecar",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                str(data_dir),
                "--policies",
                str(ROOT / "policies.yaml"),
                "--log-level",
                "DEBUG",
            ],
            stdout=out_file,
            stderr=err_file,
            env=env,
            cwd=tmp_path,
        )
        try:
            port = _wait_for_port(process, out_path)
            errors: list[str] = []

            async def drive() -> None:
                async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                    await _every_path(pb_grpc.PrivacySidecarStub(channel), errors)

            asyncio.run(drive())
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            export = tmp_path / "ledger-export.jsonl"
            governance = [sys.executable, "-m", "governance", "ledger"]
            subprocess.run(
                [*governance, "export", "--data-dir", str(data_dir), "--out", str(export)],
                check=True,
                cwd=tmp_path,
                capture_output=True,
            )
            key = subprocess.run(
                [*governance, "public-key", "--data-dir", str(data_dir)],
                check=True,
                cwd=tmp_path,
                capture_output=True,
                text=True,
            ).stdout.strip()
            subprocess.run(
                [*governance, "verify", str(export), "--public-key", key],
                check=True,
                cwd=tmp_path,
                capture_output=True,
            )
            # Erasure and retention take the subject id and touch every record: their
            # output, the ledger and the files they leave must not hold a canary either.
            cli = [sys.executable, "-m", "governance"]
            common = ["--data-dir", str(data_dir), "--policies", str(ROOT / "policies.yaml")]
            for argv in (
                ["erase", "--subject", SUBJECT, *common],
                ["retention", "run", "--dry-run", "--now", "2099-01-01T00:00Z", *common],
                ["retention", "run", "--now", "2099-01-01T00:00Z", *common],
            ):
                done = subprocess.run(
                    [*cli, *argv], check=True, cwd=tmp_path, capture_output=True, text=True
                )
                outputs.append((" ".join(argv[:2]), done.stdout + done.stderr))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    err = err_path.read_text()
    assert process.returncode == 0, err[-2000:]
    assert "wiped" in err
    assert len(errors) >= 10
    blobs = [("grpc errors", "\n".join(errors)), *outputs]
    assert any("erased" in text for _, text in outputs)
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            blobs.append((str(path), path.read_bytes().decode("utf-8", "replace")))
    assert any("keys" in source for source, _ in blobs), "the data dir was written"
    assert [(source, _hits(blob)) for source, blob in blobs if _hits(blob)] == []


def _wait_for_port(process: subprocess.Popen[bytes], out_path: Path) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        for line in out_path.read_text().splitlines():
            if line.startswith("sidecar listening on port"):
                return int(line.rsplit(" ", 1)[1])
        time.sleep(0.1)
    raise AssertionError(f"server did not start (exit {process.poll()})")


async def test_canaries_absent_from_postgresql_tables(
    sidecar_factory: SidecarFactory, postgres: PgServer
) -> None:
    """With the log store on PostgreSQL, no table holds a canary, byte for byte."""
    dbname = f"canary_{uuid.uuid4().hex[:12]}"
    running = await sidecar_factory(database_url=postgres.create_database(dbname))
    errors: list[str] = []
    await _every_path(running.stub, errors)
    assert len(running.records()) >= 3
    await running.sidecar.recorder.stop()
    running.sidecar.recorder.start()
    with psycopg.connect(
        host="127.0.0.1", port=postgres.port, user="postgres", dbname=dbname
    ) as db:
        tables = [
            row[0]
            for row in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        assert {"log_records", "data_keys", "ledger_entries", "ledger_nodes"} <= set(tables)
        blobs: list[tuple[str, str]] = []
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - our table names
                for value in row:
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value)
                    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                    blobs.append((table, text))
    assert blobs
    assert [(source, _hits(blob)) for source, blob in blobs if _hits(blob)] == []
