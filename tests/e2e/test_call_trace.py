"""One call's spans from Daphne (media relay) and the call worker (conversation, turns) join the
trace stored on the call, exported by each process over OTLP to one local receiver."""

from __future__ import annotations

import asyncio

import pytest

from calls.models import Call
from config.tracing.context import span_from, trace_id_hex
from telephony.providers.simulator.persona import PERSONAS
from templates_app.models import TemplateVersion
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import Stack, new_call, place
from tests.otlp import ReceivedSpan, Tracing, tracing  # noqa: F401  (fixture)
from tests.processes import wait_for

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


@pytest.fixture
def quick_export(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inherited by the stack's processes: Daphne exports within 0.1 s, not the default 5 s.
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")


def _spans(traced: Tracing, trace_id: str) -> dict[str, list[ReceivedSpan]] | None:
    spans: dict[str, list[ReceivedSpan]] = {}
    for span in list(traced.receiver.spans):
        if span.trace_id == trace_id:
            spans.setdefault(span.name, []).append(span)
    return spans if {"call.media", "call.conversation"} <= set(spans) else None


def test_the_media_relay_conversation_and_turns_join_the_calls_trace(
    quick_export: None,
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
