"""Screening with worker processes: a text waits for a free worker before its budget
starts, and a text whose caller gave up is never detected."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from governance.policy import Policies, Policy
from sidecar import pipeline
from sidecar.errors import DetectionFailed
from sidecar.finding import Finding
from sidecar.pipeline import Screening
from sidecar.slots import PrioritySlots


class _OneWorker:
    """A detector with one worker slot (as ProcessDetector has one per process) whose
    detection of "first" holds it until released."""

    def __init__(self) -> None:
        self.slots = PrioritySlots(1)
        self.seen: list[str] = []
        self.release = threading.Event()

    def detect(self, text: str, policy: Policy) -> tuple[Finding, ...]:
        self.seen.append(text)
        if text == "first":
            self.release.wait(timeout=30)
        elif text == "second":
            time.sleep(0.2)
        return ()


async def test_a_text_whose_caller_gave_up_waiting_is_never_detected(
    shipped_policies: Policies, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "QUEUE_WAIT_SECONDS", 0.3)
    detector = _OneWorker()
    with ThreadPoolExecutor(4) as executor:
        screening = Screening(detector, executor)
        policy = shipped_policies.default
        first = asyncio.create_task(screening.findings("first", policy))
        await asyncio.sleep(0.1)
        with pytest.raises(DetectionFailed, match="no detection worker free"):
            await screening.findings("second", policy)
        detector.release.set()
        assert await first == ()
        await asyncio.sleep(0.5)  # the second text's thread had every chance to go on
    assert detector.seen == ["first"]


async def test_the_budget_starts_when_a_worker_is_free(shipped_policies: Policies) -> None:
    # Budget 0.5 s. The first text holds the only worker for 0.45 s; the second, asked for
    # at 0.1 s, waits 0.35 s for it and then takes 0.2 s: 0.55 s after it was asked for,
    # but 0.2 s of its budget. Waiting for a worker is bounded by QUEUE_WAIT_SECONDS only.
    detector = _OneWorker()
    default = shipped_policies.default
    policy = default.model_copy(
        update={
            "detection": default.detection.model_copy(
                update={"timeout_ms": 500, "timeout_ms_per_kib": 0}
            )
        }
    )
    with ThreadPoolExecutor(4) as executor:
        screening = Screening(detector, executor)
        first = asyncio.create_task(screening.findings("first", policy))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(screening.findings("second", policy))
        await asyncio.sleep(0.35)
        detector.release.set()
        assert await first == ()
        assert await second == ()
    assert detector.seen == ["first", "second"]


async def test_a_free_worker_goes_to_the_oldest_work(shipped_policies: Policies) -> None:
    # "first" holds the only worker; then a new call and an older inference's output
    # wait for it. The inference's output started earlier: it goes first.
    detector = _OneWorker()
    policy = shipped_policies.default
    with ThreadPoolExecutor(4) as executor:
        screening = Screening(detector, executor)
        first = asyncio.create_task(screening.findings("first", policy))
        await _until(lambda: detector.seen == ["first"])
        newer = asyncio.create_task(screening.findings("newer", policy))
        older = asyncio.create_task(
            screening.findings("older", policy, since=PrioritySlots.now() - 60)
        )
        await _until(lambda: len(detector.slots._waiting) == 2)  # both wait for the worker
        detector.release.set()
        assert list(await asyncio.gather(first, newer, older)) == [(), (), ()]
    assert detector.seen == ["first", "older", "newer"]


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)
