"""A Daily session in the worker: the bot joins the room itself with Pipecat's DailyTransport.

There is no provider stream to relay. The dispatcher (telephony/providers/daily/dispatch.py)
sends the worker the room URL and the bot's meeting token; the worker accepts, joins, waits
for the client, and holds the same conversation a phone call gets (same pipeline, at the
telephony rate of 8 kHz: daily-python resamples the room's Opus audio to the rate asked for,
so the speech models and VAD settings are the phone's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.server import ServerConnection

from calls.live.events import status_event
from calls.models import Call
from calls.selectors import CallContext, call_context_load
from calls.services import call_end, call_mark_in_progress
from calls.voice.call import CallEnding, _ending, run_call
from calls.voice.pipeline import TELEPHONY_RATE, CallSession, build_call_session
from calls.voice.serializers import DEFAULT_OUT_10MS_CHUNKS
from templates_app.pipecat_compat import DailyParams, DailyTransport, EndFrame, WorkerRunner

logger = logging.getLogger(__name__)

BOT_NAME = "Breeze"
# How long a cancelled pipeline may take to stop before its run is cancelled outright.
CANCEL_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class DailyAssignment:
    call_id: int
    room_url: str
    token: str
    is_recording: bool


def daily_assignment_parse(message: Mapping[str, Any]) -> DailyAssignment:
    """The dispatcher's `breeze.assign` for a Daily room; KeyError/TypeError when malformed."""
    room_url, token = message["room_url"], message["token"]
    if not isinstance(room_url, str) or not isinstance(token, str) or not room_url or not token:
        raise TypeError("room_url and token must be non-empty strings")
    return DailyAssignment(
        call_id=int(message["call_id"]),
        room_url=room_url,
        token=token,
        is_recording=bool(message.get("is_recording", False)),
    )


def daily_params(*, api_key: str) -> DailyParams:
    """Audio only, both ways, at the pipeline's rate; the bot shows no camera."""
    return DailyParams(
        api_url=settings.DAILY_API_BASE_URL,
        api_key=api_key,
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=TELEPHONY_RATE,
        audio_out_sample_rate=TELEPHONY_RATE,
        audio_out_10ms_chunks=DEFAULT_OUT_10MS_CHUNKS,
        camera_out_enabled=False,
        microphone_out_enabled=True,
        transcription_enabled=False,
    )


def daily_transport_build(assignment: DailyAssignment, *, api_key: str) -> DailyTransport:
    """The bot's transport into the room; nothing is joined until the pipeline starts."""
    return DailyTransport(
        assignment.room_url, assignment.token, BOT_NAME, params=daily_params(api_key=api_key)
    )


@dataclass
class DailyPresence:
    """What happened in the room, which decides how the call ended."""

    client_joined: asyncio.Event
    client_left: bool = False
    error: str = ""


@dataclass
class DailySession:
    session: CallSession
    transport: DailyTransport
    presence: DailyPresence


def daily_session_build(
    context: CallContext, assignment: DailyAssignment, *, worker_id: str
) -> DailySession:
    """The call's pipeline on a DailyTransport, with the room's events wired to the call."""
    transport = daily_transport_build(
        assignment, api_key=context.credentials.get("daily", {}).get("api_key", "")
    )
    presence = DailyPresence(client_joined=asyncio.Event())
    session = build_call_session(context, transport=transport, ready=presence.client_joined)

    async def client_joined(_transport: DailyTransport, participant: Mapping[str, Any]) -> None:
        logger.info("call %s: client joined the Daily room", context.call_id)
        await sync_to_async(call_mark_in_progress)(call_id=context.call_id, worker_id=worker_id)
        session.feed.publish(status_event(status=Call.Status.IN_PROGRESS))
        presence.client_joined.set()
        if assignment.is_recording:
            await transport.start_recording()

    async def client_left(
        _transport: DailyTransport, participant: Mapping[str, Any], reason: str
    ) -> None:
        # One client per room: when it leaves, the conversation is over.
        presence.client_left = True
        await session.worker.queue_frame(EndFrame())

    async def room_error(_transport: DailyTransport, message: str) -> None:
        logger.warning("call %s: Daily error: %s", context.call_id, message)
        presence.error = presence.error or message
        if not presence.client_joined.is_set():
            # Most likely the join failed: nobody can reach this bot, so stop it now.
            await session.worker.cancel(reason=f"Daily error before the client joined: {message}")

    transport.add_event_handler("on_first_participant_joined", client_joined)
    transport.add_event_handler("on_participant_left", client_left)
    transport.add_event_handler("on_error", room_error)
    return DailySession(session, transport, presence)


async def _end_unless_joined(daily: DailySession, run: asyncio.Task[None], *, call_id: int) -> None:
    """Stop a bot nobody joined, even one still waiting for Daily to let it in.

    The pipeline's start waits for the join, so frames queued then wait too: an unreachable
    Daily would hold the worker for good. Cancel the pipeline, and the run if that hangs.
    """
    try:
        await asyncio.wait_for(
            daily.presence.client_joined.wait(), timeout=settings.DAILY_CLIENT_JOIN_SECONDS
        )
    except TimeoutError:
        logger.warning("call %s: no client joined the Daily room; the bot leaves", call_id)
        await daily.session.worker.cancel(reason="no client joined the Daily room")
        await asyncio.sleep(CANCEL_GRACE_SECONDS)
        run.cancel()


def daily_ending(daily: DailySession) -> CallEnding:
    presence, session = daily.presence, daily.session
    if not presence.client_joined.is_set():
        if presence.error:
            return CallEnding(Call.Disposition.FAILED, "daily_error")
        return CallEnding(Call.Disposition.NO_ANSWER, "client_never_joined")
    turns = session.recorder.turns
    return _ending(
        hung_up_by_customer=presence.client_left,
        bot_turns=sum(turn.speaker == "bot" for turn in turns),
        customer_turns=sum(turn.speaker == "customer" for turn in turns),
        end_reason=session.runtime.end_reason,
    )


async def run_daily_call(assignment: DailyAssignment, *, worker_id: str) -> CallEnding:
    context = await sync_to_async(call_context_load)(call_id=assignment.call_id)
    daily = daily_session_build(context, assignment, worker_id=worker_id)
    session = daily.session
    session.writer.start()
    session.feed.start()
    session.end_requests.start()
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(session.worker)
    run = asyncio.create_task(runner.run())
    watchdog = asyncio.create_task(_end_unless_joined(daily, run, call_id=assignment.call_id))
    # Not `await run`: a run the watchdog cancelled must not cancel this coroutine too.
    await asyncio.wait({run})
    watchdog.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watchdog
    failure = None if run.cancelled() else run.exception()
    if failure is not None:
        raise failure
    await session.end_requests.stop()
    session.recorder.finish()
    ending = daily_ending(daily)
    await session.flow.drain()
    await session.writer.flush()
    if session.audio_recording is not None:
        # The template's worker recording, stored before the end like a phone call's.
        await session.audio_recording.store(call_id=assignment.call_id)
    await sync_to_async(call_end)(
        call_id=assignment.call_id, disposition=ending.disposition, end_reason=ending.end_reason
    )
    session.feed.publish(
        status_event(
            status=Call.Status.ENDED, disposition=ending.disposition, end_reason=ending.end_reason
        )
    )
    await session.feed.close()
    return ending


async def run_assignment(
    connection: ServerConnection, assignment: Mapping[str, Any], *, worker_id: str
) -> CallEnding:
    """Serve what the worker was assigned: a Daily room, or a relayed provider stream."""
    if assignment.get("provider") != "daily":
        return await run_call(connection, call_id=int(assignment["call_id"]), worker_id=worker_id)
    daily = daily_assignment_parse(assignment)
    # The dispatcher only waits for this; the call goes on without the link.
    await connection.send(json.dumps({"type": "breeze.accepted", "call_id": daily.call_id}))
    await connection.close(1000, "joining the Daily room")
    return await run_daily_call(daily, worker_id=worker_id)
