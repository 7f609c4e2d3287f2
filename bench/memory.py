"""Resident memory of the sidecar and each of its detection workers under sustained load.

`soak` keeps `concurrency` Redact calls in flight for a fixed time, over a new corpus in
each pass (texts a server has seen before could let a cache look bounded when it is not:
spaCy's vocabulary grew with every new word until detection ran in memory zones), and
samples VmRSS of the server process and of every detection worker (its children
started by multiprocessing's spawn) from /proc. The figures: each process's resident size
at the first sample (after warm-up), at the last, the largest, and the growth over the
second half of the run (a leak shows as growth that does not level off).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.rpc import RedactClient

__all__ = ["ProcessMemory", "SoakResult", "resident_mib", "soak", "worker_pids"]


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    role: str  # "server" or "worker N"
    first_mib: float
    last_mib: float
    max_mib: float
    second_half_growth_mib: float  # last sample minus the sample at the half-way mark


@dataclass(frozen=True, slots=True)
class SoakResult:
    seconds: float
    requests: int
    samples: int
    processes: tuple[ProcessMemory, ...]


def resident_mib(pid: int) -> float | None:
    """VmRSS of `pid` in MiB; None once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def worker_pids(server: int) -> list[int]:
    """The server's detection workers: children running multiprocessing's spawn_main."""
    found = []
    for task in Path(f"/proc/{server}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.append(int(child))
    return sorted(found)


async def soak(
    target: str,
    server: int,
    passes: Callable[[int], Sequence[str]],
    *,
    seconds: float,
    concurrency: int = 8,
    sample_every_s: float = 5.0,
) -> SoakResult:
    """Redact `passes(0)`, `passes(1)`, ... for `seconds`, sampling resident sizes."""
    pids = {"server": server}
    pids.update({f"worker {n + 1}": pid for n, pid in enumerate(worker_pids(server))})
    samples: dict[str, list[float]] = {role: [] for role in pids}
    requests = 0
    deadline = time.monotonic() + seconds

    def sample() -> None:
        for role, pid in pids.items():
            value = resident_mib(pid)
            if value is not None:
                samples[role].append(value)

    async with RedactClient(target) as client:

        async def load() -> None:
            nonlocal requests
            for number in itertools.count():
                if time.monotonic() >= deadline:
                    break
                result = await client.run(passes(number), concurrency=concurrency)
                requests += len(result.latencies_s)

        async def sampler() -> None:
            while time.monotonic() < deadline:
                sample()
                await asyncio.sleep(sample_every_s)
            sample()

        started = time.monotonic()
        await asyncio.gather(load(), sampler())
    figures = []
    for role, values in samples.items():
        if not values:
            continue
        half = values[len(values) // 2]
        figures.append(
            ProcessMemory(
                role=role,
                first_mib=values[0],
                last_mib=values[-1],
                max_mib=max(values),
                second_half_growth_mib=values[-1] - half,
            )
        )
    return SoakResult(
        seconds=time.monotonic() - started,
        requests=requests,
        samples=max((len(v) for v in samples.values()), default=0),
        processes=tuple(figures),
    )
