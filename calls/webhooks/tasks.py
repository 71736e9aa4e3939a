from __future__ import annotations

from celery import shared_task

from calls.webhooks.delivery import webhook_delivery_attempt
from calls.webhooks.sweeper import webhook_deliveries_sweep


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliver_task(delivery_id: int) -> None:
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def webhook_sweep_task() -> None:
    webhook_deliveries_sweep()
