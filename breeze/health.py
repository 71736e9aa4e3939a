"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)

_PROBE_TIMEOUT_SECONDS = 2


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=_PROBE_TIMEOUT_SECONDS,
        socket_timeout=_PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def _check_broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=_PROBE_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, timeout=_PROBE_TIMEOUT_SECONDS)


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "broker": _check_broker,
}


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as error:
            logger.warning("readiness check %s failed: %s", name, error)
            checks[name] = f"error: {type(error).__name__}"
        else:
            checks[name] = "ok"
    failing = [name for name, result in checks.items() if result != "ok"]
    if failing:
        return JsonResponse(
            {"status": "unavailable", "failing": failing, "checks": checks}, status=503
        )
    return JsonResponse({"status": "ok", "checks": checks})


class HealthConsumer(AsyncJsonWebsocketConsumer):
    """Answers a websocket probe, proving Daphne and the Channels routing are serving."""

    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"status": "ok"})
        await self.close()
