"""Calls left ringing with no media: the provider is asked, then the call is ended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from django.conf import LazySettings
from django.utils import timezone
from pytest_httpserver import HTTPServer

from calls.models import Call
from telephony.unconnected import UnconnectedReport, calls_reconcile_unconnected
from tests.telephony.providers import test_exotel, test_plivo, test_twilio
from tests.telephony.providers.accounts import PROVIDER_IDS, SECRETS

MakeCall = Callable[[str, dict[str, str] | None], Call]
TWILIO_CALL = f"/2010-04-01/Accounts/{test_twilio.SID}/Calls/{test_twilio.CALL_SID}.json"
PLIVO_CALL = f"{test_plivo.CALLS_PATH}{test_plivo.CALL_UUID}/"
EXOTEL_CALL = f"/v1/Accounts/{test_exotel.SID}/Calls/{test_exotel.CALL_SID}.json"


@pytest.fixture
def local_apis(httpserver: HTTPServer, settings: LazySettings) -> HTTPServer:
    root = httpserver.url_for("/").rstrip("/")
    settings.TWILIO_API_BASE_URL = root
    settings.PLIVO_API_BASE_URL = root
    settings.EXOTEL_API_BASE_URL = root
    settings.BREEZE_RING_TIMEOUT_SECONDS = 300
    return httpserver


def _ringing(
    make: MakeCall, provider: str, *, seconds_ago: int, media: bool = False, first: bool = True
) -> Call:
    # The merchant's credential is made with its first call of a provider.
    call = make(provider, SECRETS.get(provider) if first else None)
    then = timezone.now() - dt.timedelta(seconds=seconds_ago)
    Call.objects.filter(pk=call.pk).update(
        status=Call.Status.RINGING,
        provider_call_id=PROVIDER_IDS.get(provider, ""),
        updated_at=then,
        media_connected_at=then if media else None,
    )
    return call


def _state(call: Call) -> tuple[str, str, str]:
    call.refresh_from_db()
    return call.status, call.disposition, call.end_reason


def _twilio_status(server: HTTPServer, status: int, body: dict[str, object]) -> None:
    server.expect_oneshot_request(TWILIO_CALL, method="GET").respond_with_json(body, status=status)


@pytest.mark.parametrize(
    ("word", "disposition", "end_reason"),
    [
        ("completed", Call.Disposition.EARLY_HANGUP, "provider_completed"),
        ("no-answer", Call.Disposition.NO_ANSWER, "provider_no_answer"),
        ("busy", Call.Disposition.BUSY, "provider_busy"),
    ],
)
def test_a_final_word_from_twilio_ends_the_call_as_its_callback_would(
    provider_call: MakeCall, local_apis: HTTPServer, word: str, disposition: str, end_reason: str
) -> None:
    call = _ringing(provider_call, "twilio", seconds_ago=301)
    _twilio_status(local_apis, 200, {"sid": test_twilio.CALL_SID, "status": word})

    report = calls_reconcile_unconnected()

    assert report == UnconnectedReport(applied=[call.pk])
    assert _state(call) == (Call.Status.ENDED, disposition, end_reason)
    # Nothing left to hang up.
    assert [request.method for request, _ in local_apis.log] == ["GET"]


def test_a_call_twilio_still_holds_is_hung_up_and_ended_failed(
    provider_call: MakeCall, local_apis: HTTPServer
) -> None:
    call = _ringing(provider_call, "twilio", seconds_ago=301)
    _twilio_status(local_apis, 200, {"sid": test_twilio.CALL_SID, "status": "in-progress"})
    local_apis.expect_oneshot_request(TWILIO_CALL, method="POST").respond_with_json(
        {"sid": test_twilio.CALL_SID, "status": "completed"}
    )

    assert calls_reconcile_unconnected() == UnconnectedReport(ended=[call.pk])

    assert _state(call) == (Call.Status.ENDED, Call.Disposition.FAILED, "media_never_connected")
    hang_up = local_apis.log[1][0]
    assert parse_qs(hang_up.get_data(as_text=True)) == {"Status": ["completed"]}


def test_an_unreachable_provider_is_asked_again_then_the_call_is_ended(
    provider_call: MakeCall, local_apis: HTTPServer
) -> None:
    call = _ringing(provider_call, "twilio", seconds_ago=400)
    _twilio_status(local_apis, 503, {"code": 20500, "message": "down", "status": 503})

    assert calls_reconcile_unconnected() == UnconnectedReport(deferred=[call.pk])
    assert _state(call) == (Call.Status.RINGING, "", "")

    # Past twice the timeout the call ends without the provider's word; the hang-up fails too.
    _twilio_status(local_apis, 503, {"code": 20500, "message": "down", "status": 503})
    local_apis.expect_oneshot_request(TWILIO_CALL, method="POST").respond_with_json(
        {"code": 20500, "message": "down", "status": 503}, status=503
    )
    later = timezone.now() + dt.timedelta(seconds=250)

    assert calls_reconcile_unconnected(now=later) == UnconnectedReport(ended=[call.pk])
    assert _state(call) == (Call.Status.ENDED, Call.Disposition.FAILED, "media_never_connected")


def test_plivo_no_longer_live_and_exotel_busy(
    provider_call: MakeCall, local_apis: HTTPServer
) -> None:
    plivo = _ringing(provider_call, "plivo", seconds_ago=301)
    exotel = _ringing(provider_call, "exotel", seconds_ago=301)
    local_apis.expect_oneshot_request(
        PLIVO_CALL, method="GET", query_string="status=live"
    ).respond_with_json({"api_id": "a1", "error": "not found"}, status=404)
    local_apis.expect_oneshot_request(PLIVO_CALL, method="DELETE").respond_with_json(
        {"api_id": "a2", "error": "not found"}, status=404
    )
    local_apis.expect_oneshot_request(EXOTEL_CALL, method="GET").respond_with_json(
        {"Call": {"Sid": test_exotel.CALL_SID, "Status": "busy"}}
    )

    report = calls_reconcile_unconnected()

    assert (report.applied, report.ended, report.deferred) == ([exotel.pk], [plivo.pk], [])
    assert _state(plivo) == (Call.Status.ENDED, Call.Disposition.FAILED, "media_never_connected")
    assert _state(exotel) == (Call.Status.ENDED, Call.Disposition.BUSY, "provider_busy")


def test_only_old_ringing_calls_without_media_are_touched(
    provider_call: MakeCall, local_apis: HTTPServer
) -> None:
    young = _ringing(provider_call, "twilio", seconds_ago=299)
    connected = _ringing(provider_call, "twilio", seconds_ago=301, media=True, first=False)
    simulated = _ringing(provider_call, "simulator", seconds_ago=301)

    assert calls_reconcile_unconnected() == UnconnectedReport(ended=[simulated.pk])

    assert _state(young)[0] == _state(connected)[0] == Call.Status.RINGING
    assert _state(simulated) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        "media_never_connected",
    )
    assert local_apis.log == []
    # A second run finds nothing more to do.
    assert calls_reconcile_unconnected() == UnconnectedReport()
