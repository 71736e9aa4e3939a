"""Dynamic flags: read per call from a Redis cache that PostgreSQL can always rebuild."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from django.conf import settings

from config.models import Flag

logger = logging.getLogger(__name__)

CACHE_KEY = "breeze:flags:v1"
CACHE_SECONDS = 300


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def _load_active_flags() -> list[dict[str, Any]]:
    return [
        {"key": key, "value": value, "merchant_id": merchant_id}
        for key, value, merchant_id in Flag.objects.filter(is_active=True)
        .order_by("key", "merchant_id")
        .values_list("key", "value", "merchant_id")
    ]


def _active_flags() -> list[dict[str, Any]]:
    try:
        client = _redis()
        cached: bytes | None = client.get(CACHE_KEY)  # type: ignore[assignment]
        if cached is not None:
            flags: list[dict[str, Any]] = json.loads(cached)
            return flags
        flags = _load_active_flags()
        client.set(CACHE_KEY, json.dumps(flags), ex=CACHE_SECONDS)
    except redis.RedisError as error:
        # Redis is a cache here: a call must still start, with flags read from PostgreSQL.
        logger.warning("flag cache unavailable, reading flags from the database: %s", error)
        return _load_active_flags()
    return flags


def flag_overrides(*, merchant_id: int | None) -> dict[str, Any]:
    """Dotted key → value for one merchant; a merchant's own flag beats the platform's."""
    overrides: dict[str, Any] = {}
    flags = _active_flags()
    for flag in flags:
        if flag["merchant_id"] is None:
            overrides[flag["key"]] = flag["value"]
    for flag in flags:
        if merchant_id is not None and flag["merchant_id"] == merchant_id:
            overrides[flag["key"]] = flag["value"]
    return overrides


def flag_cache_clear() -> None:
    try:
        _redis().delete(CACHE_KEY)
    except redis.RedisError as error:
        logger.warning(
            "could not clear the flag cache; it expires in %ss: %s", CACHE_SECONDS, error
        )
