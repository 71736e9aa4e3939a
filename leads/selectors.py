"""Reads for leads; every queryset is scoped to the caller's merchants."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import models

from config.selectors import scope_queryset
from config.types import Action, Resource
from leads.models import Lead, LeadImport, LeadImportError

if TYPE_CHECKING:
    from config.selectors import AnyUser


def lead_list(
    *,
    user: AnyUser,
    status: str | None = None,
    template_id: int | None = None,
    template_slug: str | None = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    phone: str | None = None,
    action: Action = Action.VIEW,
) -> models.QuerySet[Lead]:
    leads = scope_queryset(
        Lead.objects.select_related("template"), user=user, resource=Resource.LEAD, action=action
    )
    if status:
        leads = leads.filter(status=status)
    if template_id is not None:
        leads = leads.filter(template_id=template_id)
    if template_slug:
        leads = leads.filter(template__slug=template_slug)
    if created_after is not None:
        leads = leads.filter(created_at__gte=created_after)
    if created_before is not None:
        leads = leads.filter(created_at__lt=created_before)
    if phone:
        leads = leads.filter(phone=phone)
    return leads


def lead_get(*, user: AnyUser, lead_id: int) -> Lead | None:
    return lead_list(user=user).select_related("template_version").filter(pk=lead_id).first()


def lead_import_get(*, user: AnyUser, import_id: int) -> LeadImport | None:
    return (
        scope_queryset(LeadImport.objects.all(), user=user, resource=Resource.LEAD)
        .filter(pk=import_id)
        .first()
    )


def lead_import_errors(*, lead_import: LeadImport, limit: int) -> list[LeadImportError]:
    return list(lead_import.errors.order_by("row", "field")[:limit])
