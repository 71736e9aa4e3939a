"""Installs tracing in one process, from the standard OpenTelemetry environment variables.

Called from each entry point (ASGI/WSGI, Celery worker and beat, the call worker) before it
serves anything. With no exporter configured nothing is installed: the OpenTelemetry API
then hands out non-recording spans, so the spans Breeze starts itself cost almost nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

logger = logging.getLogger(__name__)

_OTLP_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_state: dict[str, bool] = {"configured": False}


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    """On when an exporter is named or an OTLP endpoint is set, unless the SDK is disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(environ.get(name, "").strip() for name in _OTLP_ENDPOINTS)


def _exporter() -> SpanExporter:
    environ = os.environ
    name = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER={name!r}: Breeze ships 'otlp', 'console', 'none'")
    protocol = environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    if protocol != "http/protobuf":
        raise ValueError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: only http/protobuf is installed"
        )
    # Reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT, _COMPRESSION itself.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def tracer_provider_build(*, service_name: str) -> TracerProvider:
    """A provider exporting in batches (OTEL_BSP_*); OTEL_SERVICE_NAME overrides the name."""
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    # Resource.create also reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(_exporter()))
    return provider


def instrumentors() -> list[BaseInstrumentor]:
    """Django requests, Celery tasks (context in the task headers), psycopg, Redis, HTTP clients.

    Websockets are traced by hand (telephony.consumers, calls.voice.worker): the ASGI
    middleware would make a span of every audio message.
    """
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

    return [
        DjangoInstrumentor(),
        CeleryInstrumentor(),  # type: ignore[no-untyped-call]
        PsycopgInstrumentor(),
        RedisInstrumentor(),
        RequestsInstrumentor(),
        URLLib3Instrumentor(),
    ]


def instrument_libraries() -> None:
    for instrumentor in instrumentors():
        # No SQL commenter: statements stay as written (pg_stat_statements groups them).
        instrumentor.instrument(enable_commenter=False)


def tracing_configure(*, service_name: str) -> bool:
    """Install tracing in this process if the environment asks for it; True when installed.

    Idempotent: a second call (ASGI then Celery signals in one process) changes nothing.
    Must run before Django builds its request handler (the middleware is inserted then).
    """
    if _state["configured"] or not tracing_wanted(os.environ):
        return _state["configured"]
    trace.set_tracer_provider(tracer_provider_build(service_name=service_name))
    instrument_libraries()
    _state["configured"] = True
    logger.info("tracing: exporting spans as %s", service_name)
    return True


def tracing_enabled() -> bool:
    return _state["configured"]


def tracing_flush() -> None:
    """Export what is buffered (a call worker exits right after its call)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()
