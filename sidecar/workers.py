"""Detection in worker processes, so screening uses every core.

Detection is CPU-bound Python (spaCy, regular expressions, rules) and holds the GIL, so
threads in one process share one core. `ProcessDetector` runs `PresidioDetector` in a
pool of worker processes instead. The gRPC server, the inference contexts, redaction
and the placeholder mappings stay in the owner process: a worker gets one text and a
policy name, returns findings (offsets only) and keeps nothing, so a context's raw data
still lives, and is wiped, in exactly one place. Texts go to workers over a pipe, never
through a file.

Workers are spawned (not forked: the owner runs gRPC and other threads) and each loads
its own pipelines at start; `ProcessDetector` waits until every one has. A worker that
dies (killed, out of memory) breaks the pool: the detections in flight fail closed like
any detector fault, and a new pool replaces it. So does one that runs far past its text's
time budget: its pool is killed and replaced, so no runaway text keeps a worker. A fault
inside a worker comes back as its exception type only: foreign exception text may quote
the input.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from governance.policy import Policies, Policy
from sidecar.finding import Finding
from sidecar.slots import PrioritySlots

__all__ = ["ONE_THREAD", "RUNAWAY_GRACE_SECONDS", "DetectionWorkerError", "ProcessDetector"]

_log = logging.getLogger(__name__)

_READY_TIMEOUT_SECONDS = 300.0
_OWNER_POLL_SECONDS = 0.5
# How far past a text's time budget a worker may run before its pool is replaced.
RUNAWAY_GRACE_SECONDS = 5.0


class DetectionWorkerError(RuntimeError):
    """A detection in a worker failed; the message is an exception type name or a
    fixed phrase, never text from the request."""


# -- in the worker process -------------------------------------------------------------

_detector = None  # the worker's PresidioDetector, built by _load
_ready_barrier: Any = None  # all workers of a pool meet here once loaded


# Each worker is one of several processes on as many cores: a BLAS thread pool per
# worker would oversubscribe them (single-threaded, spaCy's NER is ~20% faster here).
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def _load(policies: Policies, owner: int, ready: Any) -> None:
    global _detector, _ready_barrier
    from sidecar.hardening import disable_core_dumps

    # Request text passes through workers too: no core dump may hold it. The core limit
    # is inherited, but the not-dumpable flag does not survive exec.
    disable_core_dumps()
    for name in ONE_THREAD:
        os.environ[name] = "1"  # before numpy is first imported, by the import below
    from sidecar.detection import PresidioDetector

    _watch_owner(owner)
    _ready_barrier = ready
    _detector = PresidioDetector(policies)


def _watch_owner(owner: int) -> None:
    """Exit when the owner process is gone (killed, crashed): the pool's queues keep an
    orphaned worker waiting forever otherwise, holding memory and its pipelines."""

    def watch() -> None:
        while os.getppid() == owner:
            time.sleep(_OWNER_POLL_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _ready() -> int:
    # Every worker takes one start-up probe: each waits here until all have loaded.
    _ready_barrier.wait(timeout=_READY_TIMEOUT_SECONDS)
    return os.getpid()


def _detect(text: str, policy: Policy) -> tuple[Finding, ...]:
    if _detector is None:
        raise DetectionWorkerError("worker used before it loaded")
    try:
        return _detector.detect(text, policy)
    except Exception as err:  # noqa: BLE001 - the type crosses the pipe, not the text
        raise DetectionWorkerError(type(err).__name__) from None


# -- in the owner process --------------------------------------------------------------


class ProcessDetector:
    """The Detector protocol, served by `processes` worker processes."""

    def __init__(self, policies: Policies, processes: int) -> None:
        """Starts the workers and waits until each has loaded its pipelines. Raises
        DetectionWorkerError if they cannot start (a worker that fails to load)."""
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self._policies = policies
        self._processes = processes
        self._lock = threading.Lock()
        self._closed = False
        # One per worker process: the server takes one before it hands a text over, so
        # a text's time budget starts when a process is free for it (pipeline.Screening).
        self.slots = PrioritySlots(processes)
        self._pids: tuple[int, ...] = ()
        self._pool = self._start()

    @property
    def processes(self) -> int:
        return self._processes

    def pids(self) -> tuple[int, ...]:
        """The worker processes' ids (for resident-memory reports)."""
        return self._pids

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            max_workers=self._processes,
            mp_context=context,
            initializer=_load,
            # The owner's pid from here: a worker that read its parent itself, after the
            # owner had died, would watch pid 1 forever.
            initargs=(self._policies, os.getpid(), context.Barrier(self._processes)),
        )
        probes = [pool.submit(_ready) for _ in range(self._processes)]
        pids: set[int] = set()
        try:
            deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
            for probe in probes:
                pids.add(probe.result(timeout=max(0.0, deadline - time.monotonic())))
        except Exception as err:  # noqa: BLE001 - any start-up fault: no workers
            pool.shutdown(wait=False, cancel_futures=True)
            raise DetectionWorkerError(
                f"detection workers did not start ({type(err).__name__})"
            ) from None
        self._pids = tuple(sorted(pids))
        _log.info("detection workers ready: %d processes", len(pids))
        return pool

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        """Raises DetectionWorkerError if the worker faults, dies, or runs past the
        text's budget plus RUNAWAY_GRACE_SECONDS (the caller has failed closed long
        before; the workers are then replaced, so no runaway text holds one)."""
        pool = self._pool
        limit = policy.detection.budget_seconds(len(text)) + RUNAWAY_GRACE_SECONDS
        try:
            future: Future[tuple[Finding, ...]] = pool.submit(_detect, text, policy)
            return future.result(timeout=limit)
        except DetectionWorkerError:
            raise  # the worker's own fault, as its type name
        except BrokenProcessPool:
            self._replace(pool, "a detection worker died")
            raise DetectionWorkerError("detection worker lost") from None
        except TimeoutError:
            self._replace(pool, "a detection ran far past its budget", kill=True)
            raise DetectionWorkerError("detection worker stopped: past its budget") from None
        except (CancelledError, RuntimeError):  # after the two above: they are RuntimeErrors
            # The pool was replaced or closed with this text still queued on it: fail
            # closed like any worker fault, never as a cancelled call.
            raise DetectionWorkerError("detection workers replaced or stopped") from None

    def _replace(self, old: ProcessPoolExecutor, why: str, *, kill: bool = False) -> None:
        with self._lock:
            if self._pool is not old or self._closed:
                return  # another caller replaced it already, or the server is stopping
            _log.warning("%s; starting new detection workers", why)
            if kill:
                # The pool cannot stop a running task: its processes are killed, which
                # fails the other detections in flight on them (closed, as any fault).
                for process in list(getattr(old, "_processes", {}).values()):
                    process.kill()
            old.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._pool.shutdown(wait=False, cancel_futures=True)
