"""A local server that answers Breeze's requests the way Daily's REST API does.

Rooms are kept in memory (create, update, delete; 404 for unknown names, 400 for a taken
name), meeting tokens are issued for any room, a wrong key answers 401, and `fail` makes the
next requests answer an error (429, 5xx, …) with Daily's error body.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from telephony.sandbox.daily import daily_error_body, daily_room

API_KEY = "daily-test-key"
DOMAIN = "https://breeze-test.daily.co"


def daily_error(status: int, info: str) -> Response:
    body = daily_error_body(status, info)
    return Response(json.dumps(body), status=status, content_type="application/json")


def _ok(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/json")


def client_token(room_name: str, expires_at: dt.datetime) -> dict[str, Any]:
    """The properties of the meeting token a session hands its client."""
    return {
        "room_name": room_name,
        "exp": int(expires_at.timestamp()),
        "eject_at_token_exp": True,
        "is_owner": False,
        "user_name": "customer",
    }


@dataclass
class FakeDaily:
    server: HTTPServer
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def install(self) -> None:
        self.server.expect_request("/rooms", method="POST").respond_with_handler(self._create)
        room = re.compile(r"^/rooms/[A-Za-z0-9_-]+$")
        self.server.expect_request(room, method="POST").respond_with_handler(self._update)
        self.server.expect_request(room, method="DELETE").respond_with_handler(self._delete)
        self.server.expect_request("/meeting-tokens", method="POST").respond_with_handler(
            self._token
        )

    def fail(self, status: int, info: str = "try again", *, times: int = 1) -> None:
        self.failures.extend([(status, info)] * times)

    def token_properties(self, token: str) -> dict[str, Any]:
        payload = token.split(".")[1]
        decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
        return decoded

    def _guard(self, request: Request) -> Response | None:
        body = request.get_json(silent=True)
        self.requests.append((request.method, request.path, body))
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return daily_error(401, "authorization header invalid")
        if self.failures:
            status, info = self.failures.pop(0)
            return daily_error(status, info)
        return None

    def _create(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        body = request.get_json()
        name = body.get("name") or uuid.uuid4().hex[:20]
        if name in self.rooms:
            return daily_error(400, f"a room named {name} already exists")
        room = daily_room(name=name, url=f"{DOMAIN}/{name}", body=body)
        self.rooms[name] = room
        return _ok(room)

    def _update(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        name = request.path.rsplit("/", 1)[1]
        if name not in self.rooms:
            return daily_error(404, f"room {name} not found")
        self.rooms[name]["config"].update(request.get_json().get("properties", {}))
        return _ok(self.rooms[name])

    def _delete(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        name = request.path.rsplit("/", 1)[1]
        if self.rooms.pop(name, None) is None:
            return daily_error(404, f"room {name} not found")
        return _ok({"deleted": True, "name": name})

    def _token(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        properties = request.get_json().get("properties", {})
        self.tokens.append(properties)
        # Daily's tokens are JWTs; the properties ride in the payload like Daily's do.
        encoded = base64.urlsafe_b64encode(json.dumps(properties).encode()).decode().rstrip("=")
        return _ok({"token": f"eyJhbGciOiJIUzI1NiJ9.{encoded}.signature"})
