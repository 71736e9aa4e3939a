"""The `data` of call events, read from the call as committed with the change they report."""

from __future__ import annotations

import math
from statistics import median
from typing import Any

from calls.models import Call
from calls.recordings.selectors import call_recording_url
from calls.webhooks.events import EventType
from calls.webhooks.services import webhook_event_emit


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _identity(call: Call) -> dict[str, Any]:
    version = call.template_version
    return {
        "call_id": call.pk,
        "lead_id": call.lead_id,
        "template": {
            "id": version.template_id,
            "slug": version.template.slug,
            "version": version.number,
        },
        "execution_mode": call.execution_mode,
        "provider": call.provider,
        "provider_call_id": call.provider_call_id,
        "customer_phone": call.customer_phone,
    }


def _latency(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"answers": 0, "median_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values)
    return {
        "answers": len(ordered),
        "median_ms": median(ordered),
        "p95_ms": ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)],
        "max_ms": ordered[-1],
    }


def _extraction(call: Call) -> dict[str, Any] | None:
    if not call.extraction_status:
        return None
    return {"status": call.extraction_status, **call.extraction}


def _llm_fallback(call: Call) -> dict[str, Any] | None:
    if call.llm_fallback_at is None:
        return None
    return {"at": _time(call.llm_fallback_at), "reason": call.llm_fallback_reason}


def _completed(call: Call) -> dict[str, Any]:
    turns = list(call.turns.all())
    return {
        **_identity(call),
        "disposition": call.disposition,
        "end_reason": call.end_reason,
        "started_at": _time(call.started_at),
        "answered_at": _time(call.answered_at),
        "ended_at": _time(call.ended_at),
        "duration_seconds": call.duration_seconds,
        "node_path": call.node_path,
        "transcript": [
            {
                "index": turn.index,
                "speaker": turn.speaker,
                "text": turn.text,
                "node": turn.node,
                "started_offset_ms": turn.started_offset_ms,
            }
            for turn in turns
        ],
        "outcome": call.outcome,
        "outcome_fields": call.outcome_fields,
        "recording_url": call_recording_url(call_id=call.pk),
        "extraction": _extraction(call),
        "llm_fallback": _llm_fallback(call),
        "latency": _latency([turn.latency_ms for turn in turns if turn.latency_ms is not None]),
    }


def call_event_data(*, call: Call, event_type: EventType) -> dict[str, Any]:
    if event_type == EventType.CALL_STARTED:
        return {**_identity(call), "started_at": _time(call.started_at)}
    if event_type == EventType.CALL_COMPLETED:
        return _completed(call)
    if event_type == EventType.OUTCOME_UPDATED:
        return {
            "call_id": call.pk,
            "lead_id": call.lead_id,
            "outcome": call.outcome,
            "outcome_fields": call.outcome_fields,
        }
    raise ValueError(f"{event_type} is not a call event")


def call_event_emit(*, call_id: int, event_type: EventType) -> str:
    """Emit a call event in the caller's transaction, from the call as it now stands.

    A call made for a lead with its own `webhook_url` also reports there.
    """
    call = Call.objects.select_related("template_version__template", "lead").get(pk=call_id)
    return webhook_event_emit(
        merchant_id=call.merchant_id,
        event_type=event_type,
        data=call_event_data(call=call, event_type=event_type),
        lead_webhook_url=call.lead.webhook_url if call.lead is not None else "",
    )
