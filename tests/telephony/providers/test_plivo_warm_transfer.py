"""Warm transfer on Plivo against a local server answering like Plivo's REST API.

The agent is rung (its answer and hang-up URLs on Breeze); when they answer, the customer's
leg is transferred to Breeze's conference XML (hold music as its waitSound) and the agent is
briefed with a `<Speak>` summary; an agent who never answers is reported to the call's
worker as a control message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from xml.etree import ElementTree

import pytest
from django.conf import LazySettings
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call, Turn
from calls.services import call_end, call_update_outcome
from telephony.transfers import call_agent_dial
from tests.telephony.providers import test_plivo
from tests.telephony.providers.conftest import CALLER, PUBLIC, control_messages
from tests.telephony.providers.test_warm_transfer import live_call

MakeCall = Callable[[str, dict[str, str] | None], Call]
AGENT = "+15555550177"
AGENT_UUID = "b7c1e4a2-0000-4000-8000-000000000099"
CUSTOMER_LEG = f"{test_plivo.CALLS_PATH}{test_plivo.CALL_UUID}/"
HOLD_MUSIC = "https://breeze.example.com/hold.mp3"


@pytest.fixture
def call(provider_call: MakeCall, httpserver: HTTPServer, settings: LazySettings) -> Iterator[Call]:
    settings.PLIVO_API_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.PLIVO_HOLD_MUSIC_URL = HOLD_MUSIC
    yield from live_call(provider_call("plivo", test_plivo.SECRETS), test_plivo.CALL_UUID)


def _xml(body: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(body)


def test_the_agent_is_rung_with_breezes_answer_and_hang_up_urls(
    call: Call, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(test_plivo.CALLS_PATH, method="POST").respond_with_json(
        {"api_id": "a1", "message": "call fired", "request_uuid": "r-2"}, status=201
    )

    assert call_agent_dial(call_id=call.pk, number=AGENT, ring_timeout=25) is True

    sent = httpserver.log[0][0]
    assert sent.path == test_plivo.CALLS_PATH
    assert json.loads(sent.get_data(as_text=True)) == {
        "from": CALLER,
        "to": AGENT,
        "answer_url": f"{PUBLIC}/telephony/plivo/{call.pk}/transfer/agent/",
        "answer_method": "POST",
        "ring_method": "POST",
        "hangup_url": f"{PUBLIC}/telephony/plivo/{call.pk}/transfer/status/",
        "hangup_method": "POST",
        "fallback_method": "POST",
        "machine_detection_time": 5000,
        "machine_detection_method": "POST",
        "ring_timeout": 25,
        "error_if_parent_not_found": False,
    }


def test_a_refused_agent_dial_is_false(call: Call, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(test_plivo.CALLS_PATH, method="POST").respond_with_json(
        {"api_id": "a1", "error": "invalid destination number"}, status=400
    )

    assert call_agent_dial(call_id=call.pk, number=AGENT, ring_timeout=25) is False


def test_the_answering_agent_is_briefed_and_the_customer_joins_the_conference(
    call: Call, httpserver: HTTPServer, client: Client
) -> None:
    call_update_outcome(call_id=call.pk, outcome="callback", fields={"day": "monday"})
    for index, (speaker, text) in enumerate(
        [("bot", "How can I help?"), ("customer", "my parcel is late"), ("customer", "agent")]
    ):
        Turn.objects.create(call=call, index=index, speaker=speaker, text=text)
    httpserver.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"api_id": "a4", "message": "call transferred"}, status=202
    )

    status, body = test_plivo._post_signed(
        client, f"/telephony/plivo/{call.pk}/transfer/agent/", {"CallUUID": AGENT_UUID}
    )

    assert status == 200
    agent_xml = _xml(body)
    assert [(child.tag, child.text, child.attrib) for child in agent_xml] == [
        (
            "Speak",
            "Transferred call from 1 5 5 5 5 5 5 0 1 2 3. Outcome so far: callback, day monday."
            " The customer said: my parcel is late ... agent.",
            {},
        ),
        (
            "Conference",
            f"breeze-call-{call.pk}",
            {"startConferenceOnEnter": "true", "endConferenceOnExit": "true"},
        ),
    ]
    conference_path = f"/telephony/plivo/{call.pk}/transfer/conference/"
    assert [entry[0].path for entry in httpserver.log] == [CUSTOMER_LEG]
    assert json.loads(httpserver.log[0][0].get_data(as_text=True)) == {
        "call_uuid": test_plivo.CALL_UUID,
        "legs": "aleg",
        "aleg_url": f"{PUBLIC}{conference_path}",
        "aleg_method": "POST",
    }
    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.TRANSFERRED,
        "transferred",
    )

    # Plivo then fetches the customer leg's XML, and the conference's waitSound from it.
    status, body = test_plivo._post_signed(
        client, conference_path, {"CallUUID": test_plivo.CALL_UUID}
    )
    assert status == 200
    hold_path = f"/telephony/plivo/{call.pk}/transfer/hold/"
    assert [(child.tag, child.text, child.attrib) for child in _xml(body)] == [
        (
            "Conference",
            f"breeze-call-{call.pk}",
            {
                "startConferenceOnEnter": "false",
                "endConferenceOnExit": "true",
                "waitSound": f"{PUBLIC}{hold_path}",
            },
        )
    ]
    status, body = test_plivo._post_signed(client, hold_path, {"ConferenceName": "x"})
    assert status == 200
    assert [(child.tag, child.text, child.attrib) for child in _xml(body)] == [
        ("Play", HOLD_MUSIC, {"loop": "0"})
    ]


def test_an_agent_answering_after_the_customer_left_is_told_so(
    call: Call, httpserver: HTTPServer, client: Client
) -> None:
    call_end(call_id=call.pk, disposition=Call.Disposition.ANSWERED, end_reason="customer_hangup")

    status, body = test_plivo._post_signed(
        client, f"/telephony/plivo/{call.pk}/transfer/agent/", {"CallUUID": AGENT_UUID}
    )

    assert (status, body.decode()) == (
        200,
        "<Response><Speak>The customer has already left the call.</Speak><Hangup/></Response>",
    )
    assert httpserver.log == []
    call.refresh_from_db()
    assert (call.disposition, call.end_reason) == (Call.Disposition.ANSWERED, "customer_hangup")


def test_a_customer_leg_plivo_no_longer_has_tells_the_agent(
    call: Call, httpserver: HTTPServer, client: Client
) -> None:
    httpserver.expect_oneshot_request(CUSTOMER_LEG, method="POST").respond_with_json(
        {"api_id": "a4", "error": "not found"}, status=404
    )

    status, body = test_plivo._post_signed(
        client, f"/telephony/plivo/{call.pk}/transfer/agent/", {"CallUUID": AGENT_UUID}
    )

    assert (status, body.decode()) == (
        200,
        "<Response><Speak>The customer has already left the call.</Speak><Hangup/></Response>",
    )
    assert [entry[0].path for entry in httpserver.log] == [CUSTOMER_LEG]


@pytest.mark.parametrize("agent_status", ["no-answer", "timeout", "busy", "failed", "cancel"])
def test_an_agent_who_never_answers_is_reported_to_the_worker(
    call: Call, client: Client, agent_status: str
) -> None:
    path = f"/telephony/plivo/{call.pk}/transfer/status/"
    params = {"CallUUID": AGENT_UUID, "CallStatus": agent_status, "HangupCause": "NO_ANSWER"}

    assert test_plivo._post_signed(client, path, params)[0] == 204

    assert control_messages(call) == [{"type": "transfer_unanswered"}]
    call.refresh_from_db()
    assert call.status == Call.Status.IN_PROGRESS


def test_an_agent_leg_that_completed_tells_the_worker_nothing(call: Call, client: Client) -> None:
    path = f"/telephony/plivo/{call.pk}/transfer/status/"
    params = {"CallUUID": AGENT_UUID, "CallStatus": "completed"}

    assert test_plivo._post_signed(client, path, params)[0] == 204

    assert control_messages(call) == []


def test_an_agent_leg_with_an_unknown_status_is_refused(call: Call, client: Client) -> None:
    path = f"/telephony/plivo/{call.pk}/transfer/status/"

    assert test_plivo._post_signed(client, path, {"CallUUID": AGENT_UUID})[0] == 400

    assert control_messages(call) == []


@pytest.mark.parametrize("kind", ["agent", "status", "conference", "hold"])
def test_forged_transfer_callbacks_are_refused_and_change_nothing(
    call: Call, client: Client, httpserver: HTTPServer, kind: str
) -> None:
    path = f"/telephony/plivo/{call.pk}/transfer/{kind}/"
    params = {"CallUUID": AGENT_UUID, "CallStatus": "no-answer"}

    assert test_plivo._post_signed(client, path, params, token="forged")[0] == 403

    assert control_messages(call) == []
    assert httpserver.log == []
    call.refresh_from_db()
    assert call.status == Call.Status.IN_PROGRESS
