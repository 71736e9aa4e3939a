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
    OpenApiExample(
        "One bad item refuses the batch (400)",
        value={
            "error": {
                "type": "validation_error",
                "message": "Invalid input.",
                "fields": [
                    {
                        "field": "leads.3.phone",
                        "code": "invalid_phone",
                        "message": "Not a phone number.",
                    }
                ],
            }
        },
        response_only=True,
        status_codes=["400"],
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
]
LEAD_LIST = [
    OpenApiExample(
        "A page of leads",
        value={
            "next": "https://breeze.example.com/api/v1/leads?cursor=cD0yMDI2",
            "previous": None,
            "results": [_LEAD],
        },
        response_only=True,
    ),
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
        value={"error": {"type": "conflict", "message": "A dialing lead cannot be cancelled."}},
        response_only=True,
        status_codes=["409"],
    ),
]
LEAD_DISPATCH_NOW = [
    OpenApiExample("Due now", value=_LEAD, response_only=True),
    OpenApiExample(
        "Finished already (409)",
        value={"error": {"type": "conflict", "message": "A completed lead cannot be dispatched."}},
        response_only=True,
        status_codes=["409"],
    ),
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
    OpenApiExample(
        "No phone column (400)",
        value={
            "error": {
                "type": "validation_error",
                "message": "Invalid input.",
                "fields": [
                    {
                        "field": "file",
                        "code": "invalid",
                        "message": "The header has no phone column.",
                    }
                ],
            }
        },
        response_only=True,
        status_codes=["400"],
    ),
]
LEAD_IMPORT_DETAIL = [OpenApiExample("In progress", value=_IMPORT, response_only=True)]
