from __future__ import annotations

from celery import shared_task

from calls.extraction.services import call_extraction_run, call_extractions_sweep


@shared_task(acks_late=True, ignore_result=True)
def call_extract_task(call_id: int) -> None:
    call_extraction_run(call_id=call_id)


@shared_task(acks_late=True, ignore_result=True)
def call_extraction_sweep_task() -> None:
    call_extractions_sweep()
