"""The heap built at start, kept out of the cyclic garbage collector's way.

A worker's pipelines, gazetteers and recognizers are about 120,000 objects that live as
long as the process. Each full collection walks all of them: about 100 ms here, charged
to whichever request happens to allocate at that moment. Frozen after start (Python's
`gc.freeze`, made for long-lived servers), they are never walked again; objects created
later are collected as usual.
"""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]


def settle_heap() -> None:
    """Collect what start-up left behind, then freeze everything still alive. Call once,
    when the process has built what it keeps."""
    gc.collect()
    gc.freeze()
