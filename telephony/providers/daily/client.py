"""Daily's REST API over plain HTTP: create, refresh and delete rooms; make meeting tokens.

Every answer Daily gives is sorted into one of two failures: `DailyUnavailableError` (rate
limited, server error, unreachable: the same request may work later) and
`DailyRefusedError` (bad request, bad API key, unknown room: retrying cannot help).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from telephony.providers.shared import ProviderUnavailableError

logger = logging.getLogger(__name__)


class DailyUnavailableError(ProviderUnavailableError):
    """Daily could not take the request now (429, 5xx, unreachable); worth retrying."""

    permanent = False


class DailyRefusedError(Exception):
    """Daily refused the request for good (400 bad request, 401/403 bad key, 404 unknown room)."""

    permanent = True

    def __init__(self, *, status: int, error: str, info: str) -> None:
        super().__init__(f"Daily answered {status} {error}: {info}")
        self.status = status
        self.error = error
        self.info = info


@dataclass(frozen=True)
class DailyRoomInfo:
    name: str
    url: str
    expires_at: dt.datetime


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _request(*, api_key: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
    try:
        response = httpx.request(
            method,
            f"{settings.DAILY_API_BASE_URL.rstrip('/')}/{path}",
            headers={"Authorization": f"Bearer {api_key}"},
            json=body,
            timeout=settings.TELEPHONY_HTTP_TIMEOUT,
        )
    except httpx.TransportError as error:
        raise DailyUnavailableError(f"Daily unreachable: {error}") from error
    if response.status_code == 429 or response.status_code >= 500:
        raise DailyUnavailableError(f"Daily answered {response.status_code}")
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    if response.status_code >= 400:
        # Daily's errors are {"error": "<kind>", "info": "<why>"}.
        details = parsed if isinstance(parsed, dict) else {}
        raise DailyRefusedError(
            status=response.status_code,
            error=str(details.get("error", "")),
            info=str(details.get("info", response.text[:200])),
        )
    if not isinstance(parsed, dict):
        raise DailyUnavailableError(f"Daily answered {response.status_code} with no JSON object")
    return parsed


def _room_info(body: dict[str, Any], *, expires_at: dt.datetime) -> DailyRoomInfo:
    try:
        return DailyRoomInfo(name=str(body["name"]), url=str(body["url"]), expires_at=expires_at)
    except KeyError as error:
        raise DailyUnavailableError(f"Daily's room has no {error.args[0]}") from error


def daily_room_create(*, api_key: str, name: str, expires_at: dt.datetime) -> DailyRoomInfo:
    """A private room that expires (everyone ejected) at `expires_at`.

    Cloud recording is allowed by the room and granted per meeting token, so a pooled room
    serves sessions with and without recording.
    """
    body = {
        "name": name,
        "privacy": "private",
        "properties": {
            "exp": _epoch(expires_at),
            "eject_at_room_exp": True,
            "enable_recording": "cloud",
            "enable_chat": False,
            "start_video_off": True,
        },
    }
    return _room_info(
        _request(api_key=api_key, method="POST", path="rooms", body=body), expires_at=expires_at
    )


def daily_room_expiry_set(*, api_key: str, name: str, expires_at: dt.datetime) -> DailyRoomInfo:
    """Move a room's expiry (Daily's "update room" is a POST to the room)."""
    body = {"properties": {"exp": _epoch(expires_at)}}
    return _room_info(
        _request(api_key=api_key, method="POST", path=f"rooms/{name}", body=body),
        expires_at=expires_at,
    )


def daily_room_delete(*, api_key: str, name: str) -> bool:
    """Delete a room; False if Daily no longer had it (already expired or deleted)."""
    try:
        _request(api_key=api_key, method="DELETE", path=f"rooms/{name}")
    except DailyRefusedError as error:
        if error.status == 404:
            return False
        raise
    return True


def daily_meeting_token_create(
    *,
    api_key: str,
    room_name: str,
    expires_at: dt.datetime,
    user_name: str,
    is_owner: bool,
    may_record: bool,
) -> str:
    """A token that lets one participant into `room_name` until `expires_at`.

    Only a token with `may_record` carries Daily's cloud-recording permission.
    """
    properties: dict[str, Any] = {
        "room_name": room_name,
        "exp": _epoch(expires_at),
        "eject_at_token_exp": True,
        "is_owner": is_owner,
        "user_name": user_name,
    }
    if may_record:
        properties["enable_recording"] = "cloud"
    answer = _request(
        api_key=api_key, method="POST", path="meeting-tokens", body={"properties": properties}
    )
    token = answer.get("token")
    if not isinstance(token, str) or not token:
        raise DailyUnavailableError("Daily answered without a token")
    return token
