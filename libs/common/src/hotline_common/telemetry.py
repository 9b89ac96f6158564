"""OpenTelemetry set-up: one tracer provider per process, exporting by settings (OTLP, a file, or nowhere), and the
W3C trace context carried through what is not a live call (outbox rows, alerts and timers in tables)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hotline_common.settings import ServiceSettings

_propagator = TraceContextTextMapPropagator()
# Whether this process's spans go anywhere (OTLP or a file). Spans made only for export (the outbox's span per row,
# which halves the relay's throughput: bench/outbox_relay.py) are skipped when they would go nowhere.
EXPORT = {"spans": False}


def exporting() -> bool:
    return EXPORT["spans"]


def current_traceparent() -> str | None:
    """The active span's W3C `traceparent`, to store beside work that continues later (an outbox row, an alert)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def traceparent_of(span: trace.Span) -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent")


def context_of(traceparent: str | None) -> Context | None:
    """The trace context a stored `traceparent` names (None: start a new trace)."""
    return _propagator.extract({"traceparent": traceparent}) if traceparent else None


def link_to(traceparent: str | None) -> list[trace.Link]:
    span = trace.get_current_span(context_of(traceparent)) if traceparent else None
    return [trace.Link(span.get_span_context())] if span is not None and span.get_span_context().is_valid else []


def _plain(value: Any) -> Any:
    # Attribute values are str/bool/int/float or sequences of them, except that FastStream records Kafka keys as
    # bytes: one such span made json.dumps drop the whole batch it was in.
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """One finished span as a JSON-able dict; ids as W3C hex, as in `traceparent` headers and Jaeger."""
    ctx = span.get_span_context()
    assert ctx is not None
    return {
        "name": span.name,
        "service": span.resource.attributes.get("service.name"),
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "kind": span.kind.name,
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name,
        "attributes": {k: _plain(v) for k, v in (span.attributes or {}).items()},
        "links": [{"trace_id": f"{link.context.trace_id:032x}", "span_id": f"{link.context.span_id:016x}"}
                  for link in span.links],
    }


class JsonLinesFileExporter(SpanExporter):
    """Appends finished spans as JSON lines: traces on a laptop without a collector."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_record(span), ensure_ascii=False) + "\n" for span in spans)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(lines)
        return SpanExportResult.SUCCESS


def setup_telemetry(settings: ServiceSettings, *, service: str) -> TracerProvider:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    provider = TracerProvider(resource=Resource.create({"service.name": f"hotline-{service}"}))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if settings.otel_traces_file:
        provider.add_span_processor(BatchSpanProcessor(JsonLinesFileExporter(settings.otel_traces_file)))
    EXPORT["spans"] = bool(settings.otel_exporter_otlp_endpoint or settings.otel_traces_file)
    trace.set_tracer_provider(provider)
    # Every outgoing HTTP call (LINE's API, the SMS gateway, a responders' webhook, another service) is a client
    # span and carries `traceparent`, so the trace reaches the receiving system too.
    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)
    return provider
