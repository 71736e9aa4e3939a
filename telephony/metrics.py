"""The Daily room pool's metrics, read from PostgreSQL at scrape time (config/metrics.py)."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from telephony.providers.daily.models import DailyRoom


def daily_room_metrics() -> list[Metric]:
    rooms = GaugeMetricFamily(
        "breeze_daily_rooms",
        "Daily rooms by status and origin (pool, or on_demand: made while a client waited "
        "because the pool was empty).",
        labels=["status", "origin"],
    )
    counts = {
        (row["status"], row["origin"]): row["n"]
        for row in DailyRoom.objects.values("status", "origin").annotate(n=Count("pk"))
    }
    for status in DailyRoom.Status.values:
        for origin in DailyRoom.Origin.values:
            rooms.add_metric([status, origin], counts.get((status, origin), 0))
    return [rooms]
