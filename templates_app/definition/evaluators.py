"""The `evaluators` section: named scores of a call, read from its post-call extraction.

An evaluator names one extraction field; when extraction has filled it, its value becomes a
score of that name on the call's Langfuse trace (docs/observability.md). The field's type
decides the score's: boolean, numeric (integer, number), or categorical (a string with
`options`). Free text, dates and times are not scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from templates_app.definition.extraction import extraction_fields
from templates_app.types import Issue

EVALUATOR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
        "field": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
        "description": {"type": "string", "minLength": 1, "maxLength": 1000},
    },
    "required": ["name", "field"],
    "additionalProperties": False,
}
EVALUATORS: dict[str, Any] = {"type": "array", "items": EVALUATOR, "maxItems": 50}

SCORE_TYPES = {"boolean": "BOOLEAN", "integer": "NUMERIC", "number": "NUMERIC"}


@dataclass(frozen=True)
class Evaluator:
    name: str
    field: str
    description: str
    data_type: str  # Langfuse's: BOOLEAN, NUMERIC or CATEGORICAL


def _score_type(field_type: str, options: tuple[str, ...]) -> str | None:
    if field_type == "string":
        return "CATEGORICAL" if options else None
    return SCORE_TYPES.get(field_type)


def template_evaluators(definition: Mapping[str, Any]) -> list[Evaluator]:
    """The evaluators of a (valid) definition; empty when it has none."""
    fields = {field.name: field for field in extraction_fields(definition)}
    evaluators = []
    for evaluator in definition.get("evaluators", []):
        field = fields[evaluator["field"]]
        data_type = _score_type(field.type, field.options)
        if data_type is not None:
            evaluators.append(
                Evaluator(
                    name=evaluator["name"],
                    field=field.name,
                    description=evaluator.get("description", ""),
                    data_type=data_type,
                )
            )
    return evaluators


def evaluator_issues(definition: Mapping[str, Any]) -> list[Issue]:
    """Duplicate names, and fields that are not extracted or cannot be a score."""
    fields = {field.name: field for field in extraction_fields(definition)}
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for index, evaluator in enumerate(definition.get("evaluators", [])):
        path = f"$.evaluators[{index}]"
        name, field_name = evaluator["name"], evaluator["field"]
        if name in seen:
            issues.append(
                Issue(
                    f"{path}.name",
                    f"evaluator {name!r} is already defined at $.evaluators[{seen[name]}]",
                )
            )
        seen.setdefault(name, index)
        field = fields.get(field_name)
        if field is None:
            issues.append(
                Issue(f"{path}.field", f"{field_name!r} is not a field of $.extraction.fields")
            )
        elif _score_type(field.type, field.options) is None:
            issues.append(
                Issue(
                    f"{path}.field",
                    f"{field_name!r} is a {field.type} field without options: a score needs a "
                    "boolean, an integer, a number or a string with options",
                )
            )
    return issues
