from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

from calls.models import Call, Turn
from config.ids import parse_id
from config.selectors import provider_credentials_for_merchant, scope_queryset
from config.types import Resource
from templates_app.flows.factory import FlowInputs, flow_inputs_for_version

if TYPE_CHECKING:
    from config.selectors import AnyUser


@dataclass(frozen=True)
class CallContext:
    """Everything a worker needs from the database to run one call, read once at its start."""

    call_id: int
    provider: str
    time_zone: str
    inputs: FlowInputs
    credentials: dict[str, dict[str, str]]


def call_context_load(*, call_id: int) -> CallContext:
    call = Call.objects.select_related("template_version__template__merchant").get(pk=call_id)
    merchant = call.template_version.template.merchant
    inputs = flow_inputs_for_version(
        version=call.template_version,
        payload=call.payload,
        execution_mode=call.execution_mode,
        builtins={"customer_phone": call.customer_phone, "call_id": str(call.pk)},
    )
    return CallContext(
        call_id=call.pk,
        provider=call.provider,
        time_zone=merchant.time_zone,
        inputs=inputs,
        credentials=provider_credentials_for_merchant(merchant_id=merchant.pk),
    )


def call_log_ids(*, call_id: int) -> dict[str, int | None]:
    """The correlation ids a call's log lines carry (config/logs/context.py)."""
    row = Call.objects.filter(pk=call_id).values_list("merchant_id", "lead_id").first()
    merchant_id, lead_id = row if row is not None else (None, None)
    return {"call_id": call_id, "merchant_id": merchant_id, "lead_id": lead_id}


def call_list_unfinished_on_workers(*, worker_ids: set[str]) -> list[int]:
    return list(
        Call.objects.filter(worker_id__in=worker_ids)
        .exclude(status=Call.Status.ENDED)
        .values_list("pk", flat=True)
    )


def call_list_for_lead(*, lead_id: int) -> models.QuerySet[Call]:
    """A lead's attempts, newest first (the lead's own scope is checked by its caller)."""
    return Call.objects.filter(lead_id=lead_id).order_by("-created_at")


def call_list(
    *,
    user: AnyUser,
    status: str | None = None,
    disposition: str | None = None,
    outcome: str | None = None,
    template: str | None = None,
    lead_id: int | None = None,
    phone: str | None = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
) -> models.QuerySet[Call]:
    """Calls of the caller's merchants; `template` is a template's id or slug."""
    calls = scope_queryset(
        Call.objects.select_related("merchant", "template_version__template"),
        user=user,
        resource=Resource.CALL,
    )
    exact = {
        "status": status,
        "disposition": disposition,
        "outcome": outcome,
        "lead_id": lead_id,
        "customer_phone": phone,
    }
    calls = calls.filter(**{field: value for field, value in exact.items() if value is not None})
    if template:
        template_id = parse_id(template)
        calls = (
            calls.filter(template_version__template__slug=template)
            if template_id is None
            else calls.filter(template_version__template_id=template_id)
        )
    if created_after is not None:
        calls = calls.filter(created_at__gte=created_after)
    if created_before is not None:
        calls = calls.filter(created_at__lt=created_before)
    return calls


def call_get(*, user: AnyUser, call_id: int) -> Call | None:
    """A call the caller may view, with its turns in speaking order."""
    return call_list(user=user).prefetch_related("turns").filter(pk=call_id).first()


@dataclass(frozen=True)
class LatencySummary:
    """How long the customer waited for the bot's answers in one call, in milliseconds."""

    answers: int
    median_ms: int | None
    p95_ms: int | None
    max_ms: int | None
    stt_median_ms: int | None
    llm_median_ms: int | None
    tts_median_ms: int | None


def call_latency_summary(*, turns: Sequence[Turn]) -> LatencySummary:
    waits = sorted(turn.latency_ms for turn in turns if turn.latency_ms is not None)

    def median(values: list[int]) -> int | None:
        return round(statistics.median(values)) if values else None

    def part(name: str) -> int | None:
        return median([value for turn in turns if (value := getattr(turn, name)) is not None])

    return LatencySummary(
        answers=len(waits),
        median_ms=median(waits),
        # Nearest rank: the wait that 95% of answers did not exceed.
        p95_ms=waits[math.ceil(0.95 * len(waits)) - 1] if waits else None,
        max_ms=waits[-1] if waits else None,
        stt_median_ms=part("stt_ms"),
        llm_median_ms=part("llm_ms"),
        tts_median_ms=part("tts_ms"),
    )
