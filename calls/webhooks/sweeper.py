"""The sweeper: PostgreSQL, not Redis, decides what still has to be delivered."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls.webhooks.models import WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


def webhook_deliveries_sweep() -> int:
    """Hand out again what no queued task will deliver; returns how many were enqueued.

    That is due pending deliveries (their task was lost with Redis, or they waited for a long
    retry or a circuit) and claims whose lease lapsed (the worker died mid-delivery).
    """
    from calls.webhooks.tasks import webhook_deliver_task

    now = timezone.now()
    batch = settings.WEBHOOK_SWEEP_BATCH
    lapsed = list(
        WebhookDelivery.objects.filter(status=Status.DELIVERING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", "attempts", "lease_expires_at")[:batch]
    )
    lease = timedelta(seconds=settings.WEBHOOK_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    delivery_id=pk,
                    number=attempts,
                    url="",
                    started_at=expires - lease,
                    duration_ms=0,
                    error="no result: the worker was lost mid-delivery",
                )
                for pk, attempts, expires in lapsed
                if expires is not None
            ],
            ignore_conflicts=True,
        )
        for pk, attempts, _ in lapsed:
            WebhookDelivery.objects.filter(
                pk=pk, status=Status.DELIVERING, attempts=attempts
            ).update(
                status=Status.PENDING,
                next_attempt_at=now,
                lease_expires_at=None,
                last_error="the worker was lost mid-delivery",
                updated_at=now,
            )
    due = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    delivery_ids = list(dict.fromkeys([pk for pk, _, _ in lapsed] + due))
    for delivery_id in delivery_ids:
        webhook_deliver_task.delay(delivery_id)
    if delivery_ids:
        logger.info("webhook sweeper: enqueued %d deliveries", len(delivery_ids))
    return len(delivery_ids)
