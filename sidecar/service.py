"""The PrivacySidecar servicer: validate the request, run the pipeline, build the reply.

No detection or redaction rules live here. Every RPC runs inside one span and one
status boundary; raw text goes only to the pipeline and the in-memory context.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import UTC, datetime

import grpc

from governance.errors import GovernanceError
from governance.policy import Policies, Policy
from governance.store import StoreUnavailable
from sidecar.contexts import ContextStore, InferenceContext, Sensitive
from sidecar.detection import Finding
from sidecar.errors import (
    ContextNotFound,
    DetectionFailed,
    DetectorUnavailable,
    RequestError,
    status_boundary,
)
from sidecar.pipeline import Decision, Screening, counts_by_type
from sidecar.records import Records, Retained, counts_of, inference_retained, inference_since
from sidecar.redaction import Applied, Placeholders, apply, placeholder_spans, render_output
from sidecar.streaming import safe_cut
from sidecar.telemetry import RpcSpan, Telemetry
from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

_log = logging.getLogger(__name__)

__all__ = ["SidecarService"]

# Labels are configuration names (tenant, model, purpose) that reach logs and spans; no
# '@' or '+', so an e-mail address or phone number cannot pass for one.
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
_MAX_ID_CHARS = 256
_LEVELS = ("debug", "info", "warning", "error", "critical")
# Streams keep this much already-released raw text as left context for detection, so a
# name that completes a sentence is judged with the words before it.
_STREAM_CONTEXT_CHARS = 200

Context = grpc.aio.ServicerContext[object, object]


def _entities(applied: Sequence[Applied], *, shift: int = 0) -> list[pb.Entity]:
    return [
        pb.Entity(
            type=a.entity, start=a.start + shift, end=a.end + shift, score=a.score, action=a.action
        )
        for a in applied
    ]


def _label(value: str, field: str, *, required: bool) -> str:
    if not value:
        if required:
            raise RequestError(field=field, problem="required")
        return ""
    if not _LABEL.match(value):
        raise RequestError(
            field=field, problem="must be 1-128 characters of letters, digits and ._:/-"
        )
    return value


def _labels_of(ctx: InferenceContext) -> dict[str, str]:
    return {
        "inference_id": ctx.inference_id,
        "tenant": ctx.tenant,
        "model": ctx.model,
        "purpose": ctx.purpose,
    }


def _check_size(text: str, policy: Policy, field: str, *, already: int = 0) -> int:
    size = len(text.encode("utf-8"))
    limit = policy.inference.max_input_bytes
    if already + size > limit:
        raise RequestError(
            field=field,
            problem=f"{already + size} bytes exceeds the limit "
            f"policies.{policy.name}.inference.max_input_bytes = {limit}",
        )
    return size


class SidecarService(pb_grpc.PrivacySidecarServicer):
    def __init__(
        self,
        policies: Policies,
        screening: Screening,
        contexts: ContextStore,
        telemetry: Telemetry,
        records: Records,
        *,
        hash_key: bytes,
    ) -> None:
        self._policies = policies
        self._screening = screening
        self._contexts = contexts
        self._telemetry = telemetry
        self._records = records
        self._hash_key = hash_key
        self._pending_writes: set[asyncio.Task[None]] = set()
        contexts.on_expire = self._on_expire

    def _on_expire(self, ctx: InferenceContext) -> None:
        """An inference ran out of time: leave its record (input only), in the background."""
        retained = inference_retained(
            ctx,
            output=None,
            output_entities=(),
            outcome="expired",
            ended_at=datetime.now(UTC),
            end_ms=0.0,
        )
        decision = self._inference_decision("expiry", ctx, "expired", ())
        task = asyncio.get_running_loop().create_task(self._write_quietly(retained, decision))
        self._pending_writes.add(task)
        task.add_done_callback(self._pending_writes.discard)

    async def _write_quietly(self, retained: Retained, decision: Decision) -> None:
        try:
            await self._records.write(retained, decision=decision)
        except GovernanceError as err:
            _log.warning("record of an expired inference not written: %s", err)

    async def drain(self) -> None:
        """Wait for background record writes (expiries) to finish."""
        while self._pending_writes:
            await asyncio.gather(*list(self._pending_writes), return_exceptions=True)

    # -- helpers -------------------------------------------------------------------------

    def _policy(self, name: str) -> Policy:
        if name and name not in self._policies.policies:
            known = ", ".join(sorted(self._policies.policies))
            raise RequestError(field="policy", problem=f"unknown policy name (known: {known})")
        return self._policies.get(name)

    @contextlib.asynccontextmanager
    async def _call(self, method: str, context: Context) -> AsyncIterator[RpcSpan]:
        # Ours, never the caller's: it goes into every error message, log line and span.
        request_id = uuid.uuid4().hex[:16]
        with self._telemetry.rpc(method, request_id) as span:
            try:
                async with status_boundary(context, request_id):
                    yield span
            except grpc.aio.AbortError:
                code = context.code()
                span.status = code.name if isinstance(code, grpc.StatusCode) else "ABORTED"
                raise

    def _inference_id(self, value: str) -> str:
        if not value:
            raise RequestError(field="inference_id", problem="required")
        if len(value) > _MAX_ID_CHARS:
            raise RequestError(
                field="inference_id", problem=f"longer than {_MAX_ID_CHARS} characters"
            )
        return value

    async def _redact(
        self, text: str, policy: Policy, placeholders: Placeholders, rpc: str, **labels: str
    ) -> tuple[str, tuple[Applied, ...], str]:
        try:
            findings = await self._screening.findings(text, policy)
        except DetectionFailed as failure:
            self._telemetry.fail_closed(rpc)
            return await self._failed(policy, failure, rpc=rpc, **labels), (), "fail_closed"
        redacted = apply(text, findings, policy, placeholders=placeholders, hash_key=self._hash_key)
        return redacted.text, redacted.entities, "ok"

    async def _failed(
        self, policy: Policy, failure: DetectionFailed, *, rpc: str, **labels: str
    ) -> str:
        """The policy's failure mode. A rejection is a decision too: it is committed to the
        ledger before the caller hears UNAVAILABLE."""
        try:
            return Screening.on_failure(policy, failure, rpc=rpc)
        except DetectorUnavailable:
            decision_id = labels.pop("inference_id", "") or uuid.uuid4().hex
            decision = self._decision(rpc, decision_id, policy, "rejected", (), **labels)
            await self._records.decide(decision, at=datetime.now(UTC))
            self._announce(decision, None)
            raise

    def _decision(
        self,
        rpc: str,
        decision_id: str,
        policy: Policy,
        outcome: str,
        entities: tuple[Applied, ...],
        **labels: str,
    ) -> Decision:
        return Decision(rpc, decision_id, policy, outcome, entities, labels)

    def _inference_decision(
        self, rpc: str, ctx: InferenceContext, outcome: str, entities: tuple[Applied, ...]
    ) -> Decision:
        labels = _labels_of(ctx)
        return self._decision(
            rpc, labels.pop("inference_id"), ctx.policy, outcome, entities, **labels
        )

    def _announce(self, decision: Decision, span: RpcSpan | None) -> None:
        """Log the (committed) decision as counts and ids; metrics and span attributes."""
        Screening.record(decision)
        self._telemetry.entities(decision.rpc, counts_by_type(decision.entities))
        if span is not None:
            span.set(
                outcome=decision.outcome,
                entity_count=len(decision.entities),
                policy_version=decision.policy_version,
            )

    # -- RPCs ----------------------------------------------------------------------------

    async def Redact(self, request: pb.RedactRequest, context: Context) -> pb.RedactResponse:
        async with self._call("Redact", context) as span:
            policy = self._policy(request.policy)
            _check_size(request.text, policy, "text")
            span.set(policy=policy.name, input_chars=len(request.text))
            text, entities, outcome = await self._redact(
                request.text, policy, Placeholders(), "Redact"
            )
            decision_id = uuid.uuid4().hex
            decision = self._decision("Redact", decision_id, policy, outcome, entities)
            # Durable before we answer: the ledger holds the decision, or the call fails.
            await self._records.decide(decision, at=datetime.now(UTC))
            self._announce(decision, span)
            span.set(decision_id=decision_id)
            return pb.RedactResponse(
                redacted_text=text,
                entities=_entities(entities),
                policy_version=policy.policy_version,
                decision_id=decision_id,
                outcome=outcome,
            )
        raise AssertionError("unreachable")  # pragma: no cover - the boundary aborts

    async def BeginInference(
        self, request: pb.BeginInferenceRequest, context: Context
    ) -> pb.BeginInferenceResponse:
        async with self._call("BeginInference", context) as span:
            tenant = _label(request.tenant, "tenant", required=True)
            model = _label(request.model, "model", required=True)
            purpose = _label(request.purpose, "purpose", required=True)
            policy = self._policy(request.policy if request.HasField("policy") else "")
            limits = policy.inference
            ttl_seconds = limits.ttl_seconds
            if request.HasField("ttl_ms") and request.ttl_ms != 0:
                if request.ttl_ms < 0:
                    raise RequestError(field="ttl_ms", problem="must not be negative")
                if request.ttl_ms > limits.max_ttl_seconds * 1000:
                    raise RequestError(
                        field="ttl_ms",
                        problem=f"exceeds policies.{policy.name}.inference.max_ttl_seconds"
                        f" = {limits.max_ttl_seconds:g}",
                    )
                ttl_seconds = request.ttl_ms / 1000
            subject = request.subject_id if request.HasField("subject_id") else None
            if subject is not None and len(subject) > _MAX_ID_CHARS:
                raise RequestError(
                    field="subject_id", problem=f"longer than {_MAX_ID_CHARS} characters"
                )
            size = _check_size(request.input, policy, "input")
            span.set(
                tenant=tenant,
                model=model,
                purpose=purpose,
                policy=policy.name,
                input_chars=len(request.input),
            )
            now = self._contexts.clock()
            started_at = datetime.now(UTC)
            budget = policy.detection.budget_seconds(len(request.input))
            inference_id = ContextStore.new_id()
            ctx = InferenceContext(
                inference_id=inference_id,
                tenant=tenant,
                model=model,
                purpose=purpose,
                policy=policy,
                input=Sensitive(request.input),
                subject_id=Sensitive(subject) if subject is not None else None,
                # Provisional: the TTL counts from when the model input is handed back.
                expires_at=now + budget + ttl_seconds,
                expires_at_unix_ms=0,
                started_at=started_at,
            )
            # Admit before detecting: a full store refuses at once, and the bytes are ours.
            self._contexts.admit(ctx, size + len(subject or ""))
            try:
                text, entities, outcome = await self._redact(
                    request.input, policy, ctx.placeholders, "BeginInference", **_labels_of(ctx)
                )
                self._contexts.check(ctx)
            except BaseException:
                self._contexts.finish(ctx)
                raise
            ctx.outcome = outcome
            ctx.model_input = Sensitive(text)
            ctx.begin_ms = (self._contexts.clock() - now) * 1000
            ctx.input_actions = {e.entity: e.action for e in entities}
            ctx.expires_at = self._contexts.clock() + ttl_seconds
            ctx.expires_at_unix_ms = int((time.time() + ttl_seconds) * 1000)
            for entity in entities:
                ctx.input_counts[entity.entity] = ctx.input_counts.get(entity.entity, 0) + 1
            span.set(inference_id=inference_id)
            decision = self._inference_decision("BeginInference", ctx, outcome, entities)
            try:
                await self._records.decide(decision, at=datetime.now(UTC))
            except BaseException:
                self._contexts.finish(ctx)  # no audited decision, no inference
                raise
            self._announce(decision, span)
            return pb.BeginInferenceResponse(
                inference_id=inference_id,
                model_input=text,
                entities=_entities(entities),
                policy_version=policy.policy_version,
                outcome=outcome,
                expires_at_unix_ms=ctx.expires_at_unix_ms,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def EndInference(
        self, request: pb.EndInferenceRequest, context: Context
    ) -> pb.EndInferenceResponse:
        async with self._call("EndInference", context) as span:
            inference_id = self._inference_id(request.inference_id)
            ctx = self._contexts.claim(inference_id)
            started = self._contexts.clock()
            try:
                policy = ctx.policy
                _check_size(request.output, policy, "output")
                span.set(
                    inference_id=inference_id,
                    tenant=ctx.tenant,
                    policy=policy.name,
                    output_chars=len(request.output),
                )
                entities: tuple[Applied, ...] = ()
                try:
                    findings = await self._screening.findings(
                        request.output, policy, since=inference_since(ctx)
                    )
                except DetectionFailed as failure:
                    self._telemetry.fail_closed("EndInference")
                    marker = await self._failed(
                        policy, failure, rpc="EndInference", **_labels_of(ctx)
                    )
                    user_text, entities, outcome = marker, (), "fail_closed"
                    logged_text = user_text
                    self._contexts.check(ctx)
                else:
                    self._contexts.check(ctx)
                    rendered = render_output(
                        request.output,
                        findings,
                        policy,
                        placeholders=ctx.placeholders,
                        hash_key=self._hash_key,
                    )
                    user_text, entities, outcome = rendered.user_text, rendered.entities, "ok"
                    logged_text = rendered.logged_text
                retained = inference_retained(
                    ctx,
                    output=logged_text,
                    output_entities=entities,
                    outcome=outcome,
                    ended_at=datetime.now(UTC),
                    end_ms=(self._contexts.clock() - started) * 1000,
                )
                decision = self._inference_decision("EndInference", ctx, outcome, entities)
                # Durable before we answer: record and decision are committed, or the call fails.
                record_id = await self._records.write(retained, decision=decision)
            except BaseException as err:
                self._settle_failed(ctx, err)
                raise
            self._contexts.finish(ctx)
            self._announce(decision, span)
            return pb.EndInferenceResponse(
                user_output=user_text,
                entities=_entities(entities),
                log_record_id=record_id,
                policy_version=policy.policy_version,
                outcome=outcome,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _settle_failed(self, ctx: InferenceContext, err: BaseException) -> None:
        """After a failed end: a bad request or a rejected screening keeps the context for
        a retry (or an abort); anything else wipes it."""
        if isinstance(err, RequestError | DetectorUnavailable | StoreUnavailable) and not ctx.wiped:
            self._contexts.release(ctx)
        else:
            self._contexts.finish(ctx)

    async def AbortInference(
        self, request: pb.AbortInferenceRequest, context: Context
    ) -> pb.AbortInferenceResponse:
        async with self._call("AbortInference", context) as span:
            inference_id = self._inference_id(request.inference_id)
            # Not claim(): an abort must also stop an inference another call is ending or
            # streaming; that call finds it wiped at its next check and fails NOT_FOUND.
            ctx = self._contexts.get(inference_id)
            span.set(inference_id=inference_id)  # only once known: callers may send anything
            retained = inference_retained(
                ctx,
                output=None,
                output_entities=(),
                outcome="aborted",
                ended_at=datetime.now(UTC),
                end_ms=0.0,
            )
            decision = self._inference_decision("AbortInference", ctx, "aborted", ())
            self._contexts.finish(ctx)  # wiped first: an abort never waits on the database
            await self._records.write(retained, decision=decision)
            self._announce(decision, span)
            return pb.AbortInferenceResponse()
        raise AssertionError("unreachable")  # pragma: no cover

    async def Log(self, request: pb.LogRequest, context: Context) -> pb.LogResponse:
        async with self._call("Log", context) as span:
            tenant = _label(request.tenant, "tenant", required=True)
            source = _label(request.source, "source", required=True)
            policy = self._policy(request.policy)
            if request.level not in _LEVELS:
                raise RequestError(field="level", problem=f"must be one of {', '.join(_LEVELS)}")
            retention_class = request.retention_class or policy.app_logs.retention_class
            if retention_class not in self._policies.retention.classes:
                raise RequestError(
                    field="retention_class", problem="not a class in retention.classes"
                )
            if len(request.attributes) > policy.app_logs.max_attributes:
                raise RequestError(
                    field="attributes",
                    problem=f"more than policies.{policy.name}.app_logs.max_attributes"
                    f" = {policy.app_logs.max_attributes}",
                )
            allowed = set(policy.app_logs.allowed_attributes)
            kept = {k: v for k, v in request.attributes.items() if k in allowed}
            dropped = len(request.attributes) - len(kept)
            total = _check_size(request.message, policy, "message")
            for value in kept.values():
                total += _check_size(value, policy, "attributes", already=total)
            span.set(
                tenant=tenant, model=source, policy=policy.name, input_chars=len(request.message)
            )
            placeholders = Placeholders()
            message, entities, outcome = await self._redact(
                request.message, policy, placeholders, "Log"
            )
            texts = {"message": message}
            attribute_entities = 0
            for key in sorted(kept):
                redacted, found, result = await self._redact(kept[key], policy, placeholders, "Log")
                texts[f"attributes.{key}"] = redacted
                attribute_entities += len(found)
                if result != "ok":
                    outcome = result
            retained = Retained(
                kind="app",
                tenant=tenant,
                model=source,
                retention_class=retention_class,
                policy=policy,
                created_at=datetime.now(UTC),
                texts=texts,
                meta={
                    "level": request.level,
                    "source": source,
                    "outcome": outcome,
                    "dropped_attributes": dropped,
                    "entities": {"message": counts_of(entities)},
                    "attribute_entities": attribute_entities,
                },
            )
            decision = self._decision(
                "Log", uuid.uuid4().hex, policy, outcome, entities, tenant=tenant, model=source
            )
            record_id = await self._records.write(retained, decision=decision)
            self._announce(decision, span)
            return pb.LogResponse(
                log_record_id=record_id,
                entities=_entities(entities),
                attribute_entities=attribute_entities,
                dropped_attributes=dropped,
                policy_version=policy.policy_version,
                outcome=outcome,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def StreamOutput(
        self, request_iterator: AsyncIterator[pb.OutputChunk], context: Context
    ) -> AsyncIterator[pb.OutputChunk]:
        async with (
            self._call("StreamOutput", context) as span,
            contextlib.aclosing(self._stream(request_iterator, span)) as replies,
        ):
            # aclosing: a client that goes away ends (and wipes) the stream at once,
            # not whenever the generator is collected.
            async for reply in replies:
                yield reply

    async def _stream(
        self, chunks: AsyncIterator[pb.OutputChunk], span: RpcSpan
    ) -> AsyncGenerator[pb.OutputChunk, None]:
        try:
            async for reply in self._stream_checked(chunks, span):
                yield reply
        except Exception:
            # Read (and drop) what the caller is still sending before the error goes
            # out: a client still writing into a call we ended sees gRPC's local
            # "Internal error from Core" instead of our status.
            await _drain(chunks)
            raise

    async def _stream_checked(
        self, chunks: AsyncIterator[pb.OutputChunk], span: RpcSpan
    ) -> AsyncGenerator[pb.OutputChunk, None]:
        first = await anext(chunks, None)
        if first is None:
            raise RequestError(
                field="inference_id", problem="the first chunk must name the inference"
            )
        inference_id = self._inference_id(first.inference_id)
        ctx = self._contexts.claim(inference_id)
        span.set(inference_id=inference_id, tenant=ctx.tenant, policy=ctx.policy.name)
        stream = _OutputStream(self, ctx)
        ctx.on_wipe.append(stream.wipe)
        started = self._contexts.clock()
        try:
            chunk: pb.OutputChunk | None = first
            while chunk is not None:
                if chunk.inference_id and chunk.inference_id != inference_id:
                    raise RequestError(
                        field="inference_id", problem="differs from the first chunk's"
                    )
                self._contexts.check(ctx)
                for reply in await stream.feed(chunk.text, final=chunk.last):
                    yield reply
                if stream.done:
                    break
                chunk = await self._next_chunk(chunks, ctx)
            if not stream.done:  # the caller closed its side: flush what is held
                for reply in await stream.feed("", final=True):
                    yield reply
            retained = inference_retained(
                ctx,
                output=stream.logged,
                output_entities=stream.entities,
                outcome=stream.outcome,
                ended_at=datetime.now(UTC),
                end_ms=(self._contexts.clock() - started) * 1000,
            )
            decision = self._inference_decision(
                "StreamOutput", ctx, stream.outcome, tuple(stream.entities)
            )
            stream.wipe()
            self._contexts.finish(ctx)
            record_id = await self._records.write(retained, decision=decision)
            yield pb.OutputChunk(
                inference_id=inference_id,
                last=True,
                outcome=stream.outcome,
                log_record_id=record_id,
            )
            # The call ends here: we do not wait for the caller to half-close after `last`.
        except BaseException:
            self._contexts.finish(ctx)
            raise
        finally:
            stream.wipe()
        self._contexts.finish(ctx)
        span.set(chunks=stream.chunks)
        self._announce(decision, span)

    async def _next_chunk(
        self, chunks: AsyncIterator[pb.OutputChunk], ctx: InferenceContext
    ) -> pb.OutputChunk | None:
        """The caller's next chunk, waiting no longer than the inference may live."""
        remaining = ctx.expires_at - self._contexts.clock()
        try:
            return await asyncio.wait_for(anext(chunks, None), timeout=max(remaining, 0.0))
        except TimeoutError:
            self._contexts.check(ctx)  # expires it (leaving its record) and raises
            raise ContextNotFound("inference expired (its TTL ran out)") from None


async def _drain(chunks: AsyncIterator[pb.OutputChunk], *, seconds: float = 1.0) -> None:
    """Discard the caller's remaining chunks, for at most `seconds` and 10,000 chunks."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(seconds):
            count = 0
            async for _ in chunks:
                count += 1
                if count >= 10_000:
                    break


class _OutputStream:
    """Screens one streamed output: holds back what could still be a value, releases the rest."""

    def __init__(self, service: SidecarService, ctx: InferenceContext) -> None:
        self._service = service
        self._ctx = ctx
        self._pending = ""  # raw text received and not yet released
        self._released_raw = ""  # tail of released raw text, left context for detection
        self._offset = 0  # code points released so far
        self._received_bytes = 0
        self.entities: list[Applied] = []
        self.logged = ""  # the redacted output, for the log record
        self.outcome = "ok"
        self.done = False
        self.chunks = 0

    def wipe(self) -> None:
        """Drop the raw text this stream holds (end, failure, abort or TTL expiry)."""
        self._pending = ""
        self.logged = ""
        self._released_raw = ""

    async def feed(self, text: str, *, final: bool) -> list[pb.OutputChunk]:
        policy = self._ctx.policy
        self.chunks += 1
        size = _check_size(text, policy, "text", already=self._received_bytes)
        self._service._contexts.grow(self._ctx, size)
        self._received_bytes += size
        self._pending += text
        replies = []
        if self._pending:
            released = await self._release(final=final)
            if released is not None:
                replies.append(released)
        if final or self.outcome == "fail_closed":
            self.done = True  # the caller sends the last reply once the record is written
        return replies

    async def _release(self, *, final: bool) -> pb.OutputChunk | None:
        policy = self._ctx.policy
        pending = self._pending
        context = self._released_raw
        window = context + pending
        try:
            found = await self._service._screening.findings(
                window, policy, since=inference_since(self._ctx)
            )
        except DetectionFailed as failure:
            self._service._telemetry.fail_closed("StreamOutput")
            marker = await self._service._failed(
                policy, failure, rpc="StreamOutput", **_labels_of(self._ctx)
            )
            self.outcome = "fail_closed"
            self._pending = ""
            self.logged += marker
            return pb.OutputChunk(
                inference_id=self._ctx.inference_id, text=marker, outcome=self.outcome
            )
        self._service._contexts.check(self._ctx)
        shift = len(context)
        local = [_clip(f, shift) for f in found if f.end > shift]
        if any(f.start < shift < f.end for f in found):
            # A value completed only now, its beginning already sent: hold_from should
            # prevent this; count it so operators see it if a new shape of value does.
            _log.warning("stream %s: a value began in released text", self._ctx.inference_id)
            self._service._telemetry.partial_release()
        atoms = placeholder_spans(pending, self._ctx.placeholders)
        cut = safe_cut(
            pending,
            [(f.start, f.end) for f in local],
            atoms,
            max_holdback=policy.stream.max_holdback_chars,
            final=final,
        )
        if cut == 0:
            return None
        segment = pending[:cut]
        inside = [f for f in local if f.end <= cut]
        rendered = render_output(
            segment,
            inside,
            policy,
            placeholders=self._ctx.placeholders,
            hash_key=self._service._hash_key,
        )
        reply = pb.OutputChunk(
            inference_id=self._ctx.inference_id,
            text=rendered.user_text,
            entities=_entities(rendered.entities, shift=self._offset),
            outcome=self.outcome,
        )
        self.entities.extend(rendered.entities)
        self.logged += rendered.logged_text
        self._offset += cut
        self._pending = pending[cut:]
        self._released_raw = (context + segment)[-_STREAM_CONTEXT_CHARS:]
        return reply


def _clip(finding: Finding, shift: int) -> Finding:
    """Move a window finding into pending-text coordinates (a value begun in the context
    is cut at the boundary: its released part went out already, redacted or not)."""
    return Finding(
        finding.entity, max(0, finding.start - shift), finding.end - shift, finding.score
    )
