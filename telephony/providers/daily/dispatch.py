"""Send a warm call worker into a session's Daily room.

Unlike a phone call there is no media stream to relay: the worker joins the room itself
with Pipecat's DailyTransport. The dispatcher only hands it the room URL and the bot's own
meeting token over the same loopback link the media relay uses, and waits for it to accept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

from django.conf import settings
from django.utils import timezone
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from calls.models import Call
from calls.services import call_advance, call_end
from calls.voice import pool
from telephony.providers.daily.client import DailyRefusedError, daily_meeting_token_create
from telephony.providers.daily.models import DailyRoom
from telephony.providers.daily.rooms import daily_api_key
from telephony.relay import CONNECT_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

BOT_NAME = "Breeze"
# How long a session waits for a freshly started worker when the warm pool is empty.
COLD_START_SECONDS = 15.0
# Past the client's time to join, a session still queued or dialing has no bot coming.
STUCK_MARGIN_SECONDS = 60


def daily_assignment(*, call_id: int, room: DailyRoom, token: str) -> dict[str, object]:
    """What the worker needs to join: the room, the bot's token, and whether to record."""
    return {
        "type": "breeze.assign",
        "call_id": call_id,
        "provider": "daily",
        "room_url": room.url,
        "token": token,
        "is_recording": room.is_recording,
    }


async def _hand_to_worker(assignment: dict[str, object]) -> str | None:
    """The id of the worker that accepted `assignment`, or None when none would."""
    client = pool.async_client()
    try:
        worker = await pool.worker_claim(client, wait_seconds=0)
        if worker is None:
            logger.warning(
                "call %s: warm pool empty; waiting for a fresh worker", assignment["call_id"]
            )
            await pool.pool_request_worker(client)
            worker = await pool.worker_claim(client, wait_seconds=COLD_START_SECONDS)
    finally:
        await client.aclose()
    if worker is None:
        return None
    try:
        async with connect(
            worker.address, open_timeout=CONNECT_TIMEOUT_SECONDS, compression=None
        ) as link:
            await link.send(json.dumps(assignment))
            answer = json.loads(await asyncio.wait_for(link.recv(), CONNECT_TIMEOUT_SECONDS))
    except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, ValueError) as error:
        logger.warning(
            "call %s: worker %s did not accept: %s", assignment["call_id"], worker.worker_id, error
        )
        return None
    if not isinstance(answer, dict) or answer.get("type") != "breeze.accepted":
        return None
    return worker.worker_id


def _bot_token(call: Call, room: DailyRoom | None) -> str | None:
    """The bot's owner token, or None with the call ended (no room, no key, Daily refused)."""
    refusal = ""
    if room is None:
        refusal = "no_room"
    elif not (api_key := daily_api_key(merchant_id=call.merchant_id)):
        refusal = "provider_not_configured"
    else:
        try:
            return daily_meeting_token_create(
                api_key=api_key,
                room_name=room.name,
                expires_at=room.expires_at,
                user_name=BOT_NAME,
                is_owner=True,
                may_record=room.is_recording,
            )
        except DailyRefusedError as error:
            logger.warning("call %s: Daily refused the bot's token: %s", call.pk, error)
            refusal = "provider_rejected"
    logger.error("call %s: no bot for the Daily session (%s)", call.pk, refusal)
    call_end(call_id=call.pk, disposition=Call.Disposition.FAILED, end_reason=refusal)
    return None


def daily_bot_dispatch(*, call_id: int) -> bool:
    """Make the bot's token and send a worker into the call's room, at most once.

    The token comes first: Daily being unavailable raises DailyUnavailableError with the
    call still queued, so the task's retry tries again. The move queued → dialing is the
    claim; a redelivered task finds the call past it and does nothing (False).
    """
    call = Call.objects.filter(pk=call_id).first()
    if call is None or call.status != Call.Status.QUEUED:
        return False
    room = DailyRoom.objects.filter(call_id=call_id).first()
    token = _bot_token(call, room)
    if token is None or room is None:
        return True
    if not call_advance(call_id=call_id, status=Call.Status.DIALING, started_at=timezone.now()):
        return False
    assignment = daily_assignment(call_id=call_id, room=room, token=token)
    worker_id = asyncio.run(_hand_to_worker(assignment))
    if worker_id is None:
        logger.error("call %s: no call worker took the Daily session", call_id)
        call_end(call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="no_worker")
        return True
    logger.info("call %s: worker %s joins Daily room %s", call_id, worker_id, room.name)
    return True


def daily_bot_dispatch_abandon(*, call_id: int, why: str) -> None:
    """End a session whose bot could not be sent (Daily kept failing); the client sees no bot."""
    if call_end(call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="provider_error"):
        logger.error("call %s: gave up sending a bot to the Daily room: %s", call_id, why)


def daily_calls_reconcile(*, now: dt.datetime) -> list[int]:
    """End Daily sessions stuck before their client arrived; the ids of those ended.

    A session whose dispatch task was lost (a Redis flush, a Celery worker killed between
    the claim and the hand-over) would otherwise stay queued or dialing for good: no provider
    callback will ever end it. A live bot moves its call to in_progress when the client
    joins, or ends it itself once DAILY_CLIENT_JOIN_SECONDS have passed.
    """
    cutoff = now - dt.timedelta(seconds=settings.DAILY_CLIENT_JOIN_SECONDS + STUCK_MARGIN_SECONDS)
    stuck = Call.objects.filter(
        provider="daily",
        status__in=[Call.Status.QUEUED, Call.Status.DIALING],
        created_at__lt=cutoff,
    ).values_list("pk", flat=True)
    ended = [
        call_id
        for call_id in stuck[:500]
        if call_end(
            call_id=call_id, disposition=Call.Disposition.FAILED, end_reason="dispatch_lost"
        )
    ]
    if ended:
        logger.error("Daily sessions ended because no bot ever reached them: %s", ended)
    return ended
