"""Log records: every finished inference leaves one sealed, redacted record."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from sidecar.v1 import sidecar_pb2 as pb
from tests.conftest import SUBJECT_KEY, Running, SidecarFactory, minimal_policies
from tests.pgserver import PgServer, running_postgres

NAME = "Eleanor Quillfeather"
EMAIL = "zq7.records@example.org"
INPUT = f"I am {NAME}, write to {EMAIL}."
SUBJECT = "subject-records-7"


def _body(running: Running, record_id: str) -> dict[str, Any]:
    (record,) = [r for r in running.records() if r.record_id == record_id]
    body: dict[str, Any] = json.loads(record.plaintext)
    return body


async def _begin(running: Running, **extra: Any) -> pb.BeginInferenceResponse:
    return await running.stub.BeginInference(
        pb.BeginInferenceRequest(model="m1", tenant="acme", purpose="support", input=INPUT, **extra)
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def recorded(
    request: pytest.FixtureRequest, sidecar_factory: SidecarFactory, postgres: PgServer
) -> Running:
    """A sidecar whose log store is SQLite or PostgreSQL: these tests run on both."""
    url = None
    if request.param == "postgresql":
        url = postgres.create_database(f"records_{uuid.uuid4().hex[:12]}")
    running: Running = await sidecar_factory(
        minimal_policies(inference="ttl_seconds: 60\n      max_ttl_seconds: 600"),
        database_url=url,
    )
    return running


async def test_end_inference_leaves_a_redacted_record(recorded: Running) -> None:
    """EndInference returns a record id whose record holds redacted text, counts, actions."""
    begun = await _begin(recorded, subject_id=SUBJECT)
    ended = await recorded.stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output="Done, <PERSON_1>.")
    )
    assert ended.log_record_id
    body = _body(recorded, ended.log_record_id)
    assert body["kind"] == "inference"
    assert body["inference_id"] == begun.inference_id
    assert body["outcome"] == "ok"
    assert body["input"] == begun.model_input
    assert body["output"] == "Done, <PERSON_1>."
    assert body["entities"]["input"] == {"PERSON": 1, "EMAIL_ADDRESS": 1}
    assert body["actions"]["PERSON"] == "pseudonymize"
    assert body["policy_version"] == begun.policy_version
    assert body["retention_class"] == "inference_logs"
    text = json.dumps(body)
    for raw in (NAME, EMAIL, SUBJECT):
        assert raw not in text
    token = hmac.new(SUBJECT_KEY, SUBJECT.encode(), hashlib.sha256).hexdigest()
    with recorded.store.database.engine.connect() as db:  # the raw subject id is not stored at all
        rows = db.execute(
            sa.text("SELECT subject_token FROM log_records WHERE record_id = :id"),
            {"id": ended.log_record_id},
        ).all()
    assert [tuple(row) for row in rows] == [(token,)]


async def test_stream_output_last_reply_carries_record_id(recorded: Running) -> None:
    """The last streamed reply names the record, which holds the redacted stream."""
    begun = await _begin(recorded)

    async def chunks() -> AsyncIterator[pb.OutputChunk]:
        yield pb.OutputChunk(inference_id=begun.inference_id, text="Hello <PERS")
        yield pb.OutputChunk(text="ON_1>, mail me at other.person@example.net please.")
        yield pb.OutputChunk(last=True)

    replies = [reply async for reply in recorded.stub.StreamOutput(chunks())]
    assert replies[-1].last
    assert replies[-1].log_record_id
    body = _body(recorded, replies[-1].log_record_id)
    assert body["output"].startswith("Hello <PERSON_1>, mail me at <EMAIL_ADDRESS_")
    assert "other.person@example.net" not in json.dumps(body)
    assert body["entities"]["output"] == {"EMAIL_ADDRESS": 1}


async def test_abort_and_expiry_leave_records(recorded: Running) -> None:
    """Aborted and expired inferences leave input-only records with their outcome."""
    before = {r.record_id for r in recorded.records()}
    aborted = await _begin(recorded)
    await recorded.stub.AbortInference(pb.AbortInferenceRequest(inference_id=aborted.inference_id))
    expiring = await _begin(recorded, ttl_ms=100)
    for _ in range(100):
        await asyncio.sleep(0.05)
        bodies = [json.loads(r.plaintext) for r in recorded.records() if r.record_id not in before]
        if len(bodies) == 2:
            break
    outcomes = {b["inference_id"]: b["outcome"] for b in bodies}
    assert outcomes == {aborted.inference_id: "aborted", expiring.inference_id: "expired"}
    assert all("output" not in b for b in bodies)


async def test_final_scan_redacts_what_the_first_pass_left(sidecar_factory: SidecarFactory) -> None:
    """A mask that leaves a detectable value behind is caught by the scan before sealing:
    the record holds the value replaced, and the redaction is counted."""
    policy = """\
version: t
default: p
policies:
  p:
    detection:
      entities: [CODENAME, SHORTNAME]
      deny_lists:
        CODENAME: [Bluebirdwing]
        SHORTNAME: [rdwing]
    actions:
      CODENAME: {action: mask, keep_last: 6}
"""
    running: Running = await sidecar_factory(policy)
    begun = await running.stub.BeginInference(
        pb.BeginInferenceRequest(model="m", tenant="t", purpose="p", input="project Bluebirdwing")
    )
    # First pass: the whole word is a CODENAME ("rdwing" inside it is no word of its own).
    assert begun.model_input == "project ******rdwing"
    ended = await running.stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output="nothing here")
    )
    body = _body(running, ended.log_record_id)
    assert body["input"] == "project ******<SHORTNAME>"
    assert body["output"] == "nothing here"
    assert body["final_scan"] == {"redactions": 1}


async def test_store_down_is_unavailable_and_keeps_the_inference(
    sidecar_factory: SidecarFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With the database unreachable, EndInference is UNAVAILABLE and can be retried later
    or aborted; nothing of the request is in the error."""
    missing = tmp_path_factory.mktemp("gone") / "no" / "such" / "dir" / "db.sqlite"
    # Without a ledger: with one, BeginInference itself needs the database (tested below).
    running: Running = await sidecar_factory(
        database_url=f"sqlite:///{missing}", migrate=False, ledger=False
    )
    begun = await _begin(running)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.stub.EndInference(
            pb.EndInferenceRequest(inference_id=begun.inference_id, output=f"bye {NAME}")
        )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert NAME not in (caught.value.details() or "")
    assert len(running.sidecar.contexts) == 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.stub.AbortInference(pb.AbortInferenceRequest(inference_id=begun.inference_id))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert len(running.sidecar.contexts) == 0  # aborting wipes even when it cannot record


async def test_store_recovers_when_postgresql_returns(
    sidecar_factory: SidecarFactory, postgres_for_outage: PgServer
) -> None:
    """PostgreSQL stops: EndInference is UNAVAILABLE and the inference is kept; once the
    database is back, the same EndInference succeeds and its record is readable."""
    server = postgres_for_outage
    running: Running = await sidecar_factory(
        database_url=server.create_database(f"outage_{uuid.uuid4().hex[:12]}")
    )
    begun = await _begin(running)
    server.stop()
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running.stub.EndInference(
                pb.EndInferenceRequest(inference_id=begun.inference_id, output="bye")
            )
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert len(running.sidecar.contexts) == 1
    finally:
        server.start()
    ended = await running.stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output="bye")
    )
    assert _body(running, ended.log_record_id)["output"] == "bye"


@pytest.fixture
def postgres_for_outage() -> Iterator[PgServer]:
    """A PostgreSQL server of this test's own, since the test stops and restarts it."""
    with running_postgres() as server:
        yield server
