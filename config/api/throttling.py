"""Rate limits per credential, counted in Redis so every web process shares one count."""

from __future__ import annotations

import functools
import logging
import math
import time
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from config.models import ApiKey

if TYPE_CHECKING:
    # Imported for types only: DRF's views module loads this throttle while it initialises.
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

KEY_PREFIX = "breeze:throttle:"
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """`"600/min"` → (600, 60): how many requests, per how many seconds."""
    count, period = rate.split("/")
    return int(count), _PERIOD_SECONDS[period.strip()[0]]


@functools.cache
def _redis(url: str) -> redis.Redis:
    # One pool per process: a throttle runs on every request and must not reconnect each time.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


class CredentialRateThrottle(BaseThrottle):
    """A fixed window per API key, per person, or per client address when anonymous.

    Rates come from settings (`API_RATE_LIMIT`, `API_ANON_RATE_LIMIT`) when each request is
    checked. One INCR and one EXPIRE, pipelined, per request. If Redis is unreachable the
    request goes through: a limit is protection, not a reason to take the API down.
    """

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        ident, rate = self._ident_and_rate(request)
        limit, window = parse_rate(rate)
        now = time.time()
        window_start = int(now // window * window)
        key = f"{KEY_PREFIX}{ident}:{window}:{window_start}"
        try:
            pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count, _ = pipe.execute()
        except redis.RedisError as error:
            logger.warning("rate limit not applied, Redis unavailable: %s", error)
            return True
        if int(count) <= limit:
            return True
        # Whole seconds, rounded up: DRF writes Retry-After truncated, and "0" would invite a
        # retry that is still refused.
        self._wait = float(math.ceil(window_start + window - now))
        return False

    def wait(self) -> float | None:
        return self._wait

    def _ident_and_rate(self, request: Request) -> tuple[str, str]:
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}", settings.API_RATE_LIMIT
        if request.user.is_authenticated:
            return f"user:{request.user.pk}", settings.API_RATE_LIMIT
        return f"ip:{self.get_ident(request)}", settings.API_ANON_RATE_LIMIT
