"""Build and run the grpc.aio server: servicer, health, reflection, reaper, graceful stop.

On stop: health turns NOT_SERVING, no new calls are accepted, in-flight calls get the
grace period, then every live inference context is wiped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from governance.policy import MAX_INPUT_BYTES_CAP, Policies
from governance.store import LogStore
from sidecar.contexts import ContextStore
from sidecar.detection import Detector
from sidecar.pipeline import Screening
from sidecar.recorder import Recorder
from sidecar.records import Records
from sidecar.service import SidecarService
from sidecar.telemetry import Telemetry
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

__all__ = ["SERVICE_NAME", "Sidecar"]

_log = logging.getLogger(__name__)
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PrivacySidecar"].full_name
_MIB = 1_048_576


class Sidecar:
    """One sidecar server: policies, detector and context store behind a gRPC port."""

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
    ) -> None:
        self.policies = policies
        self.contexts = ContextStore(policies.limits)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detect")
        telemetry = telemetry or Telemetry()
        screening = Screening(detector, self._executor)
        self.recorder = Recorder(store)
        records = Records(
            policies,
            screening,
            self.recorder,
            telemetry,
            subject_key=subject_key,
            hash_key=hash_key,
        )
        self._service = SidecarService(
            policies, screening, self.contexts, telemetry, records, hash_key=hash_key
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
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (
                SERVICE_NAME,
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
        await server.start()
        self._server = server
        for name in ("", SERVICE_NAME):
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
        await self._service.drain()
        await self.recorder.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        _log.info("sidecar stopped; wiped %d inference contexts", wiped)
