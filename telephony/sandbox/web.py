"""What every vendor's REST emulation shares: Basic auth, JSON answers, the app's sandbox."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any, Final

from aiohttp import web

from telephony.sandbox.engine import Sandbox

SANDBOX_KEY: Final = web.AppKey("sandbox", Sandbox)


def sandbox_of(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


def basic_auth(request: web.Request) -> tuple[str, str] | None:
    """(user, password) of the request's Basic authorization, or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon and user else None


def json_answer(body: Any, *, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/json", charset="utf-8"
    )


def rfc2822(moment: dt.datetime) -> str:
    """Twilio's date format: `Tue, 31 Aug 2010 20:36:28 +0000`."""
    return moment.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def exotel_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
