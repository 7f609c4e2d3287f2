"""What the ledger must hold even when a call ends badly: rejected screenings, exports
the caller abandoned; and bad Governance arguments refused without side effects."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import pytest

from governance.entries import Draft, EntryType
from governance.policy import Policy
from sidecar.detection import Finding
from sidecar.v1 import governance_pb2 as gpb
from sidecar.v1 import sidecar_pb2 as pb
from tests.conftest import Running, SidecarFactory, minimal_policies

PERSONAL = "Call Rosalind Quimby at rq.canary@example.org"


class FailingDetector:
    """Fault: detection that always fails (the policy rejects rather than fails closed)."""

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        raise RuntimeError("detector down")


@pytest.fixture(scope="module")
async def rejecting(sidecar_factory: SidecarFactory) -> Running:
    running: Running = await sidecar_factory(
        minimal_policies(extra="    on_detector_failure: reject\n"), detector=FailingDetector()
    )
    return running


async def test_rejected_screening_is_a_recorded_decision(rejecting: Running) -> None:
    """Redact and BeginInference refused under on_detector_failure: reject leave a
    `rejected` screening decision each, committed before the UNAVAILABLE reaches the caller."""
    before = rejecting.ledger.state().size
    begin = pb.BeginInferenceRequest(tenant="acme", model="m", purpose="p", input=PERSONAL)
    for call in (
        lambda: rejecting.stub.Redact(pb.RedactRequest(text=PERSONAL)),
        lambda: rejecting.stub.BeginInference(begin),
    ):  # one after the other: a grpc.aio call starts when it is created
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call()
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    new = rejecting.ledger_entries()[before:]
    assert [(e["type"], e["rpc"], e["outcome"]) for e in new] == [
        ("screening_decision", "Redact", "rejected"),
        ("screening_decision", "BeginInference", "rejected"),
    ]
    assert new[1]["tenant"] == "acme"
    assert all(e["entities"] == {} for e in new)
    assert len(rejecting.sidecar.contexts) == 0
    assert not any("Quimby" in str(e) or "rq.canary" in str(e) for e in new)


async def test_policy_loaded_names_the_checkpoint_key(rejecting: Running) -> None:
    """The first entry says which key will sign this process's checkpoints."""
    assert rejecting.signer is not None
    first = rejecting.ledger_entries()[0]
    assert first["type"] == "policy_loaded"
    assert first["ledger_verifier_key"] == rejecting.signer.verifier.key()
    assert first["holds"] == []  # legal holds in force are named at every start


async def test_abandoned_export_is_still_recorded(sidecar_factory: SidecarFactory) -> None:
    """A caller that cancels an export after its first chunk still leaves ledger_exported:
    the entry is committed before the first byte is sent."""
    running: Running = await sidecar_factory(minimal_policies())
    at = datetime.now(UTC)
    filler = [
        Draft(EntryType.KEY_CREATED, at, "test", {"key": "filler", "n": n, "pad": "x" * 400})
        for n in range(3000)
    ]
    running.ledger.append(filler, now=at)  # ~1.4 MB of entries: more than one 1 MiB chunk
    call = running.governance.ExportLedger(gpb.ExportLedgerRequest())
    first = await call.read()
    assert isinstance(first, gpb.ExportChunk)
    assert len(first.data) == 1 << 20
    call.cancel()
    exported = [e for e in running.ledger_entries() if e["type"] == "ledger_exported"]
    assert len(exported) == 1
    assert exported[0]["to_seq"] == exported[0]["tree_size"] - 1 >= 3000


async def _call(running: Running, request_: object) -> None:
    governance = running.governance
    if isinstance(request_, gpb.GetInclusionProofRequest):
        await governance.GetInclusionProof(request_)
    elif isinstance(request_, gpb.GetConsistencyProofRequest):
        await governance.GetConsistencyProof(request_)
    else:
        assert isinstance(request_, gpb.ExportLedgerRequest)
        _ = [chunk async for chunk in governance.ExportLedger(request_)]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (gpb.GetInclusionProofRequest(seq=2**64 - 1), grpc.StatusCode.OUT_OF_RANGE),
        (gpb.GetInclusionProofRequest(seq=0, tree_size=2**64 - 1), grpc.StatusCode.OUT_OF_RANGE),
        (gpb.GetConsistencyProofRequest(first_size=2**64 - 1), grpc.StatusCode.OUT_OF_RANGE),
        (gpb.ExportLedgerRequest(since_unix_ms=2**62), grpc.StatusCode.INVALID_ARGUMENT),
        (gpb.ExportLedgerRequest(since_unix_ms=-1), grpc.StatusCode.INVALID_ARGUMENT),
        (gpb.ExportLedgerRequest(from_seq=2**64 - 1), grpc.StatusCode.INVALID_ARGUMENT),
        (gpb.ExportLedgerRequest(to_seq=2**63), grpc.StatusCode.INVALID_ARGUMENT),
    ],
    ids=[
        "seq-max",
        "size-max",
        "first-max",
        "since-far",
        "since-negative",
        "from-max",
        "to-max",
    ],
)
async def test_extreme_arguments_are_refused_without_signing(
    rejecting: Running, request_: object, code: grpc.StatusCode
) -> None:
    """Values at the edges of uint64/int64 get the documented status, never INTERNAL, and
    no checkpoint is signed or export recorded for them."""
    before = (rejecting.ledger.state().size, rejecting.ledger.latest_checkpoint())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(rejecting, request_)
    assert caught.value.code() == code, caught.value.details()
    assert (rejecting.ledger.state().size, rejecting.ledger.latest_checkpoint()) == before


async def test_inclusion_beyond_the_ledger_signs_nothing(rejecting: Running) -> None:
    """Asking for an entry the ledger does not have yet is OUT_OF_RANGE and signs no
    checkpoint on the way."""
    size = rejecting.ledger.state().size
    latest = rejecting.ledger.latest_checkpoint()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rejecting.governance.GetInclusionProof(gpb.GetInclusionProofRequest(seq=size))
    assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert rejecting.ledger.latest_checkpoint() == latest


async def test_the_sidecar_sweeps_on_its_schedule(sidecar_factory: SidecarFactory) -> None:
    """With retention.sweep_every set, the running sidecar deletes records once they
    expire and records the sweep: deletion receipt, then a completed retention_sweep."""
    policies = minimal_policies() + (
        "retention:\n"
        "  classes:\n"
        "    inference_logs: {keep: 1s}\n"
        "    app_logs: {keep: 1s}\n"
        "  sweep_every: 1s\n"
    )
    running: Running = await sidecar_factory(policies, sweep=True)
    begun = await running.stub.BeginInference(
        pb.BeginInferenceRequest(tenant="acme", model="m", purpose="p", input="hello")
    )
    ended = await running.stub.EndInference(
        pb.EndInferenceRequest(inference_id=begun.inference_id, output="bye")
    )
    deadline = asyncio.get_running_loop().time() + 20
    while asyncio.get_running_loop().time() < deadline:
        receipts = [
            e
            for e in running.ledger_entries()
            if e["type"] == "retention_deletion" and ended.log_record_id in e["record_ids"]
        ]
        sweeps = [
            e
            for e in running.ledger_entries()
            if e["type"] == "retention_sweep" and receipts and e["seq"] > receipts[0]["seq"]
        ]
        if sweeps and not running.records():
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the record was not swept within 20 s")
    assert sweeps[0]["complete"] is True
    assert sweeps[0]["deleted"] >= 1
