from __future__ import annotations

from config.exceptions import ApplicationError


class LeadValidationError(ApplicationError):
    """A lead was refused; `errors` maps dotted field paths to messages (`payload.order_id`)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        field = next(iter(errors))
        super().__init__(f"{field}: {errors[field][0]}", field=field)
        self.errors = errors


class IdempotencyConflictError(ApplicationError):
    """The idempotency key was already used with a different request body."""


class LeadStateError(ApplicationError):
    """The lead is not in a status that allows the requested change."""
