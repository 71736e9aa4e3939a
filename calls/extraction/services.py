"""Post-call extraction: begun when a call ends, run by a Celery task, swept when stuck.

A call whose template has an `extraction` section and that was answered waits in
`extraction_status="pending"`; its `call.completed` event is emitted when extraction leaves
that state (done, failed, or timed out after `EXTRACTION_DEADLINE_SECONDS`), so the event
carries the result. The outcome and fields set during the call are never changed here.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls.extraction.llm import ExtractionLLMError, llm_extract, llm_target
from calls.extraction.rules import TranscriptTurn, rules_extract
from calls.langfuse.services import call_evaluation_scores_enqueue
from calls.models import Call
from calls.webhooks.call_events import call_event_emit
from calls.webhooks.events import EventType
from config.call_config import resolve_call_config
from config.selectors import provider_credentials_for_merchant
from templates_app.definition.extraction import extraction_fields

logger = logging.getLogger(__name__)

Extraction = Call.ExtractionStatus


def call_extraction_begin(*, call_id: int) -> bool:
    """In `call_end`'s transaction: mark the call pending and enqueue it, if it extracts.

    Returns whether it did; if not, the caller emits `call.completed` itself.
    """
    from calls.extraction.tasks import call_extract_task

    call = Call.objects.select_related("template_version").get(pk=call_id)
    if call.answered_at is None or not extraction_fields(call.template_version.definition):
        return False
    Call.objects.filter(pk=call_id, extraction_status=Extraction.NONE).update(
        extraction_status=Extraction.PENDING
    )
    # A provider's hang-up callback may end the call while its worker is still storing the
    # last turns; the worker's own end comes after them.
    worker_may_be_writing = bool(call.worker_id) and call.end_reason.startswith("provider_")
    countdown = settings.EXTRACTION_TRANSCRIPT_GRACE_SECONDS if worker_may_be_writing else 0
    transaction.on_commit(lambda: call_extract_task.apply_async((call_id,), countdown=countdown))
    return True


def _turns(call: Call) -> list[TranscriptTurn]:
    zone = zoneinfo.ZoneInfo(call.merchant.time_zone)
    start = (call.answered_at or call.created_at).astimezone(zone)
    return [
        TranscriptTurn(
            speaker=turn.speaker,
            text=turn.text,
            at=start + timedelta(milliseconds=turn.started_offset_ms or 0),
        )
        for turn in call.turns.all()
    ]


def _extract(call: Call) -> tuple[str, dict[str, Any]]:
    definition = call.template_version.definition
    fields = extraction_fields(definition)
    turns = _turns(call)
    errors: list[str] = []
    config = resolve_call_config(
        merchant_id=call.merchant_id,
        template_config=definition,
        execution_mode=call.execution_mode,
    )
    try:
        target = llm_target(
            config.call.get("llm", {}),
            provider_credentials_for_merchant(merchant_id=call.merchant_id),
        )
        if target is not None:
            answer = llm_extract(
                target,
                fields,
                turns,
                instructions=(definition.get("extraction") or {}).get("instructions", ""),
                call_time=turns[0].at if turns else timezone.now(),
                timeout=settings.EXTRACTION_LLM_TIMEOUT_SECONDS,
            )
            return Extraction.DONE, {
                "source": "llm",
                "fields": answer.fields,
                "errors": answer.errors,
            }
    except ExtractionLLMError as error:
        logger.warning("call %s: LLM extraction failed, using rules: %s", call.pk, error)
        errors.append(f"llm: {error}; filled by the rules engine")
    return Extraction.DONE, {
        "source": "rules",
        "fields": rules_extract(fields, turns),
        "errors": errors,
    }


def _finish(*, call_id: int, status: str, result: dict[str, Any]) -> bool:
    """Leave `pending` once and emit `call.completed` with the result; False if already left."""
    with transaction.atomic():
        updated = Call.objects.filter(pk=call_id, extraction_status=Extraction.PENDING).update(
            extraction_status=status, extraction=result, updated_at=timezone.now()
        )
        if updated:
            call_event_emit(call_id=call_id, event_type=EventType.CALL_COMPLETED)
        if updated and status == Extraction.DONE:
            call_evaluation_scores_enqueue(call_id=call_id)
    return updated == 1


def call_extraction_run(*, call_id: int) -> bool:
    """Fill the call's extraction fields (idempotent: a call no longer pending is left alone)."""
    call = (
        Call.objects.select_related("template_version", "merchant")
        .filter(pk=call_id, extraction_status=Extraction.PENDING)
        .first()
    )
    if call is None:
        return False
    try:
        status, result = _extract(call)
    except Exception as error:
        # A bug must not hold call.completed back until the deadline: report it failed.
        logger.exception("call %s: extraction failed", call_id)
        status = Extraction.FAILED
        result = {"source": None, "fields": {}, "errors": [f"{type(error).__name__}: {error}"]}
    return _finish(call_id=call_id, status=status, result=result)


def call_extractions_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Time out extractions past the deadline; re-enqueue those whose task was lost.

    Returns (timed out, re-enqueued).
    """
    from calls.extraction.tasks import call_extract_task

    now = now or timezone.now()
    pending = Call.objects.filter(extraction_status=Extraction.PENDING)
    deadline = now - timedelta(seconds=settings.EXTRACTION_DEADLINE_SECONDS)
    late = list(pending.filter(ended_at__lt=deadline).values_list("pk", flat=True))
    timed_out = sum(
        _finish(
            call_id=call_id,
            status=Extraction.TIMED_OUT,
            result={
                "source": None,
                "fields": {},
                "errors": [
                    f"not finished within {settings.EXTRACTION_DEADLINE_SECONDS}s of the call's end"
                ],
            },
        )
        for call_id in late
    )
    grace = now - timedelta(seconds=settings.EXTRACTION_SWEEP_GRACE_SECONDS)
    lost = list(pending.filter(ended_at__lt=grace).values_list("pk", flat=True))
    for call_id in lost:
        call_extract_task.delay(call_id)
    if timed_out or lost:
        logger.info("extraction sweeper: %d timed out, %d re-enqueued", timed_out, len(lost))
    return timed_out, len(lost)
