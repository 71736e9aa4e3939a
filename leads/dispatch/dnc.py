"""Do-not-call lists, per merchant and platform-wide, checked at push and again at dial."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from calls.webhooks.events import EventType
from leads.dispatch.claim import Numbered
from leads.dispatch.events import lead_event_emit
from leads.exceptions import LeadValidationError
from leads.models import DoNotCall, Lead
from leads.phones import phone_to_e164
from leads.services import lead_transition

REASON = "the number is on a do-not-call list"


def dnc_listed(*, leads: Iterable[Numbered]) -> set[int]:
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


@dataclass(frozen=True)
class PastedNumbers:
    phones: list[str]  # E.164, each once, in the order pasted
    problems: list[str]  # "line 3: 'abc': Not a phone number."


def dnc_numbers_parse(*, text: str, region: str | None) -> PastedNumbers:
    """Numbers pasted as lines or CSV (the first cell of each row counts; a header is skipped)."""
    phones: dict[str, None] = {}
    problems: list[str] = []
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cell = next((cell.strip() for cell in row if cell.strip()), "")
        if not cell or (line_number == 1 and not any(char.isdigit() for char in cell)):
            continue
        try:
            phones[phone_to_e164(cell, region=region)] = None
        except LeadValidationError as error:
            problems.append(f"line {line_number}: {cell!r}: {error.problems['phone'][0].message}")
    return PastedNumbers(phones=list(phones), problems=problems)


def dnc_add(*, merchant_id: int | None, phones: Iterable[str], reason: str) -> list[str]:
    """List `phones` (E.164) for one merchant or platform-wide; the ones newly listed.

    Numbers already listed in that scope are left as they are (with their first reason).
    """
    phones = list(dict.fromkeys(phones))
    scope = Q(merchant__isnull=True) if merchant_id is None else Q(merchant_id=merchant_id)
    listed = set(DoNotCall.objects.filter(scope, phone__in=phones).values_list("phone", flat=True))
    new = [phone for phone in phones if phone not in listed]
    # ignore_conflicts: a number listed by someone else since the read above stays as it is.
    DoNotCall.objects.bulk_create(
        [DoNotCall(merchant_id=merchant_id, phone=phone, reason=reason) for phone in new],
        ignore_conflicts=True,
    )
    return new
