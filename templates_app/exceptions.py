from __future__ import annotations

from config.exceptions import ApplicationError
from templates_app.types import Issue


class TemplateValidationError(ApplicationError):
    """A definition failed validation; `issues` name each problem by JSON path."""

    def __init__(self, issues: list[Issue]) -> None:
        first = issues[0]
        super().__init__(f"{first.path}: {first.message}", field="definition")
        self.issues = issues


class VersionNotEditableError(ApplicationError):
    pass
