"""Writes for leads. Every status change goes through `lead_transition` and leaves a history row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadTransition


def lead_transition(
    *,
    lead_id: int,
    from_statuses: Iterable[str],
    to_status: str,
    actor: str,
    reason: str = "",
    **fields: Any,
) -> bool:
    """Move a lead to `to_status` if it is in one of `from_statuses`; True if it moved.

    The row is locked, then updated on the same status condition, so of two concurrent moves
    from the same status exactly one wins; the loser changes nothing and writes no history.
    `fields` are set in the same UPDATE (next_attempt_at, attempts, last_disposition…).
    """
    allowed = list(from_statuses)
    now = timezone.now()
    with transaction.atomic():
        current = (
            Lead.objects.select_for_update()
            .filter(pk=lead_id, status__in=allowed)
            .values_list("status", flat=True)
            .first()
        )
        if current is None:
            return False
        Lead.objects.filter(pk=lead_id, status=current).update(
            status=to_status, updated_at=now, **fields
        )
        LeadTransition.objects.create(
            lead_id=lead_id,
            from_status=current,
            to_status=to_status,
            actor=actor,
            reason=reason[:300],
            at=now,
        )
    return True
