"""Request and response examples for the OpenAPI schema of the lead endpoints."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

_LEAD = {
    "id": 4711,
    "merchant": "acme",
    "template": "order-confirmation",
    "template_version": 3,
    "phone": "+919812345678",
    "payload": {"customer_name": "Asha", "order_id": "A1042", "order_total": "1,499 rupees"},
    "execution_mode": "TELEPHONY",
    "time_zone": "Asia/Kolkata",
    "scheduled_at": None,
    "idempotency_key": "order-A1042",
    "webhook_url": "https://shop.example.com/hooks/breeze",
    "is_playground": False,
    "config_overrides": {},
    "status": "scheduled",
    "next_attempt_at": "2026-11-25T10:00:00Z",
    "attempts": 0,
    "last_disposition": "",
    "outcome": "",
    "outcome_fields": {},
    "created_by": "api_key:shop backend (brz_a1b2c3d4)",
    "created_at": "2026-11-25T10:00:00Z",
    "updated_at": "2026-11-25T10:00:00Z",
}
_PUSH = {
    "template": "order-confirmation",
    "phone": "+919812345678",
    "payload": {"customer_name": "Asha", "order_id": "A1042", "order_total": "1,499 rupees"},
    "execution_mode": "TELEPHONY",
    "time_zone": "Asia/Kolkata",
    "idempotency_key": "order-A1042",
    "webhook_url": "https://shop.example.com/hooks/breeze",
}
_VALIDATION_ERROR = {
    "error": {
        "type": "validation_error",
        "message": "Invalid input.",
        "fields": [
            {
                "field": "payload.order_id",
                "code": "required",
                "message": "order_id is required by this template",
            },
            {"field": "phone", "code": "invalid_phone", "message": "Not a phone number."},
        ],
    }
}


def _error(type_: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": type_, "message": message}}


def _invalid(name: str, field: str, code: str, message: str) -> OpenApiExample:
    """A 400 naming one field, in the API's error format."""
    fields = [{"field": field, "code": code, "message": message}]
    value = {"error": {"type": "validation_error", "message": "Invalid input.", "fields": fields}}
    return OpenApiExample(name, value=value, response_only=True, status_codes=["400"])


_FORBIDDEN = OpenApiExample(
    "A viewer's key (403)",
    value=_error("permission_denied", "You do not have permission to perform this action."),
    response_only=True,
    status_codes=["403"],
)
# Another merchant's lead answers exactly like an id never used.
_LEAD_NOT_FOUND = OpenApiExample(
    "Not a lead of your merchants (404)",
    value=_error("not_found", "No such lead."),
    response_only=True,
    status_codes=["404"],
)

LEAD_PUSH = [
    OpenApiExample("Push a lead", value=_PUSH, request_only=True),
    OpenApiExample("Created (201) or the same key again (200)", value=_LEAD, response_only=True),
    OpenApiExample(
        "Missing variable and bad phone (400)",
        value=_VALIDATION_ERROR,
        response_only=True,
        status_codes=["400"],
    ),
    OpenApiExample(
        "Key reused with another body (409)",
        value={
            "error": {
                "type": "conflict",
                "message": "This idempotency key was used for a different lead.",
            }
        },
        response_only=True,
        status_codes=["409"],
    ),
    _FORBIDDEN,
]
LEAD_BULK = [
    OpenApiExample(
        "Push two leads",
        value={"leads": [_PUSH, {**_PUSH, "phone": "+919812345679", "idempotency_key": "A1043"}]},
        request_only=True,
    ),
    OpenApiExample(
        "Stored",
        value={
            "created": 1,
            "existing": 1,
            "leads": [
                {
                    "id": 4711,
                    "status": "scheduled",
                    "idempotency_key": "order-A1042",
                    "created": False,
                },
                {"id": 4712, "status": "scheduled", "idempotency_key": "A1043", "created": True},
            ],
        },
        response_only=True,
    ),
    _invalid(
        "One bad item refuses the batch (400)",
        "leads.3.phone",
        "invalid_phone",
        "Not a phone number.",
    ),
    OpenApiExample(
        "Over 10,000 leads (413)",
        value={
            "error": {
                "type": "payload_too_large",
                "message": "leads: At most 10000 leads per request.",
            }
        },
        response_only=True,
        status_codes=["413"],
    ),
    _FORBIDDEN,
]
LEAD_LIST = [
    # One lead: drf-spectacular wraps a list view's example in the cursor page itself.
    OpenApiExample("A page of leads", value=_LEAD, response_only=True),
    _invalid("Unknown status (400)", "status", "invalid_choice", '"lost" is not a valid choice.'),
    _FORBIDDEN,
]
LEAD_DETAIL = [
    OpenApiExample(
        "A lead with its history and calls",
        value={
            **_LEAD,
            "status": "completed",
            "attempts": 1,
            "transitions": [
                {
                    "from_status": "",
                    "to_status": "scheduled",
                    "actor": "api_key:shop backend (brz_a1b2c3d4)",
                    "reason": "pushed",
                    "at": "2026-11-25T10:00:00Z",
                },
                {
                    "from_status": "scheduled",
                    "to_status": "dialing",
                    "actor": "dispatcher",
                    "reason": "claimed",
                    "at": "2026-11-25T10:00:01Z",
                },
            ],
            "calls": [
                {
                    "id": 912,
                    "status": "ended",
                    "disposition": "answered",
                    "outcome": "confirmed",
                    "provider": "simulator",
                    "started_at": "2026-11-25T10:00:01Z",
                    "ended_at": "2026-11-25T10:01:10Z",
                    "duration_seconds": 64.2,
                }
            ],
        },
        response_only=True,
    ),
    _FORBIDDEN,
    _LEAD_NOT_FOUND,
]
LEAD_CANCEL = [
    OpenApiExample("Cancel", value={"reason": "customer already confirmed"}, request_only=True),
    OpenApiExample(
        "Cancelled",
        value={**_LEAD, "status": "cancelled", "next_attempt_at": None},
        response_only=True,
    ),
    OpenApiExample(
        "Already being called (409)",
        value=_error("conflict", "A dialing lead cannot be cancelled."),
        response_only=True,
        status_codes=["409"],
    ),
    _invalid(
        "Reason too long (400)",
        "reason",
        "max_length",
        "Ensure this field has no more than 300 characters.",
    ),
    _FORBIDDEN,
    _LEAD_NOT_FOUND,
]
LEAD_DISPATCH_NOW = [
    OpenApiExample("Due now", value=_LEAD, response_only=True),
    OpenApiExample(
        "Finished already (409)",
        value=_error("conflict", "A completed lead cannot be dispatched."),
        response_only=True,
        status_codes=["409"],
    ),
    _FORBIDDEN,
    _LEAD_NOT_FOUND,
]
_IMPORT = {
    "id": 31,
    "template": "order-confirmation",
    "execution_mode": "TELEPHONY",
    "original_name": "november.csv",
    "status": "running",
    "error": "",
    "total_rows": None,
    "processed_rows": 42000,
    "ok_rows": 41990,
    "failed_rows": 10,
    "row_errors": [{"row": 17, "field": "phone", "reason": "Not a phone number."}],
    "created_by": "user:asha",
    "created_at": "2026-11-25T10:00:00Z",
    "started_at": "2026-11-25T10:00:01Z",
    "finished_at": None,
}
LEAD_IMPORT = [
    OpenApiExample(
        "Upload a CSV",
        value={
            "file": "november.csv",
            "template": "order-confirmation",
            "execution_mode": "TELEPHONY",
        },
        request_only=True,
        media_type="multipart/form-data",
    ),
    OpenApiExample(
        "Accepted (202)",
        value={
            **_IMPORT,
            "status": "pending",
            "processed_rows": 0,
            "ok_rows": 0,
            "failed_rows": 0,
            "row_errors": [],
            "started_at": None,
        },
        response_only=True,
        status_codes=["202"],
    ),
    _invalid("No phone column (400)", "file", "invalid", "The header has no phone column."),
    OpenApiExample(
        "Over 50 MB (413)",
        value=_error("payload_too_large", "file: The file is larger than 52428800 bytes."),
        response_only=True,
        status_codes=["413"],
    ),
    _FORBIDDEN,
]
LEAD_IMPORT_DETAIL = [
    OpenApiExample("In progress", value=_IMPORT, response_only=True),
    _FORBIDDEN,
    OpenApiExample(
        "Not an import of your merchants (404)",
        value=_error("not_found", "No such import."),
        response_only=True,
        status_codes=["404"],
    ),
]
