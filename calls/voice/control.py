"""Telling a live call's worker what a provider callback learnt.

For example: a warm transfer's agent did not answer, or an answering machine took the call.
A Redis list per call, not pub/sub: the callback may arrive before the worker listens (an
answering-machine verdict can beat the stream's `start`), and a pushed message waits for it.
The list expires with the longest call, so messages for calls that never ran do not pile up.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, cast

import redis.asyncio as aioredis

from calls.voice import pool

logger = logging.getLogger(__name__)

EXPIRE_SECONDS = 2 * 3600
WAIT_SECONDS = 1.0


def _key(call_id: int) -> str:
    return f"{pool.PREFIX}control:{call_id}"


def call_control_send(*, call_id: int, message: dict[str, Any]) -> None:
    """Queue `message` for the worker that runs (or will run) `call_id`."""
    client = pool.sync_client()
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.rpush(_key(call_id), json.dumps(message))
            pipe.expire(_key(call_id), EXPIRE_SECONDS)
            pipe.execute()
    finally:
        client.close()


async def call_control_messages(
    client: aioredis.Redis, *, call_id: int
) -> AsyncIterator[dict[str, Any]]:
    """The call's control messages as they arrive; runs until cancelled."""
    while True:
        waiting = client.blpop([_key(call_id)], timeout=WAIT_SECONDS)
        popped = await cast("Awaitable[list[bytes] | None]", waiting)
        if popped is None:
            continue
        try:
            message = json.loads(popped[1])
        except ValueError:
            logger.warning("call %s: dropped a malformed control message", call_id)
            continue
        if isinstance(message, dict):
            yield message
