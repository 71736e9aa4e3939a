"""Reads behind the dispatch metrics, whole-platform."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import redis
from django.db.models import Count, Min
from django.utils import timezone

from leads.dispatch.limiter import PREFIX
from leads.models import Lead


@dataclass(frozen=True)
class DueLeads:
    count: int
    # How long the longest-waiting due lead has been due: the dispatcher's lag.
    lag_seconds: float


def leads_due(*, now: dt.datetime | None = None) -> DueLeads:
    now = now or timezone.now()
    row = Lead.objects.filter(status=Lead.Status.SCHEDULED, next_attempt_at__lte=now).aggregate(
        count=Count("id"), oldest=Min("next_attempt_at")
    )
    oldest = row["oldest"]
    return DueLeads(
        count=row["count"],
        lag_seconds=(now - oldest).total_seconds() if oldest is not None else 0.0,
    )


def limiter_slots_in_use(client: redis.Redis) -> dict[tuple[str, str], int]:
    """Unexpired slots per limiter set, keyed by (scope, id): ("merchant", "3"), ("template", "9")."""
    keys = list(client.scan_iter(match=f"{PREFIX}*", count=500))
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.zcount(key, now, "+inf")
        counts = pipe.execute()
    in_use: dict[tuple[str, str], int] = {}
    for key, count in zip(keys, counts, strict=True):
        scope, _, owner = key.decode().removeprefix(PREFIX).partition(":")
        in_use[(scope, owner)] = int(count)
    return in_use
