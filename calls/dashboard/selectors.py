"""The numbers behind the admin's dashboards: calls, answers, outcomes, latency, webhooks.

Every read is scoped to the caller's merchants (`config.selectors.scope_queryset`), and
optionally narrowed to one merchant. Times are UTC; the range is [start, end).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Count, F, FloatField, Q
from django.db.models.functions import TruncHour

from calls.models import Call, Turn
from calls.webhooks.models import WebhookDelivery
from config.selectors import scope_queryset
from config.types import Resource

if TYPE_CHECKING:
    from config.selectors import AnyUser

# Calls refused before any provider was asked: they were never dialled, so not unanswered.
NEVER_DIALLED = (
    Call.Disposition.BLOCKED,
    Call.Disposition.PRECHECK_FAILED,
    Call.Disposition.CANCELED,
)
FINISHED_DELIVERIES = (
    WebhookDelivery.Status.SUCCEEDED,
    WebhookDelivery.Status.FAILED,
    WebhookDelivery.Status.DEAD,
)
NO_OUTCOME = "(none)"


class PercentileCont(models.Aggregate):
    """PostgreSQL's continuous percentile (interpolated between the two nearest values)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("a percentile is a fraction between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


@dataclass(frozen=True)
class DashboardScope:
    user: AnyUser
    start: dt.datetime
    end: dt.datetime
    merchant_id: int | None = None

    def narrow(
        self, queryset: models.QuerySet[Any], *, resource: Resource, merchant_field: str
    ) -> models.QuerySet[Any]:
        scoped = scope_queryset(
            queryset, user=self.user, resource=resource, merchant_field=merchant_field
        )
        if self.merchant_id is not None:
            scoped = scoped.filter(**{f"{merchant_field}_id": self.merchant_id})
        return scoped


@dataclass(frozen=True)
class HourCount:
    hour: str  # ISO 8601, UTC
    calls: int
    answered: int


@dataclass(frozen=True)
class AnswerRate:
    dialled: int
    answered: int
    rate: float | None


@dataclass(frozen=True)
class OutcomeCount:
    template_id: int
    template: str
    merchant: str
    outcome: str
    calls: int


@dataclass(frozen=True)
class LatencyPercentiles:
    template_id: int
    template: str
    merchant: str
    provider: str
    answers: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class WebhookSuccess:
    by_status: dict[str, int]
    succeeded: int
    finished: int
    rate: float | None


@dataclass(frozen=True)
class CallDashboard:
    calls_per_hour: list[HourCount]
    answer_rate: AnswerRate
    outcomes: list[OutcomeCount]
    latency: list[LatencyPercentiles]
    webhooks: WebhookSuccess


def _calls(scope: DashboardScope) -> models.QuerySet[Call]:
    return scope.narrow(
        Call.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end).order_by(),
        resource=Resource.CALL,
        merchant_field="merchant",
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def calls_per_hour(scope: DashboardScope) -> list[HourCount]:
    """Calls created in each hour of the range (every hour listed, empty ones as zero)."""
    rows = (
        _calls(scope)
        .annotate(hour=TruncHour("created_at", tzinfo=dt.UTC))
        .values("hour")
        .annotate(calls=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    )
    counted = {row["hour"]: (row["calls"], row["answered"]) for row in rows}
    hour = scope.start.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < scope.end:
        calls, answered = counted.get(hour, (0, 0))
        hours.append(HourCount(hour.isoformat(), calls, answered))
        hour += dt.timedelta(hours=1)
    return hours


def answer_rate(scope: DashboardScope) -> AnswerRate:
    """Of the ended calls that were dialled, the share a customer (or machine) picked up."""
    totals = (
        _calls(scope)
        .filter(status=Call.Status.ENDED)
        .exclude(disposition__in=NEVER_DIALLED)
        .aggregate(dialled=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    )
    return AnswerRate(
        totals["dialled"], totals["answered"], _ratio(totals["answered"], totals["dialled"])
    )


_TEMPLATE = {
    "template_id": F("template_version__template_id"),
    "template_name": F("template_version__template__name"),
    "merchant_name": F("merchant__name"),
}


def outcomes_per_template(scope: DashboardScope) -> list[OutcomeCount]:
    rows = (
        _calls(scope)
        .filter(status=Call.Status.ENDED)
        .values(**_TEMPLATE, outcome_word=F("outcome"))
        .annotate(calls=Count("pk"))
        .order_by("merchant_name", "template_name", "template_id", "-calls", "outcome_word")
    )
    return [
        OutcomeCount(
            row["template_id"],
            row["template_name"],
            row["merchant_name"],
            row["outcome_word"] or NO_OUTCOME,
            row["calls"],
        )
        for row in rows
    ]


def latency_per_template_and_provider(scope: DashboardScope) -> list[LatencyPercentiles]:
    """p50/p95 of the customer's wait for each bot answer (end of speech → first audio)."""
    turns = scope.narrow(
        Turn.objects.filter(
            call__created_at__gte=scope.start,
            call__created_at__lt=scope.end,
            latency_ms__isnull=False,
        ).order_by(),
        resource=Resource.CALL,
        merchant_field="call__merchant",
    )
    rows = (
        turns.values(
            template_id=F("call__template_version__template_id"),
            template_name=F("call__template_version__template__name"),
            merchant_name=F("call__merchant__name"),
            provider=F("call__provider"),
        )
        .annotate(
            answers=Count("pk"),
            p50=PercentileCont("latency_ms", 0.5),
            p95=PercentileCont("latency_ms", 0.95),
        )
        .order_by("merchant_name", "template_name", "template_id", "provider")
    )
    return [
        LatencyPercentiles(
            row["template_id"],
            row["template_name"],
            row["merchant_name"],
            row["provider"],
            row["answers"],
            round(row["p50"], 1),
            round(row["p95"], 1),
        )
        for row in rows
    ]


def webhook_success(scope: DashboardScope) -> WebhookSuccess:
    """Deliveries created in the range by status; the rate counts finished ones only."""
    deliveries = scope.narrow(
        WebhookDelivery.objects.filter(
            created_at__gte=scope.start, created_at__lt=scope.end
        ).order_by(),
        resource=Resource.WEBHOOK,
        merchant_field="merchant",
    )
    counted = dict(deliveries.values_list("status").annotate(n=Count("pk")))
    by_status = {status: counted.get(status, 0) for status in WebhookDelivery.Status.values}
    succeeded = by_status[WebhookDelivery.Status.SUCCEEDED]
    finished = sum(by_status[status] for status in FINISHED_DELIVERIES)
    return WebhookSuccess(by_status, succeeded, finished, _ratio(succeeded, finished))


def call_dashboard(scope: DashboardScope) -> CallDashboard:
    return CallDashboard(
        calls_per_hour=calls_per_hour(scope),
        answer_rate=answer_rate(scope),
        outcomes=outcomes_per_template(scope),
        latency=latency_per_template_and_provider(scope),
        webhooks=webhook_success(scope),
    )
