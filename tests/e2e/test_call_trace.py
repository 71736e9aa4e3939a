"""One simulated call, traced by every process and sent to Langfuse.

Daphne's media relay span and the call worker's conversation and turn spans join the trace
stored on the call (OTLP to a local receiver); the worker sends the call's Langfuse trace,
one generation per LLM turn, to a local server that takes Langfuse's OTLP requests.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from pytest_httpserver import HTTPServer

from calls.models import Call
from config.tracing.context import span_from, trace_id_hex
from telephony.providers.simulator.persona import PERSONAS
from templates_app.models import TemplateVersion
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import Stack, new_call, place
from tests.otlp import OtlpReceiver, ReceivedSpan, Tracing, tracing  # noqa: F401  (fixture)
from tests.processes import wait_for

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


@pytest.fixture
def quick_export(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inherited by the stack's processes: Daphne exports within 0.1 s, not the default 5 s.
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")


@pytest.fixture
def langfuse(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> OtlpReceiver:
    """The platform's Langfuse keys, for the stack's processes, pointed at a local receiver."""
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-e2e")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-e2e")
    monkeypatch.setenv("LANGFUSE_HOST", httpserver.url_for("").rstrip("/"))
    return OtlpReceiver(httpserver, path="/api/public/otel/v1/traces")


def _spans(traced: Tracing, trace_id: str) -> dict[str, list[ReceivedSpan]] | None:
    spans: dict[str, list[ReceivedSpan]] = {}
    for span in list(traced.receiver.spans):
        if span.trace_id == trace_id:
            spans.setdefault(span.name, []).append(span)
    return spans if {"call.media", "call.conversation"} <= set(spans) else None


def test_a_simulated_calls_spans_join_its_trace_and_its_llm_turns_reach_langfuse(
    quick_export: None,
    langfuse: OtlpReceiver,
    tracing: Tracing,  # noqa: F811
    stack: Stack,
    published: TemplateVersion,
) -> None:
    # Created under a span, as the dispatcher creates calls: the call keeps its trace context.
    with span_from("", "lead.dispatch") as dispatch:
        row = new_call(published, payload=DEMO_PAYLOADS["order-confirmation"])
    ended, _ = asyncio.run(place(stack, row, PERSONAS["cod-confirm"]))
    assert ended.disposition == Call.Disposition.ANSWERED
    trace_id = trace_id_hex(row.traceparent)
    assert trace_id == format(dispatch.get_span_context().trace_id, "032x")

    spans = wait_for(lambda: _spans(tracing, trace_id), timeout=20, what="the call's spans")
    (media,) = spans["call.media"]
    (conversation,) = spans["call.conversation"]
    dispatch_id = format(dispatch.get_span_context().span_id, "016x")
    assert (media.service, media.parent_span_id) == ("breeze-web", dispatch_id)
    assert media.attributes["breeze.call_id"] == row.pk
    assert media.attributes["breeze.provider"] == "simulator"
    assert (conversation.service, conversation.parent_span_id) == ("breeze-voice", dispatch_id)
    assert conversation.attributes["breeze.disposition"] == "answered"
    turns = spans["call.turn.bot"] + spans["call.turn.customer"]
    stored = ended.turns.count()
    assert len(turns) == stored
    assert {turn.parent_span_id for turn in turns} == {conversation.span_id}
    assert sorted(int(str(turn.attributes["breeze.turn.index"])) for turn in turns) == list(
        range(stored)
    )
    answers = [turn for turn in spans["call.turn.bot"] if "breeze.turn.total_ms" in turn.attributes]
    assert answers
    for answer in answers:
        assert {"breeze.turn.stt_ms", "breeze.turn.llm_ms", "breeze.turn.tts_ms"} <= set(
            answer.attributes
        )

    # Langfuse: the same trace id, the call's root, and a generation per LLM turn under it.
    sent = {span.name: span for span in langfuse.spans}
    assert sorted(sent) == ["call", "llm turn 1", "llm turn 2", "llm turn 3"]
    assert {span.trace_id for span in sent.values()} == {trace_id}
    root = sent.pop("call")
    assert json.loads(str(root.attributes["langfuse.observation.output"])) == {
        "disposition": "answered",
        "end_reason": "bot_ended",
        "outcome": "confirmed",
    }
    assert root.attributes["langfuse.trace.name"] == "call order-confirmation"
    generations = [sent[f"llm turn {n}"] for n in (1, 2, 3)]
    assert {g.parent_span_id for g in generations} == {root.span_id}
    assert [g.attributes["langfuse.observation.model.name"] for g in generations] == ["rules"] * 3
    # The greeting, the customer's "yes" answered by a tool call, and the next node's goodbye.
    assert [g.attributes["langfuse.observation.metadata.node"] for g in generations] == [
        '"confirm_order"',
        '"confirm_order"',
        '"order_confirmed"',
    ]
    reply = generations[1].attributes
    assert json.loads(str(reply["langfuse.observation.input"]))[-1] == {
        "role": "user",
        "content": "yes please",
    }
    assert json.loads(str(reply["langfuse.observation.output"])) == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "rules-1",
                "type": "function",
                "function": {"name": "confirm_order", "arguments": "{}"},
            }
        ],
    }
