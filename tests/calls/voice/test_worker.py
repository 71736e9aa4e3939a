"""A call worker refuses a relay that does not assign a call, and a second call."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from calls.voice.worker import CallWorker


async def _close_code(worker: CallWorker, first_message: str) -> int | None:
    async with serve(worker._serve, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as link:
            with pytest.raises(ConnectionClosed):
                await _send_then_receive(link, first_message)
            return link.close_code


async def _send_then_receive(link: ClientConnection, message: str) -> None:
    # A busy worker closes before the message is even sent.
    await link.send(message)
    await link.recv()


async def test_a_relay_that_does_not_assign_a_call_is_refused() -> None:
    worker = CallWorker(worker_id="w-test")

    code = await _close_code(worker, '{"type": "media"}')

    assert code == 1008
    assert worker.call_id is None
    assert not worker.done.is_set()


async def test_a_busy_worker_refuses_a_second_call() -> None:
    worker = CallWorker(worker_id="w-test")
    worker.call_id = 41

    code = await _close_code(worker, '{"type": "breeze.assign", "call_id": 42}')

    assert code == 1013
    assert worker.call_id == 41
