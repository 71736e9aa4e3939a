"""The `extraction` section: fields filled from the transcript after a call ends.

Shape is part of the definition's JSON Schema (`EXTRACTION`); `extraction_issues` makes the
checks a schema cannot. The fields are what both engines fill: the configured LLM, or the
rules engine's argument readers offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from templates_app.types import Issue

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "time")

EXTRACTION_FIELD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
        "type": {"enum": list(FIELD_TYPES)},
        "description": {"type": "string", "minLength": 1, "maxLength": 1000},
        "options": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 200},
            "minItems": 2,
            "maxItems": 50,
            "uniqueItems": True,
        },
    },
    "required": ["name", "type", "description"],
    "additionalProperties": False,
}
EXTRACTION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "instructions": {"type": "string", "maxLength": 4000},
        "fields": {"type": "array", "items": EXTRACTION_FIELD, "minItems": 1, "maxItems": 50},
    },
    "required": ["fields"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ExtractionField:
    """One field to fill: `options` makes a string field a choice of exactly those values."""

    name: str
    type: str
    description: str
    options: tuple[str, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        """The field as a JSON-schema property (what the LLM is given and the rules fill)."""
        schema: dict[str, Any] = {"description": self.description}
        if self.type in ("date", "time"):
            schema.update(type="string", format=self.type)
        else:
            schema["type"] = self.type
        if self.options:
            schema["enum"] = list(self.options)
        return schema


def extraction_fields(definition: Mapping[str, Any]) -> list[ExtractionField]:
    """The fields of a (valid) definition's extraction section; empty when it has none."""
    return [
        ExtractionField(
            name=field["name"],
            type=field["type"],
            description=field["description"],
            options=tuple(field.get("options", ())),
        )
        for field in (definition.get("extraction") or {}).get("fields", [])
    ]


def extraction_issues(definition: Mapping[str, Any]) -> list[Issue]:
    """Duplicate names, and options on a field that is not a string."""
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for index, field in enumerate((definition.get("extraction") or {}).get("fields", [])):
        path = f"$.extraction.fields[{index}]"
        if field["name"] in seen:
            issues.append(
                Issue(
                    f"{path}.name",
                    f"field {field['name']!r} is already extracted at "
                    f"$.extraction.fields[{seen[field['name']]}]",
                )
            )
        seen.setdefault(field["name"], index)
        if "options" in field and field["type"] != "string":
            issues.append(
                Issue(f"{path}.options", f"options need a string field, not {field['type']}")
            )
    return issues
