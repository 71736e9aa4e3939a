"""A call's Langfuse trace: its metadata, and each LLM turn as a generation.

The LLM is Pipecat's OpenAI service talking to a local server that streams like OpenAI
(text, a tool call, then the usage chunk); Langfuse is a local server taking its OTLP spans.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pipecat.services.openai.llm import OpenAILLMService
from pytest_httpserver import HTTPServer

from calls.langfuse.call_trace import call_langfuse_open
from calls.langfuse.client import call_langfuse_trace_id
from calls.models import Call
from calls.services import call_create
from templates_app.models import Template
from templates_app.pipecat_compat import (
    FunctionCallParams,
    FunctionSchema,
    LLMContext,
    LLMContextFrame,
    PipelineParams,
    ToolsSchema,
    run_test,
)
from templates_app.services import template_load_demos
from tests.calls.langfuse.conftest import LangfuseServer
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

pytestmark = pytest.mark.django_db

MESSAGES = [
    {"role": "system", "content": "You confirm orders."},
    {"role": "user", "content": "yes please"},
]


def _chunk(delta: dict[str, Any] | None, **extra: Any) -> str:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [] if delta is None else [{"index": 0, "delta": delta, **extra}],
    }
    return f"data: {json.dumps(body)}\n\n"


def _openai_stream() -> str:
    tool_call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "confirm_order", "arguments": '{"confirmed": true}'},
    }
    usage = {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
    return (
        _chunk({"role": "assistant", "content": "Your order "}, finish_reason=None)
        + _chunk({"content": "is confirmed."}, finish_reason=None)
        + _chunk({"tool_calls": [tool_call]}, finish_reason=None)
        + _chunk({}, finish_reason="tool_calls")
        + _chunk(None)[: -len("\n\n")].replace(
            '"choices": []', f'"choices": [], "usage": {json.dumps(usage)}'
        )
        + "\n\ndata: [DONE]\n\n"
    )


def _call(tenants: Tenants) -> Call:
    template_load_demos(merchant=tenants.acme)
    template = Template.objects.get(merchant=tenants.acme, slug="order-confirmation")
    return call_create(
        version=template.versions.get(status="published"),
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="twilio",
        customer_phone="+15555550123",
        payload=DEMO_PAYLOADS["order-confirmation"],
    )


async def _converse(llm: OpenAILLMService, observer: Any) -> None:
    async def confirm_order(params: FunctionCallParams) -> None:
        await params.result_callback({"confirmed": True})

    llm.register_function("confirm_order", confirm_order)
    tools = ToolsSchema(
        standard_tools=[
            FunctionSchema(
                name="confirm_order",
                description="The customer confirmed the order.",
                properties={"confirmed": {"type": "boolean"}},
                required=["confirmed"],
            )
        ]
    )
    context = LLMContext(messages=list(MESSAGES), tools=tools)  # type: ignore[arg-type]
    await run_test(
        llm,
        frames_to_send=[LLMContextFrame(context=context)],
        observers=[observer],
        pipeline_params=PipelineParams(enable_usage_metrics=True),
    )


def test_a_calls_llm_turn_arrives_as_a_generation_of_the_calls_trace(
    langfuse_server: LangfuseServer, httpserver: HTTPServer, tenants: Tenants
) -> None:
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_data(
        _openai_stream(), content_type="text/event-stream"
    )
    call = _call(tenants)
    opened = call_langfuse_open(call_id=call.pk, current_node=lambda: "confirm")
    assert opened is not None
    llm = OpenAILLMService(
        api_key="sk-test",
        base_url=httpserver.url_for("/v1"),
        settings=OpenAILLMService.Settings(model="gpt-4o-mini"),
    )

    asyncio.run(_converse(llm, opened.observer))
    opened.close(disposition="answered", end_reason="bot_ended")

    spans = {span.name: span for span in langfuse_server.spans.spans}
    assert sorted(spans) == ["call", "llm turn 1"]
    root, generation = spans["call"], spans["llm turn 1"]
    trace_id = call_langfuse_trace_id(call_id=call.pk, traceparent="")
    assert (root.trace_id, generation.trace_id) == (trace_id, trace_id)
    assert generation.parent_span_id == root.span_id
    assert {h["Authorization"] for h in langfuse_server.spans.headers} == {
        langfuse_server.basic_auth
    }

    attributes = root.attributes
    assert attributes["langfuse.trace.name"] == "call order-confirmation"
    assert attributes["session.id"] == f"call-{call.pk}"
    assert attributes["langfuse.trace.tags"] == [
        "order-confirmation",
        "twilio",
        "TELEPHONY_TEST",
    ]
    trace_metadata = {
        key.removeprefix("langfuse.trace.metadata."): json.loads(str(value))
        for key, value in attributes.items()
        if key.startswith("langfuse.trace.metadata.")
    }
    assert trace_metadata == {
        "call_id": str(call.pk),
        "merchant": "acme",
        "template": "order-confirmation",
        "template_version": "1",
        "provider": "twilio",
        "execution_mode": "TELEPHONY_TEST",
    }
    assert json.loads(str(attributes["langfuse.observation.input"])) == {
        "payload_keys": ["customer_name", "order_id", "order_total"]
    }
    assert attributes["langfuse.observation.metadata.llm_turns"] == "1"
    assert json.loads(str(attributes["langfuse.observation.output"])) == {
        "disposition": "answered",
        "end_reason": "bot_ended",
        "outcome": "",
    }

    attributes = generation.attributes
    assert attributes["langfuse.observation.type"] == "generation"
    assert attributes["langfuse.observation.model.name"] == "gpt-4o-mini"
    assert json.loads(str(attributes["langfuse.observation.input"])) == MESSAGES
    assert json.loads(str(attributes["langfuse.observation.output"])) == {
        "role": "assistant",
        "content": "Your order is confirmed.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "confirm_order", "arguments": '{"confirmed": true}'},
            }
        ],
    }
    assert json.loads(str(attributes["langfuse.observation.usage_details"])) == {
        "input": 42,
        "output": 9,
        "total": 51,
    }
    assert "langfuse.observation.completion_start_time" in attributes
    assert attributes["langfuse.observation.metadata.node"] == '"confirm"'
    assert attributes["langfuse.observation.metadata.turn"] == "1"
    assert attributes["langfuse.observation.metadata.tools"] == '["confirm_order"]'
    assert attributes["langfuse.observation.metadata.function_calls"] == '["confirm_order"]'
    latency = int(str(attributes["langfuse.observation.metadata.latency_ms"]))
    assert 0 <= latency < 5000


def test_without_keys_no_trace_is_opened(tenants: Tenants) -> None:
    call = _call(tenants)

    assert call_langfuse_open(call_id=call.pk, current_node=lambda: "") is None
