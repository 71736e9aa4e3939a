"""Answering-machine detection: requested when the template says what to do on a machine,
its signed callback ending the call as voicemail, then hanging up or leaving the message."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.conf import LazySettings
from django.test import Client
from pytest_httpserver import HTTPServer

from calls.models import Call
from calls.voice import pool
from calls.voice.control import _key
from telephony.services import call_place
from templates_app.models import TemplateVersion
from tests.telephony.providers import test_plivo, test_twilio
from tests.telephony.providers.conftest import PUBLIC, control_messages

MakeCall = Callable[[str, dict[str, str] | None], Call]
MESSAGE = "Hello {customer_name}, please call us back about order {order_id}."
TWILIO_LEG = f"/2010-04-01/Accounts/{test_twilio.SID}/Calls/{test_twilio.CALL_SID}.json"
PLIVO_LEG = f"{test_plivo.CALLS_PATH}{test_plivo.CALL_UUID}/"


@pytest.fixture
def on_provider(
    provider_call: MakeCall, httpserver: HTTPServer, settings: LazySettings
) -> Iterator[Callable[[str, dict[str, Any]], Call]]:
    """A call on `provider` whose template has this `voicemail` block, with control cleared."""
    settings.TWILIO_API_BASE_URL = httpserver.url_for("/")
    settings.PLIVO_API_BASE_URL = httpserver.url_for("/").rstrip("/")
    made: list[Call] = []

    def make(provider: str, voicemail: dict[str, Any]) -> Call:
        secrets = test_twilio.SECRETS if provider == "twilio" else test_plivo.SECRETS
        call = provider_call(provider, secrets)
        definition = {**call.template_version.definition, "voicemail": voicemail}
        TemplateVersion.objects.filter(pk=call.template_version_id).update(definition=definition)
        call.refresh_from_db()
        call.template_version.refresh_from_db()
        made.append(call)
        return call

    yield make
    client = pool.sync_client()
    for call in made:
        client.delete(_key(call.pk))
    client.close()


def _live(call: Call, provider_call_id: str) -> Call:
    Call.objects.filter(pk=call.pk).update(
        provider_call_id=provider_call_id, status=Call.Status.IN_PROGRESS
    )
    call.refresh_from_db()
    return call


def _ended(call: Call) -> tuple[str, str, str]:
    call.refresh_from_db()
    return call.status, call.disposition, call.end_reason


VOICEMAIL_ENDED = (Call.Status.ENDED, Call.Disposition.VOICEMAIL, "provider_voicemail")


@pytest.mark.parametrize(
    ("action", "detection"), [("hangup", "Enable"), ("message", "DetectMessageEnd")]
)
def test_twilio_is_asked_for_asynchronous_detection(
    on_provider: Callable[[str, dict[str, Any]], Call],
    httpserver: HTTPServer,
    action: str,
    detection: str,
) -> None:
    call = on_provider("twilio", {"action": action, "message": MESSAGE})
    httpserver.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "queued"}, status=201
    )

    assert call_place(call_id=call.pk) is True

    form = parse_qs(httpserver.log[0][0].get_data(as_text=True))
    assert {key: form[key] for key in form if "Amd" in key or "Machine" in key} == {
        "MachineDetection": [detection],
        "AsyncAmd": ["true"],
        "AsyncAmdStatusCallback": [f"{PUBLIC}/telephony/twilio/{call.pk}/amd/"],
        "AsyncAmdStatusCallbackMethod": ["POST"],
    }


def test_plivo_is_asked_for_asynchronous_detection(
    on_provider: Callable[[str, dict[str, Any]], Call], httpserver: HTTPServer
) -> None:
    call = on_provider("plivo", {"action": "hangup"})
    httpserver.expect_oneshot_request(test_plivo.CALLS_PATH, method="POST").respond_with_json(
        {"api_id": "a1", "message": "call fired", "request_uuid": "r-1"}, status=201
    )

    assert call_place(call_id=call.pk) is True

    body = json.loads(httpserver.log[0][0].get_data(as_text=True))
    assert {key: body[key] for key in body if key.startswith("machine_detection")} == {
        "machine_detection": "true",
        "machine_detection_url": f"{PUBLIC}/telephony/plivo/{call.pk}/amd/",
        "machine_detection_method": "POST",
        "machine_detection_time": 5000,
    }


def test_a_machine_with_action_hangup_is_hung_up_at_twilio_once(
    on_provider: Callable[[str, dict[str, Any]], Call], httpserver: HTTPServer, client: Client
) -> None:
    call = _live(on_provider("twilio", {"action": "hangup"}), test_twilio.CALL_SID)
    httpserver.expect_oneshot_request(TWILIO_LEG, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "completed"}
    )
    path = f"/telephony/twilio/{call.pk}/amd/"
    params = {"CallSid": test_twilio.CALL_SID, "AnsweredBy": "machine_start"}

    assert test_twilio._post_signed(client, path, params)[0] == 204
    assert test_twilio._post_signed(client, path, params)[0] == 204

    assert _ended(call) == VOICEMAIL_ENDED
    assert [parse_qs(r.get_data(as_text=True)) for r, _ in httpserver.log] == [
        {"Status": ["completed"]}
    ]
    assert control_messages(call) == []


def test_a_machine_with_action_message_tells_the_worker_to_leave_it(
    on_provider: Callable[[str, dict[str, Any]], Call], httpserver: HTTPServer, client: Client
) -> None:
    call = _live(
        on_provider("twilio", {"action": "message", "message": MESSAGE}), test_twilio.CALL_SID
    )
    path = f"/telephony/twilio/{call.pk}/amd/"
    params = {"CallSid": test_twilio.CALL_SID, "AnsweredBy": "machine_end_beep"}

    assert test_twilio._post_signed(client, path, params)[0] == 204

    assert _ended(call) == VOICEMAIL_ENDED
    # The worker renders the variables (it holds the call's payload) and hangs up itself.
    assert control_messages(call) == [{"type": "voicemail", "message": MESSAGE}]
    assert httpserver.log == []


@pytest.mark.parametrize("answered_by", ["human", "unknown"])
def test_a_person_answering_changes_nothing(
    on_provider: Callable[[str, dict[str, Any]], Call],
    httpserver: HTTPServer,
    client: Client,
    answered_by: str,
) -> None:
    call = _live(on_provider("twilio", {"action": "hangup"}), test_twilio.CALL_SID)
    path = f"/telephony/twilio/{call.pk}/amd/"
    params = {"CallSid": test_twilio.CALL_SID, "AnsweredBy": answered_by}

    assert test_twilio._post_signed(client, path, params)[0] == 204

    assert _ended(call) == (Call.Status.IN_PROGRESS, "", "")
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("params", "token", "status"),
    [
        ({"CallSid": test_twilio.CALL_SID, "AnsweredBy": "machine_start"}, "forged", 403),
        ({"CallSid": test_twilio.CALL_SID}, test_twilio.TOKEN, 400),
        ({"AnsweredBy": "machine_start"}, test_twilio.TOKEN, 400),
    ],
)
def test_forged_and_malformed_verdicts_change_nothing(
    on_provider: Callable[[str, dict[str, Any]], Call],
    httpserver: HTTPServer,
    client: Client,
    params: dict[str, str],
    token: str,
    status: int,
) -> None:
    call = _live(on_provider("twilio", {"action": "hangup"}), test_twilio.CALL_SID)
    path = f"/telephony/twilio/{call.pk}/amd/"

    assert test_twilio._post_signed(client, path, params, token=token)[0] == status

    assert _ended(call) == (Call.Status.IN_PROGRESS, "", "")
    assert httpserver.log == []


def test_a_verdict_for_another_call_is_ignored(
    on_provider: Callable[[str, dict[str, Any]], Call], httpserver: HTTPServer, client: Client
) -> None:
    call = _live(on_provider("twilio", {"action": "hangup"}), test_twilio.CALL_SID)
    path = f"/telephony/twilio/{call.pk}/amd/"
    params = {"CallSid": "CA" + "7" * 32, "AnsweredBy": "machine_start"}

    assert test_twilio._post_signed(client, path, params)[0] == 204

    assert _ended(call) == (Call.Status.IN_PROGRESS, "", "")
    assert httpserver.log == []


def test_a_plivo_machine_is_hung_up_at_plivo(
    on_provider: Callable[[str, dict[str, Any]], Call], httpserver: HTTPServer, client: Client
) -> None:
    call = _live(on_provider("plivo", {"action": "hangup"}), test_plivo.CALL_UUID)
    httpserver.expect_oneshot_request(PLIVO_LEG, method="DELETE").respond_with_data(status=204)
    path = f"/telephony/plivo/{call.pk}/amd/"

    assert (
        test_plivo._post_signed(
            client, path, {"CallUUID": test_plivo.CALL_UUID, "Machine": "false"}
        )[0]
        == 204
    )
    assert _ended(call) == (Call.Status.IN_PROGRESS, "", "")
    assert (
        test_plivo._post_signed(
            client, path, {"CallUUID": test_plivo.CALL_UUID, "Machine": "true"}
        )[0]
        == 204
    )

    assert _ended(call) == VOICEMAIL_ENDED
    assert [(r.method, r.path) for r, _ in httpserver.log] == [("DELETE", PLIVO_LEG)]
