"""The one error format every API answer uses (docs/api.md, "Errors").

```json
{"error": {"type": "validation_error", "message": "Invalid input.",
           "fields": [{"field": "payload.order_id", "code": "required",
                       "message": "This field is required."}]}}
```
DRF's nested error details are flattened into dotted field paths, so a client reads one
list whatever the shape of the input (`leads.3.phone`, `payload.order_id`).
"""

from __future__ import annotations

import logging
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger(__name__)


class FieldError(TypedDict):
    field: str
    code: str
    message: str


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


_TYPE_BY_EXCEPTION: tuple[tuple[type[exceptions.APIException], str], ...] = (
    (exceptions.ValidationError, "validation_error"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.Throttled, "throttled"),
    (Conflict, "conflict"),
    (PayloadTooLarge, "payload_too_large"),
)

NON_FIELD = "non_field_errors"


def flatten_errors(detail: Any, prefix: str = "") -> list[FieldError]:
    """Flatten a DRF error detail (dicts, lists, ErrorDetail) into dotted-path field errors."""
    if isinstance(detail, dict):
        errors: list[FieldError] = []
        for key, value in detail.items():
            errors.extend(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return errors
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [_field_error(prefix, item) for item in detail]
        # A list of per-item details (a ListField or many=True): index the path.
        errors = []
        for index, item in enumerate(detail):
            if item:
                errors.extend(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return errors
    return [_field_error(prefix, detail)]


def _field_error(field: str, message: Any) -> FieldError:
    code = getattr(message, "code", None) or "invalid"
    return {"field": field or NON_FIELD, "code": str(code), "message": str(message)}


def error_body(
    *, type_: str, message: str, fields: list[FieldError] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_, "message": message}
    if fields is not None:
        error["fields"] = fields
    return {"error": error}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error answers in the one format."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        # A bug, not bad input: log it with its traceback, roll back, and answer in the same
        # format without leaking internals.
        logger.error("Unhandled API error in %s", type(context.get("view")).__name__, exc_info=exc)
        set_rollback()
        return Response(
            error_body(type_="server_error", message="Internal server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)
    type_ = next((name for cls, name in _TYPE_BY_EXCEPTION if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            type_=type_, message="Invalid input.", fields=flatten_errors(exc.detail)
        )
    else:
        response.data = error_body(type_=type_, message=_message(exc.detail))
    return response


def _message(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_message(item) for item in detail)
    return str(detail)
