"""`sidecar` / `python -m sidecar`: flags, policies, hardening, then serve.

The only reader of argv and the environment. Exit codes: 0 ok, 1 configuration or
start-up error (message names the key/line or file), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from governance.entries import Draft, EntryType, service_actor
from governance.errors import GovernanceError
from governance.keyfile import load_or_create_key
from governance.keyprovider import LocalKeyProvider
from governance.note import NoteSigner
from governance.policy import load_policies_file
from governance.store import LogStore, database_url_for
from governance.vault import Vault
from governance.workspace import WITNESS_FILE
from sidecar.workers import DetectionWorkerError

__all__ = ["main"]

_log = logging.getLogger("sidecar")
DEFAULT_LISTEN = "127.0.0.1:50051"


def signing_key_created(signer: NoteSigner, *, at: datetime) -> Draft:
    return Draft(
        EntryType.KEY_CREATED,
        at,
        service_actor(),
        {"key": "ledger_signing", "verifier_key": signer.verifier.key()},
    )


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("must be a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


_positive_int = _whole_number(1, 64)
_process_count = _whole_number(0, 64)


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sidecar", description="Privacy sidecar for model services"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--policies", type=Path, default=Path("policies.yaml"), help="policies file")
    serve.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT (default %(default)s)")
    serve.add_argument("--data-dir", type=Path, default=Path("var"), help="data directory")
    serve.add_argument(
        "--database-url",
        help="log store (SQLAlchemy URL, e.g. postgresql+psycopg://...); "
        "default: SQLite under the data dir",
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=16,
        help="detections in flight at once (default %(default)s); more wait for a free one",
    )
    serve.add_argument(
        "--detect-processes",
        type=_process_count,
        default=None,
        help="detection worker processes (default: one per CPU core, at most --workers); 0 "
        "detects in the server process",
    )
    serve.add_argument(
        "--grace", type=_non_negative_float, default=10.0, help="shutdown grace, seconds"
    )
    serve.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    health = sub.add_parser("health", help="query the gRPC health service; exit 0 if SERVING")
    health.add_argument("--target", default=DEFAULT_LISTEN)
    health.add_argument("--timeout", type=float, default=3.0)
    return parser


async def _serve(args: argparse.Namespace, *, ledger: bool) -> int:
    from sidecar.detection import Detector, PresidioDetector
    from sidecar.heap import settle_heap
    from sidecar.server import Sidecar
    from sidecar.workers import ProcessDetector

    policies = load_policies_file(args.policies)
    data_dir: Path = args.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    hash_key = load_or_create_key(data_dir / "keys" / "hmac.key")
    subject_key = load_or_create_key(data_dir / "keys" / "subject.key")
    provider = LocalKeyProvider(data_dir / "keys" / "kek.json")
    vault = Vault(provider, buckets=provider.bucket_keys())
    signer, signer_created = provider.ledger_signer()
    store = LogStore(args.database_url or database_url_for(data_dir), vault)
    await asyncio.to_thread(store.migrate)
    startup = [signing_key_created(signer, at=datetime.now(UTC))] if signer_created else []
    processes = args.detect_processes
    if processes is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        processes = min(cores, args.workers)  # more could never all be busy
    detector: Detector
    if processes:
        _log.info("starting %d detection worker processes", processes)
        detector = await asyncio.to_thread(ProcessDetector, policies, processes)
    else:
        _log.info("loading detection pipelines")
        detector = await asyncio.to_thread(PresidioDetector, policies)
    sidecar = Sidecar(
        policies,
        detector=detector,
        store=store,
        hash_key=hash_key,
        subject_key=subject_key,
        workers=args.workers,
        signer=signer if ledger else None,
        witness=data_dir / WITNESS_FILE,
        startup_entries=startup,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    port = await sidecar.start(args.listen)
    settle_heap()  # the server's own start-up objects (detector, policies, gRPC, ORM)
    print(f"sidecar listening on port {port}", flush=True)
    await stopping.wait()
    _log.info("shutting down (grace %.1fs)", args.grace)
    await sidecar.stop(args.grace)
    if isinstance(detector, ProcessDetector):
        detector.close()
    store.close()
    return 0


def _health(args: argparse.Namespace) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(args.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=args.timeout)
        except grpc.RpcError as err:
            print(f"unhealthy: {err.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(status)
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


def main(argv: list[str] | None = None, *, ledger: bool = True) -> int:
    """ledger=False only for bench/ledgerless.py, which measures what the audit ledger
    costs; no flag turns the ledger off."""
    args = _parser().parse_args(argv)
    if args.command == "health":
        return _health(args)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    from sidecar.hardening import disable_core_dumps

    disable_core_dumps()
    # spaCy and thinc may look for GPUs or fetch nothing, but be explicit: never online.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        code = asyncio.run(_serve(args, ledger=ledger))
    except (GovernanceError, DetectionWorkerError) as err:
        print(f"sidecar: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"sidecar: {type(err).__name__}: {err.strerror or err}", file=sys.stderr)
        return 1
    # A detection that ran past its budget may still occupy a worker thread; the
    # interpreter would wait for it at exit, holding request text past the grace period.
    # Everything is wiped and flushed by now, so leave without joining threads.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
