"""A customer asks for an agent on a real Twilio call, over the real stack.

The test plays Twilio: its REST API (pytest-httpserver, which the worker reaches too), the
signed answer and agent callbacks, and the customer's media stream. Cold: the worker asks
Twilio to dial the agent once the bot has spoken, and never hangs up. Warm with nobody
answering: the agent is rung, Twilio reports no answer, and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from copy import deepcopy
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call
from config.services import provider_credential_create
from telephony.providers.simulator.client import SimulatorResult, run_persona
from telephony.providers.simulator.persona import Persona, Step
from telephony.services import call_place
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, ended_call, new_call, published_template
from tests.e2e.test_keypad import KEYPAD_DEFINITION
from tests.processes import wait_for
from tests.telephony.providers import test_twilio
from tests.telephony.providers.conftest import PUBLIC

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

AGENT = "+15555550177"
AGENT_SID = "CA" + "9" * 32
CUSTOMER_LEG = f"/2010-04-01/Accounts/{test_twilio.SID}/Calls/{test_twilio.CALL_SID}.json"
HOLD = "Please hold while I connect you."
SORRY = "Sorry, nobody is free. Let us carry on."


def _definition(transfer: dict[str, Any]) -> dict[str, Any]:
    definition = deepcopy(KEYPAD_DEFINITION)
    definition["transfer"] = transfer
    definition["global_functions"] = [
        {
            "name": "agent",
            "type": "builtin",
            "handler": "transfer_to_agent",
            "description": "The customer wants a person.",
            "dtmf": "0",
            "message": HOLD,
        }
    ]
    return definition


@pytest.fixture
def twilio_api(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """Twilio's REST API for this process and for the stack's (started after this)."""
    root = httpserver.url_for("/").rstrip("/")
    monkeypatch.setenv("TWILIO_API_BASE_URL", root)
    monkeypatch.setattr("django.conf.settings.TWILIO_API_BASE_URL", root)
    monkeypatch.setattr("django.conf.settings.PUBLIC_BASE_URL", PUBLIC)
    httpserver.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "queued"}, status=201
    )
    return httpserver


def _call_on_twilio(tenants: Tenants, slug: str, definition: dict[str, Any]) -> Call:
    """A call of a new template, placed through the Twilio adapter."""
    version = published_template(tenants.acme, slug, definition)
    provider_credential_create(
        merchant=tenants.acme, provider="twilio", secrets=test_twilio.SECRETS
    )
    call = new_call(version, provider="twilio")
    assert call_place(call_id=call.pk) is True
    return call


def _converse(stack: Stack, call: Call, persona: Persona) -> SimulatorResult:
    """Twilio's answer step, then the customer's stream with the TwiML's parameters."""
    _, body = test_twilio._post_signed(
        Client(), f"/telephony/twilio/{call.pk}/answer/", {"CallSid": test_twilio.CALL_SID}
    )
    stream = ElementTree.fromstring(body).findall("./Connect/Stream/Parameter")
    url = stack.base_url.replace("http", "ws", 1) + f"/ws/media/twilio/{call.pk}/"
    return asyncio.run(
        run_persona(
            url,
            persona,
            call_sid=test_twilio.CALL_SID,
            stream_sid=f"MZ{call.pk:032d}",
            custom_parameters={str(p.get("name")): str(p.get("value")) for p in stream},
        )
    )


def _bot_said(call: Call) -> list[str]:
    return list(call.turns.filter(speaker="bot").order_by("index").values_list("text", flat=True))


def _forms(server: HTTPServer) -> list[tuple[str, dict[str, list[str]]]]:
    return [(request.path, parse_qs(request.get_data(as_text=True))) for request, _ in server.log]


def test_a_cold_transfer_asks_twilio_to_dial_the_agent_after_the_bots_last_words(
    twilio_api: HTTPServer, stack: Stack, tenants: Tenants
) -> None:
    twilio_api.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "in-progress"}
    )
    call = _call_on_twilio(tenants, "cold-transfer", _definition({"number": AGENT}))
    presses_zero = Persona(name="wants-agent", description="Presses 0.", steps=(Step(dtmf="0"),))

    result = _converse(stack, call, presses_zero)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")

    assert result.errors == []
    assert _bot_said(ended)[-1] == HOLD
    assert (ended.disposition, ended.end_reason) == (Call.Disposition.TRANSFERRED, "transferred")
    # Placed, then the customer's leg given a <Dial>; no hang-up (Status=completed) at all.
    assert [path for path, _ in _forms(twilio_api)] == [test_twilio.CALLS_PATH, CUSTOMER_LEG]
    assert _forms(twilio_api)[1][1] == {
        "Twiml": [
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Dial>{AGENT}</Dial></Response>'
        ]
    }


def twilio_posts_when(
    ready: Callable[[], bool], path: str, params: dict[str, str]
) -> threading.Thread:
    """Twilio's side, in the background: once `ready()`, the signed callback is posted."""

    def post() -> None:
        try:
            deadline = time.monotonic() + 30
            while not ready() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert test_twilio._post_signed(Client(), path, params)[0] in {200, 204}
        finally:
            connection.close()

    thread = threading.Thread(target=post)
    thread.start()
    return thread


def _agent_leg(server: HTTPServer, call: Call, kind: str, **params: str) -> threading.Thread:
    """The agent's leg reports to `kind` (agent answer or status) once Breeze has rung it."""
    return twilio_posts_when(
        lambda: len(server.log) >= 2,
        f"/telephony/twilio/{call.pk}/transfer/{kind}/",
        {"CallSid": AGENT_SID, **params},
    )


def _warm(tenants: Tenants, slug: str, **transfer: Any) -> Call:
    return _call_on_twilio(
        tenants,
        slug,
        _definition({"mode": "warm", "number": AGENT, "no_answer_message": SORRY, **transfer}),
    )


def test_an_unanswered_warm_transfer_returns_the_customer_to_the_bot(
    twilio_api: HTTPServer, stack: Stack, tenants: Tenants
) -> None:
    twilio_api.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"sid": AGENT_SID, "status": "queued"}, status=201
    )
    twilio_api.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "completed"}
    )
    call = _warm(tenants, "warm-transfer", no_answer="return_to_bot", ring_timeout=20)
    # Twilio's no-answer is reported as soon as the agent is rung, so the bot's hold message,
    # its apology and the question it returns to are one turn, which the customer answers.
    holds_then_confirms = Persona(
        name="holds",
        description="Asks for an agent, then confirms with the bot.",
        steps=(Step(dtmf="0"), Step(dtmf="1")),
    )
    reporter = _agent_leg(twilio_api, call, "status", CallStatus="no-answer")

    result = _converse(stack, call, holds_then_confirms)
    reporter.join(timeout=30)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")

    assert result.errors == []
    bot = " ".join(_bot_said(ended))
    assert HOLD in bot
    assert SORRY in bot
    assert (ended.outcome, ended.disposition, ended.end_reason) == (
        "confirmed",
        Call.Disposition.ANSWERED,
        "bot_ended",
    )
    assert ended.node_path == ["ask", "__hold__", "ask", "confirmed"]
    # Placed, the agent rung, and (the line no longer kept for a transfer) hung up at the end.
    forms = _forms(twilio_api)
    assert [path for path, _ in forms] == [
        test_twilio.CALLS_PATH,
        test_twilio.CALLS_PATH,
        CUSTOMER_LEG,
    ]
    assert (forms[1][1]["To"], forms[1][1]["Timeout"]) == ([AGENT], ["20"])
    assert forms[2][1] == {"Status": ["completed"]}


def test_an_unanswered_warm_transfer_can_end_the_call(
    twilio_api: HTTPServer, stack: Stack, tenants: Tenants
) -> None:
    twilio_api.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"sid": AGENT_SID, "status": "queued"}, status=201
    )
    twilio_api.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "completed"}
    )
    call = _warm(tenants, "warm-transfer-end", no_answer="end")
    wants_agent = Persona(name="wants-agent", description="Presses 0.", steps=(Step(dtmf="0"),))
    reporter = _agent_leg(twilio_api, call, "status", CallStatus="busy")

    result = _converse(stack, call, wants_agent)
    reporter.join(timeout=30)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")

    assert result.errors == []
    assert result.hung_up_by == "bot"
    assert _bot_said(ended)[-1].endswith(SORRY)
    assert (ended.disposition, ended.end_reason) == (
        Call.Disposition.ANSWERED,
        "transfer_unanswered",
    )
    forms = _forms(twilio_api)
    assert [path for path, _ in forms] == [
        test_twilio.CALLS_PATH,
        test_twilio.CALLS_PATH,
        CUSTOMER_LEG,
    ]
    assert forms[2][1] == {"Status": ["completed"]}


def test_an_answered_warm_transfer_moves_the_customer_and_never_hangs_up(
    twilio_api: HTTPServer, stack: Stack, tenants: Tenants
) -> None:
    twilio_api.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"sid": AGENT_SID, "status": "queued"}, status=201
    )
    twilio_api.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "in-progress"}
    )
    call = _warm(tenants, "warm-transfer-answered")
    # Moving the customer's leg into the conference stops the stream: Twilio sends `stop`.
    joins_agent = Persona(
        name="joins-agent",
        description="Presses 0, holds, and leaves the bot's stream for the conference.",
        steps=(Step(dtmf="0"), Step(silence_ms=3000), Step(hang_up=True)),
    )
    agent = _agent_leg(twilio_api, call, "agent")

    result = _converse(stack, call, joins_agent)
    agent.join(timeout=30)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")
    time.sleep(2)  # a hang-up by the worker, were there one, would have reached the server

    assert result.errors == []
    assert (ended.disposition, ended.end_reason, ended.node_path) == (
        Call.Disposition.TRANSFERRED,
        "transferred",
        ["ask", "__hold__"],
    )
    forms = _forms(twilio_api)
    assert [path for path, _ in forms] == [
        test_twilio.CALLS_PATH,
        test_twilio.CALLS_PATH,
        CUSTOMER_LEG,
    ]
    assert "<Conference" in forms[2][1]["Twiml"][0]
