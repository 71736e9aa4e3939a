"""Warm transfer on Twilio against a local server answering like Twilio's REST API.

The agent is rung (its answer and status URLs on Breeze), briefed with a summary when they
answer while the customer's leg moves into the conference, and an agent who never answers
is reported to the call's worker as a control message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest
from django.conf import LazySettings
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call, Turn
from calls.services import call_end, call_update_outcome
from calls.voice import pool
from calls.voice.control import _key
from telephony.transfers import call_agent_dial
from tests.telephony.providers import test_exotel, test_twilio
from tests.telephony.providers.conftest import CALLER, PUBLIC, control_messages

MakeCall = Callable[[str, dict[str, str] | None], Call]
AGENT = "+15555550177"
AGENT_SID = "CA" + "9" * 32
CUSTOMER_LEG = f"/2010-04-01/Accounts/{test_twilio.SID}/Calls/{test_twilio.CALL_SID}.json"
HOLD_MUSIC = "https://breeze.example.com/hold.xml"


@pytest.fixture
def call(provider_call: MakeCall, httpserver: HTTPServer, settings: LazySettings) -> Iterator[Call]:
    settings.TWILIO_API_BASE_URL = httpserver.url_for("/")
    settings.TWILIO_HOLD_MUSIC_URL = HOLD_MUSIC
    yield from live_call(provider_call("twilio", test_twilio.SECRETS), test_twilio.CALL_SID)


def live_call(call: Call, provider_call_id: str) -> Iterator[Call]:
    """`call` in progress at its provider, with no control messages before or after."""
    Call.objects.filter(pk=call.pk).update(
        provider_call_id=provider_call_id, status=Call.Status.IN_PROGRESS
    )
    call.refresh_from_db()
    client = pool.sync_client()
    client.delete(_key(call.pk))
    yield call
    client.delete(_key(call.pk))
    client.close()


def test_the_agent_is_rung_with_breezes_answer_and_status_urls(
    call: Call, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"sid": AGENT_SID, "status": "queued"}, status=201
    )

    assert call_agent_dial(call_id=call.pk, number=AGENT, ring_timeout=25) is True

    assert parse_qs(httpserver.log[0][0].get_data(as_text=True)) == {
        "To": [AGENT],
        "From": [CALLER],
        "Url": [f"{PUBLIC}/telephony/twilio/{call.pk}/transfer/agent/"],
        "Method": ["POST"],
        "StatusCallback": [f"{PUBLIC}/telephony/twilio/{call.pk}/transfer/status/"],
        "StatusCallbackMethod": ["POST"],
        "StatusCallbackEvent": ["completed"],
        "Timeout": ["25"],
    }


def test_a_refused_agent_dial_is_false(call: Call, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"code": 21211, "message": "invalid To", "status": 400}, status=400
    )

    assert call_agent_dial(call_id=call.pk, number=AGENT, ring_timeout=25) is False


def test_providers_without_warm_transfer_say_none(provider_call: MakeCall) -> None:
    exotel_call = provider_call("exotel", test_exotel.SECRETS)

    assert call_agent_dial(call_id=exotel_call.pk, number=AGENT, ring_timeout=25) is None


def test_the_answering_agent_is_briefed_and_the_customer_joins_the_conference(
    call: Call, httpserver: HTTPServer, client: Client
) -> None:
    call_update_outcome(call_id=call.pk, outcome="callback", fields={"day": "monday"})
    for index, (speaker, text) in enumerate(
        [("bot", "How can I help?"), ("customer", "my parcel is late"), ("customer", "agent")]
    ):
        Turn.objects.create(call=call, index=index, speaker=speaker, text=text)
    httpserver.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "in-progress"}
    )

    status, body = test_twilio._post_signed(
        client, f"/telephony/twilio/{call.pk}/transfer/agent/", {"CallSid": AGENT_SID}
    )

    assert status == 200
    assert body.decode() == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Transferred call from'
        " 1 5 5 5 5 5 5 0 1 2 3. Outcome so far: callback, day monday. The customer said:"
        ' my parcel is late ... agent.</Say><Dial><Conference endConferenceOnExit="true"'
        f' startConferenceOnEnter="true">breeze-call-{call.pk}</Conference></Dial></Response>'
    )
    customer_twiml = parse_qs(httpserver.log[0][0].get_data(as_text=True))["Twiml"][0]
    conference = ElementTree.fromstring(customer_twiml).find("./Dial/Conference")
    assert conference is not None
    assert (conference.text, conference.attrib) == (
        f"breeze-call-{call.pk}",
        {
            "startConferenceOnEnter": "false",
            "endConferenceOnExit": "true",
            "waitUrl": HOLD_MUSIC,
        },
    )
    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.TRANSFERRED,
        "transferred",
    )


def test_an_agent_answering_after_the_customer_left_is_told_so(
    call: Call, httpserver: HTTPServer, client: Client
) -> None:
    call_end(call_id=call.pk, disposition=Call.Disposition.ANSWERED, end_reason="customer_hangup")

    status, body = test_twilio._post_signed(
        client, f"/telephony/twilio/{call.pk}/transfer/agent/", {"CallSid": AGENT_SID}
    )

    assert (status, body.decode()) == (
        200,
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say>The customer has already left'
        " the call.</Say><Hangup /></Response>",
    )
    assert httpserver.log == []
    call.refresh_from_db()
    assert (call.disposition, call.end_reason) == (Call.Disposition.ANSWERED, "customer_hangup")


@pytest.mark.parametrize("agent_status", ["no-answer", "busy", "failed", "canceled"])
def test_an_agent_who_never_answers_is_reported_to_the_worker(
    call: Call, client: Client, agent_status: str
) -> None:
    path = f"/telephony/twilio/{call.pk}/transfer/status/"
    params = {"CallSid": AGENT_SID, "CallStatus": agent_status}

    assert test_twilio._post_signed(client, path, params)[0] == 204

    assert control_messages(call) == [{"type": "transfer_unanswered"}]
    call.refresh_from_db()
    assert call.status == Call.Status.IN_PROGRESS


def test_an_agent_leg_that_completed_tells_the_worker_nothing(call: Call, client: Client) -> None:
    path = f"/telephony/twilio/{call.pk}/transfer/status/"
    params = {"CallSid": AGENT_SID, "CallStatus": "completed"}

    assert test_twilio._post_signed(client, path, params)[0] == 204

    assert control_messages(call) == []


@pytest.mark.parametrize("kind", ["agent", "status"])
def test_forged_transfer_callbacks_are_refused_and_change_nothing(
    call: Call, client: Client, httpserver: HTTPServer, kind: str
) -> None:
    path = f"/telephony/twilio/{call.pk}/transfer/{kind}/"
    params = {"CallSid": AGENT_SID, "CallStatus": "no-answer"}

    assert test_twilio._post_signed(client, path, params, token="forged")[0] == 403

    assert control_messages(call) == []
    assert httpserver.log == []
    call.refresh_from_db()
    assert call.status == Call.Status.IN_PROGRESS
