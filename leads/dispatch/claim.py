"""The dispatcher's claim: due leads locked for one batch, read as tuples of what dispatch uses."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Protocol

from django.db.models import TextField
from django.db.models.functions import Cast

from leads.models import Lead


class Numbered(Protocol):
    """A lead as the do-not-call lists and the per-number cap see it."""

    @property
    def pk(self) -> int: ...

    @property
    def merchant_id(self) -> int: ...

    @property
    def phone(self) -> str: ...


class DueLead(NamedTuple):
    """A claimed lead: only what dispatching it reads, no model instance."""

    pk: int
    merchant_id: int
    template_id: int
    template_version_id: int
    phone: str
    time_zone: str
    execution_mode: str
    payload: str  # the JSON object as text, written to its call as it is
    traceparent: str


def leads_claim_due(*, now: dt.datetime, limit: int) -> list[DueLead]:
    """Lock up to `limit` due scheduled leads that no other dispatcher holds, oldest due first.

    Must run inside a transaction: the row locks are the claim, and last until it ends.
    SKIP LOCKED makes a second dispatcher take the next leads instead of waiting for these;
    the partial index `lead_due_idx` (status='scheduled') serves the filter and the order.
    """
    rows = (
        Lead.objects.select_for_update(skip_locked=True)
        .filter(status=Lead.Status.SCHEDULED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .annotate(payload_text=Cast("payload", TextField()))
        .values_list(
            "pk",
            "merchant_id",
            "template_id",
            "template_version_id",
            "phone",
            "time_zone",
            "execution_mode",
            "payload_text",
            "traceparent",
        )[:limit]
    )
    return [DueLead._make(row) for row in rows]
