from __future__ import annotations

from config.exceptions import ApplicationError
from leads.types import Errors


class LeadValidationError(ApplicationError):
    """A lead was refused; `problems` lists every problem by dotted field path."""

    def __init__(self, problems: Errors) -> None:
        field = next(iter(problems))
        super().__init__(f"{field}: {problems[field][0].message}", field=field)
        self.problems = problems


class LeadPermissionError(ApplicationError):
    """The caller can see the template's merchant but may not push leads there."""


class IdempotencyConflictError(ApplicationError):
    """The idempotency key was already used with a different request body."""


class LeadStateError(ApplicationError):
    """The lead is not in a status that allows the requested change."""


class LeadRequestTooLargeError(ApplicationError):
    """More leads in one bulk request, or a bigger CSV, than the configured maximum."""
