"""Thin, id-only Celery tasks for telephony; the work is in services."""

from __future__ import annotations

from celery import shared_task

from telephony.services import PLACEMENT_SOFT_TIME_LIMIT, PLACEMENT_TIME_LIMIT, calls_place
from telephony.unconnected import calls_reconcile_unconnected


# One message per dispatch batch; `call_place_enqueue` scales the time limits with its size.
@shared_task(
    acks_late=True, soft_time_limit=PLACEMENT_SOFT_TIME_LIMIT, time_limit=PLACEMENT_TIME_LIMIT
)
def calls_place_task(call_ids: list[int]) -> None:
    calls_place(call_ids=call_ids)


# The one-call form of earlier releases, kept so messages already queued still dial.
@shared_task(
    acks_late=True, soft_time_limit=PLACEMENT_SOFT_TIME_LIMIT, time_limit=PLACEMENT_TIME_LIMIT
)
def call_place_task(call_id: int) -> None:
    calls_place(call_ids=[call_id])


@shared_task(acks_late=True)
def calls_reconcile_unconnected_task() -> None:
    calls_reconcile_unconnected()
