"""A local OTLP/HTTP trace receiver (pytest-httpserver) and the provider that exports to it."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.trace import TracerProvider
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from config.tracing import setup


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    service: str
    attributes: dict[str, object]


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind is not None else None


class OtlpReceiver:
    """Accepts `POST <path>` as an OTLP collector does and keeps the decoded spans."""

    def __init__(self, httpserver: HTTPServer, *, path: str = "/v1/traces") -> None:
        self.lock = threading.Lock()
        self.spans: list[ReceivedSpan] = []
        self.headers: list[dict[str, str]] = []
        httpserver.expect_request(path, method="POST").respond_with_handler(self._handle)

    def _handle(self, request: Request) -> Response:
        body = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        with self.lock:
            self.headers.append(dict(request.headers))
            for resource_spans in export.resource_spans:
                resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            ReceivedSpan(
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_span_id=span.parent_span_id.hex(),
                                service=str(resource.get("service.name", "")),
                                attributes={a.key: _value(a.value) for a in span.attributes},
                            )
                        )
        return Response(
            ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )

    def named(self, name: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.name == name]


@dataclass
class Tracing:
    receiver: OtlpReceiver
    provider: TracerProvider

    def flush(self) -> list[ReceivedSpan]:
        self.provider.force_flush()
        return self.receiver.spans


@pytest.fixture
def tracing(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> Iterator[Tracing]:
    """Tracing installed as an entry point would, exporting to a local receiver.

    The OpenTelemetry API lets a process set its provider once; the test swaps the global
    for its own and restores it, so tests after it run untraced.
    """
    receiver = OtlpReceiver(httpserver)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", httpserver.url_for("").rstrip("/"))
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    provider = setup.tracer_provider_build(service_name="breeze-test")
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    monkeypatch.setitem(setup._state, "configured", True)
    setup.instrument_libraries()
    try:
        yield Tracing(receiver=receiver, provider=provider)
    finally:
        for instrumentor in setup.instrumentors():
            instrumentor.uninstrument()
        provider.shutdown()
