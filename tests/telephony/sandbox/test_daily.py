"""Daily's rooms and meeting tokens in the provider sandbox, through Breeze's real Daily client:
the room pool fills from it and `/api/v1/daily/connect` hands a client one of its rooms."""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.request
from collections.abc import Callable

import pytest
from django.conf import LazySettings
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import Call
from config.models import Membership
from config.services import provider_credential_create
from telephony.providers.daily.client import (
    DailyRefusedError,
    daily_room_create,
    daily_room_delete,
    daily_room_expiry_set,
)
from telephony.providers.daily.models import DailyRoom
from telephony.providers.daily.rooms import daily_room_pool_maintain
from telephony.sandbox.credentials import SANDBOX_SECRETS
from tests.conftest import Tenants
from tests.demo_payloads import DEMO_PAYLOADS

KEY = SANDBOX_SECRETS["daily"]["api_key"]


@pytest.fixture
def daily_sandbox(sandbox_url: str, settings: LazySettings) -> str:
    settings.DAILY_API_BASE_URL = f"{sandbox_url}/daily/v1"
    return sandbox_url


def _token_properties(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return decoded


def test_rooms_are_created_moved_and_deleted_as_daily_does(daily_sandbox: str) -> None:
    expires = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    room = daily_room_create(api_key=KEY, name="breeze-room-1", expires_at=expires)

    assert room.url == f"{daily_sandbox}/daily/room/breeze-room-1"
    with urllib.request.urlopen(room.url) as page:
        assert b"there is no media" in page.read()
    with pytest.raises(DailyRefusedError) as taken:
        daily_room_create(api_key=KEY, name="breeze-room-1", expires_at=expires)
    assert (taken.value.status, taken.value.error) == (400, "invalid-request-error")
    later = expires + dt.timedelta(hours=1)
    assert daily_room_expiry_set(api_key=KEY, name="breeze-room-1", expires_at=later).name == (
        "breeze-room-1"
    )
    assert daily_room_delete(api_key=KEY, name="breeze-room-1") is True
    assert daily_room_delete(api_key=KEY, name="breeze-room-1") is False
    with pytest.raises(DailyRefusedError) as unknown:
        daily_room_expiry_set(api_key=KEY, name="breeze-room-1", expires_at=later)
    assert (unknown.value.status, unknown.value.error) == (404, "not-found")


@pytest.mark.usefixtures("order_template")
def test_a_pooled_sandbox_room_is_handed_to_a_client(
    daily_sandbox: str, tenants: Tenants, api: Callable[[str], APIClient]
) -> None:
    provider_credential_create(
        merchant=tenants.acme, provider="daily", secrets={"api_key": KEY, "room_pool_size": "2"}
    )
    daily_room_pool_maintain()
    assert DailyRoom.objects.filter(status=DailyRoom.Status.IDLE).count() == 2

    response = api(Membership.Role.OPERATOR).post(
        "/api/v1/daily/connect",
        {
            "template": "order-confirmation",
            "payload": DEMO_PAYLOADS["order-confirmation"],
            "execution_mode": "DAILY_TEST",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    call = Call.objects.get(pk=response.json()["call_id"])
    room = DailyRoom.objects.get(call=call)
    assert (room.status, room.origin) == (DailyRoom.Status.ASSIGNED, DailyRoom.Origin.POOL)
    assert response.json()["room_url"] == room.url == f"{daily_sandbox}/daily/room/{room.name}"
    assert _token_properties(response.json()["token"]) == {
        "room_name": room.name,
        "exp": int(room.expires_at.timestamp()),
        "eject_at_token_exp": True,
        "is_owner": False,
        "user_name": "customer",
    }
