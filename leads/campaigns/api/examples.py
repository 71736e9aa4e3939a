"""Request and response examples for the OpenAPI schema of the campaign endpoints."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

_CAMPAIGN = {
    "id": 12,
    "merchant": "acme",
    "template": "order-confirmation",
    "name": "November COD confirmations",
    "lead_import": 31,
    "lead_filter": {},
    "status": "draft",
    "pause_reason": "",
    "calls_per_minute": 30,
    "max_concurrency": 5,
    "failure_threshold": 0.5,
    "failure_window": 10,
    "created_by": "api_key:shop backend (brz_a1b2c3d4)",
    "created_at": "2026-11-25T10:00:00Z",
    "started_at": None,
    "paused_at": None,
    "resumed_at": None,
    "stopped_at": None,
    "completed_at": None,
}
_PROGRESS = {
    "leads": 120,
    "by_status": {
        "queued": 80,
        "scheduled": 2,
        "dialing": 3,
        "in_call": 2,
        "completed": 30,
        "failed": 1,
        "exhausted": 2,
        "cancelled": 0,
    },
    "dialled": 41,
    "answered": 33,
    "in_flight": 5,
    "remaining": 82,
    "outcomes": {"cancelled": 4, "confirmed": 26},
}
_RUNNING = {
    **_CAMPAIGN,
    "status": "running",
    "started_at": "2026-11-25T10:05:00Z",
    "resumed_at": "2026-11-25T10:05:00Z",
    "progress": _PROGRESS,
}
_PAUSED = {
    **_RUNNING,
    "status": "paused",
    "pause_reason": "failure rate 5/10 over the last 10 finished attempts reached the threshold of 50%",
    "paused_at": "2026-11-25T10:40:00Z",
}


def _conflict(message: str) -> OpenApiExample:
    return OpenApiExample(
        "Not allowed in this status (409)",
        value={"error": {"type": "conflict", "message": message}},
        response_only=True,
        status_codes=["409"],
    )


# One campaign: drf-spectacular wraps a list view's example in the cursor page itself.
CAMPAIGN_LIST = [OpenApiExample("Campaigns", value=_CAMPAIGN, response_only=True)]
CAMPAIGN_CREATE = [
    OpenApiExample(
        "From a CSV import",
        value={
            "name": "November COD confirmations",
            "template": "order-confirmation",
            "lead_import": 31,
            "calls_per_minute": 30,
            "max_concurrency": 5,
        },
        request_only=True,
    ),
    OpenApiExample(
        "From a filter over waiting leads",
        value={
            "name": "Yesterday's orders",
            "template": "order-confirmation",
            "lead_filter": {
                "status": ["scheduled"],
                "created_after": "2026-11-24T00:00:00+05:30",
                "created_before": "2026-11-25T00:00:00+05:30",
            },
            "calls_per_minute": 6,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Created (draft)",
        value={**_CAMPAIGN, "progress": {**_PROGRESS, "dialled": 0, "answered": 0}},
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "Invalid (400)",
        value={
            "error": {
                "type": "validation_error",
                "message": "Invalid input.",
                "fields": [
                    {
                        "field": "calls_per_minute",
                        "code": "min_value",
                        "message": "Ensure this value is greater than or equal to 1.",
                    }
                ],
            }
        },
        response_only=True,
        status_codes=["400"],
    ),
]
CAMPAIGN_DETAIL = [OpenApiExample("Running", value=_RUNNING, response_only=True)]
CAMPAIGN_START = [
    OpenApiExample("Started", value=_RUNNING, response_only=True),
    _conflict("A running campaign cannot be started."),
]
CAMPAIGN_PAUSE = [
    OpenApiExample("Pause", value={"reason": "customer complaint"}, request_only=True),
    OpenApiExample("Paused", value=_PAUSED, response_only=True),
    _conflict("A draft campaign cannot be paused."),
]
CAMPAIGN_RESUME = [
    OpenApiExample("Resumed", value=_RUNNING, response_only=True),
    _conflict("A running campaign cannot be resumed."),
]
CAMPAIGN_STOP = [
    OpenApiExample("Stopped", value={**_RUNNING, "status": "stopped"}, response_only=True),
    _conflict("A completed campaign cannot be stopped."),
]
