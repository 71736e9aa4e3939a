"""Thin, id-only Celery tasks for Daily sessions and the room pool; the work is in services."""

from __future__ import annotations

from celery import Task, shared_task
from django.utils import timezone

from telephony.providers.daily.client import DailyUnavailableError
from telephony.providers.daily.dispatch import (
    daily_bot_dispatch,
    daily_bot_dispatch_abandon,
    daily_calls_reconcile,
)
from telephony.providers.daily.rooms import daily_room_pool_maintain

# A client is waiting in the room: retry soon (1, 2, 4 s), then give up.
DISPATCH_RETRIES = 3


@shared_task(bind=True, acks_late=True, max_retries=DISPATCH_RETRIES)
def daily_bot_dispatch_task(self: Task[[int], None], call_id: int) -> None:
    try:
        daily_bot_dispatch(call_id=call_id)
    except DailyUnavailableError as error:
        if self.request.retries >= DISPATCH_RETRIES:
            daily_bot_dispatch_abandon(call_id=call_id, why=str(error))
            return
        raise self.retry(exc=error, countdown=2**self.request.retries) from error


@shared_task(acks_late=True)
def daily_room_pool_maintain_task() -> None:
    daily_calls_reconcile(now=timezone.now())
    daily_room_pool_maintain()
