"""Worker slots go to the oldest work first, and a waiter that gives up takes none."""

from __future__ import annotations

import threading
import time

import pytest

from sidecar.slots import PrioritySlots


def _waiter(
    slots: PrioritySlots, since: float, got: list[float], cancelled: threading.Event
) -> threading.Thread:
    def wait() -> None:
        if slots.acquire(since, cancelled):
            got.append(since)
            slots.release()

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.05)  # queued before the next one arrives
    return thread


def test_the_oldest_waiting_work_gets_the_slot_first() -> None:
    slots = PrioritySlots(1)
    never = threading.Event()
    assert slots.acquire(0.0, never)
    got: list[float] = []
    threads = [_waiter(slots, since, got, never) for since in (30.0, 10.0, 20.0, 10.0)]
    slots.release()
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()
    assert got == [10.0, 10.0, 20.0, 30.0]  # ties: first come, first served


def test_slots_freed_at_once_go_to_every_waiter_at_once() -> None:
    slots = PrioritySlots(4)
    never = threading.Event()
    for _ in range(4):
        assert slots.acquire(0.0, never)
    got: list[float] = []
    started: list[float] = []
    threads = []
    for since in (1.0, 2.0, 3.0, 4.0):

        def wait(since: float = since) -> None:
            if slots.acquire(since, never):
                started.append(time.monotonic())
                got.append(since)

        threads.append(threading.Thread(target=wait))
        threads[-1].start()
    time.sleep(0.1)
    freed = time.monotonic()
    for _ in range(4):
        slots.release()
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()
    assert sorted(got) == [1.0, 2.0, 3.0, 4.0]
    # No waiter sat out a poll interval while a slot was free.
    assert max(started) - freed < 0.04


def test_every_slot_is_used_at_once() -> None:
    slots = PrioritySlots(2)
    never = threading.Event()
    assert slots.acquire(5.0, never)
    assert slots.acquire(1.0, never)  # a second slot is free: no waiting
    slots.release()
    slots.release()


def test_a_waiter_that_gives_up_takes_no_slot_and_lets_the_next_go() -> None:
    slots = PrioritySlots(1)
    never = threading.Event()
    assert slots.acquire(0.0, never)
    gave_up = threading.Event()
    got: list[float] = []
    first = _waiter(slots, 1.0, got, gave_up)
    second = _waiter(slots, 2.0, got, never)
    gave_up.set()
    first.join(timeout=5)
    assert not first.is_alive()
    assert got == []
    slots.release()
    second.join(timeout=5)
    assert not second.is_alive()
    assert got == [2.0]
    assert slots.acquire(0.0, never)  # the slot came back


def test_try_acquire_takes_only_a_slot_nobody_waits_for() -> None:
    slots = PrioritySlots(2)
    never = threading.Event()
    assert slots.try_acquire()  # free, nobody waiting
    assert slots.acquire(0.0, never)
    assert not slots.try_acquire()  # none free
    got: list[float] = []
    waiter = _waiter(slots, 1.0, got, never)
    slots.release()  # the waiter takes it, and gives it back
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    assert got == [1.0]
    blocked = PrioritySlots(1)
    assert blocked.acquire(0.0, never)
    waiting = _waiter(blocked, 1.0, got, never)
    assert not blocked.try_acquire()  # a waiter is first in line for the next slot
    blocked.release()
    waiting.join(timeout=5)
    assert got == [1.0, 1.0]
    assert blocked.try_acquire()
    blocked.release()
    slots.release()  # the one still held: every slot was given back
    with pytest.raises(ValueError, match="more often"):
        slots.release()


def test_releasing_more_than_acquired_is_an_error() -> None:
    slots = PrioritySlots(1)
    with pytest.raises(ValueError, match="more often"):
        slots.release()


def test_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PrioritySlots(0)
