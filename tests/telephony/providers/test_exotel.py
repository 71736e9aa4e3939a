"""Exotel adapter against a local server answering like Exotel's REST API, and its callbacks."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import LazySettings
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call
from telephony.providers.exotel.client import exotel_fetch_status
from telephony.providers.exotel.signature import exotel_call_secret
from telephony.services import call_place
from telephony.tokens import media_token_consume
from tests.telephony.providers.conftest import CALLER, CUSTOMER, PUBLIC

SID = "breeze1"
FLOW = "http://my.exotel.com/breeze1/exoml/start_voice/12345"
SECRETS = {
    "account_sid": SID,
    "api_key": "exo-key",
    "api_token": "exo-token",
    "subdomain": "api.in.exotel.com",
    "caller_number": CALLER,
    "flow_url": FLOW,
}
CALL_SID = "c2f1e0a9b8d7c6b5a4f3e2d1c0b9a8f7"
CONNECT_PATH = f"/v1/Accounts/{SID}/Calls/connect.json"
MakeCall = Callable[[str, dict[str, str] | None], Call]


@pytest.fixture
def exotel_api(httpserver: HTTPServer, settings: LazySettings) -> HTTPServer:
    settings.EXOTEL_API_BASE_URL = httpserver.url_for("/")
    return httpserver


@pytest.fixture
def call(provider_call: MakeCall) -> Call:
    return provider_call("exotel", SECRETS)


def _exotel_call(status: str = "in-progress") -> dict[str, object]:
    return {"Call": {"Sid": CALL_SID, "AccountSid": SID, "Status": status, "To": CUSTOMER}}


def test_placing_a_call_asks_exotel_with_the_flow_and_a_secret_status_url(
    call: Call, exotel_api: HTTPServer
) -> None:
    exotel_api.expect_oneshot_request(CONNECT_PATH, method="POST").respond_with_json(_exotel_call())

    call_place(call_id=call.pk)

    request, _ = exotel_api.log[0]
    secret = exotel_call_secret(call_id=call.pk)
    assert parse_qs(request.get_data(as_text=True)) == {
        "From": [CUSTOMER],
        "CallerId": [CALLER],
        "Url": [FLOW],
        "CustomField": [f"{call.pk}.{secret}"],
        "StatusCallback": [f"{PUBLIC}/telephony/exotel/{call.pk}/{secret}/status/"],
        "StatusCallbackContentType": ["application/json"],
        "StatusCallbackEvents[0]": ["terminal"],
        "StatusCallbackEvents[1]": ["answered"],
    }
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == (
        "exo-key",
        "exo-token",
    )
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == (Call.Status.DIALING, CALL_SID)


def test_secrets_differ_per_call_and_are_long() -> None:
    assert exotel_call_secret(call_id=1) != exotel_call_secret(call_id=2)
    assert len(exotel_call_secret(call_id=1)) == 64


@pytest.mark.parametrize(
    ("status", "end_reason"),
    [(400, "invalid_number"), (403, "number_not_allowed"), (401, "provider_rejected")],
)
def test_a_refused_call_ends_failed_with_the_reason(
    call: Call, exotel_api: HTTPServer, status: int, end_reason: str
) -> None:
    exotel_api.expect_oneshot_request(CONNECT_PATH, method="POST").respond_with_json(
        {"RestException": {"Status": status, "Message": "refused"}}, status=status
    )

    call_place(call_id=call.pk)

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        end_reason,
    )


def test_fetch_status(call: Call, exotel_api: HTTPServer) -> None:
    Call.objects.filter(pk=call.pk).update(provider_call_id=CALL_SID)
    call.refresh_from_db()
    exotel_api.expect_oneshot_request(
        f"/v1/Accounts/{SID}/Calls/{CALL_SID}.json", method="GET"
    ).respond_with_json(_exotel_call("completed"))

    assert exotel_fetch_status(call=call) == "completed"


def _stream(client: Client, custom_field: str, call_sid: str = CALL_SID) -> tuple[int, bytes]:
    response = client.get(
        "/telephony/exotel/stream/", {"CallSid": call_sid, "CustomField": custom_field}
    )
    return response.status_code, response.content


def test_the_applet_gets_the_stream_url_with_a_working_token(call: Call, client: Client) -> None:
    status, body = _stream(client, f"{call.pk}.{exotel_call_secret(call_id=call.pk)}")

    assert status == 200
    url = urlsplit(json.loads(body)["url"])
    assert (url.scheme, url.netloc, url.path) == (
        "wss",
        "breeze.example.com",
        f"/ws/media/exotel/{call.pk}/",
    )
    media_token_consume(token=parse_qs(url.query)["token"][0], call_id=call.pk)
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == (Call.Status.RINGING, CALL_SID)


def test_stream_requests_without_the_call_secret_are_refused(
    call: Call, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    other = exotel_call_secret(call_id=call.pk + 1)
    with caplog.at_level(logging.WARNING):
        forged = _stream(client, f"{call.pk}.{other}")[0]
    malformed = [_stream(client, field)[0] for field in ("", f"{call.pk}", "x.y", f"{call.pk}.")]

    assert (forged, malformed) == (403, [400, 400, 400, 400])
    assert f"exotel stream request for call {call.pk} refused: bad secret" in caplog.text
    assert Call.objects.get(pk=call.pk).provider_call_id == ""


def test_a_stream_request_for_another_exotel_call_gets_no_stream(
    call: Call, client: Client
) -> None:
    Call.objects.filter(pk=call.pk).update(provider_call_id="another")

    status, _ = _stream(client, f"{call.pk}.{exotel_call_secret(call_id=call.pk)}")

    assert status == 404
    assert Call.objects.get(pk=call.pk).media_connected_at is None


def _status(client: Client, call_id: int, body: object, *, secret: str | None = None) -> int:
    secret = secret or exotel_call_secret(call_id=call_id)
    return client.post(
        f"/telephony/exotel/{call_id}/{secret}/status/",
        json.dumps(body),
        content_type="application/json",
    ).status_code


def test_status_callbacks_move_the_call_forward_only(call: Call, client: Client) -> None:
    Call.objects.filter(pk=call.pk).update(status=Call.Status.DIALING)
    busy = {"CallSid": CALL_SID, "Status": "busy", "EventType": "terminal"}
    late = {"CallSid": CALL_SID, "Status": "in-progress", "EventType": "answered"}

    assert [_status(client, call.pk, body) for body in (busy, late, busy)] == [204, 204, 204]

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason, call.provider_call_id) == (
        Call.Status.ENDED,
        Call.Disposition.BUSY,
        "provider_busy",
        CALL_SID,
    )


def test_callbacks_with_a_wrong_secret_are_refused_and_change_nothing(
    call: Call, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"CallSid": CALL_SID, "Status": "busy"}
    with caplog.at_level(logging.WARNING):
        status = _status(client, call.pk, body, secret=exotel_call_secret(call_id=call.pk + 1))

    assert status == 403
    assert f"exotel callback for call {call.pk} refused: bad secret" in caplog.text
    assert Call.objects.get(pk=call.pk).status == Call.Status.QUEUED


def test_unknown_calls_are_acknowledged_and_malformed_callbacks_refused(
    call: Call, client: Client
) -> None:
    path = f"/telephony/exotel/{call.pk}/{exotel_call_secret(call_id=call.pk)}/status/"
    unknown = _status(client, call.pk + 1000, {"CallSid": CALL_SID, "Status": "busy"})
    not_json = client.post(path, b"\xff{", content_type="application/json").status_code
    not_object = _status(client, call.pk, ["busy"])
    bad_status = _status(client, call.pk, {"CallSid": CALL_SID, "Status": "exploded"})
    no_sid = _status(client, call.pk, {"Status": "busy"})

    assert (unknown, not_json, not_object, bad_status, no_sid) == (204, 400, 400, 400, 400)
    assert Call.objects.get(pk=call.pk).status == Call.Status.QUEUED
