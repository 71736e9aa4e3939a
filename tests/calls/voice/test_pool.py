"""The warm-worker registry in Redis: claims are exclusive, dead workers are skipped, and a
Redis flush heals itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from calls.voice import pool


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    connection = pool.async_client()
    async for key in connection.scan_iter(f"{pool.PREFIX}*"):
        await connection.delete(key)
    yield connection
    await connection.aclose()


async def _register(client: aioredis.Redis, worker_id: str, port: int) -> None:
    await pool.worker_heartbeat(
        client, worker_id=worker_id, address=f"ws://127.0.0.1:{port}", pid=port, call_id=None
    )


async def test_each_worker_is_claimed_once(client: aioredis.Redis) -> None:
    await _register(client, "a", 1001)
    await _register(client, "b", 1002)

    claims = await asyncio.gather(*(pool.worker_claim(client, wait_seconds=0) for _ in range(3)))

    assert sorted(claim.worker_id for claim in claims if claim) == ["a", "b"]
    assert claims.count(None) == 1
    assert await client.hget(f"{pool.PREFIX}worker:a", "state") == b"claimed"


async def test_dead_idle_workers_are_skipped(client: aioredis.Redis) -> None:
    await _register(client, "dead", 1001)
    await _register(client, "alive", 1002)
    await client.delete(f"{pool.PREFIX}alive:dead")

    claim = await pool.worker_claim(client, wait_seconds=0)

    assert claim == pool.ClaimedWorker(worker_id="alive", address="ws://127.0.0.1:1002")
    assert await client.llen(pool.IDLE) == 0


async def test_a_claim_waits_for_a_worker_that_arrives(client: aioredis.Redis) -> None:
    async def arrive_later() -> None:
        await asyncio.sleep(0.3)
        await _register(client, "late", 1003)

    arrival = asyncio.create_task(arrive_later())
    claim = await pool.worker_claim(client, wait_seconds=3)
    await arrival

    assert claim is not None
    assert claim.worker_id == "late"


async def test_idle_workers_reappear_after_a_flush_and_busy_ones_do_not(
    client: aioredis.Redis,
) -> None:
    await _register(client, "idle", 1001)
    await client.flushdb()

    await _register(client, "idle", 1001)
    await pool.worker_heartbeat(
        client, worker_id="busy", address="ws://127.0.0.1:1002", pid=2, call_id=7
    )
    await _register(client, "idle", 1001)

    assert await client.lrange(pool.IDLE, 0, -1) == [b"idle"]
    assert await client.hget(f"{pool.PREFIX}worker:busy", "call") == b"7"


async def test_retired_workers_leave_no_trace(client: aioredis.Redis) -> None:
    await _register(client, "gone", 1001)

    await pool.worker_retire(client, worker_id="gone")

    assert [key async for key in client.scan_iter(f"{pool.PREFIX}*")] == []
