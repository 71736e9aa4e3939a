"""What happens to the phone line around the conversation: transfers and answering machines.

The provider's callbacks reach the worker as control messages (calls/voice/control.py):
`transfer_unanswered` (a warm transfer's agent did not pick up), `voicemail` (an answering
machine took the call and the template leaves a message) and `line_ended` (the provider
reported the call completed while its stream was still open).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async

from calls.voice import pool
from calls.voice.control import call_control_messages
from telephony.transfers import call_transfer
from templates_app.flows.builder import HOLD_NODE
from templates_app.pipecat_compat import (
    EndFrame,
    FrameSerializer,
    InterruptionFrame,
    TTSSpeakFrame,
)

if TYPE_CHECKING:
    from calls.voice.pipeline import CallSession

logger = logging.getLogger(__name__)
HOLD_WAIT_STEP_S = 0.05
HOLD_WAIT_STEPS = 100


class LineControl:
    """Whether the provider's serializer hangs up when the pipeline ends.

    A transferred customer must stay on the line when the bot leaves; Pipecat's Twilio and
    Plivo serializers would otherwise end the call through the provider's REST API.
    """

    def __init__(self, serializer: FrameSerializer | None) -> None:
        self._params: Any = getattr(serializer, "_params", None)
        self._hangs_up = bool(getattr(self._params, "auto_hang_up", False))

    def keep(self, keep: bool) -> None:
        if self._hangs_up:
            self._params.auto_hang_up = not keep


async def control_listen(session: CallSession, *, call_id: int) -> None:
    """Apply the call's control messages until cancelled (the call's end)."""
    client = pool.async_client()
    try:
        async for message in call_control_messages(client, call_id=call_id):
            try:
                await control_apply(session, message)
            except Exception:
                logger.exception("call %s: control message %r failed", call_id, message)
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


async def control_apply(session: CallSession, message: dict[str, Any]) -> None:
    runtime, flow, worker = session.runtime, session.flow, session.worker
    kind = message.get("type")
    if kind == "transfer_unanswered":
        if not runtime.warm_transfer_pending or runtime.transfer is None:
            logger.info("call %s: stale transfer report ignored", runtime.call_id)
            return
        runtime.warm_transfer_pending = False
        runtime.keep_line(False)
        await _holding(session)
        plan = runtime.transfer
        sorry = TTSSpeakFrame(flow.text(plan.no_answer_message))
        if plan.no_answer == "end":
            runtime.end_reason = "transfer_unanswered"
            await worker.queue_frames([sorry, EndFrame()])
            return
        await worker.queue_frame(sorry)
        await session.flow_manager.set_node_from_config(await flow.resume_after_transfer())
        return
    if kind == "voicemail":
        runtime.end_reason = "voicemail"
        text = flow.text(str(message.get("message", "")))
        # Whatever the bot was saying to the machine stops; the message is recorded whole.
        speak = [TTSSpeakFrame(text)] if text else []
        await worker.queue_frames([InterruptionFrame(), *speak, EndFrame()])
        return
    if kind == "line_ended":
        # The call record already says how it ended; nobody is left to hear the bot, and the
        # provider must not be asked to hang up a call it has finished.
        logger.info("call %s: the provider ended the line; stopping", runtime.call_id)
        runtime.end_reason = "provider_completed"
        runtime.keep_line(True)
        await worker.queue_frames([InterruptionFrame(), EndFrame()])
        return
    logger.warning("call %s: unknown control message %r ignored", runtime.call_id, kind)


async def _holding(session: CallSession) -> None:
    """Until the flow has moved into the hold node.

    An agent dial refused at once is reported before Flows applies the hold node (after the
    function's result); moving on earlier would have that late transition win.
    """
    for _ in range(HOLD_WAIT_STEPS):
        if session.flow_manager.current_node == HOLD_NODE:
            return
        await asyncio.sleep(HOLD_WAIT_STEP_S)


def control_start(session: CallSession, *, call_id: int) -> asyncio.Task[None]:
    return asyncio.create_task(control_listen(session, call_id=call_id))


async def control_stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def transfer_after_bot_left(session: CallSession, *, call_id: int) -> None:
    """A cold transfer asked for in the conversation, once the bot has said its last words."""
    runtime = session.runtime
    if not runtime.cold_transfer_number:
        return
    try:
        done = await sync_to_async(call_transfer)(
            call_id=call_id, number=runtime.cold_transfer_number
        )
    except OSError:
        logger.warning("call %s: the provider could not transfer", call_id, exc_info=True)
        done = False
    if not done:
        runtime.end_reason = "transfer_failed"
