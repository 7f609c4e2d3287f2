"""The two systems under test, in process: the sidecar's screening and stock Presidio.

Each screens one corpus document at a time and returns a `DocOutcome`: the output text
(None if it raised) and the spans it reported. Documents with `chunks` are fed as a
stream: the sidecar through its StreamOutput RPC implementation (a real `SidecarService`
driven in process, records discarded), stock Presidio one chunk at a time, concatenated,
as a naive integration would. No spans are reported for streamed documents.

Nothing here logs or prints document text; a failure is reported by its type name only.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, Protocol, cast

import grpc

from bench.inprocess import StockPresidio as _BenchPresidio
from evaluation.labels import Doc
from evaluation.score import DocOutcome, Predicted
from governance.journal import Committed, Unit
from governance.policy import Policies, Policy, load_policies_file
from sidecar.contexts import ContextStore
from sidecar.detection import Detector, PresidioDetector
from sidecar.pipeline import Screening
from sidecar.recorder import Recorder
from sidecar.records import Records
from sidecar.redaction import Placeholders, apply
from sidecar.service import SidecarService
from sidecar.telemetry import Telemetry
from sidecar.v1 import sidecar_pb2 as pb

__all__ = ["HASH_KEY", "SidecarSystem", "StockPresidio", "System", "chunked"]

_log = logging.getLogger(__name__)
# Fixed, not secret: hash tokens only need to be stable between runs of the evaluation.
HASH_KEY = bytes(range(32))
_LABEL = "evaluation"


class System(Protocol):
    name: str

    def screen(self, doc: Doc) -> DocOutcome: ...

    def close(self) -> None: ...


def chunked(doc: Doc) -> list[str]:
    """The document's text cut into its stream chunks (a remainder, if any, goes last)."""
    pieces: list[str] = []
    at = 0
    for length in doc.chunks:
        pieces.append(doc.text[at : at + length])
        at += length
    if at < len(doc.text):
        pieces.append(doc.text[at:])
    return pieces


def _failed(doc: Doc, system: str, err: Exception) -> DocOutcome:
    # The exception's message may quote the text; its type is enough to find the cause.
    _log.warning("%s failed on document %s: %s", system, doc.id, type(err).__name__)
    return DocOutcome(doc, None, None)


class _DiscardingSink:
    """Stands in for the journal: the evaluation keeps no records and no ledger."""

    def commit(self, units: list[Unit]) -> list[Committed]:
        return [Committed(uuid.uuid4().hex if unit.record else None, ()) for unit in units]


class _Aborted(Exception):
    """The servicer aborted the call (the status code only; its details may name limits)."""


class _LocalCall:
    """The part of grpc.aio.ServicerContext the servicer touches on its way out."""

    def __init__(self) -> None:
        self._code: grpc.StatusCode | None = None

    async def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn:
        self._code = code
        raise _Aborted(code.name)

    def code(self) -> grpc.StatusCode | None:
        return self._code


class _InProcessStreams:
    """The StreamOutput RPC as the server runs it, minus the network and the database.

    One inference per document: BeginInference with an empty input (so no placeholder of
    the caller's can be restored into the output), then the chunks through StreamOutput.
    The emitted text is what a user would see.
    """

    def __init__(self, policies: Policies, detector: Detector, policy: Policy) -> None:
        self._policy = policy
        self._runner = asyncio.Runner()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eval-detect")
        screening = Screening(detector, self._executor)
        telemetry = Telemetry()
        self._recorder = Recorder(_DiscardingSink())
        records = Records(
            policies,
            screening,
            self._recorder,
            telemetry,
            subject_key=HASH_KEY,
            hash_key=HASH_KEY,
            actor=_LABEL,
        )
        self._service = SidecarService(
            policies,
            screening,
            ContextStore(policies.limits),
            telemetry,
            records,
            hash_key=HASH_KEY,
        )
        self._started = False

    def stream(self, chunks: Sequence[str]) -> str:
        return self._runner.run(self._stream(chunks))

    async def _stream(self, chunks: Sequence[str]) -> str:
        if not self._started:
            self._recorder.start()  # needs the runner's loop, which lives until close()
            self._started = True
        # The servicer only calls abort() and code() on its context.
        call = cast(Any, _LocalCall())
        begun = await self._service.BeginInference(
            pb.BeginInferenceRequest(
                tenant=_LABEL, model=_LABEL, purpose=_LABEL, input="", policy=self._policy.name
            ),
            call,
        )

        async def requests() -> AsyncIterator[pb.OutputChunk]:
            for index, text in enumerate(chunks):
                yield pb.OutputChunk(
                    inference_id=begun.inference_id if index == 0 else "",
                    text=text,
                    last=index == len(chunks) - 1,
                )

        emitted = [reply.text async for reply in self._service.StreamOutput(requests(), call)]
        return "".join(emitted)

    def close(self) -> None:
        if self._started:
            self._runner.run(self._recorder.stop())
        self._runner.close()
        self._executor.shutdown(wait=True)


class SidecarSystem:
    """The sidecar's detection and redaction, as the Redact and StreamOutput RPCs do them."""

    name = "sidecar"

    def __init__(
        self,
        policies_path: Path,
        *,
        policy_name: str | None = None,
        detector: Detector | None = None,
    ) -> None:
        """Raises PolicyError (bad file, unknown policy name) and what loading spaCy does."""
        self._policies = load_policies_file(policies_path)
        if policy_name is not None and policy_name not in self._policies.policies:
            known = ", ".join(sorted(self._policies.policies))
            raise ValueError(f"unknown policy {policy_name!r} (known: {known})")
        self._policy = self._policies.get(policy_name)
        self._detector: Detector = detector or PresidioDetector(self._policies)
        self._streams: _InProcessStreams | None = None

    @property
    def policy(self) -> Policy:
        return self._policy

    def screen(self, doc: Doc) -> DocOutcome:
        try:
            if doc.chunks:
                return DocOutcome(doc, self._stream(chunked(doc)), None)
            findings = self._detector.detect(doc.text, self._policy)
            redacted = apply(
                doc.text, findings, self._policy, placeholders=Placeholders(), hash_key=HASH_KEY
            )
        except Exception as err:  # noqa: BLE001 - a failure is a result; the run goes on
            return _failed(doc, self.name, err)
        spans = tuple(Predicted(f.entity, f.start, f.end) for f in findings)
        return DocOutcome(doc, redacted.text, spans)

    def _stream(self, chunks: Sequence[str]) -> str:
        if self._streams is None:
            self._streams = _InProcessStreams(self._policies, self._detector, self._policy)
        return self._streams.stream(chunks)

    def close(self) -> None:
        if self._streams is not None:
            self._streams.close()
            self._streams = None


class StockPresidio:
    """Presidio with its defaults (bench.inprocess.StockPresidio); streams chunk by chunk."""

    name = "presidio"

    def __init__(self) -> None:
        self._presidio = _BenchPresidio()

    def screen(self, doc: Doc) -> DocOutcome:
        try:
            if doc.chunks:
                # A naive integration screens each chunk as it arrives, on its own.
                output = "".join(self._presidio.redact(chunk) for chunk in chunked(doc))
                return DocOutcome(doc, output, None)
            output, found = self._presidio.redact_with_spans(doc.text)
        except Exception as err:  # noqa: BLE001 - a failure is a result; the run goes on
            return _failed(doc, self.name, err)
        return DocOutcome(doc, output, tuple(Predicted(*span) for span in found))

    def close(self) -> None:
        pass
