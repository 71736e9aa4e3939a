"""Webhook reads, scoped to what the caller may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from calls.webhooks.models import WebhookDelivery, WebhookEndpoint
from config.selectors import scope_queryset
from config.types import Resource

if TYPE_CHECKING:
    from config.selectors import AnyUser


def webhook_endpoint_list(*, user: AnyUser) -> QuerySet[WebhookEndpoint]:
    return scope_queryset(
        WebhookEndpoint.objects.select_related("merchant"), user=user, resource=Resource.WEBHOOK
    )


def webhook_delivery_list(
    *,
    user: AnyUser,
    status: str = "",
    event_type: str = "",
    event_id: str = "",
    endpoint_id: int | None = None,
) -> QuerySet[WebhookDelivery]:
    deliveries = scope_queryset(
        WebhookDelivery.objects.select_related("merchant", "endpoint"),
        user=user,
        resource=Resource.WEBHOOK,
    )
    if status:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    if event_id:
        deliveries = deliveries.filter(event_id=event_id)
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    return deliveries
