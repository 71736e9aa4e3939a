"""The registry of warm call workers in Redis: who is idle, who is alive, who serves which call.

Keys (prefix `breeze:voice:`): `idle` (list of worker ids ready for a call), `worker:<id>`
(hash: address, pid, state, call), `alive:<id>` (expires unless the worker renews it),
`spawn` (requests for an extra worker when none is idle) and `stats:*` counters.
Everything here is rebuilt by the workers' own heartbeats if Redis is flushed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)

PREFIX = "breeze:voice:"
IDLE = PREFIX + "idle"
SPAWN = PREFIX + "spawn"
POOL_EMPTY_COUNT = PREFIX + "stats:pool_empty"
ALIVE_SECONDS = 3


def _worker_key(worker_id: str) -> str:
    return f"{PREFIX}worker:{worker_id}"


def _alive_key(worker_id: str) -> str:
    return f"{PREFIX}alive:{worker_id}"


@dataclass(frozen=True)
class ClaimedWorker:
    worker_id: str
    address: str


def async_client() -> aioredis.Redis:
    return aioredis.from_url(settings.REDIS_URL)


def sync_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


async def worker_heartbeat(
    client: aioredis.Redis, *, worker_id: str, address: str, pid: int, call_id: int | None
) -> None:
    """Renew this worker's liveness; an idle worker also makes sure it is offered for calls."""
    state = "busy" if call_id is not None else "idle"
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(_alive_key(worker_id), "1", ex=ALIVE_SECONDS)
        pipe.hset(
            _worker_key(worker_id),
            mapping={"address": address, "pid": pid, "state": state, "call": call_id or ""},
        )
        pipe.expire(_worker_key(worker_id), 3600)
        await pipe.execute()
    # After a Redis flush the idle list is gone; an idle worker puts itself back.
    if call_id is None and await client.lpos(IDLE, worker_id) is None:
        await client.rpush(IDLE, worker_id)


async def worker_retire(client: aioredis.Redis, *, worker_id: str) -> None:
    async with client.pipeline(transaction=False) as pipe:
        pipe.lrem(IDLE, 0, worker_id)
        pipe.delete(_alive_key(worker_id), _worker_key(worker_id))
        await pipe.execute()


async def worker_claim(client: aioredis.Redis, *, wait_seconds: float) -> ClaimedWorker | None:
    """Take an idle, live worker for one call; waits up to `wait_seconds` for one to appear.

    A worker id is popped atomically, so two consumers never get the same worker; ids of
    workers that died while idle are discarded.
    """
    deadline_left = wait_seconds
    while True:
        worker_id_raw = await client.lpop(IDLE)
        if worker_id_raw is None:
            if deadline_left <= 0:
                return None
            popped = await client.blpop([IDLE], timeout=deadline_left)
            if popped is None:
                return None
            worker_id_raw = popped[1]
            deadline_left = 0
        worker_id = worker_id_raw.decode()
        if not await client.exists(_alive_key(worker_id)):
            logger.warning("voice pool: skipped dead idle worker %s", worker_id)
            continue
        address = await client.hget(_worker_key(worker_id), "address")
        if address is None:
            continue
        await client.hset(_worker_key(worker_id), "state", "claimed")
        return ClaimedWorker(worker_id=worker_id, address=address.decode())


async def pool_request_worker(client: aioredis.Redis) -> None:
    """Ask the supervisor for one more worker now, and count the shortage."""
    async with client.pipeline(transaction=False) as pipe:
        pipe.rpush(SPAWN, "1")
        pipe.incr(POOL_EMPTY_COUNT)
        await pipe.execute()


def worker_is_alive(client: redis.Redis, *, worker_id: str) -> bool:
    return bool(client.exists(_alive_key(worker_id)))


def pool_idle_count(client: redis.Redis) -> int:
    return int(client.llen(IDLE))


def pool_worker_states(client: redis.Redis) -> dict[str, int]:
    """Live workers by state (idle, claimed, busy), read from their own registry entries.

    Every host's workers register here, so this is the pool as a whole, not one supervisor's.
    """
    states = {"idle": 0, "claimed": 0, "busy": 0}
    keys = list(client.scan_iter(match=f"{PREFIX}worker:*", count=500))
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            worker_id = key.decode().removeprefix(f"{PREFIX}worker:")
            pipe.exists(_alive_key(worker_id))
            pipe.hget(key, "state")
        answers = pipe.execute()
    for alive, state in zip(answers[::2], answers[1::2], strict=True):
        if alive and state is not None and state.decode() in states:
            states[state.decode()] += 1
    return states


def pool_empty_count(client: redis.Redis) -> int:
    """How many calls found no idle worker, since Redis last lost its data."""
    return int(client.get(POOL_EMPTY_COUNT) or 0)
