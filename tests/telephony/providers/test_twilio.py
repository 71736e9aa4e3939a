"""Twilio adapter against a local server answering like Twilio's REST API, and its callbacks."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest
from django.conf import LazySettings
from django.test import Client
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator

from calls.models import Call
from telephony.providers.twilio.client import twilio_fetch_status, twilio_hang_up
from telephony.services import call_place
from telephony.tokens import media_token_consume
from tests.telephony.providers.conftest import CALLER, CUSTOMER, PUBLIC, control_messages

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token"
CALL_SID = "CA" + "2" * 32
CALLS_PATH = f"/2010-04-01/Accounts/{SID}/Calls.json"
SECRETS = {"account_sid": SID, "auth_token": TOKEN, "caller_number": CALLER}
MakeCall = Callable[[str, dict[str, str] | None], Call]


@pytest.fixture
def twilio_api(httpserver: HTTPServer, settings: LazySettings) -> HTTPServer:
    settings.TWILIO_API_BASE_URL = httpserver.url_for("/")
    return httpserver


@pytest.fixture
def call(provider_call: MakeCall) -> Call:
    return provider_call("twilio", SECRETS)


def _created(sid: str = CALL_SID) -> dict[str, object]:
    return {"sid": sid, "account_sid": SID, "status": "queued", "to": CUSTOMER, "from": CALLER}


def _error(status: int, code: int, message: str) -> dict[str, object]:
    return {"code": code, "message": message, "more_info": "", "status": status}


def _post_signed(
    client: Client, path: str, params: dict[str, str], *, token: str = TOKEN
) -> tuple[int, bytes]:
    signature = RequestValidator(token).compute_signature(f"{PUBLIC}{path}", params)
    response = client.post(path, params, headers={"X-Twilio-Signature": signature})
    return response.status_code, response.content


def test_placing_a_call_asks_twilio_with_the_answer_and_status_urls(
    call: Call, twilio_api: HTTPServer
) -> None:
    twilio_api.expect_oneshot_request(CALLS_PATH, method="POST").respond_with_json(
        _created(), status=201
    )

    assert call_place(call_id=call.pk) is True

    request, _ = twilio_api.log[0]
    form = parse_qs(request.get_data(as_text=True))
    assert form == {
        "To": [CUSTOMER],
        "From": [CALLER],
        "Url": [f"{PUBLIC}/telephony/twilio/{call.pk}/answer/"],
        "Method": ["POST"],
        "StatusCallback": [f"{PUBLIC}/telephony/twilio/{call.pk}/status/"],
        "StatusCallbackMethod": ["POST"],
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
    }
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        f"{SID}:{TOKEN}".encode()
    ).decode("ascii")
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == (Call.Status.DIALING, CALL_SID)


def test_machine_detection_is_requested_when_the_credential_asks(
    provider_call: MakeCall, twilio_api: HTTPServer
) -> None:
    call = provider_call("twilio", {**SECRETS, "machine_detection": "Enable"})
    twilio_api.expect_oneshot_request(CALLS_PATH, method="POST").respond_with_json(
        _created(), status=201
    )

    call_place(call_id=call.pk)

    form = parse_qs(twilio_api.log[0][0].get_data(as_text=True))
    assert form["MachineDetection"] == ["Enable"]


@pytest.mark.parametrize(
    ("code", "end_reason"),
    [(21211, "invalid_number"), (21215, "number_not_allowed"), (20003, "provider_rejected")],
)
def test_a_refused_call_ends_failed_with_the_reason(
    call: Call, twilio_api: HTTPServer, code: int, end_reason: str
) -> None:
    twilio_api.expect_oneshot_request(CALLS_PATH, method="POST").respond_with_json(
        _error(400, code, "refused"), status=400
    )

    call_place(call_id=call.pk)

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason, call.provider_call_id) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        end_reason,
        "",
    )


def test_hang_up_and_fetch_status(call: Call, twilio_api: HTTPServer) -> None:
    Call.objects.filter(pk=call.pk).update(provider_call_id=CALL_SID)
    call.refresh_from_db()
    path = f"/2010-04-01/Accounts/{SID}/Calls/{CALL_SID}.json"
    twilio_api.expect_oneshot_request(path, method="POST").respond_with_json(
        {**_created(), "status": "completed"}
    )
    twilio_api.expect_oneshot_request(path, method="GET").respond_with_json(
        {**_created(), "status": "in-progress"}
    )

    assert twilio_hang_up(call=call) is True
    assert twilio_fetch_status(call=call) == "in-progress"
    assert parse_qs(twilio_api.log[0][0].get_data(as_text=True)) == {"Status": ["completed"]}


def test_hanging_up_a_call_twilio_no_longer_has_is_false(
    call: Call, twilio_api: HTTPServer
) -> None:
    Call.objects.filter(pk=call.pk).update(provider_call_id=CALL_SID)
    call.refresh_from_db()
    twilio_api.expect_oneshot_request(
        f"/2010-04-01/Accounts/{SID}/Calls/{CALL_SID}.json", method="POST"
    ).respond_with_json(_error(404, 20404, "not found"), status=404)

    assert twilio_hang_up(call=call) is False


def test_the_answer_connects_the_stream_with_a_working_token(call: Call, client: Client) -> None:
    status, body = _post_signed(
        client,
        f"/telephony/twilio/{call.pk}/answer/",
        {"CallSid": CALL_SID, "CallStatus": "in-progress"},
    )

    assert status == 200
    stream = ElementTree.fromstring(body).find("./Connect/Stream")
    assert stream is not None
    assert stream.get("url") == f"wss://breeze.example.com/ws/media/twilio/{call.pk}/"
    parameters = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert parameters["call_id"] == str(call.pk)
    media_token_consume(token=str(parameters["token"]), call_id=call.pk)


def test_an_answering_machine_ends_the_call_as_voicemail(call: Call, client: Client) -> None:
    status, body = _post_signed(
        client,
        f"/telephony/twilio/{call.pk}/answer/",
        {"CallSid": CALL_SID, "AnsweredBy": "machine_end_beep"},
    )

    assert (status, body) == (
        200,
        b'<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>',
    )
    call.refresh_from_db()
    assert (call.status, call.disposition, call.provider_call_id) == (
        Call.Status.ENDED,
        Call.Disposition.VOICEMAIL,
        CALL_SID,
    )


@pytest.mark.parametrize("kind", ["answer", "status"])
def test_forged_and_missing_signatures_are_refused_and_change_nothing(
    call: Call, client: Client, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    path = f"/telephony/twilio/{call.pk}/{kind}/"
    params = {"CallSid": CALL_SID, "CallStatus": "busy"}

    with caplog.at_level(logging.WARNING):
        forged, _ = _post_signed(client, path, params, token="not-the-token")
        missing = client.post(path, params).status_code
    # Signed for the host Django sees instead of the public URL the provider called.
    local = RequestValidator(TOKEN).compute_signature(f"http://testserver{path}", params)
    wrong_url = client.post(path, params, headers={"X-Twilio-Signature": local}).status_code

    assert (forged, missing, wrong_url) == (403, 403, 403)
    assert f"call {call.pk}: twilio callback refused" in caplog.text
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == (Call.Status.QUEUED, "")


def _status(client: Client, call: Call, call_status: str, **extra: str) -> int:
    params = {"CallSid": CALL_SID, "CallStatus": call_status, **extra}
    return _post_signed(client, f"/telephony/twilio/{call.pk}/status/", params)[0]


def test_status_callbacks_move_the_call_forward_only(call: Call, client: Client) -> None:
    Call.objects.filter(pk=call.pk).update(status=Call.Status.DIALING)

    assert _status(client, call, "ringing") == 204
    assert Call.objects.get(pk=call.pk).status == Call.Status.RINGING
    assert _status(client, call, "completed") == 204
    # Late and repeated callbacks (Twilio does not order them) are acknowledged and ignored.
    assert _status(client, call, "ringing") == 204
    assert _status(client, call, "busy") == 204

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason, call.provider_call_id) == (
        Call.Status.ENDED,
        Call.Disposition.EARLY_HANGUP,
        "provider_completed",
        CALL_SID,
    )
    # No stream ever connected, so no worker is told to stop (tests/e2e/test_provider_completed.py).
    assert control_messages(call) == []


@pytest.mark.parametrize(
    ("call_status", "disposition"),
    [
        ("busy", Call.Disposition.BUSY),
        ("no-answer", Call.Disposition.NO_ANSWER),
        ("failed", Call.Disposition.FAILED),
        ("canceled", Call.Disposition.CANCELED),
    ],
)
def test_unanswered_calls_end_with_their_disposition(
    call: Call, client: Client, call_status: str, disposition: str
) -> None:
    assert _status(client, call, call_status) == 204

    call.refresh_from_db()
    assert (call.status, call.disposition) == (Call.Status.ENDED, disposition)


def test_completed_after_the_media_connected_is_answered(call: Call, client: Client) -> None:
    Call.objects.filter(pk=call.pk).update(status=Call.Status.IN_PROGRESS)
    media_token_consume(token=_stream_token(client, call), call_id=call.pk)

    assert _status(client, call, "completed") == 204

    call.refresh_from_db()
    assert (call.status, call.disposition) == (Call.Status.ENDED, Call.Disposition.ANSWERED)


def _stream_token(client: Client, call: Call) -> str:
    _, body = _post_signed(client, f"/telephony/twilio/{call.pk}/answer/", {"CallSid": CALL_SID})
    parameters = ElementTree.fromstring(body).findall("./Connect/Stream/Parameter")
    return next(str(p.get("value")) for p in parameters if p.get("name") == "token")


def test_a_callback_for_another_twilio_call_changes_nothing(call: Call, client: Client) -> None:
    Call.objects.filter(pk=call.pk).update(provider_call_id="CA" + "9" * 32)

    assert _status(client, call, "busy") == 204

    assert Call.objects.get(pk=call.pk).status == Call.Status.QUEUED


def test_unknown_calls_are_acknowledged_and_logged(
    call: Call, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        status = client.post(f"/telephony/twilio/{call.pk + 1000}/status/", {}).status_code

    assert status == 204
    assert f"twilio callback for unknown call {call.pk + 1000} ignored" in caplog.text


@pytest.mark.parametrize(
    "params", [{"CallSid": CALL_SID, "CallStatus": "exploded"}, {"CallStatus": "busy"}]
)
def test_malformed_callbacks_are_bad_requests(
    call: Call, client: Client, params: dict[str, str]
) -> None:
    status, _ = _post_signed(client, f"/telephony/twilio/{call.pk}/status/", params)

    assert status == 400
    assert Call.objects.get(pk=call.pk).status == Call.Status.QUEUED


def test_a_json_body_is_refused_not_crashed(call: Call, client: Client) -> None:
    path = f"/telephony/twilio/{call.pk}/status/"
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}{path}", {})
    response = client.post(
        path,
        json.dumps({"CallStatus": "busy"}),
        content_type="application/json",
        headers={"X-Twilio-Signature": signature},
    )

    assert response.status_code == 400
