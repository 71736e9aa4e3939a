"""The webhook event catalogue: every event type, the JSON Schema of its envelope, and examples.

docs/webhooks.md renders the same schemas; a test checks that every emitted event validates.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from jsonschema import Draft202012Validator

API_VERSION = "v1"


class EventType(StrEnum):
    CALL_STARTED = "call.started"
    CALL_COMPLETED = "call.completed"
    LEAD_COMPLETED = "lead.completed"
    LEAD_EXHAUSTED = "lead.exhausted"
    LEAD_FAILED = "lead.failed"
    OUTCOME_UPDATED = "outcome.updated"
    CAMPAIGN_PAUSED = "campaign.paused"


Schema = dict[str, Any]

_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_ID_OR_NULL = {"type": ["integer", "null"]}
_OUTCOME = {"type": "string", "description": "The outcome word; empty until one is set."}
_FIELDS = {"type": "object", "description": "Fields set with the outcome (free-form)."}

_CALL_IDENTITY: Schema = {
    "call_id": {"type": "integer"},
    "lead_id": _ID_OR_NULL,
    "template": {
        "type": "object",
        "required": ["id", "slug", "version"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "version": {"type": "integer"},
        },
    },
    "execution_mode": {"enum": ["TELEPHONY", "TELEPHONY_TEST", "DAILY", "DAILY_TEST"]},
    "provider": {"type": "string"},
    "provider_call_id": {"type": "string"},
    "customer_phone": {"type": "string", "description": "E.164, empty for web calls."},
}

_TURN: Schema = {
    "type": "object",
    "required": ["index", "speaker", "text", "node", "started_offset_ms"],
    "additionalProperties": False,
    "properties": {
        "index": {"type": "integer", "minimum": 0},
        "speaker": {"enum": ["customer", "bot"]},
        "text": {"type": "string"},
        "node": {"type": "string"},
        "started_offset_ms": {"type": ["integer", "null"]},
    },
}

_LATENCY: Schema = {
    "type": "object",
    "description": "Customer stops speaking → first bot audio, over the call's answers (ms).",
    "required": ["answers", "median_ms", "p95_ms", "max_ms"],
    "additionalProperties": False,
    "properties": {
        "answers": {"type": "integer", "minimum": 0},
        "median_ms": {"type": ["number", "null"]},
        "p95_ms": {"type": ["number", "null"]},
        "max_ms": {"type": ["integer", "null"]},
    },
}

_EXTRACTION: Schema = {
    "type": ["object", "null"],
    "description": "Fields filled from the transcript after the call (the template's "
    "`extraction`); null when the template has none or the call was not answered.",
    "required": ["status", "source", "fields", "errors"],
    "additionalProperties": False,
    "properties": {
        "status": {"enum": ["done", "failed", "timed_out"]},
        "source": {"enum": ["llm", "rules", None]},
        "fields": {"type": "object", "description": "Every field by name; null when unsettled."},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}

_LLM_FALLBACK: Schema = {
    "type": ["object", "null"],
    "description": "When and why the call's LLM failed and the rules engine answered the rest "
    "of the call; null when the LLM answered throughout (or the template uses rules).",
    "required": ["at", "reason"],
    "additionalProperties": False,
    "properties": {"at": _TIME, "reason": {"type": "string"}},
}

_LEAD: Schema = {
    "lead_id": {"type": "integer"},
    "status": {"type": "string"},
    "attempts": {"type": "integer", "minimum": 0},
    "last_disposition": {"type": "string"},
    "last_call_id": _ID_OR_NULL,
    "outcome": _OUTCOME,
    "outcome_fields": _FIELDS,
    "idempotency_key": {"type": "string"},
    "reason": {"type": "string", "description": "Why the lead ended this way."},
}


def _object(properties: Schema) -> Schema:
    return {
        "type": "object",
        "required": sorted(properties),
        "additionalProperties": False,
        "properties": properties,
    }


DATA_SCHEMAS: dict[EventType, Schema] = {
    EventType.CALL_STARTED: _object({**_CALL_IDENTITY, "started_at": _TIME}),
    EventType.CALL_COMPLETED: _object(
        {
            **_CALL_IDENTITY,
            "disposition": {"type": "string"},
            "end_reason": {"type": "string"},
            "started_at": _TIME_OR_NULL,
            "answered_at": _TIME_OR_NULL,
            "ended_at": _TIME,
            "duration_seconds": {"type": ["number", "null"], "minimum": 0},
            "node_path": {"type": "array", "items": {"type": "string"}},
            "transcript": {"type": "array", "items": _TURN},
            "outcome": _OUTCOME,
            "outcome_fields": _FIELDS,
            "recording_url": {"type": ["string", "null"]},
            "extraction": _EXTRACTION,
            "llm_fallback": _LLM_FALLBACK,
            "latency": _LATENCY,
        }
    ),
    EventType.OUTCOME_UPDATED: _object(
        {
            "call_id": {"type": "integer"},
            "lead_id": _ID_OR_NULL,
            "outcome": _OUTCOME,
            "outcome_fields": _FIELDS,
        }
    ),
    EventType.LEAD_COMPLETED: _object(_LEAD),
    EventType.LEAD_EXHAUSTED: _object(_LEAD),
    EventType.LEAD_FAILED: _object(_LEAD),
    EventType.CAMPAIGN_PAUSED: _object(
        {
            "campaign_id": {"type": "integer"},
            "name": {"type": "string"},
            "reason": {"type": "string"},
            "paused_at": _TIME,
        }
    ),
}


def event_schema(event_type: EventType) -> Schema:
    """The JSON Schema of one event as POSTed: the envelope with that type's `data`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": event_type.value,
        "type": "object",
        "required": ["id", "type", "created_at", "api_version", "data"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[0-9a-f]{32}$"},
            "type": {"const": event_type.value},
            "created_at": _TIME,
            "api_version": {"const": API_VERSION},
            "data": DATA_SCHEMAS[event_type],
        },
    }


def event_validation_errors(event: dict[str, Any]) -> list[str]:
    """Why `event` does not match its type's schema (empty when it does)."""
    try:
        event_type = EventType(str(event.get("type")))
    except ValueError:
        return [f"unknown event type {event.get('type')!r}"]
    validator = Draft202012Validator(
        event_schema(event_type), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(event), key=lambda error: error.json_path)
    ]
