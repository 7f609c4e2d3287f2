"""Shared fixtures: policies, real detectors, and real gRPC servers on loopback ports.

`sidecar_factory` starts a real grpc.aio server (127.0.0.1, port 0) with any policies
text and optional detector stand-in; `server` is one shared instance on the shipped
policies.yaml. `captured` collects log records, spans and metrics for the canary scans.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from governance.keyprovider import LocalKeyProvider
from governance.ledger import Ledger
from governance.note import NoteSigner
from governance.policy import Policies, load_policies, load_policies_file
from governance.store import LogStore, OpenedRecord, database_url_for
from governance.vault import Vault
from sidecar.detection import Detector, PresidioDetector
from sidecar.server import Sidecar
from sidecar.telemetry import Telemetry
from sidecar.v1 import governance_pb2_grpc as gpb_grpc
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc
from tests.pgpool import PgPool
from tests.pgserver import PgServer, postgres_bindir, running_postgres

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_POLICIES = ROOT / "policies.yaml"
HASH_KEY = bytes(range(32))  # fixed test key: hash tokens are reproducible in tests
SUBJECT_KEY = bytes(range(32, 64))

_detectors: dict[str, PresidioDetector] = {}


def detector_for(policies: Policies) -> PresidioDetector:
    """A real Presidio detector, built once per distinct policies text."""
    if policies.digest not in _detectors:
        _detectors[policies.digest] = PresidioDetector(policies)
    return _detectors[policies.digest]


@pytest.fixture(scope="session")
def shipped_policies() -> Policies:
    return load_policies_file(SHIPPED_POLICIES)


@pytest.fixture(scope="session")
def detector(shipped_policies: Policies) -> PresidioDetector:
    return detector_for(shipped_policies)


@dataclass
class Captured:
    """Everything observable a request could leak into, besides files and std streams."""

    records: list[logging.LogRecord] = field(default_factory=list)
    spans: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    metrics: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)

    _telemetry: Telemetry | None = None

    def telemetry(self) -> Telemetry:
        """One SDK tracer and meter provider for every server of the session."""
        if self._telemetry is None:
            tracer_provider = TracerProvider()
            tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
            meter_provider = MeterProvider(metric_readers=[self.metrics])
            self._telemetry = Telemetry(tracer_provider, meter_provider)
        return self._telemetry

    def blobs(self) -> Iterator[tuple[str, str]]:
        """(source, text) of every log record, span and metric data point seen."""
        for record in self.records:
            text = record.getMessage()
            if record.exc_info:
                text += logging.Formatter().formatException(record.exc_info)
            yield f"log:{record.name}", text + repr(record.__dict__)
        for span in self.spans.get_finished_spans():
            yield f"span:{span.name}", span.to_json()
        data = self.metrics.get_metrics_data()
        if data is not None:
            yield "metrics", data.to_json()


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(level=logging.DEBUG)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self._sink.append(record)


@pytest.fixture(scope="session")
def captured() -> Iterator[Captured]:
    """Session-wide capture at DEBUG level of every logger, spans and metrics."""
    sink = Captured()
    handler = _ListHandler(sink.records)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield sink
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session, stopped and deleted at the end."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in `pg_config --bindir`"
            " or /usr/lib/postgresql/*/bin: install Debian's `postgresql` package"
            " (`make test` does so when it is missing)"
        )
    with running_postgres(bindir) as server:
        yield server


@pytest.fixture(scope="session")
def pg_pool(postgres: PgServer) -> Iterator[PgPool]:
    """Empty databases on the session's server, truncated and reused between tests."""
    pool = PgPool(postgres)
    yield pool
    pool.close()


@dataclass
class Running:
    sidecar: Sidecar
    port: int
    channel: grpc.aio.Channel
    stub: pb_grpc.PrivacySidecarStub
    store: LogStore
    data_dir: Path
    governance: gpb_grpc.GovernanceStub
    signer: NoteSigner | None = None

    @property
    def ledger(self) -> Ledger:
        assert self.sidecar.ledger is not None, "this server runs without a ledger"
        return self.sidecar.ledger

    def ledger_entries(self) -> list[dict[str, Any]]:
        """Every ledger entry, parsed."""
        size = self.ledger.state().size
        return [json.loads(entry) for _, entry in self.ledger.entries(0, size)]

    def records(self) -> list[OpenedRecord]:
        """Every retained record, decrypted (fails on one that does not open)."""
        opened = list(self.store.read())
        assert all(isinstance(r, OpenedRecord) for r in opened), opened
        return [r for r in opened if isinstance(r, OpenedRecord)]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


SidecarFactory = Callable[..., Any]


@pytest.fixture(scope="session")
async def sidecar_factory(
    captured: Captured, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[SidecarFactory]:
    """Start real servers: `await sidecar_factory(policies_text_or_obj, detector=None)`.

    Each has its own data dir with a real SQLite log store and key file, unless a
    `database_url` is given.
    """
    started: list[Running] = []

    async def start(
        policies: str | Policies | None = None,
        *,
        detector: Detector | None = None,
        workers: int = 4,
        reaper_interval_seconds: float = 0.05,
        database_url: str | None = None,
        migrate: bool = True,
        ledger: bool = True,
        sweep: bool = False,
    ) -> Running:
        if policies is None:
            policies = load_policies_file(SHIPPED_POLICIES)
        elif isinstance(policies, str):
            policies = load_policies(policies)
        data_dir = tmp_path_factory.mktemp("sidecar-data")
        provider = LocalKeyProvider(data_dir / "keys" / "kek.json")
        store = LogStore(
            database_url or database_url_for(data_dir),
            Vault(provider, buckets=provider.bucket_keys()),
        )
        signer = provider.ledger_signer()[0] if ledger else None
        if migrate:
            store.migrate()
        sidecar = Sidecar(
            policies,
            detector=detector or detector_for(policies),
            store=store,
            hash_key=HASH_KEY,
            subject_key=SUBJECT_KEY,
            telemetry=captured.telemetry(),
            workers=workers,
            reaper_interval_seconds=reaper_interval_seconds,
            signer=signer,
            witness=data_dir / "ledger-checkpoint.note",
            sweep=sweep,  # off by default: a sweep would add entries at a random moment
        )
        port = await sidecar.start("127.0.0.1:0")
        channel = grpc.aio.insecure_channel(
            f"127.0.0.1:{port}",
            options=[
                ("grpc.max_send_message_length", 64 << 20),
                ("grpc.max_receive_message_length", 64 << 20),
            ],
        )
        running = Running(
            sidecar,
            port,
            channel,
            pb_grpc.PrivacySidecarStub(channel),
            store,
            data_dir,
            gpb_grpc.GovernanceStub(channel),
            signer,
        )
        started.append(running)
        return running

    yield start
    for running in started:
        await running.channel.close()
        await running.sidecar.stop(grace_seconds=1.0)
        running.store.close()


@pytest.fixture(scope="session")
async def server(sidecar_factory: SidecarFactory) -> Running:
    """One shared server on the shipped policies.yaml."""
    running: Running = await sidecar_factory()
    return running


@pytest.fixture
def stub(server: Running) -> pb_grpc.PrivacySidecarStub:
    return server.stub


def minimal_policies(**overrides: str) -> str:
    """A small policies text for tests; keyword values are spliced in as YAML snippets."""
    limits = overrides.get("limits", "max_contexts: 1000\n  max_context_bytes: 67108864")
    inference = overrides.get("inference", "ttl_seconds: 60")
    extra = overrides.get("extra", "")
    return f"""\
version: test-1
default: test
limits:
  {limits}
policies:
  test:
    detection:
      entities: [PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN, IBAN_CODE,
                 IP_ADDRESS, LOCATION, URL]
      timeout_ms: {overrides.get("timeout_ms", "5000")}
    actions:
      default: pseudonymize
    inference:
      {inference}
{extra}"""


os.environ.setdefault("HF_HUB_OFFLINE", "1")
