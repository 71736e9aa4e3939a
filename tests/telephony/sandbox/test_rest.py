"""The sandbox's REST APIs through the vendors' own SDKs: what a call looks like while it rings
and once hung up, and the vendors' error bodies."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import httpx
import pytest
from django.conf import LazySettings
from plivo.exceptions import ResourceNotFoundError
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from telephony.providers.plivo.client import plivo_client
from telephony.sandbox.credentials import SANDBOX_SECRETS
from tests.processes import wait_for

# Rings then is busy; nothing is listening at the callback URLs (port 9).
BUSY = "+15005550486"
CALLBACK = "http://127.0.0.1:9/status/"
TWILIO = SANDBOX_SECRETS["twilio"]
PLIVO = SANDBOX_SECRETS["plivo"]


def _sandbox_call(root: str, sid: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{root}/sandbox/calls/{sid}") as response:
        found: dict[str, Any] = json.load(response)
    return found


def _finished(root: str, sid: str) -> dict[str, Any]:
    return wait_for(
        lambda: (found := _sandbox_call(root, sid)) and (found if found["finished"] else None),
        timeout=10,
        what=f"{sid} to finish",
    )


def _twilio(root: str, *, token: str = TWILIO["auth_token"]) -> Client:
    client = Client(TWILIO["account_sid"], token)
    client.api.base_url = f"{root}/twilio"
    return client


def test_a_twilio_call_is_fetched_ringing_and_canceled_by_a_hang_up(sandbox_url: str) -> None:
    client = _twilio(sandbox_url)
    created = client.calls.create(
        to="+15005550199", from_="+15005550006", url=CALLBACK, status_callback=CALLBACK
    )
    assert (created.status, created.to, created.direction) == (
        "queued",
        "+15005550199",
        "outbound-api",
    )
    assert created.sid.startswith("CA")
    assert len(created.sid) == 34

    ringing = wait_for(
        lambda: (
            (call := client.calls(created.sid).fetch())
            and (call if call.status == "ringing" else None)
        ),
        timeout=5,
        what="ringing",
    )
    assert ringing.sid == created.sid
    client.calls(created.sid).update(status="completed")
    record = _finished(sandbox_url, created.sid)

    assert (record["status"], record["ended_by"], record["duration"]) == ("canceled", "rest", 0)
    # Only the final status is sent without StatusCallbackEvent; Breeze was unreachable.
    assert [(d["kind"], d["status"]) for d in record["deliveries"]] == [("status:canceled", None)]
    assert client.calls(created.sid).fetch().status == "canceled"
    with pytest.raises(TwilioRestException) as ended:
        client.calls(created.sid).update(status="completed")
    assert (ended.value.status, ended.value.code) == (400, 21220)


@pytest.mark.parametrize(
    ("to", "status", "code"),
    [("+15005550001", 400, 21211), ("+15005550429", 429, 20429), ("+15005550500", 500, 20500)],
)
def test_twilio_refusals_carry_twilios_error_body(
    sandbox_url: str, to: str, status: int, code: int
) -> None:
    with pytest.raises(TwilioRestException) as refused:
        _twilio(sandbox_url).calls.create(to=to, from_="+15005550006", url=CALLBACK)
    assert (refused.value.status, refused.value.code) == (status, code)


def test_twilio_answers_401_to_another_account_and_404_to_an_unknown_call(
    sandbox_url: str,
) -> None:
    other = Client("AC" + "0" * 32, "token")
    other.api.base_url = f"{sandbox_url}/twilio"
    with pytest.raises(TwilioRestException) as unknown:
        _twilio(sandbox_url).calls("CA" + "0" * 32).fetch()
    assert (unknown.value.status, unknown.value.code) == (404, 20404)
    response = httpx.post(
        f"{sandbox_url}/twilio/2010-04-01/Accounts/{TWILIO['account_sid']}/Calls.json",
        auth=("AC" + "0" * 32, "token"),
        data={"To": BUSY},
    )
    assert (response.status_code, response.json()["code"]) == (401, 20003)


def test_a_busy_plivo_call_is_live_while_it_rings_then_gone(
    sandbox_url: str, settings: LazySettings
) -> None:
    settings.PLIVO_API_BASE_URL = f"{sandbox_url}/plivo"
    client, _ = plivo_client(secrets=PLIVO)
    client.calls.create(
        from_="+15005550006", to_=BUSY, answer_url=CALLBACK, ring_url=CALLBACK, hangup_url=CALLBACK
    )
    with urllib.request.urlopen(f"{sandbox_url}/sandbox/calls") as response:
        [call] = json.load(response)["calls"]

    live = client.live_calls.get(call["sid"])
    assert (live.call_uuid, live.to) == (call["sid"], BUSY)
    record = _finished(sandbox_url, call["sid"])
    assert record["status"] == "busy"
    assert [d["kind"] for d in record["deliveries"]] == ["status:ringing", "status:busy"]
    with pytest.raises(ResourceNotFoundError):
        client.live_calls.get(call["sid"])


def test_an_exotel_call_is_read_back_with_its_status(sandbox_url: str) -> None:
    secrets = SANDBOX_SECRETS["exotel"]
    root = f"{sandbox_url}/exotel/v1/Accounts/{secrets['account_sid']}/Calls"
    auth = (secrets["api_key"], secrets["api_token"])
    placed = httpx.post(
        f"{root}/connect.json",
        auth=auth,
        data={"From": BUSY, "CallerId": "+15005550006", "StatusCallback": CALLBACK},
    )
    assert placed.status_code == 200
    sid = placed.json()["Call"]["Sid"]

    _finished(sandbox_url, sid)
    details = httpx.get(f"{root}/{sid}.json", auth=auth).json()["Call"]
    assert (details["Sid"], details["Status"], details["From"]) == (sid, "busy", BUSY)
    refused = httpx.post(
        f"{root}/connect.json", auth=auth, data={"From": "+15005550001", "CallerId": "+1"}
    )
    assert refused.status_code == 400
    assert refused.json()["RestException"]["Status"] == 400
