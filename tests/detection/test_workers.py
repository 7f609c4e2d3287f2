"""Detection in worker processes: same findings as in-process, faults fail closed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from governance.policy import Policies, Policy, load_policies
from sidecar import workers
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


def test_every_worker_serves(processes: ProcessDetector, shipped_policies: Policies) -> None:
    assert len(processes.pids()) == 2
    assert os.getpid() not in processes.pids()
    policy = shipped_policies.default
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: processes.detect(t, policy), TEXTS * 8))
    assert results == [processes.detect(t, policy) for t in TEXTS] * 8


def test_a_fault_in_a_worker_comes_back_as_its_type_only(processes: ProcessDetector) -> None:
    # A policy the workers were not started with: their detector has no screen for it.
    renamed = (
        SHIPPED_POLICIES.read_text()
        .replace("default: chat", "default: chat_renamed")
        .replace("  chat:", "  chat_renamed:")
        .replace("extends: chat", "extends: chat_renamed")
    )
    other = load_policies(renamed, source="other.yaml")
    with pytest.raises(DetectionWorkerError) as caught:
        processes.detect("mail jane@example.org", other.policies["chat_renamed"])
    assert str(caught.value) == "KeyError"


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

    assert [processes._pool.submit(is_dumpable).result(timeout=60) for _ in range(4)] == [False] * 4


def test_a_text_queued_on_replaced_or_closed_workers_fails_closed(
    shipped_policies: Policies,
) -> None:
    # Texts still queued when the workers are replaced are cancelled by the pool: they
    # fail closed as DetectionWorkerError, never as a cancelled call.
    detector = ProcessDetector(shipped_policies, processes=1)
    policy = shipped_policies.default
    try:
        with ThreadPoolExecutor(6) as pool:
            running = pool.submit(detector.detect, "Jane Roe " * 20_000, policy)
            time.sleep(0.5)
            queued = [pool.submit(detector.detect, TEXTS[0], policy) for _ in range(4)]
            time.sleep(0.3)
            detector._replace(detector._pool, "test")
            assert running.result(timeout=120) != ()  # a running text finishes
            outcomes = []
            for future in queued:
                try:
                    future.result(timeout=120)
                    outcomes.append("screened")
                except DetectionWorkerError as err:
                    outcomes.append(str(err))
        # The pool hands one or two texts to its worker ahead; the rest were cancelled.
        assert "detection workers replaced or stopped" in outcomes
        assert set(outcomes) <= {"screened", "detection workers replaced or stopped"}
        assert detector.detect(TEXTS[0], policy) != ()  # the new workers serve
    finally:
        detector.close()
    with pytest.raises(DetectionWorkerError, match="replaced or stopped"):
        detector.detect(TEXTS[0], policy)


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
