"""Errors that may reach a caller; str(err) is safe to send and to log.

SidecarError
├── RequestError         INVALID_ARGUMENT    a field broke a documented limit
├── ContextNotFound      NOT_FOUND           unknown, ended, aborted or expired inference
├── ContextBusy          FAILED_PRECONDITION another call is ending or streaming it
├── EntryNotFound        NOT_FOUND           no ledger entry with the leaf hash asked for
├── CapacityExceeded     RESOURCE_EXHAUSTED  live contexts or bytes over the limit
└── DetectorUnavailable  UNAVAILABLE         detection failed and the policy says reject
governance: StoreUnavailable UNAVAILABLE (database down; nothing written), PolicyError
and ExportRequestError INVALID_ARGUMENT, ProofError OUT_OF_RANGE (a size or seq beyond
the ledger), EntriesPruned NOT_FOUND (text pruned under retention.ledger_keep),
LedgerBroken DATA_LOSS (the stored ledger contradicts a signed checkpoint),
SealError / DataKeyExhausted / KeyFileError / NoteError INTERNAL

Messages name a field, limit or id; never request text, a matched value or a placeholder.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import ClassVar

import grpc

from governance.errors import GovernanceError, PolicyError
from governance.export import ExportRequestError
from governance.ledger import EntriesPruned, LedgerBroken
from governance.merkle import ProofError
from governance.store import StoreUnavailable

__all__ = [
    "CapacityExceeded",
    "ContextBusy",
    "ContextNotFound",
    "DetectionFailed",
    "DetectorUnavailable",
    "EntryNotFound",
    "RequestError",
    "SidecarError",
    "status_boundary",
    "status_of",
]

_log = logging.getLogger(__name__)


class SidecarError(Exception):
    status: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL


class RequestError(SidecarError):
    status = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, *, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")  # our field name and phrase; never content
        self.field = field


class ContextNotFound(SidecarError):
    status = grpc.StatusCode.NOT_FOUND

    def __init__(self, reason: str = "unknown, ended, aborted or expired inference") -> None:
        super().__init__(f"inference_id: {reason}")


class EntryNotFound(SidecarError):
    status = grpc.StatusCode.NOT_FOUND

    def __init__(self) -> None:
        super().__init__("leaf_hash: no ledger entry has this leaf hash")


class ContextBusy(SidecarError):
    status = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self) -> None:
        super().__init__("inference_id: another call is ending or streaming this inference")


class CapacityExceeded(SidecarError):
    status = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, *, limit: str, value: int) -> None:
        super().__init__(f"context store full: limits.{limit} = {value} reached")
        self.limit = limit


class DetectorUnavailable(SidecarError):
    status = grpc.StatusCode.UNAVAILABLE

    def __init__(self, reason: str) -> None:
        super().__init__(f"screening unavailable ({reason}); policy on_detector_failure=reject")


class DetectionFailed(Exception):
    """Detection raised or ran out of time. Internal: the service applies the policy."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def status_of(err: Exception) -> grpc.StatusCode:
    if isinstance(err, SidecarError):
        return err.status
    if isinstance(err, StoreUnavailable):
        return grpc.StatusCode.UNAVAILABLE
    if isinstance(err, PolicyError | ExportRequestError):
        return grpc.StatusCode.INVALID_ARGUMENT
    if isinstance(err, ProofError):
        return grpc.StatusCode.OUT_OF_RANGE
    if isinstance(err, LedgerBroken):
        return grpc.StatusCode.DATA_LOSS
    if isinstance(err, EntriesPruned):
        return grpc.StatusCode.NOT_FOUND
    return grpc.StatusCode.INTERNAL  # SealError, DataKeyExhausted, KeyFileError, NoteError


@contextlib.asynccontextmanager
async def status_boundary(
    context: grpc.aio.ServicerContext[object, object], request_id: str
) -> AsyncIterator[None]:
    """Map our typed errors to status codes; anything else becomes INTERNAL, unquoted."""
    try:
        yield
    except grpc.aio.AbortError:
        raise
    except (SidecarError, GovernanceError) as err:
        await context.abort(status_of(err), f"{err} [request {request_id}]")
    except Exception as err:  # noqa: BLE001 - foreign messages may quote input; keep the type
        _log.error("unexpected %s in request %s", type(err).__name__, request_id)
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error [request {request_id}]")
