"""Thin, id-only Celery tasks for telephony; the work is in services."""

from __future__ import annotations

from celery import shared_task

from calls.tracing import call_span
from telephony.services import call_place
from telephony.unconnected import calls_reconcile_unconnected


# Long enough for a whole simulated conversation, which the simulator holds in the task.
@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def call_place_task(call_id: int) -> None:
    with call_span("call.dial", call_id=call_id):
        call_place(call_id=call_id)


@shared_task(acks_late=True)
def calls_reconcile_unconnected_task() -> None:
    calls_reconcile_unconnected()
