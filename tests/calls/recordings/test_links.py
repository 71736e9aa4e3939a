"""Merchants fetch recordings by signed, expiring links; the link is the only credential."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import Call
from calls.recordings.models import Recording
from calls.recordings.services import recording_register_provider
from calls.services import call_create
from config.models import Membership
from templates_app.models import Template
from templates_app.services import template_load_demos
from tests.calls.conftest import ORDER_PAYLOAD
from tests.calls.recordings.conftest import store_wav, wav_bytes
from tests.conftest import Tenants

pytestmark = pytest.mark.django_db
Role = Membership.Role


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:9")


def test_the_api_gives_a_link_that_serves_the_file_without_login(
    call: Call, member_of_acme: Callable[[str], User]
) -> None:
    recording = store_wav(call, seconds=1.5)
    before = timezone.now().replace(microsecond=0)

    response = _api(member_of_acme(Role.VIEWER)).get(f"/api/v1/calls/{call.pk}/recording")
    after = timezone.now()

    assert response.status_code == 200
    body = response.json()
    assert body["url"].startswith("http://127.0.0.1:9/recordings/")
    assert (body["content_type"], body["duration_seconds"], body["size_bytes"]) == (
        "audio/wav",
        1.5,
        recording.size_bytes,
    )
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(hours=1) <= expires_at <= after + timedelta(hours=1)

    served = Client().get(_path(body["url"]))
    assert served.status_code == 200
    assert served["Content-Type"] == "audio/wav"
    assert served["Cache-Control"] == "private, no-store"
    assert b"".join(served.streaming_content) == wav_bytes(seconds=1.5)  # type: ignore[attr-defined]


def test_a_tampered_link_is_refused(call: Call, member_of_acme: Callable[[str], User]) -> None:
    store_wav(call)
    url = _api(member_of_acme(Role.VIEWER)).get(f"/api/v1/calls/{call.pk}/recording").json()["url"]
    token = _path(url).removeprefix("/recordings/")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = Client().get(f"/recordings/{forged}")

    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_denied"


def test_an_expired_link_is_gone(call: Call, member_of_acme: Callable[[str], User]) -> None:
    store_wav(call)
    url = _api(member_of_acme(Role.VIEWER)).get(f"/api/v1/calls/{call.pk}/recording").json()["url"]

    later = timezone.now() + timedelta(seconds=3601)
    with mock.patch("calls.recordings.links.timezone.now", return_value=later):
        response = Client().get(_path(url))

    assert response.status_code == 410
    assert response.json()["error"]["type"] == "link_expired"


def test_a_link_to_a_deleted_recording_finds_nothing(
    call: Call, member_of_acme: Callable[[str], User]
) -> None:
    recording = store_wav(call)
    url = _api(member_of_acme(Role.VIEWER)).get(f"/api/v1/calls/{call.pk}/recording").json()["url"]
    recording.delete()

    assert Client().get(_path(url)).status_code == 404


def test_another_merchants_call_recording_is_not_found(
    tenants: Tenants, make_member: Callable[..., User]
) -> None:
    template_load_demos(merchant=tenants.globex)
    version = Template.objects.get(merchant=tenants.globex, slug="order-confirmation")
    globex_call = call_create(
        version=version.versions.get(),
        execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
        provider="simulator",
        customer_phone="+15555550999",
        payload=ORDER_PAYLOAD,
    )
    store_wav(globex_call)

    response = _api(make_member(Role.MERCHANT_ADMIN, tenants.acme)).get(
        f"/api/v1/calls/{globex_call.pk}/recording"
    )

    assert response.status_code == 404


def test_a_call_without_a_recording_is_404_and_a_pending_one_409(
    call: Call, member_of_acme: Callable[[str], User]
) -> None:
    client = _api(member_of_acme(Role.VIEWER))
    assert client.get(f"/api/v1/calls/{call.pk}/recording").json()["error"] == {
        "type": "not_found",
        "message": "This call has no recording.",
    }

    recording_register_provider(
        call_id=call.pk,
        source=Recording.Source.TWILIO,
        provider_recording_id="RE1",
        duration_seconds=3,
    )

    response = client.get(f"/api/v1/calls/{call.pk}/recording")
    assert (response.status_code, response.json()["error"]["type"]) == (409, "conflict")
