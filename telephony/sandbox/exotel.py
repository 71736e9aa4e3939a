"""Exotel's Calls API (v1) and its side of a call, flow applets included.

`Calls/connect.json` rings `From` (the customer) and, once answered, runs the flow at `Url`.
The sandbox runs one flow, the one Breeze's docs ask an operator to build: a Voicebot applet
whose dynamic URL is Breeze's `/telephony/exotel/stream/`, then a Connect applet whose
dynamic URL is Breeze's `/telephony/exotel/dial/`, then Hangup. Applets get the placement's
`CustomField`. Status callbacks go to `StatusCallback` for the `StatusCallbackEvents` asked
for (answered, terminal), as JSON when `StatusCallbackContentType` says so. Exotel signs
nothing: Breeze puts a per-call secret in the callback URL.
"""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from aiohttp import web

from telephony.sandbox.engine import (
    TERMINAL,
    Answer,
    Bridge,
    SandboxCall,
    Stream,
    Vendor,
    new_sid,
)
from telephony.sandbox.numbers import Fate, fate_of
from telephony.sandbox.web import basic_auth, exotel_time, json_answer, sandbox_of

API: Final = "/exotel/v1/Accounts/{account}/Calls/"
STREAM_APPLET: Final = "/telephony/exotel/stream/"
CONNECT_APPLET: Final = "/telephony/exotel/dial/"
STATUSES: Final = {"initiated": "queued", "queued": "queued"}
_REFUSALS: Final = {
    Fate.INVALID_NUMBER: (400, "Invalid 'From' number {to}: not a valid phone number"),
    Fate.NOT_ALLOWED: (403, "Calls to {to} are not allowed for this account (DND or barred)"),
    Fate.RATE_LIMITED: (429, "Too many requests: the API rate limit has been exceeded"),
    Fate.SERVER_ERROR: (500, "Internal server error"),
}


def exotel_error(status: int, message: str) -> web.Response:
    return json_answer({"RestException": {"Status": status, "Message": message}}, status=status)


class Exotel(Vendor):
    name = "exotel"

    def stream_ids(self, call: SandboxCall) -> tuple[str, str]:
        return call.sid, new_sid()

    def _applet_query(self, call: SandboxCall) -> dict[str, str]:
        return {
            "CallSid": call.sid,
            "CallFrom": call.to,
            "CallTo": call.caller,
            "Direction": "outbound-dial",
            "Created": exotel_time(call.created_at),
            "CurrentTime": exotel_time(call.created_at),
            "CustomField": str(call.placement.get("CustomField", "")),
            "From": call.to,
            "To": call.caller,
        }

    def _applet_url(self, path: str) -> str:
        return self.sandbox.config.breeze_url.rstrip("/") + path

    async def notify(self, call: SandboxCall, status: str) -> None:
        events = {
            str(value)
            for key, value in call.placement.items()
            if key.startswith("StatusCallbackEvents")
        }
        event = "terminal" if status in TERMINAL else "answered" if status == "in-progress" else ""
        url = str(call.placement.get("StatusCallback", ""))
        # Without events asked for, Exotel reports only the end of the call.
        if (
            not url
            or not event
            or (events and event not in events)
            or (not events and event != "terminal")
        ):
            return
        body: dict[str, Any] = {
            "CallSid": call.sid,
            "EventType": event,
            "Status": STATUSES.get(status, status),
            "DateCreated": exotel_time(call.created_at),
            "DateUpdated": exotel_time(call.created_at),
            "To": call.caller,
            "From": call.to,
            "PhoneNumberSid": call.caller,
            "Direction": "outbound-api",
            "CustomField": call.placement.get("CustomField", ""),
        }
        if event == "terminal":
            body["ConversationDuration"] = call.duration
            body["Legs"] = [{"Id": 1, "OnCallDuration": call.duration, "Status": status}]
        as_json = call.placement.get("StatusCallbackContentType") == "application/json"
        await self.sandbox.deliver(
            call,
            kind=f"status:{status}",
            method="POST",
            url=url,
            body=body if as_json else None,
            form=None if as_json else {k: str(v) for k, v in body.items() if k != "Legs"},
        )

    async def answer(self, call: SandboxCall) -> Answer:
        """The Voicebot applet: its dynamic URL answers with the websocket to stream to."""
        status, text = await self.sandbox.deliver(
            call,
            kind="applet:voicebot",
            method="GET",
            url=self._applet_url(STREAM_APPLET),
            form=self._applet_query(call),
        )
        if status != 200:
            return None
        url = _stream_url(text)
        if url is None:
            call.problems.append(f"applet:voicebot: no websocket URL in {text[:80]!r}")
            return None
        # Exotel hands the URL's query parameters to the bot in `start.custom_parameters`.
        parts = urlsplit(url)
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return Stream(url=bare, parameters=dict(parse_qsl(parts.query)))

    async def after_stream(self, call: SandboxCall) -> Answer:
        """The bot closed the stream: the flow's Connect applet asks whom to dial."""
        if call.conversation is None or call.conversation.get("hung_up_by") != "bot":
            return None
        status, text = await self.sandbox.deliver(
            call,
            kind="applet:connect",
            method="GET",
            url=self._applet_url(CONNECT_APPLET),
            form=self._applet_query(call),
        )
        # Breeze answers 404 when the bot ended the call without a transfer: on to Hangup.
        return Bridge(what=f"Connect {text.strip()}") if status == 200 and text.strip() else None


def _stream_url(text: str) -> str | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text.strip()
    url = parsed.get("url") if isinstance(parsed, dict) else parsed
    return url if isinstance(url, str) and url.startswith(("ws://", "wss://")) else None


def _resource(call: SandboxCall) -> dict[str, Any]:
    ended = not call.live
    return {
        "Call": {
            "Sid": call.sid,
            "ParentCallSid": None,
            "DateCreated": exotel_time(call.created_at),
            "DateUpdated": exotel_time(call.created_at),
            "AccountSid": call.account,
            "To": call.caller,
            "From": call.to,
            "PhoneNumberSid": call.caller,
            "Status": STATUSES.get(call.status, call.status),
            "StartTime": exotel_time(call.created_at),
            "EndTime": exotel_time(call.created_at) if ended else None,
            "Duration": call.duration if ended else None,
            "Price": None,
            "Direction": "outbound-api",
            "AnsweredBy": None,
            "ForwardedFrom": None,
            "CallerName": None,
            "Uri": f"/v1/Accounts/{call.account}/Calls/{call.sid}.json",
            "RecordingUrl": None,
        }
    }


async def connect_call(request: web.Request) -> web.Response:
    credentials = basic_auth(request)
    if credentials is None:
        return exotel_error(401, "Authentication is required to access this resource")
    form = await request.post()
    placement = {key: str(form[key]) for key in form}
    customer, caller = placement.get("From", ""), placement.get("CallerId", "")
    if not customer or not caller:
        return exotel_error(400, "Missing parameter: From and CallerId are mandatory")
    fate = fate_of(customer)
    if fate in _REFUSALS:
        status, message = _REFUSALS[fate]
        return exotel_error(status, message.format(to=customer))
    sandbox = sandbox_of(request)
    call = SandboxCall(
        provider="exotel",
        sid=new_sid(),
        account=request.match_info["account"],
        secret=credentials[1],
        to=customer,
        caller=caller,
        fate=fate,
        placement=placement,
    )
    sandbox.start(Exotel(sandbox), call)
    return json_answer(_resource(call))


async def call_details(request: web.Request) -> web.Response:
    if basic_auth(request) is None:
        return exotel_error(401, "Authentication is required to access this resource")
    call = sandbox_of(request).calls.get(request.match_info["sid"])
    if call is None or call.provider != "exotel":
        return exotel_error(404, "Call not found")
    return json_answer(_resource(call))


def routes() -> list[web.RouteDef]:
    return [
        web.post(API + "connect.json", connect_call),
        web.get(API + "{sid}.json", call_details),
    ]
