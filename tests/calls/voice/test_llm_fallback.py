"""A call's real LLM fails: the rules engine answers the failed turn and the rest of the call.

Pipecat's OpenAI service, built as a call builds it, talks to a local server that streams like
OpenAI's /v1/chat/completions until it fails (500, a hang past the timeout, a stream it cannot
read, nobody listening). The flow runs in a Pipecat pipeline: first the text pipeline the
playground uses, then a call's own session, whose row records the switch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_django import Settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.selectors import call_context_load
from calls.voice.pipeline import CallSession
from calls.voice.speech import registry
from config.call_config import EffectiveConfig
from config.services import provider_credential_create
from templates_app.demo import demo_definition
from templates_app.dialogue.fallback import LLMFailure, RulesFallbackLLM
from templates_app.dialogue.rules_llm import RulesLLMService
from templates_app.flows.conversation import converse
from templates_app.flows.factory import FlowInputs
from templates_app.pipecat_compat import (
    ErrorCategory,
    ErrorFrame,
    TranscriptionFrame,
    WorkerRunner,
)
from tests.calls.voice.sessions import relay_session
from tests.conftest import Tenants, free_port
from tests.demo_payloads import DEMO_PAYLOADS
from tests.e2e.conftest import new_call, published_template
from tests.fake_openai import COMPLETIONS, Handler, chunk, failing_after, server_error, stream

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
VARIABLES = {**DEMO_PAYLOADS["order-confirmation"], "merchant_name": "Acme Retail"}
OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
OPENING = "Shall we deliver order A1042 today?"  # the fake LLM's first line
RESCHEDULE = "Sure. Which day would suit you for delivery?"  # the rules engine's, in `reschedule`
GOODBYE = "Done, your delivery has been rescheduled. Goodbye."
PATH = ["confirm_order", "reschedule", "delivery_rescheduled"]


def _unauthorized(request: Request) -> Response:
    # A key revoked mid-call: Pipecat writes the service off as unusable.
    return Response(
        '{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}',
        status=401,
        content_type="application/json",
    )


def _unreadable(request: Request) -> Response:
    return Response("data: {not json\n\n", content_type="text/event-stream")


def _broken_after_words(request: Request) -> Response:
    # Some words arrive, then the stream turns to garbage.
    words = stream(chunk({"role": "assistant", "content": "Sure, "}))
    return Response(
        words.get_data(as_text=True).replace("data: [DONE]", "data: {not json"),
        content_type="text/event-stream",
    )


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Frees a hanging handler at teardown, so the server can stop."""
    event = threading.Event()
    yield event
    event.set()


def _openai(base_url: str, settings: Settings) -> Any:
    settings.BREEZE_LLM_TIMEOUT_SECONDS = 1
    return registry.build_llm(
        {"llm": OPENAI},
        credentials={"openai": {"api_key": "sk-call", "base_url": base_url}},
        rules_factory=_no_rules,
    )


def _no_rules() -> RulesLLMService:
    raise AssertionError("an openai config never builds the rules engine here")


async def _talk(llm: Any, turns: list[str]) -> tuple[list[str], list[str], str]:
    """The demo order confirmation in the text pipeline; the bot's lines, nodes, LLM error."""
    inputs = FlowInputs(
        definition=demo_definition("order-confirmation"),
        variables=VARIABLES,
        config=EffectiveConfig(base={}, playground={}),
    )
    conversation = await converse(inputs, turns=turns, clock=NOW, llm=llm, timeout=15)
    return conversation.bot_lines, conversation.nodes, conversation.llm_failure


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (server_error, "Error during completion: Error code: 500 - "),
        (_unauthorized, "Error during completion: Error code: 401 - "),
        (_unreadable, "Error during completion: Expecting property name enclosed in double"),
    ],
    ids=["500", "401", "unreadable-stream"],
)
async def test_a_failed_turn_is_answered_by_the_rules_engine_and_so_is_the_rest(
    httpserver: HTTPServer, settings: Settings, failure: Handler, error: str
) -> None:
    handler, requests = failing_after(1, failure)
    httpserver.expect_request(COMPLETIONS, method="POST").respond_with_handler(handler)
    llm = _openai(httpserver.url_for("/v1"), settings)

    lines, nodes, llm_error = await _talk(llm, ["Can you bring it another day?", "Next Friday"])

    # The LLM opened; the customer's next turn failed and the rules engine matched it
    # ("another day" → reschedule_delivery), then answered the rest without asking the LLM.
    assert lines == [
        "Hi Asha, this is Breeze calling on behalf of Acme Retail.",
        OPENING,
        RESCHEDULE,
        GOODBYE,
    ]
    assert nodes == PATH
    assert requests == [2]
    assert llm_error.startswith(error)


async def test_a_stream_that_breaks_after_some_words_is_answered_again_by_rules(
    httpserver: HTTPServer, settings: Settings
) -> None:
    handler, _ = failing_after(1, _broken_after_words)
    httpserver.expect_request(COMPLETIONS, method="POST").respond_with_handler(handler)
    llm = _openai(httpserver.url_for("/v1"), settings)

    lines, nodes, llm_error = await _talk(llm, ["Can you bring it another day?", "Next Friday"])

    # The rules engine's answer closes the broken response and replaces its words; it
    # matched the customer's turn, not the LLM's half reply.
    assert lines[2:] == [RESCHEDULE, GOODBYE]
    assert nodes == PATH
    assert llm_error == (
        "Error during completion: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    )


async def test_an_llm_that_hangs_past_the_timeout_is_given_up_after_it(
    httpserver: HTTPServer, settings: Settings, release: threading.Event
) -> None:
    def hang(request: Request) -> Response:
        release.wait(5)
        return server_error(request)

    handler, requests = failing_after(1, hang)
    httpserver.expect_request(COMPLETIONS, method="POST").respond_with_handler(handler)
    llm = _openai(httpserver.url_for("/v1"), settings)

    started = asyncio.get_running_loop().time()
    lines, nodes, llm_error = await _talk(llm, ["Can you bring it another day?", "Next Friday"])

    assert lines[1:] == [OPENING, RESCHEDULE, GOODBYE]
    assert nodes == PATH
    assert llm_error == "Error during completion: Request timed out."
    # One timeout (1 s), no retry.
    assert requests == [2]
    assert asyncio.get_running_loop().time() - started < 4


async def test_an_llm_nobody_answers_at_is_replaced_from_the_first_line(
    settings: Settings,
) -> None:
    llm = _openai(f"http://127.0.0.1:{free_port()}/v1", settings)

    lines, nodes, llm_error = await _talk(llm, ["yes please"])

    # The opening itself failed: the rules engine speaks the node, then drives the flow.
    assert lines == [
        "Hi Asha, this is Breeze calling on behalf of Acme Retail.",
        "I'm calling about your cash on delivery order A1042 of 1,499 rupees. "
        "Shall we go ahead and deliver it?",
        "Thank you! Your order A1042 will be delivered as planned. Goodbye.",
    ]
    assert nodes == ["confirm_order", "order_confirmed"]
    assert llm_error == "Error during completion: Connection error."


# --- in a call's own pipeline ----------------------------------------------------------


async def _until(check: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _bot_lines(session: CallSession) -> list[str]:
    return [turn.text for turn in session.recorder.turns if turn.speaker == "bot"]


@pytest.mark.django_db(transaction=True)
def test_a_call_whose_llm_fails_goes_on_with_rules_and_records_why(
    tenants: Tenants, httpserver: HTTPServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.BREEZE_LLM_TIMEOUT_SECONDS = 1
    handler, requests = failing_after(1, server_error)
    httpserver.expect_request(COMPLETIONS, method="POST").respond_with_handler(handler)
    provider_credential_create(
        merchant=tenants.acme,
        provider="openai",
        secrets={"api_key": "sk-call", "base_url": httpserver.url_for("/v1")},
    )
    fast = {"provider": "fixed_delay", "options": {"delay_ms": 0, "audio_ms": 60}}
    definition = {**demo_definition("order-confirmation"), "llm": OPENAI, "tts": fast}
    call = new_call(
        published_template(tenants.acme, "cod-llm", definition),
        payload=DEMO_PAYLOADS["order-confirmation"],
    )
    context = call_context_load(call_id=call.pk)

    async def run() -> list[str]:
        session = relay_session(context).session
        session.writer.start()
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(session.worker)
        running = asyncio.create_task(runner.run())
        await _until(lambda: len(_bot_lines(session)) == 2, "the opening")
        await session.worker.queue_frame(
            TranscriptionFrame("can you bring it another day", "customer", "now")
        )
        await _until(lambda: session.runtime.current_node == "reschedule", "the reschedule")
        await _until(lambda: len(_bot_lines(session)) == 3, "the rules engine's answer")
        await session.worker.queue_frame(TranscriptionFrame("next friday", "customer", "now"))
        await asyncio.wait_for(running, 10)  # the flow ends the call
        await session.writer.flush()
        return _bot_lines(session)

    lines = asyncio.run(run())

    assert lines == [
        "Hi Asha, this is Breeze calling on behalf of Acme Retail.",
        OPENING,
        RESCHEDULE,
        GOODBYE,
    ]
    assert requests == [2]
    call.refresh_from_db()
    assert call.node_path == PATH
    assert call.outcome == "rescheduled"
    assert call.llm_fallback_at is not None
    assert call.llm_fallback_reason.startswith(
        "openai failed in node confirm_order: Error during completion: Error code: 500 - "
    )
    warnings = [r.getMessage() for r in caplog.records if r.name == "calls.voice.pipeline"]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"call {call.pk}: the openai LLM failed in node confirm_order (server: Error during "
        "completion: Error code: 500 - "
    )
    assert warnings[0].endswith("; the rules engine answers from now on")


async def test_a_failing_function_handler_is_not_the_llm_failing(settings: Settings) -> None:
    llm = _openai(f"http://127.0.0.1:{free_port()}/v1", settings)
    rules = RulesLLMService(functions={}, node_text=lambda: "")

    async def fell_back(failure: LLMFailure) -> None:
        raise AssertionError("no fallback expected")

    switcher = RulesFallbackLLM(llm=llm, rules=rules, on_fallback=fell_back)
    handler_failed = ErrorFrame(
        "Error executing function call [confirm_order]: boom",
        processor=llm,
        category=ErrorCategory.APPLICATION,
    )

    assert await switcher.strategy.handle_error(handler_failed) is None
    assert switcher.active_llm is llm
