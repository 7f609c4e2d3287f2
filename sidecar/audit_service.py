"""The Governance servicer, the checkpoint schedule of the audit ledger, and the
retention sweeper's schedule.

Serves signed checkpoints, inclusion and consistency proofs and ledger exports to
compliance tools; signs checkpoints periodically (when the ledger grew), on demand and at
shutdown. Everything here is hashes, sizes, ids and counts: no request data exists in the
ledger to leak.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc

from governance.entries import Draft
from governance.errors import GovernanceError
from governance.export import (
    ExportRange,
    check_consistency_from,
    csv_lines,
    export_recorded,
    jsonl_lines,
    plan_export,
)
from governance.journal import Unit
from governance.ledger import Ledger, SignedCheckpoint
from governance.merkle import ProofError
from governance.note import NoteSigner
from governance.retention import Sweeper
from sidecar.errors import EntryNotFound, RequestError, status_boundary
from sidecar.recorder import Recorder
from sidecar.telemetry import Telemetry
from sidecar.v1 import governance_pb2 as gpb
from sidecar.v1 import governance_pb2_grpc as gpb_grpc

__all__ = ["Checkpointer", "GovernanceService", "RetentionSchedule"]

_log = logging.getLogger(__name__)
_CHUNK_BYTES = 1 << 20
_FIRST_SWEEP_SECONDS = 30.0
_MAX_SEQ = 2**62  # beyond any ledger; keeps values inside the database's BIGINT
_MAX_UNIX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

Context = grpc.aio.ServicerContext[object, object]


class Checkpointer:
    """Signs checkpoints of the ledger: on a schedule when it grew, on demand, at stop."""

    def __init__(
        self, ledger: Ledger, signer: NoteSigner, *, witness: Path | None, interval_seconds: float
    ) -> None:
        self.ledger = ledger
        self.signer = signer
        self._witness = witness
        self._interval = interval_seconds
        self._lock = asyncio.Lock()  # one signature at a time: the witness file is ours
        self._task: asyncio.Task[None] | None = None

    async def sign(self) -> SignedCheckpoint:
        """A checkpoint of the ledger as it is now. Raises LedgerBroken, StoreUnavailable."""
        async with self._lock:
            return await asyncio.to_thread(
                self.ledger.sign_checkpoint,
                self.signer,
                now=datetime.now(UTC),
                witness=self._witness,
            )

    async def plan_export(
        self, *, from_seq: int | None, to_seq: int | None, since: datetime | None
    ) -> ExportRange:
        """Sign a checkpoint now and choose the export's range against it."""
        async with self._lock:
            return await asyncio.to_thread(
                plan_export,
                self.ledger,
                self.signer,
                now=datetime.now(UTC),
                from_seq=from_seq,
                to_seq=to_seq,
                since=since,
                witness=self._witness,
            )

    async def latest(self) -> SignedCheckpoint:
        """The newest signed checkpoint (signing one if the ledger has none yet)."""
        latest = await asyncio.to_thread(self.ledger.latest_checkpoint)
        return latest if latest is not None else await self.sign()

    async def covering(self, size: int) -> SignedCheckpoint:
        """The smallest signed checkpoint of at least `size` entries (signed now if none).

        Raises ProofError, signing nothing, when the ledger is smaller than `size`.
        """
        state = await asyncio.to_thread(self.ledger.state)
        if size > state.size:
            raise ProofError(f"the ledger has {state.size} entries; no entry {size - 1}")
        found = await asyncio.to_thread(self.ledger.checkpoint_at_least, size)
        if found is None:
            found = await self.sign()
        if found.size < size:
            raise ProofError(f"the ledger has {found.size} entries; no entry {size - 1} yet")
        return found

    def start(self) -> None:
        if self._task is None and self._interval > 0:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the schedule and sign a final checkpoint (logged, never raised)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._sign_quietly("at shutdown")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                state = await asyncio.to_thread(self.ledger.state)
                latest = await asyncio.to_thread(self.ledger.latest_checkpoint)
            except GovernanceError as err:  # database down: try again next time
                _log.warning("ledger checkpoint on schedule skipped: %s", err)
                continue
            if latest is None or state.size > latest.size:
                await self._sign_quietly("on schedule")

    async def _sign_quietly(self, when: str) -> None:
        try:
            signed = await self.sign()
        except GovernanceError as err:  # LedgerBroken names sizes and digests only
            _log.error("ledger checkpoint %s not signed: %s", when, err)
        else:
            _log.info("ledger checkpoint %s: %d entries", when, signed.size)


def _checkpoint(signed: SignedCheckpoint, ledger: Ledger, signer: NoteSigner) -> gpb.Checkpoint:
    return gpb.Checkpoint(
        note=signed.note,
        size=signed.size,
        root_hash=signed.root,
        origin=ledger.origin,
        verifier_key=signer.verifier.key(),
    )


def _chunks(lines: Iterator[bytes]) -> Iterator[bytes]:
    """The file as pieces of at most _CHUNK_BYTES (a header line can be tens of MB)."""
    buffer = bytearray()
    for line in lines:
        buffer += line
        while len(buffer) >= _CHUNK_BYTES:
            yield bytes(buffer[:_CHUNK_BYTES])
            del buffer[:_CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


class GovernanceService(gpb_grpc.GovernanceServicer):
    def __init__(
        self, checkpointer: Checkpointer, recorder: Recorder, telemetry: Telemetry
    ) -> None:
        self._checkpointer = checkpointer
        self._ledger = checkpointer.ledger
        self._signer = checkpointer.signer
        self._recorder = recorder
        self._telemetry = telemetry

    @contextlib.asynccontextmanager
    async def _call(self, method: str, context: Context) -> AsyncIterator[None]:
        request_id = uuid.uuid4().hex[:16]
        with self._telemetry.rpc(method, request_id):
            async with status_boundary(context, request_id):
                yield

    async def GetCheckpoint(  # noqa: N802 - RPC name from the proto
        self, request: gpb.GetCheckpointRequest, context: Context
    ) -> gpb.Checkpoint:
        async with self._call("GetCheckpoint", context):
            signed = await (
                self._checkpointer.sign() if request.fresh else self._checkpointer.latest()
            )
            return _checkpoint(signed, self._ledger, self._signer)
        raise AssertionError("unreachable")  # pragma: no cover - the boundary aborts

    async def GetInclusionProof(  # noqa: N802
        self, request: gpb.GetInclusionProofRequest, context: Context
    ) -> gpb.InclusionProof:
        async with self._call("GetInclusionProof", context):
            which = request.WhichOneof("leaf")
            if which is None:
                raise RequestError(field="leaf", problem="give seq or leaf_hash")
            if which == "leaf_hash":
                if len(request.leaf_hash) != 32:
                    raise RequestError(field="leaf_hash", problem="must be 32 bytes (SHA-256)")
                found = await asyncio.to_thread(self._ledger.seq_of_leaf, request.leaf_hash)
                if found is None:
                    raise EntryNotFound
                seq = found
            else:
                seq = request.seq
            if seq > _MAX_SEQ or request.tree_size > _MAX_SEQ:
                raise ProofError(f"the ledger has no entry {seq} or tree of that size")
            signed = None
            size = request.tree_size
            if size == 0:
                signed = await self._checkpointer.covering(seq + 1)
                size = signed.size
            leaf, hashes = await asyncio.to_thread(self._ledger.inclusion_proof, seq, size)
            root = signed.root if signed else await asyncio.to_thread(self._ledger.root_at, size)
            ((_, entry),) = await asyncio.to_thread(
                lambda: list(self._ledger.entries(seq, seq + 1))
            )
            reply = gpb.InclusionProof(
                seq=seq, tree_size=size, leaf_hash=leaf, hashes=hashes, entry=entry, root_hash=root
            )
            if signed is not None:
                reply.checkpoint.CopyFrom(_checkpoint(signed, self._ledger, self._signer))
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    async def GetConsistencyProof(  # noqa: N802
        self, request: gpb.GetConsistencyProofRequest, context: Context
    ) -> gpb.ConsistencyProof:
        async with self._call("GetConsistencyProof", context):
            if request.first_size > _MAX_SEQ or request.second_size > _MAX_SEQ:
                raise ProofError("no tree of that size")
            signed = None
            second = request.second_size
            if second == 0:
                signed = await self._checkpointer.latest()
                second = signed.size
            first = request.first_size
            hashes = await asyncio.to_thread(self._ledger.consistency_proof, first, second)
            first_root = await asyncio.to_thread(self._ledger.root_at, first)
            second_root = (
                signed.root if signed else await asyncio.to_thread(self._ledger.root_at, second)
            )
            reply = gpb.ConsistencyProof(
                first_size=first,
                second_size=second,
                hashes=hashes,
                first_root_hash=first_root,
                second_root_hash=second_root,
            )
            if signed is not None:
                reply.checkpoint.CopyFrom(_checkpoint(signed, self._ledger, self._signer))
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    async def ExportLedger(  # noqa: N802
        self, request: gpb.ExportLedgerRequest, context: Context
    ) -> AsyncIterator[gpb.ExportChunk]:
        async with self._call("ExportLedger", context):
            fmt = request.format or "jsonl"
            if fmt not in ("jsonl", "csv"):
                raise RequestError(field="format", problem="must be jsonl or csv")
            since = None
            if request.HasField("since_unix_ms"):
                if not 0 <= request.since_unix_ms <= _MAX_UNIX_MS:
                    raise RequestError(field="since_unix_ms", problem="not a time before 9999")
                since = datetime.fromtimestamp(request.since_unix_ms / 1000, tz=UTC)
            for name in ("from_seq", "to_seq"):
                if request.HasField(name) and getattr(request, name) > _MAX_SEQ:
                    raise RequestError(field=name, problem=f"larger than {_MAX_SEQ}")
            span = await self._checkpointer.plan_export(
                from_seq=request.from_seq if request.HasField("from_seq") else None,
                to_seq=request.to_seq if request.HasField("to_seq") else None,
                since=since,
            )
            actor = f"grpc:{context.peer()}"
            check_consistency_from(span, list(request.consistency_from))
            # Recorded before the first byte goes out: a caller who cancels near the end
            # still leaves the export in the ledger.
            entry: Draft = export_recorded(span, fmt=fmt, actor=actor, now=datetime.now(UTC))
            await self._recorder.commit(Unit(None, (entry,)))
            lines = (
                jsonl_lines(
                    self._ledger,
                    span,
                    now=datetime.now(UTC),
                    actor=actor,
                    consistency_from=list(request.consistency_from),
                )
                if fmt == "jsonl"
                else csv_lines(self._ledger, span)
            )
            chunks = _chunks(lines)
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                yield gpb.ExportChunk(data=chunk)


class RetentionSchedule:
    """Runs the retention sweeper every `retention.sweep_every`, first soon after start.

    With several replicas only the one holding the lease sweeps; the others find it busy.
    On stop the running sweep finishes its current batch and stops.
    """

    def __init__(self, sweeper: Sweeper, *, interval_seconds: float) -> None:
        self._sweeper = sweeper
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._sweep: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None and self._interval > 0:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the schedule; a sweep in progress ends after its current batch."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._sweep is not None:
            await asyncio.gather(self._sweep, return_exceptions=True)

    async def _run(self) -> None:
        await asyncio.sleep(min(self._interval, _FIRST_SWEEP_SECONDS))
        while not self._stopping.is_set():
            # Not cancelled with the schedule: the thread it waits on cannot be.
            self._sweep = asyncio.create_task(self.sweep_once())
            await asyncio.shield(self._sweep)
            await asyncio.sleep(self._interval)

    async def sweep_once(self) -> None:
        try:
            report = await asyncio.to_thread(self._sweeper.run, should_stop=self._stopping.is_set)
        except GovernanceError as err:  # names classes, sizes, digests: never content
            _log.error("retention sweep failed: %s", err)
            return
        except Exception as err:  # noqa: BLE001 - keep the schedule alive; never quote it
            _log.error("retention sweep failed: %s", type(err).__name__)
            return
        if report.busy:
            _log.info("retention sweep skipped: another replica is sweeping")
        else:
            _log.info(
                "retention sweep: %d records deleted in %d batches, %d held, %d buckets shredded%s",
                report.deleted,
                report.batches,
                report.held,
                len(report.buckets_shredded),
                " (stopped early)" if report.stopped else "",
            )
