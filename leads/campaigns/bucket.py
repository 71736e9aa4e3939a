"""The campaign rate: a token bucket per campaign in Redis, refilled at calls_per_minute.

The bucket holds at most `capacity` tokens (one tick's worth, at least one), so dials are
spread over the minute instead of bursting. A bucket that Redis lost (flush, restart) comes
back **empty** and refills at the campaign's rate: losing Redis can only delay a campaign by
one token's interval, never let it dial faster than its rate. Start and resume fill it, so
the first dial does not wait.
"""

from __future__ import annotations

import math

import redis
from django.conf import settings

PREFIX = "breeze:campaign:bucket:"
# Kept a little longer than the slowest refill (1/min), then dropped with the campaign idle.
_TTL_SECONDS = 600

_TAKE = """
local now, rate, cap, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if tokens == nil or ts == nil then
  tokens, ts = 0, now
end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local take = math.min(want, math.floor(tokens))
tokens = tokens - take
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', math.max(now, ts)))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return take
"""


def bucket_key(campaign_id: int) -> str:
    return f"{PREFIX}{campaign_id}"


def bucket_capacity(*, calls_per_minute: int) -> int:
    """One tick's worth of tokens, at least one: beat cannot dial faster than it ticks."""
    per_tick = calls_per_minute * settings.BREEZE_CAMPAIGN_TICK_SECONDS / 60
    return max(1, math.ceil(per_tick))


def bucket_take(
    *, client: redis.Redis, campaign_id: int, calls_per_minute: int, want: int, now: float
) -> int:
    """Take up to `want` tokens at time `now` (epoch seconds); how many were granted."""
    if want <= 0:
        return 0
    script = client.register_script(_TAKE)
    granted = script(
        keys=[bucket_key(campaign_id)],
        args=[
            now,
            calls_per_minute / 60,
            bucket_capacity(calls_per_minute=calls_per_minute),
            want,
            _TTL_SECONDS,
        ],
    )
    return int(granted)


def bucket_fill(
    *, client: redis.Redis, campaign_id: int, calls_per_minute: int, now: float
) -> None:
    """A full bucket at `now`: a started or resumed campaign dials at once."""
    key = bucket_key(campaign_id)
    capacity = bucket_capacity(calls_per_minute=calls_per_minute)
    pipe = client.pipeline()
    pipe.hset(key, mapping={"tokens": f"{capacity:.6f}", "ts": f"{now:.6f}"})
    pipe.expire(key, _TTL_SECONDS)
    pipe.execute()
