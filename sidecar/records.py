"""What a finished inference or an application log line leaves behind: one redacted,
encrypted log record.

Builds the record as canonical JSON from already-redacted text and metadata, scans its
text once more with the policy's detectors just before sealing (defence in depth: a
value the first pass missed is redacted now, counted and flagged), and hands it to the
group-commit recorder. The raw subject id becomes a keyed HMAC token; it is never stored.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from governance.entries import canonical_json
from governance.journal import Unit
from governance.policy import Policies, Policy
from governance.store import NewRecord, subject_token
from sidecar.contexts import InferenceContext
from sidecar.errors import DetectionFailed
from sidecar.pipeline import Decision, Screening
from sidecar.recorder import Recorder
from sidecar.redaction import Applied, Placeholders, apply
from sidecar.telemetry import Telemetry

__all__ = [
    "RECORD_SCHEMA",
    "Records",
    "Retained",
    "counts_of",
    "inference_retained",
]

_log = logging.getLogger(__name__)
RECORD_SCHEMA = 1
# Our own replacement tokens (<TYPE>, <TYPE_3>, <TYPE:16 hex>) are not PII on a rescan.
_TOKENS = re.compile(r"<[A-Z][A-Z0-9_]*(?::[0-9a-f]{16})?>")


def counts_of(entities: Iterable[Applied]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entity in entities:
        counts[entity.entity] = counts.get(entity.entity, 0) + 1
    return counts


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(slots=True)
class Retained:
    """A record before its final scan: text fields (redacted) and metadata."""

    kind: str  # "inference" or "app"
    tenant: str
    model: str
    retention_class: str
    policy: Policy
    created_at: datetime
    texts: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    subject_id: str | None = None
    # When the work it records started (`Screening.findings`' `since`): the final scans
    # of an inference's record get a worker before newer work does.
    since: float | None = None

    def __repr__(self) -> str:
        return f"<Retained {self.kind} {self.tenant}/{self.retention_class}>"


def inference_since(ctx: InferenceContext) -> float | None:
    """When an inference's work started, for `Screening.findings`' `since`."""
    return ctx.started_at.timestamp() if ctx.started_at is not None else None


def inference_retained(
    ctx: InferenceContext,
    *,
    output: str | None,
    output_entities: Iterable[Applied],
    outcome: str,
    ended_at: datetime,
    end_ms: float,
) -> Retained:
    """The record an inference leaves: redacted input and output, counts, actions, times.

    Copies what it needs, so the context can be wiped right after.
    """
    output_list = list(output_entities)
    actions = dict(ctx.input_actions)
    actions.update({e.entity: e.action for e in output_list})
    started_at = ctx.started_at or ended_at
    texts = {"input": ctx.model_input.reveal()}
    if output is not None:
        texts["output"] = output
    return Retained(
        kind="inference",
        tenant=ctx.tenant,
        model=ctx.model,
        retention_class=ctx.policy.inference.retention_class,
        policy=ctx.policy,
        since=inference_since(ctx),
        created_at=ended_at,
        texts=texts,
        meta={
            "inference_id": ctx.inference_id,
            "purpose": ctx.purpose,
            "outcome": outcome,
            "started_at": _iso(started_at),
            "ended_at": _iso(ended_at),
            "latency_ms": {"begin": round(ctx.begin_ms, 3), "end": round(end_ms, 3)},
            "entities": {"input": dict(ctx.input_counts), "output": counts_of(output_list)},
            "actions": actions,
        },
        subject_id=ctx.subject_id.reveal() if ctx.subject_id is not None else None,
    )


_SCANS_AT_ONCE = 2


class Records:
    """Final scan, sealing and durable write of log records."""

    def __init__(
        self,
        policies: Policies,
        screening: Screening,
        recorder: Recorder,
        telemetry: Telemetry,
        *,
        subject_key: bytes,
        hash_key: bytes,
        actor: str,
    ) -> None:
        self._actor = actor
        self._policies = policies
        self._screening = screening
        self._recorder = recorder
        self._telemetry = telemetry
        self._subject_key = subject_key
        self._hash_key = hash_key

    def subject_token(self, subject_id: str) -> str:
        """Keyed HMAC of a data-subject id: erasure can find records, nobody can read it."""
        return subject_token(self._subject_key, subject_id)

    async def _rescan(self, text: str, policy: Policy, since: float | None) -> tuple[str, int]:
        """Redact what a last scan still finds in already-redacted text."""
        if not text:
            return text, 0
        try:
            findings = await self._screening.findings(text, policy, since=since)
        except DetectionFailed:
            # Fail closed here too: an unscanned text is not kept.
            return policy.failure_marker, 1
        protected = [m.span() for m in _TOKENS.finditer(text)]
        fresh = [
            f
            for f in findings
            if not any(start <= f.start and f.end <= end for start, end in protected)
        ]
        if not fresh:
            return text, 0
        replace_all = policy.model_copy(update={"actions": {}})  # default: <TYPE>
        redacted = apply(
            text, fresh, replace_all, placeholders=Placeholders(), hash_key=self._hash_key
        )
        return redacted.text, len(redacted.entities)

    async def decide(self, decision: Decision, *, at: datetime) -> None:
        """Commit a decision that leaves no record (Redact, BeginInference) to the ledger.

        Returns once it is durable. Raises StoreUnavailable.
        """
        await self._recorder.commit(Unit(None, (decision.entry(at=at, actor=self._actor),)))

    async def write(self, retained: Retained, *, decision: Decision | None = None) -> str:
        """Scan, seal and commit, with the decision's ledger entry; returns the record id.

        Raises StoreUnavailable.
        """
        flagged = 0
        body: dict[str, Any] = dict(retained.meta)
        # The texts' final scans run two at a time (an inference's input and output at
        # once, each on its own worker); a Log call's many attributes do not take every
        # detection thread.
        at_once = asyncio.Semaphore(_SCANS_AT_ONCE)

        async def rescan(text: str) -> tuple[str, int]:
            async with at_once:
                return await self._rescan(text, retained.policy, retained.since)

        scans = await asyncio.gather(*(rescan(text) for text in retained.texts.values()))
        for name, (cleaned, found) in zip(retained.texts, scans, strict=True):
            flagged += found
            if "." in name:  # "attributes.route" -> body["attributes"]["route"]
                group, key = name.split(".", 1)
                body.setdefault(group, {})[key] = cleaned
            else:
                body[name] = cleaned
        if flagged:
            _log.warning(
                "log record of %s/%s: %d values redacted by the final scan",
                retained.tenant,
                retained.kind,
                flagged,
            )
            self._telemetry.rescan_redactions(flagged)
        body |= {
            "schema": RECORD_SCHEMA,
            "kind": retained.kind,
            "tenant": retained.tenant,
            "model": retained.model,
            "retention_class": retained.retention_class,
            "policy_version": retained.policy.policy_version,
            "created_at": _iso(retained.created_at),
            "final_scan": {"redactions": flagged},
        }
        keep = self._policies.retention.keep_for(retained.retention_class, retained.tenant)
        record = NewRecord(
            tenant=retained.tenant,
            retention_class=retained.retention_class,
            kind=retained.kind,
            model=retained.model,
            created_at=retained.created_at,
            expires_at=retained.created_at + keep,
            keep=keep,
            plaintext=canonical_json(body),
            subject_token=(
                self.subject_token(retained.subject_id) if retained.subject_id is not None else None
            ),
        )
        entries = (decision.entry(at=retained.created_at, actor=self._actor),) if decision else ()
        about = decision.decision_id if decision else retained.meta.get("inference_id")
        committed = await self._recorder.commit(
            Unit(record, entries, about=about if isinstance(about, str) else None)
        )
        assert committed.record_id is not None  # noqa: S101 - one id per record
        return committed.record_id
