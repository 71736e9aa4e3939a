"""Round-trip time of one provider media message between two processes, per relay transport.

Run: .venv/bin/python bench/relay_transports.py [--messages 2000]

The consumer (Daphne) must hand every 20 ms media message to the call's worker process and
get the worker's replies back. This measures a request/echo round trip of a Twilio `media`
message (about 300 bytes of JSON) through each candidate transport, with the echo side in
its own process, and prints the median and p99 in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as aioredis
from websockets.asyncio.client import connect, unix_connect
from websockets.asyncio.server import ServerConnection, serve, unix_serve

MESSAGE = json.dumps(
    {
        "event": "media",
        "sequenceNumber": "42",
        "streamSid": "MZ" + "0" * 32,
        "media": {
            "track": "inbound",
            "chunk": "41",
            "timestamp": "820",
            "payload": base64.b64encode(bytes(160)).decode(),
        },
    }
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")


async def _echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


def _serve_tcp(port_queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        async with serve(_echo, "127.0.0.1", 0, compression=None) as server:
            port_queue.put(server.sockets[0].getsockname()[1])
            await asyncio.Future()

    asyncio.run(main())


def _serve_unix(path: str, ready: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        async with unix_serve(_echo, path, compression=None):
            ready.put(True)
            await asyncio.Future()

    asyncio.run(main())


def _serve_redis(inbox: str, outbox: str, ready: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        client = aioredis.from_url(REDIS_URL)  # type: ignore[no-untyped-call]
        ready.put(True)
        while True:
            _, message = await client.blpop([inbox])
            await client.rpush(outbox, message)

    asyncio.run(main())


async def _measure(round_trip: Callable[[], Awaitable[None]], count: int) -> list[float]:
    for _ in range(50):  # warm up
        await round_trip()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await round_trip()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def _report(name: str, samples: list[float]) -> None:
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"{name:<28} median {statistics.median(samples):7.1f} us   p99 {p99:7.1f} us")


async def bench(count: int) -> None:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]

    tcp = context.Process(target=_serve_tcp, args=(queue,), daemon=True)
    tcp.start()
    port = queue.get(timeout=10)
    async with connect(f"ws://127.0.0.1:{port}", compression=None) as ws:

        async def tcp_round_trip() -> None:
            await ws.send(MESSAGE)
            await ws.recv()

        _report("websocket, loopback TCP", await _measure(tcp_round_trip, count))
    tcp.terminate()

    path = str(Path(tempfile.mkdtemp()) / "relay.sock")
    unix = context.Process(target=_serve_unix, args=(path, queue), daemon=True)
    unix.start()
    queue.get(timeout=10)
    async with unix_connect(path, compression=None) as ws:

        async def unix_round_trip() -> None:
            await ws.send(MESSAGE)
            await ws.recv()

        _report("websocket, Unix socket", await _measure(unix_round_trip, count))
    unix.terminate()

    inbox, outbox = f"bench:{uuid.uuid4()}:in", f"bench:{uuid.uuid4()}:out"
    relay = context.Process(target=_serve_redis, args=(inbox, outbox, queue), daemon=True)
    relay.start()
    queue.get(timeout=10)
    client = aioredis.from_url(REDIS_URL)  # type: ignore[no-untyped-call]

    async def redis_round_trip() -> None:
        await client.rpush(inbox, MESSAGE)
        await client.blpop([outbox])

    _report("Redis lists (RPUSH/BLPOP)", await _measure(redis_round_trip, count))
    relay.terminate()
    await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    arguments = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {arguments.messages} round trips each"
    )
    asyncio.run(bench(arguments.messages))
