from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail

from config.api.errors import Conflict, api_exception_handler, flatten_errors


def test_nested_details_flatten_to_dotted_paths() -> None:
    detail = {
        "phone": [ErrorDetail("Enter a valid phone number.", code="invalid_phone")],
        "payload": {"order_id": [ErrorDetail("This field is required.", code="required")]},
        "leads": [{}, {"phone": [ErrorDetail("Bad.", code="invalid")]}],
        "non_field_errors": [ErrorDetail("Nope.", code="invalid")],
    }

    assert flatten_errors(detail) == [
        {"field": "phone", "code": "invalid_phone", "message": "Enter a valid phone number."},
        {"field": "payload.order_id", "code": "required", "message": "This field is required."},
        {"field": "leads.1.phone", "code": "invalid", "message": "Bad."},
        {"field": "non_field_errors", "code": "invalid", "message": "Nope."},
    ]


def test_a_bare_message_becomes_a_non_field_error() -> None:
    assert flatten_errors([ErrorDetail("Whole body is wrong.", code="bad")]) == [
        {"field": "non_field_errors", "code": "bad", "message": "Whole body is wrong."}
    ]


def _handle(exc: Exception) -> tuple[int, Any]:
    response = api_exception_handler(exc, {"view": None})
    assert response is not None
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (exceptions.NotFound(), (404, "not_found", "Not found.")),
        (Http404(), (404, "not_found", "Not found.")),
        (exceptions.NotAuthenticated(), (401, "not_authenticated", None)),
        (exceptions.PermissionDenied(), (403, "permission_denied", None)),
        (Conflict("Idempotency key reused with a different body."), (409, "conflict", None)),
        (RequestDataTooBig(), (413, "payload_too_large", "The request body is too large.")),
        (exceptions.Throttled(wait=3), (429, "throttled", None)),
        (exceptions.ParseError("JSON parse error"), (400, "parse_error", "JSON parse error")),
    ],
)
def test_every_error_answers_in_the_one_format(
    exc: Exception, expected: tuple[int, str, str | None]
) -> None:
    status_code, type_, message = expected

    code, body = _handle(exc)

    assert code == status_code
    assert set(body) == {"error"}
    assert body["error"]["type"] == type_
    assert "fields" not in body["error"]
    if message is not None:
        assert body["error"]["message"] == message


def test_validation_errors_carry_fields() -> None:
    code, body = _handle(exceptions.ValidationError({"phone": ["Enter a valid phone number."]}))

    assert (code, body) == (
        400,
        {
            "error": {
                "type": "validation_error",
                "message": "Invalid input.",
                "fields": [
                    {"field": "phone", "code": "invalid", "message": "Enter a valid phone number."}
                ],
            }
        },
    )


@pytest.mark.django_db
def test_a_bug_answers_500_in_the_format_without_internals() -> None:
    code, body = _handle(KeyError("secret internal detail"))

    assert (code, body) == (
        500,
        {"error": {"type": "server_error", "message": "Internal server error."}},
    )
