"""The aggregate reads behind /metrics: whole-platform counts, never one merchant's rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from calls.models import Call, Turn
from calls.webhooks.models import WebhookAttempt, WebhookDelivery

# Upper bounds (ms) of the latency buckets; Prometheus adds +Inf.
LATENCY_BUCKETS_MS = (250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000)
STAGES = ("stt", "llm", "tts")


@dataclass(frozen=True)
class LatencySeries:
    labels: tuple[str, ...]
    # Cumulative counts per bucket of LATENCY_BUCKETS_MS, then the count of all observations.
    cumulative: tuple[int, ...]
    sum_ms: int


@dataclass
class LatencyHistograms:
    turns: list[LatencySeries] = field(default_factory=list)
    stages: list[LatencySeries] = field(default_factory=list)


def calls_by_status_and_disposition() -> dict[tuple[str, str], int]:
    rows = Call.objects.order_by().values("status", "disposition").annotate(n=Count("id"))
    return {(row["status"], row["disposition"]): row["n"] for row in rows}


def call_extractions_by_status_and_source() -> dict[tuple[str, str], int]:
    """Post-call extractions by status and who filled them (`llm`, `rules`, or "" for none)."""
    rows = (
        Call.objects.exclude(extraction_status="")
        .order_by()
        .annotate(source=KeyTextTransform("source", "extraction"))
        .values("extraction_status", "source")
        .annotate(n=Count("id"))
    )
    return {(row["extraction_status"], row["source"] or ""): row["n"] for row in rows}


def webhook_deliveries_by_status() -> dict[str, int]:
    rows = WebhookDelivery.objects.order_by().values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def webhook_attempts_by_result() -> dict[str, int]:
    """Attempts by the answer's class (`2xx` … `5xx`), or `error` when none came back."""
    rows = WebhookAttempt.objects.order_by().values("status_code").annotate(n=Count("id"))
    results: Counter[str] = Counter()
    for row in rows:
        code = row["status_code"]
        results[f"{code // 100}xx" if code else "error"] += row["n"]
    return dict(results)


def _histogram_rows(column: str, group: dict[str, Any]) -> list[LatencySeries]:
    buckets = {
        f"le_{bound}": Count("id", filter=Q(**{f"{column}__lte": bound}))
        for bound in LATENCY_BUCKETS_MS
    }
    rows = (
        Turn.objects.filter(**{f"{column}__isnull": False})
        .order_by()
        .values(**group)
        .annotate(**buckets, total=Count("id"), sum_ms=Sum(column))
    )
    return [
        LatencySeries(
            labels=tuple(str(row[name] or "") for name in group),
            cumulative=(*(row[f"le_{bound}"] for bound in LATENCY_BUCKETS_MS), row["total"]),
            sum_ms=row["sum_ms"] or 0,
        )
        for row in rows
    ]


def turn_latency_histograms() -> LatencyHistograms:
    """Every stored bot turn's wait, per template and provider, and each stage per its provider.

    The provider of a turn is the call's telephony provider; a stage's provider is the one the
    template version names for that stage (`definition.stt.provider`, …).
    """
    version = "call__template_version"
    labels = {
        "merchant": F(f"{version}__template__merchant__slug"),
        "template": F(f"{version}__template__slug"),
    }
    histograms = LatencyHistograms(
        turns=_histogram_rows("latency_ms", {**labels, "provider": F("call__provider")})
    )
    for stage in STAGES:
        provider = KeyTextTransform("provider", KeyTransform(stage, f"{version}__definition"))
        for series in _histogram_rows(f"{stage}_ms", {**labels, "provider": provider}):
            histograms.stages.append(
                LatencySeries(
                    labels=(*series.labels, stage),
                    cumulative=series.cumulative,
                    sum_ms=series.sum_ms,
                )
            )
    return histograms
