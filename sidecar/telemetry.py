"""OpenTelemetry spans and metrics, restricted to an allow-list of attribute keys.

Only ids, tenant/model/purpose labels, RPC names, status codes, counts, sizes and
durations may be attached; anything else is dropped here, so a careless caller cannot
put request text into a span or a metric label.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import Status, StatusCode

__all__ = ["ALLOWED_ATTRIBUTES", "RpcSpan", "Telemetry"]

ALLOWED_ATTRIBUTES = frozenset(
    {
        "rpc.method",
        "rpc.grpc.status_code",
        "sidecar.request_id",
        "sidecar.inference_id",
        "sidecar.decision_id",
        "sidecar.tenant",
        "sidecar.model",
        "sidecar.purpose",
        "sidecar.policy",
        "sidecar.policy_version",
        "sidecar.outcome",
        "sidecar.input_chars",
        "sidecar.output_chars",
        "sidecar.entity_count",
        "sidecar.chunks",
        "sidecar.entity",
        "sidecar.action",
    }
)


def _allowed(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k in ALLOWED_ATTRIBUTES}


class RpcSpan:
    """The span of one RPC call; attributes pass through the allow-list."""

    __slots__ = ("_span", "status")

    def __init__(self, span: trace.Span) -> None:
        self._span = span
        self.status = "OK"

    def set(self, **attributes: Any) -> None:
        renamed = {f"sidecar.{k}": v for k, v in attributes.items()}
        self._span.set_attributes(_allowed(renamed))


class Telemetry:
    """Tracer and instruments of the sidecar; providers default to the global ones."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer("privacy_sidecar", tracer_provider=tracer_provider)
        meter = metrics.get_meter("privacy_sidecar", meter_provider=meter_provider)
        self._calls = meter.create_counter("sidecar.rpc.calls", description="RPC calls by status")
        self._duration = meter.create_histogram(
            "sidecar.rpc.duration", unit="ms", description="RPC duration"
        )
        self._entities = meter.create_counter(
            "sidecar.entities", description="Detected entities by type and action"
        )
        self._rescan = meter.create_counter(
            "sidecar.records.final_scan_redactions",
            description="Values the final scan before sealing still found and redacted",
        )
        self._partial = meter.create_counter(
            "sidecar.stream.partial_release",
            description="Stream values whose beginning was released before detection",
        )
        self._fail_closed = meter.create_counter(
            "sidecar.fail_closed", description="Texts replaced whole because detection failed"
        )

    @contextlib.contextmanager
    def rpc(self, method: str, request_id: str) -> Iterator[RpcSpan]:
        started = time.perf_counter()
        # Exception events would carry messages; we record the type in the status only.
        with self._tracer.start_as_current_span(
            f"privacy_sidecar.v1.PrivacySidecar/{method}",
            kind=trace.SpanKind.SERVER,
            record_exception=False,
            set_status_on_exception=False,
            attributes=_allowed({"rpc.method": method, "sidecar.request_id": request_id}),
        ) as span:
            handle = RpcSpan(span)
            try:
                yield handle
            except BaseException as err:
                if handle.status == "OK":  # the caller may have named the status code
                    handle.status = type(err).__name__
                span.set_status(Status(StatusCode.ERROR, handle.status))
                raise
            finally:
                span.set_attribute("rpc.grpc.status_code", handle.status)
                labels = {"rpc.method": method, "rpc.grpc.status_code": handle.status}
                self._calls.add(1, labels)
                self._duration.record(
                    (time.perf_counter() - started) * 1000, {"rpc.method": method}
                )

    def entities(self, method: str, counts: Mapping[tuple[str, str], int]) -> None:
        for (entity, action), count in counts.items():
            self._entities.add(
                count, {"rpc.method": method, "sidecar.entity": entity, "sidecar.action": action}
            )

    def rescan_redactions(self, count: int) -> None:
        self._rescan.add(count)

    def partial_release(self) -> None:
        self._partial.add(1, {"rpc.method": "StreamOutput"})

    def fail_closed(self, method: str) -> None:
        self._fail_closed.add(1, {"rpc.method": method})
