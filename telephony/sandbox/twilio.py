"""Twilio's Programmable Voice REST API (2010-04-01) and its side of a call.

Calls are created, fetched and updated as the `twilio` SDK asks; errors use Twilio's body
(`code`, `message`, `more_info`, `status`). Status callbacks follow `StatusCallbackEvent`
(initiated, ringing, answered; the final status always) and every request to Breeze carries
`X-Twilio-Signature` made with the auth token the call was placed with.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web
from twilio.request_validator import RequestValidator

from telephony.sandbox.engine import (
    TERMINAL,
    Answer,
    Bridge,
    SandboxCall,
    Stream,
    Vendor,
    bridge_or_hang_up,
    document_root,
    new_sid,
    recording_of,
    wav_bytes,
)
from telephony.sandbox.numbers import Fate, fate_of
from telephony.sandbox.web import basic_auth, json_answer, rfc2822, sandbox_of

API: Final = "/twilio/2010-04-01/Accounts/{account}"
# The StatusCallbackEvent that reports each status the engine reaches.
EVENTS: Final = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}
SIP_CODES: Final = {"completed": "200", "busy": "486", "no-answer": "487", "failed": "404"}
_REFUSALS: Final = {
    Fate.INVALID_NUMBER: (400, 21211, "The 'To' number {to} is not a valid phone number."),
    Fate.NOT_ALLOWED: (
        400,
        21215,
        "Account not authorized to call {to}. Perhaps you need to enable some international "
        "permissions: https://www.twilio.com/console/voice/calls/geo-permissions/low-risk",
    ),
    Fate.RATE_LIMITED: (429, 20429, "Too Many Requests"),
    Fate.SERVER_ERROR: (500, 20500, "An internal server error has occurred"),
}


def twilio_error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return json_answer(body, status=status)


class Twilio(Vendor):
    name = "twilio"

    def stream_ids(self, call: SandboxCall) -> tuple[str, str]:
        return call.sid, new_sid("MZ")

    def _params(self, call: SandboxCall, status: str) -> dict[str, str]:
        return {
            "AccountSid": call.account,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": status,
            "Called": call.to,
            "Caller": call.caller,
            "Direction": "outbound-api",
            "From": call.caller,
            "To": call.to,
        }

    async def _signed(
        self, call: SandboxCall, *, kind: str, url: str, method: str, params: dict[str, str]
    ) -> tuple[int | None, str]:
        # Twilio signs the URL it requests; for a POST the form's sorted pairs follow it.
        signed_url = url if method == "POST" else _with_query(url, params)
        signature = RequestValidator(call.secret).compute_signature(
            signed_url, params if method == "POST" else {}
        )
        return await self.sandbox.deliver(
            call,
            kind=kind,
            method=method,
            url=url,
            form=params,
            headers={"X-Twilio-Signature": signature},
        )

    async def notify(self, call: SandboxCall, status: str) -> None:
        url = str(call.placement.get("StatusCallback", ""))
        wanted = call.placement.get("StatusCallbackEvent", [])
        if not url or (status not in TERMINAL and EVENTS.get(status) not in wanted):
            return
        params = self._params(call, status)
        params["CallbackSource"] = "call-progress-events"
        params["SequenceNumber"] = str(sum(d.kind.startswith("status") for d in call.deliveries))
        params["Timestamp"] = rfc2822(call.created_at)
        if status in TERMINAL:
            params["CallDuration"] = str(call.duration)
            params["Duration"] = str(-(-call.duration // 60))
            params["SipResponseCode"] = SIP_CODES.get(status, "487")
        method = str(call.placement.get("StatusCallbackMethod", "POST")).upper()
        await self._signed(call, kind=f"status:{status}", url=url, method=method, params=params)

    async def recorded(self, call: SandboxCall) -> None:
        """`RecordingStatusCallback` with the `completed` recording, once the call has ended."""
        call.recording_sid = new_sid("RE")
        path = f"/2010-04-01/Accounts/{call.account}/Recordings/{call.recording_sid}"
        params = {
            "AccountSid": call.account,
            "CallSid": call.sid,
            "RecordingChannels": "1",
            "RecordingDuration": str(call.duration),
            "RecordingSid": call.recording_sid,
            "RecordingSource": "OutboundAPI",
            "RecordingStartTime": rfc2822(call.created_at),
            "RecordingStatus": "completed",
            "RecordingUrl": f"{call.origin}/twilio{path}",
        }
        method = str(call.placement.get("RecordingStatusCallbackMethod", "POST")).upper()
        await self._signed(
            call, kind="recording", url=call.record_callback, method=method, params=params
        )

    def _answered_by(self, call: SandboxCall) -> str:
        if call.fate is not Fate.MACHINE:
            return "human"
        detect = call.placement.get("MachineDetection")
        return "machine_end_beep" if detect == "DetectMessageEnd" else "machine_start"

    def detects_machines(self, call: SandboxCall) -> bool:
        return bool(call.placement.get("MachineDetection")) and (
            call.placement.get("AsyncAmd") == "true"
        )

    async def machine_verdict(self, call: SandboxCall) -> None:
        """Asynchronous AMD: the verdict goes to `AsyncAmdStatusCallback`."""
        params = {
            "AccountSid": call.account,
            "AnsweredBy": self._answered_by(call),
            "CallSid": call.sid,
            "MachineDetectionDuration": str(round(self.sandbox.config.detection_seconds * 1000)),
        }
        url = str(call.placement.get("AsyncAmdStatusCallback", ""))
        method = str(call.placement.get("AsyncAmdStatusCallbackMethod", "POST")).upper()
        await self._signed(call, kind="amd", url=url, method=method, params=params)

    async def answer(self, call: SandboxCall) -> Answer:
        url = str(call.placement.get("Url", ""))
        inline = str(call.placement.get("Twiml", ""))
        if not url:
            return twiml_step(call, inline)
        method = str(call.placement.get("Method", "POST")).upper()
        params = self._params(call, "in-progress")
        if call.placement.get("MachineDetection") and not self.detects_machines(call):
            # Synchronous AMD: Twilio asks the answer URL once it knows who answered.
            await asyncio.sleep(self.sandbox.config.detection_seconds)
            params["AnsweredBy"] = self._answered_by(call)
        status, text = await self._signed(
            call, kind="answer", url=url, method=method, params=params
        )
        if status != 200:
            # Twilio plays its "application error" message and hangs up.
            return None
        return twiml_step(call, text)


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def twiml_step(call: SandboxCall, twiml: str) -> Answer:
    """What a TwiML document asks: a `<Connect><Stream>`, a bridge, or hanging up."""
    root = document_root(call, twiml)
    if root is None:
        return None
    stream = root.find("./Connect/Stream")
    if stream is not None:
        parameters = {
            str(p.get("name")): str(p.get("value")) for p in stream.findall("./Parameter")
        }
        return Stream(url=str(stream.get("url", "")), parameters=parameters)
    return bridge_or_hang_up(root)


def _resource(call: SandboxCall) -> dict[str, Any]:
    path = f"/2010-04-01/Accounts/{call.account}/Calls/{call.sid}"
    ended = not call.live
    return {
        "sid": call.sid,
        "account_sid": call.account,
        "api_version": "2010-04-01",
        "to": call.to,
        "to_formatted": call.to,
        "from": call.caller,
        "from_formatted": call.caller,
        "status": call.status,
        "direction": "outbound-api",
        "answered_by": None,
        "date_created": rfc2822(call.created_at),
        "date_updated": rfc2822(call.created_at),
        "start_time": None if call.answered is None else rfc2822(call.created_at),
        "end_time": rfc2822(call.created_at) if ended else None,
        "duration": str(call.duration) if ended else None,
        "price": None,
        "price_unit": "USD",
        "parent_call_sid": None,
        "phone_number_sid": None,
        "caller_name": None,
        "forwarded_from": None,
        "group_sid": None,
        "queue_time": "0",
        "trunk_sid": None,
        "annotation": None,
        "uri": f"{path}.json",
        "subresource_uris": {
            "recordings": f"{path}/Recordings.json",
            "notifications": f"{path}/Notifications.json",
        },
    }


def _authorised(request: web.Request) -> str | web.Response:
    """The auth token of a request for the account in its path, or Twilio's 401."""
    credentials = basic_auth(request)
    if credentials is None or credentials[0] != request.match_info["account"]:
        return twilio_error(401, 20003, "Authenticate")
    return credentials[1]


async def create_call(request: web.Request) -> web.Response:
    token = _authorised(request)
    if isinstance(token, web.Response):
        return token
    form = await request.post()
    placement: dict[str, Any] = {key: str(form[key]) for key in form}
    placement["StatusCallbackEvent"] = [str(v) for v in form.getall("StatusCallbackEvent", [])]
    to, caller = placement.get("To", ""), placement.get("From", "")
    if not to:
        return twilio_error(400, 21201, "No 'To' number is specified")
    if not caller:
        return twilio_error(400, 21213, "No 'From' number is specified")
    if not placement.get("Url") and not placement.get("Twiml"):
        return twilio_error(400, 21205, "Url parameter is required.")
    fate = fate_of(to)
    if fate in _REFUSALS:
        status, code, message = _REFUSALS[fate]
        return twilio_error(status, code, message.format(to=to))
    sandbox = sandbox_of(request)
    call = SandboxCall(
        provider="twilio",
        sid=new_sid("CA"),
        account=request.match_info["account"],
        secret=token,
        to=to,
        caller=caller,
        fate=fate,
        placement=placement,
        origin=f"{request.scheme}://{request.host}",
    )
    if placement.get("Record") == "true":
        call.record_callback = placement.get("RecordingStatusCallback", "")
    sandbox.start(Twilio(sandbox), call)
    return json_answer(_resource(call), status=201)


def _found(request: web.Request) -> SandboxCall | web.Response:
    token = _authorised(request)
    if isinstance(token, web.Response):
        return token
    sid = request.match_info["sid"]
    call = sandbox_of(request).calls.get(sid)
    if call is None or call.provider != "twilio" or call.account != request.match_info["account"]:
        path = f"/2010-04-01/Accounts/{request.match_info['account']}/Calls/{sid}.json"
        return twilio_error(404, 20404, f"The requested resource {path} was not found")
    return call


async def fetch_call(request: web.Request) -> web.Response:
    found = _found(request)
    return found if isinstance(found, web.Response) else json_answer(_resource(found))


async def update_call(request: web.Request) -> web.Response:
    """`Status=completed|canceled` hangs up; `Twiml=`/`Url=` replaces the running document."""
    found = _found(request)
    if isinstance(found, web.Response):
        return found
    call = found
    form = await request.post()
    if not call.live:
        return twilio_error(400, 21220, "Call is not in-progress. Cannot redirect.")
    status = str(form.get("Status", ""))
    if status in ("completed", "canceled"):
        call.hang_up(by="rest")
    elif "Twiml" in form:
        call.run_next(twiml_step(call, str(form["Twiml"])))
    elif "Url" in form:
        call.run_next(Bridge(what=f"redirect to {form.get('Url')!s}"))
    return json_answer(_resource(call))


async def recording_file(request: web.Request) -> web.Response:
    """A recording's media (`.wav`), with the account's credentials."""
    token = _authorised(request)
    if isinstance(token, web.Response):
        return token
    call = recording_of(sandbox_of(request).calls, request.match_info["sid"])
    if call is None or call.account != request.match_info["account"]:
        return twilio_error(404, 20404, "The requested resource was not found")
    return web.Response(body=wav_bytes(bytes(call.audio)), content_type="audio/x-wav")


def routes() -> list[web.RouteDef]:
    return [
        web.get(API + "/Recordings/{sid}.wav", recording_file),
        web.post(f"{API}/Calls.json", create_call),
        web.get(API + "/Calls/{sid}.json", fetch_call),
        web.post(API + "/Calls/{sid}.json", update_call),
    ]
