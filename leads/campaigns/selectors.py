"""Campaign reads: scoped lists and lookups, and live progress from PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db import models
from django.db.models import Count, Q

from calls.models import Call
from config.ids import parse_id
from config.selectors import scope_queryset
from config.types import Action, Resource
from leads.models import Campaign, Lead, LeadImport
from templates_app.models import Template

if TYPE_CHECKING:
    from config.selectors import AnyUser


class Progress(TypedDict):
    leads: int
    by_status: dict[str, int]
    dialled: int
    answered: int
    in_flight: int
    remaining: int
    outcomes: dict[str, int]


def campaign_list(
    *, user: AnyUser, status: str | None = None, action: Action = Action.VIEW
) -> models.QuerySet[Campaign]:
    campaigns = scope_queryset(
        Campaign.objects.select_related("template"),
        user=user,
        resource=Resource.CAMPAIGN,
        action=action,
    )
    if status:
        campaigns = campaigns.filter(status=status)
    return campaigns


def campaign_get(*, user: AnyUser, campaign_id: int) -> Campaign | None:
    return campaign_list(user=user).filter(pk=campaign_id).first()


def campaign_progress(*, campaign_id: int) -> Progress:
    """Its leads by status, its calls dialled and answered, outcomes, and what is left.

    Three grouped queries on the campaign's lead index, whatever the campaign's size.
    """
    counted = dict(
        Lead.objects.filter(campaign_id=campaign_id)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    by_status = {status: counted.get(status, 0) for status in Lead.Status.values}
    calls = Call.objects.filter(lead__campaign_id=campaign_id).aggregate(
        dialled=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False))
    )
    outcomes = dict(
        Lead.objects.filter(campaign_id=campaign_id)
        .exclude(outcome="")
        .values("outcome")
        .annotate(n=Count("pk"))
        .order_by("outcome")
        .values_list("outcome", "n")
    )
    return {
        "leads": sum(by_status.values()),
        "by_status": by_status,
        "dialled": calls["dialled"],
        "answered": calls["answered"],
        "in_flight": by_status[Lead.Status.DIALING] + by_status[Lead.Status.IN_CALL],
        "remaining": by_status[Lead.Status.QUEUED] + by_status[Lead.Status.SCHEDULED],
        "outcomes": outcomes,
    }


def campaign_templates_matching(
    *, user: AnyUser, template: str, merchant: str | None
) -> list[Template]:
    """Up to two of the caller's templates a request names by id or slug (two: ambiguous)."""
    templates = scope_queryset(Template.objects.all(), user=user, resource=Resource.CAMPAIGN)
    template_id = parse_id(template)
    templates = (
        templates.filter(pk=template_id)
        if template_id is not None
        else templates.filter(slug=template)
    )
    if merchant:
        templates = templates.filter(merchant__slug=merchant)
    return list(templates[:2])


def campaign_lead_import_get(*, user: AnyUser, import_id: int) -> LeadImport | None:
    return (
        scope_queryset(LeadImport.objects.all(), user=user, resource=Resource.CAMPAIGN)
        .filter(pk=import_id)
        .first()
    )
