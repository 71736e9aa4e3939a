"""A warm transfer on a real Plivo call whose agent never answers, over the real stack.

The test plays Plivo: its REST API (pytest-httpserver, which the worker reaches too), the
signed answer and agent hang-up callbacks, and the customer's Plivo media stream. The agent
is rung with the template's ring timeout, Plivo reports the ring timed out, and the
conversation goes on with the bot.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call
from config.services import provider_credential_create
from telephony.providers.simulator.client import run_persona
from telephony.providers.simulator.persona import Persona, Step
from telephony.services import call_place
from tests.conftest import Tenants
from tests.e2e.conftest import Stack, ended_call, new_call, published_template
from tests.e2e.test_transfers import AGENT, HOLD, SORRY, _bot_said, _definition
from tests.processes import wait_for
from tests.telephony.providers import test_plivo
from tests.telephony.providers.conftest import PUBLIC

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

AGENT_UUID = "b7c1e4a2-0000-4000-8000-000000000099"
CUSTOMER_LEG = f"{test_plivo.CALLS_PATH}{test_plivo.CALL_UUID}/"


@pytest.fixture
def plivo_api(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    """Plivo's REST API for this process and for the stack's (started after this)."""
    root = httpserver.url_for("/").rstrip("/")
    monkeypatch.setenv("PLIVO_API_BASE_URL", root)
    monkeypatch.setattr("django.conf.settings.PLIVO_API_BASE_URL", root)
    monkeypatch.setattr("django.conf.settings.PUBLIC_BASE_URL", PUBLIC)
    for request_uuid in ("r-customer", "r-agent"):
        httpserver.expect_oneshot_request(test_plivo.CALLS_PATH, method="POST").respond_with_json(
            {"api_id": "a1", "message": "call fired", "request_uuid": request_uuid}, status=201
        )
    httpserver.expect_oneshot_request(CUSTOMER_LEG, method="DELETE").respond_with_data(status=204)
    return httpserver


def _agent_times_out(server: HTTPServer, call: Call) -> threading.Thread:
    """Plivo's side: once Breeze has rung the agent, the agent leg's hang-up URL is posted."""

    def post() -> None:
        try:
            deadline = time.monotonic() + 30
            while len(server.log) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            status, _ = test_plivo._post_signed(
                Client(),
                f"/telephony/plivo/{call.pk}/transfer/status/",
                {"CallUUID": AGENT_UUID, "CallStatus": "timeout", "HangupCause": "NO_ANSWER"},
            )
            assert status == 204
        finally:
            connection.close()

    thread = threading.Thread(target=post)
    thread.start()
    return thread


def test_an_unanswered_warm_transfer_on_plivo_returns_the_customer_to_the_bot(
    plivo_api: HTTPServer, stack: Stack, tenants: Tenants
) -> None:
    definition = _definition(
        {"mode": "warm", "number": AGENT, "no_answer_message": SORRY, "ring_timeout": 20}
    )
    version = published_template(tenants.acme, "plivo-warm-transfer", definition)
    provider_credential_create(merchant=tenants.acme, provider="plivo", secrets=test_plivo.SECRETS)
    call = new_call(version, provider="plivo")
    assert call_place(call_id=call.pk) is True
    holds_then_confirms = Persona(
        name="holds",
        description="Asks for an agent, then confirms with the bot.",
        steps=(Step(dtmf="0"), Step(dtmf="1")),
    )
    reporter = _agent_times_out(plivo_api, call)

    _, body = test_plivo._post_signed(
        Client(), f"/telephony/plivo/{call.pk}/answer/", {"CallUUID": test_plivo.CALL_UUID}
    )
    query = urlsplit(str(ElementTree.fromstring(body).findtext("./Stream"))).query
    url = stack.base_url.replace("http", "ws", 1) + f"/ws/media/plivo/{call.pk}/?{query}"
    result = asyncio.run(
        run_persona(
            url,
            holds_then_confirms,
            call_sid=test_plivo.CALL_UUID,
            stream_sid=f"MZ{call.pk:032d}",
            protocol="plivo",
        )
    )
    reporter.join(timeout=30)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")

    assert result.errors == []
    bot = " ".join(_bot_said(ended))
    assert HOLD in bot
    assert SORRY in bot
    assert (ended.outcome, ended.disposition, ended.node_path) == (
        "confirmed",
        Call.Disposition.ANSWERED,
        ["ask", "__hold__", "ask", "confirmed"],
    )
    # The customer placed, the agent rung with the template's ring timeout, and the bot's
    # goodbye hangs the customer up through the same local API.
    assert [(request.method, request.path) for request, _ in plivo_api.log] == [
        ("POST", test_plivo.CALLS_PATH),
        ("POST", test_plivo.CALLS_PATH),
        ("DELETE", CUSTOMER_LEG),
    ]
    placed = [json.loads(request.get_data(as_text=True)) for request, _ in plivo_api.log[:2]]
    # The worker's URLs are under the stack's own public base URL.
    agent_leg = placed[1]
    assert (
        agent_leg["to"],
        agent_leg["ring_timeout"],
        urlsplit(agent_leg["answer_url"]).path,
        urlsplit(agent_leg["hangup_url"]).path,
    ) == (
        AGENT,
        20,
        f"/telephony/plivo/{call.pk}/transfer/agent/",
        f"/telephony/plivo/{call.pk}/transfer/status/",
    )
