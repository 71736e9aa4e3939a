"""A call placed through each real adapter against a local API server, then held end to end.

The test plays the provider: its API (pytest-httpserver) takes the placement, the answer
step (signed TwiML/XML, or Exotel's applet URL) hands over the stream URL and media token,
and the simulated customer opens that stream in the provider's own dialect to the real
stack. The provider's final `completed` callback then changes nothing the worker recorded.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.conf import LazySettings
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call
from config.services import provider_credential_create
from telephony.providers.exotel.signature import exotel_call_secret
from telephony.providers.simulator.client import SimulatorResult, run_persona
from telephony.providers.simulator.persona import PERSONAS
from telephony.services import call_place
from templates_app.models import TemplateVersion
from tests.calls.conftest import ORDER_PAYLOAD
from tests.e2e.conftest import Stack, ended_call, new_call
from tests.processes import wait_for
from tests.telephony.providers import test_exotel, test_plivo, test_twilio
from tests.telephony.providers.accounts import PROVIDER_IDS, SECRETS
from tests.telephony.providers.conftest import PUBLIC

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


def _api(provider: str, server: HTTPServer, settings: LazySettings) -> None:
    """The provider's API, answering the placement the way the vendor documents."""
    root = server.url_for("/").rstrip("/")
    if provider == "twilio":
        settings.TWILIO_API_BASE_URL = root
        server.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
            {"sid": test_twilio.CALL_SID, "status": "queued"}, status=201
        )
    elif provider == "plivo":
        settings.PLIVO_API_BASE_URL = root
        server.expect_oneshot_request(test_plivo.CALLS_PATH, method="POST").respond_with_json(
            {"api_id": "a1", "message": "call fired", "request_uuid": "r-1"}, status=201
        )
    else:
        settings.EXOTEL_API_BASE_URL = root
        server.expect_oneshot_request(test_exotel.CONNECT_PATH, method="POST").respond_with_json(
            {"Call": {"Sid": test_exotel.CALL_SID, "Status": "in-progress"}}
        )


def _answer(provider: str, client: Client, call: Call) -> tuple[str, dict[str, str]]:
    """The provider's answer step: (query of the stream URL, custom parameters it carries)."""
    if provider == "twilio":
        _, body = test_twilio._post_signed(
            client, f"/telephony/twilio/{call.pk}/answer/", {"CallSid": test_twilio.CALL_SID}
        )
        stream = ElementTree.fromstring(body).findall("./Connect/Stream/Parameter")
        return "", {str(p.get("name")): str(p.get("value")) for p in stream}
    if provider == "plivo":
        _, body = test_plivo._post_signed(
            client, f"/telephony/plivo/{call.pk}/answer/", {"CallUUID": test_plivo.CALL_UUID}
        )
        return urlsplit(str(ElementTree.fromstring(body).findtext("./Stream"))).query, {}
    response = client.get(
        "/telephony/exotel/stream/",
        {
            "CallSid": test_exotel.CALL_SID,
            "CustomField": f"{call.pk}.{exotel_call_secret(call_id=call.pk)}",
        },
    )
    query = urlsplit(json.loads(response.content)["url"]).query
    # Exotel returns the URL's query parameters in the start message, not on the upgrade.
    return "", {key: values[0] for key, values in parse_qs(query).items()}


def _converse(provider: str, stack: Stack, client: Client, call: Call) -> SimulatorResult:
    """Answer as the provider, then hold the order-confirming conversation over its stream."""
    query, parameters = _answer(provider, client, call)
    url = stack.base_url.replace("http", "ws", 1) + f"/ws/media/{provider}/{call.pk}/"
    return asyncio.run(
        run_persona(
            f"{url}?{query}" if query else url,
            PERSONAS["cod-confirm"],
            call_sid=PROVIDER_IDS[provider],
            stream_sid=f"MZ{call.pk:032d}",
            custom_parameters=parameters,
            protocol=provider,
        )
    )


def _completed(provider: str, client: Client, call: Call) -> int:
    sid = PROVIDER_IDS[provider]
    if provider == "twilio":
        path = f"/telephony/twilio/{call.pk}/status/"
        return test_twilio._post_signed(client, path, {"CallSid": sid, "CallStatus": "completed"})[
            0
        ]
    if provider == "plivo":
        path = f"/telephony/plivo/{call.pk}/status/"
        return test_plivo._post_signed(client, path, {"CallUUID": sid, "CallStatus": "completed"})[
            0
        ]
    path = f"/telephony/exotel/{call.pk}/{exotel_call_secret(call_id=call.pk)}/status/"
    body = json.dumps({"CallSid": sid, "Status": "completed", "EventType": "terminal"})
    return client.post(path, body, content_type="application/json").status_code


@pytest.mark.parametrize("provider", ["twilio", "plivo", "exotel"])
def test_a_call_placed_through_the_adapter_is_held_over_the_providers_stream(
    provider: str,
    stack: Stack,
    published: TemplateVersion,
    httpserver: HTTPServer,
    settings: LazySettings,
) -> None:
    settings.PUBLIC_BASE_URL = PUBLIC
    provider_credential_create(
        merchant=published.template.merchant, provider=provider, secrets=SECRETS[provider]
    )
    call = new_call(published, provider=provider, payload=ORDER_PAYLOAD)
    _api(provider, httpserver, settings)
    client = Client()

    assert call_place(call_id=call.pk) is True
    result = _converse(provider, stack, client, call)
    ended = wait_for(lambda: ended_call(call.pk), timeout=20, what=f"call {call.pk} to end")

    assert result.errors == []
    assert (ended.outcome, ended.disposition, ended.end_reason) == (
        "confirmed",
        Call.Disposition.ANSWERED,
        "bot_ended",
    )
    assert ended.provider_call_id == PROVIDER_IDS[provider]
    assert [turn.text for turn in result.customer_turns] == ["yes please"]
    assert _completed(provider, client, call) == 204
    again = Call.objects.get(pk=call.pk)
    assert (again.disposition, again.end_reason) == (Call.Disposition.ANSWERED, "bot_ended")
