"""Campaign funnels for the admin's dashboards: leads → dialled → answered → completed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q

from config.selectors import scope_queryset
from config.types import Resource
from leads.models import Campaign, Lead

if TYPE_CHECKING:
    from config.selectors import AnyUser


@dataclass(frozen=True)
class CampaignFunnel:
    campaign_id: int
    campaign: str
    merchant: str
    status: str
    leads: int
    dialled: int  # leads with at least one call
    answered: int  # leads with at least one answered call
    completed: int  # leads whose outcome is final (status completed)
    with_outcome: int  # leads that recorded an outcome word


def campaign_funnels(
    *, user: AnyUser, start: dt.datetime, end: dt.datetime, merchant_id: int | None = None
) -> list[CampaignFunnel]:
    """Campaigns that ran during [start, end), each with its whole funnel so far."""
    campaigns = scope_queryset(
        Campaign.objects.select_related("merchant"), user=user, resource=Resource.CAMPAIGN
    ).filter(
        Q(stopped_at__isnull=True) | Q(stopped_at__gte=start),
        Q(completed_at__isnull=True) | Q(completed_at__gte=start),
        created_at__lt=end,
    )
    if merchant_id is not None:
        campaigns = campaigns.filter(merchant_id=merchant_id)
    campaigns = campaigns.exclude(status=Campaign.Status.DRAFT)  # never dialled anything
    by_id = {campaign.pk: campaign for campaign in campaigns.order_by("-created_at")}
    counts = {
        row["campaign_id"]: row
        for row in Lead.objects.filter(campaign_id__in=by_id)
        .order_by()
        .values("campaign_id")
        .annotate(
            leads=Count("pk", distinct=True),
            dialled=Count("pk", distinct=True, filter=Q(calls__isnull=False)),
            answered=Count("pk", distinct=True, filter=Q(calls__answered_at__isnull=False)),
            completed=Count("pk", distinct=True, filter=Q(status=Lead.Status.COMPLETED)),
            with_outcome=Count("pk", distinct=True, filter=~Q(outcome="")),
        )
    }
    empty = {"leads": 0, "dialled": 0, "answered": 0, "completed": 0, "with_outcome": 0}
    return [
        CampaignFunnel(
            campaign_id=campaign.pk,
            campaign=campaign.name,
            merchant=campaign.merchant.name,
            status=campaign.status,
            leads=(row := counts.get(campaign.pk, empty))["leads"],
            dialled=row["dialled"],
            answered=row["answered"],
            completed=row["completed"],
            with_outcome=row["with_outcome"],
        )
        for campaign in by_id.values()
    ]
