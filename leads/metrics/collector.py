"""Dispatch metrics, read at scrape time (config/metrics.py says why)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily, Metric

from leads.dispatch.limiter import limiter_redis
from leads.metrics import selectors


def dispatch_metrics() -> list[Metric]:
    due = selectors.leads_due()
    due_count = GaugeMetricFamily("breeze_leads_due", "Scheduled leads whose time has come.")
    due_count.add_metric([], due.count)
    lag = GaugeMetricFamily(
        "breeze_dispatch_lag_seconds", "How long the longest-waiting due lead has been due."
    )
    lag.add_metric([], due.lag_seconds)
    client = limiter_redis()
    try:
        in_use = selectors.limiter_slots_in_use(client)
    finally:
        client.close()
    slots = GaugeMetricFamily(
        "breeze_limiter_slots_in_use",
        "Unexpired call limiter slots per merchant and per template.",
        labels=["scope", "id"],
    )
    for (scope, owner), count in sorted(in_use.items()):
        slots.add_metric([scope, owner], count)
    return [due_count, lag, slots]
