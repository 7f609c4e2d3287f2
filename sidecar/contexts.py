"""Live inference contexts: bounded, TTL-expired, wiped on end, abort or expiry.

Holds request text for one inference. Never persists, pickles or logs it. All access
happens on the server's event loop, so no locks are needed; a context being ended or
streamed is marked busy instead of removed, so the reaper can still expire it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, final

from governance.policy import Limits, Policy
from sidecar.errors import CapacityExceeded, ContextBusy, ContextNotFound
from sidecar.redaction import Placeholders

__all__ = ["ContextStore", "InferenceContext", "Sensitive"]

_log = logging.getLogger(__name__)


@final
class Sensitive:
    """Request text. Prints as its length; only reveal() yields the value."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def reveal(self) -> str:
        return self._text

    def wipe(self) -> None:
        self._text = ""  # drops our reference; str itself is immutable

    def __len__(self) -> int:
        return len(self._text)

    def __repr__(self) -> str:
        return f"<Sensitive: {len(self._text)} chars>"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("Sensitive values are not serialisable")


@dataclass(slots=True, eq=False)
class InferenceContext:
    """One inference's raw data, in memory only."""

    inference_id: str
    tenant: str
    model: str
    purpose: str
    policy: Policy
    input: Sensitive
    subject_id: Sensitive | None
    expires_at: float  # monotonic seconds
    expires_at_unix_ms: int
    placeholders: Placeholders = field(default_factory=Placeholders)
    input_counts: dict[str, int] = field(default_factory=dict)
    input_actions: dict[str, str] = field(default_factory=dict)
    model_input: Sensitive = field(default_factory=lambda: Sensitive(""))  # redacted input
    started_at: datetime | None = None
    begin_ms: float = 0.0
    outcome: str = "ok"
    reserved_bytes: int = 0
    busy: bool = False
    wiped: bool = False
    expired: bool = False
    # Wipers of raw data held elsewhere for this inference (a stream's buffers).
    on_wipe: list[Callable[[], None]] = field(default_factory=list)

    def wipe(self) -> None:
        self.input.wipe()
        self.model_input.wipe()
        if self.subject_id is not None:
            self.subject_id.wipe()
        self.placeholders.wipe()
        for wiper in self.on_wipe:
            wiper()
        self.on_wipe.clear()
        self.wiped = True

    def __repr__(self) -> str:
        return f"<InferenceContext {self.inference_id} tenant={self.tenant!r}>"

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("inference contexts are not serialisable")


class ContextStore:
    """Bounded map of live contexts keyed by inference id."""

    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_expire: Callable[[InferenceContext], None] | None = None,
    ) -> None:
        self._limits = limits
        self._clock = clock
        # Called with an expiring context just before it is wiped (to leave a record).
        self.on_expire = on_expire
        self._contexts: dict[str, InferenceContext] = {}
        self._bytes = 0

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(16)  # 128 random bits: ids are unguessable handles

    def __len__(self) -> int:
        return len(self._contexts)

    @property
    def reserved_bytes(self) -> int:
        return self._bytes

    def clock(self) -> float:
        return self._clock()

    def admit(self, context: InferenceContext, size_bytes: int) -> None:
        """Add a context. Raises CapacityExceeded when a limit would be passed."""
        if len(self._contexts) >= self._limits.max_contexts:
            self.reap()  # expired contexts are not live: they must not hold a slot
        if len(self._contexts) >= self._limits.max_contexts:
            raise CapacityExceeded(limit="max_contexts", value=self._limits.max_contexts)
        self._reserve(context, size_bytes)
        self._contexts[context.inference_id] = context

    def grow(self, context: InferenceContext, size_bytes: int) -> None:
        """Account for more raw bytes held by a context (e.g. streamed output)."""
        self._reserve(context, size_bytes)

    def _reserve(self, context: InferenceContext, size_bytes: int) -> None:
        if self._bytes + size_bytes > self._limits.max_context_bytes:
            self.reap()
        if self._bytes + size_bytes > self._limits.max_context_bytes:
            raise CapacityExceeded(limit="max_context_bytes", value=self._limits.max_context_bytes)
        self._bytes += size_bytes
        context.reserved_bytes += size_bytes

    def get(self, inference_id: str) -> InferenceContext:
        """The live context. Raises ContextNotFound (expired ones are wiped first)."""
        context = self._contexts.get(inference_id)
        if context is None:
            raise ContextNotFound()
        if self._clock() >= context.expires_at:
            self._drop(context, expired=True)
            raise ContextNotFound("inference expired (its TTL ran out)")
        return context

    def claim(self, inference_id: str) -> InferenceContext:
        """Mark a context busy for one ending or streaming call."""
        context = self.get(inference_id)
        if context.busy:
            raise ContextBusy()
        context.busy = True
        return context

    def release(self, context: InferenceContext) -> None:
        """Give a claimed context back after a call that failed without ending it."""
        context.busy = False

    def check(self, context: InferenceContext) -> None:
        """Raise ContextNotFound if a claimed context expired or was wiped meanwhile."""
        if context.wiped:
            raise ContextNotFound("inference expired (its TTL ran out)")
        if self._clock() >= context.expires_at:
            self._drop(context, expired=True)
            raise ContextNotFound("inference expired (its TTL ran out)")

    def finish(self, context: InferenceContext) -> None:
        """Remove and wipe a context (end, abort, stream end)."""
        self._drop(context, expired=False)

    def _drop(self, context: InferenceContext, *, expired: bool) -> None:
        if self._contexts.get(context.inference_id) is context:
            del self._contexts[context.inference_id]
            self._bytes -= context.reserved_bytes
            if expired and self.on_expire is not None and not context.wiped:
                try:
                    self.on_expire(context)
                except Exception as err:  # noqa: BLE001 - expiry must wipe whatever happens
                    _log.error("expiry hook failed: %s", type(err).__name__)
        context.expired = context.expired or expired
        context.wipe()

    def reap(self) -> int:
        """Wipe every expired context; returns how many."""
        now = self._clock()
        # A busy context is being ended or streamed: that call checks expiry itself, so
        # an inference never leaves both its own record and an "expired" one.
        expired = [c for c in self._contexts.values() if now >= c.expires_at and not c.busy]
        for context in expired:
            self._drop(context, expired=True)
        if expired:
            _log.info("expired %d inference contexts", len(expired))
        return len(expired)

    def wipe_all(self) -> int:
        contexts = list(self._contexts.values())
        for context in contexts:
            self._drop(context, expired=False)
        return len(contexts)

    async def run_reaper(self, interval_seconds: float = 1.0) -> None:
        """Expire abandoned contexts until cancelled."""
        while True:
            await asyncio.sleep(interval_seconds)
            self.reap()
