"""Do-not-call lists, per merchant and platform-wide, checked at push and again at dial."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from calls.webhooks.events import EventType
from leads.dispatch.events import lead_event_emit
from leads.models import DoNotCall, Lead
from leads.services import lead_transition

REASON = "the number is on a do-not-call list"


def dnc_listed(*, leads: Iterable[Lead]) -> set[int]:
    """The ids of `leads` whose number is listed for their merchant or for every merchant."""
    leads = list(leads)
    if not leads:
        return set()
    entries: set[tuple[int | None, str]] = set(
        DoNotCall.objects.filter(phone__in={lead.phone for lead in leads})
        .filter(Q(merchant__isnull=True) | Q(merchant_id__in={lead.merchant_id for lead in leads}))
        .values_list("merchant_id", "phone")
    )
    return {
        lead.pk
        for lead in leads
        if (None, lead.phone) in entries or (lead.merchant_id, lead.phone) in entries
    }


def lead_block(*, lead_id: int, actor: str) -> bool:
    """End a waiting lead `failed`/`blocked` with its lead.failed event; True if it moved."""
    with transaction.atomic():
        moved = lead_transition(
            lead_id=lead_id,
            from_statuses=[Lead.Status.QUEUED, Lead.Status.SCHEDULED],
            to_status=Lead.Status.FAILED,
            actor=actor,
            reason=REASON,
            next_attempt_at=None,
            last_disposition="blocked",
        )
        if moved:
            lead_event_emit(
                lead_id=lead_id, event_type=EventType.LEAD_FAILED, reason=REASON, last_call_id=None
            )
    return moved


def leads_block_listed(*, leads: Iterable[Lead], actor: str) -> set[int]:
    """Block every lead whose number is listed; the ids blocked."""
    listed = dnc_listed(leads=leads)
    return {lead_id for lead_id in sorted(listed) if lead_block(lead_id=lead_id, actor=actor)}
