"""The provider serializers the worker builds, against a local server that answers like Twilio."""

from __future__ import annotations

import pytest
from django.test import override_settings
from pytest_httpserver import HTTPServer

from calls.voice.serializers import build_serializer
from templates_app.pipecat_compat import EndFrame

START = {"event": "start", "start": {"streamSid": "MZ0001", "callSid": "CA0001"}}
SECRETS = {"twilio": {"account_sid": "AC0001", "auth_token": "tok"}}


@pytest.mark.asyncio
async def test_twilio_hangs_up_through_the_configured_api_base_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/2010-04-01/Accounts/AC0001/Calls/CA0001.json", method="POST"
    ).respond_with_json({"sid": "CA0001", "status": "completed"})
    with override_settings(TWILIO_API_BASE_URL=httpserver.url_for("/").rstrip("/")):
        serializer = build_serializer("twilio", START, credentials=SECRETS)

    assert await serializer.serialize(EndFrame()) is None

    [(request, _)] = httpserver.log
    assert request.form["Status"] == "completed"
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == ("AC0001", "tok")


@pytest.mark.asyncio
async def test_the_simulator_never_hangs_up_through_an_api(httpserver: HTTPServer) -> None:
    with override_settings(TWILIO_API_BASE_URL=httpserver.url_for("/").rstrip("/")):
        serializer = build_serializer("simulator", START, credentials=SECRETS)

    assert await serializer.serialize(EndFrame()) is None
    assert httpserver.log == []


PLIVO_START = {"event": "start", "start": {"streamId": "ST0001", "callId": "pl-call-1"}}
PLIVO_SECRETS = {"plivo": {"auth_id": "MA0001", "auth_token": "ptok"}}


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [204, 404])
async def test_plivo_hangs_up_through_the_configured_api_base_url(
    httpserver: HTTPServer, status: int
) -> None:
    httpserver.expect_request(
        "/v1/Account/MA0001/Call/pl-call-1/", method="DELETE"
    ).respond_with_data("", status=status)
    with override_settings(PLIVO_API_BASE_URL=httpserver.url_for("/")):
        serializer = build_serializer("plivo", PLIVO_START, credentials=PLIVO_SECRETS)

    assert await serializer.serialize(EndFrame()) is None
    # Once only, however many end frames follow.
    assert await serializer.serialize(EndFrame()) is None

    [(request, _)] = httpserver.log
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == ("MA0001", "ptok")


@pytest.mark.asyncio
async def test_plivo_without_credentials_never_hangs_up(httpserver: HTTPServer) -> None:
    with override_settings(PLIVO_API_BASE_URL=httpserver.url_for("/")):
        serializer = build_serializer("plivo", PLIVO_START, credentials={})

    assert await serializer.serialize(EndFrame()) is None
    assert httpserver.log == []
