"""Daily's REST client against a local server answering like Daily's API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import LazySettings

from telephony.providers.daily.client import (
    DailyRefusedError,
    DailyUnavailableError,
    daily_meeting_token_create,
    daily_room_create,
    daily_room_delete,
    daily_room_expiry_set,
)
from tests.conftest import free_port
from tests.telephony.providers.daily.fake_daily import API_KEY, DOMAIN, FakeDaily

EXPIRES = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
EXPIRES_EPOCH = 1893553445


def test_creating_a_room_asks_for_a_private_expiring_room_that_may_record(
    daily_api: FakeDaily,
) -> None:
    room = daily_room_create(api_key=API_KEY, name="breeze-abc", expires_at=EXPIRES)

    assert (room.name, room.url, room.expires_at) == ("breeze-abc", f"{DOMAIN}/breeze-abc", EXPIRES)
    assert daily_api.requests == [
        (
            "POST",
            "/rooms",
            {
                "name": "breeze-abc",
                "privacy": "private",
                "properties": {
                    "exp": EXPIRES_EPOCH,
                    "eject_at_room_exp": True,
                    "enable_recording": "cloud",
                    "enable_chat": False,
                    "start_video_off": True,
                },
            },
        )
    ]


def test_refreshing_a_room_moves_its_expiry(daily_api: FakeDaily) -> None:
    daily_room_create(api_key=API_KEY, name="breeze-abc", expires_at=EXPIRES)
    later = EXPIRES + dt.timedelta(hours=1)

    daily_room_expiry_set(api_key=API_KEY, name="breeze-abc", expires_at=later)

    assert daily_api.requests[-1] == (
        "POST",
        "/rooms/breeze-abc",
        {"properties": {"exp": EXPIRES_EPOCH + 3600}},
    )
    assert daily_api.rooms["breeze-abc"]["config"]["exp"] == EXPIRES_EPOCH + 3600


def test_deleting_a_room_is_true_once_then_false_when_daily_no_longer_has_it(
    daily_api: FakeDaily,
) -> None:
    daily_room_create(api_key=API_KEY, name="breeze-abc", expires_at=EXPIRES)

    assert daily_room_delete(api_key=API_KEY, name="breeze-abc") is True
    assert daily_room_delete(api_key=API_KEY, name="breeze-abc") is False
    assert daily_api.rooms == {}


@pytest.mark.parametrize(
    ("_case", "is_owner", "may_record", "recording"),
    [
        ("bot that records", True, True, {"enable_recording": "cloud"}),
        ("client", False, False, {}),
    ],
)
def test_a_meeting_token_names_room_expiry_owner_and_recording_permission(
    daily_api: FakeDaily, _case: str, is_owner: bool, may_record: bool, recording: dict[str, str]
) -> None:
    token = daily_meeting_token_create(
        api_key=API_KEY,
        room_name="breeze-abc",
        expires_at=EXPIRES,
        user_name="Breeze",
        is_owner=is_owner,
        may_record=may_record,
    )

    expected = {
        "room_name": "breeze-abc",
        "exp": EXPIRES_EPOCH,
        "eject_at_token_exp": True,
        "is_owner": is_owner,
        "user_name": "Breeze",
        **recording,
    }
    assert daily_api.tokens == [expected]
    assert daily_api.token_properties(token) == expected


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient(daily_api: FakeDaily, status: int) -> None:
    daily_api.fail(status)

    with pytest.raises(DailyUnavailableError, match=f"Daily answered {status}") as raised:
        daily_room_create(api_key=API_KEY, name="breeze-abc", expires_at=EXPIRES)

    assert raised.value.permanent is False
    assert daily_api.rooms == {}


@pytest.mark.parametrize(
    ("_case", "api_key", "name", "status", "error"),
    [
        ("bad key", "wrong-key", "breeze-abc", 401, "authentication-error"),
        ("name taken", API_KEY, "taken", 400, "invalid-request-error"),
    ],
)
def test_bad_requests_and_bad_keys_are_permanent(
    daily_api: FakeDaily, _case: str, api_key: str, name: str, status: int, error: str
) -> None:
    daily_room_create(api_key=API_KEY, name="taken", expires_at=EXPIRES)

    with pytest.raises(DailyRefusedError) as raised:
        daily_room_create(api_key=api_key, name=name, expires_at=EXPIRES)

    assert (raised.value.permanent, raised.value.status, raised.value.error) == (
        True,
        status,
        error,
    )
    assert list(daily_api.rooms) == ["taken"]


def test_an_unreachable_api_is_transient(settings: LazySettings) -> None:
    settings.DAILY_API_BASE_URL = f"http://127.0.0.1:{free_port()}/"

    with pytest.raises(DailyUnavailableError, match="Daily unreachable"):
        daily_room_delete(api_key=API_KEY, name="breeze-abc")
