"""The worker's side of live calls: publish what was written, listen for an operator's end.

Watching a call is a convenience; the call itself must never wait on it or fail because of
it. Events are queued and sent by one task in order, each send bounded by a timeout; a full
queue or an unreachable channel layer drops events with a log line and the call goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer

from calls.live.events import (
    END_REQUEST,
    LIVE_EVENT,
    control_group,
    live_group,
    node_event,
    outcome_event,
    turn_event,
)
from calls.services import call_record_node, call_record_turn, call_update_outcome

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 1.0
CLOSE_TIMEOUT_SECONDS = 2.0
MAX_QUEUED_EVENTS = 500
LISTEN_RETRY_SECONDS = 1.0


class LiveFeed:
    """Publishes one call's events to its watchers' group, in the order they were written."""

    def __init__(self, *, call_id: int, layer: BaseChannelLayer | None = None) -> None:
        self.call_id = call_id
        self._layer = layer or get_channel_layer()
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(MAX_QUEUED_EVENTS + 1)
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def start(self) -> None:
        if self._layer is not None:
            self._task = asyncio.create_task(self._run())

    def publish(self, event: dict[str, Any]) -> None:
        if self._task is None:
            return
        if self._queue.qsize() >= MAX_QUEUED_EVENTS:
            logger.warning(
                "call %s: live feed backlog full; dropped a %s event", self.call_id, event["type"]
            )
            return
        self._queue.put_nowait(event)

    def written(self, service: Callable[..., Any], kwargs: Mapping[str, Any], result: Any) -> None:
        """The `CallWriter` hook: turn a stored write into the event watchers see."""
        if service is call_record_turn:
            self.publish(turn_event(result))
        elif service is call_record_node:
            self.publish(node_event(str(kwargs["node"])))
        elif service is call_update_outcome:
            self.publish(outcome_event(str(kwargs["outcome"]), dict(kwargs["fields"])))

    async def close(self) -> None:
        """Send what is queued (bounded in time), then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._task, CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("call %s: live feed did not drain in time", self.call_id)
        self._task = None

    async def _run(self) -> None:
        assert self._layer is not None
        group = live_group(self.call_id)
        while (event := await self._queue.get()) is not None:
            try:
                await asyncio.wait_for(
                    self._layer.group_send(group, {"type": LIVE_EVENT, "event": event}),
                    SEND_TIMEOUT_SECONDS,
                )
                self._failing = False
            except Exception:
                # One line per outage, not one per event.
                if not self._failing:
                    logger.warning(
                        "call %s: live feed could not publish", self.call_id, exc_info=True
                    )
                self._failing = True


class EndRequests:
    """Listens on the call's control group and hands an operator's end request to `on_end`."""

    def __init__(
        self,
        *,
        call_id: int,
        on_end: Callable[[str], Awaitable[None]],
        layer: BaseChannelLayer | None = None,
    ) -> None:
        self.call_id = call_id
        self._on_end = on_end
        self._layer = layer or get_channel_layer()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        if self._layer is not None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception:
                logger.warning(
                    "call %s: cannot listen for end requests; retrying", self.call_id, exc_info=True
                )
                await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _listen(self) -> None:
        assert self._layer is not None
        group = control_group(self.call_id)
        channel = await self._layer.new_channel()
        await self._layer.group_add(group, channel)
        self.listening.set()
        try:
            while True:
                message = await self._layer.receive(channel)
                if message.get("type") == END_REQUEST:
                    await self._on_end(str(message.get("requested_by", "")))
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self._layer.group_discard(group, channel), SEND_TIMEOUT_SECONDS
                )
