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

# Calls in order, each all-or-none: ARGV = now, expiry, then per call its member, its number
# of keys and their caps; KEYS = every call's keys in the same order. One script for a whole
# batch is still atomic, so caps stay exact however many dispatchers ask at once.
_ACQUIRE = """
local now, expiry = tonumber(ARGV[1]), tonumber(ARGV[2])
local granted, swept = {}, {}
local k, a = 1, 3
while a <= #ARGV do
  local member, n = ARGV[a], tonumber(ARGV[a + 1])
  local ok = 1
  for i = 0, n - 1 do
    local key = KEYS[k + i]
    if not swept[key] then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
      swept[key] = true
    end
    if redis.call('ZSCORE', key, member) == false
       and redis.call('ZCARD', key) >= tonumber(ARGV[a + 2 + i]) then
      ok = 0
      break
    end
  end
  if ok == 1 then
    for i = 0, n - 1 do
      redis.call('ZADD', KEYS[k + i], expiry, member)
      redis.call('EXPIREAT', KEYS[k + i], math.ceil(expiry))
    end
  end
  granted[#granted + 1] = ok
  k = k + n
  a = a + 2 + n
end
return granted
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
    return limiter_acquire_many(calls=[(call_id, slots)], client=client) == [True]


def limiter_acquire_many(
    *, calls: Sequence[tuple[int, Sequence[Slot]]], client: redis.Redis
) -> list[bool]:
    """`limiter_acquire` for each call in order, in one round trip; whether each got its slots."""
    if not calls:
        return []
    now = time.time()
    keys: list[str] = []
    args: list[str | float | int] = [now, now + settings.BREEZE_LIMITER_LEASE_SECONDS]
    for call_id, slots in calls:
        keys += [slot.key for slot in slots]
        args += [str(call_id), len(slots), *[slot.cap for slot in slots]]
    granted = cast("list[int]", client.register_script(_ACQUIRE)(keys=keys, args=args))
    return [bool(flag) for flag in granted]


def limiter_release(*, call_id: int, keys: Iterable[str], client: redis.Redis) -> None:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.zrem(key, str(call_id))
    pipe.execute()


def limiter_in_use(*, key: str, client: redis.Redis) -> set[int]:
    """The calls holding unexpired slots in `key`."""
    members = cast("list[bytes]", client.zrangebyscore(key, time.time(), "+inf"))
    return {int(member) for member in members}
