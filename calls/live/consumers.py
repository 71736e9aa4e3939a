"""The admin's live-call websocket: the call as stored, then its events as they happen.

The browser authenticates with its admin session (AuthMiddlewareStack in breeze/asgi.py).
The socket is accepted before any refusal so that the browser sees the close code rather
than a failed handshake.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from calls.exceptions import CallEndRefusedError
from calls.live.events import live_group
from calls.live.selectors import live_call_backlog, live_call_get, live_call_may_end
from calls.live.services import call_end_request

if TYPE_CHECKING:
    from config.selectors import AnyUser

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
# No such call, or one of a merchant the user may not see: the same answer for both.
CLOSE_NOT_FOUND = 4404
MAX_MESSAGE_CHARS = 1024


class LiveCallConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.call_id = int(self.scope["url_route"]["kwargs"]["call_id"])
        self.group = live_group(self.call_id)
        self.joined = False
        self.last_index = -1
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user: AnyUser = user
        call = await database_sync_to_async(live_call_get)(user=user, call_id=self.call_id)
        if call is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Join before reading the backlog: a turn written in between then arrives twice
        # (dropped by index below) rather than never.
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        backlog = await database_sync_to_async(live_call_backlog)(call_id=self.call_id)
        self.last_index = backlog.last_index
        may_end = await database_sync_to_async(live_call_may_end)(user=user, call=call)
        await self._send(
            {"type": "backlog", "call": backlog.call, "turns": backlog.turns, "may_end": may_end}
        )

    async def live_event(self, message: dict[str, Any]) -> None:
        event: dict[str, Any] = message["event"]
        if event.get("type") == "turn":
            index = int(event["turn"]["index"])
            if index <= self.last_index:
                return
            self.last_index = index
        await self._send(event)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            action = (
                json.loads(text_data or "")["action"]
                if len(text_data or "") <= MAX_MESSAGE_CHARS
                else None
            )
        except (ValueError, TypeError, KeyError):
            action = None
        if action != "end_call":
            await self._error("bad_message", 'Expected {"action": "end_call"}.')
            return
        try:
            await database_sync_to_async(call_end_request)(user=self.user, call_id=self.call_id)
        except CallEndRefusedError as refused:
            await self._error(refused.code, refused.message)
            return
        await self._send({"type": "end_requested"})

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _error(self, code: str, message: str) -> None:
        await self._send({"type": "error", "code": code, "message": message})

    async def _send(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event))
