"""The ordered steps of screening: detect off the event loop, apply the policy, fail closed.

`Screening` turns one text into findings within the policy's time budget; failures are
turned into the policy's failure mode here, once, for every RPC. Nothing here logs text:
decisions are logged as counts, types, actions and ids.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime

from governance.entries import Draft, EntryType
from governance.policy import Policy
from sidecar.detection import Detector, Finding
from sidecar.errors import DetectionFailed, DetectorUnavailable
from sidecar.redaction import Applied
from sidecar.slots import PrioritySlots

__all__ = ["Decision", "Screening", "counts_by_type"]

_log = logging.getLogger(__name__)
# How long a text may wait for a free detection worker before it fails (closed or
# rejected, per policy). Callers' own gRPC deadlines usually end the wait sooner.
QUEUE_WAIT_SECONDS = 30.0
_decisions = logging.getLogger("sidecar.decisions")
_STANDALONE = frozenset({"Redact", "Log"})  # decisions that belong to no inference


@dataclass(frozen=True, slots=True)
class Decision:
    """What was decided about one text: never the text itself."""

    rpc: str
    decision_id: str
    policy: Policy
    outcome: str
    entities: tuple[Applied, ...]
    labels: Mapping[str, str] = field(default_factory=dict)  # tenant, model, purpose

    @property
    def policy_version(self) -> str:
        return self.policy.policy_version

    def entry(self, *, at: datetime, actor: str) -> Draft:
        """The audit-ledger entry: types, counts, actions, ids and labels; no values."""
        counts: dict[str, int] = {}
        actions: dict[str, str] = {}
        for entity in self.entities:
            counts[entity.entity] = counts.get(entity.entity, 0) + 1
            actions[entity.entity] = entity.action
        id_key = "decision_id" if self.rpc in _STANDALONE else "inference_id"
        return Draft(
            EntryType.SCREENING_DECISION,
            at,
            actor,
            {
                "rpc": self.rpc,
                id_key: self.decision_id,
                "policy": self.policy.name,
                "policy_version": self.policy.policy_version,
                "outcome": self.outcome,
                "entities": counts,
                "actions": actions,
                **{k: v for k, v in self.labels.items() if v},
            },
        )


def counts_by_type(entities: Iterable[Applied]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for entity in entities:
        key = (entity.entity, entity.action)
        counts[key] = counts.get(key, 0) + 1
    return counts


class Screening:
    """Runs a Detector in a thread pool with the policy's time budget."""

    def __init__(self, detector: Detector, executor: Executor) -> None:
        self._detector = detector
        self._executor = executor

    async def findings(
        self, text: str, policy: Policy, *, since: float | None = None
    ) -> tuple[Finding, ...]:
        """Findings in `text`. Raises DetectionFailed on any error or on timeout.

        The policy's time budget runs from when a worker starts on the text, not while
        it waits for a free worker: load must queue, not fail closed. Waiting for a
        worker is bounded separately (QUEUE_WAIT_SECONDS). `since`: when the work the
        text belongs to started (`PrioritySlots.now()` time; default: now); a free worker
        goes to the oldest work first.
        """
        if not text:
            return ()
        loop = asyncio.get_running_loop()
        started = asyncio.Event()
        abandoned = threading.Event()
        # Detection in worker processes: this thread waits for a free process before the
        # budget starts, as threads in process wait for a free thread.
        slots: PrioritySlots | None = getattr(self._detector, "slots", None)
        since = PrioritySlots.now() if since is None else since

        def run() -> tuple[Finding, ...]:
            if slots is not None and not slots.acquire(since, abandoned):
                raise DetectionFailed("abandoned")
            try:
                if abandoned.is_set():
                    raise DetectionFailed("abandoned")  # nobody reads the result any more
                loop.call_soon_threadsafe(started.set)
                return self._detector.detect(text, policy)
            finally:
                if slots is not None:
                    slots.release()

        future = loop.run_in_executor(self._executor, run)
        try:
            try:
                await asyncio.wait_for(started.wait(), timeout=QUEUE_WAIT_SECONDS)
            except TimeoutError:
                future.cancel()
                raise DetectionFailed("no detection worker free") from None
            budget = policy.detection.budget_seconds(len(text))
            return await asyncio.wait_for(future, timeout=budget)
        except TimeoutError:
            raise DetectionFailed("timeout") from None
        except (asyncio.CancelledError, DetectionFailed):
            raise
        except Exception as err:  # noqa: BLE001 - any detector fault fails closed
            # Foreign exception text may quote the input: keep only the type.
            raise DetectionFailed(type(err).__name__) from None
        finally:
            # A caller that gave up (deadline, cancel, no free worker) must not leave
            # detection queued on text nobody will read: a thread still waiting for a
            # worker process sees `abandoned` and gives up too.
            abandoned.set()
            if not future.done():
                future.cancel()

    @staticmethod
    def on_failure(policy: Policy, failure: DetectionFailed, *, rpc: str) -> str:
        """Apply the failure mode: return the marker text, or raise DetectorUnavailable."""
        _log.warning(
            "detection failed in %s (%s); policy %s: %s",
            rpc,
            failure.reason,
            policy.name,
            policy.on_detector_failure,
        )
        if policy.on_detector_failure == "reject":
            raise DetectorUnavailable(failure.reason)
        return policy.failure_marker

    @staticmethod
    def record(decision: Decision, **ids: str) -> None:
        counts = {f"{e}:{a}": n for (e, a), n in sorted(counts_by_type(decision.entities).items())}
        _decisions.info(
            "decision %s rpc=%s outcome=%s policy=%s entities=%s%s",
            decision.decision_id,
            decision.rpc,
            decision.outcome,
            decision.policy_version,
            counts,
            "".join(f" {k}={v}" for k, v in sorted({**decision.labels, **ids}.items()) if v),
        )
