"""A warm call worker: everything imported and loaded, waiting for exactly one call.

It listens for the relay on a loopback websocket (docs/adr/0001-media-relay.md), registers
as idle in Redis, renews its liveness every second, serves one call, and exits; the pool
supervisor starts a fresh one in its place.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from websockets.asyncio.server import ServerConnection, serve

from calls.models import Call
from calls.selectors import call_log_ids
from calls.services import call_end
from calls.tracing import call_traceparent
from calls.voice import pool
from calls.voice.daily import run_assignment
from calls.voice.log_bridge import route_loguru_to_logging
from calls.voice.speech import registry
from config.logs import context as log_context
from config.tracing.context import span_from
from config.tracing.setup import tracing_configure, tracing_flush

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
MAX_MESSAGE_BYTES = 256 * 1024


class CallWorker:
    def __init__(self, *, worker_id: str, host: str = "127.0.0.1") -> None:
        self.worker_id = worker_id
        self.host = host
        self.address = ""
        self.call_id: int | None = None
        self.done = asyncio.Event()

    async def run(self) -> None:
        started = time.monotonic()
        tracing_configure(service_name="breeze-voice")
        # Before `serve`: the connection handler's task inherits this context.
        log_context.bind(worker_id=self.worker_id)
        route_loguru_to_logging()
        registry.warm_up()
        client = pool.async_client()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop_if_idle)
        async with serve(
            self._serve, self.host, 0, max_size=MAX_MESSAGE_BYTES, compression=None
        ) as server:
            port = server.sockets[0].getsockname()[1]
            self.address = f"ws://{self.host}:{port}"
            heartbeat = asyncio.create_task(self._heartbeat(client))
            logger.info(
                "call worker %s warm in %.2fs at %s",
                self.worker_id,
                time.monotonic() - started,
                self.address,
            )
            await self.done.wait()
            heartbeat.cancel()
        await pool.worker_retire(client, worker_id=self.worker_id)
        await client.aclose()

    def _stop_if_idle(self) -> None:
        # A worker in a call finishes it; an idle one leaves at once.
        if self.call_id is None:
            self.done.set()

    async def _heartbeat(self, client: aioredis.Redis) -> None:
        while True:
            try:
                await pool.worker_heartbeat(
                    client,
                    worker_id=self.worker_id,
                    address=self.address,
                    pid=os.getpid(),
                    call_id=self.call_id,
                )
            except Exception:
                logger.warning("call worker %s: heartbeat failed", self.worker_id, exc_info=True)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _serve(self, connection: ServerConnection) -> None:
        if self.call_id is not None or self.done.is_set():
            await connection.close(1013, "worker busy")
            return
        try:
            assignment = json.loads(await connection.recv())
            self.call_id = int(assignment["call_id"])
        except (ValueError, KeyError, TypeError):
            await connection.close(1008, "expected a breeze.assign message")
            return
        # The worker serves this one call and exits, so the ids stay bound to the end.
        log_context.bind(**await sync_to_async(call_log_ids)(call_id=self.call_id))
        traceparent = await sync_to_async(call_traceparent)(call_id=self.call_id)
        try:
            # Turn spans and the events' webhook deliveries (written at the end) nest in it.
            with span_from(
                traceparent,
                "call.conversation",
                attributes={"breeze.call_id": self.call_id, "breeze.worker_id": self.worker_id},
            ) as span:
                ending = await run_assignment(connection, assignment, worker_id=self.worker_id)
                span.set_attribute("breeze.disposition", ending.disposition)
            logger.info(
                "call %s ended: %s (%s)", self.call_id, ending.disposition, ending.end_reason
            )
        except Exception:
            logger.exception("call %s failed in worker %s", self.call_id, self.worker_id)
            await sync_to_async(call_end)(
                call_id=self.call_id, disposition=Call.Disposition.FAILED, end_reason="worker_error"
            )
            await connection.close(1011, "call failed")
        finally:
            # The process exits after this call: export its spans first.
            await sync_to_async(tracing_flush)()
            self.done.set()
