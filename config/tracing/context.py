"""One trace per call across hops that no instrumentation links.

A lead's push request, the dispatcher's batch task, the media websocket, the call worker and
a webhook delivery re-enqueued by the sweeper each start from a different context. The W3C
`traceparent` of the moment a lead was pushed (and a call created, and an event written) is
stored on that row, and whoever later works on it starts its span from the stored value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

_propagator = TraceContextTextMapPropagator()
# 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>
TRACEPARENT_LENGTH = 55


def traceparent_current() -> str:
    """The current span as a `traceparent` value; "" when nothing is being traced."""
    if not trace.get_current_span().get_span_context().is_valid:
        return ""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent", "")


def traceparent_relayed(traceparent: str) -> str:
    """What `traceparent_current()` gives inside `span_from(traceparent, …)` with tracing off.

    The API's no-op span carries its parent's context on, so the stored value passes through
    (normalized); "" when it is missing or malformed. For loops that skip the no-op span.
    """
    parent = _parent(traceparent)
    if parent is None:
        return ""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=parent)
    return carrier.get("traceparent", "")


def _parent(traceparent: str) -> otel_context.Context | None:
    if not traceparent:
        return None
    extracted = _propagator.extract({"traceparent": traceparent})
    # A malformed stored value extracts to nothing: start from the current context instead.
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


@contextmanager
def span_from(
    traceparent: str,
    name: str,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
) -> Iterator[Span]:
    """A current span whose parent is `traceparent` (else whatever is current).

    With tracing off the tracer is the API's no-op: no span is recorded or exported.
    """
    # Looked up per span, not at import: the process installs its provider after imports.
    with trace.get_tracer("breeze").start_as_current_span(
        name, context=_parent(traceparent), kind=kind, attributes=attributes
    ) as span:
        yield span


def trace_id_hex(traceparent: str) -> str:
    """The trace id of a stored `traceparent` ("" when there is none)."""
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else ""


def span_start(
    traceparent: str, name: str, *, attributes: Mapping[str, AttributeValue] | None = None
) -> Span:
    """Like `span_from`, for a span that spans several callbacks: the caller must end it."""
    return trace.get_tracer("breeze").start_span(
        name, context=_parent(traceparent), attributes=attributes
    )
