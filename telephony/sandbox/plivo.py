"""Plivo's Voice REST API (v1) and its side of a call.

A call is "fired" (201 with a request UUID); Plivo names the call itself (CallUUID) in its
callbacks: `ring_url` when it rings, `answer_url` (which returns the XML to run) when it is
answered, `hangup_url` when it ends, each signed with the V3 signature
(`X-Plivo-Signature-V3` over URL, sorted parameters and a nonce, keyed by the auth token).
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any, Final

from aiohttp import web
from plivo.utils.signature_v3 import construct_post_url, get_signature_v3

from telephony.sandbox.engine import (
    TERMINAL,
    Answer,
    SandboxCall,
    Stream,
    Vendor,
    bridge_or_hang_up,
    document_root,
    recording_of,
    wav_bytes,
)
from telephony.sandbox.numbers import Fate, fate_of
from telephony.sandbox.web import basic_auth, json_answer, sandbox_of

API: Final = "/plivo/v1/Account/{auth_id}/Call/"
# Plivo's own words for the engine's terminal statuses, and the hang-up cause of each.
STATUSES: Final = {"canceled": "cancel"}
CAUSES: Final = {
    "completed": ("NORMAL_CLEARING", "Normal Hangup", "4000"),
    "busy": ("USER_BUSY", "Busy Line", "3010"),
    "no-answer": ("NO_ANSWER", "No Answer", "3000"),
    "failed": ("UNALLOCATED_NUMBER", "Invalid Destination Address", "2000"),
    "canceled": ("ORIGINATOR_CANCEL", "Cancelled", "1010"),
}
_REFUSALS: Final = {
    Fate.INVALID_NUMBER: (400, "invalid 'to' parameter: {to} is not a valid phone number"),
    Fate.NOT_ALLOWED: (403, "calls to {to} are not allowed for this account"),
    Fate.RATE_LIMITED: (429, "too many requests"),
    Fate.SERVER_ERROR: (500, "internal server error"),
}


def plivo_error(status: int, message: str) -> web.Response:
    return json_answer({"api_id": str(uuid.uuid4()), "error": message}, status=status)


class Plivo(Vendor):
    name = "plivo"

    def stream_ids(self, call: SandboxCall) -> tuple[str, str]:
        return call.sid, str(uuid.uuid4())

    def _params(self, call: SandboxCall, status: str, event: str) -> dict[str, str]:
        return {
            "ALegRequestUUID": str(call.placement["request_uuid"]),
            "ALegUUID": call.sid,
            "CallStatus": STATUSES.get(status, status),
            "CallUUID": call.sid,
            "Direction": "outbound",
            "Event": event,
            "From": call.caller,
            "RequestUUID": str(call.placement["request_uuid"]),
            "To": call.to,
        }

    async def _signed(
        self, call: SandboxCall, *, kind: str, url: str, params: dict[str, str]
    ) -> tuple[int | None, str]:
        nonce = str(secrets.randbelow(10**20)).zfill(20)
        signed = construct_post_url(url, dict(params))
        signature = get_signature_v3(call.secret.encode(), signed.decode(), nonce.encode())
        headers = {
            "X-Plivo-Signature-V3": signature.decode(),
            "X-Plivo-Signature-V3-Nonce": nonce,
            "X-Plivo-Signature-Ma-V3": signature.decode(),
        }
        return await self.sandbox.deliver(
            call, kind=kind, method="POST", url=url, form=params, headers=headers
        )

    async def notify(self, call: SandboxCall, status: str) -> None:
        if status == "ringing" and call.placement.get("ring_url"):
            url = str(call.placement["ring_url"])
            await self._signed(
                call, kind="status:ringing", url=url, params=self._params(call, status, "Ring")
            )
        if status in TERMINAL and call.placement.get("hangup_url"):
            params = self._params(call, status, "Hangup")
            cause, name, code = CAUSES[status]
            params |= {
                "Duration": str(call.duration),
                "BillDuration": str(call.duration),
                "HangupCause": cause,
                "HangupCauseName": name,
                "HangupCauseCode": code,
                "HangupSource": "API Request" if call.ended_by == "rest" else "Callee",
            }
            url = str(call.placement["hangup_url"])
            await self._signed(call, kind=f"status:{status}", url=url, params=params)

    async def answer(self, call: SandboxCall) -> Answer:
        params = self._params(call, "in-progress", "StartApp")
        url = str(call.placement.get("answer_url", ""))
        status, text = await self._signed(call, kind="answer", url=url, params=params)
        return plivo_xml_step(call, text) if status == 200 else None

    def detects_machines(self, call: SandboxCall) -> bool:
        return str(call.placement.get("machine_detection", "")).lower() == "true"

    async def machine_verdict(self, call: SandboxCall) -> None:
        """Asynchronous machine detection: the verdict goes to `machine_detection_url`."""
        params = self._params(call, "in-progress", "MachineDetection") | {
            "Machine": "true" if call.fate is Fate.MACHINE else "false"
        }
        url = str(call.placement.get("machine_detection_url", ""))
        await self._signed(call, kind="amd", url=url, params=params)

    async def recorded(self, call: SandboxCall) -> None:
        """The `<Record>` element's `callbackUrl`, once the recorded session has ended."""
        call.recording_sid = str(uuid.uuid4())
        milliseconds = call.duration * 1000
        params = self._params(call, "completed", "Record") | {
            "RecordingID": call.recording_sid,
            "RecordUrl": f"{call.origin}/plivo/recordings/{call.recording_sid}.wav",
            "RecordingDuration": str(call.duration),
            "RecordingDurationMs": str(milliseconds),
            "RecordingStartMs": "0",
            "RecordingEndMs": str(milliseconds),
        }
        await self._signed(call, kind="recording", url=call.record_callback, params=params)

    async def transfer(self, call: SandboxCall, url: str) -> None:
        """The leg fetches new XML (`calls.transfer` with `aleg_url`), which replaces the running one."""
        params = self._params(call, "in-progress", "Transfer")
        status, text = await self._signed(call, kind="transfer", url=url, params=params)
        call.run_next(plivo_xml_step(call, text) if status == 200 else None)
        if status != 200:
            call.hang_up(by="transfer")


def plivo_xml_step(call: SandboxCall, xml: str) -> Answer:
    """What Plivo XML asks: a `<Stream>`, a bridge (Dial, Conference, Speak…), or hanging up."""
    root = document_root(call, xml)
    if root is None:
        return None
    record = root.find("./Record")
    if record is not None and record.get("recordSession") == "true":
        call.record_callback = record.get("callbackUrl", "")
    stream = root.find("./Stream")
    if stream is not None:
        return Stream(url=(stream.text or "").strip())
    # Recording runs alongside whatever follows it.
    return bridge_or_hang_up(root, alongside=("Record",))


def _authorised(request: web.Request) -> str | web.Response:
    credentials = basic_auth(request)
    if credentials is None or credentials[0] != request.match_info["auth_id"]:
        return plivo_error(401, "Authentication credentials invalid")
    return credentials[1]


async def create_call(request: web.Request) -> web.Response:
    token = _authorised(request)
    if isinstance(token, web.Response):
        return token
    try:
        body = json.loads(await request.text())
    except ValueError:
        return plivo_error(400, "request body is not JSON")
    if not isinstance(body, dict):
        return plivo_error(400, "request body is not a JSON object")
    missing = [key for key in ("from", "to", "answer_url") if not body.get(key)]
    if missing:
        return plivo_error(400, f"{missing[0]} parameter is mandatory")
    to = str(body["to"])
    fate = fate_of(to)
    if fate in _REFUSALS:
        status, message = _REFUSALS[fate]
        return plivo_error(status, message.format(to=to))
    request_uuid = str(uuid.uuid4())
    sandbox = sandbox_of(request)
    call = SandboxCall(
        provider="plivo",
        sid=str(uuid.uuid4()),
        account=request.match_info["auth_id"],
        secret=token,
        to=to,
        caller=str(body["from"]),
        fate=fate,
        placement=body | {"request_uuid": request_uuid},
        origin=f"{request.scheme}://{request.host}",
    )
    sandbox.start(Plivo(sandbox), call)
    answer = {"api_id": str(uuid.uuid4()), "message": "call fired", "request_uuid": request_uuid}
    return json_answer(answer, status=201)


def _live(request: web.Request) -> SandboxCall | web.Response:
    token = _authorised(request)
    if isinstance(token, web.Response):
        return token
    call = sandbox_of(request).calls.get(request.match_info["uuid"])
    if call is None or call.provider != "plivo" or not call.live:
        return plivo_error(404, "not found")
    return call


def _live_details(call: SandboxCall) -> dict[str, Any]:
    return {
        "api_id": str(uuid.uuid4()),
        "call_status": call.status,
        "call_uuid": call.sid,
        "caller_name": call.caller,
        "direction": "outbound",
        "from": call.caller,
        "request_uuid": call.placement["request_uuid"],
        "session_start": call.created_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "to": call.to,
    }


async def get_call(request: web.Request) -> web.Response:
    """Only live calls (`?status=live`) are kept; the call detail record API is not emulated."""
    found = _live(request)
    return found if isinstance(found, web.Response) else json_answer(_live_details(found))


async def hang_up_call(request: web.Request) -> web.Response:
    found = _live(request)
    if isinstance(found, web.Response):
        return found
    found.hang_up(by="rest")
    return web.Response(status=204)


async def transfer_call(request: web.Request) -> web.Response:
    found = _live(request)
    if isinstance(found, web.Response):
        return found
    try:
        body = json.loads(await request.text())
    except ValueError:
        body = None
    url = body.get("aleg_url") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url:
        return plivo_error(400, "aleg_url parameter is mandatory")
    sandbox = sandbox_of(request)
    sandbox.spawn(Plivo(sandbox).transfer(found, url))
    return json_answer({"api_id": str(uuid.uuid4()), "message": "call transferred"}, status=202)


async def recording_details(request: web.Request) -> web.Response:
    token = _authorised(request)
    if isinstance(token, web.Response):
        return token
    call = recording_of(sandbox_of(request).calls, request.match_info["recording_id"])
    if call is None or call.account != request.match_info["auth_id"]:
        return plivo_error(404, "not found")
    return json_answer(
        {
            "api_id": str(uuid.uuid4()),
            "call_uuid": call.sid,
            "recording_id": call.recording_sid,
            "recording_duration_ms": str(call.duration * 1000),
            "recording_format": "wav",
            "recording_type": "session",
            "recording_url": f"{call.origin}/plivo/recordings/{call.recording_sid}.wav",
            "add_time": call.created_at.strftime("%Y-%m-%d %H:%M:%S.%f+00:00"),
        }
    )


async def recording_file(request: web.Request) -> web.Response:
    """Plivo's recording URLs are public links; Breeze's download with credentials works too."""
    call = recording_of(sandbox_of(request).calls, request.match_info["recording_id"])
    if call is None:
        return plivo_error(404, "not found")
    return web.Response(body=wav_bytes(bytes(call.audio)), content_type="audio/x-wav")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/plivo/v1/Account/{auth_id}/Recording/{recording_id}/", recording_details),
        web.get("/plivo/recordings/{recording_id}.wav", recording_file),
        web.post(API, create_call),
        web.get(API + "{uuid}/", get_call),
        web.delete(API + "{uuid}/", hang_up_call),
        web.post(API + "{uuid}/", transfer_call),
    ]
