"""Plivo adapter against a local server answering like Plivo's REST API, and its callbacks."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.conf import LazySettings
from django.test import Client
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3
from pytest_httpserver import HTTPServer

from calls.models import Call
from telephony.providers.plivo.client import plivo_fetch_status, plivo_hang_up
from telephony.services import call_place
from telephony.tokens import media_token_consume
from tests.telephony.providers.conftest import CALLER, CUSTOMER, PUBLIC

AUTH_ID = "MA" + "A" * 18
TOKEN = "plivo-auth-token"
CALL_UUID = "b7c1e4a2-0000-4000-8000-000000000001"
CALLS_PATH = f"/v1/Account/{AUTH_ID}/Call/"
SECRETS = {"auth_id": AUTH_ID, "auth_token": TOKEN, "caller_number": CALLER}
MakeCall = Callable[[str, dict[str, str] | None], Call]


@pytest.fixture
def plivo_api(httpserver: HTTPServer, settings: LazySettings) -> HTTPServer:
    settings.PLIVO_API_BASE_URL = httpserver.url_for("/").rstrip("/")
    return httpserver


@pytest.fixture
def call(provider_call: MakeCall) -> Call:
    return provider_call("plivo", SECRETS)


def _fired() -> dict[str, str]:
    return {"api_id": "a1", "message": "call fired", "request_uuid": "r-1"}


def _post_signed(
    client: Client, path: str, params: dict[str, str], *, token: str = TOKEN
) -> tuple[int, bytes]:
    nonce = "12345678901234567890"
    signed = construct_post_url(f"{PUBLIC}{path}", dict(params))
    signature = get_signature_v3(token.encode(), signed.decode(), nonce.encode()).decode()
    response = client.post(
        path,
        params,
        headers={"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": nonce},
    )
    return response.status_code, response.content


def test_placing_a_call_asks_plivo_with_the_answer_and_status_urls(
    call: Call, plivo_api: HTTPServer
) -> None:
    plivo_api.expect_oneshot_request(CALLS_PATH, method="POST").respond_with_json(
        _fired(), status=201
    )

    call_place(call_id=call.pk)

    body = json.loads(plivo_api.log[0][0].get_data(as_text=True))
    assert {key: body[key] for key in ("from", "to", "answer_url", "ring_url", "hangup_url")} == {
        "from": CALLER,
        "to": CUSTOMER,
        "answer_url": f"{PUBLIC}/telephony/plivo/{call.pk}/answer/",
        "ring_url": f"{PUBLIC}/telephony/plivo/{call.pk}/status/",
        "hangup_url": f"{PUBLIC}/telephony/plivo/{call.pk}/status/",
    }
    call.refresh_from_db()
    # Plivo names the call itself (CallUUID) only in its callbacks.
    assert (call.status, call.provider_call_id) == (Call.Status.DIALING, "")


@pytest.mark.parametrize(
    ("status", "end_reason"),
    [(400, "invalid_number"), (403, "number_not_allowed"), (401, "provider_rejected")],
)
def test_a_refused_call_ends_failed_with_the_reason(
    call: Call, plivo_api: HTTPServer, status: int, end_reason: str
) -> None:
    plivo_api.expect_oneshot_request(CALLS_PATH, method="POST").respond_with_json(
        {"api_id": "a1", "error": "refused"}, status=status
    )

    call_place(call_id=call.pk)

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        end_reason,
    )


def test_hang_up_and_fetch_status(call: Call, plivo_api: HTTPServer) -> None:
    Call.objects.filter(pk=call.pk).update(provider_call_id=CALL_UUID)
    call.refresh_from_db()
    path = f"{CALLS_PATH}{CALL_UUID}/"
    plivo_api.expect_oneshot_request(
        path, method="GET", query_string="status=live"
    ).respond_with_json({"api_id": "a2", "call_status": "in-progress", "call_uuid": CALL_UUID})
    plivo_api.expect_oneshot_request(path, method="DELETE").respond_with_data("", status=204)
    plivo_api.expect_oneshot_request(path, method="DELETE").respond_with_json(
        {"api_id": "a3", "error": "not found"}, status=404
    )

    assert plivo_fetch_status(call=call) == "in-progress"
    assert plivo_hang_up(call=call) is True
    assert plivo_hang_up(call=call) is False


def test_the_answer_streams_mulaw_both_ways_with_a_working_token(
    call: Call, client: Client
) -> None:
    status, body = _post_signed(
        client,
        f"/telephony/plivo/{call.pk}/answer/",
        {"CallUUID": CALL_UUID, "CallStatus": "in-progress"},
    )

    assert status == 200
    stream = ElementTree.fromstring(body).find("./Stream")
    assert stream is not None
    assert stream.attrib == {
        "bidirectional": "true",
        "audioTrack": "inbound",
        "streamTimeout": "3600",
        "keepCallAlive": "true",
        "contentType": "audio/x-mulaw;rate=8000",
    }
    url = urlsplit(str(stream.text))
    assert (url.scheme, url.netloc, url.path) == (
        "wss",
        "breeze.example.com",
        f"/ws/media/plivo/{call.pk}/",
    )
    media_token_consume(token=parse_qs(url.query)["token"][0], call_id=call.pk)
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == (Call.Status.RINGING, CALL_UUID)


def test_an_answer_for_an_ended_call_hangs_up(call: Call, client: Client) -> None:
    Call.objects.filter(pk=call.pk).update(status=Call.Status.ENDED)

    status, body = _post_signed(
        client, f"/telephony/plivo/{call.pk}/answer/", {"CallUUID": CALL_UUID}
    )

    assert (status, body) == (200, b"<Response><Hangup/></Response>")


@pytest.mark.parametrize("kind", ["answer", "status"])
def test_forged_and_missing_signatures_are_refused_and_change_nothing(
    call: Call, client: Client, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    path = f"/telephony/plivo/{call.pk}/{kind}/"
    params = {"CallUUID": CALL_UUID, "CallStatus": "busy"}

    with caplog.at_level(logging.WARNING):
        forged, _ = _post_signed(client, path, params, token="not-the-token")
        missing = client.post(path, params).status_code
        no_nonce = client.post(path, params, headers={"X-Plivo-Signature-V3": "abc"}).status_code

    assert (forged, missing, no_nonce) == (403, 403, 403)
    assert f"call {call.pk}: plivo callback refused" in caplog.text
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == (Call.Status.QUEUED, "")


def _status(client: Client, call: Call, call_status: str) -> int:
    params = {"CallUUID": CALL_UUID, "CallStatus": call_status}
    return _post_signed(client, f"/telephony/plivo/{call.pk}/status/", params)[0]


def test_status_callbacks_move_the_call_forward_only(call: Call, client: Client) -> None:
    Call.objects.filter(pk=call.pk).update(status=Call.Status.DIALING)

    assert _status(client, call, "ringing") == 204
    assert Call.objects.get(pk=call.pk).status == Call.Status.RINGING
    assert _status(client, call, "timeout") == 204
    assert _status(client, call, "ringing") == 204
    assert _status(client, call, "completed") == 204

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason, call.provider_call_id) == (
        Call.Status.ENDED,
        Call.Disposition.NO_ANSWER,
        "provider_no_answer",
        CALL_UUID,
    )


@pytest.mark.parametrize(
    ("call_status", "disposition"),
    [
        ("busy", Call.Disposition.BUSY),
        ("no-answer", Call.Disposition.NO_ANSWER),
        ("failed", Call.Disposition.FAILED),
        ("cancel", Call.Disposition.CANCELED),
        ("completed", Call.Disposition.EARLY_HANGUP),
    ],
)
def test_hang_up_callbacks_end_the_call_with_their_disposition(
    call: Call, client: Client, call_status: str, disposition: str
) -> None:
    assert _status(client, call, call_status) == 204

    call.refresh_from_db()
    assert (call.status, call.disposition) == (Call.Status.ENDED, disposition)


def test_unknown_calls_are_acknowledged_and_malformed_callbacks_refused(
    call: Call, client: Client
) -> None:
    unknown = client.post(f"/telephony/plivo/{call.pk + 1000}/status/", {}).status_code
    bad_status = _status(client, call, "exploded")
    no_uuid, _ = _post_signed(client, f"/telephony/plivo/{call.pk}/status/", {"CallStatus": "busy"})

    assert (unknown, bad_status, no_uuid) == (204, 400, 400)
    assert Call.objects.get(pk=call.pk).status == Call.Status.QUEUED
