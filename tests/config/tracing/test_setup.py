"""Tracing is installed only when the standard OTEL environment asks for it."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.django import DjangoInstrumentor

from config.tracing import setup
from config.tracing.context import span_from, traceparent_current


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "breeze"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, True),
    ],
)
def test_wanted_only_with_an_exporter_and_not_disabled(
    environ: dict[str, str], wanted: bool
) -> None:
    assert setup.tracing_wanted(environ) is wanted


def test_unset_installs_nothing_and_spans_cost_no_recording(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)

    assert setup.tracing_configure(service_name="breeze-test") is False

    assert setup.tracing_enabled() is False
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert DjangoInstrumentor().is_instrumented_by_opentelemetry is False
    with span_from("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "x") as span:
        assert span.is_recording() is False
        # The stored parent passes through as the (non-recording) current context.
        assert traceparent_current() == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert traceparent_current() == ""


def test_an_unknown_exporter_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jaeger")

    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER='jaeger'"):
        setup.tracer_provider_build(service_name="breeze-test")
