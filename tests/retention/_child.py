"""A sweeper in a 'spawn' child process that SIGKILLs itself at one durable step.

Kept apart from the test modules so that a child imports only the governance package and
tests/retention/_site.py, not pytest. The child opens the parent's site (same data dir,
same database), runs a sweep whose `step` hook kills the process the `nth` time `step`
is reached, and exits normally (code 0) only if the sweep never got there.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import datetime
from pathlib import Path

from tests.retention._site import Site, load


def sweep_until_killed(
    kind: str, url: str, data_dir: str, policies: str, now: str, step: str, nth: int
) -> None:
    site = Site(kind, url, Path(data_dir))
    reached: Counter[str] = Counter()

    def hook(name: str) -> None:
        reached[name] += 1
        if name == step and reached[name] == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    site.sweeper(load(policies), step=hook).run(now=datetime.fromisoformat(now))
