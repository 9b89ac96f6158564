"""OpenTelemetry set-up: one tracer provider per process, exporting by settings (OTLP, a file, or nowhere)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from hotline_common.settings import ServiceSettings


class JsonLinesFileExporter(SpanExporter):
    """Appends finished spans as JSON lines: traces on a laptop without a collector."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self.path.open("a", encoding="utf-8") as fh:
            for span in spans:
                fh.write(json.dumps(json.loads(span.to_json()), ensure_ascii=False) + "\n")
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
    trace.set_tracer_provider(provider)
    return provider
