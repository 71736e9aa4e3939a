"""Cold transfer through each provider's REST API, against local servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils.module_loading import import_string
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3
from pytest_httpserver import HTTPServer

from calls.models import Call
from calls.services import call_end
from telephony.providers.exotel.signature import exotel_call_secret
from telephony.transfers import AGENT_DIALS, TRANSFERS, call_transfer
from templates_app.models import TemplateVersion
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


def test_the_simulator_takes_a_transfer_as_done(provider_call: MakeCall) -> None:
    call = _live(provider_call("simulator", None), "CA1")

    assert call_transfer(call_id=call.pk, number=AGENT) is True


def test_exotel_transfers_by_ending_the_stream_once_exotel_named_the_call(
    provider_call: MakeCall,
) -> None:
    call = provider_call("exotel", test_exotel.SECRETS)

    assert call_transfer(call_id=call.pk, number=AGENT) is False
    assert call_transfer(call_id=_live(call, test_exotel.CALL_SID).pk, number=AGENT) is True


def _exotel_dial(client: Client, call: Call, secret: str) -> tuple[int, bytes]:
    response = client.get(
        "/telephony/exotel/dial/",
        {"CallSid": test_exotel.CALL_SID, "CustomField": f"{call.pk}.{secret}"},
    )
    return response.status_code, response.content


def test_exotels_connect_applet_gets_the_templates_number_after_a_transfer(
    provider_call: MakeCall, client: Client
) -> None:
    call = _live(provider_call("exotel", test_exotel.SECRETS), test_exotel.CALL_SID)
    TemplateVersion.objects.filter(pk=call.template_version_id).update(
        definition={**call.template_version.definition, "transfer": {"number": AGENT}}
    )
    secret = exotel_call_secret(call_id=call.pk)

    assert _exotel_dial(client, call, secret) == (404, b"")
    call_end(call_id=call.pk, disposition=Call.Disposition.TRANSFERRED, end_reason="transferred")
    assert _exotel_dial(client, call, secret) == (200, AGENT.encode())
    assert _exotel_dial(client, call, "forged")[0] == 403


def test_every_provider_transfer_names_a_function_that_imports() -> None:
    # The table holds dotted paths, imported on first use, so a wrong one would otherwise
    # surface only when a live call tries to transfer.
    for path in [*TRANSFERS.values(), *AGENT_DIALS.values()]:
        assert callable(import_string(path)), path
