"""Cold transfer through each provider's REST API, against local servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from django.conf import LazySettings
from django.test import Client
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3
from pytest_httpserver import HTTPServer

from calls.models import Call
from telephony.transfers import call_transfer
from tests.telephony.providers import test_exotel, test_plivo, test_twilio
from tests.telephony.providers.conftest import PUBLIC

MakeCall = Callable[[str, dict[str, str] | None], Call]
AGENT = "+15555550177"


def _live(call: Call, provider_call_id: str) -> Call:
    Call.objects.filter(pk=call.pk).update(provider_call_id=provider_call_id)
    call.refresh_from_db()
    return call


def test_twilio_replaces_the_calls_twiml_with_a_dial(
    provider_call: MakeCall, httpserver: HTTPServer, settings: LazySettings
) -> None:
    settings.TWILIO_API_BASE_URL = httpserver.url_for("/")
    call = _live(provider_call("twilio", test_twilio.SECRETS), test_twilio.CALL_SID)
    path = f"/2010-04-01/Accounts/{test_twilio.SID}/Calls/{test_twilio.CALL_SID}.json"
    httpserver.expect_oneshot_request(path, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "in-progress"}
    )
    httpserver.expect_oneshot_request(path, method="POST").respond_with_json(
        {"code": 20404, "message": "not found", "status": 404}, status=404
    )

    assert call_transfer(call_id=call.pk, number=AGENT) is True
    assert call_transfer(call_id=call.pk, number=AGENT) is False

    assert parse_qs(httpserver.log[0][0].get_data(as_text=True)) == {
        "Twiml": [
            '<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+15555550177</Dial></Response>'
        ]
    }


def test_plivo_transfers_the_customer_leg_to_signed_dial_xml(
    provider_call: MakeCall, httpserver: HTTPServer, settings: LazySettings, client: Client
) -> None:
    settings.PLIVO_API_BASE_URL = httpserver.url_for("/").rstrip("/")
    call = _live(provider_call("plivo", test_plivo.SECRETS), test_plivo.CALL_UUID)
    httpserver.expect_oneshot_request(
        f"{test_plivo.CALLS_PATH}{test_plivo.CALL_UUID}/", method="POST"
    ).respond_with_json({"api_id": "a4", "message": "call transferred"}, status=202)

    assert call_transfer(call_id=call.pk, number=AGENT) is True

    body = json.loads(httpserver.log[0][0].get_data(as_text=True))
    path = f"/telephony/plivo/{call.pk}/transfer/?to=%2B15555550177"
    assert body == {
        "call_uuid": test_plivo.CALL_UUID,
        "legs": "aleg",
        "aleg_url": f"{PUBLIC}{path}",
        "aleg_method": "POST",
    }
    params = {"CallUUID": test_plivo.CALL_UUID}
    assert test_plivo._post_signed(client, path, params) == (
        200,
        b"<Response><Dial><Number>+15555550177</Number></Dial></Response>",
    )


@pytest.mark.parametrize("number", ["+15555550178", ""])
def test_plivo_transfer_xml_for_another_number_is_refused(
    provider_call: MakeCall, client: Client, number: str
) -> None:
    call = _live(provider_call("plivo", test_plivo.SECRETS), test_plivo.CALL_UUID)
    signed_path = f"/telephony/plivo/{call.pk}/transfer/?to=%2B15555550177"
    nonce = "12345678901234567890"
    signed = construct_post_url(f"{PUBLIC}{signed_path}", {"CallUUID": test_plivo.CALL_UUID})
    signature = get_signature_v3(test_plivo.TOKEN.encode(), signed.decode(), nonce.encode())

    response = client.post(
        f"/telephony/plivo/{call.pk}/transfer/?to={number}",
        {"CallUUID": test_plivo.CALL_UUID},
        headers={"X-Plivo-Signature-V3": signature.decode(), "X-Plivo-Signature-V3-Nonce": nonce},
    )

    assert response.status_code == 403


@pytest.mark.parametrize("provider", ["exotel", "simulator"])
def test_providers_without_a_transfer_call_say_so(provider_call: MakeCall, provider: str) -> None:
    secrets = test_exotel.SECRETS if provider == "exotel" else None
    call = _live(provider_call(provider, secrets), "CA1")

    assert call_transfer(call_id=call.pk, number=AGENT) is False
