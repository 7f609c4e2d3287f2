"""Detection in worker processes, so screening uses every core.

Detection is CPU-bound Python (spaCy, regular expressions, rules) and holds the GIL, so
threads in one process share one core. `ProcessDetector` runs `PresidioDetector` in
worker processes instead. The gRPC server, the inference contexts, redaction and the
placeholder mappings stay in the owner process: a worker gets one text (or one share of
a text's work) and a policy, returns findings (offsets only) and keeps nothing, so a
context's raw data still lives, and is wiped, in exactly one place. Texts go to workers
over a pipe, never through a file.

Each worker is a spawned process (not forked: the owner runs gRPC and other threads)
with a pipe of its own, and loads its own pipelines at start; `ProcessDetector` waits
until every one has. The thread that needs a text screened takes an idle worker, writes
the call to its pipe and reads the answer from it: no pool threads in between (those of
concurrent.futures' process pool cost two thread hand-offs, about half a millisecond,
each way). A worker that dies (killed, out of memory) fails the detection it was running
closed, like any detector fault, and a new one replaces it. So does one that runs far
past its text's time budget: it is killed, so no runaway text keeps a worker. A fault
inside a worker comes back as its exception type only: foreign exception text may quote
the input.

A text may also be shared by two idle workers (`ProcessDetector._shared`): one computes
the de-obfuscated view, the name and address layers and the NER model, and sends the
view back with its findings; the other runs the pattern recognizers. When the model has
much to read, the first sends part of its regions back with the view and reads the
rest itself, and the next worker free reads the part sent back. The owner merges what
they found. The view is request data like the text, and, like it, crosses only the
workers' pipes.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from governance.policy import Policies, Policy
from sidecar.finding import Finding
from sidecar.heap import release_free_memory, settle_heap
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
# After a job this long (a text of ~20 KB or more, or a share of a longer one) the worker
# gives freed heap pages back (`heap.release_free_memory`), off its answer's path. The
# trim and the page faults of the next job that needs the pages again cost 2-3% of such
# a job; after short ones they would cost more than the memory is worth (5% of a 2 KB
# text's detection).
_TRIM_AFTER_SECONDS = 0.1
_OWNER_POLL_SECONDS = 0.5
# How far past a text's time budget a worker may run before it is killed and replaced.
RUNAWAY_GRACE_SECONDS = 5.0
# Shorter texts are not worth two workers: the second pipe trip and view cost more than
# the part they would take off the first.
SPLIT_MIN_CHARS = 512
# The NER model's regions are shared by two workers when they hold more characters than
# this. Below, the second call to the model (~0.5 ms of fixed cost) and its trip through
# the pipes cost more than the part of the model they save. Measured on the bench
# corpus's 2 KB texts of two seeds, whose regions hold 100 to 900 characters, the
# per-text medians through `ProcessDetector`: 200 with 55% kept by the layers' worker
# (which starts on its part at once, while the other worker may still be on the pattern
# recognizers) gave a mean of 11.6 ms and a slowest text of 17.0, against 11.8 and 17.2
# with 550 and halves.
_SHARE_MODEL_ABOVE = 200
# The share of the model's regions the worker that found them keeps.
_FIRST_SHARE = 0.55


class DetectionWorkerError(RuntimeError):
    """A detection in a worker failed; the message is an exception type name or a
    fixed phrase, never text from the request."""


# -- in the worker process -------------------------------------------------------------

_detector = None  # the worker's PresidioDetector, built by _load


# Each worker is one of several processes on as many cores: a BLAS thread pool per
# worker would oversubscribe them (single-threaded, spaCy's NER is ~20% faster here).
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def _load(policies: Policies, owner: int) -> None:
    global _detector
    from sidecar.hardening import disable_core_dumps

    # Request text passes through workers too: no core dump may hold it. The core limit
    # is inherited, but the not-dumpable flag does not survive exec.
    disable_core_dumps()
    for name in ONE_THREAD:
        os.environ[name] = "1"  # before numpy is first imported, by the import below
    from sidecar.detection import PresidioDetector

    _watch_owner(owner)
    _detector = PresidioDetector(policies)
    settle_heap()


def _watch_owner(owner: int) -> None:
    """Exit when the owner process is gone (killed, crashed): an orphaned worker would
    otherwise wait on its pipe forever, holding memory and its pipelines.

    A timer signal, not a thread: once a process has a second thread, glibc's malloc and
    free take locks and atomics they skip in a single-threaded one, which made the NER
    model a quarter slower in the workers. The handler runs on the main thread between
    bytecodes, also while it waits on its pipe (the read is retried after it)."""

    def check(_signum: int, _frame: object) -> None:
        if os.getppid() != owner:
            os._exit(0)

    signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, _OWNER_POLL_SECONDS, _OWNER_POLL_SECONDS)
    # Off before the interpreter restores default handlers on exit: SIGALRM's would
    # kill the worker while it stops.
    atexit.register(signal.setitimer, signal.ITIMER_REAL, 0)


def _serve(connection: Connection, policies: Policies, owner: int) -> None:
    """A worker's life: load, say so (its pid), then answer calls until told to stop or
    the pipe closes. A call is (function, args, options); the answer (True, result) or
    (False, what failed: an exception type name or a fixed phrase)."""
    try:
        _load(policies, owner)
    except Exception as err:  # noqa: BLE001 - the type crosses the pipe, not the text
        connection.send((False, type(err).__name__))
        return
    connection.send((True, os.getpid()))
    while True:
        try:
            call = connection.recv()
        except (EOFError, OSError):
            return  # the owner closed its end
        if call is None:
            return
        function, args, options = call
        started = time.monotonic()
        _answer(connection, function, args, options)
        # Nothing of the text stays referenced while the worker waits for the next one.
        del call, function, args, options
        if time.monotonic() - started >= _TRIM_AFTER_SECONDS:
            release_free_memory()  # after the answer: the caller does not wait for it


def _answer(connection: Connection, function: Any, args: Any, options: Any) -> None:
    """Run a call and send its answer; a call whose function yields sends one answer per
    item, as each is ready (`_layers_then_model`)."""
    try:
        result = function(*args, **options)
        if isinstance(result, GeneratorType):
            for item in result:
                connection.send((True, item))
            return
        reply: tuple[bool, Any] = (True, result)
    except DetectionWorkerError as err:
        reply = (False, str(err))
    except Exception as err:  # noqa: BLE001 - the type crosses the pipe, not the text
        reply = (False, type(err).__name__)
    connection.send(reply)


def _detect(text: str, policy: Policy) -> tuple[Finding, ...]:
    return _job("detect", text, policy)  # type: ignore[no-any-return]


def _layers_then_model(
    text: str, policy: Policy, share_above: int, share: float
) -> Iterator[Layered | list[Finding]]:
    """The first job of a shared text: the layers (`PresidioDetector.layers`). When the
    model's regions are to be shared, this worker goes on with its part of them at once,
    and the layers' answer carries the rest back for another worker: the owner's answer
    would cost this one a round trip through the pipes before it could go on."""
    layered: Layered = _job("layers", text, policy, share_above=share_above)
    if not layered.regions:
        yield layered
        return
    mine, theirs = _parts(layered.regions, share)
    yield dataclasses.replace(layered, regions=theirs)
    yield _job("model", layered.view.text, policy, mine)


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


class _Worker:
    """A worker process and the owner's end of its pipe. One thread at a time uses it:
    the one that took it from the idle workers."""

    __slots__ = ("connection", "cpu", "process")

    def __init__(self, process: BaseProcess, connection: Connection, cpu: int | None) -> None:
        self.process = process
        self.connection = connection
        self.cpu = cpu  # the one it runs on, or None: any the owner may use

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def stop(self) -> None:
        """Ask it to exit (it does once its current call, if any, is answered)."""
        with contextlib.suppress(OSError, ValueError):  # gone already
            self.connection.send(None)
        self.connection.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


def _cpus(count: int) -> list[int | None]:
    """A CPU of its own for each of `count` workers, when the owner may use that many:
    a worker that stays on one core keeps its caches (the slowest 2 KB texts finished
    about 15% sooner pinned). None for each when there are fewer CPUs than workers."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return [None] * count
    if count < 2 or count > len(allowed):
        return [None] * count
    return list(allowed[-count:])


def _spawn(policies: Policies, cpus: list[int | None]) -> list[_Worker]:
    """A new worker for each of `cpus` (pinned to it, or not for None), each loaded.
    Raises DetectionWorkerError if any cannot start (the others are stopped)."""
    context = multiprocessing.get_context("spawn")
    workers: list[_Worker] = []
    try:
        for cpu in cpus:
            mine, theirs = context.Pipe()
            # The owner's pid from here: a worker that read its parent itself, after the
            # owner had died, would watch pid 1 forever.
            process = context.Process(
                target=_serve, args=(theirs, policies, os.getpid()), daemon=True
            )
            process.start()
            theirs.close()
            workers.append(_Worker(process, mine, cpu))
            if cpu is not None and process.pid is not None:
                try:
                    os.sched_setaffinity(process.pid, {cpu})
                except OSError:  # a container may forbid it: unpinned still works
                    workers[-1].cpu = None
        deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
        for worker in workers:
            if not worker.connection.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError
            loaded, what = worker.connection.recv()
            if not loaded:
                raise DetectionWorkerError(what)
    except Exception as err:  # noqa: BLE001 - any start-up fault: no workers
        for worker in workers:
            worker.kill()
        cause = str(err) if isinstance(err, DetectionWorkerError) else type(err).__name__
        raise DetectionWorkerError(f"detection workers did not start ({cause})") from None
    return workers


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
        # The CPUs of workers lost whose replacement did not start (yet).
        self._missing: list[int | None] = []
        # One per worker process: the server takes one before it hands a text over, so
        # a text's time budget starts when a process is free for it (pipeline.Screening).
        self.slots = PrioritySlots(processes)
        # Not at module level: this module imports no numpy (bench.stages relies on it).
        from sidecar.detection import Finisher

        self._finisher = Finisher(policies)
        self._workers = _spawn(policies, _cpus(processes))
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for worker in self._workers:
            self._idle.put(worker)
        _log.info("detection workers ready: %d processes", processes)

    @property
    def processes(self) -> int:
        return self._processes

    def pids(self) -> tuple[int, ...]:
        """The worker processes' ids (for resident-memory reports)."""
        with self._lock:
            return tuple(sorted(worker.pid for worker in self._workers))

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        """Raises DetectionWorkerError if the worker faults, dies, or runs past the
        text's budget plus RUNAWAY_GRACE_SECONDS (the caller has failed closed long
        before; the worker is then killed and replaced, so no runaway text holds one).

        The caller holds one of `slots`. If another worker is idle and nobody waits for
        it, a text of SPLIT_MIN_CHARS or more is screened by both (`_shared`): the same
        findings, sooner, when there is a core to spare."""
        limit = policy.detection.budget_seconds(len(text)) + RUNAWAY_GRACE_SECONDS
        deadline = time.monotonic() + limit
        worker = self._take()
        if (
            self._processes > 1
            and len(text) >= SPLIT_MIN_CHARS
            and not text.isspace()  # (detect returns nothing for it; no copy of the text)
            and self.slots.try_acquire()
        ):
            try:
                other = self._take_idle()
                if other is not None:
                    return self._shared(worker, other, text, policy, deadline)
            finally:
                self.slots.release()
        return self._ask(worker, deadline, _detect, text, policy)  # type: ignore[no-any-return]

    def each(self, function: Callable[[], Any]) -> list[Any]:
        """`function()` run on every worker, in turn (checks of the workers themselves);
        waits until each is idle."""
        with self._lock:
            count = len(self._workers)
        taken = [self._take() for _ in range(count)]
        deadline = time.monotonic() + 60.0
        results = []
        try:
            while taken:
                results.append(self._ask(taken.pop(), deadline, function))
        finally:
            for worker in taken:
                self._give(worker)
        return results

    def _shared(
        self, first: _Worker, second: _Worker, text: str, policy: Policy, deadline: float
    ) -> tuple[Finding, ...]:
        """`detect` as the detector's jobs on two workers: the layers and the model on
        `first` and the pattern recognizers on `second`, finished here. When the model's
        regions hold more than _SHARE_MODEL_ABOVE characters, `first` answers the layers
        with part of them unread (`_layers_then_model`) and goes on with the rest; the
        unread part goes to the next worker free. The layers' answer carries the
        de-obfuscated view, so no process computes it twice."""
        busy: dict[_Worker, str] = {}
        spare: list[_Worker] = []  # free, kept until the layers tell whether a part comes
        results: dict[str, Any] = {}
        todo: list[tuple[str, list[tuple[int, int]]]] = []
        layered: Layered | None = None

        def start(worker: _Worker, label: str, *args: Any, **options: Any) -> None:
            self._send(worker, _job, *args, **options)
            busy[worker] = label

        spare.append(second)  # given back below if the first job cannot even start
        try:
            self._send(first, _layers_then_model, text, policy, _SHARE_MODEL_ABOVE, _FIRST_SHARE)
            busy[first] = "layers"
            start(spare.pop(), "patterns", "patterns", text, policy)
            while busy:
                ready = wait([w.connection for w in busy], max(0.0, deadline - time.monotonic()))
                if not ready:
                    raise TimeoutError
                for worker in [w for w in busy if w.connection in ready]:
                    label = busy.pop(worker)
                    results[label] = self._receive(worker, deadline)
                    if label == "layers" and results[label].regions:
                        layered = results[label]
                        busy[worker] = "model0"  # it goes on with the first part
                        todo = [("model1", layered.regions)]
                    else:
                        if label == "layers":
                            layered = results[label]
                        spare.append(worker)
                    while todo and spare and layered is not None:
                        label, part = todo.pop(0)
                        start(spare.pop(), label, "model", layered.view.text, policy, part)
                    if layered is not None:
                        while spare:
                            self._give(spare.pop())
            assert layered is not None  # noqa: S101 - the loop ends after the layers' answer
            found = list(layered.found)
            for index in range(2):  # in region order, as `detect` has them
                found.extend(results.get(f"model{index}", ()))
            found.extend(results["patterns"])
            return self._finisher.finish(layered.view, policy, found)
        except TimeoutError:
            for worker in list(busy):
                del busy[worker]
                self._lose(worker, "a detection ran far past its budget")
            raise DetectionWorkerError("detection worker stopped: past its budget") from None
        finally:
            # After a fault: a worker still on a job has its answers read (and dropped)
            # before it serves again, or is replaced. A layers' answer with regions
            # unread has a second answer coming: the model's on the rest.
            for worker, label in list(busy.items()):
                try:
                    answer = self._receive(worker, deadline)
                    if label == "layers" and answer.regions:
                        self._receive(worker, deadline)
                    self._give(worker)
                except DetectionWorkerError:
                    pass
            for worker in spare:
                self._give(worker)

    def _ask(self, worker: _Worker, deadline: float, function: Any, *args: Any) -> Any:
        self._send(worker, function, *args)
        result = self._receive(worker, deadline)
        self._give(worker)
        return result

    def _send(self, worker: _Worker, function: Any, *args: Any, **options: Any) -> None:
        try:
            worker.connection.send((function, args, options))
        except (OSError, ValueError):
            self._lose(worker, "a detection worker died")
            raise DetectionWorkerError("detection worker lost") from None

    def _receive(self, worker: _Worker, deadline: float) -> Any:
        """The worker's answer to its call. The caller gives the worker back after (a
        worker that died or ran past `deadline` is replaced instead: not given back)."""
        try:
            if not worker.connection.poll(max(0.0, deadline - time.monotonic())):
                self._lose(worker, "a detection ran far past its budget")
                raise DetectionWorkerError("detection worker stopped: past its budget")
            ok, value = worker.connection.recv()
        except (EOFError, OSError):
            self._lose(worker, "a detection worker died")
            raise DetectionWorkerError("detection worker lost") from None
        if not ok:
            self._give(worker)  # the job failed; the worker is fine
            raise DetectionWorkerError(value)
        return value

    def _take(self) -> _Worker:
        """An idle worker, waiting for one if need be."""
        if self._missing:
            self._restore()
        worker = self._idle.get()
        if worker is None:  # closed: the next waiter must see it too
            self._idle.put(None)
            raise DetectionWorkerError("detection workers replaced or stopped")
        return worker

    def _take_idle(self) -> _Worker | None:
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            return None
        if worker is None:
            self._idle.put(None)
        return worker

    def _give(self, worker: _Worker) -> None:
        if self._closed:
            worker.stop()
        else:
            self._idle.put(worker)

    def _lose(self, worker: _Worker, why: str) -> None:
        """Kill a worker that died or ran away, and start its replacement."""
        with self._lock:
            if worker not in self._workers:
                return
            self._workers.remove(worker)
            self._missing.append(worker.cpu)
            closed = self._closed
        worker.kill()
        if not closed:
            _log.warning("%s; starting a new detection worker", why)
            try:
                self._restore()
            except DetectionWorkerError:
                _log.error("a new detection worker did not start; the next text tries again")

    def _restore(self) -> None:
        """Start the workers that are missing. Raises DetectionWorkerError if they do
        not start (the next caller tries again)."""
        with self._lock:
            missing, self._missing = self._missing, []
        if not missing:
            return
        try:
            fresh = _spawn(self._policies, missing)
        except DetectionWorkerError:
            with self._lock:
                self._missing += missing
            raise
        with self._lock:
            self._workers.extend(fresh)
        for worker in fresh:
            self._give(worker)

    def close(self) -> None:
        """Stop the workers: idle ones now, busy ones once their call is answered. A
        text still waiting for a worker, or sent after, fails closed."""
        with self._lock:
            self._closed = True
        while (worker := self._take_idle()) is not None:
            worker.stop()
        self._idle.put(None)


def _parts(
    regions: list[tuple[int, int]], share: float
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """`regions` (two or more) cut in two runs, in order, the first holding the nearest
    to `share` of their characters that a cut between regions gives (and at least one
    region each)."""
    lengths = [end - start for start, end in regions]
    total = sum(lengths)
    read, cut, gap = 0, 1, float(total)
    for index, length in enumerate(lengths[:-1]):
        read += length
        if abs(read - share * total) < gap:
            cut, gap = index + 1, abs(read - share * total)
    return regions[:cut], regions[cut:]
