"""Database writes from inside a running call, in order, without blocking the audio loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections

logger = logging.getLogger(__name__)

# Told about each write that succeeded (service, its arguments, its result); the live feed.
WrittenHook = Callable[[Callable[..., Any], Mapping[str, Any], Any], None]


class CallWriter:
    """Runs service calls one at a time in a thread, in the order they were queued.

    The pipeline never waits on PostgreSQL; `flush()` waits for everything queued so far.
    A failed write is logged and the next one still runs: a lost turn must not end a call.
    """

    def __init__(self, *, on_written: WrittenHook | None = None) -> None:
        self._on_written = on_written
        self._queue: asyncio.Queue[tuple[Callable[..., Any], dict[str, Any]] | None] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def write(self, service: Callable[..., Any], **kwargs: Any) -> None:
        self._queue.put_nowait((service, kwargs))

    async def flush(self) -> None:
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not None:
            service, kwargs = item
            try:
                result = await sync_to_async(_run_service)(service, kwargs)
            except Exception:
                logger.exception("call write %s failed", getattr(service, "__name__", service))
                continue
            if self._on_written is not None:
                try:
                    self._on_written(service, kwargs, result)
                except Exception:
                    logger.exception("after call write %s", getattr(service, "__name__", service))


def _run_service(service: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    close_old_connections()
    return service(**kwargs)
