"""A call's spans: every hop that works on a call starts from the traceparent stored on it.

With tracing off (config/tracing/setup.py) the stored value is not even read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Span

from calls.models import Call
from config.tracing.context import span_from, span_start
from config.tracing.setup import tracing_enabled

if TYPE_CHECKING:
    from calls.voice.recorder import TurnRecord


def call_traceparent(*, call_id: int) -> str:
    """The call's stored trace context; "" when tracing is off (no query then)."""
    if not tracing_enabled():
        return ""
    value = Call.objects.filter(pk=call_id).values_list("traceparent", flat=True).first()
    return value or ""


@contextmanager
def call_span(
    name: str, *, call_id: int, kind: trace.SpanKind = trace.SpanKind.INTERNAL
) -> Iterator[Span]:
    """A current span in the call's trace."""
    with span_from(
        call_traceparent(call_id=call_id), name, attributes={"breeze.call_id": call_id}, kind=kind
    ) as span:
        yield span


def call_span_start(name: str, *, call_id: int, traceparent: str) -> Span:
    """A span in the call's trace that the caller ends (it outlives one handler)."""
    return span_start(traceparent, name, attributes={"breeze.call_id": call_id})


def turn_span_record(record: TurnRecord, *, index: int) -> None:
    """One span per turn, a child of the current (conversation) span, timed after the fact.

    A bot turn is recorded when the bot stops speaking; its span runs from the end of the
    customer's speech (its latency before the first audio) to then.
    """
    if not trace.get_current_span().is_recording():
        return
    end = time.time_ns()
    spoken_ms = 0
    if record.started_offset_ms is not None and record.ended_offset_ms is not None:
        spoken_ms = record.ended_offset_ms - record.started_offset_ms
    waited_ms = record.latency.get("total_ms") or 0
    attributes: dict[str, str | int] = {
        "breeze.turn.index": index,
        "breeze.turn.speaker": record.speaker,
        "breeze.turn.node": record.node,
    }
    if record.function_called:
        attributes["breeze.turn.function"] = record.function_called
    for stage, value in record.latency.items():
        if value is not None:
            attributes[f"breeze.turn.{stage}"] = value
    span = trace.get_tracer("breeze").start_span(
        f"call.turn.{record.speaker}",
        attributes=attributes,
        start_time=end - (spoken_ms + waited_ms) * 1_000_000,
    )
    span.end(end_time=end)
