from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from calls.voice.call import relay_sender


def test_a_closed_relay_is_a_connection_error_the_transport_drops() -> None:
    async def scenario() -> tuple[str, type[BaseException] | None]:
        received: asyncio.Queue[str] = asyncio.Queue()
        server_side: asyncio.Future[ServerConnection] = asyncio.get_running_loop().create_future()

        async def handler(connection: ServerConnection) -> None:
            server_side.set_result(connection)
            await connection.wait_closed()

        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}") as client:
                connection = await server_side
                send = relay_sender(connection)
                await send("before hang-up")
                received.put_nowait(str(await client.recv()))
            await connection.wait_closed()
            with pytest.raises(ConnectionError) as raised:
                await send("after hang-up")
        cause = raised.value.__cause__
        return await received.get(), None if cause is None else type(cause)

    first, cause = asyncio.run(scenario())

    assert first == "before hang-up"
    assert cause is not None
    assert cause.__name__ == "ConnectionClosedOK"
