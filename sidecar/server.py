"""Build and run the grpc.aio server: servicers, health, reflection, reaper, graceful stop.

On start the audit ledger records the policies loaded. On stop: health turns NOT_SERVING,
no new calls are accepted, in-flight calls get the grace period, every live inference
context is wiped, queued records and ledger entries are committed, and a final ledger
checkpoint is signed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from governance.entries import Draft, EntryType, iso_utc, service_actor
from governance.journal import Journal, Unit
from governance.ledger import Ledger
from governance.note import NoteSigner
from governance.policy import MAX_INPUT_BYTES_CAP, Policies
from governance.retention import Sweeper
from governance.store import LogStore
from sidecar.audit_service import Checkpointer, GovernanceService, RetentionSchedule
from sidecar.contexts import ContextStore
from sidecar.detection import Detector
from sidecar.pipeline import Screening
from sidecar.recorder import Recorder
from sidecar.records import Records
from sidecar.service import SidecarService
from sidecar.telemetry import Telemetry
from sidecar.v1 import governance_pb2 as gpb
from sidecar.v1 import governance_pb2_grpc as gpb_grpc
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

__all__ = ["GOVERNANCE_SERVICE_NAME", "SERVICE_NAME", "Sidecar", "policy_loaded"]

_log = logging.getLogger(__name__)
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PrivacySidecar"].full_name
GOVERNANCE_SERVICE_NAME = gpb.DESCRIPTOR.services_by_name["Governance"].full_name
_MIB = 1_048_576


def policy_loaded(
    policies: Policies, *, at: datetime, actor: str, verifier_key: str | None = None
) -> Draft:
    """The ledger entry for the policies a sidecar starts serving with (and the key that
    will sign its checkpoints)."""
    return Draft(
        EntryType.POLICY_LOADED,
        at,
        actor,
        {
            **({"ledger_verifier_key": verifier_key} if verifier_key else {}),
            "version": policies.version,
            "sha256": policies.digest,
            "default": policies.default_name,
            "policy_versions": {n: p.policy_version for n, p in sorted(policies.policies.items())},
            "retention": {
                name: int(c.keep.total_seconds()) for name, c in policies.retention.classes.items()
            },
            # Names and scope only; reason and approver stay in the file its sha256 pins.
            "holds": [
                {
                    "name": h.name,
                    "tenant": h.tenant,
                    "retention_class": h.retention_class,
                    "until": iso_utc(h.until) if h.until is not None else None,
                }
                for h in policies.retention.holds
            ],
        },
    )


class Sidecar:
    """One sidecar server: policies, detector and context store behind a gRPC port.

    With a `signer`, every decision also goes to the audit ledger (in the store's
    database), the Governance service is served and retention sweeps run on schedule
    (unless `sweep` is False: tests that need a quiet ledger); without one (benchmarks
    comparing the cost of the ledger), there is no ledger.
    """

    def __init__(
        self,
        policies: Policies,
        *,
        detector: Detector,
        store: LogStore,
        hash_key: bytes,
        subject_key: bytes,
        telemetry: Telemetry | None = None,
        workers: int = 2,
        reaper_interval_seconds: float = 1.0,
        signer: NoteSigner | None = None,
        witness: Path | None = None,
        startup_entries: Sequence[Draft] = (),
        sweep: bool = True,
    ) -> None:
        self.policies = policies
        self.contexts = ContextStore(policies.limits)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detect")
        telemetry = telemetry or Telemetry()
        screening = Screening(detector, self._executor)
        actor = service_actor()
        self.ledger = Ledger(store.database, origin=signer.name) if signer is not None else None
        self.journal = Journal(store, self.ledger, actor=actor, clock=lambda: datetime.now(UTC))
        self.recorder = Recorder(self.journal, max_batch=policies.ledger.max_batch)
        self.checkpointer = (
            Checkpointer(
                self.ledger,
                signer,
                witness=witness,
                interval_seconds=policies.ledger.checkpoint_every.total_seconds(),
            )
            if self.ledger is not None and signer is not None
            else None
        )
        self.retention = (
            RetentionSchedule(
                Sweeper(store, self.ledger, policies, actor=actor),
                interval_seconds=policies.retention.sweep_every.total_seconds(),
            )
            if self.ledger is not None and sweep
            else None
        )
        loaded = policy_loaded(
            policies,
            at=datetime.now(UTC),
            actor=actor,
            verifier_key=signer.verifier.key() if signer is not None else None,
        )
        self._startup = (loaded, *startup_entries)
        records = Records(
            policies,
            screening,
            self.recorder,
            telemetry,
            subject_key=subject_key,
            hash_key=hash_key,
            actor=actor,
        )
        self._service = SidecarService(
            policies, screening, self.contexts, telemetry, records, hash_key=hash_key
        )
        self._governance = (
            GovernanceService(self.checkpointer, self.recorder, telemetry)
            if self.checkpointer is not None
            else None
        )
        self._health = HealthServicer()
        self._reaper_interval = reaper_interval_seconds
        self._reaper: asyncio.Task[None] | None = None
        # Every request up to the largest max_input_bytes a policy may set (64 MiB) reaches
        # our own check, which answers INVALID_ARGUMENT naming the policy's limit; only
        # larger ones are refused by gRPC itself (RESOURCE_EXHAUSTED).
        self._max_message = MAX_INPUT_BYTES_CAP + _MIB
        self._server: grpc.aio.Server | None = None

    async def start(self, listen: str) -> int:
        """Listen on `listen` (HOST:PORT, port 0 picks one); returns the bound port."""
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", self._max_message),
                ("grpc.max_send_message_length", self._max_message),
                ("grpc.so_reuseport", 0),
            ]
        )
        pb_grpc.add_PrivacySidecarServicer_to_server(self._service, server)
        names = [SERVICE_NAME]
        if self._governance is not None:
            gpb_grpc.add_GovernanceServicer_to_server(self._governance, server)
            names.append(GOVERNANCE_SERVICE_NAME)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (
                *names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        try:
            port = server.add_insecure_port(listen)
        except RuntimeError:  # grpc reports a failed bind this way
            port = 0
        if port == 0:
            raise OSError(f"cannot listen on {listen} (address in use or not available)")
        self.recorder.start()
        if self.ledger is not None:
            # The ledger opens with what this process will apply: its policies.
            await self.recorder.commit(Unit(None, self._startup))
        if self.checkpointer is not None:
            self.checkpointer.start()
        if self.retention is not None:
            self.retention.start()
        await server.start()
        self._server = server
        for name in ("", *names):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._reaper = asyncio.create_task(self.contexts.run_reaper(self._reaper_interval))
        _log.info("sidecar serving on port %d, policies version %s", port, self.policies.version)
        return port

    async def wait(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop accepting, let in-flight calls finish within the grace period, wipe all."""
        await self._health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(grace_seconds)
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        wiped = self.contexts.wipe_all()
        if self.retention is not None:
            await self.retention.stop()
        await self._service.drain()
        await self.recorder.stop()
        if self.checkpointer is not None:
            await self.checkpointer.stop()  # after the last commit: the final tree is signed
        self._executor.shutdown(wait=False, cancel_futures=True)
        _log.info("sidecar stopped; wiped %d inference contexts", wiped)
