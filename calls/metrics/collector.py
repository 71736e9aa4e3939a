"""The calls, voice pool, webhook and turn latency metrics, read from PostgreSQL and Redis.

Read at scrape time (config/metrics.py says why); docs/observability.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from calls.metrics import selectors
from calls.models import Call
from calls.voice import pool

# Written as Prometheus writes `le` ("0.25", "1.0"), so series match across exporters.
_BUCKET_BOUNDS = [str(ms / 1000) for ms in selectors.LATENCY_BUCKETS_MS] + ["+Inf"]


def _histogram(
    name: str, documentation: str, labels: list[str], series: Iterable[selectors.LatencySeries]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    for one in series:
        family.add_metric(
            list(one.labels),
            buckets=list(zip(_BUCKET_BOUNDS, one.cumulative, strict=True)),
            sum_value=one.sum_ms / 1000,
        )
    return family


def call_metrics() -> list[Metric]:
    calls = GaugeMetricFamily(
        "breeze_calls", "Calls by status and disposition.", labels=["status", "disposition"]
    )
    by_status = selectors.calls_by_status_and_disposition()
    for (status, disposition), count in sorted(by_status.items()):
        calls.add_metric([status, disposition], count)
    active = GaugeMetricFamily("breeze_calls_active", "Calls in progress now.")
    active.add_metric(
        [], sum(n for (status, _), n in by_status.items() if status == Call.Status.IN_PROGRESS)
    )

    client = pool.sync_client()
    try:
        states = pool.pool_worker_states(client)
        empty = pool.pool_empty_count(client)
    finally:
        client.close()
    workers = GaugeMetricFamily(
        "breeze_voice_pool_workers", "Live warm call workers by state.", labels=["state"]
    )
    for state, count in states.items():
        workers.add_metric([state], count)
    pool_empty = CounterMetricFamily(
        "breeze_voice_pool_empty", "Calls that found no idle worker (reset if Redis loses data)."
    )
    pool_empty.add_metric([], empty)

    deliveries = GaugeMetricFamily(
        "breeze_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
    )
    for status, count in sorted(selectors.webhook_deliveries_by_status().items()):
        deliveries.add_metric([status], count)
    attempts = GaugeMetricFamily(
        "breeze_webhook_attempts", "Webhook POSTs by answer class, or error.", labels=["result"]
    )
    for result, count in sorted(selectors.webhook_attempts_by_result().items()):
        attempts.add_metric([result], count)

    extractions = GaugeMetricFamily(
        "breeze_call_extractions",
        "Post-call extractions by status and source (llm, rules, or empty).",
        labels=["status", "source"],
    )
    for (status, source), count in sorted(
        selectors.call_extractions_by_status_and_source().items()
    ):
        extractions.add_metric([status, source], count)

    latency = selectors.turn_latency_histograms()
    return [
        calls,
        active,
        workers,
        pool_empty,
        deliveries,
        attempts,
        extractions,
        _histogram(
            "breeze_turn_latency_seconds",
            "Customer's wait for each bot answer (end of speech to first bot audio).",
            ["merchant", "template", "provider"],
            latency.turns,
        ),
        _histogram(
            "breeze_turn_stage_seconds",
            "Each answer's speech-to-text, LLM and text-to-speech time, per stage provider.",
            ["merchant", "template", "provider", "stage"],
            latency.stages,
        ),
    ]
