"""Daily's REST API (v1): rooms and meeting tokens, kept in memory.

Rooms are created, updated (a POST to the room), fetched and deleted; a taken name answers
400, an unknown one 404, a missing key 401, all with Daily's `{"error", "info"}` body.
Meeting tokens are JWT-shaped with the properties in the payload. There is no media: a
room's URL is a page on the sandbox saying so, and nobody can join it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from telephony.sandbox.web import json_answer

API: Final = "/daily/v1/"
_ROOM_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ERROR_KINDS: Final = {
    400: "invalid-request-error",
    401: "authentication-error",
    404: "not-found",
    429: "rate-limit-error",
}


@dataclass
class DailyRooms:
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)


ROOMS_KEY: Final = web.AppKey("daily_rooms", DailyRooms)


def daily_error_body(status: int, info: str) -> dict[str, str]:
    """Daily's error: `{"error": <kind>, "info": <why>}`."""
    return {"error": _ERROR_KINDS.get(status, "server-error"), "info": info}


def daily_error(status: int, info: str) -> web.Response:
    return json_answer(daily_error_body(status, info), status=status)


def daily_room(*, name: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """A room as Daily describes it, made from a create request's body."""
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "api_created": True,
        "privacy": body.get("privacy", "public"),
        "url": url,
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "config": dict(body.get("properties", {})),
    }


def _rooms(request: web.Request) -> DailyRooms:
    return request.app[ROOMS_KEY]


def _authorised(request: web.Request) -> web.Response | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not key:
        return daily_error(401, "authorization header missing or invalid")
    return None


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        parsed = json.loads(await request.text())
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


async def create_room(request: web.Request) -> web.Response:
    if (refused := _authorised(request)) is not None:
        return refused
    body = await _body(request)
    name = str(body.get("name") or uuid.uuid4().hex[:20])
    if not _ROOM_NAME.match(name):
        return daily_error(400, f"name {name!r} may only hold letters, digits, - and _")
    rooms = _rooms(request).rooms
    if name in rooms:
        return daily_error(400, f"a room named {name} already exists")
    room = daily_room(
        name=name, url=f"{request.scheme}://{request.host}/daily/room/{name}", body=body
    )
    rooms[name] = room
    return json_answer(room)


def _room(request: web.Request) -> dict[str, Any] | web.Response:
    if (refused := _authorised(request)) is not None:
        return refused
    name = request.match_info["name"]
    room = _rooms(request).rooms.get(name)
    return room if room is not None else daily_error(404, f"room {name} not found")


async def get_room(request: web.Request) -> web.Response:
    room = _room(request)
    return room if isinstance(room, web.Response) else json_answer(room)


async def update_room(request: web.Request) -> web.Response:
    room = _room(request)
    if isinstance(room, web.Response):
        return room
    room["config"].update((await _body(request)).get("properties", {}))
    return json_answer(room)


async def delete_room(request: web.Request) -> web.Response:
    room = _room(request)
    if isinstance(room, web.Response):
        return room
    del _rooms(request).rooms[room["name"]]
    return json_answer({"deleted": True, "name": room["name"]})


async def create_token(request: web.Request) -> web.Response:
    if (refused := _authorised(request)) is not None:
        return refused
    properties = (await _body(request)).get("properties", {})
    room_name = properties.get("room_name") if isinstance(properties, dict) else None
    if room_name is not None and room_name not in _rooms(request).rooms:
        return daily_error(400, f"room {room_name} does not exist")
    payload = base64.urlsafe_b64encode(json.dumps(properties).encode()).decode().rstrip("=")
    return json_answer({"token": f"eyJhbGciOiJIUzI1NiJ9.{payload}.sandbox"})


async def room_page(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return web.Response(
        text=f"Daily room {name} in the Breeze provider sandbox: REST only, there is no media.\n"
    )


def routes() -> list[web.RouteDef]:
    return [
        web.post(API + "rooms", create_room),
        web.get(API + "rooms/{name}", get_room),
        web.post(API + "rooms/{name}", update_room),
        web.delete(API + "rooms/{name}", delete_room),
        web.post(API + "meeting-tokens", create_token),
        web.get("/daily/room/{name}", room_page),
    ]
