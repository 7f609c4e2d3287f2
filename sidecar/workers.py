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

A text may also be shared by two idle workers (`ProcessDetector._shared`): one computes
the de-obfuscated view, the name and address layers and the NER model, and sends the
view back with its findings; the other runs the pattern recognizers. When the model has
much to read, the first sends its regions back unread instead, and each worker reads
half. The owner merges what they found. The view is request data like the text, and,
like it, crosses only the pool's pipes.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from governance.policy import Policies, Policy
from sidecar.finding import Finding
from sidecar.heap import settle_heap
from sidecar.slots import PrioritySlots

if TYPE_CHECKING:
    from sidecar.detection import Layered

__all__ = [
    "ONE_THREAD",
    "RUNAWAY_GRACE_SECONDS",
    "SPLIT_MIN_CHARS",
    "DetectionWorkerError",
    "ProcessDetector",
]

_log = logging.getLogger(__name__)

_READY_TIMEOUT_SECONDS = 300.0
_OWNER_POLL_SECONDS = 0.5
# How far past a text's time budget a worker may run before its pool is replaced.
RUNAWAY_GRACE_SECONDS = 5.0
# Shorter texts are not worth two workers: the second pipe trip and view cost more than
# the part they would take off the first.
SPLIT_MIN_CHARS = 512
# The NER model's regions are shared by two workers when they hold more characters than
# this. Below, the second trip through the pipe and the second call to the model cost
# more than the half of the model they save (measured on the bench corpus's 2 KB texts,
# whose regions hold 100 to 900 characters: the model reads 800 in about 8 ms).
_SHARE_MODEL_ABOVE = 800


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
    settle_heap()


def _watch_owner(owner: int) -> None:
    """Exit when the owner process is gone (killed, crashed): the pool's queues keep an
    orphaned worker waiting forever otherwise, holding memory and its pipelines.

    A timer signal, not a thread: once a process has a second thread, glibc's malloc and
    free take locks and atomics they skip in a single-threaded one, which made the NER
    model a quarter slower in the workers. The handler runs on the main thread between
    bytecodes, also while it waits on the pool's pipe (the read is retried after it)."""

    def check(_signum: int, _frame: object) -> None:
        if os.getppid() != owner:
            os._exit(0)

    signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, _OWNER_POLL_SECONDS, _OWNER_POLL_SECONDS)
    # Off before the interpreter restores default handlers on exit: SIGALRM's would
    # kill the worker while it stops.
    atexit.register(signal.setitimer, signal.ITIMER_REAL, 0)


def _ready() -> int:
    # Every worker takes one start-up probe: each waits here until all have loaded.
    _ready_barrier.wait(timeout=_READY_TIMEOUT_SECONDS)
    return os.getpid()


def _detect(text: str, policy: Policy) -> tuple[Finding, ...]:
    return _job("detect", text, policy)  # type: ignore[no-any-return]


def _job(name: str, *args: Any, **options: Any) -> Any:
    """One of the detector's jobs (`detect`, or a share of it: `layers`, `model`,
    `patterns`), by name."""
    if _detector is None:
        raise DetectionWorkerError("worker used before it loaded")
    try:
        return getattr(_detector, name)(*args, **options)
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
        # Not at module level: this module imports no numpy (bench.stages relies on it).
        from sidecar.detection import Finisher

        self._finisher = Finisher(policies)
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
        before; the workers are then replaced, so no runaway text holds one).

        The caller holds one of `slots`. If another worker is idle and nobody waits for
        it, a text of SPLIT_MIN_CHARS or more is screened by both (`_shared`): the same
        findings, sooner, when there is a core to spare."""
        limit = policy.detection.budget_seconds(len(text)) + RUNAWAY_GRACE_SECONDS
        pool = self._pool
        if (
            self._processes > 1
            and len(text) >= SPLIT_MIN_CHARS
            and text.strip()
            and self.slots.try_acquire()
        ):
            try:
                return self._outcome(pool, lambda: self._shared(pool, text, policy, limit))
            finally:
                self.slots.release()
        return self._outcome(pool, lambda: pool.submit(_detect, text, policy).result(limit))

    def _shared(
        self, pool: ProcessPoolExecutor, text: str, policy: Policy, limit: float
    ) -> tuple[Finding, ...]:
        """`detect` as the detector's jobs on two workers: the layers and the model on
        one and the pattern recognizers on the other, finished here. When the model's
        regions hold more than _SHARE_MODEL_ABOVE characters, the layers' job returns
        them unread, and they go out in two halves: the first to the worker the layers
        freed, the second to whichever is free next. The layers' job sends the
        de-obfuscated view back with its findings, so no process computes it twice."""
        deadline = time.monotonic() + limit

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        layers = pool.submit(_job, "layers", text, policy, share_above=_SHARE_MODEL_ABOVE)
        patterns = pool.submit(_job, "patterns", text, policy)
        jobs = [layers, patterns]
        try:
            layered: Layered = layers.result(left())
            view = layered.view.text
            jobs += [
                pool.submit(_job, "model", view, policy, half) for half in _halves(layered.regions)
            ]
            found = list(layered.found)
            for job in jobs[2:]:  # in region order, as `detect` has them
                found.extend(job.result(left()))
            found.extend(patterns.result(left()))
            return self._finisher.finish(layered.view, policy, found)
        finally:
            for job in jobs:
                job.cancel()  # one not started yet, after another failed

    def _outcome(
        self, pool: ProcessPoolExecutor, screen: Callable[[], tuple[Finding, ...]]
    ) -> tuple[Finding, ...]:
        try:
            return screen()
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


def _halves(regions: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """`regions` cut in two runs of about equal length, in order."""
    if len(regions) < 2:
        return [regions] if regions else []
    lengths = [end - start for start, end in regions]
    total = sum(lengths)
    read, cut, gap = 0, 1, total
    for index, length in enumerate(lengths[:-1]):
        read += length
        if abs(2 * read - total) < gap:
            cut, gap = index + 1, abs(2 * read - total)
    return [regions[:cut], regions[cut:]]
