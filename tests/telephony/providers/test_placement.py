"""What every real provider's placement shares: transient refusals, and no credential at all."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import LazySettings
from pytest_httpserver import HTTPServer

from calls.models import Call
from telephony.services import call_place
from tests.telephony.providers import test_exotel, test_plivo, test_twilio

MakeCall = Callable[[str, dict[str, str] | None], Call]
# provider → (its credential, the setting with its API root, the path a call is created at)
ADAPTERS = {
    "twilio": (test_twilio.SECRETS, "TWILIO_API_BASE_URL", test_twilio.CALLS_PATH),
    "plivo": (test_plivo.SECRETS, "PLIVO_API_BASE_URL", test_plivo.CALLS_PATH),
    "exotel": (test_exotel.SECRETS, "EXOTEL_API_BASE_URL", test_exotel.CONNECT_PATH),
}


@pytest.mark.parametrize("status", [429, 500, 503])
@pytest.mark.parametrize("provider", ADAPTERS)
def test_rate_limits_and_server_errors_end_the_attempt_as_transient(
    provider_call: MakeCall,
    httpserver: HTTPServer,
    settings: LazySettings,
    provider: str,
    status: int,
) -> None:
    secrets, setting, path = ADAPTERS[provider]
    setattr(settings, setting, httpserver.url_for("/").rstrip("/"))
    call = provider_call(provider, secrets)
    # Plivo's SDK tries its fallback hosts on a 5xx, so the server answers every attempt.
    httpserver.expect_request(path, method="POST").respond_with_json(
        {"error": "try later"}, status=status
    )

    assert call_place(call_id=call.pk) is True

    call.refresh_from_db()
    assert (call.status, call.disposition, call.end_reason) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        "provider_error",
    )
    assert len(httpserver.log) >= 1


@pytest.mark.parametrize("provider", ADAPTERS)
def test_an_unreachable_api_is_transient(
    provider_call: MakeCall, settings: LazySettings, provider: str
) -> None:
    secrets, setting, _ = ADAPTERS[provider]
    # Nothing listens on port 9 (discard) on the test machine.
    setattr(settings, setting, "http://127.0.0.1:9")
    call = provider_call(provider, secrets)

    call_place(call_id=call.pk)

    call.refresh_from_db()
    assert (call.disposition, call.end_reason) == (Call.Disposition.FAILED, "provider_error")


@pytest.mark.parametrize("provider", ADAPTERS)
def test_a_merchant_without_credentials_is_not_dialled(
    provider_call: MakeCall, httpserver: HTTPServer, settings: LazySettings, provider: str
) -> None:
    _, setting, _ = ADAPTERS[provider]
    setattr(settings, setting, httpserver.url_for("/").rstrip("/"))
    call = provider_call(provider, None)

    call_place(call_id=call.pk)

    call.refresh_from_db()
    assert (call.disposition, call.end_reason) == (
        Call.Disposition.FAILED,
        "provider_not_configured",
    )
    assert httpserver.log == []
