"""The JSON Schema of a template definition: its shape. Meaning is checked in `semantics.py`."""

from __future__ import annotations

from typing import Any

from templates_app.definition.evaluators import EVALUATORS
from templates_app.definition.extraction import EXTRACTION

NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
TEXT = {"type": "string", "maxLength": 4000}
PHONE = {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"}
SECONDS = {"type": "number", "minimum": 0, "maximum": 86400 * 7}
EXECUTION_MODES = ["TELEPHONY", "TELEPHONY_TEST", "DAILY", "DAILY_TEST"]
BUILTIN_HANDLERS = ["end_call", "transfer_to_agent", "get_current_time"]
COMPUTED_VALUES = ["now", "today", "call_id"]
RETRY_DISPOSITIONS = ["no_answer", "busy", "failed", "voicemail", "early_hangup"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


def _by_type(options: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An object whose `type` picks its schema; if/then keeps errors pointed at the right field."""
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": list(options)}},
        "allOf": [
            {"if": {"properties": {"type": {"const": name}}}, "then": schema}
            for name, schema in options.items()
        ],
    }


VAD = _object(
    {
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "start_secs": {"type": "number", "minimum": 0, "maximum": 5},
        "stop_secs": {"type": "number", "minimum": 0, "maximum": 5},
        "min_volume": {"type": "number", "minimum": 0, "maximum": 1},
    }
)
INTERRUPTION = _object(
    {
        "mode": {"enum": ["enabled", "disabled"]},
        "min_words": {"type": "integer", "minimum": 1, "maximum": 20},
    }
)
INPUT_COLLECTION = _object(
    {
        "enabled": {"type": "boolean"},
        "user_speech_timeout": {"type": "number", "minimum": 0, "maximum": 10},
    }
)
HTTP_AUTH = _by_type(
    {
        "none": _object({"type": {}}),
        "bearer": _object({"type": {}, "token": TEXT}, ["token"]),
        "basic": _object(
            {"type": {}, "username": TEXT, "password": TEXT}, ["username", "password"]
        ),
        "api_key": _object({"type": {}, "header": TEXT, "value": TEXT}, ["header", "value"]),
    }
)
HTTP_REQUEST = _object(
    {
        "url": {"type": "string", "minLength": 1, "maxLength": 2000},
        "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
        "headers": {"type": "object", "additionalProperties": TEXT},
        "body": {"type": ["object", "string", "null"]},
        "auth": HTTP_AUTH,
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 30},
        "retries": {"type": "integer", "minimum": 0, "maximum": 5},
    },
    ["url"],
)
# A hook field's value is picked by its `source`; if/then keeps errors on the right key.
FIELD_VALUE = {
    "type": "object",
    "required": ["source"],
    "properties": {"source": {"enum": ["static", "llm", "computed"]}},
    "allOf": [
        {
            "if": {"properties": {"source": {"const": "static"}}},
            "then": _object({"source": {}, "value": {}}, ["value"]),
        },
        {
            "if": {"properties": {"source": {"const": "llm"}}},
            "then": _object({"source": {}, "argument": NAME}),
        },
        {
            "if": {"properties": {"source": {"const": "computed"}}},
            "then": _object({"source": {}, "value": {"enum": COMPUTED_VALUES}}, ["value"]),
        },
    ],
}
HOOK = _by_type(
    {
        "update_outcome": _object(
            {
                "type": {},
                "outcome": NAME,
                "fields": {"type": "object", "additionalProperties": FIELD_VALUE},
            },
            ["outcome"],
        ),
        "http_request": _object({"type": {}, "http": HTTP_REQUEST}, ["http"]),
    }
)
ACTION = _by_type(
    {
        "tts_say": _object({"type": {}, "text": TEXT}, ["text"]),
        "end_conversation": _object({"type": {}, "text": TEXT}),
        "function": _object({"type": {}, "handler": NAME}, ["handler"]),
    }
)
EXAMPLES = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": 200},
    "maxItems": 50,
}
# Keypad keys a customer presses to call a function ("press 1 to confirm").
DTMF = {"type": "string", "pattern": "^[0-9*#]{1,20}$"}
PARAMETERS = {
    "properties": {"type": "object", "additionalProperties": {"type": "object"}},
    "required": {"type": "array", "items": {"type": "string"}},
}
FUNCTION = _object(
    {
        "name": NAME,
        "description": TEXT,
        **PARAMETERS,
        "transition_to": {"type": ["string", "null"]},
        "hooks": {"type": "array", "items": HOOK},
        "examples": EXAMPLES,
        "dtmf": DTMF,
    },
    ["name", "description"],
)
NODE = _object(
    {
        "name": NAME,
        "role_message": TEXT,
        "task_messages": {"type": "array", "items": TEXT, "minItems": 1},
        "say": TEXT,
        "pre_actions": {"type": "array", "items": ACTION},
        "post_actions": {"type": "array", "items": ACTION},
        "functions": {"type": "array", "items": FUNCTION},
        "vad": VAD,
        "interruption": INTERRUPTION,
        "input_collection": INPUT_COLLECTION,
    },
    ["name", "task_messages"],
)
_GLOBAL_COMMON = {
    "type": {},
    "name": NAME,
    "description": TEXT,
    **PARAMETERS,
    "examples": EXAMPLES,
    "dtmf": DTMF,
    "hooks": {"type": "array", "items": HOOK},
}
GLOBAL_FUNCTION = _by_type(
    {
        "http": _object(
            {**_GLOBAL_COMMON, "http": HTTP_REQUEST, "transition_to": {"type": ["string", "null"]}},
            ["name", "description", "http"],
        ),
        "builtin": _object(
            {**_GLOBAL_COMMON, "handler": {"enum": BUILTIN_HANDLERS}, "message": TEXT},
            ["name", "description", "handler"],
        ),
    }
)
PROVIDER: dict[str, Any] = {
    "type": "object",
    "properties": {"provider": {"type": "string", "minLength": 1}, "options": {"type": "object"}},
    "required": ["provider"],
}
CALLING_WINDOW = _object(
    {
        "days": {"type": "array", "items": {"enum": WEEKDAYS}, "minItems": 1, "uniqueItems": True},
        "start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "end": {"type": "string", "pattern": "^([01][0-9]|2[0-4]):[0-5][0-9]$"},
    },
    ["days", "start", "end"],
)
TELEPHONY_PROVIDER = {"enum": ["simulator", "twilio", "plivo", "exotel"]}
CALLER_NUMBERS = {"type": "array", "items": PHONE, "uniqueItems": True}
NUMBER_SELECTION = {"enum": ["first", "round_robin", "random"]}
# Asked at dial time, before the provider; answers {"eligible": true|false, "reason": "…"}.
PRE_CHECK = _by_type(
    {
        "http": _object(
            {"type": {}, "http": HTTP_REQUEST, "on_error": {"enum": ["allow", "block"]}},
            ["http"],
        )
    }
)
EXECUTION = _object(
    {
        "calling_windows": {"type": "array", "items": CALLING_WINDOW},
        "time_zone": {"type": "string", "minLength": 1},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
        "retry_delays": _object(dict.fromkeys(RETRY_DISPOSITIONS, SECONDS)),
        "retry_jitter": {"type": "number", "minimum": 0, "maximum": 1},
        "telephony_provider": TELEPHONY_PROVIDER,
        "caller_numbers": CALLER_NUMBERS,
        "number_selection": NUMBER_SELECTION,
        # In failover order; replaces the three single-provider keys above.
        "telephony_providers": {
            "type": "array",
            "items": _object(
                {
                    "provider": TELEPHONY_PROVIDER,
                    "caller_numbers": CALLER_NUMBERS,
                    "number_selection": NUMBER_SELECTION,
                },
                ["provider"],
            ),
            "minItems": 1,
            "maxItems": 4,
        },
        "concurrency_cap": {"type": "integer", "minimum": 1, "maximum": 1000},
        # Who records the call: nobody, the voice worker (WAV) or the provider (Twilio, Plivo).
        "recording": {"enum": ["off", "worker", "provider"]},
        "pre_checks": {"type": "array", "items": PRE_CHECK, "maxItems": 5},
        "execution_modes": {
            "type": "array",
            "items": {"enum": EXECUTION_MODES},
            "minItems": 1,
            "uniqueItems": True,
        },
    }
)
VARIABLE = _object(
    {
        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,62}$"},
        "type": {"enum": ["string", "number", "integer", "boolean", "date"]},
        "required": {"type": "boolean"},
        "example": {},
        "description": TEXT,
    },
    ["name", "type"],
)
OUTCOME = _object(
    {
        "name": NAME,
        "description": TEXT,
        "fields": {"type": "array", "items": NAME, "uniqueItems": True},
    },
    ["name"],
)
TRANSFER = _object(
    {
        "mode": {"enum": ["cold", "warm"]},
        "number": PHONE,
        "no_answer": {"enum": ["return_to_bot", "end"]},
        "no_answer_message": TEXT,
        "return_node": NAME,
        "ring_timeout": {"type": "integer", "minimum": 5, "maximum": 120},
    },
    ["number"],
)
VOICEMAIL = {
    **_object({"action": {"enum": ["hangup", "message"]}, "message": TEXT}, ["action"]),
    # A message to leave needs its text.
    "if": {"properties": {"action": {"const": "message"}}},
    "then": {"required": ["message"], "properties": {"message": {"minLength": 1}}},
}
DEFINITION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_object(
        {
            "schema_version": {"const": 1},
            "greeting": TEXT,
            "initial_node": NAME,
            "nodes": {"type": "array", "items": NODE, "minItems": 1, "maxItems": 200},
            "global_functions": {"type": "array", "items": GLOBAL_FUNCTION, "maxItems": 50},
            "stt": {**PROVIDER, "properties": {**PROVIDER["properties"], "language": TEXT}},
            "tts": {**PROVIDER, "properties": {**PROVIDER["properties"], "voice": TEXT}},
            "llm": {
                **PROVIDER,
                "properties": {
                    **PROVIDER["properties"],
                    "model": TEXT,
                    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                },
            },
            "vad": VAD,
            "interruption": INTERRUPTION,
            "input_collection": INPUT_COLLECTION,
            "user_idle": _object(
                {
                    "enabled": {"type": "boolean"},
                    "timeout": {"type": "number", "minimum": 1, "maximum": 120},
                    "message": TEXT,
                    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                }
            ),
            "transfer_number": PHONE,
            "transfer": TRANSFER,
            "voicemail": VOICEMAIL,
            "variables": {"type": "array", "items": VARIABLE, "maxItems": 100},
            # When true, a lead's payload may carry only declared variables.
            "variables_strict": {"type": "boolean"},
            "outcomes": {"type": "array", "items": OUTCOME, "maxItems": 50},
            "execution": EXECUTION,
            "extraction": EXTRACTION,
            # Scores for Langfuse, each read from one extraction field.
            "evaluators": EVALUATORS,
        },
        ["schema_version", "initial_node", "nodes"],
    ),
}
