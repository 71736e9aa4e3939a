from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from calls.models import Call
from config.selectors import provider_credentials_for_merchant
from templates_app.flows.factory import FlowInputs, flow_inputs_for_version


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


def call_list_unfinished_on_workers(*, worker_ids: set[str]) -> list[int]:
    return list(
        Call.objects.filter(worker_id__in=worker_ids)
        .exclude(status=Call.Status.ENDED)
        .values_list("pk", flat=True)
    )


def call_list_for_lead(*, lead_id: int) -> models.QuerySet[Call]:
    """A lead's attempts, newest first (the lead's own scope is checked by its caller)."""
    return Call.objects.filter(lead_id=lead_id).order_by("-created_at")
