"""Run one call in a worker: wait for `start`, build the pipeline, converse, record the end.

The relay connection carries the provider's messages unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from calls.langfuse.call_trace import call_langfuse_attach, call_langfuse_finish
from calls.live.events import status_event
from calls.models import Call
from calls.selectors import call_context_load
from calls.services import call_end, call_mark_in_progress
from calls.voice.line import control_start, control_stop, transfer_after_bot_left
from calls.voice.pipeline import build_call_session
from calls.voice.serializers import build_serializer
from templates_app.pipecat_compat import WorkerRunner

logger = logging.getLogger(__name__)

Disposition = Call.Disposition


@dataclass
class CallEnding:
    disposition: str
    end_reason: str


async def _wait_for_start(connection: ServerConnection) -> dict[str, object]:
    """The provider's `start` message (earlier ones carry nothing the worker needs)."""
    async for message in connection:
        text = message if isinstance(message, str) else message.decode(errors="replace")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict) and parsed.get("event") == "start":
            return parsed
    raise ConnectionClosed(None, None)


async def _pump(connection: ServerConnection, inbound: asyncio.Queue[str | None]) -> None:
    try:
        async for message in connection:
            inbound.put_nowait(
                message if isinstance(message, str) else message.decode(errors="replace")
            )
    except ConnectionClosed:
        pass
    finally:
        inbound.put_nowait(None)


def relay_sender(connection: ServerConnection) -> Callable[[str | bytes], Awaitable[None]]:
    """The transport's `send`: a closed relay is a ConnectionError, which the transport drops.

    After a hang-up the pipeline may still flush audio; without this each frame would log
    websockets' ConnectionClosedOK as an error.
    """

    async def send(message: str | bytes) -> None:
        try:
            await connection.send(message)
        except ConnectionClosed as closed:
            raise ConnectionError("the relay connection is closed") from closed

    return send


def _ending(
    *, hung_up_by_customer: bool, bot_turns: int, customer_turns: int, end_reason: str
) -> CallEnding:
    if end_reason == "transferred":
        return CallEnding(Disposition.TRANSFERRED, end_reason)
    if end_reason == "voicemail":
        return CallEnding(Disposition.VOICEMAIL, end_reason)
    if hung_up_by_customer:
        early = customer_turns == 0 and bot_turns <= 1
        return CallEnding(
            Disposition.EARLY_HANGUP if early else Disposition.ANSWERED, "customer_hangup"
        )
    return CallEnding(Disposition.ANSWERED, end_reason or "bot_ended")


async def run_call(connection: ServerConnection, *, call_id: int, worker_id: str) -> CallEnding:
    context = await sync_to_async(call_context_load)(call_id=call_id)
    await sync_to_async(call_mark_in_progress)(call_id=call_id, worker_id=worker_id)
    start = await _wait_for_start(connection)
    inbound: asyncio.Queue[str | None] = asyncio.Queue()
    session = build_call_session(
        context,
        serializer=build_serializer(context.provider, start, credentials=context.credentials),
        inbound=inbound,
        send=relay_sender(connection),
    )
    session.writer.start()
    llm_trace = await call_langfuse_attach(session, call_id=call_id)
    session.feed.start()
    session.feed.publish(status_event(status=Call.Status.IN_PROGRESS))
    session.end_requests.start()
    pump = asyncio.create_task(_pump(connection, inbound))
    control = control_start(session, call_id=call_id)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(session.worker)
    await runner.run()
    # The customer hung up only if the stream ended while the pipeline was still reading it:
    # its input then took the end-of-stream marker off the queue. A stream the provider
    # closes after the bot ended (a REST hang-up by the serializer: Twilio and Plivo stop
    # the stream at once) leaves the marker unread.
    hung_up_by_customer = pump.done() and inbound.empty()
    await control_stop(control)
    await transfer_after_bot_left(session, call_id=call_id)
    await session.end_requests.stop()
    pump.cancel()
    session.recorder.finish()
    turns = session.recorder.turns
    ending = _ending(
        hung_up_by_customer=hung_up_by_customer,
        bot_turns=sum(turn.speaker == "bot" for turn in turns),
        customer_turns=sum(turn.speaker == "customer" for turn in turns),
        end_reason=session.runtime.end_reason,
    )
    await session.flow.drain()
    await session.writer.flush()
    if session.audio_recording is not None:
        # Before the end, so call.completed can carry the recording's link.
        await session.audio_recording.store(call_id=call_id)
    await sync_to_async(call_end)(
        call_id=call_id, disposition=ending.disposition, end_reason=ending.end_reason
    )
    session.feed.publish(
        status_event(
            status=Call.Status.ENDED, disposition=ending.disposition, end_reason=ending.end_reason
        )
    )
    await connection.close(1000, "call ended")
    await session.feed.close()
    # Last: sending to Langfuse must not hold the provider's stream open.
    await call_langfuse_finish(
        llm_trace, disposition=ending.disposition, end_reason=ending.end_reason
    )
    return ending
