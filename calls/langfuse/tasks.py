from __future__ import annotations

from celery import shared_task

from calls.langfuse.services import call_evaluation_scores_send


# Idempotent: each score's id is fixed by the call and the evaluator's name.
@shared_task(acks_late=True, ignore_result=True)
def call_evaluation_scores_task(call_id: int) -> None:
    call_evaluation_scores_send(call_id=call_id)
