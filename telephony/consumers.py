"""Media-stream consumers: authenticate a provider stream, hand it to a warm worker, relay.

The consumer reads messages only until the provider's `start` (to find and spend the media
token) and never parses audio. After that, every message goes to the worker unchanged and
every worker message goes back to the provider unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import aclose_old_connections
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from opentelemetry.trace import Span
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from calls.selectors import call_log_ids
from calls.tracing import call_span_start, call_traceparent
from calls.voice import pool
from config.logs import context as log_context
from telephony.media import PROVIDERS, is_start, parse_event, token_from
from telephony.relay import worker_link_open
from telephony.tokens import MediaTokenError, media_token_consume

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 64 * 1024
MAX_MESSAGES_BEFORE_START = 50
# How long a call may wait for a freshly started worker when the warm pool is empty.
COLD_START_SECONDS = 15.0

CLOSE_UNKNOWN_PROVIDER = 4404
CLOSE_UNAUTHORIZED = 4401
CLOSE_NO_WORKER = 4503


class MediaStreamConsumer(AsyncWebsocketConsumer):
    # The worker's relay, once the stream's `start` has claimed one.
    link: ClientConnection | None = None

    async def connect(self) -> None:
        route = self.scope["url_route"]["kwargs"]
        self.provider: str = route["provider"]
        self.call_id = int(route["call_id"])
        # Every handler of this connection runs in this task, so the binding lasts the call.
        log_context.bind(call_id=self.call_id)
        self.before_start: list[str] = []
        self.pump: asyncio.Task[None] | None = None
        self.closing = False
        self.span: Span | None = None
        if self.provider not in PROVIDERS:
            await self.close(code=CLOSE_UNKNOWN_PROVIDER)
            return
        await self.accept()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Channels' own loop also listens on the channel layer, at the price of a new task
        # and an `asyncio.wait` for every message; this consumer never receives from a
        # channel layer, so it takes its messages straight from the server.
        self.scope = scope
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            while True:
                message = await receive()
                # Channels closes stale database connections before every message, through
                # a thread hop. Once the stream is relayed the consumer touches no database,
                # and that hop on each 20 ms frame cost Daphne more than the relaying itself
                # (docs/benchmarks.md), so relayed media skips it.
                if self.link is None:
                    await aclose_old_connections()
                await getattr(self, get_handler_name(message))(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = (
            text_data if text_data is not None else (bytes_data or b"").decode(errors="replace")
        )
        if len(message) > MAX_MESSAGE_CHARS:
            logger.warning(
                "call %s: dropped an oversize media message (%d chars)", self.call_id, len(message)
            )
            return
        if self.link is not None:
            with contextlib.suppress(ConnectionClosed):
                await self.link.send(message)
            return
        if self.closing:
            return
        await self._before_start(message)

    async def _before_start(self, message: str) -> None:
        event = parse_event(message)
        if event is None or not is_start(event):
            if len(self.before_start) >= MAX_MESSAGES_BEFORE_START:
                logger.warning(
                    "call %s: no start after %d messages; dropping",
                    self.call_id,
                    len(self.before_start),
                )
                return
            self.before_start.append(message)
            return
        token = token_from(query_string=self.scope.get("query_string", b""), start=event)
        try:
            await sync_to_async(media_token_consume)(token=token, call_id=self.call_id)
        except MediaTokenError as error:
            logger.warning("call %s: media token refused (%s)", self.call_id, error)
            await self._close(CLOSE_UNAUTHORIZED)
            return
        log_context.bind(**await sync_to_async(call_log_ids)(call_id=self.call_id))
        # One span for the relay, not one per audio message; ended at disconnect.
        traceparent = await sync_to_async(call_traceparent)(call_id=self.call_id)
        self.span = call_span_start("call.media", call_id=self.call_id, traceparent=traceparent)
        self.span.set_attribute("breeze.provider", self.provider)
        worker = await self._claim_worker()
        if worker is None:
            logger.error("call %s: no call worker became available", self.call_id)
            await self._close(CLOSE_NO_WORKER)
            return
        self.link = await worker_link_open(
            address=worker.address, call_id=self.call_id, provider=self.provider
        )
        # The one line that ties this call's media stream to the worker process serving it.
        logger.info(
            "call %s: %s media relayed to worker %s", self.call_id, self.provider, worker.worker_id
        )
        for earlier in [*self.before_start, message]:
            await self.link.send(earlier)
        self.before_start = []
        self.pump = asyncio.create_task(self._relay_back(self.link))

    async def _claim_worker(self) -> pool.ClaimedWorker | None:
        client = pool.async_client()
        try:
            worker = await pool.worker_claim(client, wait_seconds=0)
            if worker is None:
                logger.warning("call %s: warm pool empty; waiting for a fresh worker", self.call_id)
                await pool.pool_request_worker(client)
                worker = await pool.worker_claim(client, wait_seconds=COLD_START_SECONDS)
            return worker
        finally:
            await client.aclose()

    async def _relay_back(self, link: ClientConnection) -> None:
        try:
            async for message in link:
                if isinstance(message, bytes):
                    await self.send(bytes_data=message)
                else:
                    await self.send(text_data=message)
        except ConnectionClosed:
            pass
        # The worker ended the call (or died): the provider's stream ends too.
        await self._close(1000)

    async def _close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if self.link is not None:
            # The customer hung up or the provider dropped: the worker sees the close.
            await self.link.close()
        if self.pump is not None and self.pump is not asyncio.current_task():
            self.pump.cancel()
        if self.span is not None:
            self.span.set_attribute("breeze.close_code", code)
            self.span.end()
