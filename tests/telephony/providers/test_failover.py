"""Failover: a provider that refuses for now hands the same call to the next one configured."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import requests
from django.conf import LazySettings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from calls.models import Call
from config.services import provider_credential_create
from telephony.failover import dial_may_have_reached_provider
from telephony.providers.shared import ProviderUnavailableError
from telephony.services import call_place, call_provider_switch
from templates_app.models import TemplateVersion
from tests.conftest import Tenants
from tests.telephony.providers import test_plivo, test_twilio
from tests.telephony.providers.conftest import CUSTOMER

MakeCall = Callable[[str, dict[str, str] | None], Call]
TWILIO_NUMBER = "+15555550111"
PLIVO_NUMBER = "+15555550222"
PROVIDERS = [
    {"provider": "twilio", "caller_numbers": [TWILIO_NUMBER]},
    {"provider": "plivo", "caller_numbers": [PLIVO_NUMBER]},
]


@pytest.fixture
def vendors(httpserver: HTTPServer, settings: LazySettings) -> HTTPServer:
    """One local server answering on Twilio's and Plivo's paths."""
    root = httpserver.url_for("/").rstrip("/")
    settings.TWILIO_API_BASE_URL = root
    settings.PLIVO_API_BASE_URL = root
    return httpserver


@pytest.fixture
def failover_call(
    provider_call: MakeCall, tenants: Tenants, published: TemplateVersion
) -> Callable[[list[dict[str, Any]]], Call]:
    """A queued Twilio call whose template lists `providers`; Acme holds both credentials."""

    def make(providers: list[dict[str, Any]]) -> Call:
        definition = published.definition
        definition["execution"] = {
            **definition.get("execution", {}),
            "telephony_providers": providers,
        }
        TemplateVersion.objects.filter(pk=published.pk).update(definition=definition)
        provider_credential_create(
            merchant=tenants.acme, provider="plivo", secrets=test_plivo.SECRETS
        )
        return provider_call("twilio", test_twilio.SECRETS)

    return make


def _paths(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def _plivo_accepts(server: HTTPServer) -> None:
    server.expect_oneshot_request(test_plivo.CALLS_PATH, method="POST").respond_with_json(
        {"api_id": "a1", "message": "call fired", "request_uuid": "r-1"}, status=201
    )


@pytest.mark.parametrize("status", [429, 503])
def test_a_transient_refusal_fails_over_to_the_next_provider_on_the_same_call(
    failover_call: Callable[[list[dict[str, Any]]], Call], vendors: HTTPServer, status: int
) -> None:
    call = failover_call(PROVIDERS)
    vendors.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"code": 20003, "message": "try later", "status": status}, status=status
    )
    _plivo_accepts(vendors)

    assert call_place(call_id=call.pk) is True

    assert _paths(vendors) == [test_twilio.CALLS_PATH, test_plivo.CALLS_PATH]
    twilio_form = parse_qs(vendors.log[0][0].get_data(as_text=True))
    plivo_body = vendors.log[1][0].get_json()
    assert (twilio_form["From"], twilio_form["To"]) == ([TWILIO_NUMBER], [CUSTOMER])
    assert (plivo_body["from"], plivo_body["to"]) == (PLIVO_NUMBER, CUSTOMER)
    assert plivo_body["answer_url"].endswith(f"/telephony/plivo/{call.pk}/answer/")
    call.refresh_from_db()
    assert (call.status, call.provider, call.disposition) == (Call.Status.DIALING, "plivo", "")
    assert Call.objects.count() == 1


def test_an_unreachable_provider_fails_over(
    failover_call: Callable[[list[dict[str, Any]]], Call],
    vendors: HTTPServer,
    settings: LazySettings,
) -> None:
    call = failover_call(PROVIDERS)
    # Nothing listens on port 9 (discard): the connection is refused, nothing was sent.
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"
    _plivo_accepts(vendors)

    call_place(call_id=call.pk)

    assert _paths(vendors) == [test_plivo.CALLS_PATH]
    call.refresh_from_db()
    assert (call.status, call.provider) == (Call.Status.DIALING, "plivo")


def test_when_every_provider_refuses_the_attempt_ends_as_a_provider_error(
    failover_call: Callable[[list[dict[str, Any]]], Call], vendors: HTTPServer
) -> None:
    call = failover_call(PROVIDERS)
    vendors.expect_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"code": 20003, "message": "busy", "status": 429}, status=429
    )
    vendors.expect_request(test_plivo.CALLS_PATH, method="POST").respond_with_json(
        {"api_id": "a1", "error": "slow down"}, status=429
    )

    call_place(call_id=call.pk)

    assert _paths(vendors) == [test_twilio.CALLS_PATH, test_plivo.CALLS_PATH]
    call.refresh_from_db()
    assert (call.status, call.provider, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        "plivo",
        Call.Disposition.FAILED,
        "provider_error",
    )


def test_a_permanent_refusal_does_not_fail_over(
    failover_call: Callable[[list[dict[str, Any]]], Call], vendors: HTTPServer
) -> None:
    call = failover_call(PROVIDERS)
    vendors.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_json(
        {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}, status=400
    )
    _plivo_accepts(vendors)

    call_place(call_id=call.pk)

    assert _paths(vendors) == [test_twilio.CALLS_PATH]
    call.refresh_from_db()
    assert (call.provider, call.disposition, call.end_reason) == (
        "twilio",
        Call.Disposition.FAILED,
        "invalid_number",
    )


def test_a_lost_answer_does_not_fail_over_because_the_first_provider_may_be_ringing(
    failover_call: Callable[[list[dict[str, Any]]], Call],
    vendors: HTTPServer,
    settings: LazySettings,
) -> None:
    call = failover_call(PROVIDERS)
    settings.TELEPHONY_HTTP_TIMEOUT = 0.3

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", status=201, content_type="application/json")

    vendors.expect_oneshot_request(test_twilio.CALLS_PATH, method="POST").respond_with_handler(slow)
    _plivo_accepts(vendors)

    call_place(call_id=call.pk)

    # Handing the call on would have moved it to Plivo (the server is still answering Twilio).
    call.refresh_from_db()
    assert (call.provider, call.disposition, call.end_reason) == (
        "twilio",
        Call.Disposition.FAILED,
        "provider_error",
    )


def test_a_call_that_the_first_provider_named_is_never_handed_on(
    failover_call: Callable[[list[dict[str, Any]]], Call],
) -> None:
    call = failover_call(PROVIDERS)
    call_place_started = Call.objects.filter(pk=call.pk)
    call_place_started.update(status=Call.Status.DIALING)
    # Twilio's status callback named the call before the dial request's answer was lost.
    call_place_started.update(provider_call_id="CA" + "9" * 32)

    assert (
        call_provider_switch(call_id=call.pk, from_provider="twilio", to_provider="plivo") is False
    )
    call_place_started.update(provider_call_id="")
    assert (
        call_provider_switch(call_id=call.pk, from_provider="plivo", to_provider="exotel") is False
    )
    assert call_provider_switch(call_id=call.pk, from_provider="twilio", to_provider="plivo")
    call.refresh_from_db()
    assert call.provider == "plivo"


def test_which_errors_may_hide_a_dial() -> None:
    refused = requests.ConnectionError("refused")
    try:
        requests.get("http://127.0.0.1:9/", timeout=1)
    except requests.ConnectionError as error:
        refused = error
    answered = ProviderUnavailableError("Twilio answered 503")
    read_timeout = ProviderUnavailableError("lost")
    read_timeout.__cause__ = requests.ReadTimeout("read timed out")

    assert dial_may_have_reached_provider(refused) is False
    assert dial_may_have_reached_provider(answered) is False
    assert dial_may_have_reached_provider(requests.ReadTimeout("read timed out")) is True
    assert dial_may_have_reached_provider(read_timeout) is True
    # Exotel's adapter wraps httpx's errors the same way.
    for cause, may_have_reached in [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow to connect"), False),
        (httpx.ReadTimeout("no answer"), True),
        (httpx.RemoteProtocolError("dropped"), True),
    ]:
        wrapped = ProviderUnavailableError("Exotel unreachable")
        wrapped.__cause__ = cause
        assert dial_may_have_reached_provider(wrapped) is may_have_reached, cause
