"""The heap built at start, kept out of the cyclic garbage collector's way; the heap a
request freed, given back.

A worker's pipelines, gazetteers and recognizers are about 120,000 objects that live as
long as the process. Each full collection walks all of them: about 100 ms here, charged
to whichever request happens to allocate at that moment. Frozen after start (Python's
`gc.freeze`, made for long-lived servers), they are never walked again; objects created
later are collected as usual.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable

__all__ = ["release_free_memory", "settle_heap"]


def settle_heap() -> None:
    """Collect what start-up left behind, then freeze everything still alive. Call once,
    when the process has built what it keeps."""
    gc.collect()
    gc.freeze()


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] | None = getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None
    return trim


_TRIM = _malloc_trim()  # glibc's; None elsewhere (musl, macOS): nothing to do there


def release_free_memory() -> None:
    """Give the pages of the heap that nothing uses back to the system.

    glibc keeps what a large text's detection freed (tens of MiB for 100 KB: NER arrays,
    tokens, copies of the text) in the process, scattered among live blocks, and reuses it
    in no predictable order: the resident size then grows in steps towards the largest
    working set seen and stays there, and freed copies of request text stay readable in
    pages the process still maps. `malloc_trim(0)` hands every wholly free page back
    (the system zeroes it before any reuse): 1-2 ms after a 20 KB text, 3-4 ms after a
    100 KB one, here."""
    if _TRIM is not None:
        _TRIM(0)
