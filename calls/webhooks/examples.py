"""One example event per type, as published in docs/webhooks.md (a test keeps them in step)."""

from __future__ import annotations

from typing import Any

from calls.webhooks.events import API_VERSION, EventType

_CALL = {
    "call_id": 4812,
    "lead_id": 9031,
    "template": {"id": 7, "slug": "order-confirmation", "version": 3},
    "execution_mode": "TELEPHONY",
    "provider": "twilio",
    "provider_call_id": "CA5f0c1d2e3b4a59687766554433221100",
    "customer_phone": "+919812345678",
}
_LEAD = {
    "lead_id": 9031,
    "attempts": 2,
    "last_call_id": 4812,
    "idempotency_key": "order-A1009",
}

EXAMPLE_DATA: dict[EventType, dict[str, Any]] = {
    EventType.CALL_STARTED: {**_CALL, "started_at": "2026-11-25T10:15:02.114000+00:00"},
    EventType.CALL_COMPLETED: {
        **_CALL,
        "disposition": "answered",
        "end_reason": "bot_ended",
        "started_at": "2026-11-25T10:15:02.114000+00:00",
        "answered_at": "2026-11-25T10:15:02.114000+00:00",
        "ended_at": "2026-11-25T10:15:48.902000+00:00",
        "duration_seconds": 46.788,
        "node_path": ["greeting", "confirm_order", "goodbye"],
        "transcript": [
            {
                "index": 0,
                "speaker": "bot",
                "text": "Hi Asha, this is Acme calling about order A1009 for 1299 rupees.",
                "node": "greeting",
                "started_offset_ms": 310,
            },
            {
                "index": 1,
                "speaker": "customer",
                "text": "Yes, please ship it.",
                "node": "greeting",
                "started_offset_ms": 6120,
            },
            {
                "index": 2,
                "speaker": "bot",
                "text": "Thank you, your order is confirmed.",
                "node": "confirm_order",
                "started_offset_ms": 7480,
            },
        ],
        "outcome": "confirmed",
        "outcome_fields": {"order_id": "A1009"},
        "recording_url": None,
        "extraction": {
            "status": "done",
            "source": "llm",
            "fields": {"ship_confirmed": True, "delivery_date": None},
            "errors": [],
        },
        "llm_fallback": None,
        "latency": {"answers": 1, "median_ms": 612, "p95_ms": 612, "max_ms": 612},
    },
    EventType.OUTCOME_UPDATED: {
        "call_id": 4812,
        "lead_id": 9031,
        "outcome": "confirmed",
        "outcome_fields": {"order_id": "A1009"},
    },
    EventType.LEAD_COMPLETED: {
        **_LEAD,
        "status": "completed",
        "last_disposition": "answered",
        "outcome": "confirmed",
        "outcome_fields": {"order_id": "A1009"},
        "reason": "the call reached an outcome",
    },
    EventType.LEAD_EXHAUSTED: {
        **_LEAD,
        "status": "exhausted",
        "last_disposition": "no_answer",
        "outcome": "",
        "outcome_fields": {},
        "reason": "2 of 2 attempts used",
    },
    EventType.LEAD_FAILED: {
        **_LEAD,
        "status": "failed",
        "last_disposition": "failed",
        "outcome": "",
        "outcome_fields": {},
        "reason": "the number is on the do-not-call list",
    },
    EventType.CAMPAIGN_PAUSED: {
        "campaign_id": 12,
        "name": "November COD confirmations",
        "reason": "failure rate 5/10 over the last 10 finished attempts reached the threshold of 50%",
        "paused_at": "2026-11-25T11:00:00+00:00",
    },
}


def example_event(event_type: EventType) -> dict[str, Any]:
    return {
        "id": "evt_8d0f6a3c2b1e4f5a9c7d6e5f4a3b2c1d",
        "type": event_type.value,
        "created_at": "2026-11-25T10:15:48.931000+00:00",
        "api_version": API_VERSION,
        "data": EXAMPLE_DATA[event_type],
    }
