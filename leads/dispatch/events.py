"""The lead.* webhook events, written in the transaction that ends the lead."""

from __future__ import annotations

from calls.webhooks.events import EventType
from calls.webhooks.services import webhook_event_emit
from leads.models import Lead


def lead_event_emit(
    *, lead_id: int, event_type: EventType, reason: str, last_call_id: int | None
) -> None:
    lead = Lead.objects.get(pk=lead_id)
    webhook_event_emit(
        merchant_id=lead.merchant_id,
        event_type=event_type,
        data={
            "lead_id": lead.pk,
            "status": lead.status,
            "attempts": lead.attempts,
            "last_disposition": lead.last_disposition,
            "last_call_id": last_call_id,
            "outcome": lead.outcome,
            "outcome_fields": lead.outcome_fields,
            "idempotency_key": lead.idempotency_key,
            "reason": reason,
        },
        lead_webhook_url=lead.webhook_url,
    )
