"""Process hardening at start: no core dumps, not attachable, no network at run time.

A core dump or a ptrace attach would copy request text out of memory; both are turned
off before any request is read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import resource
import sys

__all__ = ["disable_core_dumps", "is_dumpable"]

_log = logging.getLogger(__name__)
_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def disable_core_dumps() -> None:
    """RLIMIT_CORE = 0 and, on Linux, PR_SET_DUMPABLE = 0."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    libc = _libc()
    if libc is None:
        _log.warning("PR_SET_DUMPABLE is not available on this platform")
        return
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        _log.warning("prctl(PR_SET_DUMPABLE, 0) failed (errno %d)", ctypes.get_errno())


def is_dumpable() -> bool | None:
    """Whether this process may dump core / be attached; None where unknown."""
    libc = _libc()
    if libc is None:
        return None
    return bool(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))
