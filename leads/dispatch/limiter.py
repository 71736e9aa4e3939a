"""The call limiter: leased, expiring slots in Redis; a sorted set per merchant, template, number.

A slot is the call id scored by its lease expiry. Taking slots is one Lua script (atomic in
Redis): drop expired leases, refuse if any set is at its cap, else add the call to every set.
A slot whose release was lost (a worker died) stops counting when its lease expires; the
reconciler rebuilds the sets from PostgreSQL's unfinished calls, so a flushed Redis costs at
most one reconcile interval of over-admission, never a lost lead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import redis
from django.conf import settings

PREFIX = "breeze:limiter:"

_ACQUIRE = """
local now, expiry, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZSCORE', key, member) == false
     and redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    return 0
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, expiry, member)
  redis.call('EXPIREAT', key, math.ceil(expiry))
end
return 1
"""


@dataclass(frozen=True)
class Slot:
    """One limit a call counts against: the Redis key and its cap."""

    key: str
    cap: int


def limiter_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def merchant_key(merchant_id: int) -> str:
    return f"{PREFIX}merchant:{merchant_id}"


def template_key(template_id: int) -> str:
    return f"{PREFIX}template:{template_id}"


def caller_key(merchant_id: int, number: str) -> str:
    return f"{PREFIX}caller:{merchant_id}:{number}"


def call_slots(
    *,
    merchant_id: int,
    merchant_cap: int,
    template_id: int,
    template_cap: int | None,
    caller_number: str | None = None,
    caller_cap: int | None = None,
) -> list[Slot]:
    slots = [Slot(merchant_key(merchant_id), merchant_cap)]
    if template_cap:
        slots.append(Slot(template_key(template_id), template_cap))
    if caller_number and caller_cap:
        slots.append(Slot(caller_key(merchant_id, caller_number), caller_cap))
    return slots


def call_slot_keys(*, merchant_id: int, template_id: int, caller_number: str | None) -> list[str]:
    """Every key a call may hold a slot in (releasing a slot never held is harmless)."""
    keys = [merchant_key(merchant_id), template_key(template_id)]
    if caller_number:
        keys.append(caller_key(merchant_id, caller_number))
    return keys


def limiter_acquire(*, call_id: int, slots: Sequence[Slot], client: redis.Redis) -> bool:
    """Lease a slot in every set for `call_id`, or in none; True if it got them."""
    now = time.time()
    expiry = now + settings.BREEZE_LIMITER_LEASE_SECONDS
    script = client.register_script(_ACQUIRE)
    granted = script(
        keys=[slot.key for slot in slots],
        args=[now, expiry, str(call_id), *[slot.cap for slot in slots]],
    )
    return bool(granted)


def limiter_release(*, call_id: int, keys: Iterable[str], client: redis.Redis) -> None:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.zrem(key, str(call_id))
    pipe.execute()


def limiter_in_use(*, key: str, client: redis.Redis) -> set[int]:
    """The calls holding unexpired slots in `key`."""
    members = cast("list[bytes]", client.zrangebyscore(key, time.time(), "+inf"))
    return {int(member) for member in members}
